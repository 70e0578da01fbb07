/*
 * request.c - request/reply: one wildcard inbox subscription per client
 * (_INBOX.<22 random>.*), one reply subject per request (<prefix><id>), a
 * table of pending requests and a min-heap of deadlines driven by one lws_sul
 * timer on the service thread. Completed requests leave stale heap entries that
 * are skipped when they come up (and compacted away when they pile up).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/client_int.h"

/* ---- deadline heap (mu held) ---- */

static void heap_swap(mf_deadline *a, mf_deadline *b)
{
    mf_deadline t = *a;
    *a = *b;
    *b = t;
}

static void heap_down(mf_deadline *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].at < h[m].at)
            m = l;
        if (r < n && h[r].at < h[m].at)
            m = r;
        if (m == i)
            return;
        heap_swap(&h[i], &h[m]);
        i = m;
    }
}

static mf_status heap_push(mf_client *c, int64_t at, uint64_t id)
{
    if (c->heap_n == c->heap_cap) {
        size_t ncap = c->heap_cap ? c->heap_cap * 2 : 64;
        mf_deadline *nh = realloc(c->heap, ncap * sizeof *nh);
        if (!nh)
            return MF_ERR_NOMEM;
        c->heap = nh;
        c->heap_cap = ncap;
    }
    size_t i = c->heap_n++;
    c->heap[i].at = at;
    c->heap[i].id = id;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (c->heap[p].at <= c->heap[i].at)
            break;
        heap_swap(&c->heap[p], &c->heap[i]);
        i = p;
    }
    return MF_OK;
}

static void heap_pop(mf_client *c)
{
    c->heap[0] = c->heap[--c->heap_n];
    heap_down(c->heap, c->heap_n, 0);
}

/* Drops stale entries: rebuild from the live requests. */
static void heap_rebuild(mf_client *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->reqs.cap; i++) {
        if (!c->reqs.keys[i])
            continue;
        mf_req *r = c->reqs.vals[i];
        c->heap[n].at = r->deadline_us;
        c->heap[n].id = r->id;
        n++;
    }
    c->heap_n = n;
    for (size_t i = n / 2; i-- > 0;)
        heap_down(c->heap, n, i);
}

/* ---- records (mu held) ---- */

/* A record from the free list, or a new one; NULL without memory. */
static mf_req *req_alloc_locked(mf_client *c)
{
    return mf_freelist_take(&c->req_free, sizeof(mf_req));
}

/* Gives a record back: kept for the next request while the free list is short, else freed. */
static void req_recycle_locked(mf_client *c, mf_req *r)
{
    mf_freelist_give(&c->req_free, r, MF_REQ_FREE_MAX);
}

/* ---- inbox ---- */

bool mf_client_inbox_take_locked(mf_client *c, const mf_msg *m, mf_req *out)
{
    if (m->subject_len <= c->inbox_prefix_len || memcmp(m->subject, c->inbox_prefix, c->inbox_prefix_len))
        return false;
    uint64_t id;
    if (!mf_proto_parse_u64(m->subject + c->inbox_prefix_len, m->subject_len - c->inbox_prefix_len, &id))
        return false;
    mf_req *r = mf_u64map_del(&c->reqs, id);
    if (!r)
        return false;
    memcpy(out, r, offsetof(mf_req, ctx_copy) + r->ctx_len); /* not the unused rest of the copy */
    req_recycle_locked(c, r);
    return true;
}

void mf_client_inbox_complete(mf_client *c, mf_req *r, const mf_msg *m)
{
    if (m->status == 503 && m->len == 0)
        r->cb(c, MF_ERR_NO_RESPONDERS, NULL, mf_req_ctx(r));
    else
        r->cb(c, MF_OK, m, mf_req_ctx(r));
}

/* The inbox subscription's callback (mf_client_dispatch calls the two functions above
 * itself, under the lock it already holds; this is what any other caller gets). */
static void inbox_cb(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)ctx;
    mf_req r;
    pthread_mutex_lock(&c->mu);
    bool found = mf_client_inbox_take_locked(c, m, &r);
    pthread_mutex_unlock(&c->mu);
    if (found)
        mf_client_inbox_complete(c, &r, m); /* else a late or duplicate reply */
}

/* "<inbox prefix><id>" into out (room for the prefix and 20 digits): the reply subject of request id,
 * written without snprintf (a thousand instructions per request under the client's lock). */
static size_t reply_subject(const mf_client *c, uint64_t id, char *out)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + id % 10);
        id /= 10;
    } while (id);
    memcpy(out, c->inbox_prefix, c->inbox_prefix_len);
    size_t len = c->inbox_prefix_len;
    while (n)
        out[len++] = digits[--n];
    out[len] = '\0';
    return len;
}

/* Registers and publishes a request: its context is ctx, or a copy of ctx_len bytes at ctx_copy
 * (mf/request_copy.h) when ctx_len > 0. */
static mf_status req_register(mf_client *c, const char *subject, const void *data, size_t len, int timeout_ms,
                              mf_reply_cb cb, void *ctx, const void *ctx_copy, size_t ctx_len, uint64_t *idp)
{
    if (!c || !subject || !cb || (len && !data) || timeout_ms <= 0 || ctx_len > MF_REQ_CTX_MAX ||
        (ctx_len && !ctx_copy))
        return MF_ERR_INVALID_ARG;
    size_t slen = strlen(subject);
    if (!mf_subject_valid(subject, slen, false))
        return MF_ERR_INVALID_ARG;
    mf_req *r = NULL;
    pthread_mutex_lock(&c->mu);
    mf_status st = MF_OK;
    if (mf_client_life(c) >= MF_LIFE_DRAINING_SUBS) {
        st = MF_ERR_CLOSED;
        goto out;
    }
    if (!c->inbox_sid) {
        char wc[sizeof c->inbox_prefix + 2];
        snprintf(wc, sizeof wc, "%s*", c->inbox_prefix);
        st = mf_client_sub_add_locked(c, wc, NULL, inbox_cb, NULL, true, &c->inbox_sid);
        if (st)
            goto out;
    }
    r = req_alloc_locked(c);
    if (!r) {
        st = MF_ERR_NOMEM;
        goto out;
    }
    r->next = NULL;
    r->id = c->next_req++;
    r->deadline_us = mf_now_us() + (int64_t)timeout_ms * 1000;
    r->cb = cb;
    r->ctx = ctx;
    r->ctx_len = ctx_len;
    if (ctx_len)
        memcpy(r->ctx_copy.bytes, ctx_copy, ctx_len);
    char reply[sizeof c->inbox_prefix + 24];
    size_t rl = reply_subject(c, r->id, reply);
    if (c->heap_n > 1024 && c->heap_n > 4 * c->reqs.n)
        heap_rebuild(c);
    st = mf_u64map_put(&c->reqs, r->id, r);
    if (st)
        goto out;
    st = heap_push(c, r->deadline_us, r->id);
    if (!st)
        st = mf_client_publish_locked(c, subject, slen, reply, rl, NULL, 0, data, len);
    if (st) {
        mf_u64map_del(&c->reqs, r->id);
        goto out; /* a heap entry may stay behind: it is skipped when due */
    }
    *idp = r->id;
    r = NULL;
    if (c->heap[0].at < c->req_timer_at) {
        c->req_timer_dirty = true;
        mf_client_wake_locked(c);
    }
out:
    if (r)
        req_recycle_locked(c, r);
    pthread_mutex_unlock(&c->mu);
    return st;
}

mf_status mf_client_request_async(mf_client *c, const char *subject, const void *data, size_t len, int timeout_ms,
                                  mf_reply_cb cb, void *ctx)
{
    uint64_t id;
    return req_register(c, subject, data, len, timeout_ms, cb, ctx, NULL, 0, &id);
}

mf_status mf_client_request_async_copy(mf_client *c, const char *subject, const void *data, size_t len,
                                       int timeout_ms, mf_reply_cb cb, const void *ctx, size_t ctx_len)
{
    uint64_t id;
    if (!ctx_len)
        return MF_ERR_INVALID_ARG;
    return req_register(c, subject, data, len, timeout_ms, cb, NULL, ctx, ctx_len, &id);
}

typedef struct sync_wait {
    bool done;
    mf_status st;
    mf_msg_owned *msg;
} sync_wait;

static void sync_cb(mf_client *c, mf_status st, const mf_msg *m, void *ctx)
{
    sync_wait *w = ctx;
    mf_msg_owned *o = NULL;
    if (st == MF_OK && mf_msg_copy(m, &o))
        st = MF_ERR_NOMEM;
    pthread_mutex_lock(&c->mu);
    w->st = st;
    w->msg = o;
    w->done = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

mf_status mf_client_request(mf_client *c, const char *subject, const void *data, size_t len, int timeout_ms,
                            mf_msg_owned **reply)
{
    if (!c || !reply)
        return MF_ERR_INVALID_ARG;
    *reply = NULL;
    if (mf_client_on_service_thread(c))
        return MF_ERR_INVALID_ARG;
    sync_wait w = {false, MF_OK, NULL};
    uint64_t id;
    mf_status st = req_register(c, subject, data, len, timeout_ms, sync_cb, &w, NULL, 0, &id);
    if (st)
        return st;
    /* the service thread's timer answers; this deadline is only a safety net */
    struct timespec ts;
    mf_deadline_after(&ts, (int64_t)timeout_ms * 1000 + 2000000);
    pthread_mutex_lock(&c->mu);
    mf_client_cork_release_locked(c);
    while (!w.done) {
        if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT && !w.done) {
            mf_req *r = mf_u64map_del(&c->reqs, id);
            if (r) {
                req_recycle_locked(c, r);
                w.st = MF_ERR_TIMEOUT;
                w.done = true;
            } else {
                while (!w.done) /* its callback is running right now */
                    pthread_cond_wait(&c->cv, &c->mu);
            }
        }
    }
    pthread_mutex_unlock(&c->mu);
    *reply = w.msg;
    return w.st;
}

/* ---- timer (service thread) ---- */

void mf_client_req_timer_update(mf_client *c)
{
    pthread_mutex_lock(&c->mu);
    c->req_timer_dirty = false;
    int64_t at = c->heap_n ? c->heap[0].at : INT64_MAX;
    c->req_timer_at = at;
    struct lws_context *cx = c->ctx;
    pthread_mutex_unlock(&c->mu);
    if (!cx)
        return;
    if (at == INT64_MAX) {
        lws_sul_cancel(&c->sul_req);
        return;
    }
    int64_t d = at - mf_now_us();
    lws_sul_schedule(cx, 0, &c->sul_req, mf_client_req_timer_cb, d > 0 ? d : 1);
}

/* Calls each record's callback with st (mu released); the records stay linked. */
static void complete_list(mf_client *c, mf_req *list, mf_status st)
{
    for (mf_req *r = list; r; r = r->next)
        r->cb(c, st, NULL, mf_req_ctx(r));
}

void mf_client_req_timer_cb(lws_sorted_usec_list_t *sul)
{
    mf_client *c = lws_container_of(sul, mf_client, sul_req);
    int64_t now = mf_now_us();
    mf_req *head = NULL, **tail = &head;
    pthread_mutex_lock(&c->mu);
    while (c->heap_n && c->heap[0].at <= now) {
        uint64_t id = c->heap[0].id;
        heap_pop(c);
        mf_req *r = mf_u64map_del(&c->reqs, id);
        if (r) {
            r->next = NULL;
            *tail = r;
            tail = &r->next;
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (head) {
        complete_list(c, head, MF_ERR_TIMEOUT);
        pthread_mutex_lock(&c->mu);
        while (head) {
            mf_req *n = head->next;
            req_recycle_locked(c, head);
            head = n;
        }
        pthread_mutex_unlock(&c->mu);
    }
    mf_client_req_timer_update(c);
}

void mf_client_reqs_fail_all(mf_client *c, mf_status st)
{
    mf_req *head = NULL;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->reqs.cap; i++) {
        if (!c->reqs.keys[i])
            continue;
        mf_req *r = c->reqs.vals[i];
        r->next = head;
        head = r;
    }
    mf_u64map_free(&c->reqs);
    c->heap_n = 0;
    pthread_mutex_unlock(&c->mu);
    complete_list(c, head, st);
    while (head) {
        mf_req *n = head->next;
        free(head);
        head = n;
    }
}

void mf_client_reqs_free_all(mf_client *c)
{
    for (size_t i = 0; i < c->reqs.cap; i++)
        if (c->reqs.keys[i])
            free(c->reqs.vals[i]);
    mf_u64map_free(&c->reqs);
    mf_freelist_clear(&c->req_free);
    free(c->heap);
    c->heap = NULL;
    c->heap_n = c->heap_cap = 0;
}
