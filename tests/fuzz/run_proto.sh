#!/usr/bin/env bash
# Fuzzes the NATS protocol parser (tests/fuzz/fuzz_proto.c) with libFuzzer + ASan + UBSan.
#   tests/fuzz/run_proto.sh [SECONDS]      default 60
set -euo pipefail
secs="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/mf-fuzz-proto.XXXXXX")"
mkdir -p "$work/corpus" "$work/artifacts"
# Seeds: one of each operation, both directions.
printf 'CONNECT {"verbose":true,"headers":true}\r\nPING\r\n' >"$work/corpus/connect"
printf 'PUB a.b 5\r\nhello\r\nSUB a.* q 1\r\nUNSUB 1 10\r\n' >"$work/corpus/pubsub"
printf 'HPUB a _INBOX.x.1 22 27\r\nNATS/1.0\r\nA: b\r\n\r\n\r\nhello\r\n' >"$work/corpus/hpub"
printf 'INFO {"server_id":"x","max_payload":1048576,"headers":true,"connect_urls":["a:1"]}\r\n' >"$work/corpus/info"
printf 'MSG a.b 1 _INBOX.r 3\r\nabc\r\nHMSG r 2 16 16\r\nNATS/1.0 503\r\n\r\n\r\n+OK\r\n-ERR %s\r\n' "'Slow Consumer'" >"$work/corpus/msgs"
clang -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 -I"$repo/runtime/include" -I"$repo/runtime" \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o "$work/fuzz_proto" \
  "$here/fuzz_proto.c" "$repo"/runtime/nats/{proto,proto_json}.c \
  "$repo"/runtime/codec/{buf,status,check,decode,encode,validate,lifecycle,format,pattern,utf8}.c \
  $(pkg-config --cflags --libs libcjson) -lm
echo "fuzzing the protocol parser for ${secs}s in $work"
set +e
(cd "$work" && ./fuzz_proto -max_total_time="$secs" -max_len=2048 -timeout=10 \
   -artifact_prefix="$work/artifacts/" -print_final_stats=1 corpus 2>&1 | tee "$work/fuzz.log" \
   | grep -E "^#[0-9]+ +(DONE|INITED)|stat::number_of_executed_units|ERROR|SUMMARY")
rc=${PIPESTATUS[0]}
set -e
if ls "$work/artifacts"/* >/dev/null 2>&1; then
  echo "crash inputs kept in $work/artifacts"; exit 1
fi
rm -rf "$work"
exit $rc
