"""svc_harness - real processes on loopback for the services' end-to-end tests.

    broker = Broker("mf-broker", binary, workdir).start()    # or "nats-server"
    svc = Service(user_service_bin, broker.url, workdir).start()
    status, body = svc.http("POST", "/users", {"email": ..., "name": ...})
    events = Subscriber(broker.port, ">")                     # collects every message
    reply = Requester(broker.port).request("user.info.request", {"user_id": ...})

Every wait has a deadline generous for a loaded 2-core machine and raises when it passes;
nothing is synchronised with a fixed sleep. Standard library only (plus tests/transport/wsnats.py).
"""

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "transport"))
from wsnats import Op, WsNats  # noqa: E402

HOST = "127.0.0.1"
DEADLINE = float(os.environ.get("MF_TEST_DEADLINE", "60"))  # seconds for anything to happen


CASES: List[Tuple[str, Callable[[Any], None]]] = []


def case(fn: Callable[[Any], None]) -> Callable[[Any], None]:
    """Registers a test case (a function of the runner's Env), in definition order."""
    CASES.append((fn.__name__, fn))
    return fn


def check(cond: Any, what: str) -> None:
    if not cond:
        raise AssertionError(what)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until(pred: Callable[[], Any], what: str, timeout: float = DEADLINE, step: float = 0.02) -> Any:
    """Polls pred until it returns something truthy; raises AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


class Broker:
    """mf-broker or nats-server (websocket listener) on a free port; restartable on the same port."""

    def __init__(self, kind: str, binary: str, workdir: str) -> None:
        self.kind, self.binary, self.workdir = kind, binary, workdir
        self.port = free_port()
        self.url = f"ws://{HOST}:{self.port}"
        self.proc: Optional[subprocess.Popen] = None
        self.log = os.path.join(workdir, f"{kind}-{self.port}.log")

    def start(self) -> "Broker":
        if self.kind == "mf-broker":
            args = [self.binary, "--host", HOST, "--port", str(self.port)]
        else:
            conf = os.path.join(self.workdir, f"nats-{self.port}.conf")
            with open(conf, "w") as f:
                f.write(f"host: {HOST}\nport: -1\nwebsocket {{ listen: \"{HOST}:{self.port}\", no_tls: true }}\n")
            args = [self.binary, "-c", conf]
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen(args, stdout=logf, stderr=logf)
        wait_until(self._accepting, f"{self.kind} on port {self.port}")
        return self

    def _accepting(self) -> bool:
        if self.proc and self.proc.poll() is not None:
            raise AssertionError(f"{self.kind} exited with {self.proc.returncode}; see {self.log}")
        try:
            socket.create_connection((HOST, self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Service:
    """One user-service process with its own admin port."""

    def __init__(self, binary: str, server_url: str, workdir: str, db: Optional[str] = None,
                 name: str = "user", extra: Optional[List[str]] = None,
                 env: Optional[Dict[str, str]] = None, http_host: str = HOST) -> None:
        self.binary, self.server_url, self.workdir = binary, server_url, workdir
        self.env = env  # added to the environment of the process
        self.http_host = http_host  # the --http address (requests still go to 127.0.0.1)
        self.auth: Optional[str] = None  # bearer token sent with every request of http()
        self.db = db or os.path.join(workdir, f"{name}.db")
        self.name = name
        self.extra = extra or []
        self.http_port = free_port()
        self.proc: Optional[subprocess.Popen] = None
        self.log = os.path.join(workdir, f"{name}-{self.http_port}.log")
        self.returncode: Optional[int] = None

    def start(self, wait_connected: bool = True) -> "Service":
        args = [self.binary, "--server", self.server_url, "--db", self.db, "--http",
                f"{self.http_host}:{self.http_port}", "--log-level", "debug"] + self.extra
        env = dict(os.environ, **self.env) if self.env else None
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen(args, stdout=logf, stderr=logf, env=env)
        wait_until(self._listening, f"{self.name} admin port {self.http_port}")
        if wait_connected:
            wait_until(lambda: self.health()[1].get("broker", {}).get("connected"), f"{self.name} broker connection")
        return self

    def _listening(self) -> bool:
        if self.proc and self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}; see {self.log}")
        try:
            socket.create_connection((HOST, self.http_port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def http(self, method: str, path: str, body: Any = None, raw: Optional[bytes] = None,
             headers: Optional[Dict[str, str]] = None, timeout: float = DEADLINE) -> Tuple[int, Any]:
        """(status, decoded JSON body or None)."""
        conn = http.client.HTTPConnection(HOST, self.http_port, timeout=timeout)
        try:
            data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
            h = {"Content-Type": "application/json"}
            if self.auth:
                h["Authorization"] = f"Bearer {self.auth}"
            h.update(headers or {})
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            text = r.read()
            return r.status, (json.loads(text) if text else None)
        finally:
            conn.close()

    def health(self) -> Tuple[int, Dict[str, Any]]:
        try:
            return self.http("GET", "/healthz", timeout=5)
        except OSError:
            return 0, {}

    def wait_outbox_empty(self, timeout: float = DEADLINE) -> None:
        def empty() -> bool:
            st, h = self.health()
            return st == 200 and h["outbox"]["backlog"] == 0
        wait_until(empty, f"{self.name} outbox to empty", timeout)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float = DEADLINE) -> int:
        assert self.proc is not None
        self.returncode = self.proc.wait(timeout)
        self.proc = None
        return self.returncode

    def stop(self) -> Optional[int]:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.proc = None
                raise AssertionError(f"{self.name} did not stop on SIGTERM; see {self.log}")
        return None

    def db_query(self, sql: str, args: Tuple = ()) -> List[Tuple]:
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def db_exec(self, sql: str, args: Tuple = ()) -> None:
        """One write to the service's database, committed (a test's way to age or damage rows)."""
        con = sqlite3.connect(self.db, timeout=30)
        try:
            with con:
                con.execute(sql, args)
        finally:
            con.close()


class Nats(WsNats):
    """WsNats with a parser that walks the stream by offset (no copy per message)."""

    def __init__(self, port: int, headers: bool = False) -> None:
        self.pos = 0
        super().__init__(HOST, port, timeout=DEADLINE)
        self.connect(headers=headers)  # headers: the server sends HMSG with a message's headers

    def _parse_one(self) -> Optional[Op]:  # type: ignore[override]
        s, p = self.stream, self.pos
        i = s.find(b"\r\n", p)
        if i < 0:
            return None
        head = s[p:i]
        if not (head.startswith(b"MSG ") or head.startswith(b"HMSG ")):
            self.stream, self.pos = s[p:], 0
            return super()._parse_one()
        parts = head.decode().split()
        args = parts[1:]
        hmsg = parts[0] == "HMSG"
        hlen, total = (int(args[-2]), int(args[-1])) if hmsg else (0, int(args[-1]))
        reply = args[2] if len(args) == (5 if hmsg else 4) else None
        end = i + 2 + total
        if len(s) < end + 2:
            return None
        body = s[i + 2:end]
        self.pos = end + 2
        if self.pos > (1 << 20):
            self.stream, self.pos = s[self.pos:], 0
        return Op(parts[0], args[0], args[1], reply, body[:hlen] if hmsg else None, body[hlen:], None)


class Subscriber:
    """Collects every message on `subject` from a background thread: (subject, payload dict or text)."""

    def __init__(self, port: int, subject: str = ">") -> None:
        self.c = Nats(port, headers=True)
        self.c.sub(subject, "1")
        self.c.flush()
        self.msgs: List[Tuple[str, Any]] = []
        self.headers: List[Tuple[str, Any, bytes]] = []  # the messages that had NATS headers
        self.cv = threading.Condition()
        self.stopping = False
        self.error: Optional[BaseException] = None
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self) -> None:
        try:
            while not self.stopping:
                try:
                    op = self.c.next_op(0.2)
                except TimeoutError:
                    continue
                if op.kind not in ("MSG", "HMSG"):
                    continue
                try:
                    payload: Any = json.loads(op.data)
                except ValueError:
                    payload = op.data.decode(errors="replace")
                with self.cv:
                    self.msgs.append((op.subject, payload))
                    if op.kind == "HMSG":
                        self.headers.append((op.subject, payload, op.hdr or b""))
                    self.cv.notify_all()
        except BaseException as e:  # noqa: BLE001 - reported by wait_count
            if not self.stopping:
                self.error = e

    def snapshot(self) -> List[Tuple[str, Any]]:
        with self.cv:
            return list(self.msgs)

    def wait_count(self, n: int, pred: Callable[[Tuple[str, Any]], bool] = lambda m: True,
                   timeout: float = DEADLINE) -> List[Tuple[str, Any]]:
        """Waits until at least n collected messages satisfy pred; returns those."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                if self.error:
                    raise AssertionError(f"subscriber failed: {self.error!r}")
                got = [m for m in self.msgs if pred(m)]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {n} messages, have {len(got)}")
                self.cv.wait(min(left, 0.5))

    def close(self) -> None:
        self.stopping = True
        self.t.join(5)
        self.c.close()


class Requester:
    """Request/reply over one connection: a private inbox, one request at a time."""

    def __init__(self, port: int) -> None:
        self.c = Nats(port)
        self.inbox = f"_INBOX.test{os.getpid()}{port}"
        self.n = 0
        self.c.sub(self.inbox + ".*", "1")
        self.c.flush()

    def request_raw(self, subject: str, data: bytes, timeout: float = 10) -> Op:
        self.n += 1
        reply = f"{self.inbox}.{self.n}"
        self.c.pub(subject, data, reply=reply)
        deadline = time.monotonic() + timeout
        while True:
            op = self.c.next_op(max(0.01, deadline - time.monotonic()))
            if op.kind in ("MSG", "HMSG") and op.subject == reply:
                return op

    def request(self, subject: str, payload: Any, timeout: float = 10) -> Any:
        op = self.request_raw(subject, json.dumps(payload).encode(), timeout)
        return json.loads(op.data)

    def close(self) -> None:
        self.c.close()


class Validator:
    """Checks payloads against the contract with build/bin/mf-validate (one process per document)."""

    MESSAGES = {"user.info.update": "UserInfoUpdate", "user.analytics": "UserAnalyticsEvent",
                "notification.preferences.update": "PreferencesUpdate"}

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def check(self, message: str, payload: Any) -> None:
        data = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
        r = subprocess.run([self.binary, message, "-"], input=data, capture_output=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError(f"{message} does not validate: {r.stdout.decode().strip()} {data[:300]!r}")

    def check_event(self, subject: str, payload: Any) -> None:
        self.check(self.MESSAGES[subject], payload)
