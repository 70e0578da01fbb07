#!/usr/bin/env python3
"""More of the C client (mf_client) against a scripted server, with the harness of
hostile_server.py (same driver, tests/e2e/hostile_peer.c, same checks: exit 0, no sanitizer
report, a bounded mf_client_destroy):

  ws_ping_answered            a WebSocket ping from the server is answered with a pong
                              carrying the same bytes; an unsolicited pong is ignored
  err_maximum_payload         -ERR 'Maximum Payload Violation': an ERROR event with
                              MF_ERR_PAYLOAD_TOO_BIG, the connection stays
  discovered_urls             INFO connect_urls given as host:port, as a full URL, and
                              one that does not parse: two DISCOVERED events

    hostile_more.py --peer build/bin/hostile_peer [--only NAME]
"""

import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_server as hs  # noqa: E402

hs.SCENARIOS.clear()


def ping_answered(c, nth):
    c.handshake()
    c.frame(b"", opcode=10)  # an unsolicited pong: ignored
    c.frame(b"are you there", opcode=9)
    while True:
        op, data = c.next_frame()
        if op == 10:
            hs.check(data == b"are you there", f"pong payload {data!r}")
            break
    c.nats(b"PING\r\n")  # and the NATS connection still works
    stream = b""
    while b"PONG\r\n" not in stream:
        op, data = c.next_frame()
        if op in (0, 1, 2):
            stream += data
    c.await_close()


hs.scenario("ws_ping_answered", ping_answered, run_ms=1000, close=1000)


def max_payload_err(c, nth):
    c.handshake()
    c.nats(b"-ERR 'Maximum Payload Violation'\r\n")
    c.await_close()


hs.scenario("err_maximum_payload", max_payload_err, run_ms=1000, close=1000,
            event="ERROR payload too big Maximum Payload Violation")


def discovered(c, nth):
    info = dict(hs.INFO, connect_urls=["127.0.0.1:1", "ws://127.0.0.1:2/other", "ws://", "127.0.0.1:1"])
    c.handshake(info)
    c.await_close()
    c.hold(1.0)


def two_discovered(out, srv):
    n = out.count("event DISCOVERED")
    hs.check(n == 2, f"{n} DISCOVERED events, expected 2 (host:port, a full URL; not the bad one, not twice):\n{out}")


hs.scenario("discovered_urls", discovered, run_ms=800, extra=two_discovered)

if __name__ == "__main__":
    sys.exit(hs.main(__doc__))
