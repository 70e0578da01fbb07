"""SchemaBuilder's normalisation and objects: allOf merged into one Norm, `type` read,
keywords checked, and the members of an object type.

A mixin of SchemaBuilder (schema.py); it calls back into it (use, check_default).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from . import keyword_types, names
from .errors import Diagnostics, SpecError
from .model import NO_VALUE, CType, Field
from .resolve import N, Resolver
from .schema_common import ANNOTATIONS, JSON_TYPES, MFLOW_FORMATS, SUPPORTED, UNSUPPORTED, Norm, strip_annotations
from .symbols import Hint


class ObjectsMixin:
    res: Resolver
    diag: Diagnostics
    norming: List[N]

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
        if ra.doc is rb.doc and isinstance(ra.v, dict) and isinstance(rb.v, dict):
            # both must hold: the property's schema is the allOf of the two (keywords that
            # disagree are reported by the merge)
            return N(ra.doc, f"{ra.ptr}/~2and{rb.ptr}", {"allOf": [ra.v, rb.v]})
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
            self.diag.warn(c.err(f"unknown schema keyword '{k}' ignored"))
        items = n.get("items")
        if items is not None and items.is_list:
            raise items.err("unsupported schema construct: tuple arrays (items as a list)")

    # -- objects ------------------------------------------------------------------------
    def make_obj(self, t: CType, nm: Norm) -> None:
        assert t.cname
        t.closed = nm.closed
        t.fields_sym = self.sym.static(f"{t.cname}__fields")
        req_names = [r for r, _ in nm.required]
        props = dict(nm.props)
        for r, rn in nm.required:
            if r not in props:
                # JSON Schema: present, any value. A member of raw JSON text.
                self.diag.warn(rn.err(f"required property '{r}' has no schema in properties: it holds "
                                      "any JSON value (raw JSON text in C)",
                                      "define it under properties to get a typed member"))
                props[r] = N(rn.doc, f"{rn.ptr}/~2any", {})
        members: Dict[str, Tuple[str, N]] = {}
        for pname, pnode in props.items():
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
                try:
                    f.default = self.check_default(got.type, got.default, pnode)
                except SpecError as e:  # JSON Schema: a default is an annotation
                    e.message += "; the default is ignored"
                    self.diag.warn(e)
            t.fields.append(f)
