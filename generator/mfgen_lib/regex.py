"""ECMA-262 `pattern` -> POSIX extended regular expression (ERE) for regcomp(REG_EXTENDED).

The schema's `pattern` is an ECMA-262 regular expression matched anywhere in the string (not
implicitly anchored); regexec() also searches, so anchors are kept as written.

Translated:
  literals, `.`, `^`, `$`, `|`, groups `(...)`, `(?:...)` and `(?<name>...)` (both become plain
  groups: capturing does not change what matches), greedy quantifiers `* + ? {n} {n,} {n,m}`
  (m <= 255, RE_DUP_MAX), character classes with ranges and negation, the escapes
  `\\d \\D \\w \\W \\s \\S` (ASCII sets: \\s is space, \\t, \\n, \\v, \\f, \\r), `\\n \\r \\t \\v \\f`,
  `\\cX`, `\\xHH`, `\\uHHHH`, and escaped punctuation. An empty alternative `(a|)` becomes `(a)?`.
  A `{` that does not start a quantifier is a literal (ECMA-262 Annex B).
Rejected with an error (no ERE equivalent): lookahead/lookbehind, backreferences (`\\1`, `\\k<n>`),
  non-greedy quantifiers (`*?` ...), word boundaries `\\b \\B`, Unicode property escapes `\\p{..}`,
  `\\u{...}`, `\\0` (a NUL never occurs in a decoded string), empty classes `[]` and `[^]`,
  `\\D \\W \\S` inside a class, non-ASCII characters inside a class, unknown letter escapes.
Semantics: `.` becomes `[^\n\r]` (ECMA-262's `.` does not match line terminators; U+2028/U+2029
are not excluded). `.` and negated classes match one character of the locale regcomp runs in (one
byte in the C locale, one UTF-8 sequence in a UTF-8 locale).
"""
from __future__ import annotations

from typing import List, Optional, Set, Tuple

RE_DUP_MAX = 255
_ERE_SPECIAL = set(".[\\()*+?{|^$")
_ECMA_SYNTAX = set("^$\\.*+?()[]{}|/")
_SPACES = " \t\n\v\f\r"
_DIGITS = "0123456789"
_WORD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"


class RegexError(Exception):
    """An ECMA-262 construct that cannot be translated (or a syntax error)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at offset {offset})")
        self.message = message
        self.offset = offset


def _lit(ch: str) -> str:
    """One literal character as ERE text outside a bracket expression."""
    if ch == "\0":
        raise RegexError("a NUL character cannot appear in a pattern", 0)
    return "\\" + ch if ch in _ERE_SPECIAL else ch


def _bracket(chars: Set[str], negated: bool) -> str:
    """A POSIX bracket expression for a set of ASCII characters (NUL dropped).

    Layout: ']' first, then runs/characters, then '^' (never first unless negated), then '['
    (so it is followed by '-' or ']' and never starts "[." "[:" "[="), then '-' last.
    """
    chars = set(chars)
    chars.discard("\0")
    if not negated and len(chars) == 1:
        return _lit(next(iter(chars)))
    if not chars:
        raise RegexError("a character class that matches nothing is not supported", 0)
    special = {"]", "^", "-", "["}
    body: List[str] = []
    if "]" in chars:
        body.append("]")
    codes = sorted(ord(c) for c in chars if c not in special)
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        if j - i >= 2:
            body.append(f"{chr(codes[i])}-{chr(codes[j])}")
        else:
            body.extend(chr(c) for c in codes[i : j + 1])
        i = j + 1
    caret_done = False
    if "^" in chars and (body or negated):
        body.append("^")
        caret_done = True
    if "[" in chars:
        body.append("[")
    if "^" in chars and not caret_done:
        if not body:  # the set is exactly {'^', '-'}
            return "[-^]"
        body.append("^")
    if "-" in chars:
        body.append("-")
    return "[" + ("^" if negated else "") + "".join(body) + "]"


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.i = 0

    # -- helpers ---------------------------------------------------------------------------
    def peek(self, k: int = 0) -> Optional[str]:
        j = self.i + k
        return self.src[j] if j < len(self.src) else None

    def err(self, msg: str, at: Optional[int] = None) -> RegexError:
        return RegexError(msg, self.i if at is None else at)

    # -- grammar ---------------------------------------------------------------------------
    def parse(self) -> str:
        if self.src == "":
            return "^"
        text, has_empty, all_empty = self.disjunction()
        if self.i < len(self.src):
            raise self.err(f"unexpected '{self.src[self.i]}'")
        if all_empty:
            return "^"
        return f"({text})?" if has_empty else text

    def disjunction(self) -> Tuple[str, bool, bool]:
        """Returns (ERE of the non-empty alternatives, any alternative empty, all empty)."""
        alts = [self.alternative()]
        while self.peek() == "|":
            self.i += 1
            alts.append(self.alternative())
        nonempty = [a for a in alts if a != ""]
        return "|".join(nonempty), len(nonempty) != len(alts), not nonempty

    def alternative(self) -> str:
        out: List[str] = []
        while self.peek() is not None and self.peek() not in "|)":
            out.append(self.term())
        return "".join(out)

    def term(self) -> str:
        ch = self.peek()
        if ch in ("^", "$"):
            self.i += 1
            if self.quantifier_ahead():
                raise self.err("a quantifier cannot follow an anchor")
            return ch
        if ch == "\\" and self.peek(1) in ("b", "B"):
            raise self.err(f"word boundary \\{self.peek(1)} is not supported (no POSIX ERE equivalent)")
        if ch == "(" and self.peek(1) == "?" and self.peek(2) in ("=", "!"):
            raise self.err("lookahead is not supported (POSIX ERE has no lookaround)")
        if ch == "(" and self.peek(1) == "?" and self.peek(2) == "<" and self.peek(3) in ("=", "!"):
            raise self.err("lookbehind is not supported (POSIX ERE has no lookaround)")
        atom, empty = self.atom()
        q = self.quantifier()
        if empty:
            return ""  # an empty group matches the empty string, repeated or not
        return atom + q

    def quantifier_ahead(self) -> bool:
        ch = self.peek()
        if ch in ("*", "+", "?"):
            return True
        return ch == "{" and self._brace_quant() is not None

    def _brace_quant(self) -> Optional[Tuple[int, Optional[int], int]]:
        """Parses {n}, {n,}, {n,m} at self.i without consuming: (n, m or None/-1, length)."""
        j = self.i + 1
        s = self.src

        def num(k: int) -> Tuple[Optional[int], int]:
            st = k
            while k < len(s) and s[k].isdigit():
                k += 1
            return (int(s[st:k]) if k > st else None), k

        n, j = num(j)
        if n is None:
            return None
        if j < len(s) and s[j] == "}":
            return n, n, j + 1 - self.i
        if j < len(s) and s[j] == ",":
            m, k = num(j + 1)
            if k < len(s) and s[k] == "}":
                return n, (m if m is not None else -1), k + 1 - self.i
        return None

    def quantifier(self) -> str:
        ch = self.peek()
        if ch in ("*", "+", "?"):
            self.i += 1
            q = ch
        elif ch == "{" and self._brace_quant() is not None:
            n, m, length = self._brace_quant()  # type: ignore[misc]
            if m is not None and m != -1 and m < n:
                raise self.err(f"quantifier {{{n},{m}}} has max < min")
            if n > RE_DUP_MAX or (m is not None and m > RE_DUP_MAX):
                raise self.err(f"quantifier bound above {RE_DUP_MAX} (RE_DUP_MAX) is not supported")
            self.i += length
            q = f"{{{n}}}" if m == n else (f"{{{n},}}" if m == -1 else f"{{{n},{m}}}")
        else:
            return ""
        if self.peek() == "?":
            raise self.err("non-greedy quantifiers are not supported (POSIX ERE is greedy only)")
        if self.quantifier_ahead():
            raise self.err("nothing to repeat (two quantifiers in a row)")
        return q

    def atom(self) -> Tuple[str, bool]:
        """Returns (ERE text, is an empty group)."""
        ch = self.peek()
        if ch is None:
            raise self.err("pattern ends unexpectedly")
        if ch in ("*", "+", "?"):
            raise self.err("nothing to repeat")
        if ch == "{" and self._brace_quant() is not None:
            raise self.err("nothing to repeat")
        if ch == ".":
            self.i += 1
            return "[^\n\r]", False  # ECMA-262 '.' stops at line terminators; POSIX '.' does not
        if ch == "(":
            return self.group()
        if ch == ")":
            raise self.err("unbalanced ')'")
        if ch == "[":
            return self.char_class(), False
        if ch == "\\":
            return self.atom_escape(), False
        self.i += 1
        if ch == "{":
            return "\\{", False
        return _lit(ch), False

    def group(self) -> Tuple[str, bool]:
        start = self.i
        self.i += 1
        if self.peek() == "?":
            if self.peek(1) == ":":
                self.i += 2
            elif self.peek(1) == "<":
                j = self.src.find(">", self.i)
                name = self.src[self.i + 2 : j] if j > 0 else ""
                if j < 0 or not name or not all(c.isalnum() or c in "_$" for c in name):
                    raise self.err("bad named group")
                self.i = j + 1
            else:
                raise self.err(f"unsupported group syntax '(?{self.peek(1) or ''}'")
        text, has_empty, all_empty = self.disjunction()
        if self.peek() != ")":
            raise self.err("unbalanced '('", start)
        self.i += 1
        if all_empty:
            return "", True
        if has_empty:
            inner = f"({text})?"
            # a following quantifier needs one more group around the optional group
            return (f"({inner})" if self.quantifier_ahead() else inner), False
        return f"({text})", False

    # -- escapes -----------------------------------------------------------------------------
    def _escape_char(self, in_class: bool) -> Tuple[str, Optional[str]]:
        """Parses an escape at self.i ('\\' included). Returns ('char', c) or ('class', name)."""
        at = self.i
        self.i += 1
        c = self.peek()
        if c is None:
            raise self.err("pattern ends with a lone backslash", at)
        self.i += 1
        if c in "dDwWsS":
            return "class", c
        simple = {"n": "\n", "r": "\r", "t": "\t", "v": "\v", "f": "\f"}
        if c in simple:
            return "char", simple[c]
        if c == "b" and in_class:
            return "char", "\b"
        if c == "0" and not (self.peek() or "").isdigit():
            raise self.err("\\0 (NUL) is not supported: decoded strings never contain NUL", at)
        if c.isdigit():
            raise self.err("backreferences are not supported (POSIX ERE has none)", at)
        if c == "k" and self.peek() == "<":
            raise self.err("named backreferences are not supported", at)
        if c in ("p", "P") and self.peek() == "{":
            raise self.err("Unicode property escapes are not supported", at)
        if c == "c":
            x = self.peek()
            if x is None or not x.isascii() or not x.isalpha():
                raise self.err("bad \\c escape", at)
            self.i += 1
            return "char", chr(ord(x) % 32)
        if c == "x":
            h = self.src[self.i : self.i + 2]
            if len(h) != 2 or not all(ch in "0123456789abcdefABCDEF" for ch in h):
                raise self.err("bad \\x escape (two hex digits needed)", at)
            self.i += 2
            return "char", self._nonnul(chr(int(h, 16)), at)
        if c == "u":
            if self.peek() == "{":
                raise self.err("\\u{...} needs the 'u' flag, which JSON Schema patterns lack", at)
            h = self.src[self.i : self.i + 4]
            if len(h) != 4 or not all(ch in "0123456789abcdefABCDEF" for ch in h):
                raise self.err("bad \\u escape (four hex digits needed)", at)
            self.i += 4
            cp = int(h, 16)
            if 0xD800 <= cp <= 0xDFFF:
                raise self.err("surrogate \\u escapes are not supported", at)
            return "char", self._nonnul(chr(cp), at)
        if c.isascii() and c.isalnum():
            raise self.err(f"unknown escape '\\{c}'", at)
        return "char", c  # escaped punctuation or another character: itself

    def _nonnul(self, ch: str, at: int) -> str:
        if ch == "\0":
            raise self.err("a NUL character is not supported in a pattern", at)
        return ch

    def atom_escape(self) -> str:
        kind, v = self._escape_char(in_class=False)
        assert v is not None
        if kind == "class":
            return _bracket(_class_set(v.lower()), negated=v.isupper())
        return _lit(v)

    def char_class(self) -> str:
        start = self.i
        self.i += 1
        negated = False
        if self.peek() == "^":
            negated = True
            self.i += 1
        items: Set[str] = set()
        first = True
        while True:
            c = self.peek()
            if c is None:
                raise self.err("unterminated character class", start)
            if c == "]":
                if first:
                    raise self.err("empty character class is not supported", start)
                self.i += 1
                break
            first = False
            lo_kind, lo = self._class_atom()
            if self.peek() == "-" and self.peek(1) not in (None, "]"):
                dash_at = self.i
                self.i += 1
                hi_kind, hi = self._class_atom()
                if lo_kind == "class" or hi_kind == "class":
                    raise self.err("a class escape cannot be a range endpoint", dash_at)
                assert lo is not None and hi is not None
                if ord(lo) > ord(hi):
                    raise self.err("character range out of order", dash_at)
                for cp in range(ord(lo), ord(hi) + 1):
                    items.add(self._ascii(chr(cp), start))
                continue
            assert lo is not None
            if lo_kind == "class":
                if lo.isupper():
                    raise self.err(f"\\{lo} inside a character class is not supported", start)
                items |= _class_set(lo)
            else:
                items.add(self._ascii(lo, start))
        return _bracket(items, negated)

    def _ascii(self, ch: str, at: int) -> str:
        if not ch.isascii():
            raise self.err("non-ASCII characters inside a character class are not supported", at)
        return ch

    def _class_atom(self) -> Tuple[str, Optional[str]]:
        c = self.peek()
        if c == "\\":
            return self._escape_char(in_class=True)
        self.i += 1
        return "char", c


def _class_set(name: str) -> Set[str]:
    return set({"d": _DIGITS, "w": _WORD, "s": _SPACES}[name])


def ecma_to_ere(src: str) -> str:
    """Translates an ECMA-262 pattern; raises RegexError for unsupported constructs."""
    return _Parser(src).parse()
