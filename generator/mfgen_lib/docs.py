"""`mfgen docs`: the Message Flow document, its diagrams, the contract snapshot and changelog.

One run: normalise the contract; compare it with the snapshot in OUTDIR (when there is one);
on a difference, put a dated changelog entry first in CHANGELOG.json (the entries accumulate
there) and replace the snapshot; render message-flow.md and the diagrams from the model with
the templates in templates/docs/. Everything is returned as file contents; the caller writes
only what changed (or, with --check, writes nothing and reports).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import diagrams, normalise
from .changelog import change_record, changelog_groups, entry_date, fold_for_changelog, read_changelog, read_json
from .diff import Change, diff
from .docs_view import FlowView, build_view
from .errors import UsageError
from .pipeline import Model
from .render import GENERATED, template_env

DOCUMENT = "message-flow.md"
SNAPSHOT = "contract.snapshot.json"
CHANGELOG = "CHANGELOG.json"
STALE_SVG = "(would be drawn again)"  # --check: a diagram whose source changed


@dataclass
class DocsOutput:
    files: Dict[str, str]
    entry: Optional[Dict[str, Any]]  # the changelog entry this run adds, if any
    changes: List[Change] = field(default_factory=list)  # the full diff behind it
    had_snapshot: bool = True


# ---------------------------------------------------------------------------------------------
# snapshot and changelog files


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
    return isinstance(c, dict) and c.get("mflowContract") in normalise.READABLE_VERSIONS and \
        all(isinstance(c.get(k), dict) for k in ("services", "channels", "operations", "messages"))


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
    nodes, edges = diagrams.context_graph(view)
    out["diagrams/context.svg"] = tpl.render(header=header, name="context", title="Context", nodes=nodes,
                                             edges=edges)
    for s in view.services:
        nodes, edges = diagrams.service_graph(view, s)
        out[s.diagram] = tpl.render(header=header, name="service " + s.id, title=s.title, nodes=nodes, edges=edges)
    for c in view.channels:
        nodes, edges = diagrams.channel_graph(view, c)
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
