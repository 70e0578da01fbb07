/*
 * frameq.c - a connection's outbound queue: frames written in place, cut at
 * message boundaries.
 *
 * Why it is not the client's queue (client/replayq.c, mf/reclaim.h): one
 * thread fills and empties it, so frames go out of the buffer itself with the
 * WebSocket header written in front of them (no copy); a broker never sends a
 * message again, but it must end frames at a message, drop a slow consumer's
 * backlog without cutting a message in half, and count the MSGs that went out.
 *
 * Layout of buf.data: [0, LWS_PRE) headroom | sent bytes | [head, len) unsent.
 * lws writes the websocket frame header into the LWS_PRE bytes in front of
 * the pointer it is given; in front of `head` there are always at least
 * LWS_PRE bytes that are headroom or already sent, so nothing live is
 * overwritten. Sent bytes are given back by the rule both queues share
 * (mf_buf_reclaim, mf/reclaim.h), with the headroom kept.
 *
 * Message boundaries: every commit that lands 4 KiB or more past the last
 * mark records a mark (a stream offset, with the MSG count and payload bytes
 * committed up to it). Frames end at the newest mark within reach, or at the
 * end of the queue, so only a single message larger than a frame is ever
 * split; the marks also let a slow consumer's backlog be dropped without
 * cutting a message in half, and tell how many MSGs a frame completed (what
 * /varz counts as sent) and how many a drop threw away.
 */
#include "broker/broker.h"
#include "mf/reclaim.h"

#include <stdlib.h>
#include <string.h>

#define MARK_GRAIN 4096u
/* A queue that held a burst gives back a buffer larger than this once it is empty: a broker
 * has up to --max-connections of them. */
#define SHRINK_CAP (1024u * 1024u)

void mfb_frameq_init(mfb_frameq *q)
{
    memset(q, 0, sizeof *q);
    mf_buf_init(&q->buf);
}

void mfb_frameq_free(mfb_frameq *q)
{
    mf_buf_free(&q->buf);
    free(q->marks);
    memset(q, 0, sizeof *q);
}

size_t mfb_frameq_pending(const mfb_frameq *q)
{
    return q->buf.len > q->head ? q->buf.len - q->head : 0;
}

mf_status mfb_frameq_prepare(mfb_frameq *q)
{
    if (q->buf.len) {
        q->head -= mf_buf_reclaim(&q->buf, LWS_PRE, q->head, SHRINK_CAP);
        if (q->buf.len)
            return MF_OK;
        q->head = 0; /* a big buffer was given back: the headroom again */
    }
    static const char zero[LWS_PRE];
    mf_status st = mf_buf_append(&q->buf, zero, LWS_PRE);
    if (st)
        return st;
    q->head = LWS_PRE;
    return MF_OK;
}

static const mfb_frameq_mark *mark_at(const mfb_frameq *q, size_t i)
{
    return &q->marks[(q->mfirst + i) % q->mcap];
}

/* The boundary at the end of the queue. */
static mfb_frameq_mark tail_mark(const mfb_frameq *q)
{
    mfb_frameq_mark m = {q->head_abs + mfb_frameq_pending(q), q->msgs, q->pbytes};
    return m;
}

static void add_mark(mfb_frameq *q, mfb_frameq_mark m)
{
    if (q->mcount == q->mcap) {
        size_t ncap = q->mcap ? q->mcap * 2 : 16;
        mfb_frameq_mark *nm = malloc(ncap * sizeof *nm);
        if (!nm)
            return; /* marks are an optimisation; frames just end elsewhere */
        for (size_t i = 0; i < q->mcount; i++)
            nm[i] = *mark_at(q, i);
        free(q->marks);
        q->marks = nm;
        q->mcap = ncap;
        q->mfirst = 0;
    }
    q->marks[(q->mfirst + q->mcount) % q->mcap] = m;
    q->mcount++;
    q->last_mark = m.off;
}

void mfb_frameq_commit(mfb_frameq *q, bool msg, uint64_t pbytes)
{
    if (msg) {
        q->msgs++;
        q->pbytes += pbytes;
    }
    mfb_frameq_mark t = tail_mark(q);
    if (t.off - q->last_mark >= MARK_GRAIN)
        add_mark(q, t);
}

size_t mfb_frameq_next_chunk(mfb_frameq *q, size_t max, bool *ends_message)
{
    size_t pending = mfb_frameq_pending(q);
    if (pending <= max) {
        *ends_message = true;
        q->chunk_end = tail_mark(q);
        return pending;
    }
    /* the newest mark in (head_abs, head_abs + max] */
    uint64_t limit = q->head_abs + max;
    const mfb_frameq_mark *best = NULL;
    for (size_t i = 0; i < q->mcount; i++) {
        const mfb_frameq_mark *m = mark_at(q, i);
        if (m->off > limit)
            break;
        if (m->off > q->head_abs)
            best = m;
    }
    if (best) {
        *ends_message = true;
        q->chunk_end = *best;
        return (size_t)(best->off - q->head_abs);
    }
    *ends_message = false;
    return max;
}

void mfb_frameq_consume(mfb_frameq *q, size_t n, bool ended_message, uint64_t *msgs, uint64_t *pbytes)
{
    q->head += n;
    q->head_abs += n;
    q->mid_message = !ended_message;
    *msgs = *pbytes = 0;
    if (ended_message) {
        *msgs = q->chunk_end.msgs - q->msgs_out;
        *pbytes = q->chunk_end.pbytes - q->pbytes_out;
        q->msgs_out = q->chunk_end.msgs;
        q->pbytes_out = q->chunk_end.pbytes;
    }
    while (q->mcount && mark_at(q, 0)->off <= q->head_abs) {
        q->mfirst = (q->mfirst + 1) % q->mcap;
        q->mcount--;
    }
}

uint64_t mfb_frameq_unsent_msgs(const mfb_frameq *q)
{
    return q->msgs - q->msgs_out;
}

size_t mfb_frameq_drop_unstarted(mfb_frameq *q, uint64_t *msgs)
{
    size_t pending = mfb_frameq_pending(q);
    mfb_frameq_mark keep = {q->head_abs, q->msgs_out, q->pbytes_out};
    if (q->mid_message) {
        /* finish the message that is half out: keep up to the first boundary */
        keep = q->mcount ? *mark_at(q, 0) : tail_mark(q);
    }
    size_t keep_bytes = (size_t)(keep.off - q->head_abs);
    *msgs = q->msgs - keep.msgs;
    q->buf.len = q->head + keep_bytes;
    if (q->buf.data)
        q->buf.data[q->buf.len] = '\0';
    q->msgs = keep.msgs;
    q->pbytes = keep.pbytes;
    q->mcount = 0;
    q->mfirst = 0;
    q->last_mark = keep.off;
    if (keep_bytes)
        add_mark(q, keep); /* the new tail is a boundary */
    return pending - keep_bytes;
}
