/*
 * test_channel_routes.c - the per-channel typed API generated from
 * tests/specs/channels.yaml (prefix tc) over a real server: mf-broker
 * (test_channel_routes_broker) or nats-server (test_channel_routes_nats).
 * A channel with several messages (one subscription, one handler per message),
 * parameters taken from the payload (an integer; a free string, so the subject
 * token rules are what refuses bad values), a channel with two requests, and a
 * request whose subject must agree with its payload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_group.h"
#include "tc_sdk/sdk.h"

static void barrier(mf_client *from, mf_client *to)
{
    assert_int_equal(mf_client_flush(from, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_client_flush(to, E2E_WAIT_MS), MF_OK);
}

static mf_api_sub_stats stats(const mf_api_sub *s)
{
    mf_api_sub_stats st;
    mf_api_sub_stats_get(s, &st);
    return st;
}

/* Counts of what the handlers of one subscription saw (written on the service thread). */
typedef struct tally {
    pthread_mutex_t mu;
    int pings, notes, wrong;
    int64_t last_n;
    char last_text[64];
} tally;

#define TALLY_INIT {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, ""}

static tally snapshot(tally *t)
{
    pthread_mutex_lock(&t->mu);
    tally copy = *t;
    pthread_mutex_unlock(&t->mu);
    return copy;
}

static void on_ping(void *ctx, const tc_ping *p, const mf_api_info *info)
{
    tally *t = ctx;
    pthread_mutex_lock(&t->mu);
    t->pings++;
    t->last_n = p->n;
    t->wrong += info->message != &tc_msg_ping_desc;
    pthread_mutex_unlock(&t->mu);
}

static void on_note(void *ctx, const tc_note *n, const mf_api_info *info)
{
    tally *t = ctx;
    pthread_mutex_lock(&t->mu);
    t->notes++;
    snprintf(t->last_text, sizeof t->last_text, "%s", n->text);
    t->wrong += info->message != &tc_msg_note_desc;
    pthread_mutex_unlock(&t->mu);
}

static void publish_both(mf_client *c, const char *region, int64_t n, const char *text)
{
    mf_error err;
    tc_ping p = {.kind = "ping", .n = n};
    tc_note note = {.kind = "note", .text = (char *)text};
    assert_int_equal(tc_events_channel_publish_ping(c, region, &p, &err), MF_OK);
    assert_int_equal(tc_events_channel_publish_note(c, region, &note, &err), MF_OK);
}

/* One subscription takes both messages of demo.events.{region}, each to its own handler; a
 * subscriber that wants only pings skips the notes (valid, not invalid). */
static void test_several_messages(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *eu = connect_one(NULL), *all = connect_one(NULL), *pub = connect_one(NULL);
    tally te = TALLY_INIT, ta = TALLY_INIT;
    const tc_events_channel_handlers both = {on_ping, on_note}, pings_only = {on_ping, NULL}, none = {NULL, NULL};
    mf_api_sub *se, *sa, *sx = NULL;
    mf_error err;
    assert_int_equal(tc_events_channel_subscribe(eu, "eu", &both, &te, NULL, &se, &err), MF_OK);
    assert_int_equal(tc_events_channel_subscribe(all, NULL, &pings_only, &ta, NULL, &sa, &err), MF_OK);
    assert_int_equal(tc_events_channel_subscribe(all, NULL, &none, &ta, NULL, &sx, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(tc_events_channel_subscribe(all, NULL, NULL, &ta, NULL, &sx, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(tc_events_channel_subscribe(all, "asia", &both, &ta, NULL, &sx, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/region");
    assert_null(sx);
    assert_int_equal(mf_client_flush(eu, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_client_flush(all, E2E_WAIT_MS), MF_OK);

    publish_both(pub, "eu", 1, "hello eu");
    publish_both(pub, "us", 2, "hello us");
    /* refused before sending: a region not in the enum, a ping out of range */
    tc_ping p = {.kind = "ping", .n = -1};
    assert_int_equal(tc_events_channel_publish_ping(pub, "eu", &p, &err), MF_ERR_RANGE);
    assert_string_equal(err.pointer, "/n");
    p.n = 3;
    assert_int_equal(tc_events_channel_publish_ping(pub, "asia", &p, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/region");
    /* raw: neither message; a region the channel does not have */
    const char *pong = "{\"kind\":\"pong\",\"n\":1}";
    assert_int_equal(mf_client_publish(pub, "demo.events.eu", NULL, pong, strlen(pong)), MF_OK);
    const char *ping = "{\"kind\":\"ping\",\"n\":5}";
    assert_int_equal(mf_client_publish(pub, "demo.events.asia", NULL, ping, strlen(ping)), MF_OK);
    barrier(pub, eu);
    barrier(pub, all);

    tally e = snapshot(&te), a = snapshot(&ta);
    assert_int_equal(e.pings, 1);
    assert_int_equal(e.last_n, 1);
    assert_int_equal(e.notes, 1);
    assert_string_equal(e.last_text, "hello eu");
    mf_api_sub_stats st = stats(se);
    assert_int_equal(st.received, 3);
    assert_int_equal(st.handled, 2);
    assert_int_equal(st.invalid, 1);
    assert_int_equal(st.skipped, 0);

    assert_int_equal(a.pings, 2);
    assert_int_equal(a.notes, 0);
    st = stats(sa);
    assert_int_equal(st.received, 6);
    assert_int_equal(st.handled, 2);
    assert_int_equal(st.skipped, 2);
    assert_int_equal(st.invalid, 2);
    assert_int_equal(e.wrong + a.wrong, 0);
    mf_api_unsubscribe(se);
    mf_api_unsubscribe(sa);
    mf_client_destroy(eu);
    mf_client_destroy(all);
    mf_client_destroy(pub);
}

/* demo.jobs.{job_id}.done: an integer parameter from the payload, in decimal. */
static void on_job(void *ctx, const tc_job_done *j, const mf_api_info *info)
{
    tally *t = ctx;
    pthread_mutex_lock(&t->mu);
    t->pings++;
    t->last_n = j->job_id;
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)j->job_id);
    t->wrong += strcmp(info->params[0], want) != 0;
    pthread_mutex_unlock(&t->mu);
}

static void test_integer_location(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *sub = connect_one(NULL), *pub = connect_one(NULL);
    tally t42 = TALLY_INIT, tall = TALLY_INIT;
    mf_api_sub *s42, *sall;
    mf_error err;
    e2e_col raw;
    e2e_col_init(&raw);
    assert_int_equal(tc_jobs_channel_subscribe(sub, "42", on_job, &t42, NULL, &s42, &err), MF_OK);
    assert_int_equal(tc_jobs_channel_subscribe(sub, NULL, on_job, &tall, NULL, &sall, &err), MF_OK);
    assert_int_equal(mf_client_subscribe(sub, "demo.jobs.>", NULL, e2e_col_cb, &raw, NULL), MF_OK);
    assert_int_equal(mf_client_flush(sub, E2E_WAIT_MS), MF_OK);

    tc_job_done j = {.job_id = 42, .result = "ok"};
    assert_int_equal(tc_jobs_channel_publish(pub, &j, &err), MF_OK);
    assert_true(e2e_col_wait(&raw, 1, E2E_WAIT_MS));
    assert_string_equal(raw.last_subject, "demo.jobs.42.done");
    j.job_id = 7;
    assert_int_equal(tc_jobs_channel_publish(pub, &j, &err), MF_OK);
    /* raw: the same number written differently, and a subject naming another job */
    const char *j42 = "{\"job_id\":42,\"result\":\"ok\"}";
    assert_int_equal(mf_client_publish(pub, "demo.jobs.042.done", NULL, j42, strlen(j42)), MF_OK);
    const char *j7 = "{\"job_id\":7,\"result\":\"ok\"}";
    assert_int_equal(mf_client_publish(pub, "demo.jobs.42.done", NULL, j7, strlen(j7)), MF_OK);
    barrier(pub, sub);

    tally a = snapshot(&t42), b = snapshot(&tall);
    assert_int_equal(a.pings, 1);
    assert_int_equal(a.last_n, 42);
    assert_int_equal(stats(s42).invalid, 1); /* the job 7 on job 42's subject */
    assert_int_equal(b.pings, 2);
    assert_int_equal(stats(sall).invalid, 2);
    assert_int_equal(a.wrong + b.wrong, 0);
    assert_int_equal(e2e_col_count(&raw), 4);
    mf_api_unsubscribe(s42);
    mf_api_unsubscribe(sall);
    mf_client_destroy(sub);
    mf_client_destroy(pub);
    e2e_col_free(&raw);
}

/* demo.rooms.{room}.say: the room is any string of the payload, so the subject token rules
 * are what stand between a value and a subject of another shape. */
static void test_token_rules_on_payload_values(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *sub = connect_one(NULL), *pub = connect_one(NULL);
    e2e_col raw;
    e2e_col_init(&raw);
    assert_int_equal(mf_client_subscribe(sub, "demo.rooms.>", NULL, e2e_col_cb, &raw, NULL), MF_OK);
    assert_int_equal(mf_client_flush(sub, E2E_WAIT_MS), MF_OK);
    mf_error err;
    tc_say s = {.room = "lobby", .text = "hi"};
    assert_int_equal(tc_rooms_channel_publish(pub, &s, &err), MF_OK);
    assert_true(e2e_col_wait(&raw, 1, E2E_WAIT_MS));
    assert_string_equal(raw.last_subject, "demo.rooms.lobby.say");
    const char *bad[] = {"a.b", "*", ">", "a b", "", "tab\there", "a>b", "x*"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s.room = (char *)bad[i];
        assert_int_equal(tc_rooms_channel_publish(pub, &s, &err), MF_ERR_INVALID_ARG);
        assert_string_equal(err.pointer, "/room");
    }
    s.room = "caf\xc3\xa9";
    assert_int_equal(tc_rooms_channel_publish(pub, &s, &err), MF_OK);
    barrier(pub, sub);
    assert_int_equal(e2e_col_count(&raw), 2);
    assert_string_equal(raw.last_subject, "demo.rooms.caf\xc3\xa9.say");
    mf_client_destroy(sub);
    mf_client_destroy(pub);
    e2e_col_free(&raw);
}

/* demo.calc carries two requests (Add, Neg) with one reply (Result): one responder with a
 * handler for each; a responder without a Neg handler leaves Neg requests to others. */
static mf_status do_add(void *ctx, const tc_add *req, tc_result *reply, const mf_api_info *info)
{
    (void)ctx, (void)info;
    reply->value = req->a + req->b;
    return MF_OK;
}

static mf_status do_neg(void *ctx, const tc_neg *req, tc_result *reply, const mf_api_info *info)
{
    (void)ctx, (void)info;
    reply->value = -req->a;
    return MF_OK;
}

static void test_several_requests(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *calc = connect_one(NULL), *client = connect_one(NULL);
    const tc_calc_channel_responders both = {do_add, do_neg}, add_only = {do_add, NULL};
    mf_api_sub *sub;
    mf_error err;
    assert_int_equal(tc_calc_channel_respond(calc, &both, NULL, "calc", &sub, &err), MF_OK);
    assert_int_equal(mf_client_flush(calc, E2E_WAIT_MS), MF_OK);
    tc_add add = {.op = "add", .a = 2, .b = 3};
    tc_neg neg = {.op = "neg", .a = 4};
    tc_result r;
    assert_int_equal(tc_calc_channel_request_add(client, &add, E2E_WAIT_MS, &r, &err), MF_OK);
    assert_int_equal(r.value, 5);
    assert_int_equal(tc_calc_channel_request_neg(client, &neg, E2E_WAIT_MS, &r, &err), MF_OK);
    assert_int_equal(r.value, -4);
    /* a request that is none of the channel's messages: 400 on the wire */
    mf_msg_owned *m = NULL;
    const char *mul = "{\"op\":\"mul\",\"a\":1}";
    assert_int_equal(mf_client_request(client, "demo.calc", mul, strlen(mul), 20000, &m), MF_OK);
    size_t n = 0;
    const char *code = mf_msg_header(&m->msg, MF_API_ERROR_CODE_HEADER, &n);
    assert_non_null(code);
    assert_memory_equal(code, "400", 3);
    mf_msg_owned_free(m);
    mf_api_unsubscribe(sub);

    assert_int_equal(tc_calc_channel_respond(calc, &add_only, NULL, "calc", &sub, &err), MF_OK);
    assert_int_equal(mf_client_flush(calc, E2E_WAIT_MS), MF_OK);
    assert_int_equal(tc_calc_channel_request_add(client, &add, E2E_WAIT_MS, &r, &err), MF_OK);
    assert_int_equal(r.value, 5);
    assert_int_equal(tc_calc_channel_request_neg(client, &neg, 300, &r, &err), MF_ERR_TIMEOUT);
    barrier(client, calc);
    mf_api_sub_stats st = stats(sub);
    assert_int_equal(st.handled, 1);
    assert_int_equal(st.skipped, 1);
    assert_int_equal(st.invalid, 0);
    mf_api_unsubscribe(sub);
    mf_client_destroy(calc);
    mf_client_destroy(client);
}

/* demo.accounts.{account}.balance: a request whose subject comes from its payload; a responder
 * for one account; a request whose subject and payload disagree is refused (400). */
static mf_status do_balance(void *ctx, const tc_balance_query *q, tc_balance *reply, const mf_api_info *info)
{
    (void)ctx, (void)info;
    reply->account = strdup(q->account);
    reply->cents = 100;
    return MF_OK;
}

static void test_located_request(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *bank = connect_one(NULL), *client = connect_one(NULL);
    mf_api_sub *sub;
    mf_error err;
    assert_int_equal(tc_accounts_channel_respond(bank, "alice", do_balance, NULL, NULL, &sub, &err), MF_OK);
    assert_int_equal(mf_client_flush(bank, E2E_WAIT_MS), MF_OK);
    tc_balance_query q = {.account = "alice"};
    tc_balance b;
    assert_int_equal(tc_accounts_channel_request(client, &q, E2E_WAIT_MS, &b, &err), MF_OK);
    assert_string_equal(b.account, "alice");
    assert_int_equal(b.cents, 100);
    tc_balance_free(&b);
    q.account = "bob"; /* nobody serves bob */
    assert_int_equal(tc_accounts_channel_request(client, &q, E2E_WAIT_MS, &b, &err), MF_ERR_NO_RESPONDERS);
    q.account = "Alice"; /* the pattern: refused before sending */
    assert_int_equal(tc_accounts_channel_request(client, &q, E2E_WAIT_MS, &b, &err), MF_ERR_PATTERN);
    assert_string_equal(err.pointer, "/account");

    mf_msg_owned *m = NULL;
    const char *forged = "{\"account\":\"bob\"}";
    assert_int_equal(mf_client_request(client, "demo.accounts.alice.balance", forged, strlen(forged), 20000, &m),
                     MF_OK);
    size_t n = 0;
    const char *code = mf_msg_header(&m->msg, MF_API_ERROR_CODE_HEADER, &n);
    assert_non_null(code);
    assert_memory_equal(code, "400", 3);
    const char *text = mf_msg_header(&m->msg, MF_API_ERROR_HEADER, &n);
    assert_non_null(text);
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)n, text);
    assert_non_null(strstr(buf, "invalid BalanceQuery: /account: \"bob\" differs from the subject's account \"alice\""));
    mf_msg_owned_free(m);
    mf_api_sub_stats st = stats(sub);
    assert_int_equal(st.handled, 1);
    assert_int_equal(st.invalid, 1);
    assert_int_equal(st.refused, 1);
    mf_api_unsubscribe(sub);
    mf_client_destroy(bank);
    mf_client_destroy(client);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_several_messages),
        cmocka_unit_test(test_integer_location),
        cmocka_unit_test(test_token_rules_on_payload_values),
        cmocka_unit_test(test_several_requests),
        cmocka_unit_test(test_located_request),
    };
    return mf_skip_exit(cmocka_run_group_tests(tests, group_setup, group_teardown));
}
