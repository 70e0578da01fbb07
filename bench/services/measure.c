/*
 * measure.c - bench-services: alternating request phases against the service and the
 * bare responder, latency percentiles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_services.h"

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* One request; its latency in ns, or -1 (says why). The service's reply must carry a name. */
static int64_t one(mf_client *c, const char *subject, const char *body, bool check)
{
    mf_msg_owned *r = NULL;
    int64_t t0 = now_ns();
    mf_status st = mf_client_request(c, subject, body, strlen(body), 5000, &r);
    int64_t dt = now_ns() - t0;
    if (st) {
        fprintf(stderr, "bench-services: request on %s failed: %s\n", subject, mf_status_str(st));
        return -1;
    }
    if (check && !strstr(r->msg.data, "\"name\":\"Bench User")) {
        fprintf(stderr, "bench-services: unexpected reply: %.200s\n", (const char *)r->msg.data);
        dt = -1;
    }
    mf_msg_owned_free(r);
    return dt;
}

static bool block(mf_client *c, long first, long n, bool service, long users, bench_lat *out)
{
    for (long i = first; i < first + n; i++) {
        char id[37], body[64];
        bench_user_id((long)((uint64_t)(i * 2654435761u) % (uint64_t)users), id);
        snprintf(body, sizeof body, "{\"user_id\":\"%s\"}", id);
        int64_t dt = one(c, service ? "user.info.request" : ECHO_SUBJECT, body, service);
        if (dt < 0)
            return false;
        if (out)
            out->ns[out->n++] = dt;
    }
    return true;
}

bool bench_measure(mf_client *c, const bench_opts *o, bench_lat *svc, bench_lat *bare, bench_lat *diff)
{
    size_t n = (size_t)o->requests;
    svc->ns = calloc(n, sizeof *svc->ns);
    bare->ns = calloc(n, sizeof *bare->ns);
    diff->ns = calloc(n, sizeof *diff->ns);
    svc->n = bare->n = diff->n = 0;
    if (!svc->ns || !bare->ns || !diff->ns)
        return false;
    /* warm-up: caches, the page cache of the database, the branch predictors */
    if (!block(c, 0, o->warmup, true, o->users, NULL) || !block(c, 0, o->warmup, false, o->users, NULL))
        return false;
    /* pairs: one request to each, back to back (which goes first alternates), so a burst from
     * the neighbours falls on both members of a pair; the difference of a pair is a sample of
     * what the service adds */
    for (long i = 0; i < o->requests; i++) {
        bool svc_first = i % 2 == 0;
        if (!block(c, o->warmup + i, 1, svc_first, o->users, svc_first ? svc : bare) ||
            !block(c, o->warmup + i, 1, !svc_first, o->users, svc_first ? bare : svc))
            return false;
        diff->ns[diff->n++] = svc->ns[svc->n - 1] - bare->ns[bare->n - 1];
    }
    return true;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void bench_sort(bench_lat *l)
{
    qsort(l->ns, l->n, sizeof *l->ns, cmp_i64);
}

double bench_pct_us(const bench_lat *l, double p)
{
    if (l->n == 0)
        return 0;
    size_t k = (size_t)(p / 100.0 * (double)(l->n - 1) + 0.5);
    return (double)l->ns[k] / 1000.0;
}
