"""JSON Schema (AsyncAPI schema object) -> CType descriptors.

One C type per named schema: every result is memoised by (file, pointer), so a schema reached by
many references (a diamond) is built once. Inline objects, enums and unions are named after
where they are (`<parent>_<prop>`, `<parent>_<prop>_item`, `<map>_value`, `<union>_<branch>`).
Anything that cannot be represented exactly is an error naming the schema's path.

The builder is split by responsibility: SchemaBuilder here (entry points, memo and recursion,
dispatch by kind, type naming), allOf normalisation and objects in schema_objects.py, arrays,
maps and unions in schema_containers.py, scalars and defaults in schema_scalars.py, the keyword
tables and intermediate results in schema_common.py, C names in symbols.py.
"""
from __future__ import annotations

import re
from typing import Dict, List, Tuple

from . import names
from .errors import Diagnostics
from .model import NO_VALUE, CType
from .resolve import N, Resolver
from .schema_common import (ANNOTATIONS, FLT_MAX, INT32, INT64, JSON_TYPES, MFLOW_FORMATS, NAMED_CONTAINERS,
                            REF_SIBLINGS, STRING_FORMATS, SUPPORTED, UNSUPPORTED, Built, Norm, _int_like,
                            strip_annotations, text_of)
from .schema_containers import ContainersMixin
from .schema_objects import ObjectsMixin
from .schema_scalars import ScalarsMixin
from .symbols import Hint, Symbols

# What `from .schema import ...` has always offered (sdk.py uses some of it).
__all__ = ["ANNOTATIONS", "FLT_MAX", "INT32", "INT64", "JSON_TYPES", "MFLOW_FORMATS", "NAMED_CONTAINERS",
           "REF_SIBLINGS", "STRING_FORMATS", "SUPPORTED", "UNSUPPORTED", "Built", "Hint", "Norm",
           "SchemaBuilder", "Symbols", "strip_annotations", "text_of"]


class SchemaBuilder(ObjectsMixin, ContainersMixin, ScalarsMixin):
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

    # ------------------------------------------------------------------ construction
    def make(self, n: N, hint: Hint, force_public: bool, as_item: bool) -> Built:
        nm = self.norm(n)
        description = text_of(nm.kw.get("description")) or text_of(nm.kw.get("title"))
        default = nm.kw["default"].v if "default" in nm.kw else NO_VALUE
        if "oneOf" in nm.kw or "anyOf" in nm.kw:
            built = self.make_union(nm, hint, force_public, description)
            self.make_not(built.type, nm, hint)
            return built
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
        self.make_not(t, nm, hint)
        self.types.append(t)
        return Built(t, nm.nullable, default, description)

    def make_not(self, t: CType, nm: Norm, hint: Hint) -> None:
        """`not`: the value must not be valid against the schema (the runtime tries it)."""
        nn = nm.kw.get("not")
        if nn is None:
            return
        if t.not_type is not None and t.not_type.node != nn:
            raise nn.err("'not' on a schema that is shared with another 'not' is not supported")
        child = Hint(t.cname) if t.public and t.cname else hint
        t.not_type = self.use(nn, child.child("not"), as_item=True).type

    def kind_of(self, nm: Norm) -> str:
        kw, t = nm.kw, nm.type
        if t is None:
            if nm.props or nm.required or "additionalProperties" in kw:
                t = "object"
            elif "items" in kw or "minItems" in kw or "maxItems" in kw:
                t = "array"
            elif "enum" in kw:
                vals = [v for v in kw["enum"].v or [] if v is not None] if isinstance(kw["enum"].v, list) else []
                t = "string" if vals and all(isinstance(v, str) for v in vals) else \
                    "integer" if vals and all(_int_like(v) and not isinstance(v, bool) for v in vals) else "?"
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
        if "enum" in kw and t != "integer":
            raise kw["enum"].err(f"enum of {t} values is not supported", "enums must be strings or integers")
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
        self.sym.claim_first(t.cname, t.node, what)
        self.sym.claim(t.desc, t.node, f"descriptor of {t.cname}")
        for fn in ("init", "free", "decode", "encode", "validate", "equal", "copy"):
            self.sym.claim(f"{t.cname}_{fn}", t.node, f"function {fn} of {t.cname}")
        if t.kind == "enum":
            for fn in ("to_string", "from_string"):
                self.sym.claim(f"{t.cname}_{fn}", t.node, f"function {fn} of {t.cname}")

    def count(self, nm: Norm, key: str) -> int:
        c = nm.kw.get(key)
        if c is None:
            return 0
        if not _int_like(c.v) or c.v < 0 or c.v > 0xFFFFFFFF:
            raise c.err(f"{key} must be a non-negative integer")
        return int(c.v)
