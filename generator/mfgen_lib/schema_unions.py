"""The tagged union a oneOf/anyOf becomes: branches told apart by JSON type, and object
branches of the same JSON type by a discriminator (a required property with a distinct string
const in each), else tried in turn by the runtime. Keywords next to the oneOf are merged into
every branch; a {type: 'null'} branch makes the union nullable.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Set, Tuple

from . import names
from .model import NO_VALUE, Branch, CType
from .resolve import N
from .schema_context import Built, SchemaContext
from .schema_keywords import ANNOTATIONS
from .schema_naming import new_type, target_key
from .schema_norm import Norm, kind_of
from .symbols import Hint

Candidate = Tuple[N, N, Norm]  # a branch: as written, what is built, normalised
# kind of C type -> the JSON type the runtime tells a branch by ("any": it cannot)
_JSON_TYPE = {"int": "number", "num": "number", "str": "string", "enum": "string", "bool": "boolean",
              "obj": "object", "map": "object", "arr": "array"}


def union_type(ctx: SchemaContext, nm: Norm, hint: Hint, force_public: bool, description: str) -> Built:
    """The union of nm's oneOf (or anyOf); with one non-null branch, that branch's type."""
    kw = nm.kw
    if "oneOf" in kw and "anyOf" in kw:
        raise kw["anyOf"].err("oneOf together with anyOf is not supported")
    key = "oneOf" if "oneOf" in kw else "anyOf"
    lst = kw[key]
    if not lst.is_list or not lst.v:
        raise lst.err(f"{key} must be a non-empty list")
    base = _base(nm, key)
    branches, nullable = _candidates(ctx, nm, lst, base)
    if not branches:
        raise lst.err(f"{key} has only null branches")
    if len(branches) == 1:
        b0, rb0, _ = branches[0]
        got = ctx.recurse.use(b0, hint) if b0.is_ref and base is None else \
            ctx.recurse.build(rb0, hint, force_public=force_public)
        return Built(got.type, nullable or got.nullable, got.default, description or got.description)
    jtypes, disc, disc_values = _tell_apart(ctx, nm, branches, lst, key)
    t = new_type(ctx.sym, "union", nm.n, hint, True, description)
    assert t.cname
    t.discriminator = disc
    t.any_of = key == "anyOf"
    t.branches_sym = ctx.sym.static(f"{t.cname}__branches")
    if disc is not None:
        t.disc_sym = ctx.sym.static(f"{t.cname}__disc")
    _add_branches(ctx, t, branches, base is not None, jtypes, disc_values)
    ctx.types.append(t)
    if "default" in kw:
        ctx.diag.warn(kw["default"].err("default of a oneOf ignored"))
    return Built(t, nullable, NO_VALUE, description)


def _candidates(ctx: SchemaContext, nm: Norm, lst: N, base: Optional[Dict[str, object]]
                ) -> Tuple[List[Candidate], bool]:
    """The non-null branches (each merged with the base), and whether a null branch was seen."""
    nullable = nm.nullable
    branches: List[Candidate] = []
    for b in lst.elems():
        rb = ctx.res.deref(b) if b.is_ref else b
        if base is not None:
            rb = N(nm.n.doc, f"{b.ptr}/~2with-base", {"allOf": [base, b.v]})
        bn = ctx.norm.norm(rb)
        if bn.type is None and bn.nullable and not bn.props and "enum" not in bn.kw:
            nullable = True  # {type: 'null'}
            continue
        branches.append((b, rb, bn))
    return branches, nullable


def _add_branches(ctx: SchemaContext, t: CType, branches: List[Candidate], with_base: bool,
                  jtypes: List[str], disc_values: List[Optional[str]]) -> None:
    """Builds every branch's type and names its constant (`<UNION>_<BRANCH>`)."""
    assert t.cname
    used: Set[str] = set()
    for i, (b, rb, bn) in enumerate(branches):
        bname = _unique(_branch_name(ctx, b, disc_values[i], jtypes[i]), used)
        bhint = Hint(t.cname, (names.type_part(bname),))
        got = ctx.recurse.build(rb, bhint, force_public=False, as_item=True) if with_base else \
            ctx.recurse.use(b, bhint, as_item=True)
        if got.nullable:
            raise b.err("a nullable oneOf branch is not supported", "add a separate {type: 'null'} branch")
        macro = f"{t.cname.upper()}_{bname.upper().rstrip('_')}"
        ctx.sym.claim(macro, b, f"branch constant of {t.cname}")
        t.branches.append(Branch(name=bname, macro=macro, index=i + 1, type=got.type,
                                 json_type=jtypes[i], disc_value=disc_values[i]))


def _unique(name: str, used: Set[str]) -> str:
    """name, else name2, name3, ... : the first not in used (which it joins)."""
    out, k = name, 2
    while out in used:
        out = f"{name}{k}"
        k += 1
    used.add(out)
    return out


def _base(nm: Norm, key: str) -> Optional[Dict[str, object]]:
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


def _branch_name(ctx: SchemaContext, b: N, disc_value: Optional[str], jtype: str) -> str:
    """x-c-name, else the referenced schema's key, else the discriminator value, else the
    branch's title, else its JSON type."""
    override = b.v.get("x-c-name") if isinstance(b.v, dict) else None
    if override:
        return names.member(override)
    if b.is_ref:
        return names.member(target_key(ctx.res.deref(b)))
    if disc_value is not None:
        return names.member(disc_value or "")
    title = b.v.get("title") if isinstance(b.v, dict) else None
    if isinstance(title, str) and names.member(title) != "empty":
        return names.member(title)
    return jtype


def _tell_apart(ctx: SchemaContext, nm: Norm, branches: List[Candidate], lst: N, key: str
                ) -> Tuple[List[str], Optional[str], List[Optional[str]]]:
    """The JSON type of every branch, and the discriminator of the object branches (None
    when there are fewer than two, or when the runtime tells them apart by trying each)."""
    groups: Dict[str, List[int]] = {}
    jtypes: List[str] = []
    for i, (b, rb, bn) in enumerate(branches):
        if "oneOf" in bn.kw or "anyOf" in bn.kw:
            raise b.err("nested oneOf/anyOf is not supported", "flatten the branches into one list")
        kind = kind_of(bn)
        jt = _JSON_TYPE.get(kind) or ("object" if bn.type == "object" else "any")
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
        found = _discriminator(ctx, nm, [branches[i] for i in idx], lst, key)
        if found is not None:
            disc = found[0]
            for i, v in zip(idx, found[1]):
                disc_values[i] = v
    return jtypes, disc, disc_values


def _discriminator(ctx: SchemaContext, nm: Norm, objs: List[Candidate], lst: N, key: str
                   ) -> Optional[Tuple[str, List[str]]]:
    """A required string property with a distinct const in every object branch: the one
    named by `discriminator`, else the first such property of the first branch. None when
    there is none: the runtime then tries every object branch (JSON Schema semantics)."""
    for b, rb, bn in objs:
        if kind_of(bn) == "raw":
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
        values = _disc_values(ctx, cand, objs, problems)
        if values is not None:
            return cand, values
    if wanted:
        raise lst.err(f"{key} branches cannot be told apart by the discriminator '{wanted}' ({problems[0]})",
                      "give every object branch a required string property with a distinct const "
                      "(e.g. kind: {const: circle}), or leave 'discriminator' out to have the branches tried")
    return None


def _disc_values(ctx: SchemaContext, cand: str, objs: List[Candidate], problems: List[str]) -> Optional[List[str]]:
    """The const of property cand in every branch, when each has a distinct one; else None and
    the reason in problems."""
    values: List[str] = []
    for b, rb, bn in objs:
        p = bn.props.get(cand)
        if p is None or cand not in [r for r, _ in bn.required]:
            problems.append(f"'{cand}' is not a required property of every branch")
            return None
        v = _const_string(ctx.res.deref(p) if p.is_ref else p)
        if v is None:
            problems.append(f"'{cand}' has no string const (or one-value enum) in {b.ptr}")
            return None
        if v in values:
            problems.append(f"'{cand}' has the same value '{v}' in two branches")
            return None
        values.append(v)
    return values


def _const_string(p: N) -> Optional[str]:
    """A string const, or the value of a one-value string enum."""
    if not isinstance(p.v, dict):
        return None
    if isinstance(p.v.get("const"), str):
        return p.v["const"]
    e = p.v.get("enum")
    if isinstance(e, list) and len(e) == 1 and isinstance(e[0], str):
        return e[0]
    return None
