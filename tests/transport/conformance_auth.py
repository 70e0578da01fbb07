"""Accounts, permissions and fair limits: the same cases against mf-broker (--config with
bcrypt hashes) and nats-server (authorization { users } with the same hashes) where both
have the feature; mf-broker's own (token users, its budget for connections still
connecting, /varz accounting) are broker-only.
"""

import json
import os
import resource
import socket
import time

from conformance_lib import HOST, case, check, expect_closed_after_err, msgs
from wsnats import Closed, WsNats, http_get

# The example of docs/examples/broker-accounts.json, reduced: an external client may
# create campaigns but not push notifications; a responder may only answer requests.
CLIENT = {"user": "client", "password": "client-pw",
          "permissions": {"publish": {"allow": ["campaign.create", "_INBOX.client.>"],
                                      "deny": ["notification.user.*.push"]},
                          "subscribe": {"allow": ["_INBOX.client.>", "public.>", "secret.*", ">"],
                                        "deny": ["secret.>"]}}}
RESPONDER = {"user": "responder", "password": "responder-pw",
             "permissions": {"subscribe": {"allow": ["svc.>"]}, "allow_responses": True}}
ADMIN = {"user": "admin", "password": "admin-pw"}
ACCOUNTS = [CLIENT, RESPONDER, ADMIN]


def login(srv, u, **kw):
    return srv.client(user=u["user"], **{"pass": u["password"]}, **kw)


def quiet(c, wait=0.3):
    """Ops that arrive within `wait` seconds (nothing expected)."""
    return c.drain_msgs(wait)


@case(accounts=ACCOUNTS)
def accounts_user_password(srv):
    t0 = time.monotonic()
    a = login(srv, ADMIN)
    first = time.monotonic() - t0
    a.flush()
    t0 = time.monotonic()
    login(srv, ADMIN).close()
    second = time.monotonic() - t0
    srv.figures["accounts: CONNECT with a password, first / again"] = f"{first * 1000:.0f} ms / {second * 1000:.0f} ms"
    for user, pw in (("admin", "wrong"), ("nobody", "admin-pw"), ("admin", ""), (None, None)):
        c = srv.client(connect=False)
        creds = {"user": user, "pass": pw} if user else {}
        c.connect(wait=False, **creds)
        expect_closed_after_err(c, "Authorization Violation", srv)
    a.flush()
    a.close()


@case(accounts=ACCOUNTS)
def accounts_publish_permissions(srv):
    a = login(srv, ADMIN)
    a.sub("notification.>", "1")
    a.sub("campaign.>", "2")
    a.flush()
    c = login(srv, CLIENT, verbose=True)
    c.pub("notification.user.42.push", b"no")
    op = c.next_op()
    check(op.kind == "-ERR" and op.text == 'Permissions Violation for Publish to "notification.user.42.push"',
          f"violation: {op}")
    c.pub("campaign.create", b"yes")
    check(c.next_op().kind == "+OK", "an allowed publish is acknowledged")
    c.pub("other.subject", b"no")  # not in the allow list
    op = c.next_op()
    check(op.kind == "-ERR" and "Publish to \"other.subject\"" in op.text, f"not allowed: {op}")
    c.flush()  # the connection stays
    got = [m.subject for m in msgs(a.drain_msgs(0.5))]
    check(got == ["campaign.create"], f"delivered: {got}")
    a.close()
    c.close()


@case(accounts=ACCOUNTS)
def accounts_subscribe_permissions(srv):
    c = login(srv, CLIENT)
    c.sub("secret.a", "1")
    op = c.next_op()
    check(op.kind == "-ERR" and op.text == 'Permissions Violation for Subscription to "secret.a"', f"{op}")
    c.sub("secret.*", "2", queue="q")
    op = c.next_op()
    check(op.kind == "-ERR" and op.text == 'Permissions Violation for Subscription to "secret.*" using queue "q"',
          f"{op}")
    # a wider wildcard is allowed, but what the deny list names never reaches this user
    c.sub(">", "3")
    c.flush()
    a = login(srv, ADMIN)
    a.pub("secret.x", b"hidden")
    a.pub("public.y", b"shown")
    a.flush()
    got = [(m.subject, m.sid) for m in msgs(c.drain_msgs(0.5))]
    check(got == [("public.y", "3")], f"delivered to the restricted user: {got}")
    a.close()
    c.close()


@case(accounts=ACCOUNTS)
def accounts_allow_responses(srv):
    """A responder without publish permissions may answer each request once, on its reply subject."""
    r = login(srv, RESPONDER)
    r.sub("svc.echo", "1")
    r.pub("svc.other", b"x")
    op = r.next_op()
    check(op.kind == "-ERR" and "Publish to \"svc.other\"" in op.text, f"allow_responses alone allows no publish: {op}")
    r.flush()
    a = login(srv, ADMIN)
    a.sub("_INBOX.a.*", "9")
    a.pub("svc.echo", b"ping", reply="_INBOX.a.1")
    a.flush()
    m = r.expect("MSG")
    check(m.reply == "_INBOX.a.1", f"request: {m}")
    r.pub(m.reply, b"pong")
    r.flush()
    check(a.expect("MSG").data == b"pong", "the response arrives")
    r.pub(m.reply, b"again")  # only once
    op = r.next_op()
    check(op.kind == "-ERR" and "Publish to \"_INBOX.a.1\"" in op.text, f"a second response: {op}")
    r.flush()
    check(not msgs(a.drain_msgs(0.3)), "the second response is not delivered")
    a.close()
    r.close()


# ---------------------------------------------------------------- broker-only: token users, files

TOKEN_USER = {"name": "dashboard", "token": "dash-s3cret-token",
              "permissions": {"subscribe": {"allow": ["campaign.>"]}, "publish": {"allow": []}}}


@case(shared=False, accounts=[ADMIN, TOKEN_USER])
def accounts_token_user(srv):
    d = srv.client(auth_token=TOKEN_USER["token"])
    d.sub("campaign.status", "1")
    d.pub("campaign.create", b"x")
    op = d.next_op()
    check(op.kind == "-ERR" and "Publish to" in op.text, f"an empty allow list allows nothing: {op}")
    a = login(srv, ADMIN)
    a.pub("campaign.status", b"42")
    check(d.expect("MSG").data == b"42", "token user receives")
    bad = srv.client(connect=False)
    bad.connect(wait=False, auth_token="dash-s3cret-tokem")
    expect_closed_after_err(bad, "Authorization Violation", srv)
    # a second login with the same token is recognised without bcrypt (cache): still correct
    d2 = srv.client(auth_token=TOKEN_USER["token"])
    d2.flush()
    _, _, body = http_get(HOST, srv.port, "/varz")
    v = json.loads(body)
    check(v["accounts"] == 2 and v["auth_required"] is True and v["auth_failures"] >= 1, f"/varz {v}")
    for c in (d, d2, a):
        c.close()


# ---------------------------------------------------------------- fair limits

def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_silent_websockets(port, n):
    """n sockets that upgrade to WebSocket and then never send CONNECT (or anything). Each
    upgrade is complete (its 101 read) before the next socket opens, so the server has every
    one of them as a WebSocket connection, whatever the machine's load: a server may refuse
    the upgrade (the socket is then closed: also counted as opened)."""
    socks = []
    req = (f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
    for _ in range(n):
        s = socket.create_connection((HOST, port), timeout=10)
        s.sendall(req)
        head = b""
        while b"\r\n\r\n" not in head:
            try:
                chunk = s.recv(4096)
            except OSError:
                break
            if not chunk:
                break
            head += chunk
        socks.append(s)
    return socks


@case(auth_token="fair-token")
def silent_sockets_do_not_take_the_slots(srv):
    """1,030 sockets that never authenticate, then 24 correct clients: all 24 connect."""
    n = 1030
    if raise_nofile(n + 200) < n + 100:
        raise AssertionError("the test needs ~1,250 file descriptors (ulimit -n)")
    t0 = time.monotonic()
    socks = open_silent_websockets(srv.port, n)
    opened = time.monotonic() - t0
    try:
        failed, slowest = [], 0.0
        for i in range(24):
            try:
                t1 = time.monotonic()
                c = srv.client(auth_token="fair-token", timeout=10)
                c.flush(10)
                slowest = max(slowest, time.monotonic() - t1)
                c.close()
            except (Closed, TimeoutError, ConnectionError, AssertionError) as e:
                failed.append(f"client {i}: {e!r}")
        check(not failed, f"{len(failed)} of 24 correct clients failed: {failed[:3]}")
        figure = f"{24 - len(failed)} of 24 connected (slowest {slowest * 1000:.0f} ms), {n} opened in {opened:.1f} s"
        if srv.kind == "mf-broker":
            _, _, body = http_get(HOST, srv.port, "/varz")
            v = json.loads(body)
            check(v["evicted_connecting"] >= n - v["max_connecting"] - 24, f"evicted {v['evicted_connecting']}")
            figure += f", {v['evicted_connecting']} evicted (max_connecting {v['max_connecting']})"
        srv.figures["1,030 silent sockets, then 24 clients"] = figure
    finally:
        for s in socks:
            s.close()


@case(auth_token="fair-token")
def auth_timeout_closes_silent_websockets(srv):
    """The default auth timeout is 2 s (nats-server's too): a silent upgraded socket is told
    'Authentication Timeout' and closed."""
    c = srv.client(connect=False)
    t0 = time.monotonic()
    expect_closed_after_err(c, "Authentication Timeout", srv, timeout=30)
    dt = time.monotonic() - t0
    check(dt >= 1.5, f"closed after {dt:.2f} s")
    srv.figures["silent upgraded socket closed after"] = f"{dt:.2f} s"


SLOW = {"user": "slow", "password": "slow-pw", "cost": 14}


@case(shared=False, accounts=[SLOW], auth_timeout=1)
def auth_timeout_spares_a_connect_being_checked(srv):
    """A CONNECT that arrived in time is not timed out while its password is being checked:
    bcrypt at cost 14 takes about a second, longer than --auth-timeout 1 on a loaded machine."""
    t0 = time.monotonic()
    c = login(srv, SLOW, timeout=60)
    srv.figures["CONNECT with a cost-14 bcrypt password, --auth-timeout 1"] = f"{time.monotonic() - t0:.2f} s"
    c.sub("slow.x", "1")
    c.pub("slow.x", b"ok")
    check(c.expect("MSG").data == b"ok", "works after the slow check")
    c.close()


def long_names(srv, **creds):
    c = srv.client(name="n" * 300, lang="l" * 300, version="v" * 1000, **creds)
    c.sub("ln.x", "1")
    c.pub("ln.x", b"ok")
    check(c.expect("MSG").data == b"ok", "works")
    c.close()


@case()
def connect_long_name_lang_version(srv):
    """CONNECT strings longer than 255 bytes are accepted (nats-server takes any length)."""
    long_names(srv)


@case(auth_token="long-name-token")
def connect_long_name_with_token(srv):
    """... also when a credential follows them in the CONNECT."""
    long_names(srv, auth_token="long-name-token")


@case(accounts=ACCOUNTS)
def connect_long_name_with_user(srv):
    long_names(srv, user="admin", **{"pass": "admin-pw"})


@case(shared=False, max_pending=1024 * 1024, max_payload=64 * 1024)
def varz_counts_what_a_slow_consumer_loses(srv):
    """20,000 messages to a stalled subscriber (and a healthy one): out_msgs counts what was
    written, what the stalled one never got is dropped_msgs."""
    n = 20000
    healthy = srv.client()
    healthy.sub("vsc.x", "1")
    healthy.flush()
    stalled = srv.client(rcvbuf=4096)
    stalled.sub("vsc.x", "1")
    stalled.flush()
    _, _, body = http_get(HOST, srv.port, "/varz")
    v0 = json.loads(body)
    p = srv.client()
    payload = b"x" * 200
    batch = b"".join(b"PUB vsc.x 200\r\n" + payload + b"\r\n" for _ in range(500))
    healthy.start_draining()
    try:
        for _ in range(n // 500):
            p.send(batch)
        p.flush(30)
        healthy.send(b"PING\r\n")  # its PONG comes after every message routed to it
        deadline = time.monotonic() + 60
        while b"PONG\r\n" not in healthy._drained[-4096:] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        healthy.stop_draining()
    got = 0
    while True:
        op = healthy.next_op(5)
        if op.kind == "PONG":
            break
        got += op.kind == "MSG"
    check(got == n, f"the healthy subscriber got {got} of {n}")
    # the stalled one: everything the broker wrote to it, then -ERR 'Slow Consumer' and the close
    stalled_got, errs = 0, []
    try:
        while True:
            op = stalled.next_op(10)
            if op.kind == "MSG":
                stalled_got += 1
            elif op.kind == "-ERR":
                errs.append(op.text)
    except Closed:
        pass
    check(errs == ["Slow Consumer"], f"stalled subscriber's errors: {errs}")
    deadline = time.monotonic() + 5
    while True:
        _, _, body = http_get(HOST, srv.port, "/varz")
        v = json.loads(body)
        if v["connections"] == v0["connections"] - 1 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    out = v["out_msgs"] - v0["out_msgs"]
    dropped = v["dropped_msgs"] - v0["dropped_msgs"]
    check(v["slow_consumers"] - v0["slow_consumers"] == 1, f"slow_consumers {v['slow_consumers']}")
    check(v["in_msgs"] - v0["in_msgs"] == n, f"in_msgs {v['in_msgs'] - v0['in_msgs']}")
    check(out == n + stalled_got, f"out_msgs {out} != {n} (healthy) + {stalled_got} (stalled, as read)")
    check(dropped >= 1 and stalled_got + dropped <= n, f"dropped_msgs {dropped}, stalled got {stalled_got}")
    srv.figures["slow consumer: 20,000 published"] = (
        f"healthy {got}, stalled received {stalled_got}, dropped_msgs {dropped}, out_msgs {out}")
    for c in (healthy, p):
        c.close()


# ---------------------------------------------------------------- TLS

@case(tls=True, handshake_timeout=1)
def tls_wss(srv):
    """wss:// with a throw-away certificate: the handshake verifies (CA + name), NATS works over
    it, also after the handshake timeout (lws arms a timeout of its own after a TLS accept)."""
    s = srv.client()
    s.sub("tls.x", "1")
    s.flush()
    time.sleep(1.5)  # not synchronisation: the connection must outlive --handshake-timeout
    p = srv.client()
    for i in range(100):
        p.pub("tls.x", str(i).encode())
    p.pub("tls.x", b"x" * 200000)  # larger than a TLS record
    p.flush()
    got = [s.expect("MSG").data for _ in range(101)]
    check(got[:100] == [str(i).encode() for i in range(100)] and got[100] == b"x" * 200000, "in order, intact")
    # a plain (non-TLS) client gets nowhere
    try:
        WsNats(HOST, srv.port, timeout=3)
        raise AssertionError("a plain client was served on the TLS port")
    except (Exception,) as e:  # noqa: BLE001 - refused, reset or garbage: anything but success
        check(not isinstance(e, AssertionError) or "plain client" not in str(e), str(e))
    s.close()
    p.close()


# ---------------------------------------------------------------- the shipped example

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "examples",
                       "broker-accounts.json")


@case(shared=False, extra_args=["--config", EXAMPLE])
def example_accounts_file(srv):
    """docs/examples/broker-accounts.json: the console may publish campaign.create but not
    notification.user.*.push; each service publishes what it owns and answers requests."""
    console = srv.client(user="console", **{"pass": "console-pw"})
    campaign = srv.client(user="campaign-service", **{"pass": "campaign-service-pw"})
    users = srv.client(user="user-service", **{"pass": "user-service-pw"})
    campaign.sub("campaign.create", "1", queue="campaign-service")
    campaign.sub("_INBOX.campaign-service.abc.*", "2")
    users.sub("user.info.request", "1", queue="user-service")
    campaign.flush()
    users.flush()
    console.pub("campaign.create", b"{}")
    check(campaign.expect("MSG").subject == "campaign.create", "campaign.create delivered")
    console.pub("notification.user.7f6c1d0e-1c2b-4d3e-8f9a-0b1c2d3e4f50.push", b"{}")
    op = console.next_op()
    check(op.kind == "-ERR" and op.text.startswith('Permissions Violation for Publish to "notification.user.'),
          f"{op}")
    campaign.pub("notification.user.7f6c1d0e-1c2b-4d3e-8f9a-0b1c2d3e4f50.push", b"{}")  # the service may
    campaign.pub("user.info.request", b"{}", reply="_INBOX.campaign-service.abc.1")
    m = users.expect("MSG")
    users.pub(m.reply, b"{\"ok\":true}")  # allow_responses
    users.flush()
    check(campaign.expect("MSG").data == b"{\"ok\":true}", "the reply reaches the requester")
    users.pub("campaign.status", b"{}")  # not the user service's to publish
    op = users.next_op()
    check(op.kind == "-ERR" and "Publish to \"campaign.status\"" in op.text, f"{op}")
    for c in (console, campaign, users):
        c.close()
