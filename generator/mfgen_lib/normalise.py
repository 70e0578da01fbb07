"""The normalised contract: the model as plain, sorted JSON data, with every $ref expanded.

This is what change detection compares (`mfgen diff`, the snapshot next to the Message Flow
document) and what the contract hash is computed from. It is built from the Sdk model, never
from the YAML, so two documents that mean the same contract (different $ref layout, key order,
files, YAML style) normalise to the same value.

Shape (the snapshot is this, pretty-printed with sorted keys):

    {"mflowContract": 2, "asyncapi": "3.0.0",
     "info": {"title", "version", "description"},
     "services":   {id: {"title", "description"}},
     "channels":   {key: {"address", "parameters": {name: schema + "location"?}, "messages": [keys], "title", "description"}},
     "operations": {key: {"action", "service", "channel", "messages": [keys], "reply": {"messages": [keys]}, "summary", "description"}},
     "messages":   {key: {"name", "contentType", "title", "summary", "description", "payload": schema,
                          "headers": schema?}}}

A parameter's "location" is the JSON pointer into the payload its value comes from (absent: the
sender gives it). An integer schema with an enum carries it. "headers" (the NATS headers a
message declares, an object of string members) is there only for messages that declare them. Format 1 (before these were
recorded) is still read: diff.py does not compare locations with it.

A schema is JSON Schema restricted to what the runtime enforces, with effective values:
"type", "properties" (each property's schema carries its own "nullable"/"default"/"description"),
"required" (sorted), "additionalProperties" (false for a closed object, true for an open one, a
schema for a map), "items", "enum" (spec order), "const", "format" (as written) and
"x-mflow-format" (when it overrides it), "pattern", bounds ("minimum"/"exclusiveMinimum",
"maximum"/"exclusiveMaximum" as enforced, so `format: int32` shows its range), "minLength",
"maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "oneOf" + "discriminator".
A free-form object is {"type": "object"}, any JSON value is {}.

With docs=False the free text (titles, summaries, descriptions, message names, `info`) is left
out: that is the wire contract, and `contract_hash` is the SHA-256 of its canonical JSON.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, List, Optional

from . import names
from .model import NO_VALUE, CType, Field, Sdk
from .resolve import N

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)  # snapshots this version reads (1: no locations)
EMPTY: Dict[str, Any] = {"mflowContract": FORMAT_VERSION, "asyncapi": "", "info": {"title": "", "version": ""},
                         "services": {}, "channels": {}, "operations": {}, "messages": {}}


def canonical(v: Any) -> str:
    """The one JSON text of a value: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def pretty(v: Any) -> str:
    return json.dumps(v, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def contract_hash(sdk: Sdk) -> str:
    """SHA-256 (lower-case hex) of the canonical JSON of the wire contract."""
    return hashlib.sha256(canonical(contract(sdk, {}, docs=False)).encode("utf-8")).hexdigest()


def hash_of(c: Dict[str, Any]) -> str:
    """The contract hash of an already normalised contract (with or without docs)."""
    return hashlib.sha256(canonical(strip_docs(c)).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# services: their titles and descriptions come from info.tags


def service_info(root: N, services: List[str]) -> Dict[str, Dict[str, str]]:
    """{service id: {"title", "description"}} from info.tags.

    A tag belongs to a service when its x-service names it, or (no x-service) when its name
    slugifies to the service id ("User Service" -> user-service). Without a tag the title is
    the service id and the description is empty.
    """
    out = {s: {"title": s, "description": ""} for s in services}
    tags = root.at("info").at("tags")
    for t in tags.elems():
        v = t.v if isinstance(t.v, dict) else {}
        name = v.get("name")
        if not isinstance(name, str) or not name.strip():
            continue
        sid = v.get("x-service") if isinstance(v.get("x-service"), str) else names.slug(name)
        if sid in out and out[sid]["title"] == sid:
            desc = v.get("description")
            out[sid] = {"title": name.strip(), "description": desc.strip() if isinstance(desc, str) else ""}
    return out


# ---------------------------------------------------------------------------------------------
# the contract


def contract(sdk: Sdk, services: Dict[str, Dict[str, str]], docs: bool = True) -> Dict[str, Any]:
    """The normalised contract of a model (services: service_info(), only read when docs)."""
    out: Dict[str, Any] = {"mflowContract": FORMAT_VERSION, "asyncapi": sdk.asyncapi}
    if docs:
        out["info"] = {"title": sdk.title, "version": sdk.version, "description": sdk.description}
    svc: Dict[str, Any] = {}
    for sid in sdk.services:
        svc[sid] = dict(services.get(sid, {"title": sid, "description": ""})) if docs else {}
    out["services"] = svc
    out["channels"] = {c.key: _channel(c, docs) for c in sdk.channels}
    out["operations"] = {o.key: _operation(o, docs) for o in sdk.operations}
    out["messages"] = {m.key: _message(m, docs) for m in sdk.messages}
    return out


def _doc(out: Dict[str, Any], docs: bool, **texts: str) -> None:
    if docs:
        for k, v in texts.items():
            out[k] = v or ""


def _channel(c: Any, docs: bool) -> Dict[str, Any]:
    out: Dict[str, Any] = {
        "address": c.address,
        "parameters": {p.name: _param(p, docs) for p in c.params},
        "messages": sorted(m.key for m in c.messages),
    }
    _doc(out, docs, title=c.title, description=c.description)
    return out


def _param(p: Any, docs: bool) -> Dict[str, Any]:
    s = schema(p.type, docs) if p.type is not None else {"type": "string"}
    if p.location is not None:
        s["location"] = p.location
    if docs:
        s["description"] = p.description or ""
    return s


def _operation(o: Any, docs: bool) -> Dict[str, Any]:
    out: Dict[str, Any] = {"action": o.action, "service": o.service, "channel": o.channel.key,
                           "messages": sorted(m.key for m in o.messages)}
    if o.reply:
        out["reply"] = {"messages": sorted(m.key for m in o.reply)}
    _doc(out, docs, summary=o.summary, description=o.description)
    return out


def _message(m: Any, docs: bool) -> Dict[str, Any]:
    out: Dict[str, Any] = {"contentType": m.content_type, "payload": schema(m.payload, docs)}
    if m.headers is not None:
        out["headers"] = schema(m.headers, docs)
    if docs:
        out["name"] = m.name
    _doc(out, docs, title=m.title, summary=m.summary, description=m.description)
    return out


# ---------------------------------------------------------------------------------------------
# schemas


def schema(t: CType, docs: bool, field: Optional[Field] = None) -> Dict[str, Any]:
    """A type (at a property when field is given) as a normalised schema."""
    out = _kind(t, docs)
    if t.const is not NO_VALUE:
        out["const"] = t.const
    if field is not None:
        if field.nullable:
            out["nullable"] = True
        if field.has_default:
            out["default"] = field.default
    if docs:
        desc = (field.description if field is not None else "") or t.description
        if desc:
            out["description"] = desc
    return out


def _kind(t: CType, docs: bool) -> Dict[str, Any]:
    k = t.kind
    if k == "bool":
        return {"type": "boolean"}
    if k in ("int", "num"):
        return _numeric(t)
    if k == "str":
        return _string(t)
    if k == "enum":
        return {"type": "string", "enum": list(t.enum_values)}
    if k == "obj":
        return {"type": "object", "additionalProperties": not t.closed,
                "properties": {f.json_name: schema(f.type, docs, f) for f in t.fields},
                "required": sorted(f.json_name for f in t.fields if f.required)}
    if k == "arr":
        assert t.item is not None
        out = {"type": "array", "items": schema(t.item, docs)}
        _counts(out, t, "Items")
        return out
    if k == "map":
        assert t.item is not None
        out = {"type": "object", "additionalProperties": schema(t.item, docs)}
        _counts(out, t, "Properties")
        return out
    if k == "raw":
        return {"type": "object"} if t.raw_object else {}
    if k == "union":
        out = {"oneOf": [schema(b.type, docs) for b in t.branches]}
        if t.discriminator is not None:
            out["discriminator"] = t.discriminator
        return out
    raise AssertionError(f"unknown kind {k}")


def _numeric(t: CType) -> Dict[str, Any]:
    out: Dict[str, Any] = {"type": "integer" if t.kind == "int" else "number"}
    lo, hi = (t.imin, t.imax) if t.kind == "int" else (t.nmin, t.nmax)
    if lo is not None:
        out["exclusiveMinimum" if t.excl_min else "minimum"] = lo
    if hi is not None:
        out["exclusiveMaximum" if t.excl_max else "maximum"] = hi
    if t.spec_format:
        out["format"] = t.spec_format
    if t.int_values:
        out["enum"] = list(t.int_values)
    return out


def _string(t: CType) -> Dict[str, Any]:
    out: Dict[str, Any] = {"type": "string"}
    if t.spec_format:
        out["format"] = t.spec_format
        if t.fmt_name and t.fmt_name != t.spec_format:
            out["x-mflow-format"] = t.fmt_name
    elif t.fmt_name:
        out["format"] = t.fmt_name
    if t.min_len:
        out["minLength"] = t.min_len
    if t.max_len:
        out["maxLength"] = t.max_len
    if t.pattern is not None:
        out["pattern"] = t.pattern.source
    return out


def _counts(out: Dict[str, Any], t: CType, what: str) -> None:
    if t.min_items:
        out["min" + what] = t.min_items
    if t.max_items:
        out["max" + what] = t.max_items


# ---------------------------------------------------------------------------------------------
# the wire view of an already normalised contract (a snapshot read back)

_DOC_KEYS = ("title", "summary", "description", "name")


def strip_docs(c: Dict[str, Any]) -> Dict[str, Any]:
    """The docs=False form of a docs=True contract (what contract() gives with docs=False)."""
    out: Dict[str, Any] = {"mflowContract": c.get("mflowContract", FORMAT_VERSION), "asyncapi": c.get("asyncapi", "")}
    out["services"] = {k: {} for k in c.get("services", {})}
    out["channels"] = {k: _strip_channel(v) for k, v in c.get("channels", {}).items()}
    out["operations"] = {k: {x: y for x, y in v.items() if x not in _DOC_KEYS} for k, v in c.get("operations", {}).items()}
    out["messages"] = {k: _strip_message(v) for k, v in c.get("messages", {}).items()}
    return out


def _strip_message(m: Dict[str, Any]) -> Dict[str, Any]:
    out = {"contentType": m.get("contentType"), "payload": strip_schema(m.get("payload", {}))}
    if "headers" in m:
        out["headers"] = strip_schema(m["headers"])
    return out


def _strip_channel(ch: Dict[str, Any]) -> Dict[str, Any]:
    out = {k: v for k, v in ch.items() if k not in _DOC_KEYS}
    out["parameters"] = {k: strip_schema(v) for k, v in ch.get("parameters", {}).items()}
    return out


def strip_schema(s: Any) -> Any:
    if not isinstance(s, dict):
        return s
    out: Dict[str, Any] = {}
    for k, v in s.items():
        if k == "description":
            continue
        if k == "properties" and isinstance(v, dict):
            out[k] = {p: strip_schema(x) for p, x in v.items()}
        elif k in ("items", "additionalProperties") and isinstance(v, dict):
            out[k] = strip_schema(v)
        elif k == "oneOf" and isinstance(v, list):
            out[k] = [strip_schema(x) for x in v]
        else:
            out[k] = v
    return out
