"""Loading YAML/JSON documents with a source position for every node.

Scalars follow the YAML 1.2 core schema (only true/false are booleans, no timestamps, no
sexagesimal numbers), mapping keys are always strings, duplicate keys are errors. Every value gets
its JSON pointer -> (line, col) recorded so any later phase can say where a problem is.
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

import yaml

from .errors import SpecError, UsageError

MAX_NODES = 2_000_000

_INT_RE = re.compile(r"^[-+]?[0-9]+$")
_OCT_RE = re.compile(r"^0o[0-7]+$")
_HEX_RE = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT_RE = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INF_RE = re.compile(r"^[-+]?\.(inf|Inf|INF)$")
_NAN_RE = re.compile(r"^\.(nan|NaN|NAN)$")
_PLAIN = "tag:mfgen:plain"
_T = "tag:yaml.org,2002:"


_BaseLoader = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader  # libyaml when available


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Marks plain (unquoted, untagged) scalars so the core schema is applied by us."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:  # type: ignore[override]
        if kind is yaml.ScalarNode and implicit[0]:
            return _PLAIN
        return super().resolve(kind, value, implicit)


def escape_segment(seg: str) -> str:
    return seg.replace("~", "~0").replace("/", "~1")


def unescape_segment(seg: str) -> str:
    return seg.replace("~1", "/").replace("~0", "~")


def join_pointer(base: str, seg: Any) -> str:
    return f"{base}/{escape_segment(str(seg))}"


@dataclass
class Doc:
    """One loaded file."""

    path: str  # absolute, normalised: identity of the file
    display: str  # how messages name it (relative when the user gave a relative path)
    root: Any
    marks: Dict[str, Tuple[int, int]] = field(default_factory=dict)

    def mark(self, pointer: str) -> Tuple[int, int]:
        """(line, col) of the node at pointer, or of its nearest recorded ancestor."""
        p = pointer
        while True:
            if p in self.marks:
                return self.marks[p]
            if not p:
                return (1, 1)
            p = p[: p.rfind("/")]

    def error(self, pointer: str, message: str, hint: str = "") -> SpecError:
        line, col = self.mark(pointer)
        return SpecError(message, self.display, line, col, pointer, hint)


class _Builder:
    def __init__(self, display: str) -> None:
        self.display = display
        self.marks: Dict[str, Tuple[int, int]] = {}
        self.count = 0
        self.active: Set[int] = set()
        self.done: Dict[int, Any] = {}

    def err(self, node: yaml.Node, msg: str, ptr: str, hint: str = "") -> SpecError:
        m = node.start_mark
        return SpecError(msg, self.display, m.line + 1, m.column + 1, ptr,
                         hint or "mfgen reads plain YAML 1.2 / JSON data (strings, numbers, booleans, null, lists, mappings)")

    def build(self, node: yaml.Node, ptr: str) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.err(node, f"document too large (more than {MAX_NODES} nodes)", ptr)
        self.marks.setdefault(ptr, (node.start_mark.line + 1, node.start_mark.column + 1))
        nid = id(node)
        if nid in self.done:  # an alias: share the value already built
            return self.done[nid]
        if nid in self.active:
            raise self.err(node, "recursive YAML alias", ptr)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, ptr)
        self.active.add(nid)
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag != _T + "seq":
                    raise self.err(node, f"unsupported YAML tag {node.tag}", ptr)
                out_l: List[Any] = []
                for i, item in enumerate(node.value):
                    out_l.append(self.build(item, join_pointer(ptr, i)))
                value: Any = out_l
            elif isinstance(node, yaml.MappingNode):
                if node.tag != _T + "map":
                    raise self.err(node, f"unsupported YAML tag {node.tag}", ptr)
                out_d: Dict[str, Any] = {}
                for knode, vnode in node.value:
                    if not isinstance(knode, yaml.ScalarNode):
                        raise self.err(knode, "mapping keys must be plain strings", ptr)
                    if knode.tag == _T + "merge" or (knode.value == "<<" and knode.style is None):
                        raise self.err(knode, "YAML merge keys (<<) are not supported", ptr,
                                       "write the members out, or use $ref")
                    key = knode.value
                    kptr = join_pointer(ptr, key)
                    if key in out_d:
                        raise self.err(knode, f"duplicate key '{key}'", kptr,
                                       "a mapping may name each key once")
                    out_d[key] = self.build(vnode, kptr)
                value = out_d
            else:  # pragma: no cover - yaml only produces the three node kinds
                raise self.err(node, "unsupported YAML node", ptr)
        finally:
            self.active.discard(nid)
        self.done[nid] = value
        return value

    def scalar(self, node: yaml.ScalarNode, ptr: str) -> Any:
        v: str = node.value
        tag = node.tag
        if tag == _PLAIN:
            if v in ("", "~", "null", "Null", "NULL"):
                return None
            if v in ("true", "True", "TRUE"):
                return True
            if v in ("false", "False", "FALSE"):
                return False
            if _INT_RE.match(v):
                return int(v)
            if _OCT_RE.match(v):
                return int(v[2:], 8)
            if _HEX_RE.match(v):
                return int(v[2:], 16)
            if _FLOAT_RE.match(v):
                return float(v)
            if _INF_RE.match(v):
                return -math.inf if v.startswith("-") else math.inf
            if _NAN_RE.match(v):
                return math.nan
            return v
        if tag == _T + "str":
            return v
        if tag == _T + "null":
            return None
        if tag == _T + "bool":
            if v.lower() in ("true", "false"):
                return v.lower() == "true"
        if tag == _T + "int":
            try:
                return int(v, 0)
            except ValueError:
                pass
        if tag == _T + "float":
            try:
                return float(v)
            except ValueError:
                pass
        raise self.err(node, f"unsupported YAML tag {tag} for value '{v}'", ptr)


def _strict_json(text: str, display: str) -> Any:
    """The value of strict JSON text (a key twice is refused); SpecError at the syntax error."""
    try:
        return json.loads(text, object_pairs_hook=_no_dup_pairs)
    except json.JSONDecodeError as e:
        raise SpecError(f"JSON syntax error: {e.msg}", display, e.lineno, e.colno, None,
                        "a .json spec must be strict JSON (no comments, no trailing commas)")
    except SpecError as e:
        e.file, e.line, e.col = display, 1, 1
        raise


def _no_dup_pairs(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise SpecError(f"duplicate key '{k}'", "", 0, 0, None, "a mapping may name each key once")
        out[k] = v
    return out


def parse_text(text: str, display: str, is_json: bool = False) -> Doc:
    """Parses YAML (or JSON) text into a Doc; raises SpecError with the syntax error's mark.

    A .json file must be strict JSON (checked with the json module first); its positions come
    from the YAML composer, which reads JSON too.
    """
    json_root = _strict_json(text, display) if is_json else None
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        if is_json:  # JSON that PyYAML rejects (tabs...): values without positions (line 1 col 1)
            return Doc(path="", display=display, root=json_root, marks={})
        m = e.problem_mark or e.context_mark
        problem = e.problem or "syntax error"
        ctx = f" ({e.context})" if e.context else ""
        line, col = (m.line + 1, m.column + 1) if m else (0, 0)
        raise SpecError(f"YAML syntax error: {problem}{ctx}", display, line, col, None,
                        "check indentation, quoting and ':' / '-' placement around this line")
    except yaml.YAMLError as e:
        raise SpecError(f"YAML error: {e}", display, 0, 0, None, "check the YAML syntax")
    if node is None:
        return Doc(path="", display=display, root=None, marks={"": (1, 1)})
    b = _Builder(display)
    root = b.build(node, "")
    return Doc(path="", display=display, root=root, marks=b.marks)


class DocStore:
    """Loads each file once, by absolute path."""

    def __init__(self) -> None:
        self.docs: Dict[str, Doc] = {}

    def load_main(self, path: str) -> Doc:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise UsageError(f"cannot read {path}: {e.strerror}")
        return self._parse(data, os.path.abspath(path), path)

    def load_ref(self, abs_path: str, display: str, err_at: SpecError) -> Doc:
        """Loads a referenced file; err_at is raised (with detail) when it cannot be read."""
        key = os.path.normpath(abs_path)
        if key in self.docs:
            return self.docs[key]
        try:
            with open(key, "rb") as f:
                data = f.read()
        except OSError as e:
            err_at.message += f": cannot read {display} ({e.strerror})"
            raise err_at
        return self._parse(data, key, display)

    def _parse(self, data: bytes, abs_path: str, display: str) -> Doc:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SpecError(f"not valid UTF-8 (byte offset {e.start})", display, 0, 0, None,
                            "save the file as UTF-8")
        if text.startswith("\ufeff"):
            text = text[1:]
        doc = parse_text(text, display, is_json=abs_path.endswith(".json"))
        doc.path = os.path.normpath(abs_path)
        self.docs[doc.path] = doc
        return doc


def walk(value: Any, ptr: str = "") -> Iterator[Tuple[str, Any]]:
    """Every (pointer, value) pair under value, depth first, in document order."""
    yield ptr, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, join_pointer(ptr, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, join_pointer(ptr, i))


def get_pointer(root: Any, pointer: str) -> Tuple[bool, Any, Optional[str]]:
    """Follows an RFC 6901 pointer. Returns (found, value, the pointer prefix that failed)."""
    if pointer == "":
        return True, root, None
    if not pointer.startswith("/"):
        return False, None, ""
    cur = root
    done = ""
    for raw in pointer[1:].split("/"):
        seg = unescape_segment(raw)
        if isinstance(cur, dict) and seg in cur:
            cur = cur[seg]
        elif isinstance(cur, list) and seg.isdigit() and int(seg) < len(cur) and (seg == "0" or not seg.startswith("0")):
            cur = cur[int(seg)]
        else:
            return False, cur, done
        done += "/" + raw
    return True, cur, None
