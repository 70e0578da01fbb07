#!/usr/bin/env bash
# Fuzzes mf_decode (tests/fuzz/fuzz_decode.c) with libFuzzer + ASan + UBSan.
#
#   tests/fuzz/run.sh [SECONDS]      default 60
#
# Builds outside CMake with clang against runtime/codec/*.c, the unit-test
# fixtures and libcjson; seeds the corpus with JSONTestSuite's test_parsing
# files and the fixtures' documents; works in a temporary directory (kept
# only when a crash was found). Environment: MF_TESTDATA (default
# ../shared/testdata next to the repository), CC (default clang),
# FUZZ_JOBS (parallel workers, default 1).
set -euo pipefail
secs="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
data="${MF_TESTDATA:-$repo/../shared/testdata}"
cc="${CC:-clang}"
jobs="${FUZZ_JOBS:-1}"
work="$(mktemp -d "${TMPDIR:-/tmp}/mf-fuzz.XXXXXX")"
keep=0
cleanup() { if [ "$keep" = 0 ]; then rm -rf "$work"; fi; }
trap cleanup EXIT

cjson_cflags="$(pkg-config --cflags libcjson)"
cjson_libs="$(pkg-config --libs libcjson)"
mkdir -p "$work/corpus" "$work/artifacts"
if [ -d "$data/jsontestsuite/test_parsing" ]; then
  cp "$data"/jsontestsuite/test_parsing/*.json "$work/corpus/"
fi
# the fixtures' canonical documents as seeds
cat > "$work/seeds.c" <<'C'
#include <stdio.h>
#include "fixtures.h"
int main(int argc, char **argv) {
    (void)argc;
    char p[4096];
    snprintf(p, sizeof p, "%s/fx_full.json", argv[1]);
    FILE *f = fopen(p, "w"); if (!f) return 1; fputs(fx_doc_full_json, f); fclose(f);
    snprintf(p, sizeof p, "%s/fx_min.json", argv[1]);
    f = fopen(p, "w"); if (!f) return 1; fputs(fx_doc_min_json, f); fclose(f);
    return 0;
}
C
common=(-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1
        -I"$repo/runtime/include" -I"$repo/runtime" -I"$repo/tests/unit" $cjson_cflags)
"$cc" "${common[@]}" -o "$work/seeds" "$work/seeds.c" "$repo/tests/unit/fixtures.c" \
  "$repo"/runtime/codec/{buf,status,check,decode,encode,validate,lifecycle,format,pattern,utf8}.c \
  $cjson_libs -lm
"$work/seeds" "$work/corpus"

"$cc" "${common[@]}" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -o "$work/fuzz_decode" "$here/fuzz_decode.c" "$repo/tests/unit/fixtures.c" \
  "$repo"/runtime/codec/{buf,status,check,decode,encode,validate,lifecycle,format,pattern,utf8}.c \
  $cjson_libs -lm

echo "fuzzing for ${secs}s in $work ($(ls "$work/corpus" | wc -l) seeds)"
set +e
(cd "$work" && ASAN_OPTIONS=detect_leaks=1 ./fuzz_decode -max_total_time="$secs" -max_len=4096 \
   -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
   -jobs="$jobs" -workers="$jobs" corpus 2>&1 | tee "$work/fuzz.log" | grep -E "^#[0-9]+ +(DONE|INITED|pulse)|stat::|ERROR|SUMMARY|Done")
rc=${PIPESTATUS[0]}
set -e
if ls "$work/artifacts/"* >/dev/null 2>&1 || grep -q "ERROR: " "$work/fuzz.log"; then
  keep=1
  echo "CRASH: artifacts and log kept in $work" >&2
  exit 1
fi
echo "no crash (rc=$rc)"
