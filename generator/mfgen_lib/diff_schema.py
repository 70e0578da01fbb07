"""Comparing two normalised schemas (of one message payload or one channel parameter).

Every difference becomes a Change through the Differ (diff.py) with the side it breaks: a
narrower accepted set breaks senders, a wider one receivers, neither-contains-the-other both
(docs/compatibility.md).
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from .compat import BOTH, NARROW, NEITHER, WIDEN, Parties, _q, _why, join

def stype(s: Dict[str, Any]) -> str:
    """The shape of a normalised schema: boolean, integer, number, string, enum, object,
    map, free-object, array, union, any."""
    if "oneOf" in s:
        return "union"
    t = s.get("type")
    if "enum" in s and t != "integer":  # an integer enum stays an integer (its values: enum())
        return "enum"
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
# (added or removed, required, the object open in the contract without the field) -> whom it breaks, why
_FIELD_CHANGES: Dict[Tuple[str, bool, bool], Tuple[str, str]] = {
    ("added", True, True): (NARROW, "a required field was added: senders that do not send it are refused"),
    ("added", True, False): (BOTH, "a required field was added: senders that do not send it are refused, "
                                   "and receivers of the closed object refuse it"),
    ("added", False, True): (NEITHER, "an optional field was added: old receivers ignore it"),
    ("added", False, False): (WIDEN, "an optional field was added to a closed object: receivers that predate "
                                     "it refuse it"),
    ("removed", True, True): (WIDEN, "a required field was removed: receivers that require it refuse new "
                                     "messages"),
    ("removed", True, False): (BOTH, "a required field was removed: receivers that require it refuse new "
                                     "messages, and the closed object refuses it from old senders"),
    ("removed", False, True): (NEITHER, "an optional field was removed: receivers ignore it when old senders "
                                        "still send it"),
    ("removed", False, False): (NARROW, "an optional field was removed from a closed object: senders that "
                                        "still send it are refused"),
}
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

    def __init__(self, d: Any, subject: str, message: Optional[str], p: Parties, root: str) -> None:
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
        return f"{'header' if self.root == 'headers' else 'field'} '{dpath}'" if dpath else self.root

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
        if ta == "enum" or (ta == "integer" and "enum" in a and "enum" in b):
            self.enum(a, b, path, w)
        elif ta == "integer":
            self.keyword(a, b, path, w, "enum", "enum", BOTH)  # an enum of integers added / removed
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
        # A removed value narrows what is accepted: old senders may still send it (wire). A string
        # enum of a payload also loses its generated C constant, so receiver code that names the
        # value no longer builds (source): both sides have to change. Integer enums and channel
        # parameters have no C constants: senders only.
        source = a.get("type") == "string" and not self.root.startswith("parameter")
        for v in va:
            if v not in vb:
                if source:
                    text = (f"value {_q(v)} removed: messages valid before may now be refused (senders), and "
                            "its generated C constant disappears, so code that names it no longer builds "
                            "(receivers)")
                else:
                    text = f"value {_q(v)} removed" + _why(NARROW)
                self.emit("enum.value-removed", join(path, "enum"), "removed", "enum value", w, text,
                          BOTH if source else NARROW, v, None)

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
                self.field_change("added", fp, fd, name in rb, bool(open_a))
            elif name not in pb:
                self.field_change("removed", fp, fd, name in ra, bool(open_b))
            else:
                if (name in ra) != (name in rb):
                    req = name in rb
                    self.emit("field.required" if req else "field.optional", fp, "changed",
                              "required" if req else "optional", self.where(fd),
                              ("became required: senders that omit it now send invalid messages" if req else
                               "became optional: new senders may omit it, receivers that require it refuse that"),
                              NARROW if req else WIDEN, not req, req)
                self.run(pa[name], pb[name], fp, fd)

    def field_change(self, change: str, fp: str, fd: str, required: bool, is_open: bool) -> None:
        """A field "added" to or "removed" from an object that is open (additionalProperties)
        in the contract that lacks the field."""
        breaks, why = _FIELD_CHANGES[(change, required, is_open)]
        before, after = (None, fd) if change == "added" else (fd, None)
        self.emit(f"field.{change}", fp, change, "field", self.where(fd), why, breaks, before, after)

    def union(self, a: Dict[str, Any], b: Dict[str, Any], path: str, dpath: str) -> None:
        w = self.where(dpath)
        if a.get("discriminator") != b.get("discriminator"):
            self.emit("union.discriminator", join(path, "discriminator"), "changed", "discriminator", w,
                      f"discriminator {_q(a.get('discriminator'))} -> {_q(b.get('discriminator'))}" + _why(BOTH),
                      BOTH, a.get("discriminator"), b.get("discriminator"))
            return
        disc = b.get("discriminator")
        ka = [branch_key(x, disc) for x in a["oneOf"]]
        kb = [branch_key(x, disc) for x in b["oneOf"]]
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


def branch_key(s: Dict[str, Any], disc: Optional[str]) -> str:
    if disc is not None and stype(s) == "object":
        d = s.get("properties", {}).get(disc, {})
        v = d.get("const", (d.get("enum") or [None])[0])
        if v is not None:
            return f"{disc}={v}"
    return stype(s)
