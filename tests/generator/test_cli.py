"""The command line: exit codes, writing only what changed, stale files, --check, headers."""
import os
import shutil
import tempfile
import time
import unittest

from helpers import ROOT, SPECS, read_tree, run_mfgen

CONTRACT = os.path.join(ROOT, "asyncapi.yaml")


class CliTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="mfgen-cli-")

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_usage_errors_exit_2(self) -> None:
        self.assertEqual(run_mfgen(["--help"]).returncode, 0)
        self.assertIn("--check", run_mfgen(["--help"]).stdout)
        self.assertEqual(run_mfgen([]).returncode, 2)
        self.assertEqual(run_mfgen([CONTRACT]).returncode, 2)  # no -o
        r = run_mfgen([os.path.join(self.tmp, "nope.yaml"), "-o", self.tmp])
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot read", r.stderr)
        r = run_mfgen([CONTRACT, "-o", self.tmp, "--prefix", "Bad-Prefix"])
        self.assertEqual(r.returncode, 2)
        r = run_mfgen([CONTRACT, "-o", self.tmp, "--templates", os.path.join(self.tmp, "none")])
        self.assertEqual(r.returncode, 2)

    def test_an_unknown_option_is_named(self) -> None:
        # argparse checks the required arguments first: '--bogus' alone read "SPEC is required"
        for argv, unknown in ((["--bogus"], "--bogus"), ([CONTRACT, "--bogus", "-o", self.tmp], "--bogus"),
                              (["docs", "--bogus"], "--bogus"), (["diff", "--nope", CONTRACT, CONTRACT], "--nope"),
                              (["-x"], "-x")):
            r = run_mfgen(argv)
            self.assertEqual(r.returncode, 2, argv)
            self.assertIn(f"unrecognized arguments: {unknown}", r.stderr, argv)
            self.assertFalse(os.listdir(self.tmp), argv)  # nothing written
        # an unambiguous prefix of a long option still works, as argparse allows
        r = run_mfgen([CONTRACT, "--out", os.path.join(self.tmp, "o"), "--check"])
        self.assertNotIn("unrecognized", r.stderr)

    def test_writes_only_changed_files_and_removes_stale_ones(self) -> None:
        out = os.path.join(self.tmp, "out")
        r = run_mfgen([CONTRACT, "-o", out])
        self.assertEqual(r.returncode, 0, r.stderr)
        files = read_tree(out)
        mtimes = {p: os.stat(os.path.join(out, p)).st_mtime_ns for p in files}
        time.sleep(0.01)
        r = run_mfgen([CONTRACT, "-o", out])
        self.assertIn(" 0 written", r.stdout)
        self.assertEqual(mtimes, {p: os.stat(os.path.join(out, p)).st_mtime_ns for p in files})
        # a changed file is rewritten, only it
        victim = os.path.join(out, "src", "types.c")
        with open(victim, "a") as f:
            f.write("/* edited */\n")
        r = run_mfgen([CONTRACT, "-o", out])
        self.assertIn(" 1 written", r.stdout)
        self.assertEqual(read_tree(out), files)
        # a message removed from the spec: its example files go, files mfgen did not write stay
        with open(CONTRACT, encoding="utf-8") as f:
            text = f.read()
        keep = os.path.join(out, "examples", "mine.txt")
        with open(keep, "w") as f:
            f.write("user file\n")
        smaller = text.replace("        - name: not_found\n          summary: The user does not exist.\n",
                               "        - name: renamed\n          summary: The user does not exist.\n")
        self.assertNotEqual(smaller, text)
        spec2 = os.path.join(self.tmp, "asyncapi.yaml")
        with open(spec2, "w", encoding="utf-8") as f:
            f.write(smaller)
        r = run_mfgen([spec2, "-o", out])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(" 1 removed", r.stdout)
        self.assertFalse(os.path.exists(os.path.join(out, "examples", "UserInfoReply.not_found.json")))
        self.assertTrue(os.path.exists(os.path.join(out, "examples", "UserInfoReply.renamed.json")))
        self.assertTrue(os.path.exists(keep))

    def test_check(self) -> None:
        out = os.path.join(self.tmp, "out")
        r = run_mfgen([CONTRACT, "-o", out, "--check"])
        self.assertEqual(r.returncode, 1)
        self.assertFalse(os.path.exists(out), "--check wrote something")
        run_mfgen([CONTRACT, "-o", out])
        r = run_mfgen([CONTRACT, "-o", out, "--check"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        types_h = os.path.join(out, "include", "mf_sdk", "types.h")
        with open(types_h, "a") as f:
            f.write("\n")
        os.unlink(os.path.join(out, "docs", "messages.md"))
        before = read_tree(out)
        r = run_mfgen([CONTRACT, "-o", out, "--check"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("differs: " + types_h, r.stdout)
        self.assertIn("missing: " + os.path.join(out, "docs", "messages.md"), r.stdout)
        self.assertEqual(read_tree(out), before, "--check wrote something")

    def test_headers_manifest_and_no_machine_specifics(self) -> None:
        out = os.path.join(self.tmp, "out")
        run_mfgen([CONTRACT, "-o", out])
        tree = read_tree(out)
        manifest = tree.pop(".mfgen-manifest").decode().splitlines()
        self.assertTrue(manifest[0].startswith("# Generated by mfgen from asyncapi.yaml"))
        self.assertEqual(manifest[1:], sorted(tree))
        for path, data in tree.items():
            text = data.decode("utf-8")
            if not path.endswith(".json"):
                self.assertIn("Generated by mfgen from asyncapi.yaml. Do not edit", text.split("\n", 1)[0], path)
            for leak in (self.tmp, ROOT, os.path.expanduser("~"), time.strftime("%Y-%m-%d")):
                self.assertNotIn(leak, text, f"{path} contains {leak!r}")
        for want in ("include/mf_sdk/types.h", "include/mf_sdk/channels.h", "include/mf_sdk/registry.h",
                     "include/mf_sdk/sdk.h", "src/types.c", "src/channels.c", "src/registry.c",
                     "tools/mf-validate.c", "CMakeLists.txt", "cmake/mf-sdk.pc.in",
                     "cmake/mf-sdk-config.cmake.in", "docs/messages.md", "examples/CampaignCreate.full.json"):
            self.assertIn(want, tree)

    def test_unknown_format_is_a_warning(self) -> None:
        spec = os.path.join(self.tmp, "warn.yaml")
        with open(spec, "w") as f:
            f.write("asyncapi: 3.0.0\ninfo: {title: W, version: '1'}\ncomponents:\n  schemas:\n"
                    "    S:\n      type: object\n      properties:\n        host: {type: string, format: hostname}\n")
        r = run_mfgen(["warn.yaml", "-o", "out"], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("warn.yaml:8:38: warning: unknown string format 'hostname': treated as a plain string", r.stderr)
        self.assertIn("  at: /components/schemas/S/properties/host/format", r.stderr)

    def test_runs_from_any_directory_with_relative_paths(self) -> None:
        sub = os.path.join(self.tmp, "a", "b")
        os.makedirs(sub)
        rel_spec = os.path.relpath(os.path.join(SPECS, "refs", "main.yaml"), sub)
        r = run_mfgen([rel_spec, "-o", "gen", "--prefix", "refs"], cwd=sub)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(sub, "gen", "include", "refs_sdk", "types.h")))


if __name__ == "__main__":
    unittest.main()
