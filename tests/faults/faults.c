/*
 * faults.c - messages counted through faults: a broker killed and restarted under
 * traffic, and a three-node nats-server cluster losing a node every few seconds,
 * with core NATS and with JetStream. Real processes on loopback (tests/e2e/e2e_util.h),
 * the C client (mf_client) on both ends.
 *
 *   faults broker-restart [--server mf-broker|nats-server] [--msgs N] [--kills K] [--rate R]
 *   faults cluster [--msgs N] [--kill-every-ms MS] [--rate R] [--jetstream] [--min-kills K] [--max-kills K]
 *
 * Every message carries its number; the subscriber counts each number it gets, so
 * "lost" (numbers never delivered) and "duplicated" (numbers delivered more than once)
 * are exact. One line of results (key=value) on stdout. Exit status: 0 when nothing
 * was duplicated (and, with --jetstream, nothing lost from the stream; with --min-kills,
 * at least K nodes killed while publishing), 1 otherwise,
 * 2 for bad usage or when a server cannot be started (77 for a server not installed
 * when MF_ALLOW_SKIP=1). Core NATS delivers at most once,
 * so "lost" is reported, not failed on, except with --max-lost.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h> /* not a cmocka program: e2e_util.h includes mf_skip.h, which needs it */

#include "e2e_util.h"
#include "svc_js.h"

#define SUBJECT "faults.seq"
#define JS_SUBJECT "notification.faults.seq"

typedef struct opts {
    const char *mode, *server;
    int msgs, kills, rate, kill_every_ms, outage_ms, min_kills, max_kills;
    long max_lost;
    bool jetstream;
} opts;

/* ------------------------------------------------------------ counting */

typedef struct counter {
    pthread_mutex_t mu;
    uint8_t *seen;      /* per number: times delivered (saturating) */
    int n;
    atomic_long delivered, unique, dups, bad;
} counter;

static void counter_init(counter *c, int n)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->seen = calloc((size_t)n, 1);
    c->n = n;
}

static void counter_free(counter *c)
{
    free(c->seen);
    c->seen = NULL;
    pthread_mutex_destroy(&c->mu);
}

static void counter_add(counter *c, const void *data, size_t len)
{
    char b[24];
    if (len == 0 || len >= sizeof b) {
        c->bad++;
        return;
    }
    memcpy(b, data, len);
    b[len] = '\0';
    char *end;
    long v = strtol(b, &end, 10);
    if (*end || v < 0 || v >= c->n) {
        c->bad++;
        return;
    }
    c->delivered++;
    pthread_mutex_lock(&c->mu);
    if (c->seen[v] == 0)
        c->unique++;
    else
        c->dups++;
    if (c->seen[v] < 255)
        c->seen[v]++;
    pthread_mutex_unlock(&c->mu);
}

static void on_msg(mf_client *cl, const mf_msg *m, void *ctx)
{
    (void)cl;
    counter_add(ctx, m->data, m->len);
}

/* Waits until all n arrived, or nothing arrived for quiet_ms. */
static void counter_settle(counter *c, int quiet_ms, int max_ms)
{
    int64_t end = e2e_now_ms() + max_ms, last_change = e2e_now_ms();
    long last = -1;
    while (c->unique < c->n && e2e_now_ms() < end) {
        long d = c->delivered;
        if (d != last) {
            last = d;
            last_change = e2e_now_ms();
        } else if (e2e_now_ms() - last_change > quiet_ms) {
            break;
        }
        e2e_sleep_ms(50);
    }
}

/* First and last missing numbers, and how many runs of consecutive ones (one per outage, typically). */
static void gaps(const counter *c, int *runs, int *first)
{
    *runs = 0;
    *first = -1;
    for (int i = 0; i < c->n; i++)
        if (!c->seen[i] && (i == 0 || c->seen[i - 1])) {
            (*runs)++;
            if (*first < 0)
                *first = i;
        }
}

/* A server that is not installed: a failure (2), or skipped (77) when MF_ALLOW_SKIP=1
 * (tests/README.md). */
static int missing_server(const char *what)
{
    bool skip = mf_skip_allowed();
    fprintf(stderr, "faults: %s not found: %s\n", what, skip ? "skipped (MF_ALLOW_SKIP=1)" : "cannot run the test");
    return skip ? MF_SKIP_EXIT : 2;
}

/* --------------------------------------------------------- publishing */

/* Events counted (e2e_events) and the time of each reconnection, for reconnect times. */
typedef struct watch {
    e2e_events ev;
    pthread_mutex_t mu;
    int64_t reconnected_at[256];
    int n;
} watch;

static void watch_init(watch *w)
{
    memset(w, 0, sizeof *w);
    e2e_events_init(&w->ev);
    pthread_mutex_init(&w->mu, NULL);
}

static void watch_free(watch *w)
{
    e2e_events_free(&w->ev);
    pthread_mutex_destroy(&w->mu);
}

static void watch_cb(mf_client *c, const mf_client_event *ev, void *ctx)
{
    watch *w = ctx;
    if (ev->type == MF_CLIENT_RECONNECTED) {
        pthread_mutex_lock(&w->mu);
        if (w->n < (int)(sizeof w->reconnected_at / sizeof *w->reconnected_at))
            w->reconnected_at[w->n++] = e2e_now_ms();
        pthread_mutex_unlock(&w->mu);
    }
    e2e_events_cb(c, ev, &w->ev);
}

/* The k-th reconnection's time (0-based), -1 when there was none. */
static int64_t watch_at(watch *w, int k)
{
    pthread_mutex_lock(&w->mu);
    int64_t t = k < w->n ? w->reconnected_at[k] : -1;
    pthread_mutex_unlock(&w->mu);
    return t;
}

/* The client's default reconnect policy (100 ms doubling to 5 s, jitter 100 ms), as an
 * application would have it; the e2e tests' fast one would flatter the reconnect times. */
static mf_client *connect_to(const char *const *urls, size_t n, watch *w, const char *name)
{
    mf_client_opts o, d;
    e2e_opts(&o, urls, n, NULL);
    mf_client_opts_init(&d);
    o.reconnect_wait_ms = d.reconnect_wait_ms;
    o.reconnect_wait_max_ms = d.reconnect_wait_max_ms;
    o.reconnect_jitter_ms = d.reconnect_jitter_ms;
    o.on_event = watch_cb;
    o.event_ctx = w;
    o.name = name;
    o.pending_limit = 64u << 20; /* buffer a whole outage */
    return e2e_connect(&o);
}

/* Publishes i to subject at `rate` per second (paced against the start). */
static void pace(int64_t t0, int i, int rate)
{
    if (rate <= 0)
        return;
    int64_t due = t0 + (int64_t)i * 1000 / rate;
    int64_t now = e2e_now_ms();
    if (due > now)
        e2e_sleep_ms((int)(due - now));
}

static bool publish_num(mf_client *c, const char *subject, int i)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%d", i);
    mf_status st;
    int64_t end = e2e_now_ms() + 30000;
    while ((st = mf_client_publish(c, subject, NULL, b, (size_t)n)) == MF_ERR_FULL && e2e_now_ms() < end)
        e2e_sleep_ms(5);
    return st == MF_OK;
}

/* ------------------------------------------------------ broker restart */

static int broker_restart(const opts *o)
{
    e2e_server s;
    e2e_kind kind = strcmp(o->server, "nats-server") == 0 ? E2E_NATS : E2E_BROKER;
    if (e2e_server_missing(kind))
        return missing_server(o->server);
    if (!e2e_server_start(&s, kind, 0)) {
        fprintf(stderr, "faults: cannot start %s\n", o->server);
        return 2;
    }
    watch pw, sw;
    watch_init(&pw);
    watch_init(&sw);
    int64_t restarted_at[64];
    const char *urls[] = {s.url};
    counter cnt;
    counter_init(&cnt, o->msgs);
    mf_client *sub = connect_to(urls, 1, &sw, "faults-sub"), *pub = connect_to(urls, 1, &pw, "faults-pub");
    if (!sub || !pub || mf_client_subscribe(sub, SUBJECT, NULL, on_msg, &cnt, NULL) != MF_OK ||
        mf_client_flush(sub, 5000) != MF_OK) {
        fprintf(stderr, "faults: clients did not connect\n");
        return 2;
    }
    int64_t t0 = e2e_now_ms(), outage_total = 0;
    int kills = 0;
    for (int i = 0; i < o->msgs; i++) {
        if (kills < o->kills && i == (int)((int64_t)o->msgs * (kills + 1) / (o->kills + 1))) {
            /* the previous restart is behind both clients before the next kill */
            if (kills && (!e2e_events_wait(&pw.ev, MF_CLIENT_RECONNECTED, kills, 30000) ||
                          !e2e_events_wait(&sw.ev, MF_CLIENT_RECONNECTED, kills, 30000))) {
                fprintf(stderr, "faults: the clients did not reconnect within 30 s\n");
                return 1;
            }
            int64_t k0 = e2e_now_ms();
            e2e_server_kill(&s); /* SIGKILL */
            e2e_sleep_ms(o->outage_ms);
            if (!e2e_server_restart(&s)) {
                fprintf(stderr, "faults: %s did not restart\n", o->server);
                return 2;
            }
            outage_total += e2e_now_ms() - k0;
            if (kills < 64)
                restarted_at[kills] = e2e_now_ms();
            kills++;
        }
        pace(t0, i, o->rate);
        if (!publish_num(pub, SUBJECT, i)) {
            fprintf(stderr, "faults: publish %d refused\n", i);
            return 2;
        }
    }
    mf_status fst = mf_client_flush(pub, 30000);
    counter_settle(&cnt, 3000, 60000);
    /* reconnect time: from the restart (the server accepting again) to the client's RECONNECTED */
    int64_t rec_max = 0, rec_sum = 0;
    int rec_n = 0;
    for (int k = 0; k < kills && k < 64; k++)
        for (int c = 0; c < 2; c++) {
            int64_t at = watch_at(c ? &sw : &pw, k);
            if (at < 0)
                continue;
            int64_t d = at - restarted_at[k];
            rec_sum += d;
            rec_n++;
            if (d > rec_max)
                rec_max = d;
        }
    mf_client_stats ps, ss;
    mf_client_stats_get(pub, &ps);
    mf_client_stats_get(sub, &ss);
    int runs, first;
    gaps(&cnt, &runs, &first);
    long lost = o->msgs - cnt.unique;
    printf("test=broker-restart server=%s msgs=%d kills=%d outage_ms_total=%lld delivered=%ld unique=%ld lost=%ld "
           "lost_pct=%.2f duplicated=%ld gaps=%d first_lost=%d pub_reconnects=%" PRIu64 " sub_reconnects=%" PRIu64
           " pub_dropped=%" PRIu64 " reconnect_ms_mean=%lld reconnect_ms_max=%lld flush=%s seconds=%.1f\n",
           o->server, o->msgs, kills, (long long)outage_total, (long)cnt.delivered, (long)cnt.unique, lost,
           100.0 * (double)lost / o->msgs, (long)cnt.dups, runs, first, ps.reconnects, ss.reconnects, ps.dropped_msgs,
           (long long)(rec_n ? rec_sum / rec_n : -1), (long long)rec_max, mf_status_str(fst), (double)(e2e_now_ms() - t0) / 1000.0);
    fflush(stdout);
    int rc = cnt.dups || cnt.bad || ps.reconnects < (uint64_t)kills || ss.reconnects < (uint64_t)kills ||
             (o->max_lost >= 0 && lost > o->max_lost);
    mf_client_destroy(pub);
    mf_client_destroy(sub);
    e2e_server_cleanup(&s);
    counter_free(&cnt);
    watch_free(&pw);
    watch_free(&sw);
    return rc;
}

/* ------------------------------------------------------------ cluster */

typedef struct cluster {
    e2e_nats node[3];
    const char *urls[3];
    bool jetstream;
} cluster;

static bool cluster_start(cluster *cl, bool jetstream)
{
    memset(cl, 0, sizeof *cl);
    cl->jetstream = jetstream;
    for (int i = 0; i < 3; i++) {
        cl->node[i].ws_port = e2e_free_port();
        cl->node[i].cluster_port = e2e_free_port();
        if (!e2e_mkdtemp(cl->node[i].dir, sizeof cl->node[i].dir))
            return false;
    }
    for (int i = 0; i < 3; i++) {
        char extra[2048];
        int off = snprintf(extra, sizeof extra,
                           "server_name: n%d\ncluster {\n  name: mfc\n  listen: \"127.0.0.1:%d\"\n  routes: [", i + 1,
                           cl->node[i].cluster_port);
        for (int j = 0; j < 3; j++)
            if (j != i)
                off += snprintf(extra + off, sizeof extra - (size_t)off, "\n    \"nats://127.0.0.1:%d\"",
                                cl->node[j].cluster_port);
        off += snprintf(extra + off, sizeof extra - (size_t)off, "\n  ]\n}\n");
        if (jetstream)
            snprintf(extra + off, sizeof extra - (size_t)off,
                     "jetstream {\n  store_dir: \"%s/js\"\n  max_memory_store: 64MB\n  max_file_store: 512MB\n}\n",
                     cl->node[i].dir);
        if (!e2e_nats_start(&cl->node[i], extra))
            return false;
        cl->urls[i] = cl->node[i].url;
    }
    return true;
}

static void rmtree(const char *dir)
{
    if (getenv("MF_E2E_KEEP")) {
        fprintf(stderr, "faults: kept %s\n", dir);
        return;
    }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "faults: could not remove %s\n", dir);
}

static void cluster_stop(cluster *cl)
{
    for (int i = 0; i < 3; i++) {
        e2e_nats_stop(&cl->node[i], SIGKILL);
        if (cl->node[i].dir[0])
            rmtree(cl->node[i].dir);
    }
}

typedef struct killer {
    cluster *cl;
    int every_ms, down_ms, max_kills; /* max_kills 0: no limit */
    atomic_bool stop, idle, quit;
    atomic_int kills, failed_restarts;
    pthread_t th;
} killer;

/*
 * Every every_ms: SIGKILL a node (round robin), leave it down down_ms, restart it (same store).
 * After stop it sets idle and stays alive until quit: the nodes it restarted are its
 * children with PR_SET_PDEATHSIG (e2e_spawn), a signal sent when the forking THREAD ends,
 * so this thread must outlive the cluster.
 */
static void *killer_main(void *arg)
{
    killer *k = arg;
    int next = 0;
    while (!k->stop && (k->max_kills == 0 || k->kills < k->max_kills)) {
        int64_t until = e2e_now_ms() + k->every_ms;
        while (!k->stop && e2e_now_ms() < until)
            e2e_sleep_ms(20);
        if (k->stop)
            break;
        e2e_nats *n = &k->cl->node[next];
        next = (next + 1) % 3;
        e2e_nats_stop(n, SIGKILL);
        k->kills++;
        e2e_sleep_ms(k->down_ms);
        if (!e2e_nats_restart(n))
            k->failed_restarts++;
    }
    k->idle = true;
    while (!k->quit)
        e2e_sleep_ms(20);
    return NULL;
}

/* A JetStream API request, retried while the cluster has no leader for it (503, timeouts). */
static cJSON *js_api(mf_client *c, const char *subject, const char *body, int max_ms, char *why, size_t cap)
{
    int64_t end = e2e_now_ms() + max_ms;
    snprintf(why, cap, "no answer");
    while (e2e_now_ms() < end) {
        mf_msg_owned *r = NULL;
        mf_status st = mf_client_request(c, subject, body, strlen(body), 3000, &r);
        if (st == MF_OK && r->msg.len) {
            cJSON *j = cJSON_ParseWithLength(r->msg.data, r->msg.len);
            cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
            if (j && !e) {
                mf_msg_owned_free(r);
                return j;
            }
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "description");
            snprintf(why, cap, "%s", cJSON_IsString(d) ? d->valuestring : "not JSON");
            cJSON_Delete(j);
        } else {
            snprintf(why, cap, "%s", st == MF_OK ? "empty answer" : mf_status_str(st));
        }
        mf_msg_owned_free(r);
        e2e_sleep_ms(250);
    }
    return NULL;
}

static bool js_create_streams(mf_client *c)
{
    static const char *const streams[][2] = {{"NOTIFY", "notification.>"}, {"CAMPAIGN", "campaign.>"}};
    char why[200];
    cJSON *info = js_api(c, "$JS.API.INFO", "", 60000, why, sizeof why);
    if (!info) {
        fprintf(stderr, "faults: JetStream not ready: %s\n", why);
        return false;
    }
    cJSON_Delete(info);
    for (size_t i = 0; i < 2; i++) {
        char subj[128], body[512];
        snprintf(subj, sizeof subj, "$JS.API.STREAM.CREATE.%s", streams[i][0]);
        snprintf(body, sizeof body,
                 "{\"name\":\"%s\",\"subjects\":[\"%s\"],\"num_replicas\":3,\"storage\":\"file\","
                 "\"duplicate_window\":120000000000}",
                 streams[i][0], streams[i][1]);
        cJSON *r = js_api(c, subj, body, 60000, why, sizeof why);
        if (!r) {
            fprintf(stderr, "faults: cannot create stream %s: %s\n", streams[i][0], why);
            return false;
        }
        cJSON_Delete(r);
    }
    return true;
}

/* Publishes 0..n-1 to the NOTIFY stream in batches, each waited for (acks), a batch sent
 * again when the wait failed. */
static bool js_publish_all(mf_client *c, const opts *o, svc_js_stats *stats, int *batch_retries)
{
    svc_js *js;
    mf_error err;
    if (svc_js_open(c, 2000, &js, &err) != MF_OK) {
        fprintf(stderr, "faults: %s\n", err.message);
        return false;
    }
    enum { BATCH = 250 };
    int64_t t0 = e2e_now_ms();
    *batch_retries = 0;
    bool ok = true;
    for (int b = 0; b < o->msgs && ok; b += BATCH) {
        int n = o->msgs - b < BATCH ? o->msgs - b : BATCH;
        for (int attempt = 0;; attempt++) {
            bool sent = true;
            for (int i = b; i < b + n && sent; i++) {
                char data[24], id[32];
                pace(t0, i, o->rate);
                int len = snprintf(data, sizeof data, "%d", i);
                snprintf(id, sizeof id, "faults-%d", i);
                sent = svc_js_publish(js, JS_SUBJECT, id, data, (size_t)len, &err) == MF_OK;
            }
            if (sent && svc_js_wait(js, 15000, &err) == MF_OK)
                break;
            if (!sent)
                svc_js_wait(js, 1, &err); /* drop the partial batch; it is sent again whole */
            (*batch_retries)++;
            fprintf(stderr, "faults: batch at %d again (%s)\n", b, err.message);
            if (attempt >= 20) {
                ok = false;
                break;
            }
        }
    }
    svc_js_stats_get(js, stats);
    svc_js_close(js, true);
    return ok;
}

typedef struct pull_ctx {
    counter *cnt;
    atomic_long got;
    atomic_long last_stream_seq;
    atomic_int status;   /* last status answer (404: no more messages, 408: expired) */
} pull_ctx;

static void on_pulled(mf_client *c, const mf_msg *m, void *ctx)
{
    pull_ctx *p = ctx;
    if (m->status) {
        p->status = m->status;
        return;
    }
    counter_add(p->cnt, m->data, m->len);
    p->got++;
    if (m->reply)
        mf_client_respond(c, m, "+ACK", 4);
}

/*
 * Waits (60 s at most) until the NOTIFY stream has a leader other than `old` ("" for any) and
 * both other replicas are current; its name into leader. False when that did not happen.
 */
static bool js_settled_leader(mf_client *c, const char *old, char *leader, size_t cap)
{
    int64_t end = e2e_now_ms() + 60000;
    char why[200];
    while (e2e_now_ms() < end) {
        cJSON *info = js_api(c, "$JS.API.STREAM.INFO.NOTIFY", "", 15000, why, sizeof why);
        const cJSON *cl = cJSON_GetObjectItemCaseSensitive(info, "cluster");
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(cl, "leader");
        const cJSON *reps = cJSON_GetObjectItemCaseSensitive(cl, "replicas"), *r;
        bool ok = cJSON_IsString(l) && strcmp(l->valuestring, old) != 0 && cJSON_GetArraySize(reps) == 2;
        cJSON_ArrayForEach(r, reps)
            ok = ok && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "current"));
        if (ok)
            snprintf(leader, cap, "%s", l->valuestring);
        cJSON_Delete(info);
        if (ok)
            return true;
        e2e_sleep_ms(250);
    }
    fprintf(stderr, "faults: the NOTIFY stream has no settled leader after 60 s (%s)\n", why);
    return false;
}

/* Reads the NOTIFY stream's faults messages through a new durable pull consumer (named durable);
 * counts them. */
static bool js_read_all(mf_client *c, const char *durable, counter *cnt, long *stream_msgs)
{
    char why[200], subj[128], body[512];
    cJSON *info = js_api(c, "$JS.API.STREAM.INFO.NOTIFY", "", 60000, why, sizeof why);
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(info, "state");
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(state, "messages");
    *stream_msgs = cJSON_IsNumber(msgs) ? (long)msgs->valuedouble : -1;
    cJSON_Delete(info);
    snprintf(subj, sizeof subj, "$JS.API.CONSUMER.DURABLE.CREATE.NOTIFY.%s", durable);
    snprintf(body, sizeof body,
             "{\"stream_name\":\"NOTIFY\",\"config\":{\"durable_name\":\"%s\",\"ack_policy\":"
             "\"explicit\",\"deliver_policy\":\"all\",\"filter_subject\":\"" JS_SUBJECT
             "\",\"max_ack_pending\":20000}}",
             durable);
    cJSON *r = js_api(c, subj, body, 60000, why, sizeof why);
    if (!r) {
        fprintf(stderr, "faults: cannot create the consumer: %s\n", why);
        return false;
    }
    cJSON_Delete(r);
    pull_ctx p = {.cnt = cnt};
    char inbox[64];
    /* an inbox per read: a late delivery to an earlier read's inbox is not counted */
    snprintf(inbox, sizeof inbox, "_INBOX.faults%d.%s", (int)getpid(), durable);
    uint64_t sid;
    if (mf_client_subscribe(c, inbox, NULL, on_pulled, &p, &sid) != MF_OK || mf_client_flush(c, 5000) != MF_OK)
        return false;
    int64_t end = e2e_now_ms() + 120000;
    while (p.got < *stream_msgs && e2e_now_ms() < end) {
        long before = p.got;
        const char *req = "{\"batch\":1000,\"expires\":2000000000}";
        snprintf(subj, sizeof subj, "$JS.API.CONSUMER.MSG.NEXT.NOTIFY.%s", durable);
        mf_client_publish(c, subj, inbox, req, strlen(req));
        int64_t w = e2e_now_ms() + 3000;
        while (p.got < before + 1000 && p.got < *stream_msgs && e2e_now_ms() < w)
            e2e_sleep_ms(20);
    }
    mf_client_flush(c, 5000);
    mf_client_unsubscribe(c, sid, 0);
    return p.got >= *stream_msgs;
}

static int cluster_run(const opts *o)
{
    cluster cl;
    if (e2e_server_missing(E2E_NATS))
        return missing_server("nats-server");
    if (!cluster_start(&cl, o->jetstream)) {
        fprintf(stderr, "faults: cannot start the nats-server cluster\n");
        cluster_stop(&cl);
        return 2;
    }
    const char *sub_urls[] = {cl.urls[0], cl.urls[1], cl.urls[2]};
    const char *pub_urls[] = {cl.urls[1], cl.urls[2], cl.urls[0]};
    counter core, stored;
    counter_init(&core, o->msgs);
    counter_init(&stored, o->msgs);
    watch pw, sw;
    watch_init(&pw);
    watch_init(&sw);
    mf_client *sub = connect_to(sub_urls, 3, &sw, "faults-sub"), *pub = connect_to(pub_urls, 3, &pw, "faults-pub");
    const char *subject = o->jetstream ? JS_SUBJECT : SUBJECT;
    if (!sub || !pub || mf_client_subscribe(sub, subject, NULL, on_msg, &core, NULL) != MF_OK ||
        mf_client_flush(sub, 5000) != MF_OK) {
        fprintf(stderr, "faults: clients did not connect\n");
        cluster_stop(&cl);
        return 2;
    }
    if (o->jetstream && !js_create_streams(pub)) {
        cluster_stop(&cl);
        return 2;
    }
    /* interest crosses the routes before the count starts */
    e2e_col probe;
    e2e_col_init(&probe);
    mf_client_subscribe(sub, "faults.probe", NULL, e2e_col_cb, &probe, NULL);
    mf_client_flush(sub, 5000);
    e2e_wait_interest(pub, "faults.probe", &probe, 15000);
    killer k = {.cl = &cl, .every_ms = o->kill_every_ms, .down_ms = o->outage_ms, .max_kills = o->max_kills};
    pthread_create(&k.th, NULL, killer_main, &k);
    int64_t t0 = e2e_now_ms();
    svc_js_stats js = {0};
    int batch_retries = 0;
    bool pub_ok = true;
    if (o->jetstream) {
        pub_ok = js_publish_all(pub, o, &js, &batch_retries);
    } else {
        for (int i = 0; i < o->msgs && pub_ok; i++) {
            pace(t0, i, o->rate);
            pub_ok = publish_num(pub, SUBJECT, i);
        }
    }
    double pub_s = (double)(e2e_now_ms() - t0) / 1000.0;
    k.stop = true;
    while (!k.idle) /* the last node killed is up again */
        e2e_sleep_ms(20);
    mf_client_flush(pub, 30000);
    counter_settle(&core, 3000, 60000);
    long stream_msgs = -1;
    bool read_ok = true;
    int pub_requests_ok = -1, stream_reads = 0;
    if (o->jetstream) {
        /* does the publisher, after its reconnects, still get answers to requests? */
        char why[200];
        cJSON *info = js_api(pub, "$JS.API.INFO", "", 15000, why, sizeof why);
        pub_requests_ok = info != NULL;
        if (!info)
            fprintf(stderr, "faults: the publisher's requests get no answer after its reconnects: %s\n", why);
        cJSON_Delete(info);
        /* the stream is read by a fresh client, from a leader whose replicas are current.
         * nats-server 2.9's replicas can drift after SIGKILLs (seen in
         * faults.services.cluster_jetstream: a restarted replica held entries twice and lacked
         * acknowledged ones, and answered as leader); an acknowledged message is on a majority of
         * the replicas, so a short read is read again from the next leader, up to 5 leaders. A
         * message lost is on none and fails every read. */
        watch rw;
        watch_init(&rw);
        mf_client *rd = connect_to(cl.urls, 3, &rw, "faults-read");
        char leader[64] = "";
        read_ok = false;
        for (int i = 0; rd && i < 5 && !read_ok; i++) {
            char durable[32];
            snprintf(durable, sizeof durable, "counter%d", i);
            if (!js_settled_leader(rd, leader, leader, sizeof leader))
                break;
            counter_free(&stored);
            counter_init(&stored, o->msgs);
            stream_reads++;
            read_ok = js_read_all(rd, durable, &stored, &stream_msgs) && stored.unique == o->msgs && !stored.dups &&
                      stream_msgs == o->msgs;
            fprintf(stderr, "faults: the stream read from leader %s: %ld messages, %ld unique, %ld twice, %s\n",
                    leader, stream_msgs, (long)stored.unique, (long)stored.dups, read_ok ? "exact" : "short");
            if (!read_ok)
                cJSON_Delete(js_api(rd, "$JS.API.STREAM.LEADER.STEPDOWN.NOTIFY", "", 15000, why, sizeof why));
        }
        mf_client_destroy(rd);
        watch_free(&rw);
    }
    int runs, first;
    gaps(&core, &runs, &first);
    mf_client_stats ps, ss;
    mf_client_stats_get(pub, &ps);
    mf_client_stats_get(sub, &ss);
    long lost = o->msgs - core.unique;
    printf("test=cluster%s msgs=%d kills=%d kill_every_ms=%d down_ms=%d publish_seconds=%.1f core_delivered=%ld "
           "core_unique=%ld core_lost=%ld core_lost_pct=%.2f core_duplicated=%ld core_gaps=%d pub_reconnects=%" PRIu64
           " sub_reconnects=%" PRIu64 " pub_dropped=%" PRIu64 " failed_restarts=%d",
           o->jetstream ? "-jetstream" : "", o->msgs, (int)k.kills, o->kill_every_ms, o->outage_ms, pub_s,
           (long)core.delivered, (long)core.unique, lost, 100.0 * (double)lost / o->msgs, (long)core.dups, runs,
           ps.reconnects, ss.reconnects, ps.dropped_msgs, (int)k.failed_restarts);
    /* with JetStream, a publish sent again (no ack in time) reaches core subscribers again:
     * duplicates there are expected, only the stream must hold each message once */
    int rc = !pub_ok || (core.dups && !o->jetstream) || core.bad || k.failed_restarts || k.kills < o->min_kills ||
             (o->max_lost >= 0 && lost > o->max_lost);
    if (o->jetstream) {
        long s_lost = o->msgs - stored.unique;
        printf(" pub_requests_ok=%d js_acked=%" PRIu64 " js_duplicate_acks=%" PRIu64 " js_resent=%" PRIu64 " js_error_answers=%" PRIu64
               " js_batch_retries=%d stream_reads=%d stream_msgs=%ld stream_read=%ld stream_unique=%ld stream_lost=%ld "
               "stream_duplicated=%ld",
               pub_requests_ok, js.published, js.duplicates, js.resent, js.errors, batch_retries, stream_reads, stream_msgs,
               (long)stored.delivered,
               (long)stored.unique, s_lost, (long)stored.dups);
        rc |= !read_ok || s_lost != 0 || stored.dups != 0 || stream_msgs != o->msgs;
    }
    printf("\n");
    fflush(stdout);
    mf_client_destroy(pub);
    mf_client_destroy(sub);
    cluster_stop(&cl);
    k.quit = true;
    pthread_join(k.th, NULL);
    e2e_col_free(&probe);
    watch_free(&pw);
    watch_free(&sw);
    counter_free(&core);
    counter_free(&stored);
    return rc;
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
    fprintf(f, "usage: faults broker-restart [--server mf-broker|nats-server] [--msgs N] [--kills K] [--rate R]\n"
               "                             [--outage-ms MS] [--max-lost N]\n"
               "       faults cluster [--msgs N] [--kill-every-ms MS] [--outage-ms MS] [--rate R] [--jetstream]\n"
               "                      [--max-lost N] [--min-kills K] [--max-kills K]\n");
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    opts o = {.server = "mf-broker", .msgs = 30000, .kills = 3, .rate = 2000, .kill_every_ms = 3000,
              .outage_ms = 1000, .max_lost = -1};
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    o.mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--jetstream")) {
            o.jetstream = true;
            continue;
        }
        if (!v) {
            usage(stderr);
            return 2;
        }
        i++;
        if (!strcmp(a, "--server"))
            o.server = v;
        else if (!strcmp(a, "--msgs"))
            o.msgs = atoi(v);
        else if (!strcmp(a, "--kills"))
            o.kills = atoi(v);
        else if (!strcmp(a, "--rate"))
            o.rate = atoi(v);
        else if (!strcmp(a, "--kill-every-ms"))
            o.kill_every_ms = atoi(v);
        else if (!strcmp(a, "--outage-ms"))
            o.outage_ms = atoi(v);
        else if (!strcmp(a, "--max-kills"))
            o.max_kills = atoi(v);
        else if (!strcmp(a, "--min-kills"))
            o.min_kills = atoi(v);
        else if (!strcmp(a, "--max-lost"))
            o.max_lost = atol(v);
        else {
            usage(stderr);
            return 2;
        }
    }
    if (o.msgs <= 0 || o.kills < 0 || o.kill_every_ms < 100 || o.outage_ms < 0) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(o.mode, "broker-restart"))
        return broker_restart(&o);
    if (!strcmp(o.mode, "cluster"))
        return cluster_run(&o);
    usage(stderr);
    return 2;
}
