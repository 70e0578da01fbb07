"""mfctl against a server that requires credentials: --token / $MF_TOKEN, --user and --password /
$MF_USER and $MF_PASSWORD, --inbox-prefix; refused credentials end the connection attempt at
once; -ERR 'Permissions Violation ...' fails pub, sub and req (the server keeps the connection,
so only that -ERR says the message was dropped). Two servers of the kind under test (mf-broker or
nats-server), started here: one with a token, one with accounts (docs/broker.md)."""

from __future__ import annotations

import unittest

from harness import CONFIG, EXECUTION, USER_ID, Server, clean_env, example, run

TOKEN = "s3cret-token-for-mfctl"
CONSOLE = {"user": "console", "password": "console-pw",
           "permissions": {"publish": {"allow": ["campaign.create", "user.info.request"]},
                           "subscribe": {"allow": ["campaign.status", "_INBOX.console.>"]}}}
PUSH = "PushNotification.full.json"


def start(config: dict) -> Server:
    assert CONFIG.server is not None, "run.py starts the server under test first"
    return Server(CONFIG.server.kind, CONFIG.server.binary, config, CONFIG.workdir).start()


class Credentials(unittest.TestCase):
    token_server: Server
    accounts_server: Server

    @classmethod
    def setUpClass(cls) -> None:
        cls.token_server = start({"auth_token": TOKEN})
        cls.accounts_server = start({"accounts": [CONSOLE]})

    @classmethod
    def tearDownClass(cls) -> None:
        cls.token_server.stop()
        cls.accounts_server.stop()

    def mfctl(self, server: Server, *args: str, **env: str):
        # A long connect timeout: a refusal must end the attempt long before it.
        return run("-s", f"ws://127.0.0.1:{server.port}", "--connect-timeout", "25s", *args,
                   env=clean_env(**env))

    def test_token_from_the_flag_or_the_environment(self) -> None:
        status = example("CampaignStatusUpdate.full.json")
        p = self.mfctl(self.token_server, "pub", "campaign.status", status, "--token", TOKEN)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.mfctl(self.token_server, "pub", "campaign.status", status, MF_TOKEN=TOKEN)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_missing_credentials_are_refused_at_once(self) -> None:
        p = self.mfctl(self.token_server, "sub", "x", "--timeout", "1s")
        self.assertEqual(p.returncode, 1)
        self.assertIn("refused the connection: it requires credentials: --token TOKEN", p.stderr)
        self.assertNotIn("within", p.stderr)  # not the 25 s connect timeout

    def test_wrong_credentials_are_refused_at_once(self) -> None:
        for server, creds in ((self.token_server, ["--token", "not-the-token"]),
                              (self.accounts_server, ["--user", "console", "--password", "wrong"]),
                              (self.accounts_server, ["--user", "nobody", "--password", "console-pw"])):
            p = self.mfctl(server, "sub", "campaign.status", "--timeout", "1s", *creds)
            self.assertEqual(p.returncode, 1, creds)
            self.assertIn("refused the credentials", p.stderr, creds)

    def test_user_and_password_from_flags_or_the_environment(self) -> None:
        create = example("CampaignCreate.full.json")
        p = self.mfctl(self.accounts_server, "pub", "campaign.create", create, "--user", "console",
                       "--password", "console-pw")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.mfctl(self.accounts_server, "pub", "campaign.create", create, MF_USER="console",
                       MF_PASSWORD="console-pw")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_a_user_without_a_password_is_a_usage_error(self) -> None:
        p = self.mfctl(self.accounts_server, "sub", "x", "--user", "console")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--user without --password", p.stderr)
        p = self.mfctl(self.accounts_server, "sub", "x", MF_PASSWORD="console-pw")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--password without --user", p.stderr)

    def test_a_publish_the_permissions_deny_fails(self) -> None:
        p = self.mfctl(self.accounts_server, "pub", "notificationUserPush", example(PUSH), "-p",
                       f"user_id={USER_ID}", MF_USER="console", MF_PASSWORD="console-pw")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(f"refused the publish on notification.user.{USER_ID}.push: Permissions Violation", p.stderr)
        self.assertNotIn("published", p.stderr)

    def test_a_subscription_the_permissions_deny_fails(self) -> None:
        creds = {"MF_USER": "console", "MF_PASSWORD": "console-pw"}
        p = self.mfctl(self.accounts_server, "sub", "notification.>", "--timeout", "5s", **creds)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("cannot subscribe to notification.>: Permissions Violation for Subscription", p.stderr)
        self.assertNotIn("subscribed to", p.stderr)
        p = self.mfctl(self.accounts_server, "campaign", "watch", EXECUTION, "--timeout", "300ms", **creds)
        self.assertEqual(p.returncode, 3, p.stderr)  # campaign.status is allowed: watched until the timeout

    def test_requests_need_an_inbox_the_user_may_read(self) -> None:
        req = example("UserInfoRequest.full.json")
        creds = {"MF_USER": "console", "MF_PASSWORD": "console-pw"}
        p = self.mfctl(self.accounts_server, "req", "user.info.request", req, "--timeout", "5s", **creds)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("refused the request on user.info.request: Permissions Violation for Subscription", p.stderr)
        p = self.mfctl(self.accounts_server, "req", "user.info.request", req, "--inbox-prefix", "_INBOX.console",
                       "--timeout", "5s", **creds)
        self.assertEqual(p.returncode, 4, p.stderr)  # allowed now: nobody answers
        self.assertIn("no responders on user.info.request", p.stderr)


if __name__ == "__main__":
    unittest.main()
