"""The harness of the broker conformance suite (broker_conformance.py): the case registry,
one server process per configuration, and the checks the cases share.

Cases register themselves with @case when their module is imported: the shared NATS
behaviour in conformance_shared.py, mf-broker's own features in conformance_broker.py.
"""

import os
import signal
import socket
import subprocess
import threading
import time

from wsnats import Closed, WsNats

HOST = "127.0.0.1"
CASES = []


def case(shared=True, **config):
    """Registers a case; `config` is the server configuration it needs."""
    def deco(fn):
        CASES.append((fn.__name__, fn, shared, config))
        return fn
    return deco


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """One broker process (mf-broker or nats-server) with a configuration."""

    def __init__(self, kind, binary, config, workdir):
        self.kind, self.binary, self.config = kind, binary, dict(config)
        self.port = free_port()
        self.workdir = workdir
        self.proc = None
        self.stdout_lines = []
        self.log = os.path.join(workdir, f"{kind}-{self.port}.log")

    def start(self):
        c = self.config
        if self.kind == "mf-broker":
            args = [self.binary, "--host", HOST, "--port", str(self.port)]
            flags = {"max_payload": "--max-payload", "auth_token": "--auth-token", "max_pending": "--max-pending",
                     "max_subs": "--max-subs", "max_connections": "--max-connections",
                     "ws_max_message": "--ws-max-message", "ping_interval": "--ping-interval",
                     "handshake_timeout": "--handshake-timeout", "max_pings_out": "--max-pings-out"}
            for k, flag in flags.items():
                if k in c:
                    args += [flag, str(c[k])]
            for o in c.get("origins", []):
                args += ["--allow-origin", o]
            args += c.get("extra_args", [])
        else:
            conf = [f"host: {HOST}", "port: -1",
                    f'websocket {{ listen: "{HOST}:{self.port}", no_tls: true }}']
            if "max_payload" in c:
                conf.append(f"max_payload: {c['max_payload']}")
            if "max_pending" in c:
                conf.append(f"max_pending: {c['max_pending']}")
            if "max_subs" in c:
                conf.append(f"max_subscriptions: {c['max_subs']}")
            if "max_connections" in c:
                conf.append(f"max_connections: {c['max_connections']}")
            if "auth_token" in c:
                conf.append(f'authorization {{ token: "{c["auth_token"]}" }}')
            path = os.path.join(self.workdir, f"nats-{self.port}.conf")
            with open(path, "w") as f:
                f.write("\n".join(conf) + "\n")
            args = [self.binary, "-c", path]
        self.logf = open(self.log, "wb")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.logf)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._ready = threading.Event()
        self._reader.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}; see {self.log}")
            if self.kind == "mf-broker":
                if self._ready.wait(0.05):
                    return self
            else:
                try:
                    socket.create_connection((HOST, self.port), timeout=0.2).close()
                    return self
                except OSError:
                    time.sleep(0.05)
        raise RuntimeError(f"{self.kind} did not become ready; see {self.log}")

    def _read_stdout(self):
        for line in self.proc.stdout:
            line = line.decode(errors="replace").rstrip("\n")
            self.stdout_lines.append(line)
            if line.startswith("mf-broker listening on "):
                self._ready.set()

    def client(self, connect=True, **kw):
        opts = {}
        for k in ("origin", "subprotocol", "rcvbuf", "read_info", "timeout"):
            if k in kw:
                opts[k] = kw.pop(k)
        c = WsNats(HOST, self.port, **opts)
        if connect:
            c.connect(**kw)
        return c

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        self.logf.close()
        return self.proc.returncode


def msgs(ops):
    return [o for o in ops if o.kind in ("MSG", "HMSG")]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def expect_closed_after_err(c, text, srv, timeout=3.0):
    """The server sends -ERR '<text>' (if text) and closes; mf-broker closes with 1000 and
    the -ERR text as the close frame's reason."""
    got_err = None
    code = None
    reason = b""
    try:
        deadline = time.monotonic() + timeout
        while True:
            op = c.next_op(max(0.05, deadline - time.monotonic()))
            if op.kind == "-ERR":
                got_err = op.text
    except Closed as e:
        code, reason = e.code, e.reason
    if text is not None:
        check(got_err is not None and got_err.lower() == text.lower(), f"expected -ERR '{text}', got {got_err!r}")
    if srv.kind == "mf-broker":
        check(code == 1000, f"expected close status 1000, got {code}")
        if got_err is not None:
            check(reason == got_err.encode(), f"close frame reason {reason!r}, expected the -ERR text {got_err!r}")
    return got_err, code
