/*
 * test_client_request.c - mf_client requests against a real server process:
 * nats-server (built as test_client_request_nats) or mf-broker (built as
 * test_client_request_broker, with -DE2E_KIND=E2E_BROKER). Request/reply, blocking
 * and async, timeouts, no-responders, what a subscription callback may call,
 * thousands of async requests in flight, request records reused across rounds
 * of replies, timeouts and late replies, and requests whose context the client
 * copies into its record (mf/request_copy.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_group.h"
#include "mf/request_copy.h"

/* ------------------------------------------------------------------ tests */

/* n async requests, each with its own e2e_reply as its context. */
typedef struct async_batch {
    e2e_reply_set set;
    e2e_reply *r;
    int n;
} async_batch;

static void batch_init(async_batch *b, int n)
{
    e2e_reply_set_init(&b->set);
    b->r = calloc((size_t)n, sizeof *b->r);
    assert_non_null(b->r);
    b->n = n;
    for (int i = 0; i < n; i++)
        b->r[i].set = &b->set;
}

static void batch_free(async_batch *b)
{
    free(b->r);
    e2e_reply_set_free(&b->set);
}

/* Every request of b completed exactly once, on the service thread, with status st. */
static void assert_batch(async_batch *b, mf_status st)
{
    pthread_mutex_lock(&b->set.mu);
    int done = b->set.done;
    pthread_mutex_unlock(&b->set.mu);
    assert_int_equal(done, b->n);
    for (int i = 0; i < b->n; i++) {
        if (b->r[i].calls != 1 || b->r[i].st != st)
            fail_msg("request %d: %d completions, status %s (want 1, %s)", i, b->r[i].calls,
                     mf_status_str(b->r[i].st), mf_status_str(st));
        assert_true(b->r[i].on_service_thread);
    }
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
    assert_int_equal(mf_client_flush(srv, E2E_WAIT_MS), MF_OK);

    mf_msg_owned *rep = NULL;
    assert_int_equal(mf_client_request(cli, "svc.echo", "hello", 5, E2E_WAIT_MS, &rep), MF_OK);
    assert_non_null(rep);
    assert_int_equal(rep->msg.len, 8);
    assert_memory_equal(rep->msg.data, "re:hello", 8);
    assert_true(strncmp(rep->msg.subject, "_INBOX.", 7) == 0);
    mf_msg_owned_free(rep);

    /* async: each request its own payload and context, each reply to its own request */
    async_batch b;
    batch_init(&b, 50);
    for (int i = 0; i < b.n; i++) {
        char q[16];
        int len = snprintf(q, sizeof q, "a%d", i);
        assert_int_equal(mf_client_request_async(cli, "svc.echo", q, (size_t)len, E2E_WAIT_MS, e2e_reply_cb, &b.r[i]),
                         MF_OK);
    }
    assert_true(e2e_reply_set_wait(&b.set, b.n, E2E_WAIT_MS));
    assert_batch(&b, MF_OK);
    for (int i = 0; i < b.n; i++) {
        char want[16];
        snprintf(want, sizeof want, "re:a%d", i);
        assert_string_equal(b.r[i].data, want);
    }
    /* many blocking requests in a row, each answered with its own reply */
    for (int i = 0; i < 200; i++) {
        char q[16], want[16];
        int len = snprintf(q, sizeof q, "b%d", i);
        int wlen = snprintf(want, sizeof want, "re:b%d", i);
        assert_int_equal(mf_client_request(cli, "svc.echo", q, (size_t)len, E2E_WAIT_MS, &rep), MF_OK);
        assert_int_equal(rep->msg.len, (size_t)wlen);
        assert_memory_equal(rep->msg.data, want, (size_t)wlen);
        mf_msg_owned_free(rep);
    }
    assert_int_equal(mf_client_request(cli, "svc.echo", "y", 1, 2000, NULL), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_request_async(cli, "svc.echo", "y", 1, 0, e2e_reply_cb, &b.r[0]), MF_ERR_INVALID_ARG);
    mf_client_destroy(cli);
    mf_client_destroy(srv);
    assert_int_equal(b.r[0].calls, 1); /* the refused one never completed */
    batch_free(&b);
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
    assert_int_equal(mf_client_flush(srv, E2E_WAIT_MS), MF_OK);
    mf_msg_owned *rep = NULL;
    int64_t t0 = e2e_now_ms();
    assert_int_equal(mf_client_request(cli, "svc.silent", "q", 1, 200, &rep), MF_ERR_TIMEOUT);
    int64_t dt = e2e_now_ms() - t0;
    assert_null(rep);
    /* never early; the upper bound only catches a timeout that is not applied at all */
    assert_true(dt >= 190);
    assert_true(dt < 200 + E2E_WAIT_MS);

    async_batch b;
    batch_init(&b, 5);
    t0 = e2e_now_ms();
    for (int i = 0; i < b.n; i++)
        assert_int_equal(mf_client_request_async(cli, "svc.silent", "q", 1, 100 + 50 * i, e2e_reply_cb, &b.r[i]),
                         MF_OK);
    assert_true(e2e_reply_set_wait(&b.set, b.n, E2E_WAIT_MS));
    dt = e2e_now_ms() - t0;
    assert_batch(&b, MF_ERR_TIMEOUT);
    assert_true(dt >= 290);
    assert_true(e2e_col_wait(&col, 6, E2E_WAIT_MS)); /* the requests did arrive */
    batch_free(&b);

    /* pending async requests fail with MF_ERR_CLOSED when the client goes away */
    batch_init(&b, 1);
    assert_int_equal(mf_client_request_async(cli, "svc.silent", "q", 1, 60000, e2e_reply_cb, &b.r[0]), MF_OK);
    mf_client_destroy(cli); /* runs the completion before it returns */
    assert_batch(&b, MF_ERR_CLOSED);
    mf_client_destroy(srv);
    batch_free(&b);
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
    /* A long timeout: MF_ERR_NO_RESPONDERS (not MF_ERR_TIMEOUT) shows the server answered. */
    mf_msg_owned *rep = NULL;
    assert_int_equal(mf_client_request(cli, "svc.nobody", "q", 1, 60000, &rep), MF_ERR_NO_RESPONDERS);
    assert_null(rep);
    async_batch b;
    batch_init(&b, 1);
    assert_int_equal(mf_client_request_async(cli, "svc.nobody", "q", 1, 60000, e2e_reply_cb, &b.r[0]), MF_OK);
    assert_true(e2e_reply_set_wait(&b.set, 1, E2E_WAIT_MS));
    assert_batch(&b, MF_ERR_NO_RESPONDERS);
    mf_client_destroy(cli);
    batch_free(&b);
}

/* A subscription callback that records what may and may not be called from it; the test
 * thread asserts (an assertion on the service thread would crash, not report). */
typedef struct cb_checks {
    pthread_mutex_t mu;
    int calls;
    mf_status req, flush, drain, wait, async, pub, sub, unsub_self, flush_start, flush_wait;
    bool on_service_thread;
    uint64_t self_sid, ticket;
    char hdr_val[32];
    e2e_reply *ar;
} cb_checks;

static void checking_cb(mf_client *c, const mf_msg *m, void *ctx)
{
    cb_checks *k = ctx;
    mf_msg_owned *rep = NULL;
    pthread_mutex_lock(&k->mu);
    k->calls++;
    k->req = mf_client_request(c, "svc.any", "x", 1, 100, &rep);
    k->flush = mf_client_flush(c, 100);
    k->flush_start = mf_client_flush_start(c, &k->ticket); /* allowed here: it never blocks */
    k->flush_wait = mf_client_flush_wait(c, k->ticket, 100);
    k->drain = mf_client_drain(c, 100);
    k->wait = mf_client_wait_connected(c, 100);
    k->async = mf_client_request_async(c, "svc.cbecho", "x", 1, E2E_WAIT_MS, e2e_reply_cb, k->ar);
    k->pub = mf_client_publish(c, "cb.out", NULL, "p", 1);
    k->sub = mf_client_subscribe(c, "cb.more", NULL, checking_cb, k, NULL);
    k->unsub_self = mf_client_unsubscribe(c, k->self_sid, 0);
    size_t vl = 0;
    const char *v = mf_msg_header(m, "x-tag", &vl);
    if (v)
        snprintf(k->hdr_val, sizeof k->hdr_val, "%.*s", (int)vl, v);
    k->on_service_thread = mf_client_on_service_thread(c);
    pthread_mutex_unlock(&k->mu);
    mf_msg_owned_free(rep); /* NULL: the request was refused */
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
    assert_int_equal(mf_client_flush(srv, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_client_subscribe(c, "cb.out", NULL, e2e_col_cb, &out, NULL), MF_OK);
    async_batch b;
    batch_init(&b, 1);
    cb_checks k;
    memset(&k, 0, sizeof k);
    pthread_mutex_init(&k.mu, NULL);
    k.ar = &b.r[0];
    assert_int_equal(mf_client_subscribe(c, "cb.in", NULL, checking_cb, &k, &k.self_sid), MF_OK);
    assert_int_equal(mf_client_flush(c, E2E_WAIT_MS), MF_OK);
    assert_false(mf_client_on_service_thread(c));
    mf_header h[] = {{"X-Tag", " v1 "}};
    assert_int_equal(mf_client_publish_hdrs(c, "cb.in", NULL, h, 1, "1", 1), MF_OK);
    e2e_pub_int(c, "cb.in", 2); /* never delivered: the callback unsubscribed itself */
    assert_true(e2e_reply_set_wait(&b.set, 1, E2E_WAIT_MS));
    assert_true(e2e_col_wait(&out, 1, E2E_WAIT_MS));
    e2e_barrier(c, c);
    pthread_mutex_lock(&k.mu);
    assert_int_equal(k.calls, 1);
    assert_true(k.on_service_thread);
    assert_int_equal(k.req, MF_ERR_INVALID_ARG);
    assert_int_equal(k.flush, MF_ERR_INVALID_ARG);
    assert_int_equal(k.flush_start, MF_OK);
    assert_int_equal(k.flush_wait, MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_flush_wait(c, k.ticket, E2E_WAIT_MS), MF_OK); /* its PONG, awaited elsewhere */
    assert_int_equal(k.drain, MF_ERR_INVALID_ARG);
    assert_int_equal(k.wait, MF_ERR_INVALID_ARG);
    assert_int_equal(k.async, MF_OK);
    assert_int_equal(k.pub, MF_OK);
    assert_int_equal(k.sub, MF_OK);
    assert_int_equal(k.unsub_self, MF_OK);
    assert_string_equal(k.hdr_val, "v1"); /* the value, trimmed */
    pthread_mutex_unlock(&k.mu);
    assert_batch(&b, MF_OK);
    assert_string_equal(b.r[0].data, "re:x");
    mf_client_destroy(c);
    mf_client_destroy(srv);
    pthread_mutex_destroy(&k.mu);
    batch_free(&b);
    e2e_col_free(&echo);
    e2e_col_free(&out);
}

/* Thousands of async requests in flight (exercises the deadline heap). Each has its own
 * payload and context; a reply delivered to the wrong request fails the test. */
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
    assert_int_equal(mf_client_flush(srv, E2E_WAIT_MS), MF_OK);
    async_batch b;
    batch_init(&b, N);
    int64_t t0 = e2e_now_ms();
    for (int i = 0; i < N; i++) {
        char q[16];
        int len = snprintf(q, sizeof q, "%d", i);
        assert_int_equal(mf_client_request_async(cli, "svc.burst", q, (size_t)len, 60000, e2e_reply_cb, &b.r[i]), MF_OK);
    }
    assert_true(e2e_reply_set_wait(&b.set, N, 60000));
    int64_t dt = e2e_now_ms() - t0;
    print_message("%d async requests answered in %lld ms\n", N, (long long)dt);
    assert_batch(&b, MF_OK);
    for (int i = 0; i < N; i++) {
        char want[24];
        snprintf(want, sizeof want, "re:%d", i);
        if (strcmp(b.r[i].data, want) != 0)
            fail_msg("request %d got the reply '%s'", i, b.r[i].data);
    }
    /* the responder saw each request once */
    assert_int_equal(e2e_col_count(&col), N);
    char *seen = calloc(N, 1);
    assert_non_null(seen);
    for (int i = 0; i < N; i++) {
        int v = col.vals[i];
        assert_true(v >= 0 && v < N);
        seen[v]++;
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
    mf_client_destroy(cli);
    mf_client_destroy(srv);
    batch_free(&b);
    e2e_col_free(&col);
}

/* On srv: "svc.echo" answers "re:<request>", "svc.silent" listens and never answers (it keeps
 * its first messages whole, for late replies). */
static void echo_and_silent(mf_client *srv, e2e_col *echo, e2e_col *silent)
{
    e2e_col_init(echo);
    e2e_col_init(silent);
    echo->respond = true;
    assert_int_equal(mf_client_subscribe(srv, "svc.echo", NULL, e2e_col_cb, echo, NULL), MF_OK);
    assert_int_equal(mf_client_subscribe(srv, "svc.silent", NULL, e2e_col_cb, silent, NULL), MF_OK);
    assert_int_equal(mf_client_flush(srv, E2E_WAIT_MS), MF_OK);
}

/* Request records are reused (a free list of at most MF_REQ_FREE_MAX, 4,096): rounds of 6,000
 * requests, half answered and half timing out, so records freed by replies and by the timer
 * are taken again, and more complete at once than the list keeps. Late replies to the
 * timed-out requests of an earlier round, sent while the next round's requests use the
 * recycled records, complete nothing; requests still pending at destroy fail with
 * MF_ERR_CLOSED. Under ASan this also proves no record is used after it went back. */
static void test_request_records_recycled(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    enum { N = 6000, ROUNDS = 3, PENDING = 100 };
    mf_client *srv = connect_one(NULL), *cli = connect_one(NULL);
    e2e_col echo, silent;
    echo_and_silent(srv, &echo, &silent);
    for (int round = 0; round < ROUNDS; round++) {
        async_batch b;
        batch_init(&b, N);
        for (int i = 0; i < N; i++) {
            char q[16];
            int len = snprintf(q, sizeof q, "%d", i);
            const char *subj = i % 2 ? "svc.silent" : "svc.echo";
            int timeout = i % 2 ? 300 : 60000;
            assert_int_equal(mf_client_request_async(cli, subj, q, (size_t)len, timeout, e2e_reply_cb, &b.r[i]), MF_OK);
        }
        if (round > 0) {
            /* the first round's timed-out requests answered now: their ids are gone */
            assert_true(e2e_col_wait(&silent, E2E_KEEP_MSGS, E2E_WAIT_MS));
            for (int k = 0; k < E2E_KEEP_MSGS; k++)
                assert_int_equal(mf_client_respond(srv, &silent.kept[k]->msg, "late", 4), MF_OK);
            assert_int_equal(mf_client_flush(srv, E2E_WAIT_MS), MF_OK);
        }
        assert_true(e2e_reply_set_wait(&b.set, N, 60000));
        for (int i = 0; i < N; i++) {
            mf_status want = i % 2 ? MF_ERR_TIMEOUT : MF_OK;
            if (b.r[i].calls != 1 || b.r[i].st != want)
                fail_msg("round %d request %d: %d completions, status %s (want 1, %s)", round, i, b.r[i].calls,
                         mf_status_str(b.r[i].st), mf_status_str(want));
            char expect[24];
            snprintf(expect, sizeof expect, "re:%d", i);
            if (want == MF_OK && strcmp(b.r[i].data, expect) != 0)
                fail_msg("round %d request %d got the reply '%s'", round, i, b.r[i].data);
            assert_true(b.r[i].on_service_thread);
        }
        /* nothing completed twice: a late reply found no request */
        pthread_mutex_lock(&b.set.mu);
        assert_int_equal(b.set.done, N);
        pthread_mutex_unlock(&b.set.mu);
        batch_free(&b);
    }
    async_batch p;
    batch_init(&p, PENDING);
    for (int i = 0; i < PENDING; i++)
        assert_int_equal(mf_client_request_async(cli, "svc.silent", "p", 1, 60000, e2e_reply_cb, &p.r[i]), MF_OK);
    mf_client_destroy(cli); /* runs the completions before it returns */
    assert_batch(&p, MF_ERR_CLOSED);
    mf_client_destroy(srv);
    batch_free(&p);
    e2e_col_free(&echo);
    e2e_col_free(&silent);
}

/* A context of mf_client_request_async_copy: which reply it records, and bytes that prove the
 * callback got this request's own copy (the caller's variable is overwritten after each call). */
typedef struct copied_ctx {
    e2e_reply *out;
    unsigned index;
    char tag[MF_REQ_CTX_MAX - sizeof(e2e_reply *) - sizeof(unsigned) - 8];
} copied_ctx;

static void copied_tag(unsigned i, char *tag, size_t n)
{
    memset(tag, 'a' + (int)(i % 26), n - 1);
    snprintf(tag, n, "request %u", i); /* then the filler: every byte counts */
    tag[strlen(tag)] = '.';
    tag[n - 1] = '\0';
}

static atomic_int bad_contexts; /* callbacks whose context was not their request's copy */

static void copied_cb(mf_client *c, mf_status st, const mf_msg *reply, void *ctx)
{
    const copied_ctx *k = ctx;
    char want[sizeof k->tag];
    copied_tag(k->index, want, sizeof want);
    if (strcmp(k->tag, want) != 0 || (uintptr_t)ctx % _Alignof(max_align_t) != 0)
        atomic_fetch_add(&bad_contexts, 1);
    e2e_reply_cb(c, st, reply, k->out);
}

/* mf_client_request_async_copy: each callback gets its own request's copy of the context (the
 * caller's one variable is reused for every request), aligned, whether the request is answered,
 * times out or is failed by the destroy; the size limits are refused without a callback. */
static void test_request_context_copied(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    enum { N = 400, PENDING = 20 };
    mf_client *srv = connect_one(NULL), *cli = connect_one(NULL);
    e2e_col echo, silent;
    echo_and_silent(srv, &echo, &silent);
    async_batch b;
    batch_init(&b, N);
    copied_ctx k;
    assert_true(sizeof k <= MF_REQ_CTX_MAX);
    for (unsigned i = 0; i < N; i++) {
        char q[16];
        int len = snprintf(q, sizeof q, "%u", i);
        k.out = &b.r[i], k.index = i;
        copied_tag(i, k.tag, sizeof k.tag);
        const char *subj = i % 4 == 3 ? "svc.silent" : "svc.echo";
        int timeout = i % 4 == 3 ? 200 : 60000;
        assert_int_equal(mf_client_request_async_copy(cli, subj, q, (size_t)len, timeout, copied_cb, &k, sizeof k),
                         MF_OK);
        memset(&k, 0xee, sizeof k); /* the client must not read the caller's variable later */
    }
    assert_true(e2e_reply_set_wait(&b.set, N, 60000));
    for (unsigned i = 0; i < N; i++) {
        mf_status want = i % 4 == 3 ? MF_ERR_TIMEOUT : MF_OK;
        if (b.r[i].calls != 1 || b.r[i].st != want)
            fail_msg("request %u: %d completions, status %s (want 1, %s)", i,
                     b.r[i].calls, mf_status_str(b.r[i].st), mf_status_str(want));
        char expect[24];
        snprintf(expect, sizeof expect, "re:%u", i);
        if (want == MF_OK)
            assert_string_equal(b.r[i].data, expect);
    }
    assert_int_equal(atomic_load(&bad_contexts), 0);
    /* the limits: no context, one byte too many, no bytes; none of them calls back */
    e2e_reply never = {.set = &b.set};
    k.out = &never, k.index = 0;
    copied_tag(0, k.tag, sizeof k.tag);
    unsigned char big[MF_REQ_CTX_MAX + 1] = {0};
    assert_int_equal(mf_client_request_async_copy(cli, "svc.echo", "x", 1, 1000, copied_cb, NULL, sizeof k),
                     MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_request_async_copy(cli, "svc.echo", "x", 1, 1000, copied_cb, big, sizeof big),
                     MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_request_async_copy(cli, "svc.echo", "x", 1, 1000, copied_cb, &k, 0),
                     MF_ERR_INVALID_ARG);
    assert_int_equal(mf_client_request_async_copy(cli, "svc.echo", "x", 1, 0, copied_cb, &k, sizeof k),
                     MF_ERR_INVALID_ARG);
    /* pending at destroy: failed with MF_ERR_CLOSED, each with its own copy */
    async_batch p;
    batch_init(&p, PENDING);
    for (unsigned i = 0; i < PENDING; i++) {
        k.out = &p.r[i], k.index = 1000 + i;
        copied_tag(1000 + i, k.tag, sizeof k.tag);
        assert_int_equal(mf_client_request_async_copy(cli, "svc.silent", "p", 1, 60000, copied_cb, &k, sizeof k),
                         MF_OK);
    }
    memset(&k, 0xee, sizeof k);
    mf_client_destroy(cli); /* runs the completions before it returns */
    assert_batch(&p, MF_ERR_CLOSED);
    assert_int_equal(never.calls, 0);
    assert_int_equal(atomic_load(&bad_contexts), 0);
    mf_client_destroy(srv);
    batch_free(&p);
    batch_free(&b);
    e2e_col_free(&echo);
    e2e_col_free(&silent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_reply),
        cmocka_unit_test(test_request_timeout),
        cmocka_unit_test(test_no_responders),
        cmocka_unit_test(test_callback_rules),
        cmocka_unit_test(test_request_burst),
        cmocka_unit_test(test_request_records_recycled),
        cmocka_unit_test(test_request_context_copied),
    };
    const char *name = E2E_KIND == E2E_NATS ? "client_request_vs_nats_server" : "client_request_vs_mf_broker";
    return mf_skip_exit(cmocka_run_group_tests_name(name, tests, group_setup, group_teardown));
}
