"""Shared helpers of the generator tests: paths, running mfgen, reading trees."""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MFGEN = os.path.join(ROOT, "generator", "mfgen")
SPECS = os.path.join(ROOT, "tests", "specs")
RUNTIME = os.path.join(ROOT, "runtime")

sys.path.insert(0, os.path.join(ROOT, "generator"))

# The extra specs that must generate, compile and run: (spec path relative to tests/specs, prefix).
GOOD_SPECS: List[Tuple[str, str]] = [
    ("refs/main.yaml", "refs"),
    ("shapes.yaml", "shapes"),
    ("mangling.yaml", "mg"),
    ("services.json", "svc"),
    ("edge.yaml", "edge"),
    ("channels.yaml", "tc"),
]


def run_mfgen(args: List[str], cwd: Optional[str] = None, env: Optional[Dict[str, str]] = None,
              ) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, MFGEN] + args, cwd=cwd or ROOT, env=full_env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)


def read_tree(root: str) -> Dict[str, bytes]:
    out: Dict[str, bytes] = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out
