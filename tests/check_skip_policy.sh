#!/bin/sh
# tests.skip_policy: a cmocka test must not call skip() itself (the program would exit 0 and
# ctest would report "passed"); it calls mf_skip_or_fail() from tests/support/mf_skip.h,
# which fails, or skips with exit 77 when MF_ALLOW_SKIP=1. See tests/README.md.
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
echo "ok: no bare skip() in the cmocka tests"
