"""Channel parameters whose value lives in the payload: AsyncAPI 3 `location` runtime expressions.

`location: $message.payload#/user_id` says where a parameter's value is. mfgen accepts payload
locations whose JSON pointer leads, in every message of the channel, through object members to a
string, enum or integer member; the runtime then takes the value from the message when sending
and checks it against the subject when receiving (runtime/api/location.c).
"""
from __future__ import annotations

import re
from typing import List, Optional

from .errors import Diagnostics
from .model import Channel, CType, Field
from .resolve import N

EXPRESSION = re.compile(r"^\$message\.(payload|header)#(.*)$")
HINT = "write it as $message.payload#/<member>[/<member>...], naming a string or integer member"


def pointer_tokens(pointer: str) -> Optional[List[str]]:
    """RFC 6901 reference tokens of pointer, unescaped; None when it is malformed."""
    if pointer == "":
        return []
    if not pointer.startswith("/") or re.search(r"~(?![01])", pointer):
        return None
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def parse(loc: N) -> List[str]:
    """The member path of a `location` value, or a SpecError saying what is wrong with it."""
    if not isinstance(loc.v, str):
        raise loc.err("a parameter's location must be a string", HINT)
    m = EXPRESSION.match(loc.v)
    if not m:
        raise loc.err(f"location '{loc.v}' is not a runtime expression of the form $message.payload#/path", HINT)
    if m.group(1) == "header":
        raise loc.err(f"location '{loc.v}' points into the message headers; mfgen supports payload locations only",
                      "mfgen generates no headers; put the value in the payload")
    tokens = pointer_tokens(m.group(2))
    if tokens is None:
        raise loc.err(f"location '{loc.v}': '{m.group(2)}' is not a JSON pointer", HINT)
    if not tokens:
        raise loc.err(f"location '{loc.v}' is the whole payload; it must name a member of it", HINT)
    return tokens


def _object(t: CType) -> CType:
    while t.alias_of is not None:
        t = t.alias_of
    return t


def member_path(payload: CType, tokens: List[str]) -> Optional[List[Field]]:
    """The fields along tokens from payload, or None when a token is not an object member."""
    t = _object(payload)
    path: List[Field] = []
    for tok in tokens:
        f = next((f for f in t.fields if f.json_name == tok), None) if t.kind == "obj" else None
        if f is None:
            return None
        path.append(f)
        t = _object(f.type)
    return path


def resolve(c: Channel, pname: str, loc: N, diag: Diagnostics) -> str:
    """Checks a parameter's location against every message of the channel; returns its JSON pointer."""
    tokens = parse(loc)
    pointer = "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)
    for m in c.messages:
        path = member_path(m.payload, tokens)
        if path is None:
            raise loc.err(f"location '{loc.v}' of parameter '{pname}' does not point into the payload of "
                          f"message '{m.key}': it has no member {pointer}",
                          "a location must name a member that every message of the channel has")
        leaf = _object(path[-1].type)
        if leaf.kind not in ("str", "enum", "int"):
            raise loc.err(f"location '{loc.v}' of parameter '{pname}' points to a member of type {leaf.json_type} "
                          f"in message '{m.key}'; a channel parameter's value must be a string or an integer", HINT)
        loose = [f.json_name for f in path if not f.required or f.nullable]
        if loose:
            diag.warn(loc.err(f"location '{loc.v}' of parameter '{pname}': member '{loose[0]}' of message "
                              f"'{m.key}' is optional or nullable; a message without a value cannot be sent on "
                              "this channel and is dropped when received",
                              "make the members on the path required"))
    return pointer
