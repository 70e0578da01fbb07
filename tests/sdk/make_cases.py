#!/usr/bin/env python3
"""Derives the SDK conformance cases from asyncapi.yaml, independently of the generator.

For every message it takes the `full` example and, walking the schema alongside it, breaks
every constraint once: each required member removed, each value given a wrong JSON type or
null, each enum, format, pattern, bound and item count violated. Each case records the
document, the status the decoder must return and the JSON pointer it must name. The cmocka
test tests/sdk/test_sdk_cases.c replays them through the generated SDK.

This reads the YAML itself (with its own small $ref resolver) on purpose: a bug in the
generator's model cannot hide by being repeated here.

Usage: make_cases.py SPEC OUT.json       (the build runs it when the spec changes, writing
                                          OUT only when it differs; sdk.cases_current checks it)
"""
from __future__ import annotations

import copy
import json
import sys
from typing import Any, Dict, Iterator, List, Tuple

import yaml

Case = Dict[str, Any]

BAD_FORMAT = {
    "uuid": "3f0c9a52-7d1e-4b8a-9c61-2e5f4a7b8d9",      # one digit short
    "date-time": "2026-02-30T10:00:00Z",                # no such day
    "date": "2025-02-29",                               # not a leap year
    "time": "25:00:00Z",                                # no such hour
    "time-hm": "24:00",
    "email": "someone.example.com",                     # no @
}


def pointer(path: List[str]) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


class Spec:
    def __init__(self, doc: Dict[str, Any]) -> None:
        self.doc = doc

    def deref(self, s: Dict[str, Any]) -> Dict[str, Any]:
        while isinstance(s, dict) and "$ref" in s:
            node: Any = self.doc
            for part in s["$ref"].lstrip("#/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            s = node
        return s


def wrong_type(schema: Dict[str, Any]) -> Any:
    t = schema.get("type")
    if t in ("string",):
        return 12345
    if t in ("integer", "number"):
        return "12"
    if t == "boolean":
        return "true"
    if t == "array":
        return {"not": "an array"}
    return ["not", "an object"]


def set_at(doc: Any, path: List[str], value: Any) -> Any:
    out = copy.deepcopy(doc)
    node = out
    for p in path[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    last = path[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


def delete_at(doc: Any, path: List[str]) -> Any:
    out = copy.deepcopy(doc)
    node = out
    for p in path[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    del node[path[-1]]
    return out


def violations(spec: Spec, schema: Dict[str, Any], value: Any, path: List[str],
               doc: Any) -> Iterator[Tuple[str, Any, str, List[str]]]:
    """(what, document, expected status, pointer path) for every constraint at this node."""
    s = spec.deref(schema)
    t = s.get("type")
    if path:  # the root's type is covered by the whole-document cases
        yield ("wrong type", set_at(doc, path, wrong_type(s)), "MF_ERR_TYPE", path)
        yield ("null", set_at(doc, path, None), "MF_ERR_TYPE", path)
    if t == "object":
        props = s.get("properties", {})
        for req in s.get("required", []):
            if req in value:
                yield (f"missing {req}", delete_at(doc, path + [req]),
                       "MF_ERR_REQUIRED", path + [req])
        for name in sorted(props):
            if name in value:
                yield from violations(spec, props[name], value[name], path + [name], doc)
        extra = s.get("additionalProperties")
        if isinstance(extra, dict) and value:
            key = sorted(value)[0]
            yield from violations(spec, extra, value[key], path + [key], doc)
    elif t == "array":
        items = s.get("items", {})
        if "minItems" in s and s["minItems"] > 0:
            yield ("too few items", set_at(doc, path, value[: s["minItems"] - 1]), "MF_ERR_LENGTH", path)
        if "maxItems" in s:
            more = (value * (s["maxItems"] + 1))[: s["maxItems"] + 1]
            yield ("too many items", set_at(doc, path, more), "MF_ERR_LENGTH", path)
        if value:
            yield from violations(spec, items, value[0], path + ["0"], doc)
    elif t == "string":
        if "enum" in s:
            yield ("not in enum", set_at(doc, path, "no_such_value"), "MF_ERR_ENUM", path)
        fmt = s.get("x-mflow-format") or s.get("format")
        if fmt in BAD_FORMAT:
            yield (f"bad {fmt}", set_at(doc, path, BAD_FORMAT[fmt]), "MF_ERR_FORMAT", path)
        if "pattern" in s:
            yield ("pattern", set_at(doc, path, "x y"), "MF_ERR_PATTERN", path)
    elif t in ("integer", "number"):
        if "minimum" in s:
            yield ("below minimum", set_at(doc, path, s["minimum"] - 1), "MF_ERR_RANGE", path)
        if "maximum" in s:
            yield ("above maximum", set_at(doc, path, s["maximum"] + 1), "MF_ERR_RANGE", path)
        if t == "integer":
            yield ("not integral", set_at(doc, path, 1.5), "MF_ERR_RANGE", path)
            yield ("beyond 2^53", set_at(doc, path, 2 ** 60), "MF_ERR_RANGE", path)


def cases_for(spec: Spec, key: str, message: Dict[str, Any]) -> List[Case]:
    full = next(e["payload"] for e in message["examples"] if e.get("name") == "full")
    schema = message["payload"]
    out: List[Case] = []
    seen = set()
    for what, doc, code, path in violations(spec, schema, full, [], full):
        ptr = pointer(path)
        ident = (what, ptr)
        if ident in seen:
            continue
        seen.add(ident)
        out.append({"message": key, "what": f"{ptr or '(document)'}: {what}",
                    "json": json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
                    "code": code, "pointer": ptr})
    compact = json.dumps(full, ensure_ascii=False, separators=(",", ":"))
    for what, text, code in (
            ("not an object", "[]", "MF_ERR_TYPE"),
            ("null document", "null", "MF_ERR_TYPE"),
            ("empty input", "", "MF_ERR_SYNTAX"),
            ("truncated", compact[: len(compact) // 2], "MF_ERR_SYNTAX"),
            ("trailing garbage", compact + " x", "MF_ERR_SYNTAX"),
            ("two documents", compact + compact, "MF_ERR_SYNTAX"),
    ):
        out.append({"message": key, "what": f"(document): {what}", "json": text, "code": code, "pointer": ""})
    return out


def main(argv: List[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    spec = Spec(doc)
    cases: List[Case] = []
    for key in sorted(doc["components"]["messages"]):
        cases.extend(cases_for(spec, key, spec.deref(doc["components"]["messages"][key])))
    text = json.dumps({"generated_by": "tests/sdk/make_cases.py", "cases": cases},
                      ensure_ascii=False, indent=1) + "\n"
    try:
        with open(argv[2], encoding="utf-8") as f:
            same = f.read() == text
    except FileNotFoundError:
        same = False
    if not same:  # an unchanged file keeps its time stamp (the build runs this on every spec change)
        with open(argv[2], "w", encoding="utf-8") as f:
            f.write(text)
    print(f"{len(cases)} cases for {len(doc['components']['messages'])} messages -> {argv[2]}"
          f"{' (unchanged)' if same else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
