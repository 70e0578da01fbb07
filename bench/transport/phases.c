/*
 * phases.c - bench-transport: the measurements. Pub/sub (1->1 throughput and
 * 1->K fan-out, `repeat` runs alternating between the servers) and request/reply
 * (the requests alternating between the servers in blocks of RR_BLOCK).
 */
#include "bench_transport.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void phase_fail(result *r, const char *label, const char *phase, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void phase_fail(result *r, const char *label, const char *phase, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "bench-transport: FAILED: %s, %s: %s\n", label, phase, msg);
    r->failed = true;
}

/* ------------------------------------------------------- pub/sub phases */

typedef struct sub_state {
    bclient *bc;
    size_t size;
    uint64_t next_seq;               /* service thread only */
    int64_t prev_ns;                 /* service thread only */
    atomic_int_fast64_t gap_ns;      /* sum of the silences longer than GAP_NS between two messages */
    atomic_uint_fast64_t gaps;
    atomic_uint_fast64_t count;
    atomic_int_fast64_t last_ns;
    atomic_uint_fast64_t bad_order, bad_size;
} sub_state;

static void on_bench_msg(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)c;
    sub_state *s = ctx;
    if (m->len != s->size) {
        atomic_fetch_add_explicit(&s->bad_size, 1, memory_order_relaxed);
    } else {
        uint64_t seq;
        memcpy(&seq, m->data, sizeof seq);
        if (seq != s->next_seq)
            atomic_fetch_add_explicit(&s->bad_order, 1, memory_order_relaxed);
        s->next_seq = seq + 1;
    }
    int64_t t = now_ns();
    if (s->prev_ns && t - s->prev_ns > GAP_NS) {
        atomic_fetch_add_explicit(&s->gap_ns, t - s->prev_ns, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->gaps, 1, memory_order_relaxed);
    }
    s->prev_ns = t;
    atomic_store_explicit(&s->last_ns, t, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_release);
}

typedef struct ps_out {
    double total_rate;   /* deliveries per second, all subscribers */
    double sub_mean;     /* per subscriber: msgs / (its last receive - first publish), mean */
    double sub_min;
    double mbs;          /* payload MB/s delivered (10^6 bytes) */
    double pub_rate;     /* publish calls accepted per second (the publishing loop) */
    uint64_t retries;    /* MF_ERR_FULL retries */
    double srv_cpu_us;   /* server CPU per delivery (first publish .. last delivery); < 0 unknown */
    double gap_ms;       /* per subscriber, mean: time spent in silences > 4 ms while receiving */
    double gaps;         /* per subscriber, mean number of such silences */
    double cli_cpu_us;   /* this process' CPU (all clients) per delivery */
} ps_out;

/*
 * One publisher -> k subscribers (separate clients), n messages on `subject`.
 * Returns false (after phase_fail) on loss, disorder, disconnects or deadline.
 */
static bool run_pubsub(const opts *o, const server *s, result *r, const char *phase, const char *subject,
                       unsigned k, uint64_t n, ps_out *out)
{
    char err[512];
    bool ok = false;
    sub_state subs[MAX_FANOUT];
    bclient *cl[MAX_FANOUT + 1];
    memset(subs, 0, sizeof subs);
    memset(cl, 0, sizeof cl);
    bclient *pub = NULL;
    char *payload = NULL;
    char wdname[160];
    snprintf(wdname, sizeof wdname, "%s on %s", phase, s->label);
    watchdog_arm(wdname, o->deadline_s + 15); /* + setup and teardown */

    for (unsigned i = 0; i < k; i++) {
        char name[32];
        snprintf(name, sizeof name, "bench-sub%u", i);
        if (!(cl[i] = bclient_open(s->url, name, 0, err, sizeof err))) {
            phase_fail(r, s->label, phase, "%s", err);
            goto out;
        }
        subs[i].bc = cl[i];
        subs[i].size = o->size;
        mf_status st = mf_client_subscribe(cl[i]->c, subject, NULL, on_bench_msg, &subs[i], NULL);
        if (st) {
            phase_fail(r, s->label, phase, "%s: subscribe: %s", name, mf_status_str(st));
            goto out;
        }
    }
    /* the SUBs are in effect once each flush's PONG is back */
    for (unsigned i = 0; i < k; i++) {
        mf_status st = mf_client_flush(cl[i]->c, 5000);
        if (st) {
            phase_fail(r, s->label, phase, "%s: flush after subscribe: %s", cl[i]->name, mf_status_str(st));
            goto out;
        }
    }
    if (!(pub = bclient_open(s->url, "bench-pub", o->outbound_limit, err, sizeof err))) {
        phase_fail(r, s->label, phase, "%s", err);
        goto out;
    }
    cl[k] = pub;
    payload = malloc(o->size);
    if (!payload) {
        phase_fail(r, s->label, phase, "out of memory");
        goto out;
    }
    memset(payload, 'x', o->size);

    double srv0 = proc_cpu_s(s->pid), cli0 = self_cpu_s();
    int64_t t0 = now_ns();
    int64_t deadline = t0 + (int64_t)o->deadline_s * 1000000000;
    uint64_t retries = 0;
    for (uint64_t i = 0; i < n; i++) {
        memcpy(payload, &i, sizeof i);
        long backoff = 50;
        for (;;) {
            mf_status st = mf_client_publish(pub->c, subject, NULL, payload, o->size);
            if (st == MF_OK)
                break;
            if (st != MF_ERR_FULL) {
                phase_fail(r, s->label, phase, "publish #%llu: %s", (unsigned long long)i, mf_status_str(st));
                goto out;
            }
            retries++;
            sleep_us(backoff);
            backoff = backoff < 200 ? backoff * 2 : 200;
            if (now_ns() > deadline) {
                phase_fail(r, s->label, phase,
                           "deadline %d s exceeded while publishing (%llu of %llu published, outbound queue full)",
                           o->deadline_s, (unsigned long long)i, (unsigned long long)n);
                goto out;
            }
            if (clients_trouble(cl, k + 1, err, sizeof err)) {
                phase_fail(r, s->label, phase, "while publishing: %s", err);
                goto out;
            }
        }
        if ((i & 4095) == 4095 && now_ns() > deadline) {
            phase_fail(r, s->label, phase, "deadline %d s exceeded while publishing (%llu of %llu published)",
                       o->deadline_s, (unsigned long long)i + 1, (unsigned long long)n);
            goto out;
        }
    }
    int64_t t_pub = now_ns();

    /* wait for every subscriber to have all n */
    uint64_t last_total = 0;
    int64_t last_progress = now_ns();
    for (;;) {
        uint64_t total = 0;
        bool all = true;
        for (unsigned i = 0; i < k; i++) {
            uint64_t c = atomic_load_explicit(&subs[i].count, memory_order_acquire);
            total += c;
            all = all && c >= n;
        }
        if (all)
            break;
        int64_t t = now_ns();
        if (total != last_total) {
            last_total = total;
            last_progress = t;
        }
        if (clients_trouble(cl, k + 1, err, sizeof err)) {
            phase_fail(r, s->label, phase, "LOSS: %llu of %llu deliveries received, then %s",
                       (unsigned long long)total, (unsigned long long)n * k, err);
            goto out;
        }
        if (t > deadline || t - last_progress > (int64_t)STALL_S * 1000000000) {
            phase_fail(r, s->label, phase, "LOSS: %llu of %llu deliveries received (%s %d s)",
                       (unsigned long long)total, (unsigned long long)n * k,
                       t > deadline ? "phase deadline exceeded:" : "no message for", t > deadline ? o->deadline_s : STALL_S);
            goto out;
        }
        sleep_us(t - last_progress > 100000000 ? 5000 : 200);
    }
    double srv1 = proc_cpu_s(s->pid), cli1 = self_cpu_s();
    /* exactly n each: let a possible duplicate arrive (the publisher's flush returns after the
     * server processed everything; a short grace covers the delivery of anything extra) */
    (void)mf_client_flush(pub->c, 2000);
    sleep_us(20000);
    int64_t t_last = 0;
    double sum = 0, mn = INFINITY;
    for (unsigned i = 0; i < k; i++) {
        uint64_t c = atomic_load(&subs[i].count);
        uint64_t bo = atomic_load(&subs[i].bad_order), bs = atomic_load(&subs[i].bad_size);
        if (c != n || bo || bs) {
            phase_fail(r, s->label, phase,
                       "%s received %llu of %llu messages, %llu out of order, %llu of the wrong size",
                       cl[i]->name, (unsigned long long)c, (unsigned long long)n, (unsigned long long)bo,
                       (unsigned long long)bs);
            goto out;
        }
        int64_t l = atomic_load(&subs[i].last_ns);
        if (l > t_last)
            t_last = l;
        double rate = (double)n / ((double)(l - t0) / 1e9);
        sum += rate;
        if (rate < mn)
            mn = rate;
    }
    if (clients_trouble(cl, k + 1, err, sizeof err)) {
        phase_fail(r, s->label, phase, "%s", err);
        goto out;
    }
    mf_client_stats ps;
    mf_client_stats_get(pub->c, &ps);
    if (ps.dropped_msgs) {
        phase_fail(r, s->label, phase, "the publisher client dropped %llu messages",
                   (unsigned long long)ps.dropped_msgs);
        goto out;
    }
    double el = (double)(t_last - t0) / 1e9;
    double gsum = 0, gcount = 0;
    for (unsigned i = 0; i < k; i++) {
        gsum += (double)atomic_load(&subs[i].gap_ns) / 1e6;
        gcount += (double)atomic_load(&subs[i].gaps);
    }
    out->gap_ms = gsum / k;
    out->gaps = gcount / k;
    out->total_rate = (double)n * k / el;
    out->sub_mean = sum / k;
    out->sub_min = mn;
    out->mbs = (double)n * k * (double)o->size / el / 1e6;
    out->pub_rate = (double)n / ((double)(t_pub - t0) / 1e9);
    out->retries = retries;
    out->srv_cpu_us = cpu_us_per(srv0, srv1, (double)n * k);
    out->cli_cpu_us = cpu_us_per(cli0, cli1, (double)n * k);
    ok = true;
out:
    /* the publisher first: its queue is gone, then the subscribers */
    bclient_close(pub);
    for (unsigned i = 0; i < k; i++)
        bclient_close(cl[i]);
    free(payload);
    watchdog_disarm();
    return ok;
}

static void measure_tp(const opts *o, server *s, result *r)
{
    ps_out p;
    if (run_pubsub(o, s, r, "throughput 1->1", "bench.tp", 1, o->count, &p)) {
        r->tp_ok = true;
        r->tp_rate = p.total_rate;
        r->tp_mbs = p.mbs;
        r->tp_pub_rate = p.pub_rate;
        r->tp_retries = p.retries;
        r->tp_srv_cpu = p.srv_cpu_us;
        r->tp_cli_cpu = p.cli_cpu_us;
        r->tp_gap_ms = p.gap_ms;
        r->tp_gaps = p.gaps;
    }
}

static void measure_fo(const opts *o, server *s, result *r)
{
    ps_out p;
    char phase[64];
    snprintf(phase, sizeof phase, "fan-out 1->%u", o->fanout);
    if (run_pubsub(o, s, r, phase, "bench.fo", o->fanout, o->fo_count, &p)) {
        r->fo_ok = true;
        r->fo_total = p.total_rate;
        r->fo_sub_mean = p.sub_mean;
        r->fo_sub_min = p.sub_min;
        r->fo_retries = p.retries;
        r->fo_srv_cpu = p.srv_cpu_us;
        r->fo_cli_cpu = p.cli_cpu_us;
        r->fo_gap_ms = p.gap_ms;
        r->fo_gaps = p.gaps;
    }
}

/*
 * Both servers run for the whole measurement (an idle one costs nothing), and the phases
 * alternate between them: run k does 1->1 on both, then fan-out on both, the server that
 * goes first alternating from run to run. So a neighbour's burst of CPU, or whatever a
 * previous phase left behind, falls on both columns alike. res[i]: the medians of the runs.
 */
void run_pubsub_stage(const opts *o, server *srv, result *res, const bool *up)
{
    static result runs[SRV_N][MAX_REPEAT];
    for (unsigned k = 0; k < o->repeat; k++) {
        int order[SRV_N] = {SRV_MF, SRV_NATS};
        if (k % 2) {
            order[0] = SRV_NATS;
            order[1] = SRV_MF;
        }
        for (int j = 0; j < SRV_N; j++)
            runs[order[j]][k].measured = up[order[j]];
        if (o->do_tp)
            for (int j = 0; j < SRV_N; j++)
                if (up[order[j]])
                    measure_tp(o, &srv[order[j]], &runs[order[j]][k]);
        if (o->do_fo)
            for (int j = 0; j < SRV_N; j++)
                if (up[order[j]])
                    measure_fo(o, &srv[order[j]], &runs[order[j]][k]);
        for (int i = 0; i < SRV_N; i++)
            if (up[i])
                print_run(o, &srv[i], &runs[i][k], k + 1);
    }
    for (int i = 0; i < SRV_N; i++)
        aggregate(&res[i], runs[i], o->repeat);
}

/* -------------------------------------------------------- request/reply */

typedef struct responder_state {
    atomic_uint_fast64_t served, failed;
} responder_state;

static void on_request(mf_client *c, const mf_msg *m, void *ctx)
{
    responder_state *rs = ctx;
    if (mf_client_respond(c, m, m->data, m->len) == MF_OK)
        atomic_fetch_add_explicit(&rs->served, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&rs->failed, 1, memory_order_relaxed);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank. */
static double pct_us(const int64_t *sorted, size_t n, double p)
{
    size_t rank = (size_t)ceil(p * (double)n);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)sorted[rank - 1] / 1000.0;
}

/* One server's side of the request/reply stage: a responder client, a requester client. */
typedef struct rr_side {
    server *s;
    result *r;
    bclient *resp, *req;
    responder_state rs;
    int64_t *lat;          /* ns, one per measured request */
    size_t n, cap;
    uint64_t seq;
    double cli_cpu;        /* this process' CPU seconds spent in this side's measured blocks */
    double srv0;           /* server CPU at the start of the measured requests */
    bool ok;
} rr_side;

static const char *RR_PHASE = "request/reply";

/* count sequential requests; latencies recorded when `record`. False (after phase_fail) on error. */
static bool rr_block(const opts *o, rr_side *d, uint64_t count, bool record, int64_t deadline, char *payload)
{
    char err[512];
    bclient *both[2] = {d->resp, d->req};
    double c0 = self_cpu_s();
    for (uint64_t i = 0; i < count; i++, d->seq++) {
        memcpy(payload, &d->seq, sizeof d->seq);
        mf_msg_owned *reply = NULL;
        int64_t a = now_ns();
        mf_status st = mf_client_request(d->req->c, "bench.rr", payload, o->size, 2000, &reply);
        int64_t b = now_ns();
        if (st) {
            err[0] = '\0';
            clients_trouble(both, 2, err, sizeof err);
            phase_fail(d->r, d->s->label, RR_PHASE, "request #%llu: %s%s%s", (unsigned long long)d->seq,
                       mf_status_str(st), err[0] ? "; " : "", err);
            return d->ok = false;
        }
        bool good = reply->msg.len == o->size && !memcmp(reply->msg.data, payload, o->size);
        mf_msg_owned_free(reply);
        if (!good) {
            phase_fail(d->r, d->s->label, RR_PHASE, "request #%llu: the reply is not the echoed payload",
                       (unsigned long long)d->seq);
            return d->ok = false;
        }
        if (record && d->n < d->cap)
            d->lat[d->n++] = b - a;
        if (b > deadline) {
            phase_fail(d->r, d->s->label, RR_PHASE, "deadline exceeded after %zu of %zu measured requests", d->n,
                       d->cap);
            return d->ok = false;
        }
    }
    if (record)
        d->cli_cpu += self_cpu_s() - c0;
    return true;
}

static bool rr_open(rr_side *d, size_t cap)
{
    char err[512];
    atomic_init(&d->rs.served, 0);
    atomic_init(&d->rs.failed, 0);
    if (!(d->resp = bclient_open(d->s->url, "bench-responder", 0, err, sizeof err))) {
        phase_fail(d->r, d->s->label, RR_PHASE, "%s", err);
        return false;
    }
    mf_status st = mf_client_subscribe(d->resp->c, "bench.rr", NULL, on_request, &d->rs, NULL);
    if (!st)
        st = mf_client_flush(d->resp->c, 5000);
    if (st) {
        phase_fail(d->r, d->s->label, RR_PHASE, "responder subscribe/flush: %s", mf_status_str(st));
        return false;
    }
    if (!(d->req = bclient_open(d->s->url, "bench-requester", 0, err, sizeof err))) {
        phase_fail(d->r, d->s->label, RR_PHASE, "%s", err);
        return false;
    }
    d->lat = malloc(cap * sizeof *d->lat);
    if (!d->lat) {
        phase_fail(d->r, d->s->label, RR_PHASE, "out of memory");
        return false;
    }
    d->cap = cap;
    d->ok = true;
    return true;
}

static void rr_finish(rr_side *d)
{
    char err[512] = "";
    bclient *both[2] = {d->resp, d->req};
    double srv1 = proc_cpu_s(d->s->pid);
    if (clients_trouble(both, 2, err, sizeof err) || atomic_load(&d->rs.failed)) {
        phase_fail(d->r, d->s->label, RR_PHASE, "%s (responder: %llu replies refused)", err,
                   (unsigned long long)atomic_load(&d->rs.failed));
        d->ok = false;
    }
    if (!d->ok || d->n != d->cap || !d->n)
        return;
    result *r = d->r;
    qsort(d->lat, d->n, sizeof *d->lat, cmp_i64);
    double sum = 0;
    for (size_t i = 0; i < d->n; i++)
        sum += (double)d->lat[i];
    r->rr_mean = sum / (double)d->n / 1000.0;
    r->rr_p50 = pct_us(d->lat, d->n, 0.50);
    r->rr_p90 = pct_us(d->lat, d->n, 0.90);
    r->rr_p99 = pct_us(d->lat, d->n, 0.99);
    r->rr_p999 = pct_us(d->lat, d->n, 0.999);
    r->rr_max = (double)d->lat[d->n - 1] / 1000.0;
    r->rr_n = d->n;
    r->rr_srv_cpu = cpu_us_per(d->srv0, srv1, (double)d->n);
    r->rr_cli_cpu = d->cli_cpu * 1e6 / (double)d->n;
    r->rr_ok = true;
}

static void rr_close(rr_side *d)
{
    bclient_close(d->req);
    bclient_close(d->resp);
    free(d->lat);
    d->req = d->resp = NULL;
    d->lat = NULL;
}

/*
 * The request/reply stage: each server gets its responder and requester, and the requests
 * alternate between the servers in blocks of RR_BLOCK, so that whatever else the machine
 * does hits both columns alike (a p99 is otherwise mostly a measure of the neighbours).
 * requests x repeat measured requests per server.
 */

void run_rr_stage(const opts *o, server *srv, result *res, const bool *up)
{
    rr_side side[SRV_N];
    memset(side, 0, sizeof side);
    char *payload = malloc(o->size);
    if (!payload) {
        fprintf(stderr, "bench-transport: out of memory\n");
        res[0].failed = true;
        return;
    }
    memset(payload, 'r', o->size);
    size_t total = (size_t)(o->requests * o->repeat);
    uint64_t warm = o->requests / 10 < 100 ? o->requests / 10 : 100;
    if (warm < 10)
        warm = 10;
    int budget_s = o->deadline_s * (int)o->repeat;
    watchdog_arm("request/reply", budget_s + 30);
    for (int i = 0; i < SRV_N; i++) {
        if (!up[i])
            continue;
        side[i].s = &srv[i];
        side[i].r = &res[i];
        if (rr_open(&side[i], total))
            rr_block(o, &side[i], warm, false, now_ns() + (int64_t)o->deadline_s * 1000000000, payload);
    }
    int64_t deadline = now_ns() + (int64_t)budget_s * 1000000000;
    for (int i = 0; i < SRV_N; i++)
        if (side[i].ok)
            side[i].srv0 = proc_cpu_s(side[i].s->pid);
    for (;;) {
        bool more = false;
        for (int i = 0; i < SRV_N; i++) {
            rr_side *d = &side[i];
            if (!d->ok || d->n >= d->cap)
                continue;
            size_t k = d->cap - d->n < RR_BLOCK ? d->cap - d->n : RR_BLOCK;
            if (rr_block(o, d, k, true, deadline, payload) && d->n < d->cap)
                more = true;
        }
        if (!more)
            break;
    }
    for (int i = 0; i < SRV_N; i++) {
        if (!side[i].s)
            continue;
        rr_finish(&side[i]);
        rr_close(&side[i]);
        result *r = &res[i];
        if (r->rr_ok)
            printf("  req/reply   %-11s %zu requests%s: p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f us\n",
                   srv[i].label, (size_t)r->rr_n, up[0] && up[1] ? " (interleaved)" : "", r->rr_p50, r->rr_p90,
                   r->rr_p99, r->rr_p999, r->rr_max);
        else
            printf("  req/reply   %-11s FAILED\n", srv[i].label);
    }
    fflush(stdout);
    watchdog_disarm();
    free(payload);
}

