"""$ref resolution: local JSON pointers and relative files, against the referencing file.

Nothing is expanded in place: later phases ask the Resolver to follow a reference when they meet
one, and memoise their results by (file, pointer), so a schema used from many places (a diamond)
is read and built once. `check_all` visits every reference reachable from the main document once,
so every unknown target is reported up front with its location.
"""
from __future__ import annotations

import difflib
import os
import re
import urllib.parse
from typing import Any, Dict, FrozenSet, Iterator, List, Optional, Set, Tuple

from .errors import Diagnostics, Reported, SpecError
from .load import Doc, DocStore, join_pointer, unescape_segment
from .payload import foreign_schema_format, is_foreign_message

_REMOTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# Members whose values are data, not spec objects: a "$ref" key inside them is just data.
DEFAULT_HINT = "see docs/generator.md for the AsyncAPI and JSON Schema features mfgen supports"
DATA_KEYS = frozenset({"examples", "example", "default", "const", "enum", "x-examples"})


class N:
    """A view of one value in a loaded document: the value plus where it is."""

    __slots__ = ("doc", "ptr", "v")

    def __init__(self, doc: Doc, ptr: str, v: Any) -> None:
        self.doc = doc
        self.ptr = ptr
        self.v = v

    @property
    def key(self) -> Tuple[str, str]:
        return (self.doc.path, self.ptr)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, N) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"N({self.doc.display}#{self.ptr})"

    @property
    def is_map(self) -> bool:
        return isinstance(self.v, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.v, list)

    @property
    def is_ref(self) -> bool:
        return isinstance(self.v, dict) and "$ref" in self.v

    @property
    def name(self) -> str:
        """The last pointer segment (a component key, a property name...)."""
        return unescape_segment(self.ptr[self.ptr.rfind("/") + 1 :]) if self.ptr else ""

    def has(self, key: str) -> bool:
        return isinstance(self.v, dict) and key in self.v

    def get(self, key: str) -> Optional["N"]:
        if isinstance(self.v, dict) and key in self.v:
            return N(self.doc, join_pointer(self.ptr, key), self.v[key])
        return None

    def at(self, key: str) -> "N":
        """A child view even when absent (for locating errors about a missing member)."""
        if isinstance(self.v, dict) and key in self.v:
            return N(self.doc, join_pointer(self.ptr, key), self.v[key])
        return N(self.doc, join_pointer(self.ptr, key), None)

    def items(self) -> List[Tuple[str, "N"]]:
        if not isinstance(self.v, dict):
            return []
        return [(k, N(self.doc, join_pointer(self.ptr, k), v)) for k, v in self.v.items()]

    def elems(self) -> List["N"]:
        if not isinstance(self.v, list):
            return []
        return [N(self.doc, join_pointer(self.ptr, i), v) for i, v in enumerate(self.v)]

    def err(self, message: str, hint: str = "") -> SpecError:
        return self.doc.error(self.ptr, message, hint or DEFAULT_HINT)

    def where(self) -> str:
        """file:line:col for mentioning this node inside another message."""
        line, col = self.doc.mark(self.ptr)
        return f"{self.doc.display}:{line}:{col}"


_PENDING = object()  # a reference being followed (to catch loops through intermediate $refs)


class Resolver:
    def __init__(self, store: DocStore, main: Doc) -> None:
        self.store = store
        self.main = main
        self._memo: Dict[Tuple[str, str], Any] = {}
        self._loops: Set[FrozenSet[Tuple[str, str]]] = set()

    def root(self) -> N:
        return N(self.main, "", self.main.root)

    def target(self, n: N) -> N:
        """One step: the value a {"$ref": ...} object points at."""
        refn = n.at("$ref")
        ref = n.v.get("$ref") if isinstance(n.v, dict) else None
        if not isinstance(ref, str):
            raise refn.err("$ref must be a string")
        memo = self._memo.get(n.key)
        if memo is _PENDING:
            raise refn.err(f"circular $ref chain through '{ref}'", "a reference must end at a real value")
        if memo is not None:
            return memo
        if _REMOTE.match(ref) and not ref.startswith("#"):
            raise refn.err(f"remote $ref '{ref}' is not supported",
                           "mfgen never uses the network: copy the document next to the spec and "
                           "reference it by a relative path")
        file_part, _, frag = ref.partition("#")
        frag = urllib.parse.unquote(frag)
        doc = n.doc
        if file_part:
            file_part = urllib.parse.unquote(file_part)
            if "\0" in file_part:  # as written or as %00: no file has such a name (open() raises ValueError)
                shown = ref.encode("unicode_escape").decode("ascii")
                raise refn.err(f"$ref '{shown}' names a file with a NUL character in its name",
                               "a file reference is a relative path: 'other.yaml#/components/schemas/X'")
            abs_path = os.path.normpath(os.path.join(os.path.dirname(n.doc.path), file_part))
            display = os.path.normpath(os.path.join(os.path.dirname(n.doc.display), file_part))
            doc = self.store.load_ref(
                abs_path, display,
                refn.err(f"unknown $ref '{ref}'",
                         f"relative file references are resolved against the directory of "
                         f"{n.doc.display}, not the working directory"))
        if frag and not frag.startswith("/"):
            raise refn.err(f"unsupported $ref fragment '#{frag}'",
                           "only JSON pointers (#/path/to/node) are supported, not $anchor/$id names")
        self._memo[n.key] = _PENDING
        try:
            out = self._follow(N(doc, "", doc.root), frag, refn, ref)
        finally:
            del self._memo[n.key]
        self._memo[n.key] = out
        return out

    def _follow(self, cur: N, frag: str, refn: N, ref: str) -> N:
        """Walks the pointer frag from cur. A step into an object that is itself a $ref goes on
        in the referenced object (`#/channels/c/messages/m` where channel c is a $ref)."""
        if frag == "":
            return cur
        done = ""
        for raw in frag[1:].split("/"):
            seg = unescape_segment(raw)
            if cur.is_ref and seg not in cur.v:
                cur = self.deref(cur)
            if isinstance(cur.v, dict) and seg in cur.v:
                cur = N(cur.doc, join_pointer(cur.ptr, seg), cur.v[seg])
            elif isinstance(cur.v, list) and seg.isdigit() and int(seg) < len(cur.v) and \
                    (seg == "0" or not seg.startswith("0")):
                cur = N(cur.doc, join_pointer(cur.ptr, seg), cur.v[int(seg)])
            else:
                raise refn.err(f"unknown $ref '{ref}'", self._suggest(cur.doc, cur.ptr + frag[len(done):],
                                                                     cur.ptr, cur.v))
            done += "/" + raw
        return cur

    def _suggest(self, doc: Doc, frag: str, failed_at: str, container: Any) -> str:
        missing = unescape_segment(frag[len(failed_at) + 1 :].split("/")[0])
        where = failed_at or "the document root"
        if isinstance(container, dict):
            close = difflib.get_close_matches(missing, list(container.keys()), n=3, cutoff=0.6)
            if close:
                return f"no '{missing}' in {where} of {doc.display}; did you mean " + \
                    " or ".join(f"'{c}'" for c in close) + "?"
            keys = list(container.keys())
            listing = ", ".join(keys[:8]) + (", ..." if len(keys) > 8 else "")
            return f"no '{missing}' in {where} of {doc.display} (it has: {listing or 'nothing'})"
        return f"{where} of {doc.display} is not an object, so it has no '{missing}'"

    def deref(self, n: N) -> N:
        """Follows $ref chains to a value that is not a reference (cycles are errors)."""
        seen: List[N] = []
        cur = n
        while cur.is_ref:
            if cur in seen:
                loop = frozenset(x.key for x in seen[seen.index(cur):])
                if loop in self._loops:
                    raise Reported()  # this loop is reported already (reached from elsewhere)
                self._loops.add(loop)
                chain = " -> ".join(f"{x.doc.display}#{x.ptr}" for x in seen + [cur])
                raise cur.err("circular $ref chain: " + chain, "a reference must end at a real value")
            seen.append(cur)
            cur = self.target(cur)
        return cur

    def check_all(self, diag: Diagnostics) -> None:
        """Resolves every $ref reachable from the main document once; records each failure."""
        pending: List[N] = [self.root()]
        walked: Set[Tuple[str, str]] = set()
        dct = self.main.root.get("defaultContentType") if isinstance(self.main.root, dict) else None
        default_ct = dct if isinstance(dct, str) else "application/json"
        while pending:
            top = pending.pop(0)
            if top.key in walked:
                continue
            walked.add(top.key)
            for n in _refs_under(top, default_ct):
                try:
                    t = self.deref(n)
                except SpecError as e:
                    diag.error(e)
                    continue
                except Reported:
                    continue
                if t.doc is not self.main and t.key not in walked:
                    pending.append(t)


def _refs_under(top: N, default_ct: str) -> Iterator[N]:
    """Every {"$ref": ...} object under top (data-valued members skipped, and the payloads of
    messages mfgen refuses: their Avro or Protobuf files are never read)."""
    stack: List[Tuple[N, bool]] = [(top, False)]
    while stack:
        n, in_props = stack.pop()
        if isinstance(n.v, dict):
            if "$ref" in n.v and not in_props:
                yield n
                continue
            kids = n.items()
            foreign_msg = not in_props and is_foreign_message(n.v, default_ct)
            foreign_schema = not in_props and foreign_schema_format(n.v) is not None
            for k, c in reversed(kids):
                if k in DATA_KEYS and not in_props:
                    continue
                if (foreign_msg and k == "payload") or (foreign_schema and k == "schema"):
                    continue
                stack.append((c, k == "properties" and not in_props))
        elif isinstance(n.v, list):
            for c in reversed(n.elems()):
                stack.append((c, False))
