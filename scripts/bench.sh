#!/usr/bin/env bash
# Runs every benchmark of the build and prints its figures (ratios against a
# baseline measured in the same run). Record them in bench/RESULTS.md.
set -euo pipefail
build=${1:-build}
bin="$build/bin"
for b in bench-codec bench-transport bench-services; do
  if [ -x "$bin/$b" ]; then
    echo "== $b"
    "$bin/$b"
    echo
  fi
done
