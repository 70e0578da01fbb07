#!/usr/bin/env python3
"""Mutation test of the generator's loader: damaged specs never make mfgen crash.

    tests/fuzz/mutate_specs.py [--count N] [--seed S] [--keep DIR]

Takes valid AsyncAPI documents (asyncapi.yaml and tests/specs/*.yaml), damages them at
random - a deleted member, a value of another type, a broken or looping $ref, a renamed
or duplicated key, YAML garbage spliced in, the text cut short - and runs mfgen on each
(in-process: its main(), with stderr captured). Every outcome must be one of:

  exit 0  the mutation left a valid document (an SDK is generated)
  exit 1  an error message ("<file>:<line>:<col>: error: ..." or "mfgen: error: ...") and
          "nothing written"

never a Python traceback, an "internal error" (exit 2), an exception escaping main(), or
exit 1 without a message. The mutations are deterministic for a seed; a failing one is
written to --keep (default: a temporary directory that is kept) with mfgen's stderr.
ctest runs a bounded count (tests/fuzz/CMakeLists.txt); run longer by hand:

    tests/fuzz/mutate_specs.py --count 2000 --seed 7
"""

import argparse
import contextlib
import copy
import glob
import io
import json
import os
import random
import sys
import tempfile
import time
from typing import Any, Callable, List, Optional, Tuple

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "generator"))
sys.setrecursionlimit(10000)

import yaml  # noqa: E402

from mfgen_lib.cli import main as mfgen_main  # noqa: E402

Path = List[Any]


def seeds() -> List[str]:
    return [os.path.join(REPO, "asyncapi.yaml")] + sorted(glob.glob(os.path.join(REPO, "tests", "specs", "*.yaml")))


def all_paths(doc: Any, path: Optional[Path] = None) -> List[Path]:
    """Every path to a value in the document, containers first."""
    path = path or []
    out = [path]
    if isinstance(doc, dict):
        for k in sorted(doc, key=str):
            out += all_paths(doc[k], path + [k])
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += all_paths(v, path + [i])
    return out


def get(doc: Any, path: Path) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def set_(doc: Any, path: Path, value: Any) -> None:
    get(doc, path[:-1])[path[-1]] = value


def delete(doc: Any, path: Path) -> None:
    parent = get(doc, path[:-1])
    del parent[path[-1]]


OTHER_VALUES = [None, True, 0, -1, 1.5, 10 ** 30, "", "x", "#/components/schemas/Nope", [], {}, [1, "a"],
                {"type": "object"}, {"$ref": "#"}, "\u00e9\u0000", "\ud800".encode("utf-8", "surrogatepass").decode(
                    "utf-8", "replace")]


def mutate_tree(doc: Any, rnd: random.Random) -> Tuple[Any, str]:
    """One structural mutation of a parsed document; returns (document, what)."""
    doc = copy.deepcopy(doc)
    paths = [p for p in all_paths(doc) if p]
    if not paths:
        return doc, "empty"
    kind = rnd.choice(["delete", "retype", "ref", "rename", "dupe", "loop"])
    p = rnd.choice(paths)
    if kind == "delete":
        delete(doc, p)
        return doc, f"delete {p}"
    if kind == "retype":
        v = rnd.choice(OTHER_VALUES)
        set_(doc, p, copy.deepcopy(v))
        return doc, f"retype {p} = {v!r}"
    refs = [q for q in paths if q[-1] == "$ref"]
    if kind == "ref" and refs:
        q = rnd.choice(refs)
        v = rnd.choice(["#/components/schemas/Missing", "#/", "", "other.yaml#/x", "#/components", 42,
                        "#/components/schemas/" + "a" * 300, "#/channels/~1bad"])
        set_(doc, q, v)
        return doc, f"ref {q} = {v!r}"
    if kind == "loop" and refs:
        q = rnd.choice(refs)
        target = "#/" + "/".join(str(x).replace("~", "~0").replace("/", "~1") for x in q[:-1])
        set_(doc, q, target)  # a schema that is its own reference
        return doc, f"loop {q} -> {target}"
    parent = get(doc, p[:-1])
    if isinstance(parent, dict):
        k = p[-1]
        if kind == "rename":
            parent[str(k) + rnd.choice(["_", "X", " ", "$", "."])] = parent.pop(k)
            return doc, f"rename {p}"
        parent[str(k).upper() if str(k).upper() != k else str(k) + "2"] = copy.deepcopy(parent[k])
        return doc, f"dupe {p}"
    delete(doc, p)
    return doc, f"delete {p} (list item)"


GARBAGE = ["\t", ": :", "- [", "{", "}}", "&a", "*a", "!!python/object:os.system", "\x00", "\udcff", "'", '"',
           "? ", "|\n  x", "%YAML 9.9", "---\n---", "<<: *x", "\ufeff"]


def mutate_text(text: str, rnd: random.Random) -> Tuple[str, str]:
    """YAML-level damage: garbage spliced in, lines dropped or cut, indentation broken."""
    lines = text.split("\n")
    kind = rnd.choice(["splice", "drop", "cut", "indent", "truncate"])
    i = rnd.randrange(len(lines))
    if kind == "splice":
        g = rnd.choice(GARBAGE)
        pos = rnd.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:pos] + g + lines[i][pos:]
        return "\n".join(lines), f"splice {g!r} at line {i + 1}"
    if kind == "drop":
        del lines[i]
        return "\n".join(lines), f"drop line {i + 1}"
    if kind == "cut":
        lines[i] = lines[i][: rnd.randrange(len(lines[i]) + 1)]
        return "\n".join(lines), f"cut line {i + 1}"
    if kind == "indent":
        lines[i] = " " * rnd.choice([1, 3, 7]) + lines[i]
        return "\n".join(lines), f"indent line {i + 1}"
    n = rnd.randrange(len(text) + 1)
    return text[:n], f"truncate at byte {n}"


def run_mfgen(spec: str, out: str) -> Tuple[Optional[int], str, str]:
    """(exit status or None when an exception escaped, stderr, what escaped)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            return mfgen_main([spec, "-o", out, "-q"]), err.getvalue(), ""
        except SystemExit as e:
            return (e.code if isinstance(e.code, int) else 2), err.getvalue(), ""
        except BaseException as e:  # noqa: BLE001 - anything escaping main() is the failure we look for
            import traceback
            return None, err.getvalue(), "".join(traceback.format_exception(e))


def verdict(rc: Optional[int], stderr: str, escaped: str) -> Optional[str]:
    """None when the outcome is acceptable, else why not."""
    if rc is None:
        return "an exception escaped main():\n" + escaped
    if "Traceback" in stderr or "internal error" in stderr:
        return f"exit {rc} with a traceback / internal error"
    if rc == 0:
        return None
    if rc == 1:
        if "error:" not in stderr:
            return "exit 1 without an error message"
        return None
    return f"exit {rc} (usage errors cannot come from a document)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    sources = []
    for path in seeds():
        with open(path, encoding="utf-8") as f:
            text = f.read()
        sources.append((path, text, yaml.safe_load(text)))
    work = tempfile.mkdtemp(prefix="mf-mutate-")
    keep = a.keep or work
    os.makedirs(keep, exist_ok=True)
    failures, outcomes = 0, {0: 0, 1: 0}
    t0 = time.monotonic()
    for n in range(a.count):
        path, text, doc = sources[n % len(sources)]
        if rnd.random() < 0.5:
            new, what = mutate_tree(doc, rnd)
            body = json.dumps(new, indent=1, default=str) if rnd.random() < 0.3 else yaml.safe_dump(new,
                                                                                                     sort_keys=False)
            ext = ".json" if body.lstrip().startswith("{") else ".yaml"
        else:
            body, what = mutate_text(text, rnd)
            ext = ".yaml"
        spec = os.path.join(work, f"m{n}{ext}")
        with open(spec, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(body)
        rc, stderr, escaped = run_mfgen(spec, os.path.join(work, f"out{n}"))
        bad = verdict(rc, stderr, escaped)
        if bad:
            failures += 1
            saved = os.path.join(keep, f"failing-{n}{ext}")
            with open(saved, "w", encoding="utf-8", errors="surrogatepass") as f:
                f.write(body)
            print(f"not ok {n} - {os.path.basename(path)}: {what}: {bad}\n#   kept {saved}\n"
                  + "".join(f"#   {line}\n" for line in (stderr + escaped).splitlines()[-15:]), end="")
        else:
            outcomes[rc] += 1
    dt = time.monotonic() - t0
    print(f"# {a.count} mutated specs (seed {a.seed}) in {dt:.1f} s: {outcomes[0]} still valid, "
          f"{outcomes[1]} refused with a message, {failures} failures")
    if not failures and not a.keep:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
