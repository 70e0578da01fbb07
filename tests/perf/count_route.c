/*
 * count_route.c - the broker's cost of one message, for callgrind.
 *
 * Runs mf-broker's own routing code (runtime/broker/route.c and frameq.c,
 * compiled into this program) without sockets: a publisher's PUB operations
 * are parsed from the bytes a client sends (mf_proto parser, server side, 16
 * KiB at a time as lws hands them over), routed (mfb_route_pub: sublist
 * match, MSG written into each subscriber's queue, mfb_conn_queued), and the
 * subscribers' queues are drained in frames as the writeable callback does
 * (mfb_frameq_next_chunk / mfb_frameq_consume; the lws_write itself is not
 * counted). The conn.c functions route.c calls are stubs with conn.c's
 * queueing logic and no lws; the connections have no user (no accounts), so
 * the permission checks pass as on a broker without --accounts.
 *
 * Each scenario is one callgrind dump "<scenario> <messages>":
 *   route1    PUB of 300 bytes to 1 subscriber
 *   route10   PUB of 300 bytes to 10 subscribers (fan-out)
 *   request   PUB with a reply subject to a queue group of 3 (one delivery)
 *
 * tests/perf/guard.py compares the instructions per message with the
 * figures recorded there. Outside valgrind it runs as a quick smoke.
 *
 *   perf-count-route [--msgs N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/callgrind.h>

#include "broker/broker.h"

/* ---- what conn.c provides to route.c, without lws ---- */

void mfb_conn_want_write(mfb_conn *c)
{
    c->write_requested = true;
}

void mfb_conn_queued(mfb_conn *c, bool msg, uint64_t pbytes)
{
    mfb_frameq_commit(&c->out, msg, pbytes);
    if (mfb_frameq_pending(&c->out) > c->b->cfg->max_pending) {
        fprintf(stderr, "unexpected slow consumer\n");
        exit(1);
    }
    mfb_conn_want_write(c);
}

void mfb_conn_send_err(mfb_conn *c, const char *text)
{
    fprintf(stderr, "unexpected -ERR '%s' to cid %llu\n", text, (unsigned long long)c->cid);
    exit(1);
}

void mfb_conn_send_ok(mfb_conn *c)
{
    if (c->verbose && !c->closing && mfb_frameq_prepare(&c->out) == MF_OK && mf_proto_write_ok(&c->out.buf) == MF_OK)
        mfb_conn_queued(c, false, 0);
}

void mfb_conn_close(mfb_conn *c, const char *err_text, const char *reason)
{
    fprintf(stderr, "unexpected close of cid %llu: %s (%s)\n", (unsigned long long)c->cid, reason,
            err_text ? err_text : "");
    exit(1);
}

/* authwork.c's, for accounts.c (no accounts are loaded here) */
void mfb_auth_worker_free(struct mfb_auth_worker *w)
{
    (void)w;
}

/* ---- the harness ---- */

#define MAX_CONNS 16

typedef struct world {
    mfb_broker_config cfg;
    mfb_broker b;
    mfb_conn conns[MAX_CONNS]; /* [0] publishes */
    size_t nconns;
} world;

static void world_init(world *w, size_t nsubs)
{
    memset(w, 0, sizeof *w);
    w->cfg.max_payload = 1024 * 1024;
    w->cfg.max_control = 4096;
    w->cfg.max_pending = 64u * 1024 * 1024;
    w->b.cfg = &w->cfg;
    w->b.sl = mfb_sublist_new(0);
    mfb_sublist_result_init(&w->b.res);
    mfb_sublist_result_init(&w->b.res2);
    w->nconns = nsubs + 1;
    for (size_t i = 0; i < w->nconns; i++) {
        mfb_conn *c = &w->conns[i];
        c->b = &w->b;
        c->cid = i + 1;
        c->connected = c->headers = c->no_responders = c->echo = true;
        mfb_frameq_init(&c->out);
        mf_proto_parser_init(&c->parser, MF_PROTO_SERVER_SIDE, w->cfg.max_control, w->cfg.max_payload);
    }
}

static void world_free(world *w)
{
    for (size_t i = 0; i < w->nconns; i++) {
        mfb_route_drop_conn(&w->conns[i]);
        mfb_frameq_free(&w->conns[i].out);
        mf_proto_parser_free(&w->conns[i].parser);
    }
    mfb_sublist_result_free(&w->b.res);
    mfb_sublist_result_free(&w->b.res2);
    mfb_sublist_free(w->b.sl);
}

/* Feeds bytes as a connection's input and handles the PUB/SUB operations in them. */
static void input(mfb_conn *c, const char *bytes, size_t n)
{
    mf_proto_op op;
    mf_error err;
    int r;
    if (mf_proto_feed(&c->parser, bytes, n) != MF_OK)
        exit(1);
    while ((r = mf_proto_next(&c->parser, &op, &err)) == 1) {
        if (op.kind == MF_OP_PUB || op.kind == MF_OP_HPUB)
            mfb_route_pub(c, &op);
        else if (op.kind == MF_OP_SUB)
            mfb_route_sub(c, &op);
    }
    if (r < 0) {
        fprintf(stderr, "protocol error: %s\n", err.message);
        exit(1);
    }
}

/* What the writeable callbacks do to the queues, minus the writing. */
static size_t drain(world *w)
{
    size_t bytes = 0;
    for (size_t i = 0; i < w->nconns; i++) {
        mfb_frameq *q = &w->conns[i].out;
        while (mfb_frameq_pending(q)) {
            bool ends;
            uint64_t msgs = 0, pbytes = 0;
            size_t n = mfb_frameq_next_chunk(q, MF_BROKER_FRAME_MAX, &ends);
            mfb_frameq_consume(q, n, ends, &msgs, &pbytes);
            bytes += n;
        }
        w->conns[i].write_requested = false;
    }
    return bytes;
}

/* msgs PUBs (300-byte payload, optional reply subject) from conns[0], in 16 KiB reads. */
static size_t publish(world *w, int msgs, const char *reply)
{
    char payload[300];
    mf_buf in = MF_BUF_INIT;
    size_t out = 0;
    memset(payload, 'x', sizeof payload);
    for (int i = 0; i < msgs; i++) {
        mf_buf_printf(&in, "PUB bench.subject %s%s%zu\r\n", reply ? reply : "", reply ? " " : "", sizeof payload);
        mf_buf_append(&in, payload, sizeof payload);
        mf_buf_append(&in, "\r\n", 2);
    }
    for (size_t o = 0; o < in.len; o += 16384) {
        size_t n = in.len - o < 16384 ? in.len - o : 16384;
        input(&w->conns[0], in.data + o, n);
        out += drain(w);
    }
    mf_buf_free(&in);
    return out;
}

static void scenario(const char *name, size_t nsubs, const char *queue, const char *reply, int msgs)
{
    world w;
    char label[64], sub[128];
    world_init(&w, nsubs);
    for (size_t i = 1; i < w.nconns; i++) {
        int n = snprintf(sub, sizeof sub, "SUB bench.subject %s%s1\r\n", queue ? queue : "", queue ? " " : "");
        input(&w.conns[i], sub, (size_t)n);
    }
    if (reply) { /* the requester's inbox */
        int n = snprintf(sub, sizeof sub, "SUB %s 9\r\n", reply);
        input(&w.conns[0], sub, (size_t)n);
    }
    drain(&w);
    publish(&w, 200, reply); /* warm-up: buffers grown, sublist cache filled */
    snprintf(label, sizeof label, "%s %d", name, msgs);
    CALLGRIND_ZERO_STATS;
    size_t bytes = publish(&w, msgs, reply);
    CALLGRIND_DUMP_STATS_AT(label);
    printf("%-8s %zu subscribers, %d messages, %zu bytes delivered\n", name, nsubs, msgs, bytes);
    world_free(&w);
}

int main(int argc, char **argv)
{
    int msgs = 2000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--msgs") && i + 1 < argc)
            msgs = atoi(argv[++i]);
        else {
            printf("usage: %s [--msgs N]\n", argv[0]);
            return strcmp(argv[i], "-h") && strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    mfb_log_set_level(MFB_LOG_QUIET);
    scenario("route1", 1, NULL, NULL, msgs);
    scenario("route10", 10, NULL, NULL, msgs);
    scenario("request", 3, "workers", "_INBOX.abc.1", msgs);
    return 0;
}
