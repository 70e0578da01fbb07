"""Every good extra spec (and the contract) generates an SDK that compiles with -Wall -Wextra
-Werror (also -pedantic, and the headers as C++), links with the runtime, and runs:
`<prefix>-validate --list`, every example validated and round-tripped.

The SDK libraries are first built alone against the runtime's headers (this must pass). Then
all SDKs are built in one CMake project with the real runtime (one runtime build) and their
validators run; a runtime that does not build, or generated code that does not compile or link
with it, fails the test."""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest
from typing import List, Tuple

from helpers import GOOD_SPECS, ROOT, RUNTIME, SPECS, run_mfgen

BUILDS: List[Tuple[str, str]] = [(os.path.join(ROOT, "asyncapi.yaml"), "mf")] + \
    [(os.path.join(SPECS, rel), prefix) for rel, prefix in GOOD_SPECS]


def example_key(path: str) -> str:
    """examples/<MessageKey>.<example>.json: the example name has no '.', the key may."""
    return os.path.basename(path)[: -len(".json")].rsplit(".", 1)[0]


def sh(cmd: List[str], cwd: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)


class BuildTest(unittest.TestCase):
    tmp = ""
    full = False
    why = ""
    built: subprocess.CompletedProcess

    @classmethod
    def setUpClass(cls) -> None:
        if shutil.which("cmake") is None or shutil.which("cc") is None:
            raise unittest.SkipTest("cmake or a C compiler is missing")
        cls.tmp = tempfile.mkdtemp(prefix="mfgen-build-")
        gens = []
        for spec, prefix in BUILDS:
            out = os.path.join(cls.tmp, "gen", prefix)
            r = run_mfgen([spec, "-o", out, "--prefix", prefix])
            if r.returncode != 0:
                raise AssertionError(f"mfgen failed on {spec}:\n{r.stderr}")
            gens.append((out, prefix))
        cls.gen_root = os.path.join(cls.tmp, "gen")
        # A: the SDK libraries alone, against the runtime's headers (never blocked by the runtime)
        cls.built = cls.cmake_project("headers", gens, "headers", [f"{p}_sdk" for _, p in BUILDS])
        # B: with the real runtime: the validators, linked
        cls.bin = os.path.join(cls.tmp, "full", "build", "bin")
        if cls.built.returncode == 0:
            validators = [f"{p}-validate" for _, p in BUILDS]
            linked = cls.cmake_project("full", gens, "runtime", validators)
            if linked.returncode != 0:
                cls.check_ours(linked)
                cls.why = "the runtime does not build or link: " + next(
                    (ln.strip() for ln in linked.stdout.splitlines() if "error" in ln), "see its build")[:300]
            else:
                cls.full = True

    @classmethod
    def check_ours(cls, build: subprocess.CompletedProcess) -> None:
        ours = [ln for ln in build.stdout.splitlines()
                if cls.gen_root in ln and ("error" in ln or "undefined reference" in ln)]
        if ours:
            raise AssertionError("generated code fails with the runtime:\n" + "\n".join(ours[:40]))

    @classmethod
    def cmake_project(cls, name: str, gens: List[Tuple[str, str]], runtime: str, targets: List[str]
                      ) -> subprocess.CompletedProcess:
        """runtime: "runtime" (add_subdirectory of runtime/), "codec" (a library of the
        runtime without transport: core/, codec/, the registry, the validate tool) or "headers" (an interface target with the headers)."""
        lines = ["cmake_minimum_required(VERSION 3.16)", f"project(mfgen_{name} C)",
                 "set(CMAKE_C_STANDARD 11)", "set(CMAKE_C_STANDARD_REQUIRED ON)", "set(CMAKE_C_EXTENSIONS OFF)",
                 "set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)",
                 "add_compile_options(-Wall -Wextra -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE)"]
        if runtime != "headers":
            lines += ["find_package(PkgConfig REQUIRED)", "find_package(Threads REQUIRED)",
                      "pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)",
                      "pkg_check_modules(LWS REQUIRED IMPORTED_TARGET libwebsockets)"]
        if runtime == "runtime":
            lines.append(f"add_subdirectory({RUNTIME} runtime)")
        elif runtime == "codec":
            lines += [f"file(GLOB codec_sources {RUNTIME}/core/*.c {RUNTIME}/codec/*.c {RUNTIME}/api/registry.c "
                      f"{RUNTIME}/api/location.c {RUNTIME}/tools/*.c)",
                      "add_library(mfgen_codec STATIC ${codec_sources})",
                      f"target_include_directories(mfgen_codec PUBLIC {RUNTIME}/include PRIVATE {RUNTIME})",
                      "target_link_libraries(mfgen_codec PUBLIC PkgConfig::CJSON Threads::Threads m)",
                      "add_library(mf::runtime ALIAS mfgen_codec)"]
        else:
            lines += ["add_library(mfgen_runtime_headers INTERFACE)",
                      f"target_include_directories(mfgen_runtime_headers INTERFACE {RUNTIME}/include)",
                      "add_library(mf::runtime ALIAS mfgen_runtime_headers)"]
        for out, prefix in gens:
            if runtime != "runtime":
                lines.append(f"set({prefix.upper()}_SDK_INSTALL OFF)")
            lines.append(f"add_subdirectory({out} {prefix})")
        proj = os.path.join(cls.tmp, name, "proj")
        build = os.path.join(cls.tmp, name, "build")
        os.makedirs(proj)
        with open(os.path.join(proj, "CMakeLists.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        r = sh(["cmake", "-S", proj, "-B", build, "-DCMAKE_BUILD_TYPE=Debug"], cls.tmp)
        if r.returncode != 0:
            raise AssertionError(f"cmake configure ({name}) failed:\n" + r.stdout)
        return sh(["cmake", "--build", build, "-j2", "--target"] + targets, cls.tmp)

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.tmp:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_sdk_libraries_compile_with_werror(self) -> None:
        self.assertEqual(self.built.returncode, 0, self.built.stdout[-6000:])

    def test_pedantic_and_cplusplus(self) -> None:
        cc = shutil.which("gcc") or shutil.which("cc")
        cxx = shutil.which("g++") or shutil.which("c++")
        for _, prefix in BUILDS:
            gen = os.path.join(self.tmp, "gen", prefix)
            inc = ["-I", os.path.join(gen, "include"), "-I", os.path.join(RUNTIME, "include")]
            for src in ("types.c", "channels.c", "registry.c"):
                r = sh([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only"] + inc +
                       [os.path.join(gen, "src", src)], self.tmp)
                self.assertEqual(r.returncode, 0, f"{prefix}/{src}:\n{r.stdout}")
            if cxx:
                probe = os.path.join(self.tmp, f"{prefix}_probe.cpp")
                with open(probe, "w") as f:
                    f.write(f'#include "{prefix}_sdk/sdk.h"\nint main() {{ return 0; }}\n')
                r = sh([cxx, "-std=c++17", "-Wall", "-Wextra", "-Werror", "-fsyntax-only"] + inc + [probe], self.tmp)
                self.assertEqual(r.returncode, 0, f"{prefix} headers as C++:\n{r.stdout}")

    def _tool(self, prefix: str) -> str:
        if not self.full:
            self.fail(f"cannot link and run the validators: {self.why or 'the SDK libraries did not compile'}")
        return os.path.join(self.bin, f"{prefix}-validate")

    def test_list_and_examples(self) -> None:
        for spec, prefix in BUILDS:
            with self.subTest(prefix=prefix):
                tool = self._tool(prefix)
                gen = os.path.join(self.tmp, "gen", prefix)
                r = sh([tool, "--list"], self.tmp)
                self.assertEqual(r.returncode, 0, r.stdout)
                examples = sorted(glob.glob(os.path.join(gen, "examples", "*.json")))
                keys = {example_key(e) for e in examples}
                for k in keys:
                    self.assertIn(k, r.stdout)
                for ex in examples:
                    key = example_key(ex)
                    r = sh([tool, key, ex], self.tmp)
                    self.assertEqual(r.returncode, 0, f"{ex} does not validate:\n{r.stdout}")
                    r = sh([tool, "--roundtrip", key, ex], self.tmp)
                    self.assertEqual(r.returncode, 0, f"{ex} round trip:\n{r.stdout}")
                    with open(ex, encoding="utf-8") as f:
                        want = json.load(f)
                    self.assertEqual(json.loads(r.stdout), want, f"{ex} changed in the round trip")

    def test_invalid_payload_is_rejected(self) -> None:
        tool = self._tool("mf")
        bad = os.path.join(self.tmp, "bad.json")
        with open(bad, "w") as f:
            f.write('{"user_id": "not-a-uuid"}')
        r = sh([tool, "UserInfoRequest", bad], self.tmp)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("/user_id", r.stdout)


if __name__ == "__main__":
    unittest.main()
