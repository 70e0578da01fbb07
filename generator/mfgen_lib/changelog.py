"""The changelog of the Message Flow document: dated entries of changes, newest first.

An entry is {"date", "version", "hash", "changes": [...]}; its changes are the diff of the
snapshot and the new contract, folded so that parts of something added or removed as a whole do
not each get a line. Entries accumulate in CHANGELOG.json next to the document.
"""
from __future__ import annotations

import datetime
import json
import os
from typing import Any, Dict, List, Optional, Tuple

from .compat import BOTH, NEITHER, Change
from .errors import UsageError
from .load import unescape_segment
from .normalise import EMPTY

# Changes whose text says everything without naming their subject again.
_STANDALONE = ("service.", "channel.added", "channel.removed", "message.added", "message.removed",
               "message.renamed", "operation.added", "operation.removed")


def entry_date(explicit: Optional[str]) -> str:
    """--date, else SOURCE_DATE_EPOCH (reproducible builds), else today (UTC)."""
    if explicit:
        try:
            return datetime.date.fromisoformat(explicit).isoformat()
        except ValueError:
            raise UsageError(f"--date '{explicit}' is not a YYYY-MM-DD date")
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if sde:
        try:
            ts = int(sde)
        except ValueError:
            raise UsageError(f"SOURCE_DATE_EPOCH '{sde}' is not a number of seconds")
        return datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc).date().isoformat()
    return datetime.datetime.now(tz=datetime.timezone.utc).date().isoformat()


def read_json(path: str, what: str) -> Optional[Any]:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise UsageError(f"cannot read the {what} {path}: {e.strerror}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"the {what} {path} is not valid JSON ({e.msg}, line {e.lineno}); "
                         "restore it from version control")


def read_changelog(path: str) -> List[Dict[str, Any]]:
    data = read_json(path, "changelog")
    if data is None:
        return []
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("date"), str)
                                                and isinstance(e.get("changes"), list) for e in entries):
        raise UsageError(f"{path} is not an mfgen changelog (an object with 'entries': "
                         "[{date, changes}]); restore it from version control")
    return entries


def change_record(c: Change) -> Dict[str, Any]:
    return {"code": c.code, "path": c.path, "subject": c.subject, "verb": c.verb, "what": c.what,
            "text": c.text, "breaks": c.breaks, "affected": c.affected}


def change_line(r: Dict[str, Any]) -> str:
    """One Markdown list item: '- **added** service: 'User Service' was added'."""
    body = r["text"] if r["code"].startswith(_STANDALONE) else f"{r['subject']}, {r['text']}"
    line = f"- **{r['verb']}** {r['what']}: {body}"
    if r["breaks"] != NEITHER:
        who = "senders and receivers" if r["breaks"] == BOTH else r["breaks"]
        line += f" (**breaks {who}**: {', '.join(r['affected'])})"
    return line


def changelog_groups(entries: List[Dict[str, Any]]) -> List[Tuple[str, List[str]]]:
    """Entries (newest first) as (date, lines); consecutive entries of one date share a heading."""
    out: List[Tuple[str, List[str]]] = []
    for e in entries:
        lines = [change_line(r) for r in e["changes"]]
        if out and out[-1][0] == e["date"]:
            out[-1][1].extend(lines)
        else:
            out.append((e["date"], lines))
    return out


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
    return unescape_segment(path.split("/")[2])
