#!/bin/sh
# tests.self_contained: the repository must carry everything its tests and docs use. Fails
# when a tracked file (or, outside a git checkout, any file but build output) names the
# shared folder that sits beside the repository on the machines it was written on.
#   tests/check_self_contained.sh [REPO]
# The patterns are assembled from pieces so that this file does not match itself.
set -eu
repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$repo"
word=shared
up=..
top=/work
set -- -e "$up/$word" -e "$top/$word"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    hits=$(git ls-files -z | xargs -0 grep -l -F "$@" -- 2>/dev/null || true)
else
    hits=$(find . \( -name .git -o -name 'build*' -o -name node_modules \) -prune -o -type f -print0 |
           xargs -0 grep -l -F "$@" -- 2>/dev/null || true)
fi
if [ -n "$hits" ]; then
    echo "FAIL: these files refer to the folder beside the repository ($up/$word, $top/$word);"
    echo "copy what they need into the repository (test data: tests/data/, see its README.md):"
    echo "$hits" | sed 's/^/  /'
    grep -n -F "$@" -- $hits | head -20 | sed 's/^/    /'
    exit 1
fi
echo "ok: no file refers to $up/$word or $top/$word"
