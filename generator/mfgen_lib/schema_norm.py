"""A schema read into one Norm: keywords checked, `type` split into (type, nullable), allOf
parts merged; and the kind of C type a Norm becomes (kind_of).

Normaliser keeps its own stack (a recursive allOf is an error); it needs the resolver for the
$refs inside allOf and the diagnostics for the keywords it ignores.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from . import keyword_types
from .errors import Diagnostics
from .resolve import N, Resolver
from .schema_keywords import (ANNOTATIONS, JSON_TYPES, MFLOW_FORMATS, SUPPORTED, UNSUPPORTED, is_int_like,
                              strip_annotations)

TypedPart = Tuple[Optional[str], bool]  # (JSON type or None, nullable) of a part that names a type


@dataclass
class Norm:
    """A schema with allOf merged and `type` split into (type, nullable)."""

    n: N
    kw: Dict[str, N]
    props: Dict[str, N]
    required: List[Tuple[str, N]]
    type: Optional[str]
    nullable: bool
    closed: bool


class Normaliser:
    def __init__(self, res: Resolver, diag: Diagnostics) -> None:
        self.res = res
        self.diag = diag
        self.stack: List[N] = []

    def norm(self, n: N) -> Norm:
        """The schema at n, allOf merged; SpecError when it cannot be read or merged."""
        if not isinstance(n.v, dict):
            if n.v is True or n.v == {}:
                return Norm(n, {}, {}, [], None, False, False)
            raise n.err("a schema must be an object" + (" (boolean schema 'false' is not supported)"
                                                        if n.v is False else ""))
        if n in self.stack:
            raise n.err("recursive allOf not supported")
        self.stack.append(n)
        try:
            return self._norm(n)
        finally:
            self.stack.pop()

    def _norm(self, n: N) -> Norm:
        check_keywords(n, self.diag)
        typ, nullable = read_type(n)
        closed = n.v.get("additionalProperties") is False
        typed_parts: List[TypedPart] = [(typ, nullable)] if "type" in n.v else []
        if n.v.get("nullable") is True:
            nullable = True
            typed_parts = [(typ, True)] if typed_parts else []
        parts = self._all_of(n)
        own = _own(n, typ, nullable, closed)
        if not parts:
            return own
        return self._merge(n, parts + [own], own, typed_parts)

    def _all_of(self, n: N) -> List[Norm]:
        parts: List[Norm] = []
        all_of = n.get("allOf")
        if all_of is None:
            return parts
        if not all_of.is_list or not all_of.v:
            raise all_of.err("allOf must be a non-empty list")
        for p in all_of.elems():
            part = self.norm(self.res.deref(p) if p.is_ref else p)
            if "oneOf" in part.kw or "anyOf" in part.kw:
                raise p.err("oneOf/anyOf inside allOf is not supported",
                            "put the allOf inside each oneOf branch instead")
            parts.append(part)
        return parts

    def _merge(self, n: N, parts: List[Norm], own: Norm, typed_parts: List[TypedPart]) -> Norm:
        """allOf parts first (in order), then the schema's own members."""
        kw: Dict[str, N] = {}
        props: Dict[str, N] = {}
        required: List[Tuple[str, N]] = []
        closed = own.closed
        for part in parts:
            _merge_keywords(kw, part)
            for name, c in part.props.items():
                props[name] = self.merge_prop(name, props[name], c) if name in props else c
            for name, c in part.required:
                if name not in [r[0] for r in required]:
                    required.append((name, c))
            closed = closed or part.closed
            if part.type is not None or (isinstance(part.n.v, dict) and "type" in part.n.v):
                typed_parts.append((part.type, part.nullable))
        for k, c in own.kw.items():  # the schema's own description/title win over its parts'
            if k in ANNOTATIONS:
                kw[k] = c
        types = {t for t, _ in typed_parts if t is not None}
        if len(types) > 1:
            raise n.err("conflicting types in allOf: " + " vs ".join(sorted(types)),
                        "every allOf part must describe the same JSON type")
        merged_type = next(iter(types)) if types else None
        merged_null = bool(typed_parts) and all(nl for _, nl in typed_parts)
        if "additionalProperties" in kw and kw["additionalProperties"].v is False:
            closed = True
        return Norm(n, kw, props, required, merged_type, merged_null, closed)

    def merge_prop(self, name: str, a: N, b: N) -> N:
        """One schema for a property that two allOf parts define."""
        if a == b:
            return a
        ra = self.res.deref(a) if a.is_ref else a
        rb = self.res.deref(b) if b.is_ref else b
        if ra == rb:
            return a
        va, vb = strip_annotations(ra.v), strip_annotations(rb.v)
        if va == vb or vb in ({}, True):
            return a
        if va in ({}, True):
            return b
        ta, tb = (ra.v.get("type") if isinstance(ra.v, dict) else None), (rb.v.get("type") if isinstance(rb.v, dict) else None)
        if ta and tb and ta != tb:
            raise b.err(f"conflicting types for property '{name}' in allOf: {ta} ({a.where()}) vs {tb}",
                        "every allOf part must give a property the same type")
        if ra.doc is rb.doc and isinstance(ra.v, dict) and isinstance(rb.v, dict):
            # both must hold: the property's schema is the allOf of the two (keywords that
            # disagree are reported by the merge)
            return N(ra.doc, f"{ra.ptr}/~2and{rb.ptr}", {"allOf": [ra.v, rb.v]})
        raise b.err(f"property '{name}' is defined differently in two allOf parts (other at {a.where()})",
                    "define the property in one part only")


def _own(n: N, typ: Optional[str], nullable: bool, closed: bool) -> Norm:
    """The schema's own keywords, properties and required list (no allOf)."""
    own = Norm(n, {k: c for k, c in n.items() if k not in ("allOf", "properties", "required", "type", "nullable")},
               {}, [], typ, nullable, closed)
    pr = n.get("properties")
    if pr is not None:
        if not pr.is_map:
            raise pr.err("properties must be an object")
        own.props = dict(pr.items())
    rq = n.get("required")
    if rq is not None:
        if not rq.is_list or not all(isinstance(x, str) for x in rq.v):
            raise rq.err("required must be a list of property names")
        own.required = [(x.v, x) for x in rq.elems()]
    return own


def _merge_keywords(kw: Dict[str, N], part: Norm) -> None:
    """Adds a part's keywords to kw; two parts that constrain the same keyword differently
    are an error (annotations and extensions: the first wins)."""
    for k, c in part.kw.items():
        if k in kw and k not in ANNOTATIONS and not k.startswith("x-") and k != "additionalProperties":
            if strip_annotations(kw[k].v) != strip_annotations(c.v):
                raise c.err(f"allOf parts disagree on '{k}': {kw[k].v!r} ({kw[k].where()}) vs {c.v!r}",
                            "conflicting constraints cannot be merged; define it once")
        elif k == "additionalProperties" and k in kw and isinstance(c.v, dict):
            if strip_annotations(kw[k].v) != strip_annotations(c.v):
                raise c.err("allOf parts disagree on additionalProperties")
        if k not in kw:
            kw[k] = c


def read_type(n: N) -> Tuple[Optional[str], bool]:
    """`type` as (JSON type or None, nullable)."""
    tn = n.get("type")
    if tn is None:
        return None, False
    t = tn.v
    if isinstance(t, str):
        if t not in JSON_TYPES:
            raise tn.err(f"unknown type '{t}'", "one of: " + ", ".join(JSON_TYPES))
        return (None, True) if t == "null" else (t, False)
    if isinstance(t, list) and all(isinstance(x, str) for x in t):
        rest = [x for x in t if x != "null"]
        for x in rest:
            if x not in JSON_TYPES:
                raise tn.err(f"unknown type '{x}'")
        if len(rest) == 1 and len(t) == 2:
            return rest[0], True
        if len(rest) == 1 and len(t) == 1:
            return rest[0], False
    raise tn.err(f"type list {t!r} is not supported",
                 "only a single type or [TYPE, \"null\"] (nullable); use oneOf for unions")


def check_keywords(n: N, diag: Diagnostics) -> None:
    """Every keyword of the schema is known and of the right JSON type: an unsupported construct
    is an error, an unknown keyword a warning."""
    keyword_types.check(n, keyword_types.SCHEMA_KEYWORDS, "schema keyword")
    for k, c in n.items():
        if k in SUPPORTED or k in ANNOTATIONS:
            continue
        if k.startswith("x-"):
            if k == "x-mflow-format" and c.v not in MFLOW_FORMATS:
                raise c.err(f"unknown x-mflow-format '{c.v}'", "supported: " + ", ".join(MFLOW_FORMATS))
            continue
        if k in UNSUPPORTED:
            raise c.err(f"unsupported schema construct: {UNSUPPORTED[k]}",
                        "mfgen generates fixed C structs; express this with properties, "
                        "enum, oneOf with distinct JSON types or a discriminator, or allOf")
        if k == "$ref":
            continue
        diag.warn(c.err(f"unknown schema keyword '{k}' ignored"))
    items = n.get("items")
    if items is not None and items.is_list:
        raise items.err("unsupported schema construct: tuple arrays (items as a list)")


def kind_of(nm: Norm) -> str:
    """The kind of C type: obj, map, arr, enum, str, int, num, bool or raw (JSON text)."""
    kw, t = nm.kw, nm.type
    if t is None:
        t = _implied_type(nm)
        if t is None:
            return "raw"
    if t == "object":
        ap = kw.get("additionalProperties")
        if ap is not None and isinstance(ap.v, dict):
            if nm.props:
                raise ap.err("an object with both properties and an additionalProperties schema "
                             "is not supported",
                             "move the free keys into a member of their own (a map)")
            return "map"
        if nm.props or nm.closed:
            return "obj"
        return "raw"
    if t == "array":
        return "arr"
    if t == "string":
        return "enum" if "enum" in kw else "str"
    if "enum" in kw and t != "integer":
        raise kw["enum"].err(f"enum of {t} values is not supported", "enums must be strings or integers")
    return {"integer": "int", "number": "num", "boolean": "bool"}[t]


def _implied_type(nm: Norm) -> Optional[str]:
    """The JSON type the keywords of an untyped schema imply; None when they imply none."""
    kw = nm.kw
    if nm.props or nm.required or "additionalProperties" in kw:
        t = "object"
    elif "items" in kw or "minItems" in kw or "maxItems" in kw:
        t = "array"
    elif "enum" in kw:
        vals = [v for v in kw["enum"].v or [] if v is not None] if isinstance(kw["enum"].v, list) else []
        t = "string" if vals and all(isinstance(v, str) for v in vals) else \
            "integer" if vals and all(is_int_like(v) and not isinstance(v, bool) for v in vals) else "?"
    elif "const" in kw:
        v = kw["const"].v
        t = ("boolean" if isinstance(v, bool) else "string" if isinstance(v, str)
             else "integer" if isinstance(v, int) else "number" if isinstance(v, float) else "?")
    elif any(k in kw for k in ("minLength", "maxLength", "pattern")):
        t = "string"
    elif any(k in kw for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")):
        t = "number"
    else:
        return None
    if t == "?":
        raise nm.n.err("cannot tell the JSON type of this schema", "add a 'type'")
    return t


def count(nm: Norm, key: str) -> int:
    """A count keyword (minItems, maxLength, ...): 0 when absent."""
    c = nm.kw.get(key)
    if c is None:
        return 0
    if not is_int_like(c.v) or c.v < 0 or c.v > 0xFFFFFFFF:
        raise c.err(f"{key} must be a non-negative integer")
    return int(c.v)
