"""mf-broker's edges that the other conformance modules leave out (broker-only cases):
reply permissions with a budget, an expiry and the bound on remembered reply subjects;
the quoting of a denied subject; a SUB reusing a live sid; a CONNECT that is not JSON;
HTTP requests that are not a websocket upgrade; and process-level checks: accounts files
with more kinds of mistakes, size suffixes, --server-name, --verbose and --quiet, host
names and IPv6, a second signal during the shutdown, --hash-password with a long line.

Every case asserts what a client or an operator sees (an -ERR text, a close status, an
exit status and its message, a line of the log), never a timing.
"""

import json
import os
import signal
import socket
import subprocess
import time

from conformance_lib import HOST, Server, bcrypt_hash, case, check, expect_closed_after_err, free_port, msgs
from wsnats import Closed, WsNats, http_get

ADMIN = {"user": "admin", "password": "admin-pw"}
# answers each request at most twice
TWICE = {"user": "twice", "password": "twice-pw",
         "permissions": {"subscribe": {"allow": ["svc.>"]}, "allow_responses": True, "responses_max": 2}}
# answers within 1 ms of the request only
HASTY = {"user": "hasty", "password": "hasty-pw",
         "permissions": {"subscribe": {"allow": ["svc.>"]}, "allow_responses": True, "responses_expires_ms": 1}}
# answers once, any number of requests (the default budget)
ONCE = {"user": "once", "password": "once-pw",
        "permissions": {"subscribe": {"allow": ["svc.>"]}, "allow_responses": True}}
# may publish to ok.> only, may not subscribe to deny.>
NARROW = {"user": "narrow", "password": "narrow-pw",
          "permissions": {"publish": {"allow": ["ok.>"], "deny": ["ok.no"]},
                          "subscribe": {"deny": ["deny.>"]}}}
EDGE_ACCOUNTS = [ADMIN, TWICE, HASTY, ONCE, NARROW]


def login(srv, u, **kw):
    return srv.client(user=u["user"], **{"pass": u["password"]}, **kw)


def barrier(*clients):
    """PING/PONG each client in turn: what the broker routed before is in their queues."""
    for c in clients:
        c.flush()


@case(shared=False, accounts=EDGE_ACCOUNTS)
def edges_responses_max(srv):
    """responses_max: 2 lets a responder answer one request twice, not three times."""
    r = login(srv, TWICE)
    r.sub("svc.twice", "1")
    a = login(srv, ADMIN)
    a.sub("_INBOX.t.*", "9")
    barrier(r, a)
    a.pub("svc.twice", b"q", reply="_INBOX.t.1")
    a.flush()
    m = r.expect("MSG")
    for body in (b"one", b"two"):
        r.pub(m.reply, body)
    r.flush()
    r.pub(m.reply, b"three")
    op = r.next_op()
    check(op.kind == "-ERR" and op.text == 'Permissions Violation for Publish to "_INBOX.t.1"', f"third: {op}")
    barrier(r, a)
    got = [o.data for o in msgs(a.drain_msgs(0.2))]
    check(got == [b"one", b"two"], f"responses delivered: {got}")
    a.close()
    r.close()


@case(shared=False, accounts=EDGE_ACCOUNTS)
def edges_responses_expire(srv):
    """responses_expires_ms: 1; an answer given later than that is a violation."""
    r = login(srv, HASTY)
    r.sub("svc.hasty", "1")
    a = login(srv, ADMIN)
    barrier(r, a)
    a.pub("svc.hasty", b"q", reply="_INBOX.h.1")
    a.flush()
    m = r.expect("MSG")
    time.sleep(0.05)  # not a synchronisation: the permission must be older than 1 ms
    r.pub(m.reply, b"late")
    op = r.next_op()
    check(op.kind == "-ERR" and op.text == 'Permissions Violation for Publish to "_INBOX.h.1"', f"late: {op}")
    r.flush()
    a.close()
    r.close()


@case(shared=False, accounts=EDGE_ACCOUNTS)
def edges_responses_bounded(srv):
    """A responder remembers the reply subjects of its last 4,096 requests: the oldest of
    4,097 unanswered requests may no longer be answered, the newest may."""
    n = 4097
    r = login(srv, ONCE)
    r.sub("svc.once", "1")
    a = login(srv, ADMIN)
    a.sub("_INBOX.o.*", "9")
    barrier(r, a)
    a.send(b"".join(f"PUB svc.once _INBOX.o.{i} 1\r\nq\r\n".encode() for i in range(n)))
    a.flush(timeout=30)
    got = 0
    while got < n:
        op = r.next_op(timeout=30)
        if op.kind == "MSG":
            got += 1
    r.pub("_INBOX.o.0", b"oldest")
    op = r.next_op()
    check(op.kind == "-ERR" and op.text == 'Permissions Violation for Publish to "_INBOX.o.0"', f"oldest: {op}")
    r.pub(f"_INBOX.o.{n - 1}", b"newest")
    r.pub("_INBOX.o.1", b"second oldest")  # still remembered
    barrier(r, a)
    got = sorted(o.data for o in msgs(a.drain_msgs(0.2)))
    check(got == [b"newest", b"second oldest"], f"responses delivered: {got}")
    a.close()
    r.close()


@case(shared=False, accounts=EDGE_ACCOUNTS)
def edges_violation_text_quotes_the_subject(srv):
    """The subject in a violation is quoted as nats-server's Go %q does: \\" \\\\ and \\x7f."""
    c = login(srv, NARROW)
    c.pub('a"b\\c', b"x")
    op = c.next_op()
    check(op.kind == "-ERR" and op.text == 'Permissions Violation for Publish to "a\\"b\\\\c"', f"{op}")
    c.pub("x\x7fy\x01", b"x")
    op = c.next_op()
    check(op.kind == "-ERR" and op.text == 'Permissions Violation for Publish to "x\\x7fy\\x01"', f"{op}")
    c.pub("ok.no", b"x")  # the deny list wins over the allow list
    op = c.next_op()
    check(op.kind == "-ERR" and op.text == 'Permissions Violation for Publish to "ok.no"', f"{op}")
    c.sub("deny.x", "1")
    op = c.next_op()
    check(op.kind == "-ERR" and op.text == 'Permissions Violation for Subscription to "deny.x"', f"{op}")
    c.sub("ok.>", "2")
    c.pub("ok.yes", b"fine")
    check(c.expect("MSG").data == b"fine", "allowed publish and subscription still work")
    c.close()


@case(shared=False)
def edges_sub_reusing_a_live_sid(srv):
    """A SUB with the sid of a live subscription is acknowledged and ignored (as nats-server)."""
    c = srv.client(verbose=True)
    c.sub("dup.a", "1")
    c.expect("+OK")
    c.sub("dup.b", "1")
    c.expect("+OK")
    c.pub("dup.b", b"b")
    c.expect("+OK")
    c.pub("dup.a", b"a")
    c.expect("+OK")
    c.flush()
    got = [(m.subject, m.data) for m in msgs(c.drain_msgs(0.2))]
    check(got == [("dup.a", b"a")], f"delivered: {got}")
    c.close()


@case(shared=False)
def edges_connect_not_json(srv):
    c = srv.client(connect=False)
    c.send(b"CONNECT {\"verbose\":fals}\r\n")
    expect_closed_after_err(c, "Unknown Protocol Operation", srv)
    c = srv.client(connect=False)
    c.send(b"CONNECT {\"verbose\":false}\r\nCONNECT [1]\r\n")  # a second, bad CONNECT
    expect_closed_after_err(c, "Unknown Protocol Operation", srv)
    srv.client().flush()  # still serving


@case(shared=False, auth_token="edge-token")
def edges_connect_credential_too_long(srv):
    """A token longer than any the broker stores: an authorization violation, not a crash."""
    c = srv.client(connect=False)
    c.connect(wait=False, auth_token="t" * 5000)
    expect_closed_after_err(c, "Authorization Violation", srv)
    srv.client(auth_token="edge-token").flush()


def raw_http(port, request):
    s = socket.create_connection((HOST, port), timeout=10)
    try:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()


@case(shared=False)
def edges_http_requests_that_are_not_upgrades(srv):
    up = ("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          "Sec-WebSocket-Version: 13\r\n")
    r = raw_http(srv.port, f"POST / HTTP/1.1\r\nHost: x\r\n{up}Content-Length: 0\r\n\r\n".encode())
    check(r.startswith(b"HTTP/1.1 400 "), f"POST upgrade: {r[:80]!r}")
    r = raw_http(srv.port, f"GET / HTTP/1.0\r\nHost: x\r\n{up}\r\n".encode())
    check(r.startswith(b"HTTP/1.1 400 "), f"HTTP/1.0 upgrade: {r[:80]!r}")
    st, _, _ = http_get(HOST, srv.port, "/healthz")
    check(st == 200, "still serving")


# ---------------------------------------------------------------- process level

def run(binary, *args, input=None, env=None, timeout=30):
    return subprocess.run([binary] + list(args), capture_output=True, text=True, input=input, env=env,
                          timeout=timeout)


@case(shared=False)
def edges_accounts_files(srv):
    binary, workdir = srv.binary, srv.workdir
    h = bcrypt_hash("pw")

    def cfg(obj, name="edge-acc.json"):
        path = os.path.join(workdir, name)
        with open(path, "w") as f:
            f.write(obj if isinstance(obj, str) else json.dumps(obj))
        return run(binary, "--port", "1", "--config", path)

    bad_hashes = ["$2x$04$" + "a" * 53, "$2b$04$" + "a" * 52, "$1$" + "a" * 57, "$2b$04x" + "a" * 53,
                  "x2b$04$" + "a" * 53, "$3b$04$" + "a" * 53, "$2b$04$" + "a" * 53 + "z"]
    for bad in bad_hashes:
        r = cfg({"users": [{"user": "u", "password": bad}]})
        check(r.returncode == 2 and "/users/0/password: not a bcrypt hash" in r.stderr, f"{bad}: {r.stderr}")
    r = cfg({"users": [{"token": "$2q$04$" + "a" * 53}]})
    check(r.returncode == 2 and "/users/0/token: not a bcrypt hash" in r.stderr, f"token: {r.stderr}")
    r = cfg({"users": [{"user": "u", "password": h}, {"user": "u", "password": h}]})
    check(r.returncode == 2 and '/users/1: user "u" is already defined at /users/0' in r.stderr, r.stderr)
    r = cfg({"users": [{"token": h, "name": "svc"}, {"user": "v", "password": h, "name": "svc"}]})
    check(r.returncode == 2 and "already defined" in r.stderr, f"same name: {r.stderr}")
    r = cfg({"users": [{"user": "u"}]})
    check(r.returncode == 2 and "give either" in r.stderr, f"user without password: {r.stderr}")
    r = cfg({"users": [{"password": h}]})
    check(r.returncode == 2 and "give either" in r.stderr, f"password without user: {r.stderr}")
    r = cfg({"users": []})
    check(r.returncode == 2 and "/users" in r.stderr, f"no users: {r.stderr}")
    for where in ("publish/deny", "subscribe/allow", "subscribe/deny"):
        lst, kind = where.split("/")
        r = cfg({"users": [{"user": "u", "password": h, "permissions": {lst: {kind: ["ok", "a.>.b"]}}}]})
        check(r.returncode == 2 and f"/users/0/permissions/{where}/1" in r.stderr, f"{where}: {r.stderr}")
    r = cfg({"users": [{"user": "u", "password": h, "permissions": {"responses_max": -1}}]})
    check(r.returncode == 2 and "/users/0/permissions/responses_max" in r.stderr, f"responses_max: {r.stderr}")
    r = cfg(" " * (1 << 20) + '{"users": []}', name="edge-big.json")
    check(r.returncode == 2 and "larger than 1 MiB" in r.stderr, f"big file: {r.stderr}")
    r = run(binary, "--port", "1", "--config", workdir)  # a directory
    check(r.returncode == 2 and workdir in r.stderr, f"directory: {r.stderr}")
    # a good file with token users (default names) and every kind of list starts
    good = os.path.join(workdir, "edge-good.json")
    with open(good, "w") as f:
        json.dump({"users": [{"token": h}, {"token": bcrypt_hash("pw2")},
                             {"user": "u", "password": h, "name": "User U",
                              "permissions": {"publish": {"allow": ["a.>"], "deny": ["a.b"]},
                                              "subscribe": {"allow": ["a.>"], "deny": ["a.c"]},
                                              "allow_responses": False}}]}, f)
    s = Server("mf-broker", binary, {"extra_args": ["--config", good]}, workdir).start()
    try:
        c = WsNats(HOST, s.port)
        c.connect(auth_token="pw")
        c.flush()
        c.close()
        with open(s.log, errors="replace") as f:
            check("user=token #0" in f.read(), "a token user without a name is called by its place")
        c = WsNats(HOST, s.port)
        c.connect(user="u", **{"pass": "pw"})
        c.sub("a.c", "1")
        op = c.next_op()
        check(op.kind == "-ERR" and "Subscription to \"a.c\"" in op.text, f"sub deny: {op}")
        c.close()
    finally:
        check(s.stop() == 0, "exit status")


@case(shared=False)
def edges_command_line_values(srv):
    binary, workdir = srv.binary, srv.workdir
    for good in ("512K", "1MB", "2m", "64kb", "1048576"):
        r = run(binary, "--max-payload", good, "--help")
        check(r.returncode == 0, f"--max-payload {good}: {r.stderr}")
    for bad in ("1MX", "1KB2", "K", "99999999999999999G", ""):
        r = run(binary, "--max-payload", bad)
        check(r.returncode == 2 and r.stderr.startswith("mf-broker: "), f"--max-payload {bad!r}: {r.stderr}")
    r = run(binary, "-h")
    check(r.returncode == 0 and "--max-payload" in r.stdout, "-h")
    r = run(binary, "--hash-password", input="p" * 2000 + "\n")
    check(r.returncode == 2 and "at most" in r.stderr and "ppppp" not in r.stderr, f"long password: {r.stderr}")
    env = dict(os.environ, MF_BROKER_TLS_CERT="/nonexistent-cert.pem", MF_BROKER_TLS_KEY="/nonexistent-key.pem")
    r = run(binary, "--port", "1", env=env)
    check(r.returncode == 2 and "/nonexistent-cert.pem" in r.stderr, f"TLS from the environment: {r.stderr}")
    # --server-name reaches INFO and /varz; --verbose logs each operation
    s = Server("mf-broker", binary, {"extra_args": ["--server-name", "edge-1", "--verbose"]}, workdir).start()
    try:
        c = WsNats(HOST, s.port)
        check(c.info.get("server_name") == "edge-1", f"INFO {c.info}")
        c.connect()
        c.pub("verbose.subject", b"x")
        c.flush()
        c.close()
        _, _, body = http_get(HOST, s.port, "/varz")
        check(json.loads(body).get("server_name") == "edge-1", f"/varz {body[:200]!r}")
    finally:
        check(s.stop() == 0, "exit status")
    with open(s.log, errors="replace") as f:
        log = f.read()
    check("verbose.subject" in log, "--verbose logs the operations")
    # --quiet: nothing but errors
    s = Server("mf-broker", binary, {"extra_args": ["-q"]}, workdir).start()
    try:
        c = WsNats(HOST, s.port)
        c.connect()
        c.flush()
        c.close()
    finally:
        check(s.stop() == 0, "exit status")
    with open(s.log, errors="replace") as f:
        log = f.read()
    check(log.strip() == "", f"--quiet logs nothing but errors: {log[:300]}")


def start_on(binary, host):
    port = free_port()
    p = subprocess.Popen([binary, "--host", host, "--port", str(port)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    return p, port, line


@case(shared=False)
def edges_host_names(srv):
    """--host takes a name (resolved to its address) and IPv6 addresses."""
    binary = srv.binary
    p, port, line = start_on(binary, "localhost")
    try:
        check(line == f"mf-broker listening on ws://localhost:{port}", f"localhost: {line!r} {p.poll()}")
        st, _, _ = http_get(HOST, port, "/healthz")
        check(st == 200, "serving on the loopback address")
    finally:
        p.terminate()
        check(p.wait(10) == 0, "exit status")
        p.stdout.close()
        p.stderr.close()
    if not socket.has_ipv6:
        return
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        return  # no IPv6 loopback on this machine: the IPv4 checks above still ran
    p, port, line = start_on(binary, "::1")
    try:
        check(line == f"mf-broker listening on ws://[::1]:{port}", f"::1: {line!r}")
        s = socket.create_connection(("::1", port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check(s.recv(100).startswith(b"HTTP/1.1 200"), "served over IPv6")
        s.close()
    finally:
        p.terminate()
        check(p.wait(10) == 0, "exit status")
        p.stdout.close()
        p.stderr.close()


@case(shared=False)
def edges_second_signal(srv):
    """A second signal while a client holds the shutdown up (it never answers the close
    frame): the broker stops waiting and exits 0. SIGTERM then SIGINT, two signals that
    cannot merge into one pending signal."""
    s = Server("mf-broker", srv.binary, {}, srv.workdir).start()
    c = s.client()  # never reads again
    s.proc.send_signal(signal.SIGTERM)
    s.proc.send_signal(signal.SIGINT)
    rc = s.proc.wait(10)
    s.stop()
    c.sock.close()
    with open(s.log, errors="replace") as f:
        log = f.read()
    check(rc == 0, f"exit status after two signals: {rc}")
    check("received Terminated" in log and "received Interrupt" in log, f"both signals logged: {log[-300:]}")


@case(shared=False)
def edges_file_descriptor_limit(srv):
    """--max-connections above the soft limit of open files: the broker raises the soft limit
    (up to the hard one) and, when the hard limit is too low, says so in its log."""
    import resource

    def limited(soft, hard):
        def pre():
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        return pre

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for soft, hard_lim, warned in ((128, hard, False), (128, 128, True)):
        if hard != resource.RLIM_INFINITY and hard < 1000 and not warned:
            continue  # this machine's hard limit is too low to see the raise
        port = free_port()
        log = os.path.join(srv.workdir, f"fd-{port}.log")
        with open(log, "wb") as lf:
            p = subprocess.Popen([srv.binary, "--host", HOST, "--port", str(port), "--max-connections", "500"],
                                 stdout=subprocess.PIPE, stderr=lf, preexec_fn=limited(soft, hard_lim))
            try:
                line = p.stdout.readline().decode()
                check(line.startswith("mf-broker listening on"), f"started: {line!r}")
                st, _, _ = http_get(HOST, port, "/healthz")
                check(st == 200, "serving")
            finally:
                p.terminate()
                rc = p.wait(10)
                p.stdout.close()
        check(rc == 0, f"exit status {rc}")
        with open(log, errors="replace") as f:
            text = f.read()
        check(("file descriptor limit 128 is below --max-connections" in text) == warned,
              f"soft {soft}, hard {hard_lim}: log {text[-300:]!r}")
