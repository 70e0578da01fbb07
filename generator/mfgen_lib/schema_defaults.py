"""The default of a member: checked against the member's own type and constraints.

The runtime fills defaults of booleans, numbers, strings and enums; a default of a container is
a warning and left out. A default that breaks its member's constraints is a SpecError (the
caller decides whether that is fatal: JSON Schema calls a default an annotation).
"""
from __future__ import annotations

import math
import re
from typing import Any

from .errors import Diagnostics
from .model import NO_VALUE, CType
from .resolve import N
from .schema_keywords import is_int_like, is_num

_CONTAINERS = ("obj", "arr", "map", "raw", "union")
_OWN = "a default must satisfy the member's own constraints"
_BOUNDS = "a default must satisfy the member's own minimum/maximum"


def check_default(t: CType, v: Any, at: N, diag: Diagnostics) -> Any:
    """The default v of a member of type t (declared at `at`) as the C side holds it; NO_VALUE
    (and a warning) for a container. On a bad default, SpecError."""
    where = at.at("default") if at.has("default") else at
    if t.kind in _CONTAINERS:
        article = "an" if t.json_type[0] in "aeiou" else "a"
        diag.warn(where.err(f"default of {article} {t.json_type} member ignored",
                            "the runtime supports defaults for booleans, numbers, strings and enums"))
        return NO_VALUE
    if v is None:
        raise where.err("default: null is not supported", "leave the member absent instead")
    if t.kind == "bool":
        if not isinstance(v, bool):
            raise where.err("default must be a boolean")
        return v
    if t.kind == "int":
        return _int_default(t, v, where)
    if t.kind == "num":
        return _num_default(t, v, where)
    if t.kind == "enum":
        if v not in t.enum_values:
            raise where.err(f"default '{v}' is not one of the enum values", "use one of: " + ", ".join(t.enum_values))
        return v
    return _str_default(t, v, where)


def _int_default(t: CType, v: Any, where: N) -> int:
    if not is_int_like(v):
        raise where.err("default must be an integer")
    v = int(v)
    if (t.imin is not None and (v < t.imin or (t.excl_min and v == t.imin))) or \
            (t.imax is not None and (v > t.imax or (t.excl_max and v == t.imax))):
        raise where.err(f"default {v} violates the member's bounds", _BOUNDS)
    if t.int_values and v not in t.int_values:
        raise where.err(f"default {v} is not one of the enum values",
                        "use one of: " + ", ".join(str(x) for x in t.int_values))
    return v


def _num_default(t: CType, v: Any, where: N) -> float:
    if not is_num(v) or not math.isfinite(v):
        raise where.err("default must be a finite number")
    v = float(v)
    if (t.nmin is not None and (v < t.nmin or (t.excl_min and v == t.nmin))) or \
            (t.nmax is not None and (v > t.nmax or (t.excl_max and v == t.nmax))):
        raise where.err(f"default {v} violates the member's bounds", _BOUNDS)
    return v


def _str_default(t: CType, v: Any, where: N) -> str:
    if not isinstance(v, str):
        raise where.err("default must be a string")
    if len(v) < t.min_len or (t.max_len and len(v) > t.max_len):
        raise where.err("default violates minLength/maxLength", _OWN)
    if t.pattern is not None:
        try:
            ok = re.search(t.pattern.source, v) is not None
        except re.error:
            ok = True
        if not ok:
            raise where.err(f"default '{v}' does not match the pattern", _OWN)
    return v
