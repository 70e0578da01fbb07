#!/usr/bin/env python3
"""bench-campaign: one campaign to N users end to end (default 100,000), with the raw broker
publish rate measured in the same run as the baseline.

    bench/campaign/bench_campaign.py --build build [--users 100000]

Starts mf-broker, user-service and campaign-service on free loopback ports (fresh databases
in a temporary directory), imports N users into user-service (POST /users/import), waits
until campaign-service's view holds them (user.info.update, user.analytics,
notification.preferences.update through the broker), then:

  baseline  bench-transport --only mf --phases tp --repeat 3 against the same broker: 1->1 publish
            throughput (msg/s, 300-byte payloads), before and after the campaign;
  campaign  campaign.create (all_users, batches of 1,000, no rate limit, quiet hours not
            respected so that every user is sent to now) and campaign.execute; timed from the
            execute to status completed (GET /executions/{id}).

Prints: notifications per second; the messages the campaign made the broker carry
(user.info.request and replies, pushes, analytics, status: the broker's in_msgs from /varz)
per second and their ratio to the baseline (goal >= 0.5: the services, not the transport,
are the limit); the CPU time of campaign-service and user-service per notification
(/proc/PID/stat). Exit status 1 when something does not run or the campaign does not
complete with every user sent.
"""

import argparse
import http.client as httpc
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

HOST = "127.0.0.1"
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def http(port: int, method: str, path: str, body: Optional[bytes] = None, timeout: float = 600) -> Tuple[int, Any]:
    c = httpc.HTTPConnection(HOST, port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        return r.status, json.loads(data) if data else None
    finally:
        c.close()


def wait(pred, what: str, timeout: float) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise SystemExit(f"bench-campaign: timed out waiting for {what}")


def thread_cpu(pid: int) -> Dict[int, float]:
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            out[int(tid)] = cpu_seconds(pid, f"/task/{tid}")
        except OSError:
            pass
    return out


def cpu_seconds(pid: int, task: str = "") -> float:
    with open(f"/proc/{pid}{task}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


class Proc:
    def __init__(self, args: List[str], log: str) -> None:
        self.log = log
        with open(log, "ab") as f:
            self.p = subprocess.Popen(args, stdout=f, stderr=f)

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(60)
            except subprocess.TimeoutExpired:
                self.p.kill()


def listening(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=0.2).close()
        return True
    except OSError:
        return False


def users_ndjson(n: int, seed: int) -> List[bytes]:
    rng = random.Random(seed)
    langs = ["en-US", "de-DE", "fr-FR", "es-ES", "ja-JP", "pt-BR"]
    zones = {"en-US": "America/New_York", "de-DE": "Europe/Berlin", "fr-FR": "Europe/Paris",
             "es-ES": "Europe/Madrid", "ja-JP": "Asia/Tokyo", "pt-BR": "America/Sao_Paulo"}
    out = []
    for i in range(n):
        lang = langs[i % len(langs)]
        u = {"user_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "email": f"bench{i}@example.com",
             "name": f"User {i}", "language": lang, "timezone": zones[lang], "plan": "free",
             "registered_at": "2026-01-01T00:00:00Z", "last_activity": "2026-11-01T00:00:00Z",
             "preferences": {"email_enabled": True, "push_enabled": True, "sms_enabled": False,
                             "categories": {"marketing": True, "updates": True, "security": True},
                             "quiet_hours": {"enabled": True, "start": "22:00", "end": "07:00"}}}
        out.append(json.dumps(u).encode() + b"\n")
    return out


def baseline(build: str, url: str) -> float:
    r = subprocess.run([os.path.join(build, "bin", "bench-transport"), "--broker-url", url, "--only", "mf",
                        "--phases", "tp", "--count", "200000", "--repeat", "3"], capture_output=True, text=True,
                       timeout=600)
    m = re.search(r"throughput 1->1\s+msg/s\s+(\d+)", r.stdout)
    if not m:
        raise SystemExit(f"bench-campaign: bench-transport gave no throughput:\n{r.stdout}\n{r.stderr}")
    return float(m.group(1))


def varz(port: int) -> Dict[str, Any]:
    st, body = http(port, "GET", "/varz")
    return body


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--users", type=int, default=100000)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    args = ap.parse_args()
    b = os.path.join(args.build, "bin")
    for exe in ("mf-broker", "user-service", "campaign-service", "bench-transport"):
        if not os.access(os.path.join(b, exe), os.X_OK):
            print(f"bench-campaign: {os.path.join(b, exe)} is missing")
            return 1
    tmp = tempfile.mkdtemp(prefix="bench-campaign-")
    procs: List[Proc] = []
    try:
        bp, up, cp = free_port(), free_port(), free_port()
        url = f"ws://{HOST}:{bp}"
        procs.append(Proc([os.path.join(b, "mf-broker"), "--host", HOST, "--port", str(bp)], f"{tmp}/broker.log"))
        wait(lambda: listening(bp), "mf-broker", 30)
        user = Proc([os.path.join(b, "user-service"), "--server", url, "--db", f"{tmp}/u.db", "--http",
                     f"{HOST}:{up}", "--log-level", "warn"], f"{tmp}/user.log")
        procs.append(user)
        wait(lambda: listening(up), "user-service", 60)
        camp = Proc([os.path.join(b, "campaign-service"), "--server", url, "--db", f"{tmp}/c.db", "--http",
                     f"{HOST}:{cp}", "--user-service", "", "--log-level", "warn"], f"{tmp}/campaign.log")
        procs.append(camp)
        wait(lambda: listening(cp), "campaign-service", 60)
        # the HTTP port listens before the broker connection is up; the users' events published
        # before campaign-service subscribed would be lost to its view
        wait(lambda: http(cp, "GET", "/healthz")[1]["broker"]["connected"], "campaign-service's broker connection", 60)
        subs: List[int] = []
        wait(lambda: subs.append(varz(bp)["subscriptions"]) or (len(subs) > 3 and len(set(subs[-4:])) == 1),
             "the subscriptions to settle", 60)

        t0 = time.monotonic()
        lines = users_ndjson(args.users, 7)
        for i in range(0, len(lines), 10000):
            st, body = http(up, "POST", "/users/import", b"".join(lines[i:i + 10000]))
            if st != 200 or body["rejected"]:
                print(f"bench-campaign: import failed: {st} {body}")
                return 1
        t_import = time.monotonic() - t0
        wait(lambda: http(cp, "GET", "/stats")[1]["users"] >= args.users, "the campaign view", 1800)
        t_view = time.monotonic() - t0
        print(f"users: {args.users} imported into user-service in {t_import:.1f} s; "
              f"campaign-service's view complete after {t_view:.1f} s")

        base1 = baseline(args.build, url)
        cid, xid = str(uuid.uuid4()), str(uuid.uuid4())
        camp_json = {"campaign_id": cid, "name": "bench", "target_audience": {"user_segments": ["all_users"]},
                     "notification_template": {"title_template": "Hello {{name}}", "body_template": "A bench for {{email}}",
                                               "localization": {"de": {"title": "Hallo {{name}}", "body": "x"},
                                                                "fr": {"title": "Bonjour {{name}}", "body": "x"}}},
                     "schedule": {"type": "immediate"},
                     "settings": {"max_retries": 3, "batch_size": 1000, "respect_quiet_hours": False}}
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "transport"))
        from wsnats import WsNats  # noqa: E402
        c = WsNats(HOST, bp)
        c.connect()
        c.sub("campaign.status", "1")
        c.pub("campaign.create", json.dumps(camp_json).encode())
        c.flush()
        wait(lambda: http(cp, "GET", f"/campaigns/{cid}")[0] == 200, "the campaign", 60)
        broker = procs[0]
        v0, cpu_c0, cpu_u0, cpu_b0 = varz(bp), cpu_seconds(camp.p.pid), cpu_seconds(user.p.pid), cpu_seconds(broker.p.pid)
        th0 = thread_cpu(camp.p.pid)
        t1 = time.monotonic()
        c.pub("campaign.execute", json.dumps({"execution_id": xid, "campaign_id": cid,
                                              "execution_type": "immediate"}).encode())
        c.flush()
        # the end is the arrival of the final campaign.status (polling the admin API every 0.2 s
        # would add up to 10 % to a 2 s campaign)
        end = time.monotonic() + 3600
        while True:
            op = c.next_op(timeout=max(0.0, end - time.monotonic()))
            if op.kind != "MSG":
                continue
            status = json.loads(op.data)
            if status.get("execution_id") == xid and status.get("status") in ("completed", "failed"):
                break
        dt_run = time.monotonic() - t1
        th1 = thread_cpu(camp.p.pid)
        x = http(cp, "GET", f"/executions?campaign={cid}&limit=1")[1]["executions"][0]
        v1, cpu_c1, cpu_u1, cpu_b1 = varz(bp), cpu_seconds(camp.p.pid), cpu_seconds(user.p.pid), cpu_seconds(broker.p.pid)
        c.close()
        base2 = baseline(args.build, url)
        if x["status"] != "completed" or x["sent"] != args.users:
            print(f"bench-campaign: the execution ended {x}")
            return 1
        msgs = v1["in_msgs"] - v0["in_msgs"]
        base = (base1 + base2) / 2
        rate = msgs / dt_run
        print(f"campaign to {x['sent']} users: {dt_run:.1f} s, {x['sent'] / dt_run:.0f} notifications/s, "
              f"{x['batches']} batches")
        print(f"  broker messages it caused      {msgs:9d}  ({msgs / x['sent']:.2f} per notification)")
        print(f"  broker messages per second     {rate:9.0f}")
        print(f"  raw broker publish rate        {base:9.0f}  (bench-transport 1->1 before {base1:.0f}, after {base2:.0f})")
        print(f"  ratio caused / raw             {rate / base:9.3f}  (goal >= 0.5)")
        print(f"  CPU per notification           campaign-service {(cpu_c1 - cpu_c0) * 1e6 / x['sent']:.1f} us, "
              f"user-service {(cpu_u1 - cpu_u0) * 1e6 / x['sent']:.1f} us, mf-broker {(cpu_b1 - cpu_b0) * 1e6 / x['sent']:.1f} us")
        print(f"  CPU busy during the campaign   campaign-service {(cpu_c1 - cpu_c0) / dt_run:.2f}, "
              f"user-service {(cpu_u1 - cpu_u0) / dt_run:.2f}, mf-broker {(cpu_b1 - cpu_b0) / dt_run:.2f} cores")
        busy = sorted(((th1[t] - th0.get(t, 0.0)) / dt_run for t in th1), reverse=True)
        print("  campaign-service's threads     " + ", ".join(f"{b:.2f}" for b in busy if b >= 0.01) +
              f" cores (main thread {(th1.get(camp.p.pid, 0.0) - th0.get(camp.p.pid, 0.0)) / dt_run:.2f})")
        return 0
    finally:
        for p in reversed(procs):
            p.stop()
        if args.keep:
            print(f"logs and databases in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
