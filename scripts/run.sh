#!/usr/bin/env bash
# `make run`: starts the system on this machine and shows it working.
#
#   1. mf-broker on ws://127.0.0.1:4280 (the one-machine default)
#   2. every service that is built: build/bin/*-service, each with its database in the
#      run's log folder and its admin API on its default port (a test run: any free port)
#   3. the contract's example messages, validated with mf-validate
#   4. a subscriber to everything ('>'), logging what crosses the broker
#   5. the User Service: a demo population (scripts/demo_population.py, seed $MF_SEED,
#      $MF_USERS users) imported through its admin API; the events it published, counted
#      and sampled; a user.info.request answered
#   6. the Campaign Service: its view of the users filled from the User Service's events, a
#      localized A/B campaign with quiet hours created (campaign.create) and executed
#      (campaign.execute), its live progress (mfctl campaign watch), a sample of the delivered
#      notifications per language and variant, and a summary (targets, sent, skipped by
#      preference, held by quiet hours, failed). Without a campaign-service: one example of
#      every message it would send (mfctl demo).
#
# Ctrl-C stops everything (SIGTERM to each process, which exits cleanly). MF_RUN_ONCE=1 runs
# the steps and exits (used by tests/e2e/run_demo.sh); MF_PORT picks the broker's port and
# makes the services' admin ports free ones. Each step is one function: a new service adds
# its own step and a line in main.
set -uo pipefail
build=${1:-build}
bin="$build/bin"
here=$(cd "$(dirname "$0")/.." && pwd)
port=${MF_PORT:-4280}
url="ws://127.0.0.1:$port"
seed=${MF_SEED:-42}
users=${MF_USERS:-3000}
logdir=$(mktemp -d /tmp/mflow-run.XXXXXX)
pids=()
declare -A admin # service name -> admin API base URL

say() { echo "run: $*"; }

cleanup() {
  trap - EXIT INT TERM
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null; done
  wait 2>/dev/null
  say "stopped; logs in $logdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for_line() { # file pattern seconds
  local end=$((SECONDS + $3))
  while ((SECONDS < end)); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

start_broker() {
  say "starting mf-broker on $url"
  "$bin/mf-broker" --port "$port" >"$logdir/broker.out" 2>"$logdir/broker.log" &
  pids+=($!)
  if ! wait_for_line "$logdir/broker.out" "listening" 30; then
    say "mf-broker did not start (is port $port in use?):"; cat "$logdir/broker.log"; exit 1
  fi
}

# Every build/bin/*-service: started with the broker, a database in the log folder, and
# its admin API where it says ("NAME listening on http://ADDR:PORT" on its stdout).
# user-service starts first: campaign-service is told where its admin API is (--user-service),
# which with MF_PORT is a free port known only once user-service listens.
start_services() {
  local exe name http=() exes=("$bin/user-service") args
  [ -n "${MF_PORT:-}" ] && http=(--http 127.0.0.1:0)
  for exe in "$bin"/*-service; do
    [ "$exe" = "$bin/user-service" ] || exes+=("$exe")
  done
  for exe in "${exes[@]}"; do
    [ -x "$exe" ] || continue
    name=$(basename "$exe")
    args=()
    if [ "$name" = campaign-service ] && [ -n "${admin[user-service]:-}" ]; then
      args=(--user-service "${admin[user-service]}")
      say "starting $name (asking user-service at ${admin[user-service]})"
    else
      say "starting $name"
    fi
    "$exe" --server "$url" --db "$logdir/$name.db" "${http[@]}" "${args[@]}" >"$logdir/$name.out" 2>"$logdir/$name.log" &
    pids+=($!)
    if ! wait_for_line "$logdir/$name.out" "listening on http://" 60; then
      say "$name did not start:"; tail -20 "$logdir/$name.log"; exit 1
    fi
    admin[$name]=$(sed -n 's/.* listening on \(http:\/\/[^ ]*\).*/\1/p' "$logdir/$name.out" | head -1)
    say "  $name admin API on ${admin[$name]} (log: $logdir/$name.log)"
  done
}

validate_examples() {
  say "validating the contract's example messages with mf-validate"
  local f msg
  for f in "$here"/generated/examples/*.json; do
    msg=$(basename "$f" | cut -d. -f1)
    if "$bin/mf-validate" "$msg" "$f" >/dev/null; then
      echo "  ok       $(basename "$f")"
    else
      echo "  INVALID  $(basename "$f")"; "$bin/mf-validate" "$msg" "$f"
    fi
  done
}

watch_events() {
  [ -x "$bin/mfctl" ] || return 0
  say "mfctl subscribes to '>' (everything that crosses the broker goes to $logdir/events.log)"
  "$bin/mfctl" --server "$url" sub '>' >"$logdir/events.log" 2>"$logdir/events.err" &
  pids+=($!)
  if ! wait_for_line "$logdir/events.err" "subscribed" 30; then
    say "mfctl sub did not subscribe:"; cat "$logdir/events.err"; exit 1
  fi
}

# Lines cut at N characters (not bytes: never in the middle of a UTF-8 character), indented.
clip() { # N
  python3 -c 'import sys
n = int(sys.argv[1])
for line in sys.stdin.buffer:
    t = line.decode("utf-8", "replace").rstrip("\n")
    print("  " + (t if len(t) <= n else t[:n] + "..."))' "$1"
}

count_events() { # subject
  grep -ac "^$1 {" "$logdir/events.log" 2>/dev/null || true
}

# The User Service: import a demo population, wait until every event is out, show them.
demo_user_service() {
  local base=${admin[user-service]:-}
  [ -n "$base" ] || return 0
  say "importing $users demo users (scripts/demo_population.py --seed $seed) into user-service"
  "$here/scripts/demo_population.py" --seed "$seed" --count "$users" >"$logdir/users.ndjson"
  if ! curl -sS -X POST -H 'Content-Type: application/x-ndjson' --data-binary @"$logdir/users.ndjson" \
      "$base/users/import" >"$logdir/import.json"; then
    say "the import failed"; return 1
  fi
  local created
  created=$(python3 - "$logdir/import.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"  lines {s['lines']}, created {s['created']}, updated {s['updated']}, "
      f"unchanged {s['unchanged']}, rejected {s['rejected']}", file=sys.stderr)
print(s["created"])
EOF
  ) || { say "unexpected import answer:"; cat "$logdir/import.json"; echo; return 1; }
  wait_user_events "$base" "$created"
  show_user_events
  ask_user_info "$(head -1 "$logdir/users.ndjson" | python3 -c 'import json,sys; print(json.load(sys.stdin)["user_id"])')"
}

# Until the outbox is empty and the subscriber has every announcement (at most two minutes).
wait_user_events() { # base created
  local end=$((SECONDS + 120))
  while ((SECONDS < end)); do
    if curl -sf "$1/healthz" | grep -q '"backlog":0' && (($(count_events notification.preferences.update) >= $2)); then
      return 0
    fi
    sleep 0.2
  done
  say "not every event arrived within two minutes (see $logdir/user-service.log)"
}

show_user_events() {
  local s
  say "events user-service published (after each commit, through its outbox), by channel:"
  for s in user.info.update user.analytics notification.preferences.update; do
    printf '  %-32s %6d\n' "$s" "$(count_events "$s")"
  done
  say "a sample (the first user's three events):"
  grep -a -m1 -A2 "^user.info.update {" "$logdir/events.log" | clip 220
}

ask_user_info() { # user_id
  [ -x "$bin/mfctl" ] || return 0
  say "user.info.request for the first demo user, and for an unknown one:"
  echo "{\"user_id\":\"$1\"}" | "$bin/mfctl" --server "$url" req user.info.request - 2>&1 | sed 's/^/  /'
  echo '{"user_id":"00000000-0000-4000-8000-000000000000"}' |
    "$bin/mfctl" --server "$url" req user.info.request - 2>&1 | sed 's/^/  /'
}

# The Campaign Service: a localized A/B campaign with quiet hours, run on the demo population.
demo_campaign_service() {
  local base=${admin[campaign-service]} n cid xid end watcher
  [ -x "$bin/mfctl" ] || return 0
  n=$(wc -l <"$logdir/users.ndjson" 2>/dev/null || echo 0)
  say "campaign-service builds its view of the users from user-service's events"
  end=$((SECONDS + 120))
  until curl -sf "$base/stats" | python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["users"] < int(sys.argv[1]))' "$n"; do
    ((SECONDS < end)) || { say "the view did not reach $n users (see $logdir/campaign-service.log)"; return 1; }
    sleep 0.2
  done
  curl -sf "$base/stats" | python3 -c 'import json, sys; s = json.load(sys.stdin)
print("  %d users in the view (%d events applied)" % (s["users"], s["view_events"]))'
  cid=$(python3 -c 'import uuid; print(uuid.uuid4())')
  xid=$(python3 -c 'import uuid; print(uuid.uuid4())')
  "$here/scripts/demo_campaign.py" --campaign-id "$cid" >"$logdir/campaign.json"
  say "campaign.create: an A/B test (50/50) in 7 languages for active and new users, quiet hours respected"
  "$bin/mfctl" --server "$url" pub campaign.create "$logdir/campaign.json" 2>&1 | sed 's/^/  /'
  end=$((SECONDS + 30))
  until curl -sf "$base/campaigns/$cid" >/dev/null; do
    ((SECONDS < end)) || { say "the campaign was not stored:"; curl -s "$base/campaigns/refused"; echo; return 1; }
    sleep 0.1
  done
  curl -sf "$base/campaigns" | python3 -c 'import json, sys
for c in json.load(sys.stdin)["campaigns"]:
    if c["campaign_id"] == sys.argv[1]:
        print("  stored; estimated reach %d users" % c["estimated_reach"])' "$cid"
  say "campaign.execute $xid; its progress on campaign.status (mfctl campaign watch):"
  # its stderr to the log: it is stopped below, which it reports ("interrupted while ...")
  "$bin/mfctl" --server "$url" campaign watch "$xid" --timeout 10m 2>>"$logdir/mfctl-watch.log" &
  watcher=$!
  sleep 0.5 # the watcher subscribes first
  echo "{\"execution_id\":\"$xid\",\"campaign_id\":\"$cid\",\"execution_type\":\"immediate\"}" |
    "$bin/mfctl" --server "$url" pub campaign.execute - >/dev/null 2>&1
  # every target decided: sent, skipped, failed, or held until its quiet hours end
  end=$((SECONDS + 300))
  until curl -sf "$base/executions/$xid" | python3 -c 'import json, sys; x = json.load(sys.stdin)
sys.exit(x["status"] == "running" and x["sent"] + x["failed"] + x["skipped"] + x["held"] < x["total_targets"])'; do
    ((SECONDS < end)) || break
    sleep 0.2
  done
  sleep 1
  kill "$watcher" 2>/dev/null
  wait "$watcher" 2>/dev/null
  echo
  say "every target decided (held ones wait for their quiet hours): the watch stops here"
  show_campaign_samples "$xid"
  show_campaign_summary "$base" "$xid"
}

# One delivered notification per language and variant, from the subscriber's log.
show_campaign_samples() { # execution_id
  say "delivered notifications, one per language and variant (what the subscriber saw):"
  python3 - "$logdir/events.log" "$logdir/users.ndjson" "$1" <<'PY'
import json, sys
langs = {}
for line in open(sys.argv[2], encoding="utf-8"):
    u = json.loads(line)
    langs[u["user_id"]] = u["language"]
seen = {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    subject, _, payload = line.partition(" ")
    if not subject.startswith("notification.user."):
        continue
    try:
        p = json.loads(payload)
    except ValueError:
        continue
    if p.get("data", {}).get("execution_id") != sys.argv[3]:
        continue
    seen.setdefault((langs.get(p["user_id"], "?"), p["data"].get("variant", "-")), p)
for (lang, variant), p in sorted(seen.items()):
    text = p["title"] + " | " + p["body"]
    print("  %-6s %s  %s" % (lang, variant, text if len(text) <= 110 else text[:110] + "..."))
PY
  say "a sample of each kind of message the campaign caused:"
  local s
  for s in campaign.analytics campaign.status 'notification\.user\.[^ ]*\.push'; do
    grep -a -m1 "^$s {" "$logdir/events.log" | clip 200
  done
}

show_campaign_summary() { # base execution_id
  say "summary of execution $2:"
  curl -sf "$1/executions/$2" | python3 -c 'import json, sys; x = json.load(sys.stdin); t = x.get("targets", {})
pref = t.get("skipped:push_disabled", 0) + t.get("skipped:category_disabled", 0)
print("  %s: targets %d, sent %d, skipped by preference %d, held by quiet hours %d, failed %d"
      % (x["status"], x["total_targets"], x["sent"], pref, x["held"], x["failed"]))
if x["held"]:
    print("  (held notifications go out when each user\u2019s quiet hours end; the execution completes then)")'
}

# One example of every message the services send, each on its channel.
demo_examples() {
  [ -x "$bin/mfctl" ] || return 0
  say "mfctl demo publishes one example of every message the services send (the Campaign Service's, until it is built)"
  local before
  before=$(wc -l <"$logdir/events.log")
  "$bin/mfctl" --server "$url" demo "$here/generated/examples" >"$logdir/demo.log" 2>&1 || true
  local end=$((SECONDS + 30))
  while ((SECONDS < end)) && ! grep -aq '^notification.user\.[^ ]*\.push {' "$logdir/events.log"; do sleep 0.1; done
  say "what the subscriber saw of them:"
  tail -n +$((before + 1)) "$logdir/events.log" | grep -av '^_INBOX' | head -40 | clip 200
}

main() {
  start_broker
  start_services
  validate_examples
  watch_events
  demo_user_service
  if [ -n "${admin[campaign-service]:-}" ]; then demo_campaign_service; else demo_examples; fi
  if [ "${MF_RUN_ONCE:-0}" = 1 ]; then exit 0; fi
  say "the system is up: broker $url; admin APIs: ${admin[*]:-none}. Ctrl-C stops it (logs in $logdir)"
  wait
}

main
