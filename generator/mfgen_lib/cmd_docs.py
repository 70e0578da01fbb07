"""`mfgen docs SPEC -o DIR [--check]`: the Message Flow document with diagrams and changelog.

Exit status: 0 done (or --check: DIR is current), 1 bad spec (nothing written) or --check found
differences (a changed contract included), 2 usage or I/O error (bad option, unreadable
spec, a corrupt snapshot or changelog, Graphviz `dot` missing or failing).
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import sys
import time
import traceback
from typing import Iterator, List, Optional, Sequence

from .cli import DEFAULT_TEMPLATES, MANIFEST, check_prefix, current, load_model, plan_writes, remove_stale, strict_parse, write_atomic
from .changelog import change_line, entry_date
from .docs import CHANGELOG, DOCUMENT, SNAPSHOT, DocsOptions, DocsOutput, build_docs
from .errors import UsageError


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="mfgen docs",
        description=f"Render the Message Flow document of an AsyncAPI 3 contract into DIR: {DOCUMENT} "
                    f"(context, services, channels with JSON skeletons and field tables, changelog), "
                    f"diagrams/*.svg (Graphviz dot), {SNAPSHOT} (the normalised contract) and {CHANGELOG}. "
                    "When the contract differs from the snapshot in DIR, a dated changelog entry is "
                    "added (and printed) and the snapshot replaced.",
        epilog="Exit status: 0 ok; 1 bad spec (nothing written) or, with --check, DIR differs; 2 usage "
               "or I/O error (also: Graphviz dot missing). Dates: --date, else SOURCE_DATE_EPOCH, else "
               "today (UTC). See docs/generator.md.")
    ap.add_argument("spec", metavar="SPEC", help="the AsyncAPI 3.x document (YAML or JSON)")
    ap.add_argument("-o", "--output", metavar="DIR", required=True, help="output directory, e.g. docs/flow")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 and list what differs if DIR is not up to date "
                         "(including a contract that changed since the snapshot)")
    ap.add_argument("--date", metavar="YYYY-MM-DD", help="date of a new changelog entry (default: "
                    "SOURCE_DATE_EPOCH, else today in UTC)")
    links = ap.add_mutually_exclusive_group()
    links.add_argument("--sdk", metavar="SDKDIR", help="the generated SDK the document links to (default: "
                       "'generated' next to SPEC when it holds mfgen output)")
    links.add_argument("--no-sdk-links", action="store_true", help="name the C types and functions without links")
    ap.add_argument("--prefix", default="mf", help="C name prefix of the SDK (default: mf)")
    ap.add_argument("--templates", metavar="DIR", default=None,
                    help="template directory (default: the templates/ next to generator/)")
    ap.add_argument("--redraw", action="store_true",
                    help="run dot for every diagram even when its source is unchanged")
    ap.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    return strict_parse(ap, argv)


def default_sdk(spec: str) -> Optional[str]:
    d = os.path.join(os.path.dirname(os.path.abspath(spec)), "generated")
    return d if os.path.isfile(os.path.join(d, MANIFEST)) else None


def main(argv: Sequence[str]) -> int:
    t0 = time.monotonic()
    args = parse_args(argv)
    bad = check_prefix(args.prefix)
    if bad:
        print(f"mfgen: error: {bad}", file=sys.stderr)
        return 2
    templates = args.templates or DEFAULT_TEMPLATES
    if not os.path.isdir(os.path.join(templates, "docs")):
        print(f"mfgen: error: template directory {os.path.join(templates, 'docs')} not found", file=sys.stderr)
        return 2
    if args.date is not None:
        try:
            entry_date(args.date)
        except UsageError as e:
            print(f"mfgen: error: {e}", file=sys.stderr)
            return 2
    sdk_dir = None if args.no_sdk_links else (args.sdk or default_sdk(args.spec))
    opts = DocsOptions(outdir=args.output, templates=templates, spec_name=os.path.basename(args.spec),
                       sdk_dir=sdk_dir, date=args.date, check=args.check, redraw=args.redraw)
    try:
        model = load_model(args.spec, args.prefix)
        if model is None:
            print("mfgen: nothing written", file=sys.stderr)
            return 1
        with locked(args.output, args.check):
            out = build_docs(model, opts)
            writes, stale, wanted = plan_writes(args.output, out.files, opts.spec_name)
            if args.check:
                return report_check(args, writes, stale, wanted, out)
            for p in writes:
                write_atomic(os.path.join(args.output, p), wanted[p])
            remove_stale(args.output, stale)
    except UsageError as e:
        print(f"mfgen: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"mfgen: error: cannot write into {args.output}: {e}", file=sys.stderr)
        return 2
    except Exception:  # a bug in mfgen or a template: say so, never write half a document
        traceback.print_exc()
        print("mfgen: internal error (please report it with the spec)", file=sys.stderr)
        return 2
    if out.entry is not None:
        print_entry(out.entry)
    if not args.quiet:
        print(f"mfgen: {args.spec} -> {args.output}: {len(writes)} written, {len(wanted) - len(writes)} "
              f"unchanged, {len(stale)} removed ({time.monotonic() - t0:.2f}s)")
    return 0


@contextlib.contextmanager
def locked(outdir: str, check: bool) -> Iterator[None]:
    """Serialises runs on one DIR (two builds at once must not both add the changelog entry):
    an exclusive flock on the directory itself, held from reading the snapshot to the last write."""
    if check:
        yield
        return
    os.makedirs(outdir, exist_ok=True)
    fd = os.open(outdir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def report_check(args: argparse.Namespace, writes: List[str], stale: List[str], wanted: dict, out: DocsOutput) -> int:
    outdir = args.output
    if not writes and not stale:
        if not args.quiet:
            print(f"mfgen: {outdir} is up to date ({len(wanted)} files)")
        return 0
    for p in writes:
        print(f"mfgen: {'differs' if current(outdir, p) is not None else 'missing'}: {os.path.join(outdir, p)}")
    for p in stale:
        print(f"mfgen: stale: {os.path.join(outdir, p)}")
    snap = os.path.join(outdir, SNAPSHOT)
    if out.entry is not None and not out.had_snapshot:
        print(f"mfgen: there is no {snap} yet: the first changelog entry is due", file=sys.stderr)
    elif out.entry is not None:
        print(f"mfgen: the contract in {args.spec} differs from {snap} ({len(out.entry['changes'])} change(s)): "
              "a changelog entry is due", file=sys.stderr)
    print(f"mfgen: {outdir} is not up to date with {args.spec}: run generator/mfgen docs {args.spec} -o {outdir}",
          file=sys.stderr)
    return 1


def print_entry(entry: dict) -> None:
    print(f"mfgen: the contract changed; changelog entry {entry['date']} (version {entry['version']}):")
    for r in entry["changes"]:
        print("  " + change_line(r))
