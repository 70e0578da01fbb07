#!/bin/sh
# tests.skip_policy: a cmocka test must not call skip() itself (the program would exit 0 and
# ctest would report "passed"); it calls mf_skip_or_fail() from tests/support/mf_skip.h,
# which fails, or skips with exit 77 when MF_ALLOW_SKIP=1, and the program's main returns
# mf_skip_exit(...) so that a skip is reported. See tests/README.md.
#   tests/check_skip_policy.sh [REPO]
set -eu
repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$repo/tests"
hits=$(grep -rnE '(^|[^_a-z])skip[[:space:]]*\(\)' --include='*.c' --include='*.h' . |
       grep -v '^\./support/mf_skip\.h:' || true)
if [ -n "$hits" ]; then
    echo "FAIL: bare cmocka skip() (use mf_skip_or_fail() from tests/support/mf_skip.h):"
    echo "$hits" | sed 's|^\./|  tests/|'
    exit 1
fi
# A program whose tests can skip must report it: main returns mf_skip_exit(...).
missing=
for f in $(grep -rlE 'mf_skip_or_fail|REQUIRE_SERVER|REQUIRE_CLUSTER' --include='*.c' .); do
    grep -q 'int main(' "$f" || continue
    grep -q 'mf_skip_exit(' "$f" || missing="$missing ${f#./}"
done
if [ -n "$missing" ]; then
    echo "FAIL: these programs can skip but main does not return mf_skip_exit(cmocka_run_group_tests(...)):"
    for f in $missing; do echo "  tests/$f"; done
    exit 1
fi
echo "ok: no bare skip() in the cmocka tests; every program that can skip exits 77 when it does"
