#!/usr/bin/env python3
"""Runs Python unittest modules under the skip policy of the test suite (tests/README.md).

    run_unittest.py MODULE [MODULE...]      (from the folder holding the modules)

`python -m unittest` exits 0 when tests skip, so ctest would report "passed" for a test
that did not run its subject. Here a skipped test is a failure, unless the environment
variable MF_ALLOW_SKIP is 1: then the exit status is 77, which ctest reports as skipped
(SKIP_RETURN_CODE 77). Exit status: 0 all ran and passed, 1 a failure or error (or a
skip not allowed), 77 skips allowed and taken.
"""
import os
import sys
import unittest

SKIP_EXIT = 77


def main(modules: list[str]) -> int:
    if not modules:
        print(__doc__, file=sys.stderr)
        return 2
    sys.path.insert(0, os.getcwd())
    suite = unittest.defaultTestLoader.loadTestsFromNames(modules)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    if not result.wasSuccessful():
        return 1
    if not result.skipped:
        return 0
    reasons = sorted({f"{test.id()}: {why}" for test, why in result.skipped})
    if os.environ.get("MF_ALLOW_SKIP") == "1":
        print(f"\n{len(result.skipped)} test(s) skipped (MF_ALLOW_SKIP=1): exit {SKIP_EXIT}")
        for r in reasons:
            print(f"  SKIP {r}")
        return SKIP_EXIT
    print(f"\nFAIL: {len(result.skipped)} test(s) could not run their subject "
          "(set MF_ALLOW_SKIP=1 to report them as skipped instead):")
    for r in reasons:
        print(f"  {r}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
