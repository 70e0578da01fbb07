"""Bad specs never produce C: exit 1 with `file:line:col: error: ...`, `at: JSON-PATH` and a hint.

Each tests/specs/bad/*.yaml starts with comments saying what mfgen must report:
  # expect-error: <text of the message>
  # expect-at: <JSON pointer>          (empty: no `at:` line checked)
  # expect-loc: <line>:<col>
"""
import contextlib
import copy
import glob
import io
import os
import re
import tempfile
import unittest
from typing import Any, Dict, List, Tuple

import yaml

from helpers import SPECS, run_mfgen
from mfgen_lib import cli, keyword_types

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


# A small valid document with one object of every kind the keyword tables name; KIND_AT says
# where each kind is (its JSON path).
GOOD: Dict[str, Any] = {
    "asyncapi": "3.0.0",
    "info": {"title": "T", "version": "1.0.0", "tags": [{"name": "Desk", "x-service": "svc"}]},
    "channels": {
        "c": {"address": "a.{p}", "parameters": {"p": {"description": "d"}},
              "messages": {"M": {"$ref": "#/components/messages/M"}}},
        "r": {"address": "a.reply", "messages": {"R": {"$ref": "#/components/messages/R"}}},
    },
    "operations": {"o": {"action": "receive", "x-service": "svc", "channel": {"$ref": "#/channels/c"},
                         "messages": [{"$ref": "#/channels/c/messages/M"}],
                         "reply": {"channel": {"$ref": "#/channels/r"}}}},
    "components": {
        "messages": {"M": {"payload": {"$ref": "#/components/schemas/S"},
                           "examples": [{"name": "e", "payload": {"s": "x"}}]},
                     "R": {"payload": {"type": "string"}}},
        "schemas": {"S": {"type": "object", "properties": {"s": {"type": "string"}}}},
    },
}
KIND_AT: Dict[str, List[Any]] = {
    "document": [], "info": ["info"], "tag": ["info", "tags", 0], "components": ["components"], "channel": ["channels", "c"],
    "parameter": ["channels", "c", "parameters", "p"], "message": ["components", "messages", "M"],
    "example": ["components", "messages", "M", "examples", 0], "operation": ["operations", "o"],
    "reply": ["operations", "o", "reply"], "schema": ["components", "schemas", "S", "properties", "s"],
}
CANDIDATES: List[Any] = [[], {}, "x", 7, True, None, 1.5, ["a", 1], {"a": 1}]


def pointer(path: List[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def wrong_values(ok: Any) -> List[Any]:
    """Values of other JSON types that the keyword's check refuses (at most three)."""
    return [v for v in CANDIDATES if not ok(v)][:3]


class KeywordTypeTest(unittest.TestCase):
    """Every keyword mfgen reads, given a value of the wrong type, is refused with file, line,
    column and JSON path: exit 1, one error, never a traceback (issue: `format: []` raised a
    TypeError)."""

    def run_gen(self, doc: Dict[str, Any], tmp: str) -> Tuple[int, str]:
        spec = os.path.join(tmp, "spec.yaml")
        with open(spec, "w", encoding="utf-8") as f:
            yaml.safe_dump(doc, f, sort_keys=False)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = cli.main([spec, "-o", os.path.join(tmp, "out"), "-q"])
        return rc, err.getvalue()

    def test_good_document(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            rc, err = self.run_gen(GOOD, tmp)
        self.assertEqual(rc, 0, err)

    def test_every_keyword_of_a_wrong_type(self) -> None:
        tables = [("schema", "schema keyword", keyword_types.SCHEMA_KEYWORDS)] + \
                 [(kind, f"{kind} member", t) for kind, t in sorted(keyword_types.OBJECTS.items())]
        count = 0
        with tempfile.TemporaryDirectory() as tmp:
            for kind, what, table in tables:
                for key, (ok, want) in sorted(table.items()):
                    for bad in wrong_values(ok):
                        with self.subTest(kind=kind, key=key, value=bad):
                            doc = copy.deepcopy(GOOD)
                            target = doc
                            for p in KIND_AT[kind]:
                                target = target[p]
                            target[key] = copy.deepcopy(bad)
                            rc, err = self.run_gen(doc, tmp)
                            count += 1
                            self.assertEqual(rc, 1, err)
                            self.assertNotIn("Traceback", err)
                            message = f"{what} '{key}' must be {want}, found {keyword_types.found(bad)}"
                            if key == "x-c-name":  # its own check comes first
                                message = "x-c-name must be a C identifier"
                            self.assertRegex(err, r"(?m)^\S*spec\.yaml:\d+:\d+: error: " + re.escape(message))
                            self.assertRegex(err, r"(?m)^  at: " + re.escape(pointer(KIND_AT[kind] + [key])) + "$")
                            self.assertIn("mfgen: 1 error in", err)
        self.assertGreater(count, 200)


if __name__ == "__main__":
    unittest.main()
