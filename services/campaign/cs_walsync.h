/*
 * cs_walsync.h - makes a database's write-ahead log durable on a thread of its own, so that the
 * engine goes on with the next batch while the disk writes the last one.
 *
 * The engine commits a batch without waiting for the disk (cs_ledger_commit_nowait), asks for
 * the log to be made durable (cs_walsync_request, with a ticket that grows by one per commit),
 * and publishes the next batch's notifications only once that ticket is done. So a power loss
 * costs at most the batch that was published and not yet durable, as when each commit waited
 * (cs_engine.h, "Crash and restart").
 *
 * How: fdatasync(2) of the log file through a descriptor of its own, opened at the first sync and
 * again when the path names another file (SQLite made the log anew). fsync and fdatasync act on
 * the file, not on the descriptor, so this writes what SQLite's own descriptor wrote; and a
 * descriptor kept open is told of every write-back error from its opening on (one opened after
 * an error someone else saw is not).
 *
 * A failure is final: every later ticket is answered with it. The kernel reports a lost
 * write-back once and then calls the pages clean, and SQLite's recovery stops at the first bad
 * frame of the log, so no later sync could make the commits after it durable. A log that does
 * not exist is a failure too: while the service's connection is open SQLite keeps it.
 *
 * Checkpoints stay SQLite's own, in the committing thread: run from another connection, PASSIVE
 * checkpoints never let the log start over while the engine kept committing, and it grew to
 * 850 MB during a 100,000-user import (measured; see bench/RESULTS.md).
 *
 * Rules:
 *   1. cs_walsync_request(w, t) is thread-safe and never blocks on the disk. Requests coalesce:
 *      one fdatasync started after request t answers for every ticket <= t.
 *   2. done(ctx, t, st, why) runs on the syncer thread, once per fdatasync, with the highest
 *      ticket it answers for: st MF_OK, or MF_ERR_IO and why (strerror) when open or fdatasync
 *      failed, then or before (rule above). It must not call back into w. Tickets answered are
 *      increasing.
 *   3. cs_walsync_close finishes the fdatasync in progress (its done runs), answers no further
 *      request, joins the thread and frees w. Not from inside done.
 */
#ifndef CS_WALSYNC_H
#define CS_WALSYNC_H

#include <stdint.h>
#include "mf/status.h"

typedef struct cs_walsync cs_walsync;

typedef void (*cs_walsync_done_fn)(void *ctx, uint64_t ticket, mf_status st, const char *why);

/* Starts the syncer thread for the log at wal_path (copied). MF_ERR_NOMEM / MF_ERR_IO (the
 * thread) with err set; *out NULL then. */
mf_status cs_walsync_open(const char *wal_path, cs_walsync_done_fn done, void *ctx, cs_walsync **out, mf_error *err);

/* Asks for every commit before this call to be made durable; ticket is the caller's count of
 * such commits (increasing). */
void cs_walsync_request(cs_walsync *w, uint64_t ticket);

/* NULL is a no-op. */
void cs_walsync_close(cs_walsync *w);

#endif /* CS_WALSYNC_H */
