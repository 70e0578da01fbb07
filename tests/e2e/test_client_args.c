/*
 * test_client_args.c - every public mf_client function given what it must refuse (NULL
 * arguments, invalid subjects, queues, headers and options, payloads over max_payload),
 * on a client that never connects (no server needed). Each call must return its error,
 * change nothing and leave the client usable; the sanitizer build checks for leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "e2e_util.h"

static void nop_cb(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)c;
    (void)m;
    (void)ctx;
}

static void nop_reply(mf_client *c, mf_status st, const mf_msg *m, void *ctx)
{
    (void)c;
    (void)st;
    (void)m;
    (void)ctx;
}

static void test_options(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d", e2e_free_port());
    const char *servers[] = {url};
    mf_client *c = NULL;
    mf_error err;
    mf_client_opts o;
    /* each bad option on its own */
    for (int i = 0; i < 9; i++) {
        e2e_opts(&o, servers, 1, NULL);
        char lng[2000];
        memset(lng, 'x', sizeof lng - 1);
        lng[sizeof lng - 1] = '\0';
        switch (i) {
        case 0: o.ws_max_message = 100; break;
        case 1: o.inbox_prefix = "_INBOX.*"; break;
        case 2: o.inbox_prefix = "a..b"; break;
        case 3: o.inbox_prefix = lng; break;
        case 4: o.reconnect_wait_ms = -1; break;
        case 5: o.max_pings_out = -1; break;
        case 6: o.token = lng; break;
        case 7: o.pass = lng; break;
        case 8: o.user = lng; break;
        }
        err.message[0] = '\0';
        assert_int_equal(mf_client_create(&o, &c, &err), MF_ERR_INVALID_ARG);
        assert_true(err.message[0] != '\0');
    }
    e2e_opts(&o, servers, 1, NULL);
    assert_int_equal(mf_client_create(&o, NULL, &err), MF_ERR_INVALID_ARG);
    /* a CA file that does not exist: create fails with the reason (wss:// only) */
    char wss[64];
    snprintf(wss, sizeof wss, "wss://127.0.0.1:%d", e2e_free_port());
    const char *ws2[] = {wss};
    e2e_opts(&o, ws2, 1, NULL);
    o.tls_ca_file = "/nonexistent/ca.pem";
    assert_int_not_equal(mf_client_create(&o, &c, &err), MF_OK);
    assert_non_null(strstr(err.message, "CA file"));
    /* a custom inbox prefix is fine */
    e2e_opts(&o, servers, 1, NULL);
    o.inbox_prefix = "_INBOX.me";
    o.ws_max_message = 4096;
    assert_int_equal(mf_client_create(&o, &c, &err), MF_OK);
    mf_client_destroy(c);
}

static void test_publish_args(void **state)
{
    (void)state;
    mf_client *c = e2e_offline_client();
    const char *bad_subjects[] = {NULL, "", "a..b", "a.*", "a.>", "a b", "a\tb", ".a", "a.", "a\r\nb"};
    for (size_t i = 0; i < sizeof bad_subjects / sizeof bad_subjects[0]; i++)
        assert_int_equal(mf_client_publish(c, bad_subjects[i], NULL, "x", 1), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_publish(NULL, "a", NULL, "x", 1), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_publish(c, "a", "bad reply", "x", 1), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_publish(c, "a", NULL, NULL, 1), MF_ERR_INVALID_ARG);
    static char big[1024 * 1024 + 1];
    assert_int_equal(mf_client_publish(c, "a", NULL, big, sizeof big), MF_ERR_PAYLOAD_TOO_BIG);
    /* headers: names visible ASCII without ':', values without CR/LF */
    mf_header h[2] = {{"X-Ok", "v"}, {"Bad Name", "v"}};
    assert_int_equal(mf_client_publish_hdrs(c, "a", NULL, h, 2, "x", 1), MF_ERR_INVALID_ARG);
    h[1] = (mf_header){"X:colon", "v"};
    assert_int_equal(mf_client_publish_hdrs(c, "a", NULL, h, 2, "x", 1), MF_ERR_INVALID_ARG);
    h[1] = (mf_header){"X-Nl", "a\r\nb"};
    assert_int_equal(mf_client_publish_hdrs(c, "a", NULL, h, 2, "x", 1), MF_ERR_INVALID_ARG);
    h[1] = (mf_header){"", "v"};
    assert_int_equal(mf_client_publish_hdrs(c, "a", NULL, h, 2, "x", 1), MF_ERR_INVALID_ARG);
    h[1] = (mf_header){NULL, "v"};
    assert_int_equal(mf_client_publish_hdrs(c, "a", NULL, h, 2, "x", 1), MF_ERR_INVALID_ARG);
    h[1] = (mf_header){"X-Null-Value", NULL};
    assert_int_equal(mf_client_publish_hdrs(c, "a", NULL, h, 2, "x", 1), MF_OK); /* buffered */
    assert_int_equal(mf_client_publish_hdrs(c, "a", NULL, NULL, 2, "x", 1), MF_ERR_INVALID_ARG);
    /* respond needs a request with a reply subject */
    mf_msg m;
    memset(&m, 0, sizeof m);
    m.subject = "a";
    m.subject_len = 1;
    assert_int_equal(mf_client_respond(c, &m, "x", 1), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_respond(c, NULL, "x", 1), MF_ERR_INVALID_ARG);
    mf_client_stats st;
    assert_int_equal(mf_client_stats_get(c, &st), MF_OK);
    assert_int_equal(st.msgs_out, 1);
    assert_int_equal(mf_client_stats_get(c, NULL), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_stats_get(NULL, &st), MF_ERR_INVALID_ARG);
    /* a batch stops at its first refused message: those before it are queued (offline: buffered) */
    size_t queued = 99;
    assert_int_equal(mf_client_publish_batch(NULL, NULL, 0, &queued), MF_ERR_INVALID_ARG);
    assert_int_equal(queued, 0);
    assert_int_equal(mf_client_publish_batch(c, NULL, 1, &queued), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_publish_batch(c, NULL, 0, &queued), MF_OK); /* nothing to do */
    assert_int_equal(queued, 0);
    for (size_t i = 0; i < sizeof bad_subjects / sizeof bad_subjects[0]; i++) {
        mf_pub pubs[3] = {{"a", "x", 1}, {bad_subjects[i], "y", 1}, {"b", "z", 1}};
        queued = 99;
        assert_int_equal(mf_client_publish_batch(c, pubs, 3, &queued), MF_ERR_INVALID_ARG);
        assert_int_equal(queued, 1);
    }
    mf_pub no_data[2] = {{"a", "x", 1}, {"b", NULL, 1}};
    assert_int_equal(mf_client_publish_batch(c, no_data, 2, &queued), MF_ERR_INVALID_ARG);
    assert_int_equal(queued, 1);
    mf_pub too_big[3] = {{"a", "", 0}, {"b", big, sizeof big}, {"c", "x", 1}};
    assert_int_equal(mf_client_publish_batch(c, too_big, 3, NULL), MF_ERR_PAYLOAD_TOO_BIG);
    assert_int_equal(mf_client_publish_batch(c, too_big, 3, &queued), MF_ERR_PAYLOAD_TOO_BIG);
    assert_int_equal(queued, 1);
    assert_int_equal(mf_client_stats_get(c, &st), MF_OK);
    assert_int_equal(st.msgs_out, 1 + 10 + 1 + 2); /* the HPUB, then each batch's messages before its refused one */
    mf_client_destroy(c);
    mf_client_destroy(NULL);
}

static void test_subscribe_and_request_args(void **state)
{
    (void)state;
    mf_client *c = e2e_offline_client();
    uint64_t sid = 0;
    assert_int_equal(mf_client_subscribe(c, NULL, NULL, nop_cb, NULL, &sid), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_subscribe(c, "a..b", NULL, nop_cb, NULL, &sid), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_subscribe(c, "a.>.b", NULL, nop_cb, NULL, &sid), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_subscribe(c, "a", "bad queue", nop_cb, NULL, &sid), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_subscribe(c, "a", "q.x", nop_cb, NULL, &sid), MF_OK); /* a queue of dots is fine */
    assert_int_equal(mf_client_subscribe(c, "a", NULL, NULL, NULL, &sid), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_subscribe(NULL, "a", NULL, nop_cb, NULL, &sid), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_subscribe(c, "a.*", NULL, nop_cb, NULL, NULL), MF_OK); /* sid optional */
    assert_int_equal(mf_client_unsubscribe(c, 987654, 0), MF_ERR_NOT_FOUND);
    assert_int_equal(mf_client_unsubscribe(NULL, 1, 0), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_unsubscribe(c, sid, 5), MF_OK); /* after 5 more */
    assert_int_equal(mf_client_unsubscribe(c, sid, 0), MF_OK);
    assert_int_equal(mf_client_unsubscribe(c, sid, 0), MF_ERR_NOT_FOUND);
    mf_msg_owned *rep = NULL;
    assert_int_equal(mf_client_request(c, "a.*", "x", 1, 100, &rep), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_request(c, "a", "x", 1, 100, NULL), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_request(NULL, "a", "x", 1, 100, &rep), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_request(c, "a", "x", 1, 50, &rep), MF_ERR_TIMEOUT); /* offline: times out */
    assert_int_equal(mf_client_request_async(c, "a", "x", 1, 100, NULL, NULL), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_request_async(c, "", "x", 1, 100, nop_reply, NULL), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_request_async(c, "a", "x", 1, 100, nop_reply, NULL), MF_OK);
    assert_int_equal(mf_client_flush(c, 50), MF_ERR_TIMEOUT);
    assert_int_equal(mf_client_flush(NULL, 50), MF_ERR_INVALID_ARG);
    uint64_t t1 = 0, t2 = 0;
    assert_int_equal(mf_client_flush_start(c, &t1), MF_OK); /* offline: the reconnect's PING answers it */
    assert_int_equal(mf_client_flush_start(c, &t2), MF_OK);
    assert_true(t1 > 0 && t2 > t1);
    assert_int_equal(mf_client_flush_wait(c, t1, 50), MF_ERR_TIMEOUT);
    assert_int_equal(mf_client_flush_wait(c, 0, 50), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_flush_wait(c, t2 + 1, 50), MF_ERR_INVALID_ARG); /* not handed out */
    assert_int_equal(mf_client_flush_wait(NULL, t1, 50), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_flush_start(NULL, &t1), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_flush_start(c, NULL), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_wait_connected(c, 20), MF_ERR_TIMEOUT);
    assert_int_equal(mf_client_wait_connected(NULL, 20), MF_ERR_INVALID_ARG);
    mf_client_server_info info;
    assert_int_equal(mf_client_server_info_get(c, &info), MF_ERR_NOT_FOUND); /* no INFO yet */
    assert_int_equal(mf_client_server_info_get(c, NULL), MF_ERR_INVALID_ARG);
    assert_false(mf_client_on_service_thread(c));
    assert_false(mf_client_on_service_thread(NULL));
    assert_int_equal(mf_client_drain(c, 100), MF_ERR_TIMEOUT); /* nothing can be flushed offline */
    assert_int_equal(mf_client_publish(c, "a", NULL, "x", 1), MF_ERR_CLOSED);
    assert_int_equal(mf_client_flush_start(c, &t1), MF_ERR_CLOSED);
    assert_int_equal(mf_client_flush_wait(c, t2, 50), MF_ERR_CLOSED);
    assert_int_equal(mf_client_subscribe(c, "b", NULL, nop_cb, NULL, &sid), MF_ERR_CLOSED);
    assert_int_equal(mf_client_drain(c, 100), MF_ERR_CLOSED);
    mf_client_destroy(c);
}

static void test_msg_header_edges(void **state)
{
    (void)state;
    mf_msg m;
    memset(&m, 0, sizeof m);
    size_t l = 0;
    assert_null(mf_msg_header(&m, "X", &l)); /* no headers */
    assert_null(mf_msg_header(NULL, "X", &l));
    static const char only_status[] = "NATS/1.0";
    m.headers = only_status;
    m.headers_len = sizeof only_status - 1;
    assert_null(mf_msg_header(&m, "X", &l)); /* no line end at all */
    static const char lf[] = "NATS/1.0\nA:  spaced  \nB:\n\nC: after the end\n";
    m.headers = lf;
    m.headers_len = sizeof lf - 1;
    const char *v = mf_msg_header(&m, "a", &l);
    assert_non_null(v);
    assert_int_equal(l, 6);
    v = mf_msg_header(&m, "B", NULL);
    assert_non_null(v);
    assert_null(mf_msg_header(&m, "C", &l)); /* after the empty line */
    static const char noend[] = "NATS/1.0\r\nX: 1";
    m.headers = noend;
    m.headers_len = sizeof noend - 1;
    assert_non_null(mf_msg_header(&m, "x", &l));
    assert_int_equal(l, 1);
    mf_msg_owned *o = NULL;
    assert_int_equal(mf_msg_copy(&m, NULL), MF_ERR_INVALID_ARG);
    m.subject = NULL;
    m.subject_len = 0;
    assert_int_equal(mf_msg_copy(&m, &o), MF_OK); /* no subject, no data */
    assert_string_equal(o->msg.subject, "");
    mf_msg_owned_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_publish_args),
        cmocka_unit_test(test_subscribe_and_request_args),
        cmocka_unit_test(test_msg_header_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
