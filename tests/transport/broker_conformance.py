#!/usr/bin/env python3
"""NATS-over-WebSocket conformance cases for mf-broker, runnable against nats-server too.

    broker_conformance.py --server mf-broker   --binary build/bin/mf-broker
    broker_conformance.py --server nats-server --binary /usr/sbin/nats-server

Each case starts from a server configuration (a dict of limits); the runner
starts one server process per distinct configuration on a free loopback port,
runs the cases that need it, and stops it. Cases marked `shared` describe NATS
behaviour both servers must show; cases marked broker-only test mf-broker's own
features (its flags, /healthz and /varz, close codes, shutdown). Against
nats-server only the shared cases run.

Exit status: 0 all passed, 1 a case failed or the server binary is missing; 77
(ctest reports the test as skipped) instead when the binary is missing and the
environment variable MF_ALLOW_SKIP is 1.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The runner. The harness (case registry, Server, checks) is in conformance_lib.py, the
# cases in conformance_shared.py and conformance_broker.py; they register themselves on
# import (shared, accounts and limits, WebSocket strictness, broker-only); cases run in
# groups of one server configuration each.
import conformance_shared  # noqa: E402,F401
import conformance_auth  # noqa: E402,F401
import conformance_ws  # noqa: E402,F401
import conformance_edges  # noqa: E402,F401
from conformance_broker import process_cases  # noqa: E402
from conformance_lib import CASES, Server  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", choices=("mf-broker", "nats-server"), required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--only", help="run only cases whose name contains this")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    binary = a.binary if os.path.sep in a.binary else shutil.which(a.binary)
    if not binary or not os.access(binary, os.X_OK):
        why = f"{a.server} binary not found ({a.binary}); install it to run these cases"
        if os.environ.get("MF_ALLOW_SKIP") == "1":
            print(f"SKIP (MF_ALLOW_SKIP=1): {why}", flush=True)
            return 77
        print(f"FAIL: {why} (set MF_ALLOW_SKIP=1 to report it as skipped instead)", flush=True)
        return 1

    selected = [(n, f, sh, cfg) for (n, f, sh, cfg) in CASES
                if (sh or a.server == "mf-broker") and (not a.only or a.only in n)]
    # one server per distinct configuration
    groups = {}
    for item in selected:
        groups.setdefault(json.dumps(item[3], sort_keys=True), []).append(item)

    workdir = tempfile.mkdtemp(prefix="mf-conformance-")
    results = []
    figures = {}
    for key, items in groups.items():
        srv = Server(a.server, binary, json.loads(key), workdir)
        try:
            srv.start()
        except Exception as e:  # noqa: BLE001
            for n, _, _, _ in items:
                results.append((n, False, f"server start failed: {e}", 0.0))
            continue
        for n, fn, shared, _ in items:
            t0 = time.monotonic()
            try:
                fn(srv)
                results.append((n, True, "", time.monotonic() - t0))
            except Exception as e:  # noqa: BLE001
                results.append((n, False, f"{type(e).__name__}: {e}\n{traceback.format_exc()}",
                                time.monotonic() - t0))
        figures.update(srv.figures)
        rc = srv.stop()
        if a.server == "mf-broker":
            with open(srv.log, errors="replace") as f:
                log = f.read()
            bad = [m for m in ("AddressSanitizer", "LeakSanitizer", "runtime error:") if m in log]
            if rc != 0 or bad:
                results.append((f"clean exit ({key})", False,
                                f"mf-broker exited {rc}, sanitizer reports: {bad}; see {srv.log}", 0.0))
        if a.verbose:
            with open(srv.log, errors="replace") as f:
                sys.stderr.write(f.read())
    if a.server == "mf-broker" and (not a.only or a.only in "sigterm_closes_1000_exit_0 sigint_exit_0 command_line "
                                                       "shutdown_grace_expires startup_errors environment_and_files "
                                                       "accounts_files"):
        results += process_cases(binary, workdir)

    failed = 0
    for i, (n, ok, msg, dt) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {n} [{a.server}] ({dt:.2f}s)")
        if not ok:
            failed += 1
            for line in msg.rstrip().splitlines():
                print(f"#   {line}")
    for k, v in sorted(figures.items()):
        print(f"# figure [{a.server}] {k}: {v}")
    shared_n = sum(1 for n, _, sh, _ in selected if sh)
    print(f"# {a.server}: {len(results) - failed}/{len(results)} passed "
          f"({shared_n} shared cases, {len(results) - shared_n} broker-only checks); logs in {workdir}")
    if failed == 0:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
