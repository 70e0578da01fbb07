"""mfctl without a server: help, usage errors, durations, parameters, channels, validate,
and where the server list comes from (checked by connecting to ports where nothing listens)."""

from __future__ import annotations

import json
import unittest

from harness import USER_ID, closed_url, example, run

COMMANDS = ("channels", "pub", "sub", "req", "campaign", "demo")
EXIT_CODES = ("0 ok", "1 failure", "2 usage", "3 timeout", "4 no responders", "5 refused")


class Help(unittest.TestCase):
    def test_top_level_help_lists_commands_and_exit_codes(self) -> None:
        for args in (["--help"], ["-h"], ["help"]):
            p = run(*args)
            self.assertEqual(p.returncode, 0, args)
            for c in (*COMMANDS, "validate"):
                self.assertIn(f"\n  {c} ", p.stdout)
            for e in EXIT_CODES:
                self.assertIn(e, p.stdout.replace("\n", " "))
            self.assertIn("$NATS_URL", p.stdout)

    def test_every_command_has_help_on_stdout(self) -> None:
        for c in COMMANDS:
            for args in ([c, "--help"], ["--help", c], [c, "-h"], ["help", c]):
                p = run(*args)
                self.assertEqual(p.returncode, 0, args)
                self.assertTrue(p.stdout.startswith(f"usage: mfctl {c}"), (args, p.stdout[:80]))
                self.assertEqual(p.stderr, "")
        self.assertIn("Exit status", run("sub", "--help").stdout)

    def test_help_lists_every_option_the_command_accepts(self) -> None:
        # An option is accepted when mfctl does not answer "does not apply"; then the command's
        # help must name it (and the other way round).
        values = {"--timeout": "1s", "--count": "1", "--queue": "q", "--message": "UserInfoRequest",
                  "--param": "a=b", "--raw": None, "--json": None, "--campaign": USER_ID}
        for c in COMMANDS:
            text = run(c, "--help").stdout
            for opt, value in values.items():
                p = run("-s", closed_url(), "--connect-timeout", "100ms", c, opt, *([value] if value else []))
                accepted = "does not apply" not in p.stderr
                self.assertEqual(accepted, opt in text, (c, opt, p.stderr))

    def test_validate_help_is_the_validators(self) -> None:
        p = run("validate", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("usage: mfctl validate [--roundtrip] MESSAGE", p.stdout)
        for args in (["help", "validate"], ["--help", "validate"], ["-s", "x", "validate", "-h"]):
            p = run(*args)
            self.assertEqual(p.returncode, 0, args)
            self.assertIn("usage: mfctl validate [--roundtrip] MESSAGE", p.stdout, args)

    def test_version(self) -> None:
        for args in (["--version"], ["sub", "x", "--version"]):
            p = run(*args)
            self.assertEqual(p.returncode, 0)
            self.assertRegex(p.stdout, r"^mfctl \S+ \(mflow\), contract mflow \S+\n$")


class Usage(unittest.TestCase):
    def expect_usage(self, *args: str, says: str) -> None:
        p = run(*args)
        self.assertEqual(p.returncode, 2, (args, p.stderr))
        self.assertIn(says, p.stderr, args)
        self.assertIn("--help' for usage", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_no_command_prints_the_usage_on_stderr(self) -> None:
        p = run()
        self.assertEqual((p.returncode, p.stdout), (2, ""))
        self.assertTrue(p.stderr.startswith("usage: mfctl "))

    def test_command_line_errors_exit_2(self) -> None:
        self.expect_usage("frobnicate", says="unknown command frobnicate")
        self.expect_usage("help", "frobnicate", says="unknown command frobnicate")
        self.expect_usage("sub", "x", "--bogus", says="unknown option --bogus")
        self.expect_usage("sub", "x", "--count", says="--count needs a value")
        self.expect_usage("sub", "x", "--raw=1", says="--raw takes no value")
        self.expect_usage("sub", says="which subject or channel?")
        self.expect_usage("sub", "a", "b", says="too many arguments")
        self.expect_usage("pub", says="which channel?")
        self.expect_usage("req", "a", "b", "c", says="too many arguments")
        self.expect_usage("demo", says="which folder")
        self.expect_usage("channels", "extra", says="unexpected argument extra")

    def test_double_dash_ends_the_options(self) -> None:
        p = run("-s", closed_url(), "--connect-timeout", "200ms", "sub", "--", "--count")
        self.assertEqual(p.returncode, 1, p.stderr)  # "--count" is the subject: it got as far as connecting
        self.assertIn("cannot connect", p.stderr)

    def test_options_that_do_not_apply(self) -> None:
        self.expect_usage("channels", "--timeout", "1s", says="--timeout does not apply to mfctl channels")
        self.expect_usage("pub", "campaign.status", "--queue", "q", says="--queue does not apply to mfctl pub")
        self.expect_usage("req", "user.info.request", "--count", "1", says="--count does not apply")
        self.expect_usage("campaign", "watch", "--json", says="--json does not apply")

    def test_count_must_be_a_whole_number(self) -> None:
        for bad in ("-1", "x", "1.5", "", "99999999999999999999"):
            self.expect_usage("sub", "x", "--count", bad, says="--count")

    def test_bad_subjects_and_channels(self) -> None:
        for bad in ("a..b", "a b", "a.>.b", "a.b*", ".a"):
            self.expect_usage("sub", bad, says="neither a channel of the contract nor a valid subject")
        self.expect_usage("pub", "campaign.*", "-", says="no wildcards")
        self.expect_usage("pub", "no.such.channel", example("CampaignStatusUpdate.full.json"),
                          says="no channel of the contract matches no.such.channel")
        self.expect_usage("req", "no.such.channel", says="no channel of the contract matches")
        self.expect_usage("pub", "campaign.status", "--message", "Nope", says="unknown message Nope")


class Durations(unittest.TestCase):
    """Durations are checked when the command line is read, before connecting."""

    def test_units_are_required_and_hinted(self) -> None:
        p = run("sub", "x", "--timeout", "2000")
        self.assertEqual(p.returncode, 2)
        self.assertIn("a duration needs a unit: 2000s or 2000ms", p.stderr)

    def test_bad_durations(self) -> None:
        for bad, why in (("1q", "unknown unit 'q'"), ("", "empty duration"), ("-1s", "not a duration"),
                         ("0s", "more than 0"), ("1..2s", "bad number"), ("s", "not a duration"),
                         ("999999h", "too long")):
            p = run("req", "user.info.request", "--timeout", bad)
            self.assertEqual(p.returncode, 2, bad)
            self.assertIn(why, p.stderr, bad)

    def test_good_durations_reach_the_connection(self) -> None:
        """--connect-timeout D shows in the failure message, normalised."""
        for d, shown in (("300ms", "300ms"), ("0.4s", "400ms"), ("1.5s", "1.5s"), ("250000us", "250ms"),
                         ("1s500ms", "1.5s"), ("100000000ns", "100ms")):
            p = run("sub", "x", "-s", closed_url(), "--connect-timeout", d)
            self.assertEqual(p.returncode, 1, (d, p.stderr))
            self.assertIn(f"within {shown}\n", p.stderr, d)

    def test_long_durations_parse(self) -> None:
        for d in ("1m", "1m30s", "2h", "1h1m1s"):
            p = run("sub", "x", "--timeout", d, "-s", closed_url(), "--connect-timeout", "200ms")
            self.assertEqual(p.returncode, 1, (d, p.stderr))


class Params(unittest.TestCase):
    PUSH = "notification.user.{user_id}.push"

    def expect_usage(self, *args: str, says: str) -> None:
        p = run(*args, "-s", closed_url())
        self.assertEqual(p.returncode, 2, (args, p.stderr))
        self.assertIn(says, p.stderr)

    def test_parameters_are_checked_like_the_typed_api(self) -> None:
        f = example("PushNotification.full.json")
        self.expect_usage("pub", self.PUSH, f, says="needs --param user_id=VALUE (a uuid)")
        self.expect_usage("pub", "notificationUserPush", f, says="needs --param user_id=VALUE")
        self.expect_usage("pub", self.PUSH, f, "--param", "user_id=abc", says="user_id must be a valid uuid")
        self.expect_usage("pub", self.PUSH, f, "-p", "user_id=a.b", says="user_id")
        self.expect_usage("pub", self.PUSH, f, "-p", "user_id=", says="user_id")
        self.expect_usage("pub", self.PUSH, f, "-p", f"user_id={USER_ID}", "-p", "x=1",
                          says="has no parameter x (its parameters: user_id)")
        self.expect_usage("pub", self.PUSH, f, "-p", "user_id", says="expected NAME=VALUE")
        self.expect_usage("pub", self.PUSH, f, "-p", f"user_id={USER_ID}", "-p", f"user_id={USER_ID}",
                          says="--param user_id given twice")
        self.expect_usage("pub", "notification.user.abc.push", f, says="must be a valid uuid")
        self.expect_usage("pub", "campaign.status", f, "-p", "a=b", says="has no parameter a")
        self.expect_usage("pub", "some.subject", f, "-p", "a=b", says="--param needs a channel name")
        self.expect_usage("sub", self.PUSH, "-p", "user_id=nope", says="must be a valid uuid")


class Channels(unittest.TestCase):
    def test_text_lists_every_channel_with_direction_and_parameters(self) -> None:
        p = run("channels")
        self.assertEqual(p.returncode, 0)
        self.assertEqual(run("list").stdout, p.stdout)
        self.assertIn("user.info.request  (userInfoRequest)\n  message    UserInfoRequest -> reply UserInfoReply\n"
                      "  direction  campaign-service -> user-service (request/reply, queue user-service)\n",
                      p.stdout)
        self.assertIn("notification.user.{user_id}.push  (notificationUserPush)\n  message    PushNotification\n"
                      "  direction  campaign-service -> any client\n  parameter  user_id: format uuid\n", p.stdout)

    def test_json(self) -> None:
        p = run("channels", "--json")
        self.assertEqual(p.returncode, 0)
        chans = json.loads(p.stdout)
        addrs = [c["address"] for c in chans]
        self.assertEqual(addrs, sorted(addrs))
        self.assertEqual(len(chans), len(run("channels").stdout.split("\n  message")) - 1)
        by = {c["address"]: c for c in chans}
        self.assertEqual(by["notification.user.{user_id}.push"]["parameters"], {"user_id": "format uuid"})
        req = by["user.info.request"]
        self.assertEqual((req["messages"], req["reply"], req["sent_by"], req["received_by"], req["queue_group"]),
                         (["UserInfoRequest"], "UserInfoReply", ["campaign-service"], ["user-service"],
                          "user-service"))
        self.assertEqual(by["campaign.execute"]["sent_by"], [])


class Validate(unittest.TestCase):
    def test_valid_invalid_and_global_options_around_it(self) -> None:
        good = example("CampaignCreate.full.json")
        self.assertEqual(run("validate", "CampaignCreate", good).returncode, 0)
        self.assertEqual(run("-s", closed_url(), "validate", "CampaignCreate", good).returncode, 0)
        self.assertEqual(run("validate", "CampaignCreate", good, "--server", closed_url()).returncode, 0)
        p = run("validate", "CampaignCreate", "-", stdin=b'{"campaign_id": 1}')
        self.assertEqual(p.returncode, 1)
        self.assertTrue(p.stdout.startswith("/campaign_id: "), p.stdout)
        p = run("validate", "--roundtrip", "CampaignStatusUpdate", example("CampaignStatusUpdate.minimal.json"))
        self.assertEqual((p.returncode, json.loads(p.stdout)["status"]), (0, "pending"))
        self.assertEqual(run("validate", "Nope", good).returncode, 2)


class Servers(unittest.TestCase):
    """Precedence: -s > $MF_SERVER > $NATS_URL > ws://127.0.0.1:4280. Each source names the
    closed port it points to, so the failure message tells which one was used."""

    def connects_to(self, *args: str, **env: str) -> str:
        from harness import clean_env
        p = run("sub", "x", "--connect-timeout", "300ms", *args, env=clean_env(**env))
        self.assertEqual(p.returncode, 1, p.stderr)
        return p.stderr.split("cannot connect to ")[1].split(" within")[0]

    def test_precedence(self) -> None:
        a, b, c = closed_url(), closed_url(), closed_url()
        self.assertEqual(self.connects_to("-s", a, MF_SERVER=b, NATS_URL=c), a)
        self.assertEqual(self.connects_to(MF_SERVER=b, NATS_URL=c), b)
        self.assertEqual(self.connects_to(NATS_URL=c), c)
        self.assertEqual(self.connects_to(MF_SERVER="", NATS_URL=c), c)

    def test_lists_and_repeats(self) -> None:
        a, b, c = closed_url(), closed_url(), closed_url()
        self.assertEqual(self.connects_to("-s", a, "--server", f"{b}, {c}"), f"{a}, {b}, {c}")
        self.assertEqual(self.connects_to(NATS_URL=f"{a},{b}"), f"{a}, {b}")
        self.assertEqual(self.connects_to("--server=" + a), a)
        self.assertEqual(self.connects_to("-s", a[len("ws://"):]), a)  # no scheme: ws://

    def test_nats_urls_are_refused_with_a_hint(self) -> None:
        from harness import clean_env
        for env, args in (({"NATS_URL": "nats://127.0.0.1:4222"}, []),
                          ({"NATS_URL": f"{closed_url()},nats://127.0.0.1:4222"}, []),
                          ({}, ["-s", "tls://127.0.0.1:4222"]),
                          ({"MF_SERVER": "nats://127.0.0.1:4222"}, [])):
            p = run("sub", "x", *args, env=clean_env(**env))
            self.assertEqual(p.returncode, 2, (env, args, p.stderr))
            self.assertIn("which mfctl cannot use: it speaks NATS over WebSocket", p.stderr)
            self.assertIn("ws://HOST:PORT", p.stderr)

    def test_bad_urls(self) -> None:
        p = run("sub", "x", "-s", "ws://127.0.0.1:99999")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("port out of range", p.stderr)
        p = run("sub", "x", "-s", " , ")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--server holds no server URL", p.stderr)

    def test_commands_without_network_ignore_a_bad_environment(self) -> None:
        from harness import clean_env
        p = run("channels", env=clean_env(NATS_URL="nats://127.0.0.1:4222"))
        self.assertEqual(p.returncode, 0)


class Input(unittest.TestCase):
    def test_unreadable_file_and_invalid_payload_fail_before_connecting(self) -> None:
        p = run("pub", "campaign.status", "/nonexistent/x.json", "-s", closed_url())
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot open /nonexistent/x.json", p.stderr)
        p = run("pub", "campaign.status", "-", "-s", closed_url(), stdin=b'{"status": "running"}')
        self.assertEqual(p.returncode, 1)
        self.assertIn("the payload is not a valid CampaignStatusUpdate: /execution_id: ", p.stderr)
        self.assertNotIn("cannot connect", p.stderr)
        p = run("req", "user.info.request", "-s", closed_url(), stdin=b'{"user_id": "x"}')
        self.assertEqual(p.returncode, 1)
        self.assertIn("the request is not a valid UserInfoRequest: /user_id: ", p.stderr)
        p = run("pub", "campaign.status", "-s", closed_url(), stdin=b"not json")
        self.assertEqual(p.returncode, 1)
        self.assertIn("(document)", p.stderr)


if __name__ == "__main__":
    unittest.main()
