"""The JSON Schema vocabulary of the schema builder (schema.py): the keywords it knows, refuses
or passes over, the formats and numeric limits it maps to C, and predicates on keyword values.
"""
from __future__ import annotations

from typing import Any, Optional

from .resolve import N

SUPPORTED = frozenset("""
    type properties required additionalProperties items minItems maxItems enum const minimum
    maximum exclusiveMinimum exclusiveMaximum minLength maxLength pattern format default allOf
    oneOf anyOf nullable discriminator minProperties maxProperties uniqueItems multipleOf not
""".split())
ANNOTATIONS = frozenset("""
    title description summary examples example deprecated readOnly writeOnly $comment $schema $id
    $anchor externalDocs xml contentEncoding contentMediaType $defs definitions
""".split())
UNSUPPORTED = {
    "if": "conditional schemas (if/then/else)", "then": "conditional schemas (if/then/else)",
    "else": "conditional schemas (if/then/else)",
    "patternProperties": "'patternProperties'", "dependentSchemas": "'dependentSchemas'",
    "dependentRequired": "'dependentRequired'", "dependencies": "'dependencies'",
    "$dynamicRef": "'$dynamicRef'", "$dynamicAnchor": "'$dynamicAnchor'",
    "$recursiveRef": "'$recursiveRef'", "$recursiveAnchor": "'$recursiveAnchor'",
    "propertyNames": "'propertyNames'", "contains": "'contains'", "minContains": "'minContains'",
    "maxContains": "'maxContains'", "prefixItems": "tuple arrays ('prefixItems')",
    "additionalItems": "tuple arrays ('additionalItems')",
    "unevaluatedProperties": "'unevaluatedProperties'", "unevaluatedItems": "'unevaluatedItems'",
}
# Keywords allowed next to a $ref (annotations, a default, our extensions).
REF_SIBLINGS = frozenset({"$ref", "description", "title", "summary", "examples", "example",
                          "deprecated", "readOnly", "writeOnly", "$comment", "default"})
JSON_TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")
STRING_FORMATS = {"uuid": "MF_FMT_UUID", "date-time": "MF_FMT_DATE_TIME", "date": "MF_FMT_DATE",
                  "time": "MF_FMT_TIME", "email": "MF_FMT_EMAIL"}
MFLOW_FORMATS = {"time-hm": "MF_FMT_TIME_HM"}
INT32 = (-(2 ** 31), 2 ** 31 - 1)
INT64 = (-(2 ** 63), 2 ** 63 - 1)
FLT_MAX = 3.4028234663852886e38
NAMED_CONTAINERS = ("/components/schemas/", "/definitions/", "/$defs/")


def is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_int_like(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())


def strip_annotations(v: Any) -> Any:
    """A schema value without annotations, for comparing two definitions."""
    if isinstance(v, dict):
        return {k: strip_annotations(x) for k, x in v.items()
                if k not in ANNOTATIONS and k != "default" and not k.startswith("x-")}
    if isinstance(v, list):
        return [strip_annotations(x) for x in v]
    return v


def text_of(n: Optional[N]) -> str:
    return n.v.strip() if n is not None and isinstance(n.v, str) else ""
