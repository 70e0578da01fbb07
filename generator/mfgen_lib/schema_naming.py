"""The C names of the types a schema becomes: the public name of a named schema (x-c-name, else
its key), the key a referenced schema is named after, and a new CType with its names claimed.
"""
from __future__ import annotations

import re

from . import names
from .model import CType
from .resolve import N
from .schema_keywords import NAMED_CONTAINERS
from .symbols import Hint, Symbols

# The functions every public type has (the enum ones: ENUM_FUNCTIONS too).
TYPE_FUNCTIONS = ("init", "free", "decode", "encode", "validate", "equal", "copy")
ENUM_FUNCTIONS = ("to_string", "from_string")
_WHAT = {"obj": "struct", "enum": "enum", "union": "union", "arr": "array type", "map": "map type"}


def type_name(prefix: str, n: N, key: str) -> str:
    """`<prefix>_<x-c-name>`, else `<prefix>_<key>`."""
    override = n.v.get("x-c-name") if isinstance(n.v, dict) else None
    if override is not None:
        if not isinstance(override, str) or not names.IDENT_RE.match(override):
            raise n.at("x-c-name").err("x-c-name must be a C identifier", "letters, digits and _, not starting with a digit")
        return f"{prefix}_{names.type_part(override)}"
    return f"{prefix}_{names.type_part(key)}"


def target_key(t: N) -> str:
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


def new_type(sym: Symbols, kind: str, n: N, hint: Hint, public: bool, description: str) -> CType:
    """A public type named by the hint (its names claimed), or a private one with a static
    descriptor."""
    if not public:
        return CType(kind=kind, desc=sym.static(hint.static()), node=n, label=hint.label(),
                     description=description)
    cname = hint.public()
    t = CType(kind=kind, desc=f"{cname}_desc", node=n, public=True, cname=cname,
              label=cname, description=description)
    claim_type(sym, t)
    return t


def child_hint(t: CType, hint: Hint) -> Hint:
    """What the types inside t (items, values, `not`) are named after: t's public name, else
    the hint t was built with."""
    return Hint(t.cname) if t.public and t.cname else hint


def claim_type(sym: Symbols, t: CType) -> None:
    """Claims a public type's name, its descriptor and its functions."""
    assert t.cname
    sym.claim_first(t.cname, t.node, _WHAT.get(t.kind, "type"))
    sym.claim(t.desc, t.node, f"descriptor of {t.cname}")
    for fn in TYPE_FUNCTIONS + (ENUM_FUNCTIONS if t.kind == "enum" else ()):
        sym.claim(f"{t.cname}_{fn}", t.node, f"function {fn} of {t.cname}")
