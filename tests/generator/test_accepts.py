"""AsyncAPI 3.0 as others write it (issue 6): what mfgen accepts, and what it generates for it.

Small documents, each about one rule of docs/generator.md: the application operations belong to
when they name no service, addresses mapped to NATS subjects (or the typed API taking the
subject), replies without messages, $ref through a referenced channel, a component message and
schema of one name, integer enums, oneOf of objects told apart by their properties, defaults and
required members without a schema (warnings), examples that do not validate (--lax-examples).
"""
import os
import re
import tempfile
import textwrap
import unittest
from typing import Dict, List, Tuple

from helpers import run_mfgen

from mfgen_lib.spec_check import address_to_subject

HEAD = "asyncapi: 3.0.0\ninfo: {title: Account Service, version: 1.0.0}\n"


def gen(spec: str, args: List[str] = ()) -> Tuple[int, str, Dict[str, str]]:
    """(exit status, stderr, generated files by path)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "api.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(HEAD + textwrap.dedent(spec))
        out = os.path.join(tmp, "out")
        r = run_mfgen([path, "-o", out, "-q"] + list(args))
        files: Dict[str, str] = {}
        for d, _, names in os.walk(out):
            for n in names:
                with open(os.path.join(d, n), encoding="utf-8") as fh:
                    files[os.path.relpath(os.path.join(d, n), out)] = fh.read()
        return r.returncode, r.stderr, files


SIGNUP = """
channels:
  userSignedup:
    address: user/signedup
    messages:
      UserSignedUp: {$ref: '#/components/messages/UserSignedUp'}
operations:
  sendUserSignedup:
    action: send
    channel: {$ref: '#/channels/userSignedup'}
components:
  messages:
    UserSignedUp:
      payload:
        type: object
        properties:
          email: {type: string, format: email}
"""


class ServiceTest(unittest.TestCase):
    def test_operations_without_service_belong_to_the_application(self) -> None:
        rc, err, files = gen(SIGNUP)
        self.assertEqual(rc, 0, err)
        h = files["include/mf_sdk/account_service.h"]
        self.assertIn("static inline mf_status account_service_send_user_signedup(mf_client *client, "
                      "const mf_user_signed_up *msg, mf_error *err)", h)
        self.assertIn('.service = "account-service"', files["src/registry.c"])

    def test_root_x_service_and_the_option(self) -> None:
        rc, err, files = gen("x-service: signup-api\n" + SIGNUP)
        self.assertEqual(rc, 0, err)
        self.assertIn("include/mf_sdk/signup_api.h", files)
        rc, err, files = gen("x-service: signup-api\n" + SIGNUP, ["--service", "front-door"])
        self.assertEqual(rc, 0, err)
        self.assertIn("include/mf_sdk/front_door.h", files)
        self.assertNotIn("include/mf_sdk/signup_api.h", files)

    def test_bad_service_option_is_a_usage_error(self) -> None:
        rc, err, _ = gen(SIGNUP, ["--service", "no spaces"])
        self.assertEqual(rc, 2)
        self.assertIn("--service 'no spaces'", err)


class AddressTest(unittest.TestCase):
    def test_mapping_rule(self) -> None:
        cases = {
            "user/signedup": "user.signedup",
            "/rooms/{roomId}/{resource}": "rooms.{roomId}.{resource}",
            "smartylighting/streetlights/1/0/event/{id}/lighting/measured":
                "smartylighting.streetlights.1.0.event.{id}.lighting.measured",
            "a//b/": "a.b",
            "v1.0/x": "v1.0.x",
            "adeo-{env}-case-study-{version}": "adeo-{env}-case-study-{version}",
            "campaign.create": "campaign.create",
        }
        for address, subject in cases.items():
            self.assertEqual(address_to_subject(address), (subject, ""), address)
        for address in ("/", "a b", "a.*", "a.>", "a/+/b", "a/#", "x.{a}{b}"):
            got, why = address_to_subject(address)
            self.assertIsNone(got, address)
            self.assertTrue(why, address)

    def test_slash_addresses_and_parameters_inside_a_token(self) -> None:
        rc, err, files = gen("""
            channels:
              measured:
                address: 'lights/{streetlightId}/measured/v-{version}'
                parameters:
                  streetlightId: {description: The id}
                  version: {enum: ['1', '2']}
                messages:
                  M: {$ref: '#/components/messages/M'}
            operations:
              onMeasured: {action: receive, channel: {$ref: '#/channels/measured'}}
            components:
              messages:
                M: {payload: {type: object, properties: {lux: {type: integer}}}}
            """)
        self.assertEqual(rc, 0, err)
        ch = files["include/mf_sdk/channels.h"]
        self.assertIn('#define MF_MEASURED_ADDRESS "lights.{streetlightId}.measured.v-{version}"', ch)
        self.assertIn('#define MF_MEASURED_WILDCARD "lights.*.measured.*"', ch)
        self.assertIn("Address in the contract: `lights/{streetlightId}/measured/v-{version}`", files["docs/messages.md"])

    def test_no_subject_means_the_api_takes_one(self) -> None:
        rc, err, files = gen("""
            channels:
              root: {address: /, messages: {M: {$ref: '#/components/messages/M'}}}
              unknown: {messages: {M: {$ref: '#/components/messages/M'}}}
            operations:
              sendRoot: {action: send, channel: {$ref: '#/channels/root'}}
              onUnknown: {action: receive, channel: {$ref: '#/channels/unknown'}}
            components:
              messages:
                M: {payload: {type: object, properties: {a: {type: string}}}}
            """)
        self.assertEqual(rc, 0, err)
        self.assertIn("warning: channel 'root': address '/' cannot be a NATS subject", err)
        self.assertIn("warning: operation 'onUnknown' uses channel 'unknown', which has no address", err)
        h = files["include/mf_sdk/account_service.h"]
        self.assertIn("account_service_send_root(mf_client *client, const char *subject, const mf_m *msg", h)
        self.assertIn("return mf_api_send_to(client, &mf_op_send_root_desc, subject, msg, err);", h)
        self.assertIn("account_service_on_unknown(mf_client *client, const char *subject, "
                      "account_service_on_unknown_handler handler", h)
        self.assertIn("mf_api_subscribe_to_ex(client, &mf_op_on_unknown_desc, subject,", h)
        api = files["include/mf_sdk/channels_api.h"]
        self.assertIn("mf_api_send_to(client, &", api)
        self.assertRegex(api, r"mf_unknown_channel_subscribe\(mf_client \*client, const char \*subject,")
        self.assertIn("mf_api_subscribe_channel_to(client, routes, 1, subject, queue, ctx, sub, err);", api)
        c = files["src/channels.c"]
        self.assertRegex(c, r'\.key = "root",\n    \.address = NULL,\n    \.wildcard = NULL,')
        self.assertNotIn("MF_ROOT_ADDRESS", files["include/mf_sdk/channels.h"])


class HeaderTest(unittest.TestCase):
    SPEC = """
        channels:
          audit: {address: shop.audit, messages: {Audit: {$ref: '#/components/messages/Audit'}}}
        operations:
          sendAudit: {action: send, channel: {$ref: '#/channels/audit'}}
          takeAudit: {action: receive, channel: {$ref: '#/channels/audit'}}
        components:
          messages:
            Audit:
              headers:
                type: object
                properties:
                  Trace-Id: {type: string, format: uuid}
                  Level: {enum: [info, warn]}
                  HEADER2
              payload: {type: object, properties: {what: {type: string}}}
        """

    def test_string_headers_are_typed(self) -> None:
        """An object of string headers: a struct, the descriptor's headers, a send with headers."""
        rc, err, files = gen(self.SPEC.replace("HEADER2", "Note: {type: string, maxLength: 80}"))
        self.assertEqual(rc, 0, err)
        self.assertNotIn("warning", err)
        types = files["include/mf_sdk/types.h"]
        self.assertIn("struct mf_audit_headers {", types)
        self.assertIn("char *trace_id;", types)
        self.assertIn(".headers = &mf_audit_headers_desc,", files["src/registry.c"])
        h = files["include/mf_sdk/account_service.h"]
        self.assertIn("account_service_send_audit_with_headers(mf_client *client, const mf_audit *msg,\n"
                      "    const mf_audit_headers *headers, mf_error *err)", h)
        self.assertIn("info->headers is a const mf_audit_headers *", h)

    def test_headers_that_are_not_text_are_a_warning(self) -> None:
        """A header that is not a string (an object, a number) cannot be a NATS header: the message
        is generated without its headers, and a warning names the header."""
        for header in ("Retry-Count: {type: integer}", "MQMD: {type: object, properties: {a: {type: string}}}"):
            with self.subTest(header=header):
                rc, err, files = gen(self.SPEC.replace("HEADER2", header))
                self.assertEqual(rc, 0, err)
                name = header.split(":")[0]
                self.assertIn(f"warning: the headers of message 'Audit' are not generated: header '{name}' is not "
                              "a string", err)
                self.assertNotIn("mf_audit_headers", files["include/mf_sdk/types.h"])
                self.assertNotIn("_with_headers", files["include/mf_sdk/account_service.h"])


class ParameterNameTest(unittest.TestCase):
    def test_parameter_named_like_an_argument(self) -> None:
        rc, err, files = gen("""
            channels:
              work:
                address: 'rpc/{queue}'
                parameters: {queue: {}}
                messages: {Job: {$ref: '#/components/messages/Job'}}
            operations:
              sendJob: {action: send, channel: {$ref: '#/channels/work'}}
            components:
              messages:
                Job: {payload: {type: object, properties: {n: {type: integer}}}}
            """)
        self.assertEqual(rc, 0, err)
        self.assertIn("account_service_send_job(mf_client *client, const char *queue_param, const mf_job *msg",
                      files["include/mf_sdk/account_service.h"])
        self.assertIn("const char *queue_param;", files["include/mf_sdk/channels.h"])


class ReferenceTest(unittest.TestCase):
    def test_reply_without_messages_and_ref_through_a_referenced_channel(self) -> None:
        rc, err, files = gen("""
            channels:
              ping: {$ref: '#/components/channels/ping'}
              pong: {address: null, messages: {Pong: {$ref: '#/components/messages/Pong'}}}
            operations:
              sendPing:
                action: send
                channel: {$ref: '#/channels/ping'}
                messages: [{$ref: '#/channels/ping/messages/Ping'}]
                reply:
                  channel: {$ref: '#/channels/pong'}
            components:
              channels:
                ping: {address: ping, messages: {Ping: {$ref: '#/components/messages/Ping'}}}
              messages:
                Ping: {payload: {type: object, properties: {n: {type: integer}}}}
                Pong: {payload: {type: object, properties: {n: {type: integer}}}}
            """)
        self.assertEqual(rc, 0, err)
        reg = files["src/registry.c"]
        self.assertIn(".message = &mf_msg_ping_desc,\n    .reply = &mf_msg_pong_desc,", reg)

    def test_message_and_schema_of_one_name(self) -> None:
        rc, err, files = gen("""
            components:
              schemas:
                Order: {type: object, properties: {id: {type: string}}}
              messages:
                Order: {payload: {type: object, properties: {order: {$ref: '#/components/schemas/Order'}}}}
            """)
        self.assertEqual(rc, 0, err)
        t = files["include/mf_sdk/types.h"]
        self.assertIn("struct mf_order {", t)
        self.assertIn("struct mf_order_payload {", t)
        self.assertIn(".type = &mf_order_payload_desc,", files["src/registry.c"])


class SchemaTest(unittest.TestCase):
    def test_integer_enum_multiple_of_unique_not(self) -> None:
        rc, err, files = gen("""
            components:
              schemas:
                S:
                  type: object
                  properties:
                    level: {type: integer, enum: [1, 2, 3]}
                    price: {type: number, multipleOf: 0.01}
                    tags: {type: array, items: {type: string}, uniqueItems: true}
                    other: {not: {type: integer}}
            """)
        self.assertEqual(rc, 0, err)
        c = files["src/types.c"]
        self.assertIn("INT64_C(1),\n    INT64_C(2),\n    INT64_C(3),", c)
        self.assertIn(".int_value_count = 3,", c)
        self.assertIn(".multiple_of = 0.01,", c)
        self.assertIn("MF_TF_UNIQUE", c)
        self.assertRegex(c, r"\.not_type = &mf_s__other_not")

    def test_oneof_objects_told_apart_by_properties(self) -> None:
        rc, err, files = gen("""
            components:
              schemas:
                Shape:
                  anyOf:
                    - {type: object, required: [r], properties: {r: {type: number}}, additionalProperties: false}
                    - {type: object, required: [w], properties: {w: {type: number}}, additionalProperties: false}
                Event:
                  type: object
                  required: [ts]
                  properties: {ts: {type: string}}
                  oneOf:
                    - {title: Joined, properties: {who: {type: string}}, required: [who]}
                    - {title: Left, properties: {why: {type: string}}, required: [why]}
            """)
        self.assertEqual(rc, 0, err)
        c = files["src/types.c"]
        self.assertRegex(c, r"const mf_type mf_shape_desc = \{[^}]*\.flags = MF_TF_ANY_OF")
        t = files["include/mf_sdk/types.h"]
        # the shared members are in every branch
        for branch in ("mf_event_joined", "mf_event_left"):
            self.assertRegex(t, r"struct " + branch + r" \{[^}]*char \*ts;", branch)

    def test_invalid_default_and_required_without_schema_are_warnings(self) -> None:
        rc, err, files = gen("""
            components:
              schemas:
                S:
                  type: object
                  required: [id, extra]
                  properties:
                    id: {type: string}
                    flag: {type: boolean, default: 'false'}
            """)
        self.assertEqual(rc, 0, err)
        self.assertIn("warning: default must be a boolean; the default is ignored", err)
        self.assertIn("warning: required property 'extra' has no schema in properties", err)
        self.assertIn("char *extra;", files["include/mf_sdk/types.h"])


class ExampleTest(unittest.TestCase):
    SPEC = """
        components:
          messages:
            M:
              payload: {type: object, required: [n], properties: {n: {type: integer}}}
              examples:
                - {name: good, payload: {n: 1}}
                - {name: bad, payload: {n: one}}
        """

    def test_invalid_example_fails_unless_lax(self) -> None:
        rc, err, files = gen(self.SPEC)
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"api\.yaml:\d+:\d+: error: example 'bad' of message 'M' does not validate: "
                              r"/n: expected integer, found a string")
        self.assertIn("at: /components/messages/M/examples/1/payload/n", err)
        rc, err, files = gen(self.SPEC, ["--lax-examples"])
        self.assertEqual(rc, 0, err)
        self.assertIn("left out of examples/", err)
        self.assertIn("examples/M.good.json", files)
        self.assertNotIn("examples/M.bad.json", files)


if __name__ == "__main__":
    unittest.main()
