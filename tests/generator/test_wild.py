"""The corpus of public AsyncAPI 3.0 documents in tests/specs/wild/ (see its README.md).

Every document is generated with the prefix its entry in expected.json names; the outcome must
be the one recorded there: "ok", or "refused" with the expected error text (payload formats
mfgen does not generate, examples that do not validate, ...). Every SDK that generates is then
built in one CMake project (with the runtime minus its transport, -O0) with -Wall -Wextra
-Werror, its headers (the typed API included) compiled in a probe, and its `<prefix>-validate`
run on every example of the document: each must validate and round-trip. Finally the example checker mfgen runs in
Python (generator/mfgen_lib/examples.py) and the generated C validator must agree on variants
of every example (a member dropped, a member of another JSON type, ...).
"""
import contextlib
import copy
import glob
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from typing import Any, Dict, List, Optional, Tuple

from helpers import RUNTIME, SPECS

from mfgen_lib.cli import main as mfgen_main
from mfgen_lib.examples import check_payload

WILD = os.path.join(SPECS, "wild")
JOBS = max(2, os.cpu_count() or 2)


def generate(spec: str, out: str, prefix: str, extra: List[str]) -> Tuple[int, str]:
    """mfgen in this process (one interpreter for the whole corpus): (exit status, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = mfgen_main([spec, "-o", out, "--prefix", prefix, "-q"] + extra)
    return rc, err.getvalue()


def manifest() -> List[Dict[str, str]]:
    with open(os.path.join(WILD, "expected.json"), encoding="utf-8") as f:
        return json.load(f)["documents"]


def sh(cmd: List[str], cwd: str, timeout: int = 1200) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)


def example_key(path: str) -> str:
    """examples/<MessageKey>.<example>.json: the example name has no '.', the key may."""
    return os.path.basename(path)[: -len(".json")].rsplit(".", 1)[0]


def other_type(v: Any) -> Any:
    """A value of another JSON type than v."""
    if isinstance(v, bool):
        return "yes"
    if isinstance(v, (int, float)):
        return "7"
    if isinstance(v, str):
        return 7
    if isinstance(v, list):
        return {"x": 1}
    if isinstance(v, dict):
        return ["x"]
    return 0


def variants(payload: Any) -> List[Any]:
    """Deterministic changes of an example, valid or not: the checker and the validator must agree."""
    out: List[Any] = [[] if not isinstance(payload, list) else {}, None, "text", 1.5]
    targets: List[Tuple[Any, str]] = []
    if isinstance(payload, dict):
        targets = [(payload, k) for k in list(payload)[:4]]
        for k, v in list(payload.items())[:4]:
            if isinstance(v, dict):
                targets += [(v, kk) for kk in list(v)[:2]]
            elif isinstance(v, list) and v and isinstance(v[0], dict):
                targets += [(v[0], kk) for kk in list(v[0])[:2]]
    for i, (obj, k) in enumerate(targets):
        for change in ("drop", "retype", "null", "extra"):
            p = copy.deepcopy(payload)
            o = p
            # find the copy of obj: same path as in payload
            o = _find(p, payload, obj)
            if change == "drop":
                del o[k]
            elif change == "retype":
                o[k] = other_type(o[k])
            elif change == "null":
                o[k] = None
            else:
                o["zz_unknown_member"] = True
            out.append(p)
    return out


def _find(copy_root: Any, root: Any, target: Any) -> Any:
    if root is target:
        return copy_root
    if isinstance(root, dict):
        for k, v in root.items():
            got = _find(copy_root[k], v, target)
            if got is not None:
                return got
    if isinstance(root, list):
        for i, v in enumerate(root):
            got = _find(copy_root[i], v, target)
            if got is not None:
                return got
    return None


def python_models(spec: str, prefix: str, options: List[str]) -> Dict[str, Any]:
    """Message key -> payload CType, built in this process by the pipeline mfgen runs."""
    service: Optional[str] = options[options.index("--service") + 1] if "--service" in options else None
    from mfgen_lib.errors import Diagnostics
    from mfgen_lib.load import DocStore
    from mfgen_lib.resolve import Resolver
    from mfgen_lib.sdk import build_sdk
    from mfgen_lib.spec_check import SpecChecker

    diag = Diagnostics()
    store = DocStore()
    res = Resolver(store, store.load_main(spec))
    res.check_all(diag)
    plan = SpecChecker(res, diag, service).run()
    sdk, _ = build_sdk(plan, res, prefix, os.path.basename(spec), diag)
    assert not diag.errors, [str(e) for e in diag.errors]
    return {m.key: m.payload for m in sdk.messages}


class WildCorpusTest(unittest.TestCase):
    tmp = ""
    docs: List[Dict[str, str]] = []
    results: Dict[str, subprocess.CompletedProcess] = {}
    built: subprocess.CompletedProcess

    @classmethod
    def setUpClass(cls) -> None:
        for tool in ("cmake", "cc"):
            if shutil.which(tool) is None:
                raise AssertionError(f"{tool} is missing: install the packages scripts/deps.sh lists")
        cls.tmp = tempfile.mkdtemp(prefix="mfgen-wild-")
        cls.docs = manifest()
        sys.setrecursionlimit(10000)  # as generator/mfgen does
        cls.results = {}
        cls.retried = {}
        for d in cls.docs:
            spec = os.path.join(WILD, d["doc"])
            cls.results[d["prefix"]] = generate(spec, cls.out(d), d["prefix"], [])
            if d.get("then"):  # refused as it is; generated with these options
                cls.retried[d["prefix"]] = generate(spec, cls.out(d), d["prefix"], d["then"])
        cls.ok = [d for d in cls.docs if (cls.retried.get(d["prefix"]) or cls.results[d["prefix"]])[0] == 0]
        cls.built = cls.build(cls.ok)
        cls.bin = os.path.join(cls.tmp, "build", "bin")

    @classmethod
    def out(cls, d: Dict[str, str]) -> str:
        return os.path.join(cls.tmp, "gen", d["prefix"])

    @classmethod
    def build(cls, docs: List[Dict[str, str]]) -> subprocess.CompletedProcess:
        """One CMake project: the runtime minus its transport (core, codec, registry, the
        validate tool), every SDK, a probe per SDK that compiles all its headers (the typed API
        included) with -Werror."""
        lines = ["cmake_minimum_required(VERSION 3.16)", "project(mfgen_wild C)",
                 "set(CMAKE_C_STANDARD 11)", "set(CMAKE_C_STANDARD_REQUIRED ON)", "set(CMAKE_C_EXTENSIONS OFF)",
                 "set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)",
                 "add_compile_options(-O0 -g0 -Wall -Wextra -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE)",
                 "find_package(PkgConfig REQUIRED)", "find_package(Threads REQUIRED)",
                 "pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)",
                 f"file(GLOB codec_sources {RUNTIME}/core/*.c {RUNTIME}/codec/*.c {RUNTIME}/api/registry.c "
                 f"{RUNTIME}/api/location.c {RUNTIME}/tools/*.c)",
                 "add_library(wild_codec STATIC ${codec_sources})",
                 f"target_include_directories(wild_codec PUBLIC {RUNTIME}/include PRIVATE {RUNTIME})",
                 "target_link_libraries(wild_codec PUBLIC PkgConfig::CJSON Threads::Threads m)",
                 "add_library(mf::runtime ALIAS wild_codec)"]
        probes = os.path.join(cls.tmp, "probes")
        os.makedirs(probes)
        for d in docs:
            p = d["prefix"]
            lines.append(f"set({p.upper()}_SDK_INSTALL OFF)")
            lines.append(f"add_subdirectory({cls.out(d)} {p})")
            probe = os.path.join(probes, f"{p}.c")
            with open(probe, "w") as f:
                f.write(f'#include "{p}_sdk/sdk.h"\n')
                for h in sorted(glob.glob(os.path.join(cls.out(d), "include", f"{p}_sdk", "*.h"))):
                    f.write(f'#include "{p}_sdk/{os.path.basename(h)}"\n')
                f.write(f"int {p}_probe(void);\nint {p}_probe(void) {{ return (int){p}_sdk_registry.message_count; }}\n")
            lines.append(f"add_library({p}_probe OBJECT {probe})")
            lines.append(f"target_link_libraries({p}_probe PRIVATE {p}_sdk)")
            lines.append(f"target_compile_options({p}_probe PRIVATE -Werror -pedantic)")
        proj = os.path.join(cls.tmp, "proj")
        os.makedirs(proj)
        with open(os.path.join(proj, "CMakeLists.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        build = os.path.join(cls.tmp, "build")
        # Ninja (scripts/deps.sh installs it) needs half the CPU of make for ~50 small projects
        gen = ["-G", "Ninja"] if shutil.which("ninja") else []
        r = sh(["cmake", "-S", proj, "-B", build] + gen, cls.tmp)
        if r.returncode != 0:
            raise AssertionError("cmake configure failed:\n" + r.stdout[-6000:])
        r = sh(["cmake", "--build", build, "-j", str(JOBS)], cls.tmp)
        if r.returncode != 0 and "ninja: fatal: posix_spawn" in r.stdout:
            # ninja could not start a process at all (seen once under `make test` on a machine
            # shared by several builds); not a compile error: resume the build once, say so.
            again = sh(["cmake", "--build", build, "-j", str(JOBS)], cls.tmp)
            print("\n[generator.wild] note: ninja could not start a process; the build was resumed")
            r = subprocess.CompletedProcess(again.args, again.returncode, r.stdout + "\n" + again.stdout)
        return r

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.tmp:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_corpus_is_documented(self) -> None:
        with open(os.path.join(WILD, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        self.assertGreaterEqual(len(self.docs), 40)
        for d in self.docs:
            self.assertIn(d["doc"], readme, "README.md must list every document with its source")
            self.assertIn(d["expect"], ("ok", "refused"))
            self.assertTrue(os.path.isfile(os.path.join(WILD, d["doc"].split("/")[0], "LICENSE")))

    def test_outcomes_match_the_manifest(self) -> None:
        for d in self.docs:
            with self.subTest(doc=d["doc"]):
                rc, err = self.results[d["prefix"]]
                self.assertNotIn("internal error", err)
                if d["expect"] == "ok":
                    self.assertEqual(rc, 0, err[-3000:])
                    continue
                self.assertEqual(rc, 1, err[-3000:])
                self.assertIn(d["error"], err)
                if d.get("then"):
                    rc2, err2 = self.retried[d["prefix"]]
                    self.assertEqual(rc2, 0, f"with {d['then']}:\n{err2[-3000:]}")
                else:
                    self.assertFalse(os.path.exists(self.out(d)), "a refused document wrote files")

    def test_figures(self) -> None:
        """The figures of the corpus, printed for the record (tests/specs/wild/README.md)."""
        ok = sum(1 for d in self.docs if d["expect"] == "ok")
        with_opts = sum(1 for d in self.docs if d.get("then"))
        print(f"\n[generator.wild] {len(self.docs)} documents: {ok} generate and build unchanged, "
              f"{len(self.docs) - ok} refused ({with_opts} of them build with the options in expected.json)")

    def test_sdks_build_with_werror(self) -> None:
        errors = [ln for ln in self.built.stdout.splitlines() if "error" in ln.lower() or "FAILED" in ln]
        self.assertEqual(self.built.returncode, 0, "\n".join(errors[:60]) or self.built.stdout[-8000:])

    def test_every_example_validates_and_round_trips(self) -> None:
        self.assertEqual(self.built.returncode, 0, "the build failed")
        count = 0
        for d in self.ok:
            tool = os.path.join(self.bin, f"{d['prefix']}-validate")
            for ex in sorted(glob.glob(os.path.join(self.out(d), "examples", "*.json"))):
                count += 1
                with self.subTest(example=os.path.relpath(ex, self.tmp)):
                    r = sh([tool, "--roundtrip", example_key(ex), ex], self.tmp)
                    self.assertEqual(r.returncode, 0, f"{d['doc']}: {ex} does not validate:\n{r.stdout}")
                    with open(ex, encoding="utf-8") as f:
                        want = json.load(f)
                    self.assertEqual(json.loads(r.stdout), want, f"{ex} changed in the round trip")
        self.assertGreater(count, 10, "the corpus should carry examples to check")

    def test_python_checker_agrees_with_the_generated_validator(self) -> None:
        self.assertEqual(self.built.returncode, 0, "the build failed")
        compared = rejected = 0
        work = os.path.join(self.tmp, "variants")
        os.makedirs(work, exist_ok=True)
        for d in self.ok:
            models = python_models(os.path.join(WILD, d["doc"]), d["prefix"], d.get("then", []))
            tool = os.path.join(self.bin, f"{d['prefix']}-validate")
            for ex in sorted(glob.glob(os.path.join(self.out(d), "examples", "*.json"))):
                key = example_key(ex)
                with open(ex, encoding="utf-8") as f:
                    payload = json.load(f)
                for i, v in enumerate(variants(payload)):
                    path = os.path.join(work, f"{d['prefix']}.{i}.json")
                    with open(path, "w", encoding="utf-8") as f:
                        json.dump(v, f)
                    py = check_payload(models[key], v)
                    r = sh([tool, key, path], self.tmp)
                    self.assertIn(r.returncode, (0, 1), r.stdout)
                    compared += 1
                    rejected += r.returncode == 1
                    self.assertEqual(py is None, r.returncode == 0,
                                     f"{d['doc']} {key} variant {json.dumps(v)[:300]}:\n"
                                     f"python: {py.pointer + ': ' + py.message if py else 'valid'}\n"
                                     f"C: {r.stdout.strip() or 'valid'}")
        self.assertGreater(compared, 150)
        self.assertGreater(rejected, 50)
        self.assertGreater(compared - rejected, 10)


if __name__ == "__main__":
    unittest.main()
