/*
 * cs_ledger.h - the durable record of executions and of every target's outcome (SQLite tables
 * cs_executions, cs_execution_keys and cs_targets: cs_db.c), from which an execution resumes after
 * the service is killed.
 *
 * An execution's targets are snapshotted when it is created (cs_target_snapshot, numbered
 * 1..n in user_id order, in the same transaction as the execution row). Each target is then
 *   pending -> sent | skipped (reason) | failed (reason) | held (release_at) -> ... ,
 * a held target going back through the same decision when its release time comes.
 *
 * The engine (cs_engine.h) takes a batch of targets, publishes their notifications, waits until
 * the server has confirmed them (the client's flush: a PONG after the PUBs), and only then
 * records the batch's outcomes and counters in ONE transaction (cs_ledger_commit). So:
 *   - a target is never recorded as sent before the server had its notification:
 *     after a crash, missing notifications = 0 (delivery from the server to subscribers is
 *     NATS core's, at most once per subscriber);
 *   - a crash between publishing and committing leaves that batch pending, and the restarted
 *     service publishes it again with the same notification_ids: raw duplicates are at most
 *     one batch (batch_size) per crash, and 0 after de-duplication by notification_id.
 *
 * What a target's row says. A sent target at or below its execution's sent-through mark
 * (cs_execution_keys.sent_through) whose outcome was variant 0 after one profile request keeps the
 * pending row the snapshot wrote: the mark records it (cs_ledger.c). Read targets through the
 * view cs_target_outcomes, which applies the mark (such a target: state 1, variant 0, attempts 1,
 * no updated_at), not from cs_targets' state alone.
 *
 * Execution status (mf_campaign_status_update_status): pending (created, waiting for its start
 * time), running, paused, completed, failed, cancelled. Counters: total (targets), sent,
 * failed, skipped (preferences, deleted users), held (held now), ever_held, batches.
 *
 * Threads: one thread at a time (the sqlite3 handle's).
 */
#ifndef CS_LEDGER_H
#define CS_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "cs_target.h"
#include "cs_userview.h"
#include "mf/status.h"
#include "mf_sdk/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_target_state {
    CS_TARGET_PENDING = 0,
    CS_TARGET_SENT = 1,
    CS_TARGET_SKIPPED = 2,
    CS_TARGET_HELD = 3,
    CS_TARGET_FAILED = 4
} cs_target_state;

typedef struct cs_execution {
    char execution_id[37], campaign_id[37];
    mf_campaign_status_update_status status;
    mf_campaign_execute_execution_type type;
    mf_priority priority; /* the execute request's, 0 when it gave none */
    int64_t batch_size;
    int64_t start_at, created_at, updated_at; /* ms */
    int64_t total, sent, failed, skipped, held, ever_held, batches;
    char error_code[64];
    char error_message[256];
} cs_execution;

/* true for pending, running and paused (the execution still has work or may resume). */
bool cs_execution_active(mf_campaign_status_update_status s);

typedef struct cs_target_row {
    int64_t seq;
    char user_id[37];
    cs_target_state state; /* pending, or held (due) */
    int attempts;
    bool in_view;          /* cs_ledger_batch_view with users: the view has a row for user_id */
} cs_target_row;

typedef struct cs_outcome {
    int64_t seq;
    cs_target_state before;  /* the state it had in the batch (pending or held) */
    cs_target_state after;
    int64_t release_at;      /* held */
    const char *reason;      /* skipped / failed; may be NULL */
    int variant;             /* sent: 0-based variant, else -1 */
    int attempts;
} cs_outcome;

typedef struct cs_ledger cs_ledger;

mf_status cs_ledger_open(sqlite3 *db, cs_ledger **out, mf_error *err);
void cs_ledger_close(cs_ledger *l);

/*
 * Records a new execution e (status, type, priority, batch_size, start_at, created_at) and
 * snapshots its audience (a NULL: none, for an execution recorded only to say it failed); sets
 * e->total. Runs in its own transaction unless the caller has one
 * open. MF_ERR_DUPLICATE when execution_id exists (nothing written).
 */
mf_status cs_ledger_create(cs_ledger *l, cs_execution *e, const mf_campaign_create_target_audience *a,
                           const cs_target_opts *o, mf_error *err);

/* Reads an execution. *found false when there is none. */
mf_status cs_ledger_get(cs_ledger *l, const char *execution_id, cs_execution *out, bool *found, mf_error *err);

/* Sets the status (and error code/message, may be NULL) at now_ms. */
mf_status cs_ledger_set_status(cs_ledger *l, const char *execution_id, mf_campaign_status_update_status status,
                               const char *code, const char *message, int64_t now_ms, mf_error *err);

/*
 * The next batch: up to max targets - held ones whose release time has come (earliest first),
 * then pending ones in seq order. *n = 0 when there is nothing to do now.
 */
mf_status cs_ledger_batch(cs_ledger *l, const char *execution_id, int64_t now_ms, cs_target_row *rows, size_t max,
                          size_t *n, mf_error *err);

/*
 * As cs_ledger_batch, with two additions for the engine:
 *   after_seq  only the pending targets with seq > after_seq (0: all): the next batch taken
 *              while the batch in hand (pending targets up to seq after_seq, not yet
 *              committed) is being finished. Held targets are returned as by cs_ledger_batch,
 *              so the batch in hand must hold none of them;
 *   users      when not NULL (max entries), users[i] receives rows[i]'s row of the user view
 *              (cs_userview.h; rows[i].in_view false when the view has none), as a LEFT JOIN
 *              of cs_users would: the pending targets' rows by one walk of their user_id range
 *              (cs_ledger.c, view_merge). The caller frees them (cs_user_free); on an error none
 *              are left.
 * The pending targets are read along the primary key from the lowest seq that may still be
 * pending, which the ledger remembers per execution (cs_ledger.c): batches do not walk the
 * finished targets again (after a restart, the first one does, once), with after_seq or without.
 */
mf_status cs_ledger_batch_view(cs_ledger *l, const char *execution_id, int64_t now_ms, int64_t after_seq,
                               cs_target_row *rows, cs_user *users, size_t max, size_t *n, mf_error *err);

/* As cs_ledger_batch_view, the users' strings kept in texts (cs_userview.h: cs_userview_row_in;
 * NULL: each user owns its strings). texts is used during the call only; the caller resets it
 * before a batch and keeps it while the users are in use. */
mf_status cs_ledger_batch_view_in(cs_ledger *l, const char *execution_id, int64_t now_ms, int64_t after_seq,
                                  cs_target_row *rows, cs_user *users, cs_user_texts *texts, size_t max, size_t *n,
                                  mf_error *err);

/*
 * Records a batch's outcomes and the execution's counters in one transaction. Outcomes whose
 * `after` is pending are not written (the target stays pending). The sent-through mark moves in
 * the same transaction over the targets right after the ones already decided, when the outcomes
 * decide them, and the rows of those it records as sent are not rewritten. On an error (MF_ERR_IO,
 * or svc_db_status's mapping of another SQLite failure) everything is rolled back: no row, no
 * counter, no mark, and the batch's targets are read again.
 */
mf_status cs_ledger_commit(cs_ledger *l, const char *execution_id, const cs_outcome *o, size_t n, int64_t now_ms,
                           mf_error *err);

/*
 * As cs_ledger_commit, without waiting for the disk: the transaction is committed to the
 * write-ahead log (visible at once, and kept when the process dies) but is durable against a power
 * loss only after the log's next fdatasync - the caller's (cs_walsync.h), a checkpoint's, or the
 * next commit that waits. The connection's synchronous level is NORMAL for this transaction and
 * set back to what it was after it (both outside any transaction: SQLite refuses the change
 * inside one). Called inside a transaction the caller opened, it is cs_ledger_commit. On an
 * error nothing is recorded, as cs_ledger_commit; MF_ERR_IO also when the level could not be set
 * back (the batch is then recorded).
 */
mf_status cs_ledger_commit_nowait(cs_ledger *l, const char *execution_id, const cs_outcome *o, size_t n,
                                  int64_t now_ms, mf_error *err);

/*
 * Checkpoints held while executions run. SQLite checkpoints by itself after a commit that leaves
 * more pages in the write-ahead log than the connection's threshold (1,000 unless set): it copies
 * the log into the database file and syncs both, inside that commit. The launch of 100,000 targets
 * wrote ~1,500 pages of 4 KiB, so its commit paid ~23 ms of copying and syncing (uprobes,
 * bench/RESULTS.md) before the execution's first batch could start.
 *
 * cs_ledger_hold_checkpoints(l, true) raises the threshold to CS_LEDGER_HELD_LOG_BYTES worth of
 * pages, which still bounds the log, and remembers the connection's own. false puts
 * it back, and the log is then checkpointed once, at the first cs_ledger_checkpoint: the caller
 * runs that when the copy delays nothing (the service: after what its last tasks published has
 * gone to the client's service thread). A connection with no automatic checkpoint (threshold
 * <= 0) is left as it is. Caveat: while held, pages read from the log are read with pread(2),
 * not through the memory map, so a long hold makes reads of recently written pages dearer.
 *
 * cs_ledger_checkpoint: MF_OK when nothing was due, or a PASSIVE checkpoint ran (it copies what
 * no reader still needs and never waits: a replica that holds the database makes it copy less,
 * and SQLITE_BUSY counts as done); MF_ERR_IO otherwise, with err set.
 */
#define CS_LEDGER_HELD_LOG_BYTES (64 * 1024 * 1024)
void cs_ledger_hold_checkpoints(cs_ledger *l, bool hold);
mf_status cs_ledger_checkpoint(cs_ledger *l, mf_error *err);

/*
 * Replicas (cs_lease.h): from now on cs_ledger_commit records a batch only while the execution's
 * lease row names lease_owner, checked inside the commit's transaction; otherwise it writes
 * nothing and returns MF_ERR_NOT_FOUND. A replica that was stopped for longer than its lease and
 * runs again cannot record a batch that the replica which took the execution over sends and
 * records too (its counters would count those targets twice). MF_ERR_IO when the check cannot
 * be prepared.
 */
mf_status cs_ledger_fence(cs_ledger *l, const char *lease_owner, mf_error *err);

/* The earliest release time of a held target; *none when no target is held. */
mf_status cs_ledger_next_release(cs_ledger *l, const char *execution_id, int64_t *at_ms, bool *none, mf_error *err);

/* Whether any target is still pending. */
mf_status cs_ledger_has_pending(cs_ledger *l, const char *execution_id, bool *any, mf_error *err);

/* Calls cb for every execution that is pending, running or paused (resume after a restart). */
typedef void (*cs_ledger_cb)(void *ctx, const cs_execution *e);
mf_status cs_ledger_active(cs_ledger *l, cs_ledger_cb cb, void *ctx, mf_error *err);

/* Calls cb for the newest `limit` executions (of campaign_id, or all when NULL), newest first. */
mf_status cs_ledger_list(cs_ledger *l, const char *campaign_id, size_t limit, cs_ledger_cb cb, void *ctx,
                         mf_error *err);

/* Counts of one execution's targets by state and reason ("sent", "skipped:push_disabled", ...),
 * for the admin API. cb gets each (label, count) in label order. */
typedef void (*cs_ledger_count_cb)(void *ctx, const char *label, int64_t count);
mf_status cs_ledger_breakdown(cs_ledger *l, const char *execution_id, cs_ledger_count_cb cb, void *ctx, mf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* CS_LEDGER_H */
