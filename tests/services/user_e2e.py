#!/usr/bin/env python3
"""End-to-end tests of user-service: real processes on loopback.

    user_e2e.py --server mf-broker   --broker build/bin/mf-broker --build build
    user_e2e.py --server nats-server --broker /usr/sbin/nats-server --build build [--case NAME]

One broker (mf-broker or nats-server with a websocket listener) per run; each case gets a
fresh working directory, a fresh database and a subscriber on '>' that collects every
message. The cases are in user_cases_api.py (requests, admin routes, events) and
user_cases_durability.py (import, kill -9, replicas, SIGTERM, broker outage).

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
from typing import Any, List, Optional, Tuple

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svc_harness as h  # noqa: E402

CASES = h.CASES


class Env:
    """What a case works with; everything it starts is stopped by close()."""

    def __init__(self, broker: h.Broker, build: str, workdir: str) -> None:
        self.broker, self.build, self.workdir = broker, build, workdir
        self.service_bin = os.path.join(build, "bin", "user-service")
        self.validator = h.Validator(os.path.join(build, "bin", "mf-validate"))
        self.services: List[h.Service] = []
        self.sub = h.Subscriber(broker.port, ">")
        self.requesters: List[h.Requester] = []

    def service(self, name: str = "user", db: Optional[str] = None, start: bool = True,
                extra: Optional[List[str]] = None) -> h.Service:
        s = h.Service(self.service_bin, self.broker.url, self.workdir, db=db, name=name, extra=extra)
        self.services.append(s)
        return s.start() if start else s

    def requester(self) -> h.Requester:
        r = h.Requester(self.broker.port)
        self.requesters.append(r)
        return r

    def events(self, user_id: Optional[str] = None) -> List[Tuple[str, Any]]:
        """The User Service's events collected so far (optionally of one user), in arrival order."""
        return [m for m in self.sub.snapshot() if m[0] in h.Validator.MESSAGES and isinstance(m[1], dict)
                and (user_id is None or m[1].get("user_id") == user_id)]

    def stop_services(self) -> None:
        """Stops every service still running; each must exit 0 (sanitizers report at exit)."""
        for s in self.services:
            if s.alive():
                rc = s.stop()
                if rc != 0:
                    raise AssertionError(f"{s.name} exited with {rc} on SIGTERM; see {s.log}")

    def close(self) -> None:
        for s in self.services:
            try:
                s.stop()
            except AssertionError:
                pass
        for r in self.requesters:
            r.close()
        self.sub.close()


def run(args: argparse.Namespace) -> int:
    import user_cases_api  # noqa: F401  (registers cases)
    import user_cases_durability  # noqa: F401
    top = tempfile.mkdtemp(prefix="mf-user-e2e-")
    broker = h.Broker(args.server, args.broker, top)
    try:
        broker.start()
    except (AssertionError, OSError) as e:
        print(f"FAIL: cannot start {args.server} ({args.broker}): {e}")
        return 1
    failed = 0
    try:
        for name, fn in CASES:
            if args.case and name not in args.case:
                continue
            workdir = os.path.join(top, name)
            os.makedirs(workdir)
            t0 = time.monotonic()
            env = Env(broker, args.build, workdir)
            try:
                fn(env)
                env.stop_services()
                print(f"ok    {name} ({time.monotonic() - t0:.1f} s)")
            except Exception:  # noqa: BLE001 - report every failure, go on
                failed += 1
                print(f"FAIL  {name} ({time.monotonic() - t0:.1f} s); logs in {workdir}")
                traceback.print_exc()
            finally:
                env.close()
            if broker.proc is None or broker.proc.poll() is not None:
                broker.start()  # a case stopped it: the next one needs it
    finally:
        broker.stop()
        if failed == 0 and not os.environ.get("MF_E2E_KEEP"):
            shutil.rmtree(top, ignore_errors=True)
    print(f"{len(CASES) if not args.case else len(args.case)} cases, {failed} failed ({args.server})")
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", choices=("mf-broker", "nats-server"), required=True)
    ap.add_argument("--broker", required=True, help="path of the mf-broker or nats-server binary")
    ap.add_argument("--build", required=True, help="the build directory (bin/user-service, bin/mf-validate)")
    ap.add_argument("--case", action="append", help="run only this case (repeatable)")
    args = ap.parse_args()
    for b in (args.broker, os.path.join(args.build, "bin", "user-service")):
        if not (os.path.isfile(b) and os.access(b, os.X_OK)):
            print(f"FAIL: {b} is not an executable: cannot run the test")
            return 1
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
