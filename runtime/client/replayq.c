/*
 * replayq.c - the outbound byte stream of a client, replayable after a
 * disconnect.
 *
 * Producers append complete protocol records (PUB, HPUB, SUB, UNSUB, PING,
 * PONG, CONNECT) under the client lock; the service thread copies up to one
 * frame of bytes at a time out of it. Frames may cut records anywhere (the
 * server parses a byte stream), so the queue remembers where the record being
 * sent started: after a disconnect, that record and everything after it is
 * still here, and the PUB/HPUB records among them are replayed on the next
 * connection.
 *
 * Why it is not the broker's queue (broker/frameq.c, mf/reclaim.h): several
 * threads append, so frames are copied out under the lock rather than written
 * from the buffer; and the record starts it needs for a replay are found by
 * re-reading its own records as they go out, so a publish pays for no
 * per-record bookkeeping; and not even that when a frame takes all that is
 * queued: records are appended whole, so the end of the queue is a record's end. Only records this client wrote are ever scanned, so
 * the scanner trusts their shape ("VERB args\r\n" and, for PUB/HPUB, the last
 * argument is the number of bytes that follow before the final "\r\n"). Sent
 * bytes are given back by the rule both queues share (mf_buf_reclaim).
 *
 * A backlog (wire.c: 256 KiB or more) is not copied out under the lock frame by
 * frame: it is detached whole under the lock (O(1), mf_replayq_detach) and framed
 * from there without it, so publishers appending meanwhile (through the page faults
 * of a growing queue) do not hold up the writer; a disconnect merges its unsent
 * bytes back in front of the queue (reattach) before the replay is worked out.
 */
#include <string.h>

#include "client/client_int.h"
#include "mf/reclaim.h"

size_t mf_replayq_pending(const mf_replayq *q)
{
    return atomic_load_explicit(&q->out_left, memory_order_relaxed) + q->buf.len - q->rec;
}

size_t mf_replayq_record_len(const char *p, size_t n, bool *is_pub, size_t *payload_total)
{
    *is_pub = false;
    *payload_total = 0;
    const char *nl = memchr(p, '\n', n);
    if (!nl)
        return 0;
    size_t line = (size_t)(nl - p) + 1; /* includes CRLF */
    bool pub = (line > 4 && !memcmp(p, "PUB ", 4)) || (line > 5 && !memcmp(p, "HPUB ", 5));
    if (!pub)
        return line;
    /* last argument: digits just before "\r\n" */
    const char *e = nl - 1; /* '\r' */
    const char *s = e;
    while (s > p && s[-1] >= '0' && s[-1] <= '9')
        s--;
    if (s == e)
        return 0;
    size_t total = 0;
    for (const char *d = s; d < e; d++)
        total = total * 10 + (size_t)(*d - '0');
    if (line + total + 2 > n)
        return 0;
    *is_pub = true;
    *payload_total = total;
    return line + total + 2;
}

/* Moves *rec to the start of the record that holds byte *sent of b. */
static void advance_rec_in(const mf_buf *b, size_t sent, size_t *rec, size_t *rec_end)
{
    while (*rec < sent) {
        if (*rec_end <= *rec) {
            bool pub;
            size_t tot;
            size_t l = mf_replayq_record_len(b->data + *rec, b->len - *rec, &pub, &tot);
            if (!l) { /* cannot happen with our own records; resynchronise at sent */
                *rec = *rec_end = sent;
                return;
            }
            *rec_end = *rec + l;
        }
        if (*rec_end <= sent)
            *rec = *rec_end;
        else
            break;
    }
}

static void advance_rec(mf_replayq *q)
{
    advance_rec_in(&q->buf, q->sent, &q->rec, &q->rec_end);
}

/* A client has one queue: it keeps a burst's buffer up to this size once it is empty. */
#define SHRINK_CAP (4u * 1024u * 1024u)

/* Gives back the bytes before the record being sent (mf/reclaim.h). */
static void compact(mf_replayq *q)
{
    size_t moved = mf_buf_reclaim(&q->buf, 0, q->rec, SHRINK_CAP);
    q->sent -= moved;
    q->rec -= moved;
    q->rec_end = q->rec_end > moved ? q->rec_end - moved : 0;
}

size_t mf_replayq_take(mf_replayq *q, char *dst, size_t max)
{
    size_t avail = q->buf.len - q->sent;
    size_t n = avail < max ? avail : max;
    if (!n)
        return 0;
    memcpy(dst, q->buf.data + q->sent, n);
    q->sent += n;
    if (q->sent == q->buf.len)
        q->rec = q->rec_end = q->sent; /* all out: the end of the queue is a record's end */
    else
        advance_rec(q);
    compact(q);
    return n;
}

bool mf_replayq_detached(const mf_replayq *q)
{
    return q->osent < q->out.len;
}

bool mf_replayq_has_unsent(const mf_replayq *q)
{
    return mf_replayq_detached(q) || q->sent < q->buf.len;
}

bool mf_replayq_detach(mf_replayq *q, size_t min)
{
    if (q->out.len || q->buf.len - q->sent < min)
        return false;
    mf_buf spare = q->out; /* empty, possibly with warm storage */
    q->out = q->buf;
    q->osent = q->sent;
    q->orec = q->rec;
    q->orec_end = q->rec_end;
    q->buf = spare;
    q->buf.limit = q->out.limit;
    q->sent = q->rec = q->rec_end = 0;
    atomic_store_explicit(&q->out_left, q->out.len - q->orec, memory_order_relaxed);
    return true;
}

size_t mf_replayq_take_detached(mf_replayq *q, char *dst, size_t max)
{
    size_t avail = q->out.len - q->osent;
    size_t n = avail < max ? avail : max;
    if (!n)
        return 0;
    memcpy(dst, q->out.data + q->osent, n);
    q->osent += n;
    if (q->osent < q->out.len) {
        advance_rec_in(&q->out, q->osent, &q->orec, &q->orec_end);
    } else {
        /* all out (the last record ended with it): keep the storage for the next detach
         * unless a burst made it large (as compact() does) */
        if (q->out.cap > SHRINK_CAP)
            mf_buf_free(&q->out);
        q->out.len = 0;
        if (q->out.data)
            q->out.data[0] = '\0';
        q->osent = q->orec = q->orec_end = 0;
    }
    atomic_store_explicit(&q->out_left, q->out.len - q->orec, memory_order_relaxed);
    return n;
}

/* Under mu: puts the detached bytes not yet sent (from the record being sent) back in front
 * of `buf`, so that a replay sees one stream again. */
static mf_status reattach(mf_replayq *q)
{
    if (!q->out.len)
        return MF_OK;
    size_t keep = q->out.len - q->orec;
    /* while bytes are detached `buf` has sent nothing: its whole content follows */
    mf_status st = mf_buf_reserve(&q->out, q->buf.len);
    if (st)
        return st;
    memmove(q->out.data, q->out.data + q->orec, keep);
    memcpy(q->out.data + keep, q->buf.data ? q->buf.data : "", q->buf.len);
    q->out.len = keep + q->buf.len;
    q->out.data[q->out.len] = '\0';
    /* the merged stream is `buf` now, its record start where the detached one's was */
    size_t sent = q->osent - q->orec, rec_end = q->orec_end > q->orec ? q->orec_end - q->orec : 0;
    mf_buf old = q->buf;
    q->buf = q->out;
    q->buf.limit = old.limit;
    q->sent = sent;
    q->rec = 0;
    q->rec_end = rec_end;
    q->out = old;
    q->out.len = 0;
    if (q->out.data)
        q->out.data[0] = '\0';
    q->osent = q->orec = q->orec_end = 0;
    atomic_store_explicit(&q->out_left, 0, memory_order_relaxed);
    return MF_OK;
}

mf_status mf_replayq_salvage(mf_replayq *q, size_t limit, size_t max_payload, uint64_t *dmsgs, uint64_t *dbytes)
{
    mf_status rst = reattach(q);
    if (rst)
        return rst;
    char *d = q->buf.data;
    size_t r = q->rec, w = 0, len = q->buf.len;
    while (r < len) {
        bool pub;
        size_t tot;
        size_t l = mf_replayq_record_len(d + r, len - r, &pub, &tot);
        if (!l)
            break;
        if (pub) {
            bool fits = (!max_payload || tot <= max_payload) && w + l <= limit;
            if (fits) {
                memmove(d + w, d + r, l);
                w += l;
            } else {
                (*dmsgs)++;
                (*dbytes) += tot;
            }
        }
        r += l;
    }
    q->buf.len = w;
    if (d)
        d[w] = '\0';
    q->sent = q->rec = q->rec_end = 0;
    return MF_OK;
}

mf_status mf_replayq_prepend(mf_replayq *q, const mf_buf *prefix)
{
    if (!prefix->len)
        return MF_OK;
    mf_status rst = reattach(q);
    if (rst)
        return rst;
    mf_buf nb = MF_BUF_INIT;
    size_t rest = q->buf.len - q->rec;
    mf_status st = mf_buf_reserve(&nb, prefix->len + rest);
    if (st)
        return st;
    mf_buf_append(&nb, prefix->data, prefix->len);
    if (rest)
        mf_buf_append(&nb, q->buf.data + q->rec, rest);
    mf_buf_free(&q->buf);
    q->buf = nb;
    q->sent = q->rec = q->rec_end = 0;
    return MF_OK;
}

void mf_replayq_clear(mf_replayq *q)
{
    mf_buf_free(&q->out);
    q->osent = q->orec = q->orec_end = 0;
    atomic_store_explicit(&q->out_left, 0, memory_order_relaxed);
    mf_buf_free(&q->buf);
    q->sent = q->rec = q->rec_end = 0;
}
