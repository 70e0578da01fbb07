#!/usr/bin/env bash
# Fuzzes mflow's parsers with libFuzzer + ASan + UBSan (clang).
#
#   tests/fuzz/run.sh [HARNESS|all] [SECONDS]        default: all, 60 s each
#
# Harnesses (tests/fuzz/fuzz_<name>.c, seeds in tests/fuzz/corpus/<name>/):
#   decode    the descriptor-driven JSON codec on the unit-test fixtures' types
#   decode_diff  the direct decoder against the reference decoder (mf_decode_tree),
#             and mf_encode's checks against mf_validate (seeds: corpus/decode/)
#   messages  every generated message decoder, through the generated registry, and the
#             channel subject helpers
#   proto     the NATS protocol parser, both sides, with CONNECT/INFO records
#   ws        the WebSocket layer: frames reassembled as the broker and the client read
#             them (into the NATS parser), and the HTTP upgrade heads
#
# Each harness is built outside CMake into $FUZZ_BUILD (default: a temporary
# directory) and run on a copy of its committed corpus, so the repository is not
# touched; one line per harness reports the executions:
#   fuzz ws: 812345 executions in 20 s (40617/s), corpus 29 -> 431 inputs, no crash
# A crash or sanitizer report keeps the work directory (artifacts and log) and the
# script exits 1. Environment: CC (default clang), FUZZ_JOBS (parallel workers per
# harness, default 1), FUZZ_MAX_LEN (default 4096), FUZZ_MERGE=1 (merge the new inputs,
# minimised, back into tests/fuzz/corpus/<name>/ afterwards).
set -euo pipefail
which="${1:-all}"
secs="${2:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cc="${CC:-clang}"
jobs="${FUZZ_JOBS:-1}"
maxlen="${FUZZ_MAX_LEN:-4096}"
all=(decode decode_diff messages proto ws)

if ! command -v "$cc" >/dev/null 2>&1; then
  echo "fuzz: $cc not found (apt-get install clang; scripts/deps.sh installs it)" >&2
  exit 1
fi
case "$which" in
  all) harnesses=("${all[@]}") ;;
  decode|decode_diff|messages|proto|ws) harnesses=("$which") ;;
  *) echo "usage: $0 [all|${all[*]// /|}] [SECONDS]" >&2; exit 2 ;;
esac

work="$(mktemp -d "${TMPDIR:-/tmp}/mf-fuzz.XXXXXX")"
keep=0
cleanup() { if [ "$keep" = 0 ]; then rm -rf "$work"; fi; }
trap cleanup EXIT
build="${FUZZ_BUILD:-$work/bin}"
mkdir -p "$build"

flags=(-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$repo/runtime/include" -I"$repo/runtime/internal" -I"$repo/runtime" -I"$repo/tests/unit" -I"$repo/generated/include")
cjson=($(pkg-config --cflags --libs libcjson))
ssl=($(pkg-config --cflags --libs libssl libcrypto))
codec=("$repo"/runtime/core/*.c "$repo"/runtime/codec/*.c "$repo"/runtime/api/registry.c "$repo"/runtime/api/location.c)
proto=("$repo"/runtime/nats/proto.c "$repo"/runtime/nats/proto_json.c)

build_one() {
  local name="$1" out="$build/fuzz_$1" src=("$here/fuzz_$1.c")
  case "$name" in
    decode|decode_diff) src+=("$repo/tests/unit/fixtures.c" "${codec[@]}") ;;
    messages) src+=("$repo"/generated/src/*.c "${codec[@]}") ;;
    proto) src+=("${proto[@]}" "${codec[@]}") ;;
    ws) src+=("$repo"/runtime/ws/*.c "${proto[@]}" "${codec[@]}") ;;
  esac
  "$cc" "${flags[@]}" -o "$out" "${src[@]}" "${cjson[@]}" "${ssl[@]}" -lm -lpthread
}

failed=0
for name in "${harnesses[@]}"; do
  build_one "$name"
  corpus="$work/corpus-$name"
  seeddir="$here/corpus/$name"
  [ "$name" = decode_diff ] && seeddir="$here/corpus/decode" # the same inputs, another question
  mkdir -p "$corpus" "$work/artifacts-$name"
  cp "$seeddir"/* "$corpus/" 2>/dev/null || true
  rm -f "$corpus/README.md" "$corpus/LICENSE"
  seeds=$(ls "$corpus" | wc -l)
  log="$work/fuzz-$name.log"
  set +e
  (cd "$work" && ASAN_OPTIONS=detect_leaks=1 "$build/fuzz_$name" -max_total_time="$secs" -max_len="$maxlen" \
     -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts-$name/" -print_final_stats=1 \
     -jobs="$jobs" -workers="$jobs" "$corpus" >"$log" 2>&1)
  rc=$?
  set -e
  execs=$(grep -h "stat::number_of_executed_units" "$log" "$work"/fuzz-*.log 2>/dev/null | awk '{s+=$2} END {print s+0}')
  inputs=$(ls "$corpus" | wc -l)
  if ls "$work/artifacts-$name/"* >/dev/null 2>&1 || grep -q "ERROR: \|runtime error:\|^DIFF " "$log"; then
    keep=1
    failed=1
    echo "fuzz $name: CRASH after $execs executions (exit $rc); artifacts and log kept in $work" >&2
    grep -m5 -E "ERROR:|runtime error:|SUMMARY|^DIFF " "$log" >&2 || true
    continue
  fi
  echo "fuzz $name: $execs executions in ${secs} s ($((execs / (secs > 0 ? secs : 1)))/s), corpus $seeds -> $inputs inputs, no crash"
  if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    mkdir -p "$work/merged-$name"
    "$build/fuzz_$name" -merge=1 -max_len="$maxlen" "$work/merged-$name" "$seeddir" "$corpus" >/dev/null 2>&1
    cp -n "$work/merged-$name"/* "$seeddir/" 2>/dev/null || true
    echo "fuzz $name: merged into ${seeddir#$repo/} ($(ls "$seeddir" | wc -l) files)"
  fi
done
exit $failed
