#!/usr/bin/env python3
"""Load on one broker (mf-broker or nats-server), loopback only, with counts (docs/RELIABILITY.md).

    load.py --server mf-broker   --binary build/bin/mf-broker   [--phase conns|match|all] [options]
    load.py --server nats-server --binary /usr/sbin/nats-server [...]

conns: `--conns` WebSocket connections (default 1,000) read by this process, each subscribed to its own subject
  and to a broadcast subject; one publisher sends `--rate` messages/s round robin to the
  connections' own subjects and `--bcast-rate` broadcasts/s to all of them, for `--seconds`,
  from a second process.
  One more subscriber never reads (a 4 KB receive buffer) and also takes 64 KB messages
  (`--bulk-rate`/s) until the broker cuts it as a slow consumer (both servers get
  max_pending 8 MB). Reported: the broker's RSS (idle, with the connections, peak), the
  delivery latency (p50/p99/max from the publisher's clock reading to the subscriber's,
  CLOCK_MONOTONIC; Python reads 1,000 sockets in one thread, so an upper bound), the time
  the publisher was blocked writing, whether the stalled one was cut, and every other connection's count,
  which must be exact (no message lost, none twice).
match: `--wild-subs` subscriptions (default 10,000) over 10 connections, a quarter each of
  w.A.B.C, w.A.*.C, w.*.B.C and w.A.B.q.> (A, B, C numbers); then three rounds of
  `--match-msgs` messages to w.A.B.x (none of them matches, so nothing is delivered and only
  the walk through the subscriptions is measured), each after a round to v.A.B.x (no
  subscription under v): the broker's CPU time per message (/proc/PID/stat, 10 ms ticks),
  medians, and the difference.

One line of results (key=value) per phase. Exit status 0 when every count was exact, the
stalled subscriber was cut and every subscription was accepted; 1 otherwise or when the
server cannot be started (a missing binary exits 77 with MF_ALLOW_SKIP=1).
"""

import argparse
import os
import random
import select
import shutil
import socket
import struct
import sys
import multiprocessing
import queue
import tempfile
import time
from typing import Any, Dict, List, Optional

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "transport"))
from conformance_lib import Server  # noqa: E402
from wsnats import Closed, WsNats  # noqa: E402

MAX_PENDING = 8 << 20
TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def proc_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def result(fields: Dict[str, Any]) -> None:
    print(" ".join(f"{k}={v}" for k, v in fields.items()), flush=True)


class Conn:
    """A subscriber read without blocking: bytes from the socket go through WsNats' parser."""

    def __init__(self, srv: Server, i: int) -> None:
        self.i = i
        self.c = srv.client(timeout=60)
        self.c.sub(f"load.c.{i}", "1")
        self.c.sub("load.all", "2")
        self.seen: set = set()
        self.count = self.dups = 0
        self.errors: List[str] = []
        self.raw = self.stream = b""

    def start(self) -> None:
        self.c.flush()
        if self.c.raw or self.c.stream or self.c.pending:
            raise AssertionError(f"connection {self.i}: unexpected data after the subscriptions")
        self.c.sock.setblocking(False)

    def drain(self, lat: List[int], lat_direct: List[int]) -> None:
        """Reads what is there and parses it with a lean parser of its own (WsNats' general one
        costs too much per message for 1,000 sockets in one thread): server frames are never
        masked; only MSG, PING, PONG, +OK and -ERR can come."""
        try:
            chunk = self.c.sock.recv(1 << 20)
        except BlockingIOError:
            return
        if not chunk:
            raise Closed()
        now = time.monotonic_ns()
        raw = self.raw + chunk if self.raw else chunk
        pos, n, parts = 0, len(raw), []
        while n - pos >= 2:
            b0, ln = raw[pos], raw[pos + 1] & 0x7F
            off = pos + 2
            if ln == 126:
                if n - pos < 4:
                    break
                ln, off = struct.unpack_from("!H", raw, pos + 2)[0], pos + 4
            elif ln == 127:
                if n - pos < 10:
                    break
                ln, off = struct.unpack_from("!Q", raw, pos + 2)[0], pos + 10
            if n < off + ln:
                break
            if b0 & 0x0F == 8:
                raise Closed()
            if b0 & 0x0F in (0, 1, 2):
                parts.append(raw[off:off + ln])
            pos = off + ln
        self.raw = raw[pos:]
        st = self.stream + b"".join(parts) if self.stream else b"".join(parts)
        p, n = 0, len(st)
        while True:
            i = st.find(b"\r\n", p)
            if i < 0:
                break
            if st.startswith(b"MSG ", p):
                head = st[p:i].split()
                size = int(head[-1])
                end = i + 2 + size
                if n < end + 2:
                    break
                seq, sent = struct.unpack_from("!QQ", st, i + 2)
                lat.append(now - sent)
                if head[2] == b"1":
                    lat_direct.append(now - sent)
                if seq in self.seen:
                    self.dups += 1
                self.seen.add(seq)
                self.count += 1
                p = end + 2
                continue
            line = st[p:i]
            p = i + 2
            if line == b"PING":
                self.c.sock.setblocking(True)
                self.c.send(b"PONG\r\n")
                self.c.sock.setblocking(False)
            elif line.startswith(b"-ERR"):
                self.errors.append(line.decode(errors="replace"))
        self.stream = st[p:]


def payload(seq: int, size: int) -> bytes:
    return struct.pack("!QQ", seq, time.monotonic_ns()) + b"x" * (size - 16)


def pct(xs: List[int], p: float) -> float:
    return xs[min(len(xs) - 1, int(len(xs) * p))] / 1e6 if xs else -1.0


def stalled_cut(stalled: WsNats, timeout: float) -> str:
    """Reads what the broker queued for the stalled subscriber; how its connection ended."""
    stalled.sock.settimeout(None)
    deadline = time.monotonic() + timeout
    err = ""
    try:
        while time.monotonic() < deadline:
            op = stalled.next_op(timeout=max(0.01, deadline - time.monotonic()))
            if op.kind == "-ERR":
                err = op.text
    except Closed as e:
        return f"closed({e.code or 'eof'}{',' + err.replace(' ', '_') if err else ''})"
    except TimeoutError:
        pass
    except OSError as e:
        return f"closed({type(e).__name__})"
    return "not_cut"


def publish_load(srv: Server, args: argparse.Namespace, q: "multiprocessing.Queue[Dict[str, Any]]") -> None:
    """The steady publisher, in its own process: a server that stalls it must not stall the
    subscribers' reading, and Python's lock must not delay them. Puts its counts on q."""
    counts: Dict[str, Any] = {"direct": 0, "bcast": 0, "bulk": 0, "blocked_s": 0.0}
    try:
        pub = srv.client(timeout=60)
        seq = 0
        start = time.monotonic()
        end = start + args.seconds
        next_direct = next_bcast = next_bulk = start
        bulk = b"b" * (64 << 10)
        while True:
            now = time.monotonic()
            if now >= end:
                break
            out = []
            while next_direct <= now:
                i = counts["direct"] % args.conns
                out.append((f"load.c.{i}", payload(seq, args.size)))
                seq += 1
                counts["direct"] += 1
                next_direct += 1.0 / args.rate
            while next_bcast <= now:
                out.append(("load.all", payload(seq, args.size)))
                seq += 1
                counts["bcast"] += 1
                next_bcast += 1.0 / args.bcast_rate
            while args.bulk_rate > 0 and next_bulk <= now:
                out.append(("load.bulk", bulk))
                counts["bulk"] += 1
                next_bulk += 1.0 / args.bulk_rate
            t = time.monotonic()
            for k in range(0, len(out), 8):  # frames well under the 4 MB WebSocket message limit
                pub.send(b"".join(b"PUB %s %d\r\n%s\r\n" % (s.encode(), len(d), d) for s, d in out[k:k + 8]))
            if time.monotonic() - t > 0.1:
                counts["blocked_s"] += time.monotonic() - t
            time.sleep(max(0.0, min(next_direct, next_bcast, end) - time.monotonic()))  # pacing
        pub.flush()  # every PUB processed by the broker
        pub.close()
    except (OSError, Closed, TimeoutError, AssertionError) as e:
        counts["error"] = f"{type(e).__name__}: {e}"
    q.put(counts)


def conns_phase(srv: Server, args: argparse.Namespace) -> bool:
    pid = srv.proc.pid
    rss_idle = proc_kb(pid, "VmRSS")
    t0 = time.monotonic()
    conns = [Conn(srv, i) for i in range(args.conns)]
    for c in conns:
        c.start()
    connect_s = time.monotonic() - t0
    stalled = srv.client(rcvbuf=4096, timeout=60)
    stalled.sub("load.all", "1")
    stalled.sub("load.bulk", "2")
    stalled.flush()
    rss_conns = proc_kb(pid, "VmRSS")
    ep = select.epoll()
    by_fd = {c.c.sock.fileno(): c for c in conns}
    for fd in by_fd:
        ep.register(fd, select.EPOLLIN)
    lat: List[int] = []
    lat_direct: List[int] = []
    closed: List[int] = []
    q: "multiprocessing.Queue[Dict[str, Any]]" = multiprocessing.Queue()
    publisher = multiprocessing.Process(target=publish_load, args=(srv, args, q), daemon=True)
    publisher.start()
    counts: Optional[Dict[str, Any]] = None
    while counts is None:
        for fd, _ in ep.poll(0.05):
            try:
                by_fd[fd].drain(lat, lat_direct)
            except Closed:
                ep.unregister(fd)
                closed.append(by_fd[fd].i)
        try:
            counts = q.get_nowait()
        except queue.Empty:
            if not publisher.is_alive() and q.empty():
                raise AssertionError(f"the publisher died ({publisher.exitcode})")
    publisher.join(10)
    if "error" in counts:
        raise AssertionError(f"publisher: {counts['error']}")
    sent, bcasts, bulks = counts["direct"], counts["bcast"], counts["bulk"]
    expected = [bcasts + sent // args.conns + (1 if i < sent % args.conns else 0) for i in range(args.conns)]
    rss_peak = proc_kb(pid, "VmHWM")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(c.count < expected[c.i] for c in conns if c.i not in closed):
        for fd, _ in ep.poll(0.2):
            try:
                by_fd[fd].drain(lat, lat_direct)
            except Closed:
                ep.unregister(fd)
                closed.append(by_fd[fd].i)
    cut = stalled_cut(stalled, 30)
    short = sum(1 for c in conns if c.count < expected[c.i])
    over = sum(1 for c in conns if c.count > expected[c.i])
    dups = sum(c.dups for c in conns)
    errs = sum(len(c.errors) for c in conns)
    lat.sort()
    lat_direct.sort()
    deliveries = sum(expected)
    exact = short == 0 and over == 0 and dups == 0 and not closed and errs == 0
    result({"test": "load-conns", "server": srv.kind, "conns": args.conns, "seconds": args.seconds,
            "direct_msgs": sent, "broadcasts": bcasts, "deliveries_expected": deliveries,
            "deliveries": sum(c.count for c in conns), "conns_short": short, "conns_over": over,
            "duplicates": dups, "conns_closed": len(closed), "errors": errs, "exact": int(exact),
            "latency_ms_p50": f"{pct(lat, 0.5):.2f}", "latency_ms_p99": f"{pct(lat, 0.99):.2f}",
            "latency_ms_max": f"{pct(lat, 1.0):.2f}", "direct_latency_ms_p50": f"{pct(lat_direct, 0.5):.2f}",
            "direct_latency_ms_p99": f"{pct(lat_direct, 0.99):.2f}", "publisher_blocked_s": f"{counts['blocked_s']:.1f}",
            "bulk_msgs": bulks, "stalled": cut,
            "rss_kb_idle": rss_idle, "rss_kb_conns": rss_conns, "rss_kb_peak": rss_peak,
            "connect_s": f"{connect_s:.1f}"})
    for c in conns:
        c.c.sock.setblocking(True)
        c.c.close()
    stalled.close()
    return exact and cut.startswith("closed")


def wild_patterns(n: int, rng: random.Random) -> List[str]:
    out = []
    for k in range(n):
        a, b, c = rng.randrange(100), rng.randrange(100), rng.randrange(100)
        out.append([f"w.{a}.{b}.{c}", f"w.{a}.*.{c}", f"w.*.{b}.{c}", f"w.{a}.{b}.q.>"][k % 4])
    return out


def publish_unmatched(pub: WsNats, prefix: bytes, n: int, rng: random.Random) -> None:
    for base in range(0, n, 500):
        pub.send(b"".join(b"PUB %s.%d.%d.x 8\r\n12345678\r\n" % (prefix, rng.randrange(100), rng.randrange(100))
                          for _ in range(min(500, n - base))))
    pub.flush()


def cpu_per_msg_us(pid: int, pub: WsNats, prefix: bytes, n: int, rng: random.Random) -> float:
    c0 = proc_cpu_s(pid)
    publish_unmatched(pub, prefix, n, rng)
    return (proc_cpu_s(pid) - c0) / n * 1e6


def match_phase(srv: Server, args: argparse.Namespace) -> bool:
    """Rounds alternate between subjects under w (the subscriptions' first token: the whole
    trie below it is walked) and under v (no subscription: the lookup ends at once)."""
    pid = srv.proc.pid
    rng = random.Random(7)
    pub = srv.client(timeout=120)
    subs = [srv.client(timeout=120) for _ in range(10)]
    pats = wild_patterns(args.wild_subs, rng)
    per = (len(pats) + 9) // 10
    errors = 0
    for j, s in enumerate(subs):
        mine = pats[j * per:(j + 1) * per]
        s.send(b"".join(b"SUB %s %d\r\n" % (p.encode(), k + 1) for k, p in enumerate(mine)))
        s.flush()
        errors += sum(1 for op in s.drain_msgs(0.05) if op.kind == "-ERR")
    rss = proc_kb(pid, "VmRSS")
    publish_unmatched(pub, b"w", 5000, rng)  # warm up
    base, wild = [], []
    for _ in range(3):
        base.append(cpu_per_msg_us(pid, pub, b"v", args.match_msgs, rng))
        wild.append(cpu_per_msg_us(pid, pub, b"w", args.match_msgs, rng))
    base.sort()
    wild.sort()
    delivered = sum(len([op for op in s.drain_msgs(0.1) if op.kind == "MSG"]) for s in subs)
    ok = errors == 0 and delivered == 0
    result({"test": "load-match", "server": srv.kind, "subscriptions": len(pats), "msgs": args.match_msgs,
            "rounds": 3, "cpu_us_per_msg_unmatched_prefix": f"{base[1]:.2f}",
            "cpu_us_per_msg_through_subs": f"{wild[1]:.2f}", "matching_us_per_msg": f"{wild[1] - base[1]:.2f}",
            "sub_errors": errors, "delivered": delivered, "rss_kb_with_subs": rss, "tick_ms": 1000 // TICK})
    for s in subs:
        s.close()
    pub.close()
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", choices=("mf-broker", "nats-server"), required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--phase", choices=("conns", "match", "all"), default="all")
    ap.add_argument("--conns", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rate", type=float, default=1000, help="direct messages per second (round robin)")
    ap.add_argument("--bcast-rate", type=float, default=5, help="broadcasts to every connection per second")
    ap.add_argument("--bulk-rate", type=float, default=100, help="64 KB messages per second to the stalled one")
    ap.add_argument("--size", type=int, default=128, help="payload bytes (>= 16)")
    ap.add_argument("--wild-subs", type=int, default=10000)
    ap.add_argument("--match-msgs", type=int, default=500000, help="messages per measured round")
    args = ap.parse_args()
    if args.conns < 1 or args.seconds <= 0 or args.rate <= 0 or args.bcast_rate <= 0 or args.size < 16:
        ap.error("--conns >= 1, --seconds, --rate, --bcast-rate > 0, --size >= 16")
    if not (os.path.isfile(args.binary) and os.access(args.binary, os.X_OK)):
        if os.environ.get("MF_ALLOW_SKIP") == "1":
            print(f"SKIP: {args.binary} is not an executable (MF_ALLOW_SKIP=1)")
            return 77
        print(f"FAIL: {args.binary} is not an executable: cannot run the test")
        return 1
    top = tempfile.mkdtemp(prefix="mf-load-")
    ok = True
    try:
        for phase in (("conns", "match") if args.phase == "all" else (args.phase,)):
            cfg = {"max_pending": MAX_PENDING, "max_connections": max(1024, args.conns + 64),
                   "max_subs": 0}
            if args.server == "mf-broker":
                cfg["max_connecting"] = max(256, args.conns + 64)
            srv = Server(args.server, args.binary, cfg, top)
            try:
                srv.start()
            except RuntimeError as e:
                print(f"FAIL: {e}")
                return 1
            try:
                ok &= conns_phase(srv, args) if phase == "conns" else match_phase(srv, args)
            except (OSError, Closed, AssertionError) as e:
                print(f"FAIL: {phase}: {type(e).__name__}: {e}; the server's log: {srv.log}")
                ok = False
            finally:
                if srv.proc.poll() is not None:
                    print(f"FAIL: {srv.kind} exited during {phase} ({srv.proc.returncode})")
                    ok = False
                srv.stop()
    finally:
        if ok:
            shutil.rmtree(top, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
