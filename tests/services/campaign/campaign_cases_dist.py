"""Cases of campaign_e2e.py about outages and replicas: the user view caught up after the
broker restarts (republish since the last event, services/campaign/cs_refresh.c)."""

import datetime as dt
import os
import signal
import threading
import time
import uuid
from typing import List, Set, Tuple

import campaign_cases as cc
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


# ---------------------------------------------------------------- replicas on one database

def start_replicas(env: Env, n: int = 2, lease_ms: int = 3000) -> List[h.Service]:
    """n campaign-service replicas on ONE database file (--shared-db, leases of lease_ms)."""
    shared = os.path.join(env.workdir, "campaign-shared.db")
    return [env.start_campaign(db=shared, extra=["--shared-db", "--lease", str(lease_ms)]) for _ in range(n)]


def wait_shared_view(env: Env, n: int) -> None:
    """The shared view holds n live users (the events are split between the replicas)."""
    def have() -> bool:
        return env.campaign.db_query("SELECT count(*) FROM cs_users WHERE deleted_at IS NULL "
                                     "AND profile_at IS NOT NULL AND prefs_at IS NOT NULL")[0][0] >= n
    wait_until(have, f"the shared view to hold {n} users")


def owner_of(env: Env, replicas: List[h.Service], xid: str) -> h.Service:
    """The replica whose pid holds the execution's lease."""
    def held() -> List[h.Service]:
        rows = env.campaign.db_query("SELECT pid FROM cs_leases WHERE execution_id = ?", (xid,))
        return [r for r in replicas if rows and r.alive() and r.proc.pid == rows[0][0]]
    return wait_until(lambda: (held() or [None])[0], f"the lease of {xid}")


@case
def replicas_share_one_database_and_take_over(env: Env) -> None:
    """Two replicas on one database file: a campaign created through the bus (one replica
    stores it) is executed by whichever replica gets campaign.execute; that replica holds the
    execution's lease. SIGKILLed mid-execution, the other replica adopts the execution (its
    lease's pid is gone) and finishes it: missing 0, duplicates after de-duplication by
    notification_id 0, raw duplicates at most one batch."""
    people = cc.population(600, dt.datetime.now(dt.timezone.utc), seed=66)
    env.start_users()
    replicas = start_replicas(env)
    env.import_users(people)
    wait_shared_view(env, len(people))
    cid, xid = cc.new_id(), cc.new_id()
    # 300 a second: killed after 100, the holder is mid-way (without a rate limit it can complete
    # the 600 before the subscriber has seen 100, and then no replica takes anything over)
    env.create(cc.campaign(cid, {"user_segments": ["all_users"]}, max_retries=2, batch_size=20, rate_limit=300,
                           respect_quiet_hours=False))
    env.execute(xid, cid)
    owner = owner_of(env, replicas, xid)
    other = next(r for r in replicas if r is not owner)
    env.sub.wait_count(100, lambda m: m[0].startswith("notification.user.") and isinstance(m[1], dict)
                       and m[1].get("data", {}).get("execution_id") == xid)
    owner.signal(signal.SIGKILL)
    owner.wait()
    sent = other.db_query("SELECT sent FROM cs_executions WHERE execution_id = ?", (xid,))[0][0]
    check(sent < len(people), f"the holder completed the execution ({sent} sent) before it was killed: nothing tested")
    env.campaign = other
    x = env.wait_status(xid, "completed", timeout=h.DEADLINE * 3)
    want = {u["user_id"] for u in people}
    wait_until(lambda: {p["user_id"] for _, p in env.pushes(xid)} >= want, "every notification")
    ids = [p["notification_id"] for _, p in env.pushes(xid)]
    unique = set(ids)
    check(x["sent"] == len(people) and len(unique) == len(people), f"missing {len(people) - len(unique)}: {x}")
    dups = len(ids) - len(unique)
    check(dups <= 20, f"{dups} raw duplicates, more than one batch (20)")
    check(not other.db_query("SELECT * FROM cs_leases WHERE execution_id = ?", (xid,)), "the lease is released")
    print(f"      owner SIGKILLed, the other replica finished: missing 0, raw duplicates {dups} (at most one "
          f"batch, 20), after de-duplication by notification_id 0")


def admin_at(replica: h.Service, xid: str, action: str, want: int) -> dict:
    """POST /executions/{xid}/{action} at replica; the answer must have status want."""
    st, body = replica.http("POST", f"/executions/{xid}/{action}")
    check(st == want, f"{action} at {replica.http_port}: {st} {body}, expected {want}")
    return body


def accepted_for(owner: h.Service, body: dict, action: str) -> dict:
    """A 202 answer: the execution with its request, pending, for the replica that runs it."""
    req = body.get("request", {})
    check(req.get("action") == action and req.get("status") == "pending" and req.get("request_id", 0) > 0,
          f"{action}: request {req}")
    check(f"/{owner.proc.pid}/" in req.get("holder", "") and f"/{owner.proc.pid}/" in body.get("run_by", ""),
          f"{action}: the holder named is not the replica of pid {owner.proc.pid}: {body}")
    return req


def settled(env: Env, replica: h.Service, owner: h.Service, xid: str, request_id: int) -> dict:
    """The request as GET /executions/{xid} at replica shows it once applied by owner."""
    st, x = replica.http("GET", f"/executions/{xid}")
    req = x.get("request", {})
    check(st == 200 and req.get("request_id") == request_id and req.get("status") == "applied" and
          f"/{owner.proc.pid}/" in req.get("settled_by", "") and req.get("waited_ms", -1) >= 0, f"request {req}")
    return req


def logged(s: h.Service, text: str) -> bool:
    with open(s.log, encoding="utf-8", errors="replace") as f:
        return text in f.read()


@case
def replicas_pause_resume_cancel_at_any_replica(env: Env) -> None:
    """Two replicas on one database: pause, resume and cancel sent to the replica that does NOT
    run the execution are recorded for the lease holder (202, the holder named), which applies
    them at its next batch end or lease tick: paused (announced on campaign.status, every sent
    notification published), resumed to completion with exact counts; a second execution
    cancelled the same way. Wrong states still answer 409 INVALID_STATE, an unknown execution
    404, and both replicas log the request and its settling."""
    people = cc.population(300, dt.datetime.now(dt.timezone.utc), seed=88)
    env.start_users()
    # leases of 10 s: a holder that a loaded machine stalls for 3 s loses a 3 s lease to the
    # other replica, which then answers as the holder (200) - seen once under the full suite
    replicas = start_replicas(env, lease_ms=10000)
    env.import_users(people)
    wait_shared_view(env, len(people))
    cid, xid = cc.new_id(), cc.new_id()
    env.create(cc.campaign(cid, {"user_segments": ["all_users"]}, max_retries=0, batch_size=5, rate_limit=20,
                           respect_quiet_hours=False))
    env.execute(xid, cid)
    owner = owner_of(env, replicas, xid)
    other = next(r for r in replicas if r is not owner)
    env.campaign = other  # every read below goes to the replica that does not run it
    env.sub.wait_count(10, lambda m: m[0].startswith("notification.user.") and isinstance(m[1], dict)
                       and m[1].get("data", {}).get("execution_id") == xid)
    req = accepted_for(owner, admin_at(other, xid, "pause", 202), "pause")
    # while pending: the same request - unless the holder applied it in between (its next batch end
    # is <= 250 ms away; a loaded machine, or ASan, can take that long between the two requests):
    # then the execution is paused and a pause is refused as at the holder
    st, body = other.http("POST", f"/executions/{xid}/pause")
    latest = req
    if st == 202:
        again = body["request"]
        if again["request_id"] != req["request_id"]:
            # or the holder applied the first one in between (seen once in ~20 runs, the two requests
            # 3 ms apart): the execution then pauses at its next step and is running meanwhile, so
            # the second is a request of its own, which the holder applies or refuses in its turn
            check(again["request_id"] > req["request_id"] and
                  logged(owner, f"request {req['request_id']} (pause, received by the replica"),
                  f"a second pause made a new request while the first was pending: {again} vs {req}")
            latest = again
    else:
        check(st == 409 and body.get("error", {}).get("code") == "INVALID_STATE" and "paused" in
              body["error"].get("message", ""), f"a second pause: {st} {body}, expected 202 (pending) or 409 (paused)")
    x = env.wait_status(xid, "paused")
    env.wait_status_msg(xid, "paused")
    n = len(env.pushes(xid))
    check(n == x["sent"] and 0 < n < len(people), f"paused with {x['sent']} sent, {n} pushed of {len(people)}")
    if latest is req:
        waited = settled(env, other, owner, xid, req["request_id"])["waited_ms"]
    else:
        def second_settled() -> dict:
            r = other.http("GET", f"/executions/{xid}")[1].get("request", {})
            return r if r.get("request_id") == latest["request_id"] and r.get("status") in ("applied", "refused") \
                else {}
        waited = wait_until(second_settled, "the second pause to be settled").get("waited_ms")
    st, listed = other.http("GET", f"/executions?campaign={cid}")
    mine = [x for x in listed.get("executions", []) if x["execution_id"] == xid]
    check(st == 200 and len(mine) == 1 and mine[0].get("request", {}).get("request_id") == latest["request_id"]
          and f"/{owner.proc.pid}/" in mine[0].get("run_by", ""), f"the list shows the holder and the request: {listed}")
    body = admin_at(other, xid, "pause", 409)  # the same error as at the holder
    check(body["error"]["code"] == "INVALID_STATE" and "paused" in body["error"]["message"], f"{body}")
    req = accepted_for(owner, admin_at(other, xid, "resume", 202), "resume")
    env.wait_status(xid, "completed")
    cc.check_progress(env, xid, len(people), len(people), 0)
    settled(env, other, owner, xid, req["request_id"])
    cc.check_pushes(env, xid, {u["user_id"] for u in people}, sample=3)
    check(len(env.pushes(xid)) == len(people), f"{len(env.pushes(xid))} notifications for {len(people)} users")
    body = admin_at(other, xid, "resume", 409)
    check(body["error"]["code"] == "INVALID_STATE" and "completed" in body["error"]["message"], f"{body}")
    admin_at(other, cc.new_id(), "cancel", 404)
    check(logged(other, f"pause requested here (request ") and logged(owner, "(pause, received by the replica") and
          logged(owner, "(resume, received by the replica"), "the requests and their settling are logged")

    xid2 = cc.new_id()
    env.execute(xid2, cid)
    owner2 = owner_of(env, replicas, xid2)
    other2 = next(r for r in replicas if r is not owner2)
    env.campaign = other2
    env.sub.wait_count(10, lambda m: m[0].startswith("notification.user.") and isinstance(m[1], dict)
                       and m[1].get("data", {}).get("execution_id") == xid2)
    req = accepted_for(owner2, admin_at(other2, xid2, "cancel", 202), "cancel")
    # a cancel is pending: as at the holder, "being cancelled"; or, when the holder's batch end came
    # first, already applied: "cancelled"
    st, body = other2.http("POST", f"/executions/{xid2}/pause")
    lease = other2.db_query("SELECT owner, pid, expires_at FROM cs_leases WHERE execution_id = ?", (xid2,))
    check(st == 409 and ("being cancelled" in body["error"]["message"] or "cancelled" in body["error"]["message"]),
          f"pause while a cancel is pending: {st} {body}; lease {lease}; holder pid {owner2.proc.pid}")
    x = env.wait_status(xid2, "cancelled")
    env.wait_status_msg(xid2, "cancelled")
    check(x["sent"] < len(people) and len(env.pushes(xid2)) == x["sent"], f"cancelled: {x}")
    settled(env, other2, owner2, xid2, req["request_id"])
    check([s["status"] for s in env.statuses(xid2)][-1] == "cancelled", "the last status is cancelled")
    check(not other2.db_query("SELECT * FROM cs_leases WHERE execution_id = ?", (xid2,)), "the lease is released")
    print(f"      pause at the other replica applied after {waited} ms ({n} of {len(people)} sent), resumed to "
          f"{len(people)}; cancel applied, {x['sent']} sent")


@case
def replicas_resume_after_the_holder_died(env: Env) -> None:
    """An execution paused through the other replica, then its replica SIGKILLed: a resume sent
    to the survivor is applied there at once (200: it adopts the execution, whose lease's pid is
    gone, or already adopted it on its lease tick), and the execution completes: missing 0."""
    people = cc.population(200, dt.datetime.now(dt.timezone.utc), seed=99)
    env.start_users()
    replicas = start_replicas(env)
    env.import_users(people)
    wait_shared_view(env, len(people))
    cid, xid = cc.new_id(), cc.new_id()
    env.create(cc.campaign(cid, {"user_segments": ["all_users"]}, max_retries=0, batch_size=5, rate_limit=20,
                           respect_quiet_hours=False))
    env.execute(xid, cid)
    owner = owner_of(env, replicas, xid)
    other = next(r for r in replicas if r is not owner)
    env.campaign = other
    env.sub.wait_count(10, lambda m: m[0].startswith("notification.user.") and isinstance(m[1], dict)
                       and m[1].get("data", {}).get("execution_id") == xid)
    accepted_for(owner, admin_at(other, xid, "pause", 202), "pause")
    paused = env.wait_status(xid, "paused")
    owner.signal(signal.SIGKILL)
    owner.wait()
    body = admin_at(other, xid, "resume", 200)
    check(body["status"] == "running" and f"/{other.proc.pid}/" in body.get("run_by", ""), f"resume: {body}")
    x = env.wait_status(xid, "completed", timeout=h.DEADLINE * 3)
    want = {u["user_id"] for u in people}
    wait_until(lambda: {p["user_id"] for _, p in env.pushes(xid)} >= want, "every notification")
    unique = {p["notification_id"] for _, p in env.pushes(xid)}
    check(x["sent"] == len(people) and len(unique) == len(people), f"missing {len(people) - len(unique)}: {x}")
    print(f"      paused at {paused['sent']} of {len(people)}, holder SIGKILLed, resumed at the survivor: "
          f"{x['sent']} sent, missing 0")


@case
def replicas_fire_a_schedule_once(env: Env) -> None:
    """Two replicas on one database, a scheduled campaign: the firing is claimed in one
    transaction, so exactly one execution runs and every user gets exactly one notification."""
    people = cc.population(30, dt.datetime.now(dt.timezone.utc), seed=77)
    env.start_users()
    start_replicas(env)
    env.import_users(people)
    wait_shared_view(env, len(people))
    cid = cc.new_id()
    at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=5)
    c = cc.campaign(cid, {"user_segments": ["all_users"]})
    c["schedule"] = {"type": "scheduled", "scheduled_at": cc.stamp(at)}
    env.create(c)
    xid = str(uuid.uuid5(cc.NS_EXECUTION, f"{cid}/{int(at.timestamp() * 1000)}"))
    x = env.wait_status(xid, "completed", timeout=h.DEADLINE * 2)
    env.wait_status_msg(xid, "completed")
    check(x["sent"] == len(people), f"{x}")
    got = [p["user_id"] for _, p in env.pushes(xid)]
    check(sorted(got) == sorted(u["user_id"] for u in people), f"{len(got)} notifications for {len(people)} users")
    fired = env.campaign.db_query("SELECT fired FROM cs_schedules WHERE campaign_id = ?", (cid,))[0][0]
    check(fired == 1, f"fired {fired} times")
    started = [s for s in env.statuses(xid) if s.get("status") == "running"]
    check(env.campaign.db_query("SELECT count(*) FROM cs_executions WHERE campaign_id = ?", (cid,))[0][0] == 1,
          "one execution")
    print(f"      one firing, one execution, {len(got)} notifications for {len(people)} users "
          f"({len(started)} running statuses)")
