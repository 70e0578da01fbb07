/*
 * outq.c - the per-connection outbound queue.
 *
 * Layout of buf.data: [0, LWS_PRE) headroom | sent bytes | [head, len) unsent.
 * lws writes the websocket frame header into the LWS_PRE bytes in front of
 * the pointer it is given; in front of `head` there are always at least
 * LWS_PRE bytes that are headroom or already sent, so nothing live is
 * overwritten. Sent bytes are reclaimed by resetting (queue empty) or by
 * moving the unsent tail down once the dead prefix outweighs it, so every
 * byte is moved O(1) times on average.
 *
 * Message boundaries: every commit that lands 4 KiB or more past the last
 * mark records a mark (a stream offset). Frames end at the newest mark within
 * reach, or at the end of the queue, so only a single message larger than a
 * frame is ever split; the marks also let a slow consumer's backlog be
 * dropped without cutting a message in half.
 */
#include "broker/broker.h"

#include <stdlib.h>
#include <string.h>

#define MARK_GRAIN 4096u
#define SHRINK_CAP (1024u * 1024u)

void mfb_outq_init(mfb_outq *q)
{
    memset(q, 0, sizeof *q);
    mf_buf_init(&q->buf);
}

void mfb_outq_free(mfb_outq *q)
{
    mf_buf_free(&q->buf);
    free(q->marks);
    memset(q, 0, sizeof *q);
}

size_t mfb_outq_pending(const mfb_outq *q)
{
    return q->buf.len > q->head ? q->buf.len - q->head : 0;
}

mf_status mfb_outq_prepare(mfb_outq *q)
{
    if (q->buf.len == 0) {
        static const char zero[LWS_PRE];
        mf_status st = mf_buf_append(&q->buf, zero, LWS_PRE);
        if (st)
            return st;
        q->head = LWS_PRE;
        return MF_OK;
    }
    if (q->head == q->buf.len) {
        /* everything sent: start over, and give a big buffer back */
        if (q->buf.cap > SHRINK_CAP) {
            mf_buf_free(&q->buf);
            q->head = 0;
            return mfb_outq_prepare(q);
        }
        q->buf.len = LWS_PRE;
        q->head = LWS_PRE;
        return MF_OK;
    }
    size_t dead = q->head - LWS_PRE, live = q->buf.len - q->head;
    if (dead >= 64 * 1024 && dead >= live) {
        memmove(q->buf.data + LWS_PRE, q->buf.data + q->head, live);
        q->buf.len = LWS_PRE + live;
        q->buf.data[q->buf.len] = '\0';
        q->head = LWS_PRE;
    }
    return MF_OK;
}

static uint64_t mark_at(const mfb_outq *q, size_t i)
{
    return q->marks[(q->mfirst + i) % q->mcap];
}

void mfb_outq_commit(mfb_outq *q)
{
    uint64_t tail = q->head_abs + mfb_outq_pending(q);
    if (tail - q->last_mark < MARK_GRAIN)
        return;
    if (q->mcount == q->mcap) {
        size_t ncap = q->mcap ? q->mcap * 2 : 16;
        uint64_t *nm = malloc(ncap * sizeof *nm);
        if (!nm)
            return; /* marks are an optimisation; frames just end elsewhere */
        for (size_t i = 0; i < q->mcount; i++)
            nm[i] = mark_at(q, i);
        free(q->marks);
        q->marks = nm;
        q->mcap = ncap;
        q->mfirst = 0;
    }
    q->marks[(q->mfirst + q->mcount) % q->mcap] = tail;
    q->mcount++;
    q->last_mark = tail;
}

size_t mfb_outq_next_chunk(const mfb_outq *q, size_t max, bool *ends_message)
{
    size_t pending = mfb_outq_pending(q);
    if (pending <= max) {
        *ends_message = true;
        return pending;
    }
    /* the newest mark in (head_abs, head_abs + max] */
    uint64_t limit = q->head_abs + max;
    size_t best = 0;
    for (size_t i = 0; i < q->mcount; i++) {
        uint64_t m = mark_at(q, i);
        if (m > limit)
            break;
        if (m > q->head_abs)
            best = (size_t)(m - q->head_abs);
    }
    if (best) {
        *ends_message = true;
        return best;
    }
    *ends_message = false;
    return max;
}

void mfb_outq_consume(mfb_outq *q, size_t n, bool ended_message)
{
    q->head += n;
    q->head_abs += n;
    q->mid_message = !ended_message;
    while (q->mcount && mark_at(q, 0) <= q->head_abs) {
        q->mfirst = (q->mfirst + 1) % q->mcap;
        q->mcount--;
    }
}

size_t mfb_outq_drop_unstarted(mfb_outq *q)
{
    size_t pending = mfb_outq_pending(q);
    size_t keep = 0;
    if (q->mid_message) {
        /* finish the message that is half out: keep up to the first boundary */
        keep = pending;
        if (q->mcount)
            keep = (size_t)(mark_at(q, 0) - q->head_abs);
    }
    q->buf.len = q->head + keep;
    if (q->buf.data)
        q->buf.data[q->buf.len] = '\0';
    q->mcount = 0;
    q->mfirst = 0;
    q->last_mark = q->head_abs + keep;
    if (keep) {
        /* the new tail is a boundary */
        mfb_outq_commit(q);
    }
    return pending - keep;
}
