/*
 * test_client_pubsub.c - mf_client against a real server process: nats-server
 * (built as test_client_pubsub_nats) or mf-broker (built as test_client_pubsub_broker,
 * with -DE2E_KIND=E2E_BROKER). Publish and subscribe: pub/sub, wildcards, queue
 * groups, unsubscribe with a maximum, max_payload, headers, echo off and verbose,
 * on_input_done.
 * Requests are in test_client_request.c; concurrency, drain, reconnect and the
 * other robustness tests in test_client_robust.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e2e_group.h"
#define MAXP E2E_SHARED_MAX_PAYLOAD

/* ------------------------------------------------------------------ tests */

/* on_input_done: after the messages of one read, on the service thread; never without a
 * message delivered since the previous call; every delivered message is followed by one. */
typedef struct input_probe {
    pthread_mutex_t mu;
    int msgs, calls, spurious;
    bool pending; /* a message was delivered and no on_input_done followed yet */
} input_probe;

static void probe_msg(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)c, (void)m;
    input_probe *p = ctx;
    pthread_mutex_lock(&p->mu);
    p->msgs++;
    p->pending = true;
    pthread_mutex_unlock(&p->mu);
}

static void probe_input_done(mf_client *c, void *ctx)
{
    (void)c;
    input_probe *p = ctx;
    pthread_mutex_lock(&p->mu);
    p->calls++;
    if (!p->pending)
        p->spurious++;
    p->pending = false;
    pthread_mutex_unlock(&p->mu);
}

static bool probe_settled(input_probe *p, int msgs)
{
    for (int waited = 0; waited < E2E_WAIT_MS; waited += 10) {
        pthread_mutex_lock(&p->mu);
        bool done = p->msgs == msgs && !p->pending;
        pthread_mutex_unlock(&p->mu);
        if (done)
            return true;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void test_input_done(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    input_probe p = {.mu = PTHREAD_MUTEX_INITIALIZER};
    const char *servers[] = {g_srv.url};
    mf_client_opts o;
    e2e_opts(&o, servers, 1, NULL);
    o.on_input_done = probe_input_done;
    o.input_ctx = &p;
    mf_client *c = e2e_connect(&o);
    assert_non_null(c);
    assert_int_equal(mf_client_subscribe(c, "t.in", NULL, probe_msg, &p, NULL), MF_OK);
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK); /* PONGs alone: no call */
    pthread_mutex_lock(&p.mu);
    assert_int_equal(p.calls, 0);
    pthread_mutex_unlock(&p.mu);
    for (int i = 0; i < 200; i++)
        e2e_pub_int(c, "t.in", i);
    assert_true(probe_settled(&p, 200));
    pthread_mutex_lock(&p.mu);
    assert_true(p.calls >= 1 && p.calls <= 200);
    assert_int_equal(p.spurious, 0);
    pthread_mutex_unlock(&p.mu);
    mf_client_destroy(c);
    pthread_mutex_destroy(&p.mu);
}

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
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK);
    for (int i = 0; i < 10; i++)
        e2e_pub_int(c, "t.a", i);
    assert_true(e2e_col_wait(&col, 10, E2E_WAIT_MS));
    for (int i = 0; i < 10; i++)
        assert_int_equal(col.vals[i], i); /* in order */
    assert_string_equal(col.last_subject, "t.a");
    assert_string_equal(col.last_reply, "");

    assert_int_equal(mf_client_publish(c, "t.a", "r.x", "hi", 2), MF_OK);
    assert_true(e2e_col_wait(&col, 11, E2E_WAIT_MS));
    assert_string_equal(col.last_reply, "r.x");
    assert_string_equal(col.last_data, "hi");
    /* empty payload */
    assert_int_equal(mf_client_publish(c, "t.a", NULL, NULL, 0), MF_OK);
    assert_true(e2e_col_wait(&col, 12, E2E_WAIT_MS));
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

/* mf_client_cork: arguments, order kept, a flush while corked sends what was held, a frame's worth
 * is sent without waiting for the uncork, and the uncork sends the rest. */
static void test_cork(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *c = connect_one(NULL);
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(c, "t.cork", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_client_cork(NULL), MF_ERR_INVALID_ARG);
    mf_client_uncork(c); /* not corked: nothing happens */
    assert_int_equal(mf_client_cork(c), MF_OK);
    assert_int_equal(mf_client_cork(c), MF_ERR_INVALID_ARG); /* one at a time */
    for (int i = 0; i < 10; i++)
        e2e_pub_int(c, "t.cork", i);
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK); /* sends what the cork held */
    assert_true(e2e_col_wait(&col, 10, E2E_WAIT_MS));
    for (int i = 0; i < 10; i++)
        assert_int_equal(col.vals[i], i);
    /* a flush_start while corked: its PING and what came before leave at once */
    e2e_pub_int(c, "t.cork", 10);
    uint64_t ticket;
    assert_int_equal(mf_client_flush_start(c, &ticket), MF_OK);
    assert_true(e2e_col_wait(&col, 11, E2E_WAIT_MS));
    assert_int_equal(mf_client_flush_wait(c, ticket, E2E_WAIT_MS), MF_OK);
    /* more than a quarter of a frame (16 KiB of 64) while corked: sent without the uncork */
    static char big[1000];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 79; i++)
        assert_int_equal(mf_client_publish(c, "t.cork", NULL, big, sizeof big), MF_OK);
    assert_true(e2e_col_wait(&col, 12, E2E_WAIT_MS));
    mf_client_uncork(c);
    assert_true(e2e_col_wait(&col, 90, E2E_WAIT_MS));
    assert_int_equal(mf_client_cork(c), MF_OK); /* corks again after the uncork */
    e2e_pub_int(c, "t.cork", 7);
    mf_client_uncork(c);
    assert_true(e2e_col_wait(&col, 91, E2E_WAIT_MS));
    assert_int_equal(col.vals[90], 7);
    assert_int_equal(mf_client_cork(c), MF_OK);
    mf_client_destroy(c); /* destroyed while corked: this thread corks nothing any more */
    mf_client *d = connect_one(NULL);
    assert_int_equal(mf_client_cork(d), MF_OK);
    mf_client_uncork(d);
    mf_client_destroy(d);
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
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK);
    e2e_pub_int(c, "w.b.c", 1);
    e2e_pub_int(c, "w.b.d", 2);
    e2e_pub_int(c, "w.x.y.z", 3);
    e2e_pub_int(c, "w", 4);
    e2e_pub_int(c, "w.c", 5);
    e2e_pub_int(c, "w.end.c", 6); /* a marker both subscriptions match, published last */
    assert_true(e2e_col_wait(&gt, 5, E2E_WAIT_MS));
    assert_true(e2e_col_wait(&star, 2, E2E_WAIT_MS));
    e2e_barrier(c, c); /* anything routed to c before the marker has been handed over */
    assert_int_equal(e2e_col_count(&star), 2);
    assert_int_equal(star.vals[0], 1);
    assert_int_equal(star.vals[1], 6);
    assert_int_equal(e2e_col_count(&gt), 5);
    int want_gt[] = {1, 2, 3, 5, 6};
    for (int i = 0; i < 5; i++)
        assert_int_equal(gt.vals[i], want_gt[i]);
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
    assert_int_equal(mf_client_flush(a, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_client_flush(b, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_client_flush(p, E2E_WAIT_MS), MF_OK);
    for (int i = 0; i < N; i++)
        e2e_pub_int(p, "q.s", i);
    assert_true(e2e_col_wait(&plain, N, E2E_WAIT_MS));
    /* every publish has been routed (p's own subscription got them all, in order, before
     * the barrier's PONG); what was routed to a and b has been handed to their callbacks */
    e2e_barrier(p, a);
    e2e_barrier(p, b);
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
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK);
    for (int i = 0; i < 10; i++)
        e2e_pub_int(c, "u.m", i);
    e2e_barrier(c, c);
    assert_int_equal(e2e_col_count(&col2), 10);
    assert_int_equal(e2e_col_count(&col), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(col.vals[i], i);
    assert_int_equal(mf_client_unsubscribe(c, sid, 0), MF_ERR_NOT_FOUND); /* finished by itself */
    /* immediate unsubscribe */
    assert_int_equal(mf_client_unsubscribe(c, sid2, 0), MF_OK);
    assert_int_equal(mf_client_unsubscribe(c, sid2, 0), MF_ERR_NOT_FOUND);
    e2e_pub_int(c, "u.m", 99);
    e2e_barrier(c, c);
    assert_int_equal(e2e_col_count(&col2), 10);
    assert_int_equal(e2e_col_count(&col), 5);
    assert_int_equal(mf_client_unsubscribe(c, 12345, 0), MF_ERR_NOT_FOUND);
    mf_client_destroy(c);
    e2e_col_free(&col);
    e2e_col_free(&col2);
}

/* mf_client_unsubscribe from another thread while the sub's callback runs returns only
 * after the callback has returned (the sub is freed then), every time; the callback is held
 * until the unsubscribing thread has started (it then usually waits inside unsubscribe). */
typedef struct held_cb {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered, release, returned, returned_before_unsub;
    mf_client *c;
    uint64_t sid;
    mf_status unsub_st;
} held_cb;

static void held_msg(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)c, (void)m;
    held_cb *h = ctx;
    pthread_mutex_lock(&h->mu);
    if (!h->entered) {
        h->entered = true;
        pthread_cond_broadcast(&h->cv);
        while (!h->release)
            pthread_cond_wait(&h->cv, &h->mu);
        h->returned = true;
    }
    pthread_mutex_unlock(&h->mu);
}

static void *held_unsub(void *arg)
{
    held_cb *h = arg;
    mf_status st = mf_client_unsubscribe(h->c, h->sid, 0);
    pthread_mutex_lock(&h->mu);
    h->unsub_st = st;
    h->returned_before_unsub = h->returned;
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static void test_unsubscribe_during_callback(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *c = connect_one(NULL);
    held_cb h = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .c = c};
    assert_int_equal(mf_client_subscribe(c, "u.held", NULL, held_msg, &h, &h.sid), MF_OK);
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK);
    e2e_pub_int(c, "u.held", 1);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += E2E_WAIT_MS / 1000 + 1;
    pthread_mutex_lock(&h.mu);
    while (!h.entered && pthread_cond_timedwait(&h.cv, &h.mu, &until) == 0)
        ;
    bool entered = h.entered;
    pthread_mutex_unlock(&h.mu);
    assert_true(entered);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, held_unsub, &h), 0);
    struct timespec pause = {0, 50 * 1000 * 1000}; /* lets it reach the wait (not needed to pass) */
    nanosleep(&pause, NULL);
    pthread_mutex_lock(&h.mu);
    h.release = true;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    pthread_join(t, NULL);
    assert_int_equal(h.unsub_st, MF_OK);
    assert_true(h.returned_before_unsub);
    /* the client goes on: another subscription still gets messages */
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(c, "u.held2", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK);
    e2e_pub_int(c, "u.held2", 7);
    e2e_barrier(c, c);
    assert_int_equal(e2e_col_count(&col), 1);
    mf_client_destroy(c);
    e2e_col_free(&col);
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
    assert_non_null(buf);
    memset(buf, 'z', MAXP + 1);
    buf[0] = '7';
    assert_int_equal(mf_client_publish(c, "big", NULL, buf, MAXP + 1), MF_ERR_PAYLOAD_TOO_BIG);
    mf_msg_owned *rep = NULL;
    assert_int_equal(mf_client_request(c, "big", buf, MAXP + 1, 500, &rep), MF_ERR_PAYLOAD_TOO_BIG);
    assert_int_equal(mf_client_publish(c, "big", NULL, buf, MAXP), MF_OK);
    /* several max-size messages spanning many frames */
    for (int i = 0; i < 5; i++)
        assert_int_equal(mf_client_publish(c, "big", NULL, buf, MAXP), MF_OK);
    assert_true(e2e_col_wait(&col, 6, E2E_WAIT_MS));
    e2e_barrier(c, c);
    assert_int_equal(e2e_col_count(&col), 6); /* the refused ones never left */
    assert_int_equal(col.bytes, 6 * (uint64_t)MAXP);
    assert_int_equal(col.vals[0], 7);
    mf_client_stats st;
    assert_int_equal(mf_client_stats_get(c, &st), MF_OK);
    assert_true(st.connected); /* the server did not drop us */
    assert_int_equal(st.msgs_out, 6);
    free(buf);
    mf_client_destroy(c);
    e2e_col_free(&col);
}

/* The header block of kept message i as a NUL-terminated string (test thread only). */
static const char *kept_headers(e2e_col *col, size_t i, char *buf, size_t cap)
{
    assert_true(i < E2E_KEEP_MSGS);
    assert_non_null(col->kept[i]);
    const mf_msg *m = &col->kept[i]->msg;
    assert_non_null(m->headers);
    assert_true(m->headers_len < cap);
    memcpy(buf, m->headers, m->headers_len);
    buf[m->headers_len] = '\0';
    return buf;
}

/* Asserts that header `name` of kept message i has the first value `want`. */
static void assert_header(e2e_col *col, size_t i, const char *name, const char *want)
{
    size_t len = 0;
    const char *v = mf_msg_header(&col->kept[i]->msg, name, &len);
    if (!v)
        fail_msg("message %zu: no header %s", i, name);
    if (len != strlen(want) || memcmp(v, want, len) != 0)
        fail_msg("message %zu: header %s is '%.*s', want '%s'", i, name, (int)len, v, want);
}

/* Both servers pass the header block through as the publisher wrote it: every name and
 * value, in order, repeated names included. */
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
    assert_int_equal(mf_client_subscribe(c, "h.x", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK);

    mf_header h[] = {{"X-Id", "42"}, {"Content-Type", "application/json"}, {"X-Multi", "first"},
                     {"Trace", "a:b c=d"}, {"X-Multi", "second"}};
    assert_int_equal(mf_client_publish_hdrs(c, "h.x", "h.reply", h, 5, "{\"k\":1}", 7), MF_OK);
    mf_header bad[] = {{"Bad:Name", "v"}};
    assert_int_equal(mf_client_publish_hdrs(c, "h.x", NULL, bad, 1, "{}", 2), MF_ERR_INVALID_ARG);
    mf_header crlf[] = {{"X-Ok", "line\r\nX-Injected: 1"}};
    assert_int_equal(mf_client_publish_hdrs(c, "h.x", NULL, crlf, 1, "{}", 2), MF_ERR_INVALID_ARG);
    mf_header one[] = {{"X-Only", "1"}};
    assert_int_equal(mf_client_publish_hdrs(c, "h.x", NULL, one, 1, NULL, 0), MF_OK); /* empty body */
    e2e_pub_int(c, "h.x", 3);                                                    /* no headers */
    assert_true(e2e_col_wait(&col, 3, E2E_WAIT_MS));
    e2e_barrier(c, c);
    assert_int_equal(e2e_col_count(&col), 3); /* the refused ones were never sent */

    /* 1: body, reply, and the header lines in the order they were given */
    const mf_msg *m = &col.kept[0]->msg;
    assert_int_equal(m->len, 7);
    assert_memory_equal(m->data, "{\"k\":1}", 7);
    assert_string_equal(m->reply, "h.reply");
    assert_int_equal(m->status, 0);
    char block[1024];
    const char *hb = kept_headers(&col, 0, block, sizeof block);
    assert_true(strncmp(hb, "NATS/1.0\r\n", 10) == 0);
    const char *lines[] = {"X-Id: 42\r\n", "Content-Type: application/json\r\n", "X-Multi: first\r\n",
                           "Trace: a:b c=d\r\n", "X-Multi: second\r\n"};
    const char *at = hb;
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        const char *found = strstr(at, lines[i]);
        if (!found)
            fail_msg("header line %zu '%.*s' missing or out of order in:\n%s", i, (int)strlen(lines[i]) - 2,
                     lines[i], hb);
        at = found + strlen(lines[i]);
    }
    assert_string_equal(at, "\r\n"); /* nothing after the last one but the blank line */
    assert_header(&col, 0, "x-id", "42");        /* names compare case-insensitively */
    assert_header(&col, 0, "Content-Type", "application/json");
    assert_header(&col, 0, "X-Multi", "first"); /* the first of a repeated name */
    assert_header(&col, 0, "TRACE", "a:b c=d");
    size_t len = 0;
    assert_null(mf_msg_header(m, "X-Absent", &len));

    /* 2: headers with an empty body */
    m = &col.kept[1]->msg;
    assert_int_equal(m->len, 0);
    assert_null(m->reply);
    assert_header(&col, 1, "X-Only", "1");
    assert_null(mf_msg_header(m, "X-Id", &len)); /* nothing carried over from the first */

    /* 3: a plain publish has no header block */
    m = &col.kept[2]->msg;
    assert_null(m->headers);
    assert_int_equal(m->headers_len, 0);
    assert_null(mf_msg_header(m, "X-Only", &len));
    assert_string_equal((const char *)m->data, "3");
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
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_client_flush(other, E2E_WAIT_MS), MF_OK);
    e2e_pub_int(c, "echo.x", 1);   /* not echoed back to c */
    e2e_pub_int(other, "echo.x", 2);
    assert_true(e2e_col_wait(&theirs, 2, E2E_WAIT_MS));
    assert_true(e2e_col_wait(&mine, 1, E2E_WAIT_MS));
    e2e_barrier(c, c);     /* an echo of 1 would have reached c before this PONG */
    e2e_barrier(other, c); /* and so would anything else of other's */
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
        cmocka_unit_test(test_cork),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_queue_groups),
        cmocka_unit_test(test_unsubscribe_max),
        cmocka_unit_test(test_unsubscribe_during_callback),
        cmocka_unit_test(test_max_payload),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_echo_verbose),
        cmocka_unit_test(test_input_done),
    };
    const char *name = E2E_KIND == E2E_NATS ? "client_pubsub_vs_nats_server" : "client_pubsub_vs_mf_broker";
    return mf_skip_exit(cmocka_run_group_tests_name(name, tests, group_setup, group_teardown));
}
