#!/usr/bin/env bash
# Prints line and branch coverage per file of runtime/ and tools/ from a gcov build
# (make coverage runs the tests first), then the totals for runtime/ alone and for
# runtime/ + tools/. gcovr comes from Debian (scripts/deps.sh).
#
#   scripts/coverage.sh [BUILD_DIR]        default build-cov
set -euo pipefail
build="${1:-build-cov}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
json="$build/coverage.json"
# one gcov pass: the tracefile, then the reports from it (unreachable branches on
# lines holding only braces and the like are left out, as gcovr recommends)
gcovr -r . "$build" --filter 'runtime/' --filter 'tools/' --exclude-unreachable-branches \
  --gcov-ignore-parse-errors --json "$json" >/dev/null
echo "== lines per file"
gcovr -a "$json" -r . --txt --sort-percentage
echo "== branches per file"
gcovr -a "$json" -r . --txt --branches --sort-percentage
# --print-summary needs a report to go with it: a text report into the build
# directory. Never -o /dev/null: gcovr replaces its output file, and as root that
# turns /dev/null into a regular file for every process on the machine.
echo "== runtime/"
gcovr -a "$json" -r . --filter 'runtime/' --print-summary -o "$build/coverage-runtime.txt"
echo "== runtime/ + tools/"
gcovr -a "$json" -r . --print-summary -o "$build/coverage-all.txt"
if [ "${COVERAGE_HTML:-0}" = 1 ]; then
  mkdir -p "$build/coverage"
  gcovr -a "$json" -r . --html-details "$build/coverage/index.html"
  echo "html: $build/coverage/index.html"
fi
