/*
 * mf/reclaim.h - the compaction rule of the two outbound queues (internal, not
 * installed).
 *
 * The runtime has two outbound queues because their jobs differ (each file's
 * header says more):
 *   client/replayq.c  mf_replayq: many threads append records under the client's
 *                     lock; frames are copied out and may cut a record anywhere;
 *                     after a disconnect the unsent PUB/HPUB records, the cut one
 *                     whole, are replayed on the next connection. It finds record
 *                     starts by re-reading its own records, so a PUB costs no
 *                     bookkeeping.
 *   broker/frameq.c   mfb_frameq: one thread; frames are written in place (headroom
 *                     for the WebSocket header, no copy) and end at a message
 *                     boundary, which coarse marks remember; they also drop a slow
 *                     consumer's backlog without cutting a message and count the
 *                     MSGs that went out. Nothing is ever resent.
 * What they share is how the bytes already sent are given back, written here once.
 */
#ifndef MF_RECLAIM_H
#define MF_RECLAIM_H

#include <stddef.h>
#include <string.h>

#include "mf/buf.h"

/* A dead prefix is moved away only from this size on (and once it outweighs the live bytes). */
#define MF_RECLAIM_MIN_DEAD (64u * 1024u)

/*
 * Reclaims the sent bytes of an outbound buffer laid out as
 *     [0, base) kept (headroom) | [base, live) sent, dead | [live, len) still needed
 * with base <= live <= b->len and b->len >= base.
 *  - Nothing still needed (live == len): the buffer starts over at base; when its
 *    capacity is above shrink_cap it is freed instead (b->len == 0: the caller
 *    puts its headroom back), so a burst's memory is given back.
 *  - Otherwise the needed bytes move down to base once the dead prefix is at least
 *    MF_RECLAIM_MIN_DEAD and at least as large as they are: every byte moves O(1)
 *    times on average.
 * Returns how far the needed bytes moved down (0: they did not): the caller
 * subtracts it from its offsets into the buffer. b->data stays NUL-terminated.
 */
static inline size_t mf_buf_reclaim(mf_buf *b, size_t base, size_t live, size_t shrink_cap)
{
    size_t dead = live - base, needed = b->len - live;
    if (!needed) {
        if (b->cap > shrink_cap) {
            mf_buf_free(b);
            return dead;
        }
        b->len = base;
    } else if (dead >= MF_RECLAIM_MIN_DEAD && dead >= needed) {
        memmove(b->data + base, b->data + live, needed);
        b->len = base + needed;
    } else {
        return 0;
    }
    if (b->data)
        b->data[b->len] = '\0';
    return dead;
}

#endif
