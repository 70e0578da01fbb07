"""Output is byte-identical across runs, hash seeds, working directories, locales and
interpreters; the committed generated/ and docs/flow/ are exactly what mfgen makes of
asyncapi.yaml; generation is fast.

"Committed" means what git holds (the index: HEAD plus what is staged), not the working tree:
the build regenerates generated/ and docs/flow/ in the source tree before the tests run, so the
working tree is always fresh and comparing it would prove nothing."""
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from typing import Dict, List, Optional, Tuple

from helpers import GOOD_SPECS, MFGEN, ROOT, SPECS, read_tree, run_mfgen

CONTRACT = os.path.join(ROOT, "asyncapi.yaml")


class DeterminismTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="mfgen-det-")

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_identical_across_seeds_and_cwds(self) -> None:
        for rel, prefix in [("../../asyncapi.yaml", "mf")] + GOOD_SPECS:
            spec = os.path.normpath(os.path.join(SPECS, rel))
            with self.subTest(spec=rel):
                a = os.path.join(self.tmp, prefix + "-a")
                b = os.path.join(self.tmp, prefix + "-b")
                ra = run_mfgen([spec, "-o", a, "--prefix", prefix], cwd=ROOT, env={"PYTHONHASHSEED": "0"})
                os.makedirs(os.path.join(self.tmp, "elsewhere"), exist_ok=True)
                rb = run_mfgen([os.path.relpath(spec, os.path.join(self.tmp, "elsewhere")), "-o", b,
                                "--prefix", prefix], cwd=os.path.join(self.tmp, "elsewhere"),
                               env={"PYTHONHASHSEED": "4242"})
                self.assertEqual(ra.returncode, 0, ra.stderr)
                self.assertEqual(rb.returncode, 0, rb.stderr)
                ta, tb = read_tree(a), read_tree(b)
                self.assertEqual(sorted(ta), sorted(tb))
                for k in ta:
                    self.assertEqual(ta[k], tb[k], k)
                r = run_mfgen([spec, "-o", a, "--prefix", prefix, "--check"], env={"PYTHONHASHSEED": "7"})
                self.assertEqual(r.returncode, 0, r.stdout)

    def test_identical_across_interpreters(self) -> None:
        """The current interpreter under another locale without UTF-8 mode, and Debian's
        python3 (its own PyYAML/Jinja2) when it is another interpreter, agree with a plain run."""
        runs = self.interpreters()
        base = os.path.join(self.tmp, "base")
        for rel, prefix in [("../../asyncapi.yaml", "mf")] + GOOD_SPECS:
            spec = os.path.normpath(os.path.join(SPECS, rel))
            r = run_mfgen([spec, "-o", os.path.join(base, prefix), "--prefix", prefix])
            self.assertEqual(r.returncode, 0, r.stderr)
        want = read_tree(base)
        for i, (argv, env, label) in enumerate(runs):
            out = os.path.join(self.tmp, f"run{i}")
            for rel, prefix in [("../../asyncapi.yaml", "mf")] + GOOD_SPECS:
                spec = os.path.normpath(os.path.join(SPECS, rel))
                r = subprocess.run(argv + [MFGEN, spec, "-o", os.path.join(out, prefix), "--prefix", prefix],
                                   capture_output=True, text=True, env={**os.environ, **env}, timeout=120)
                self.assertEqual(r.returncode, 0, f"{label}: {r.stderr}")
            got = read_tree(out)
            self.assertEqual(sorted(got), sorted(want), label)
            for k in want:
                self.assertEqual(got[k], want[k], f"{label}: {k} differs")

    @staticmethod
    def interpreters() -> List[Tuple[List[str], Dict[str, str], str]]:
        runs = [([sys.executable, "-X", "utf8=0"], {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"},
                 "LC_ALL=C, no UTF-8 mode")]
        other = "/usr/bin/python3"
        if os.path.exists(other) and os.path.realpath(other) != os.path.realpath(sys.executable):
            probe = subprocess.run([other, "-c", "import yaml, jinja2"], capture_output=True)
            if probe.returncode != 0:  # scripts/deps.sh installs python3-yaml and python3-jinja2
                raise unittest.SkipTest(f"{other} lacks PyYAML/Jinja2 (apt-get install python3-yaml python3-jinja2)")
            runs.append(([other], {}, other))
        return runs

    def test_committed_generated_is_fresh(self) -> None:
        """generated/ as committed (git's index) equals a fresh generation of asyncapi.yaml
        into a temporary folder."""
        committed = committed_tree("generated")
        fresh = os.path.join(self.tmp, "fresh")
        r = run_mfgen([CONTRACT, "-o", fresh])
        self.assertEqual(r.returncode, 0, r.stderr)
        made = read_tree(fresh)
        hint = ("the committed generated/ is not what mfgen makes of asyncapi.yaml: run "
                "`generator/mfgen asyncapi.yaml -o generated` (the build does it) and commit generated/ "
                "(`git add generated`) with the change to the spec, templates or generator")
        missing = sorted(set(made) - set(committed))
        extra = sorted(set(committed) - set(made))
        stale = sorted(k for k in set(made) & set(committed) if made[k] != committed[k])
        self.assertEqual((missing, extra, stale), ([], [], []),
                         f"{hint}\n  not committed: {missing}\n  committed but no longer generated: {extra}"
                         f"\n  differ: {stale}")

    def test_committed_docs_flow_is_fresh(self) -> None:
        """docs/flow/ as committed is what `mfgen docs` makes of asyncapi.yaml. The document has
        state (the contract snapshot and changelog), so the committed tree is copied into a
        temporary folder, next to the committed generated/ it links to, and checked there."""
        view = os.path.join(self.tmp, "view")
        write_tree(os.path.join(view, "docs", "flow"), committed_tree("docs/flow"))
        write_tree(os.path.join(view, "generated"), committed_tree("generated"))
        r = run_mfgen(["docs", CONTRACT, "-o", os.path.join(view, "docs", "flow"),
                       "--sdk", os.path.join(view, "generated"), "--check"])
        self.assertEqual(r.returncode, 0,
                         "the committed docs/flow/ is not what `mfgen docs` makes of asyncapi.yaml: build "
                         "(or run `generator/mfgen docs asyncapi.yaml -o docs/flow`) and commit docs/flow/\n"
                         + r.stdout + r.stderr)


def write_tree(root: str, files: Dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def git(args: List[str], stdin: Optional[bytes] = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", ROOT] + args, input=stdin, capture_output=True, timeout=60)


def committed_tree(folder: str) -> Dict[str, bytes]:
    """The files of ROOT/folder as git's index holds them (path relative to folder -> bytes).
    Not a git checkout: fails (a skip with MF_ALLOW_SKIP=1, see tests/support/run_unittest.py)."""
    why = ""
    if shutil.which("git") is None:
        why = "git is not installed (scripts/deps.sh installs it)"
    else:
        top = git(["rev-parse", "--show-toplevel"])
        if top.returncode != 0 or os.path.realpath(top.stdout.decode().strip()) != os.path.realpath(ROOT):
            why = f"{ROOT} is not a git checkout"
    if why:
        msg = f"cannot tell what is committed: {why}; this test compares git's {folder}/ with a fresh generation"
        if os.environ.get("MF_ALLOW_SKIP") == "1":
            raise unittest.SkipTest(msg)
        raise AssertionError(msg + " (set MF_ALLOW_SKIP=1 to report it as skipped instead)")
    listing = git(["ls-files", "-z", "--stage", "--", folder])
    if listing.returncode != 0:
        raise AssertionError(f"git ls-files {folder}: {listing.stderr.decode()}")
    entries = []  # (object id, path)
    for rec in listing.stdout.split(b"\0"):
        if rec:
            meta, path = rec.split(b"\t", 1)
            entries.append((meta.split()[1], path.decode()))
    if not entries:
        raise AssertionError(f"git tracks no file under {folder}/")
    batch = git(["cat-file", "--batch"], stdin=b"".join(oid + b"\n" for oid, _ in entries))
    if batch.returncode != 0:
        raise AssertionError(f"git cat-file: {batch.stderr.decode()}")
    out, data, pos = {}, batch.stdout, 0
    for oid, path in entries:
        header_end = data.index(b"\n", pos)
        size = int(data[pos:header_end].split()[2])
        out[os.path.relpath(path, folder)] = data[header_end + 1:header_end + 1 + size]
        pos = header_end + 1 + size + 1  # the content is followed by a newline
    return out


def synth_spec(n_messages: int, n_enums: int) -> str:
    out = ["asyncapi: 3.0.0", "info: {title: Synth, version: 1.0.0}", "channels:"]
    for i in range(n_messages):
        out += [f"  ch{i}:", f"    address: synth.{{id}}.m{i}", "    parameters:", "      id: {x-format: uuid}",
                "    messages:", f"      Msg{i}: {{$ref: '#/components/messages/Msg{i}'}}"]
    out.append("operations:")
    for i in range(n_messages):
        out += [f"  send{i}:", "    action: send", f"    x-service: svc{i % 5}",
                f"    channel: {{$ref: '#/channels/ch{i}'}}"]
    out += ["components:", "  messages:"]
    for i in range(n_messages):
        out += [f"    Msg{i}:", f"      payload: {{$ref: '#/components/schemas/Msg{i}'}}",
                "      examples:", "        - name: ex", f"          payload: {{id: {i}, kind: v0}}"]
    out.append("  schemas:")
    for i in range(n_enums):
        out += [f"    Enum{i}:", "      type: string", "      enum: [" + ", ".join(f"v{j}" for j in range(8)) + "]"]
    for i in range(n_messages):
        out += [f"    Msg{i}:", "      type: object", "      required: [id, kind]", "      properties:",
                "        id: {type: integer, minimum: 0}", f"        kind: {{$ref: '#/components/schemas/Enum{i % n_enums}'}}",
                "        name: {type: string, maxLength: 64, pattern: '^[a-z]+$'}",
                "        at: {type: string, format: date-time}",
                "        tags: {type: array, items: {type: string}}",
                "        extra: {type: object, additionalProperties: {type: number}}",
                "        nested:", "          type: object", "          properties:",
                "            a: {type: boolean, default: true}",
                "            b: {type: string, enum: [x, y, z]}"]
    return "\n".join(out) + "\n"


class LargeSpecTest(unittest.TestCase):
    """A contract of 50 messages and 50 enums generates, twice identically. How long it
    takes is measured in bench/, not timed here (the machine may be loaded); run_mfgen's
    timeout only stops a hang."""

    def test_50_messages_50_enums(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            spec = os.path.join(tmp, "synth.yaml")
            with open(spec, "w") as f:
                f.write(synth_spec(50, 50))
            outs = []
            for name in ("a", "b"):
                out = os.path.join(tmp, name)
                r = run_mfgen([spec, "-o", out, "-q"])
                self.assertEqual(r.returncode, 0, r.stderr)
                outs.append(out)
            cmp = filecmp.dircmp(outs[0], outs[1])
            self.assertEqual(tree_diff(cmp), [])
            self.assertTrue(os.path.exists(os.path.join(outs[0], "include")))


def tree_diff(cmp: "filecmp.dircmp[str]") -> list:
    """Every path that differs between the two trees (missing on a side or unequal)."""
    diffs = list(cmp.left_only) + list(cmp.right_only) + list(cmp.diff_files)
    for sub in cmp.subdirs.values():
        diffs += tree_diff(sub)
    return sorted(diffs)


if __name__ == "__main__":
    unittest.main()
