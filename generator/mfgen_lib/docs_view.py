"""What the Message Flow templates render: services, channels and messages seen from a reader.

Built from the Sdk model plus the normalised contract (for the JSON skeletons, so the document
shows exactly what change detection compares). Every list is sorted: services by title,
channels by address, messages in their channel's order (requests, then replies).
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from .diff import branch_key, stype
from .model import NO_VALUE, CType, Message, Operation, Sdk
from .render import bounds_text, md_cell, span

EXTERNAL_PRODUCERS = "External producers"
EXTERNAL_CONSUMERS = "External consumers"


# ---------------------------------------------------------------------------------------------
# names: anchors as GitHub makes them, diagram files as the seed names them


class Slugger:
    """GitHub's heading anchors: lower case, punctuation dropped (not '-' and '_'), spaces to
    '-', and repeated headings numbered (-1, -2...). Feed it every heading in document order."""

    def __init__(self) -> None:
        self.seen: Dict[str, int] = {}

    def slug(self, heading: str) -> str:
        s = "".join(ch for ch in heading.lower()
                    if ch in "-_ " or unicodedata.category(ch)[0] in ("L", "N", "M"))
        s = s.replace(" ", "-")
        n = self.seen.get(s)
        self.seen[s] = 0 if n is None else n + 1
        return s if n is None else f"{s}-{n + 1}"


def file_slug(text: str) -> str:
    """The seed's diagram file names: lower-case letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


# ---------------------------------------------------------------------------------------------
# JSON skeletons in the seed's notation


def skeleton(s: Dict[str, Any]) -> Any:
    """"string[uuid]", "string[enum:a,b]", "integer", "number[float]", "object" (free-form or
    a map), [item], {key: ...} (json.dumps sorts the keys)."""
    st = stype(s)
    if st == "object":
        return {k: skeleton(v) for k, v in s.get("properties", {}).items()}
    if st == "array":
        return [skeleton(s["items"])]
    if st in ("free-object", "map"):
        return "object"
    if st == "union":
        return "oneOf[" + "|".join(_branch_label(b, s.get("discriminator")) for b in s["oneOf"]) + "]"
    return _scalar_label(s)


def _branch_label(b: Dict[str, Any], disc: Optional[str]) -> str:
    """A oneOf branch: its scalar label; an object branch named by its discriminator value."""
    key = branch_key(b, disc)
    return f"object[{key}]" if "=" in key else _scalar_label(b)


def _scalar_label(s: Dict[str, Any]) -> str:
    st = stype(s)
    if st in ("object", "free-object", "map"):
        out = "object"
    elif st == "array":
        out = "array"
    elif st == "any":
        out = "any"
    elif st == "enum":
        out = "string[enum:" + ",".join(s["enum"]) + "]"
    else:
        inner = []
        if "const" in s:
            inner.append("const:" + (s["const"] if isinstance(s["const"], str) else json.dumps(s["const"])))
        elif s.get("format"):
            inner.append(s["format"])
        out = st + (f"[{','.join(inner)}]" if inner else "")
    return out + ("|null" if s.get("nullable") else "")


def skeleton_text(s: Dict[str, Any]) -> str:
    return json.dumps(skeleton(s), indent=2, sort_keys=True, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# field tables


def type_text(t: CType) -> str:
    k = t.kind
    if k == "str":
        fmt = t.spec_format or t.fmt_name
        if t.spec_format and t.fmt_name and t.fmt_name != t.spec_format:
            return f"string ({t.spec_format}, checked as {t.fmt_name})"
        return f"string ({fmt})" if fmt else "string"
    if k in ("int", "num"):
        base = "integer" if k == "int" else "number"
        return f"{base} ({t.spec_format})" if t.spec_format else base
    if k == "bool":
        return "boolean"
    if k == "enum":
        return "enum: " + ", ".join(t.enum_values)
    if k == "obj":
        return f"object `{t.cname}`" if t.public and t.cname else "object"
    if k == "arr":
        assert t.item is not None
        return "array of " + type_text(t.item)
    if k == "map":
        assert t.item is not None
        return "map of " + type_text(t.item)
    if k == "raw":
        return "object (free-form)" if t.raw_object else "any JSON"
    if k == "union":
        return "one of " + " | ".join(type_text(b.type) for b in t.branches)
    return k


def bounds_of(t: CType) -> str:
    out: List[str] = []
    if t.kind == "int":
        out.append(bounds_text(t.imin, t.imax, t.excl_min, t.excl_max))
    elif t.kind == "num":
        out.append(bounds_text(t.nmin, t.nmax, t.excl_min, t.excl_max))
    elif t.kind == "str" and (t.min_len or t.max_len):
        out.append(span("length", t.min_len, t.max_len))
    elif t.kind in ("arr", "map") and (t.min_items or t.max_items):
        out.append(span("items" if t.kind == "arr" else "entries", t.min_items, t.max_items))
    if t.kind in ("arr", "map") and t.item is not None and t.item.kind not in ("obj", "union"):
        inner = bounds_of(t.item)
        if inner:
            out.append("each " + inner)
    if t.const is not NO_VALUE:
        out.append("const " + json.dumps(t.const, ensure_ascii=False))
    return "; ".join(x for x in out if x)


def pattern_of(t: CType) -> str:
    while t.kind in ("arr", "map") and t.item is not None:
        t = t.item
    return t.pattern.source if t.kind == "str" and t.pattern is not None else ""


def cell(s: str) -> str:
    """Table cell text: one line, pipes escaped, no HTML."""
    return md_cell(s).replace("<", "&lt;")


def code_cell(s: str) -> str:
    """Text in a code span inside a table cell (backticks cannot be escaped: use a longer fence)."""
    if not s:
        return ""
    s = " ".join(s.split()).replace("|", "\\|")
    fence = "``" if "`" in s else "`"
    return f"{fence}{' ' if fence == '``' else ''}{s}{' ' if fence == '``' else ''}{fence}"


def field_rows(t: CType, path: str = "", depth: int = 0) -> List[Dict[str, str]]:
    """One row per member, nested members as dotted paths (arrays [] and maps {})."""
    rows: List[Dict[str, str]] = []
    if depth > 16:
        return rows
    for f in t.fields:
        p = f"{path}.{f.json_name}" if path else f.json_name
        req = "yes" if f.required else "no"
        rows.append({
            "field": code_cell(p), "required": req + (", nullable" if f.nullable else ""),
            "type": cell(type_text(f.type)), "bounds": cell(bounds_of(f.type)),
            "pattern": code_cell(pattern_of(f.type)),
            "default": code_cell(json.dumps(f.default, ensure_ascii=False)) if f.has_default else "",
            "description": cell(f.description or f.type.description),
        })
        rows += _nested(f.type, p, depth)
    return rows


def _nested(t: CType, p: str, depth: int) -> List[Dict[str, str]]:
    if t.kind == "obj":
        return field_rows(t, p, depth + 1)
    if t.kind in ("arr", "map") and t.item is not None:
        return _nested(t.item, p + ("[]" if t.kind == "arr" else "{}"), depth + 1)
    if t.kind == "union":
        out: List[Dict[str, str]] = []
        for b in t.branches:
            out += _nested(b.type, f"{p}<{b.name}>", depth + 1)
        return out
    return []


# ---------------------------------------------------------------------------------------------
# the view


@dataclass
class Party:
    title: str
    fn: str = ""  # typed function
    header: str = ""  # its header, relative to the SDK's include dir (e.g. mf_sdk/user_service.h)
    how: str = ""  # "with", "from the handler of", "as the reply of"


@dataclass
class MessageView:
    key: str
    label: str  # the seed's name: the message's `name`, else key + "Message"
    role: str  # "request" | "reply" | ""
    skeleton: str
    rows: List[Dict[str, str]]
    cname: str
    desc: str
    summary: str
    senders: List[Party] = field(default_factory=list)
    receivers: List[Party] = field(default_factory=list)


@dataclass
class ChannelView:
    key: str
    address: str
    anchor: str
    diagram: str  # diagrams/channel_<slug>.svg
    title: str
    description: str
    senders: List[str]  # service ids
    receivers: List[str]
    reply: bool  # request/reply channel
    messages: List[MessageView] = field(default_factory=list)


@dataclass
class ServiceView:
    id: str
    title: str
    anchor: str
    description: str
    diagram: str
    sends: List[Tuple[ChannelView, str]] = field(default_factory=list)  # (channel, "Pub" | "Req")
    receives: List[Tuple[ChannelView, str]] = field(default_factory=list)  # (channel, "Sub" | "Reply")


@dataclass
class FlowView:
    title: str
    services: List[ServiceView]
    channels: List[ChannelView]
    toc: List[Tuple[int, str, str]]  # (level, text, anchor)
    titles: Dict[str, str]  # service id -> title
    changelog_anchor: str = "changelog"


def message_label(m: Message) -> str:
    name = m.node.v.get("name") if isinstance(m.node.v, dict) else None
    return name if isinstance(name, str) and name else m.key + "Message"


def build_view(sdk: Sdk, contract: Dict[str, Any], titles: Dict[str, str], descriptions: Dict[str, str]) -> FlowView:
    inc = f"{sdk.prefix}_sdk"
    headers = {s.name: f"{inc}/{s.snake}.h" for s in sdk.service_apis}
    slug = Slugger()
    for h in ("Message Flow", "Table of Contents", "Context", "Services"):
        slug.slug(h)
    services = sorted((ServiceView(id=s, title=titles.get(s, s), anchor="", description=descriptions.get(s, ""),
                                   diagram=f"diagrams/service_{s}.svg") for s in sdk.services),
                      key=lambda v: (v.title, v.id))
    for v in services:
        v.anchor = slug.slug(v.title)
    slug.slug("Channels")
    channels: List[ChannelView] = []
    used: Dict[str, int] = {}
    for c in sorted(sdk.channels, key=lambda c: (c.address, c.key)):
        ops = [o for o in sdk.operations if o.channel is c]
        base = file_slug(c.address) or file_slug(c.key) or "channel"
        n = used.get(base, 0)
        used[base] = n + 1
        cv = ChannelView(key=c.key, address=c.address, anchor=slug.slug(c.address),
                         diagram=f"diagrams/channel_{base}{'_' + str(n + 1) if n else ''}.svg",
                         title=c.title, description=c.description,
                         senders=sorted({o.service for o in ops if o.action == "send"}),
                         receivers=sorted({o.service for o in ops if o.action == "receive"}),
                         reply=any(o.reply for o in ops))
        slug.slug("Messages")
        cv.messages = _channel_messages(c.messages, ops, contract, titles, headers)
        channels.append(cv)
    by_key = {c.key: c for c in channels}
    for v in services:
        for o in sdk.services[v.id]:
            cv = by_key.get(o.channel.key)
            if cv is None:
                continue
            if o.action == "send":
                v.sends.append((cv, "Req" if o.reply else "Pub"))
            else:
                v.receives.append((cv, "Reply" if o.reply else "Sub"))
        v.sends = _unique(v.sends)
        v.receives = _unique(v.receives)
    toc: List[Tuple[int, str, str]] = [(0, "Context", "context"), (0, "Services", "services")]
    toc += [(1, v.title, v.anchor) for v in services]
    toc.append((0, "Channels", "channels"))
    toc += [(1, c.address, c.anchor) for c in channels]
    changelog = slug.slug("Changelog")
    toc.append((0, "Changelog", changelog))
    return FlowView(title="Message Flow", services=services, channels=channels, toc=toc, titles=titles,
                    changelog_anchor=changelog)


def _unique(links: List[Tuple[ChannelView, str]]) -> List[Tuple[ChannelView, str]]:
    seen = {(c.key, kind): (c, kind) for c, kind in links}
    return sorted(seen.values(), key=lambda x: (x[0].address, x[0].key, x[1]))


def _channel_messages(msgs: List[Message], ops: List[Operation], contract: Dict[str, Any],
                      titles: Dict[str, str], headers: Dict[str, str]) -> List[MessageView]:
    requests = {m.key for o in ops if o.reply for m in o.messages}
    replies: List[Message] = []
    for o in ops:
        for m in o.reply:
            if m not in replies:
                replies.append(m)
    order = {m.key: i for i, m in enumerate(msgs)}
    replies.sort(key=lambda m: (order.get(m.key, len(order)), m.key))
    reply_keys = {m.key for m in replies}
    out: List[Tuple[str, Message]] = []
    if replies:
        out += [("request", m) for m in msgs if m.key in requests]
        out += [("reply", m) for m in replies]
        out += [("", m) for m in msgs if m.key not in requests and m.key not in reply_keys]
    else:
        out = [("", m) for m in msgs]
    return [_message_view(m, role, ops, contract, titles, headers) for role, m in out]


def _message_view(m: Message, role: str, ops: List[Operation], contract: Dict[str, Any],
                  titles: Dict[str, str], headers: Dict[str, str]) -> MessageView:
    payload = contract["messages"][m.key]["payload"]
    t = m.payload
    mv = MessageView(key=m.key, label=message_label(m), role=role, skeleton=skeleton_text(payload),
                     rows=field_rows(t) if t.kind == "obj" else [], cname=t.cname or t.value_ctype,
                     desc=m.desc, summary=" ".join((m.summary or m.title or "").split()))
    for o in ops:
        hdr = headers.get(o.service, "")
        title = titles.get(o.service, o.service)
        if role == "reply":
            if m in o.reply:
                if o.action == "receive":
                    mv.senders.append(Party(title, o.fn, hdr, "from the handler of"))
                else:
                    mv.receivers.append(Party(title, o.fn, hdr, "as the reply of"))
        elif m in o.messages:
            (mv.senders if o.action == "send" else mv.receivers).append(Party(title, o.fn, hdr, "with"))
    mv.senders.sort(key=lambda p: (p.title, p.fn))
    mv.receivers.sort(key=lambda p: (p.title, p.fn))
    return mv

