#!/usr/bin/env python3
"""The C client (mf_client) against a hostile server, standard library only.

    hostile_server.py --peer build/bin/hostile_peer [--only NAME]

Each scenario is a server that misbehaves in one way on a free loopback port
(masked frames, close statuses that may not be sent, text that is not UTF-8, a frame
announcing 2^62 bytes, a bad upgrade answer, no answer at all, a bad INFO, garbage
operations, a peer that never completes the close handshake, a connection cut while
the client has a backlog, ...). The driver tests/e2e/hostile_peer.c connects to it,
runs for a while and destroys its client; each case checks what the client said
(its events, and the close frame it sent back: the RFC 6455 status) and that it
neither crashed nor hung: the driver exits 0 and mf_client_destroy returns within a
bound. Under ASan/UBSan (a sanitizer build of the driver) any report fails the case.

Exit status: 0 all passed, 1 a case failed, 77 the driver is missing.
"""

import argparse
import base64
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
HOST = "127.0.0.1"
INFO = {"server_id": "HOSTILE", "version": "2.9.10", "proto": 1, "headers": True, "max_payload": 1048576}


class Conn:
    """The server side of one connection."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.client_close = None  # the status of the close frame the client sent (or "none")

    def recv_until(self, marker, timeout=5.0):
        self.sock.settimeout(timeout)
        while marker not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("client closed")
            self.buf += chunk
        head, _, self.buf = self.buf.partition(marker)
        return head

    def read_request(self):
        head = self.recv_until(b"\r\n\r\n")
        key = None
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"sec-websocket-key":
                key = v.strip()
        return key

    def accept(self, key, extra=b"", accept=None):
        acc = accept or base64.b64encode(hashlib.sha1(key + GUID).digest())
        self.sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          b"Sec-WebSocket-Accept: " + acc + b"\r\n" + extra + b"\r\n")

    def frame(self, payload, opcode=2, fin=True, mask=None, length=None):
        n = len(payload) if length is None else length
        b0 = (0x80 if fin else 0) | opcode
        mbit = 0x80 if mask else 0
        if n < 126:
            head = struct.pack("!BB", b0, mbit | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, mbit | 126, n)
        else:
            head = struct.pack("!BBQ", b0, mbit | 127, n)
        if mask:
            head += mask
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + payload)

    def nats(self, text):
        self.frame(text if isinstance(text, bytes) else text.encode())

    def next_frame(self, timeout=5.0):
        """(opcode, payload) of the next client frame (client frames are masked)."""
        self.sock.settimeout(timeout)
        while True:
            b = self.buf
            if len(b) >= 2:
                n, off = b[1] & 0x7F, 2
                if n == 126 and len(b) >= 4:
                    n, off = struct.unpack("!H", b[2:4])[0], 4
                elif n == 127 and len(b) >= 10:
                    n, off = struct.unpack("!Q", b[2:10])[0], 10
                elif n >= 126:
                    n = None
                if n is not None and len(b) >= off + 4 + n:
                    key = b[off:off + 4]
                    data = bytes(x ^ key[i % 4] for i, x in enumerate(b[off + 4:off + 4 + n]))
                    self.buf = b[off + 4 + n:]
                    return b[0] & 0x0F, data
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("client closed")
            self.buf += chunk

    def handshake(self, info=None):
        """Upgrade, INFO, then the client's CONNECT ... PING answered with PONG."""
        self.accept(self.read_request())
        self.nats("INFO " + json.dumps(info or INFO) + "\r\n")
        stream = b""
        while b"PING\r\n" not in stream:
            op, data = self.next_frame()
            if op in (1, 2, 0):
                stream += data
        self.nats(b"PONG\r\n")

    def await_close(self, timeout=3.0):
        """Reads client frames until its close frame; records its status."""
        try:
            while True:
                op, data = self.next_frame(timeout)
                if op == 8:
                    self.client_close = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else "none"
                    return
        except (EOFError, OSError):
            return

    def hold(self, seconds):
        """Keeps the socket open, reading and ignoring, for a while."""
        end = time.monotonic() + seconds
        self.sock.settimeout(0.1)
        while time.monotonic() < end:
            try:
                if not self.sock.recv(65536):
                    return
            except socket.timeout:
                pass
            except OSError:
                return


class Server:
    def __init__(self, behave):
        self.behave = behave
        self.lsock = socket.socket()
        self.lsock.bind((HOST, 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.conns = []
        self.errors = []
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        self.lsock.settimeout(0.1)
        while not self.stop:
            try:
                s, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c = Conn(s)
            self.conns.append(c)
            threading.Thread(target=self.serve, args=(c, len(self.conns)), daemon=True).start()

    def serve(self, c, nth):
        try:
            self.behave(c, nth)
        except (EOFError, ConnectionError, socket.timeout):
            pass
        except Exception:  # noqa: BLE001
            self.errors.append(traceback.format_exc())
        finally:
            try:
                c.sock.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.lsock.close()
        self.thread.join(2)


# ---------------------------------------------------------------- scenarios

def after_handshake(action):
    """The handshake completes, then `action(c)` misbehaves; the client's close is awaited."""
    def behave(c, nth):
        c.handshake()
        action(c)
        c.await_close()
        c.hold(1.0)
    return behave


SCENARIOS = {}


def scenario(name, behave, run_ms=1500, close=None, event=None, connected=True, extra=None, pubs=0):
    SCENARIOS[name] = dict(behave=behave, run_ms=run_ms, close=close, event=event, connected=connected,
                           extra=extra, pubs=pubs)


scenario("masked_server_frame", after_handshake(lambda c: c.frame(b"PONG\r\n", mask=b"\x01\x02\x03\x04")),
         close=1002, event="ERROR protocol websocket: masked frame from a server")
scenario("close_status_5000", after_handshake(lambda c: c.frame(struct.pack("!H", 5000), opcode=8)),
         close=1002, event="may not be sent")
scenario("close_one_byte", after_handshake(lambda c: c.frame(b"\x03", opcode=8)),
         close=1002, event="1-byte body")
scenario("close_reason_not_utf8", after_handshake(lambda c: c.frame(struct.pack("!H", 1000) + b"\xff", opcode=8)),
         close=1007, event="close reason is not UTF-8")
scenario("text_not_utf8", after_handshake(lambda c: c.frame(b"MSG hp.x 1 2\r\n\xff\xfe\r\n", opcode=1)),
         close=1007, event="text message is not UTF-8")
scenario("frame_announcing_2_62_bytes", after_handshake(lambda c: c.frame(b"MSG", length=1 << 62)),
         close=1009, event="message larger than")
scenario("ping_of_126_bytes", after_handshake(lambda c: c.frame(b"p" * 126, opcode=9)),
         close=1002, event="control frame longer than 125 bytes")
scenario("reserved_opcode", after_handshake(lambda c: c.frame(b"x", opcode=3)), close=1002, event="unknown opcode")
scenario("garbage_operation", after_handshake(lambda c: c.nats(b"GARBAGE\r\n")),
         close=1002, event="ERROR protocol")
scenario("bad_info", lambda c, n: (c.accept(c.read_request()), c.nats(b"INFO {not json\r\n"), c.await_close()),
         connected=False, close=1002, event="ERROR protocol bad INFO")


def server_closes_normally(c, nth):
    c.handshake()
    if nth == 1:
        c.frame(struct.pack("!H", 1000) + b"bye", opcode=8)
        c.await_close()
    else:
        c.hold(3)


scenario("server_close_1000", server_closes_normally, close=1000, event="DISCONNECTED i/o closed by the server (1000: bye)",
         extra=lambda out, srv: check(len(srv.conns) >= 2 and "event RECONNECTED" in out, "reconnected"))


def bad_accept(c, nth):
    c.read_request()
    c.accept(b"", accept=b"d3Jvbmc=")
    c.hold(1)


def refused_403(c, nth):
    c.read_request()
    c.sock.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    c.hold(1)


def no_answer(c, nth):
    c.read_request()
    c.hold(5)


def many_attempts(out, srv):
    check(len(srv.conns) >= 2, f"the client retried ({len(srv.conns)} connections)")


scenario("wrong_accept_key", bad_accept, connected=False, extra=many_attempts)
scenario("upgrade_refused_403", refused_403, connected=False, extra=many_attempts)
scenario("upgrade_never_answered", no_answer, connected=False, run_ms=1800, extra=many_attempts)  # connect timeout
scenario("tcp_only_garbage", lambda c, n: (c.sock.sendall(b"SSH-2.0-OpenSSH_9\r\n\r\n"), c.hold(1)),
         connected=False, extra=many_attempts)


def never_answers_close(c, nth):
    c.handshake()
    c.hold(6)  # reads what the client sends (its close frame too) and never answers or closes


scenario("close_never_completed", never_answers_close, run_ms=800,
         extra=lambda out, srv: check(destroy_ms(out) < 2500, f"destroy took {destroy_ms(out)} ms"))


def cut_with_backlog(c, nth):
    c.handshake()
    if nth == 1:
        time.sleep(0.5)  # not reading: the client's 2 MB of publishes pile up in its queue
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.sock.close()  # RST
    else:
        c.hold(3)


scenario("connection_cut_with_a_backlog", cut_with_backlog, run_ms=2000, pubs=20000, event="DROPPED full pending_limit",
         extra=lambda out, srv: check("stats dropped=0 " not in out, "dropped publishes are counted"))


def destroy_ms(out):
    for line in out.splitlines():
        if line.startswith("destroyed "):
            return int(line.split()[1])
    return 10 ** 9


def check(cond, what):
    if not cond:
        raise AssertionError(what)


DESTROY_MS = {}


def run_case(peer, name, sc):
    srv = Server(sc["behave"])
    try:
        cmd = [peer, f"ws://{HOST}:{srv.port}/", str(sc["run_ms"])]
        if sc["pubs"]:
            cmd.append(str(sc["pubs"]))
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        out = r.stdout
        check(r.returncode == 0, f"driver exit {r.returncode}\n{out}\n{r.stderr[-2000:]}")
        check(not any(m in r.stderr for m in ("AddressSanitizer", "runtime error:", "LeakSanitizer")),
              f"sanitizer report:\n{r.stderr[-3000:]}")
        check(destroy_ms(out) < 2500, f"mf_client_destroy took {destroy_ms(out)} ms")
        DESTROY_MS[name] = destroy_ms(out)
        check(("event CONNECTED" in out) == sc["connected"], f"connected should be {sc['connected']}:\n{out}")
        if sc["event"]:
            check(sc["event"] in out, f"no event line with {sc['event']!r}:\n{out}")
        if sc["close"] is not None:
            got = [c.client_close for c in srv.conns]
            check(sc["close"] in got, f"the client's close statuses {got}, expected {sc['close']}")
        if sc["extra"]:
            sc["extra"](out, srv)
        check(not srv.errors, "server errors:\n" + "\n".join(srv.errors))
    finally:
        srv.close()


def main(doc=None):
    """Runs the scenarios; doc: the --help text of the calling script (default: this one's)."""
    ap = argparse.ArgumentParser(description=doc or __doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--only")
    a = ap.parse_args()
    if not os.access(a.peer, os.X_OK):
        print(f"SKIP: driver {a.peer} not built")
        return 77
    failed = 0
    names = [n for n in SCENARIOS if not a.only or a.only in n]
    for i, name in enumerate(names, 1):
        t0 = time.monotonic()
        try:
            run_case(a.peer, name, SCENARIOS[name])
            print(f"ok {i} - {name} ({time.monotonic() - t0:.2f}s)", flush=True)
        except Exception as e:  # noqa: BLE001
            failed += 1
            print(f"not ok {i} - {name} ({time.monotonic() - t0:.2f}s)", flush=True)
            for line in f"{e}\n{traceback.format_exc()}".rstrip().splitlines():
                print(f"#   {line}")
    if DESTROY_MS:
        worst = max(DESTROY_MS, key=DESTROY_MS.get)
        print(f"# figure: mf_client_destroy took at most {DESTROY_MS[worst]} ms ({worst})")
    print(f"# hostile server: {len(names) - failed}/{len(names)} passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    sys.exit(main())
