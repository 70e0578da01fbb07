"""regex.py: ECMA-262 -> POSIX ERE. Each translation is also compiled and run with the C
library's regcomp/regexec and compared with Python's `re` (close to ECMA-262 for what we accept)."""
import ctypes
import ctypes.util
import re
import unittest

import helpers  # noqa: F401  (sets sys.path)
from mfgen_lib.regex import RegexError, ecma_to_ere

REG_EXTENDED, REG_NOSUB = 1, 8


class _Libc:
    def __init__(self) -> None:
        name = ctypes.util.find_library("c")
        self.lib = ctypes.CDLL(name) if name else None

    def matches(self, ere: str, s: str) -> bool:
        assert self.lib is not None
        buf = ctypes.create_string_buffer(1024)  # larger than any regex_t
        rc = self.lib.regcomp(buf, ere.encode(), REG_EXTENDED | REG_NOSUB)
        if rc != 0:
            raise AssertionError(f"regcomp rejected {ere!r} ({rc})")
        try:
            return self.lib.regexec(buf, s.encode(), 0, None, 0) == 0
        finally:
            self.lib.regfree(buf)


LIBC = _Libc()


class TranslateTest(unittest.TestCase):
    def test_examples(self) -> None:
        cases = {
            r"^\d+\.\d+\.\d+$": r"^[0-9]+\.[0-9]+\.[0-9]+$",
            r"^[a-z]{2}-[A-Z]{2}$": r"^[a-z]{2}-[A-Z]{2}$",
            r"^(?:ab)+$": r"^(ab)+$",
            r"^(?<year>\d{4})$": r"^([0-9]{4})$",
            r"a\/b": "a/b",
            r"[\w.-]+": "[.0-9A-Z_a-z-]+",
            r"[a\-z]": "[az-]",
            r"[\]\-^]": "[]^-]",
            r"x{,3}": r"x\{,3}",
            r"^(a|)$": r"^(a)?$",
            r"(a|)*": r"((a)?)*",
            r"a()b": "ab",
            "": "^",
        }
        for src, want in cases.items():
            self.assertEqual(ecma_to_ere(src), want, src)

    def test_rejected(self) -> None:
        bad = {
            r"(?=a)": "lookahead", r"(?!a)": "lookahead", r"(?<=a)b": "lookbehind",
            r"(?<!a)b": "lookbehind", r"a*?": "non-greedy", r"a+?": "non-greedy",
            r"a{1,2}?": "non-greedy", r"(a)\1": "backreference", r"\k<n>": "named backreference",
            r"\bword": "word boundary", r"\p{L}": "Unicode property", r"[]": "empty character class",
            r"[^]": "empty character class", r"[\D]": "inside a character class", r"[é]": "non-ASCII",
            r"a**": "nothing to repeat", r"*a": "nothing to repeat", r"(a": "unbalanced",
            r"a)": "unexpected", r"\q": "unknown escape", r"x{300}": "RE_DUP_MAX", r"\0": "NUL",
            r"[z-a]": "out of order", r"\u{41}": "'u' flag", "a\\": "lone backslash",
        }
        for src, why in bad.items():
            with self.assertRaises(RegexError, msg=src) as cm:
                ecma_to_ere(src)
            self.assertIn(why, cm.exception.message, src)

    @unittest.skipIf(LIBC.lib is None, "no C library found")
    def test_same_matches_as_ecma(self) -> None:
        patterns = [
            r"^\d+\.\d+\.\d+$", r"^[a-z]{2}-[A-Z]{2}$", r"^#[0-9a-f]{6}$", r"^[A-Z]{3}-\d{4}$",
            r"^\S+@\S+$", r"^[^\s,]+(,[^\s,]+)*$", r"\d{2,}", r"^(foo|bar)?baz$", r"^a.c$",
            r"[\]\-^]", r"^[\w.-]+$", r"^\$\d+(\.\d\d)?$", r"^\(\d{3}\) \d{3}-\d{4}$",
            r"^(a|)b$", r"^(a|b|)+c$", r"^\x41\u0042C$", r"^[\x30-\x39]+$", r"^\t\n?$",
            r"^[+*?{}()|]+$", r"^[\\]$", r"^[[]$", r"^[-^]+$",
        ]
        subjects = ["1.2.3", "1.22.333", "1.2", "fr-FR", "FR-fr", "#a0b1c2", "#A0B1C2", "ABC-1234",
                    "a@b", "a @b", "a,b,c", "a,,b", "12", "1", "baz", "foobaz", "fobaz", "abc",
                    "a\nc", "]", "-", "^", "x", "a.b-c_d", "$12.50", "$1.5", "(555) 123-4567",
                    "x{,3}", "xxx", "b", "ab", "aab", "c", "ababc", "ABC", "0123", "\t", "\t\n",
                    "+*?{}()|", "\\", "[", "-^-", ""]
        for p in patterns:
            ere = ecma_to_ere(p)
            for s in subjects:
                want = re.search(p, s) is not None
                self.assertEqual(LIBC.matches(ere, s), want, f"{p!r} -> {ere!r} on {s!r}")


if __name__ == "__main__":
    unittest.main()
