"""Command line: mfgen [generate] SPEC -o OUTDIR | mfgen docs SPEC -o DIR | mfgen diff OLD NEW.

`generate` (also the bare form `mfgen SPEC -o OUTDIR`): the C SDK. Exit status: 0 done (or
--check found no difference), 1 bad spec (nothing written) or --check found differences, 2 usage
or I/O error. `docs` and `diff` are in cmd_docs.py and cmd_diff.py.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
import traceback
from typing import Dict, List, Optional, Sequence, Tuple

from . import names
from .errors import Diagnostics, UsageError
from .pipeline import build_model
from .render import GENERATED, render_all
from .spec_check import SERVICE_RE

MANIFEST = ".mfgen-manifest"
DEFAULT_TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                 "templates")


SUBCOMMANDS = ("generate", "docs", "diff")


def _unknown_option(ap: argparse.ArgumentParser, arg: str) -> bool:
    """arg names no option of ap (an unambiguous prefix of a long one counts, as argparse allows)."""
    if not arg.startswith("-") or arg == "-" or re.fullmatch(r"-\d+(\.\d+)?", arg):
        return False
    known = list(ap._option_string_actions)  # argparse keeps no public list of them
    if arg.startswith("--"):
        name = arg.split("=", 1)[0]
        return not any(k.startswith(name) for k in known if k.startswith("--"))
    return arg[:2] not in known


def strict_parse(ap: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """ap.parse_args, but an unknown option is named before a missing argument: argparse checks
    the required ones first, so 'mfgen --bogus' said only that SPEC and -o are required."""
    args = list(argv)
    for a in args[:args.index("--")] if "--" in args else args:
        if _unknown_option(ap, a):
            ap.error(f"unrecognized arguments: {a}")
    return ap.parse_args(args)


def parse_args(argv: Sequence[str], prog: str = "mfgen [generate]") -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog=prog,
        description="Generate a strict, deterministic C SDK (types, JSON codecs, channel helpers, "
                    "registry, docs) from an AsyncAPI 3 document. Other subcommands: "
                    "'mfgen docs SPEC -o DIR' (the Message Flow document, diagrams, changelog), "
                    "'mfgen diff OLD NEW' (what changed, and whom it breaks); "
                    "'mfgen COMMAND --help' for each.",
        epilog="Exit status: 0 ok; 1 bad spec (nothing written) or, with --check, OUTDIR differs; "
               "2 usage or I/O error. See docs/generator.md.")
    ap.add_argument("spec", metavar="SPEC", help="the AsyncAPI 3.x document (YAML or JSON)")
    ap.add_argument("-o", "--output", metavar="OUTDIR", required=True, help="output directory (a CMake project)")
    ap.add_argument("--prefix", default="mf", help="C name prefix (default: mf)")
    ap.add_argument("--service", metavar="NAME", default=None,
                    help="the service of operations that name none (default: the root x-service, "
                         "else info.title slugified)")
    ap.add_argument("--lax-examples", action="store_true",
                    help="an example that does not validate is a warning (and left out of examples/), "
                         "not an error")
    ap.add_argument("--templates", metavar="DIR", default=None,
                    help="template directory (default: the templates/ next to generator/)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 and list the differing files if OUTDIR is not up to date")
    ap.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    return strict_parse(ap, argv)


def generate(spec: str, prefix: str, templates: str, diag: Diagnostics,
             service: Optional[str] = None, lax_examples: bool = False) -> Optional[Dict[str, str]]:
    """The whole pipeline; None when the spec has errors (they are in diag)."""
    model = build_model(spec, prefix, diag, service, lax_examples)
    if model is None:
        return None
    files = render_all(model.sdk, model.aliases, templates)
    header_line(files, os.path.basename(spec))
    return files


def header_line(files: Dict[str, str], spec_name: str) -> None:
    """Every generated text file but the JSON examples must start with the generated-by line."""
    line = GENERATED.format(spec=spec_name)
    for path, text in files.items():
        if path.endswith(".json"):
            continue
        first = text.split("\n", 1)[0]
        if line not in first:
            raise AssertionError(f"template for {path} does not start with the generated-by header")


def read_manifest(outdir: str) -> List[str]:
    try:
        with open(os.path.join(outdir, MANIFEST), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    out = []
    for ln in lines:
        ln = ln.strip()
        if not ln or ln.startswith("#"):
            continue
        norm = os.path.normpath(ln)
        if norm.startswith("..") or os.path.isabs(norm):
            continue  # never touch anything outside OUTDIR
        out.append(ln)
    return out


def manifest_text(paths: List[str], spec_name: str) -> str:
    return "# " + GENERATED.format(spec=spec_name) + "\n" + "".join(p + "\n" for p in sorted(paths))


def current(outdir: str, rel: str) -> Optional[bytes]:
    try:
        with open(os.path.join(outdir, rel), "rb") as f:
            return f.read()
    except OSError:
        return None


def plan_writes(outdir: str, files: Dict[str, str], spec_name: str) -> Tuple[List[str], List[str], Dict[str, bytes]]:
    """(files to write, stale files to remove, all wanted content)."""
    wanted = {p: t.encode("utf-8") for p, t in files.items()}
    wanted[MANIFEST] = manifest_text(list(files), spec_name).encode("utf-8")
    writes = sorted(p for p, data in wanted.items() if current(outdir, p) != data)
    stale = sorted(p for p in read_manifest(outdir) if p not in wanted and os.path.exists(os.path.join(outdir, p)))
    return writes, stale, wanted


def write_atomic(path: str, data: bytes) -> None:
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".mfgen-", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def remove_stale(outdir: str, stale: List[str]) -> None:
    for rel in stale:
        path = os.path.join(outdir, rel)
        os.unlink(path)
        d = os.path.dirname(path)
        while os.path.abspath(d) != os.path.abspath(outdir):
            try:
                os.rmdir(d)  # only when empty
            except OSError:
                break
            d = os.path.dirname(d)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Dispatches to a subcommand; anything else is the bare form of `generate`."""
    args_l = list(sys.argv[1:] if argv is None else argv)
    if args_l and args_l[0] == "docs":
        from .cmd_docs import main as docs_main
        return docs_main(args_l[1:])
    if args_l and args_l[0] == "diff":
        from .cmd_diff import main as diff_main
        return diff_main(args_l[1:])
    if args_l and args_l[0] == "generate":
        return main_generate(args_l[1:], "mfgen generate")
    return main_generate(args_l)


def main_generate(argv: Sequence[str], prog: str = "mfgen [generate]") -> int:
    t0 = time.monotonic()
    args = parse_args(argv, prog)
    if not names.PREFIX_RE.match(args.prefix) or args.prefix in names.C_KEYWORDS:
        print(f"mfgen: error: --prefix '{args.prefix}' must be lower-case letters, digits and single "
              "underscores, starting with a letter", file=sys.stderr)
        return 2
    if args.service is not None and not SERVICE_RE.match(args.service):
        print(f"mfgen: error: --service '{args.service}' must be letters, digits, '-' and '_', starting "
              "with a letter or digit", file=sys.stderr)
        return 2
    templates = args.templates or DEFAULT_TEMPLATES
    if not os.path.isdir(templates):
        print(f"mfgen: error: template directory {templates} not found", file=sys.stderr)
        return 2
    diag = Diagnostics()
    try:
        files = generate(args.spec, args.prefix, templates, diag, args.service, args.lax_examples)
    except UsageError as e:
        print(f"mfgen: error: {e}", file=sys.stderr)
        return 2
    except RecursionError:
        print(f"mfgen: error: {args.spec}: the document nests too deeply", file=sys.stderr)
        return 1
    except Exception:  # a bug in mfgen or a template: say so, never write half an SDK
        traceback.print_exc()
        print("mfgen: internal error (please report it with the spec)", file=sys.stderr)
        return 2
    diag.print(sys.stderr)
    if files is None:
        n = len(diag.errors)
        print(f"mfgen: {n} error{'s' if n != 1 else ''} in {args.spec}; nothing written", file=sys.stderr)
        return 1
    spec_name = os.path.basename(args.spec)
    outdir = args.output
    writes, stale, wanted = plan_writes(outdir, files, spec_name)
    if args.check:
        if writes or stale:
            for p in writes:
                print(f"mfgen: {'differs' if current(outdir, p) is not None else 'missing'}: {os.path.join(outdir, p)}")
            for p in stale:
                print(f"mfgen: stale: {os.path.join(outdir, p)}")
            print(f"mfgen: {outdir} is not up to date with {args.spec}: run generator/mfgen "
                  f"{args.spec} -o {outdir}", file=sys.stderr)
            return 1
        if not args.quiet:
            print(f"mfgen: {outdir} is up to date ({len(wanted)} files)")
        return 0
    try:
        for p in writes:
            write_atomic(os.path.join(outdir, p), wanted[p])
        remove_stale(outdir, stale)
    except OSError as e:
        print(f"mfgen: error: cannot write into {outdir}: {e}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"mfgen: {args.spec} -> {outdir}: {len(writes)} written, {len(wanted) - len(writes)} "
              f"unchanged, {len(stale)} removed ({time.monotonic() - t0:.2f}s)")
    return 0


def load_model(spec: str, prefix: str):  # type: ignore[no-untyped-def]
    """The pipeline for docs/diff: the Model, or None after printing the spec's errors.

    Warnings and errors go to stderr; UsageError (unreadable spec) propagates.
    """
    diag = Diagnostics()
    try:
        model = build_model(spec, prefix, diag)
    except RecursionError:
        print(f"mfgen: error: {spec}: the document nests too deeply", file=sys.stderr)
        return None
    diag.print(sys.stderr)
    if model is None:
        n = len(diag.errors)
        print(f"mfgen: {n} error{'s' if n != 1 else ''} in {spec}", file=sys.stderr)
    return model


def check_prefix(prefix: str) -> Optional[str]:
    if not names.PREFIX_RE.match(prefix) or prefix in names.C_KEYWORDS:
        return (f"--prefix '{prefix}' must be lower-case letters, digits and single underscores, "
                "starting with a letter")
    return None
