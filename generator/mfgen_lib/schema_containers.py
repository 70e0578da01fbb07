"""SchemaBuilder's container types: arrays, maps (additionalProperties) and unions
(oneOf/anyOf, told apart by JSON type, then by a discriminator for objects).

A mixin of SchemaBuilder (schema.py); it calls back into it (use, build, norm, kind_of,
claim_type, target_key, count).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Set, Tuple

from . import names
from .errors import Diagnostics
from .model import NO_VALUE, Branch, CType
from .resolve import N, Resolver
from .schema_common import ANNOTATIONS, Built, Norm
from .symbols import Hint, Symbols


class ContainersMixin:
    res: Resolver
    diag: Diagnostics
    sym: Symbols
    types: List[CType]

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
        uq = nm.kw.get("uniqueItems")
        if uq is not None and not isinstance(uq.v, bool):
            raise uq.err("uniqueItems must be true or false")
        t.unique = uq is not None and uq.v is True

    # -- unions -------------------------------------------------------------------------
    def make_union(self, nm: Norm, hint: Hint, force_public: bool, description: str) -> Built:
        kw = nm.kw
        if "oneOf" in kw and "anyOf" in kw:
            raise kw["anyOf"].err("oneOf together with anyOf is not supported")
        key = "oneOf" if "oneOf" in kw else "anyOf"
        lst = kw[key]
        if not lst.is_list or not lst.v:
            raise lst.err(f"{key} must be a non-empty list")
        base = self.union_base(nm, key)
        nullable = nm.nullable
        branches: List[Tuple[N, N, Norm]] = []  # (as written, what is built, normalised)
        for i, b in enumerate(lst.elems()):
            rb = self.res.deref(b) if b.is_ref else b
            if base is not None:
                rb = N(nm.n.doc, f"{b.ptr}/~2with-base", {"allOf": [base, b.v]})
            bn = self.norm(rb)
            if bn.type is None and bn.nullable and not bn.props and "enum" not in bn.kw:
                nullable = True  # {type: 'null'}
                continue
            branches.append((b, rb, bn))
        if not branches:
            raise lst.err(f"{key} has only null branches")
        if len(branches) == 1:
            b0, rb0, _ = branches[0]
            got = self.use(b0, hint) if b0.is_ref and base is None else self.build(rb0, hint, force_public=force_public)
            return Built(got.type, nullable or got.nullable, got.default, description or got.description)
        jtypes, disc, disc_values = self.tell_apart(nm, branches, lst, key)
        cname = hint.public()
        t = CType(kind="union", desc=f"{cname}_desc", node=nm.n, public=True, cname=cname, label=cname,
                  description=description)
        self.claim_type(t)
        t.discriminator = disc
        t.any_of = key == "anyOf"
        t.branches_sym = self.sym.static(f"{cname}__branches")
        if disc is not None:
            t.disc_sym = self.sym.static(f"{cname}__disc")
        used: Set[str] = set()
        for i, (b, rb, bn) in enumerate(branches):
            bname = self.branch_name(b, disc_values[i], jtypes[i])
            base_name, k = bname, 2
            while bname in used:
                bname = f"{base_name}{k}"
                k += 1
            used.add(bname)
            bhint = Hint(cname, (names.type_part(bname),))
            got = self.use(b, bhint, as_item=True) if base is None else self.build(rb, bhint, force_public=False, as_item=True)
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

    def union_base(self, nm: Norm, key: str) -> Optional[Dict[str, object]]:
        """The keywords next to a oneOf/anyOf that every branch must also satisfy (shared
        properties, required, ...), as a schema; None when there are only annotations. They
        are merged into each branch: A and oneOf(B1, B2) is oneOf(A and B1, A and B2)."""
        v = nm.n.v
        base = {k: x for k, x in v.items()
                if k not in (key, "discriminator", "default", "nullable") and k not in ANNOTATIONS
                and not k.startswith("x-")}
        t = base.get("type")
        if isinstance(t, list) and "null" in t:
            rest = [x for x in t if x != "null"]
            base["type"] = rest[0] if len(rest) == 1 else rest
        if not base or base == {"type": "object"}:
            return None
        if "oneOf" in base or "anyOf" in base:
            raise nm.n.err("oneOf together with anyOf is not supported")
        return base

    def branch_name(self, b: N, disc_value: Optional[str], jtype: str) -> str:
        """x-c-name, else the referenced schema's key, else the discriminator value, else the
        branch's title, else its JSON type."""
        override = b.v.get("x-c-name") if isinstance(b.v, dict) else None
        if override:
            return names.member(override)
        if b.is_ref:
            return names.member(self.target_key(self.res.deref(b)))
        if disc_value is not None:
            return names.member(disc_value or "")
        title = b.v.get("title") if isinstance(b.v, dict) else None
        if isinstance(title, str) and names.member(title) != "empty":
            return names.member(title)
        return jtype

    def tell_apart(self, nm: Norm, branches: List[Tuple[N, N, Norm]], lst: N, key: str
                   ) -> Tuple[List[str], Optional[str], List[Optional[str]]]:
        """The JSON type of every branch, and the discriminator of the object branches (None
        when there are fewer than two, or when the runtime tells them apart by trying each)."""
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
                            "give every branch a distinct JSON type, or object branches properties")
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
                    "the runtime picks a branch by JSON type; only object branches can share one")
            found = self.find_discriminator(nm, [branches[i] for i in idx], lst, key)
            if found is not None:
                disc = found[0]
                for i, v in zip(idx, found[1]):
                    disc_values[i] = v
        return jtypes, disc, disc_values

    def find_discriminator(self, nm: Norm, objs: List[Tuple[N, N, Norm]], lst: N, key: str
                           ) -> Optional[Tuple[str, List[str]]]:
        """A required string property with a distinct const in every object branch: the one
        named by `discriminator`, else the first such property of the first branch. None when
        there is none: the runtime then tries every object branch (JSON Schema semantics)."""
        for b, rb, bn in objs:
            if self.kind_of(bn) == "raw":
                raise b.err(f"{key} branches cannot be told apart: this branch accepts any object",
                            "give the object branch properties (or additionalProperties: a schema)")
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
            values = self.disc_values(cand, objs, problems)
            if values is not None:
                return cand, values
        if wanted:
            raise lst.err(f"{key} branches cannot be told apart by the discriminator '{wanted}' ({problems[0]})",
                          "give every object branch a required string property with a distinct const "
                          "(e.g. kind: {const: circle}), or leave 'discriminator' out to have the branches tried")
        return None

    def disc_values(self, cand: str, objs: List[Tuple[N, N, Norm]], problems: List[str]) -> Optional[List[str]]:
        values: List[str] = []
        for b, rb, bn in objs:
            p = bn.props.get(cand)
            if p is None or cand not in [r for r, _ in bn.required]:
                problems.append(f"'{cand}' is not a required property of every branch")
                return None
            pv = self.res.deref(p) if p.is_ref else p
            v = self.const_string(pv)
            if v is None:
                problems.append(f"'{cand}' has no string const (or one-value enum) in {b.ptr}")
                return None
            if v in values:
                problems.append(f"'{cand}' has the same value '{v}' in two branches")
                return None
            values.append(v)
        return values

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
