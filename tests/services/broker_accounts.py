#!/usr/bin/env python3
"""Both services and mfctl against mf-broker with the accounts of docs/examples/broker-accounts.json
(docs/broker.md "Accounts and permissions", docs/services.md).

    broker_accounts.py --broker build/bin/mf-broker --build build

user-service logs in with MF_USER/MF_PASSWORD, campaign-service with --user/--password, the
console user is mfctl's (MF_USER/MF_PASSWORD): a user created over HTTP reaches the Campaign
Service's view (its subscriptions to the user events are allowed), a campaign published by the
console runs to completion with one notification sent (user.info.request answered through the
campaign-service's own inbox _INBOX.campaign-service.>, which is all the example lets it read),
and the broker counts no permission violation. --user without a password stops a service at
start (exit 2). Exit status 0 when every check passed, 1 otherwise.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svc_harness as h  # noqa: E402
from svc_harness import check  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ACCOUNTS = os.path.join(TOP, "docs", "examples", "broker-accounts.json")
CAMPAIGN = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
EXECUTION = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
# The example's passwords (docs/broker.md): each user's hash in the file is of these.
PASSWORDS = {"campaign-service": "campaign-service-pw", "user-service": "user-service-pw", "console": "console-pw"}


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("MF_SERVER", "MF_TOKEN", "MF_USER", "MF_PASSWORD")}
    env.update(extra)
    return env


def start_broker(binary: str, top: str) -> h.Broker:
    """h.Broker with the accounts file."""
    b = h.Broker("mf-broker", binary, top)
    with open(b.log, "ab") as logf:
        b.proc = subprocess.Popen([binary, "--host", h.HOST, "--port", str(b.port), "--config", ACCOUNTS],
                                  stdout=logf, stderr=logf)
    h.wait_until(b._accepting, "mf-broker with the example accounts")
    return b


def varz(b: h.Broker) -> dict:
    with urllib.request.urlopen(f"http://{h.HOST}:{b.port}/varz", timeout=10) as r:
        return json.load(r)


def console(mfctl: str, b: h.Broker, *args: str, stdin: bytes = b"") -> None:
    p = subprocess.run([mfctl, "-s", b.url, *args], input=stdin, capture_output=True, timeout=h.DEADLINE,
                       env=clean_env(MF_USER="console", MF_PASSWORD=PASSWORDS["console"]))
    check(p.returncode == 0, f"mfctl {' '.join(args)} as console: exit {p.returncode}: {p.stderr.decode()}")


def run(args: argparse.Namespace, top: str) -> None:
    bindir = os.path.join(args.build, "bin")
    b = start_broker(args.broker, top)
    started = []
    try:
        p = subprocess.run([os.path.join(bindir, "user-service"), "--server", b.url, "--user", "user-service",
                            "--db", os.path.join(top, "x.db"), "--http", f"{h.HOST}:0"],
                           capture_output=True, timeout=h.DEADLINE, env=clean_env())
        check(p.returncode == 2 and b"--user needs --password" in p.stderr, f"--user alone: {p.returncode} {p.stderr}")
        users = h.Service(os.path.join(bindir, "user-service"), b.url, top, name="user",
                          env=clean_env(MF_USER="user-service", MF_PASSWORD=PASSWORDS["user-service"]))
        started.append(users.start())
        campaigns = h.Service(os.path.join(bindir, "campaign-service"), b.url, top, name="campaign",
                              extra=["--user", "campaign-service", "--password", PASSWORDS["campaign-service"],
                                     "--user-service", f"http://{h.HOST}:{users.http_port}"], env=clean_env())
        started.append(campaigns.start())
        st, user = users.http("POST", "/users", {"email": "ada@example.com", "name": "Ada"})
        check(st == 201, f"POST /users: {st} {user}")
        h.wait_until(lambda: campaigns.http("GET", "/stats")[1]["users"] == 1, "the user in the campaign view")
        spec = subprocess.run([sys.executable, os.path.join(TOP, "scripts", "demo_campaign.py"), "--campaign-id",
                               CAMPAIGN], capture_output=True, check=True).stdout
        console(args.mfctl, b, "pub", "campaign.create", "-", stdin=spec)
        h.wait_until(lambda: campaigns.http("GET", f"/campaigns/{CAMPAIGN}")[0] == 200, "the campaign stored")
        execute = {"execution_id": EXECUTION, "campaign_id": CAMPAIGN, "execution_type": "immediate"}
        console(args.mfctl, b, "pub", "campaign.execute", "-", stdin=json.dumps(execute).encode())

        def done() -> dict:
            st, e = campaigns.http("GET", f"/executions/{EXECUTION}")
            return e if st == 200 and e["status"] in ("completed", "failed", "cancelled") else None
        e = h.wait_until(done, "the execution to end")
        check((e["status"], e["sent"], e["failed"]) == ("completed", 1, 0), f"execution: {e}")
        v = varz(b)
        check(v["permission_violations"] == 0 and v["auth_failures"] == 0, f"varz: {v}")
        for s in started:  # a clean stop (under the sanitizers: no report)
            rc = s.stop()
            check(rc == 0, f"{s.name} exited with {rc} on SIGTERM; see {s.log}")
    finally:
        for s in started:
            s.stop()
        b.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--mfctl", default="")
    args = ap.parse_args()
    args.mfctl = args.mfctl or os.path.join(args.build, "bin", "mfctl")
    top = tempfile.mkdtemp(prefix="mf-accounts-")
    try:
        run(args, top)
    except Exception:  # noqa: BLE001 - report and fail
        traceback.print_exc()
        print(f"FAIL: logs kept in {top}", flush=True)
        return 1
    shutil.rmtree(top, ignore_errors=True)
    print("ok: both services and mfctl with the example accounts", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
