"""Cases of campaign_e2e.py about outages and replicas: the user view caught up after the
broker restarts (republish since the last event, services/campaign/cs_refresh.c)."""

import signal
import threading
import time
from typing import Dict, List, Set, Tuple

import svc_harness as h
from svc_harness import case, check, wait_until
from campaign_cases import Env


def user_rows(env: Env) -> Set[Tuple[str, str, str]]:
    """The User Service's users: (user_id, name, plan)."""
    return set(env.users.db_query("SELECT user_id, name, plan FROM users"))


def view_rows(env: Env) -> Set[Tuple[str, str, str]]:
    """The Campaign Service's live users: (user_id, name, plan)."""
    return set(env.campaign.db_query("SELECT user_id, name, plan FROM cs_users WHERE deleted_at IS NULL"))


class Churn:
    """Creates, renames, upgrades and deletes users over HTTP at a steady pace in a thread, so
    that changes are committed while the broker is down."""

    def __init__(self, env: Env) -> None:
        self.env, self.ids, self.failures, self.done = env, [], [], 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def step(self, i: int) -> None:
        svc = self.env.users
        if i % 5 == 3 and self.ids:  # rename and upgrade an earlier user
            uid = self.ids[(i * 7) % len(self.ids)]
            st, body = svc.http("PATCH", f"/users/{uid}", {"name": f"Renamed {i}", "plan": "premium"}, timeout=30)
        elif i % 5 == 4 and len(self.ids) > 3:  # delete one
            uid = self.ids.pop((i * 3) % len(self.ids))
            st, body = svc.http("DELETE", f"/users/{uid}", timeout=30)
        else:
            st, body = svc.http("POST", "/users", {"email": f"churn{i}@example.com", "name": f"Churn {i}"}, timeout=30)
            if st == 201:
                self.ids.append(body["user_id"])
        if st not in (200, 201, 204):
            raise AssertionError(f"step {i}: {st} {body}")

    def run(self) -> None:
        i = 0
        try:
            while not self.stop.is_set():
                self.step(i)
                i += 1
                self.done = i
                time.sleep(0.01)  # a steady pace (not synchronisation: nothing waits on it)
        except (OSError, AssertionError) as e:
            self.failures.append(repr(e))


def broker_down_and_up(env: Env, churn: Churn, r: int) -> None:
    """SIGKILL the broker once some changes went through, 0.5 s down at least, the same port again."""
    n0 = churn.done
    wait_until(lambda: churn.done >= n0 + 10 or not churn.thread.is_alive(), f"round {r}: changes")
    env.broker.stop(signal.SIGKILL)
    down = time.monotonic()
    wait_until(lambda: not env.campaign.health()[1].get("broker", {}).get("connected", True), "the outage seen")
    time.sleep(max(0.0, 0.5 - (time.monotonic() - down)))  # the outage lasts 0.5 s (changes go on meanwhile)
    env.broker.start()
    wait_until(lambda: env.users.health()[1].get("broker", {}).get("connected") and
               env.campaign.health()[1].get("broker", {}).get("connected"), f"round {r}: reconnected")


@case
def view_converges_after_broker_restarts(env: Env) -> None:
    """Users are created, changed and deleted while the broker is SIGKILLed and restarted three
    times; what the User Service published during each outage never reached the Campaign
    Service (core NATS). Without any POST /users/refresh its view must end up equal to the User
    Service's users (ids, names, plans, deletions), because it asks for a republish since its
    newest event after every reconnect."""
    env.start_users()
    env.start_campaign()
    churn = Churn(env)
    churn.thread.start()
    try:
        for r in range(1, 4):
            broker_down_and_up(env, churn, r)
        n0 = churn.done
        wait_until(lambda: churn.done >= n0 + 10 or not churn.thread.is_alive(), "changes after the last outage")
    finally:
        churn.stop.set()
        churn.thread.join(h.DEADLINE)
    check(not churn.failures, f"changes failed: {churn.failures[:3]}")
    env.users.wait_outbox_empty()
    want = user_rows(env)
    check(len(want) >= 10, f"only {len(want)} users")
    wait_until(lambda: view_rows(env) == want, f"the view to equal the User Service's {len(want)} users",
               timeout=h.DEADLINE * 2)
    st, stats = env.campaign.http("GET", "/stats")
    check(st == 200 and stats["refresh_since"] >= 1 and stats["refresh_failures"] >= 0, f"{stats}")
    print(f"      {churn.done} changes, 3 broker restarts: the view holds exactly the {len(want)} users; "
          f"republish requests since={stats['refresh_since']} full={stats['refresh_full']}")
