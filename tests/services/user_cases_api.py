"""user-service cases: user.info.request, every admin route with good and bad input, events.

Events are checked three ways: each validates against the contract (mf-validate), they
come in the documented order (user.info.update, user.analytics, notification.preferences
.update, consecutively for one change), and a refused request announces nothing (a later
good change's events are the next ones to arrive).
"""

import http.client
import json
import os
import re
import subprocess
import time
import uuid
from typing import Any, Dict, List, Tuple

from svc_harness import HOST, case, check, free_port, wait_until

NIL = "00000000-0000-0000-0000-000000000000"
UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
DEFAULT_PREFS = {"email_enabled": True, "push_enabled": True, "sms_enabled": False,
                 "categories": {"marketing": True, "updates": True, "security": True}}
PROFILE = ("email", "name", "language", "timezone", "plan", "registered_at", "last_activity")


def create(svc, **fields: Any) -> Dict[str, Any]:
    st, body = svc.http("POST", "/users", fields)
    check(st == 201, f"POST /users {fields}: {st} {body}")
    return body


def expect_error(resp: Tuple[int, Any], status: int, code: str, pointer: str = None) -> None:
    st, body = resp
    check(st == status, f"expected {status} {code}, got {st} {body}")
    err = body["error"] if body else {}
    check(err.get("code") == code, f"expected code {code}, got {body}")
    check(isinstance(err.get("message"), str) and err["message"], f"error without a message: {body}")
    if pointer is not None:
        check(err.get("pointer") == pointer, f"expected pointer {pointer!r}, got {body}")


def wait_events(env, n: int, user_id: str) -> List[Tuple[str, Any]]:
    return env.sub.wait_count(n, lambda m: m[0] in env.validator.MESSAGES and isinstance(m[1], dict)
                              and m[1].get("user_id") == user_id)


def check_valid(env, events: List[Tuple[str, Any]]) -> None:
    for subject, payload in events:
        env.validator.check_event(subject, payload)


def check_created_events(env, user: Dict[str, Any]) -> None:
    """A new user's three events, in order, matching what was stored."""
    ev = wait_events(env, 3, user["user_id"])
    check([s for s, _ in ev] == ["user.info.update", "user.analytics", "notification.preferences.update"],
          f"events of a new user: {[s for s, _ in ev]}")
    check({k: ev[0][1]["changes"].get(k) for k in PROFILE} == {k: user[k] for k in PROFILE},
          f"changes {ev[0][1]['changes']} != stored {user}")
    check(ev[1][1]["event_type"] == "user_registered", f"analytics: {ev[1][1]}")
    check(ev[1][1]["timestamp"] == user["registered_at"], "user_registered at registered_at")
    check(ev[2][1]["preferences"] == user["preferences"], "preferences event = stored preferences")
    check_valid(env, ev)


def marker(env, svc) -> None:
    """Creates a user and waits for its events: every event of earlier changes has arrived."""
    check_created_events(env, create(svc, email=f"marker-{uuid.uuid4().hex[:12]}@example.com", name="Marker"))


def count_users(svc) -> int:
    return svc.db_query("SELECT count(*) FROM users")[0][0]


# ------------------------------------------------------------ user.info.request

@case
def request_known_unknown_invalid(env) -> None:
    svc = env.service()
    u = create(svc, email="ada@example.com", name="Ada Lovelace", language="en-GB", timezone="Europe/London")
    req = env.requester()
    r = req.request("user.info.request", {"user_id": u["user_id"]})
    check(r == {"user_id": u["user_id"], "name": "Ada Lovelace", "email": "ada@example.com", "language": "en-GB",
                "timezone": "Europe/London"}, f"profile reply: {r}")
    env.validator.check("UserInfoReply", r)
    upper = u["user_id"].upper()
    r = req.request("user.info.request", {"user_id": upper})
    check(r["user_id"] == upper and r.get("name") == "Ada Lovelace", f"uppercase id: {r}")
    unknown = str(uuid.uuid4())
    r = req.request("user.info.request", {"user_id": unknown})
    check(r["user_id"] == unknown and r["error"]["code"] == "USER_NOT_FOUND" and "name" not in r, f"unknown: {r}")
    env.validator.check("UserInfoReply", r)
    invalid = [(b'{"user_id":"nope"}', NIL), (b"{}", NIL), (b"not json", NIL), (b'{"user_id":42}', NIL),
               (b"[1,2]", NIL), (b"", NIL)]
    for raw, want_id in invalid:
        r = json.loads(req.request_raw("user.info.request", raw).data)
        check(r["user_id"] == want_id and r["error"]["code"] == "INVALID_REQUEST" and r["error"]["message"],
              f"invalid request {raw!r}: {r}")
        env.validator.check("UserInfoReply", r)
    # still serving, and a deleted user is not found
    check(svc.http("DELETE", f"/users/{u['user_id']}")[0] == 204, "delete")
    r = req.request("user.info.request", {"user_id": u["user_id"]})
    check(r.get("error", {}).get("code") == "USER_NOT_FOUND", f"deleted user: {r}")


# ------------------------------------------------------------------- POST /users

@case
def create_users_and_events(env) -> None:
    svc = env.service()
    before = time.time()
    u = create(svc, email="min@example.com", name="Min")
    check(UUID_V4.match(u["user_id"]), f"assigned id is a lowercase UUIDv4: {u['user_id']}")
    check(u["language"] == "en-US" and u["timezone"] == "UTC" and u["plan"] == "free", f"defaults: {u}")
    check(u["last_activity"] is None and u["preferences"] == DEFAULT_PREFS, f"defaults: {u}")
    reg = time.mktime(time.strptime(u["registered_at"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    check(before - 5 <= reg <= time.time() + 5, f"registered_at is now: {u['registered_at']}")
    check_created_events(env, u)
    given = str(uuid.uuid4()).upper()
    prefs = {"email_enabled": False, "push_enabled": True, "sms_enabled": True,
             "categories": {"marketing": False, "updates": True, "security": True},
             "quiet_hours": {"enabled": True, "start": "22:00", "end": "07:30"}}
    u2 = create(svc, user_id=given, email="Full@Example.com", name="Jürgen Groß", language="de-DE",
                timezone="Europe/Berlin", plan="premium", registered_at="2024-02-29T23:30:00+01:00",
                last_activity="2025-01-01T00:00:00Z", preferences=prefs)
    check(u2["user_id"] == given.lower(), "user_id stored in lowercase")
    check(u2["registered_at"] == "2024-02-29T22:30:00.000Z", f"normalised to UTC: {u2['registered_at']}")
    check(u2["last_activity"] == "2025-01-01T00:00:00.000Z" and u2["preferences"] == prefs, f"stored: {u2}")
    check(u2["name"] == "Jürgen Groß" and u2["plan"] == "premium", f"stored: {u2}")
    check_created_events(env, u2)
    st, got = svc.http("GET", f"/users/{given}")
    check(st == 200 and got == u2, f"GET answers what POST answered: {got}")


@case
def create_bad_input_stores_nothing(env) -> None:
    svc = env.service()
    create(svc, email="taken@example.com", name="Taken", user_id="11111111-2222-4333-8444-555555555555")
    marker(env, svc)
    n_users, n_events = count_users(svc), len(env.events())
    good = {"email": "x@example.com", "name": "X"}
    bad = [
        ({"email": "x@example.com"}, 400, "INVALID_FIELD", "/name"),
        ({**good, "email": "not-an-email"}, 400, "INVALID_FIELD", "/email"),
        ({**good, "language": "de_DE"}, 400, "INVALID_FIELD", "/language"),
        ({**good, "language": "german"}, 400, "INVALID_FIELD", "/language"),
        ({**good, "timezone": "Mars/Olympus_Mons"}, 400, "INVALID_FIELD", "/timezone"),
        ({**good, "timezone": "../../etc/passwd"}, 400, "INVALID_FIELD", "/timezone"),
        ({**good, "timezone": "europe/berlin"}, 400, "INVALID_FIELD", "/timezone"),
        ({**good, "plan": "gold"}, 400, "INVALID_FIELD", "/plan"),
        ({**good, "extra": 1}, 400, "INVALID_FIELD", "/extra"),
        ({**good, "name": ""}, 400, "INVALID_FIELD", "/name"),
        ({**good, "name": "x" * 201}, 400, "INVALID_FIELD", "/name"),
        ({**good, "user_id": "123"}, 400, "INVALID_FIELD", "/user_id"),
        ({**good, "registered_at": "yesterday"}, 400, "INVALID_FIELD", "/registered_at"),
        ({**good, "last_activity": "2025-13-01T00:00:00Z"}, 400, "INVALID_FIELD", "/last_activity"),
        ({**good, "preferences": {"email_enabled": True}}, 400, "INVALID_FIELD", "/preferences/push_enabled"),
        ({**good, "preferences": {**DEFAULT_PREFS, "quiet_hours": {"enabled": True, "start": "25:00"}}},
         400, "INVALID_FIELD", "/preferences/quiet_hours/start"),
        ({**good, "email": "TAKEN@example.com"}, 409, "EMAIL_TAKEN", "/email"),
        ({**good, "user_id": "11111111-2222-4333-8444-555555555555"}, 409, "USER_EXISTS", "/user_id"),
        ([good], 400, "INVALID_FIELD", ""),
    ]
    for body, status, code, pointer in bad:
        expect_error(svc.http("POST", "/users", body), status, code, pointer)
    for raw in (b"", b"{", b'{"email":"x@example.com","name":"X"} trailing', b"\xff\xfe", b'{"a":1,"a":2}'):
        st, body = svc.http("POST", "/users", raw=raw)
        check(st == 400 and body["error"]["code"] in ("INVALID_JSON", "INVALID_FIELD"), f"{raw!r}: {st} {body}")
    expect_error(svc.http("POST", "/users", raw=b'{"name":"' + b"a" * 70000 + b'"}'), 413, "BODY_TOO_LARGE")
    check(svc.alive() and svc.health()[0] == 200, "the service survives bad input")
    check(count_users(svc) == n_users, "a refused request stores nothing")
    marker(env, svc)
    check(len(env.events()) == n_events + 3, "a refused request announces nothing")


# ------------------------------------------------------------- GET /users, paging

@case
def get_and_list_users(env) -> None:
    svc = env.service()
    ids = sorted(create(svc, email=f"p{i}@example.com", name=f"P{i}")["user_id"] for i in range(25))
    seen, after, pages = [], None, 0
    while True:
        q = "/users?limit=10" + (f"&after={after}" if after else "")
        st, page = svc.http("GET", q)
        check(st == 200 and len(page["users"]) <= 10, f"{q}: {st}")
        seen += [u["user_id"] for u in page["users"]]
        pages += 1
        if "next" not in page:
            break
        after = page["next"]
        check(after == page["users"][-1]["user_id"], "next is the last id of the page")
    check(seen == ids and pages == 3, f"paging: {len(seen)} users in {pages} pages")
    st, page = svc.http("GET", "/users")
    check(st == 200 and len(page["users"]) == 25 and "next" not in page, "default page holds all 25")
    st, u = svc.http("GET", f"/users/{ids[3]}")
    check(st == 200 and u["user_id"] == ids[3], "GET /users/{id}")
    expect_error(svc.http("GET", f"/users/{uuid.uuid4()}"), 404, "USER_NOT_FOUND")
    expect_error(svc.http("GET", "/users/not-a-uuid"), 400, "INVALID_PARAMETER")
    for q in ("limit=0", "limit=1001", "limit=abc", "limit=", "after=xyz"):
        expect_error(svc.http("GET", f"/users?{q}"), 400, "INVALID_PARAMETER")


# ------------------------------------------- PATCH, preferences, login, DELETE

def events_after(env, user_id: str, n_before: int, n: int) -> List[Tuple[str, Any]]:
    ev = wait_events(env, n_before + n, user_id)[n_before:]
    check_valid(env, ev)
    return ev


@case
def patch_user(env) -> None:
    svc = env.service()
    u = create(svc, email="pat@example.com", name="Pat", language="en-US", timezone="America/New_York")
    create(svc, email="other@example.com", name="Other")
    check_created_events(env, u)
    st, p = svc.http("PATCH", f"/users/{u['user_id']}", {"name": "Patricia", "plan": "premium",
                                                         "language": "en-US"})
    check(st == 200 and p["name"] == "Patricia" and p["plan"] == "premium" and p["email"] == u["email"], f"{p}")
    ev = events_after(env, u["user_id"], 3, 2)
    check([s for s, _ in ev] == ["user.info.update", "user.analytics"], f"patch events {ev}")
    check(ev[0][1]["changes"] == {"name": "Patricia", "plan": "premium"}, f"only what changed: {ev[0][1]}")
    check(ev[1][1]["event_type"] == "profile_updated", f"{ev[1][1]}")
    for body, status, code, ptr in [({"user_id": str(uuid.uuid4())}, 400, "INVALID_FIELD", "/user_id"),
                                    ({"email": "bad"}, 400, "INVALID_FIELD", "/email"),
                                    ({"timezone": "Nowhere/City"}, 400, "INVALID_FIELD", "/timezone"),
                                    ({"preferences": DEFAULT_PREFS}, 400, "INVALID_FIELD", "/preferences"),
                                    ({"email": "OTHER@example.com"}, 409, "EMAIL_TAKEN", "/email")]:
        expect_error(svc.http("PATCH", f"/users/{u['user_id']}", body), status, code, ptr)
    expect_error(svc.http("PATCH", f"/users/{uuid.uuid4()}", {"name": "x"}), 404, "USER_NOT_FOUND")
    st, same = svc.http("PATCH", f"/users/{u['user_id']}", {"name": "Patricia"})
    check(st == 200 and same == p, "a PATCH that changes nothing answers the user unchanged")
    check(svc.http("GET", f"/users/{u['user_id']}")[1] == p, "refused PATCHes changed nothing")
    marker(env, svc)
    check(len(env.events(u["user_id"])) == 5, "refused or empty PATCHes announce nothing")


@case
def preferences_login_delete(env) -> None:
    svc = env.service()
    u = create(svc, email="pref@example.com", name="Pref")
    uid = u["user_id"]
    check_created_events(env, u)
    prefs = {"email_enabled": False, "push_enabled": True, "sms_enabled": False,
             "categories": {"marketing": False, "updates": True, "security": True},
             "quiet_hours": {"enabled": True, "start": "21:30", "end": "06:45:30"}}
    st, p = svc.http("PUT", f"/users/{uid}/preferences", prefs)
    check(st == 200 and p["preferences"] == prefs, f"PUT preferences: {st} {p}")
    ev = events_after(env, uid, 3, 2)
    check([s for s, _ in ev] == ["user.analytics", "notification.preferences.update"], f"{ev}")
    check(ev[0][1]["event_type"] == "preferences_changed" and ev[1][1]["preferences"] == prefs, f"{ev}")
    for body, ptr in [({"email_enabled": True}, "/push_enabled"),
                      ({**prefs, "categories": {"marketing": True}}, "/categories/updates"),
                      ({**prefs, "quiet_hours": {"enabled": True, "start": "7pm"}}, "/quiet_hours/start"),
                      ({**prefs, "push_enabled": "yes"}, "/push_enabled")]:
        expect_error(svc.http("PUT", f"/users/{uid}/preferences", body), 400, "INVALID_FIELD", ptr)
    expect_error(svc.http("PUT", f"/users/{uuid.uuid4()}/preferences", prefs), 404, "USER_NOT_FOUND")
    check(svc.http("GET", f"/users/{uid}")[1]["preferences"] == prefs, "refused PUTs changed nothing")

    st, li = svc.http("POST", f"/users/{uid}/login")
    check(st == 200 and li["last_activity"] and li["last_activity"] >= li["registered_at"], f"login: {li}")
    ev = events_after(env, uid, 5, 2)
    check([s for s, _ in ev] == ["user.info.update", "user.analytics"], f"{ev}")
    check(ev[0][1]["changes"] == {"last_activity": li["last_activity"]}, f"{ev[0][1]}")
    check(ev[1][1]["event_type"] == "user_logged_in", f"{ev[1][1]}")
    expect_error(svc.http("POST", f"/users/{uuid.uuid4()}/login"), 404, "USER_NOT_FOUND")
    expect_error(svc.http("POST", "/users/nope/login"), 400, "INVALID_PARAMETER")

    st, body = svc.http("DELETE", f"/users/{uid}")
    check(st == 204 and body is None, f"DELETE: {st} {body}")
    ev = events_after(env, uid, 7, 2)
    check(ev[0] == ("user.info.update", {**ev[0][1], "changes": {"deleted": True}}), f"{ev[0]}")
    check(ev[1][1]["event_type"] == "account_deleted", f"{ev[1]}")
    expect_error(svc.http("GET", f"/users/{uid}"), 404, "USER_NOT_FOUND")
    expect_error(svc.http("DELETE", f"/users/{uid}"), 404, "USER_NOT_FOUND")
    marker(env, svc)
    check(len(env.events(uid)) == 9, "refused requests announced nothing")
    ids = [e[1]["event_id"] for e in env.events(uid) if e[0] == "user.analytics"]
    check(len(set(ids)) == len(ids), "every analytics event has its own event_id")


# ------------------------------------------------------------ routing, republish

@case
def routing_errors_and_chunked_bodies(env) -> None:
    svc = env.service()
    expect_error(svc.http("GET", "/nope"), 404, "NOT_FOUND")
    expect_error(svc.http("GET", "/users/a/b/c"), 404, "NOT_FOUND")
    expect_error(svc.http("PUT", "/users"), 405, "METHOD_NOT_ALLOWED")
    expect_error(svc.http("DELETE", "/republish"), 405, "METHOD_NOT_ALLOWED")
    c = http.client.HTTPConnection(HOST, svc.http_port, timeout=30)
    c.request("PUT", "/users")
    r = c.getresponse()
    r.read()
    check(r.status == 405 and r.getheader("Allow") == "GET, POST", f"Allow: {r.getheader('Allow')}")
    c.request("HEAD", "/users")
    r = c.getresponse()
    check(r.status == 405 and r.read() == b"", "HEAD: 405 without a body")
    c.close()
    c = http.client.HTTPConnection(HOST, svc.http_port, timeout=30)
    # a chunked body, and keep-alive: two requests on one connection
    body = b'{"email":"chunk@example.com","name":"Chunk"}'
    c.putrequest("POST", "/users")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    c.send(b"a\r\n" + body[:10] + b"\r\n" + b"%x\r\n" % (len(body) - 10) + body[10:] + b"\r\n0\r\n\r\n")
    r = c.getresponse()
    r.read()
    check(r.status == 201, f"chunked POST /users: {r.status}")
    c.close()
    c = http.client.HTTPConnection(HOST, svc.http_port, timeout=30)
    for _ in range(3):
        c.request("GET", "/healthz")
        r = c.getresponse()
        check(r.status == 200 and r.read(), "keep-alive")
    c.close()
    st, hz = svc.health()
    check(st == 200 and hz["status"] == "ok" and hz["database"]["ok"] and hz["broker"]["connected"], f"{hz}")
    # a query parameter the route does not read is refused, not ignored (a typo would be silent)
    for path, word in (("/users?limt=2", '"limt"'), ("/users?limit=2&bogus", '"bogus"'),
                       ("/healthz?x=1", "takes no query"), (f"/users?{'a' * 1500}=1", "more than")):
        st, body = svc.http("GET", path)
        check(st == 400 and body["error"]["code"] == "UNKNOWN_PARAMETER" and word in body["error"]["message"],
              f"GET {path[:40]}: {st} {body}")
    st, body = svc.http("GET", "/users?&limit=1")
    check(st == 200 and len(body["users"]) == 1, f"an empty parameter is no parameter: {st} {body}")
    check(svc.alive(), "still serving")


@case
def republish_announces_every_user(env) -> None:
    svc = env.service()
    users = [create(svc, email=f"r{i}@example.com", name=f"R{i}", plan="premium" if i % 2 else "free")
             for i in range(3)]
    for u in users:
        check_created_events(env, u)
    st, body = svc.http("POST", "/republish")
    check(st == 202 and body == {"users": 3, "deleted": 0, "events": 6}, f"POST /republish: {st} {body}")
    for u in users:
        ev = events_after(env, u["user_id"], 3, 2)
        check([s for s, _ in ev] == ["user.info.update", "notification.preferences.update"], f"{ev}")
        check({k: ev[0][1]["changes"][k] for k in PROFILE} == {k: u[k] for k in PROFILE}, "full profile")
        check(ev[1][1]["preferences"] == u["preferences"], "preferences republished")
    # since: only what changed (updated_at) or was deleted at or after it
    st, _ = svc.http("PATCH", f"/users/{users[1]['user_id']}", {"name": "R1 renamed"})
    check(st == 200, f"PATCH: {st}")
    st, _ = svc.http("DELETE", f"/users/{users[2]['user_id']}")
    check(st == 204, f"DELETE: {st}")
    st, u1 = svc.http("GET", f"/users/{users[1]['user_id']}")
    st, body = svc.http("POST", "/republish?since=" + u1["updated_at"])
    check(st == 202 and body == {"users": 1, "deleted": 1, "events": 3}, f"POST /republish?since=: {st} {body}")
    ev = events_after(env, users[1]["user_id"], 7, 2)
    check(ev[0][1]["changes"]["name"] == "R1 renamed", f"{ev}")
    gone = events_after(env, users[2]["user_id"], 7, 1)
    check(gone[-1][0] == "user.info.update" and gone[-1][1]["changes"] == {"deleted": True}, f"{gone}")
    st, body = svc.http("POST", "/republish?since=2999-01-01T00:00:00Z")
    check(st == 202 and body == {"users": 0, "deleted": 0, "events": 0}, f"since in the future: {st} {body}")
    st, body = svc.http("POST", "/republish")
    check(st == 202 and body == {"users": 2, "deleted": 1, "events": 5}, f"everyone: {st} {body}")
    expect_error(svc.http("POST", "/republish?since=yesterday"), 400, "INVALID_PARAMETER")
    svc.stop()
    svc2 = env.service(name="user2", db=svc.db, extra=["--republish"])
    for u in users[:2]:
        events_after(env, u["user_id"], 11 if u is users[1] else 7, 2)
    check(svc2.alive(), "--republish keeps serving")


@case
def status_lines_name_their_status(env) -> None:
    """Every answer's status line has its reason phrase (libwebsockets' table lacks 201/202/204)."""
    svc = env.service()

    def reason(method: str, path: str, body: Any = None) -> Tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", svc.http_port, timeout=30)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None)
            r = conn.getresponse()
            r.read()
            return r.status, r.reason
        finally:
            conn.close()
    st, u = svc.http("POST", "/users", {"email": "sl@example.com", "name": "SL"})
    check(st == 201, f"POST /users: {st}")
    got = [reason("POST", "/users", {"email": "sl2@example.com", "name": "SL2"}),
           reason("POST", "/republish"), reason("DELETE", f"/users/{u['user_id']}"),
           reason("GET", f"/users/{u['user_id']}"), reason("GET", "/healthz")]
    check(got == [(201, "Created"), (202, "Accepted"), (204, "No Content"), (404, "Not Found"), (200, "OK")],
          f"status lines: {got}")


@case
def tombstones_expire(env) -> None:
    """--tombstone-days: a deletion stays announceable that long; older tombstones go at start and
    with each deletion, and a republish since an earlier time says where its record begins."""
    svc = env.service(extra=["--tombstone-days", "1"])
    a, b = create(svc, email="ta@example.com", name="TA"), create(svc, email="tb@example.com", name="TB")
    for u in (a, b):
        st, _ = svc.http("DELETE", f"/users/{u['user_id']}")
        check(st == 204, f"DELETE: {st}")
    st, body = svc.http("POST", "/republish?since=2000-01-01T00:00:00Z")
    check(st == 202 and body["deleted"] == 2, f"both tombstones kept: {st} {body}")
    horizon = body.get("deletions_known_since", "")
    day_ago = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - 86400))
    check(horizon[:13] == day_ago[:13], f"the record begins a day ago: {horizon} vs {day_ago}")
    st, body = svc.http("POST", "/republish?since=" + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    check(st == 202 and "deletions_known_since" not in body, f"since inside the record: {st} {body}")
    svc.stop()
    # two days later, as far as the tombstones know
    svc.db_exec("UPDATE deleted_users SET deleted_at = '2001-01-01T00:00:00.000Z' WHERE user_id = ?", (a["user_id"],))
    svc2 = env.service(name="user2", db=svc.db, extra=["--tombstone-days", "1"])
    wait_until(lambda: "tombstones pruned=1 " in open(svc2.log, encoding="utf-8", errors="replace").read(),
               "the prune at start in the log")
    st, body = svc2.http("POST", "/republish?since=2000-01-01T00:00:00Z")
    check(st == 202 and body["deleted"] == 1 and "deletions_known_since" in body, f"one left: {st} {body}")
    # a deletion takes the old ones with it
    c = create(svc2, email="tc@example.com", name="TC")
    svc2.db_exec("UPDATE deleted_users SET deleted_at = '2001-01-01T00:00:00.000Z'")
    st, _ = svc2.http("DELETE", f"/users/{c['user_id']}")
    check(st == 204, f"DELETE: {st}")
    check(svc2.db_query("SELECT user_id FROM deleted_users") == [(c["user_id"],)], "only the new tombstone")
    svc2.stop()
    # 0 keeps them for ever and never speaks of a horizon
    svc2.db_exec("UPDATE deleted_users SET deleted_at = '2001-01-01T00:00:00.000Z'")
    svc3 = env.service(name="user3", db=svc.db, extra=["--tombstone-days", "0"])
    st, body = svc3.http("POST", "/republish?since=2000-01-01T00:00:00Z")
    check(st == 202 and body == {"users": 0, "deleted": 1, "events": 1}, f"kept for ever: {st} {body}")
    check(svc3.alive(), "still serving")


@case
def options_and_exit_codes(env) -> None:
    binary = env.service_bin
    r = subprocess.run([binary, "--help"], capture_output=True, timeout=30)
    out = r.stdout.decode()
    check(r.returncode == 0 and all(o in out for o in ("--server URL", "--db PATH", "--http ADDR:PORT",
                                                       "--log-level", "MF_SERVER", "--republish")), out)
    for args in (["--bogus"], ["--http", "nowhere"], ["--log-level", "loud"], ["--server", "http://x"],
                 ["--import-chunk", "0"], ["--tombstone-days", "-1"], ["--tombstone-days", "x"], ["positional"]):
        r = subprocess.run([binary] + args, capture_output=True, timeout=30)
        check(r.returncode == 2 and r.stderr, f"{args}: exit {r.returncode}, stderr {r.stderr!r}")
    db = os.path.join(env.workdir, "no", "such", "dir", "u.db")
    r = subprocess.run([binary, "--db", db, "--http", f"{HOST}:{free_port()}", "--server", env.broker.url],
                       capture_output=True, timeout=60)
    check(r.returncode == 1 and b"cannot start" in r.stderr, f"unusable database: {r.returncode} {r.stderr[-300:]!r}")
    svc = env.service()
    r = subprocess.run([binary, "--db", os.path.join(env.workdir, "b.db"), "--http", f"{HOST}:{svc.http_port}",
                        "--server", env.broker.url], capture_output=True, timeout=60)
    check(r.returncode == 1 and b"cannot listen" in r.stderr, f"port in use: {r.returncode} {r.stderr[-300:]!r}")
    check(b"token=-" in open(svc.log, "rb").read(), "the token option is logged without its value")
    env2 = dict(os.environ, MF_SERVER=env.broker.url, MF_TOKEN="s3cret")
    p = subprocess.Popen([binary, "--db", os.path.join(env.workdir, "c.db"), "--http", f"{HOST}:{free_port()}"],
                         env=env2, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: p.stdout.readline().startswith(b"user-service listening on http://"), "startup line")
    finally:
        p.terminate()
        _, err = p.communicate(timeout=30)
    check(p.returncode == 0, f"SIGTERM exit status {p.returncode}")
    check(b"s3cret" not in err and b"token=***" in err, "the token is never logged")
    check(env.broker.url.encode() in err, "$MF_SERVER is used")
