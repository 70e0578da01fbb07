"""The string formats of the runtime (runtime/codec/format.c, docs/formats.md), for checking
the examples of a document before any C exists. Same definitions, byte for byte: the generator
test tests/generator/test_wild.py compares the verdicts with the generated validator's.
"""
from __future__ import annotations

_HEX = frozenset(b"0123456789abcdefABCDEF")
_DIGITS = frozenset(b"0123456789")
_ATEXT = frozenset(b"!#$%&'*+-/=?^_`{|}~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_LABEL = frozenset(b"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _num2(s: bytes, i: int) -> int:
    if i + 2 > len(s) or s[i] not in _DIGITS or s[i + 1] not in _DIGITS:
        return -1
    return (s[i] - 48) * 10 + s[i + 1] - 48


def _uuid(s: bytes) -> bool:
    if len(s) != 36 or any(s[i] != 0x2D for i in (8, 13, 18, 23)):
        return False
    return all(c in _HEX for i, c in enumerate(s) if i not in (8, 13, 18, 23))


def _leap(y: int) -> bool:
    return (y % 4 == 0 and y % 100 != 0) or y % 400 == 0


def _date(s: bytes) -> bool:
    if len(s) != 10 or s[4] != 0x2D or s[7] != 0x2D:
        return False
    if any(s[i] not in _DIGITS for i in (0, 1, 2, 3, 5, 6, 8, 9)):
        return False
    y, m, d = int(s[0:4]), int(s[5:7]), int(s[8:10])
    if not 1 <= m <= 12 or d == 0:
        return False
    return d <= _DAYS[m] or (m == 2 and d == 29 and _leap(y))


def _partial_time(s: bytes):  # type: ignore[no-untyped-def]
    """(bytes used, h, m, sec) or None."""
    if len(s) < 8 or s[2] != 0x3A or s[5] != 0x3A:
        return None
    h, m, sec = _num2(s, 0), _num2(s, 3), _num2(s, 6)
    if not (0 <= h <= 23 and 0 <= m <= 59 and 0 <= sec <= 60):
        return None
    i = 8
    if i < len(s) and s[i] == 0x2E:
        i += 1
        start = i
        while i < len(s) and s[i] in _DIGITS:
            i += 1
        if i == start:
            return None
    return i, h, m, sec


def _time(s: bytes) -> bool:
    pt = _partial_time(s)
    if pt is None or pt[0] >= len(s):
        return False
    i, h, m, sec = pt
    off = 0
    if s[i] | 0x20 == 0x7A:  # z
        if i + 1 != len(s):
            return False
    elif s[i] in (0x2B, 0x2D):
        if len(s) - i != 6 or s[i + 3] != 0x3A:
            return False
        oh, om = _num2(s, i + 1), _num2(s, i + 4)
        if not (0 <= oh <= 23 and 0 <= om <= 59):
            return False
        off = (oh * 60 + om) * (-1 if s[i] == 0x2D else 1)
    else:
        return False
    if sec == 60:
        return ((h * 60 + m - off) % 1440 + 1440) % 1440 == 23 * 60 + 59
    return True


def _date_time(s: bytes) -> bool:
    return len(s) >= 11 and s[10] | 0x20 == 0x74 and _date(s[:10]) and _time(s[11:])


def _time_hm(s: bytes) -> bool:
    if len(s) == 5:
        if s[2] != 0x3A:
            return False
        h, m = _num2(s, 0), _num2(s, 3)
        return 0 <= h <= 23 and 0 <= m <= 59
    pt = _partial_time(s)
    return pt is not None and pt[0] == len(s) and pt[3] <= 59


def _quoted(s: bytes) -> int:
    if len(s) < 2 or s[0] != 0x22:
        return 0
    i = 1
    while i < len(s) and s[i] != 0x22:
        c = s[i]
        if c == 0x5C:
            if i + 1 >= len(s) or not 32 <= s[i + 1] <= 126:
                return 0
            i += 2
        elif 32 <= c <= 126:
            i += 1
        else:
            return 0
    if i >= len(s) or i == 1:
        return 0
    return i + 1


def _dns(s: bytes) -> bool:
    if not s:
        return False
    for label in s.split(b"."):
        if not 1 <= len(label) <= 63 or label[0] == 0x2D or label[-1] == 0x2D:
            return False
        if any(c not in _LABEL for c in label):
            return False
    return True


def _ipv4(s: bytes) -> bool:
    parts = s.split(b".")
    return len(parts) == 4 and all(1 <= len(p) <= 3 and all(c in _DIGITS for c in p) and int(p) <= 255
                                   for p in parts)


def _ipv6(s: bytes) -> bool:
    n, i, units, compressed = len(s), 0, 0, False
    if s.startswith(b"::"):
        compressed, i = True, 2
        if i == n:
            return True
    elif s.startswith(b":"):
        return False
    while True:
        start = i
        while i < n and s[i] in _HEX and i - start < 5:
            i += 1
        if i < n and s[i] == 0x2E:
            if not _ipv4(s[start:]):
                return False
            units += 2
            break
        if i == start or i - start > 4:
            return False
        units += 1
        if i == n:
            break
        if s[i] != 0x3A:
            return False
        i += 1
        if i < n and s[i] == 0x3A:
            if compressed:
                return False
            compressed = True
            i += 1
            if i == n:
                break
        elif i == n:
            return False
    return units <= 6 if compressed else units == 8


def _address_literal(s: bytes) -> bool:
    if len(s) < 3 or s[0] != 0x5B or s[-1] != 0x5D:
        return False
    s = s[1:-1]
    if len(s) > 5 and s.startswith(b"IPv6:"):
        return _ipv6(s[5:])
    return _ipv4(s)


def _email(s: bytes) -> bool:
    n = len(s)
    if n == 0 or n > 254:
        return False
    if s[0] == 0x22:
        local = _quoted(s)
        if not local:
            return False
    else:
        i, prev = 0, 0x2E
        while i < n:
            c = s[i]
            if c == 0x2E:
                if prev == 0x2E:
                    return False
            elif c not in _ATEXT:
                break
            prev = c
            i += 1
        if i == 0 or prev == 0x2E:
            return False
        local = i
    if local > 64 or local >= n or s[local] != 0x40:
        return False
    d = s[local + 1:]
    if d[:1] == b"[":
        return _address_literal(d)
    return _dns(d)


_CHECKS = {"uuid": _uuid, "date-time": _date_time, "date": _date, "time": _time, "time-hm": _time_hm,
           "email": _email}


def format_ok(name: str, value: str) -> bool:
    """True when value is a valid `name` ("uuid", "date-time", ...); an unknown name accepts."""
    check = _CHECKS.get(name)
    return True if check is None else check(value.encode("utf-8", "surrogatepass"))
