/*
 * test_client_basic.c - mf_client against a real server process: nats-server
 * (built as test_client_nats) or mf-broker (built as test_client_broker, with
 * -DE2E_KIND=E2E_BROKER). Pub/sub, wildcards, queue groups, unsubscribe with a
 * maximum, request/reply, timeouts, no-responders, max_payload, headers,
 * concurrent publishers, drain, and reconnect after the server is killed and
 * restarted on the same port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

#ifndef E2E_KIND
#define E2E_KIND E2E_NATS
#endif
#define MAXP 65536

static e2e_server g_srv;
static bool g_up;

#define REQUIRE_SERVER()                                                                                   \
    do {                                                                                                   \
        const char *why_ = e2e_server_missing(E2E_KIND);                                                   \
        if (why_) {                                                                                        \
            print_message("SKIP: %s\n", why_);                                                             \
            skip();                                                                                        \
        }                                                                                                  \
        assert_true(g_up);                                                                                 \
    } while (0)

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    if (!e2e_server_missing(E2E_KIND))
        g_up = e2e_server_start(&g_srv, E2E_KIND, MAXP);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_up)
        e2e_server_cleanup(&g_srv);
    return 0;
}

static mf_client *connect_one(e2e_events *ev)
{
    const char *servers[] = {g_srv.url};
    mf_client_opts o;
    e2e_opts(&o, servers, 1, ev);
    mf_client *c = e2e_connect(&o);
    assert_non_null(c);
    return c;
}

static void pub_int(mf_client *c, const char *subject, int v)
{
    char b[32];
    int n = snprintf(b, sizeof b, "%d", v);
    assert_int_equal(mf_client_publish(c, subject, NULL, b, (size_t)n), MF_OK);
}

/* ------------------------------------------------------------------ tests */

static void test_pubsub(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *c = connect_one(NULL);
    e2e_col col;
    e2e_col_init(&col);
    uint64_t sid = 0;
    assert_int_equal(mf_client_subscribe(c, "t.a", NULL, e2e_col_cb, &col, &sid), MF_OK);
    assert_true(sid > 0);
    assert_int_equal(mf_client_flush(c, 2000), MF_OK);
    for (int i = 0; i < 10; i++)
        pub_int(c, "t.a", i);
    assert_true(e2e_col_wait(&col, 10, 5000));
    for (int i = 0; i < 10; i++)
        assert_int_equal(col.vals[i], i); /* in order */
    assert_string_equal(col.last_subject, "t.a");
    assert_string_equal(col.last_reply, "");

    assert_int_equal(mf_client_publish(c, "t.a", "r.x", "hi", 2), MF_OK);
    assert_true(e2e_col_wait(&col, 11, 5000));
    assert_string_equal(col.last_reply, "r.x");
    assert_string_equal(col.last_data, "hi");
    /* empty payload */
    assert_int_equal(mf_client_publish(c, "t.a", NULL, NULL, 0), MF_OK);
    assert_true(e2e_col_wait(&col, 12, 5000));
    assert_string_equal(col.last_data, "");

    /* invalid arguments */
    assert_int_equal(mf_client_publish(c, "t.*", NULL, "x", 1), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_publish(c, "t..a", NULL, "x", 1), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_publish(c, "t a", NULL, "x", 1), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_publish(c, "", NULL, "x", 1), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_subscribe(c, "a.>.b", NULL, e2e_col_cb, &col, NULL), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_subscribe(c, "a", "bad queue", e2e_col_cb, &col, NULL), MF_ERR_INVALID_ARG);

    mf_client_stats st;
    assert_int_equal(mf_client_stats_get(c, &st), MF_OK);
    assert_true(st.connected);
    assert_int_equal(st.msgs_out, 12);
    assert_int_equal(st.msgs_in, 12);
    assert_true(strstr(st.server_url, "127.0.0.1") != NULL);
    mf_client_destroy(c);
    e2e_col_free(&col);
}

static void test_wildcards(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *c = connect_one(NULL);
    e2e_col star, gt;
    e2e_col_init(&star);
    e2e_col_init(&gt);
    assert_int_equal(mf_client_subscribe(c, "w.*.c", NULL, e2e_col_cb, &star, NULL), MF_OK);
    assert_int_equal(mf_client_subscribe(c, "w.>", NULL, e2e_col_cb, &gt, NULL), MF_OK);
    assert_int_equal(mf_client_flush(c, 2000), MF_OK);
    pub_int(c, "w.b.c", 1);
    pub_int(c, "w.b.d", 2);
    pub_int(c, "w.x.y.z", 3);
    pub_int(c, "w", 4);
    pub_int(c, "w.c", 5);
    assert_int_equal(mf_client_flush(c, 2000), MF_OK);
    assert_true(e2e_col_wait(&gt, 4, 5000));
    assert_true(e2e_col_wait(&star, 1, 5000));
    e2e_sleep_ms(100);
    assert_int_equal(e2e_col_count(&star), 1);
    assert_int_equal(star.vals[0], 1);
    assert_int_equal(e2e_col_count(&gt), 4);
    mf_client_destroy(c);
    e2e_col_free(&star);
    e2e_col_free(&gt);
}

static void test_queue_groups(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    enum { N = 400 };
    mf_client *a = connect_one(NULL), *b = connect_one(NULL), *p = connect_one(NULL);
    e2e_col ca, cb, plain;
    e2e_col_init(&ca);
    e2e_col_init(&cb);
    e2e_col_init(&plain);
    assert_int_equal(mf_client_subscribe(a, "q.s", "grp", e2e_col_cb, &ca, NULL), MF_OK);
    assert_int_equal(mf_client_subscribe(b, "q.s", "grp", e2e_col_cb, &cb, NULL), MF_OK);
    assert_int_equal(mf_client_subscribe(p, "q.s", NULL, e2e_col_cb, &plain, NULL), MF_OK);
    assert_int_equal(mf_client_flush(a, 2000), MF_OK);
    assert_int_equal(mf_client_flush(b, 2000), MF_OK);
    assert_int_equal(mf_client_flush(p, 2000), MF_OK);
    for (int i = 0; i < N; i++)
        pub_int(p, "q.s", i);
    assert_int_equal(mf_client_flush(p, 2000), MF_OK);
    assert_true(e2e_col_wait(&plain, N, 5000));
    int64_t end = e2e_now_ms() + 5000;
    while (e2e_col_count(&ca) + e2e_col_count(&cb) < N && e2e_now_ms() < end)
        e2e_sleep_ms(10);
    e2e_sleep_ms(100);
    size_t na = e2e_col_count(&ca), nb = e2e_col_count(&cb);
    assert_int_equal(na + nb, N);
    assert_true(na > 0 && nb > 0); /* both members got work */
    char *seen = calloc(N, 1);
    for (size_t i = 0; i < na; i++)
        seen[ca.vals[i]]++;
    for (size_t i = 0; i < nb; i++)
        seen[cb.vals[i]]++;
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1); /* disjoint and complete */
    free(seen);
    mf_client_destroy(a);
    mf_client_destroy(b);
    mf_client_destroy(p);
    e2e_col_free(&ca);
    e2e_col_free(&cb);
    e2e_col_free(&plain);
}

static void test_unsubscribe_max(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *c = connect_one(NULL);
    e2e_col col, col2;
    e2e_col_init(&col);
    e2e_col_init(&col2);
    uint64_t sid, sid2;
    assert_int_equal(mf_client_subscribe(c, "u.m", NULL, e2e_col_cb, &col, &sid), MF_OK);
    assert_int_equal(mf_client_subscribe(c, "u.m", NULL, e2e_col_cb, &col2, &sid2), MF_OK);
    assert_int_equal(mf_client_unsubscribe(c, sid, 5), MF_OK);
    assert_int_equal(mf_client_flush(c, 2000), MF_OK);
    for (int i = 0; i < 10; i++)
        pub_int(c, "u.m", i);
    assert_int_equal(mf_client_flush(c, 2000), MF_OK);
    assert_true(e2e_col_wait(&col2, 10, 5000));
    e2e_sleep_ms(50);
    assert_int_equal(e2e_col_count(&col), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(col.vals[i], i);
    assert_int_equal(mf_client_unsubscribe(c, sid, 0), MF_ERR_NOT_FOUND); /* finished by itself */
    /* immediate unsubscribe */
    assert_int_equal(mf_client_unsubscribe(c, sid2, 0), MF_OK);
    assert_int_equal(mf_client_unsubscribe(c, sid2, 0), MF_ERR_NOT_FOUND);
    pub_int(c, "u.m", 99);
    assert_int_equal(mf_client_flush(c, 2000), MF_OK);
    e2e_sleep_ms(50);
    assert_int_equal(e2e_col_count(&col2), 10);
    assert_int_equal(mf_client_unsubscribe(c, 12345, 0), MF_ERR_NOT_FOUND);
    mf_client_destroy(c);
    e2e_col_free(&col);
    e2e_col_free(&col2);
}

typedef struct async_res {
    pthread_mutex_t mu;
    int done, ok, timeouts, noresp, closed;
    char data[64];
} async_res;

static void async_cb(mf_client *c, mf_status st, const mf_msg *reply, void *ctx)
{
    (void)c;
    async_res *r = ctx;
    pthread_mutex_lock(&r->mu);
    r->done++;
    if (st == MF_OK) {
        r->ok++;
        snprintf(r->data, sizeof r->data, "%.*s", (int)reply->len, (const char *)reply->data);
    } else if (st == MF_ERR_TIMEOUT) {
        r->timeouts++;
    } else if (st == MF_ERR_NO_RESPONDERS) {
        r->noresp++;
    } else if (st == MF_ERR_CLOSED) {
        r->closed++;
    }
    pthread_mutex_unlock(&r->mu);
}

static int async_done(async_res *r)
{
    pthread_mutex_lock(&r->mu);
    int d = r->done;
    pthread_mutex_unlock(&r->mu);
    return d;
}

static bool wait_async(async_res *r, int n, int timeout_ms)
{
    int64_t end = e2e_now_ms() + timeout_ms;
    while (async_done(r) < n && e2e_now_ms() < end)
        e2e_sleep_ms(5);
    return async_done(r) >= n;
}

static void test_request_reply(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *srv = connect_one(NULL), *cli = connect_one(NULL);
    e2e_col col;
    e2e_col_init(&col);
    col.respond = true;
    assert_int_equal(mf_client_subscribe(srv, "svc.echo", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_flush(srv, 2000), MF_OK);

    mf_msg_owned *rep = NULL;
    assert_int_equal(mf_client_request(cli, "svc.echo", "hello", 5, 2000, &rep), MF_OK);
    assert_non_null(rep);
    assert_int_equal(rep->msg.len, 8);
    assert_memory_equal(rep->msg.data, "re:hello", 8);
    assert_true(strncmp(rep->msg.subject, "_INBOX.", 7) == 0);
    mf_msg_owned_free(rep);

    async_res r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    for (int i = 0; i < 50; i++)
        assert_int_equal(mf_client_request_async(cli, "svc.echo", "x", 1, 2000, async_cb, &r), MF_OK);
    assert_true(wait_async(&r, 50, 5000));
    assert_int_equal(r.ok, 50);
    assert_string_equal(r.data, "re:x");
    /* many blocking requests in a row */
    for (int i = 0; i < 200; i++) {
        assert_int_equal(mf_client_request(cli, "svc.echo", "y", 1, 2000, &rep), MF_OK);
        mf_msg_owned_free(rep);
    }
    assert_int_equal(mf_client_request(cli, "svc.echo", "y", 1, 2000, NULL), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_request_async(cli, "svc.echo", "y", 1, 0, async_cb, &r), MF_ERR_INVALID_ARG);
    mf_client_destroy(cli);
    mf_client_destroy(srv);
    pthread_mutex_destroy(&r.mu);
    e2e_col_free(&col);
}

static void test_request_timeout(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *srv = connect_one(NULL), *cli = connect_one(NULL);
    e2e_col col;
    e2e_col_init(&col); /* listens, never answers */
    assert_int_equal(mf_client_subscribe(srv, "svc.silent", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_flush(srv, 2000), MF_OK);
    mf_msg_owned *rep = NULL;
    int64_t t0 = e2e_now_ms();
    assert_int_equal(mf_client_request(cli, "svc.silent", "q", 1, 200, &rep), MF_ERR_TIMEOUT);
    int64_t dt = e2e_now_ms() - t0;
    assert_null(rep);
    assert_true(dt >= 190 && dt < 1500);

    async_res r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    t0 = e2e_now_ms();
    for (int i = 0; i < 5; i++)
        assert_int_equal(mf_client_request_async(cli, "svc.silent", "q", 1, 100 + 50 * i, async_cb, &r), MF_OK);
    assert_true(wait_async(&r, 5, 3000));
    dt = e2e_now_ms() - t0;
    assert_int_equal(r.timeouts, 5);
    assert_true(dt >= 290 && dt < 2000);
    assert_true(e2e_col_wait(&col, 6, 2000)); /* the requests did arrive */

    /* pending async requests fail with MF_ERR_CLOSED when the client goes away */
    memset(&r.done, 0, sizeof r - offsetof(async_res, done));
    assert_int_equal(mf_client_request_async(cli, "svc.silent", "q", 1, 10000, async_cb, &r), MF_OK);
    mf_client_destroy(cli);
    assert_int_equal(r.closed, 1);
    mf_client_destroy(srv);
    pthread_mutex_destroy(&r.mu);
    e2e_col_free(&col);
}

static void test_no_responders(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *cli = connect_one(NULL);
    mf_client_server_info info;
    assert_int_equal(mf_client_server_info_get(cli, &info), MF_OK);
    if (!info.headers) {
        mf_client_destroy(cli);
        print_message("SKIP: the server does not support headers / no_responders\n");
        skip();
    }
    mf_msg_owned *rep = NULL;
    int64_t t0 = e2e_now_ms();
    assert_int_equal(mf_client_request(cli, "svc.nobody", "q", 1, 3000, &rep), MF_ERR_NO_RESPONDERS);
    assert_true(e2e_now_ms() - t0 < 1000); /* answered, not timed out */
    assert_null(rep);
    async_res r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    assert_int_equal(mf_client_request_async(cli, "svc.nobody", "q", 1, 3000, async_cb, &r), MF_OK);
    assert_true(wait_async(&r, 1, 2000));
    assert_int_equal(r.noresp, 1);
    mf_client_destroy(cli);
    pthread_mutex_destroy(&r.mu);
}

static void test_max_payload(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *c = connect_one(NULL);
    mf_client_server_info info;
    assert_int_equal(mf_client_server_info_get(c, &info), MF_OK);
    assert_int_equal(info.max_payload, MAXP);
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(c, "big", NULL, e2e_col_cb, &col, NULL), MF_OK);
    char *buf = malloc(MAXP + 1);
    memset(buf, 'z', MAXP + 1);
    buf[0] = '7';
    assert_int_equal(mf_client_publish(c, "big", NULL, buf, MAXP + 1), MF_ERR_PAYLOAD_TOO_BIG);
    mf_msg_owned *rep = NULL;
    assert_int_equal(mf_client_request(c, "big", buf, MAXP + 1, 500, &rep), MF_ERR_PAYLOAD_TOO_BIG);
    assert_int_equal(mf_client_publish(c, "big", NULL, buf, MAXP), MF_OK);
    /* several max-size messages spanning many frames */
    for (int i = 0; i < 5; i++)
        assert_int_equal(mf_client_publish(c, "big", NULL, buf, MAXP), MF_OK);
    assert_true(e2e_col_wait(&col, 6, 5000));
    assert_int_equal(col.bytes, 6 * (uint64_t)MAXP);
    assert_int_equal(col.vals[0], 7);
    mf_client_stats st;
    mf_client_stats_get(c, &st);
    assert_true(st.connected); /* the server did not drop us */
    free(buf);
    mf_client_destroy(c);
    e2e_col_free(&col);
}

static void test_headers(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *c = connect_one(NULL);
    mf_client_server_info info;
    assert_int_equal(mf_client_server_info_get(c, &info), MF_OK);
    if (!info.headers) {
        mf_client_destroy(c);
        print_message("SKIP: the server does not support headers\n");
        skip();
    }
    e2e_col col;
    e2e_col_init(&col);
    mf_msg_owned *kept = NULL;
    assert_int_equal(mf_client_subscribe(c, "h.x", NULL, e2e_col_cb, &col, NULL), MF_OK);
    mf_header h[] = {{"X-Id", "42"}, {"Content-Type", "application/json"}};
    assert_int_equal(mf_client_publish_hdrs(c, "h.x", NULL, h, 2, "{}", 2), MF_OK);
    mf_header bad[] = {{"Bad:Name", "v"}};
    assert_int_equal(mf_client_publish_hdrs(c, "h.x", NULL, bad, 1, "{}", 2), MF_ERR_INVALID_ARG);
    assert_true(e2e_col_wait(&col, 1, 5000));
    assert_string_equal(col.last_data, "{}");
    (void)kept;
    mf_client_destroy(c);
    e2e_col_free(&col);
}

/* A subscription callback that checks what may and may not be called from it. */
typedef struct cb_checks {
    pthread_mutex_t mu;
    int calls;
    mf_status req, flush, drain, wait, async, pub, sub, unsub_self;
    uint64_t self_sid;
    char hdr_val[32];
    async_res *ar;
} cb_checks;

static void checking_cb(mf_client *c, const mf_msg *m, void *ctx)
{
    cb_checks *k = ctx;
    mf_msg_owned *rep = NULL;
    pthread_mutex_lock(&k->mu);
    k->calls++;
    k->req = mf_client_request(c, "svc.any", "x", 1, 100, &rep);
    k->flush = mf_client_flush(c, 100);
    k->drain = mf_client_drain(c, 100);
    k->wait = mf_client_wait_connected(c, 100);
    k->async = mf_client_request_async(c, "svc.cbecho", "x", 1, 2000, async_cb, k->ar);
    k->pub = mf_client_publish(c, "cb.out", NULL, "p", 1);
    k->sub = mf_client_subscribe(c, "cb.more", NULL, checking_cb, k, NULL);
    k->unsub_self = mf_client_unsubscribe(c, k->self_sid, 0);
    size_t vl = 0;
    const char *v = mf_msg_header(m, "x-tag", &vl);
    if (v)
        snprintf(k->hdr_val, sizeof k->hdr_val, "%.*s", (int)vl, v);
    assert_true(mf_client_on_service_thread(c));
    pthread_mutex_unlock(&k->mu);
}

static void test_callback_rules(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *c = connect_one(NULL), *srv = connect_one(NULL);
    e2e_col echo, out;
    e2e_col_init(&echo);
    e2e_col_init(&out);
    echo.respond = true;
    assert_int_equal(mf_client_subscribe(srv, "svc.cbecho", NULL, e2e_col_cb, &echo, NULL), MF_OK);
    assert_int_equal(mf_client_flush(srv, 2000), MF_OK);
    assert_int_equal(mf_client_subscribe(c, "cb.out", NULL, e2e_col_cb, &out, NULL), MF_OK);
    async_res r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    cb_checks k;
    memset(&k, 0, sizeof k);
    pthread_mutex_init(&k.mu, NULL);
    k.ar = &r;
    assert_int_equal(mf_client_subscribe(c, "cb.in", NULL, checking_cb, &k, &k.self_sid), MF_OK);
    assert_int_equal(mf_client_flush(c, 2000), MF_OK);
    assert_false(mf_client_on_service_thread(c));
    mf_client_server_info info;
    mf_client_server_info_get(c, &info);
    if (info.headers) {
        mf_header h[] = {{"X-Tag", " v1 "}};
        assert_int_equal(mf_client_publish_hdrs(c, "cb.in", NULL, h, 1, "1", 1), MF_OK);
    } else {
        pub_int(c, "cb.in", 1);
    }
    pub_int(c, "cb.in", 2); /* never delivered: the callback unsubscribed itself */
    assert_true(wait_async(&r, 1, 5000));
    assert_true(e2e_col_wait(&out, 1, 5000));
    assert_int_equal(mf_client_flush(c, 2000), MF_OK);
    pthread_mutex_lock(&k.mu);
    assert_int_equal(k.calls, 1);
    assert_int_equal(k.req, MF_ERR_INVALID_ARG);
    assert_int_equal(k.flush, MF_ERR_INVALID_ARG);
    assert_int_equal(k.drain, MF_ERR_INVALID_ARG);
    assert_int_equal(k.wait, MF_ERR_INVALID_ARG);
    assert_int_equal(k.async, MF_OK);
    assert_int_equal(k.pub, MF_OK);
    assert_int_equal(k.sub, MF_OK);
    assert_int_equal(k.unsub_self, MF_OK);
    if (info.headers)
        assert_string_equal(k.hdr_val, "v1");
    pthread_mutex_unlock(&k.mu);
    assert_int_equal(r.ok, 1);
    mf_client_destroy(c);
    mf_client_destroy(srv);
    pthread_mutex_destroy(&k.mu);
    pthread_mutex_destroy(&r.mu);
    e2e_col_free(&echo);
    e2e_col_free(&out);
}

typedef struct pub_thread {
    mf_client *c;
    int base, n;
    uint64_t refused;
} pub_thread;

static void *pub_main(void *arg)
{
    pub_thread *t = arg;
    for (int i = 0; i < t->n; i++) {
        char b[32];
        int n = snprintf(b, sizeof b, "%d", t->base + i);
        mf_status st;
        while ((st = mf_client_publish(t->c, "conc.x", NULL, b, (size_t)n)) == MF_ERR_FULL) {
            t->refused++;
            e2e_sleep_ms(1);
        }
        if (st)
            return (void *)1;
    }
    return NULL;
}

static void test_concurrent_publishers(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    enum { T = 4, N = 25000 };
    mf_client *sub = connect_one(NULL), *pub = connect_one(NULL);
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(sub, "conc.x", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_flush(sub, 2000), MF_OK);
    pthread_t th[T];
    pub_thread pt[T];
    int64_t t0 = e2e_now_ms();
    for (int i = 0; i < T; i++) {
        pt[i] = (pub_thread){pub, i * N, N, 0};
        assert_int_equal(pthread_create(&th[i], NULL, pub_main, &pt[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        void *rv;
        pthread_join(th[i], &rv);
        assert_null(rv);
    }
    assert_int_equal(mf_client_flush(pub, 10000), MF_OK);
    assert_true(e2e_col_wait(&col, T * N, 10000));
    int64_t dt = e2e_now_ms() - t0;
    print_message("concurrent: %d msgs through the server in %lld ms (%.0f msg/s)\n", T * N, (long long)dt,
                  dt > 0 ? (double)(T * N) * 1000.0 / (double)dt : 0.0);
    e2e_sleep_ms(50);
    assert_int_equal(e2e_col_count(&col), T * N);
    char *seen = calloc(T * N, 1);
    for (int i = 0; i < T * N; i++) {
        int v = col.vals[i];
        assert_true(v >= 0 && v < T * N);
        seen[v]++;
    }
    for (int i = 0; i < T * N; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
    mf_client_stats st;
    mf_client_stats_get(pub, &st);
    assert_int_equal(st.msgs_out, T * N);
    mf_client_stats_get(sub, &st);
    assert_int_equal(st.msgs_in, T * N);
    mf_client_destroy(sub);
    mf_client_destroy(pub);
    e2e_col_free(&col);
}

typedef struct slow_ctx {
    e2e_col col;
    int delay_ms;
} slow_ctx;

static void slow_cb(mf_client *c, const mf_msg *m, void *ctx)
{
    slow_ctx *s = ctx;
    e2e_sleep_ms(s->delay_ms);
    e2e_col_cb(c, m, &s->col);
}

static void test_drain(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    e2e_events ev;
    e2e_events_init(&ev);
    mf_client *c = connect_one(&ev), *p = connect_one(NULL);
    slow_ctx s;
    e2e_col_init(&s.col);
    s.delay_ms = 2;
    assert_int_equal(mf_client_subscribe(c, "dr.x", NULL, slow_cb, &s, NULL), MF_OK);
    assert_int_equal(mf_client_flush(c, 2000), MF_OK);
    for (int i = 0; i < 300; i++)
        pub_int(p, "dr.x", i);
    assert_int_equal(mf_client_flush(p, 2000), MF_OK);
    /* most of them are still queued behind the slow callback */
    assert_int_equal(mf_client_drain(c, 5000), MF_OK);
    assert_int_equal(e2e_col_count(&s.col), 300);
    assert_int_equal(e2e_events_count(&ev, MF_CLIENT_CLOSED), 1);
    assert_int_equal(mf_client_publish(c, "dr.x", NULL, "x", 1), MF_ERR_CLOSED);
    assert_int_equal(mf_client_subscribe(c, "dr.y", NULL, slow_cb, &s, NULL), MF_ERR_CLOSED);
    mf_msg_owned *rep;
    assert_int_equal(mf_client_request(c, "dr.x", "x", 1, 100, &rep), MF_ERR_CLOSED);
    assert_int_equal(mf_client_flush(c, 100), MF_ERR_CLOSED);
    assert_int_equal(mf_client_drain(c, 100), MF_ERR_CLOSED);
    assert_int_equal(mf_client_wait_connected(c, 100), MF_ERR_CLOSED);
    mf_client_destroy(c);
    assert_int_equal(e2e_events_count(&ev, MF_CLIENT_CLOSED), 1);
    mf_client_destroy(p);
    e2e_col_free(&s.col);
    e2e_events_free(&ev);
}

/* Own server: killed and restarted on the same port. */
static void test_reconnect(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    e2e_server srv;
    assert_true(e2e_server_start(&srv, E2E_KIND, 0));
    const char *servers[] = {srv.url};
    e2e_events ev, evb;
    e2e_events_init(&ev);
    e2e_events_init(&evb);
    mf_client_opts o;
    e2e_opts(&o, servers, 1, &ev);
    mf_client *a = e2e_connect(&o);
    assert_non_null(a);
    e2e_opts(&o, servers, 1, &evb);
    mf_client *b = e2e_connect(&o);
    assert_non_null(b);
    e2e_col col;
    e2e_col_init(&col);
    uint64_t sid;
    assert_int_equal(mf_client_subscribe(a, "rc.x", NULL, e2e_col_cb, &col, &sid), MF_OK);
    assert_int_equal(mf_client_unsubscribe(a, sid, 1000), MF_OK); /* the remaining max survives */
    assert_int_equal(mf_client_flush(a, 2000), MF_OK);
    pub_int(b, "rc.x", -5);
    assert_true(e2e_col_wait(&col, 1, 5000));

    e2e_server_kill(&srv);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_DISCONNECTED, 1, 5000));
    mf_client_stats st;
    mf_client_stats_get(a, &st);
    assert_false(st.connected);
    /* buffered while disconnected */
    for (int i = 0; i < 100; i++)
        pub_int(a, "rc.x", i);
    mf_client_stats_get(a, &st);
    assert_true(st.queued_bytes > 0);
    assert_int_equal(mf_client_wait_connected(a, 100), MF_ERR_TIMEOUT);

    assert_true(e2e_server_restart(&srv));
    assert_true(e2e_events_wait(&ev, MF_CLIENT_RECONNECTED, 1, 8000));
    assert_true(e2e_col_wait(&col, 101, 5000)); /* re-subscribed first, then the buffered publishes */
    for (int i = 0; i < 100; i++)
        assert_int_equal(col.vals[1 + i], i);
    assert_true(e2e_events_wait(&evb, MF_CLIENT_RECONNECTED, 1, 8000));
    assert_int_equal(mf_client_flush(b, 2000), MF_OK);
    for (int i = 0; i < 10; i++)
        pub_int(b, "rc.x", 1000 + i);
    assert_true(e2e_col_wait(&col, 111, 5000));
    mf_client_stats_get(a, &st);
    assert_true(st.connected);
    assert_int_equal(st.reconnects, 1);
    assert_int_equal(st.dropped_msgs, 0);
    assert_int_equal(e2e_events_count(&ev, MF_CLIENT_CONNECTED), 1);

    /* a flush waits through a reconnect */
    e2e_server_kill(&srv);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_DISCONNECTED, 2, 5000));
    assert_int_equal(mf_client_flush(a, 100), MF_ERR_TIMEOUT);
    assert_true(e2e_server_restart(&srv));
    assert_int_equal(mf_client_flush(a, 8000), MF_OK);

    mf_client_destroy(a);
    mf_client_destroy(b);
    e2e_server_cleanup(&srv);
    e2e_col_free(&col);
    e2e_events_free(&ev);
    e2e_events_free(&evb);
}

/* A server that stops answering (SIGSTOP) is detected by the client's PINGs. */
static void test_stale_connection(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    e2e_server srv;
    assert_true(e2e_server_start(&srv, E2E_KIND, 0));
    const char *servers[] = {srv.url};
    e2e_events ev;
    e2e_events_init(&ev);
    mf_client_opts o;
    e2e_opts(&o, servers, 1, &ev);
    o.ping_interval_ms = 200;
    o.max_pings_out = 2;
    o.connect_timeout_ms = 500;
    mf_client *c = e2e_connect(&o);
    assert_non_null(c);
    e2e_sleep_ms(500); /* a few PING/PONG rounds while healthy */
    assert_int_equal(e2e_events_count(&ev, MF_CLIENT_DISCONNECTED), 0);
    e2e_server_signal(&srv, SIGSTOP);
    int64_t t0 = e2e_now_ms();
    assert_true(e2e_events_wait(&ev, MF_CLIENT_DISCONNECTED, 1, 5000));
    int64_t dt = e2e_now_ms() - t0;
    print_message("stale connection detected after %lld ms\n", (long long)dt);
    assert_true(dt < 3000);
    assert_true(e2e_events_count(&ev, MF_CLIENT_ERROR) >= 1);
    e2e_server_signal(&srv, SIGCONT);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_RECONNECTED, 1, 10000));
    assert_int_equal(mf_client_flush(c, 2000), MF_OK);
    mf_client_destroy(c);
    e2e_server_cleanup(&srv);
    e2e_events_free(&ev);
}

static void test_auth_token(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    e2e_server srv;
    assert_true(e2e_server_start_ex(&srv, E2E_KIND, 0, "s3cret"));
    const char *servers[] = {srv.url};
    e2e_events ev;
    e2e_events_init(&ev);
    mf_client_opts o;
    e2e_opts(&o, servers, 1, &ev);
    o.token = "s3cret";
    o.name = "auth-test";
    mf_client *c = e2e_connect(&o);
    assert_non_null(c);
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(c, "auth.x", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_publish(c, "auth.x", NULL, "1", 1), MF_OK);
    assert_true(e2e_col_wait(&col, 1, 5000));
    mf_client_destroy(c);

    o.token = "wrong";
    o.max_reconnect_attempts = 2;
    mf_client *bad = NULL;
    mf_error err;
    assert_int_equal(mf_client_create(&o, &bad, &err), MF_OK);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_CLOSED, 2, 8000));
    assert_int_equal(mf_client_wait_connected(bad, 10), MF_ERR_CLOSED);
    print_message("auth failure reported as: %s\n", ev.last_error);
    mf_client_destroy(bad);
    e2e_server_cleanup(&srv);
    e2e_col_free(&col);
    e2e_events_free(&ev);
}

static void test_echo_verbose(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    const char *servers[] = {g_srv.url};
    mf_client_opts o;
    e2e_opts(&o, servers, 1, NULL);
    o.echo = false;
    o.verbose = true;  /* the server answers +OK to everything: ignored */
    o.pedantic = true;
    mf_client *c = e2e_connect(&o);
    assert_non_null(c);
    mf_client *other = connect_one(NULL);
    e2e_col mine, theirs;
    e2e_col_init(&mine);
    e2e_col_init(&theirs);
    assert_int_equal(mf_client_subscribe(c, "echo.x", NULL, e2e_col_cb, &mine, NULL), MF_OK);
    assert_int_equal(mf_client_subscribe(other, "echo.x", NULL, e2e_col_cb, &theirs, NULL), MF_OK);
    assert_int_equal(mf_client_flush(c, 2000), MF_OK);
    assert_int_equal(mf_client_flush(other, 2000), MF_OK);
    pub_int(c, "echo.x", 1);   /* not echoed back to c */
    pub_int(other, "echo.x", 2);
    assert_int_equal(mf_client_flush(c, 2000), MF_OK);
    assert_true(e2e_col_wait(&theirs, 2, 5000));
    assert_true(e2e_col_wait(&mine, 1, 5000));
    e2e_sleep_ms(100);
    assert_int_equal(e2e_col_count(&mine), 1);
    assert_int_equal(mine.vals[0], 2);
    mf_client_destroy(c);
    mf_client_destroy(other);
    e2e_col_free(&mine);
    e2e_col_free(&theirs);
}

/* A server that stops reading makes the bounded outbound queue fill up: MF_ERR_FULL. */
static void test_outbound_full(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    e2e_server srv;
    assert_true(e2e_server_start(&srv, E2E_KIND, 0));
    const char *servers[] = {srv.url};
    mf_client_opts o;
    e2e_opts(&o, servers, 1, NULL);
    o.outbound_limit = 256 * 1024;
    mf_client *c = e2e_connect(&o);
    assert_non_null(c);
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(c, "full.x", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_flush(c, 2000), MF_OK);
    e2e_server_signal(&srv, SIGSTOP);
    static char payload[8192];
    memset(payload, 'f', sizeof payload);
    int accepted = 0, full = 0;
    int64_t end = e2e_now_ms() + 10000;
    while (!full && e2e_now_ms() < end) {
        snprintf(payload, 16, "%d ", accepted);
        mf_status st = mf_client_publish(c, "full.x", NULL, payload, sizeof payload);
        if (st == MF_OK)
            accepted++;
        else if (st == MF_ERR_FULL)
            full++;
        else
            fail_msg("publish: %d", st);
        if (accepted % 64 == 0)
            e2e_sleep_ms(1); /* let the service thread fill the socket buffers */
    }
    assert_true(full > 0);
    mf_client_stats st;
    mf_client_stats_get(c, &st);
    assert_true(st.refused_full >= 1);
    assert_true(st.queued_bytes <= 256 * 1024);
    assert_int_equal(st.dropped_msgs, 0);
    print_message("outbound queue full after %d x 8 KiB publishes\n", accepted);
    e2e_server_signal(&srv, SIGCONT);
    assert_int_equal(mf_client_flush(c, 10000), MF_OK);
    assert_true(e2e_col_wait(&col, (size_t)accepted, 10000));
    for (int i = 0; i < accepted; i++)
        assert_int_equal(col.vals[i], i);
    mf_client_destroy(c);
    e2e_server_cleanup(&srv);
    e2e_col_free(&col);
}

/* Thousands of async requests in flight (exercises the deadline heap). */
static void test_request_burst(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    enum { N = 5000 };
    mf_client *srv = connect_one(NULL), *cli = connect_one(NULL);
    e2e_col col;
    e2e_col_init(&col);
    col.respond = true;
    assert_int_equal(mf_client_subscribe(srv, "svc.burst", "workers", e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_flush(srv, 2000), MF_OK);
    async_res r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    int64_t t0 = e2e_now_ms();
    for (int i = 0; i < N; i++)
        assert_int_equal(mf_client_request_async(cli, "svc.burst", "b", 1, 10000, async_cb, &r), MF_OK);
    assert_true(wait_async(&r, N, 10000));
    int64_t dt = e2e_now_ms() - t0;
    print_message("%d async requests answered in %lld ms\n", N, (long long)dt);
    assert_int_equal(r.ok, N);
    mf_client_destroy(cli);
    mf_client_destroy(srv);
    pthread_mutex_destroy(&r.mu);
    e2e_col_free(&col);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pubsub),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_queue_groups),
        cmocka_unit_test(test_unsubscribe_max),
        cmocka_unit_test(test_request_reply),
        cmocka_unit_test(test_request_timeout),
        cmocka_unit_test(test_no_responders),
        cmocka_unit_test(test_max_payload),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_callback_rules),
        cmocka_unit_test(test_concurrent_publishers),
        cmocka_unit_test(test_drain),
        cmocka_unit_test(test_reconnect),
        cmocka_unit_test(test_stale_connection),
        cmocka_unit_test(test_auth_token),
        cmocka_unit_test(test_echo_verbose),
        cmocka_unit_test(test_request_burst),
        cmocka_unit_test(test_outbound_full),
    };
    return cmocka_run_group_tests_name(E2E_KIND == E2E_NATS ? "client_vs_nats_server" : "client_vs_mf_broker",
                                       tests, group_setup, group_teardown);
}
