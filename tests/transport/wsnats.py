"""wsnats - a tiny NATS-over-WebSocket client for tests, standard library only.

It does its own WebSocket framing (client frames masked, as RFC 6455 requires)
so tests can also send what a well-behaved client never would: ops split at any
byte, many ops per frame, oversized messages, garbage. Server -> client bytes
are parsed as one NATS byte stream regardless of how the server framed them.

    c = WsNats("127.0.0.1", port)          # handshake; c.info is the INFO dict
    c.connect(verbose=False)                # CONNECT + PING, waits for PONG
    c.sub("foo.*", 1); c.pub("foo.bar", b"hi"); c.flush()
    op = c.next_op()                        # Op(kind="MSG", subject="foo.bar", sid="1", ...)
"""

import base64
import collections
import hashlib
import json
import os
import select
import socket
import ssl
import struct
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

Op = collections.namedtuple("Op", "kind subject sid reply hdr data text")


class Closed(Exception):
    """The server closed the connection (close frame or EOF)."""

    def __init__(self, code=None, reason=b""):
        super().__init__(f"connection closed (code {code})")
        self.code = code
        self.reason = reason


class HandshakeRefused(Exception):
    def __init__(self, status, head):
        super().__init__(f"websocket upgrade refused: {status}")
        self.status = status
        self.head = head


def http_get(host, port, path, timeout=5.0, sock=None):
    """A minimal HTTP/1.1 GET: returns (status, headers dict, body bytes). `sock`: a socket
    already connected to host:port to use instead of a new one (a TLS one); it is closed."""
    s = sock or socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                hdrs = _parse_headers(head)
                n = int(hdrs.get("content-length", "-1"))
                if n >= 0 and len(body) >= n:
                    break
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        hdrs = _parse_headers(head)
        if "content-length" in hdrs:
            body = body[: int(hdrs["content-length"])]
        return status, hdrs, body
    finally:
        s.close()


def _parse_headers(head):
    hdrs = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        hdrs[k.strip().lower().decode()] = v.strip().decode()
    return hdrs


class WsNats:
    def __init__(self, host, port, *, origin=None, subprotocol=None, timeout=5.0, rcvbuf=None,
                 read_info=True, ssl_context=None, server_hostname=None, version="13", key=None):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # before connect, so the TCP window stays small (slow consumer tests)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ssl_context is not None:
            self.sock = ssl_context.wrap_socket(self.sock, server_hostname=server_hostname or host)
        self.raw = b""          # received websocket bytes not yet framed
        self.stream = b""       # NATS bytes not yet parsed
        self.pending = collections.deque()  # ops read while waiting for something else
        self.close_code = None
        self.close_reason = b""  # the reason text of the server's close frame
        self.closed = False
        self.server_pings = 0
        self.pongs = []          # payloads of websocket pong frames received
        self.auto_pong = True
        self.frames_received = 0
        self.info = None
        self._handshake(origin, subprotocol, version, key)
        if read_info:
            op = self.next_op()
            if op.kind != "INFO":
                raise AssertionError(f"expected INFO first, got {op}")
            self.info = json.loads(op.text)

    # ---------------------------------------------------------------- websocket
    def _handshake(self, origin, subprotocol, version="13", key=None):
        key = key or base64.b64encode(os.urandom(16)).decode()
        req = [f"GET / HTTP/1.1", f"Host: {self.host}:{self.port}", "Upgrade: websocket",
               "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", f"Sec-WebSocket-Version: {version}"]
        if origin:
            req.append(f"Origin: {origin}")
        if subprotocol:
            req.append(f"Sec-WebSocket-Protocol: {subprotocol}")
        self.sock.sendall(("\r\n".join(req) + "\r\n\r\n").encode())
        data = b""
        deadline = time.monotonic() + self.timeout
        while b"\r\n\r\n" not in data:
            if time.monotonic() > deadline:
                raise TimeoutError("no handshake response")
            try:
                chunk = self.sock.recv(4096)
            except ConnectionError:
                chunk = b""
            if not chunk:
                raise HandshakeRefused(None, data)
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 101:
            raise HandshakeRefused(status, head)
        hdrs = _parse_headers(head)
        want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        if hdrs.get("sec-websocket-accept") != want:
            raise AssertionError("bad Sec-WebSocket-Accept")
        self.subprotocol = hdrs.get("sec-websocket-protocol")
        self.raw = rest

    def send_frame(self, payload, opcode=2, fin=True, mask=True):
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
        else:
            head = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
        if mask:
            key = os.urandom(4)
            payload = _xor(payload, key)
            head += key
        self.sock.sendall(head + payload)

    def send(self, data):
        """Bytes as one binary websocket message."""
        self.send_frame(data if isinstance(data, bytes) else data.encode())

    def send_pieces(self, data, size):
        """Bytes as many binary messages of `size` bytes each (a byte stream split anywhere)."""
        for i in range(0, len(data), size):
            self.send_frame(data[i:i + size])

    def send_fragmented(self, data, size):
        """Bytes as ONE websocket message made of continuation frames of `size` bytes."""
        chunks = [data[i:i + size] for i in range(0, len(data), size)] or [b""]
        for i, ch in enumerate(chunks):
            self.send_frame(ch, opcode=2 if i == 0 else 0, fin=(i == len(chunks) - 1))

    def _read_more(self, deadline):
        if self.closed:
            raise Closed(self.close_code, self.close_reason)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out waiting for the server")
        pending = getattr(self.sock, "pending", None)  # TLS: bytes already decrypted
        if not (pending and pending()):
            p = select.poll()  # not select(): tests open more than 1,024 descriptors
            p.register(self.sock, select.POLLIN)
            if not p.poll(remaining * 1000):
                raise TimeoutError("timed out waiting for the server")
        try:
            chunk = self.sock.recv(1 << 20)
        except ssl.SSLWantReadError:
            return  # TLS: a record is not complete yet
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            self.closed = True
            raise Closed(self.close_code, self.close_reason)
        self.raw += chunk

    def _next_frame(self, deadline):
        """(opcode, fin, payload) of the next complete server frame."""
        while True:
            buf = self.raw
            if len(buf) >= 2:
                b0, b1 = buf[0], buf[1]
                if b1 & 0x80:
                    raise AssertionError("server frames must not be masked")
                n, off = b1 & 0x7F, 2
                if n == 126 and len(buf) >= 4:
                    n, off = struct.unpack("!H", buf[2:4])[0], 4
                elif n == 127 and len(buf) >= 10:
                    n, off = struct.unpack("!Q", buf[2:10])[0], 10
                elif n >= 126:
                    n = None
                if n is not None and len(buf) >= off + n:
                    self.raw = buf[off + n:]
                    return b0 & 0x0F, bool(b0 & 0x80), buf[off:off + n]
            self._read_more(deadline)

    def _pump(self, deadline):
        """Reads one frame; data goes to self.stream, control frames are handled."""
        op, fin, payload = self._next_frame(deadline)
        if op in (0, 1, 2):
            self.frames_received += 1
            self.stream += payload
        elif op == 8:  # close
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            self.close_code = code
            self.close_reason = payload[2:]
            try:
                self.send_frame(payload[:2], opcode=8)
            except OSError:
                pass
            self.closed = True
            raise Closed(code, payload[2:])
        elif op == 9:  # websocket ping
            self.send_frame(payload, opcode=10)
        elif op == 10:  # websocket pong
            self.pongs.append(payload)

    # ---------------------------------------------------------------- NATS
    def _parse_one(self):
        s = self.stream
        i = s.find(b"\r\n")
        if i < 0:
            return None
        line = s[:i].decode()
        parts = line.split()
        verb = parts[0].upper() if parts else ""
        if verb in ("MSG", "HMSG"):
            args = parts[1:]
            if verb == "MSG":
                hlen, total = 0, int(args[-1])
                reply = args[2] if len(args) == 4 else None
            else:
                hlen, total = int(args[-2]), int(args[-1])
                reply = args[2] if len(args) == 5 else None
            end = i + 2 + total
            if len(s) < end + 2:
                return None
            if s[end:end + 2] != b"\r\n":
                raise AssertionError(f"payload of {line!r} not followed by CRLF")
            body = s[i + 2:end]
            self.stream = s[end + 2:]
            return Op(verb, args[0], args[1], reply, body[:hlen] if verb == "HMSG" else None, body[hlen:], None)
        self.stream = s[i + 2:]
        if verb in ("INFO",):
            return Op("INFO", None, None, None, None, None, line[5:].strip())
        if verb == "-ERR":
            text = line[4:].strip()
            if len(text) >= 2 and text[0] == text[-1] == "'":
                text = text[1:-1]
            return Op("-ERR", None, None, None, None, None, text)
        if verb in ("PING", "PONG", "+OK"):
            return Op(verb, None, None, None, None, None, None)
        raise AssertionError(f"unexpected line from server: {line!r}")

    def next_op(self, timeout=None, skip_pings=True):
        """The next op from the server (server PINGs are answered and skipped by default)."""
        if self.pending:
            return self.pending.popleft()
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            op = self._parse_one()
            if op is not None:
                if op.kind == "PING":
                    self.server_pings += 1
                    if self.auto_pong:
                        self.send(b"PONG\r\n")
                    if skip_pings:
                        continue
                return op
            self._pump(deadline)

    def wait_for(self, kind, timeout=None):
        """Reads until an op of `kind`; the others are kept for next_op()."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        skipped = []
        try:
            while True:
                op = self.next_op(timeout=max(0.0, deadline - time.monotonic()))
                if op.kind == kind:
                    return op
                skipped.append(op)
        finally:
            self.pending.extendleft(reversed(skipped))

    def connect(self, wait=True, **opts):
        o = {"verbose": False, "pedantic": False, "lang": "python", "version": "0", "protocol": 1}
        o.update(opts)
        self.send(("CONNECT " + json.dumps(o) + "\r\nPING\r\n").encode())
        if wait:
            if o.get("verbose"):
                self.expect("+OK")
            self.expect("PONG")
        return self

    def expect(self, kind, timeout=None):
        op = self.next_op(timeout)
        if op.kind != kind:
            raise AssertionError(f"expected {kind}, got {op}")
        return op

    def expect_err(self, text, timeout=None):
        op = self.next_op(timeout)
        if op.kind != "-ERR" or op.text.lower() != text.lower():
            raise AssertionError(f"expected -ERR '{text}', got {op}")
        return op

    def pub(self, subject, data=b"", reply=None):
        data = data if isinstance(data, bytes) else data.encode()
        r = f" {reply}" if reply else ""
        self.send(f"PUB {subject}{r} {len(data)}\r\n".encode() + data + b"\r\n")

    def hpub(self, subject, hdr, data=b"", reply=None):
        r = f" {reply}" if reply else ""
        self.send(f"HPUB {subject}{r} {len(hdr)} {len(hdr) + len(data)}\r\n".encode() + hdr + data + b"\r\n")

    def sub(self, subject, sid, queue=None):
        q = f" {queue}" if queue else ""
        self.send(f"SUB {subject}{q} {sid}\r\n".encode())

    def unsub(self, sid, max_msgs=None):
        m = f" {max_msgs}" if max_msgs is not None else ""
        self.send(f"UNSUB {sid}{m}\r\n".encode())

    def flush(self, timeout=None):
        """PING and wait for its PONG; ops read meanwhile stay queued for next_op()."""
        self.send(b"PING\r\n")
        self.wait_for("PONG", timeout)

    def drain_msgs(self, timeout=0.3):
        """Every op that arrives until `timeout` seconds pass quietly."""
        out = []
        while True:
            try:
                out.append(self.next_op(timeout))
            except TimeoutError:
                return out

    def start_draining(self):
        """Reads the socket as fast as it delivers, in a thread, so that this client is never
        the slow one; stop_draining() hands the bytes back to the parser."""
        import threading
        self._drained = bytearray()
        self._drain_stop = False

        def run():
            self.sock.settimeout(0.2)
            while not self._drain_stop:
                try:
                    chunk = self.sock.recv(1 << 20)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                self._drained += chunk
        self._drain_thread = threading.Thread(target=run, daemon=True)
        self._drain_thread.start()

    def stop_draining(self):
        self._drain_stop = True
        self._drain_thread.join()
        self.sock.settimeout(self.timeout)
        self.raw += bytes(self._drained)

    def wait_closed(self, timeout=None):
        """Reads (and discards) until the server closes; returns the close code (None for EOF)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        try:
            while True:
                self._pump(deadline)
        except Closed as e:
            return e.code

    def close(self):
        try:
            if not self.closed:
                self.send_frame(struct.pack("!H", 1000), opcode=8)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True


def _xor(data, key):
    n = len(data)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(k, "little")).to_bytes(n, "little")
