"""JSON Schema (AsyncAPI schema object) -> CType descriptors.

One C type per named schema: every result is memoised by (file, pointer), so a schema reached by
many references (a diamond) is built once. Inline objects, enums and unions are named after
where they are (`<parent>_<prop>`, `<parent>_<prop>_item`, `<map>_value`, `<union>_<branch>`).
Anything that cannot be represented exactly is an error naming the schema's path.

SchemaBuilder here holds the entry points, the memo and the cycle check, and picks the kind of
type; it hands each kind to functions that receive what they need explicitly:

| file                 | job                                                                |
|----------------------|--------------------------------------------------------------------|
| schema_keywords.py   | the keywords known, refused, passed over; formats; numeric limits  |
| schema_norm.py       | a schema read into a Norm (allOf merged, type split); its kind     |
| schema_context.py    | Built, the Recurse protocol, the SchemaContext passed to the kinds |
| schema_naming.py     | the C name of a type, the key of a referenced schema, claims       |
| schema_objects.py    | structs: members, member name collisions, member defaults          |
| schema_containers.py | arrays and maps                                                    |
| schema_unions.py     | oneOf/anyOf: branches, JSON types, discriminator                   |
| schema_scalars.py    | enums, strings, integers, numbers, booleans, const                 |
| schema_defaults.py   | a member's default checked against its type                        |
"""
from __future__ import annotations

from typing import Dict, List, Tuple

from .errors import Diagnostics
from .model import NO_VALUE, CType
from .resolve import N, Resolver
from .schema_containers import array_type, map_type
from .schema_context import Built, SchemaContext
from .schema_keywords import REF_SIBLINGS, text_of
from .schema_naming import child_hint, new_type, target_key, type_name
from .schema_norm import Norm, Normaliser, kind_of
from .schema_objects import object_type
from .schema_scalars import bool_type, enum_type, integer_type, number_type, string_type
from .schema_unions import union_type
from .symbols import Hint, Symbols

class SchemaBuilder:
    """Builds the C types of the schemas of one document; `types` lists them in the order they
    were finished."""

    def __init__(self, res: Resolver, prefix: str, diag: Diagnostics, symbols: Symbols) -> None:
        self.prefix = prefix
        self.memo: Dict[Tuple[str, str], Built] = {}
        self.building: List[N] = []
        self.types: List[CType] = []
        self.ctx = SchemaContext(res=res, diag=diag, sym=symbols, norm=Normaliser(res, diag),
                                 recurse=self, types=self.types)

    # ------------------------------------------------------------------ entry points
    def named(self, n: N, key: str) -> Built:
        """The public type of a named schema (a components/schemas key, a payload's message key)."""
        return self.build(n, Hint(self.type_name(n, key)), force_public=True)

    def type_name(self, n: N, key: str) -> str:
        """The public C name of the schema at n, named key."""
        return type_name(self.prefix, n, key)

    def use(self, n: N, hint: Hint, as_item: bool = False) -> Built:
        """A schema at a place of use. A $ref makes the target a named (public) type."""
        if not n.is_ref:
            return self.build(n, hint, force_public=False, as_item=as_item)
        for k in n.v:
            if k not in REF_SIBLINGS and not k.startswith("x-"):
                raise n.at(k).err(f"'{k}' next to $ref is not supported",
                                  "wrap the reference: allOf: [{$ref: ...}] plus the extra keywords")
        target = self.ctx.res.deref(n)
        got = self.build(target, Hint(self.type_name(target, target_key(target))), force_public=True)
        out = Built(got.type, got.nullable, got.default, got.description)
        if "default" in n.v:
            out.default = n.v["default"]
        if text_of(n.get("description")):
            out.description = text_of(n.get("description"))
        return out

    # ------------------------------------------------------------------ memo + recursion
    def build(self, n: N, hint: Hint, force_public: bool, as_item: bool = False) -> Built:
        """The schema at n as it is, built once (a cycle is an error)."""
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
            built = self._make(n, hint, force_public, as_item)
        finally:
            self.building.pop()
        self.memo[n.key] = built
        return built

    # ------------------------------------------------------------------ construction
    def _make(self, n: N, hint: Hint, force_public: bool, as_item: bool) -> Built:
        nm = self.ctx.norm.norm(n)
        description = text_of(nm.kw.get("description")) or text_of(nm.kw.get("title"))
        default = nm.kw["default"].v if "default" in nm.kw else NO_VALUE
        if "oneOf" in nm.kw or "anyOf" in nm.kw:
            built = union_type(self.ctx, nm, hint, force_public, description)
            self._not(built.type, nm, hint)
            return built
        kind = kind_of(nm)
        public = force_public or kind in ("obj", "enum") or (as_item and kind in ("arr", "map"))
        t = new_type(self.ctx.sym, kind, nm.n, hint, public, description)
        self._fill(t, nm, hint)
        self._not(t, nm, hint)
        self.types.append(t)
        return Built(t, nm.nullable, default, description)

    def _fill(self, t: CType, nm: Norm, hint: Hint) -> None:
        """Hands the new type t to the function of its kind."""
        ctx, kind = self.ctx, t.kind
        if kind == "obj":
            object_type(ctx, t, nm)
        elif kind == "map":
            map_type(ctx, t, nm, hint)
        elif kind == "arr":
            array_type(ctx, t, nm, hint)
        elif kind == "enum":
            enum_type(t, nm, ctx.sym, ctx.diag)
        elif kind == "str":
            string_type(t, nm, ctx.sym, ctx.diag)
        elif kind == "int":
            integer_type(t, nm, ctx.sym, ctx.diag)
        elif kind == "num":
            number_type(t, nm, ctx.diag)
        elif kind == "bool":
            bool_type(t, nm)
        elif kind == "raw":
            t.raw_object = nm.type == "object"

    def _not(self, t: CType, nm: Norm, hint: Hint) -> None:
        """`not`: the value must not be valid against the schema (the runtime tries it)."""
        nn = nm.kw.get("not")
        if nn is None:
            return
        if t.not_type is not None and t.not_type.node != nn:
            raise nn.err("'not' on a schema that is shared with another 'not' is not supported")
        t.not_type = self.use(nn, child_hint(t, hint).child("not"), as_item=True).type
