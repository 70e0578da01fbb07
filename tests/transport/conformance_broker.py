"""Broker-only conformance cases: mf-broker's own features (its flags, /healthz and /varz,
close codes, the lingering close, shutdown), not run against nats-server.
"""

import json
import os
import re
import signal
import socket
import subprocess
import time
import traceback

from conformance_lib import HOST, Server, case, check, expect_closed_after_err, free_port
from wsnats import Closed, HandshakeRefused, WsNats, http_get

# ====================================================================== broker-only cases

@case(shared=False)
def http_healthz(srv):
    st, hdrs, body = http_get(HOST, srv.port, "/healthz")
    check(st == 200 and json.loads(body) == {"status": "ok"}, f"{st} {body}")
    check(hdrs.get("content-type", "").startswith("application/json"), f"content-type {hdrs}")
    st, _, body = http_get(HOST, srv.port, "/nope")
    check(st == 404, f"unknown path: {st}")


@case(shared=False, tls=True)
def https_healthz_alpn_http11(srv):
    """Over TLS the broker answers by ALPN with http/1.1, never h2: its parser speaks HTTP/1.1
    only, and a client offering both (curl does) used to get h2 and then no reply at all. A
    client offering h2 alone gets no protocol and is still answered in HTTP/1.1."""
    for offer, want in ((["h2", "http/1.1"], "http/1.1"), (["h2"], None), (None, None)):
        ctx = srv.ssl_context()
        if offer:
            ctx.set_alpn_protocols(offer)
        s = ctx.wrap_socket(socket.create_connection((HOST, srv.port), timeout=5), server_hostname=HOST)
        got = s.selected_alpn_protocol()
        if got != want:
            s.close()
        check(got == want, f"offered {offer}: ALPN {got!r}")
        st, _, body = http_get(HOST, srv.port, "/healthz", sock=s)
        check(st == 200 and json.loads(body) == {"status": "ok"}, f"offered {offer}: {st} {body[:200]!r}")


def _kernel_version():
    """(major, minor) of the running Linux kernel, (0, 0) when it cannot be read."""
    try:
        major, minor = os.uname().release.split(".")[:2]
        return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)
    except ValueError:
        return (0, 0)


@case(shared=False)
def service_thread_short_slice(srv):
    """The service thread runs with a 0.1 ms scheduler slice (docs/broker.md, Scheduling) where
    the kernel has custom slices (Linux >= 6.12, shown as se.slice in /proc/PID/sched)."""
    c = srv.client()
    c.flush()  # the service loop has started
    with open(f"/proc/{srv.proc.pid}/sched") as f:  # the main thread is the service thread
        fields = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in f if line.count(":") == 1)}
    slice_ns = fields.get("se.slice", "")
    if _kernel_version() >= (6, 12):
        check(slice_ns == "100000", f"service thread se.slice {slice_ns!r}, expected 100000 (0.1 ms)")
    c.close()


@case(shared=False)
def http_varz_counters(srv):
    def varz():
        st, _, body = http_get(HOST, srv.port, "/varz")
        check(st == 200, f"/varz status {st}")
        return json.loads(body)
    v0 = varz()
    for k in ("server_id", "version", "uptime", "connections", "total_connections", "subscriptions", "in_msgs",
              "out_msgs", "in_bytes", "out_bytes", "slow_consumers", "dropped_msgs", "max_payload"):
        check(k in v0, f"/varz lacks {k}")
    s = srv.client()
    s.sub("vz.x", "1")
    s.sub("vz.y", "2")
    s.flush()
    p = srv.client()
    p.pub("vz.x", b"12345")
    p.pub("vz.nobody", b"123")
    p.flush()
    s.expect("MSG")
    v = varz()
    check(v["connections"] == v0["connections"] + 2, f"connections {v['connections']}")
    check(v["total_connections"] == v0["total_connections"] + 2, "total_connections")
    check(v["subscriptions"] == v0["subscriptions"] + 2, f"subscriptions {v['subscriptions']}")
    check(v["in_msgs"] == v0["in_msgs"] + 2 and v["in_bytes"] == v0["in_bytes"] + 8, f"in {v}")
    check(v["out_msgs"] == v0["out_msgs"] + 1 and v["out_bytes"] == v0["out_bytes"] + 5, f"out {v}")
    check(v["server_id"] == s.info["server_id"], "same server_id as INFO")
    s.close()
    p.close()
    deadline = time.monotonic() + 3
    while varz()["connections"] != v0["connections"] and time.monotonic() < deadline:
        time.sleep(0.05)
    v = varz()
    check(v["connections"] == v0["connections"] and v["subscriptions"] == v0["subscriptions"],
          f"after disconnect: {v['connections']} connections, {v['subscriptions']} subscriptions")


@case(shared=False)
def subprotocol_selection(srv):
    # no Sec-WebSocket-Protocol (nats.ws and most clients) and "nats" both work
    for sp in (None, "nats"):
        c = srv.client(subprotocol=sp)
        c.sub("sp.x", "1")
        c.pub("sp.x", b"1")
        c.expect("MSG")
        c.close()
    try:
        srv.client(subprotocol="mqtt")
        raise AssertionError("an unknown subprotocol must be refused")
    except (HandshakeRefused, Closed, ConnectionError):
        pass


@case(shared=False)
def close_status_1000_and_coalescing(srv):
    s = srv.client()
    s.sub("co.x", "1")
    s.flush()
    p = srv.client()
    n = 2000
    p.send(b"".join(b"PUB co.x 10\r\n0123456789\r\n" for _ in range(n)))
    p.flush()
    before = s.frames_received
    got = 0
    while got < n:
        if s.next_op(5).kind == "MSG":
            got += 1
    frames = s.frames_received - before
    check(frames < n / 10, f"{n} messages arrived in {frames} websocket frames (write coalescing)")
    s.send(b"BOGUS\r\n")
    expect_closed_after_err(s, "Unknown Protocol Operation", srv)
    p.close()


@case(shared=False, ws_max_message=1024)
def ws_max_message_1009(srv):
    c = srv.client()
    c.send_fragmented(b"PUB wm.x 2000\r\n" + b"x" * 2000 + b"\r\n", 500)
    code = c.wait_closed(3)
    check(code == 1009, f"close status for an oversized websocket message: {code}")
    check(c.close_reason == b"Maximum Message Size Exceeded", f"close reason: {c.close_reason!r}")


def oversize_pub_in_one_write(srv, i, n):
    """One websocket message 'PUB <n bytes>' + payload, written at once by a client whose
    send buffer is small (so the write blocks until the broker reads) and that reads only
    after the write: the -ERR must arrive, then the close frame with its reason."""
    c = srv.client()
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    try:
        c.send(b"PUB lc.x %d\r\n" % n + b"a" * n + b"\r\n")
    except OSError as e:
        raise AssertionError(f"attempt {i}: the write failed ({e!r}): the broker reset the connection")
    ops = []
    try:
        while True:
            ops.append(c.next_op(5))
    except Closed as e:
        code, reason = e.code, e.reason
    errs = [o.text for o in ops if o.kind == "-ERR"]
    check(errs == ["Maximum Payload Violation"], f"attempt {i}: -ERR lost or wrong: {ops}, close {code}")
    check((code, reason) == (1000, b"Maximum Payload Violation"), f"attempt {i}: close frame {code} {reason!r}")


@case(shared=False)
def lingering_close_keeps_err(srv):
    """The lingering close: after an error the broker reads and discards what the client is
    still sending until the client's close frame, so the socket is never closed with unread
    data (a RST that can make the client lose the -ERR). nats-server 2.9 does not linger
    (docs/interop.md, "Known issues"), so this case is mf-broker's only."""
    for i in range(50):
        oversize_pub_in_one_write(srv, i, 2 * 1024 * 1024)
    # the server is fine afterwards
    s = srv.client()
    s.sub("lc.ok", "1")
    p = srv.client()
    p.pub("lc.ok", b"fine")
    check(s.expect("MSG").data == b"fine", "serving after the violations")
    s.close()
    p.close()


@case(shared=False, ws_max_message=256 * 1024, max_payload=1024)
def lingering_close_bounds(srv):
    """The lingering close ends: at the peer's close frame (the normal case); 3 s after the
    error when the peer never answers the close frame; early when the peer keeps sending
    more than --ws-max-message bytes after the error."""
    # no answer to the close frame, but the socket stays open: dropped at the grace (3 s)
    c = srv.client()
    t0 = time.monotonic()
    c.send(b"FOO\r\n")
    data = b""
    c.sock.settimeout(8)
    while True:
        chunk = c.sock.recv(65536)
        if not chunk:
            break
        data += chunk
    dt = time.monotonic() - t0
    check(b"-ERR 'Unknown Protocol Operation'" in data, f"-ERR before the drop: {data[-80:]!r}")
    check(b"\x88\x1c\x03\xe8Unknown Protocol Operation" in data, f"close frame with the reason: {data[-80:]!r}")
    check(2.5 <= dt <= 4.5, f"dropped {dt:.2f} s after the error (grace 3 s)")
    c.sock.close()
    # a peer flooding after the error: not read past the budget, dropped long before the grace
    f = srv.client()
    f.send(b"FOO\r\n")
    t0 = time.monotonic()
    sent = 0
    try:
        while time.monotonic() - t0 < 5:
            f.send_frame(b"x" * 65536)
            sent += 65536
    except OSError:
        pass
    dt = time.monotonic() - t0
    check(dt < 2.0, f"a flooding peer was still read {dt:.2f} s after the error ({sent} bytes sent)")
    check(sent < 64 * 1024 * 1024, f"{sent} bytes were accepted after the error")
    f.sock.close()
    # the ordinary case in this configuration too
    oversize_pub_in_one_write(srv, 0, 100 * 1024)


@case(shared=False, origins=["https://good.example"])
def allowed_origins(srv):
    c = srv.client(origin="https://good.example")
    c.close()
    for bad in ("https://evil.example", None):
        try:
            srv.client(origin=bad)
            raise AssertionError(f"origin {bad} must be refused")
        except (HandshakeRefused, Closed, ConnectionError):
            pass


@case(shared=False, ping_interval=1, max_pings_out=2)
def idle_ping_and_stale(srv):
    c = srv.client()
    op = c.next_op(3, skip_pings=False)
    check(op.kind == "PING", f"server PINGs an idle client: {op}")
    c.auto_pong = False
    err, _ = expect_closed_after_err(c, "Stale Connection", srv, timeout=6)
    # a client that answers stays: more PINGs (1 s apart) than max_pings_out, each answered
    d = srv.client()
    for i in range(3):
        op = d.next_op(15, skip_pings=False)  # answered by auto_pong
        check(op.kind == "PING", f"PING {i + 1} from the server: {op}")
    d.flush()
    check(d.server_pings == 3, f"answered PINGs: {d.server_pings}")
    d.close()


@case(shared=False, auth_timeout=1)
def connect_timeout(srv):
    c = srv.client(connect=False)
    expect_closed_after_err(c, "Authentication Timeout", srv, timeout=4)


@case(shared=False)
def defaults_before_connect(srv):
    # like nats-server: verbose and pedantic hold until CONNECT says otherwise
    c = srv.client(connect=False)
    c.send(b"SUB pre.x 1\r\n")
    c.expect("+OK")
    c.send(b'CONNECT {"lang":"py"}\r\nPING\r\n')  # verbose not given: stays on
    c.expect("+OK")
    c.expect("PONG")
    c.close()


@case(shared=False, max_payload=2048, max_subs=2, max_connections=50, max_pending=65536)
def flags_reach_varz(srv):
    st, _, body = http_get(HOST, srv.port, "/varz")
    v = json.loads(body)
    check((v["max_payload"], v["max_subscriptions"], v["max_connections"], v["max_pending"]) ==
          (2048, 2, 50, 65536), f"{v}")


# ====================================================================== process-level (broker only)

def process_cases(binary, workdir):
    """SIGTERM closes clients with 1000 and exits 0; --help; bad flags."""
    results = []

    def run(name, fn):
        t0 = time.monotonic()
        try:
            fn()
            results.append((name, True, "", time.monotonic() - t0))
        except Exception as e:  # noqa: BLE001
            results.append((name, False, f"{e}\n{traceback.format_exc()}", time.monotonic() - t0))

    def sigterm():
        srv = Server("mf-broker", binary, {}, workdir).start()
        check(srv.stdout_lines[0] == f"mf-broker listening on ws://{HOST}:{srv.port}", f"{srv.stdout_lines}")
        c = srv.client()
        c.sub("st.x", "1")
        c.flush()
        srv.proc.send_signal(signal.SIGTERM)
        code = c.wait_closed(5)
        check(code == 1000, f"clients are closed with 1000 on SIGTERM: {code}")
        check(c.close_reason == b"Server Shutdown", f"close reason on SIGTERM: {c.close_reason!r}")
        rc = srv.proc.wait(10)
        srv.stop()
        check(rc == 0, f"exit status after SIGTERM: {rc}")

    def sigint_idle():
        srv = Server("mf-broker", binary, {}, workdir).start()
        srv.proc.send_signal(signal.SIGINT)
        check(srv.proc.wait(10) == 0, "exit status after SIGINT")
        srv.stop()

    def cli():
        r = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10)
        check(r.returncode == 0 and "--max-payload" in r.stdout and "--auth-token" in r.stdout, "--help")
        r = subprocess.run([binary, "--no-such-flag"], capture_output=True, text=True, timeout=10)
        check(r.returncode == 2 and "unknown option" in r.stderr, f"bad flag: {r.returncode} {r.stderr}")
        r = subprocess.run([binary, "--port", "0"], capture_output=True, text=True, timeout=10)
        check(r.returncode == 2, "port 0 refused")
        bad = [["--host", ""], ["--host", "a/b"], ["--port", "x"], ["--port=70000"], ["--server-name", 'a"b'],
               ["--max-payload", "0"], ["--max-payload", "2G"], ["--max-payload", "1Q"], ["--max-payload", "-1"],
               ["--max-payload", "99999999999999999999"], ["--max-control-line", "10"], ["--max-connections", "0"],
               ["--max-connecting", "0"], ["--max-pending", "100"], ["--ws-max-message", "8"],
               ["--auth-token", ""], ["--auth-token", "t" * 1024], ["--allow-origin", ""],
               ["--handshake-timeout", "0"], ["--auth-timeout", "99999"], ["--ping-interval", "x"],
               ["--max-pings-out", "0"], ["--config", ""], ["--max-payload", "2M", "--max-pending", "1M"],
               ["--port"], ["--verbose", "--bogus"]]
        for args in bad:
            r = subprocess.run([binary] + args, capture_output=True, text=True, timeout=10)
            check(r.returncode == 2 and r.stderr.startswith("mf-broker: "), f"{args}: {r.returncode} {r.stderr}")
            check("t" * 100 not in r.stderr, "a refused token is not echoed")
        r = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
        check(r.returncode == 0 and r.stdout.startswith("mf-broker "), f"--version: {r.stdout}")
        for args in (["--port", "x"], ["--max-pending=1"], ["--server-name", ""], ["--host", "a/b"],
                     ["--config", ""], ["--allow-origin="], ["--quiet=1"], ["--max-subs"]):
            r = subprocess.run([binary] + args, capture_output=True, text=True, timeout=10)
            name = args[0].split("=")[0]
            check(r.returncode == 2 and name in r.stderr, f"the error names {name}: {r.returncode} {r.stderr}")

    def help_defaults_are_run():
        """Each default --help states is the value a broker started without that flag runs with."""
        r = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10)
        check(r.returncode == 0, f"--help: {r.returncode}")
        text = re.sub(r"\n {20,}", " ", r.stdout)  # wrapped lines joined
        defaults = dict(re.findall(r"^  (?:-\w, )?(--[\w-]+)(?: [A-Z]+)? .*?\(default ([^)]*)\)", text, re.M))
        varz_keys = {"--max-payload": "max_payload", "--max-control-line": "max_control_line",
                     "--max-connections": "max_connections", "--max-subs": "max_subscriptions",
                     "--max-pending": "max_pending", "--ping-interval": "ping_interval",
                     "--max-pings-out": "max_pings_out", "--auth-timeout": "auth_timeout",
                     "--server-name": "server_name"}
        check(set(varz_keys) <= set(defaults), f"--help states no default for {set(varz_keys) - set(defaults)}")
        srv = Server("mf-broker", binary, {}, workdir).start()  # --host and --port only
        try:
            st, _, body = http_get(HOST, srv.port, "/varz")
            check(st == 200, f"/varz status {st}")
            v = json.loads(body)
        finally:
            srv.stop()
        units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
        for flag, key in sorted(varz_keys.items()):
            d = defaults[flag]
            want = int(d[:-1]) * units[d[-1]] if d[-1] in units else int(d) if d.isdigit() else d
            check(v[key] == want, f"{flag}: --help says {d}, the broker runs with {key}={v[key]}")
        # the derived ones, as --help describes them
        check(v["max_connecting"] == v["max_connections"] // 4, f"max_connecting {v['max_connecting']}")
        check(v["ws_max_message"] == max(4 << 20, 2 * v["max_payload"] + (64 << 10)), f"{v['ws_max_message']}")
        check(defaults["--host"] == HOST and defaults["--port"] == "4280", f"{defaults}")
        # docs/broker.md's table of flags states the same defaults
        doc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "broker.md")
        with open(doc, encoding="utf-8") as f:
            rows = re.findall(r"^\| `(--[\w-]+)[^|]*\| `([^`]+)` \|", f.read(), re.M)
        check(len(rows) >= 12, f"docs/broker.md: {len(rows)} flags with a default found")
        for flag, d in rows:
            check(defaults.get(flag) == d, f"docs/broker.md: {flag} default {d}, --help says {defaults.get(flag)}")

    def shutdown_grace_expires():
        """A client that never answers the close frame does not hold the shutdown up for long."""
        srv = Server("mf-broker", binary, {}, workdir).start()
        c = srv.client()  # never reads again: our close frame stays unanswered
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        rc = srv.proc.wait(10)
        dt = time.monotonic() - t0
        srv.stop()
        c.sock.close()
        with open(srv.log, errors="replace") as f:
            log = f.read()
        check(rc == 0 and 1.5 <= dt <= 4.0, f"exit {rc} after {dt:.2f} s (grace 2 s)")
        check("did not close in time" in log, "the expired grace is logged")

    def startup_errors():
        def start(*args, env=None, input=None):
            return subprocess.run([binary, "--port", str(free_port())] + list(args), capture_output=True, text=True,
                                  timeout=30, env=env, input=input)
        taken = socket.socket()
        taken.bind((HOST, 0))
        taken.listen(1)
        r = subprocess.run([binary, "--port", str(taken.getsockname()[1])], capture_output=True, text=True,
                           timeout=30)
        taken.close()
        check(r.returncode == 1 and "cannot listen" in r.stderr, f"port in use: {r.returncode} {r.stderr[-200:]}")
        r = start("--host", "10.255.255.2")  # numeric, but not an address of this machine
        check(r.returncode == 1 and "cannot listen" in r.stderr, f"foreign address: {r.returncode} {r.stderr[-200:]}")
        r = start("--host", "no-such-host.invalid")
        check(r.returncode == 1 and "cannot resolve" in r.stderr, f"bad host: {r.returncode} {r.stderr[-200:]}")

    def environment_and_files():
        env = dict(os.environ, MF_BROKER_AUTH_TOKEN="t" * 1100)
        r = subprocess.run([binary, "--port", "1"], capture_output=True, text=True, timeout=30, env=env)
        check(r.returncode == 2 and "MF_BROKER_AUTH_TOKEN" in r.stderr, f"long env token: {r.returncode} {r.stderr}")
        check("t" * 50 not in r.stderr, "the token is not printed")
        srv = Server("mf-broker", binary, {}, workdir)
        env = dict(os.environ, MF_BROKER_AUTH_TOKEN="env-token-123")
        srv.proc = None
        args = [binary, "--host", HOST, "--port", str(srv.port)]
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        try:
            check(p.stdout.readline().startswith(b"mf-broker listening"), "started with the env token")
            c = WsNats(HOST, srv.port)
            check(c.info.get("auth_required") is True, f"INFO {c.info}")
            c.connect(auth_token="env-token-123")
            c.close()
        finally:
            p.terminate()
            p.wait(10)
            p.stdout.close()
        r = subprocess.run([binary, "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.pem"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and "/nonexistent.pem" in r.stderr, f"missing cert: {r.stderr}")
        junk = os.path.join(workdir, "junk.pem")
        with open(junk, "w") as f:
            f.write("not a certificate\n")
        r = subprocess.run([binary, "--port", str(free_port()), "--tls-cert", junk, "--tls-key", junk],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 1 and "TLS" in r.stderr, f"junk cert: {r.returncode} {r.stderr[-300:]}")
        r = subprocess.run([binary, "--tls-cert", junk], capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and "go together" in r.stderr, f"cert without key: {r.stderr}")

    def accounts_files():
        def cfg(obj):
            path = os.path.join(workdir, "acc-test.json")
            with open(path, "w") as f:
                f.write(obj if isinstance(obj, str) else json.dumps(obj))
            return subprocess.run([binary, "--port", "1", "--config", path], capture_output=True, text=True,
                                  timeout=30)
        r = cfg({"users": [{"user": "a", "password": "clear-text"}]})
        check(r.returncode == 2 and "--hash-password" in r.stderr and "clear-text" not in r.stderr,
              f"clear password: {r.stderr}")
        r = cfg({"users": [{"user": "a", "password": "$2b$04$" + "a" * 53, "permisions": {}}]})
        check(r.returncode == 2 and "/users/0/permisions" in r.stderr, f"misspelt key: {r.stderr}")
        r = cfg({"users": [{"user": "a", "password": "$2b$04$" + "a" * 53,
                            "permissions": {"publish": {"allow": ["a..b"]}}}]})
        check(r.returncode == 2 and "/users/0/permissions/publish/allow/0" in r.stderr, f"bad subject: {r.stderr}")
        r = cfg({"users": [{"user": "a", "password": "$2b$04$" + "a" * 53}, {"user": "a", "token": "$2b$04$" +
                                                                               "b" * 53}]})
        check(r.returncode == 2 and "give either" in r.stderr, f"user with a token: {r.stderr}")
        r = cfg('{"users": [')
        check(r.returncode == 2 and "acc-test.json" in r.stderr, f"not JSON: {r.stderr}")
        r = subprocess.run([binary, "--config", "/nonexistent.json"], capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and "/nonexistent.json" in r.stderr, f"missing file: {r.stderr}")
        path = os.path.join(workdir, "acc-ok.json")
        with open(path, "w") as f:
            json.dump({"users": [{"user": "a", "password": "$2b$04$" + "a" * 53}]}, f)
        r = subprocess.run([binary, "--config", path, "--auth-token", "x"], capture_output=True, text=True,
                           timeout=30)
        check(r.returncode == 2 and "either" in r.stderr, f"token and accounts: {r.stderr}")
        r = subprocess.run([binary, "--hash-password"], input="s3cret\n", capture_output=True, text=True,
                           timeout=30)
        h = r.stdout.strip()
        check(r.returncode == 0 and h.startswith("$2b$11$") and len(h) == 60, f"--hash-password: {r.stdout}")
        r = subprocess.run([binary, "--hash-password"], input="", capture_output=True, text=True, timeout=30)
        check(r.returncode == 2, f"--hash-password without input: {r.returncode}")

    run("sigterm_closes_1000_exit_0", sigterm)
    run("sigint_exit_0", sigint_idle)
    run("command_line", cli)
    run("help_defaults_are_run", help_defaults_are_run)
    run("shutdown_grace_expires", shutdown_grace_expires)
    run("startup_errors", startup_errors)
    run("environment_and_files", environment_and_files)
    run("accounts_files", accounts_files)
    return results
