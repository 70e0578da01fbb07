/*
 * test_client_options.c - mf_client with options other than the defaults, against mf-broker:
 *   - a randomized pool of three servers of which only one is up: the client gets there
 *   - small WebSocket frames (512 bytes) both ways, small limits: messages larger than a
 *     frame still arrive whole
 *   - ws_max_message exceeded by a real server: the connection is dropped (close 1009), the
 *     client reconnects and works again, the oversized message is not delivered
 *   - a log callback at DEBUG with a client name: the lines say what happened
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

#include "e2e_util.h"

static e2e_server server;

static int setup(void **state)
{
    (void)state;
    if (!e2e_group_start(&server, E2E_BROKER, 0))
        print_message("mf-broker not started: each test says why\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (server.url)
        e2e_server_cleanup(&server);
    return 0;
}

#define REQUIRE_SERVER() E2E_REQUIRE_SERVER(E2E_BROKER, server.url != NULL)

static void test_randomized_pool(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    char dead1[64], dead2[64];
    snprintf(dead1, sizeof dead1, "ws://127.0.0.1:%d", e2e_free_port());
    snprintf(dead2, sizeof dead2, "ws://127.0.0.1:%d/other", e2e_free_port());
    const char *servers[] = {dead1, server.url, dead2};
    mf_client_opts o;
    e2e_opts(&o, servers, 3, NULL);
    o.randomize = true;
    mf_client *c = e2e_connect(&o);
    assert_non_null(c);
    mf_client_server_info info;
    assert_int_equal(mf_client_server_info_get(c, &info), MF_OK);
    assert_int_equal(info.n_servers, 3);
    mf_client_stats st;
    assert_int_equal(mf_client_stats_get(c, &st), MF_OK);
    assert_true(st.connected);
    char want[80];
    snprintf(want, sizeof want, "%s/", server.url); /* the URL as the client normalises it */
    assert_string_equal(st.server_url, want);
    mf_client_destroy(c);
}

static void fill(char *p, size_t n, char seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + (seed + i) % 26);
}

static void test_small_frames_and_limits(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    const char *servers[] = {server.url};
    e2e_events ev;
    e2e_events_init(&ev);
    mf_client_opts o;
    e2e_opts(&o, servers, 1, &ev);
    o.frame_size = 512;
    o.pending_limit = 64 * 1024;
    o.outbound_limit = 1024 * 1024;
    o.ws_max_message = 4096;
    o.connect_timeout_ms = 10000;
    o.reconnect_wait_max_ms = 200;
    o.max_pings_out = 3;
    mf_client *small = e2e_connect(&o);
    assert_non_null(small);
    mf_client *big = e2e_connect_url(server.url, NULL);

    e2e_col at_small, at_big;
    e2e_col_init(&at_small);
    e2e_col_init(&at_big);
    assert_int_equal(mf_client_subscribe(small, "opt.small", NULL, e2e_col_cb, &at_small, NULL), MF_OK);
    assert_int_equal(mf_client_subscribe(big, "opt.big", NULL, e2e_col_cb, &at_big, NULL), MF_OK);
    e2e_barrier(small, small);
    e2e_barrier(big, big);

    /* 3,000 bytes from the small-frame client: six frames of one message */
    static char payload[3000];
    fill(payload, sizeof payload, 1);
    assert_int_equal(mf_client_publish(small, "opt.big", NULL, payload, sizeof payload), MF_OK);
    e2e_barrier(small, big);
    assert_true(e2e_col_wait(&at_big, 1, E2E_WAIT_MS));
    assert_int_equal(at_big.bytes, sizeof payload);
    /* 2,000 bytes to it: under its ws_max_message */
    assert_int_equal(mf_client_publish(big, "opt.small", NULL, payload, 2000), MF_OK);
    e2e_barrier(big, small);
    assert_true(e2e_col_wait(&at_small, 1, E2E_WAIT_MS));
    assert_int_equal(at_small.bytes, 2000);

    /* 8,000 bytes to it: more than its ws_max_message; dropped with the connection */
    static char huge[8000];
    fill(huge, sizeof huge, 2);
    assert_int_equal(mf_client_publish(big, "opt.small", NULL, huge, sizeof huge), MF_OK);
    assert_int_equal(mf_client_flush(big, E2E_WAIT_MS), MF_OK);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_DISCONNECTED, 1, E2E_WAIT_MS));
    assert_true(e2e_events_wait(&ev, MF_CLIENT_RECONNECTED, 1, E2E_WAIT_MS));
    /* after the reconnect (the subscription is sent again) it works, and the big one never came */
    e2e_barrier(small, small);
    assert_int_equal(mf_client_publish(big, "opt.small", NULL, payload, 100), MF_OK);
    e2e_barrier(big, small);
    assert_true(e2e_col_wait(&at_small, 2, E2E_WAIT_MS));
    assert_int_equal(e2e_col_count(&at_small), 2);
    assert_int_equal(at_small.bytes, 2100);

    mf_client_destroy(small);
    mf_client_destroy(big);
    e2e_col_free(&at_small);
    e2e_col_free(&at_big);
    e2e_events_free(&ev);
}

typedef struct log_lines {
    pthread_mutex_t mu;
    int debug, info, connected_to;
} log_lines;

static void on_log(mf_log_level level, const char *line, void *ctx)
{
    log_lines *l = ctx;
    pthread_mutex_lock(&l->mu);
    if (level == MF_LOG_DEBUG)
        l->debug++;
    if (level == MF_LOG_INFO)
        l->info++;
    if (strstr(line, "connected to"))
        l->connected_to++;
    pthread_mutex_unlock(&l->mu);
}

static void test_log_callback(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    const char *servers[] = {server.url};
    log_lines l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    mf_client_opts o;
    e2e_opts(&o, servers, 1, NULL);
    o.name = "options-test";
    o.on_log = on_log;
    o.log_ctx = &l;
    o.log_level = MF_LOG_DEBUG;
    mf_client *c = e2e_connect(&o);
    assert_non_null(c);
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK);
    mf_client_destroy(c);
    pthread_mutex_lock(&l.mu);
    assert_true(l.info >= 1);
    assert_true(l.connected_to >= 1);
    pthread_mutex_unlock(&l.mu);
    /* the same at MF_LOG_NONE: nothing */
    log_lines quiet = {.mu = PTHREAD_MUTEX_INITIALIZER};
    o.log_ctx = &quiet;
    o.log_level = MF_LOG_NONE;
    c = e2e_connect(&o);
    assert_non_null(c);
    mf_client_destroy(c);
    assert_int_equal(quiet.info + quiet.debug + quiet.connected_to, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_randomized_pool),
        cmocka_unit_test(test_small_frames_and_limits),
        cmocka_unit_test(test_log_callback),
    };
    return mf_skip_exit(cmocka_run_group_tests(tests, setup, teardown));
}
