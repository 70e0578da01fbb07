#!/usr/bin/env bash
# `make run`: starts the system on this machine and shows it working.
#   1. mf-broker on ws://127.0.0.1:4280 (the one-machine default)
#   2. the services, when they are built (user-service, campaign-service)
#   3. a demo client: validates every example message of the contract, then
#      subscribes to everything and publishes the examples through the broker.
# Ctrl-C stops everything. MF_RUN_ONCE=1 runs the demo and exits (used by tests).
set -uo pipefail
build=${1:-build}
bin="$build/bin"
port=${MF_PORT:-4280}
url="ws://127.0.0.1:$port"
here=$(cd "$(dirname "$0")/.." && pwd)
logdir=$(mktemp -d /tmp/mflow-run.XXXXXX)
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  echo "run: stopped; logs in $logdir"
}
trap cleanup EXIT INT TERM

wait_for_line() { # file pattern seconds
  for _ in $(seq 1 $(( $3 * 10 ))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

echo "run: starting mf-broker on $url"
"$bin/mf-broker" --port "$port" >"$logdir/broker.out" 2>"$logdir/broker.log" &
pids+=($!)
if ! wait_for_line "$logdir/broker.out" "listening" 10; then
  echo "run: mf-broker did not start (is port $port in use?):"; cat "$logdir/broker.log"; exit 1
fi

for svc in user-service campaign-service; do
  if [ -x "$bin/$svc" ]; then
    echo "run: starting $svc"
    "$bin/$svc" --server "$url" --db "$logdir/$svc.db" >"$logdir/$svc.log" 2>&1 &
    pids+=($!)
  fi
done

echo "run: validating the contract's example messages with mf-validate"
for f in "$here"/generated/examples/*.json; do
  msg=$(basename "$f" | cut -d. -f1)
  if "$bin/mf-validate" "$msg" "$f" >/dev/null; then
    echo "  ok       $(basename "$f")"
  else
    echo "  INVALID  $(basename "$f")"; "$bin/mf-validate" "$msg" "$f"
  fi
done

if [ -x "$bin/mfctl" ]; then
  echo "run: mfctl subscribes to '>' and publishes each full example on its channel"
  "$bin/mfctl" --server "$url" sub '>' --count 0 >"$logdir/sub.log" 2>&1 &
  pids+=($!)
  sleep 0.5
  "$bin/mfctl" --server "$url" demo "$here/generated/examples" || true
  sleep 0.5
  echo "run: what the subscriber saw:"; sed 's/^/  /' "$logdir/sub.log" | head -40
fi

if [ "${MF_RUN_ONCE:-0}" = 1 ]; then exit 0; fi
echo "run: system is up at $url (Ctrl-C to stop; logs in $logdir)"
wait
