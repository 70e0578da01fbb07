"""Checks every example a document gives (`messages.*.examples[].payload`) against its message's
payload type, with the rules of the generated validator (the runtime's decoder, runtime/codec):
the same types, presence and null handling, bounds, lengths in code points, formats, patterns,
enums, union branch choice (by JSON type, discriminator, or trying the object branches), `not`,
uniqueItems, multipleOf. An example that does not validate is an error at its line in the
document, naming the example, the message and the JSON pointer inside the payload.

tests/generator/test_wild.py checks that the generated `<prefix>-validate` agrees.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any, Dict, List, Optional

from .errors import Diagnostics
from .formats import format_ok
from .load import escape_segment
from .model import NO_VALUE, CType, Message
from .resolve import N
from .schema_keywords import is_num

MAX_SAFE_INT = 2 ** 53


class Invalid(Exception):
    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(message)
        self.pointer = pointer
        self.message = message


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    return "an object"


def _integral(v: Any) -> bool:
    return is_num(v) and math.isfinite(v) and float(v).is_integer() and abs(v) < MAX_SAFE_INT


def _multiple(v: float, m: float) -> bool:
    if float(m).is_integer() and float(v).is_integer() and abs(m) < MAX_SAFE_INT and abs(v) < MAX_SAFE_INT:
        return int(v) % int(m) == 0
    q = v / m
    return math.isfinite(q) and abs(q - round(q)) <= 1e-9


class Checker:
    """Validates JSON values (as loaded from YAML/JSON) against CTypes; raises Invalid."""

    def check(self, t: CType, v: Any, ptr: str = "") -> None:
        if t.not_type is not None and self.valid(t.not_type, v, ptr):
            raise Invalid(ptr, f"expected a value that is not {t.not_type.cname or t.not_type.json_type}")
        getattr(self, "_" + t.kind)(t, v, ptr)

    def valid(self, t: CType, v: Any, ptr: str) -> bool:
        try:
            self.check(t, v, ptr)
            return True
        except Invalid:
            return False

    def _type(self, t: CType, v: Any, ptr: str) -> Invalid:
        return Invalid(ptr, f"expected {t.json_type}, found {_json_type(v)}")

    def _bool(self, t: CType, v: Any, ptr: str) -> None:
        if not isinstance(v, bool):
            raise self._type(t, v, ptr)
        self._const(t, v, ptr)

    def _int(self, t: CType, v: Any, ptr: str) -> None:
        if not is_num(v):
            raise self._type(t, v, ptr)
        if not _integral(v):
            raise Invalid(ptr, f"expected an integer of magnitude below 2^53, found {v!r}")
        v = int(v)
        self._bounds(t, v, t.imin, t.imax, ptr)
        self._const(t, v, ptr)
        if t.int_values and v not in t.int_values:
            raise Invalid(ptr, f"expected one of {', '.join(map(str, t.int_values))}, found {v}")
        if t.multiple_of is not None and not _multiple(v, t.multiple_of):
            raise Invalid(ptr, f"expected a multiple of {t.multiple_of!r}, found {v}")

    def _num(self, t: CType, v: Any, ptr: str) -> None:
        if not is_num(v):
            raise self._type(t, v, ptr)
        if not math.isfinite(v):
            raise Invalid(ptr, "expected a finite number")
        self._bounds(t, v, t.nmin, t.nmax, ptr)
        self._const(t, v, ptr)
        if t.multiple_of is not None and not _multiple(v, t.multiple_of):
            raise Invalid(ptr, f"expected a multiple of {t.multiple_of!r}, found {v!r}")

    def _bounds(self, t: CType, v: Any, lo: Any, hi: Any, ptr: str) -> None:
        if lo is not None and (v <= lo if t.excl_min else v < lo):
            raise Invalid(ptr, f"expected a number {'greater than' if t.excl_min else 'of at least'} {lo}, found {v!r}")
        if hi is not None and (v >= hi if t.excl_max else v > hi):
            raise Invalid(ptr, f"expected a number {'less than' if t.excl_max else 'of at most'} {hi}, found {v!r}")

    def _const(self, t: CType, v: Any, ptr: str) -> None:
        if t.const is not NO_VALUE and v != t.const:
            raise Invalid(ptr, f"expected the constant {json.dumps(t.const)}, found {json.dumps(v)}")

    def _str(self, t: CType, v: Any, ptr: str) -> None:
        if not isinstance(v, str):
            raise self._type(t, v, ptr)
        if "\x00" in v or any(0xD800 <= ord(c) <= 0xDFFF for c in v):
            raise Invalid(ptr, "expected a string of valid UTF-8 without NUL characters")
        if len(v) < t.min_len or (t.max_len and len(v) > t.max_len):
            raise Invalid(ptr, f"expected a string of {t.min_len}..{t.max_len or 'any'} characters, found {len(v)}")
        if t.fmt_name and t.fmt != "MF_FMT_NONE" and not format_ok(t.fmt_name, v):
            raise Invalid(ptr, f"expected a valid {t.fmt_name}, found {json.dumps(v)}")
        if t.pattern is not None:
            try:
                ok = re.search(t.pattern.source, v) is not None
            except re.error:
                ok = True  # the runtime's translation is checked by tests/generator/test_regex.py
            if not ok:
                raise Invalid(ptr, f"expected a string matching {t.pattern.source}, found {json.dumps(v)}")
        self._const(t, v, ptr)

    def _enum(self, t: CType, v: Any, ptr: str) -> None:
        if not isinstance(v, str):
            raise self._type(t, v, ptr)
        if v not in t.enum_values:
            raise Invalid(ptr, f"expected one of {', '.join(t.enum_values)}, found {json.dumps(v)}")

    def _raw(self, t: CType, v: Any, ptr: str) -> None:
        if t.raw_object and not isinstance(v, dict):
            raise self._type(t, v, ptr)

    def _obj(self, t: CType, v: Any, ptr: str) -> None:
        if not isinstance(v, dict):
            raise self._type(t, v, ptr)
        fields = {f.json_name: f for f in t.fields}
        for k, x in v.items():
            f = fields.get(k)
            p = f"{ptr}/{escape_segment(k)}"
            if f is None:
                if t.closed:
                    raise Invalid(p, f"unexpected member \"{k}\": {t.cname} allows no other members")
                continue
            if x is None and (f.nullable or f.type.kind != "raw"):
                if not f.nullable:
                    raise self._type(f.type, x, p)
                continue
            self.check(f.type, x, p)
        for f in t.fields:
            if f.required and f.json_name not in v:
                raise Invalid(f"{ptr}/{escape_segment(f.json_name)}", f"missing required member \"{f.json_name}\"")

    def _count(self, t: CType, n: int, ptr: str) -> None:
        if n < t.min_items or (t.max_items and n > t.max_items):
            raise Invalid(ptr, f"expected {t.min_items}..{t.max_items or 'any'} entries, found {n}")

    def _arr(self, t: CType, v: Any, ptr: str) -> None:
        if not isinstance(v, list):
            raise self._type(t, v, ptr)
        self._count(t, len(v), ptr)
        assert t.item is not None
        for i, x in enumerate(v):
            self.check(t.item, x, f"{ptr}/{i}")
        if t.unique:
            seen: List[str] = []
            for i, x in enumerate(v):
                canon = json.dumps(x, sort_keys=True)
                if canon in seen:
                    raise Invalid(f"{ptr}/{i}", f"expected unique items, found item {i} equal to item {seen.index(canon)}")
                seen.append(canon)

    def _map(self, t: CType, v: Any, ptr: str) -> None:
        if not isinstance(v, dict):
            raise self._type(t, v, ptr)
        self._count(t, len(v), ptr)
        assert t.item is not None
        for k, x in v.items():
            self.check(t.item, x, f"{ptr}/{escape_segment(k)}")

    # -- unions: the decoder's choice (runtime/codec/decode_union.c) -----------------
    def _union(self, t: CType, v: Any, ptr: str) -> None:
        kinds = [b.type.kind for b in t.branches]
        pick: Optional[int] = None
        if isinstance(v, bool):
            pick = next((i for i, k in enumerate(kinds) if k == "bool"), None)
        elif is_num(v):
            want = "int" if _integral(v) else "num"
            pick = next((i for i, k in enumerate(kinds) if k == want), None)
            if pick is None:
                pick = next((i for i, k in enumerate(kinds) if k in ("int", "num")), None)
        elif isinstance(v, str):
            pick = next((i for i, b in enumerate(t.branches) if b.type.kind == "enum" and v in b.type.enum_values), None)
            if pick is None:
                pick = next((i for i, k in enumerate(kinds) if k == "str"), None)
            if pick is None:
                pick = next((i for i, k in enumerate(kinds) if k == "enum"), None)
        elif isinstance(v, list):
            pick = next((i for i, k in enumerate(kinds) if k == "arr"), None)
        elif isinstance(v, dict):
            objs = [i for i, k in enumerate(kinds) if k in ("obj", "map", "raw")]
            tries = [i for i, k in enumerate(kinds) if k in ("obj", "map")]
            if t.discriminator is None and len(tries) > 1:
                return self._union_try(t, v, ptr, tries)
            pick = objs[0] if objs else None
            if len(objs) > 1 and t.discriminator is not None:
                pick = self._by_discriminator(t, v, ptr)
        if pick is None:
            raise Invalid(ptr, f"expected one of the alternatives of {t.cname}, found {_json_type(v)}")
        self.check(t.branches[pick].type, v, ptr)

    def _by_discriminator(self, t: CType, v: Dict[str, Any], ptr: str) -> int:
        d = t.discriminator or ""
        p = f"{ptr}/{escape_segment(d)}"
        if d not in v:
            raise Invalid(p, f"missing required member \"{d}\" (it selects the alternative)")
        if not isinstance(v[d], str):
            raise Invalid(p, f"expected a string, found {_json_type(v[d])}")
        for i, b in enumerate(t.branches):
            if b.type.kind in ("obj", "map", "raw") and b.disc_value == v[d]:
                return i
        raise Invalid(p, f"expected one of {', '.join(b.disc_value for b in t.branches if b.disc_value)}, "
                         f"found {json.dumps(v[d])}")

    def _union_try(self, t: CType, v: Any, ptr: str, tries: List[int]) -> None:
        matched: List[int] = []
        closest: Optional[Invalid] = None
        for i in tries:
            try:
                self.check(t.branches[i].type, v, ptr)
            except Invalid as e:
                if closest is None or len(e.pointer) > len(closest.pointer):
                    closest = e
                continue
            matched.append(i)
            if t.any_of:
                return
        if len(matched) > 1:
            a, b = matched[0], matched[1]
            raise Invalid(ptr, f"expected exactly one alternative to match (oneOf), found two: "
                               f"{t.branches[a].type.cname or a + 1} and {t.branches[b].type.cname or b + 1}")
        if not matched:
            assert closest is not None
            raise Invalid(closest.pointer, f"no alternative matches; closest: {closest.message}")


def check_payload(t: CType, value: Any) -> Optional[Invalid]:
    """None when value is a valid payload of type t, else why not."""
    try:
        Checker().check(t, value)
    except Invalid as e:
        return e
    return None


def _not_json(v: Any, ptr: str = "") -> Optional[str]:
    """The pointer of a value JSON cannot hold (NaN, infinity), else None."""
    if isinstance(v, float) and not math.isfinite(v):
        return ptr
    if isinstance(v, dict):
        for k, x in v.items():
            bad = _not_json(x, f"{ptr}/{escape_segment(k)}")
            if bad is not None:
                return bad
    if isinstance(v, list):
        for i, x in enumerate(v):
            bad = _not_json(x, f"{ptr}/{i}")
            if bad is not None:
                return bad
    return None


def check_examples(messages: List[Message], diag: Diagnostics, lax: bool = False) -> None:
    """Every example of every message must validate against the message's payload type. With
    lax (--lax-examples) one that does not is a warning and is left out of the output."""
    for m in messages:
        keep = []
        for ex in m.examples:
            bad = _not_json(ex.payload)
            err = Invalid(bad, "expected a JSON value, found a number JSON cannot hold (NaN or infinity)") \
                if bad is not None else check_payload(m.payload, ex.payload)
            if err is None:
                keep.append(ex)
                continue
            assert ex.node is not None
            at = N(ex.node.doc, ex.node.ptr + err.pointer, None)
            e = at.err(f"example '{ex.name}' of message '{m.key}' does not validate: "
                       f"{err.pointer or '(the payload)'}: {err.message}",
                       "fix the example or the schema: the generated validator (<prefix>-validate) rejects "
                       "it too" + ("" if lax else " (--lax-examples makes this a warning)"))
            if lax:
                e.message += "; left out of examples/"
                diag.warn(e)
            else:
                diag.error(e)
        m.examples = keep
