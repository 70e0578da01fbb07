/*
 * sub.c - subscriptions: the sid table, SUB/UNSUB records, re-subscribing after
 * a reconnect, and delivering MSG/HMSG to callbacks on the service thread.
 */
#include <stdlib.h>
#include <string.h>

#include "client/client_int.h"

static void sub_free(mf_sub *s)
{
    if (!s)
        return;
    free(s->subject);
    free(s->queue);
    free(s);
}

static bool queue_valid(const char *q)
{
    if (!*q)
        return false;
    for (const unsigned char *s = (const unsigned char *)q; *s; s++)
        if (*s <= ' ' || *s == 0x7f)
            return false;
    return true;
}

mf_status mf_client_sub_add_locked(mf_client *c, const char *subject, const char *queue, mf_msg_cb cb, void *ctx,
                                   bool internal, uint64_t *sid)
{
    mf_sub *s = calloc(1, sizeof *s);
    if (!s)
        return MF_ERR_NOMEM;
    s->subject = strdup(subject);
    s->queue = (queue && *queue) ? strdup(queue) : NULL;
    if (!s->subject || (queue && *queue && !s->queue)) {
        sub_free(s);
        return MF_ERR_NOMEM;
    }
    s->sid = c->next_sid++;
    s->cb = cb;
    s->ctx = ctx;
    s->internal = internal;
    mf_status st = mf_u64map_put(&c->subs, s->sid, s);
    if (st) {
        sub_free(s);
        return st;
    }
    if (c->can_send) {
        st = mf_proto_write_sub(&c->q.buf, s->subject, s->queue, s->sid);
        if (st) {
            mf_u64map_del(&c->subs, s->sid);
            sub_free(s);
            return st;
        }
        mf_client_wake_locked(c);
    }
    if (sid)
        *sid = s->sid;
    return MF_OK;
}

mf_status mf_client_subscribe(mf_client *c, const char *subject, const char *queue, mf_msg_cb cb, void *ctx,
                              uint64_t *sid)
{
    if (!c || !subject || !cb)
        return MF_ERR_INVALID_ARG;
    if (!mf_subject_valid(subject, strlen(subject), true))
        return MF_ERR_INVALID_ARG;
    if (queue && *queue && !queue_valid(queue))
        return MF_ERR_INVALID_ARG;
    pthread_mutex_lock(&c->mu);
    mf_status st;
    if (mf_client_life(c) >= MF_LIFE_DRAINING_SUBS)
        st = MF_ERR_CLOSED;
    else
        st = mf_client_sub_add_locked(c, subject, queue, cb, ctx, false, sid);
    pthread_mutex_unlock(&c->mu);
    return st;
}

/* Removes s (already out of the table) once its callback is not running (mu held). */
static void retire_locked(mf_client *c, mf_sub *s)
{
    if (atomic_load(&c->dispatching) == s) {
        if (mf_client_on_service_thread(c)) {
            s->free_after_dispatch = true; /* called from its own callback */
            return;
        }
        /* counted before the look: the service thread clears dispatching, then looks here */
        atomic_fetch_add(&c->dispatch_waiters, 1);
        while (atomic_load(&c->dispatching) == s)
            pthread_cond_wait(&c->cv, &c->mu);
        atomic_fetch_sub(&c->dispatch_waiters, 1);
    }
    sub_free(s);
}

mf_status mf_client_unsubscribe(mf_client *c, uint64_t sid, uint64_t max_msgs)
{
    if (!c)
        return MF_ERR_INVALID_ARG;
    pthread_mutex_lock(&c->mu);
    mf_status st = MF_OK;
    mf_sub *s = mf_u64map_get(&c->subs, sid);
    if (mf_client_life(c) >= MF_LIFE_CLOSED) {
        st = MF_ERR_CLOSED;
    } else if (!s || s->internal || s->draining) {
        st = MF_ERR_NOT_FOUND;
    } else if (max_msgs > 0 && s->delivered < max_msgs) {
        s->max = max_msgs;
        if (c->can_send) {
            /* the server counts from the SUB it got on this connection */
            st = mf_proto_write_unsub(&c->q.buf, sid, max_msgs - s->base);
            mf_client_wake_locked(c);
        }
    } else {
        mf_u64map_del(&c->subs, sid);
        if (c->can_send) {
            st = mf_proto_write_unsub(&c->q.buf, sid, 0);
            mf_client_wake_locked(c);
        }
        retire_locked(c, s);
    }
    pthread_mutex_unlock(&c->mu);
    return st;
}

mf_status mf_client_subs_write_locked(mf_client *c, mf_buf *b)
{
    mf_status st = MF_OK;
    for (size_t i = 0; !st && i < c->subs.cap; i++) {
        if (!c->subs.keys[i])
            continue;
        mf_sub *s = c->subs.vals[i];
        if (s->draining)
            continue;
        s->base = s->delivered;
        st = mf_proto_write_sub(b, s->subject, s->queue, s->sid);
        if (!st && s->max)
            st = mf_proto_write_unsub(b, s->sid, s->max - s->delivered);
    }
    return st;
}

void mf_client_dispatch(mf_client *c, const mf_proto_op *op)
{
    uint64_t sid;
    if (!mf_proto_parse_u64(op->sid.ptr, op->sid.len, &sid))
        return;
    mf_msg m;
    memset(&m, 0, sizeof m);
    m.subject = op->subject.ptr;
    m.subject_len = op->subject.len;
    if (op->reply.ptr && op->reply.len) {
        m.reply = op->reply.ptr;
        m.reply_len = op->reply.len;
    }
    m.data = op->payload.ptr ? (const void *)op->payload.ptr : (const void *)"";
    m.len = op->payload.len;
    if (op->kind == MF_OP_HMSG && op->hdr) {
        m.headers = op->hdr;
        m.headers_len = op->hdr_len;
        m.status = mf_msg_parse_status(op->hdr, op->hdr_len);
    }
    m.sid = sid;

    pthread_mutex_lock(&c->mu);
    mf_sub *s = mf_u64map_get(&c->subs, sid);
    if (!s) {
        pthread_mutex_unlock(&c->mu);
        return;
    }
    s->delivered++;
    if (s->internal) {
        /* a reply on the request inbox: the request is taken under this lock, and the inbox
         * (never unsubscribed by the user, max 0) is not touched again */
        mf_req r;
        bool found = mf_client_inbox_take_locked(c, &m, &r);
        pthread_mutex_unlock(&c->mu);
        mf_counter_add(&c->msgs_in, 1);
        mf_counter_add(&c->bytes_in, m.len);
        c->delivered_in_read = true;
        if (found)
            mf_client_inbox_complete(c, &r, &m); /* else a late or duplicate reply */
        return;
    }
    bool last = s->max && s->delivered >= s->max;
    if (last)
        mf_u64map_del(&c->subs, sid);
    atomic_store(&c->dispatching, s);
    mf_msg_cb cb = s->cb;
    void *ctx = s->ctx;
    pthread_mutex_unlock(&c->mu);

    mf_counter_add(&c->msgs_in, 1);
    mf_counter_add(&c->bytes_in, m.len);
    c->delivered_in_read = true;
    cb(c, &m, ctx);

    /* free_after_dispatch is set only on this thread (by the callback itself) */
    bool free_it = last || s->free_after_dispatch;
    atomic_store(&c->dispatching, NULL);
    if (atomic_load(&c->dispatch_waiters)) {
        pthread_mutex_lock(&c->mu);
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
    if (free_it)
        sub_free(s);
}

void mf_client_subs_free_all(mf_client *c)
{
    for (size_t i = 0; i < c->subs.cap; i++)
        if (c->subs.keys[i])
            sub_free(c->subs.vals[i]);
    mf_u64map_free(&c->subs);
}

void mf_client_subs_drain_locked(mf_client *c)
{
    for (size_t i = 0; i < c->subs.cap; i++) {
        if (!c->subs.keys[i])
            continue;
        mf_sub *s = c->subs.vals[i];
        if (s->internal || s->draining)
            continue;
        s->draining = true;
        if (c->can_send)
            (void)mf_proto_write_unsub(&c->q.buf, s->sid, 0);
    }
    mf_client_wake_locked(c);
}

void mf_client_subs_remove_drained_locked(mf_client *c)
{
    size_t n = 0;
    mf_sub **list = malloc((c->subs.n + 1) * sizeof *list);
    if (!list)
        return; /* they stay until destroy frees them */
    for (size_t i = 0; i < c->subs.cap; i++)
        if (c->subs.keys[i] && ((mf_sub *)c->subs.vals[i])->draining)
            list[n++] = c->subs.vals[i];
    for (size_t i = 0; i < n; i++) {
        mf_u64map_del(&c->subs, list[i]->sid);
        retire_locked(c, list[i]);
    }
    free(list);
}
