/*
 * cpeer - a tiny command-line peer on mflow's C client (mf_client), driven by
 * the interoperability tests (tests/interop/cross_client.test.mjs) against a
 * third-party client (nats.ws) through mf-broker or nats-server.
 *
 *   cpeer URL sub   SUBJECT N            print each payload on its own line; exit 0 after N
 *   cpeer URL pub   SUBJECT N PAYLOAD    publish PAYLOAD N times, flush, exit 0
 *   cpeer URL reply SUBJECT N            answer requests with "re:" + payload; exit 0 after N
 *   cpeer URL req   SUBJECT PAYLOAD TIMEOUT_MS
 *                                        print the reply's payload (exit 0) or the error
 *                                        name, e.g. "no responders", "timeout" (exit 1)
 *
 * PAYLOAD: "{i}" in it is replaced by the message's index (0..N-1); "@size:LEN"
 * is LEN bytes 'a'..'z' repeated (byte k = 'a' + k % 26), for payloads too large
 * for a command line.
 *
 * Environment:
 *   CPEER_TIMEOUT_MS   overall deadline (default 10000); exit 3 when it passes
 *   CPEER_HEADER       "Name: value": pub publishes with it (HPUB), reply answers with it
 *   CPEER_SHOW_HEADER  a header name: sub/reply/req print "payload|value" ("-" when
 *                      absent); without CPEER_HEADER, reply answers with that header
 *                      and the request's value of it (an echo)
 *   CPEER_QUEUE        queue group for sub/reply
 *   CPEER_TOKEN        auth token for CONNECT
 *   CPEER_NO_HEADERS   "1": CONNECT with headers and no_responders false
 *
 * stdout carries only the payload lines (or the reply / error name of req);
 * "cpeer: ready" goes to stderr once a sub/reply subscription is registered at
 * the server (subscribe + flush), and diagnostics go to stderr too.
 *
 * Exit codes: 0 done, 1 request/publish error, 2 usage, 3 connect failure or deadline.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mf/client.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long count;          /* messages handled */
static long target;         /* N */
static int fail_status;     /* sub/reply: a respond/print error */
static const char *show_header;
static char hdr_name[256], hdr_value[1024];
static int have_header;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t deadline;

static int remaining_ms(void)
{
    int64_t r = deadline - now_ms();
    return r > 0 ? (int)r : 0;
}

static void on_event(mf_client *c, const mf_client_event *ev, void *ctx)
{
    (void)c;
    (void)ctx;
    switch (ev->type) {
    case MF_CLIENT_ERROR:
        fprintf(stderr, "cpeer: event ERROR %s: %s\n", mf_status_str(ev->status), ev->text);
        break;
    case MF_CLIENT_DISCONNECTED:
        fprintf(stderr, "cpeer: event DISCONNECTED %s\n", ev->url);
        break;
    case MF_CLIENT_CLOSED:
        if (ev->status != MF_OK)
            fprintf(stderr, "cpeer: event CLOSED %s\n", mf_status_str(ev->status));
        break;
    default:
        break;
    }
}

/* Prints one payload line (and the shown header) in one write, under the lock. */
static void print_payload(const mf_msg *m)
{
    if (show_header) {
        size_t hl = 0;
        const char *hv = mf_msg_header(m, show_header, &hl);
        fwrite(m->data, 1, m->len, stdout);
        fputc('|', stdout);
        if (hv)
            fwrite(hv, 1, hl, stdout);
        else
            fputc('-', stdout);
        fputc('\n', stdout);
    } else {
        fwrite(m->data, 1, m->len, stdout);
        fputc('\n', stdout);
    }
    fflush(stdout);
}

static void on_sub(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)c;
    (void)ctx;
    pthread_mutex_lock(&mu);
    if (count < target) {
        print_payload(m);
        if (++count >= target)
            pthread_cond_broadcast(&cv);
    }
    pthread_mutex_unlock(&mu);
}

static void on_request(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&mu);
    if (count >= target) {
        pthread_mutex_unlock(&mu);
        return;
    }
    print_payload(m);
    pthread_mutex_unlock(&mu);

    mf_status st;
    char *buf = malloc(m->len + 3);
    if (!buf) {
        st = MF_ERR_NOMEM;
    } else {
        memcpy(buf, "re:", 3);
        memcpy(buf + 3, m->data, m->len);
        if (!m->reply) {
            st = MF_ERR_INVALID_ARG;
            fprintf(stderr, "cpeer: a message without reply subject on the reply subscription\n");
        } else if (have_header || show_header) {
            /* echo a header back: the configured one, or the shown one's value */
            mf_header h;
            char val[1024];
            if (have_header) {
                h.name = hdr_name;
                h.value = hdr_value;
            } else {
                size_t hl = 0;
                const char *hv = mf_msg_header(m, show_header, &hl);
                if (!hv || hl >= sizeof val)
                    hl = 0;
                if (hv)
                    memcpy(val, hv, hl);
                val[hl] = '\0';
                h.name = show_header;
                h.value = val;
            }
            st = mf_client_publish_hdrs(c, m->reply, NULL, &h, 1, buf, m->len + 3);
        } else {
            st = mf_client_respond(c, m, buf, m->len + 3);
        }
        free(buf);
    }
    pthread_mutex_lock(&mu);
    if (st != MF_OK) {
        fprintf(stderr, "cpeer: respond: %s\n", mf_status_str(st));
        fail_status = 1;
    }
    if (++count >= target)
        pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* Waits until count >= target or the deadline. */
static int wait_count(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ms = remaining_ms();
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&mu);
    int rc = 0;
    while (count < target && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&cv, &mu, &ts);
    int ok = count >= target;
    long got = count;
    pthread_mutex_unlock(&mu);
    if (!ok)
        fprintf(stderr, "cpeer: deadline: %ld of %ld messages\n", got, target);
    return ok;
}

/* PAYLOAD expansion: "@size:LEN" or a template with "{i}". */
static char *make_payload(const char *tpl, long i, size_t *len)
{
    if (strncmp(tpl, "@size:", 6) == 0) {
        char *end;
        unsigned long n = strtoul(tpl + 6, &end, 10);
        if (*end || n > (64ul << 20))
            return NULL;
        char *b = malloc(n ? n : 1);
        if (!b)
            return NULL;
        for (unsigned long k = 0; k < n; k++)
            b[k] = (char)('a' + k % 26);
        *len = n;
        return b;
    }
    char num[32];
    int nl = snprintf(num, sizeof num, "%ld", i);
    size_t tl = strlen(tpl), cap = tl + 1, occ = 0;
    for (const char *p = strstr(tpl, "{i}"); p; p = strstr(p + 3, "{i}"))
        occ++;
    cap += occ * (size_t)nl;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    size_t o = 0;
    for (const char *p = tpl; *p;) {
        if (strncmp(p, "{i}", 3) == 0) {
            memcpy(b + o, num, (size_t)nl);
            o += (size_t)nl;
            p += 3;
        } else {
            b[o++] = *p++;
        }
    }
    b[o] = '\0';
    *len = o;
    return b;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: cpeer URL sub SUBJECT N\n"
            "       cpeer URL pub SUBJECT N PAYLOAD\n"
            "       cpeer URL reply SUBJECT N\n"
            "       cpeer URL req SUBJECT PAYLOAD TIMEOUT_MS\n");
    return 2;
}

static long parse_long(const char *s, long min)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < min)
        return -1;
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return usage();
    const char *url = argv[1], *cmd = argv[2], *subject = argv[3];
    int is_sub = !strcmp(cmd, "sub"), is_pub = !strcmp(cmd, "pub");
    int is_reply = !strcmp(cmd, "reply"), is_req = !strcmp(cmd, "req");
    if ((is_sub || is_reply) && argc != 5)
        return usage();
    if ((is_pub || is_req) && argc != 6)
        return usage();
    if (!is_sub && !is_pub && !is_reply && !is_req)
        return usage();

    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    long total_ms = 10000;
    const char *e = getenv("CPEER_TIMEOUT_MS");
    if (e && (total_ms = parse_long(e, 1)) < 0)
        return usage();
    deadline = now_ms() + total_ms;
    show_header = getenv("CPEER_SHOW_HEADER");
    if (show_header && !*show_header)
        show_header = NULL;
    const char *queue = getenv("CPEER_QUEUE");
    if (queue && !*queue)
        queue = NULL;
    const char *hdr = getenv("CPEER_HEADER");
    if (hdr && *hdr) {
        const char *colon = strchr(hdr, ':');
        if (!colon || colon == hdr || (size_t)(colon - hdr) >= sizeof hdr_name)
            return usage();
        memcpy(hdr_name, hdr, (size_t)(colon - hdr));
        hdr_name[colon - hdr] = '\0';
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        snprintf(hdr_value, sizeof hdr_value, "%s", v);
        have_header = 1;
    }

    mf_client_opts o;
    mf_client_opts_init(&o);
    const char *servers[] = {url};
    o.servers = servers;
    o.n_servers = 1;
    o.name = "interop-cpeer";
    o.reconnect = false;
    o.connect_timeout_ms = 3000;
    o.on_event = on_event;
    const char *noh = getenv("CPEER_NO_HEADERS");
    if (noh && !strcmp(noh, "1")) {
        o.headers = false;
        o.no_responders = false;
    }
    const char *token = getenv("CPEER_TOKEN");
    if (token && *token)
        o.token = token;
    const char *ca = getenv("CPEER_TLS_CA"); /* wss://: the PEM file to trust */
    if (ca && *ca)
        o.tls_ca_file = ca;

    mf_client *c = NULL;
    mf_error err;
    mf_status st = mf_client_create(&o, &c, &err);
    if (st) {
        fprintf(stderr, "cpeer: create: %s: %s\n", mf_status_str(st), err.message);
        return 3;
    }
    st = mf_client_wait_connected(c, remaining_ms());
    if (st) {
        fprintf(stderr, "cpeer: connect to %s: %s\n", url, mf_status_str(st));
        mf_client_destroy(c);
        return 3;
    }

    int rc = 0;
    if (is_sub || is_reply) {
        if ((target = parse_long(argv[4], 1)) < 0) {
            mf_client_destroy(c);
            return usage();
        }
        uint64_t sid = 0;
        st = mf_client_subscribe(c, subject, queue, is_sub ? on_sub : on_request, NULL, &sid);
        if (st == MF_OK && is_sub)
            st = mf_client_unsubscribe(c, sid, (uint64_t)target); /* UNSUB sid N: the server stops after N */
        if (st == MF_OK)
            st = mf_client_flush(c, remaining_ms());
        if (st) {
            fprintf(stderr, "cpeer: subscribe %s: %s\n", subject, mf_status_str(st));
            rc = 3;
        } else {
            fprintf(stderr, "cpeer: ready\n");
            if (!wait_count())
                rc = 3;
            else if (is_reply && mf_client_flush(c, remaining_ms()) != MF_OK) /* replies sent */
                rc = 3;
            pthread_mutex_lock(&mu);
            if (fail_status && rc == 0)
                rc = 1;
            pthread_mutex_unlock(&mu);
        }
    } else if (is_pub) {
        long n = parse_long(argv[4], 0);
        if (n < 0) {
            mf_client_destroy(c);
            return usage();
        }
        for (long i = 0; i < n && rc == 0; i++) {
            size_t len = 0;
            char *p = make_payload(argv[5], i, &len);
            if (!p) {
                fprintf(stderr, "cpeer: bad payload %s\n", argv[5]);
                rc = 2;
                break;
            }
            if (have_header) {
                mf_header h = {hdr_name, hdr_value};
                st = mf_client_publish_hdrs(c, subject, NULL, &h, 1, p, len);
            } else {
                st = mf_client_publish(c, subject, NULL, p, len);
            }
            free(p);
            if (st) {
                printf("%s\n", mf_status_str(st));
                fprintf(stderr, "cpeer: publish %ld: %s\n", i, mf_status_str(st));
                rc = 1;
            }
        }
        if (rc == 0 && (st = mf_client_flush(c, remaining_ms())) != MF_OK) {
            fprintf(stderr, "cpeer: flush: %s\n", mf_status_str(st));
            rc = 3;
        }
    } else { /* req */
        long tmo = parse_long(argv[5], 1);
        if (tmo < 0) {
            mf_client_destroy(c);
            return usage();
        }
        size_t len = 0;
        char *p = make_payload(argv[4], 0, &len);
        if (!p) {
            mf_client_destroy(c);
            return usage();
        }
        mf_msg_owned *reply = NULL;
        if (have_header) {
            /* a request with a header: subscribe to a private inbox, HPUB with it as reply */
            fprintf(stderr, "cpeer: CPEER_HEADER is not supported with req\n");
            free(p);
            mf_client_destroy(c);
            return usage();
        }
        st = mf_client_request(c, subject, p, len, (int)tmo, &reply);
        free(p);
        if (st == MF_OK) {
            if (show_header) {
                print_payload(&reply->msg);
            } else {
                fwrite(reply->msg.data, 1, reply->msg.len, stdout);
                fputc('\n', stdout);
            }
            mf_msg_owned_free(reply);
        } else {
            printf("%s\n", mf_status_str(st));
            rc = 1;
        }
    }
    fflush(stdout);
    mf_client_destroy(c);
    return rc;
}
