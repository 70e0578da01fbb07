#!/usr/bin/env python3
"""Fails when tests/sdk/cases.json is not what make_cases.py derives from the spec."""
import os
import subprocess
import sys
import tempfile

spec, committed = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
with tempfile.TemporaryDirectory() as d:
    fresh = os.path.join(d, "cases.json")
    subprocess.run([sys.executable, os.path.join(here, "make_cases.py"), spec, fresh], check=True)
    if open(fresh, "rb").read() != open(committed, "rb").read():
        print("tests/sdk/cases.json is stale: build (make, or make regen) or run "
              "tests/sdk/make_cases.py asyncapi.yaml tests/sdk/cases.json, and commit it")
        sys.exit(1)
print("cases.json is current")
