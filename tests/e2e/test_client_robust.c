/*
 * test_client_robust.c - mf_client under stress and failures against a real server
 * process: nats-server (built as test_client_robust_nats) or mf-broker (built as
 * test_client_robust_broker, with -DE2E_KIND=E2E_BROKER). Concurrent publishers,
 * drain, reconnect after the server is killed and restarted on the same port, a
 * stale connection, token auth, and a full outbound queue.
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
    assert_int_equal(mf_client_flush(sub, E2E_WAIT_MS), MF_OK);
    pthread_t th[T];
    pub_thread pt[T];
    int64_t t0 = e2e_now_ms();
    for (int i = 0; i < T; i++) {
        pt[i] = (pub_thread){pub, i * N, N, 0};
        assert_int_equal(pthread_create(&th[i], NULL, pub_main, &pt[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        void *rv = (void *)1;
        assert_int_equal(pthread_join(th[i], &rv), 0);
        assert_null(rv);
    }
    assert_true(e2e_col_wait(&col, T * N, 60000));
    int64_t dt = e2e_now_ms() - t0;
    print_message("concurrent: %d msgs through the server in %lld ms (%.0f msg/s)\n", T * N, (long long)dt,
                  dt > 0 ? (double)(T * N) * 1000.0 / (double)dt : 0.0);
    e2e_barrier(pub, sub); /* a duplicate would have arrived by now */
    assert_int_equal(e2e_col_count(&col), T * N);
    char *seen = calloc(T * N, 1);
    assert_non_null(seen);
    for (int i = 0; i < T * N; i++) {
        int v = col.vals[i];
        assert_true(v >= 0 && v < T * N);
        seen[v]++;
    }
    for (int i = 0; i < T * N; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
    mf_client_stats st;
    assert_int_equal(mf_client_stats_get(pub, &st), MF_OK);
    assert_int_equal(st.msgs_out, T * N);
    assert_int_equal(mf_client_stats_get(sub, &st), MF_OK);
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
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK);
    for (int i = 0; i < 300; i++)
        e2e_pub_int(p, "dr.x", i);
    assert_int_equal(mf_client_flush(p, E2E_WAIT_MS), MF_OK);
    /* most of them are still on their way, behind the slow callback (2 ms each) */
    assert_int_equal(mf_client_drain(c, 60000), MF_OK);
    assert_int_equal(e2e_col_count(&s.col), 300);
    for (int i = 0; i < 300; i++)
        assert_int_equal(s.col.vals[i], i);
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
    assert_int_equal(mf_client_flush(a, E2E_WAIT_MS), MF_OK);
    e2e_pub_int(b, "rc.x", -5);
    assert_true(e2e_col_wait(&col, 1, E2E_WAIT_MS));

    e2e_server_kill(&srv);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_DISCONNECTED, 1, E2E_WAIT_MS));
    mf_client_stats st;
    assert_int_equal(mf_client_stats_get(a, &st), MF_OK);
    assert_false(st.connected);
    /* buffered while disconnected */
    for (int i = 0; i < 100; i++)
        e2e_pub_int(a, "rc.x", i);
    assert_int_equal(mf_client_stats_get(a, &st), MF_OK);
    assert_true(st.queued_bytes > 0);
    assert_int_equal(mf_client_wait_connected(a, 100), MF_ERR_TIMEOUT);

    assert_true(e2e_server_restart(&srv));
    assert_true(e2e_events_wait(&ev, MF_CLIENT_RECONNECTED, 1, E2E_WAIT_MS));
    assert_true(e2e_col_wait(&col, 101, E2E_WAIT_MS)); /* re-subscribed first, then the buffered publishes */
    for (int i = 0; i < 100; i++)
        assert_int_equal(col.vals[1 + i], i);
    assert_true(e2e_events_wait(&evb, MF_CLIENT_RECONNECTED, 1, E2E_WAIT_MS));
    assert_int_equal(mf_client_flush(b, E2E_WAIT_MS), MF_OK);
    for (int i = 0; i < 10; i++)
        e2e_pub_int(b, "rc.x", 1000 + i);
    assert_true(e2e_col_wait(&col, 111, E2E_WAIT_MS));
    e2e_barrier(b, a);
    assert_int_equal(e2e_col_count(&col), 111); /* nothing twice */
    for (int i = 0; i < 10; i++)
        assert_int_equal(col.vals[101 + i], 1000 + i);
    assert_int_equal(mf_client_stats_get(a, &st), MF_OK);
    assert_true(st.connected);
    assert_int_equal(st.reconnects, 1);
    assert_int_equal(st.dropped_msgs, 0);
    assert_int_equal(e2e_events_count(&ev, MF_CLIENT_CONNECTED), 1);

    /* a flush waits through a reconnect */
    e2e_server_kill(&srv);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_DISCONNECTED, 2, E2E_WAIT_MS));
    assert_int_equal(mf_client_flush(a, 100), MF_ERR_TIMEOUT);
    assert_true(e2e_server_restart(&srv));
    assert_int_equal(mf_client_flush(a, E2E_WAIT_MS), MF_OK);

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
    /* Not a synchronisation: an observation window of several PING/PONG rounds (200 ms
     * apart) in which a healthy connection must not be declared stale. */
    e2e_sleep_ms(1000);
    assert_int_equal(e2e_events_count(&ev, MF_CLIENT_DISCONNECTED), 0);
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK);
    e2e_server_signal(&srv, SIGSTOP);
    int64_t t0 = e2e_now_ms();
    /* The stopped server keeps the TCP connection open: only the unanswered PINGs can
     * reveal it, so noticing it at all (within the generous deadline) is the proof. */
    assert_true(e2e_events_wait(&ev, MF_CLIENT_DISCONNECTED, 1, E2E_WAIT_MS));
    int64_t dt = e2e_now_ms() - t0;
    print_message("stale connection detected after %lld ms\n", (long long)dt);
    assert_true(e2e_events_count(&ev, MF_CLIENT_ERROR) >= 1);
    e2e_server_signal(&srv, SIGCONT);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_RECONNECTED, 1, E2E_WAIT_MS));
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK);
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
    assert_int_equal(e2e_events_errors(&ev, MF_ERR_AUTH), 0);
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(c, "auth.x", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_publish(c, "auth.x", NULL, "1", 1), MF_OK);
    assert_true(e2e_col_wait(&col, 1, E2E_WAIT_MS));
    mf_client_destroy(c);

    o.token = "wrong";
    o.max_reconnect_attempts = 2;
    mf_client *bad = NULL;
    mf_error err;
    assert_int_equal(mf_client_create(&o, &bad, &err), MF_OK);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_CLOSED, 2, E2E_WAIT_MS));
    assert_int_equal(mf_client_wait_connected(bad, 10), MF_ERR_CLOSED);
    /* Both servers answer a wrong token with -ERR 'Authorization Violation' and close:
     * the client reports it as an ERROR event with MF_ERR_AUTH, then gives up. */
    e2e_events got;
    e2e_events_snapshot(&ev, &got);
    print_message("auth failure reported as: %s (%s)\n", got.last_error, mf_status_str(got.last_error_status));
    assert_true(got.errors_by_status[MF_ERR_AUTH] >= 1);
    assert_int_equal(got.last_error_status, MF_ERR_AUTH);
    assert_non_null(strstr(got.last_error, "Authorization Violation"));
    assert_int_equal(got.count[MF_CLIENT_CONNECTED], 1); /* only the good client ever connected */
    assert_int_not_equal(got.closed_status, MF_OK);      /* it gave up, it was not asked to close */
    mf_client_destroy(bad);
    e2e_server_cleanup(&srv);
    e2e_col_free(&col);
    e2e_events_free(&ev);
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
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK);
    e2e_server_signal(&srv, SIGSTOP);
    static char payload[8192];
    memset(payload, 'f', sizeof payload);
    int accepted = 0, full = 0;
    int64_t end = e2e_now_ms() + 60000;
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
    assert_int_equal(mf_client_stats_get(c, &st), MF_OK);
    assert_true(st.refused_full >= 1);
    assert_true(st.queued_bytes <= 256 * 1024);
    assert_int_equal(st.dropped_msgs, 0);
    print_message("outbound queue full after %d x 8 KiB publishes\n", accepted);
    e2e_server_signal(&srv, SIGCONT);
    assert_int_equal(mf_client_flush(c, 60000), MF_OK);
    assert_true(e2e_col_wait(&col, (size_t)accepted, E2E_WAIT_MS));
    e2e_barrier(c, c);
    assert_int_equal(e2e_col_count(&col), (size_t)accepted); /* the refused ones never left */
    for (int i = 0; i < accepted; i++)
        assert_int_equal(col.vals[i], i);
    mf_client_destroy(c);
    e2e_server_cleanup(&srv);
    e2e_col_free(&col);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_publishers),
        cmocka_unit_test(test_drain),
        cmocka_unit_test(test_reconnect),
        cmocka_unit_test(test_stale_connection),
        cmocka_unit_test(test_auth_token),
        cmocka_unit_test(test_outbound_full),
    };
    const char *name = E2E_KIND == E2E_NATS ? "client_robust_vs_nats_server" : "client_robust_vs_mf_broker";
    return mf_skip_exit(cmocka_run_group_tests_name(name, tests, group_setup, group_teardown));
}
