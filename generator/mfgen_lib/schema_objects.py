"""The struct a schema with properties becomes: one member per property (a required property
with no schema holds raw JSON), checked for C member names that collide, and member defaults.
"""
from __future__ import annotations

from typing import Any, Dict, Tuple

from . import names
from .errors import SpecError
from .model import NO_VALUE, CType, Field
from .resolve import N
from .schema_context import SchemaContext
from .schema_defaults import check_default
from .schema_norm import Norm
from .symbols import Hint


def object_type(ctx: SchemaContext, t: CType, nm: Norm) -> None:
    """Fills the fields of the object type t; each property's schema is built through
    ctx.recurse."""
    assert t.cname
    t.closed = nm.closed
    t.fields_sym = ctx.sym.static(f"{t.cname}__fields")
    req_names = [r for r, _ in nm.required]
    members: Dict[str, Tuple[str, N]] = {}
    for pname, pnode in _properties(ctx, nm).items():
        f, default = _field(ctx, t.cname, pname, pnode, pname in req_names)
        for m in filter(None, (f.member, f.has_member, f.null_member)):
            if m in members:
                other, onode = members[m]
                raise pnode.err(
                    f"properties '{other}' and '{pname}' both need the struct member '{m}' "
                    f"in {t.cname}", "rename one of them or give one an x-c-name")
            members[m] = (pname, pnode)
        if default is not NO_VALUE:
            f.default = _default(ctx, f.type, default, pnode)
        t.fields.append(f)


def _properties(ctx: SchemaContext, nm: Norm) -> Dict[str, N]:
    """The properties, and a required name without a schema as a property of any value."""
    props = dict(nm.props)
    for r, rn in nm.required:
        if r not in props:
            # JSON Schema: present, any value. A member of raw JSON text.
            ctx.diag.warn(rn.err(f"required property '{r}' has no schema in properties: it holds "
                                 "any JSON value (raw JSON text in C)",
                                 "define it under properties to get a typed member"))
            props[r] = N(rn.doc, f"{rn.ptr}/~2any", {})
    return props


def _field(ctx: SchemaContext, cname: str, pname: str, pnode: N, required: bool) -> Tuple[Field, Any]:
    """The member of struct cname for property pname, and the default its schema gives (not
    yet checked)."""
    override = pnode.v.get("x-c-name") if isinstance(pnode.v, dict) else None
    if override is not None and (not isinstance(override, str) or not names.IDENT_RE.match(override)):
        raise pnode.at("x-c-name").err("x-c-name must be a C identifier", "letters, digits and _, not starting with a digit")
    member = names.member(override) if override else names.member(pname)
    part = names.type_part(override or pname)
    got = ctx.recurse.use(pnode, Hint(cname, (part,)))
    f = Field(json_name=pname, member=member, type=got.type, node=pnode, required=required,
              nullable=got.nullable, description=got.description)
    return f, got.default


def _default(ctx: SchemaContext, t: CType, v: Any, pnode: N) -> Any:
    """The member's default; one that does not fit is a warning and left out."""
    try:
        return check_default(t, v, pnode, ctx.diag)
    except SpecError as e:  # JSON Schema: a default is an annotation
        e.message += "; the default is ignored"
        ctx.diag.warn(e)
        return NO_VALUE
