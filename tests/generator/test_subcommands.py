"""The subcommands: `generate` (also bare), `docs`, `diff`; --help on each, exit statuses."""
import os
import shutil
import tempfile
import unittest

from helpers import ROOT, read_tree, run_mfgen

CONTRACT = os.path.join(ROOT, "asyncapi.yaml")


class SubcommandTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="mfgen-sub-")

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_help_on_each(self) -> None:
        for args, words in ((["--help"], ["docs", "diff", "--check", "--prefix"]),
                            (["generate", "--help"], ["mfgen generate", "--check"]),
                            (["docs", "--help"], ["mfgen docs", "--check", "--date", "SOURCE_DATE_EPOCH", "--sdk"]),
                            (["diff", "--help"], ["mfgen diff", "--check-compat", "--format", "--allow-major-bump"])):
            with self.subTest(args=args):
                r = run_mfgen(args)
                self.assertEqual(r.returncode, 0, r.stderr)
                for w in words:
                    self.assertIn(w, r.stdout)

    def test_generate_and_bare_form_agree(self) -> None:
        a, b = os.path.join(self.tmp, "a"), os.path.join(self.tmp, "b")
        self.assertEqual(run_mfgen([CONTRACT, "-o", a]).returncode, 0)
        self.assertEqual(run_mfgen(["generate", CONTRACT, "-o", b]).returncode, 0)
        self.assertEqual(read_tree(a), read_tree(b))
        self.assertEqual(run_mfgen(["generate", CONTRACT, "-o", a, "--check"]).returncode, 0)
        self.assertEqual(run_mfgen(["generate", CONTRACT, "-o", os.path.join(self.tmp, "c"), "--check"]).returncode, 1)

    def test_usage_errors_exit_2(self) -> None:
        for args in (["generate"], ["docs", CONTRACT], ["docs"], ["diff", CONTRACT], ["diff"],
                     ["docs", CONTRACT, "-o", self.tmp, "--prefix", "Bad"],
                     ["docs", CONTRACT, "-o", self.tmp, "--sdk", "x", "--no-sdk-links"],
                     ["docs", os.path.join(self.tmp, "missing.yaml"), "-o", self.tmp],
                     ["docs", CONTRACT, "-o", self.tmp, "--templates", os.path.join(self.tmp, "none")]):
            with self.subTest(args=args):
                r = run_mfgen(args)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertTrue(r.stderr.strip())


if __name__ == "__main__":
    unittest.main()
