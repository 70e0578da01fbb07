"""Shared conformance cases: NATS behaviour both mf-broker and nats-server must show
(broker_conformance.py runs them against either server).
"""

import json
import os
import threading
import time

from conformance_lib import HOST, case, check, expect_closed_after_err, msgs
from wsnats import Closed, http_get

# ====================================================================== shared cases

@case()
def info_on_connect(srv):
    c = srv.client(connect=False)
    i = c.info
    for k in ("server_id", "version", "max_payload", "headers", "proto"):
        check(k in i, f"INFO lacks {k}: {i}")
    check(i["headers"] is True and i["proto"] == 1 and i["max_payload"] == 1048576, f"INFO: {i}")
    check("client_id" in i, "INFO lacks client_id")
    c.connect()
    c.close()


@case()
def ping_pong(srv):
    c = srv.client()
    c.send(b"PING\r\nPING\r\n")
    c.expect("PONG")
    c.expect("PONG")
    c.close()


@case()
def pub_sub_basic(srv):
    s = srv.client()
    s.sub("basic.a", "1")
    s.flush()
    p = srv.client()
    p.pub("basic.a", b"hello")
    p.pub("basic.b", b"nobody")
    p.pub("basic.a", b"")
    p.flush()
    m = s.expect("MSG")
    check((m.subject, m.sid, m.reply, m.data) == ("basic.a", "1", None, b"hello"), f"got {m}")
    m = s.expect("MSG")
    check(m.data == b"", f"empty payload: {m}")
    s.flush()
    check(not msgs(s.drain_msgs(0.2)), "unexpected extra messages")
    s.close()
    p.close()


@case()
def reply_to(srv):
    s = srv.client()
    s.sub("svc.echo", "9")
    s.flush()
    p = srv.client()
    p.sub("_INBOX.r1.*", "1")
    p.pub("svc.echo", b"ping", reply="_INBOX.r1.7")
    m = s.expect("MSG")
    check(m.reply == "_INBOX.r1.7", f"reply subject: {m}")
    s.pub(m.reply, b"pong")
    r = p.expect("MSG")
    check((r.subject, r.sid, r.data) == ("_INBOX.r1.7", "1", b"pong"), f"reply: {r}")
    s.close()
    p.close()


@case()
def wildcards(srv):
    s = srv.client()
    s.sub("wc.*", "1")
    s.sub("wc.>", "2")
    s.sub("*.x.*", "3")
    s.sub("wc.x.y", "4")
    s.flush()
    p = srv.client()
    for subj in ("wc.a", "wc.x.y", "wc", "other.x.z", "wc.a.b.c"):
        p.pub(subj, subj.encode())
    p.flush()
    s.flush()
    got = sorted((m.subject, m.sid) for m in msgs(s.drain_msgs(0.3)))
    want = sorted([("wc.a", "1"), ("wc.a", "2"), ("wc.x.y", "2"), ("wc.x.y", "3"), ("wc.x.y", "4"),
                   ("other.x.z", "3"), ("wc.a.b.c", "2")])
    check(got == want, f"wildcard deliveries {got} != {want}")
    s.close()
    p.close()


@case()
def queue_groups(srv):
    members = [srv.client() for _ in range(3)]
    for i, m in enumerate(members):
        m.sub("qg.work", f"q{i}", queue="workers")
        m.flush()
    plain = srv.client()
    plain.sub("qg.work", "p")
    plain.flush()
    p = srv.client()
    n = 300
    p.send(b"".join(f"PUB qg.work {len(str(i))}\r\n{i}\r\n".encode() for i in range(n)))
    p.flush()
    counts = []
    seen = set()
    for m in members:
        m.flush()
        got = msgs(m.drain_msgs(0.3))
        counts.append(len(got))
        seen.update(x.data for x in got)
    check(sum(counts) == n, f"queue members got {counts} (sum {sum(counts)}), want {n} in total")
    check(all(c > 0 for c in counts), f"every member should get some: {counts}")
    check(len(seen) == n, "each message exactly once across the group")
    plain.flush()
    check(len(msgs(plain.drain_msgs(0.3))) == n, "the plain subscriber gets every message")
    for c in members + [plain, p]:
        c.close()


@case()
def unsub_max_msgs(srv):
    s = srv.client()
    s.sub("um.x", "5")
    s.unsub("5", 3)
    s.flush()
    p = srv.client()
    for i in range(6):
        p.pub("um.x", str(i).encode())
    p.flush()
    s.flush()
    got = msgs(s.drain_msgs(0.3))
    check([m.data for m in got] == [b"0", b"1", b"2"], f"auto-unsubscribe after 3: {got}")
    s.close()
    p.close()


@case()
def unsub_now(srv):
    s = srv.client()
    s.sub("un.x", "1")
    s.sub("un.x", "2")
    s.unsub("1")
    s.flush()
    p = srv.client()
    p.pub("un.x", b"a")
    p.flush()
    s.flush()
    got = msgs(s.drain_msgs(0.3))
    check([m.sid for m in got] == ["2"], f"only sid 2 remains: {got}")
    s.close()
    p.close()


@case()
def verbose_ok(srv):
    c = srv.client(connect=False)
    c.connect(verbose=True)  # +OK for CONNECT, PONG
    c.sub("vb.x", "1")
    c.expect("+OK")
    c.pub("vb.x", b"z")
    ops = [c.next_op(), c.next_op()]
    # nats-server acknowledges the PUB before delivering it to the publisher's own subscription
    check([o.kind for o in ops] == ["+OK", "MSG"], f"PUB: +OK, then the message: {ops}")
    c.unsub("1")
    c.expect("+OK")
    c.send(b"PING\r\n")
    c.expect("PONG")  # no +OK for PING
    c.close()


@case()
def pedantic_invalid_subject(srv):
    c = srv.client(pedantic=True)
    c.send(b"SUB bad..subject 1\r\n")
    c.expect_err("Invalid Subject")
    c.send(b"SUB bad.>.x 2\r\n")
    c.expect_err("Invalid Subject")
    c.send(b"PUB bad.* 1\r\nx\r\n")
    c.expect_err("Invalid Publish Subject")
    c.flush()  # still open
    c.sub("good.>", "3")
    c.pub("good.one", b"1")
    m = c.expect("MSG")
    check(m.sid == "3", f"{m}")
    c.close()


@case()
def wildcard_publish_is_literal(srv):
    """A PUB to a subject with wildcard tokens is a literal subject whose '*' and '>'
    tokens only subscription wildcards match; an empty token matches nothing.
    nats-server 2.9: delivered without a word, or after -ERR 'Invalid Publish Subject'
    in pedantic mode (the connection stays, the message is still delivered)."""
    pats = ["wl.*", "wl.>", ">", "*.*", "wl.b", "*.b", "wl.*.c", "wl.>", "*.>", "wl.b.c", "wl.*.*"]
    s = srv.client()
    for i, pat in enumerate(pats):
        s.sub(pat, str(i))
    s.flush()
    p = srv.client()
    want = {
        "wl.*": ["wl.*", "wl.>", ">", "*.*", "wl.>", "*.>"],
        "wl.>": ["wl.*", "wl.>", ">", "*.*", "wl.>", "*.>"],
        "wl.*.c": ["wl.>", ">", "wl.*.c", "wl.>", "*.>", "wl.*.*"],
        "wl.>.c": ["wl.>", ">", "wl.*.c", "wl.>", "*.>", "wl.*.*"],
        "*": [">"],
        ">": [">"],
        "wl..b": [],
        "wl.b.": [],
        ".wl": [],
    }
    for subj, pats_hit in want.items():
        p.pub(subj, subj.encode())
        p.flush()
        s.flush()
        got = sorted((m.subject, pats[int(m.sid)], m.data) for m in msgs(s.drain_msgs(0.1)))
        exp = sorted((subj, pat, subj.encode()) for pat in pats_hit)
        check(got == exp, f"PUB {subj}: delivered {got}, expected {exp}")
    check(not p.drain_msgs(0.1), "a non-pedantic publisher hears nothing about it")
    s.close()
    p.close()

    # pedantic (+ verbose): -ERR, then +OK, then the message on the publisher's own
    # subscription; an empty token: -ERR and +OK only; the connection stays
    v = srv.client(verbose=True, pedantic=True)
    v.sub("wv.*", "1")
    v.expect("+OK")
    v.pub("wv.*", b"x")
    ops = [v.next_op(), v.next_op(), v.next_op()]
    check([(o.kind, o.text if o.kind == "-ERR" else o.subject) for o in ops] ==
          [("-ERR", "Invalid Publish Subject"), ("+OK", None), ("MSG", "wv.*")], f"pedantic verbose: {ops}")
    v.pub("wv..x", b"x")
    v.expect_err("Invalid Publish Subject")
    v.expect("+OK")
    v.flush()
    check(not v.drain_msgs(0.1), "nothing else")
    v.close()

    # a queue group: one member gets each message
    members = [srv.client() for _ in range(2)]
    for i, m in enumerate(members):
        m.sub("wq.*", str(i), queue="g")
        m.flush()
    q = srv.client()
    for _ in range(20):
        q.pub("wq.*", b"q")
    q.flush()
    for m in members:
        m.flush()
    n = sum(len(msgs(m.drain_msgs(0.1))) for m in members)
    check(n == 20, f"queue group got {n} of 20")

    # no responders: a wildcard subject nobody matches, and one with an empty token
    r = srv.client(headers=True, no_responders=True)
    r.sub("_INBOX.wr.*", "9")
    r.sub("wr.mine.*", "8")
    r.flush()
    for i, subj in enumerate(("wr.nobody.*", "wr..x", "wr.>")):
        r.pub(subj, b"x", reply=f"_INBOX.wr.{i}")
        m = r.expect("HMSG")
        check((m.subject, m.hdr) == (f"_INBOX.wr.{i}", b"NATS/1.0 503\r\n\r\n"), f"PUB {subj}: {m}")
    r.pub("wr.mine.*", b"x", reply="_INBOX.wr.9")
    m = r.expect("MSG")
    check((m.subject, m.sid) == ("wr.mine.*", "8"), f"delivered to its own wr.mine.*: {m}")
    r.flush()
    check(not r.drain_msgs(0.1), "no 503 for a delivered message")
    for c in members + [q, r]:
        c.close()


@case()
def no_responders(srv):
    c = srv.client(headers=True, no_responders=True)
    c.sub("_INBOX.nr.*", "7")
    c.pub("nobody.listens", b"req", reply="_INBOX.nr.1")
    m = c.expect("HMSG")
    check((m.subject, m.sid) == ("_INBOX.nr.1", "7"), f"{m}")
    check(m.hdr == b"NATS/1.0 503\r\n\r\n" and m.data == b"", f"503 status: {m}")
    # without no_responders: silence
    d = srv.client(headers=True)
    d.sub("_INBOX.nr2.*", "1")
    d.pub("nobody.listens", b"req", reply="_INBOX.nr2.1")
    d.flush()
    check(not msgs(d.drain_msgs(0.3)), "no 503 without no_responders")
    c.close()
    d.close()


@case()
def headers_hpub(srv):
    hs = srv.client(headers=True)
    hs.sub("hd.x", "1")
    hs.flush()
    ps = srv.client(headers=False)
    ps.sub("hd.x", "2")
    ps.flush()
    p = srv.client(headers=True)
    hdr = b"NATS/1.0\r\nTrace: abc\r\n\r\n"
    p.hpub("hd.x", hdr, b"body", reply="r.1")
    m = hs.expect("HMSG")
    check((m.hdr, m.data, m.reply) == (hdr, b"body", "r.1"), f"HMSG: {m}")
    m = ps.expect("MSG")
    check(m.data == b"body", f"headers stripped for a client without headers: {m}")
    for c in (hs, ps, p):
        c.close()


@case()
def hpub_needs_headers(srv):
    c = srv.client(headers=False)
    c.send(b"HPUB hd.y 12 12\r\nNATS/1.0\r\n\r\n\r\n")
    expect_closed_after_err(c, None, srv)


@case()
def echo_off(srv):
    c = srv.client(echo=False)
    c.sub("echo.x", "1")
    c.flush()
    o = srv.client()
    o.sub("echo.x", "1")
    o.flush()
    c.pub("echo.x", b"me")
    c.flush()
    check(not msgs(c.drain_msgs(0.3)), "echo:false must not deliver to the publisher")
    check(len(msgs(o.drain_msgs(0.3))) == 1, "other subscribers still get it")
    c.close()
    o.close()


@case()
def case_insensitive_ops(srv):
    c = srv.client()
    c.send(b"sub ci.x 1\r\npUb ci.x 2\r\nhi\r\nping\r\n")
    m = c.expect("MSG")
    check(m.data == b"hi", f"{m}")
    c.expect("PONG")
    c.close()


@case()
def stream_framing(srv):
    """Ops split at every byte across websocket messages, and many ops per message."""
    s = srv.client()
    s.sub("fr.x", "1")
    s.flush()
    p = srv.client()
    batch = b"".join(f"PUB fr.x {len(str(i))}\r\n{i}\r\n".encode() for i in range(50))
    p.send(batch)  # 50 ops, one message
    p.send_pieces(b"PUB fr.x 5\r\nsplit\r\nPUB fr.x 3\r\nabc\r\n", 1)  # one byte per message
    p.send_pieces(b"PUB fr.x 7\r\nodd-cut\r\n", 4)
    p.send_fragmented(b"PUB fr.x 4\r\nfrag\r\nPUB fr.x 4\r\nment\r\n", 3)  # continuation frames
    p.flush()
    s.flush()
    got = [m.data for m in msgs(s.drain_msgs(0.3))]
    want = [str(i).encode() for i in range(50)] + [b"split", b"abc", b"odd-cut", b"frag", b"ment"]
    check(got == want, f"stream reassembly: got {len(got)} messages {got[-6:]}")
    s.close()
    p.close()


@case()
def large_message(srv):
    s = srv.client()
    s.sub("big.x", "1")
    s.flush()
    p = srv.client()
    data = os.urandom(700 * 1024)
    p.pub("big.x", data)
    p.pub("big.x", b"after")
    m = s.expect("MSG", timeout=10)
    check(m.data == data, "700 KiB payload intact")
    check(s.expect("MSG").data == b"after", "order kept")
    s.close()
    p.close()


@case()
def many_small_messages_in_order(srv):
    s = srv.client()
    s.sub("ord.x", "1")
    s.flush()
    p = srv.client()
    n = 5000
    p.send(b"".join(f"PUB ord.x {len(str(i))}\r\n{i}\r\n".encode() for i in range(n)))
    p.flush()
    got = []
    while len(got) < n:
        got.append(s.expect("MSG", timeout=10).data)
    check(got == [str(i).encode() for i in range(n)], "order and count of 5000 messages")
    s.close()
    p.close()


@case()
def unknown_operation(srv):
    c = srv.client()
    c.send(b"FOO bar\r\n")
    expect_closed_after_err(c, "Unknown Protocol Operation", srv)


@case()
def missing_crlf_after_payload(srv):
    c = srv.client()
    c.send(b"PUB x 2\r\nhiXX")
    expect_closed_after_err(c, "Unknown Protocol Operation", srv)


@case()
def bad_pub_arguments_close(srv):
    # nats-server closes without a -ERR here; mf-broker adds 'Unknown Protocol Operation'
    for bad in (b"PUB only-subject\r\n", b"PUB s notanumber\r\n", b"SUB a b c d\r\n"):
        c = srv.client()
        c.send(bad)
        err, _ = expect_closed_after_err(c, None, srv)
        check(err in (None, "Unknown Protocol Operation"), f"{bad!r}: {err}")


@case()
def control_line_too_long(srv):
    c = srv.client()
    c.send(b"SUB " + b"a" * 5000 + b" 1\r\n")
    expect_closed_after_err(c, "maximum control line exceeded", srv)


@case(max_payload=1024)
def max_payload(srv):
    c = srv.client(connect=False)
    check(c.info["max_payload"] == 1024, f"INFO max_payload: {c.info}")
    c.connect()
    c.pub("mp.x", b"x" * 1024)  # exactly the limit is fine
    c.flush()
    c.send(b"PUB mp.x 1025\r\n")
    expect_closed_after_err(c, "Maximum Payload Violation", srv)


@case(auth_token="s3cr3t-t0ken")
def auth_token(srv):
    c = srv.client(connect=False)
    check(c.info.get("auth_required") is True, f"INFO auth_required: {c.info}")
    c.connect(auth_token="s3cr3t-t0ken")
    c.close()
    for opts in ({}, {"auth_token": "wrong"}, {"auth_token": "s3cr3t-t0ke"}, {"auth_token": "s3cr3t-t0kenX"}):
        c = srv.client(connect=False)
        c.connect(wait=False, **opts)
        expect_closed_after_err(c, "Authorization Violation", srv)
    c = srv.client(connect=False)
    c.send(b"PING\r\n")  # anything before CONNECT
    expect_closed_after_err(c, "Authorization Violation", srv)


@case(max_subs=3)
def max_subscriptions(srv):
    c = srv.client()
    for i in range(3):
        c.sub(f"ms.{i}", str(i))
    c.flush()
    c.sub("ms.x", "99")
    c.expect_err("maximum subscriptions exceeded")
    c.flush()  # still connected
    c.unsub("0")
    c.sub("ms.y", "100")
    c.flush()
    check(not [o for o in c.drain_msgs(0.2) if o.kind == "-ERR"], "room again after UNSUB")
    c.close()


@case(max_connections=2)
def max_connections(srv):
    a = srv.client()
    b = srv.client()
    c = srv.client(connect=False, read_info=False)
    got_err = None
    reason = None
    try:
        while True:
            op = c.next_op(3)
            if op.kind == "-ERR":
                got_err = op.text
    except Closed as e:
        reason = e.reason
    check(got_err == "maximum connections exceeded", f"third connection: {got_err}")
    if srv.kind == "mf-broker":
        check(reason == b"maximum connections exceeded", f"close reason: {reason!r}")
    a.close()
    b.close()


@case(max_pending=256 * 1024, max_payload=64 * 1024)
def slow_consumer(srv):
    """A subscriber that stops reading is cut off; a healthy one keeps receiving everything."""
    slow = srv.client(rcvbuf=4096)
    slow.sub("sc.x", "1")
    slow.flush()
    healthy = srv.client()
    healthy.sub("sc.x", "1")
    healthy.flush()
    p = srv.client(timeout=30)
    payload = b"z" * (32 * 1024)
    n = 600  # ~19 MiB: far beyond socket buffers + max_pending
    failure = []

    def publish():  # in a thread: nats-server may hold the publisher back for a while
        try:
            for _ in range(0, n, 20):
                p.send(b"".join(b"PUB sc.x %d\r\n%s\r\n" % (len(payload), payload) for _ in range(20)))
        except Exception as e:  # noqa: BLE001
            failure.append(e)

    t = threading.Thread(target=publish)
    watcher = None
    if srv.kind == "mf-broker":
        # As soon as the broker cuts it, the slow one reads again (in a thread), so that the
        # -ERR and the close frame reach it within the broker's bounded close (3 s), however
        # long the healthy subscriber takes on a loaded machine.
        def watch():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                _, _, body = http_get(HOST, srv.port, "/varz")
                if json.loads(body)["slow_consumers"] >= 1:
                    slow.start_draining()
                    return
                time.sleep(0.02)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
    t.start()
    got = 0
    deadline = time.monotonic() + 30
    while got < n and time.monotonic() < deadline:
        try:
            if healthy.next_op(1).kind == "MSG":
                got += 1
        except TimeoutError:
            pass
    t.join()
    check(not failure, f"publisher: {failure}")
    check(got == n, f"the healthy subscriber got {got}/{n}")
    if watcher:
        watcher.join(60)
        check(hasattr(slow, "_drain_thread"), "the broker never reported a slow consumer")
        slow._drain_thread.join(10)  # it ends at the broker's close
        slow.stop_draining()
    # the slow one now reads: whatever was queued, maybe -ERR 'Slow Consumer', then the end
    err = None
    code = reason = None
    try:
        while True:
            op = slow.next_op(5)
            if op.kind == "-ERR":
                err = op.text
    except Closed as e:
        code, reason = e.code, e.reason
    except TimeoutError:
        raise AssertionError("the slow consumer was not disconnected")
    if srv.kind == "mf-broker":
        check(err == "Slow Consumer", f"mf-broker tells the slow consumer: {err}")
        # a close frame, when it got one (not dropped at the close grace), says why
        check(code is None or (code, reason) == (1000, b"Slow Consumer"), f"close frame {code} {reason!r}")
        st, _, body = http_get(HOST, srv.port, "/varz")
        check(json.loads(body)["slow_consumers"] >= 1, "varz slow_consumers")
    p.close()
    healthy.close()
