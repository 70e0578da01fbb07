/*
 * cs_share.h - a helper thread that shares the items of a loop with the thread that runs it.
 *
 * The engine is one thread, and in bench/campaign it is the limit: it was on a CPU 65 % of a
 * campaign while the machine's two CPUs stood idle 30 % of it (perf, all CPUs). Most of what it
 * does is ordered (the ledger, the batch's state), but rendering, encoding and publishing a
 * batch's notifications are independent per target: the engine shares that loop with one helper.
 *
 *     cs_share *sh;
 *     cs_share_open(&sh, err);
 *     cs_share_run(sh, n, 16, fn, ctx);   fn(ctx, from, to, who) for chunks covering [0, n)
 *     cs_share_close(sh);
 *
 * Rules:
 *  1. cs_share_run calls fn(ctx, from, to, who) for chunks [from, to) of at most `chunk` items
 *     that cover [0, n) exactly once, on the calling thread (who 0) or the helper (who 1), each
 *     chunk claimed by either thread from a shared counter, and returns once every call has
 *     returned. Items must not depend on each other; fn may use per-`who` scratch memory (two
 *     calls at once never share a who).
 *  2. The calling thread never waits for the helper to start: it claims chunks from the first
 *     one, so when the helper does not get a CPU (a busy machine), the caller does every item
 *     itself and waits at most for the chunk the helper has claimed. Small n (<= chunk) runs on
 *     the caller alone, without waking the helper.
 *  3. Memory the caller wrote before cs_share_run is visible to fn on the helper, and what fn
 *     wrote on the helper is visible to the caller after cs_share_run returns.
 *  4. Threads: one thread calls cs_share_run at a time (the engine's); cs_share_close from the
 *     thread that opened it, never during a run.
 *
 * cs_share_open: MF_OK, MF_ERR_NOMEM, MF_ERR_IO (no thread could be started; err says why).
 * On error *out is NULL and nothing is left behind. cs_share_close(NULL) is a no-op.
 */
#ifndef CS_SHARE_H
#define CS_SHARE_H

#include <stddef.h>

#include "mf/status.h"

typedef struct cs_share cs_share;

typedef void (*cs_share_fn)(void *ctx, size_t from, size_t to, int who);

mf_status cs_share_open(cs_share **out, mf_error *err);
void cs_share_run(cs_share *sh, size_t n, size_t chunk, cs_share_fn fn, void *ctx);
void cs_share_close(cs_share *sh);

/* Items the helper ran since cs_share_open, counted before each chunk is done: up to date when
 * cs_share_run returns. */
size_t cs_share_helped(const cs_share *sh);

#endif
