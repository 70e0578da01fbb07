"""Deep comparison of two normalised contracts (normalise.py), classified by who it breaks.

Whom a change breaks follows the rule stated in compat.py (docs/compatibility.md has the
reasoning and an example per case): producers must produce what consumers accept.
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Tuple

from .compat import (BOTH, EXTERNAL_RECEIVERS, EXTERNAL_SENDERS, NEITHER, RECEIVERS, SENDERS, Change, Parties, _q,
                     join, ptr)
from .diff_schema import SchemaDiff, branch_key, stype
from .normalise import EMPTY, strip_schema

__all__ = ["BOTH", "NEITHER", "RECEIVERS", "SENDERS", "Change", "branch_key", "count", "diff", "major_bumped",
           "stype"]

# ---------------------------------------------------------------------------------------------
# who sends and who receives a message




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
                self.location(pp, subj, name, pa[name], pb[name], p)
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

    def location(self, pp: str, subj: str, name: str, a: Dict[str, Any], b: Dict[str, Any], p: Parties) -> None:
        """A parameter's `location` (its value is the payload's member there). Receivers check that
        the subject's value equals the payload's; senders take it from the payload. Snapshots of
        format 1 recorded no locations: nothing to compare."""
        if self.old.get("mflowContract", 2) < 2 or self.new.get("mflowContract", 2) < 2:
            return
        la, lb = a.get("location"), b.get("location")
        if la == lb:
            return
        path = join(pp, "location")
        if la is None:
            self.add("channel.parameter-location-added", path, subj, "added", "parameter location",
                     f"parameter '{name}' now comes from the payload's {lb}: receivers drop a message whose "
                     "subject says otherwise, so old senders that give another value are refused", SENDERS,
                     self.side(p, SENDERS), new=lb)
        elif lb is None:
            self.add("channel.parameter-location-removed", path, subj, "removed", "parameter location",
                     f"parameter '{name}' no longer comes from the payload's {la}: new senders may give a value "
                     "that differs from the payload, which old receivers drop (and the typed send takes it as "
                     "an argument again)", RECEIVERS, self.side(p, RECEIVERS), old=la)
        else:
            self.add("channel.parameter-location-changed", path, subj, "changed", "parameter location",
                     f"parameter '{name}' comes from the payload's {lb} instead of {la}: old and new parties "
                     "compare the subject with different members", BOTH, self.side(p, BOTH), old=la, new=lb)

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
        if "headers" in a or "headers" in b:  # none declared: no header is read, as an empty object
            SchemaDiff(self, subj, nk, p, "headers").run(a.get("headers", NO_HEADERS), b.get("headers", NO_HEADERS),
                                                         join(base, "headers"), "")


NO_HEADERS: Dict[str, Any] = {"type": "object", "properties": {}}


def _wire_sig(m: Dict[str, Any]) -> Tuple[Any, str]:
    return (m.get("contentType"), json.dumps([strip_schema(m.get("payload", {})),
                                              strip_schema(m.get("headers", NO_HEADERS))], sort_keys=True))


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
    m = re.match(r"^\s*v?(\d+)(?:\.(\d+))?", v or "")
    if not m:
        return None
    return int(m.group(1)), int(m.group(2) or 0)
