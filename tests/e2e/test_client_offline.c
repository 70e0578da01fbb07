/*
 * test_client_offline.c - mf_client behaviour that needs no server or starts
 * one late: option/URL validation, publishes buffered while no server is up
 * (pending_limit, DROPPED), timeouts while disconnected, giving up after
 * max_reconnect_attempts, destroy while connecting.
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

static mf_status try_create(const char *url, mf_error *err)
{
    const char *servers[] = {url};
    mf_client_opts o;
    e2e_opts(&o, servers, 1, NULL);
    o.max_reconnect_attempts = 1;
    mf_client *c = NULL;
    mf_status st = mf_client_create(&o, &c, err);
    if (c)
        mf_client_destroy(c);
    return st;
}

static void test_bad_options(void **state)
{
    (void)state;
    mf_error err;
    mf_client *c = NULL;
    assert_int_equal(mf_client_create(NULL, &c, &err), MF_ERR_INVALID_ARG);
    mf_client_opts o;
    mf_client_opts_init(&o);
    assert_int_equal(mf_client_create(&o, &c, &err), MF_ERR_INVALID_ARG);
    assert_true(strlen(err.message) > 0);
    const char *bad[] = {"http://127.0.0.1:1", "ws://", "ws://:80", "ws://h:99999", "ws://h:0", "ws://u:p@h:1",
                         "ws://h:12x", "127.0.0.1:4222", "ws://h h:1", "ws://[::1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err.message[0] = '\0';
        assert_int_equal(try_create(bad[i], &err), MF_ERR_INVALID_ARG);
        assert_true(strlen(err.message) > 0);
    }
    int port = e2e_free_port();
    char good[4][96];
    snprintf(good[0], sizeof good[0], "ws://127.0.0.1:%d", port);
    snprintf(good[1], sizeof good[1], "ws://127.0.0.1:%d/nats/ws", port);
    snprintf(good[2], sizeof good[2], "ws://[::1]:%d", port);
    snprintf(good[3], sizeof good[3], "wss://127.0.0.1:%d/", port); /* TLS context builds */
    for (int i = 0; i < 4; i++)
        assert_int_equal(try_create(good[i], &err), MF_OK);

    mf_client_opts_init(&o);
    const char *servers[] = {good[0]};
    o.servers = servers;
    o.n_servers = 1;
    o.frame_size = 100;
    assert_int_equal(mf_client_create(&o, &c, &err), MF_ERR_INVALID_ARG);
    char longname[400];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    mf_client_opts_init(&o);
    o.servers = servers;
    o.n_servers = 1;
    o.name = longname;
    assert_int_equal(mf_client_create(&o, &c, &err), MF_ERR_INVALID_ARG);
}

static void test_msg_helpers(void **state)
{
    (void)state;
    static const char hdr[] = "NATS/1.0 503 No Responders\r\nX-A: 1\r\nx-b:two  \r\n\r\n";
    mf_msg m;
    memset(&m, 0, sizeof m);
    m.subject = "a.b";
    m.subject_len = 3;
    m.reply = "r";
    m.reply_len = 1;
    m.data = "xyz";
    m.len = 3;
    m.headers = hdr;
    m.headers_len = sizeof hdr - 1;
    size_t l = 0;
    const char *v = mf_msg_header(&m, "x-a", &l);
    assert_non_null(v);
    assert_int_equal(l, 1);
    assert_memory_equal(v, "1", 1);
    v = mf_msg_header(&m, "X-B", &l);
    assert_non_null(v);
    assert_int_equal(l, 3);
    assert_memory_equal(v, "two", 3);
    assert_null(mf_msg_header(&m, "X-C", &l));
    assert_null(mf_msg_header(&m, "NATS/1.0 503 No Responders", &l));
    mf_msg_owned *o = NULL;
    assert_int_equal(mf_msg_copy(&m, &o), MF_OK);
    assert_string_equal(o->msg.subject, "a.b");
    assert_string_equal(o->msg.reply, "r");
    assert_string_equal((const char *)o->msg.data, "xyz");
    assert_non_null(mf_msg_header(&o->msg, "x-a", &l));
    mf_msg_owned_free(o);
    mf_msg_owned_free(NULL);
    assert_int_equal(mf_msg_copy(NULL, &o), MF_ERR_INVALID_ARG);
}

static void test_pending_limit_then_connect(void **state)
{
    (void)state;
    const char *why = e2e_server_missing(E2E_NATS);
    if (why)
        mf_skip_or_fail("%s", why);
    e2e_nats n;
    memset(&n, 0, sizeof n);
    n.ws_port = e2e_free_port();
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d", n.ws_port);
    const char *servers[] = {url};
    e2e_events ev;
    e2e_events_init(&ev);
    mf_client_opts o;
    e2e_opts(&o, servers, 1, &ev);
    o.pending_limit = 8 * 1024;
    mf_client *c = NULL;
    mf_error err;
    assert_int_equal(mf_client_create(&o, &c, &err), MF_OK);
    assert_int_equal(mf_client_wait_connected(c, 200), MF_ERR_TIMEOUT); /* nobody listens yet */

    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(c, "pl.x", NULL, e2e_col_cb, &col, NULL), MF_OK);
    static char payload[20][1000];
    int accepted = 0, refused = 0;
    for (int i = 0; i < 20; i++) {
        memset(payload[i], 'p', sizeof payload[i]);
        int k = snprintf(payload[i], sizeof payload[i], "%d", i);
        payload[i][k] = ' ';
    }
    for (int i = 0; i < 16; i++) {
        mf_status st = mf_client_publish(c, "pl.x", NULL, payload[i], sizeof payload[i]);
        if (st == MF_OK) {
            assert_int_equal(refused, 0); /* accepted ones come first */
            accepted++;
        } else {
            assert_int_equal(st, MF_ERR_FULL);
            refused++;
        }
        if (i == 5) { /* then a batch, which the queue takes only part of: stopped at the first it refuses */
            mf_pub rest[8];
            for (int j = 0; j < 8; j++)
                rest[j] = (mf_pub){"pl.x", payload[6 + j], sizeof payload[6 + j]};
            size_t queued = 99;
            assert_int_equal(mf_client_publish_batch(c, rest, 8, &queued), MF_ERR_FULL);
            assert_int_equal(queued, 2);
            accepted += 2;
            refused++;
            i = 7; /* the loop goes on with the refused one, payload[8] */
        }
    }
    assert_int_equal(accepted, 8); /* 8 KiB / 1017-byte records ("PUB pl.x 1000\r\n" + 1000 + CRLF) */
    mf_client_stats st;
    assert_int_equal(mf_client_stats_get(c, &st), MF_OK);
    assert_int_equal(st.dropped_msgs, refused);
    assert_int_equal(st.dropped_bytes, refused * sizeof payload[0]);
    assert_true(st.queued_bytes <= 8 * 1024);
    /* DROPPED events aggregate: one or more of them add up to every refusal */
    assert_true(e2e_events_wait_dropped(&ev, (uint64_t)refused, E2E_WAIT_MS));
    e2e_events got;
    e2e_events_snapshot(&ev, &got);
    assert_int_equal(got.dropped_msgs, refused);
    assert_true(got.count[MF_CLIENT_DROPPED] >= 1);

    /* a request does not fit either: refused at once, its callback never runs */
    e2e_reply_set rs;
    e2e_reply_set_init(&rs);
    e2e_reply r = {.set = &rs};
    assert_int_equal(mf_client_request_async(c, "pl.req", payload[0], sizeof payload[0], 100, e2e_reply_cb, &r),
                     MF_ERR_FULL);

    /* the server appears on the configured port: connect, subscribe, deliver the buffered ones */
    assert_true(e2e_nats_start(&n, NULL));
    assert_true(e2e_events_wait(&ev, MF_CLIENT_CONNECTED, 1, E2E_WAIT_MS));
    assert_true(e2e_col_wait(&col, (size_t)accepted, E2E_WAIT_MS));
    e2e_barrier(c, c);
    assert_int_equal(e2e_col_count(&col), (size_t)accepted); /* the refused ones were dropped */
    for (int i = 0; i < accepted; i++)
        assert_int_equal(col.vals[i], i);
    assert_int_equal(e2e_events_count(&ev, MF_CLIENT_RECONNECTED), 0);
    mf_client_destroy(c);
    assert_int_equal(r.calls, 0);
    e2e_nats_cleanup(&n);
    e2e_col_free(&col);
    e2e_events_free(&ev);
    e2e_reply_set_free(&rs);
}

static void test_timeouts_while_disconnected(void **state)
{
    (void)state;
    int port = e2e_free_port();
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d", port);
    const char *servers[] = {url};
    mf_client_opts o;
    e2e_opts(&o, servers, 1, NULL);
    mf_client *c = NULL;
    mf_error err;
    assert_int_equal(mf_client_create(&o, &c, &err), MF_OK);
    e2e_reply_set rs;
    e2e_reply_set_init(&rs);
    e2e_reply r = {.set = &rs};
    int64_t t0 = e2e_now_ms();
    assert_int_equal(mf_client_request_async(c, "x.req", "a", 1, 150, e2e_reply_cb, &r), MF_OK);
    mf_msg_owned *rep = NULL;
    assert_int_equal(mf_client_request(c, "x.req", "a", 1, 200, &rep), MF_ERR_TIMEOUT);
    assert_null(rep);
    assert_true(e2e_now_ms() - t0 >= 190);
    assert_true(e2e_reply_set_wait(&rs, 1, E2E_WAIT_MS));
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.st, MF_ERR_TIMEOUT);
    assert_true(r.on_service_thread);
    assert_int_equal(mf_client_flush(c, 100), MF_ERR_TIMEOUT);
    mf_client_destroy(c);
    assert_int_equal(r.calls, 1); /* completed once, not again at destroy */
    e2e_reply_set_free(&rs);
}

static void test_give_up(void **state)
{
    (void)state;
    int port = e2e_free_port();
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d", port);
    const char *servers[] = {url, url}; /* duplicates are merged */
    e2e_events ev;
    e2e_events_init(&ev);
    mf_client_opts o;
    e2e_opts(&o, servers, 2, &ev);
    o.max_reconnect_attempts = 3;
    o.reconnect_wait_ms = 20;
    mf_client *c = NULL;
    mf_error err;
    assert_int_equal(mf_client_create(&o, &c, &err), MF_OK);
    /* gives up by itself: 3 refused connections, 20-500 ms apart */
    assert_true(e2e_events_wait(&ev, MF_CLIENT_CLOSED, 1, E2E_WAIT_MS));
    assert_int_equal(mf_client_wait_connected(c, 100), MF_ERR_CLOSED);
    e2e_events got;
    e2e_events_snapshot(&ev, &got);
    assert_int_equal(got.closed_status, MF_ERR_IO);
    assert_int_equal(got.count[MF_CLIENT_CONNECTED], 0);
    assert_int_equal(mf_client_publish(c, "a", NULL, "x", 1), MF_ERR_CLOSED);
    assert_int_equal(mf_client_flush(c, 100), MF_ERR_CLOSED);
    mf_client_destroy(c);
    assert_int_equal(e2e_events_count(&ev, MF_CLIENT_CLOSED), 1);

    /* reconnect disabled: the first failure closes */
    mf_client_opts_init(&o);
    e2e_opts(&o, servers, 1, &ev);
    o.reconnect = false;
    assert_int_equal(mf_client_create(&o, &c, &err), MF_OK);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_CLOSED, 2, E2E_WAIT_MS));
    assert_int_equal(mf_client_wait_connected(c, 100), MF_ERR_CLOSED);
    mf_client_destroy(c);
    assert_int_equal(e2e_events_count(&ev, MF_CLIENT_CLOSED), 2);
    e2e_events_free(&ev);
}

static void test_destroy_while_connecting(void **state)
{
    (void)state;
    /* a non-routable address: the TCP connect hangs (or fails fast in a sandbox) */
    const char *servers[] = {"ws://10.255.255.1:4222"};
    mf_client_opts o;
    e2e_opts(&o, servers, 1, NULL);
    o.connect_timeout_ms = 120000;
    o.lws_log_level = 0;
    for (int i = 0; i < 3; i++) {
        mf_client *c = NULL;
        mf_error err;
        assert_int_equal(mf_client_create(&o, &c, &err), MF_OK);
        e2e_sleep_ms(20 * i); /* not a synchronisation: destroy at different stages of connecting */
        int64_t t0 = e2e_now_ms();
        mf_client_destroy(c);
        /* far below the connect timeout: destroy does not wait for the hanging connect */
        assert_true(e2e_now_ms() - t0 < 30000);
    }
}

/* wss:// against nats-server with a self-signed certificate. */
static void test_wss(void **state)
{
    (void)state;
    const char *why = e2e_server_missing(E2E_NATS);
    if (why)
        mf_skip_or_fail("%s", why);
    e2e_nats n;
    memset(&n, 0, sizeof n);
    assert_true(e2e_mkdtemp(n.dir, sizeof n.dir));
    if (!e2e_make_cert(n.dir, n.tls_cert, sizeof n.tls_cert, n.tls_key, sizeof n.tls_key)) {
        e2e_nats_cleanup(&n);
        mf_skip_or_fail("cannot make a certificate with /usr/bin/openssl (package openssl)");
    }
    assert_true(e2e_nats_start(&n, NULL));
    assert_memory_equal(n.url, "wss://", 6);
    const char *servers[] = {n.url};
    mf_client_opts o;
    e2e_opts(&o, servers, 1, NULL);
    o.lws_log_level = 0; /* the failing handshake below would log */

    /* trusted through the CA file */
    o.tls_ca_file = n.tls_cert;
    mf_client *c = e2e_connect(&o);
    assert_non_null(c);
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(c, "tls.x", NULL, e2e_col_cb, &col, NULL), MF_OK);
    for (int i = 0; i < 100; i++) {
        char b[16];
        int k = snprintf(b, sizeof b, "%d", i);
        assert_int_equal(mf_client_publish(c, "tls.x", NULL, b, (size_t)k), MF_OK);
    }
    assert_true(e2e_col_wait(&col, 100, E2E_WAIT_MS));
    for (int i = 0; i < 100; i++)
        assert_int_equal(col.vals[i], i);
    mf_msg_owned *rep = NULL;
    assert_int_equal(mf_client_request(c, "tls.nobody", "q", 1, 60000, &rep), MF_ERR_NO_RESPONDERS);
    mf_client_destroy(c);

    /* not trusted: every attempt fails, the client gives up without ever connecting */
    o.tls_ca_file = NULL;
    e2e_events ev;
    e2e_events_init(&ev);
    o.on_event = e2e_events_cb;
    o.event_ctx = &ev;
    o.max_reconnect_attempts = 2;
    mf_client *u = NULL;
    mf_error err;
    assert_int_equal(mf_client_create(&o, &u, &err), MF_OK);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_CLOSED, 1, E2E_WAIT_MS));
    assert_int_equal(e2e_events_count(&ev, MF_CLIENT_CONNECTED), 0);
    assert_int_equal(mf_client_wait_connected(u, 100), MF_ERR_CLOSED);
    mf_client_destroy(u);
    e2e_events_free(&ev);
    o.on_event = NULL;
    o.event_ctx = NULL;
    o.max_reconnect_attempts = -1;

    /* tls_insecure accepts it */
    o.tls_insecure = true;
    c = e2e_connect(&o);
    assert_non_null(c);
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK);
    mf_client_destroy(c);
    e2e_nats_cleanup(&n);
    e2e_col_free(&col);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_msg_helpers),
        cmocka_unit_test(test_pending_limit_then_connect),
        cmocka_unit_test(test_timeouts_while_disconnected),
        cmocka_unit_test(test_give_up),
        cmocka_unit_test(test_destroy_while_connecting),
        cmocka_unit_test(test_wss),
    };
    return mf_skip_exit(cmocka_run_group_tests_name("client_offline", tests, NULL, NULL));
}
