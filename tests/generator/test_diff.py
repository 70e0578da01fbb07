"""`mfgen diff`: one pair of specs per kind of change, each classified by whom it breaks.

Every case copies tests/specs/diff/{base,common}.yaml, changes one thing (in base.yaml, or in
common.yaml behind a $ref across files), runs `mfgen diff OLD NEW --check-compat --format json`
and checks the exact set of (change code, who breaks) it reports, the parties named, and the exit
status (1 when something breaks, 0 otherwise). The rules are in docs/compatibility.md.
"""
import contextlib
import copy
import io
import json
import os
import shutil
import tempfile
import unittest
from typing import Any, Callable, Dict, List, Set, Tuple

import yaml

from helpers import SPECS, run_mfgen
from mfgen_lib import cli

BASE = os.path.join(SPECS, "diff", "base.yaml")
COMMON = os.path.join(SPECS, "diff", "common.yaml")

Spec = Dict[str, Any]
Mutation = Callable[[Spec, Spec], None]


def load(path: str) -> Spec:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def order(common: Spec) -> Spec:
    return common["Order"]["properties"]


def lookup_reply(main: Spec) -> Spec:
    return main["components"]["messages"]["LookupReply"]["payload"]


def add_channel(main: Spec, common: Spec) -> None:
    main["channels"]["audit"] = {"address": "shop.audit", "messages": {
        "Audit": {"payload": {"type": "object", "properties": {"who": {"type": "string"}}}}}}


def add_service(main: Spec, common: Spec) -> None:
    main["operations"]["auditOrders"] = {"action": "receive", "x-service": "auditor",
                                         "channel": {"$ref": "#/channels/orders"}}


def remove_channel(main: Spec, common: Spec) -> None:
    del main["channels"]["orders"]
    del main["operations"]["sendOrder"]
    del main["operations"]["takeOrder"]
    del main["components"]["messages"]["Order"]


def add_message_to_channel(main: Spec, common: Spec) -> None:
    main["components"]["messages"]["Refund"] = {"payload": {"type": "object", "properties": {"id": {"type": "string"}}}}
    main["channels"]["orders"]["messages"]["Refund"] = {"$ref": "#/components/messages/Refund"}
    main["operations"]["sendOrder"]["messages"].append({"$ref": "#/channels/orders/messages/Refund"})


def rename_message(main: Spec, common: Spec) -> None:
    msgs = main["components"]["messages"]
    msgs["PurchaseOrder"] = msgs.pop("Order")
    ch = main["channels"]["orders"]["messages"]
    ch.pop("Order")
    ch["PurchaseOrder"] = {"$ref": "#/components/messages/PurchaseOrder"}
    for op in ("sendOrder", "takeOrder"):
        main["operations"][op]["messages"] = [{"$ref": "#/channels/orders/messages/PurchaseOrder"}]


def remove_reply(main: Spec, common: Spec) -> None:
    for op in ("askLookup", "answerLookup"):
        del main["operations"][op]["reply"]
    main["channels"]["lookup"]["messages"].pop("LookupReply")
    del main["components"]["messages"]["LookupReply"]


def add_reply(main: Spec, common: Spec) -> None:
    main["components"]["messages"]["OrderAck"] = {"payload": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}
    main["channels"]["orders"]["messages"]["OrderAck"] = {"$ref": "#/components/messages/OrderAck"}
    for op in ("sendOrder", "takeOrder"):
        main["operations"][op]["reply"] = {"messages": [{"$ref": "#/channels/orders/messages/OrderAck"}]}


def set_(d: Spec, key: str, value: Any) -> Mutation:
    def f(main: Spec, common: Spec) -> None:
        target = {"main": main, "common": common}
        obj: Any = target[d["root"]]
        for k in d["path"]:
            obj = obj[k]
        if value is _DELETE:
            del obj[key]
        else:
            obj[key] = value
    return f


_DELETE = object()


def at(root: str, *path: str) -> Spec:
    return {"root": root, "path": list(path)}


ORDER = ("Order", "properties")
REGION = ("channels", "orders", "parameters", "region")
LOCATION = "$message.payload#/region"

# (name, mutation, expected {(code, breaks)}, expected exit status with --check-compat)
CASES: List[Tuple[str, Mutation, Set[Tuple[str, str]], int]] = [
    # structure
    ("service added", add_service,
     {("service.added", "neither"), ("operation.added", "neither")}, 0),
    ("service removed", set_(at("main", "operations"), "takeOrder", _DELETE),
     {("service.removed", "neither"), ("operation.removed", "neither")}, 0),
    ("replier removed", set_(at("main", "operations"), "answerLookup", _DELETE),
     {("service.removed", "neither"), ("operation.removed", "senders")}, 1),
    ("channel added", add_channel, {("channel.added", "neither"), ("message.added", "neither")}, 0),
    ("channel removed", remove_channel,
     {("channel.removed", "both"), ("operation.removed", "neither"), ("service.removed", "neither"),
      ("message.removed", "neither")}, 1),
    ("operation added", set_(at("main", "operations"), "takeOrderToo",
                             {"action": "receive", "x-service": "consumer", "channel": {"$ref": "#/channels/orders"}}),
     {("operation.added", "neither")}, 0),
    ("operation action changed", set_(at("main", "operations", "takeOrder"), "action", "send"),
     {("operation.action", "both")}, 1),
    ("operation channel changed",
     lambda m, c: m["operations"]["takeOrder"].update({"channel": {"$ref": "#/channels/lookup"},
                                                      "messages": [{"$ref": "#/channels/lookup/messages/LookupRequest"}]}),
     {("operation.channel", "both"), ("operation.message-added", "neither"), ("operation.message-removed", "senders")}, 1),
    ("channel address changed", set_(at("main", "channels", "orders"), "address", "shop.order.{region}"),
     {("channel.address", "both")}, 1),
    ("channel parameter renamed",
     lambda m, c: (m["channels"]["orders"].__setitem__("address", "shop.orders.{zone}"),
                   m["channels"]["orders"]["parameters"].__setitem__("zone", m["channels"]["orders"]["parameters"].pop("region"))),
     {("channel.address", "both"), ("channel.parameter-added", "both"), ("channel.parameter-removed", "both")}, 1),
    ("channel parameter value added", set_(at("main", "channels", "orders", "parameters", "region"), "enum", ["eu", "us", "apac"]),
     {("enum.value-added", "receivers")}, 1),
    ("channel parameter value removed", set_(at("main", "channels", "orders", "parameters", "region"), "enum", ["eu"]),
     {("enum.value-removed", "senders")}, 1),
    ("parameter location added", set_(at("main", "channels", "orders", "parameters", "region"), "location", LOCATION),
     {("channel.parameter-location-added", "senders")}, 1),
    ("reply added", add_reply,
     {("operation.reply-added", "receivers"), ("message.added", "neither")}, 1),
    ("reply removed", remove_reply,
     {("operation.reply-removed", "senders"), ("message.removed", "neither")}, 1),
    ("message added to a channel", add_message_to_channel,
     {("channel.message-added", "receivers"), ("message.added", "neither"), ("operation.message-added", "neither")}, 1),
    ("message renamed", rename_message, {("message.renamed", "neither")}, 0),
    ("message name changed", set_(at("main", "components", "messages", "Order"), "name", "PurchaseOrderMessage"),
     {("message.name", "neither")}, 0),
    ("content type changed", set_(at("main", "components", "messages", "Order"), "contentType", "application/vnd.shop+json"),
     {("message.content-type", "both")}, 1),
    ("documentation only", set_(at("common", "Order"), "description", "An order placed in the shop."),
     {("doc.description", "neither")}, 0),
    # fields
    ("optional field added", set_(at("common", *ORDER), "coupon", {"type": "string"}), {("field.added", "neither")}, 0),
    ("required field added",
     lambda m, c: (order(c).__setitem__("coupon", {"type": "string"}), c["Order"]["required"].append("coupon")),
     {("field.added", "senders")}, 1),
    ("optional field added to a closed object", set_(at("main", "components", "messages", "LookupReply", "payload", "properties"),
                                                     "email", {"type": "string"}),
     {("field.added", "receivers")}, 1),
    ("optional field removed", set_(at("common", *ORDER), "note", _DELETE), {("field.removed", "neither")}, 0),
    ("optional field removed from a closed object",
     set_(at("main", "components", "messages", "LookupReply", "payload", "properties"), "name", _DELETE),
     {("field.removed", "senders")}, 1),
    ("required field removed",
     lambda m, c: (order(c).pop("status"), c["Order"]["required"].remove("status")),
     {("field.removed", "receivers")}, 1),
    ("only required: optional -> required", set_(at("common", "Order"), "required", ["id", "qty", "status", "price"]),
     {("field.required", "senders")}, 1),
    ("only required: required -> optional", set_(at("common", "Order"), "required", ["id", "status"]),
     {("field.optional", "receivers")}, 1),
    ("nested required in a $ref in the other file", set_(at("common", "Address"), "required", ["city", "zip"]),
     {("field.required", "senders")}, 1),
    ("nullable added", set_(at("common", *ORDER, "price"), "type", ["number", "null"]),
     {("field.nullable", "receivers")}, 1),
    # types
    ("type changed", set_(at("common", *ORDER, "qty"), "type", "string"), {("type.changed", "both")}, 1),
    ("integer widened to number", set_(at("common", *ORDER, "qty"), "type", "number"), {("type.changed", "receivers")}, 1),
    ("free-form object given properties", set_(at("common", *ORDER, "extra"), "properties", {"k": {"type": "string"}}),
     {("type.changed", "senders")}, 1),
    ("typed field made any JSON", set_(at("common", *ORDER), "price", {}), {("type.changed", "receivers")}, 1),
    # enums
    ("enum value added", set_(at("common", *ORDER, "status"), "enum", ["new", "paid", "shipped", "lost"]),
     {("enum.value-added", "receivers")}, 1),
    # a removed string value: old senders may still send it (wire), and its C constant disappears,
    # so receiver code naming it no longer builds (source): both
    ("enum value removed", set_(at("common", *ORDER, "status"), "enum", ["new", "paid"]),
     {("enum.value-removed", "both")}, 1),
    # an integer enum has no C constants: a removed value breaks senders only
    ("integer enum value added", set_(at("common", *ORDER, "rating"), "enum", [1, 2, 3, 4]),
     {("enum.value-added", "receivers")}, 1),
    ("integer enum value removed", set_(at("common", *ORDER, "rating"), "enum", [1, 2]),
     {("enum.value-removed", "senders")}, 1),
    ("integer enum dropped", set_(at("common", *ORDER, "rating"), "enum", _DELETE),
     {("enum.removed", "receivers")}, 1),
    ("enum reordered", set_(at("common", *ORDER, "status"), "enum", ["paid", "new", "shipped"]), set(), 0),
    # formats and patterns
    ("format added", set_(at("common", *ORDER, "note"), "format", "email"), {("format.added", "senders")}, 1),
    ("format removed", set_(at("common", *ORDER, "at"), "format", _DELETE), {("format.removed", "receivers")}, 1),
    ("format changed", set_(at("common", *ORDER, "at"), "format", "date"), {("format.changed", "both")}, 1),
    ("pattern added", set_(at("common", *ORDER, "tags", "items"), "pattern", "^[a-z]+$"), {("pattern.added", "senders")}, 1),
    ("pattern removed", set_(at("common", *ORDER, "note"), "pattern", _DELETE), {("pattern.removed", "receivers")}, 1),
    ("pattern changed", set_(at("common", *ORDER, "note"), "pattern", "^[a-z]*$"), {("pattern.changed", "both")}, 1),
    # bounds
    ("only a bound: maximum narrowed", set_(at("common", *ORDER, "qty"), "maximum", 50), {("bound.narrowed", "senders")}, 1),
    ("maximum widened", set_(at("common", *ORDER, "qty"), "maximum", 500), {("bound.widened", "receivers")}, 1),
    ("minimum made exclusive", set_(at("common", *ORDER, "price"), "exclusiveMinimum", True),
     {("bound.narrowed", "senders")}, 1),
    ("minLength removed", set_(at("common", *ORDER, "tags", "items"), "minLength", _DELETE),
     {("bound.widened", "receivers")}, 1),
    ("maxItems narrowed", set_(at("common", *ORDER, "tags"), "maxItems", 3), {("bound.narrowed", "senders")}, 1),
    ("maxLength added", set_(at("common", *ORDER, "note"), "maxLength", 200), {("bound.narrowed", "senders")}, 1),
    # defaults and additionalProperties
    ("default changed", set_(at("common", *ORDER, "priority"), "default", "low"), {("default.changed", "both")}, 1),
    ("default added", set_(at("common", *ORDER, "note"), "default", "none"), {("default.added", "neither")}, 0),
    ("default removed", set_(at("common", *ORDER, "priority"), "default", _DELETE), {("default.removed", "neither")}, 0),
    ("additionalProperties tightened", set_(at("common", "Order"), "additionalProperties", False),
     {("additionalProperties.tightened", "senders")}, 1),
    ("additionalProperties loosened",
     set_(at("main", "components", "messages", "LookupReply", "payload"), "additionalProperties", _DELETE),
     {("additionalProperties.loosened", "receivers")}, 1),
    # unions
    ("oneOf branch added", set_(at("common", *ORDER, "ref_code"), "oneOf",
                                [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]),
     {("union.branch-added", "receivers")}, 1),
    ("oneOf branch removed", set_(at("common", *ORDER, "ref_code"), "oneOf", [{"type": "string"}, {"type": "boolean"}]),
     {("union.branch-removed", "senders"), ("union.branch-added", "receivers")}, 1),
    # typed headers: a message without any reads none, like an empty object
    ("optional header added", set_(at("main", "components", "messages", "Order"), "headers",
                                   {"type": "object", "properties": {"Trace-Id": {"type": "string"}}}),
     {("field.added", "neither")}, 0),
    ("required header added", set_(at("main", "components", "messages", "Order"), "headers",
                                   {"type": "object", "required": ["Trace-Id"],
                                    "properties": {"Trace-Id": {"type": "string"}}}),
     {("field.added", "senders")}, 1),
    ("const added", set_(at("common", *ORDER, "note"), "const", "gift"), {("const.added", "senders")}, 1),
]


class DiffCase(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="mfgen-diff-")
        self.old = self.write("old", load(BASE), load(COMMON))

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name: str, main: Spec, common: Spec) -> str:
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        for fname, data in (("base.yaml", main), ("common.yaml", common)):
            with open(os.path.join(d, fname), "w", encoding="utf-8") as f:
                yaml.safe_dump(data, f, sort_keys=False, allow_unicode=True)
        return os.path.join(d, "base.yaml")

    def mutated(self, fn: Mutation) -> str:
        main, common = load(BASE), load(COMMON)
        fn(main, common)
        return self.write("new", main, common)

    def run_diff(self, new: str, *extra: str) -> Tuple[int, Dict[str, Any], str]:
        """mfgen diff in this process (the same entry point as the command, minus the start-up)."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = cli.main(["diff", self.old, new, "--check-compat", "--format", "json", *extra])
        self.assertIn(rc, (0, 1), err.getvalue())
        return rc, json.loads(out.getvalue()), err.getvalue()

    def test_every_kind_of_change(self) -> None:
        self.assertGreater(len(CASES), 45)
        for name, fn, expected, rc in CASES:
            with self.subTest(change=name):
                code, report, err = self.run_diff(self.mutated(fn))
                got = {(c["code"], c["breaks"]) for c in report["changes"]}
                self.assertEqual(got, expected, json.dumps(report["changes"], indent=1))
                self.assertEqual(code, rc, err)
                self.assertEqual(report["breaking"], rc == 1)
                for c in report["changes"]:
                    self.assertTrue(c["path"].startswith("/"), c)
                    self.assertTrue(c["text"], c)
                    if c["breaks"] != "neither":
                        self.assertTrue(c["affected"], c)

    def test_paths_and_parties(self) -> None:
        """A change inside the $ref'd schema in common.yaml is reported on the message, with the
        JSON path into the normalised contract and the services on the breaking side."""
        new = self.mutated(set_(at("common", *ORDER, "qty"), "maximum", 50))
        _, report, _ = self.run_diff(new)
        (c,) = report["changes"]
        self.assertEqual(c["path"], "/messages/Order/payload/properties/qty/maximum")
        self.assertEqual(c["subject"], "message Order")
        self.assertEqual(c["message"], "Order")
        self.assertEqual(c["affected"], ["producer"])
        self.assertEqual((c["old"], c["new"]), (100, 50))
        # a reply: its sender is the replier, its receiver the requester
        new = self.mutated(lambda m, cm: lookup_reply(m)["required"].append("name"))
        _, report, _ = self.run_diff(new)
        (c,) = report["changes"]
        self.assertEqual((c["code"], c["breaks"], c["affected"]), ("field.required", "senders", ["replier"]))
        new = self.mutated(lambda m, cm: lookup_reply(m)["properties"]["name"].__setitem__("maxLength", 120))
        _, report, _ = self.run_diff(new)
        (c,) = report["changes"]
        self.assertEqual((c["breaks"], c["affected"]), ("receivers", ["requester"]))
        # no service receives it: external consumers
        new = self.mutated(lambda m, cm: m["operations"].pop("takeOrder") and None)
        _, report, _ = self.run_diff(new)
        self.assertFalse(report["breaking"])

    def test_same_contract_written_differently(self) -> None:
        """Inlining the $ref'd schema, reordering keys and members: no change at all."""
        main, common = load(BASE), load(COMMON)
        order_schema = copy.deepcopy(common["Order"])
        order_schema["properties"]["address"] = copy.deepcopy(common["Address"])
        order_schema["properties"] = dict(reversed(list(order_schema["properties"].items())))
        main["components"]["messages"]["Order"]["payload"] = order_schema
        main["operations"] = dict(reversed(list(main["operations"].items())))
        main["components"]["messages"]["LookupReply"]["payload"]["required"] = ["id"]
        new = self.write("new", main, {})
        code, report, _ = self.run_diff(new)
        self.assertEqual((code, report["changes"]), (0, []))
        self.assertEqual(report["old"]["hash"], report["new"]["hash"])

    def test_parameter_location(self) -> None:
        """A parameter's location removed or moved to another member (the old contract has one)."""
        main, common = load(BASE), load(COMMON)
        set_(at("main", *REGION), "location", LOCATION)(main, common)
        self.old = self.write("old", main, common)
        for name, value, expected in (("removed", _DELETE, ("channel.parameter-location-removed", "receivers")),
                                      ("changed", "$message.payload#/note",
                                       ("channel.parameter-location-changed", "both"))):
            with self.subTest(location=name):
                new = self.mutated(lambda m, c: (set_(at("main", *REGION), "location", LOCATION)(m, c),
                                                 set_(at("main", *REGION), "location", value)(m, c)))
                code, report, _ = self.run_diff(new)
                self.assertEqual([(c["code"], c["breaks"]) for c in report["changes"]], [expected])
                (c,) = report["changes"]
                self.assertEqual(c["path"], "/channels/orders/parameters/region/location")
                self.assertEqual(code, 1)
        # unchanged: nothing reported, and the snapshot records it
        code, report, _ = self.run_diff(self.old)
        self.assertEqual((code, report["changes"]), (0, []))

    def test_headers_count_in_the_hash(self) -> None:
        """Headers are wire: declaring one changes the contract hash (also as computed from a
        normalised snapshot, the form `mfgen diff` and the docs compare)."""
        new = self.mutated(set_(at("main", "components", "messages", "Order"), "headers",
                                {"type": "object", "properties": {"Trace-Id": {"type": "string"}}}))
        _, report, _ = self.run_diff(new)
        self.assertNotEqual(report["old"]["hash"], report["new"]["hash"])
        from mfgen_lib import normalise
        from mfgen_lib.errors import Diagnostics
        from mfgen_lib.pipeline import build_model
        model = build_model(new, "mf", Diagnostics())
        assert model is not None
        docs = normalise.contract(model.sdk, {}, docs=True)
        self.assertEqual(normalise.hash_of(docs), model.sdk.contract_hash)

    def test_major_bump(self) -> None:
        breaking = set_(at("common", *ORDER, "status"), "enum", ["new", "paid"])
        main, common = load(BASE), load(COMMON)
        breaking(main, common)
        for version, rc in (("1.5.0", 1), ("2.0.0", 0), ("1.4.1", 1)):
            with self.subTest(version=version):
                main["info"]["version"] = version
                new = self.write("new", main, common)
                r = run_mfgen(["diff", self.old, new, "--check-compat", "--allow-major-bump"])
                self.assertEqual(r.returncode, rc, r.stdout + r.stderr)
                self.assertIn("value 'shipped' removed", r.stdout)
        r = run_mfgen(["diff", self.old, new, "--check-compat"])  # without the flag a bump does not help
        self.assertEqual(r.returncode, 1)
        r = run_mfgen(["diff", self.old, new])  # without --check-compat: a report, exit 0
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_text_report(self) -> None:
        new = self.mutated(set_(at("common", *ORDER, "qty"), "maximum", 50))
        r = run_mfgen(["diff", self.old, new])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("message Order", r.stdout)
        self.assertIn("[breaks senders] field 'qty': maximum <= 100 -> <= 50 (narrowed)", r.stdout)
        self.assertIn("at /messages/Order/payload/properties/qty/maximum; affects producer", r.stdout)
        self.assertIn("1 change: 1 break senders, 0 break receivers, 0 break both, 0 compatible", r.stdout)
        r = run_mfgen(["diff", self.old, self.old])
        self.assertIn("no changes", r.stdout)

    def test_snapshot_as_old(self) -> None:
        flow = os.path.join(self.tmp, "flow")
        r = run_mfgen(["docs", self.old, "-o", flow, "--date", "2026-01-01", "--no-sdk-links"])
        self.assertEqual(r.returncode, 0, r.stderr)
        snap = os.path.join(flow, "contract.snapshot.json")
        r = run_mfgen(["diff", snap, self.old, "--check-compat"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("no changes", r.stdout)
        new = self.mutated(set_(at("common", *ORDER, "status"), "enum", ["new"]))
        r = run_mfgen(["diff", snap, new, "--check-compat", "--format", "json"])
        self.assertEqual(r.returncode, 1)
        self.assertEqual({c["code"] for c in json.loads(r.stdout)["changes"]}, {"enum.value-removed"})

    def test_bad_input_exits_2(self) -> None:
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("asyncapi: 3.0.0\ninfo: {title: x, version: '1'}\nchannels: {a: {address: 'a.{b'}}\n")
        for args in (["diff", self.old], ["diff", self.old, os.path.join(self.tmp, "missing.yaml")],
                     ["diff", self.old, bad], ["diff", bad, self.old, "--check-compat"],
                     ["diff", self.old, self.old, "--format", "xml"]):
            with self.subTest(args=args[1:]):
                r = run_mfgen(args)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertTrue(r.stderr.strip())
        r = run_mfgen(["diff", self.old, bad])
        self.assertIn("unbalanced braces in address", r.stderr)
        junk = os.path.join(self.tmp, "junk.json")
        with open(junk, "w") as f:
            f.write("{not json")
        self.assertEqual(run_mfgen(["diff", junk, self.old]).returncode, 2)


class RulesUnit(unittest.TestCase):
    """The version rule and the changelog folding, without a process."""

    def test_major_bumped(self) -> None:
        from mfgen_lib.diff import major_bumped
        self.assertTrue(major_bumped("1.4.0", "2.0.0"))
        self.assertFalse(major_bumped("1.4.0", "1.9.9"))
        self.assertFalse(major_bumped("2.0.0", "1.0.0"))
        self.assertTrue(major_bumped("0.3.1", "0.4.0"))  # 0.x: the minor number is the major one
        self.assertFalse(major_bumped("0.3.1", "0.3.9"))
        self.assertFalse(major_bumped("x", "2.0.0"))
        self.assertTrue(major_bumped("v1.0", "v2"))


if __name__ == "__main__":
    unittest.main()
