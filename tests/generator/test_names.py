"""names.py: C-name mangling, and the reserved runtime list kept complete against the headers."""
import glob
import os
import re
import unittest

from helpers import RUNTIME  # noqa: F401  (sets sys.path)
from mfgen_lib import names


class SnakeTest(unittest.TestCase):
    def test_camel_and_pascal(self) -> None:
        cases = {
            "CampaignCreate": "campaign_create", "userID": "user_id", "HTTPServer": "http_server",
            "ipv4Address": "ipv4_address", "a_b_testing": "a_b_testing", "ABTest": "ab_test",
            "NotificationTemplate": "notification_template", "e2eTest": "e2e_test",
            "sha256": "sha256", "already_snake": "already_snake", "X": "x",
        }
        for src, want in cases.items():
            self.assertEqual(names.snake(src), want, src)

    def test_separators(self) -> None:
        self.assertEqual(names.snake("Content-Type"), "content_type")
        self.assertEqual(names.snake("@id"), "id")
        self.assertEqual(names.snake("a..b--c"), "a_b_c")
        self.assertEqual(names.snake("__x__"), "x")
        self.assertEqual(names.snake("weird/Channel-Name"), "weird_channel_name")
        self.assertEqual(names.snake("HTTPServer.Event"), "http_server_event")

    def test_unicode(self) -> None:
        self.assertEqual(names.snake("Amélie"), "amelie")
        self.assertEqual(names.snake("größe"), "grosse")
        self.assertEqual(names.snake("Ølçü"), "olcu")
        self.assertEqual(names.snake("名前"), "u540d_u524d")
        self.assertEqual(names.snake("a→b"), "a_b")

    def test_members(self) -> None:
        self.assertEqual(names.member("2fa"), "n2fa")
        self.assertEqual(names.member("3d"), "n3d")
        self.assertEqual(names.member(""), "empty")
        self.assertEqual(names.member("!!!"), "empty")
        for kw in ("int", "default", "register", "bool", "true", "false", "class", "new",
                   "delete", "errno", "auto", "static_assert", "linux"):
            got = names.member(kw)
            self.assertTrue(got.endswith("_"), (kw, got))
        self.assertEqual(names.member("default"), "default_")
        self.assertTrue(names.IDENT_RE.match(names.member("größe 2")))

    def test_enum_parts(self) -> None:
        self.assertEqual(names.enum_part(""), "EMPTY")
        self.assertEqual(names.enum_part("-1"), "MINUS_1")
        self.assertEqual(names.enum_part("+1"), "PLUS_1")
        self.assertEqual(names.enum_part("-"), "MINUS")
        self.assertEqual(names.enum_part("*"), "X2A")
        self.assertEqual(names.enum_part("fr-FR"), "FR_FR")
        self.assertEqual(names.enum_part("userRegistered"), "USER_REGISTERED")
        self.assertEqual(names.enum_part("1.5"), "1_5")

    def test_slug(self) -> None:
        self.assertEqual(names.slug("Campaign Service"), "campaign-service")
        self.assertEqual(names.slug("User  Service!"), "user-service")

    def test_prefix_rule(self) -> None:
        for ok in ("mf", "shop", "a1", "my_app"):
            self.assertTrue(names.PREFIX_RE.match(ok), ok)
        for bad in ("Mf", "1x", "a__b", "_a", "a_", "a-b", ""):
            self.assertFalse(names.PREFIX_RE.match(bad), bad)


class ReservedTest(unittest.TestCase):
    def test_reserved_list_covers_runtime_headers(self) -> None:
        """Every mf_/MF_ identifier in runtime/{include,internal}/mf/*.h must be in names.RUNTIME_RESERVED.

        The internal headers count too: code in this repository includes them next to generated ones."""
        found = set()
        headers = glob.glob(os.path.join(RUNTIME, "include", "mf", "*.h"))
        headers += glob.glob(os.path.join(RUNTIME, "internal", "mf", "*.h"))
        for h in sorted(headers):
            with open(h, encoding="utf-8") as f:
                found |= set(re.findall(r"\b(?:mf|MF)_[A-Za-z0-9_]*", f.read()))
        self.assertTrue(found, "no runtime headers found")
        missing = sorted(found - names.RUNTIME_RESERVED)
        self.assertEqual(missing, [], "add these to RUNTIME_RESERVED in generator/mfgen_lib/names.py")

    def test_examples(self) -> None:
        for ident in ("mf_type", "mf_error", "mf_buf", "mf_registry", "mf_decode", "MF_OK"):
            self.assertTrue(names.is_reserved(ident), ident)
        self.assertFalse(names.is_reserved("mf_campaign_create"))


if __name__ == "__main__":
    unittest.main()
