#!/bin/sh
# ctest runner of one interop test file:
#   run_node_test.sh <tests/interop> <x.test.mjs> [NODE]
# Runs `node --test` on the file (spec report on stdout, a TAP copy kept to find skips).
# Exit status: the tests' own (0 passed, else failed); 1 when node or the npm packages are
# missing, or when a test or suite skipped. With MF_ALLOW_SKIP=1 those two cases exit 77
# instead, which ctest reports as skipped (SKIP_RETURN_CODE 77). See tests/README.md.
set -u
dir=$1 file=$2 node=${3:-}
hint="run \`npm ci\` in tests/interop (scripts/deps.sh does it: it installs nodejs/npm and runs npm ci)"

cannot_run() {
    if [ "${MF_ALLOW_SKIP:-}" = 1 ]; then
        echo "SKIP (MF_ALLOW_SKIP=1): interop: $*"
        exit 77
    fi
    echo "FAIL: interop: $* (set MF_ALLOW_SKIP=1 to report it as skipped instead)"
    exit 1
}

if [ -z "$node" ] || [ ! -x "$node" ]; then
    node=$(command -v node || command -v nodejs || true)
fi
[ -n "$node" ] || cannot_run "node (Node.js >= 18) not found. Install nodejs, then $hint"
for pkg in nats.ws ws; do
    [ -f "$dir/node_modules/$pkg/package.json" ] ||
        cannot_run "the npm package '$pkg' is not installed in $dir/node_modules: $hint"
done

tap=$(mktemp "${TMPDIR:-/tmp}/mf-interop-tap.XXXXXX") || exit 1
trap 'rm -f "$tap"' EXIT
cd "$dir" || exit 1
"$node" --test --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" "$file"
rc=$?
if [ $rc -ne 0 ]; then
    echo "interop: node --test $file failed ($rc)"
    exit 1
fi
# A skipped suite counts as 0 skipped tests in node's summary: look for the TAP directive.
skips=$(grep -E '^ *ok [0-9]+ - .* # SKIP' "$tap")
if [ -n "$skips" ]; then
    cannot_run "$file skipped:
$skips"
fi
exit 0
