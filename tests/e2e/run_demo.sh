#!/usr/bin/env bash
# `make run`'s script in one-shot mode on a free port: the broker starts, every
# example validates, and a subscriber sees each demo message arrive.
set -euo pipefail
root=$1 build=$2
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
out=$(MF_RUN_ONCE=1 MF_PORT=$port MF_USERS=300 "$root/scripts/run.sh" "$build" 2>&1)
echo "$out"
fail() { echo "run_demo: FAIL: $*"; exit 1; }
echo "$out" | grep -q "INVALID" && fail "an example message is invalid"
[ "$(echo "$out" | grep -c '^  ok ')" -ge 20 ] || fail "fewer than 20 examples validated"
for s in campaign.status campaign.analytics user.analytics user.info.update notification.preferences.update 'notification.user.[^ ]*.push'; do
  echo "$out" | grep -q "^  $s {" || fail "the subscriber did not see $s"
done
# The push channel's user_id comes from the payload (location): the subject names the payload's user.
push=$(echo "$out" | grep -m1 '^  notification\.user\.[^ ]*\.push {')
subject_user=$(echo "$push" | sed -E 's/^  notification\.user\.([^ ]*)\.push .*/\1/')
echo "$push" | grep -q "\"user_id\":\"$subject_user\"" || fail "the push notification's subject names another user than its payload"
# the User Service: the demo population imported, every user announced, a request answered
if [ -x "$build/bin/user-service" ]; then
  echo "$out" | grep -q "lines 300, created 300, updated 0, unchanged 0, rejected 0" || fail "the import of 300 users"
  for s in user.info.update user.analytics notification.preferences.update; do
    echo "$out" | grep -Eq "^  $s +300$" || fail "user-service did not announce 300 $s events"
  done
  echo "$out" | grep -q '"name":' || fail "user.info.request was not answered with a profile"
  echo "$out" | grep -q '"code":"USER_NOT_FOUND"' || fail "an unknown user was not reported"
fi
echo "run_demo: ok"
