"""`mfgen docs`: the Message Flow document, its diagrams, the contract snapshot and changelog.

One run: normalise the contract; compare it with the snapshot in OUTDIR (when there is one);
on a difference, put a dated changelog entry first in CHANGELOG.json (the entries accumulate
there) and replace the snapshot; render message-flow.md and the diagrams from the model with
the templates in templates/docs/. Everything is returned as file contents; the caller writes
only what changed (or, with --check, writes nothing and reports).
"""
from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from . import diagrams, normalise
from .diff import BOTH, NEITHER, Change, diff, fold_for_changelog
from .docs_view import EXTERNAL_CONSUMERS, EXTERNAL_PRODUCERS, FlowView, build_view
from .errors import UsageError
from .pipeline import Model
from .render import GENERATED, template_env

DOCUMENT = "message-flow.md"
SNAPSHOT = "contract.snapshot.json"
CHANGELOG = "CHANGELOG.json"
STALE_SVG = "(would be drawn again)"  # --check: a diagram whose source changed

# Changes whose text says everything without naming their subject again.
_STANDALONE = ("service.", "channel.added", "channel.removed", "message.added", "message.removed",
               "message.renamed", "operation.added", "operation.removed")


@dataclass
class DocsOutput:
    files: Dict[str, str]
    entry: Optional[Dict[str, Any]]  # the changelog entry this run adds, if any
    changes: List[Change] = field(default_factory=list)  # the full diff behind it
    had_snapshot: bool = True


# ---------------------------------------------------------------------------------------------
# dates


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


# ---------------------------------------------------------------------------------------------
# snapshot and changelog files


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


def read_snapshot(path: str) -> Optional[Dict[str, Any]]:
    data = read_json(path, "contract snapshot")
    if data is None:
        return None
    c = data.get("contract") if isinstance(data, dict) else None
    if not is_contract(c):
        raise UsageError(f"{path} is not an mfgen contract snapshot (no 'contract' with 'mflowContract'); "
                         "restore it from version control")
    return c


def is_contract(c: Any) -> bool:
    return isinstance(c, dict) and c.get("mflowContract") == normalise.FORMAT_VERSION and \
        all(isinstance(c.get(k), dict) for k in ("services", "channels", "operations", "messages"))


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


# ---------------------------------------------------------------------------------------------
# diagrams


@dataclass
class Node:
    id: str
    label: str
    kind: str  # service | channel | external


@dataclass
class Edge:
    src: str
    dst: str
    label: str
    tooltip: str = ""
    reply: bool = False


def _svc(s: str) -> str:
    return "service:" + s


def _party_nodes(ids: List[str], titles: Dict[str, str], ext_id: str, ext_label: str) -> List[Node]:
    if not ids:
        return [Node(ext_id, ext_label, "external")]
    return [Node(_svc(s), titles.get(s, s), "service") for s in ids]


def context_graph(view: FlowView) -> Tuple[List[Node], List[Edge]]:
    nodes: Dict[str, Node] = {_svc(v.id): Node(_svc(v.id), v.title, "service") for v in view.services}
    agg: Dict[Tuple[str, str, str], List[str]] = {}
    for c in view.channels:
        srcs = _party_nodes(c.senders, view.titles, "external:producers", EXTERNAL_PRODUCERS)
        dsts = _party_nodes(c.receivers, view.titles, "external:consumers", EXTERNAL_CONSUMERS)
        for n in srcs + dsts:
            nodes.setdefault(n.id, n)
        for s in srcs:
            for d in dsts:
                agg.setdefault((s.id, d.id, "Req" if c.reply else "Pub"), []).append(c.address)
    edges = [Edge(s, d, k, ", ".join(sorted(a))) for (s, d, k), a in sorted(agg.items())]
    return _sorted_nodes(nodes), edges


def service_graph(view: FlowView, svc: Any) -> Tuple[List[Node], List[Edge]]:
    nodes: Dict[str, Node] = {_svc(svc.id): Node(_svc(svc.id), svc.title, "service")}
    edges: List[Edge] = []
    for c, kind in svc.receives:
        nodes.setdefault("channel:" + c.key, Node("channel:" + c.key, c.address, "channel"))
        edges.append(Edge("channel:" + c.key, _svc(svc.id), kind, c.address))
    for c, kind in svc.sends:
        nodes.setdefault("channel:" + c.key, Node("channel:" + c.key, c.address, "channel"))
        edges.append(Edge(_svc(svc.id), "channel:" + c.key, kind, c.address))
    return _sorted_nodes(nodes), edges


def channel_graph(view: FlowView, c: Any) -> Tuple[List[Node], List[Edge]]:
    srcs = _party_nodes(c.senders, view.titles, "external:producers", EXTERNAL_PRODUCERS)
    dsts = _party_nodes(c.receivers, view.titles, "external:consumers", EXTERNAL_CONSUMERS)
    ch = Node("channel:" + c.key, c.address, "channel")
    nodes = {n.id: n for n in srcs + dsts + [ch]}
    edges = [Edge(s.id, ch.id, "Req" if c.reply else "Pub", c.address) for s in srcs]
    edges += [Edge(ch.id, d.id, "Sub", c.address) for d in dsts]
    if c.reply:
        edges += [Edge(d.id, s.id, "Reply", c.address, reply=True) for d in dsts for s in srcs]
    return _sorted_nodes(nodes), edges


def _sorted_nodes(nodes: Dict[str, Node]) -> List[Node]:
    order = {"external": 0, "service": 1, "channel": 2}
    return sorted(nodes.values(), key=lambda n: (order[n.kind], n.id))


# ---------------------------------------------------------------------------------------------
# the run


@dataclass
class DocsOptions:
    outdir: str
    templates: str
    spec_name: str
    sdk_dir: Optional[str]  # the generated SDK to link to (None: names only)
    date: Optional[str]
    check: bool = False
    redraw: bool = False


def build_docs(model: Model, opts: DocsOptions) -> DocsOutput:
    sdk = model.sdk
    info = normalise.service_info(model.plan.root, list(sdk.services))
    contract = normalise.contract(sdk, info)
    old = read_snapshot(os.path.join(opts.outdir, SNAPSHOT))
    entries = read_changelog(os.path.join(opts.outdir, CHANGELOG))
    entry: Optional[Dict[str, Any]] = None
    changes: List[Change] = []
    if old is None or normalise.canonical(old) != normalise.canonical(contract):
        changes = diff(old, contract)
        shown = fold_for_changelog(changes, old, contract)
        if shown:
            entry = {"date": entry_date(opts.date), "version": sdk.version, "hash": sdk.contract_hash,
                     "changes": [change_record(c) for c in shown]}
            entries = [entry] + entries
    view = build_view(sdk, contract, {k: v["title"] for k, v in info.items()},
                      {k: v["description"] for k, v in info.items()})
    env = template_env(opts.templates)
    env.filters["dot"] = diagrams.dot_string
    header = GENERATED.format(spec=opts.spec_name)
    sdk_rel = None
    if opts.sdk_dir is not None:
        sdk_rel = os.path.relpath(os.path.abspath(opts.sdk_dir), os.path.abspath(opts.outdir)).replace(os.sep, "/")
    files: Dict[str, str] = {}
    files[DOCUMENT] = env.get_template("docs/message-flow.md.j2").render(
        header=header, view=view, changelog=changelog_groups(entries), sdk=sdk, sdk_rel=sdk_rel,
        inc=f"{sdk.prefix}_sdk")
    for path, src in dot_sources(env, view, header).items():
        files[path] = draw(src, opts, path)
    files[SNAPSHOT] = normalise.pretty({"comment": header, "hash": sdk.contract_hash, "version": sdk.version,
                                        "contract": contract})
    files[CHANGELOG] = normalise.pretty({"comment": header + " Newest entry first.", "entries": entries})
    return DocsOutput(files, entry, changes, old is not None)


def dot_sources(env: Any, view: FlowView, header: str) -> Dict[str, str]:
    out: Dict[str, str] = {}
    tpl = env.get_template("docs/diagram.dot.j2")
    nodes, edges = context_graph(view)
    out["diagrams/context.svg"] = tpl.render(header=header, name="context", title="Context", nodes=nodes,
                                             edges=edges)
    for s in view.services:
        nodes, edges = service_graph(view, s)
        out[s.diagram] = tpl.render(header=header, name="service " + s.id, title=s.title, nodes=nodes, edges=edges)
    for c in view.channels:
        nodes, edges = channel_graph(view, c)
        out[c.diagram] = tpl.render(header=header, name="channel " + c.address, title=c.address, nodes=nodes,
                                    edges=edges)
    return out


def draw(source: str, opts: DocsOptions, rel: str) -> str:
    existing = None
    if not opts.redraw:
        try:
            with open(os.path.join(opts.outdir, rel), "rb") as f:
                existing = f.read()
        except OSError:
            existing = None
    kept = diagrams.cached(source, existing)
    if kept is not None:
        return kept
    if opts.check:
        return STALE_SVG
    return diagrams.render(source, opts.spec_name)
