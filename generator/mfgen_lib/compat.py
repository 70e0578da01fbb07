"""What a contract change is and whom it breaks: the vocabulary of diff.py and diff_schema.py.

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
from typing import Any, Dict, List, Optional, Set

from .load import escape_segment

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




@dataclass
class Parties:
    senders: Set[str] = field(default_factory=set)
    receivers: Set[str] = field(default_factory=set)


def _why(breaks: str) -> str:
    return {NARROW: ": messages valid before may now be refused",
            WIDEN: ": messages valid now may be refused by receivers built before",
            BOTH: ": old and new parties disagree both ways"}.get(breaks, "")
