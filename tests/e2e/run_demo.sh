#!/usr/bin/env bash
# `make run`'s script in one-shot mode on a free port: the broker starts, every
# example validates, and a subscriber sees each demo message arrive.
# (Checks read $out through here-strings, not `echo | grep -q`: under pipefail, grep -q
# exiting at its first match makes echo die of SIGPIPE and the check fail at random.)
set -euo pipefail
root=$1 build=$2
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
out=$(MF_RUN_ONCE=1 MF_PORT=$port MF_USERS=300 "$root/scripts/run.sh" "$build" 2>&1)
echo "$out"
fail() { echo "run_demo: FAIL: $*"; exit 1; }
grep -q "INVALID" <<<"$out" && fail "an example message is invalid"
[ "$(grep -c '^  ok ' <<<"$out")" -ge 20 ] || fail "fewer than 20 examples validated"
for s in campaign.status campaign.analytics user.analytics user.info.update notification.preferences.update 'notification.user.[^ ]*.push'; do
  grep -q "^  $s {" <<<"$out" || fail "the subscriber did not see $s"
done
# The push channel's user_id comes from the payload (location): the subject names the payload's user.
push=$(grep -m1 '^  notification\.user\.[^ ]*\.push {' <<<"$out")
subject_user=$(echo "$push" | sed -E 's/^  notification\.user\.([^ ]*)\.push .*/\1/')
grep -q "\"user_id\":\"$subject_user\"" <<<"$push" || fail "the push notification's subject names another user than its payload"
# the User Service: the demo population imported, every user announced, a request answered
if [ -x "$build/bin/user-service" ]; then
  grep -q "lines 300, created 300, updated 0, unchanged 0, rejected 0" <<<"$out" || fail "the import of 300 users"
  for s in user.info.update user.analytics notification.preferences.update; do
    grep -Eq "^  $s +300$" <<<"$out" || fail "user-service did not announce 300 $s events"
  done
  grep -q '"name":' <<<"$out" || fail "user.info.request was not answered with a profile"
  grep -q '"code":"USER_NOT_FOUND"' <<<"$out" || fail "an unknown user was not reported"
fi
# the Campaign Service: the demo campaign stored, executed, its notifications localized, a summary
if [ -x "$build/bin/campaign-service" ]; then
  # on a free port, campaign-service must ask this run's user-service, not the default port's
  if [ -x "$build/bin/user-service" ]; then
    user_api=$(sed -n 's/^.*  user-service admin API on \(http:[^ ]*\) .*/\1/p' <<<"$out" | head -1)
    [ -n "$user_api" ] || fail "no admin API address for user-service"
    grep -qF "starting campaign-service (asking user-service at $user_api)" <<<"$out" ||
      fail "campaign-service was not pointed at this run's user-service ($user_api)"
  fi
  grep -q "users in the view" <<<"$out" || fail "campaign-service did not build its view of the users"
  grep -q "stored; estimated reach" <<<"$out" || fail "the demo campaign was not stored"
  grep -Eq "^  (running|completed): targets [0-9]+, sent [1-9][0-9]*, skipped by preference [0-9]+, held by quiet hours [0-9]+, failed 0$" <<<"$out" ||
    fail "no summary of the demo execution with notifications sent and none failed"
  grep -Eq "^  de-[A-Z]{2} +[AB]  (Frühlingsangebot|.*auf alles)" <<<"$out" || fail "no German notification"
fi
echo "run_demo: ok"
