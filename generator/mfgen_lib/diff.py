"""Deep comparison of two normalised contracts (normalise.py), classified by who it breaks.

The rule (docs/compatibility.md has the reasoning and an example per case): producers must
produce what consumers accept. A change *breaks senders* when messages that senders built
against the old contract may be refused under the new one (the accepted set narrowed: a new
required field, a removed enum value, a tighter bound...), so senders must change first. It
*breaks receivers* when the new contract lets senders produce messages that receivers built
against the old one refuse (the set widened: a new enum value, a field no longer required, a
looser bound...), so receivers must change first. *Both* when neither set contains the other
(a changed address, type, pattern or format). *Neither* when every old party still works with
every new one. Senders and receivers are those of the message concerned: for a reply, the
replying service sends and the requester receives.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from .load import escape_segment
from .normalise import EMPTY, strip_schema

NEITHER, SENDERS, RECEIVERS, BOTH = "neither", "senders", "receivers", "both"
NARROW, WIDEN = SENDERS, RECEIVERS  # an accepted set that narrows breaks senders, widens receivers
EXTERNAL_SENDERS = "external producers"
EXTERNAL_RECEIVERS = "external consumers"


@dataclass
class Change:
    code: str  # stable identifier: "field.required", "enum.value-removed", ...
    path: str  # JSON pointer into the normalised contract (the new one; the old one for removals)
    subject: str  # what the change is about: "message CampaignCreate", "channel campaign.create", ...
    verb: str  # added | removed | changed | renamed
    what: str  # noun for the changelog: "service", "field", "enum value", ...
    text: str  # one sentence: what changed and why it breaks whom
    breaks: str  # neither | senders | receivers | both
    affected: List[str] = field(default_factory=list)  # the parties on the breaking side(s)
    message: Optional[str] = None  # the message key when the change is inside a message
    old: Any = None
    new: Any = None

    @property
    def breaking(self) -> bool:
        return self.breaks != NEITHER

    def as_json(self) -> Dict[str, Any]:
        return {"code": self.code, "path": self.path, "subject": self.subject, "verb": self.verb,
                "what": self.what, "text": self.text, "breaks": self.breaks, "affected": self.affected,
                "message": self.message, "old": self.old, "new": self.new}


def ptr(*segs: str) -> str:
    return "".join("/" + escape_segment(s) for s in segs)


def join(base: str, *segs: str) -> str:
    return base + ptr(*segs)


def _q(v: Any) -> str:
    """A value in a sentence."""
    if isinstance(v, str):
        return f"'{v}'"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


# ---------------------------------------------------------------------------------------------
# who sends and who receives a message


@dataclass
class Parties:
    senders: Set[str] = field(default_factory=set)
    receivers: Set[str] = field(default_factory=set)


def parties(c: Dict[str, Any]) -> Dict[str, Parties]:
    """Per message key: the services that send it and those that receive it.

    send op: sends its messages, receives its reply messages; receive op: receives its
    messages, sends its reply messages (it is the replier).
    """
    out: Dict[str, Parties] = {k: Parties() for k in c.get("messages", {})}
    for op in c.get("operations", {}).values():
        svc = op.get("service", "")
        reply = op.get("reply", {}).get("messages", []) if isinstance(op.get("reply"), dict) else []
        send = op.get("action") == "send"
        for m in op.get("messages", []):
            (out.setdefault(m, Parties()).senders if send else out.setdefault(m, Parties()).receivers).add(svc)
        for m in reply:
            (out.setdefault(m, Parties()).receivers if send else out.setdefault(m, Parties()).senders).add(svc)
    return out


def channel_parties(c: Dict[str, Any], key: str) -> Parties:
    p = Parties()
    for op in c.get("operations", {}).values():
        if op.get("channel") == key:
            (p.senders if op.get("action") == "send" else p.receivers).add(op.get("service", ""))
    return p


def reply_only(c: Dict[str, Any], channel: str, message: str) -> bool:
    """Is the message, on this channel, only ever a reply (sent to an inbox)?"""
    ops = [o for o in c.get("operations", {}).values() if o.get("channel") == channel]
    in_reply = any(message in (o.get("reply") or {}).get("messages", []) for o in ops)
    return in_reply and not any(message in o.get("messages", []) for o in ops)


# ---------------------------------------------------------------------------------------------
# the comparison


class Differ:
    def __init__(self, old: Dict[str, Any], new: Dict[str, Any]) -> None:
        self.old = old
        self.new = new
        self.changes: List[Change] = []
        self.po = parties(old)
        self.pn = parties(new)
        self.renamed: Dict[str, str] = {}  # old message key -> new message key

    def run(self) -> List[Change]:
        self.info()
        self.find_renames()
        self.services()
        self.channels()
        self.operations()
        self.messages()
        return self.changes

    # -- helpers ------------------------------------------------------------------------------
    def add(self, code: str, path: str, subject: str, verb: str, what: str, text: str, breaks: str,
            affected: Optional[List[str]] = None, message: Optional[str] = None, old: Any = None,
            new: Any = None) -> None:
        self.changes.append(Change(code, path, subject, verb, what, text, breaks, sorted(set(affected or [])),
                                   message, old, new))

    def message_parties(self, key: str, new_key: Optional[str] = None) -> Parties:
        """Old and new parties of a message together (a party of either contract is affected)."""
        a = self.po.get(key, Parties())
        b = self.pn.get(new_key or key, Parties())
        return Parties(a.senders | b.senders, a.receivers | b.receivers)

    @staticmethod
    def side(p: Parties, breaks: str) -> List[str]:
        s = sorted(p.senders) or [EXTERNAL_SENDERS]
        r = sorted(p.receivers) or [EXTERNAL_RECEIVERS]
        return {SENDERS: s, RECEIVERS: r, BOTH: s + r}.get(breaks, [])

    def doc(self, path: str, subject: str, what: str, a: Dict[str, Any], b: Dict[str, Any],
            keys: Tuple[str, ...], message: Optional[str] = None) -> None:
        for k in keys:
            if k in a and k in b and a[k] != b[k]:
                self.add("doc." + k, join(path, k), subject, "changed", what + " " + k,
                         f"{k} changed (documentation only)", NEITHER, message=message, old=a[k], new=b[k])

    # -- info ---------------------------------------------------------------------------------
    def info(self) -> None:
        a, b = self.old.get("info", {}), self.new.get("info", {})
        if not a.get("version") and not a.get("title"):
            return  # the first contract: nothing to compare with
        for k in ("title", "version"):
            if a.get(k) != b.get(k) and k in b:
                self.add("info." + k, ptr("info", k), "contract", "changed", k,
                         f"{k} {_q(a.get(k))} -> {_q(b.get(k))}", NEITHER, old=a.get(k), new=b.get(k))
        self.doc(ptr("info"), "contract", "contract", a, b, ("description",))

    # -- services -----------------------------------------------------------------------------
    def services(self) -> None:
        a, b = self.old.get("services", {}), self.new.get("services", {})
        for k in sorted(set(a) | set(b)):
            subj = f"service {k}"
            title = (b.get(k) or a.get(k) or {}).get("title", k)
            if k not in a:
                self.add("service.added", ptr("services", k), subj, "added", "service",
                         f"'{title}' was added", NEITHER, new=k)
            elif k not in b:
                self.add("service.removed", ptr("services", k), subj, "removed", "service",
                         f"'{title}' was removed (its operations are listed one by one)", NEITHER, old=k)
            else:
                self.doc(ptr("services", k), subj, "service", a[k], b[k], ("title", "description"))

    # -- channels -----------------------------------------------------------------------------
    def channels(self) -> None:
        a, b = self.old.get("channels", {}), self.new.get("channels", {})
        for k in sorted(set(a) | set(b)):
            if k not in a:
                self.add("channel.added", ptr("channels", k), f"channel {b[k]['address']}", "added", "channel",
                         f"'{b[k]['address']}' was added", NEITHER, new=b[k]["address"])
            elif k not in b:
                p = channel_parties(self.old, k)
                self.add("channel.removed", ptr("channels", k), f"channel {a[k]['address']}", "removed", "channel",
                         f"'{a[k]['address']}' was removed: its senders have nowhere to send and its "
                         "receivers get nothing", BOTH, self.side(p, BOTH), old=a[k]["address"])
            else:
                self.channel(k, a[k], b[k])

    def channel(self, k: str, a: Dict[str, Any], b: Dict[str, Any]) -> None:
        base = ptr("channels", k)
        subj = f"channel {b['address']}"
        p = channel_parties(self.old, k)
        q = channel_parties(self.new, k)
        p = Parties(p.senders | q.senders, p.receivers | q.receivers)
        if a["address"] != b["address"]:
            self.add("channel.address", join(base, "address"), subj, "changed", "channel address",
                     f"address '{a['address']}' -> '{b['address']}': old senders publish where new "
                     "receivers do not listen, and the other way round", BOTH, self.side(p, BOTH),
                     old=a["address"], new=b["address"])
        pa, pb = a.get("parameters", {}), b.get("parameters", {})
        for name in sorted(set(pa) | set(pb)):
            pp = join(base, "parameters", name)
            if name not in pb:
                self.add("channel.parameter-removed", pp, subj, "removed", "channel parameter",
                         f"parameter '{name}' was removed: the address has another shape", BOTH, self.side(p, BOTH))
            elif name not in pa:
                self.add("channel.parameter-added", pp, subj, "added", "channel parameter",
                         f"parameter '{name}' was added: the address has another shape", BOTH, self.side(p, BOTH))
            else:
                SchemaDiff(self, subj, None, p, f"parameter '{name}'").run(pa[name], pb[name], pp, "")
        # reply messages go to the requester's inbox, not to this address: the operations' reply
        # lines report them
        ma = {self.renamed.get(m, m) for m in a.get("messages", []) if not reply_only(self.old, k, m)}
        mb = {m for m in b.get("messages", []) if not reply_only(self.new, k, m)}
        for m in sorted(mb - ma):
            self.add("channel.message-added", join(base, "messages", m), subj, "added", "channel message",
                     f"message {m} may now be sent on '{b['address']}': receivers of the channel that "
                     "predate it refuse it", RECEIVERS, self.side(p, RECEIVERS), message=m, new=m)
        for m in sorted(ma - mb):
            self.add("channel.message-removed", join(base, "messages", m), subj, "removed", "channel message",
                     f"message {m} is no longer part of '{b['address']}': senders that still send it "
                     "are refused", SENDERS, self.side(p, SENDERS), message=m, old=m)
        self.doc(base, subj, "channel", a, b, ("title", "description"))

    # -- operations ---------------------------------------------------------------------------
    def operations(self) -> None:
        a, b = self.old.get("operations", {}), self.new.get("operations", {})
        for k in sorted(set(a) | set(b)):
            base = ptr("operations", k)
            if k not in a:
                o = b[k]
                self.add("operation.added", base, f"operation {k}", "added", "operation",
                         f"{o['service']} now {self.does(o)}", NEITHER, new=k)
            elif k not in b:
                self.op_removed(k, a[k])
            else:
                self.operation(k, a[k], b[k])

    def does(self, o: Dict[str, Any]) -> str:
        ch = self.new.get("channels", {}).get(o["channel"]) or self.old.get("channels", {}).get(o["channel"], {})
        addr = ch.get("address", o["channel"])
        verb = ("requests on" if o.get("reply") else "sends on") if o["action"] == "send" else \
            ("answers requests on" if o.get("reply") else "receives on")
        return f"{verb} '{addr}'"

    def op_removed(self, k: str, o: Dict[str, Any]) -> None:
        base = ptr("operations", k)
        if o["action"] == "receive" and o.get("reply"):
            p = Parties()
            for m in o.get("messages", []):
                p.senders |= self.message_parties(m, self.renamed.get(m)).senders
            self.add("operation.removed", base, f"operation {k}", "removed", "operation",
                     f"{o['service']} no longer {self.does(o)}: requesters get no reply", SENDERS,
                     self.side(p, SENDERS), old=k)
        else:
            self.add("operation.removed", base, f"operation {k}", "removed", "operation",
                     f"{o['service']} no longer {self.does(o)}", NEITHER, old=k)

    def operation(self, k: str, a: Dict[str, Any], b: Dict[str, Any]) -> None:
        base = ptr("operations", k)
        subj = f"operation {k}"
        p = channel_parties(self.new, b["channel"])
        if a["action"] != b["action"]:
            self.add("operation.action", join(base, "action"), subj, "changed", "operation action",
                     f"action {a['action']} -> {b['action']}: {b['service']} changed sides", BOTH,
                     self.side(p, BOTH), old=a["action"], new=b["action"])
            return
        if a["channel"] != b["channel"]:
            self.add("operation.channel", join(base, "channel"), subj, "changed", "operation channel",
                     f"channel {a['channel']} -> {b['channel']}: its counterparts on the old channel lose it", BOTH,
                     self.side(p, BOTH), old=a["channel"], new=b["channel"])
        if a["service"] != b["service"]:
            self.add("operation.service", join(base, "service"), subj, "changed", "operation service",
                     f"service {a['service']} -> {b['service']} (the wire is unchanged; a receiver's queue "
                     "group is its service)", NEITHER, old=a["service"], new=b["service"])
        self.op_messages(k, a, b)
        self.op_reply(k, a, b)
        self.doc(base, subj, "operation", a, b, ("summary", "description"))

    def op_messages(self, k: str, a: Dict[str, Any], b: Dict[str, Any]) -> None:
        base = ptr("operations", k)
        ma = {self.renamed.get(m, m) for m in a.get("messages", [])}
        mb = set(b.get("messages", []))
        send = b["action"] == "send"
        for m in sorted(mb - ma):
            self.add("operation.message-added", join(base, "messages", m), f"operation {k}", "added",
                     "operation message", f"{b['service']} now {'sends' if send else 'accepts'} {m}", NEITHER,
                     message=m, new=m)
        for m in sorted(ma - mb):
            if send:
                self.add("operation.message-removed", join(base, "messages", m), f"operation {k}", "removed",
                         "operation message", f"{b['service']} no longer sends {m}", NEITHER, message=m, old=m)
            else:
                snd = self.message_parties(m).senders
                self.add("operation.message-removed", join(base, "messages", m), f"operation {k}", "removed",
                         "operation message", f"{b['service']} no longer accepts {m}: senders that still send "
                         "it are refused", SENDERS, self.side(Parties(snd, set()), SENDERS), message=m, old=m)

    def op_reply(self, k: str, a: Dict[str, Any], b: Dict[str, Any]) -> None:
        base = join(ptr("operations", k), "reply")
        subj = f"operation {k}"
        ra, rb = a.get("reply"), b.get("reply")
        send = b["action"] == "send"
        if ra is None and rb is None:
            return
        p = channel_parties(self.new, b["channel"])
        if ra is None:
            self.add("operation.reply-added", base, subj, "added", "reply",
                     f"{k} now has a reply: receivers built without it never answer, so new requesters "
                     "time out until every receiver replies", RECEIVERS, self.side(p, RECEIVERS), new=rb["messages"])
            return
        if rb is None:
            self.add("operation.reply-removed", base, subj, "removed", "reply",
                     f"{k} no longer has a reply: requesters built with it wait for an answer that "
                     "never comes", SENDERS, self.side(p, SENDERS), old=ra["messages"])
            return
        ma = {self.renamed.get(m, m) for m in ra.get("messages", [])}
        mb = set(rb.get("messages", []))
        for m in sorted(mb - ma):
            if send:
                self.add("operation.reply-message-added", join(base, "messages", m), subj, "added", "reply message",
                         f"{b['service']} now accepts the reply {m}", NEITHER, message=m, new=m)
            else:
                rcv = self.message_parties(m).receivers
                self.add("operation.reply-message-added", join(base, "messages", m), subj, "added", "reply message",
                         f"{b['service']} may now reply with {m}: requesters that predate it refuse it",
                         RECEIVERS, self.side(Parties(set(), rcv), RECEIVERS), message=m, new=m)
        for m in sorted(ma - mb):
            if send:
                snd = self.message_parties(m).senders
                self.add("operation.reply-message-removed", join(base, "messages", m), subj, "removed",
                         "reply message", f"{b['service']} no longer accepts the reply {m}: repliers that "
                         "still send it are refused", SENDERS, self.side(Parties(snd, set()), SENDERS),
                         message=m, old=m)
            else:
                self.add("operation.reply-message-removed", join(base, "messages", m), subj, "removed",
                         "reply message", f"{b['service']} no longer replies with {m}", NEITHER, message=m, old=m)

    # -- messages -----------------------------------------------------------------------------
    def find_renames(self) -> None:
        """A removed and an added message with the same wire payload: one message, renamed."""
        a, b = self.old.get("messages", {}), self.new.get("messages", {})
        gone = sorted(set(a) - set(b))
        came = sorted(set(b) - set(a))
        for k in gone:
            sig = _wire_sig(a[k])
            for n in came:
                if n not in self.renamed.values() and _wire_sig(b[n]) == sig:
                    self.renamed[k] = n
                    break

    def messages(self) -> None:
        a, b = self.old.get("messages", {}), self.new.get("messages", {})
        back = {v: k for k, v in self.renamed.items()}
        for k in sorted(set(a) | set(b)):
            base = ptr("messages", k)
            if k in self.renamed:
                n = self.renamed[k]
                self.add("message.renamed", ptr("messages", n), f"message {n}", "renamed", "message",
                         f"{k} is now called {n} (same payload; the wire is unchanged, the C type names change)",
                         NEITHER, message=n, old=k, new=n)
                self.message(k, n, a[k], b[n])
            elif k in back:
                continue
            elif k not in a:
                self.add("message.added", base, f"message {k}", "added", "message", f"{k} was added", NEITHER,
                         message=k, new=k)
            elif k not in b:
                self.add("message.removed", base, f"message {k}", "removed", "message", f"{k} was removed",
                         NEITHER, message=k, old=k)
            else:
                self.message(k, k, a[k], b[k])

    def message(self, ok: str, nk: str, a: Dict[str, Any], b: Dict[str, Any]) -> None:
        base = ptr("messages", nk)
        subj = f"message {nk}"
        p = self.message_parties(ok, nk)
        if a.get("contentType") != b.get("contentType"):
            self.add("message.content-type", join(base, "contentType"), subj, "changed", "content type",
                     f"content type '{a.get('contentType')}' -> '{b.get('contentType')}'", BOTH,
                     self.side(p, BOTH), message=nk, old=a.get("contentType"), new=b.get("contentType"))
        if "name" in a and "name" in b and a["name"] != b["name"] and ok == nk:
            self.add("message.name", join(base, "name"), subj, "renamed", "message name",
                     f"name {a['name']} -> {b['name']} (documentation and the registry; the wire is unchanged)",
                     NEITHER, message=nk, old=a["name"], new=b["name"])
        self.doc(base, subj, "message", a, b, ("title", "summary", "description"), message=nk)
        SchemaDiff(self, subj, nk, p, "payload").run(a.get("payload", {}), b.get("payload", {}),
                                                     join(base, "payload"), "")


def _wire_sig(m: Dict[str, Any]) -> Tuple[Any, str]:
    import json
    return (m.get("contentType"), json.dumps(strip_schema(m.get("payload", {})), sort_keys=True))


# ---------------------------------------------------------------------------------------------
# schemas


def stype(s: Dict[str, Any]) -> str:
    """The shape of a normalised schema: boolean, integer, number, string, enum, object,
    map, free-object, array, union, any."""
    if "oneOf" in s:
        return "union"
    if "enum" in s:
        return "enum"
    t = s.get("type")
    if t is None:
        return "any"
    if t == "object":
        ap = s.get("additionalProperties")
        if isinstance(ap, dict):
            return "map"
        return "object" if "properties" in s else "free-object"
    return str(t)


# (old shape, new shape) -> which side a type change breaks; anything else breaks both
_TYPE_CHANGES = {
    ("integer", "number"): WIDEN, ("number", "integer"): NARROW,
    ("string", "enum"): NARROW, ("enum", "string"): WIDEN,
    ("object", "free-object"): WIDEN, ("map", "free-object"): WIDEN,
    ("free-object", "object"): NARROW, ("free-object", "map"): NARROW,
}

_SHAPE_WORDS = {"free-object": "free-form object", "any": "any JSON value", "union": "oneOf", "enum": "string enum",
                "map": "map (object with additionalProperties)"}

# bounds: (lower key, exclusive lower key) etc.
_LOWER = (("minimum", "exclusiveMinimum"), ("minLength", None), ("minItems", None), ("minProperties", None))
_UPPER = (("maximum", "exclusiveMaximum"), ("maxLength", None), ("maxItems", None), ("maxProperties", None))


def _bound(s: Dict[str, Any], incl: str, excl: Optional[str]) -> Optional[Tuple[float, bool]]:
    if excl is not None and excl in s:
        return (s[excl], True)
    if incl in s:
        return (s[incl], False)
    return None


def _bound_text(b: Optional[Tuple[float, bool]], lower: bool) -> str:
    if b is None:
        return "none"
    op = (">" if b[1] else ">=") if lower else ("<" if b[1] else "<=")
    return f"{op} {_q(b[0])}"


def _narrower(a: Optional[Tuple[float, bool]], b: Optional[Tuple[float, bool]], lower: bool) -> bool:
    """Is bound b stricter than bound a?"""
    if b is None:
        return False
    if a is None:
        return True
    if a[0] != b[0]:
        return b[0] > a[0] if lower else b[0] < a[0]
    return b[1] and not a[1]


class SchemaDiff:
    """Compares two schemas of one message (or one channel parameter)."""

    def __init__(self, d: Differ, subject: str, message: Optional[str], p: Parties, root: str) -> None:
        self.d = d
        self.subject = subject
        self.message = message
        self.p = p
        self.root = root  # "payload" or "parameter 'x'"

    def emit(self, code: str, path: str, verb: str, what: str, where: str, text: str, breaks: str,
             old: Any = None, new: Any = None) -> None:
        self.d.add(code, path, self.subject, verb, what, f"{where}: {text}", breaks, self.d.side(self.p, breaks),
                   self.message, old, new)

    def where(self, dpath: str) -> str:
        return f"field '{dpath}'" if dpath else self.root

    def run(self, a: Dict[str, Any], b: Dict[str, Any], path: str, dpath: str) -> None:
        ta, tb = stype(a), stype(b)
        w = self.where(dpath)
        if ta != tb:
            breaks = WIDEN if tb == "any" else NARROW if ta == "any" else _TYPE_CHANGES.get((ta, tb), BOTH)
            self.emit("type.changed", path, "changed", "type", w,
                      f"type {_SHAPE_WORDS.get(ta, ta)} -> {_SHAPE_WORDS.get(tb, tb)}" + _why(breaks),
                      breaks, ta, tb)
            return
        self.flags(a, b, path, w)
        self.formats(a, b, path, w, ta)
        self.bounds(a, b, path, w)
        if ta == "enum":
            self.enum(a, b, path, w)
        elif ta == "object":
            self.obj(a, b, path, dpath)
        elif ta == "array":
            self.run(a["items"], b["items"], join(path, "items"), (dpath or "") + "[]")
        elif ta == "map":
            self.run(a["additionalProperties"], b["additionalProperties"], join(path, "additionalProperties"),
                     (dpath or "") + "{}")
        elif ta == "union":
            self.union(a, b, path, dpath)
        if a.get("description") != b.get("description") and "description" in a and "description" in b:
            self.emit("doc.description", join(path, "description"), "changed", "description", w,
                      "description changed (documentation only)", NEITHER, a["description"], b["description"])

    def flags(self, a: Dict[str, Any], b: Dict[str, Any], path: str, w: str) -> None:
        na, nb = bool(a.get("nullable")), bool(b.get("nullable"))
        if na != nb:
            self.emit("field.nullable", join(path, "nullable"), "changed", "nullable", w,
                      ("may now be null" if nb else "may no longer be null") + _why(WIDEN if nb else NARROW),
                      WIDEN if nb else NARROW, na, nb)
        self.keyword(a, b, path, w, "const", "const", BOTH)
        if "default" in a or "default" in b:
            da, db = a.get("default"), b.get("default")
            if "default" not in a:
                self.emit("default.added", join(path, "default"), "added", "default", w,
                          f"default {_q(db)} added (an absent value now means {_q(db)})", NEITHER, None, db)
            elif "default" not in b:
                self.emit("default.removed", join(path, "default"), "removed", "default", w,
                          f"default {_q(da)} removed", NEITHER, da, None)
            elif da != db:
                self.emit("default.changed", join(path, "default"), "changed", "default", w,
                          f"default {_q(da)} -> {_q(db)}: a message without it now means something else "
                          "to one side or the other", BOTH, da, db)

    def keyword(self, a: Dict[str, Any], b: Dict[str, Any], path: str, w: str, key: str, what: str,
                changed: str) -> None:
        """A constraint keyword: added narrows, removed widens, changed -> `changed`."""
        if key not in a and key not in b or a.get(key) == b.get(key):
            return
        if key not in a:
            self.emit(f"{what}.added", join(path, key), "added", what, w, f"{what} {_q(b[key])} added" + _why(NARROW),
                      NARROW, None, b[key])
        elif key not in b:
            self.emit(f"{what}.removed", join(path, key), "removed", what, w,
                      f"{what} {_q(a[key])} removed" + _why(WIDEN), WIDEN, a[key], None)
        else:
            self.emit(f"{what}.changed", join(path, key), "changed", what, w,
                      f"{what} {_q(a[key])} -> {_q(b[key])}" + _why(changed), changed, a[key], b[key])

    def formats(self, a: Dict[str, Any], b: Dict[str, Any], path: str, w: str, shape: str) -> None:
        if shape in ("integer", "number"):
            if a.get("format") != b.get("format"):
                self.emit("format.changed", join(path, "format"), "changed", "format", w,
                          f"format {_q(a.get('format', 'none'))} -> {_q(b.get('format', 'none'))} (its range is "
                          "compared as bounds)", NEITHER, a.get("format"), b.get("format"))
            return
        if shape != "string":
            return
        ea = a.get("x-mflow-format") or a.get("format")
        eb = b.get("x-mflow-format") or b.get("format")
        if ea != eb:
            self.keyword({"format": ea} if ea else {}, {"format": eb} if eb else {}, path, w, "format", "format", BOTH)
        elif a.get("format") != b.get("format"):
            self.emit("format.changed", join(path, "format"), "changed", "format", w,
                      f"format {_q(a.get('format'))} -> {_q(b.get('format'))} (x-mflow-format {_q(eb)} still "
                      "decides what is accepted)", NEITHER, a.get("format"), b.get("format"))
        self.keyword(a, b, path, w, "pattern", "pattern", BOTH)

    def bounds(self, a: Dict[str, Any], b: Dict[str, Any], path: str, w: str) -> None:
        for lower, keys in ((True, _LOWER), (False, _UPPER)):
            for incl, excl in keys:
                ba, bb = _bound(a, incl, excl), _bound(b, incl, excl)
                if ba == bb:
                    continue
                key = excl if excl is not None and bb is not None and bb[1] else incl
                narrowed = _narrower(ba, bb, lower)
                breaks = NARROW if narrowed else WIDEN
                self.emit("bound.narrowed" if narrowed else "bound.widened", join(path, key), "changed",
                          "bound", w, f"{incl} {_bound_text(ba, lower)} -> {_bound_text(bb, lower)} "
                          f"({'narrowed' if narrowed else 'widened'})" + _why(breaks), breaks,
                          None if ba is None else ba[0], None if bb is None else bb[0])

    def enum(self, a: Dict[str, Any], b: Dict[str, Any], path: str, w: str) -> None:
        va, vb = a["enum"], b["enum"]
        for v in vb:
            if v not in va:
                self.emit("enum.value-added", join(path, "enum"), "added", "enum value", w,
                          f"value {_q(v)} added" + _why(WIDEN), WIDEN, None, v)
        for v in va:
            if v not in vb:
                self.emit("enum.value-removed", join(path, "enum"), "removed", "enum value", w,
                          f"value {_q(v)} removed" + _why(NARROW), NARROW, v, None)

    def obj(self, a: Dict[str, Any], b: Dict[str, Any], path: str, dpath: str) -> None:
        pa, pb = a.get("properties", {}), b.get("properties", {})
        ra, rb = set(a.get("required", [])), set(b.get("required", []))
        open_a, open_b = a.get("additionalProperties", True), b.get("additionalProperties", True)
        w = self.where(dpath)
        if open_a and not open_b:
            self.emit("additionalProperties.tightened", join(path, "additionalProperties"), "changed",
                      "additionalProperties", w, "no longer accepts members the contract does not define"
                      + _why(NARROW), NARROW, True, False)
        elif open_b and not open_a:
            self.emit("additionalProperties.loosened", join(path, "additionalProperties"), "changed",
                      "additionalProperties", w, "now accepts members the contract does not define"
                      + _why(WIDEN), WIDEN, False, True)
        for name in sorted(set(pa) | set(pb)):
            fp = join(path, "properties", name)
            fd = f"{dpath}.{name}" if dpath else name
            if name not in pa:
                self.field_added(fp, fd, name in rb, open_a)
            elif name not in pb:
                self.field_removed(fp, fd, name in ra, open_b)
            else:
                if (name in ra) != (name in rb):
                    req = name in rb
                    self.emit("field.required" if req else "field.optional", fp, "changed",
                              "required" if req else "optional", f"field '{fd}'",
                              ("became required: senders that omit it now send invalid messages" if req else
                               "became optional: new senders may omit it, receivers that require it refuse that"),
                              NARROW if req else WIDEN, not req, req)
                self.run(pa[name], pb[name], fp, fd)

    def field_added(self, fp: str, fd: str, required: bool, was_open: bool) -> None:
        if required:
            breaks = NARROW if was_open else BOTH
            why = "a required field was added: senders that do not send it are refused"
            if not was_open:
                why += ", and receivers of the closed object refuse it"
        else:
            breaks = NEITHER if was_open else WIDEN
            why = ("an optional field was added: old receivers ignore it" if was_open else
                   "an optional field was added to a closed object: receivers that predate it refuse it")
        self.emit("field.added", fp, "added", "field", f"field '{fd}'", why, breaks, None, fd)

    def field_removed(self, fp: str, fd: str, required: bool, now_open: bool) -> None:
        if required:
            breaks = WIDEN if now_open else BOTH
            why = "a required field was removed: receivers that require it refuse new messages"
            if not now_open:
                why += ", and the closed object refuses it from old senders"
        else:
            breaks = NEITHER if now_open else NARROW
            why = ("an optional field was removed: receivers ignore it when old senders still send it" if now_open
                   else "an optional field was removed from a closed object: senders that still send it are refused")
        self.emit("field.removed", fp, "removed", "field", f"field '{fd}'", why, breaks, fd, None)

    def union(self, a: Dict[str, Any], b: Dict[str, Any], path: str, dpath: str) -> None:
        w = self.where(dpath)
        if a.get("discriminator") != b.get("discriminator"):
            self.emit("union.discriminator", join(path, "discriminator"), "changed", "discriminator", w,
                      f"discriminator {_q(a.get('discriminator'))} -> {_q(b.get('discriminator'))}" + _why(BOTH),
                      BOTH, a.get("discriminator"), b.get("discriminator"))
            return
        disc = b.get("discriminator")
        ka = [_branch_key(x, disc) for x in a["oneOf"]]
        kb = [_branch_key(x, disc) for x in b["oneOf"]]
        for i, k in enumerate(kb):
            if k not in ka:
                self.emit("union.branch-added", join(path, "oneOf", str(i)), "added", "oneOf branch", w,
                          f"branch {k} added" + _why(WIDEN), WIDEN, None, k)
        for i, k in enumerate(ka):
            if k not in kb:
                self.emit("union.branch-removed", join(path, "oneOf", str(i)), "removed", "oneOf branch", w,
                          f"branch {k} removed" + _why(NARROW), NARROW, k, None)
            else:
                j = kb.index(k)
                self.run(a["oneOf"][i], b["oneOf"][j], join(path, "oneOf", str(j)), f"{dpath}<{k}>")


def _branch_key(s: Dict[str, Any], disc: Optional[str]) -> str:
    if disc is not None and stype(s) == "object":
        d = s.get("properties", {}).get(disc, {})
        v = d.get("const", (d.get("enum") or [None])[0])
        if v is not None:
            return f"{disc}={v}"
    return stype(s)


def _why(breaks: str) -> str:
    return {NARROW: ": messages valid before may now be refused",
            WIDEN: ": messages valid now may be refused by receivers built before",
            BOTH: ": old and new parties disagree both ways"}.get(breaks, "")


def diff(old: Optional[Dict[str, Any]], new: Dict[str, Any]) -> List[Change]:
    """Every difference from old to new (None: the empty contract), in a stable order."""
    return Differ(old or EMPTY, new).run()


def count(changes: List[Change]) -> Dict[str, int]:
    out = {NEITHER: 0, SENDERS: 0, RECEIVERS: 0, BOTH: 0}
    for c in changes:
        out[c.breaks] += 1
    return out


def major_bumped(old_version: str, new_version: str) -> bool:
    """True when new's major number is higher (for 0.x: the minor number), as SemVer means it."""
    a, b = _ver(old_version), _ver(new_version)
    if a is None or b is None:
        return False
    if b[0] != a[0]:
        return b[0] > a[0]
    return a[0] == 0 and b[1] > a[1]


def _ver(v: str) -> Optional[Tuple[int, int]]:
    import re
    m = re.match(r"^\s*v?(\d+)(?:\.(\d+))?", v or "")
    if not m:
        return None
    return int(m.group(1)), int(m.group(2) or 0)


def fold_for_changelog(changes: List[Change], old: Optional[Dict[str, Any]], new: Dict[str, Any]) -> List[Change]:
    """The changelog's view: what a reader needs, without the parts of something added or removed
    as a whole (the operations of an added service, channels only those operations use, the
    messages only those channels carry)."""
    old = old or EMPTY
    added_svc = {c.new for c in changes if c.code == "service.added"}
    removed_svc = {c.old for c in changes if c.code == "service.removed"}

    def folded_op(c: Change) -> bool:
        if c.code == "operation.added":
            return new["operations"][c.new]["service"] in added_svc
        if c.code == "operation.removed":
            return old["operations"][c.old]["service"] in removed_svc
        return False

    dropped_ops = {c.new or c.old for c in changes if folded_op(c)}

    def channel_folded(contract: Dict[str, Any], key: str) -> bool:
        ops = [k for k, o in contract["operations"].items() if o["channel"] == key]
        return bool(ops) and all(k in dropped_ops for k in ops)

    def folded_channel(c: Change) -> bool:
        if c.code == "channel.added":
            return channel_folded(new, _key_of(c.path))
        if c.code == "channel.removed":
            return channel_folded(old, _key_of(c.path))
        return False

    dropped_ch = {_key_of(c.path) for c in changes if folded_channel(c)}

    def folded_message(c: Change) -> bool:
        contract = new if c.code == "message.added" else old
        key = c.new if c.code == "message.added" else c.old
        chans = [k for k, ch in contract["channels"].items() if key in ch.get("messages", [])]
        return bool(chans) and all(k in dropped_ch for k in chans)

    out = []
    for c in changes:
        if folded_op(c) or folded_channel(c):
            continue
        if c.code in ("message.added", "message.removed") and folded_message(c):
            continue
        out.append(c)
    return out


def _key_of(path: str) -> str:
    from .load import unescape_segment
    return unescape_segment(path.split("/")[2])
