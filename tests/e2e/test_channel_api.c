/*
 * test_channel_api.c - the generated per-channel typed API of the contract
 * (mf_sdk/channels_api.h), used by programs that are no service, over a real
 * server: mf-broker (test_channel_api_broker) or nats-server
 * (test_channel_api_nats). Publish and subscribe with validation on both
 * sides, filters and queue groups, a parameter taken from the payload, and
 * requests with their three failures (timeout, no responders, refused).
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
#include "mf_sdk/sdk.h"

#define USER_A "3f0c9a52-7d1e-4b8a-9c61-2e5f4a7b8d90"
#define USER_B "0b7a3c9e-4f21-4d8a-9c55-2e1f6a7b8c90"
#define EXEC_ID "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
#define CAMPAIGN_ID "7c9e6679-7425-40de-944b-e07fc1f90ae7"

/* After it returns, everything `from` published before reached `to` and its callbacks ran:
 * the server has processed the publishes (flush of `from`), then answered `to`'s PING
 * after the messages it queued for `to`. */
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

/* What a handler saw, read by the test thread after a barrier. */
typedef struct seen {
    pthread_mutex_t mu;
    int n;
    int wrong; /* handler calls that broke a promise of the runtime (asserted by the test thread) */
    char last[160];
    char subject[160];
} seen;

#define SEEN_INIT {PTHREAD_MUTEX_INITIALIZER, 0, 0, "", ""}

static void saw(seen *s, const char *what, const char *subject)
{
    pthread_mutex_lock(&s->mu);
    s->n++;
    snprintf(s->last, sizeof s->last, "%s", what);
    snprintf(s->subject, sizeof s->subject, "%s", subject);
    pthread_mutex_unlock(&s->mu);
}

static int seen_n(seen *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void status_init(mf_campaign_status_update *u, mf_campaign_status_update_status status)
{
    mf_campaign_status_update_init(u);
    u->execution_id = EXEC_ID;
    u->campaign_id = CAMPAIGN_ID;
    u->status = status;
    u->updated_at = "2026-03-02T08:00:01Z";
}

static void on_status(void *ctx, const mf_campaign_status_update *u, const mf_api_info *info)
{
    saw(ctx, mf_campaign_status_update_status_to_string(u->status), info->subject);
}

/* campaign.status: a dashboard subscribes, anyone publishes; both sides validate. */
static void test_publish_subscribe(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *dash = connect_one(NULL), *svc = connect_one(NULL);
    seen s = SEEN_INIT;
    mf_api_sub *sub = NULL;
    mf_error err;
    assert_int_equal(mf_campaign_status_channel_subscribe(dash, on_status, &s, NULL, &sub, &err), MF_OK);
    assert_int_equal(mf_client_flush(dash, E2E_WAIT_MS), MF_OK);

    mf_campaign_status_update u;
    status_init(&u, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING);
    assert_int_equal(mf_campaign_status_channel_publish(svc, &u, &err), MF_OK);
    /* Invalid messages are refused before sending, naming the field. */
    u.campaign_id = "nope";
    assert_int_equal(mf_campaign_status_channel_publish(svc, &u, &err), MF_ERR_FORMAT);
    assert_string_equal(err.pointer, "/campaign_id");
    u.campaign_id = CAMPAIGN_ID;
    u.status = MF_CAMPAIGN_STATUS_UPDATE_STATUS_UNSET;
    assert_int_equal(mf_campaign_status_channel_publish(svc, &u, &err), MF_ERR_ENUM);
    assert_string_equal(err.pointer, "/status");
    /* Invalid incoming messages (published raw) are dropped and counted. */
    const char *bad[] = {"{}", "nope", "{\"execution_id\":\"" EXEC_ID "\",\"campaign_id\":\"" CAMPAIGN_ID
                                       "\",\"status\":\"lost\",\"updated_at\":\"2026-03-02T08:00:01Z\"}"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(mf_client_publish(svc, "campaign.status", NULL, bad[i], strlen(bad[i])), MF_OK);
    status_init(&u, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(mf_campaign_status_channel_publish(svc, &u, &err), MF_OK);
    barrier(svc, dash);

    mf_api_sub_stats st = stats(sub);
    assert_int_equal(st.received, 5);
    assert_int_equal(st.handled, 2);
    assert_int_equal(st.invalid, 3);
    assert_int_equal(st.skipped, 0);
    assert_int_equal(seen_n(&s), 2);
    assert_string_equal(s.last, "completed");
    assert_string_equal(s.subject, "campaign.status");

    /* Arguments are checked. */
    mf_api_sub *none = (mf_api_sub *)&s;
    assert_int_equal(mf_campaign_status_channel_subscribe(dash, NULL, &s, NULL, &none, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_campaign_status_channel_subscribe(dash, on_status, &s, "bad queue", &none, &err),
                     MF_ERR_INVALID_ARG);
    assert_null(none);
    assert_int_equal(mf_campaign_status_channel_publish(svc, NULL, &err), MF_ERR_INVALID_ARG);
    mf_api_unsubscribe(sub);
    mf_client_destroy(dash);
    mf_client_destroy(svc);
}

/* campaign.execute is "sent by an external client": the channel API publishes what the
 * campaign-service's typed receive gets. */
static void on_execute(void *ctx, const mf_campaign_execute *m, const mf_api_info *info)
{
    saw(ctx, m->execution_id, info->subject);
}

static void test_client_to_service(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *svc = connect_one(NULL), *client = connect_one(NULL);
    seen s = SEEN_INIT;
    mf_api_sub *sub;
    mf_error err;
    assert_int_equal(campaign_service_receive_campaign_execute(svc, on_execute, &s, &sub, &err), MF_OK);
    assert_int_equal(mf_client_flush(svc, E2E_WAIT_MS), MF_OK);
    mf_campaign_execute x;
    mf_campaign_execute_init(&x);
    x.execution_id = EXEC_ID;
    x.campaign_id = CAMPAIGN_ID;
    x.execution_type = MF_CAMPAIGN_EXECUTE_EXECUTION_TYPE_IMMEDIATE;
    assert_int_equal(mf_campaign_execute_channel_publish(client, &x, &err), MF_OK);
    barrier(client, svc);
    assert_int_equal(seen_n(&s), 1);
    assert_string_equal(s.last, EXEC_ID);
    assert_int_equal(stats(sub).handled, 1);
    mf_api_unsubscribe(sub);
    mf_client_destroy(svc);
    mf_client_destroy(client);
}

/* notification.user.{user_id}.push: the subject comes from the payload; a device filters on
 * its user, gateways share everything in a queue group; a subject that names another user
 * than the payload is dropped. */
static void on_push(void *ctx, const mf_push_notification *n, const mf_api_info *info)
{
    seen *s = ctx;
    if (strcmp(info->params[0], n->user_id) != 0) { /* the runtime promises they agree */
        pthread_mutex_lock(&s->mu);
        s->wrong++;
        pthread_mutex_unlock(&s->mu);
    }
    saw(s, n->user_id, info->subject);
}

static void push_init(mf_push_notification *n, const char *user)
{
    mf_push_notification_init(n);
    n->notification_id = "5b1f3c2a-9d4e-4f6a-8b7c-1d2e3f4a5b6c";
    n->user_id = (char *)user;
    n->title = "Hello";
    n->body = "World";
}

static void test_push_location_filters_queue(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *device = connect_one(NULL), *gw1 = connect_one(NULL), *gw2 = connect_one(NULL),
              *svc = connect_one(NULL);
    seen sd = SEEN_INIT, s1 = SEEN_INIT, s2 = SEEN_INIT;
    mf_api_sub *dsub, *g1, *g2;
    mf_error err;
    assert_int_equal(mf_notification_user_push_channel_subscribe(device, USER_A, on_push, &sd, NULL, &dsub, &err),
                     MF_OK);
    assert_int_equal(mf_notification_user_push_channel_subscribe(gw1, NULL, on_push, &s1, "gateway", &g1, &err),
                     MF_OK);
    assert_int_equal(mf_notification_user_push_channel_subscribe(gw2, NULL, on_push, &s2, "gateway", &g2, &err),
                     MF_OK);
    /* A filter value is checked like a parameter. */
    mf_api_sub *bad = NULL;
    assert_int_equal(mf_notification_user_push_channel_subscribe(device, "a.b", on_push, &sd, NULL, &bad, &err),
                     MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/user_id");
    assert_int_equal(mf_notification_user_push_channel_subscribe(device, "not-a-uuid", on_push, &sd, NULL, &bad,
                                                                 &err),
                     MF_ERR_INVALID_ARG);
    assert_null(bad);
    assert_int_equal(mf_client_flush(device, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_client_flush(gw1, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_client_flush(gw2, E2E_WAIT_MS), MF_OK);

    mf_push_notification n;
    const int per_user = 10;
    for (int i = 0; i < per_user; i++) {
        push_init(&n, USER_A);
        assert_int_equal(mf_notification_user_push_channel_publish(svc, &n, &err), MF_OK);
        push_init(&n, USER_B);
        assert_int_equal(mf_notification_user_push_channel_publish(svc, &n, &err), MF_OK);
    }
    /* Raw publishes whose subject names another user than the payload. */
    char json[512];
    snprintf(json, sizeof json,
             "{\"notification_id\":\"5b1f3c2a-9d4e-4f6a-8b7c-1d2e3f4a5b6c\",\"user_id\":\"%s\","
             "\"title\":\"x\",\"body\":\"y\"}",
             USER_B);
    assert_int_equal(mf_client_publish(svc, "notification.user." USER_A ".push", NULL, json, strlen(json)), MF_OK);
    /* An invalid payload value is refused before sending. */
    push_init(&n, "a.b");
    assert_int_equal(mf_notification_user_push_channel_publish(svc, &n, &err), MF_ERR_FORMAT);
    assert_string_equal(err.pointer, "/user_id");
    barrier(svc, device);
    barrier(svc, gw1);
    barrier(svc, gw2);

    assert_int_equal(seen_n(&sd), per_user); /* only user A's, not the forged one */
    assert_string_equal(sd.subject, "notification.user." USER_A ".push");
    assert_int_equal(stats(dsub).invalid, 1);
    /* The gateways got every valid notification once between them. */
    mf_api_sub_stats a = stats(g1), b = stats(g2);
    assert_int_equal(a.received + b.received, 2 * per_user + 1);
    assert_int_equal(a.handled + b.handled, 2 * per_user);
    assert_int_equal(a.invalid + b.invalid, 1);
    assert_int_equal(seen_n(&s1) + seen_n(&s2), 2 * per_user);
    assert_int_equal(sd.wrong + s1.wrong + s2.wrong, 0);
    mf_api_unsubscribe(dsub);
    mf_api_unsubscribe(g1);
    mf_api_unsubscribe(g2);
    mf_client_destroy(device);
    mf_client_destroy(gw1);
    mf_client_destroy(gw2);
    mf_client_destroy(svc);
}

/* user.info.request from any client: a typed request (sync and async) and a typed responder. */
static mf_status answer(void *ctx, const mf_user_info_request *req, mf_user_info_reply *reply,
                        const mf_api_info *info)
{
    (void)info;
    int *mode = ctx;
    if (*mode == 1)
        return mf_error_set(info->error, MF_ERR_NOT_FOUND, "", "unknown user");
    reply->user_id = strdup(req->user_id);
    reply->has_name = true;
    reply->name = strdup("Ada");
    return MF_OK;
}

typedef struct async_result {
    pthread_mutex_t mu;
    int calls;
    mf_status st;
    char text[MF_ERROR_MESSAGE_MAX];
} async_result;

static void on_reply(void *ctx, mf_status st, const mf_user_info_reply *reply, const mf_error *err)
{
    async_result *r = ctx;
    pthread_mutex_lock(&r->mu);
    r->calls++;
    r->st = st;
    snprintf(r->text, sizeof r->text, "%s", reply ? reply->name : err->message);
    pthread_mutex_unlock(&r->mu);
}

static async_result wait_reply(async_result *r, int calls)
{
    int64_t deadline = e2e_now_ms() + E2E_WAIT_MS;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        async_result copy = *r;
        pthread_mutex_unlock(&r->mu);
        if (copy.calls >= calls || e2e_now_ms() > deadline)
            return copy;
        e2e_sleep_ms(5);
    }
}

static void test_request_respond(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *resp = connect_one(NULL), *client = connect_one(NULL);
    mf_user_info_request req;
    mf_user_info_request_init(&req);
    req.user_id = USER_A;
    mf_user_info_reply reply;
    mf_error err;
    /* nobody answers yet */
    assert_int_equal(mf_user_info_request_channel_request(client, &req, E2E_WAIT_MS, &reply, &err), MF_ERR_NO_RESPONDERS);

    int mode = 0;
    mf_api_sub *sub;
    assert_int_equal(mf_user_info_request_channel_respond(resp, answer, &mode, "lookup", &sub, &err), MF_OK);
    assert_int_equal(mf_client_flush(resp, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_user_info_request_channel_request(client, &req, E2E_WAIT_MS, &reply, &err), MF_OK);
    assert_string_equal(reply.user_id, USER_A);
    assert_string_equal(reply.name, "Ada");
    mf_user_info_reply_free(&reply);

    async_result r = {PTHREAD_MUTEX_INITIALIZER, 0, MF_OK, ""};
    assert_int_equal(mf_user_info_request_channel_request_async(client, &req, E2E_WAIT_MS, on_reply, &r, &err), MF_OK);
    async_result got = wait_reply(&r, 1);
    assert_int_equal(got.calls, 1);
    assert_int_equal(got.st, MF_OK);
    assert_string_equal(got.text, "Ada");

    /* refused: the responder's handler fails */
    mode = 1;
    assert_int_equal(mf_user_info_request_channel_request(client, &req, 20000, &reply, &err), MF_ERR_REFUSED);
    assert_string_equal(err.message, "refused (500): handler failed: not found: unknown user");
    assert_int_equal(mf_user_info_request_channel_request_async(client, &req, 20000, on_reply, &r, &err), MF_OK);
    got = wait_reply(&r, 2);
    assert_int_equal(got.calls, 2);
    assert_int_equal(got.st, MF_ERR_REFUSED);
    assert_string_equal(got.text, "refused (500): handler failed: not found: unknown user");

    /* an invalid request never leaves */
    req.user_id = "nope";
    assert_int_equal(mf_user_info_request_channel_request(client, &req, E2E_WAIT_MS, &reply, &err), MF_ERR_FORMAT);
    assert_string_equal(err.pointer, "/user_id");
    assert_int_equal(mf_user_info_request_channel_request_async(client, &req, E2E_WAIT_MS, on_reply, &r, &err),
                     MF_ERR_FORMAT);
    assert_int_equal(mf_user_info_request_channel_request_async(client, &req, E2E_WAIT_MS, NULL, &r, &err),
                     MF_ERR_INVALID_ARG);

    mf_api_sub_stats st = stats(sub);
    assert_int_equal(st.handled, 4);
    assert_int_equal(st.replies, 2);
    assert_int_equal(st.refused, 2);
    mf_api_unsubscribe(sub);

    /* timeout: someone listens but never answers */
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(resp, "user.info.request", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_flush(resp, E2E_WAIT_MS), MF_OK);
    req.user_id = USER_A;
    assert_int_equal(mf_user_info_request_channel_request(client, &req, 300, &reply, &err), MF_ERR_TIMEOUT);
    assert_int_equal(mf_user_info_request_channel_request_async(client, &req, 300, on_reply, &r, &err), MF_OK);
    got = wait_reply(&r, 3);
    assert_int_equal(got.calls, 3);
    assert_int_equal(got.st, MF_ERR_TIMEOUT);
    mf_client_destroy(resp);
    mf_client_destroy(client);
    e2e_col_free(&col);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_subscribe),
        cmocka_unit_test(test_client_to_service),
        cmocka_unit_test(test_push_location_filters_queue),
        cmocka_unit_test(test_request_respond),
    };
    return mf_skip_exit(cmocka_run_group_tests(tests, group_setup, group_teardown));
}
