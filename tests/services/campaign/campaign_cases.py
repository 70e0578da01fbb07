"""The cases of campaign_e2e.py: campaign-service with user-service, a broker, and the bus.

Each case builds its population in Python (so the expected targets are computed here,
independently of the service), imports it into user-service, and waits until the Campaign
Service's view has it (GET /stats)."""

import datetime as dt
import hashlib
import json
import math
import os
import random
import signal
import uuid
from typing import Any, Dict, List, Optional, Set, Tuple

import svc_harness as h
from svc_harness import case, check, wait_until

NS_NOTIFICATION = uuid.UUID("09d98a67-2a3d-53e0-b54a-67efccab67d8")
NS_EXECUTION = uuid.UUID("8d18d243-402e-5a5a-ae87-ebb2014f304a")
DAY = dt.timedelta(days=1)

LOCALES = {"de-DE": "Europe/Berlin", "de-AT": "Europe/Vienna", "fr-FR": "Europe/Paris", "en-US": "America/New_York",
           "ja-JP": "Asia/Tokyo", "es-MX": "America/Mexico_City"}


def stamp(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def new_id() -> str:
    return str(uuid.uuid4())


class Env:
    """What a case works with; everything it starts is stopped by close()."""

    def __init__(self, broker: h.Broker, build: str, workdir: str) -> None:
        self.broker, self.build, self.workdir = broker, build, workdir
        self.bin = os.path.join(build, "bin")
        self.validator = h.Validator(os.path.join(self.bin, "mf-validate"))
        self.sub = h.Subscriber(broker.port, ">")
        self.pubc = h.Nats(broker.port)
        self.services: List[h.Service] = []
        self.users: Optional[h.Service] = None
        self.campaign: Optional[h.Service] = None

    # ---- processes ----
    def start_users(self) -> h.Service:
        self.users = h.Service(os.path.join(self.bin, "user-service"), self.broker.url, self.workdir, name="user")
        self.services.append(self.users)
        return self.users.start()

    def start_campaign(self, clock: Optional[str] = None, db: Optional[str] = None,
                       extra: Optional[List[str]] = None) -> h.Service:
        args = ["--user-service", f"http://{h.HOST}:{self.users.http_port}" if self.users else ""]
        if clock:
            args += ["--clock", clock]
        s = h.Service(os.path.join(self.bin, "campaign-service"), self.broker.url, self.workdir,
                      db=db or (self.campaign.db if self.campaign else None), name="campaign", extra=args + (extra or []))
        self.services.append(s)
        self.campaign = s
        return s.start()

    def stop_services(self) -> None:
        for s in self.services:
            if s.alive():
                rc = s.stop()
                if rc != 0:
                    raise AssertionError(f"{s.name} exited with {rc} on SIGTERM; see {s.log}")

    def close(self) -> None:
        for s in self.services:
            try:
                s.stop()
            except AssertionError:
                pass
        self.pubc.close()
        self.sub.close()

    # ---- data ----
    def import_users(self, users: List[Dict[str, Any]]) -> None:
        raw = "".join(json.dumps(u) + "\n" for u in users).encode()
        st, body = self.users.http("POST", "/users/import", raw=raw, headers={"Content-Type": "application/x-ndjson"})
        check(st == 200 and body["created"] == len(users), f"import: {st} {body}")

    def wait_view(self, n: int) -> None:
        def have() -> bool:
            st, s = self.campaign.http("GET", "/stats")
            return st == 200 and s["users"] >= n and s["view_events"] >= 2 * n
        wait_until(have, f"the campaign service's view to hold {n} users")

    def publish(self, subject: str, payload: Dict[str, Any]) -> None:
        self.pubc.pub(subject, json.dumps(payload).encode())
        self.pubc.flush()

    def create(self, campaign: Dict[str, Any]) -> Dict[str, Any]:
        """Publishes campaign.create and waits until GET /campaigns lists it."""
        self.publish("campaign.create", campaign)

        def listed() -> Optional[Dict[str, Any]]:
            st, body = self.campaign.http("GET", "/campaigns")
            return next((c for c in body["campaigns"] if c["campaign_id"] == campaign["campaign_id"]), None)
        return wait_until(listed, f"campaign {campaign['campaign_id']} to be stored")

    def execute(self, execution_id: str, campaign_id: str, **extra: Any) -> None:
        self.publish("campaign.execute", dict(execution_id=execution_id, campaign_id=campaign_id,
                                              execution_type="immediate", **extra))

    def execution(self, execution_id: str) -> Tuple[int, Any]:
        return self.campaign.http("GET", f"/executions/{execution_id}")

    def wait_status(self, execution_id: str, status: str, timeout: float = h.DEADLINE * 2) -> Dict[str, Any]:
        def reached() -> Optional[Dict[str, Any]]:
            st, x = self.execution(execution_id)
            return x if st == 200 and x["status"] == status else None
        return wait_until(reached, f"execution {execution_id} to be {status}", timeout)

    def wait_status_msg(self, execution_id: str, status: str) -> None:
        """Waits for the campaign.status message that announces status. The service publishes it
        after the notifications it reports, on the same connection, so once it is here every
        push before it is here too (the HTTP view can be ahead of the subscriber)."""
        self.sub.wait_count(1, lambda m: m[0] == "campaign.status" and isinstance(m[1], dict)
                            and m[1].get("execution_id") == execution_id and m[1].get("status") == status,
                            timeout=h.DEADLINE * 2)

    def pushes(self, execution_id: str) -> List[Tuple[str, Dict[str, Any]]]:
        return [m for m in self.sub.snapshot() if m[0].startswith("notification.user.") and isinstance(m[1], dict)
                and m[1].get("data", {}).get("execution_id") == execution_id]

    def statuses(self, execution_id: str) -> List[Dict[str, Any]]:
        return [m[1] for m in self.sub.snapshot() if m[0] == "campaign.status" and isinstance(m[1], dict)
                and m[1].get("execution_id") == execution_id]

    def error_code_header(self, campaign_id: str, event_type: str) -> List[str]:
        """The Mflow-Error-Code headers of the campaign's analytics events of that type."""
        with self.sub.cv:
            got = list(self.sub.headers)
        out = []
        for subject, payload, head in got:
            if subject == "campaign.analytics" and isinstance(payload, dict) and \
                    payload.get("campaign_id") == campaign_id and payload.get("event_type") == event_type:
                for line in head.decode(errors="replace").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "mflow-error-code":
                        out.append(value.strip())
        return out

    def analytics(self, campaign_id: str, event_type: str) -> List[Dict[str, Any]]:
        return [m[1] for m in self.sub.snapshot() if m[0] == "campaign.analytics" and isinstance(m[1], dict)
                and m[1].get("campaign_id") == campaign_id and m[1].get("event_type") == event_type]


# ---- populations and the independent computations ----

def population(n: int, now: dt.datetime, seed: int, **over: Any) -> List[Dict[str, Any]]:
    """n users with random language/zone, plan, registration (some just inside and just outside
    the 30-day edge), activity (some never) and default preferences; `over` fixes fields for
    everyone.

    The service's --clock starts at `now` and then runs at the real rate, so by the time it
    counts, its now is later than the test's by the seconds the case has taken. A user just
    outside an edge stays outside; a user "just inside" is 10 minutes inside (no case takes
    that long), and no random instant falls within an hour of a 30-day edge."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        lang = rng.choice(sorted(LOCALES))
        reg = off_edge(now, now - dt.timedelta(seconds=rng.randrange(400 * 86400)))
        if i % 50 == 0:
            reg = now - 30 * DAY + dt.timedelta(minutes=10)
        elif i % 50 == 25:
            reg = now - 30 * DAY - dt.timedelta(seconds=1)
        act: Optional[dt.datetime] = off_edge(now, now - dt.timedelta(seconds=rng.randrange(90 * 86400)))
        if i % 7 == 0:
            act = None
        u = {"user_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "email": f"user{i}@example.com",
             "name": f"User {i}", "language": lang, "timezone": LOCALES[lang],
             "plan": rng.choice(["free", "premium"]), "registered_at": stamp(reg),
             "preferences": {"email_enabled": True, "push_enabled": True, "sms_enabled": False,
                             "categories": {"marketing": True, "updates": True, "security": True}}}
        if act is not None:
            u["last_activity"] = stamp(act)
        u.update(over)
        out.append(u)
    return out


def off_edge(now: dt.datetime, t: dt.datetime) -> dt.datetime:
    """t, moved two hours earlier when it lies within an hour of the 30-day edge."""
    return t - 2 * dt.timedelta(hours=1) if abs((now - t) - 30 * DAY) < dt.timedelta(hours=1) else t


def selects(aud: Dict[str, Any], u: Dict[str, Any], now: dt.datetime, new_days: int = 30, active_days: int = 30) -> bool:
    reg = parse(u["registered_at"])
    act = parse(u["last_activity"]) if u.get("last_activity") else None
    segs = set(aud["user_segments"])
    inside = ("all_users" in segs or ("new_users" in segs and reg >= now - new_days * DAY)
              or ("active_users" in segs and act is not None and act >= now - active_days * DAY)
              or ("inactive_users" in segs and (act is None or act < now - active_days * DAY))
              or ("premium_users" in segs and u["plan"] == "premium") or ("free_users" in segs and u["plan"] == "free"))
    f = aud.get("user_filters", {})
    if not inside or ("language" in f and u["language"] not in f["language"]):
        return False
    if "timezone" in f and u["timezone"] not in f["timezone"]:
        return False
    rd = f.get("registration_date", {})
    if "from" in rd and reg.date() < dt.date.fromisoformat(rd["from"]):
        return False
    if "to" in rd and reg.date() > dt.date.fromisoformat(rd["to"]):
        return False
    la = f.get("last_activity")
    if la is not None:
        if act is None or ("from" in la and act < parse(la["from"])) or ("to" in la and act > parse(la["to"])):
            return False
    return True


def variant_of(campaign_id: str, user_id: str, split: List[float]) -> int:
    d = hashlib.sha256(f"{campaign_id}/{user_id}".lower().encode()).digest()
    u = (int.from_bytes(d[:8], "big") >> 11) / float(1 << 53)
    acc, last = 0.0, 0
    for i, s in enumerate(split):
        if s <= 0:
            continue
        acc += s
        last = i
        if u < acc:
            return i
    return last


def campaign(cid: str, audience: Dict[str, Any], title: str = "Hi {{name}}", **settings: Any) -> Dict[str, Any]:
    c = {"campaign_id": cid, "name": f"e2e {cid[:8]}", "target_audience": audience,
         "notification_template": {"title_template": title, "body_template": "Body for {{name}}"},
         "schedule": {"type": "immediate"}}
    if settings:
        c["settings"] = dict({"max_retries": 2, "batch_size": 100}, **settings)
    return c


def check_pushes(env: Env, execution_id: str, want: Set[str], sample: int = 15) -> List[Dict[str, Any]]:
    """Every push: on its user's subject, the v5 notification_id; the users are exactly `want`;
    a sample validated against the contract with mf-validate."""
    # "completed" means the broker confirmed every notification; the subscriber may still be reading
    wait_until(lambda: len({p["user_id"] for _, p in env.pushes(execution_id)}) >= len(want),
               f"{len(want)} notifications of {execution_id} at the subscriber")
    got = env.pushes(execution_id)
    users = set()
    for subject, p in got:
        check(subject == f"notification.user.{p['user_id']}.push", f"subject {subject} for user {p['user_id']}")
        check(p["notification_id"] == str(uuid.uuid5(NS_NOTIFICATION, f"{execution_id}/{p['user_id']}")),
              f"notification_id of {p['user_id']}")
        users.add(p["user_id"])
    check(users == want, f"pushed to {len(users)} users, expected {len(want)}: "
                         f"{len(users - want)} unexpected, {len(want - users)} missing")
    for _, p in got[:sample]:
        env.validator.check("PushNotification", p)
    return [p for _, p in got]


def check_progress(env: Env, execution_id: str, total: int, sent: int, failed: int) -> None:
    """campaign.status: valid, progress never goes back, the last one says completed with the exact counts."""
    env.wait_status_msg(execution_id, "completed")
    sts = env.statuses(execution_id)
    check(len(sts) >= 3, f"only {len(sts)} status updates")
    last_sent = last_failed = -1
    for s in sts:
        env.validator.check("CampaignStatusUpdate", s)
        p = s.get("progress")
        if p:
            check(p["total_targets"] == total, f"total_targets {p['total_targets']} != {total}")
            check(p["sent"] >= last_sent and p["failed"] >= last_failed, f"progress went back: {s}")
            last_sent, last_failed = p["sent"], p["failed"]
    final = sts[-1]
    check(final["status"] == "completed", f"last status {final['status']}")
    check(final["progress"]["sent"] == sent and final["progress"]["failed"] == failed,
          f"final progress {final['progress']}, expected sent {sent} failed {failed}")


# ---- the cases ----

@case
def targeting_matches_independent_computation(env: Env) -> None:
    now = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
    people = population(240, now, seed=5)
    env.start_users()
    env.start_campaign(clock=stamp(now))
    env.import_users(people)
    env.wait_view(len(people))
    audiences = [
        {"user_segments": ["all_users"]},
        {"user_segments": ["new_users"]},
        {"user_segments": ["active_users", "premium_users"]},
        {"user_segments": ["inactive_users"], "user_filters": {"language": ["de-DE", "fr-FR"]}},
        {"user_segments": ["free_users"], "user_filters": {"timezone": ["Asia/Tokyo", "America/New_York"],
                                                            "registration_date": {"from": stamp(now - 200 * DAY)[:10]}}},
        {"user_segments": ["active_users", "new_users"],
         "user_filters": {"last_activity": {"from": stamp(now - 20 * DAY), "to": stamp(now - 2 * DAY)}}},
    ]
    ids = []
    for aud in audiences:
        cid = new_id()
        stored = env.create(campaign(cid, aud, max_retries=0, batch_size=50))
        want = sum(selects(aud, u, now) for u in people)
        check(stored["estimated_reach"] == want, f"{aud}: estimated_reach {stored['estimated_reach']}, expected {want}")
        ids.append(cid)
    for k in (3, 5):  # run two of them to the end: exactly the expected users get a notification
        xid = new_id()
        want = {u["user_id"] for u in people if selects(audiences[k], u, now)}
        env.execute(xid, ids[k])
        x = env.wait_status(xid, "completed")
        check(x["sent"] == len(want) and x["failed"] == 0 and x["skipped"] == 0, f"counts {x}")
        check_pushes(env, xid, want)
        check_progress(env, xid, len(want), len(want), 0)
        wait_until(lambda: len(env.analytics(ids[k], "notification_sent")) >= len(want), "notification_sent events")
        # each notification_sent is stamped with its notification's own created_at
        created = {p["notification_id"]: p["created_at"] for _, p in env.pushes(xid)}
        for ev in env.analytics(ids[k], "notification_sent"):
            check(ev["timestamp"] == created.get(ev["notification_id"]),
                  f"notification_sent {ev['notification_id']} at {ev['timestamp']}, its push created at "
                  f"{created.get(ev['notification_id'])}")
        wait_until(lambda: env.analytics(ids[k], "campaign_completed"), "campaign_completed")
        check(len(env.analytics(ids[k], "campaign_completed")) == 1, "campaign_completed once")


@case
def replicas_each_build_the_whole_view(env: Env) -> None:
    """Every Campaign Service replica keeps its own view of the users, so the user events reach
    every replica (its receivers join no queue group): two replicas with their own databases
    both end up holding every user. In one queue group each would hold about half."""
    now = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
    people = population(60, now, seed=11)
    env.start_users()
    replicas = [env.start_campaign(clock=stamp(now), db=os.path.join(env.workdir, f"campaign-{k}.db"))
                for k in ("a", "b")]
    env.import_users(people)
    for replica in replicas:
        env.campaign = replica
        env.wait_view(len(people))
        st, stats = replica.http("GET", "/stats")
        check(st == 200 and stats["users"] == len(people), f"{replica.db}: {stats}")


@case
def preferences_and_quiet_hours_across_dst(env: Env) -> None:
    # 2024-03-31 00:59:40Z: Berlin is at 01:59:40 CET and jumps to 03:00 CEST at 01:00:00Z
    now = dt.datetime(2024, 3, 31, 0, 59, 40, tzinfo=dt.timezone.utc)
    people = population(22, now, seed=9)
    for i, u in enumerate(people):
        lang, tz, prefs = "en-US", "America/New_York", u["preferences"]
        if i < 6:                  # quiet 01:00-02:30 in Berlin: held until the jump (01:00:00Z)
            lang, tz = "de-DE", "Europe/Berlin"
            prefs["quiet_hours"] = {"enabled": True, "start": "01:00", "end": "02:30"}
        elif i < 10:               # quiet 22:00-07:00 in New York, where it is 20:59: not quiet
            prefs["quiet_hours"] = {"enabled": True, "start": "22:00", "end": "07:00"}
        elif i < 13:
            prefs["push_enabled"] = False
        elif i < 16:
            prefs["categories"]["marketing"] = False
        u.update(language=lang, timezone=tz)
    env.start_users()
    env.start_campaign(clock=stamp(now))
    env.import_users(people)
    env.wait_view(len(people))
    cid, xid = new_id(), new_id()
    env.create(campaign(cid, {"user_segments": ["all_users"]}, max_retries=1, batch_size=50, respect_quiet_hours=True))
    env.execute(xid, cid)

    def held() -> Optional[Dict[str, Any]]:
        st, x = env.execution(xid)
        return x if st == 200 and x["batches"] >= 1 and x["held"] == 6 else None
    x = wait_until(held, "the Berlin users to be held")
    check(x["status"] == "running" and x["skipped"] == 6, f"after the first batch: {x}")
    check(x["targets"].get("skipped:push_disabled") == 3 and x["targets"].get("skipped:category_disabled") == 3,
          f"skip reasons {x['targets']}")
    rel = env.campaign.db_query("SELECT DISTINCT t.release_at FROM cs_targets AS t JOIN cs_execution_keys AS k "
                                "ON k.xk = t.xk WHERE k.execution_id = ? AND t.state = 3", (xid,))
    want_ms = int(dt.datetime(2024, 3, 31, 1, 0, 0, tzinfo=dt.timezone.utc).timestamp() * 1000)
    check(rel == [(want_ms,)], f"release times {rel}, expected the DST jump {want_ms}")
    x = env.wait_status(xid, "completed", timeout=h.DEADLINE * 3)
    check(x["sent"] == 16 and x["skipped"] == 6 and x["failed"] == 0 and x["ever_held"] == 6, f"final {x}")
    berlin = {u["user_id"] for u in people[:6]}
    for p in check_pushes(env, xid, {u["user_id"] for u in people[:10]} | {u["user_id"] for u in people[16:]}):
        if p["user_id"] in berlin:
            check(p["created_at"] >= "2024-03-31T01:00:00", f"a held notification went at {p['created_at']}")


@case
def ab_split_and_localization(env: Env) -> None:
    now = dt.datetime(2026, 6, 1, 9, 0, 0, tzinfo=dt.timezone.utc)
    people = population(360, now, seed=21)
    env.start_users()
    env.start_campaign(clock=stamp(now))
    env.import_users(people)
    env.wait_view(len(people))
    cid, xid = new_id(), new_id()
    split = [0.3, 0.7]
    c = campaign(cid, {"user_segments": ["all_users"]}, max_retries=1, batch_size=120, respect_quiet_hours=False)
    c["settings"]["a_b_testing"] = {"enabled": True, "traffic_split": split, "variants": [
        {"title_template": "A {{name}}", "body_template": "a", "localization": {"de": {"title": "A-de {{name}}", "body": "a"}}},
        {"title_template": "B {{name}}", "body_template": "b",
         "localization": {"fr-FR": {"title": "B-fr {{name}}", "body": "b"}, "de-DE": {"title": "B-de {{name}}", "body": "b"}}}]}
    env.create(c)
    env.execute(xid, cid)
    env.wait_status(xid, "completed")
    pushes = check_pushes(env, xid, {u["user_id"] for u in people})
    by_id = {u["user_id"]: u for u in people}
    count = [0, 0]
    for p in pushes:
        u = by_id[p["user_id"]]
        v = variant_of(cid, u["user_id"], split)
        count[v] += 1
        lang = u["language"]
        if v == 0:
            want = ("A-de " if lang.startswith("de") else "A ") + u["name"]      # de-DE and de-AT fall back to "de"
        else:
            want = {"fr-FR": "B-fr ", "de-DE": "B-de "}.get(lang, "B ") + u["name"]  # de-AT: no "de" entry: default
        check(p["title"] == want, f"{lang} variant {v}: title {p['title']!r}, expected {want!r}")
        check(p["data"]["variant"] == "AB"[v], f"data.variant {p['data']}")
    n = len(pushes)
    sd = math.sqrt(n * 0.3 * 0.7)
    check(abs(count[0] - 0.3 * n) <= 5 * sd, f"variant A got {count[0]} of {n}")


@case
def refusals_and_unknown_campaign(env: Env) -> None:
    env.start_users()
    env.start_campaign()
    cid = new_id()
    env.create(campaign(cid, {"user_segments": ["all_users"]}))
    # the same id with other content: refused, reported, not overwritten
    other = campaign(cid, {"user_segments": ["premium_users"]})
    env.publish("campaign.create", other)
    wait_until(lambda: len(env.analytics(cid, "campaign_failed")) == 1, "campaign_failed for the conflict")
    # its code travels in the Mflow-Error-Code header (the payload has no member for it)
    check(env.error_code_header(cid, "campaign_failed") == ["CAMPAIGN_CONFLICT"],
          f"headers {env.error_code_header(cid, 'campaign_failed')}")
    env.validator.check("CampaignAnalyticsEvent", env.analytics(cid, "campaign_failed")[0])
    check(env.error_code_header(cid, "campaign_created") == [], "campaign_created carries no error code")
    bad = campaign(new_id(), {"user_segments": ["all_users"]}, max_retries=1)
    bad["settings"]["a_b_testing"] = {"enabled": True, "traffic_split": [0.5, 0.4], "variants": [
        {"title_template": "a", "body_template": "a"}, {"title_template": "b", "body_template": "b"}]}
    env.publish("campaign.create", bad)

    def refused() -> Optional[List[Dict[str, Any]]]:
        st, body = env.campaign.http("GET", "/campaigns/refused")
        return body["refused"] if st == 200 and len(body["refused"]) == 2 else None
    r = wait_until(refused, "two refusals")
    check(r[0]["code"] == "INVALID_AB_TEST" and r[0]["pointer"] == "/settings/a_b_testing/traffic_split", f"{r[0]}")
    check(r[1]["code"] == "CAMPAIGN_CONFLICT" and r[1]["campaign_id"] == cid, f"{r[1]}")
    st, stored = env.campaign.http("GET", f"/campaigns/{cid}")
    check(st == 200 and stored["target_audience"]["user_segments"] == ["all_users"], "the stored campaign changed")
    # an unknown campaign: the execution fails with CAMPAIGN_NOT_FOUND
    xid, unknown = new_id(), new_id()
    env.execute(xid, unknown)
    s = wait_until(lambda: [x for x in env.statuses(xid) if x["status"] == "failed"], "a failed status")[0]
    check(s["error"]["code"] == "CAMPAIGN_NOT_FOUND", f"status {s}")
    wait_until(lambda: env.error_code_header(unknown, "campaign_failed") == ["CAMPAIGN_NOT_FOUND"],
               "campaign_failed with Mflow-Error-Code: CAMPAIGN_NOT_FOUND")
    env.validator.check("CampaignStatusUpdate", s)
    failed = env.execution(xid)[1]
    check(failed["status"] == "failed" and "start_at" not in failed, f"recorded, never started: {failed}")
    check(env.execution(new_id())[0] == 404, "unknown execution: 404")
    check(env.execution(xid.upper())[1].get("execution_id") == xid, "an id in capitals is the same execution")
    # not an id at all: 400, not "not found"
    for method, path, code in (("GET", "/executions/nope", "INVALID_PARAMETER"),
                               ("POST", "/executions/nope/pause", "INVALID_PARAMETER"),
                               ("GET", "/campaigns/nope", "INVALID_PARAMETER"),
                               ("GET", "/executions?campaign=nope", "INVALID_QUERY"),
                               ("GET", "/executions?campain=" + unknown, "UNKNOWN_PARAMETER"),
                               ("GET", "/stats?verbose=1", "UNKNOWN_PARAMETER")):
        st, body = env.campaign.http(method, path)
        check(st == 400 and body["error"]["code"] == code, f"{method} {path}: {st} {body}")
    st, body = env.campaign.http("GET", f"/executions?campaign={unknown.upper()}")
    check(st == 200 and [x["execution_id"] for x in body["executions"]] == [xid], f"by campaign: {body}")


@case
def sigkill_mid_execution_and_restart(env: Env) -> None:
    # batches of 20 back to back (no rate limit): a kill lands in the middle of one
    now = dt.datetime.now(dt.timezone.utc)
    people = population(2000, now, seed=33)
    env.start_users()
    env.start_campaign()
    env.import_users(people)
    env.wait_view(len(people))
    cid, xid = new_id(), new_id()
    # 1,000 a second: killed after 300, the execution is mid-way (without a rate limit it can
    # complete before the subscriber has seen 300, and then nothing is tested)
    env.create(campaign(cid, {"user_segments": ["all_users"]}, max_retries=2, batch_size=20, rate_limit=1000,
                        respect_quiet_hours=False))
    env.execute(xid, cid)
    env.sub.wait_count(300, lambda m: m[0].startswith("notification.user."))
    env.campaign.signal(signal.SIGKILL)
    env.campaign.wait()
    committed = env.campaign.db_query("SELECT sent FROM cs_executions WHERE execution_id = ?", (xid,))[0][0]
    check(committed < len(people), f"killed after the execution completed ({committed} sent): nothing tested")
    env.start_campaign()  # same database
    x = env.wait_status(xid, "completed", timeout=h.DEADLINE * 3)
    wait_until(lambda: len({p["user_id"] for _, p in env.pushes(xid)}) >= len(people), "every notification")
    got = env.pushes(xid)
    ids = [p["notification_id"] for _, p in got]
    unique = set(ids)
    check(x["sent"] == len(people) and len(unique) == len(people), f"missing: {len(people) - len(unique)}")
    dups = len(ids) - len(unique)
    check(dups <= 20, f"{dups} raw duplicates, more than one batch (20)")
    # the ledger on disk says the same through its view, part of it by the sent-through mark alone
    # (targets sent with variant 0 after one request keep their pending rows below it)
    view = env.campaign.db_query("SELECT count(*) FROM cs_target_outcomes WHERE execution_id = ? AND state = 1",
                                 (xid,))[0][0]
    mark, by_mark = env.campaign.db_query(
        "SELECT k.sent_through, (SELECT count(*) FROM cs_targets AS t WHERE t.xk = k.xk AND t.state = 0) "
        "FROM cs_execution_keys AS k WHERE k.execution_id = ?", (xid,))[0]
    check(view == len(people), f"the view counts {view} targets sent")
    check(mark > 0 and by_mark > 0, f"the mark at {mark}, {by_mark} targets recorded by it alone")
    print(f"      killed with {committed} committed as sent; raw duplicates {dups} (at most one batch, 20), "
          f"after de-duplication by notification_id 0, missing 0; sent-through mark {mark}, "
          f"{by_mark} targets recorded by it alone")


@case
def schedule_fires_after_restart(env: Env) -> None:
    people = population(12, dt.datetime.now(dt.timezone.utc), seed=44)
    env.start_users()
    env.start_campaign()
    env.import_users(people)
    env.wait_view(len(people))
    cid = new_id()
    at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=15)
    c = campaign(cid, {"user_segments": ["all_users"]})
    c["schedule"] = {"type": "scheduled", "scheduled_at": stamp(at)}
    stored = env.create(c)
    check(stored.get("next_run_at", "").startswith(stamp(at)[:19]), f"next run {stored}")
    env.stop_services()  # both; the campaign service is restarted before the time comes
    env.users.start()
    env.start_campaign()
    xid = str(uuid.uuid5(NS_EXECUTION, f"{cid}/{int(at.timestamp() * 1000)}"))
    x = env.wait_status(xid, "completed", timeout=h.DEADLINE * 2)
    check(x["execution_type"] == "scheduled" and x["sent"] == len(people), f"{x}")
    check_pushes(env, xid, {u["user_id"] for u in people}, sample=3)


@case
def pause_resume_cancel(env: Env) -> None:
    people = population(150, dt.datetime.now(dt.timezone.utc), seed=55)
    env.start_users()
    env.start_campaign()
    env.import_users(people)
    env.wait_view(len(people))
    cid, xid = new_id(), new_id()
    env.create(campaign(cid, {"user_segments": ["all_users"]}, max_retries=0, batch_size=5, rate_limit=10,
                        respect_quiet_hours=False))
    env.execute(xid, cid)
    env.sub.wait_count(10, lambda m: m[0].startswith("notification.user."))
    st, x = env.campaign.http("POST", f"/executions/{xid}/pause")
    check(st == 200, f"pause: {st} {x}")
    x = env.wait_status(xid, "paused")
    env.wait_status_msg(xid, "paused")
    n = len(env.pushes(xid))
    check(n == x["sent"], f"paused with {x['sent']} sent but {n} pushed")
    st, _ = env.campaign.http("POST", f"/executions/{xid}/pause")
    check(st == 409, "pausing a paused execution: 409")
    st, _ = env.campaign.http("POST", f"/executions/{xid}/resume")
    check(st == 200, "resume")
    env.sub.wait_count(n + 10, lambda m: m[0].startswith("notification.user."))
    st, _ = env.campaign.http("POST", f"/executions/{xid}/cancel")
    check(st == 200, "cancel")
    x = env.wait_status(xid, "cancelled")
    env.wait_status_msg(xid, "cancelled")
    check(x["sent"] < len(people), f"cancelled after everything was sent: {x}")
    st, _ = env.campaign.http("POST", f"/executions/{xid}/resume")
    check(st == 409, "resuming a cancelled execution: 409")
    st, _ = env.campaign.http("POST", f"/executions/{new_id()}/cancel")
    check(st == 404, "unknown execution: 404")
    check([s["status"] for s in env.statuses(xid)][-1] == "cancelled", "the last status is cancelled")
