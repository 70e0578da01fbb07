"""SchemaBuilder's scalar types: enums, strings (lengths, formats, patterns), integers and
numbers (bounds, formats), consts, and the defaults of members.

A mixin of SchemaBuilder (schema.py); it calls back into it (count).
"""
from __future__ import annotations

import math
import re
from typing import Any, Dict, List, Optional, Tuple

from . import names
from .errors import Diagnostics
from .model import NO_VALUE, CType, Pattern
from .regex import RegexError, ecma_to_ere
from .resolve import N
from .schema_common import FLT_MAX, INT32, INT64, MFLOW_FORMATS, STRING_FORMATS, Norm, _int_like, _num
from .symbols import Symbols


class ScalarsMixin:
    diag: Diagnostics
    sym: Symbols

    # -- enums --------------------------------------------------------------------------
    def make_enum(self, t: CType, nm: Norm) -> None:
        assert t.cname
        en = nm.kw["enum"]
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
        for k in ("pattern", "minLength", "maxLength", "format"):
            if k in nm.kw:
                self.diag.warn(nm.kw[k].err(f"'{k}' ignored: the enum already lists every value"))
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
        t.values_sym = self.sym.static(f"{t.cname}__values")
        self.sym.claim(t.enum_unset, en, f"the unset value of {t.cname}")
        seen: Dict[str, str] = {}
        for v, c, e in zip(values, consts, [x for x in en.elems() if x.v is not None]):
            if c in seen:
                raise e.err(f"enum values '{seen[c]}' and '{v}' both become the C constant {c}",
                            "rename one, or name the constants with x-enum-varnames")
            seen[c] = v
            self.sym.claim(c, e, f"enum constant for '{v}'")
        if "const" in nm.kw:
            raise nm.kw["const"].err("const together with enum is not supported", "use a single-value enum")

    # -- scalars ------------------------------------------------------------------------
    def make_const(self, t: CType, nm: Norm, ok: Any, what: str) -> None:
        c = nm.kw.get("const")
        if c is None:
            return
        if c.v is None:
            raise c.err("const: null is not supported")
        if not ok(c.v):
            raise c.err(f"const must be {what} here")
        t.const = c.v

    def make_str(self, t: CType, nm: Norm) -> None:
        kw = nm.kw
        t.min_len = self.count(nm, "minLength")
        t.max_len = self.count(nm, "maxLength")
        if "maxLength" in kw and t.max_len < t.min_len:
            raise kw["maxLength"].err("maxLength is less than minLength")
        fmt = kw.get("format")
        if fmt is not None and isinstance(fmt.v, str):
            t.spec_format = fmt.v
        mfmt = kw.get("x-mflow-format")
        if mfmt is not None:
            t.fmt, t.fmt_name = MFLOW_FORMATS[mfmt.v], mfmt.v
        elif fmt is not None:
            if fmt.v in STRING_FORMATS:
                t.fmt, t.fmt_name = STRING_FORMATS[fmt.v], fmt.v
            else:
                self.diag.warn(fmt.err(f"unknown string format '{fmt.v}': treated as a plain string",
                                       "supported: " + ", ".join(STRING_FORMATS) + " (and x-mflow-format: time-hm)"))
        pat = kw.get("pattern")
        if pat is not None:
            if not isinstance(pat.v, str):
                raise pat.err("pattern must be a string")
            try:
                ere = ecma_to_ere(pat.v)
            except RegexError as e:
                raise pat.err(f"unsupported pattern '{pat.v}': {e.message} at offset {e.offset}",
                              "patterns are translated to POSIX extended regular expressions; "
                              "see docs/generator.md for what translates")
            base = t.cname if t.public else t.desc
            t.pattern = Pattern(pat.v, ere, self.sym.static(f"{base}__pattern" if t.public else f"{base}_pattern"))
        self.make_const(t, nm, lambda v: isinstance(v, str), "a string")
        if "maxLength" in kw and t.max_len == 0:
            if t.const is not NO_VALUE and t.const != "":
                raise kw["maxLength"].err("maxLength: 0 contradicts const")
            t.const = ""  # the runtime reads max_len 0 as unlimited: "only the empty string" is const ""

    def bound(self, nm: Norm, key: str) -> Optional[N]:
        c = nm.kw.get(key)
        if c is not None and not isinstance(c.v, bool) and not _num(c.v):
            raise c.err(f"{key} must be a number")
        if c is not None and _num(c.v) and not math.isfinite(c.v):
            raise c.err(f"{key} must be finite")
        return c

    def bounds(self, nm: Norm) -> Tuple[Optional[Tuple[float, bool]], Optional[Tuple[float, bool]]]:
        """((min, exclusive) or None, (max, exclusive) or None), draft 4 and 6+ forms."""
        mn, mx = self.bound(nm, "minimum"), self.bound(nm, "maximum")
        emn, emx = self.bound(nm, "exclusiveMinimum"), self.bound(nm, "exclusiveMaximum")
        lo: Optional[Tuple[float, bool]] = None
        hi: Optional[Tuple[float, bool]] = None
        if mn is not None and _num(mn.v):
            lo = (mn.v, emn is not None and emn.v is True)
        if mx is not None and _num(mx.v):
            hi = (mx.v, emx is not None and emx.v is True)
        if emn is not None and _num(emn.v) and (lo is None or emn.v >= lo[0]):
            lo = (emn.v, True)
        if emx is not None and _num(emx.v) and (hi is None or emx.v <= hi[0]):
            hi = (emx.v, True)
        for c in (emn, emx):
            if c is not None and isinstance(c.v, bool) and c.v and (lo if c is emn else hi) is None:
                raise c.err(f"{c.name}: true needs {'minimum' if c is emn else 'maximum'}")
        return lo, hi

    def make_int(self, t: CType, nm: Norm) -> None:
        lo, hi = self.bounds(nm)
        fmt = nm.kw.get("format")
        if fmt is not None and isinstance(fmt.v, str):
            t.spec_format = fmt.v
        if fmt is not None:
            if fmt.v == "int32":
                lo = self._tighter(lo, (INT32[0], False), True)
                hi = self._tighter(hi, (INT32[1], False), False)
                t.fmt_name = "int32"
            elif fmt.v == "int64":
                t.fmt_name = "int64"
            else:
                self.diag.warn(fmt.err(f"unknown integer format '{fmt.v}' ignored", "supported: int32, int64"))
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
        self.make_const(t, nm, _int_like, "an integer")
        if t.const is not NO_VALUE:
            t.const = int(t.const)
        t.multiple_of = self.multiple_of(nm)
        self.make_int_enum(t, nm)

    def make_int_enum(self, t: CType, nm: Norm) -> None:
        en = nm.kw.get("enum")
        if en is None:
            return
        if not en.is_list or not en.v:
            raise en.err("enum must be a non-empty list")
        values: List[int] = []
        for e in en.elems():
            if e.v is None and nm.nullable:
                continue
            if not _int_like(e.v) or isinstance(e.v, bool):
                raise e.err(f"enum value {e.v!r} is not an integer", "an enum lists strings or integers, not both")
            if int(e.v) in values:
                raise e.err(f"duplicate enum value {int(e.v)}", "list each value once")
            values.append(int(e.v))
        if not values:
            raise en.err("enum has no non-null value")
        t.int_values = values
        base = t.cname if t.public and t.cname else t.desc
        t.int_values_sym = self.sym.static(f"{base}__values" if t.public else f"{base}_values")

    def multiple_of(self, nm: Norm) -> Optional[float]:
        m = nm.kw.get("multipleOf")
        if m is None:
            return None
        if not _num(m.v) or not math.isfinite(m.v) or m.v <= 0:
            raise m.err("multipleOf must be a number greater than 0")
        return float(m.v)

    def make_num(self, t: CType, nm: Norm) -> None:
        lo, hi = self.bounds(nm)
        fmt = nm.kw.get("format")
        if fmt is not None and isinstance(fmt.v, str):
            t.spec_format = fmt.v
        if fmt is not None:
            if fmt.v == "float":
                lo = self._tighter(lo, (-FLT_MAX, False), True)
                hi = self._tighter(hi, (FLT_MAX, False), False)
                t.fmt_name = "float"
            elif fmt.v == "double":
                t.fmt_name = "double"
            else:
                self.diag.warn(fmt.err(f"unknown number format '{fmt.v}' ignored", "supported: float, double"))
        if lo is not None:
            t.nmin, t.excl_min = float(lo[0]), lo[1]
        if hi is not None:
            t.nmax, t.excl_max = float(hi[0]), hi[1]
        if t.nmin is not None and t.nmax is not None and (
                t.nmin > t.nmax or (t.nmin == t.nmax and (t.excl_min or t.excl_max))):
            raise nm.n.err("no number satisfies minimum and maximum", "check the bounds: the range is empty")
        self.make_const(t, nm, _num, "a number")
        if t.const is not NO_VALUE:
            t.const = float(t.const)
        t.multiple_of = self.multiple_of(nm)

    @staticmethod
    def _tighter(cur: Optional[Tuple[float, bool]], limit: Tuple[float, bool], is_min: bool) -> Tuple[float, bool]:
        if cur is None:
            return limit
        if is_min:
            return cur if cur[0] >= limit[0] else limit
        return cur if cur[0] <= limit[0] else limit

    # -- defaults -----------------------------------------------------------------------
    def check_default(self, t: CType, v: Any, at: N) -> Any:
        where = at.at("default") if at.has("default") else at
        if t.kind in ("obj", "arr", "map", "raw", "union"):
            article = "an" if t.json_type[0] in "aeiou" else "a"
            self.diag.warn(where.err(f"default of {article} {t.json_type} member ignored",
                                     "the runtime supports defaults for booleans, numbers, strings and enums"))
            return NO_VALUE
        if v is None:
            raise where.err("default: null is not supported", "leave the member absent instead")
        if t.kind == "bool":
            if not isinstance(v, bool):
                raise where.err("default must be a boolean")
            return v
        if t.kind == "int":
            if not _int_like(v):
                raise where.err("default must be an integer")
            v = int(v)
            if (t.imin is not None and (v < t.imin or (t.excl_min and v == t.imin))) or \
                    (t.imax is not None and (v > t.imax or (t.excl_max and v == t.imax))):
                raise where.err(f"default {v} violates the member's bounds", "a default must satisfy the member's own minimum/maximum")
            if t.int_values and v not in t.int_values:
                raise where.err(f"default {v} is not one of the enum values",
                                "use one of: " + ", ".join(str(x) for x in t.int_values))
            return v
        if t.kind == "num":
            if not _num(v) or not math.isfinite(v):
                raise where.err("default must be a finite number")
            v = float(v)
            if (t.nmin is not None and (v < t.nmin or (t.excl_min and v == t.nmin))) or \
                    (t.nmax is not None and (v > t.nmax or (t.excl_max and v == t.nmax))):
                raise where.err(f"default {v} violates the member's bounds", "a default must satisfy the member's own minimum/maximum")
            return v
        if t.kind == "enum":
            if v not in t.enum_values:
                raise where.err(f"default '{v}' is not one of the enum values", "use one of: " + ", ".join(t.enum_values))
            return v
        if not isinstance(v, str):
            raise where.err("default must be a string")
        if len(v) < t.min_len or (t.max_len and len(v) > t.max_len):
            raise where.err("default violates minLength/maxLength", "a default must satisfy the member's own constraints")
        if t.pattern is not None:
            try:
                ok = re.search(t.pattern.source, v) is not None
            except re.error:
                ok = True
            if not ok:
                raise where.err(f"default '{v}' does not match the pattern", "a default must satisfy the member's own constraints")
        return v
