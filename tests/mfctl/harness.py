"""What the mfctl tests share: the server under test, running mfctl, and Python peers that
publish, subscribe and respond over the same NATS-over-WebSocket protocol (tests/transport/wsnats).

run.py fills CONFIG before the tests run: the mfctl binary, the examples folder and, for the
server suites, one started Server (mf-broker or nats-server on a free loopback port).
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "transport"))

from conformance_lib import HOST, Server, free_port  # noqa: E402
from wsnats import WsNats  # noqa: E402

# Generous deadlines: the suite runs on a loaded 2-core machine. Nothing waits this long
# unless something is broken.
DEADLINE = 30.0
USER_ID = "3f0c9a52-7d1e-4b8a-9c61-2e5f4a7b8d90"
EXECUTION = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
CAMPAIGN = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


@dataclass
class Config:
    mfctl: str = ""
    examples: str = ""
    server: Optional[Server] = None
    workdir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="mf-mfctl-"))

    def server_max_payload(self) -> int:
        """max_payload from the server's INFO."""
        c = peer()
        try:
            return int(c.info["max_payload"])
        finally:
            c.close()


CONFIG = Config()


def url() -> str:
    assert CONFIG.server is not None, "this test needs a server (run.py --server ...)"
    return f"ws://{HOST}:{CONFIG.server.port}"


def closed_url() -> str:
    """A ws:// URL where nothing listens."""
    return f"ws://{HOST}:{free_port()}"


def example(name: str) -> str:
    return os.path.join(CONFIG.examples, name)


def compact(path: str) -> str:
    """The compact JSON text of a file, members and number texts as written."""
    with open(path, encoding="utf-8") as f:
        return json.dumps(json.load(f), separators=(",", ":"), ensure_ascii=False)


def clean_env(**extra: str) -> dict:
    """The environment without MF_SERVER / NATS_URL and credentials, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MF_SERVER", "NATS_URL", "MF_TOKEN", "MF_USER", "MF_PASSWORD")}
    env.update(extra)
    return env


def run(*args: str, stdin: bytes = b"", env: Optional[dict] = None,
        timeout: float = DEADLINE) -> subprocess.CompletedProcess:
    """Runs mfctl to its end; stdout/stderr as text."""
    p = subprocess.run([CONFIG.mfctl, *args], input=stdin, capture_output=True, timeout=timeout,
                       env=env if env is not None else clean_env())
    err = p.stderr.decode("utf-8", "replace")
    no_sanitizer_report(err)
    return subprocess.CompletedProcess(p.args, p.returncode, p.stdout.decode("utf-8", "replace"), err)


def no_sanitizer_report(stderr: str) -> None:
    """Under MF_SANITIZE, a report on mfctl's stderr fails the test whatever the exit status."""
    for mark in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        if mark in stderr:
            raise AssertionError(f"sanitizer report from mfctl:\n{stderr}")


class Proc:
    """mfctl running in the background; stdout and stderr go to files we can poll."""

    def __init__(self, *args: str, env: Optional[dict] = None, stdout=None):
        fd, self.out_path = tempfile.mkstemp(dir=CONFIG.workdir, suffix=".out")
        os.close(fd)
        fd, self.err_path = tempfile.mkstemp(dir=CONFIG.workdir, suffix=".err")
        os.close(fd)
        self._out = open(self.out_path, "wb") if stdout is None else None
        self._err = open(self.err_path, "wb")
        self.p = subprocess.Popen([CONFIG.mfctl, *args], stdin=subprocess.DEVNULL,
                                  stdout=self._out if stdout is None else stdout, stderr=self._err,
                                  env=env if env is not None else clean_env())

    def out(self) -> str:
        with open(self.out_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def err(self) -> str:
        with open(self.err_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_err(self, text: str, deadline: float = DEADLINE) -> None:
        """Waits until stderr contains text (e.g. "mfctl: subscribed to")."""
        self._await(lambda: text in self.err(), f"stderr to contain {text!r}", deadline)

    def wait_lines(self, n: int, deadline: float = DEADLINE) -> list[str]:
        self._await(lambda: self.out().count("\n") >= n, f"{n} lines on stdout", deadline)
        return self.out().splitlines()

    def _await(self, cond: Callable[[], bool], what: str, deadline: float) -> None:
        end = time.monotonic() + deadline
        while not cond():
            if self.p.poll() is not None and not cond():
                raise AssertionError(f"mfctl exited ({self.p.returncode}) before {what}\n"
                                     f"stdout: {self.out()}\nstderr: {self.err()}")
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {what}\nstdout: {self.out()}\nstderr: {self.err()}")
            time.sleep(0.02)

    def wait(self, deadline: float = DEADLINE) -> int:
        try:
            rc = self.p.wait(deadline)
        finally:
            self.close()
        no_sanitizer_report(self.err())
        return rc

    def interrupt(self) -> int:
        self.p.send_signal(signal.SIGINT)
        return self.wait()

    def close(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        for f in (self._out, self._err):
            if f:
                f.close()


def wait_until(cond: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def sub_proc(*args: str, env: Optional[dict] = None) -> Proc:
    """`mfctl sub ...` against the server, once it has subscribed."""
    p = Proc("-s", url(), "sub", *args, env=env)
    p.wait_err("mfctl: subscribed to ")
    return p


# ---- Python peers -------------------------------------------------------------------------


def peer() -> WsNats:
    return CONFIG.server.client(connect=True, headers=True, no_responders=True)


def publish(subject: str, data: bytes, hdr: Optional[bytes] = None, reply: Optional[str] = None) -> None:
    """One message from a Python peer, confirmed by the server before returning."""
    c = peer()
    try:
        if hdr is None:
            c.pub(subject, data, reply=reply)
        else:
            c.hpub(subject, hdr, data, reply=reply)
        c.flush(DEADLINE)
    finally:
        c.close()


def headers(*pairs: tuple[str, str]) -> bytes:
    return ("NATS/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in pairs) + "\r\n").encode()


class Responder:
    """Answers requests on a subject from a thread; `answer(data)` returns (headers, body) or
    None to stay silent. `requests` collects the payloads it saw."""

    def __init__(self, subject: str, answer: Callable[[bytes], Optional[tuple[Optional[bytes], bytes]]]):
        self.answer = answer
        self.requests: list[bytes] = []
        self.c = peer()
        self.c.sub(subject, "1")
        self.c.flush(DEADLINE)
        self.stop = threading.Event()
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                op = self.c.next_op(0.05)
            except TimeoutError:
                continue
            if op.kind not in ("MSG", "HMSG"):
                continue
            self.requests.append(op.data)
            a = self.answer(op.data)
            if a is None or not op.reply:
                continue
            hdr, body = a
            if hdr is None:
                self.c.pub(op.reply, body)
            else:
                self.c.hpub(op.reply, hdr, body)

    def close(self) -> None:
        self.stop.set()
        self.t.join(DEADLINE)
        self.c.close()

    def __enter__(self) -> "Responder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---- terminal -----------------------------------------------------------------------------


def run_on_tty(args: list[str], feed: Callable[[], None], env: Optional[dict] = None,
               deadline: float = DEADLINE) -> tuple[int, bytes, str]:
    """Runs mfctl with stdout on a pseudo-terminal (stderr on a file); `feed` runs once mfctl
    has subscribed. Returns (exit status, terminal bytes, stderr)."""
    master, slave = pty.openpty()
    p = Proc(*args, env=env, stdout=slave)
    os.close(slave)
    got = bytearray()
    try:
        p.wait_err("mfctl: watching ")
        feed()
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the terminal's last writer is gone
                    chunk = b""
                got += chunk
                if not chunk and p.p.poll() is not None:
                    break
            elif p.p.poll() is not None:
                break
        return p.wait(), bytes(got), p.err()
    finally:
        os.close(master)
        p.close()

