"""JSON Schema (AsyncAPI schema object) -> CType descriptors.

One C type per named schema: every result is memoised by (file, pointer), so a schema reached by
many references (a diamond) is built once. Inline objects, enums and unions are named after
where they are (`<parent>_<prop>`, `<parent>_<prop>_item`, `<map>_value`, `<union>_<branch>`).
Anything that cannot be represented exactly is an error naming the schema's path.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Set, Tuple

from . import names
from .errors import Diagnostics
from .model import NO_VALUE, Branch, CType, Field, Pattern
from .regex import RegexError, ecma_to_ere
from .resolve import N, Resolver

SUPPORTED = frozenset("""
    type properties required additionalProperties items minItems maxItems enum const minimum
    maximum exclusiveMinimum exclusiveMaximum minLength maxLength pattern format default allOf
    oneOf anyOf nullable discriminator minProperties maxProperties uniqueItems
""".split())
ANNOTATIONS = frozenset("""
    title description summary examples example deprecated readOnly writeOnly $comment $schema $id
    $anchor externalDocs xml contentEncoding contentMediaType $defs definitions
""".split())
UNSUPPORTED = {
    "if": "conditional schemas (if/then/else)", "then": "conditional schemas (if/then/else)",
    "else": "conditional schemas (if/then/else)", "not": "'not'",
    "patternProperties": "'patternProperties'", "dependentSchemas": "'dependentSchemas'",
    "dependentRequired": "'dependentRequired'", "dependencies": "'dependencies'",
    "$dynamicRef": "'$dynamicRef'", "$dynamicAnchor": "'$dynamicAnchor'",
    "$recursiveRef": "'$recursiveRef'", "$recursiveAnchor": "'$recursiveAnchor'",
    "propertyNames": "'propertyNames'", "contains": "'contains'", "minContains": "'minContains'",
    "maxContains": "'maxContains'", "prefixItems": "tuple arrays ('prefixItems')",
    "additionalItems": "tuple arrays ('additionalItems')",
    "unevaluatedProperties": "'unevaluatedProperties'", "unevaluatedItems": "'unevaluatedItems'",
    "multipleOf": "'multipleOf'",
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


@dataclass(frozen=True)
class Hint:
    """Where a type sits: the nearest public type's C name and the path below it."""

    owner: str
    parts: Tuple[str, ...] = ()

    def public(self) -> str:
        return self.owner + "".join("_" + p for p in self.parts)

    def static(self) -> str:
        return self.owner + "__" + ("_".join(self.parts) if self.parts else "t")

    def label(self) -> str:
        return self.owner + "".join("." + p for p in self.parts)

    def child(self, part: str) -> "Hint":
        return Hint(self.owner, self.parts + (part,))


@dataclass
class Built:
    type: CType
    nullable: bool = False
    default: Any = NO_VALUE
    description: str = ""


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


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _int_like(v: Any) -> bool:
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


class Symbols:
    """Every C identifier mfgen emits, with where it came from: duplicates are errors."""

    def __init__(self, diag: Diagnostics) -> None:
        self.diag = diag
        self.owner: Dict[str, Tuple[N, str]] = {}
        self.statics: Set[str] = set()

    def claim(self, ident: str, node: N, what: str) -> None:
        if names.is_reserved(ident):
            self.diag.error(node.err(
                f"C name '{ident}' ({what}) collides with a name of the mflow runtime or C",
                "rename the spec item, give it an x-c-name, or generate with another --prefix"))
            return
        prev = self.owner.get(ident)
        if prev is not None:
            pnode, pwhat = prev
            self.diag.error(node.err(
                f"duplicate C name '{ident}': {what} at {node.ptr or '/'} and {pwhat} at "
                f"{pnode.ptr or '/'} ({pnode.where()})",
                "names are mangled to snake_case, so these two end up the same; rename one "
                "or set x-c-name"))
            return
        self.owner[ident] = (node, what)

    def static(self, base: str) -> str:
        """A unique file-local symbol (they all contain "__", which public names never do)."""
        name, i = base, 2
        while name in self.statics:
            name = f"{base}_{i}"
            i += 1
        self.statics.add(name)
        return name


class SchemaBuilder:
    def __init__(self, res: Resolver, prefix: str, diag: Diagnostics, symbols: Symbols) -> None:
        self.res = res
        self.prefix = prefix
        self.diag = diag
        self.sym = symbols
        self.memo: Dict[Tuple[str, str], Built] = {}
        self.building: List[N] = []
        self.norming: List[N] = []
        self.types: List[CType] = []

    # ------------------------------------------------------------------ entry points
    def named(self, n: N, key: str) -> Built:
        """The public type of a named schema (a components/schemas key, a payload's message key)."""
        return self.build(n, Hint(self.type_name(n, key)), force_public=True)

    def type_name(self, n: N, key: str) -> str:
        override = n.v.get("x-c-name") if isinstance(n.v, dict) else None
        if override is not None:
            if not isinstance(override, str) or not names.IDENT_RE.match(override):
                raise n.at("x-c-name").err("x-c-name must be a C identifier", "letters, digits and _, not starting with a digit")
            return f"{self.prefix}_{names.type_part(override)}"
        return f"{self.prefix}_{names.type_part(key)}"

    def use(self, n: N, hint: Hint, as_item: bool = False) -> Built:
        """A schema at a place of use. A $ref makes the target a named (public) type."""
        if not n.is_ref:
            return self.build(n, hint, force_public=False, as_item=as_item)
        for k in n.v:
            if k not in REF_SIBLINGS and not k.startswith("x-"):
                raise n.at(k).err(f"'{k}' next to $ref is not supported",
                                  "wrap the reference: allOf: [{$ref: ...}] plus the extra keywords")
        target = self.res.deref(n)
        got = self.build(target, Hint(self.type_name(target, self.target_key(target))), force_public=True)
        out = Built(got.type, got.nullable, got.default, got.description)
        if "default" in n.v:
            out.default = n.v["default"]
        if text_of(n.get("description")):
            out.description = text_of(n.get("description"))
        return out

    def target_key(self, t: N) -> str:
        """The name a referenced schema gets: its key in a schema container, else its path."""
        p = t.ptr
        for c in NAMED_CONTAINERS:
            if p.startswith(c) and "/" not in p[len(c):]:
                return t.name
        m = re.match(r"^/components/messages/([^/]+)/payload$", p) or \
            re.match(r"^/channels/[^/]+/messages/([^/]+)/payload$", p)
        if m:
            return N(t.doc, p.rsplit("/", 1)[0], None).name
        if p == "":
            base = t.doc.display.replace("\\", "/").rsplit("/", 1)[-1]
            return base.rsplit(".", 1)[0]
        if p.count("/") == 1:
            return t.name
        # deep inside another schema: name it after its whole path
        return "_".join(names.type_part(s) for s in p.strip("/").split("/")
                        if s not in ("properties", "components", "schemas", "allOf") and not s.isdigit())

    # ------------------------------------------------------------------ memo + recursion
    def build(self, n: N, hint: Hint, force_public: bool, as_item: bool = False) -> Built:
        memo = self.memo.get(n.key)
        if memo is not None:
            return memo
        if n in self.building:
            cycle = self.building[self.building.index(n):] + [n]
            raise n.err("recursive schema not supported: " + " -> ".join(x.ptr or "/" for x in cycle),
                        "mfgen maps every schema to a fixed C struct; break the cycle (e.g. refer "
                        "to the child by id)")
        self.building.append(n)
        try:
            built = self.make(n, hint, force_public, as_item)
        finally:
            self.building.pop()
        self.memo[n.key] = built
        return built

    # ------------------------------------------------------------------ normalisation
    def norm(self, n: N) -> Norm:
        if not isinstance(n.v, dict):
            if n.v is True or n.v == {}:
                return Norm(n, {}, {}, [], None, False, False)
            raise n.err("a schema must be an object" + (" (boolean schema 'false' is not supported)"
                                                        if n.v is False else ""))
        if n in self.norming:
            raise n.err("recursive allOf not supported")
        self.norming.append(n)
        try:
            return self._norm(n)
        finally:
            self.norming.pop()

    def _norm(self, n: N) -> Norm:
        self.check_keywords(n)
        kw: Dict[str, N] = {}
        props: Dict[str, N] = {}
        required: List[Tuple[str, N]] = []
        typ, nullable = self.read_type(n)
        closed = n.v.get("additionalProperties") is False
        typed_parts: List[Tuple[Optional[str], bool]] = [(typ, nullable)] if "type" in n.v else []
        if n.v.get("nullable") is True:
            nullable = True
            typed_parts = [(typ, True)] if typed_parts else []
        parts: List[Norm] = []
        all_of = n.get("allOf")
        if all_of is not None:
            if not all_of.is_list or not all_of.v:
                raise all_of.err("allOf must be a non-empty list")
            for p in all_of.elems():
                pn = self.res.deref(p) if p.is_ref else p
                part = self.norm(pn)
                if "oneOf" in part.kw or "anyOf" in part.kw:
                    raise p.err("oneOf/anyOf inside allOf is not supported",
                                "put the allOf inside each oneOf branch instead")
                parts.append(part)
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
        if not parts:
            return own
        # merge: allOf parts first (in order), then the schema's own members
        for part in parts + [own]:
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
            for name, c in part.props.items():
                if name in props:
                    props[name] = self.merge_prop(name, props[name], c)
                else:
                    props[name] = c
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
        raise b.err(f"property '{name}' is defined differently in two allOf parts (other at {a.where()})",
                    "define the property in one part only")

    def read_type(self, n: N) -> Tuple[Optional[str], bool]:
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

    def check_keywords(self, n: N) -> None:
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
            self.diag.warn(c.err(f"unknown schema keyword '{k}' ignored"))
        if n.v.get("uniqueItems") is True:
            raise n.at("uniqueItems").err("unsupported schema construct: 'uniqueItems: true'",
                                          "the runtime does not check item uniqueness")
        items = n.get("items")
        if items is not None and items.is_list:
            raise items.err("unsupported schema construct: tuple arrays (items as a list)")

    # ------------------------------------------------------------------ construction
    def make(self, n: N, hint: Hint, force_public: bool, as_item: bool) -> Built:
        nm = self.norm(n)
        description = text_of(nm.kw.get("description")) or text_of(nm.kw.get("title"))
        default = nm.kw["default"].v if "default" in nm.kw else NO_VALUE
        if "oneOf" in nm.kw or "anyOf" in nm.kw:
            return self.make_union(nm, hint, force_public, description)
        kind = self.kind_of(nm)
        public = force_public or kind in ("obj", "enum") or (as_item and kind in ("arr", "map"))
        t = self.new_type(kind, nm.n, hint, public, description)
        if kind == "obj":
            self.make_obj(t, nm)
        elif kind == "map":
            self.make_map(t, nm, hint)
        elif kind == "arr":
            self.make_arr(t, nm, hint)
        elif kind == "enum":
            self.make_enum(t, nm)
        elif kind == "str":
            self.make_str(t, nm)
        elif kind == "int":
            self.make_int(t, nm)
        elif kind == "num":
            self.make_num(t, nm)
        elif kind == "bool":
            self.make_const(t, nm, lambda v: isinstance(v, bool), "a boolean")
        elif kind == "raw":
            t.raw_object = nm.type == "object"
        self.types.append(t)
        return Built(t, nm.nullable, default, description)

    def kind_of(self, nm: Norm) -> str:
        kw, t = nm.kw, nm.type
        if t is None:
            if nm.props or nm.required or "additionalProperties" in kw:
                t = "object"
            elif "items" in kw or "minItems" in kw or "maxItems" in kw:
                t = "array"
            elif "enum" in kw:
                vals = [v for v in kw["enum"].v or [] if v is not None] if isinstance(kw["enum"].v, list) else []
                t = "string" if vals and all(isinstance(v, str) for v in vals) else "?"
            elif "const" in kw:
                v = kw["const"].v
                t = ("boolean" if isinstance(v, bool) else "string" if isinstance(v, str)
                     else "integer" if isinstance(v, int) else "number" if isinstance(v, float) else "?")
            elif any(k in kw for k in ("minLength", "maxLength", "pattern")):
                t = "string"
            elif any(k in kw for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")):
                t = "number"
            else:
                return "raw"
            if t == "?":
                raise nm.n.err("cannot tell the JSON type of this schema", "add a 'type'")
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
        if "enum" in kw:
            raise kw["enum"].err(f"enum of {t} values is not supported", "enums must be strings")
        return {"integer": "int", "number": "num", "boolean": "bool"}[t]

    def new_type(self, kind: str, n: N, hint: Hint, public: bool, description: str) -> CType:
        if public:
            cname = hint.public()
            t = CType(kind=kind, desc=f"{cname}_desc", node=n, public=True, cname=cname,
                      label=cname, description=description)
            self.claim_type(t)
        else:
            t = CType(kind=kind, desc=self.sym.static(hint.static()), node=n, label=hint.label(),
                      description=description)
        return t

    def claim_type(self, t: CType) -> None:
        assert t.cname
        what = {"obj": "struct", "enum": "enum", "union": "union", "arr": "array type",
                "map": "map type"}.get(t.kind, "type")
        self.sym.claim(t.cname, t.node, what)
        self.sym.claim(t.desc, t.node, f"descriptor of {t.cname}")
        for fn in ("init", "free", "decode", "encode", "validate", "equal", "copy"):
            self.sym.claim(f"{t.cname}_{fn}", t.node, f"function {fn} of {t.cname}")
        if t.kind == "enum":
            for fn in ("to_string", "from_string"):
                self.sym.claim(f"{t.cname}_{fn}", t.node, f"function {fn} of {t.cname}")

    # -- objects ------------------------------------------------------------------------
    def make_obj(self, t: CType, nm: Norm) -> None:
        assert t.cname
        t.closed = nm.closed
        t.fields_sym = self.sym.static(f"{t.cname}__fields")
        req_names = [r for r, _ in nm.required]
        for r, rn in nm.required:
            if r not in nm.props:
                raise rn.err(f"required property '{r}' is not defined in properties",
                             "define it under properties (mfgen needs a type for every member)")
        members: Dict[str, Tuple[str, N]] = {}
        for pname, pnode in nm.props.items():
            override = pnode.v.get("x-c-name") if isinstance(pnode.v, dict) else None
            if override is not None and (not isinstance(override, str) or not names.IDENT_RE.match(override)):
                raise pnode.at("x-c-name").err("x-c-name must be a C identifier", "letters, digits and _, not starting with a digit")
            member = names.member(override) if override else names.member(pname)
            part = names.type_part(override or pname)
            got = self.use(pnode, Hint(t.cname, (part,)))
            f = Field(json_name=pname, member=member, type=got.type, node=pnode,
                      required=pname in req_names, nullable=got.nullable,
                      description=got.description)
            for m in filter(None, (f.member, f.has_member, f.null_member)):
                if m in members:
                    other, onode = members[m]
                    raise pnode.err(
                        f"properties '{other}' and '{pname}' both need the struct member '{m}' "
                        f"in {t.cname}", "rename one of them or give one an x-c-name")
                members[m] = (pname, pnode)
            if got.default is not NO_VALUE:
                f.default = self.check_default(got.type, got.default, pnode)
            t.fields.append(f)

    def make_map(self, t: CType, nm: Norm, hint: Hint) -> None:
        ap = nm.kw["additionalProperties"]
        child = Hint(t.cname) if t.public and t.cname else hint
        got = self.use(ap, child.child("value"), as_item=True)
        if got.nullable:
            raise ap.err("nullable map values are not supported", "drop null from the value type")
        t.item = got.type
        t.min_items = self.count(nm, "minProperties")
        t.max_items = self.count(nm, "maxProperties")
        if "maxProperties" in nm.kw and t.max_items == 0:
            raise nm.kw["maxProperties"].err("maxProperties: 0 is not supported")

    def make_arr(self, t: CType, nm: Norm, hint: Hint) -> None:
        child = Hint(t.cname) if t.public and t.cname else hint
        items = nm.kw.get("items")
        if items is None:
            items = N(nm.n.doc, nm.n.ptr + "/items", {})
        got = self.use(items, child.child("item"), as_item=True)
        if got.nullable:
            raise items.err("nullable array items are not supported",
                            "drop null from the item type (an absent element cannot be represented)")
        t.item = got.type
        t.min_items = self.count(nm, "minItems")
        t.max_items = self.count(nm, "maxItems")
        if "maxItems" in nm.kw and t.max_items == 0:
            raise nm.kw["maxItems"].err("maxItems: 0 is not supported", "0 means 'unlimited' to the runtime")
        if t.max_items and t.min_items > t.max_items:
            raise nm.kw["minItems"].err("minItems is greater than maxItems")

    def count(self, nm: Norm, key: str) -> int:
        c = nm.kw.get(key)
        if c is None:
            return 0
        if not _int_like(c.v) or c.v < 0 or c.v > 0xFFFFFFFF:
            raise c.err(f"{key} must be a non-negative integer")
        return int(c.v)

    # -- enums --------------------------------------------------------------------------
    def make_enum(self, t: CType, nm: Norm) -> None:
        assert t.cname
        en = nm.kw["enum"]
        if not en.is_list or not en.v:
            raise en.err("enum must be a non-empty list")
        values: List[str] = []
        for e in en.elems():
            if e.v is None:
                if not nm.nullable:
                    raise e.err("null in enum but the type does not allow null")
                continue
            if not isinstance(e.v, str):
                raise e.err(f"enum value {e.v!r} is not a string", "enums must be strings")
            if e.v in values:
                raise e.err(f"duplicate enum value '{e.v}'", "list each value once")
            values.append(e.v)
        if not values:
            raise en.err("enum has no non-null value")
        for k in ("pattern", "minLength", "maxLength", "format"):
            if k in nm.kw:
                self.diag.warn(nm.kw[k].err(f"'{k}' ignored: the enum already lists every value"))
        up = t.cname.upper()
        varnames = nm.kw.get("x-enum-varnames")
        if varnames is not None:
            if not varnames.is_list or len(varnames.v) != len(values) or \
                    not all(isinstance(v, str) and names.IDENT_RE.match(v) for v in varnames.v):
                raise varnames.err("x-enum-varnames must list one C identifier per enum value")
            consts = [f"{up}_{v.upper()}" for v in varnames.v]
        else:
            consts = [f"{up}_{names.enum_part(v)}" for v in values]
        t.enum_values = values
        t.enum_consts = consts
        t.enum_unset = f"{up}_UNSET"
        t.values_sym = self.sym.static(f"{t.cname}__values")
        self.sym.claim(t.enum_unset, en, f"the unset value of {t.cname}")
        seen: Dict[str, str] = {}
        for v, c, e in zip(values, consts, [x for x in en.elems() if x.v is not None]):
            if c in seen:
                raise e.err(f"enum values '{seen[c]}' and '{v}' both become the C constant {c}",
                            "rename one, or name the constants with x-enum-varnames")
            seen[c] = v
            self.sym.claim(c, e, f"enum constant for '{v}'")
        if "const" in nm.kw:
            raise nm.kw["const"].err("const together with enum is not supported", "use a single-value enum")

    # -- scalars ------------------------------------------------------------------------
    def make_const(self, t: CType, nm: Norm, ok: Any, what: str) -> None:
        c = nm.kw.get("const")
        if c is None:
            return
        if c.v is None:
            raise c.err("const: null is not supported")
        if not ok(c.v):
            raise c.err(f"const must be {what} here")
        t.const = c.v

    def make_str(self, t: CType, nm: Norm) -> None:
        kw = nm.kw
        t.min_len = self.count(nm, "minLength")
        t.max_len = self.count(nm, "maxLength")
        if "maxLength" in kw and t.max_len < t.min_len:
            raise kw["maxLength"].err("maxLength is less than minLength")
        fmt = kw.get("format")
        mfmt = kw.get("x-mflow-format")
        if mfmt is not None:
            t.fmt, t.fmt_name = MFLOW_FORMATS[mfmt.v], mfmt.v
        elif fmt is not None:
            if fmt.v in STRING_FORMATS:
                t.fmt, t.fmt_name = STRING_FORMATS[fmt.v], fmt.v
            else:
                self.diag.warn(fmt.err(f"unknown string format '{fmt.v}': treated as a plain string",
                                       "supported: " + ", ".join(STRING_FORMATS) + " (and x-mflow-format: time-hm)"))
        pat = kw.get("pattern")
        if pat is not None:
            if not isinstance(pat.v, str):
                raise pat.err("pattern must be a string")
            try:
                ere = ecma_to_ere(pat.v)
            except RegexError as e:
                raise pat.err(f"unsupported pattern '{pat.v}': {e.message} at offset {e.offset}",
                              "patterns are translated to POSIX extended regular expressions; "
                              "see docs/generator.md for what translates")
            base = t.cname if t.public else t.desc
            t.pattern = Pattern(pat.v, ere, self.sym.static(f"{base}__pattern" if t.public else f"{base}_pattern"))
        self.make_const(t, nm, lambda v: isinstance(v, str), "a string")
        if "maxLength" in kw and t.max_len == 0:
            if t.const is not NO_VALUE and t.const != "":
                raise kw["maxLength"].err("maxLength: 0 contradicts const")
            t.const = ""  # the runtime reads max_len 0 as unlimited: "only the empty string" is const ""

    def bound(self, nm: Norm, key: str) -> Optional[N]:
        c = nm.kw.get(key)
        if c is not None and not isinstance(c.v, bool) and not _num(c.v):
            raise c.err(f"{key} must be a number")
        if c is not None and _num(c.v) and not math.isfinite(c.v):
            raise c.err(f"{key} must be finite")
        return c

    def bounds(self, nm: Norm) -> Tuple[Optional[Tuple[float, bool]], Optional[Tuple[float, bool]]]:
        """((min, exclusive) or None, (max, exclusive) or None), draft 4 and 6+ forms."""
        mn, mx = self.bound(nm, "minimum"), self.bound(nm, "maximum")
        emn, emx = self.bound(nm, "exclusiveMinimum"), self.bound(nm, "exclusiveMaximum")
        lo: Optional[Tuple[float, bool]] = None
        hi: Optional[Tuple[float, bool]] = None
        if mn is not None and _num(mn.v):
            lo = (mn.v, emn is not None and emn.v is True)
        if mx is not None and _num(mx.v):
            hi = (mx.v, emx is not None and emx.v is True)
        if emn is not None and _num(emn.v) and (lo is None or emn.v >= lo[0]):
            lo = (emn.v, True)
        if emx is not None and _num(emx.v) and (hi is None or emx.v <= hi[0]):
            hi = (emx.v, True)
        for c in (emn, emx):
            if c is not None and isinstance(c.v, bool) and c.v and (lo if c is emn else hi) is None:
                raise c.err(f"{c.name}: true needs {'minimum' if c is emn else 'maximum'}")
        return lo, hi

    def make_int(self, t: CType, nm: Norm) -> None:
        lo, hi = self.bounds(nm)
        fmt = nm.kw.get("format")
        if fmt is not None:
            if fmt.v == "int32":
                lo = self._tighter(lo, (INT32[0], False), True)
                hi = self._tighter(hi, (INT32[1], False), False)
                t.fmt_name = "int32"
            elif fmt.v == "int64":
                t.fmt_name = "int64"
            else:
                self.diag.warn(fmt.err(f"unknown integer format '{fmt.v}' ignored", "supported: int32, int64"))
        if lo is not None:
            v, ex = lo
            if not float(v).is_integer():
                v, ex = math.ceil(v), False
            t.imin, t.excl_min = int(v), ex
        if hi is not None:
            v, ex = hi
            if not float(v).is_integer():
                v, ex = math.floor(v), False
            t.imax, t.excl_max = int(v), ex
        for b, key in ((t.imin, "minimum"), (t.imax, "maximum")):
            if b is not None and not INT64[0] <= b <= INT64[1]:
                raise (nm.kw.get(key) or nm.n).err(f"{key} is outside the 64-bit integer range")
        if t.imin is not None and t.imax is not None:
            lo_eff = t.imin + (1 if t.excl_min else 0)
            hi_eff = t.imax - (1 if t.excl_max else 0)
            if lo_eff > hi_eff:
                raise nm.n.err("no integer satisfies minimum and maximum", "check the bounds: the range is empty")
        self.make_const(t, nm, _int_like, "an integer")
        if t.const is not NO_VALUE:
            t.const = int(t.const)

    def make_num(self, t: CType, nm: Norm) -> None:
        lo, hi = self.bounds(nm)
        fmt = nm.kw.get("format")
        if fmt is not None:
            if fmt.v == "float":
                lo = self._tighter(lo, (-FLT_MAX, False), True)
                hi = self._tighter(hi, (FLT_MAX, False), False)
                t.fmt_name = "float"
            elif fmt.v == "double":
                t.fmt_name = "double"
            else:
                self.diag.warn(fmt.err(f"unknown number format '{fmt.v}' ignored", "supported: float, double"))
        if lo is not None:
            t.nmin, t.excl_min = float(lo[0]), lo[1]
        if hi is not None:
            t.nmax, t.excl_max = float(hi[0]), hi[1]
        if t.nmin is not None and t.nmax is not None and (
                t.nmin > t.nmax or (t.nmin == t.nmax and (t.excl_min or t.excl_max))):
            raise nm.n.err("no number satisfies minimum and maximum", "check the bounds: the range is empty")
        self.make_const(t, nm, _num, "a number")
        if t.const is not NO_VALUE:
            t.const = float(t.const)

    @staticmethod
    def _tighter(cur: Optional[Tuple[float, bool]], limit: Tuple[float, bool], is_min: bool) -> Tuple[float, bool]:
        if cur is None:
            return limit
        if is_min:
            return cur if cur[0] >= limit[0] else limit
        return cur if cur[0] <= limit[0] else limit

    # -- defaults -----------------------------------------------------------------------
    def check_default(self, t: CType, v: Any, at: N) -> Any:
        where = at.at("default") if at.has("default") else at
        if t.kind in ("obj", "arr", "map", "raw", "union"):
            self.diag.warn(where.err(f"default of a {t.json_type} member ignored",
                                     "the runtime supports defaults for booleans, numbers, strings and enums"))
            return NO_VALUE
        if v is None:
            raise where.err("default: null is not supported", "leave the member absent instead")
        if t.kind == "bool":
            if not isinstance(v, bool):
                raise where.err("default must be a boolean")
            return v
        if t.kind == "int":
            if not _int_like(v):
                raise where.err("default must be an integer")
            v = int(v)
            if (t.imin is not None and (v < t.imin or (t.excl_min and v == t.imin))) or \
                    (t.imax is not None and (v > t.imax or (t.excl_max and v == t.imax))):
                raise where.err(f"default {v} violates the member's bounds", "a default must satisfy the member's own minimum/maximum")
            return v
        if t.kind == "num":
            if not _num(v) or not math.isfinite(v):
                raise where.err("default must be a finite number")
            v = float(v)
            if (t.nmin is not None and (v < t.nmin or (t.excl_min and v == t.nmin))) or \
                    (t.nmax is not None and (v > t.nmax or (t.excl_max and v == t.nmax))):
                raise where.err(f"default {v} violates the member's bounds", "a default must satisfy the member's own minimum/maximum")
            return v
        if t.kind == "enum":
            if v not in t.enum_values:
                raise where.err(f"default '{v}' is not one of the enum values", "use one of: " + ", ".join(t.enum_values))
            return v
        if not isinstance(v, str):
            raise where.err("default must be a string")
        if len(v) < t.min_len or (t.max_len and len(v) > t.max_len):
            raise where.err("default violates minLength/maxLength", "a default must satisfy the member's own constraints")
        if t.pattern is not None:
            try:
                ok = re.search(t.pattern.source, v) is not None
            except re.error:
                ok = True
            if not ok:
                raise where.err(f"default '{v}' does not match the pattern", "a default must satisfy the member's own constraints")
        return v

    # -- unions -------------------------------------------------------------------------
    def make_union(self, nm: Norm, hint: Hint, force_public: bool, description: str) -> Built:
        kw = nm.kw
        if "oneOf" in kw and "anyOf" in kw:
            raise kw["anyOf"].err("oneOf together with anyOf is not supported")
        key = "oneOf" if "oneOf" in kw else "anyOf"
        lst = kw[key]
        if not lst.is_list or not lst.v:
            raise lst.err(f"{key} must be a non-empty list")
        extra = [k for k in kw if k not in (key, "discriminator", "default") and k not in ANNOTATIONS
                 and not k.startswith("x-")]
        if extra or nm.props or nm.required:
            what = extra[0] if extra else "properties"
            raise (kw[extra[0]] if extra else nm.n).err(
                f"{key} combined with '{what}' is not supported",
                f"put the shared keywords into every {key} branch (allOf inside the branch)")
        nullable = nm.nullable
        branches: List[Tuple[N, N, Norm]] = []  # (as written, dereferenced, normalised)
        for b in lst.elems():
            rb = self.res.deref(b) if b.is_ref else b
            bn = self.norm(rb)
            if bn.type is None and bn.nullable and not bn.props and "enum" not in bn.kw:
                nullable = True  # {type: 'null'}
                continue
            branches.append((b, rb, bn))
        if not branches:
            raise lst.err(f"{key} has only null branches")
        if len(branches) == 1:
            got = self.use(branches[0][0], hint) if not force_public else (
                self.use(branches[0][0], hint) if branches[0][0].is_ref else
                self.build(branches[0][1], hint, force_public=True))
            return Built(got.type, nullable or got.nullable, got.default, description or got.description)
        groups: Dict[str, List[int]] = {}
        jtypes: List[str] = []
        for i, (b, rb, bn) in enumerate(branches):
            if "oneOf" in bn.kw or "anyOf" in bn.kw:
                raise b.err("nested oneOf/anyOf is not supported", "flatten the branches into one list")
            kind = self.kind_of(bn)
            jt = {"int": "number", "num": "number", "str": "string", "enum": "string", "bool": "boolean",
                  "obj": "object", "map": "object", "arr": "array", "raw": "object" if bn.type == "object" else "any"}[kind]
            if jt == "any":
                raise b.err(f"{key} branches cannot be told apart: this branch accepts any JSON value",
                            "give every branch a distinct JSON type, or object branches a discriminator")
            groups.setdefault(jt, []).append(i)
            jtypes.append({"int": "integer", "num": "number"}.get(kind, jt))
        disc: Optional[str] = None
        disc_values: List[Optional[str]] = [None] * len(branches)
        for jt, idx in groups.items():
            if len(idx) < 2:
                continue
            if jt != "object":
                raise branches[idx[1]][0].err(
                    f"{key} branches cannot be told apart: two branches are JSON {jt}s"
                    + (" (integer and number overlap)" if jt == "number" else ""),
                    "the runtime picks a branch by JSON type, then by a discriminator member for objects")
            disc, values = self.find_discriminator(nm, [branches[i] for i in idx], lst, key)
            for i, v in zip(idx, values):
                disc_values[i] = v
        cname = hint.public()
        t = CType(kind="union", desc=f"{cname}_desc", node=nm.n, public=True, cname=cname, label=cname,
                  description=description)
        self.claim_type(t)
        t.discriminator = disc
        t.branches_sym = self.sym.static(f"{cname}__branches")
        if disc is not None:
            t.disc_sym = self.sym.static(f"{cname}__disc")
        used: Set[str] = set()
        for i, (b, rb, bn) in enumerate(branches):
            override = b.v.get("x-c-name") if isinstance(b.v, dict) else None
            if override:
                bname = names.member(override)
            elif b.is_ref:
                bname = names.member(self.target_key(rb))
            elif disc_values[i] is not None:
                bname = names.member(disc_values[i] or "")
            else:
                bname = jtypes[i]
            base, k = bname, 2
            while bname in used:
                bname = f"{base}{k}"
                k += 1
            used.add(bname)
            got = self.use(b, Hint(cname, (names.type_part(bname),)), as_item=True)
            if got.nullable:
                raise b.err("a nullable oneOf branch is not supported", "add a separate {type: 'null'} branch")
            macro = f"{cname.upper()}_{bname.upper().rstrip('_')}"
            self.sym.claim(macro, b, f"branch constant of {cname}")
            t.branches.append(Branch(name=bname, macro=macro, index=i + 1, type=got.type,
                                     json_type=jtypes[i], disc_value=disc_values[i]))
        self.types.append(t)
        default = kw["default"].v if "default" in kw else NO_VALUE
        if default is not NO_VALUE:
            self.diag.warn(kw["default"].err("default of a oneOf ignored"))
            default = NO_VALUE
        return Built(t, nullable, default, description)

    def find_discriminator(self, nm: Norm, objs: List[Tuple[N, N, Norm]], lst: N, key: str) -> Tuple[str, List[str]]:
        for b, rb, bn in objs:
            if not bn.props:
                raise b.err(f"{key} branches cannot be told apart: several object branches and this one "
                            "has no properties (a map or free-form object)",
                            "object branches need a required string property with a distinct const")
        dn = nm.kw.get("discriminator")
        wanted: Optional[str] = None
        if dn is not None:
            wanted = dn.v if isinstance(dn.v, str) else (dn.v.get("propertyName") if isinstance(dn.v, dict) else None)
            if not isinstance(wanted, str):
                raise dn.err("discriminator must be a property name (or {propertyName: NAME})")
        first = objs[0][2]
        candidates = [wanted] if wanted else list(first.props)
        problems: List[str] = []
        for cand in candidates:
            values: List[str] = []
            ok = True
            for b, rb, bn in objs:
                p = bn.props.get(cand)
                if p is None or cand not in [r for r, _ in bn.required]:
                    ok = False
                    problems.append(f"'{cand}' is not a required property of every branch")
                    break
                pv = self.res.deref(p) if p.is_ref else p
                v = self.const_string(pv)
                if v is None:
                    ok = False
                    problems.append(f"'{cand}' has no string const (or one-value enum) in {b.ptr}")
                    break
                if v in values:
                    ok = False
                    problems.append(f"'{cand}' has the same value '{v}' in two branches")
                    break
                values.append(v)
            if ok:
                return cand, values
        raise lst.err(f"{key} branches cannot be told apart: several object branches and no "
                      "discriminator" + (f" ({problems[0]})" if wanted and problems else ""),
                      "give every object branch a required string property with a distinct const "
                      "(e.g. kind: {const: circle}), or distinct JSON types")

    @staticmethod
    def const_string(p: N) -> Optional[str]:
        if not isinstance(p.v, dict):
            return None
        if isinstance(p.v.get("const"), str):
            return p.v["const"]
        e = p.v.get("enum")
        if isinstance(e, list) and len(e) == 1 and isinstance(e[0], str):
            return e[0]
        return None
