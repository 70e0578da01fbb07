/*
 * client.c - the mf_client object: create/destroy, publish, flush, drain,
 * waiting, statistics, events and logging. The connection itself lives in
 * conn.c (service thread), subscriptions in sub.c, requests in request.c.
 */
#define _GNU_SOURCE /* PTHREAD_MUTEX_ADAPTIVE_NP */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "client/client_int.h"

int64_t mf_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void mf_deadline_after(struct timespec *ts, int64_t us)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(us / 1000000);
    ts->tv_nsec += (long)(us % 1000000) * 1000;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* The deadline of a public call's timeout_ms (< 0: none, the wait is forever). */
static void deadline_ms(struct timespec *ts, int timeout_ms)
{
    mf_deadline_after(ts, timeout_ms < 0 ? 0 : (int64_t)timeout_ms * 1000);
}

uint64_t mf_xorshift64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Waits on cv until *flag-like predicate is checked by the caller; returns false on timeout. */
static bool wait_until(mf_client *c, const struct timespec *ts, bool forever)
{
    mf_client_cork_release_locked(c);
    if (forever) {
        pthread_cond_wait(&c->cv, &c->mu);
        return true;
    }
    return pthread_cond_timedwait(&c->cv, &c->mu, ts) != ETIMEDOUT;
}

bool mf_client_on_service_thread(const mf_client *c)
{
    return c && c->thread_started && pthread_equal(pthread_self(), c->thread);
}

/* ------------------------------------------------------------- logging */

void mf_client_log(mf_client *c, mf_log_level lvl, const char *fmt, ...)
{
    if (lvl > c->o.log_level || lvl == MF_LOG_NONE)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (c->o.on_log) {
        c->o.on_log(lvl, line, c->o.log_ctx);
        return;
    }
    static const char *names[] = {"", "error", "warn", "info", "debug"};
    fprintf(stderr, "mf_client%s%s: %s: %s\n", c->name ? " " : "", c->name ? c->name : "", names[lvl], line);
}

void mf_client_emit(mf_client *c, mf_client_event_type type, mf_status st, const char *text, uint64_t msgs,
                    uint64_t bytes, const char *url)
{
    if (!c->o.on_event)
        return;
    mf_client_event ev;
    ev.type = type;
    ev.status = st;
    ev.text = text ? text : "";
    ev.url = url ? url : "";
    ev.msgs = msgs;
    ev.bytes = bytes;
    c->o.on_event(c, &ev, c->o.event_ctx);
}

/* A cork tells the service thread anyway once this much is waiting: a quarter of a frame, so that
 * a long burst (a batch's requests) starts leaving while it is still being written, in writes
 * of some hundred messages, not one wake-up each. */
#define CORK_BYTES(c) ((c)->o.frame_size / 4)

/* The client this thread corks (mf_client_cork), NULL for none. */
static _Thread_local mf_client *corked;

static void wake_now_locked(mf_client *c, bool data_only);

void mf_client_wake_locked(mf_client *c)
{
    bool data_only = !c->dropped_event_pending && !c->req_timer_dirty && mf_client_life(c) < MF_LIFE_CLOSE_ASKED &&
                     !c->destroy_req;
    if (corked == c && data_only && mf_replayq_pending(&c->q) < CORK_BYTES(c)) {
        c->cork_held = true; /* mf_client_uncork or a wait tells the service thread */
        return;
    }
    c->cork_held = false;
    wake_now_locked(c, data_only);
}

void mf_client_cork_release_locked(mf_client *c)
{
    if (corked == c && c->cork_held) {
        c->cork_held = false;
        wake_now_locked(c, true);
    }
}

mf_status mf_client_cork(mf_client *c)
{
    if (!c || corked || mf_client_on_service_thread(c))
        return MF_ERR_INVALID_ARG;
    corked = c;
    return MF_OK;
}

void mf_client_uncork(mf_client *c)
{
    if (!c || corked != c)
        return;
    pthread_mutex_lock(&c->mu);
    mf_client_cork_release_locked(c);
    corked = NULL;
    pthread_mutex_unlock(&c->mu);
}

static void wake_now_locked(mf_client *c, bool data_only)
{
    if (mf_client_on_service_thread(c)) {
        /* inside one of our callbacks: ask for WRITEABLE directly, skip the cancel pipe
         * unless there is work only EVENT_WAIT_CANCELLED does */
        if (c->wsi && c->can_send && !c->kill_conn) {
            lws_callback_on_writable(c->wsi);
            c->writer_armed = true;
        }
        if (data_only)
            return;
    }
    if (data_only && c->writer_armed)
        return; /* the WRITEABLE already asked for takes this too */
    if (!c->wake_pending && c->ctx) {
        c->wake_pending = true;
        lws_cancel_service(c->ctx);
    }
}

/* ----------------------------------------------------------- lifecycle */

mf_life mf_client_life(const mf_client *c)
{
    return (mf_life)atomic_load_explicit(&c->life, memory_order_acquire);
}

bool mf_client_life_to_locked(mf_client *c, mf_life to)
{
    if (to <= mf_client_life(c))
        return false;
    atomic_store_explicit(&c->life, (int)to, memory_order_release);
    pthread_cond_broadcast(&c->cv);
    return true;
}

bool mf_client_life_to(mf_client *c, mf_life to)
{
    pthread_mutex_lock(&c->mu);
    bool moved = mf_client_life_to_locked(c, to);
    pthread_mutex_unlock(&c->mu);
    return moved;
}

/* ---------------------------------------------------------- PING FIFO */

static bool fifo_grow(mf_client *c)
{
    if (c->fifo_n < c->fifo_cap)
        return true;
    size_t ncap = c->fifo_cap ? c->fifo_cap * 2 : 16;
    uint64_t *nf = malloc(ncap * sizeof *nf);
    if (!nf)
        return false;
    for (size_t i = 0; i < c->fifo_n; i++)
        nf[i] = c->fifo[(c->fifo_head + i) % c->fifo_cap];
    free(c->fifo);
    c->fifo = nf;
    c->fifo_cap = ncap;
    c->fifo_head = 0;
    return true;
}

bool mf_client_fifo_push_locked(mf_client *c, uint64_t tag)
{
    if (!fifo_grow(c))
        return false;
    c->fifo[(c->fifo_head + c->fifo_n) % c->fifo_cap] = tag;
    c->fifo_n++;
    return true;
}

bool mf_client_fifo_pop_locked(mf_client *c, uint64_t *tag)
{
    if (!c->fifo_n)
        return false;
    *tag = c->fifo[c->fifo_head];
    c->fifo_head = (c->fifo_head + 1) % c->fifo_cap;
    c->fifo_n--;
    return true;
}

mf_status mf_client_queue_ping_locked(mf_client *c, uint64_t tag)
{
    if (!fifo_grow(c))
        return MF_ERR_NOMEM;
    mf_status st = mf_proto_write_ping(&c->q.buf);
    if (st)
        return st;
    mf_client_fifo_push_locked(c, tag);
    return MF_OK;
}

/* -------------------------------------------------------------- create */

static char *dup_opt(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void random_bytes(void *p, size_t n)
{
    unsigned char *b = p;
    while (n) {
        ssize_t r = getrandom(b, n, 0);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            /* fall back to something unique enough for inbox names */
            uint64_t x = (uint64_t)mf_now_us() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)p;
            x |= 1;
            for (; n; n--)
                *b++ = (unsigned char)mf_xorshift64(&x);
            return;
        }
        b += r;
        n -= (size_t)r;
    }
}

static void free_client(mf_client *c)
{
    for (size_t i = 0; i < c->n_pool; i++)
        mf_server_free(&c->pool[i]);
    free(c->pool);
    mf_client_subs_free_all(c);
    mf_client_reqs_free_all(c);
    mf_replayq_clear(&c->q);
    free(c->fifo);
    mf_proto_parser_free(&c->parser);
    free(c->frame);
    mf_buf_free(&c->hs);
    free(c->name);
    free(c->token);
    free(c->user);
    free(c->pass);
    free(c->ca_file);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static mf_status check_len(mf_error *err, const char *what, const char *s, size_t max)
{
    if (s && strlen(s) >= max)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "option %s is too long (max %zu bytes)", what, max - 1);
    return MF_OK;
}

/* The options a client cannot start with: MF_ERR_INVALID_ARG and why in err. */
static mf_status check_opts(const mf_client_opts *opts, mf_error *err)
{
    if (!opts->servers || !opts->n_servers)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "at least one server URL is required");
    mf_status st;
    if ((st = check_len(err, "name", opts->name, MF_PROTO_STR_MAX)) ||
        (st = check_len(err, "token", opts->token, MF_PROTO_TOKEN_MAX)) ||
        (st = check_len(err, "user", opts->user, MF_PROTO_STR_MAX)) ||
        (st = check_len(err, "pass", opts->pass, MF_PROTO_TOKEN_MAX)))
        return st;
    if (opts->reconnect_wait_ms < 0 || opts->reconnect_wait_max_ms < 0 || opts->reconnect_jitter_ms < 0 ||
        opts->ping_interval_ms < 0 || opts->connect_timeout_ms < 0 || opts->max_pings_out < 0)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "negative time or count option");
    if (opts->frame_size && (opts->frame_size < 512 || opts->frame_size > 16u * 1024u * 1024u))
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "frame_size must be within 512 B .. 16 MiB");
    if (opts->ws_max_message && opts->ws_max_message < 1024)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "ws_max_message must be at least 1 KiB");
    if (opts->inbox_prefix && (strlen(opts->inbox_prefix) > 120 ||
                               !mf_subject_valid(opts->inbox_prefix, strlen(opts->inbox_prefix), false)))
        return mf_error_set(err, MF_ERR_INVALID_ARG, "",
                            "inbox_prefix must be a subject without wildcards, at most 120 bytes");
    return MF_OK;
}

/* A client with its lock, condition, parser and buffers set up; NULL when out of memory. */
static mf_client *client_new(void)
{
    mf_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    /* adaptive: a waiter spins briefly before it sleeps. The lock is held for short copies, by
     * the publishing thread and the service thread in turn; as a plain mutex, each contended
     * taking was a futex wait and a futex wake (campaign-service: 34,000 futex calls per 100,000
     * notifications, 5,300 adaptive, counted with perf's raw_syscalls tracepoints) */
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&c->mu, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    mf_proto_parser_init(&c->parser, MF_PROTO_CLIENT_SIDE, 0, 0);
    mf_buf_init(&c->q.buf);
    mf_buf_init(&c->q.out);
    atomic_init(&c->q.out_left, 0);
    mf_buf_init(&c->hs);
    atomic_init(&c->life, MF_LIFE_OPEN);
    c->maskpos = sizeof c->maskpool; /* drawn at the first frame */
    c->next_sid = 1;
    c->next_req = 1;
    c->req_timer_at = INT64_MAX;
    c->max_payload = MF_PROTO_DEFAULT_MAX_PAYLOAD;
    c->server_headers = true;
    c->state = MF_CS_IDLE;
    random_bytes(&c->rng, sizeof c->rng);
    c->rng |= 1;
    return c;
}

/* c->o: the caller's options, zeros replaced by the defaults, the strings copied (the
 * server list and the inbox prefix are not kept). false when out of memory. */
static bool copy_opts(mf_client *c, const mf_client_opts *opts)
{
    mf_client_opts def;
    mf_client_opts_init(&def);
    c->o = *opts;
#define DEFAULT(f) (c->o.f = c->o.f ? c->o.f : def.f)
    DEFAULT(pending_limit);
    DEFAULT(outbound_limit);
    DEFAULT(frame_size);
    DEFAULT(ws_max_message);
    DEFAULT(connect_timeout_ms);
    DEFAULT(reconnect_wait_max_ms);
    DEFAULT(max_pings_out);
#undef DEFAULT
    c->o.servers = NULL;
    c->o.inbox_prefix = NULL; /* the copy is in c->inbox_prefix */
    c->o.name = c->name = dup_opt(opts->name);
    c->o.token = c->token = dup_opt(opts->token);
    c->o.user = c->user = dup_opt(opts->user);
    c->o.pass = c->pass = dup_opt(opts->pass);
    c->o.tls_ca_file = c->ca_file = dup_opt(opts->tls_ca_file);
    return !((opts->name && !c->name) || (opts->token && !c->token) || (opts->user && !c->user) ||
             (opts->pass && !c->pass) || (opts->tls_ca_file && !c->ca_file));
}

/* The server pool: every URL parsed (an error names the bad one), duplicates dropped,
 * shuffled when opts->randomize. */
static mf_status build_pool(mf_client *c, const mf_client_opts *opts, mf_error *err)
{
    c->pool = calloc(opts->n_servers, sizeof *c->pool);
    if (!c->pool)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    c->pool_cap = opts->n_servers;
    for (size_t i = 0; i < opts->n_servers; i++) {
        mf_server s;
        mf_status st = mf_server_parse(opts->servers[i], &s, err);
        if (st)
            return st;
        bool dup = false;
        for (size_t j = 0; j < c->n_pool; j++)
            dup = dup || !strcmp(c->pool[j].url, s.url);
        if (dup)
            mf_server_free(&s);
        else
            c->pool[c->n_pool++] = s;
    }
    for (size_t i = c->n_pool; opts->randomize && i > 1; i--) {
        size_t j = (size_t)(mf_xorshift64(&c->rng) % i);
        mf_server t = c->pool[i - 1];
        c->pool[i - 1] = c->pool[j];
        c->pool[j] = t;
    }
    return MF_OK;
}

/* c->inbox_prefix: "<prefix or _INBOX>.<22 random base62 characters>." */
static void make_inbox_prefix(mf_client *c, const char *prefix)
{
    static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char rb[22];
    random_bytes(rb, sizeof rb);
    char tok[23];
    for (int i = 0; i < 22; i++)
        tok[i] = al[rb[i] % 62];
    tok[22] = '\0';
    c->inbox_prefix_len =
        (size_t)snprintf(c->inbox_prefix, sizeof c->inbox_prefix, "%s.%s.", prefix ? prefix : "_INBOX", tok);
}

/* Starts the service thread and waits until it has its lws context (or failed to). */
static mf_status start_service(mf_client *c, mf_error *err)
{
    if (pthread_create(&c->thread, NULL, mf_client_service_main, c))
        return mf_error_set(err, MF_ERR_IO, "", "cannot start the service thread");
    c->thread_started = true;
    pthread_mutex_lock(&c->mu);
    while (!c->start_status)
        pthread_cond_wait(&c->cv, &c->mu);
    int ok = c->start_status;
    pthread_mutex_unlock(&c->mu);
    if (ok > 0)
        return MF_OK;
    pthread_join(c->thread, NULL);
    if (err)
        *err = c->start_err;
    return c->start_err.code ? c->start_err.code : MF_ERR_IO;
}

mf_status mf_client_create(const mf_client_opts *opts, mf_client **out, mf_error *err)
{
    mf_error_clear(err);
    if (!opts || !out)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "opts and out are required");
    *out = NULL;
    mf_status st = check_opts(opts, err);
    if (st)
        return st;
    mf_client *c = client_new();
    if (!c)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    if (!copy_opts(c, opts))
        st = mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    if (!st)
        st = build_pool(c, opts, err);
    if (!st) {
        make_inbox_prefix(c, opts->inbox_prefix);
        c->frame = malloc(LWS_PRE + c->o.frame_size);
        if (!c->frame)
            st = mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    if (!st)
        st = start_service(c, err);
    if (st) {
        free_client(c);
        return st;
    }
    *out = c;
    return MF_OK;
}

void mf_client_destroy(mf_client *c)
{
    if (!c)
        return;
    if (mf_client_on_service_thread(c)) {
        mf_client_log(c, MF_LOG_ERROR, "mf_client_destroy called from a callback: ignored (the client leaks)");
        return;
    }
    if (corked == c)
        corked = NULL; /* what it held back goes with the client */
    pthread_mutex_lock(&c->mu);
    c->destroy_req = true;
    mf_client_wake_locked(c);
    if (c->ctx)
        lws_cancel_service(c->ctx); /* even if a wake is already pending */
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    free_client(c);
}

mf_status mf_client_wait_connected(mf_client *c, int timeout_ms)
{
    if (!c || mf_client_on_service_thread(c))
        return MF_ERR_INVALID_ARG;
    struct timespec ts;
    deadline_ms(&ts, timeout_ms);
    pthread_mutex_lock(&c->mu);
    mf_status st = MF_OK;
    while (c->state != MF_CS_CONNECTED) {
        if (mf_client_life(c) >= MF_LIFE_CLOSED) {
            st = MF_ERR_CLOSED;
            break;
        }
        if (!wait_until(c, &ts, timeout_ms < 0) && c->state != MF_CS_CONNECTED) {
            st = mf_client_life(c) >= MF_LIFE_CLOSED ? MF_ERR_CLOSED : MF_ERR_TIMEOUT;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return st;
}

/* ------------------------------------------------------------- publish */

static size_t digits(size_t v)
{
    size_t d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

mf_status mf_client_publish_locked(mf_client *c, const char *subject, size_t slen, const char *reply, size_t rlen,
                                   const char *hdr, size_t hlen, const void *data, size_t len)
{
    if (mf_client_life(c) >= MF_LIFE_DRAINING_PUBS)
        return MF_ERR_CLOSED;
    if (hlen + len > c->max_payload)
        return MF_ERR_PAYLOAD_TOO_BIG;
    if (hdr && !c->server_headers)
        return MF_ERR_INVALID_ARG;
    /* the exact record size: "PUB s [r] n\r\n<data>\r\n" / "HPUB s [r] h t\r\n<hdr><data>\r\n" */
    size_t rec = (hdr ? 5 + digits(hlen) + 1 : 4) + slen + (rlen ? rlen + 1 : 0) + 1 + digits(hlen + len) + 2 +
                 hlen + len + 2;
    size_t limit = c->can_send ? c->o.outbound_limit : c->o.pending_limit;
    if (mf_replayq_pending(&c->q) + rec > limit) {
        if (c->can_send) {
            atomic_fetch_add_explicit(&c->refused_full, 1, memory_order_relaxed);
        } else {
            atomic_fetch_add_explicit(&c->dropped_msgs, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&c->dropped_bytes, len, memory_order_relaxed);
            c->drop_ev_msgs++;
            c->drop_ev_bytes += len;
            c->dropped_event_pending = true;
            mf_client_wake_locked(c);
        }
        return MF_ERR_FULL;
    }
    mf_status st = mf_buf_reserve(&c->q.buf, rec);
    if (st)
        return st;
    const char *rp = rlen ? reply : NULL;
    st = hdr ? mf_proto_write_hpub(&c->q.buf, subject, rp, hdr, hlen, data, len)
             : mf_proto_write_pub(&c->q.buf, subject, rp, data, len);
    if (st)
        return st;
    mf_counter_add(&c->msgs_out, 1);
    mf_counter_add(&c->bytes_out, len);
    if (c->can_send && !c->in_batch)
        mf_client_wake_locked(c);
    return MF_OK;
}

static mf_status publish_common(mf_client *c, const char *subject, const char *reply, const char *hdr, size_t hlen,
                                const void *data, size_t len)
{
    if (!c || !subject || (len && !data))
        return MF_ERR_INVALID_ARG;
    size_t slen = strlen(subject), rlen = reply ? strlen(reply) : 0;
    if (!mf_subject_valid(subject, slen, false) || (rlen && !mf_subject_valid(reply, rlen, false)))
        return MF_ERR_INVALID_ARG;
    pthread_mutex_lock(&c->mu);
    mf_status st = mf_client_publish_locked(c, subject, slen, reply, rlen, hdr, hlen, data, len);
    pthread_mutex_unlock(&c->mu);
    return st;
}

/* mf_client_publish_batch takes the lock once per this many messages, so that the service
 * thread, which needs it to send what is queued and to take replies, can take it between two
 * chunks (some tens of microseconds each) and send the first chunk while the next is queued.
 * Caveat: a glibc mutex is not fair, so a caller that relocks at once may keep it for a few
 * chunks in a row; a burst of n messages still holds it for n / BATCH_CHUNK short spans, never
 * for the whole burst. */
#define BATCH_CHUNK 64

mf_status mf_client_publish_batch(mf_client *c, const mf_pub *msgs, size_t n, size_t *queued)
{
    size_t done = 0;
    mf_status st = MF_OK;
    if (!c || (n && !msgs))
        st = MF_ERR_INVALID_ARG;
    while (st == MF_OK && done < n) {
        size_t end = n - done > BATCH_CHUNK ? done + BATCH_CHUNK : n;
        pthread_mutex_lock(&c->mu);
        c->in_batch = true;
        size_t first = done;
        for (; done < end; done++) {
            const mf_pub *m = &msgs[done];
            size_t slen = m->subject ? strlen(m->subject) : 0;
            if (!m->subject || (m->len && !m->data) || !mf_subject_valid(m->subject, slen, false)) {
                st = MF_ERR_INVALID_ARG;
                break;
            }
            if ((st = mf_client_publish_locked(c, m->subject, slen, NULL, 0, NULL, 0, m->data, m->len)) != MF_OK)
                break;
        }
        c->in_batch = false;
        if (done > first && c->can_send)
            mf_client_wake_locked(c);
        pthread_mutex_unlock(&c->mu);
    }
    if (queued)
        *queued = done;
    return st;
}

mf_status mf_client_publish(mf_client *c, const char *subject, const char *reply, const void *data, size_t len)
{
    return publish_common(c, subject, reply, NULL, 0, data, len);
}

mf_status mf_client_publish_hdrs(mf_client *c, const char *subject, const char *reply, const mf_header *hdrs,
                                 size_t n_hdrs, const void *data, size_t len)
{
    if (n_hdrs && !hdrs)
        return MF_ERR_INVALID_ARG;
    mf_buf h = MF_BUF_INIT;
    mf_status st = mf_msg_build_headers(&h, hdrs, n_hdrs);
    if (!st)
        st = publish_common(c, subject, reply, h.data, h.len, data, len);
    mf_buf_free(&h);
    return st;
}

mf_status mf_client_respond(mf_client *c, const mf_msg *req, const void *data, size_t len)
{
    if (!c || !req || !req->reply || !req->reply_len)
        return MF_ERR_INVALID_ARG;
    return publish_common(c, req->reply, NULL, NULL, 0, data, len);
}

/* -------------------------------------------------------- flush, drain */

/* Queues a PING after everything queued so far; its tag is the flush's ticket. Under c->mu. */
static mf_status flush_start_locked(mf_client *c, uint64_t *ticket)
{
    if (mf_client_life(c) >= MF_LIFE_CLOSED)
        return MF_ERR_CLOSED;
    uint64_t tag = c->flush_seq + 1;
    if (c->can_send) {
        mf_status st = mf_client_queue_ping_locked(c, tag);
        if (st)
            return st;
        mf_client_wake_locked(c);
        mf_client_cork_release_locked(c); /* the PING leaves now, corked or not: its round trip is
                                           * what the caller overlaps with other work */
    } /* else: the reconnect sends a PING for the newest flush */
    c->flush_seq = tag;
    *ticket = tag;
    return MF_OK;
}

/* Waits until the PONG of ticket (or of a later flush: PONGs come in order) arrived. Under c->mu. */
static mf_status flush_wait_locked(mf_client *c, uint64_t ticket, const struct timespec *ts, bool forever)
{
    while (c->flush_done < ticket) {
        if (mf_client_life(c) >= MF_LIFE_CLOSED)
            return MF_ERR_CLOSED;
        if (!wait_until(c, ts, forever) && c->flush_done < ticket)
            return mf_client_life(c) >= MF_LIFE_CLOSED ? MF_ERR_CLOSED : MF_ERR_TIMEOUT;
    }
    return MF_OK;
}

static mf_status flush_until(mf_client *c, const struct timespec *ts, bool forever)
{
    uint64_t ticket;
    pthread_mutex_lock(&c->mu);
    mf_status st = flush_start_locked(c, &ticket);
    if (st == MF_OK)
        st = flush_wait_locked(c, ticket, ts, forever);
    pthread_mutex_unlock(&c->mu);
    return st;
}

mf_status mf_client_flush(mf_client *c, int timeout_ms)
{
    if (!c || mf_client_on_service_thread(c))
        return MF_ERR_INVALID_ARG;
    struct timespec ts;
    deadline_ms(&ts, timeout_ms);
    return flush_until(c, &ts, timeout_ms < 0);
}

mf_status mf_client_flush_start(mf_client *c, uint64_t *ticket)
{
    if (!c || !ticket)
        return MF_ERR_INVALID_ARG;
    pthread_mutex_lock(&c->mu);
    mf_status st = flush_start_locked(c, ticket);
    pthread_mutex_unlock(&c->mu);
    return st;
}

mf_status mf_client_flush_wait(mf_client *c, uint64_t ticket, int timeout_ms)
{
    if (!c || mf_client_on_service_thread(c))
        return MF_ERR_INVALID_ARG;
    struct timespec ts;
    deadline_ms(&ts, timeout_ms);
    pthread_mutex_lock(&c->mu);
    mf_status st = ticket == 0 || ticket > c->flush_seq ? MF_ERR_INVALID_ARG
                                                        : flush_wait_locked(c, ticket, &ts, timeout_ms < 0);
    pthread_mutex_unlock(&c->mu);
    return st;
}

mf_status mf_client_drain(mf_client *c, int timeout_ms)
{
    if (!c || mf_client_on_service_thread(c))
        return MF_ERR_INVALID_ARG;
    bool forever = timeout_ms < 0;
    struct timespec ts;
    deadline_ms(&ts, timeout_ms);
    pthread_mutex_lock(&c->mu);
    if (mf_client_life(c) >= MF_LIFE_DRAINING_SUBS) {
        pthread_mutex_unlock(&c->mu);
        return MF_ERR_CLOSED;
    }
    mf_client_life_to_locked(c, MF_LIFE_DRAINING_SUBS);
    mf_client_subs_drain_locked(c);
    pthread_mutex_unlock(&c->mu);

    /* 1: the PONG comes after every message sent before our UNSUBs: all delivered */
    mf_status st = flush_until(c, &ts, forever);
    pthread_mutex_lock(&c->mu);
    mf_client_subs_remove_drained_locked(c);
    mf_client_life_to_locked(c, MF_LIFE_DRAINING_PUBS);
    pthread_mutex_unlock(&c->mu);
    /* 2: everything published (also by the callbacks above) reached the server */
    if (st == MF_OK)
        st = flush_until(c, &ts, forever);

    pthread_mutex_lock(&c->mu);
    mf_client_life_to_locked(c, MF_LIFE_CLOSE_ASKED);
    mf_client_wake_locked(c);
    /* the close itself is bounded by the service thread (1 s grace); the CLOSED
     * event and the MF_ERR_CLOSED completions have run when this returns */
    while (mf_client_life(c) < MF_LIFE_CLOSE_DONE)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
    return st == MF_ERR_CLOSED ? MF_ERR_TIMEOUT : st;
}

/* ------------------------------------------------------------ queries */

mf_status mf_client_stats_get(mf_client *c, mf_client_stats *s)
{
    if (!c || !s)
        return MF_ERR_INVALID_ARG;
    memset(s, 0, sizeof *s);
    s->msgs_in = atomic_load_explicit(&c->msgs_in, memory_order_relaxed);
    s->bytes_in = atomic_load_explicit(&c->bytes_in, memory_order_relaxed);
    s->msgs_out = atomic_load_explicit(&c->msgs_out, memory_order_relaxed);
    s->bytes_out = atomic_load_explicit(&c->bytes_out, memory_order_relaxed);
    s->reconnects = atomic_load_explicit(&c->reconnects, memory_order_relaxed);
    s->dropped_msgs = atomic_load_explicit(&c->dropped_msgs, memory_order_relaxed);
    s->dropped_bytes = atomic_load_explicit(&c->dropped_bytes, memory_order_relaxed);
    s->refused_full = atomic_load_explicit(&c->refused_full, memory_order_relaxed);
    pthread_mutex_lock(&c->mu);
    s->queued_bytes = mf_replayq_pending(&c->q);
    s->connected = c->state == MF_CS_CONNECTED;
    memcpy(s->server_url, c->cur_url, sizeof s->server_url);
    pthread_mutex_unlock(&c->mu);
    return MF_OK;
}

mf_status mf_client_server_info_get(mf_client *c, mf_client_server_info *info)
{
    if (!c || !info)
        return MF_ERR_INVALID_ARG;
    pthread_mutex_lock(&c->mu);
    mf_status st = c->have_info ? MF_OK : MF_ERR_NOT_FOUND;
    if (!st)
        *info = c->info;
    pthread_mutex_unlock(&c->mu);
    return st;
}

/* ---------------------------------------------------------------- close */

void mf_client_finish_close(mf_client *c, mf_status why)
{
    pthread_mutex_lock(&c->mu);
    if (c->state == MF_CS_CLOSED) {
        pthread_mutex_unlock(&c->mu);
        return;
    }
    c->state = MF_CS_CLOSED;
    c->can_send = false;
    c->writer_armed = false;
    c->close_status = why;
    mf_client_life_to_locked(c, MF_LIFE_CLOSED); /* wakes the waiters */
    pthread_mutex_unlock(&c->mu);
    lws_sul_cancel(&c->sul_reconnect);
    lws_sul_cancel(&c->sul_ping);
    lws_sul_cancel(&c->sul_conn_timeout);
    lws_sul_cancel(&c->sul_req);
    mf_client_reqs_fail_all(c, MF_ERR_CLOSED);
    mf_client_emit(c, MF_CLIENT_CLOSED, why, why ? mf_status_str(why) : "", 0, 0, c->cur_url);
    mf_client_life_to(c, MF_LIFE_CLOSE_DONE);
}
