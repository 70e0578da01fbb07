/*
 * test_broker_route.c - mf-broker's routing of one message (runtime/broker/route.c with
 * frameq.c), without sockets: connections are plain mfb_conn structures whose input goes
 * through the server-side NATS parser into mfb_route_sub / mfb_route_pub, as ops.c does,
 * and whose output is read back from their queues. What conn.c provides to route.c is
 * faked below with conn.c's queueing and no lws; -ERR texts are recorded.
 *
 * One PUB (and one HPUB) from one connection reaches, byte for byte, a subscriber whose
 * wildcard matches, exactly one member of a queue group, not a subscriber of another
 * subject, and not the publisher; the /varz counters and the queue's message count follow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/broker.h"

/* ---- what conn.c provides to route.c, without lws ---- */

static char g_last_err[128];
static int g_errs;

void mfb_conn_want_write(mfb_conn *c)
{
    c->write_requested = true;
}

void mfb_conn_queued(mfb_conn *c, bool msg, uint64_t pbytes)
{
    mfb_frameq_commit(&c->out, msg, pbytes);
    mfb_conn_want_write(c);
}

void mfb_conn_send_err(mfb_conn *c, const char *text)
{
    (void)c;
    snprintf(g_last_err, sizeof g_last_err, "%s", text);
    g_errs++;
}

void mfb_conn_send_ok(mfb_conn *c)
{
    if (c->verbose && !c->closing && mfb_frameq_prepare(&c->out) == MF_OK && mf_proto_write_ok(&c->out.buf) == MF_OK)
        mfb_conn_queued(c, false, 0);
}

void mfb_conn_close(mfb_conn *c, const char *err_text, const char *reason)
{
    (void)reason;
    mfb_conn_send_err(c, err_text ? err_text : "(close)");
    c->closing = true;
}

void mfb_auth_worker_free(struct mfb_auth_worker *w)
{
    (void)w;
}

/* ---- a broker with five connections ---- */

enum { PUB, WILD, Q1, Q2, OTHER, NCONNS };

typedef struct world {
    mfb_broker_config cfg;
    mfb_broker b;
    mfb_conn c[NCONNS];
} world;

static void input(mfb_conn *c, const char *bytes)
{
    mf_proto_op op;
    mf_error err;
    int r;
    assert_int_equal(mf_proto_feed(&c->parser, bytes, strlen(bytes)), MF_OK);
    while ((r = mf_proto_next(&c->parser, &op, &err)) == 1) {
        if (op.kind == MF_OP_PUB || op.kind == MF_OP_HPUB)
            mfb_route_pub(c, &op);
        else if (op.kind == MF_OP_SUB)
            mfb_route_sub(c, &op);
        else if (op.kind == MF_OP_UNSUB)
            mfb_route_unsub(c, &op);
        else
            fail_msg("unexpected operation %d", (int)op.kind);
    }
    assert_int_equal(r, 0);
}

/* The bytes queued for c, taken out of its queue as the writeable callback does. */
static char *drain(mfb_conn *c, uint64_t *msgs, uint64_t *pbytes)
{
    mfb_frameq *q = &c->out;
    size_t n = mfb_frameq_pending(q);
    char *s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, q->buf.data ? q->buf.data + q->head : "", n);
    s[n] = '\0';
    *msgs = *pbytes = 0;
    while (mfb_frameq_pending(q)) {
        bool ends;
        uint64_t m, p;
        size_t k = mfb_frameq_next_chunk(q, MF_BROKER_FRAME_MAX, &ends);
        assert_true(k > 0);
        mfb_frameq_consume(q, k, ends, &m, &p);
        *msgs += m;
        *pbytes += p;
    }
    c->write_requested = false;
    return s;
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->cfg.max_payload = 1024 * 1024;
    w->cfg.max_control = 4096;
    w->cfg.max_pending = 8u * 1024 * 1024;
    w->cfg.max_subs = 100;
    w->b.cfg = &w->cfg;
    w->b.rng = 0x9e3779b97f4a7c15ULL;
    w->b.sl = mfb_sublist_new(0);
    assert_non_null(w->b.sl);
    mfb_sublist_result_init(&w->b.res);
    mfb_sublist_result_init(&w->b.res2);
    for (size_t i = 0; i < NCONNS; i++) {
        mfb_conn *c = &w->c[i];
        c->b = &w->b;
        c->cid = i + 1;
        c->connected = c->headers = c->no_responders = c->echo = true;
        mfb_frameq_init(&c->out);
        mf_proto_parser_init(&c->parser, MF_PROTO_SERVER_SIDE, w->cfg.max_control, w->cfg.max_payload);
    }
    input(&w->c[PUB], "SUB orders.created 9\r\n");        /* the publisher's own: echo off below */
    input(&w->c[WILD], "SUB orders.* 1\r\n");
    input(&w->c[Q1], "SUB orders.created workers 2\r\n");
    input(&w->c[Q2], "SUB orders.> workers 3\r\n");
    input(&w->c[OTHER], "SUB users.> 4\r\nSUB orders 5\r\n");
    w->c[PUB].echo = false;
    g_errs = 0;
    for (size_t i = 0; i < NCONNS; i++)
        assert_int_equal(mfb_frameq_pending(&w->c[i].out), 0); /* not verbose: no +OK */
    assert_int_equal(mfb_route_total_subs(&w->b), 6);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    for (size_t i = 0; i < NCONNS; i++) {
        mfb_route_drop_conn(&w->c[i]);
        mfb_frameq_free(&w->c[i].out);
        mf_proto_parser_free(&w->c[i].parser);
    }
    assert_int_equal(mfb_route_total_subs(&w->b), 0);
    mfb_sublist_result_free(&w->b.res);
    mfb_sublist_result_free(&w->b.res2);
    mfb_sublist_free(w->b.sl);
    free(w);
    return 0;
}

/* Routes `in` from PUB and checks what every connection got: the wildcard subscriber
 * `wild`, one queue member the MSG with its sid (`q1` or `q2`), the others nothing. */
static void route_one(world *w, const char *in, const char *wild, const char *q1, const char *q2,
                      uint64_t total_len)
{
    uint64_t in_msgs = w->b.in_msgs, in_bytes = w->c[PUB].in_bytes;
    input(&w->c[PUB], in);
    assert_int_equal(g_errs, 0);
    assert_int_equal(w->b.in_msgs, in_msgs + 1); /* /varz in_msgs, in_bytes */
    assert_int_equal(w->c[PUB].in_bytes, in_bytes + total_len);
    uint64_t m, p;
    char *got = drain(&w->c[WILD], &m, &p);
    assert_string_equal(got, wild);
    assert_int_equal(m, 1);          /* one MSG went out ... */
    assert_int_equal(p, total_len);  /* ... with the publisher's payload (headers included) */
    free(got);
    char *g1 = drain(&w->c[Q1], &m, &p), *g2 = drain(&w->c[Q2], &m, &p);
    bool one = !strcmp(g1, q1) && !strcmp(g2, "");
    bool two = !strcmp(g1, "") && !strcmp(g2, q2);
    if (!one && !two)
        fail_msg("queue group: q1 got '%s', q2 got '%s'", g1, g2);
    free(g1);
    free(g2);
    static const int idle[] = {PUB, OTHER}; /* the publisher (echo off), the other subjects */
    for (size_t i = 0; i < sizeof idle / sizeof idle[0]; i++) {
        got = drain(&w->c[idle[i]], &m, &p);
        assert_string_equal(got, "");
        assert_int_equal(m, 0);
        free(got);
    }
}

static void pub_reaches_matching_subscribers(void **state)
{
    world *w = *state;
    route_one(w, "PUB orders.created _INBOX.r1 5\r\nhello\r\n",
              "MSG orders.created 1 _INBOX.r1 5\r\nhello\r\n",
              "MSG orders.created 2 _INBOX.r1 5\r\nhello\r\n",
              "MSG orders.created 3 _INBOX.r1 5\r\nhello\r\n", 5);
    /* the sublist's answer for the last PUB: WILD and the publisher's own (not echoed) ... */
    assert_int_equal(w->b.res.npsubs, 2);
    assert_int_equal(w->b.res.ngroups, 1); /* ... and one group of two */
    assert_int_equal(w->b.res.groups[0].n, 2);
    /* an empty payload and no reply */
    route_one(w, "PUB orders.created 0\r\n\r\n", "MSG orders.created 1 0\r\n\r\n", "MSG orders.created 2 0\r\n\r\n",
              "MSG orders.created 3 0\r\n\r\n", 0);
}

static void hpub_keeps_headers_or_strips_them(void **state)
{
    world *w = *state;
    static const char hpub[] = "HPUB orders.created 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\n";
    route_one(w, hpub, "HMSG orders.created 1 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\n",
              "HMSG orders.created 2 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\n",
              "HMSG orders.created 3 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\n", 23);
    w->c[WILD].headers = false; /* a client that did not ask for headers gets the payload only */
    uint64_t m, p;
    input(&w->c[PUB], hpub);
    char *got = drain(&w->c[WILD], &m, &p);
    assert_string_equal(got, "MSG orders.created 1 5\r\nhello\r\n");
    free(got);
}

static void queue_group_spreads_over_members(void **state)
{
    world *w = *state;
    size_t got[2] = {0, 0};
    for (int i = 0; i < 200; i++) {
        input(&w->c[PUB], "PUB orders.created 1\r\nx\r\n");
        got[0] += mfb_frameq_pending(&w->c[Q1].out) ? 1 : 0;
        got[1] += mfb_frameq_pending(&w->c[Q2].out) ? 1 : 0;
        uint64_t m, p;
        for (int k = WILD; k <= Q2; k++)
            free(drain(&w->c[k], &m, &p));
    }
    assert_int_equal(got[0] + got[1], 200); /* each message to exactly one member */
    assert_true(got[0] > 0 && got[1] > 0);  /* and both members get some */
}

static void verbose_echo_and_no_match(void **state)
{
    world *w = *state;
    uint64_t m, p;
    mfb_conn *pub = &w->c[PUB];
    pub->verbose = true;
    pub->echo = true;
    input(pub, "PUB orders.created 2\r\nhi\r\n");
    char *got = drain(pub, &m, &p);
    /* +OK first, then its own subscription's copy */
    assert_string_equal(got, "+OK\r\nMSG orders.created 9 2\r\nhi\r\n");
    assert_int_equal(m, 1);
    free(got);
    for (int k = WILD; k <= Q2; k++)
        free(drain(&w->c[k], &m, &p));
    /* a subject nobody matches: +OK only; with a reply, the no-responders status to the
     * publisher's inbox subscription */
    input(pub, "SUB _INBOX.me 7\r\n");
    free(drain(pub, &m, &p));
    input(pub, "PUB nobody.here _INBOX.me 2\r\nhi\r\n");
    got = drain(pub, &m, &p);
    assert_string_equal(got, "+OK\r\nHMSG _INBOX.me 7 16 16\r\nNATS/1.0 503\r\n\r\n\r\n");
    free(got);
    for (int k = WILD; k < NCONNS; k++)
        assert_int_equal(mfb_frameq_pending(&w->c[k].out), 0);
    assert_int_equal(g_errs, 0);
}

int main(void)
{
    mfb_log_set_level(MFB_LOG_QUIET);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pub_reaches_matching_subscribers, setup, teardown),
        cmocka_unit_test_setup_teardown(hpub_keeps_headers_or_strips_them, setup, teardown),
        cmocka_unit_test_setup_teardown(queue_group_spreads_over_members, setup, teardown),
        cmocka_unit_test_setup_teardown(verbose_echo_and_no_match, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
