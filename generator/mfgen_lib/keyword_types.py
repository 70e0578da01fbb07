"""The JSON type of every keyword mfgen reads, checked before anything reads it.

A keyword of the wrong type (`format: []`, `required: id`, `minimum: "1"`, `properties: [...]`)
is refused with the file, line, column and JSON path of the value, like every other error; no
later stage sees it, so none of them can crash on it. Two tables: the keywords of a schema
(checked by schema_norm.check_keywords on every schema it reads) and the members of the
AsyncAPI objects (checked by spec_check.SpecChecker on every object it reads). A value that has the
right type but a wrong content (an unknown format, a negative length) is refused where it is read.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Dict, Tuple

from .resolve import N
from .schema_keywords import is_int_like, is_num

Check = Tuple[Callable[[Any], bool], str]


def _str(v: Any) -> bool:
    return isinstance(v, str)


def _strs(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


STRING: Check = (_str, "a string")
OBJECT: Check = (lambda v: isinstance(v, dict), "an object")
LIST: Check = (lambda v: isinstance(v, list), "a list")
BOOLEAN: Check = (lambda v: isinstance(v, bool), "a boolean (true or false)")
SCHEMA: Check = (lambda v: isinstance(v, (dict, bool)), "a schema (an object, or true)")
COUNT: Check = (lambda v: is_int_like(v) and v >= 0, "a non-negative integer")
NUMBER: Check = (is_num, "a number")
SCHEMAS: Check = (lambda v: isinstance(v, list) and all(isinstance(x, (dict, bool)) for x in v), "a list of schemas")
REF: Check = (lambda v: isinstance(v, dict) and "$ref" in v, "a $ref object ({$ref: '#/...'})")

# JSON Schema keywords (and mfgen's schema extensions) -> their type
SCHEMA_KEYWORDS: Dict[str, Check] = {
    "type": (lambda v: _str(v) or _strs(v), "a type name or a list of type names"),
    "properties": (lambda v: isinstance(v, dict) and all(isinstance(x, (dict, bool)) for x in v.values()),
                   "an object of member schemas"),
    "required": (_strs, "a list of property names"),
    "additionalProperties": SCHEMA,
    "items": (lambda v: isinstance(v, (dict, bool, list)), "a schema"),  # a list: tuple arrays, refused later
    "not": SCHEMA,
    "allOf": SCHEMAS, "oneOf": SCHEMAS, "anyOf": SCHEMAS,
    "enum": LIST,
    "pattern": STRING, "format": STRING, "x-mflow-format": STRING,
    "minLength": COUNT, "maxLength": COUNT, "minItems": COUNT, "maxItems": COUNT,
    "minProperties": COUNT, "maxProperties": COUNT,
    "minimum": NUMBER, "maximum": NUMBER, "multipleOf": NUMBER,
    "exclusiveMinimum": (lambda v: isinstance(v, bool) or is_num(v), "a number (or, as in draft 4, a boolean)"),
    "exclusiveMaximum": (lambda v: isinstance(v, bool) or is_num(v), "a number (or, as in draft 4, a boolean)"),
    "discriminator": (lambda v: _str(v) or (isinstance(v, dict) and _str(v.get("propertyName"))),
                      "a property name (or an object with a propertyName)"),
    "nullable": BOOLEAN, "uniqueItems": BOOLEAN, "deprecated": BOOLEAN, "readOnly": BOOLEAN, "writeOnly": BOOLEAN,
    "title": STRING, "description": STRING, "$comment": STRING,
    "examples": LIST,
    "x-enum-varnames": (_strs, "a list of C identifiers"),
    "x-c-name": STRING,
}

_DOC: Dict[str, Check] = {"title": STRING, "summary": STRING, "description": STRING}
_TAGS: Check = (lambda v: isinstance(v, list) and all(isinstance(t, dict) for t in v), "a list of tag objects")
_EXAMPLES: Check = (lambda v: isinstance(v, list) and all(isinstance(e, dict) for e in v),
                    "a list of example objects (name, summary, payload, headers)")

# AsyncAPI 3 objects -> the members mfgen reads and their type
OBJECTS: Dict[str, Dict[str, Check]] = {
    "document": {"asyncapi": STRING, "info": OBJECT, "channels": OBJECT, "operations": OBJECT,
                 "components": OBJECT, "servers": OBJECT, "defaultContentType": STRING, "id": STRING,
                 "x-service": STRING},
    "info": {**_DOC, "version": STRING, "tags": _TAGS, "contact": OBJECT, "license": OBJECT,
             "termsOfService": STRING, "externalDocs": OBJECT},
    "components": {k: OBJECT for k in ("schemas", "messages", "channels", "operations", "parameters", "replies",
                                       "replyAddresses", "messageTraits", "operationTraits", "servers",
                                       "serverVariables", "securitySchemes", "correlationIds", "tags",
                                       "externalDocs", "serverBindings", "channelBindings",
                                       "operationBindings", "messageBindings")},
    "channel": {**_DOC, "address": (lambda v: v is None or _str(v), "a string (or null)"), "messages": OBJECT,
                "parameters": OBJECT, "servers": LIST, "tags": _TAGS, "bindings": OBJECT},
    "parameter": {"description": STRING, "enum": (_strs, "a list of strings"), "default": STRING,
                  "examples": (_strs, "a list of strings"), "location": STRING, "x-format": STRING},
    "message": {**_DOC, "name": STRING, "contentType": STRING, "payload": SCHEMA, "headers": SCHEMA,
                "examples": _EXAMPLES, "tags": _TAGS, "correlationId": OBJECT, "traits": LIST,
                "bindings": OBJECT},
    "example": {"name": STRING, "summary": STRING, "headers": OBJECT},
    "tag": {"name": STRING, "description": STRING, "x-service": STRING},
    "operation": {**_DOC, "action": STRING, "channel": REF, "messages": (lambda v: isinstance(v, list) and all(
        isinstance(x, dict) and "$ref" in x for x in v), "a list of $refs to the channel's messages"),
        "reply": OBJECT, "tags": _TAGS, "x-service": STRING, "traits": LIST, "bindings": OBJECT,
        "security": LIST},
    "reply": {"channel": REF, "messages": (lambda v: isinstance(v, list) and all(
        isinstance(x, dict) and "$ref" in x for x in v), "a list of $refs to the reply channel's messages"),
        "address": OBJECT},
}

_KINDS = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
          float: "a number", type(None): "null"}


def found(v: Any) -> str:
    """What a value is, for an error message ("a list ([a, 1])")."""
    kind = _KINDS.get(type(v), type(v).__name__)
    if v is None:
        return kind
    text = json.dumps(v, ensure_ascii=False, default=str)
    return f"{kind} ({text if len(text) <= 40 else text[:37] + '...'})"


def check(n: N, table: Dict[str, Check], what: str) -> None:
    """Raises a SpecError on the first member of n (an object) whose value has the wrong type.
    A $ref object is checked where it points, not here."""
    if not isinstance(n.v, dict) or "$ref" in n.v:
        return
    for key, c in n.items():
        rule = table.get(key)
        if rule is None:
            continue
        ok, want = rule
        if not ok(c.v):
            raise c.err(f"{what} '{key}' must be {want}, found {found(c.v)}",
                        f"write '{key}' as {want}" if c.v is not None else
                        f"give '{key}' a value ({want}) or leave it out")


def check_object(n: N, kind: str) -> None:
    """The members of an AsyncAPI object of that kind ("channel", "message", ...)."""
    check(n, OBJECTS[kind], f"{kind} member")
    if "tags" in OBJECTS[kind] and kind != "components":
        for tag in n.at("tags").elems():
            check(tag, OBJECTS["tag"], "tag member")


def check_outline(root: N) -> None:
    """The containers `$ref`s point into (the document, info, components, channels, operations and
    component messages), checked before any reference is followed: `channels: []` is reported as
    itself, not as an unknown $ref into it."""
    check_object(root, "document")
    for key, kind in (("info", "info"), ("components", "components")):
        n = root.get(key)
        if n is not None:
            check_object(n, kind)
    groups = [(root.get("channels"), "channel"), (root.get("operations"), "operation")]
    comps = root.get("components")
    if comps is not None:
        groups += [(comps.get("channels"), "channel"), (comps.get("operations"), "operation"),
                   (comps.get("messages"), "message")]
    for group, kind in groups:
        if group is not None:
            for _, n in group.items():
                check_object(n, kind)
