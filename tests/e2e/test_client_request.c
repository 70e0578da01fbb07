/*
 * test_client_request.c - mf_client requests against a real server process:
 * nats-server (built as test_client_request_nats) or mf-broker (built as
 * test_client_request_broker, with -DE2E_KIND=E2E_BROKER). Request/reply, blocking
 * and async, timeouts, no-responders, what a subscription callback may call, and
 * thousands of async requests in flight.
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

#include "e2e_group.h"

/* ------------------------------------------------------------------ tests */

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
    assert_true(info.headers); /* both nats-server (>= 2.2) and mf-broker announce headers */
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
        e2e_pub_int(c, "cb.in", 1);
    }
    e2e_pub_int(c, "cb.in", 2); /* never delivered: the callback unsubscribed itself */
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
        cmocka_unit_test(test_request_reply),
        cmocka_unit_test(test_request_timeout),
        cmocka_unit_test(test_no_responders),
        cmocka_unit_test(test_callback_rules),
        cmocka_unit_test(test_request_burst),
    };
    const char *name = E2E_KIND == E2E_NATS ? "client_request_vs_nats_server" : "client_request_vs_mf_broker";
    return mf_skip_exit(cmocka_run_group_tests_name(name, tests, group_setup, group_teardown));
}
