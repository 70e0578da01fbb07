"""`mfgen diff OLD NEW [--check-compat] [--format text|json]`: what changed, and whom it breaks.

OLD and NEW are AsyncAPI documents (their $refs resolved, across files) or contract snapshots
written by `mfgen docs` (contract.snapshot.json). Exit status: 0 compared (with --check-compat:
nothing breaks, or --allow-major-bump and info.version's major number went up), 1 with
--check-compat: a change breaks senders or receivers, 2 usage error or a bad spec/snapshot.
"""
from __future__ import annotations

import argparse
import json
import sys
import traceback
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import normalise
from .cli import check_prefix, load_model, strict_parse
from .diff import BOTH, NEITHER, RECEIVERS, SENDERS, Change, count, diff, major_bumped
from .changelog import read_json
from .docs import is_contract
from .errors import UsageError

LABEL = {SENDERS: "breaks senders", RECEIVERS: "breaks receivers", BOTH: "breaks both", NEITHER: "compatible"}


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="mfgen diff",
        description="Compare two versions of a contract on the normalised model (after $ref "
                    "resolution, across files) and classify every change by whom it breaks: "
                    "senders (messages they send may now be refused), receivers (they may now "
                    "get messages they refuse), both, or neither. OLD and NEW are AsyncAPI "
                    "documents or contract snapshots (contract.snapshot.json from mfgen docs).",
        epilog="Exit status: 0 ok (with --check-compat: nothing breaks); 1 with --check-compat: a "
               "breaking change; 2 usage error or bad spec. Rules: docs/compatibility.md.")
    ap.add_argument("old", metavar="OLD", help="the previous contract")
    ap.add_argument("new", metavar="NEW", help="the new contract")
    ap.add_argument("--check-compat", action="store_true", help="exit 1 when a change breaks senders or receivers")
    ap.add_argument("--allow-major-bump", action="store_true",
                    help="with --check-compat: accept breaking changes when info.version's major number "
                         "went up (for 0.x versions: the minor number)")
    ap.add_argument("--format", choices=("text", "json"), default="text", help="report format (default: text)")
    ap.add_argument("--prefix", default="mf", help="C name prefix used while reading the specs (default: mf)")
    return strict_parse(ap, argv)


def load_contract(path: str, prefix: str) -> Optional[Tuple[Dict[str, Any], str]]:
    """(normalised contract, version) of a spec or a snapshot; None after printing the errors."""
    if path.endswith(".json"):
        data = read_json(path, "file")
        if isinstance(data, dict) and is_contract(data.get("contract")):
            c = data["contract"]
            return c, str(c.get("info", {}).get("version", data.get("version", "")))
    model = load_model(path, prefix)
    if model is None:
        return None
    info = normalise.service_info(model.plan.root, list(model.sdk.services))
    return normalise.contract(model.sdk, info), model.sdk.version


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    bad = check_prefix(args.prefix)
    if bad:
        print(f"mfgen: error: {bad}", file=sys.stderr)
        return 2
    try:
        old = load_contract(args.old, args.prefix)
        new = load_contract(args.new, args.prefix) if old is not None else None
        if old is None or new is None:
            return 2
        changes = diff(old[0], new[0])
    except UsageError as e:
        print(f"mfgen: error: {e}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        print("mfgen: internal error (please report it with the specs)", file=sys.stderr)
        return 2
    bumped = major_bumped(old[1], new[1])
    sides = {"old": side(args.old, old), "new": side(args.new, new)}
    if args.format == "json":
        print(json.dumps(json_report(sides, changes, bumped), indent=2, ensure_ascii=False, sort_keys=True))
    else:
        print(text_report(sides, changes, bumped), end="")
    breaking = [c for c in changes if c.breaking]
    if args.check_compat and breaking:
        if args.allow_major_bump and bumped:
            print(f"mfgen: {len(breaking)} breaking change(s), accepted: info.version {old[1]} -> {new[1]} "
                  "is a major bump", file=sys.stderr)
            return 0
        print(f"mfgen: {len(breaking)} breaking change(s) from {args.old} to {args.new}"
              + ("" if not args.allow_major_bump else f" without a major version bump ({old[1]} -> {new[1]})"),
              file=sys.stderr)
        return 1
    return 0


def side(path: str, loaded: Tuple[Dict[str, Any], str]) -> Dict[str, str]:
    return {"file": path, "version": loaded[1], "hash": normalise.hash_of(loaded[0])}


def json_report(sides: Dict[str, Dict[str, str]], changes: List[Change], bumped: bool) -> Dict[str, Any]:
    n = count(changes)
    return {"old": sides["old"], "new": sides["new"], "majorBump": bumped,
            "breaking": any(c.breaking for c in changes),
            "summary": {"changes": len(changes), **n}, "changes": [c.as_json() for c in changes]}


def text_report(sides: Dict[str, Dict[str, str]], changes: List[Change], bumped: bool) -> str:
    o, n = sides["old"], sides["new"]
    out = [f"mfgen diff: {o['file']} (version {o['version']}, contract {o['hash'][:12]}) -> "
           f"{n['file']} (version {n['version']}, contract {n['hash'][:12]})"]
    if not changes:
        out.append("no changes")
        return "\n".join(out) + "\n"
    groups: Dict[str, List[Change]] = {}
    for c in changes:
        groups.setdefault(c.subject, []).append(c)
    for subject, cs in groups.items():
        out.append("")
        out.append(subject)
        for c in cs:
            out.append(f"  [{LABEL[c.breaks]}] {c.text}")
            tail = f"      at {c.path}"
            if c.breaking:
                tail += "; affects " + ", ".join(c.affected)
            out.append(tail)
    k = count(changes)
    out.append("")
    out.append(f"{len(changes)} change{'s' if len(changes) != 1 else ''}: {k[SENDERS]} break senders, "
               f"{k[RECEIVERS]} break receivers, {k[BOTH]} break both, {k[NEITHER]} compatible")
    if k[SENDERS] + k[RECEIVERS] + k[BOTH]:
        out.append(f"info.version {o['version']} -> {n['version']}: "
                   + ("a major bump" if bumped else "not a major bump"))
    return "\n".join(out) + "\n"
