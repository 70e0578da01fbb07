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
