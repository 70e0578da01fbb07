#!/usr/bin/env python3
"""The mfctl test suite: every command, option and exit status of tools/mfctl.

    run.py --mfctl build/bin/mfctl --examples generated/examples --server none
    run.py --mfctl ... --examples ... --server mf-broker --binary build/bin/mf-broker
    run.py --mfctl ... --examples ... --server nats-server --binary /usr/sbin/nats-server

`--server none` runs the cases that need no server (test_offline); the others start the
server on a free loopback port and run the cases that talk to it (test_pubsub, test_req,
test_campaign). A missing binary fails the run; with MF_ALLOW_SKIP=1 it exits 77 instead
(ctest reports it as skipped). -k TEXT runs only the tests whose name contains TEXT.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import unittest

import harness


def find_binary(path: str) -> str | None:
    found = path if os.path.sep in path else shutil.which(path)
    return found if found and os.access(found, os.X_OK) else None


def missing(what: str) -> int:
    if os.environ.get("MF_ALLOW_SKIP") == "1":
        print(f"SKIP: {what} (MF_ALLOW_SKIP=1)", flush=True)
        return 77
    print(f"FAIL: {what}; install it (scripts/deps.sh), or set MF_ALLOW_SKIP=1 to skip", flush=True)
    return 1


def server_log_clean(path: str) -> bool:
    """mf-broker built with sanitizers reports on its log: none may appear."""
    with open(path, errors="replace") as f:
        log = f.read()
    bad = [m for m in ("AddressSanitizer", "LeakSanitizer", "runtime error:") if m in log]
    if bad:
        print(f"FAIL: sanitizer report in {path}:\n{log}", flush=True)
    return not bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mfctl", required=True)
    ap.add_argument("--examples", required=True)
    ap.add_argument("--server", choices=("none", "mf-broker", "nats-server"), required=True)
    ap.add_argument("--binary", default="")
    ap.add_argument("-k", dest="patterns", action="append", help="run only tests whose name contains this")
    a = ap.parse_args()
    ok = False
    skipped = 0
    harness.CONFIG.mfctl = os.path.abspath(a.mfctl)
    harness.CONFIG.examples = os.path.abspath(a.examples)
    if not find_binary(harness.CONFIG.mfctl):
        return missing(f"mfctl not found at {a.mfctl}")
    modules = ["test_offline"]
    if a.server != "none":
        binary = find_binary(a.binary or a.server)
        if not binary:
            return missing(f"{a.server} not found ({a.binary or a.server})")
        harness.CONFIG.server = harness.Server(a.server, binary, {}, harness.CONFIG.workdir).start()
        modules = [m for m in ("test_pubsub", "test_req", "test_campaign", "test_auth") if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), m + ".py"))]
    try:
        loader = unittest.TestLoader()
        loader.testNamePatterns = [f"*{p}*" for p in a.patterns or []] or None
        result = unittest.TextTestRunner(verbosity=2).run(loader.loadTestsFromNames(modules))
        ok = result.wasSuccessful() and result.testsRun > 0
        if ok and result.skipped:  # a skipped test did not run its subject (tests/README.md)
            for test, why in result.skipped:
                print(f"  skipped: {test.id()}: {why}", flush=True)
            skipped = missing(f"{len(result.skipped)} test(s) skipped")
            ok = False
    finally:
        if harness.CONFIG.server:
            rc = harness.CONFIG.server.stop()
            print(f"{a.server} exited with {rc}; log: {harness.CONFIG.server.log}", flush=True)
            if not server_log_clean(harness.CONFIG.server.log):
                ok, skipped = False, 0  # a failure, whatever skipped
    if ok:
        shutil.rmtree(harness.CONFIG.workdir, ignore_errors=True)
    else:
        print(f"outputs kept in {harness.CONFIG.workdir}", flush=True)
    if skipped:
        return skipped
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
