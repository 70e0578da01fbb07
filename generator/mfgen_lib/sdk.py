"""Plan (the checked document) -> Sdk model: types, messages, channels, operations, C names."""
from __future__ import annotations

import re
from functools import partial
from typing import Dict, List, Optional, Set, Tuple

from . import channel_api, location, names
from .errors import Diagnostics
from .payload import foreign_schema_format, schema_format_name
from .model import Channel, CType, Example, Message, Operation, Param, Pattern, Sdk, Service
from .regex import RegexError, ecma_to_ere
from .resolve import N, Resolver
from .schema import SchemaBuilder
from .schema_keywords import STRING_FORMATS, text_of
from .spec_check import PChannel, PMessage, Plan
from .symbols import Hint, Symbols



class SdkBuilder:
    def __init__(self, plan: Plan, res: Resolver, prefix: str, spec_name: str, diag: Diagnostics) -> None:
        self.plan = plan
        self.res = res
        self.prefix = prefix
        self.up = prefix.upper()
        self.diag = diag
        self.sym = Symbols(diag)
        self.sb = SchemaBuilder(res, prefix, diag, self.sym)
        self.sdk = Sdk(prefix=prefix, spec_name=spec_name, title=plan.title, version=plan.version,
                       description=plan.description, asyncapi=plan.asyncapi)
        self.aliases: List[Tuple[str, CType, N]] = []

    def build(self) -> Sdk:
        root = self.plan.root
        p, up = self.prefix, self.up
        for ident, what in ((f"{p}_sdk_registry", "the registry"), (f"{up}_SDK_PARAM_VALUE_MAX", "a macro"),
                            (f"{up}_SDK_TYPES_H", "an include guard"), (f"{up}_SDK_CHANNELS_H", "an include guard"),
                            (f"{up}_SDK_REGISTRY_H", "an include guard"), (f"{up}_SDK_SDK_H", "an include guard"),
                            (f"{p}_contract_version", "the contract version"), (f"{p}_contract_hash", "the contract hash"),
                            (f"{up}_CONTRACT_VERSION", "a macro"), (f"{up}_CONTRACT_HASH", "a macro"),
                            (f"{up}_SDK_CHANNELS_API_H", "an include guard")):
            self.sym.claim(ident, root, what)
        for key, node in self.plan.schemas:
            self.diag.guard(partial(self.named_schema, key, node))
        msgs: Dict[Tuple[str, str], Message] = {}
        for pm in sorted(self.plan.messages.values(), key=lambda m: m.key):
            m = self.diag.guard(partial(self.message, pm))
            if m is not None:
                msgs[pm.node.key] = m
        self.sdk.messages = sorted(msgs.values(), key=lambda m: m.key)
        chans: Dict[str, Channel] = {}
        used = {po.channel.key for po in self.plan.operations}
        for pc in self.plan.channels:
            if pc.address is None and pc.key not in used:
                continue  # a dynamic reply address (an inbox): no descriptor
            if any(pm.node.key not in msgs for pm in pc.messages):
                continue  # a message failed: its error is reported already
            c = self.diag.guard(partial(self.channel, pc, msgs))
            if c is not None:
                chans[pc.key] = c
        self.sdk.channels = sorted(chans.values(), key=lambda c: c.key)
        ops: List[Operation] = []
        for po in self.plan.operations:
            if po.channel.key not in chans or any(m.node.key not in msgs for m in po.messages + po.reply):
                continue
            desc = f"{p}_op_{names.type_part(po.key)}_desc"
            self.sym.claim(desc, po.node, f"descriptor of operation '{po.key}'")
            ch = chans[po.channel.key]
            op = Operation(
                key=po.key, service=po.service, action=po.action, channel=ch,
                messages=[msgs[m.node.key] for m in po.messages], reply=[msgs[m.node.key] for m in po.reply],
                queue_group=po.service if po.action == "receive" else None,
                summary=text_of(po.node.get("summary")), description=text_of(po.node.get("description")),
                node=po.node, desc=desc)
            ops.append(op)
            (ch.senders if op.action == "send" else ch.receivers).append(op.service)
        for ch in chans.values():
            ch.senders = sorted(set(ch.senders))
            ch.receivers = sorted(set(ch.receivers))
        self.sdk.operations = sorted(ops, key=lambda o: o.key)
        services: Dict[str, List[Operation]] = {}
        for op in self.sdk.operations:
            services.setdefault(op.service, []).append(op)
        self.sdk.services = {k: services[k] for k in sorted(services)}
        self.sdk.service_apis = [self.service_api(k, v) for k, v in self.sdk.services.items()]
        for ch in self.sdk.channels:
            ch.api = channel_api.build(ch, self.sdk.operations, p, self.sym)
            self.sdk.channel_apis.append(ch.api)
        self.sdk.types = order_types(self.sb.types)
        return self.sdk

    # -- typed per-service API ----------------------------------------------------------------
    def service_api(self, service: str, ops: List[Operation]) -> Service:
        """Names the typed functions of one service; every name is claimed (collisions are errors).

        send / request:  <service>_<operation key>        campaign_service_send_push_notification
        receive:         <service>_<operation key>        user_service_reply_user_info
        handler type:    <service>_<operation key>_handler

        Receive functions are named after the operation, not the message: one service may
        receive the same message on two channels, each with its own operation.
        """
        svc = Service(name=service, snake=names.member(service), ops=ops)
        for op in ops:
            if not op.messages:
                continue
            op.fn = f"{svc.snake}_{names.type_part(op.key)}"
            if op.action == "send":
                extra = ["__tramp", "_async", "_cb"] if op.reply else ["_with_headers", "_batch"]
            else:
                op.handler = f"{op.fn}_handler"
                self.sym.claim(op.handler, op.node, f"handler type of operation '{op.key}'")
                extra = ["__tramp", "_ex"]
            self.sym.claim(op.fn, op.node, f"typed function of operation '{op.key}'")
            for suffix in extra:
                self.sym.claim(op.fn + suffix, op.node, f"typed API of operation '{op.key}'")
        svc.ops = [op for op in ops if op.fn]
        return svc

    # -- named schemas ---------------------------------------------------------------------
    def named_schema(self, key: str, node: N) -> None:
        if node.is_map and "schemaFormat" in node.v:  # a Multi Format Schema Object
            fmt = foreign_schema_format(node.v)
            if fmt is not None:
                self.diag.warn(node.at("schemaFormat").err(
                    f"schema '{key}' has schemaFormat '{fmt}' ({schema_format_name(fmt)}): no C type generated",
                    "a message whose payload it is would be refused"))
                return
            node = node.at("schema")
        expected = self.sb.type_name(node, key) if not node.is_ref else f"{self.prefix}_{names.type_part(key)}"
        got = self.sb.use(node, Hint(expected)) if node.is_ref else self.sb.named(node, key)
        if got.type.cname != expected:
            self.sym.claim(expected, node, f"alias of {got.type.cname or got.type.value_ctype}")
            self.aliases.append((expected, got.type, node))
        self.sdk.named.append(got.type)

    # -- messages --------------------------------------------------------------------------
    def message(self, pm: PMessage) -> Message:
        key, m = pm.key, pm.node
        payload = pm.payload if pm.payload is not None else m.at("payload")
        cname = f"{self.prefix}_{names.type_part(key)}"
        if payload.is_ref:
            got = self.sb.use(payload, Hint(cname))
        else:
            got = self.sb.named(payload, self.payload_key(key, payload))
        if got.nullable:
            raise payload.err("a nullable message payload is not supported")
        desc = f"{self.prefix}_msg_{names.type_part(key)}_desc"
        self.sym.claim(desc, m, f"descriptor of message '{key}'")
        name = m.v.get("name") if isinstance(m.v.get("name"), str) else key
        ct = m.v.get("contentType") if isinstance(m.v.get("contentType"), str) else self.plan.default_content_type
        msg = Message(key=key, name=name, title=text_of(m.get("title")), summary=text_of(m.get("summary")),
                      description=text_of(m.get("description")), content_type=ct, payload=got.type,
                      node=m, desc=desc)
        msg.examples = self.examples(key, m)
        msg.headers = self.headers(key, m)
        return msg

    def headers(self, key: str, m: N) -> Optional[CType]:
        """The C struct of a message's `headers` schema (<p>_<key>_headers) when it is an object of
        string members (NATS headers are text: string, enum, format, pattern, lengths). Headers of
        another shape (an object or a number in a header) are not generated: a warning names the
        first such header, and the message is generated without them."""
        hn = m.get("headers")
        if hn is None:
            return None
        why = self.headers_unsupported(key, hn)
        if why:
            self.diag.warn(hn.err(why, "NATS headers are text: give every header property type: string "
                                       "(an enum, format or pattern may narrow it)"))
            return None
        cname = f"{key}Headers"
        got = self.sb.use(hn, Hint(f"{self.prefix}_{names.type_part(cname)}")) if hn.is_ref else \
            self.sb.named(hn, cname)
        return got.type

    def headers_unsupported(self, key: str, hn: N) -> str:
        """Why a `headers` schema has no C struct ("" when it can have one)."""
        h = self.res.deref(hn) if hn.is_ref else hn
        props = h.get("properties")
        if not isinstance(h.v, dict) or h.v.get("type", "object") != "object" or props is None or not props.v \
                or any(k in h.v for k in ("allOf", "oneOf", "anyOf", "additionalProperties")):
            return f"the headers of message '{key}' are not generated: only an object with properties is"
        for name, p in props.items():
            p = self.res.deref(p) if p.is_ref else p
            v = p.v if isinstance(p.v, dict) else {}
            enum = v.get("enum")
            text = v.get("type") == "string" or ("type" not in v and isinstance(enum, list) and enum and
                                                all(isinstance(e, str) for e in enum))
            if not text or any(k in v for k in ("allOf", "oneOf", "anyOf", "not")):
                return (f"the headers of message '{key}' are not generated: header '{name}' is not a string "
                        "(its value in a NATS header would be text)")
        return ""

    def payload_key(self, key: str, payload: N) -> str:
        """The type name of an inline payload: the message key, or `<key>Payload` when a component
        schema (or another message's payload) already has that C name."""
        cname = self.sb.type_name(payload, key)
        if self.sym.taken(cname) and not (isinstance(payload.v, dict) and "x-c-name" in payload.v):
            return key + "Payload"
        return key

    def examples(self, key: str, m: N) -> List[Example]:
        ex = m.get("examples")
        if ex is None:
            return []
        if not ex.is_list:
            raise ex.err("message examples must be a list")
        out: Dict[str, Example] = {}
        for i, e in enumerate(ex.elems()):
            if not e.is_map or "payload" not in e.v:
                continue
            raw = e.v.get("name")
            name = raw if isinstance(raw, str) and raw else f"example{i + 1}"
            safe = re.sub(r"[^A-Za-z0-9_-]", "_", name) or f"example{i + 1}"  # no "." : the key may have one
            if safe in out:
                raise e.at("name").err(f"two examples of message '{key}' are both named '{safe}'")
            out[safe] = Example(name=name, file=f"examples/{key}.{safe}.json",
                                summary=text_of(e.get("summary")), payload=e.v["payload"], node=e.at("payload"))
        return [out[k] for k in sorted(out)]

    # -- channels --------------------------------------------------------------------------
    def channel(self, pc: PChannel, msgs: Dict[Tuple[str, str], Message]) -> Channel:
        snake = names.type_part(pc.key)
        p, up = self.prefix, self.up
        c = Channel(key=pc.key, snake=snake, address=pc.subject or "(subject given by the caller)",
                    wildcard=wildcard(pc.subject) if pc.subject is not None else None,
                    title=text_of(pc.node.get("title")), description=text_of(pc.node.get("description")),
                    node=pc.node, desc=f"{p}_ch_{snake}_desc", macro=f"{up}_{snake.upper()}",
                    subject=pc.subject, spec_address=pc.address)
        self.sym.claim_first(c.desc, pc.node, f"descriptor of channel '{pc.key}'")
        if c.subject is not None:
            self.sym.claim(f"{c.macro}_ADDRESS", pc.node, f"address macro of channel '{pc.key}'")
            self.sym.claim(f"{c.macro}_WILDCARD", pc.node, f"wildcard macro of channel '{pc.key}'")
        if pc.params:
            for suffix in ("params", "values", "address", "parse"):
                self.sym.claim(f"{p}_{snake}_{suffix}", pc.node, f"{suffix} helper of channel '{pc.key}'")
        members: Dict[str, str] = {}
        for pname, pn in pc.params:
            member = names.member(pname)
            if member in channel_api.ARGUMENTS or member == "subject":
                member += "_param"  # the typed functions' own arguments keep their names ({queue})
            if member in members:
                raise pn.err(f"parameters '{members[member]}' and '{pname}' both become the C name '{member}'")
            members[member] = pname
            ptype = self.param_type(c, pname, pn)
            exs = [x for x in (pn.v.get("examples") or []) if isinstance(x, str)] if pn.is_map else []
            c.params.append(Param(name=pname, member=member, description=text_of(pn.get("description")),
                                  node=pn, type=ptype, examples=exs))
        seen: Set[int] = set()
        for pm in pc.messages:
            m = msgs[pm.node.key]
            if id(m) not in seen:
                seen.add(id(m))
                c.messages.append(m)
                m.channels.append(c)
        for pr in c.params:
            loc = pr.node.get("location")
            if loc is not None:
                pr.location = location.resolve(c, pr.name, loc, self.diag)
        return c

    def param_type(self, c: Channel, pname: str, pn: N) -> Optional[CType]:
        if not pn.is_map:
            raise pn.err("a parameter must be an object")
        src = pn
        sch = pn.get("schema")  # AsyncAPI 2.x style, accepted when it is a string schema
        if sch is not None:
            src = self.res.deref(sch) if sch.is_ref else sch
            t = src.v.get("type") if src.is_map else None
            if t not in (None, "string"):
                raise sch.err("a channel parameter must be a string")
        base = f"{c.desc[:-len('_desc')]}__{names.type_part(pname)}"
        enum = src.get("enum")
        fmt = pn.get("x-format") or src.get("format")
        pattern = src.get("pattern")
        min_len, max_len = src.v.get("minLength"), src.v.get("maxLength")
        if enum is None and fmt is None and pattern is None and min_len is None and max_len is None:
            return None
        t = CType(kind="enum" if enum is not None else "str", desc=self.sym.static(base), node=pn, label=pname)
        if enum is not None:
            if not enum.is_list or not enum.v or not all(isinstance(x, str) for x in enum.v):
                raise enum.err("a parameter enum must be a non-empty list of strings")
            t.enum_values = list(enum.v)
            t.values_sym = self.sym.static(base + "_values")
            return t
        if fmt is not None:
            if fmt.v in STRING_FORMATS:
                t.fmt, t.fmt_name = STRING_FORMATS[fmt.v], fmt.v
            else:
                self.diag.warn(fmt.err(f"unknown parameter format '{fmt.v}': any value accepted",
                                       "supported: " + ", ".join(STRING_FORMATS)))
        if pattern is not None:
            try:
                t.pattern = Pattern(pattern.v, ecma_to_ere(str(pattern.v)), self.sym.static(base + "_pattern"))
            except RegexError as e:
                raise pattern.err(f"unsupported pattern: {e.message} at offset {e.offset}")
        t.min_len = min_len if isinstance(min_len, int) and not isinstance(min_len, bool) else 0
        t.max_len = max_len if isinstance(max_len, int) and not isinstance(max_len, bool) else 0
        return t


def wildcard(subject: str) -> str:
    """The subject with every token that holds a parameter as `*` (a NATS wildcard is a whole
    token; the runtime checks the rest of a partly-literal token when it parses a subject)."""
    return ".".join("*" if "{" in tok else tok for tok in subject.split("."))


def deps(t: CType) -> List[CType]:
    out: List[CType] = [f.type for f in t.fields]
    if t.item is not None:
        out.append(t.item)
    out.extend(b.type for b in t.branches)
    if t.alias_of is not None:
        out.append(t.alias_of)
    if t.not_type is not None:
        out.append(t.not_type)
    return out


def order_types(types: List[CType]) -> List[CType]:
    """Dependencies first; public roots in C-name order, so the order does not depend on the spec's."""
    out: List[CType] = []
    seen: Set[int] = set()

    def visit(t: CType) -> None:
        if id(t) in seen:
            return
        seen.add(id(t))
        for d in deps(t):
            visit(d)
        out.append(t)

    for t in sorted((t for t in types if t.public), key=lambda t: t.cname or ""):
        visit(t)
    for t in types:  # statics not reachable from a public type (none expected)
        visit(t)
    return out


def build_sdk(plan: Plan, res: Resolver, prefix: str, spec_name: str, diag: Diagnostics) -> Tuple[Sdk, List[Tuple[str, CType, N]]]:
    b = SdkBuilder(plan, res, prefix, spec_name, diag)
    sdk = b.build()
    return sdk, b.aliases
