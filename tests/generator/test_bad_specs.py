"""Bad specs never produce C: exit 1 with `file:line:col: error: ...`, `at: JSON-PATH` and a hint.

Each tests/specs/bad/*.yaml starts with comments saying what mfgen must report:
  # expect-error: <text of the message>
  # expect-at: <JSON pointer>          (empty: no `at:` line checked)
  # expect-loc: <line>:<col>
"""
import glob
import os
import re
import tempfile
import unittest

from helpers import SPECS, run_mfgen

BAD = os.path.join(SPECS, "bad")


def expectations(path: str) -> dict:
    want = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^# expect-(error|at|loc): ?(.*)$", line.rstrip("\n"))
            if not m:
                break
            want[m.group(1)] = m.group(2)
    return want


class BadSpecTest(unittest.TestCase):
    def check(self, name: str) -> None:
        path = os.path.join(BAD, name)
        want = expectations(path)
        self.assertIn("error", want, f"{name} has no '# expect-error:' line")
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out")
            r = run_mfgen([name, "-o", out], cwd=BAD)
            self.assertEqual(r.returncode, 1, f"{name}: exit {r.returncode}\n{r.stderr}")
            self.assertFalse(os.path.exists(out), f"{name}: something was written")
        first = f"{name}:{want['loc']}: error: " if want.get("loc") else f"{name}:"
        self.assertIn(first + (want["error"] if want.get("loc") else ""), r.stderr, r.stderr)
        self.assertIn(want["error"], r.stderr)
        if want.get("at"):
            self.assertRegex(r.stderr, r"(?m)^  at: " + re.escape(want["at"]) + "$")
        self.assertRegex(r.stderr, r"(?m)^  hint: \S", f"{name}: no hint\n{r.stderr}")
        self.assertIn("nothing written", r.stderr)
        # each bad spec has one fault: it is reported once, without follow-on errors (issue 6:
        # one bad schema used to bring 8-20 "duplicate C name ... at X and at X")
        self.assertIn(f"mfgen: 1 error in {name};", r.stderr, r.stderr)

    def test_every_bad_spec(self) -> None:
        names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(BAD, "*.yaml")))
        self.assertGreaterEqual(len(names), 30)
        for name in names:
            with self.subTest(spec=name):
                self.check(name)

    def test_bad_json(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            r = run_mfgen(["json_syntax.json", "-o", os.path.join(tmp, "o")], cwd=BAD)
        self.assertEqual(r.returncode, 1)
        self.assertIn("json_syntax.json:3:39: error: JSON syntax error", r.stderr)

    def test_several_errors_reported_together(self) -> None:
        spec = """asyncapi: 3.0.0
info: {title: T, version: '1'}
channels:
  a:
    address: x.{id}
  b:
    address: y
    parameters:
      q: {}
"""
        with tempfile.TemporaryDirectory() as tmp:
            p = os.path.join(tmp, "two.yaml")
            with open(p, "w") as f:
                f.write(spec)
            r = run_mfgen(["two.yaml", "-o", "out"], cwd=tmp)
        self.assertEqual(r.returncode, 1)
        self.assertIn("two.yaml:5:14: error: address parameter '{id}'", r.stderr)
        self.assertIn("two.yaml:9:10: error: parameter 'q' does not appear", r.stderr)
        self.assertIn("2 errors", r.stderr)


if __name__ == "__main__":
    unittest.main()
