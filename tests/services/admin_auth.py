#!/usr/bin/env python3
"""The services' admin API and its bearer token (svc_token.h, docs/services.md "Admin token").

    admin_auth.py --broker build/bin/mf-broker --build build

For user-service and campaign-service: a token from MF_ADMIN_TOKEN or --admin-token-file is
required by every route (401 UNAUTHORIZED without it or with another, nothing done; 200 with
it); --http on 0.0.0.0 without a token is refused at start (exit 2, the reason on stderr);
with one it starts; bad token files are refused; the Campaign Service reaches a protected
User Service with MF_USER_SERVICE_TOKEN; and no token ever appears in a log (at debug level).

Exit status 0 when every check passed, 1 otherwise.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from typing import Callable, List, Tuple

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svc_harness as h  # noqa: E402
from svc_harness import check  # noqa: E402

TOKEN = "adm1n-T0ken_for.tests~0123456789"
TOKEN2 = "second-T0ken-for-the-user-service"


class Run:
    def __init__(self, args: argparse.Namespace, top: str) -> None:
        self.bin = os.path.join(args.build, "bin")
        self.top = top
        self.broker = h.Broker("mf-broker", args.broker, top).start()
        self.services: List[h.Service] = []

    def service(self, kind: str, **kw) -> h.Service:
        s = h.Service(os.path.join(self.bin, f"{kind}-service"), self.broker.url, self.top, name=kind, **kw)
        self.services.append(s)
        return s

    def close(self) -> None:
        for s in self.services:
            try:
                s.stop()
            except AssertionError:
                pass
        self.broker.stop()

    def logs(self) -> bytes:
        return b"".join(open(os.path.join(self.top, f), "rb").read() for f in os.listdir(self.top)
                        if f.endswith(".log"))


def expect_401(s: h.Service, method: str, path: str, auth: str = None, body=None) -> None:
    saved, s.auth = s.auth, auth
    try:
        st, b = s.http(method, path, body)
    finally:
        s.auth = saved
    check(st == 401 and b["error"]["code"] == "UNAUTHORIZED", f"{method} {path} with {auth!r}: {st} {b}")


def token_required(r: Run) -> None:
    s = r.service("user", env={"MF_ADMIN_TOKEN": TOKEN})
    s.auth = TOKEN
    s.start()
    for method, path, body in (("GET", "/healthz", None), ("GET", "/users", None), ("GET", "/nowhere", None),
                               ("POST", "/users", {"email": "x@example.com", "name": "X"})):
        expect_401(s, method, path, None, body)
        expect_401(s, method, path, "wrong-token-0123456789abcdef", body)
        expect_401(s, method, path, TOKEN + "x", body)
        expect_401(s, method, path, TOKEN[:-1], body)
    check(s.http("GET", "/users")[1]["users"] == [], "a refused POST stored nothing")
    st, u = s.http("POST", "/users", {"email": "ok@example.com", "name": "Ok"})
    check(st == 201, f"with the token: {st} {u}")
    check(s.http("GET", "/healthz")[0] == 200, "GET /healthz with the token")
    check(s.http("GET", "/users", headers={"Authorization": f"bearer   {TOKEN}"})[0] == 200, "scheme any case")
    raw = subprocess.run(["curl", "-s", "-i", f"http://{h.HOST}:{s.http_port}/users"], capture_output=True,
                         timeout=30).stdout if shutil.which("curl") else b""
    if raw:
        check(raw.startswith(b"HTTP/1.1 401") and b'www-authenticate: bearer realm="admin"' in raw.lower(),
              f"401 with WWW-Authenticate: {raw[:300]!r}")


def public_address_needs_a_token(r: Run) -> None:
    for kind in ("user", "campaign"):
        args = [os.path.join(r.bin, f"{kind}-service"), "--server", r.broker.url, "--db",
                os.path.join(r.top, f"{kind}-refused.db"), "--http", f"0.0.0.0:{h.free_port()}"]
        env = {k: v for k, v in os.environ.items() if k not in ("MF_ADMIN_TOKEN", "MF_ADMIN_TOKEN_FILE")}
        p = subprocess.run(args, capture_output=True, timeout=60, env=env)
        err = p.stderr.decode()
        check(p.returncode == 2 and "not a loopback address" in err and "--admin-token-file" in err,
              f"{kind} on 0.0.0.0 without a token: exit {p.returncode}: {err[-400:]}")
        check(not os.path.exists(os.path.join(r.top, f"{kind}-refused.db")), "refused before opening the database")
    path = os.path.join(r.top, "token")
    with open(path, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(path, 0o600)
    s = r.service("user", extra=["--admin-token-file", path], http_host="0.0.0.0")
    s.auth = TOKEN
    s.start()
    expect_401(s, "GET", "/users")
    check(s.http("GET", "/users")[0] == 200, "0.0.0.0 with a token file: 200 with the token")


def bad_tokens_refused(r: Run) -> None:
    cases: List[Tuple[str, List[str], dict]] = []
    short = os.path.join(r.top, "short")
    with open(short, "w") as f:
        f.write("tiny\n")
    cases.append(("shorter than 16 bytes", ["--admin-token-file", short], {}))
    cases.append(("cannot read the admin token file", ["--admin-token-file", os.path.join(r.top, "none")], {}))
    cases.append(("not printable ASCII", [], {"MF_ADMIN_TOKEN": "has spaces in the token value"}))
    cases.append(("given twice", ["--admin-token-file", short], {"MF_ADMIN_TOKEN": TOKEN}))
    for says, extra, env in cases:
        args = [os.path.join(r.bin, "user-service"), "--server", r.broker.url, "--db",
                os.path.join(r.top, "bad.db"), "--http", f"127.0.0.1:{h.free_port()}"] + extra
        p = subprocess.run(args, capture_output=True, timeout=60, env=dict(os.environ, **env))
        err = p.stderr.decode()
        check(p.returncode == 2 and says in err, f"{extra} {env}: exit {p.returncode}: {err[-300:]}")
        for v in env.values():
            check(v not in err, "the refused token is not in the log")


def campaign_reaches_a_protected_user_service(r: Run) -> None:
    users = r.service("user", env={"MF_ADMIN_TOKEN": TOKEN2})
    users.auth = TOKEN2
    users.start()
    url = f"http://{h.HOST}:{users.http_port}"
    c = r.service("campaign", env={"MF_ADMIN_TOKEN": TOKEN, "MF_USER_SERVICE_TOKEN": TOKEN2},
                  extra=["--user-service", url])
    c.auth = TOKEN
    c.start()
    st, b = c.http("POST", "/users/refresh")
    check(st == 202, f"refresh through the User Service's token: {st} {b}")
    expect_401(c, "POST", "/users/refresh")
    wrong = r.service("campaign", env={"MF_ADMIN_TOKEN": TOKEN, "MF_USER_SERVICE_TOKEN": "not-the-right-token-at-all"},
                      extra=["--user-service", url], db=os.path.join(r.top, "campaign2.db"))
    wrong.auth = TOKEN
    wrong.start()
    st, b = wrong.http("POST", "/users/refresh")
    check(st == 502 and "401" in b["error"]["message"], f"a wrong User Service token: {st} {b}")


def no_token_in_logs(r: Run) -> None:
    logs = r.logs()
    check(logs, "there are logs to look at")
    for t in (TOKEN, TOKEN2, "not-the-right-token-at-all"):
        check(t.encode() not in logs, f"the token {t[:6]}... is in a log")
    check(b"the admin API requires a bearer token" in logs, "the log says the token is required")


CHECKS: List[Callable[[Run], None]] = [token_required, public_address_needs_a_token, bad_tokens_refused,
                                       campaign_reaches_a_protected_user_service, no_token_in_logs]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--broker", required=True, help="build/bin/mf-broker")
    ap.add_argument("--build", required=True, help="the build directory")
    args = ap.parse_args()
    top = tempfile.mkdtemp(prefix="mf-admin-auth-")
    failed = 0
    try:
        r = Run(args, top)
    except (AssertionError, OSError) as e:
        print(f"FAIL: cannot start mf-broker: {e}")
        return 1
    try:
        for fn in CHECKS:
            try:
                fn(r)
                print(f"ok    {fn.__name__}", flush=True)
            except Exception:  # noqa: BLE001 - report every failure, go on
                failed += 1
                print(f"FAIL  {fn.__name__}; logs in {top}", flush=True)
                traceback.print_exc()
    finally:
        r.close()
        if not failed and not os.environ.get("MF_E2E_KEEP"):
            shutil.rmtree(top, ignore_errors=True)
    print(f"{len(CHECKS)} checks, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
