/*
 * test_client_pubsub.c - mf_client against a real server process: nats-server
 * (built as test_client_pubsub_nats) or mf-broker (built as test_client_pubsub_broker,
 * with -DE2E_KIND=E2E_BROKER). Publish and subscribe: pub/sub, wildcards, queue
 * groups, unsubscribe with a maximum, max_payload, headers, echo off and verbose.
 * Requests are in test_client_request.c; concurrency, drain, reconnect and the
 * other robustness tests in test_client_robust.c.
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
#define MAXP E2E_SHARED_MAX_PAYLOAD

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
        e2e_pub_int(c, "t.a", i);
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
    e2e_pub_int(c, "w.b.c", 1);
    e2e_pub_int(c, "w.b.d", 2);
    e2e_pub_int(c, "w.x.y.z", 3);
    e2e_pub_int(c, "w", 4);
    e2e_pub_int(c, "w.c", 5);
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
        e2e_pub_int(p, "q.s", i);
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
        e2e_pub_int(c, "u.m", i);
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
    e2e_pub_int(c, "u.m", 99);
    assert_int_equal(mf_client_flush(c, 2000), MF_OK);
    e2e_sleep_ms(50);
    assert_int_equal(e2e_col_count(&col2), 10);
    assert_int_equal(mf_client_unsubscribe(c, 12345, 0), MF_ERR_NOT_FOUND);
    mf_client_destroy(c);
    e2e_col_free(&col);
    e2e_col_free(&col2);
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
    assert_true(info.headers); /* both nats-server (>= 2.2) and mf-broker announce headers */
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
    e2e_pub_int(c, "echo.x", 1);   /* not echoed back to c */
    e2e_pub_int(other, "echo.x", 2);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pubsub),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_queue_groups),
        cmocka_unit_test(test_unsubscribe_max),
        cmocka_unit_test(test_max_payload),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_echo_verbose),
    };
    const char *name = E2E_KIND == E2E_NATS ? "client_pubsub_vs_nats_server" : "client_pubsub_vs_mf_broker";
    return mf_skip_exit(cmocka_run_group_tests_name(name, tests, group_setup, group_teardown));
}
