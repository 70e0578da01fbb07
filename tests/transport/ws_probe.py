#!/usr/bin/env python3
"""What a server does with WebSocket frames RFC 6455 says must be refused: a table.

    tests/transport/ws_probe.py --broker build/bin/mf-broker [--nats-server /usr/sbin/nats-server]

Starts each server on a free loopback port, sends every case on a fresh connection (after
CONNECT), and prints one markdown row per case: what came back (the close status and
reason, or "open" with what a PING then got). Not a test (the conformance suite asserts
mf-broker's answers): a side-by-side record for docs/RELIABILITY.md.
"""

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conformance_lib import Server  # noqa: E402
from wsnats import Closed, HandshakeRefused  # noqa: E402


def close(code):
    return lambda c: c.send_frame(struct.pack("!H", code), opcode=8)


CASES = [
    ("unmasked client frame", lambda c: c.send_frame(b"PING\r\n", mask=False)),
    ("close status 0", close(0)),
    ("close status 1004", close(1004)),
    ("close status 1005", close(1005)),
    ("close status 1015", close(1015)),
    ("close status 2999", close(2999)),
    ("close status 5000", close(5000)),
    ("close status 1000 (valid)", close(1000)),
    ("close with a 1-byte body", lambda c: c.send_frame(b"\x03", opcode=8)),
    ("close reason not UTF-8", lambda c: c.send_frame(struct.pack("!H", 1000) + b"\xff\xfe", opcode=8)),
    ("text frame not UTF-8", lambda c: c.send_frame(b"PUB a 2\r\n\xff\xfe\r\n", opcode=1)),
    ("frame header announcing 2^62 bytes", lambda c: c.sock.sendall(struct.pack("!BBQ", 0x82, 0xFF, 1 << 62) + b"abcd")),
    ("RSV1 set", lambda c: c.sock.sendall(struct.pack("!BB", 0xC2, 0x82) + b"\0\0\0\0ab")),
    ("reserved opcode 3", lambda c: c.send_frame(b"x", opcode=3)),
    ("126-byte ping", lambda c: c.send_frame(b"x" * 126, opcode=9)),
    ("fragmented ping", lambda c: c.send_frame(b"x", opcode=9, fin=False)),
    ("continuation frame first", lambda c: c.send_frame(b"x", opcode=0)),
    ("64-bit length with the top bit set", lambda c: c.sock.sendall(struct.pack("!BBQ", 0x82, 0xFF, 1 << 63) + b"abcd")),
    ("frame header announcing 2^63-1 bytes, then 100 bytes",
     lambda c: c.sock.sendall(struct.pack("!BBQ", 0x82, 0xFF, (1 << 63) - 1) + b"abcd" + b"x" * 100)),
]


def outcome(srv, fn):
    try:
        c = srv.client()
    except (OSError, HandshakeRefused, Closed) as e:
        return f"cannot connect any more ({type(e).__name__}; the server exited: {srv.proc.poll() is not None})"
    try:
        fn(c)
        c.send(b"PING\r\n")
        got = []
        while True:
            op = c.next_op(2)
            got.append(op.kind if op.kind != "-ERR" else f"-ERR '{op.text}'")
            if op.kind == "PONG":
                return "stays open (" + ", ".join(got) + ")"
    except Closed as e:
        reason = e.reason.decode("utf-8", "replace")
        return f"closed {e.code if e.code is not None else '(no status)'}" + (f" `{reason}`" if reason else "")
    except TimeoutError:
        return "no answer within 2 s"
    except OSError as e:
        return f"connection error ({type(e).__name__})"
    finally:
        c.sock.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--nats-server", default=shutil.which("nats-server") or "/usr/sbin/nats-server")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mf-ws-probe-")
    servers = [("mf-broker", a.broker)]
    if os.access(a.nats_server, os.X_OK):
        servers.append(("nats-server", a.nats_server))
    cols = {}
    for kind, binary in servers:
        srv = Server(kind, binary, {}, work).start()
        col = cols[kind] = []
        try:
            for _, fn in CASES:
                if srv.proc.poll() is not None:  # it died on the previous case: a fresh one
                    srv.stop()
                    srv = Server(kind, binary, {}, work).start()
                col.append(outcome(srv, fn))
                try:
                    srv.proc.wait(0.5)
                    col[-1] += f"; **the server exited** (status {srv.proc.returncode})"
                except subprocess.TimeoutExpired:
                    pass
        finally:
            srv.stop()
    names = [k for k, _ in servers]
    print("| frame sent (after CONNECT) | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for i, (name, _) in enumerate(CASES):
        print(f"| {name} | " + " | ".join(cols[k][i] for k in names) + " |")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
