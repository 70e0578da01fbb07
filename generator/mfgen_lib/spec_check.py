"""Document-level checks of an AsyncAPI 3 document, producing a plan the model is built from.

Checked here: the asyncapi version, info, the application (service) operations belong to,
channels (address -> NATS subject, `{param}` <-> parameters), messages (content type, schema
format), operations (action, channel, messages belonging to the channel, reply messages,
service). Schema constructs are checked while building types (schema.py) and C-name collisions
while naming (symbols.Symbols). A fault is reported once: what depends on a refused message or
channel is skipped quietly (errors.Reported).
"""
from __future__ import annotations

import re
from functools import partial
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from . import keyword_types, names
from .errors import Diagnostics, Reported, SpecError
from .payload import HINT as PAYLOAD_HINT
from .payload import foreign_schema_format, is_json_content, schema_format_name
from .resolve import N, Resolver

_PARAM_RE = re.compile(r"\{([^{}]*)\}")
SERVICE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def address_to_subject(address: str) -> Tuple[Optional[str], str]:
    """The NATS subject template of a channel address: (subject, "") or (None, why not).

    `/` and `.` both separate tokens (`/` as nats-server's MQTT bridge maps topic levels), empty
    tokens are dropped (`/rooms/{id}` -> `rooms.{id}`), and a `{param}` may be a whole token or
    part of one (`user-{id}`). It cannot be a subject when no token is left, a token holds white
    space, a control character, `*` or `>`, is an MQTT wildcard (`+`, `#`), or holds two
    parameters with nothing between them.
    """
    tokens = [t for t in re.split(r"[/.]", address) if t != ""]
    if not tokens:
        return None, "no subject token is left once '/' and '.' separate tokens"
    for tok in tokens:
        if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in tok):
            return None, f"token '{tok}' contains white space or a control character"
        if "*" in _PARAM_RE.sub("", tok) or ">" in _PARAM_RE.sub("", tok):
            return None, f"token '{tok}' contains a NATS wildcard ('*', '>')"
        if tok in ("+", "#"):
            return None, f"token '{tok}' is an MQTT wildcard"
        if "}{" in tok:
            return None, f"token '{tok}' has two parameters with nothing between them"
    return ".".join(tokens), ""


@dataclass
class PMessage:
    key: str
    node: N  # the Message Object (dereferenced)
    payload: Optional[N] = None  # the payload schema (inside a Multi Format Schema Object: its schema)


@dataclass
class PChannel:
    key: str
    node: N
    address: Optional[str]  # as written in the document; None: no address (unknown / dynamic)
    subject: Optional[str]  # NATS subject template; None: the typed API takes the subject
    params: List[Tuple[str, N]]  # in order of appearance in the address (none without a subject)
    messages: List[PMessage]


@dataclass
class POperation:
    key: str
    node: N
    action: str
    service: str
    channel: PChannel
    messages: List[PMessage]
    reply: List[PMessage]


@dataclass
class Plan:
    root: N
    asyncapi: str
    title: str
    version: str
    description: str
    default_content_type: str
    app: str = ""  # the document's own application: the service of operations that name none
    messages: Dict[Tuple[str, str], PMessage] = field(default_factory=dict)  # by node key
    channels: List[PChannel] = field(default_factory=list)
    operations: List[POperation] = field(default_factory=list)
    schemas: List[Tuple[str, N]] = field(default_factory=list)  # components/schemas (key, node)


class SpecChecker:
    """Checks the document above the schemas and gathers what the model is built from (run)."""

    def __init__(self, res: Resolver, diag: Diagnostics, service: Optional[str] = None) -> None:
        self.res = res
        self.diag = diag
        self.service_override = service  # --service NAME
        self.failed: Set[Tuple[str, str]] = set()  # messages and channels already reported

    def run(self) -> Plan:
        root = self.res.root()
        if not root.is_map:
            raise root.err("the document must be a mapping (an AsyncAPI object)")
        keyword_types.check_object(root, "document")
        ver = root.at("asyncapi")
        if ver.v is None:
            raise root.err("missing 'asyncapi' version", "add `asyncapi: 3.0.0` at the top")
        if not isinstance(ver.v, str) or not re.match(r"^3\.\d+\.\d+$", ver.v):
            raise ver.err(f"unsupported AsyncAPI version {ver.v!r}",
                          "mfgen reads AsyncAPI 3.x documents (asyncapi: 3.0.0, quoted or plain)")
        info = root.at("info")
        if not info.is_map:
            raise (info if info.v is not None else root).err("missing 'info' object")
        keyword_types.check_object(info, "info")
        title, version = info.at("title"), info.at("version")
        for x, nm in ((title, "title"), (version, "version")):
            if not isinstance(x.v, str) or not x.v.strip():
                self.diag.error((x if x.v is not None else info).err(f"info.{nm} must be a non-empty string"))
        dct = root.at("defaultContentType")
        plan = Plan(root=root, asyncapi=ver.v, title=str(title.v or ""), version=str(version.v or ""),
                    description=(info.v.get("description") or "").strip() if isinstance(info.v.get("description"), str) else "",
                    default_content_type=dct.v if isinstance(dct.v, str) else "application/json")
        plan.app = self.diag.guard(partial(self.application, root, plan.title)) or "app"
        comps = root.get("components")
        if comps is not None:
            keyword_types.check_object(comps, "components")
            sch = comps.get("schemas")
            if sch is not None:
                if not sch.is_map:
                    raise sch.err("components.schemas must be an object")
                plan.schemas = sch.items()
            msgs = comps.get("messages")
            if msgs is not None:
                for k, m in msgs.items():
                    self.diag.guard(partial(self.message, plan, m, k))
        by_key = self.channels(plan, root.get("channels"))
        ops = root.get("operations")
        if ops is not None:
            if not ops.is_map:
                raise ops.err("operations must be an object")
            for k, o in ops.items():
                op = self.diag.guard(partial(self.operation, plan, k, o, by_key))
                if op is not None:
                    plan.operations.append(op)
        return plan

    # -- the application -----------------------------------------------------------------
    def application(self, root: N, title: str) -> str:
        """The service of operations that name none: --service, else the root `x-service`, else
        info.title slugified ("Account Service" -> account-service)."""
        if self.service_override:
            return self.service_override
        xs = root.at("x-service")
        if xs.v is not None:
            if not isinstance(xs.v, str) or not SERVICE_RE.match(xs.v):
                raise xs.err("x-service must be a service id (letters, digits, '-' and '_', starting "
                             "with a letter or digit)", "for example `x-service: account-service`")
            return xs.v
        return names.slug(title) or "app"

    # -- messages -----------------------------------------------------------------------
    def message(self, plan: Plan, n: N, key_hint: str) -> PMessage:
        m = self.res.deref(n) if n.is_ref else n
        if m.key in self.failed:
            raise Reported()
        existing = plan.messages.get(m.key)
        if existing is not None:
            return existing
        try:
            pm = self.check_message(plan, m, key_hint)
        except SpecError:
            self.failed.add(m.key)
            raise
        plan.messages[m.key] = pm
        return pm

    def check_message(self, plan: Plan, m: N, key_hint: str) -> PMessage:
        if not m.is_map:
            raise m.err("a message must be an object")
        keyword_types.check_object(m, "message")
        for e in m.at("examples").elems():
            keyword_types.check_object(e, "example")
        # its key: the components/messages key, else (inline in a channel) the channel's key
        key = m.name if (m.ptr.startswith("/components/messages/") and m.ptr.count("/") == 3) or \
            m.doc is not self.res.main else key_hint
        for other in plan.messages.values():
            if other.key == key:
                raise m.err(f"two different messages are both called '{key}' (other at {other.node.where()})",
                            "message keys must be unique: rename one")
        ct = m.at("contentType")
        ctype = ct.v if isinstance(ct.v, str) else plan.default_content_type
        if not is_json_content(ctype):
            where = ct if ct.v is not None else m
            raise where.err(f"message '{key}' has content type '{ctype}', which mfgen does not generate"
                            + ("" if ct.v is not None else " (the document's defaultContentType)"),
                            "mfgen generates JSON codecs (application/json or application/*+json); "
                            + PAYLOAD_HINT.split("; ", 1)[1])
        payload = m.get("payload")
        if payload is None:
            raise m.err(f"message '{key}' has no payload", "add a payload schema")
        target = self.res.deref(payload) if payload.is_ref else payload
        fmt = foreign_schema_format(target.v)
        if fmt is not None:
            raise target.at("schemaFormat").err(
                f"message '{key}': payload schemaFormat '{fmt}' ({schema_format_name(fmt)}) is not supported",
                PAYLOAD_HINT)
        if target.is_map and "schemaFormat" in target.v:
            payload = target.at("schema")  # a Multi Format Schema Object holding JSON Schema
            if payload.v is None:
                raise payload.err(f"message '{key}': a multi-format schema needs 'schema'")
        return PMessage(key, m, payload)

    # -- channels -----------------------------------------------------------------------
    def channels(self, plan: Plan, chans: Optional[N]) -> Dict[str, PChannel]:
        by_key: Dict[str, PChannel] = {}
        if chans is None:
            return by_key
        if not chans.is_map:
            raise chans.err("channels must be an object")
        seen_subject: Dict[str, str] = {}
        for k, c in chans.items():
            ch = self.diag.guard(partial(self.channel, plan, k, c))
            if ch is None:
                self.failed.add(("channel", k))
                continue
            by_key[k] = ch
            plan.channels.append(ch)
            if ch.subject is not None:
                shape = _PARAM_RE.sub("*", ch.subject)
                if shape in seen_subject:
                    self.diag.warn(ch.node.at("address").err(
                        f"channels '{seen_subject[shape]}' and '{k}' have the same subject '{ch.subject}'",
                        "a subject then matches both; the registry's subject lookup returns the first"))
                else:
                    seen_subject[shape] = k
        return by_key

    def channel(self, plan: Plan, key: str, n: N) -> PChannel:
        c = self.res.deref(n) if n.is_ref else n
        if not c.is_map:
            raise c.err("a channel must be an object")
        keyword_types.check_object(c, "channel")
        msgs: List[PMessage] = []
        mnode = c.get("messages")
        if mnode is not None:
            if not mnode.is_map:
                raise mnode.err("channel messages must be an object (key -> message)")
            bad = False
            for mk, mn in mnode.items():
                pm = self.diag.guard(partial(self.message, plan, mn, mk))
                if pm is None:
                    bad = True
                else:
                    msgs.append(pm)
            if bad:
                raise Reported()
        addr = c.at("address")
        if addr.v is None:
            # no address (absent or null: unknown or dynamic, e.g. a reply inbox): the typed API of
            # an operation on it takes the subject
            if c.get("parameters") is not None:
                raise c.at("parameters").err(f"channel '{key}' has parameters but no address")
            return PChannel(key, c, None, None, [], msgs)
        if not isinstance(addr.v, str) or not addr.v:
            raise addr.err("address must be a non-empty string (or null)")
        address = addr.v
        if "{" in _PARAM_RE.sub("", address) or "}" in _PARAM_RE.sub("", address):
            raise addr.err(f"unbalanced braces in address '{address}'")
        params = self.params(key, c, addr, address)
        subject, why = address_to_subject(address)
        if subject is None:
            self.diag.warn(addr.err(
                f"channel '{key}': address '{address}' cannot be a NATS subject ({why}); its typed "
                "API takes the subject explicitly", "see 'Channels' in docs/generator.md for the mapping rule"))
            params = []
        return PChannel(key, c, address, subject, params, msgs)

    def params(self, key: str, c: N, addr: N, address: str) -> List[Tuple[str, N]]:
        found = _PARAM_RE.findall(address)
        pnode = c.get("parameters")
        declared: Dict[str, N] = {}
        if pnode is not None:
            if not pnode.is_map:
                raise pnode.err("parameters must be an object")
            declared = dict(pnode.items())
        seen: Set[str] = set()
        params: List[Tuple[str, N]] = []
        for p in found:
            if p in seen:
                raise addr.err(f"parameter '{{{p}}}' appears twice in the address")
            seen.add(p)
            if p not in declared:
                raise addr.err(f"address parameter '{{{p}}}' has no entry in the channel's parameters",
                               f"add parameters: {{{p}: {{description: ...}}}} to channel '{key}'")
            pn = declared[p]
            keyword_types.check_object(self.res.deref(pn) if pn.is_ref else pn, "parameter")
            params.append((p, self.res.deref(pn) if pn.is_ref else pn))
        for p, pn in declared.items():
            if p not in seen:
                raise pn.err(f"parameter '{p}' does not appear in the address '{address}'",
                             f"use {{{p}}} in the address or remove the parameter")
        return params

    # -- operations ---------------------------------------------------------------------
    def operation(self, plan: Plan, key: str, n: N, chans: Dict[str, PChannel]) -> POperation:
        o = self.res.deref(n) if n.is_ref else n
        if not o.is_map:
            raise o.err("an operation must be an object")
        keyword_types.check_object(o, "operation")
        action = o.at("action")
        if action.v not in ("send", "receive"):
            raise (action if action.v is not None else o).err(
                f"operation '{key}' action must be 'send' or 'receive'")
        ch = self.channel_ref(o.at("channel"), chans, key)
        if ch.subject is None and ch.address is None:
            self.diag.warn(o.at("channel").err(
                f"operation '{key}' uses channel '{ch.key}', which has no address: its typed API "
                "takes the subject explicitly"))
        messages = self.op_messages(o.get("messages"), ch, key, "")
        reply: List[PMessage] = []
        rn = o.get("reply")
        if rn is not None:
            reply = self.reply(rn, ch, chans, key)
        service = self.service(o, key, plan.app)
        return POperation(key, o, action.v, service, ch, messages, reply)

    def reply(self, rn: N, ch: PChannel, chans: Dict[str, PChannel], key: str) -> List[PMessage]:
        """The reply's messages; without a list, every message of the reply channel (the
        operation's channel when the reply names none)."""
        r = self.res.deref(rn) if rn.is_ref else rn
        if not r.is_map:
            raise r.err(f"operation '{key}' reply must be an object")
        keyword_types.check_object(r, "reply")
        rch = ch
        if r.get("channel") is not None:
            rch = self.channel_ref(r.at("channel"), chans, key)
        rm = r.get("messages")
        if rm is not None and rm.is_list and not rm.v:
            raise rm.err(f"operation '{key}' has a reply with an empty message list",
                         "list the reply message(s), or leave 'messages' out to use every message of "
                         "the reply channel")
        reply = self.op_messages(rm, rch, key, "reply ")
        if not reply:
            raise r.err(f"operation '{key}' has a reply without messages: neither the reply nor its "
                        f"channel '{rch.key}' lists any",
                        "list the reply message(s) in the reply or in its channel")
        return reply

    def channel_ref(self, cn: N, chans: Dict[str, PChannel], key: str) -> PChannel:
        if cn.v is None:
            raise cn.err(f"operation '{key}' has no channel")
        if not cn.is_ref:
            raise cn.err("operation channel must be a $ref to '#/channels/NAME'")
        t = self.res.target(cn)
        m = re.match(r"^/channels/([^/]+)$", t.ptr)
        if t.doc is not self.res.main or not m:
            raise cn.at("$ref").err(f"operation '{key}' must reference a channel under #/channels, not {t.ptr}")
        ck = t.name
        if ("channel", ck) in self.failed:
            raise Reported()
        if ck not in chans:
            raise cn.at("$ref").err(f"operation '{key}' references the invalid channel '{ck}'")
        return chans[ck]

    def op_messages(self, mn: Optional[N], ch: PChannel, key: str, what: str) -> List[PMessage]:
        if mn is None:
            return list(ch.messages)  # no list: every message of the channel
        if not mn.is_list:
            raise mn.err(f"operation {what}messages must be a list of $refs")
        out: List[PMessage] = []
        for r in mn.elems():
            if not r.is_ref:
                raise r.err(f"operation {what}messages must be $refs to the channel's messages")
            t = self.res.deref(r)
            if t.key in self.failed:
                raise Reported()
            match = next((m for m in ch.messages if m.node == t), None)
            if match is None:
                raise r.at("$ref").err(
                    f"operation '{key}' {what}message {r.v['$ref']!r} is not a message of channel '{ch.key}'",
                    "reference one of: " + ", ".join(f"#/channels/{ch.key}/messages/{x.key}" for x in ch.messages)
                    if ch.messages else f"channel '{ch.key}' has no messages")
            out.append(match)
        return out

    def service(self, o: N, key: str, app: str) -> str:
        xs = o.at("x-service")
        if xs.v is not None:
            if not isinstance(xs.v, str) or not SERVICE_RE.match(xs.v):
                raise xs.err("x-service must be a service id (letters, digits, '-' and '_')")
            return xs.v
        tags = o.get("tags")
        if tags is not None and tags.is_list and tags.v:
            t0 = tags.elems()[0]
            t0 = self.res.deref(t0) if t0.is_ref else t0
            name = t0.v.get("name") if isinstance(t0.v, dict) else None
            if isinstance(name, str) and names.slug(name):
                return self.service_of_tag(name)
        return app

    def service_of_tag(self, name: str) -> str:
        """A tag's x-service in info.tags when declared there, else the slugified name."""
        info_tags = self.res.root().at("info").at("tags")
        for t in info_tags.elems():
            t = self.res.deref(t) if t.is_ref else t
            if isinstance(t.v, dict) and t.v.get("name") == name and isinstance(t.v.get("x-service"), str):
                if not SERVICE_RE.match(t.v["x-service"]):
                    raise t.at("x-service").err("x-service must be a service id (letters, digits, '-' and '_', "
                                                "starting with a letter or digit)",
                                                "for example `x-service: account-service`")
                return t.v["x-service"]
        return names.slug(name)
