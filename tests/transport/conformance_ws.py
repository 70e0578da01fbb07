"""WebSocket strictness (RFC 6455) and the HTTP side of the port: mf-broker's own cases.

nats-server 2.9 lets most of these through (docs/RELIABILITY.md has the side-by-side
figures from tests/transport/ws_probe.py); mf-broker answers each with the close status
RFC 6455 names, the reason in the close frame, and closes the socket.
"""

import socket
import struct
import time

from conformance_lib import HOST, case, check
from wsnats import Closed, HandshakeRefused, WsNats


def closes_with(c, code, reason_part=b"", within=3.0):
    """The server closes with `code` (reason containing reason_part) and then the socket."""
    t0 = time.monotonic()
    got = c.wait_closed(within)
    check(got == code, f"close status {got} ({c.close_reason!r}), expected {code}")
    check(reason_part in c.close_reason, f"close reason {c.close_reason!r} lacks {reason_part!r}")
    # after the close frames the server closes the TCP connection
    c.sock.settimeout(max(0.5, within - (time.monotonic() - t0)))
    try:
        while c.sock.recv(65536):
            pass
    except (ConnectionError, socket.timeout) as e:
        if isinstance(e, socket.timeout):
            raise AssertionError("the socket stayed open after the close handshake")


@case(shared=False)
def ws_unmasked_client_frame_1002(srv):
    c = srv.client()
    c.send_frame(b"PING\r\n", mask=False)
    closes_with(c, 1002, b"unmasked")
    # the others are not affected
    d = srv.client()
    d.flush()
    d.close()


@case(shared=False)
def ws_close_statuses(srv):
    for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535):
        c = srv.client()
        c.send_frame(struct.pack("!H", code), opcode=8)
        closes_with(c, 1002, b"may not be sent")
    for code in (1000, 1001, 3000, 4999):
        c = srv.client()
        c.send_frame(struct.pack("!H", code) + b"bye", opcode=8)
        closes_with(c, code)  # echoed (without the reason)
    c = srv.client()
    c.send_frame(b"", opcode=8)  # no status: the answer has none either
    got = c.wait_closed(3)
    check(got is None and c.close_reason == b"", f"empty close answered with {got} {c.close_reason!r}")


@case(shared=False)
def ws_close_one_byte_and_bad_reason(srv):
    c = srv.client()
    c.send_frame(b"\x03", opcode=8)
    closes_with(c, 1002, b"1-byte")
    c = srv.client()
    c.send_frame(struct.pack("!H", 1000) + b"\xff\xfebad", opcode=8)
    closes_with(c, 1007, b"UTF-8")


@case(shared=False)
def ws_text_frames_utf8(srv):
    c = srv.client()
    c.sub("txt.x", "1")
    c.send_frame("PUB txt.x 4\r\nh\u00e9y\r\n".encode(), opcode=1)  # valid text: works
    m = c.expect("MSG")
    check(m.data == "h\u00e9y".encode(), f"text payload {m}")
    # a character split across two fragments of one text message is fine
    c.send_frame(b"PUB txt.x 2\r\n\xc3", opcode=1, fin=False)
    c.send_frame(b"\xa9\r\n", opcode=0)
    check(c.expect("MSG").data == b"\xc3\xa9", "split character")
    c.send_frame(b"PUB txt.x 2\r\n\xff\xfe\r\n", opcode=1)
    closes_with(c, 1007, b"UTF-8")


@case(shared=False)
def ws_announced_length_refused_at_header(srv):
    """A frame announcing 2^62 bytes: 1009 at once, without waiting for (or reading) them;
    the connection then closes normally when the client answers the close frame."""
    c = srv.client()
    t0 = time.monotonic()
    c.sock.sendall(struct.pack("!BBQ", 0x82, 0x80 | 127, 1 << 62) + b"\x01\x02\x03\x04")
    got = c.wait_closed(3)
    dt = time.monotonic() - t0
    check(got == 1009 and c.close_reason == b"Maximum Message Size Exceeded", f"{got} {c.close_reason!r}")
    check(dt < 1.5, f"refused after {dt:.2f} s")


@case(shared=False)
def ws_framing_errors_1002(srv):
    bad = {
        "RSV1 set": struct.pack("!BB", 0xC2, 0x82) + b"\0\0\0\0ab",
        "reserved opcode 3": struct.pack("!BB", 0x83, 0x81) + b"\0\0\0\0x",
        "fragmented ping": struct.pack("!BB", 0x09, 0x81) + b"\0\0\0\0x",
        "126-byte ping": struct.pack("!BBH", 0x89, 0x80 | 126, 126) + b"\0\0\0\0" + b"p" * 126,
        "continuation first": struct.pack("!BB", 0x80, 0x81) + b"\0\0\0\0x",
        "new message inside one": struct.pack("!BB", 0x02, 0x81) + b"\0\0\0\0x" + struct.pack("!BB", 0x82, 0x81)
        + b"\0\0\0\0y",
        "length top bit": struct.pack("!BBQ", 0x82, 0xFF, 1 << 63) + b"\0\0\0\0",
    }
    for what, raw in bad.items():
        c = srv.client()
        c.sock.sendall(raw)
        try:
            closes_with(c, 1002)
        except AssertionError as e:
            raise AssertionError(f"{what}: {e}")


@case(shared=False)
def ws_ping_pong_and_client_close(srv):
    c = srv.client()
    c.send_frame(b"hello", opcode=9)
    c.flush()  # the pong comes before the PONG of this PING
    check(c.pongs == [b"hello"], f"pongs {c.pongs}")
    # a clean close from the client: status echoed, then the server closes the socket
    c.send_frame(struct.pack("!H", 1000), opcode=8)
    closes_with(c, 1000)


def raw_http(port, request, timeout=3.0):
    s = socket.create_connection((HOST, port), timeout=timeout)
    try:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
    finally:
        s.close()


@case(shared=False)
def http_upgrade_refusals(srv):
    # wrong version: 426 naming the one supported
    try:
        WsNats(HOST, srv.port, version="12")
        raise AssertionError("version 12 accepted")
    except HandshakeRefused as e:
        check(e.status == 426 and b"Sec-WebSocket-Version: 13" in e.head, f"{e.status} {e.head!r}")
    try:
        WsNats(HOST, srv.port, key="short")
        raise AssertionError("a bad key accepted")
    except HandshakeRefused as e:
        check(e.status == 400, f"bad key: {e.status}")
    r = raw_http(srv.port, b"POST /varz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    check(r.startswith(b"HTTP/1.1 405") and b"Allow: GET, HEAD" in r, f"POST: {r[:80]!r}")
    r = raw_http(srv.port, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    check(r.startswith(b"HTTP/1.1 200") and r.endswith(b"\r\n\r\n"), f"HEAD: {r!r}")
    r = raw_http(srv.port, b"GET / HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n")
    check(r.startswith(b"HTTP/1.1 431"), f"long head: {r[:80]!r}")
    r = raw_http(srv.port, b"GET / HTTP/2.0\r\n\r\n")
    check(r.startswith(b"HTTP/1.1 505"), f"HTTP/2.0: {r[:80]!r}")
    r = raw_http(srv.port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 60 + b"\r\n\r\n")
    check(r.startswith(b"HTTP/1.1 400"), f"a TLS hello on a plain port: {r[:80]!r}")


@case(shared=False, handshake_timeout=1)
def http_slow_request_dropped(srv):
    """A request head that never completes (slowloris) is dropped after --handshake-timeout."""
    s = socket.create_connection((HOST, srv.port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    try:
        got = s.recv(100)
    except ConnectionError:
        got = b""
    dt = time.monotonic() - t0
    s.close()
    check(got == b"" and 0.8 <= dt <= 3.0, f"dropped after {dt:.2f} s with {got!r}")
