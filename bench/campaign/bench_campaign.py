#!/usr/bin/env python3
"""bench-campaign: campaigns to N users end to end (default 100,000), each between two
measurements of the raw broker publish rate on the same broker (the baseline).

    bench/campaign/bench_campaign.py --build build [--users 100000] [--runs 3]

Starts mf-broker, user-service and campaign-service on free loopback ports (fresh databases
in a temporary directory), waits until campaign-service is connected and its subscriptions
settled, imports N users into user-service (POST /users/import), waits until
campaign-service's view holds them (user.info.update, user.analytics,
notification.preferences.update through the broker), then runs --runs times:

  baseline  bench-transport --only mf --phases tp --repeat 3 against the same broker: 1->1 publish
            throughput (msg/s, 300-byte payloads, median of 3), before and after the campaign;
  campaign  campaign.create (all_users, batches of 1,000, no rate limit, quiet hours not
            respected so that every user is sent to now) and campaign.execute; timed from the
            execute to the arrival of its final campaign.status (completed), and to that of its
            running one (the execution and its snapshot of targets committed: the launch).

Prints per run: notifications per second; the messages the campaign made the broker carry
(user.info.request and replies, pushes, analytics, status: the broker's in_msgs from /varz)
per second and their ratio to the baseline (goal >= 0.5: the services, not the transport,
are the limit); the CPU time of campaign-service, user-service and mf-broker per notification
and the cores each kept busy (/proc/PID/stat), campaign-service's per thread; each process's
minor page faults (the first run after the import touches the services' mapped database pages
for the first time: on a VM whose faults are slow that run is the slowest); then the medians.
Exit status 1 when something does not run or a campaign does not complete with every user sent.
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
import statistics
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


def switches(pid: int) -> Tuple[int, int]:
    """The main thread's (the engine's) voluntary and involuntary context switches."""
    v = n = 0
    with open(f"/proc/{pid}/task/{pid}/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                v = int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt_switches:"):
                n = int(line.split()[1])
    return v, n


def schedstat(pid: int) -> Tuple[float, float]:
    """The main thread's (the engine's) seconds on a CPU and seconds runnable but waiting for one
    (/proc/PID/task/TID/schedstat: the scheduler's own clock, not ticks)."""
    with open(f"/proc/{pid}/task/{pid}/schedstat") as f:
        run_ns, wait_ns = f.read().split()[:2]
    return int(run_ns) / 1e9, int(wait_ns) / 1e9


def minor_faults(pid: int) -> int:
    """The process's minor page faults so far (/proc/PID/stat minflt): a service's first touch of
    its database's memory map after another process or a pwrite filled the pages."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])


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


def campaign_json(cid: str) -> Dict[str, Any]:
    return {"campaign_id": cid, "name": "bench", "target_audience": {"user_segments": ["all_users"]},
            "notification_template": {"title_template": "Hello {{name}}", "body_template": "A bench for {{email}}",
                                      "localization": {"de": {"title": "Hallo {{name}}", "body": "x"},
                                                       "fr": {"title": "Bonjour {{name}}", "body": "x"}}},
            "schedule": {"type": "immediate"},
            "settings": {"max_retries": 3, "batch_size": 1000, "respect_quiet_hours": False}}


def await_final_status(c: Any, xid: str, timeout: float) -> Optional[float]:
    """Reads campaign.status messages until the execution's completed or failed one (its
    arrival ends the timed window: polling the admin API every 0.2 s would add up to 10 %).
    Returns when its running one arrived (time.monotonic()), None if none did: campaign-service
    publishes it once the execution and its targets are committed, before the first batch."""
    end = time.monotonic() + timeout
    running = None
    while True:
        op = c.next_op(timeout=max(0.0, end - time.monotonic()))
        if op.kind != "MSG":
            continue
        status = json.loads(op.data)
        if status.get("execution_id") != xid:
            continue
        if status.get("status") == "running" and running is None:
            running = time.monotonic()
        if status.get("status") in ("completed", "failed"):
            return running


def one_campaign(args: argparse.Namespace, url: str, c: Any, bp: int, cp: int,
                 procs: Dict[str, "Proc"]) -> Optional[Dict[str, Any]]:
    """One campaign to every user, between two baselines; None when it does not complete."""
    base1 = baseline(args.build, url)
    cid, xid = str(uuid.uuid4()), str(uuid.uuid4())
    c.pub("campaign.create", json.dumps(campaign_json(cid)).encode())
    c.flush()
    wait(lambda: http(cp, "GET", f"/campaigns/{cid}")[0] == 200, "the campaign", 60)
    camp_pid = procs["campaign-service"].p.pid
    v0 = varz(bp)
    cpu0 = {k: cpu_seconds(p.p.pid) for k, p in procs.items()}
    flt0 = {k: minor_faults(p.p.pid) for k, p in procs.items()}
    th0, sw0, ss0 = thread_cpu(camp_pid), switches(camp_pid), schedstat(camp_pid)
    t1 = time.monotonic()
    c.pub("campaign.execute", json.dumps({"execution_id": xid, "campaign_id": cid,
                                          "execution_type": "immediate"}).encode())
    c.flush()
    running = await_final_status(c, xid, 3600)
    dt = time.monotonic() - t1
    th1, sw1, ss1 = thread_cpu(camp_pid), switches(camp_pid), schedstat(camp_pid)
    cpu1 = {k: cpu_seconds(p.p.pid) for k, p in procs.items()}
    flt1 = {k: minor_faults(p.p.pid) for k, p in procs.items()}
    v1 = varz(bp)
    x = http(cp, "GET", f"/executions?campaign={cid}&limit=1")[1]["executions"][0]
    base2 = baseline(args.build, url)
    if x["status"] != "completed" or x["sent"] != args.users:
        print(f"bench-campaign: the execution ended {x}")
        return None
    msgs = v1["in_msgs"] - v0["in_msgs"]
    base = (base1 + base2) / 2
    return {"sent": x["sent"], "batches": x["batches"], "seconds": dt, "msgs": msgs, "base": base,
            "launch": running - t1 if running is not None else None,
            "base1": base1, "base2": base2, "ratio": msgs / dt / base,
            "cpu": {k: cpu1[k] - cpu0[k] for k in procs}, "faults": {k: flt1[k] - flt0[k] for k in procs},
            "threads": sorted(((th1[t] - th0.get(t, 0.0)) / dt for t in th1), reverse=True),
            "main_thread": (th1.get(camp_pid, 0.0) - th0.get(camp_pid, 0.0)) / dt,
            "switches": (sw1[0] - sw0[0], sw1[1] - sw0[1]),
            "engine_run": (ss1[0] - ss0[0]) / dt, "engine_runnable": (ss1[1] - ss0[1]) / dt}


def report(run: int, r: Dict[str, Any]) -> None:
    n, dt = r["sent"], r["seconds"]
    print(f"run {run}: campaign to {n} users: {dt:.2f} s, {n / dt:.0f} notifications/s, {r['batches']} batches")
    if r["launch"] is not None:
        print(f"  running after                  {r['launch'] * 1e3:9.1f} ms  (the execution and its targets "
              f"committed; {r['launch'] / dt:.0%} of the campaign, no batch before it)")
    print(f"  broker messages it caused      {r['msgs']:9d}  ({r['msgs'] / n:.2f} per notification)")
    print(f"  broker messages per second     {r['msgs'] / dt:9.0f}")
    print(f"  raw broker publish rate        {r['base']:9.0f}  (bench-transport 1->1 before {r['base1']:.0f}, "
          f"after {r['base2']:.0f})")
    print(f"  ratio caused / raw             {r['ratio']:9.3f}  (goal >= 0.5)")
    print("  CPU per notification           " +
          ", ".join(f"{k} {v * 1e6 / n:.1f} us" for k, v in r["cpu"].items()))
    print("  minor page faults              " + ", ".join(f"{k} {v}" for k, v in r["faults"].items()) +
          "  (first touches: mapped database pages, new heap)")
    print("  CPU busy during the campaign   " + ", ".join(f"{k} {v / dt:.2f}" for k, v in r["cpu"].items()) + " cores")
    print("  campaign-service's threads     " + ", ".join(f"{b:.2f}" for b in r["threads"] if b >= 0.01) +
          f" cores (main thread: the engine, {r['main_thread']:.2f})")
    print(f"  the engine thread's switches   {r['switches'][0] / n:.3f} voluntary, {r['switches'][1] / n:.3f} "
          "involuntary per notification")
    idle = max(0.0, 1.0 - r["engine_run"] - r["engine_runnable"])
    print(f"  the engine thread's time       {r['engine_run']:.0%} on a CPU, {r['engine_runnable']:.0%} runnable "
          f"waiting for one, {idle:.0%} asleep")



def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--users", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=3, help="campaigns to run, one after the other (default 3)")
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

        print(f"pids: mf-broker {procs[0].p.pid}, user-service {user.p.pid}, campaign-service {camp.p.pid}")
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

        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "transport"))
        from wsnats import WsNats  # noqa: E402
        c = WsNats(HOST, bp)
        c.connect()
        c.sub("campaign.status", "1")
        c.flush()
        ratios, rates = [], []
        for run in range(1, args.runs + 1):
            r = one_campaign(args, url, c, bp, cp, {"campaign-service": camp, "user-service": user,
                                                    "mf-broker": procs[0]})
            if r is None:
                return 1
            report(run, r)
            ratios.append(r["ratio"])
            rates.append(r["sent"] / r["seconds"])
        c.close()
        met = sum(1 for x in ratios if x >= 0.5)
        print(f"median of {args.runs} runs: {statistics.median(rates):.0f} notifications/s, ratio "
              f"{statistics.median(ratios):.3f} (goal >= 0.5 met in {met} of {args.runs})")
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
