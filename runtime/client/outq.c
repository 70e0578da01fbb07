/*
 * outq.c - the outbound byte stream of a client.
 *
 * Producers append complete protocol records (PUB, HPUB, SUB, UNSUB, PING,
 * PONG, CONNECT) under the client lock; the service thread copies up to one
 * frame of bytes at a time out of it. Frames may cut records anywhere (the
 * server parses a byte stream), so the queue remembers where the record being
 * sent started: after a disconnect, that record and everything after it is
 * still here, and the PUB/HPUB records among them can be sent again.
 *
 * Only records this client wrote are ever scanned, so the scanner trusts
 * their shape ("VERB args\r\n" and, for PUB/HPUB, the last argument is the
 * number of bytes that follow before the final "\r\n").
 */
#include <string.h>

#include "client/client_int.h"

size_t mf_outq_pending(const mf_outq *q)
{
    return q->buf.len - q->rec;
}

size_t mf_outq_record_len(const char *p, size_t n, bool *is_pub, size_t *payload_total)
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

static void advance_rec(mf_outq *q)
{
    while (q->rec < q->sent) {
        if (q->rec_end <= q->rec) {
            bool pub;
            size_t tot;
            size_t l = mf_outq_record_len(q->buf.data + q->rec, q->buf.len - q->rec, &pub, &tot);
            if (!l) { /* cannot happen with our own records; resynchronise at sent */
                q->rec = q->rec_end = q->sent;
                return;
            }
            q->rec_end = q->rec + l;
        }
        if (q->rec_end <= q->sent)
            q->rec = q->rec_end;
        else
            break;
    }
}

static void compact(mf_outq *q)
{
    if (q->rec == q->buf.len) {
        if (q->buf.cap > 4u * 1024u * 1024u)
            mf_buf_free(&q->buf); /* give a burst's memory back */
        q->buf.len = q->sent = q->rec = q->rec_end = 0;
        if (q->buf.data)
            q->buf.data[0] = '\0';
        return;
    }
    /* move only when the dead prefix is large and at least half the buffer */
    if (q->rec < 64 * 1024 || q->rec < q->buf.len / 2)
        return;
    size_t off = q->rec;
    memmove(q->buf.data, q->buf.data + off, q->buf.len - off);
    q->buf.len -= off;
    q->buf.data[q->buf.len] = '\0';
    q->sent -= off;
    q->rec_end = q->rec_end > off ? q->rec_end - off : 0;
    q->rec = 0;
}

size_t mf_outq_take(mf_outq *q, char *dst, size_t max)
{
    size_t avail = q->buf.len - q->sent;
    size_t n = avail < max ? avail : max;
    if (!n)
        return 0;
    memcpy(dst, q->buf.data + q->sent, n);
    q->sent += n;
    advance_rec(q);
    compact(q);
    return n;
}

mf_status mf_outq_salvage(mf_outq *q, size_t limit, size_t max_payload, uint64_t *dmsgs, uint64_t *dbytes)
{
    char *d = q->buf.data;
    size_t r = q->rec, w = 0, len = q->buf.len;
    while (r < len) {
        bool pub;
        size_t tot;
        size_t l = mf_outq_record_len(d + r, len - r, &pub, &tot);
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

mf_status mf_outq_prepend(mf_outq *q, const mf_buf *prefix)
{
    if (!prefix->len)
        return MF_OK;
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

void mf_outq_clear(mf_outq *q)
{
    mf_buf_free(&q->buf);
    q->sent = q->rec = q->rec_end = 0;
}
