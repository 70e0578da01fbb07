#!/usr/bin/env bash
# Runs every benchmark of the build and prints its figures (ratios against a
# baseline measured in the same run). Record them in bench/RESULTS.md.
set -euo pipefail
build=${1:-build}
bin="$build/bin"
for b in bench-codec bench-transport bench-services bench-campaign-logic; do
  if [ -x "$bin/$b" ]; then
    echo "== $b"
    "$bin/$b"
    echo
  fi
done
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -x "$bin/mf-broker" ] && [ -d "$here/tests/interop/node_modules/nats.ws" ]; then
  # the headline figures: publisher and subscriber in Node processes of their own (as a
  # browser publishing to another program); then both in one process, the client's limit
  echo "== bench/natsws/bench_natsws.mjs --split (the npm nats.ws client, publisher in its own process)"
  MF_BROKER="$bin/mf-broker" node "$here/bench/natsws/bench_natsws.mjs" --split
  echo
  echo "== bench/natsws/bench_natsws.mjs (the npm nats.ws client, publisher and subscriber in one process)"
  MF_BROKER="$bin/mf-broker" node "$here/bench/natsws/bench_natsws.mjs"
  echo
else
  echo "== bench/natsws/bench_natsws.mjs: not run (needs $bin/mf-broker and \`npm ci\` in tests/interop)"
fi
if [ -x "$bin/campaign-service" ]; then
  echo "== bench/campaign/bench_campaign.py"
  python3 "$here/bench/campaign/bench_campaign.py" --build "$build"
fi
