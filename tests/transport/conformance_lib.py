"""The harness of the broker conformance suite (broker_conformance.py): the case registry,
one server process per configuration, and the checks the cases share.

Cases register themselves with @case when their module is imported: the shared NATS
behaviour in conformance_shared.py, mf-broker's own features in conformance_broker.py.
"""

import ctypes
import ctypes.util
import json
import os
import signal
import socket
import ssl
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


_HASHES = {}


def bcrypt_hash(password, cost=4):
    """A bcrypt hash ($2b$, cost 4 unless asked: tests need no work factor) from libcrypt, as
    mf-broker --hash-password makes them; nats-server takes the same. Cached per password."""
    if (password, cost) not in _HASHES:
        lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
        lib.crypt_gensalt.restype = ctypes.c_char_p
        lib.crypt.restype = ctypes.c_char_p
        salt = lib.crypt_gensalt(b"$2b$", cost, None, 0)
        h = lib.crypt(password.encode(), salt) if salt else None
        if not h or not h.startswith(b"$2b$"):
            raise RuntimeError("libcrypt cannot make bcrypt hashes")
        _HASHES[(password, cost)] = h.decode()
    return _HASHES[(password, cost)]


def make_cert(workdir):
    """A throw-away self-signed certificate for 127.0.0.1/localhost (the openssl command)."""
    cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
    if not os.path.exists(cert):
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "1", "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"openssl req failed: {r.stderr}")
    return cert, key


def nats_permissions(p):
    """The case's permissions dict in nats-server's configuration syntax (JSON is valid there)."""
    return json.dumps(p)


class Server:
    """One broker process (mf-broker or nats-server) with a configuration.

    Configuration keys: the limits (max_payload, ...), auth_token, origins, extra_args, and
      accounts  [{"user", "password" | "token", "permissions": {"publish": {"allow", "deny"},
                  "subscribe": {...}, "allow_responses": bool}}]: mf-broker gets a --config file
                  with bcrypt hashes, nats-server an authorization { users } block with the same
      tls       true: a throw-away certificate, wss:// (clients: srv.client() trusts it)
    """

    def __init__(self, kind, binary, config, workdir):
        self.kind, self.binary, self.config = kind, binary, dict(config)
        self.port = free_port()
        self.workdir = workdir
        self.proc = None
        self.stdout_lines = []
        self.log = os.path.join(workdir, f"{kind}-{self.port}.log")
        self.figures = {}  # name -> measured value, printed by the runner (docs/RELIABILITY.md)
        self.cert = self.key = None
        if self.config.get("tls"):
            self.cert, self.key = make_cert(workdir)

    def _accounts_file(self):
        users = []
        for u in self.config["accounts"]:
            e = {k: v for k, v in u.items() if k not in ("password", "token")}
            e.pop("cost", None)
            if "password" in u:
                e["password"] = bcrypt_hash(u["password"], u.get("cost", 4))
            if "token" in u:
                e["token"] = bcrypt_hash(u["token"])
            users.append(e)
        path = os.path.join(self.workdir, f"accounts-{self.port}.json")
        with open(path, "w") as f:
            json.dump({"users": users}, f, indent=2)
        return path

    def _nats_authorization(self):
        """One authorization { } block: token or users, and the timeout."""
        c, parts = self.config, []
        if "auth_token" in c:
            parts.append(f"token: {json.dumps(c['auth_token'])}")
        if "accounts" in c:
            users = []
            for u in c["accounts"]:
                e = {"user": u["user"], "password": bcrypt_hash(u["password"])}
                if "permissions" in u:
                    e["permissions"] = u["permissions"]
                users.append(e)
            parts.append("users = " + json.dumps(users))
        if "auth_timeout" in c:
            parts.append(f"timeout: {c['auth_timeout']}")
        return "authorization { " + "\n".join(parts) + " }" if parts else None

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
            if "auth_timeout" in c:
                args += ["--auth-timeout", str(c["auth_timeout"])]
            if "max_connecting" in c:
                args += ["--max-connecting", str(c["max_connecting"])]
            if "accounts" in c:
                args += ["--config", self._accounts_file()]
            if self.cert:
                args += ["--tls-cert", self.cert, "--tls-key", self.key]
            args += c.get("extra_args", [])
        else:
            tls = (f'tls {{ cert_file: "{self.cert}", key_file: "{self.key}" }}' if self.cert else "no_tls: true")
            conf = [f"host: {HOST}", "port: -1",
                    f'websocket {{ listen: "{HOST}:{self.port}", {tls} }}']
            auth = self._nats_authorization()
            if auth:
                conf.append(auth)
            if "max_payload" in c:
                conf.append(f"max_payload: {c['max_payload']}")
            if "max_pending" in c:
                conf.append(f"max_pending: {c['max_pending']}")
            if "max_subs" in c:
                conf.append(f"max_subscriptions: {c['max_subs']}")
            if "max_connections" in c:
                conf.append(f"max_connections: {c['max_connections']}")
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

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        return ctx

    def client(self, connect=True, **kw):
        opts = {}
        for k in ("origin", "subprotocol", "rcvbuf", "read_info", "timeout"):
            if k in kw:
                opts[k] = kw.pop(k)
        if self.cert:
            opts["ssl_context"] = self.ssl_context()
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
