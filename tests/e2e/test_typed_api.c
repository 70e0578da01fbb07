/*
 * The generated typed per-service API over a real server (mf-broker, and
 * nats-server when E2E_KIND=E2E_NATS): request/reply between the two services,
 * sends with channel parameters, validation on both sides, queue groups.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "e2e_util.h"
#include "mf_sdk/sdk.h"

#ifndef E2E_KIND
#define E2E_KIND E2E_BROKER
#endif

#define USER_ID "3f0c9a52-7d1e-4b8a-9c61-2e5f4a7b8d90"

static e2e_server server;

static int setup(void **state)
{
    (void)state;
    const char *why = e2e_server_missing(E2E_KIND);
    if (why) {
        print_message("skipping: %s\n", why);
        return 0;
    }
    return e2e_server_start(&server, E2E_KIND, 0) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (server.url)
        e2e_server_cleanup(&server);
    return 0;
}

static mf_client *connect_or_skip(void)
{
    const char *why = e2e_server_missing(E2E_KIND);
    if (why)
        mf_skip_or_fail("%s", why);
    assert_non_null(server.url);
    return e2e_connect_url(server.url, NULL);
}

/* A user-service replica: answers look-ups, counting them. The handler runs on the client's
 * service thread: it records what it saw and the test thread asserts on it. */
typedef struct replica {
    int answered;
    const char *name;
    int wrong_subject; /* look-ups not received on user.info.request */
} replica;

static mf_status answer_user_info(void *ctx, const mf_user_info_request *req, mf_user_info_reply *reply,
                                  const mf_api_info *info)
{
    replica *r = ctx;
    if (strcmp(info->subject, "user.info.request") != 0)
        __atomic_fetch_add(&r->wrong_subject, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&r->answered, 1, __ATOMIC_RELAXED);
    reply->user_id = strdup(req->user_id);
    reply->has_name = true;
    reply->name = strdup(r->name);
    reply->has_email = true;
    reply->email = strdup("ada@example.com");
    return MF_OK;
}

static void test_request_reply_between_services(void **state)
{
    (void)state;
    mf_client *user = connect_or_skip(), *campaign = connect_or_skip();
    replica r = {.name = "Ada"};
    mf_api_sub *sub = NULL;
    mf_error err;
    assert_int_equal(user_service_reply_user_info(user, answer_user_info, &r, &sub, &err), MF_OK);
    assert_int_equal(mf_client_flush(user, E2E_WAIT_MS), MF_OK);

    mf_user_info_request req;
    mf_user_info_request_init(&req);
    req.user_id = USER_ID;
    mf_user_info_reply reply;
    assert_int_equal(campaign_service_request_user_info(campaign, &req, E2E_WAIT_MS, &reply, &err), MF_OK);
    assert_string_equal(reply.user_id, USER_ID);
    assert_string_equal(reply.name, "Ada");
    assert_true(reply.has_email);
    mf_user_info_reply_free(&reply);

    /* An invalid request is refused before it is sent, naming the field. */
    req.user_id = "not-a-uuid";
    assert_int_equal(campaign_service_request_user_info(campaign, &req, 500, &reply, &err), MF_ERR_FORMAT);
    assert_string_equal(err.pointer, "/user_id");

    mf_api_sub_stats st;
    mf_api_sub_stats_get(sub, &st);
    assert_int_equal(st.handled, 1);
    assert_int_equal(st.replies, 1);
    assert_int_equal(r.answered, 1);
    assert_int_equal(r.wrong_subject, 0);
    mf_api_unsubscribe(sub);
    mf_client_destroy(user);
    mf_client_destroy(campaign);
}

static void test_no_responders(void **state)
{
    (void)state;
    mf_client *campaign = connect_or_skip();
    mf_user_info_request req;
    mf_user_info_request_init(&req);
    req.user_id = USER_ID;
    mf_user_info_reply reply;
    mf_error err;
    /* a long timeout: MF_ERR_NO_RESPONDERS (not MF_ERR_TIMEOUT) shows the server answered */
    mf_status st = campaign_service_request_user_info(campaign, &req, 60000, &reply, &err);
    assert_int_equal(st, MF_ERR_NO_RESPONDERS);
    assert_non_null(strstr(err.message, "no responders"));
    mf_client_destroy(campaign);
}

/* Two replicas in the service's queue group share the requests; none is answered twice. */
static void test_replicas_share_requests(void **state)
{
    (void)state;
    mf_client *u1 = connect_or_skip(), *u2 = connect_or_skip(), *campaign = connect_or_skip();
    replica r1 = {.name = "one"}, r2 = {.name = "two"};
    mf_api_sub *s1, *s2;
    mf_error err;
    assert_int_equal(user_service_reply_user_info(u1, answer_user_info, &r1, &s1, &err), MF_OK);
    assert_int_equal(user_service_reply_user_info(u2, answer_user_info, &r2, &s2, &err), MF_OK);
    assert_int_equal(mf_client_flush(u1, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_client_flush(u2, E2E_WAIT_MS), MF_OK);
    mf_user_info_request req;
    mf_user_info_request_init(&req);
    req.user_id = USER_ID;
    const int n = 200;
    for (int i = 0; i < n; i++) {
        mf_user_info_reply reply;
        assert_int_equal(campaign_service_request_user_info(campaign, &req, E2E_WAIT_MS, &reply, &err), MF_OK);
        mf_user_info_reply_free(&reply);
    }
    assert_int_equal(r1.answered + r2.answered, n);
    assert_true(r1.answered > 0 && r2.answered > 0);
    assert_int_equal(r1.wrong_subject + r2.wrong_subject, 0);
    mf_api_unsubscribe(s1);
    mf_api_unsubscribe(s2);
    mf_client_destroy(u1);
    mf_client_destroy(u2);
    mf_client_destroy(campaign);
}

/* campaign.create commands: valid ones reach the handler, invalid ones are counted and dropped. */
typedef struct creates {
    int seen;
    char name[64];
} creates;

static void on_create(void *ctx, const mf_campaign_create *msg, const mf_api_info *info)
{
    (void)info;
    creates *c = ctx;
    snprintf(c->name, sizeof c->name, "%s", msg->name);
    __atomic_fetch_add(&c->seen, 1, __ATOMIC_RELAXED);
}

static char *example(const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", MF_EXAMPLES_DIR, file);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* ---- who gets an event: queue groups chosen with the _ex functions (mf_api_sub_opts) ---- */

static void on_info_update(void *ctx, const mf_user_info_update *msg, const mf_api_info *info)
{
    (void)msg;
    (void)info;
    __atomic_fetch_add((int *)ctx, 1, __ATOMIC_RELAXED);
}

/* Publishes n valid user.info.update events (the contract's example) from a User Service client. */
static void send_info_updates(mf_client *user, int n)
{
    mf_user_info_update msg;
    mf_error err;
    const char *json = example("UserInfoUpdate.full.json");
    assert_int_equal(mf_user_info_update_decode(json, strlen(json), &msg, &err), MF_OK);
    for (int i = 0; i < n; i++)
        assert_int_equal(user_service_send_user_info_update(user, &msg, &err), MF_OK);
    mf_user_info_update_free(&msg);
    assert_int_equal(mf_client_flush(user, 5000), MF_OK);
}

/* Waits until every subscription has taken `want` messages in total between them (handled or
 * not); returns false at the deadline. */
static bool await_received(mf_api_sub *const *subs, size_t n, uint64_t want)
{
    int64_t deadline = e2e_now_ms() + 10000;
    for (;;) {
        uint64_t got = 0;
        for (size_t i = 0; i < n; i++) {
            mf_api_sub_stats st;
            mf_api_sub_stats_get(subs[i], &st);
            got += st.handled + st.invalid;
        }
        if (got >= want)
            return got == want;
        if (e2e_now_ms() > deadline)
            return false;
        e2e_sleep_ms(10);
    }
}

/* Campaign Service replicas each keep their own view of the users: with MF_QUEUE_NONE every
 * replica gets every user event. With the default (the operation's queue group) each event goes
 * to exactly one of them; MF_QUEUE_GROUP names another group, shared the same way. */
static void test_events_reach_every_replica(void **state)
{
    (void)state;
    mf_client *user = connect_or_skip();
    enum { REPLICAS = 6, N = 50 };
    mf_client *c[REPLICAS];
    mf_api_sub *sub[REPLICAS];
    int seen[REPLICAS] = {0};
    const mf_api_sub_opts every = {.queue = MF_QUEUE_NONE};
    const mf_api_sub_opts group = {.queue = MF_QUEUE_GROUP, .queue_group = "view-builders"};
    const mf_api_sub_opts *opts[REPLICAS] = {&every, &every, NULL, NULL, &group, &group};
    mf_error err;
    for (int i = 0; i < REPLICAS; i++) {
        c[i] = connect_or_skip();
        assert_int_equal(campaign_service_receive_user_info_update_ex(c[i], on_info_update, &seen[i], opts[i],
                                                                      &sub[i], &err), MF_OK);
        assert_int_equal(mf_client_flush(c[i], 5000), MF_OK);
    }
    send_info_updates(user, N);
    assert_true(await_received(&sub[0], 1, N)); /* MF_QUEUE_NONE: all of them, each */
    assert_true(await_received(&sub[1], 1, N));
    assert_true(await_received(&sub[2], 2, N)); /* default group: one of the two each time */
    assert_true(await_received(&sub[4], 2, N)); /* the named group: the same */
    /* a flush round trip of each subscriber: nothing else was on its way */
    for (int i = 0; i < REPLICAS; i++)
        assert_int_equal(mf_client_flush(c[i], 5000), MF_OK);
    assert_true(await_received(&sub[2], 2, N));
    assert_true(await_received(&sub[4], 2, N));
    assert_int_equal(__atomic_load_n(&seen[0], __ATOMIC_RELAXED), N);
    assert_int_equal(__atomic_load_n(&seen[1], __ATOMIC_RELAXED), N);
    assert_int_equal(__atomic_load_n(&seen[2], __ATOMIC_RELAXED) + __atomic_load_n(&seen[3], __ATOMIC_RELAXED), N);
    assert_int_equal(__atomic_load_n(&seen[4], __ATOMIC_RELAXED) + __atomic_load_n(&seen[5], __ATOMIC_RELAXED), N);
    for (int i = 0; i < REPLICAS; i++) {
        mf_api_unsubscribe(sub[i]);
        mf_client_destroy(c[i]);
    }
    mf_client_destroy(user);
}

/* Bad options are refused before anything is subscribed, naming the option. */
static void test_bad_queue_options(void **state)
{
    (void)state;
    mf_client *c = connect_or_skip();
    int seen = 0;
    mf_api_sub *sub = (mf_api_sub *)&seen; /* set to NULL on every error */
    mf_error err;
    const mf_api_sub_opts bad[] = {
        {.queue = (mf_queue_mode)42},
        {.queue = MF_QUEUE_GROUP},
        {.queue = MF_QUEUE_GROUP, .queue_group = ""},
        {.queue = MF_QUEUE_GROUP, .queue_group = "two words"},
    };
    const char *pointer[] = {"/queue", "/queue_group", "/queue_group", "/queue_group"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(campaign_service_receive_user_info_update_ex(c, on_info_update, &seen, &bad[i], &sub, &err),
                         MF_ERR_INVALID_ARG);
        assert_null(sub);
        assert_string_equal(err.pointer, pointer[i]);
    }
    mf_client_destroy(c);
}

/* ---- typed headers: campaign.analytics carries a failure's code in Mflow-Error-Code ---- */

typedef struct analytics_seen {
    pthread_mutex_t mu;
    int n;
    char code[64]; /* the last event's header, "" when absent */
} analytics_seen;

static void on_analytics(void *ctx, const mf_campaign_analytics_event *msg, const mf_api_info *info)
{
    (void)msg;
    analytics_seen *a = ctx;
    const mf_campaign_analytics_event_headers *h = info->headers;
    pthread_mutex_lock(&a->mu);
    snprintf(a->code, sizeof a->code, "%s", h && h->has_mflow_error_code ? h->mflow_error_code : "");
    a->n++;
    pthread_mutex_unlock(&a->mu);
}

static bool await_analytics(analytics_seen *a, int n, char *code, size_t cap)
{
    int64_t deadline = e2e_now_ms() + 10000;
    for (;;) {
        pthread_mutex_lock(&a->mu);
        int got = a->n;
        snprintf(code, cap, "%s", a->code);
        pthread_mutex_unlock(&a->mu);
        if (got >= n)
            return got == n;
        if (e2e_now_ms() > deadline)
            return false;
        e2e_sleep_ms(10);
    }
}

static void test_typed_headers(void **state)
{
    (void)state;
    mf_client *svc = connect_or_skip(), *watcher = connect_or_skip();
    analytics_seen seen = {PTHREAD_MUTEX_INITIALIZER, 0, ""};
    mf_api_sub *sub;
    mf_error err;
    e2e_col raw;
    e2e_col_init(&raw);
    uint64_t sid;
    assert_int_equal(mf_campaign_analytics_channel_subscribe(watcher, on_analytics, &seen, NULL, &sub, &err), MF_OK);
    assert_int_equal(mf_client_subscribe(watcher, "campaign.analytics", NULL, e2e_col_cb, &raw, &sid), MF_OK);
    assert_int_equal(mf_client_flush(watcher, 5000), MF_OK);

    mf_campaign_analytics_event ev;
    const char *json = example("CampaignAnalyticsEvent.minimal.json");
    assert_int_equal(mf_campaign_analytics_event_decode(json, strlen(json), &ev, &err), MF_OK);
    ev.event_type = MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_FAILED;
    mf_campaign_analytics_event_headers h = {.has_mflow_error_code = true, .mflow_error_code = "CAMPAIGN_NOT_FOUND"};
    char code[64];
    /* sent with the header: on the wire as a NATS header, typed for the receiver */
    assert_int_equal(campaign_service_send_campaign_analytics_with_headers(svc, &ev, &h, &err), MF_OK);
    assert_int_equal(mf_client_flush(svc, 5000), MF_OK);
    assert_true(await_analytics(&seen, 1, code, sizeof code));
    assert_string_equal(code, "CAMPAIGN_NOT_FOUND");
    assert_true(e2e_col_wait(&raw, 1, 10000));
    size_t len = 0;
    const char *v = mf_msg_header(&raw.kept[0]->msg, "Mflow-Error-Code", &len);
    assert_non_null(v);
    assert_int_equal(len, strlen("CAMPAIGN_NOT_FOUND"));
    assert_memory_equal(v, "CAMPAIGN_NOT_FOUND", len);
    /* without headers: the receiver's struct has no code */
    assert_int_equal(campaign_service_send_campaign_analytics(svc, &ev, &err), MF_OK);
    assert_int_equal(mf_client_flush(svc, 5000), MF_OK);
    assert_true(await_analytics(&seen, 2, code, sizeof code));
    assert_string_equal(code, "");
    /* a header the contract refuses is not sent (its pattern), naming it */
    h.mflow_error_code = "not found";
    assert_int_equal(campaign_service_send_campaign_analytics_with_headers(svc, &ev, &h, &err), MF_ERR_PATTERN);
    assert_string_equal(err.pointer, "/Mflow-Error-Code");
    /* and one that arrives anyway (a raw publish) is dropped as invalid, the payload being fine */
    mf_buf body = MF_BUF_INIT;
    assert_int_equal(mf_campaign_analytics_event_encode(&ev, &body, &err), MF_OK);
    const mf_header bad = {"Mflow-Error-Code", "not found"};
    assert_int_equal(mf_client_publish_hdrs(svc, "campaign.analytics", NULL, &bad, 1, body.data, body.len), MF_OK);
    mf_buf_free(&body);
    assert_int_equal(mf_client_flush(svc, 5000), MF_OK);
    assert_true(e2e_col_wait(&raw, 3, 10000)); /* the watcher's connection has all three sent */
    mf_api_sub_stats st;
    int64_t deadline = e2e_now_ms() + 10000;
    do {
        mf_api_sub_stats_get(sub, &st);
        if (st.handled + st.invalid >= 3)
            break;
        e2e_sleep_ms(10);
    } while (e2e_now_ms() < deadline);
    assert_int_equal(st.handled, 2);
    assert_int_equal(st.invalid, 1);
    ev.event_type = MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_CREATED;
    mf_campaign_analytics_event_free(&ev);
    mf_api_unsubscribe(sub);
    mf_client_destroy(watcher);
    mf_client_destroy(svc);
    e2e_col_free(&raw);
}

static void test_receive_validates(void **state)
{
    (void)state;
    mf_client *svc = connect_or_skip(), *client = connect_or_skip();
    creates c = {0, ""};
    mf_api_sub *sub;
    mf_error err;
    assert_int_equal(campaign_service_receive_campaign_create(svc, on_create, &c, &sub, &err), MF_OK);
    assert_int_equal(mf_client_flush(svc, E2E_WAIT_MS), MF_OK);

    const char *bad[] = {"not json", "{}", "{\"campaign_id\":\"x\"}", "[1,2]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(mf_client_publish(client, "campaign.create", NULL, bad[i], strlen(bad[i])), MF_OK);
    const char *good = example("CampaignCreate.full.json");
    assert_int_equal(mf_client_publish(client, "campaign.create", NULL, good, strlen(good)), MF_OK);
    assert_int_equal(mf_client_flush(client, E2E_WAIT_MS), MF_OK);
    int64_t deadline = e2e_now_ms() + E2E_WAIT_MS;
    mf_api_sub_stats st;
    do {
        mf_api_sub_stats_get(sub, &st);
        if (st.handled + st.invalid == 5) /* every message fully processed */
            break;
        e2e_sleep_ms(10);
    } while (e2e_now_ms() < deadline);
    assert_int_equal(st.received, 5);
    assert_int_equal(st.invalid, 4);
    assert_int_equal(st.handled, 1);
    assert_int_equal(__atomic_load_n(&c.seen, __ATOMIC_RELAXED), 1);
    assert_string_equal(c.name, "Spring sale 2026");
    mf_api_unsubscribe(sub);
    mf_client_destroy(svc);
    mf_client_destroy(client);
}

/* The channel parameter user_id has a location: the send takes it from the payload. */
static void test_send_takes_parameter_from_payload(void **state)
{
    (void)state;
    mf_client *svc = connect_or_skip(), *device = connect_or_skip();
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(device, MF_NOTIFICATION_USER_PUSH_WILDCARD, NULL, e2e_col_cb, &col, NULL),
                     MF_OK);
    assert_int_equal(mf_client_flush(device, E2E_WAIT_MS), MF_OK);
    mf_push_notification n;
    mf_push_notification_init(&n);
    n.notification_id = "5b1f3c2a-9d4e-4f6a-8b7c-1d2e3f4a5b6c";
    n.user_id = USER_ID;
    n.title = "Hello";
    n.body = "World";
    mf_error err;
    assert_int_equal(campaign_service_send_push_notification(svc, &n, &err), MF_OK);
    assert_true(e2e_col_wait(&col, 1, E2E_WAIT_MS));
    assert_string_equal(col.last_subject, "notification.user." USER_ID ".push");
    /* A value that would change the subject's shape never gets that far: the payload is invalid. */
    n.user_id = "a.b";
    assert_int_equal(campaign_service_send_push_notification(svc, &n, &err), MF_ERR_FORMAT);
    assert_string_equal(err.pointer, "/user_id");
    n.user_id = NULL;
    assert_int_equal(campaign_service_send_push_notification(svc, &n, &err), MF_ERR_REQUIRED);
    assert_string_equal(err.pointer, "/user_id");
    /* An invalid message is refused: nothing more arrives. */
    n.user_id = USER_ID;
    n.title = NULL;
    assert_int_equal(campaign_service_send_push_notification(svc, &n, &err), MF_ERR_REQUIRED);
    assert_string_equal(err.pointer, "/title");
    /* A flush of the device after one of the sender proves that anything sent reached it. */
    assert_int_equal(mf_client_flush(svc, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_client_flush(device, E2E_WAIT_MS), MF_OK);
    assert_int_equal(e2e_col_count(&col), 1);
    mf_client_destroy(svc);
    mf_client_destroy(device);
    e2e_col_free(&col);
}

/* Sends reuse one body buffer per thread (runtime/api/send.c): bodies of every size, a buffer
 * that grew past what a thread keeps and is let go, and two threads sending at once must each
 * deliver exactly the message they encoded. The title says the body's length, the body is one
 * letter per sending thread. */
typedef struct body_check {
    pthread_mutex_t mu;
    int good, bad;
} body_check;

static void on_sized_push(mf_client *cl, const mf_msg *m, void *ctx)
{
    (void)cl;
    body_check *b = ctx;
    mf_push_notification n;
    mf_push_notification_init(&n);
    mf_error err;
    bool ok = mf_push_notification_decode(m->data, m->len, &n, &err) == MF_OK && n.title && n.body &&
              n.title[0] == 't' && strlen(n.body) == (size_t)atoi(n.title + 1);
    for (const char *p = ok ? n.body : ""; *p; p++)
        ok = ok && *p == n.body[0];
    mf_push_notification_free(&n);
    pthread_mutex_lock(&b->mu);
    ok ? b->good++ : b->bad++;
    pthread_mutex_unlock(&b->mu);
}

#define SIZED_SENDS 40

typedef struct sized_sender {
    mf_client *c;
    char letter;
    int failed;
} sized_sender;

static void *send_sized(void *arg)
{
    sized_sender *s = arg;
    static const size_t lens[] = {100000, 1, 2000, 70000, 10, 65536, 300};
    char *body = malloc(100001), title[16];
    for (int i = 0; body && i < SIZED_SENDS; i++) {
        size_t len = lens[i % (sizeof lens / sizeof lens[0])];
        memset(body, s->letter, len);
        body[len] = '\0';
        snprintf(title, sizeof title, "t%zu", len);
        mf_push_notification n;
        mf_push_notification_init(&n);
        n.notification_id = "5b1f3c2a-9d4e-4f6a-8b7c-1d2e3f4a5b6c";
        n.user_id = USER_ID;
        n.title = title;
        n.body = body;
        mf_error err;
        if (campaign_service_send_push_notification(s->c, &n, &err) != MF_OK)
            s->failed++;
    }
    s->failed += body ? 0 : SIZED_SENDS;
    free(body);
    return NULL;
}

static void test_sends_of_every_size_from_two_threads(void **state)
{
    (void)state;
    mf_client *a = connect_or_skip(), *b = connect_or_skip(), *device = connect_or_skip();
    body_check chk = {.good = 0, .bad = 0};
    pthread_mutex_init(&chk.mu, NULL);
    assert_int_equal(mf_client_subscribe(device, MF_NOTIFICATION_USER_PUSH_WILDCARD, NULL, on_sized_push, &chk, NULL),
                     MF_OK);
    assert_int_equal(mf_client_flush(device, E2E_WAIT_MS), MF_OK);
    sized_sender sa = {a, 'x', 0}, sb = {b, 'y', 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, send_sized, &sb), 0);
    send_sized(&sa);
    pthread_join(t, NULL);
    assert_int_equal(sa.failed + sb.failed, 0);
    assert_int_equal(mf_client_flush(a, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_client_flush(b, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_client_flush(device, E2E_WAIT_MS), MF_OK);
    pthread_mutex_lock(&chk.mu);
    int good = chk.good, bad = chk.bad;
    pthread_mutex_unlock(&chk.mu);
    assert_int_equal(bad, 0);
    assert_int_equal(good, 2 * SIZED_SENDS);
    mf_client_destroy(a);
    mf_client_destroy(b);
    mf_client_destroy(device);
    pthread_mutex_destroy(&chk.mu);
}

/* The async request: the callback runs once, with the decoded reply or the error. */
typedef struct async_result {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    mf_status st;
    char name[64];
    char message[MF_ERROR_MESSAGE_MAX];
} async_result;

static void on_user_info(void *ctx, mf_status st, const mf_user_info_reply *reply, const mf_error *err)
{
    async_result *r = ctx;
    pthread_mutex_lock(&r->mu);
    r->calls++;
    r->st = st;
    if (reply)
        snprintf(r->name, sizeof r->name, "%s", reply->name ? reply->name : "");
    snprintf(r->message, sizeof r->message, "%s", err ? err->message : "");
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void wait_calls(async_result *r, int n)
{
    struct timespec until; /* r->cv uses the default clock, CLOCK_REALTIME */
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += E2E_WAIT_MS / 1000;
    pthread_mutex_lock(&r->mu);
    while (r->calls < n)
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&r->mu);
}

static void test_async_request(void **state)
{
    (void)state;
    mf_client *user = connect_or_skip(), *campaign = connect_or_skip();
    async_result r = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, MF_OK, "", ""};
    mf_user_info_request req;
    mf_user_info_request_init(&req);
    req.user_id = USER_ID;
    mf_error err;

    /* Nobody answers yet: the callback gets MF_ERR_NO_RESPONDERS. */
    assert_int_equal(campaign_service_request_user_info_async(campaign, &req, 60000, on_user_info, &r, &err), MF_OK);
    wait_calls(&r, 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.st, MF_ERR_NO_RESPONDERS);

    /* With a responder: the decoded reply. */
    replica rep = {.name = "Grace"};
    mf_api_sub *sub;
    assert_int_equal(user_service_reply_user_info(user, answer_user_info, &rep, &sub, &err), MF_OK);
    assert_int_equal(mf_client_flush(user, E2E_WAIT_MS), MF_OK);
    assert_int_equal(campaign_service_request_user_info_async(campaign, &req, E2E_WAIT_MS, on_user_info, &r, &err),
                     MF_OK);
    wait_calls(&r, 2);
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.st, MF_OK);
    assert_string_equal(r.name, "Grace");

    /* Invalid requests and missing callbacks are refused at once; no callback runs. */
    req.user_id = "nope";
    assert_int_equal(campaign_service_request_user_info_async(campaign, &req, 500, on_user_info, &r, &err),
                     MF_ERR_FORMAT);
    assert_string_equal(err.pointer, "/user_id");
    req.user_id = USER_ID;
    assert_int_equal(campaign_service_request_user_info_async(campaign, &req, 500, NULL, &r, &err),
                     MF_ERR_INVALID_ARG);
    mf_api_unsubscribe(sub);
    mf_client_destroy(user);
    mf_client_destroy(campaign); /* would complete any pending request (MF_ERR_CLOSED) */
    assert_int_equal(r.calls, 2);
    assert_int_equal(rep.wrong_subject, 0);
}

/* A handler that fails, or fills an invalid reply, is answered with an error reply (code 500):
 * the requester gets MF_ERR_REFUSED at once with the responder's text, not a timeout. */
static mf_status bad_reply(void *ctx, const mf_user_info_request *req, mf_user_info_reply *reply,
                           const mf_api_info *info)
{
    (void)req;
    int *mode = ctx;
    if (*mode == 0)
        return MF_ERR_NOT_FOUND;
    if (*mode == 1)
        return mf_error_set(info->error, MF_ERR_NOT_FOUND, "/user_id", "no user %s", req->user_id);
    reply->user_id = strdup("not-a-uuid"); /* invalid: never leaves the service */
    return MF_OK;
}

static void test_handler_errors(void **state)
{
    (void)state;
    mf_client *user = connect_or_skip(), *campaign = connect_or_skip();
    int mode = 0;
    mf_api_sub *sub;
    mf_error err;
    assert_int_equal(user_service_reply_user_info(user, bad_reply, &mode, &sub, &err), MF_OK);
    assert_int_equal(mf_client_flush(user, E2E_WAIT_MS), MF_OK);
    mf_user_info_request req;
    mf_user_info_request_init(&req);
    req.user_id = USER_ID;
    mf_user_info_reply reply;
    /* The timeout is long: an error reply must end the wait long before it. */
    int64_t t0 = e2e_now_ms();
    assert_int_equal(campaign_service_request_user_info(campaign, &req, 20000, &reply, &err), MF_ERR_REFUSED);
    assert_true(e2e_now_ms() - t0 < 15000);
    assert_string_equal(err.message, "refused (500): handler failed: not found");
    mode = 1;
    assert_int_equal(campaign_service_request_user_info(campaign, &req, 20000, &reply, &err), MF_ERR_REFUSED);
    assert_string_equal(err.message, "refused (500): handler failed: not found: no user " USER_ID);
    mode = 2;
    assert_int_equal(campaign_service_request_user_info(campaign, &req, 20000, &reply, &err), MF_ERR_REFUSED);
    assert_non_null(strstr(err.message, "refused (500): invalid reply UserInfoReply: /user_id: "));
    assert_null(reply.user_id); /* the reply struct holds nothing on error */

    /* The async request reports the same. */
    async_result r = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, MF_OK, "", ""};
    mode = 0;
    assert_int_equal(campaign_service_request_user_info_async(campaign, &req, 20000, on_user_info, &r, &err), MF_OK);
    wait_calls(&r, 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.st, MF_ERR_REFUSED);
    assert_string_equal(r.message, "refused (500): handler failed: not found");

    mf_api_sub_stats st;
    mf_api_sub_stats_get(sub, &st);
    assert_int_equal(st.handled, 4);
    assert_int_equal(st.replies, 0);
    assert_int_equal(st.reply_errors, 4);
    assert_int_equal(st.refused, 4);
    mf_api_unsubscribe(sub);
    mf_client_destroy(user);
    mf_client_destroy(campaign);
}

/* A request the responder finds invalid is answered with code 400 naming the field. A requester
 * built from another contract is simulated with a descriptor whose request type takes any JSON. */
static const mf_type any_json = {.kind = MF_K_RAW, .name = "any", .size = sizeof(char *)};
static const mf_message_desc loose_request = {"Loose", "Loose", "", "application/json", &any_json, sizeof(char *),
                                              NULL, 0};
static const mf_operation_desc loose_op = {.key = "looseRequest", .service = "test", .action = MF_ACTION_SEND,
                                           .channel = &mf_ch_user_info_request_desc, .message = &loose_request,
                                           .reply = &mf_msg_user_info_reply_desc};

static void test_invalid_request_refused(void **state)
{
    (void)state;
    mf_client *user = connect_or_skip(), *campaign = connect_or_skip();
    replica rep = {.name = "Ada"};
    mf_api_sub *sub;
    mf_error err;
    assert_int_equal(user_service_reply_user_info(user, answer_user_info, &rep, &sub, &err), MF_OK);
    assert_int_equal(mf_client_flush(user, E2E_WAIT_MS), MF_OK);

    /* Typed: MF_ERR_REFUSED with the code and the responder's pointer and message. */
    char *bad = "{\"user_id\":\"nope\"}";
    mf_user_info_reply reply;
    assert_int_equal(mf_api_request(campaign, &loose_op, NULL, &bad, 20000, &reply, &err), MF_ERR_REFUSED);
    assert_non_null(strstr(err.message, "refused (400): invalid UserInfoRequest: /user_id: "));

    /* On the wire: an empty reply with the two NATS service error headers. */
    mf_msg_owned *m = NULL;
    assert_int_equal(mf_client_request(campaign, "user.info.request", "not json", 8, 20000, &m), MF_OK);
    size_t n = 0;
    const char *code = mf_msg_header(&m->msg, "Nats-Service-Error-Code", &n);
    assert_non_null(code);
    assert_int_equal(n, 3);
    assert_memory_equal(code, "400", 3);
    const char *text = mf_msg_header(&m->msg, "Nats-Service-Error", &n);
    assert_non_null(text);
    assert_true(n > strlen("invalid UserInfoRequest: "));
    assert_memory_equal(text, "invalid UserInfoRequest: ", strlen("invalid UserInfoRequest: "));
    assert_int_equal(m->msg.len, 0);
    mf_msg_owned_free(m);

    mf_api_sub_stats st;
    mf_api_sub_stats_get(sub, &st);
    assert_int_equal(st.invalid, 2);
    assert_int_equal(st.refused, 2);
    assert_int_equal(st.handled, 0);
    assert_int_equal(rep.answered, 0);
    mf_api_unsubscribe(sub);
    mf_client_destroy(user);
    mf_client_destroy(campaign);
}

/* Timeout, no responders and refused are three different outcomes. */
static void test_timeout_is_not_refused(void **state)
{
    (void)state;
    mf_client *silent = connect_or_skip(), *campaign = connect_or_skip();
    e2e_col col;
    e2e_col_init(&col); /* subscribes, never answers */
    assert_int_equal(mf_client_subscribe(silent, "user.info.request", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_flush(silent, E2E_WAIT_MS), MF_OK);
    mf_user_info_request req;
    mf_user_info_request_init(&req);
    req.user_id = USER_ID;
    mf_user_info_reply reply;
    mf_error err;
    assert_int_equal(campaign_service_request_user_info(campaign, &req, 300, &reply, &err), MF_ERR_TIMEOUT);
    assert_non_null(strstr(err.message, "no reply on user.info.request within 300 ms"));
    assert_true(e2e_col_wait(&col, 1, E2E_WAIT_MS)); /* it did arrive */
    mf_client_destroy(silent);
    mf_client_destroy(campaign);
    e2e_col_free(&col);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_reply_between_services),
        cmocka_unit_test(test_no_responders),
        cmocka_unit_test(test_replicas_share_requests),
        cmocka_unit_test(test_receive_validates),
        cmocka_unit_test(test_events_reach_every_replica),
        cmocka_unit_test(test_bad_queue_options),
        cmocka_unit_test(test_typed_headers),
        cmocka_unit_test(test_send_takes_parameter_from_payload),
        cmocka_unit_test(test_sends_of_every_size_from_two_threads),
        cmocka_unit_test(test_async_request),
        cmocka_unit_test(test_handler_errors),
        cmocka_unit_test(test_invalid_request_refused),
        cmocka_unit_test(test_timeout_is_not_refused),
    };
    return mf_skip_exit(cmocka_run_group_tests(tests, setup, teardown));
}
