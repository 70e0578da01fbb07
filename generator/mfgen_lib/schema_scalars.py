"""The scalar types a schema becomes: enums, strings (lengths, formats, patterns), integers and
numbers (bounds, formats, multipleOf, integer enums) and the const of each.

Each function fills a new CType from a Norm; none builds another schema. Names are claimed in
the Symbols given, keywords that are passed over are warnings in the Diagnostics given.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import names
from .errors import Diagnostics
from .model import NO_VALUE, CType, Pattern
from .regex import RegexError, ecma_to_ere
from .resolve import N
from .schema_keywords import FLT_MAX, INT32, INT64, MFLOW_FORMATS, STRING_FORMATS, is_int_like, is_num
from .schema_norm import Norm, count
from .symbols import Symbols

Bound = Tuple[float, bool]  # (value, exclusive)
# format -> the range it adds to the type's own bounds (None: none)
INT_FORMATS: Dict[str, Optional[Tuple[float, float]]] = {"int32": INT32, "int64": None}
NUM_FORMATS: Dict[str, Optional[Tuple[float, float]]] = {"float": (-FLT_MAX, FLT_MAX), "double": None}


def enum_type(t: CType, nm: Norm, sym: Symbols, diag: Diagnostics) -> None:
    """A string enum: its values and their C constants (x-enum-varnames, else the values)."""
    assert t.cname
    en = nm.kw["enum"]
    values = _string_values(en, nm)
    for k in ("pattern", "minLength", "maxLength", "format"):
        if k in nm.kw:
            diag.warn(nm.kw[k].err(f"'{k}' ignored: the enum already lists every value"))
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
    t.values_sym = sym.static(f"{t.cname}__values")
    sym.claim(t.enum_unset, en, f"the unset value of {t.cname}")
    seen: Dict[str, str] = {}
    for v, c, e in zip(values, consts, [x for x in en.elems() if x.v is not None]):
        if c in seen:
            raise e.err(f"enum values '{seen[c]}' and '{v}' both become the C constant {c}",
                        "rename one, or name the constants with x-enum-varnames")
        seen[c] = v
        sym.claim(c, e, f"enum constant for '{v}'")
    if "const" in nm.kw:
        raise nm.kw["const"].err("const together with enum is not supported", "use a single-value enum")


def _string_values(en: N, nm: Norm) -> List[str]:
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
    return values


def const_value(t: CType, nm: Norm, ok: Callable[[Any], bool], what: str) -> None:
    """`const`, when present and accepted by ok (a description of what it must be: `what`)."""
    c = nm.kw.get("const")
    if c is None:
        return
    if c.v is None:
        raise c.err("const: null is not supported")
    if not ok(c.v):
        raise c.err(f"const must be {what} here")
    t.const = c.v


def bool_type(t: CType, nm: Norm) -> None:
    const_value(t, nm, lambda v: isinstance(v, bool), "a boolean")


def string_type(t: CType, nm: Norm, sym: Symbols, diag: Diagnostics) -> None:
    """A string: lengths, format (or x-mflow-format), pattern (as a POSIX ERE), const."""
    kw = nm.kw
    t.min_len = count(nm, "minLength")
    t.max_len = count(nm, "maxLength")
    if "maxLength" in kw and t.max_len < t.min_len:
        raise kw["maxLength"].err("maxLength is less than minLength")
    _string_format(t, nm, diag)
    pat = kw.get("pattern")
    if pat is not None:
        t.pattern = _pattern(t, pat, sym)
    const_value(t, nm, lambda v: isinstance(v, str), "a string")
    if "maxLength" in kw and t.max_len == 0:
        if t.const is not NO_VALUE and t.const != "":
            raise kw["maxLength"].err("maxLength: 0 contradicts const")
        t.const = ""  # the runtime reads max_len 0 as unlimited: "only the empty string" is const ""


def _string_format(t: CType, nm: Norm, diag: Diagnostics) -> None:
    fmt = nm.kw.get("format")
    if fmt is not None and isinstance(fmt.v, str):
        t.spec_format = fmt.v
    mfmt = nm.kw.get("x-mflow-format")
    if mfmt is not None:
        t.fmt, t.fmt_name = MFLOW_FORMATS[mfmt.v], mfmt.v
    elif fmt is not None:
        if fmt.v in STRING_FORMATS:
            t.fmt, t.fmt_name = STRING_FORMATS[fmt.v], fmt.v
        else:
            diag.warn(fmt.err(f"unknown string format '{fmt.v}': treated as a plain string",
                              "supported: " + ", ".join(STRING_FORMATS) + " (and x-mflow-format: time-hm)"))


def _pattern(t: CType, pat: N, sym: Symbols) -> Pattern:
    if not isinstance(pat.v, str):
        raise pat.err("pattern must be a string")
    try:
        ere = ecma_to_ere(pat.v)
    except RegexError as e:
        raise pat.err(f"unsupported pattern '{pat.v}': {e.message} at offset {e.offset}",
                      "patterns are translated to POSIX extended regular expressions; "
                      "see docs/generator.md for what translates")
    base = t.cname if t.public else t.desc
    return Pattern(pat.v, ere, sym.static(f"{base}__pattern" if t.public else f"{base}_pattern"))


def integer_type(t: CType, nm: Norm, sym: Symbols, diag: Diagnostics) -> None:
    """An integer: bounds (narrowed by format int32, rounded inwards), const, multipleOf, enum."""
    lo, hi = _format_range(t, nm, diag, "integer", INT_FORMATS, *bounds(nm))
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
    const_value(t, nm, is_int_like, "an integer")
    if t.const is not NO_VALUE:
        t.const = int(t.const)
    t.multiple_of = multiple_of(nm)
    _integer_enum(t, nm, sym)


def _integer_enum(t: CType, nm: Norm, sym: Symbols) -> None:
    en = nm.kw.get("enum")
    if en is None:
        return
    if not en.is_list or not en.v:
        raise en.err("enum must be a non-empty list")
    values: List[int] = []
    for e in en.elems():
        if e.v is None and nm.nullable:
            continue
        if not is_int_like(e.v) or isinstance(e.v, bool):
            raise e.err(f"enum value {e.v!r} is not an integer", "an enum lists strings or integers, not both")
        if int(e.v) in values:
            raise e.err(f"duplicate enum value {int(e.v)}", "list each value once")
        values.append(int(e.v))
    if not values:
        raise en.err("enum has no non-null value")
    t.int_values = values
    base = t.cname if t.public and t.cname else t.desc
    t.int_values_sym = sym.static(f"{base}__values" if t.public else f"{base}_values")


def number_type(t: CType, nm: Norm, diag: Diagnostics) -> None:
    """A number: bounds (narrowed by format float), const, multipleOf."""
    lo, hi = _format_range(t, nm, diag, "number", NUM_FORMATS, *bounds(nm))
    if lo is not None:
        t.nmin, t.excl_min = float(lo[0]), lo[1]
    if hi is not None:
        t.nmax, t.excl_max = float(hi[0]), hi[1]
    if t.nmin is not None and t.nmax is not None and (
            t.nmin > t.nmax or (t.nmin == t.nmax and (t.excl_min or t.excl_max))):
        raise nm.n.err("no number satisfies minimum and maximum", "check the bounds: the range is empty")
    const_value(t, nm, is_num, "a number")
    if t.const is not NO_VALUE:
        t.const = float(t.const)
    t.multiple_of = multiple_of(nm)


def _format_range(t: CType, nm: Norm, diag: Diagnostics, what: str,
                  formats: Dict[str, Optional[Tuple[float, float]]],
                  lo: Optional[Bound], hi: Optional[Bound]) -> Tuple[Optional[Bound], Optional[Bound]]:
    """Reads `format` of an integer or number: its name, and the bounds narrowed to its range.
    An unknown format is a warning."""
    fmt = nm.kw.get("format")
    if fmt is None:
        return lo, hi
    if isinstance(fmt.v, str):
        t.spec_format = fmt.v
    if not isinstance(fmt.v, str) or fmt.v not in formats:
        diag.warn(fmt.err(f"unknown {what} format '{fmt.v}' ignored", "supported: " + ", ".join(formats)))
        return lo, hi
    t.fmt_name = fmt.v
    limits = formats[fmt.v]
    if limits is None:
        return lo, hi
    return _tighter(lo, (limits[0], False), True), _tighter(hi, (limits[1], False), False)


def _tighter(cur: Optional[Bound], limit: Bound, is_min: bool) -> Bound:
    if cur is None:
        return limit
    if is_min:
        return cur if cur[0] >= limit[0] else limit
    return cur if cur[0] <= limit[0] else limit


def _bound(nm: Norm, key: str) -> Optional[N]:
    c = nm.kw.get(key)
    if c is not None and not isinstance(c.v, bool) and not is_num(c.v):
        raise c.err(f"{key} must be a number")
    if c is not None and is_num(c.v) and not math.isfinite(c.v):
        raise c.err(f"{key} must be finite")
    return c


def bounds(nm: Norm) -> Tuple[Optional[Bound], Optional[Bound]]:
    """((min, exclusive) or None, (max, exclusive) or None), draft 4 and 6+ forms."""
    mn, mx = _bound(nm, "minimum"), _bound(nm, "maximum")
    emn, emx = _bound(nm, "exclusiveMinimum"), _bound(nm, "exclusiveMaximum")
    lo: Optional[Bound] = None
    hi: Optional[Bound] = None
    if mn is not None and is_num(mn.v):
        lo = (mn.v, emn is not None and emn.v is True)
    if mx is not None and is_num(mx.v):
        hi = (mx.v, emx is not None and emx.v is True)
    if emn is not None and is_num(emn.v) and (lo is None or emn.v >= lo[0]):
        lo = (emn.v, True)
    if emx is not None and is_num(emx.v) and (hi is None or emx.v <= hi[0]):
        hi = (emx.v, True)
    for c in (emn, emx):
        if c is not None and isinstance(c.v, bool) and c.v and (lo if c is emn else hi) is None:
            raise c.err(f"{c.name}: true needs {'minimum' if c is emn else 'maximum'}")
    return lo, hi


def multiple_of(nm: Norm) -> Optional[float]:
    m = nm.kw.get("multipleOf")
    if m is None:
        return None
    if not is_num(m.v) or not math.isfinite(m.v) or m.v <= 0:
        raise m.err("multipleOf must be a number greater than 0")
    return float(m.v)
