#!/usr/bin/env python3
"""End-to-end tests of campaign-service with real processes on loopback.

    campaign_e2e.py --server mf-broker   --broker build/bin/mf-broker --build build
    campaign_e2e.py --server nats-server --broker /usr/sbin/nats-server --build build [--case NAME]

One broker per run (mf-broker, or nats-server with a websocket listener). Each case gets a
fresh working directory with its own user-service and campaign-service (fresh databases), a
demo population imported into user-service through its admin API (and so into the Campaign
Service's view through the User Service's events), and a subscriber on '>'. Campaigns are
created and executed with campaign.create / campaign.execute on the bus. The cases are in
campaign_cases.py.

Exit status: 0 all passed, 1 a case failed or a process could not be started (a test that
cannot run its subject fails; it never passes silently).
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import svc_harness as h  # noqa: E402


def run(args: argparse.Namespace) -> int:
    import campaign_cases as cc  # registers the cases
    import campaign_cases_dist  # noqa: F401 - registers the outage and replica cases
    top = tempfile.mkdtemp(prefix="mf-campaign-e2e-")
    broker = h.Broker(args.server, args.broker, top)
    try:
        broker.start()
    except (AssertionError, OSError) as e:
        print(f"FAIL: cannot start {args.server} ({args.broker}): {e}")
        return 1
    failed = 0
    ran = 0
    try:
        for name, fn in h.CASES:
            if args.case and name not in args.case:
                continue
            ran += 1
            workdir = os.path.join(top, name)
            os.makedirs(workdir)
            t0 = time.monotonic()
            env = cc.Env(broker, args.build, workdir)
            try:
                fn(env)
                env.stop_services()
                print(f"ok    {name} ({time.monotonic() - t0:.1f} s)", flush=True)
            except Exception:  # noqa: BLE001 - report every failure, go on
                failed += 1
                print(f"FAIL  {name} ({time.monotonic() - t0:.1f} s); logs in {workdir}", flush=True)
                traceback.print_exc()
            finally:
                env.close()
            if broker.proc is None or broker.proc.poll() is not None:
                broker.start()
    finally:
        broker.stop()
        if failed == 0 and not os.environ.get("MF_E2E_KEEP"):
            shutil.rmtree(top, ignore_errors=True)
    print(f"{ran} cases, {failed} failed ({args.server})")
    return 1 if failed or ran == 0 else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", choices=("mf-broker", "nats-server"), required=True)
    ap.add_argument("--broker", required=True, help="path of the mf-broker or nats-server binary")
    ap.add_argument("--build", required=True, help="the build directory (bin/campaign-service, bin/user-service)")
    ap.add_argument("--case", action="append", help="run only this case (repeatable)")
    args = ap.parse_args()
    for b in (args.broker, os.path.join(args.build, "bin", "campaign-service"),
              os.path.join(args.build, "bin", "user-service"), os.path.join(args.build, "bin", "mf-validate")):
        if not (os.path.isfile(b) and os.access(b, os.X_OK)):
            print(f"FAIL: {b} is not an executable: cannot run the test")
            return 1
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
