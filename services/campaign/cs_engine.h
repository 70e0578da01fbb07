/*
 * cs_engine.h - the Campaign Service's execution engine: a state machine driven by events.
 *
 * The engine owns no thread, socket or clock. Everything it does happens inside one of its
 * entry points (a message handler, the timer, an admin request, a reply callback), all of
 * which must be called on ONE thread (the service thread of the client); everything it needs
 * from the world goes through the sink: the clock, one timer, profile requests, and publishing.
 * Tests drive it with a fake sink and a fake clock; the service wires the sink to the generated
 * typed API (campaign_service_request_user_info_async, campaign_service_send_*).
 *
 * What it does:
 *   campaign.create   validate (cs_validate.h), identity (cs_identity.h): a new campaign is
 *                     stored with its estimated_reach and schedule in one transaction and
 *                     announced (campaign.analytics campaign_created); a repeat with the same
 *                     content changes nothing; a repeat with other content or an invalid
 *                     campaign is refused: campaign.analytics campaign_failed (the contract's
 *                     CampaignAnalyticsEvent has no error member, so the code - CAMPAIGN_CONFLICT,
 *                     INVALID_* - with its pointer and message is logged and kept in
 *                     cs_engine_refusals for the admin API).
 *   campaign.execute  unknown campaign: the execution is recorded as failed and reported
 *                     (campaign.status failed, error CAMPAIGN_NOT_FOUND; analytics
 *                     campaign_failed). An execution_id seen before is refused: campaign.status
 *                     with the execution's current status and progress and error
 *                     EXECUTION_EXISTS; nothing else changes. Otherwise the audience is
 *                     snapshotted into the ledger (cs_ledger.h), status pending, then - at once
 *                     for immediate/batch, at the campaign's scheduled_at for scheduled -
 *                     running with analytics campaign_executed.
 *   schedules         scheduled/recurring campaigns fire by themselves (cs_schedule.h).
 *   batches           at most batch_size targets (the execute's, else the campaign's), and
 *                     never more than rate_limit per second (the targets and their view rows
 *                     read in one statement, cs_ledger_batch_view): a batch of n sends is followed by
 *                     a pause so that batches start at most rate_limit targets per second
 *                     (batch size is capped at rate_limit). Per target:
 *                       deleted user / push off / the campaign's category off -> skipped (reason);
 *                       respect_quiet_hours and inside the user's quiet hours -> held until
 *                         they end (checked again with the fresh timezone after the fetch);
 *                       else the fresh profile is requested (timeout, then up to max_retries
 *                         more attempts with backoff; then failed "profile_unavailable");
 *                         a reply with error USER_NOT_FOUND / INVALID_REQUEST, or a refusal
 *                         (MF_ERR_REFUSED: the responder failed), fails the target at once;
 *                       variant (cs_variant.h), localization and interpolation
 *                         (cs_template.h; a missing value fails the target "template: ...");
 *                       PushNotification on notification.user.{user_id}.push with
 *                         notification_id = v5(execution_id/user_id), the template's priority
 *                         (else the execute's, else normal), data = the template's data plus
 *                         campaign_id, execution_id and (A/B) variant "A", "B", ...;
 *                         analytics notification_sent. A push that cannot be published (the
 *                         client's buffer is full, the connection is closed) leaves the target
 *                         pending for a later batch.
 *                     Three batches in flight: once every target of a batch is decided, the
 *                     next batch (asked ahead: read and its requests sent with the batch before
 *                     it, its replies kept) becomes the batch in hand, and the one after it is
 *                     asked ahead, before the finished batch is flushed and committed, so
 *                     user-service answers a batch while the one before it is delivered - only
 *                     when the finished batch had no held target and left none pending (the
 *                     ledger's query skips its seqs: cs_ledger_batch_view), no pause, cancel,
 *                     stop, rate-limit wait or publish failure is in the way; else the batch
 *                     asked ahead is dropped (its targets stay pending), as it is when it was
 *                     read more than ahead_max_age_ms before (screened on old data). Nothing is asked ahead
 *                     with a rate limit, or while the batch in hand holds a held target (the
 *                     ledger returns those whatever after_seq). A batch's notifications are
 *                     published only once it is in hand and after the commit before it (one
 *                     thread).
 *                     After every batch: outcomes committed (cs_ledger_commit) and campaign.status
 *                     running with progress {total_targets, sent, failed, success_rate =
 *                     sent / (sent + failed), when anything was attempted}.
 *   completion        no pending and no held target left: completed, analytics
 *                     campaign_completed. Storage errors: failed, code STORAGE_ERROR.
 *   admin             pause (running -> paused after the batch in hand), resume (paused ->
 *                     running), cancel (pending/running/paused -> cancelled, final; targets not
 *                     yet processed stay unprocessed). With leases, a request for an execution
 *                     another replica runs is recorded for it (cs_engine_request).
 *
 * Crash and restart: see cs_ledger.h for the guarantee (missing 0; duplicates after
 * de-duplication by notification_id 0; raw duplicates at most one batch per crash). "Sent" is
 * committed only after the sink's flush said the batch's notifications reached the server; the
 * batches taken and asked ahead have published nothing before that commit, so at most one batch is
 * published and not committed at any time. With the sink's sync_start, "committed" means
 * durable: the commit does not wait for the disk, the batch after it does its work (requests,
 * replies, rendering) meanwhile, and holds back its notifications until cs_engine_on_durable.
 * cs_engine_open resumes every pending, running and paused execution from the ledger.
 *
 * Threads: all functions on one thread. Ownership: the engine borrows db and the sink for its
 * whole life. Shutdown: cs_engine_stop, wait for cs_engine_idle (replies of the batch in hand
 * come back), then end the transport - its pending callbacks must all have run (the mflow client
 * runs them with MF_ERR_CLOSED on destroy) - then cs_engine_close.
 */
#ifndef CS_ENGINE_H
#define CS_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include "cs_actions.h"
#include "cs_ledger.h"
#include "cs_validate.h"
#include "mf/status.h"
#include "mf_sdk/types.h"
#include "cs_log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs exactly once per accepted request: st MF_OK with the reply (valid during the call), or
 * an error (MF_ERR_TIMEOUT, MF_ERR_NO_RESPONDERS, MF_ERR_CLOSED, an invalid reply...). */
typedef void (*cs_user_info_cb)(void *cb_ctx, mf_status st, const mf_user_info_reply *reply, const mf_error *err);

typedef struct cs_sink {
    void *ctx;
    /* The time now, ms since the epoch. */
    int64_t (*now)(void *ctx);
    /* Arms the engine's one timer: call cs_engine_on_timer once, at or after at_ms (replaces
     * any earlier arming); at_ms == CS_NO_TIME disarms. */
    void (*timer)(void *ctx, int64_t at_ms);
    /* Sends user.info.request; on MF_OK, cb(cb_ctx, ...) runs exactly once later (never from
     * inside this call). On an error nothing was sent and cb never runs. */
    mf_status (*request_user_info)(void *ctx, const char *user_id, int timeout_ms, cs_user_info_cb cb, void *cb_ctx,
                                   mf_error *err);
    mf_status (*publish_push)(void *ctx, const char *user_id, const mf_push_notification *msg, mf_error *err);
    mf_status (*publish_status)(void *ctx, const mf_campaign_status_update *msg, mf_error *err);
    /* error_code: with campaign_failed, why (CAMPAIGN_NOT_FOUND, ...), sent as the message's
     * Mflow-Error-Code header (the payload has no member for it); NULL otherwise. */
    mf_status (*publish_analytics)(void *ctx, const mf_campaign_analytics_event *msg, const char *error_code,
                                   mf_error *err);
    /* Returns MF_OK once everything published so far has reached the server (the mflow client:
     * mf_client_flush). Called before a batch with sent notifications is committed; on an error
     * the batch's notifications stay pending and go again later. May be NULL (no such check). */
    mf_status (*flush)(void *ctx, mf_error *err);
    /* Starts the confirmation that flush() then waits for, so that other work (the next batch's
     * reads and requests) overlaps the round trip: flush() after flush_start() answers for
     * everything published before flush_start(). Never blocks. May be NULL. */
    void (*flush_start)(void *ctx);
    /* Makes the batches committed so far durable without the engine waiting for it: every
     * commit up to the ticket-th (counted from 1 by the engine), and then - never from inside this
     * call - cs_engine_on_durable(ticket, ...) runs on the engine's thread (the service: an
     * fdatasync of the database's write-ahead log on a thread of its own, cs_walsync.h). With it
     * a batch is committed without waiting for the disk (cs_ledger_commit_nowait), and the
     * execution's next notifications are published only once the commit is durable. May be
     * NULL: each commit waits for the disk itself. */
    void (*sync_start)(void *ctx, uint64_t ticket);
    /* Whether the transport is connected. While it is not, no batch starts, and a request that
     * fails then does not count as an attempt (a broker outage fails no target). May be NULL. */
    bool (*ready)(void *ctx);
    /* Staged publishing of the notifications a batch releases at once, in chunks of some tens
     * (all three, or none: then publish_push and publish_analytics, one by one). stage_push and
     * stage_analytics validate, encode and address a message into staging area `who` (0 or 1)
     * without publishing it: each message staged (MF_OK) takes the next index of its area, from 0;
     * on an error nothing is staged. send_staged publishes area who's messages in order and empties
     * the area: MF_OK, all went; otherwise the first *sent went, message *sent did not (the status
     * says why: those of publish_push) and none after it did. Each area is used by one thread at a
     * time, and the two by two threads at once: the engine's (area 0) and its helper (area 1,
     * cs_share.h), which share the rendering, encoding and publishing. */
    mf_status (*stage_push)(void *ctx, int who, const mf_push_notification *msg, mf_error *err);
    mf_status (*stage_analytics)(void *ctx, int who, const mf_campaign_analytics_event *msg, mf_error *err);
    mf_status (*send_staged)(void *ctx, int who, size_t *sent, mf_error *err);
    /* What happened, for the log ("debug", "info", "warn", "error"). May be NULL. */
    cs_log_fn log;
} cs_sink;

typedef struct cs_engine_config {
    int new_days;           /* new_users: registered within this many days (default 30) */
    int active_days;        /* active_users: activity within this many days (default 30) */
    int request_timeout_ms; /* one profile request (default 2000) */
    int retry_backoff_ms;   /* before retry n: backoff * 2^(n-1), at most 5 s (default 100) */
    int publish_retry_ms;   /* after a push could not be published (default 1000) */
    /* the batch asked ahead becomes the batch in hand only when it was read (screened: deleted,
     * preferences, quiet hours) at most this long before; else it is read again, so that a batch
     * in hand that waited for retries does not make the next one publish on old screening
     * (default 1000; a batch takes milliseconds when user-service answers) */
    int ahead_max_age_ms;
    /* > 0: executions are leased (cs_lease.h), for replicas sharing the database: an execution
     * runs only while this engine holds its lease (lease_ms long, renewed after a batch when half
     * of it is gone, and on the lease tick); every lease_ms / 3 the tick renews, adopts the
     * active executions whose lease is free (their replica stopped or was killed) and re-reads
     * the schedules (other replicas add campaigns). 0 (the default): no leases. */
    int lease_ms;
} cs_engine_config;

/* Defaults for every field left 0. */
void cs_engine_config_defaults(cs_engine_config *c);

typedef struct cs_engine cs_engine;

/* Opens the engine on a migrated database and resumes the active executions (the timer is
 * armed; nothing is sent from inside this call). */
mf_status cs_engine_open(sqlite3 *db, const cs_sink *sink, const cs_engine_config *cfg, cs_engine **out,
                         mf_error *err);
void cs_engine_close(cs_engine *e);

/* campaign.create. MF_OK when created or an identical repeat (*created tells which, may be
 * NULL); otherwise the refusal, also published, in rej (may be NULL). */
mf_status cs_engine_create_campaign(cs_engine *e, const mf_campaign_create *c, bool *created, cs_reject *rej);

/* campaign.execute. MF_OK when the execution was accepted; otherwise the refusal (also
 * published) in rej (may be NULL): CAMPAIGN_NOT_FOUND, EXECUTION_EXISTS, STORAGE_ERROR. */
mf_status cs_engine_execute(cs_engine *e, const mf_campaign_execute *x, cs_reject *rej);

/* The sink's timer fired. */
void cs_engine_on_timer(cs_engine *e);

/* The sink's sync_start(ticket) is done: every commit up to ticket is durable (st MF_OK), and
 * the executions that waited for it publish the notifications they held back (unless cancelled,
 * paused or stopping: those stay pending). Otherwise (the disk said no: st, why) those commits
 * may be lost in a power loss; the executions that waited end failed, code STORAGE_ERROR, and
 * publish nothing more (their held targets stay pending). A failure is final: every later
 * answer counts as that failure too. An MF_OK for a ticket not above one already answered is
 * ignored. Executions resumed or adopted (cs_engine_open, leases) also wait for one sync before
 * their first notification: the last process's last commit may not have been on disk. */
void cs_engine_on_durable(cs_engine *e, uint64_t ticket, mf_status st, const char *why);

/* Admin: pause, resume or cancel an execution, at any replica.
 *
 * Runs here (or no leases, or its lease is free: this engine adopts it now): applied at once, as
 * cs_engine.h's "admin" says; out->state CS_ACTION_APPLIED. Run by another replica (cfg.lease_ms
 * > 0): recorded in cs_actions for the lease holder, which applies it at its next batch end or
 * lease tick (every lease_ms / 3), or for the replica that adopts the execution; out->state
 * CS_ACTION_PENDING with out->id and out->holder. While a request is pending:
 *   - the same action again: nothing new, out is the pending request;
 *   - cancel after a pending pause/resume: that one is superseded, the cancel pending;
 *   - pause/resume after a pending cancel: MF_ERR_INVALID_ARG ("being cancelled"), as at the holder;
 *   - resume after a pending pause, pause after a pending resume: the pending one is withdrawn
 *     (the execution stays as it is), out->state CS_ACTION_APPLIED.
 * Errors: MF_ERR_NOT_FOUND (no such execution), MF_ERR_INVALID_ARG (its state does not allow the
 * action: err says which state - pause needs running, resume paused, cancel pending, running or
 * paused; checked here against the ledger, and again by the holder, which refuses (state
 * CS_ACTION_REFUSED, logged) a request the state no longer allows), MF_ERR_IO. Every request and
 * its settling is logged (the replicas, how long it waited). */
mf_status cs_engine_request(cs_engine *e, const char *execution_id, cs_action_kind kind, cs_action *out,
                            mf_error *err);
/* cs_engine_request without the answer: MF_OK when applied or recorded. */
mf_status cs_engine_pause(cs_engine *e, const char *execution_id, mf_error *err);
mf_status cs_engine_resume(cs_engine *e, const char *execution_id, mf_error *err);
mf_status cs_engine_cancel(cs_engine *e, const char *execution_id, mf_error *err);

/* The newest admin request of an execution (*found false: none, or no leases) and, with
 * leases, the owner id of its lease holder in holder ("" when no replica holds it). MF_ERR_IO. */
mf_status cs_engine_last_request(cs_engine *e, const char *execution_id, cs_action *out, bool *found,
                                 char holder[64], mf_error *err);

/* A refused campaign.create (the newest CS_REFUSALS_KEPT are kept in memory). */
typedef struct cs_refusal {
    char campaign_id[64];
    char code[32];
    mf_error err;      /* pointer and message */
    int64_t at_ms;
} cs_refusal;

/* Calls cb for the kept refusals, newest first. */
void cs_engine_refusals(const cs_engine *e, void (*cb)(void *ctx, const cs_refusal *r), void *ctx);

/* Reads an execution from the ledger (counters as committed). */
mf_status cs_engine_execution(cs_engine *e, const char *execution_id, cs_execution *out, bool *found, mf_error *err);

/* Stops starting batches and firing schedules (shutdown). Batches in hand finish. */
void cs_engine_stop(cs_engine *e);
/* true when no batch is in hand. */
bool cs_engine_idle(const cs_engine *e);

/* The ledger's checkpoints are held while an execution runs, from its launch's commit on
 * (cs_ledger_hold_checkpoints), so that no batch and no launch waits for the copy of the log into
 * the database file. Once none runs, the checkpoint is due: this runs it. For the caller to call
 * when the copy delays nothing - the service, after what its tasks published has left for the
 * client's service thread - and never from inside an engine call. A failure is logged. */
void cs_engine_checkpoint(cs_engine *e);

typedef struct cs_engine_stats {
    uint64_t requests;   /* profile requests sent (retries included) */
    uint64_t retries;    /* of those, retries */
    uint64_t pushes;     /* notifications published */
    uint64_t batches;    /* batches committed */
    uint64_t publish_failures;
    uint64_t active_runs;
} cs_engine_stats;
void cs_engine_stats_get(const cs_engine *e, cs_engine_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* CS_ENGINE_H */
