"""mfctl req against a real server, with a Python responder: a reply, an invalid reply, no
reply (timeout), nobody listening (no responders) and a refusal (NATS service-error headers)."""

from __future__ import annotations

import json
import time
import unittest

from harness import USER_ID, Proc, Responder, compact, example, headers, run, url, wait_until

REQUEST = json.dumps({"user_id": USER_ID}).encode()


def req(*args: str, stdin: bytes = REQUEST):
    return run("-s", url(), "req", *args, stdin=stdin)


def reply_with(path: str):
    body = open(example(path), "rb").read()
    return lambda data: (None, body)


class Req(unittest.TestCase):
    def test_reply_is_printed_compact(self) -> None:
        with Responder("user.info.request", reply_with("UserInfoReply.full.json")) as r:
            p = req("user.info.request")
            self.assertEqual((p.returncode, p.stdout), (0, compact(example("UserInfoReply.full.json")) + "\n"),
                             p.stderr)
            p = req("userInfoRequest", "--timeout", "5s")  # by the channel's key
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual([json.loads(x) for x in r.requests], [{"user_id": USER_ID}] * 2)

    def test_request_from_a_file_and_json_envelope(self) -> None:
        with Responder("user.info.request", reply_with("UserInfoReply.not_found.json")):
            p = req("user.info.request", example("UserInfoRequest.full.json"), "--json", stdin=b"")
            self.assertEqual(p.returncode, 0, p.stderr)
            env = json.loads(p.stdout)
            self.assertTrue(env["subject"].startswith("_INBOX."), env)
            self.assertEqual((env["message"], env["valid"], env["headers"]), ("UserInfoReply", True, {}))

    def test_invalid_reply_is_printed_and_fails(self) -> None:
        with Responder("user.info.request", lambda d: (None, b'{"bad": true}')):
            p = req("user.info.request")
            self.assertEqual(p.returncode, 1)
            self.assertEqual(p.stdout, '{"bad":true}\n')
            self.assertIn("mfctl: the reply is not a valid UserInfoReply: ", p.stderr)
            p = req("user.info.request", "--raw")  # no checks
            self.assertEqual(p.returncode, 0)

    def test_invalid_request_is_not_sent(self) -> None:
        with Responder("user.info.request", reply_with("UserInfoReply.full.json")) as r:
            p = req("user.info.request", stdin=b'{"user_id": "nope"}')
            self.assertEqual(p.returncode, 1)
            self.assertIn("the request is not a valid UserInfoRequest: /user_id: ", p.stderr)
            self.assertEqual(req("user.info.request").returncode, 0)
            self.assertEqual(len(r.requests), 1, "only the valid request reached the responder")

    def test_timeout_is_3(self) -> None:
        with Responder("user.info.request", lambda d: None) as r:
            t0 = time.monotonic()
            p = req("user.info.request", "--timeout", "300ms")
            self.assertEqual(p.returncode, 3, p.stderr)
            self.assertGreaterEqual(time.monotonic() - t0, 0.3)
            self.assertIn("mfctl: no reply on user.info.request within 300ms", p.stderr)
            self.assertEqual((p.stdout, len(r.requests)), ("", 1))

    def test_no_responders_is_4(self) -> None:
        p = req("user.info.request", "--timeout", "10s")
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertIn("mfctl: no responders on user.info.request", p.stderr)

    def test_refused_is_5(self) -> None:
        hdr = headers(("Nats-Service-Error", "invalid request: /user_id: format"),
                      ("Nats-Service-Error-Code", "400"))
        with Responder("user.info.request", lambda d: (hdr, b"")):
            p = req("user.info.request")
            self.assertEqual((p.returncode, p.stdout), (5, ""), p.stderr)
            self.assertIn("mfctl: the responder refused the request on user.info.request: "
                          "400 invalid request: /user_id: format", p.stderr)

    def test_refusal_with_a_body_prints_the_body(self) -> None:
        hdr = headers(("Nats-Service-Error-Code", "503"), ("Nats-Service-Error", "busy"))
        with Responder("user.info.request", lambda d: (hdr, b'{"retry": "later"}')):
            p = req("user.info.request")
            self.assertEqual((p.returncode, p.stdout), (5, '{"retry":"later"}\n'), p.stderr)
            self.assertIn("503 busy", p.stderr)

    def test_a_reply_with_an_error_status_fails(self) -> None:
        with Responder("user.info.request", lambda d: (b"NATS/1.0 408 Request Timeout\r\n\r\n", b"")):
            p = req("user.info.request")
            self.assertEqual((p.returncode, p.stdout), (1, ""), p.stderr)
            self.assertIn("mfctl: the reply on user.info.request carries status 408", p.stderr)

    def test_raw_on_a_subject_outside_the_contract(self) -> None:
        with Responder("echo.svc", lambda d: (None, d)):
            p = req("echo.svc", "--raw", stdin=b"ping")
            self.assertEqual((p.returncode, p.stdout), (0, "ping\n"), p.stderr)

    def test_ctrl_c_interrupts_a_long_wait(self) -> None:
        with Responder("user.info.request", lambda d: None) as r:
            p = Proc("-s", url(), "req", "user.info.request", example("UserInfoRequest.full.json"),
                     "--timeout", "1m")
            wait_until(lambda: len(r.requests) == 1, "the request to reach the responder")
            self.assertEqual(p.interrupt(), 130)


if __name__ == "__main__":
    unittest.main()
