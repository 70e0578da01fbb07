#!/usr/bin/env python3
"""The instruction-count guard: speed checked without a quiet machine.

Runs tests/perf's counting programs under valgrind's callgrind, reads the
instructions of each measured loop (one callgrind dump per loop, see
count_codec.c and count_route.c) and checks them:

  codec   for every message of the contract, in the same run:
            decode+validate (mf_decode + mf_free) <= DECODE_GOAL x bare cJSON
            (cJSON_ParseWithLengthOpts + cJSON_Delete of the same bytes);
            encode (mf_encode) >= ENCODE_GOAL x faster than cJSON (tree built
            from the value + cJSON_PrintUnformatted + frees).
  broker  instructions per routed message (parse, route, queue, drain) for
            each scenario <= the figure recorded in ROUTE_RECORDED x
            (1 + ROUTE_TOLERANCE). The figures are gcc 12 -O2 (RelWithDebInfo)
            on x86-64; when a change makes the broker cheaper by more than the
            tolerance, the guard says so: record the new figure here.

Instruction counts do not depend on the machine's load, so the verdict is the
same on a busy 2-core VM as on a quiet one. Wall-clock figures are `make
bench`'s job (bench/RESULTS.md).

usage: guard.py --valgrind PATH --codec EXE --route EXE [--work DIR]
Exit: 0 all goals met, 1 a goal missed, 2 cannot run (77 instead when
MF_ALLOW_SKIP=1 and valgrind is missing).
"""
import argparse
import glob
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List, Tuple

DECODE_GOAL = 0.70  # decode+validate / bare cJSON parse, per message (issue 11 aims at 0.5)
ENCODE_GOAL = 2.5   # cJSON build+print / mf_encode, per message
ROUTE_RECORDED: Dict[str, float] = {  # instructions per message, recorded 2026-12-06 (gcc 12.2 -O2)
    "route1": 4111.0,
    "route10": 9698.0,
    "request": 4497.0,
}
ROUTE_TOLERANCE = 0.15

Counts = Dict[str, Dict[str, float]]  # op -> subject -> instructions per iteration


def run_callgrind(valgrind: str, exe: str, work: str, tag: str) -> Counts:
    """Runs exe under callgrind with one dump per measured loop; returns the counts."""
    out = os.path.join(work, tag + ".out")
    cmd = [valgrind, "--tool=callgrind", "--callgrind-out-file=" + out, exe]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError("%s failed under valgrind (exit %d)" % (exe, proc.returncode))
    counts: Counts = {}
    for path in sorted(glob.glob(out + ".*")):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        trig = re.search(r"^desc: Trigger: Client Request: (\S+) (?:(\S+) )?(\d+)$", text, re.M)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if not trig or not total:
            continue
        op, subject, iters = trig.group(1), trig.group(2) or "", int(trig.group(3))
        counts.setdefault(op, {})[subject] = int(total.group(1)) / iters
    if not counts:
        raise RuntimeError("no callgrind dumps from " + exe)
    return counts


def check_codec(c: Counts) -> Tuple[List[str], List[str]]:
    """Table lines and failures of the codec goals."""
    lines = ["%-24s %9s %9s %9s %7s | %9s %9s %7s" % ("message", "decode", "ref", "cJSON", "ratio", "encode",
                                                      "print", "speedup")]
    fails: List[str] = []
    ld = le = 0.0
    msgs = sorted(c["decode"])
    for m in msgs:
        dec, base, ref = c["decode"][m], c["cjson"][m], c.get("ref", {}).get(m, float("nan"))
        enc, prt = c["encode"][m], c["print"][m]
        ratio, speedup = dec / base, prt / enc
        ld += math.log(ratio)
        le += math.log(speedup)
        mark = ""
        if ratio > DECODE_GOAL:
            fails.append("decode %s: %.3f x bare cJSON > goal %.2f" % (m, ratio, DECODE_GOAL))
            mark += " DECODE"
        if speedup < ENCODE_GOAL:
            fails.append("encode %s: %.2f x faster than cJSON < goal %.2f" % (m, speedup, ENCODE_GOAL))
            mark += " ENCODE"
        lines.append("%-24s %9.0f %9.0f %9.0f %6.3fx | %9.0f %9.0f %6.2fx%s" % (m, dec, ref, base, ratio, enc, prt,
                                                                             speedup, mark))
    lines.append("geometric mean: decode+validate %.3fx of bare cJSON (goal <= %.2f per message), "
                 "encode %.2fx faster than cJSON (goal >= %.2f per message)"
                 % (math.exp(ld / len(msgs)), DECODE_GOAL, math.exp(le / len(msgs)), ENCODE_GOAL))
    return lines, fails


def check_route(c: Counts) -> Tuple[List[str], List[str]]:
    """Table lines and failures of the broker's recorded figures."""
    lines = ["%-10s %12s %12s %8s" % ("scenario", "instr/msg", "recorded", "change")]
    fails: List[str] = []
    for name in sorted(ROUTE_RECORDED):
        rec = ROUTE_RECORDED[name]
        got = c.get(name, {}).get("")
        if got is None:
            fails.append("broker %s: not measured" % name)
            continue
        change = got / rec - 1
        note = ""
        if change > ROUTE_TOLERANCE:
            fails.append("broker %s: %.0f instructions per message, %+.1f%% over the recorded %.0f (tolerance %+.0f%%)"
                         % (name, got, 100 * change, rec, 100 * ROUTE_TOLERANCE))
            note = " OVER"
        elif change < -ROUTE_TOLERANCE:
            note = " cheaper: record the new figure in tests/perf/guard.py"
        lines.append("%-10s %12.0f %12.0f %+7.1f%%%s" % (name, got, rec, 100 * change, note))
    return lines, fails


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--valgrind", default=shutil.which("valgrind") or "valgrind")
    ap.add_argument("--codec", required=True, help="perf-count-codec")
    ap.add_argument("--route", required=True, help="perf-count-route")
    ap.add_argument("--work", help="keep callgrind's files in this directory")
    args = ap.parse_args()
    if not shutil.which(args.valgrind):
        print("valgrind not found (scripts/deps.sh installs it)")
        return 77 if os.environ.get("MF_ALLOW_SKIP") == "1" else 2
    work = args.work or tempfile.mkdtemp(prefix="mf-perf-guard.")
    os.makedirs(work, exist_ok=True)
    try:
        codec = run_callgrind(args.valgrind, args.codec, work, "codec")
        route = run_callgrind(args.valgrind, args.route, work, "route")
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print("cannot count: %s" % e)
        return 2
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    fails: List[str] = []
    for title, (lines, f) in (("codec, instructions per operation (callgrind)", check_codec(codec)),
                              ("broker, instructions per message routed (callgrind)", check_route(route))):
        print(title)
        for line in lines:
            print("  " + line)
        fails += f
    if fails:
        print("GOALS MISSED:")
        for f in fails:
            print("  " + f)
        return 1
    print("all goals met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
