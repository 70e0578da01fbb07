"""Document-level checks of an AsyncAPI 3 document, producing a plan the model is built from.

Checked here: the asyncapi version, info, channels (address syntax, `{param}` <-> parameters),
messages (content type, payload presence), operations (action, channel, messages belonging to the
channel, reply messages, service). Schema constructs are checked while building types
(schema.py) and C-name collisions while naming (schema.Symbols).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from . import names
from .errors import Diagnostics, SpecError
from .resolve import N, Resolver

_PARAM_RE = re.compile(r"\{([^{}]*)\}")
_SERVICE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
JSON_CONTENT = re.compile(r"^application/(?:[\w.+-]+\+)?json(?:\s*;.*)?$")


@dataclass
class PMessage:
    key: str
    node: N  # the Message Object (dereferenced)


@dataclass
class PChannel:
    key: str
    node: N
    address: Optional[str]  # None: dynamic (reply inbox), only usable as a reply channel
    params: List[Tuple[str, N]]  # in order of appearance in the address
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
    messages: Dict[Tuple[str, str], PMessage] = field(default_factory=dict)  # by node key
    channels: List[PChannel] = field(default_factory=list)
    operations: List[POperation] = field(default_factory=list)
    schemas: List[Tuple[str, N]] = field(default_factory=list)  # components/schemas (key, node)


class DocValidator:
    def __init__(self, res: Resolver, diag: Diagnostics) -> None:
        self.res = res
        self.diag = diag

    def run(self) -> Plan:
        root = self.res.root()
        if not root.is_map:
            raise root.err("the document must be a mapping (an AsyncAPI object)")
        ver = root.at("asyncapi")
        if ver.v is None:
            raise root.err("missing 'asyncapi' version", "add `asyncapi: 3.0.0` at the top")
        if not isinstance(ver.v, str) or not re.match(r"^3\.\d+\.\d+$", ver.v):
            raise ver.err(f"unsupported AsyncAPI version {ver.v!r}",
                          "mfgen reads AsyncAPI 3.x documents (asyncapi: 3.0.0, quoted or plain)")
        info = root.at("info")
        if not info.is_map:
            raise (info if info.v is not None else root).err("missing 'info' object")
        title, version = info.at("title"), info.at("version")
        for x, nm in ((title, "title"), (version, "version")):
            if not isinstance(x.v, str) or not x.v.strip():
                self.diag.error((x if x.v is not None else info).err(f"info.{nm} must be a non-empty string"))
        dct = root.at("defaultContentType")
        plan = Plan(root=root, asyncapi=ver.v, title=str(title.v or ""), version=str(version.v or ""),
                    description=(info.v.get("description") or "").strip() if isinstance(info.v.get("description"), str) else "",
                    default_content_type=dct.v if isinstance(dct.v, str) else "application/json")
        comps = root.get("components")
        if comps is not None:
            sch = comps.get("schemas")
            if sch is not None:
                if not sch.is_map:
                    raise sch.err("components.schemas must be an object")
                plan.schemas = sch.items()
            msgs = comps.get("messages")
            if msgs is not None:
                for k, m in msgs.items():
                    self.guard(lambda k=k, m=m: self.message(plan, m, k))
        chans = root.get("channels")
        by_key: Dict[str, PChannel] = {}
        if chans is not None:
            if not chans.is_map:
                raise chans.err("channels must be an object")
            seen_addr: Dict[str, str] = {}
            for k, c in chans.items():
                ch = self.guard(lambda k=k, c=c: self.channel(plan, k, c))
                if ch is not None:
                    by_key[k] = ch
                    plan.channels.append(ch)
                    if ch.address is not None:
                        shape = _PARAM_RE.sub("*", ch.address)
                        if shape in seen_addr:
                            self.diag.warn(ch.node.at("address").err(
                                f"channels '{seen_addr[shape]}' and '{k}' have the same address '{ch.address}'",
                                "a subject then matches both; the registry's subject lookup returns the first"))
                        else:
                            seen_addr[shape] = k
        ops = root.get("operations")
        if ops is not None:
            if not ops.is_map:
                raise ops.err("operations must be an object")
            for k, o in ops.items():
                op = self.guard(lambda k=k, o=o: self.operation(plan, k, o, by_key))
                if op is not None:
                    plan.operations.append(op)
        return plan

    def guard(self, fn):  # type: ignore[no-untyped-def]
        try:
            return fn()
        except SpecError as e:
            self.diag.error(e)
            return None

    # -- messages -----------------------------------------------------------------------
    def message(self, plan: Plan, n: N, key_hint: str) -> PMessage:
        m = self.res.deref(n) if n.is_ref else n
        existing = plan.messages.get(m.key)
        if existing is not None:
            return existing
        if not m.is_map:
            raise m.err("a message must be an object")
        # its key: the components/messages key, else (inline in a channel) the channel's key
        key = m.name if (m.ptr.startswith("/components/messages/") and m.ptr.count("/") == 3) or \
            m.doc is not self.res.main else key_hint
        for other in plan.messages.values():
            if other.key == key:
                raise m.err(f"two different messages are both called '{key}' (other at {other.node.where()})",
                            "message keys must be unique: rename one")
        ct = m.at("contentType")
        ctype = ct.v if isinstance(ct.v, str) else plan.default_content_type
        if not JSON_CONTENT.match(ctype):
            raise (ct if ct.v is not None else m).err(f"unsupported content type '{ctype}'",
                                                      "mfgen generates JSON codecs (application/json or +json)")
        if m.get("payload") is None:
            raise m.err(f"message '{key}' has no payload", "add a payload schema")
        if m.get("headers") is not None:
            self.diag.warn(m.at("headers").err("message headers are not generated (payload only)"))
        pm = PMessage(key, m)
        plan.messages[m.key] = pm
        return pm

    # -- channels -----------------------------------------------------------------------
    def channel(self, plan: Plan, key: str, n: N) -> PChannel:
        c = self.res.deref(n) if n.is_ref else n
        if not c.is_map:
            raise c.err("a channel must be an object")
        addr = c.at("address")
        if addr.v is None:
            # address: null (or none): a dynamic address, e.g. a reply inbox. Such a channel may
            # only be a reply channel; it gets no descriptor.
            if c.get("parameters") is not None:
                raise c.at("parameters").err(f"channel '{key}' has parameters but no address")
            msgs0: List[PMessage] = []
            mnode0 = c.get("messages")
            if mnode0 is not None:
                if not mnode0.is_map:
                    raise mnode0.err("channel messages must be an object (key -> message)")
                for mk, mn in mnode0.items():
                    msgs0.append(self.message(plan, mn, mk))
            return PChannel(key, c, None, [], msgs0)
        if not isinstance(addr.v, str) or not addr.v:
            raise addr.err("address must be a non-empty string")
        address = addr.v
        found = _PARAM_RE.findall(address)
        stripped = _PARAM_RE.sub("", address)
        if "{" in stripped or "}" in stripped:
            raise addr.err(f"unbalanced braces in address '{address}'")
        if re.search(r"\s", address):
            raise addr.err("an address must not contain white space")
        tokens = address.split(".")
        for tok in tokens:
            if tok == "":
                raise addr.err(f"empty subject token in address '{address}'", "NATS subjects are dot-separated, non-empty tokens")
            if _PARAM_RE.search(tok) and not _PARAM_RE.fullmatch(tok):
                raise addr.err(f"parameter in '{tok}' is not a whole subject token",
                               "write parameters between dots (a.{id}.b) so a '*' wildcard can stand for them")
            if tok in ("*", ">") or ("*" in tok or ">" in tok):
                raise addr.err("wildcards ('*', '>') are not allowed in a channel address")
        pnode = c.get("parameters")
        declared: Dict[str, N] = {}
        if pnode is not None:
            if not pnode.is_map:
                raise pnode.err("parameters must be an object")
            declared = dict(pnode.items())
        seen = set()
        params: List[Tuple[str, N]] = []
        for p in found:
            if p in seen:
                raise addr.err(f"parameter '{{{p}}}' appears twice in the address")
            seen.add(p)
            if p not in declared:
                raise addr.err(f"address parameter '{{{p}}}' has no entry in the channel's parameters",
                               f"add parameters: {{{p}: {{description: ...}}}} to channel '{key}'")
            pn = declared[p]
            params.append((p, self.res.deref(pn) if pn.is_ref else pn))
        for p, pn in declared.items():
            if p not in seen:
                raise pn.err(f"parameter '{p}' does not appear in the address '{address}'",
                             f"use {{{p}}} in the address or remove the parameter")
        msgs: List[PMessage] = []
        mnode = c.get("messages")
        if mnode is not None:
            if not mnode.is_map:
                raise mnode.err("channel messages must be an object (key -> message)")
            for mk, mn in mnode.items():
                msgs.append(self.message(plan, mn, mk))
        return PChannel(key, c, address, params, msgs)

    # -- operations ---------------------------------------------------------------------
    def operation(self, plan: Plan, key: str, n: N, chans: Dict[str, PChannel]) -> POperation:
        o = self.res.deref(n) if n.is_ref else n
        if not o.is_map:
            raise o.err("an operation must be an object")
        action = o.at("action")
        if action.v not in ("send", "receive"):
            raise (action if action.v is not None else o).err(
                f"operation '{key}' action must be 'send' or 'receive'")
        ch = self.channel_ref(o.at("channel"), chans, key)
        if ch.address is None:
            raise o.at("channel").err(
                f"operation '{key}' uses channel '{ch.key}', which has no address",
                "a channel with a null address can only be an operation's reply channel")
        messages = self.op_messages(o.get("messages"), ch, key, "")
        reply: List[PMessage] = []
        rn = o.get("reply")
        if rn is not None:
            r = self.res.deref(rn) if rn.is_ref else rn
            rch = ch
            if r.get("channel") is not None:
                rch = self.channel_ref(r.at("channel"), chans, key)
            rm = r.get("messages")
            if rm is None or not rm.is_list or not rm.v:
                raise (rm if rm is not None else r).err(
                    f"operation '{key}' has a reply without messages",
                    "list the reply message(s): reply: {messages: [$ref: '#/channels/CH/messages/M']}")
            reply = self.op_messages(rm, rch, key, "reply ")
        service = self.service(o, key)
        return POperation(key, o, action.v, service, ch, messages, reply)

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
            match = next((m for m in ch.messages if m.node == t), None)
            if match is None:
                raise r.at("$ref").err(
                    f"operation '{key}' {what}message {r.v['$ref']!r} is not a message of channel '{ch.key}'",
                    "reference one of: " + ", ".join(f"#/channels/{ch.key}/messages/{x.key}" for x in ch.messages)
                    if ch.messages else f"channel '{ch.key}' has no messages")
            out.append(match)
        return out

    def service(self, o: N, key: str) -> str:
        xs = o.at("x-service")
        if xs.v is not None:
            if not isinstance(xs.v, str) or not _SERVICE_RE.match(xs.v):
                raise xs.err("x-service must be a service id (letters, digits, '-' and '_')")
            return xs.v
        tags = o.get("tags")
        if tags is not None and tags.is_list and tags.v:
            t0 = tags.elems()[0]
            t0 = self.res.deref(t0) if t0.is_ref else t0
            name = t0.v.get("name") if isinstance(t0.v, dict) else None
            if isinstance(name, str) and name.strip():
                return self.service_of_tag(name)
        raise o.err(f"operation '{key}' names no service",
                    "add `x-service: my-service` (or a tag, whose name is slugified) to the operation")

    def service_of_tag(self, name: str) -> str:
        """A tag's x-service in info.tags when declared there, else the slugified name."""
        info_tags = self.res.root().at("info").at("tags")
        for t in info_tags.elems():
            t = self.res.deref(t) if t.is_ref else t
            if isinstance(t.v, dict) and t.v.get("name") == name and isinstance(t.v.get("x-service"), str):
                return t.v["x-service"]
        return names.slug(name)
