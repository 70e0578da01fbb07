"""mfctl pub, sub and demo against a real server (mf-broker or nats-server)."""

from __future__ import annotations

import json
import signal
import subprocess
import unittest

from harness import (CONFIG, USER_ID, Proc, clean_env, closed_url, compact, example, headers, publish, run,
                     sub_proc, url, wait_until)

STATUS = "CampaignStatusUpdate.full.json"


def pub(*args: str, stdin: bytes = b"", env: dict | None = None):
    return run("-s", url(), "pub", *args, stdin=stdin, env=env)


class Sub(unittest.TestCase):
    def test_lines_are_subject_space_compact_json(self) -> None:
        s = sub_proc("campaign.>", "--count", "2")
        self.assertEqual(pub("campaign.status", example(STATUS)).returncode, 0)
        self.assertEqual(pub("campaign.create", example("CampaignCreate.full.json")).returncode, 0)
        self.assertEqual(s.wait(), 0)
        self.assertEqual(s.out().splitlines(), [f"campaign.status {compact(example(STATUS))}",
                                                f"campaign.create {compact(example('CampaignCreate.full.json'))}"])
        self.assertEqual(s.err(), "mfctl: subscribed to campaign.>\n")

    def test_count_stops_after_n_even_when_more_arrive(self) -> None:
        s = sub_proc("count.test", "--count", "2", "--raw")
        for i in range(5):
            publish("count.test", str(i).encode())
        self.assertEqual(s.wait(), 0)
        self.assertEqual(s.out(), "count.test 0\ncount.test 1\n")

    def test_options_before_or_after_the_command(self) -> None:
        for args in (["-s", url(), "--count", "1", "sub", "opt.order"],
                     ["sub", "opt.order", "--count=1", "--server", url()],
                     ["--count", "1", "sub", "-s", url(), "opt.order"]):
            s = Proc(*args)
            s.wait_err("subscribed to opt.order")
            publish("opt.order", b'{"a": 1}')
            self.assertEqual(s.wait(), 0, args)
            self.assertEqual(s.out(), 'opt.order {"a":1}\n', args)

    def test_timeout_ends_with_0_without_count(self) -> None:
        p = run("-s", url(), "sub", "nothing.here", "--timeout", "300ms")
        self.assertEqual((p.returncode, p.stdout), (0, ""))

    def test_timeout_before_count_is_3(self) -> None:
        s = sub_proc("few.msgs", "--count", "5", "--timeout", "2s")
        publish("few.msgs", b"1")
        self.assertEqual(s.wait(), 3)
        self.assertEqual(s.out(), "few.msgs 1\n")
        self.assertIn("mfctl: timeout after 2s: 1 of 5 messages", s.err())

    def test_count_0_is_no_limit_as_make_run_uses_it(self) -> None:
        s = sub_proc(">", "--count", "0")
        for i in range(3):
            publish("any.subject", str(i).encode())
        s.wait_lines(3)
        self.assertEqual(s.interrupt(), 0)  # Ctrl-C is how sub normally ends
        self.assertEqual(s.out(), "any.subject 0\nany.subject 1\nany.subject 2\n")

    def test_channel_key_address_and_params(self) -> None:
        push = example("PushNotification.full.json")
        other = "0b7a3c9e-4f21-4d8a-9c55-2e1f6a7b8c90"
        all_users = sub_proc("notificationUserPush", "--count", "2")
        one_user = sub_proc("notification.user.{user_id}.push", "-p", f"user_id={USER_ID}", "--count", "1")
        self.assertIn("subscribed to notification.user.*.push", all_users.err())
        self.assertIn(f"subscribed to notification.user.{USER_ID}.push", one_user.err())
        to_other = json.dumps({**json.load(open(push)), "user_id": other}).encode()
        self.assertEqual(pub("notificationUserPush", "-", "-p", f"user_id={other}", stdin=to_other).returncode, 0)
        self.assertEqual(pub(f"notification.user.{USER_ID}.push", push).returncode, 0)
        self.assertEqual(all_users.wait(), 0)
        self.assertEqual(one_user.wait(), 0)
        self.assertEqual([ln.split(" ")[0] for ln in all_users.out().splitlines()],
                         [f"notification.user.{other}.push", f"notification.user.{USER_ID}.push"])
        self.assertEqual(one_user.out(), f"notification.user.{USER_ID}.push {compact(push)}\n")

    def test_messages_that_break_the_contract_are_printed_and_reported(self) -> None:
        s = sub_proc("campaign.status", "--count", "1")
        self.assertEqual(pub("campaign.status", "--raw", stdin=b'{"x": 1}').returncode, 0)
        self.assertEqual(s.wait(), 0)
        self.assertEqual(s.out(), 'campaign.status {"x":1}\n')
        self.assertIn("mfctl: the message on campaign.status is not a valid CampaignStatusUpdate: /execution_id: ",
                      s.err())

    def test_a_bad_subject_parameter_is_reported(self) -> None:
        s = sub_proc("notificationUserPush", "--count", "1", "--json")
        publish("notification.user.abc.push", open(example("PushNotification.full.json"), "rb").read())
        self.assertEqual(s.wait(), 0)
        env = json.loads(s.out())
        self.assertEqual((env["valid"], env["message"]), (False, "PushNotification"))
        self.assertIn("uuid", env["error"]["message"])
        self.assertIn("not a valid PushNotification", s.err())

    def test_a_subject_that_disagrees_with_the_payload_is_reported(self) -> None:
        # notification.user.{user_id}.push takes user_id from the payload (its location): the
        # typed receivers drop a push whose subject names another user, so sub reports it.
        other = "0b7a3c9e-4f21-4d8a-9c55-2e1f6a7b8c90"
        s = sub_proc("notificationUserPush", "--count", "1", "--json")
        publish(f"notification.user.{other}.push", open(example("PushNotification.full.json"), "rb").read())
        self.assertEqual(s.wait(), 0)
        env = json.loads(s.out())
        self.assertEqual((env["valid"], env["message"]), (False, "PushNotification"))
        self.assertEqual(env["error"]["pointer"], "/user_id")
        self.assertIn(f'differs from the subject\'s user_id "{other}"', env["error"]["message"])
        self.assertIn("not a valid PushNotification: /user_id: ", s.err())

    def test_text_payloads_stay_on_one_line(self) -> None:
        s = sub_proc("text.test", "--count", "3")
        publish("text.test", b"hello\nworld\t\\")
        publish("text.test", b"\x00\xff")
        publish("text.test", b"")
        self.assertEqual(s.wait(), 0)
        self.assertEqual(s.out(), "text.test hello\\nworld\\t\\\\\ntext.test \\x00\\xff\ntext.test \n")

    def test_raw_prints_bytes_as_they_are_and_checks_nothing(self) -> None:
        s = sub_proc("campaign.status", "--count", "1", "--raw")
        self.assertEqual(pub("campaign.status", "--raw", stdin=b'{ "x" :\n 1 }').returncode, 0)
        self.assertEqual(s.wait(), 0)
        self.assertEqual(s.out(), 'campaign.status { "x" :\n 1 }\n')
        self.assertNotIn("not a valid", s.err())

    def test_queue_group_members_share_the_messages(self) -> None:
        a = sub_proc("queue.test", "--queue", "workers")
        b = sub_proc("--queue", "workers", "queue.test")
        everyone = sub_proc("queue.test", "--count", "40")
        for i in range(40):
            publish("queue.test", str(i).encode())
        self.assertEqual(everyone.wait(), 0)
        self.assertEqual(len(everyone.out().splitlines()), 40)
        wait_until(lambda: len(a.out().splitlines()) + len(b.out().splitlines()) >= 40,
                   "the group's 40 messages")
        self.assertEqual(a.interrupt(), 0)
        self.assertEqual(b.interrupt(), 0)
        a_lines, b_lines = a.out().splitlines(), b.out().splitlines()
        self.assertIn("in queue group workers", a.err())
        got = sorted(int(ln.split(" ")[1]) for ln in a_lines + b_lines)
        self.assertEqual(got, list(range(40)), "each message once, to one member")
        self.assertTrue(a_lines and b_lines, "both members got messages")

    def test_bad_queue_name_is_a_usage_error(self) -> None:
        p = run("-s", url(), "sub", "x", "--queue", "a b")
        self.assertEqual(p.returncode, 2, p.stderr)


class Json(unittest.TestCase):
    def test_envelope_with_headers_reply_and_validation(self) -> None:
        s = sub_proc("campaign.status", "--json", "--count", "3")
        body = open(example(STATUS), "rb").read()
        publish("campaign.status", body, hdr=headers(("X-Trace", "1"), ("X-Trace", "2"), ("Other", "v w")),
                reply="my.inbox")
        publish("campaign.status", b'{"status": "nope"}')
        publish("campaign.status", b"\xff\x00")
        self.assertEqual(s.wait(), 0)
        e1, e2, e3 = [json.loads(ln) for ln in s.out().splitlines()]
        self.assertEqual(e1, {"subject": "campaign.status", "reply": "my.inbox",
                              "headers": {"X-Trace": ["1", "2"], "Other": ["v w"]},
                              "payload": json.loads(body), "message": "CampaignStatusUpdate", "valid": True})
        self.assertEqual((e2["reply"], e2["headers"], e2["valid"], e2["payload"]),
                         (None, {}, False, {"status": "nope"}))
        self.assertEqual(set(e2["error"]), {"code", "pointer", "message"})
        self.assertEqual((e3["payload"], e3["encoding"], e3["valid"]), ("/wA=", "base64", False))

    def test_message_option_checks_against_a_chosen_message(self) -> None:
        s = sub_proc("lab.>", "--message", "CampaignStatusUpdate", "--json", "--count", "2")
        publish("lab.a", open(example(STATUS), "rb").read())
        publish("lab.b", b"{}")
        self.assertEqual(s.wait(), 0)
        a, b = [json.loads(ln) for ln in s.out().splitlines()]
        self.assertEqual((a["message"], a["valid"], b["message"], b["valid"]),
                         ("CampaignStatusUpdate", True, "CampaignStatusUpdate", False))

    def test_status_line(self) -> None:
        s = sub_proc("status.line", "--json", "--count", "1")
        publish("status.line", b"", hdr=b"NATS/1.0 408 Request Timeout\r\nA: b\r\n\r\n")
        self.assertEqual(s.wait(), 0)
        env = json.loads(s.out())
        self.assertEqual((env["status"], env["headers"]), (408, {"A": ["b"]}))

    def test_text_payload_outside_the_contract(self) -> None:
        s = sub_proc("plain.text", "--json", "--count", "1")
        publish("plain.text", "héllo\n".encode())
        self.assertEqual(s.wait(), 0)
        self.assertEqual(json.loads(s.out()), {"subject": "plain.text", "reply": None, "headers": {},
                                               "payload": "héllo\n", "encoding": "text"})


class Pub(unittest.TestCase):
    def test_from_file_stdin_and_dash(self) -> None:
        s = sub_proc("campaign.status", "--count", "3")
        f = example(STATUS)
        body = open(f, "rb").read()
        self.assertEqual(pub("campaign.status", f).returncode, 0)
        self.assertEqual(pub("campaign.status", stdin=body).returncode, 0)
        p = pub("campaignStatus", "-", stdin=body)
        self.assertEqual(p.returncode, 0)
        self.assertIn(f"mfctl: published {len(body)} bytes on campaign.status", p.stderr)
        self.assertEqual(s.wait(), 0)
        self.assertEqual(s.out(), f"campaign.status {compact(f)}\n" * 3)

    def test_invalid_payload_is_not_sent(self) -> None:
        s = sub_proc("campaign.status", "--count", "1")
        p = pub("campaign.status", stdin=b'{"status": "running"}')
        self.assertEqual(p.returncode, 1)
        self.assertIn("the payload is not a valid CampaignStatusUpdate", p.stderr)
        self.assertEqual(pub("campaign.status", example(STATUS)).returncode, 0)
        self.assertEqual(s.wait(), 0)
        self.assertEqual(s.out(), f"campaign.status {compact(example(STATUS))}\n", "the invalid one never arrived")

    def test_a_parameter_that_disagrees_with_the_payload_is_not_sent(self) -> None:
        # The payload's user_id is USER_ID; a push on another user's subject would be dropped by
        # every typed receiver: refused (exit 1) before anything is sent, given as --param or in
        # the subject. --raw sends it anyway.
        other = "0b7a3c9e-4f21-4d8a-9c55-2e1f6a7b8c90"
        push = example("PushNotification.full.json")
        s = sub_proc("notificationUserPush", "--count", "2")
        for args in (["notificationUserPush", push, "-p", f"user_id={other}"],
                     [f"notification.user.{other}.push", push],
                     ["notificationUserPush", push, "-p", f"user_id={USER_ID.upper()}"]):
            p = pub(*args)
            self.assertEqual(p.returncode, 1, args)
            self.assertIn("the payload is not a valid PushNotification: /user_id: ", p.stderr)
            self.assertIn("differs from the subject's user_id", p.stderr)
        self.assertEqual(pub(f"notification.user.{other}.push", push, "--raw").returncode, 0)
        self.assertEqual(pub("notificationUserPush", push, "-p", f"user_id={USER_ID}").returncode, 0)
        self.assertEqual(s.wait(), 0)
        self.assertEqual([ln.split(" ")[0] for ln in s.out().splitlines()],
                         [f"notification.user.{other}.push", f"notification.user.{USER_ID}.push"])

    def test_a_payload_over_max_payload_fails(self) -> None:
        p = pub("big.payload", "--raw", stdin=b"x" * (CONFIG.server_max_payload() + 1))
        self.assertEqual(p.returncode, 1)
        self.assertIn("mfctl: publish on big.payload failed: ", p.stderr)

    def test_raw_and_message_on_subjects_outside_the_contract(self) -> None:
        s = sub_proc("outside.>", "--count", "2")
        self.assertEqual(pub("outside.a", "--raw", stdin=b"anything").returncode, 0)
        self.assertEqual(pub("outside.b", "--message", "CampaignStatusUpdate", example(STATUS)).returncode, 0)
        p = pub("outside.c", "--message", "CampaignCreate", example(STATUS))
        self.assertEqual(p.returncode, 1)
        self.assertIn("not a valid CampaignCreate", p.stderr)
        self.assertEqual(s.wait(), 0)
        self.assertEqual(s.out(), f"outside.a anything\noutside.b {compact(example(STATUS))}\n")

    def test_environment_servers_are_used(self) -> None:
        for env in (clean_env(MF_SERVER=url(), NATS_URL=closed_url()), clean_env(NATS_URL=url()),
                    clean_env(NATS_URL=f"{closed_url()},{url()}")):
            p = run("pub", "campaign.status", example(STATUS), env=env)
            self.assertEqual(p.returncode, 0, (env.get("MF_SERVER"), env.get("NATS_URL"), p.stderr))
        p = run("-s", url(), "pub", "campaign.status", example(STATUS), env=clean_env(MF_SERVER=closed_url()))
        self.assertEqual(p.returncode, 0, "the flag wins over $MF_SERVER")


class Demo(unittest.TestCase):
    def test_demo_publishes_every_event_on_its_channel(self) -> None:
        s = sub_proc(">", "--count", "6", "--json")
        p = run("-s", url(), "demo", CONFIG.examples)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.count(" published\n"), 6)
        self.assertEqual(s.wait(), 0)
        envs = [json.loads(ln) for ln in s.out().splitlines()]
        self.assertTrue(all(e["valid"] for e in envs), envs)
        push = [e for e in envs if e["subject"].startswith("notification.user.")]
        self.assertEqual(push[0]["subject"], f"notification.user.{push[0]['payload']['user_id']}.push")

    def test_demo_of_a_folder_without_examples_fails(self) -> None:
        p = run("-s", url(), "demo", "/nonexistent")
        self.assertEqual(p.returncode, 1)
        self.assertIn("FAILED", p.stdout)


class Restart(unittest.TestCase):
    def test_sub_keeps_going_across_a_server_restart(self) -> None:
        s = sub_proc("restart.test", "--count", "2")
        publish("restart.test", b"1")
        s.wait_lines(1)
        CONFIG.server.stop()
        s.wait_err("mfctl: disconnected from")
        CONFIG.server.start()
        s.wait_err("mfctl: reconnected to")
        publish("restart.test", b"2")
        self.assertEqual(s.wait(), 0)
        self.assertEqual(s.out(), "restart.test 1\nrestart.test 2\n")


class ClosedPipe(unittest.TestCase):
    def test_sub_ends_when_its_reader_goes_away(self) -> None:
        """`mfctl sub x | head -1`: the next message finds the pipe closed and sub ends (1)."""
        p = subprocess.Popen([CONFIG.mfctl, "-s", url(), "sub", "pipe.test"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=clean_env())
        try:
            wait_until(lambda: b"subscribed" in p.stderr.read1(), "the subscription")
            publish("pipe.test", b"1")
            self.assertEqual(p.stdout.readline(), b"pipe.test 1\n")
            p.stdout.close()
            publish("pipe.test", b"2")
            self.assertEqual(p.wait(30), 1)
            self.assertEqual(p.stderr.read(), b"")  # a closed pipe is not worth a message
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stderr.close()


class Signals(unittest.TestCase):
    def test_sigterm_ends_sub_cleanly(self) -> None:
        s = sub_proc("sig.test")
        s.p.send_signal(signal.SIGTERM)
        self.assertEqual(s.wait(), 0)


if __name__ == "__main__":
    unittest.main()
