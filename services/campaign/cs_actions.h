/*
 * cs_actions.h - admin requests (pause, resume, cancel) waiting for the replica that runs an
 * execution, when several Campaign Services share one database (table cs_actions, cs_lease.h).
 *
 * A request received by a replica that does not hold the execution's lease is recorded here,
 * pending; the lease holder settles it at its next batch end or lease tick (applied, or refused
 * when the execution's state no longer allows it), and an adopting replica settles it when it
 * adopts the execution. The rules that decide what is recorded live in the engine
 * (cs_engine.c, cs_engine_request); this module only stores and reads the rows.
 *
 * Times are the real clock (cs_lease_now), compared between processes. Transactions are the
 * caller's (each call is one statement). Threads: the thread that owns db.
 */
#ifndef CS_ACTIONS_H
#define CS_ACTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_action_kind { CS_ACTION_PAUSE = 1, CS_ACTION_RESUME = 2, CS_ACTION_CANCEL = 3 } cs_action_kind;

typedef enum cs_action_state {
    CS_ACTION_PENDING = 0,    /* recorded, waiting for the lease holder */
    CS_ACTION_APPLIED = 1,    /* applied by settled_by */
    CS_ACTION_REFUSED = 2,    /* the execution's state did not allow it any more (message says) */
    CS_ACTION_SUPERSEDED = 3, /* a cancel came while it was pending */
    CS_ACTION_WITHDRAWN = 4   /* the opposite action came while it was pending (pause <-> resume) */
} cs_action_state;

/* "pause", "resume", "cancel"; "pending", "applied", ... ("?" for an unknown value). */
const char *cs_action_kind_name(cs_action_kind k);
const char *cs_action_state_name(cs_action_state s);

typedef struct cs_action {
    int64_t id;                 /* 0 until recorded */
    char execution_id[64];
    cs_action_kind kind;
    cs_action_state state;
    char requested_by[64];      /* lease owner id of the receiving replica */
    int64_t requested_at;       /* ms, real time */
    char holder[64];            /* the lease holder when it was received, "" for none */
    char settled_by[64];        /* "" while pending */
    int64_t settled_at;         /* 0 while pending */
    char message[200];
} cs_action;

typedef struct cs_actions cs_actions;

/* Prepares the statements (the table is migration 4 of cs_db.c). MF_ERR_NOMEM, MF_ERR_IO. */
mf_status cs_actions_open(sqlite3 *db, cs_actions **out, mf_error *err);
void cs_actions_close(cs_actions *a);

/* Records x (every field but id, which is set). MF_ERR_IO. */
mf_status cs_actions_add(cs_actions *a, cs_action *x, mf_error *err);

/* The oldest pending request of an execution (*found false when none). MF_ERR_IO. */
mf_status cs_actions_pending(cs_actions *a, const char *execution_id, cs_action *out, bool *found, mf_error *err);

/* The newest request of an execution, whatever its state. MF_ERR_IO. */
mf_status cs_actions_newest(cs_actions *a, const char *execution_id, cs_action *out, bool *found, mf_error *err);

/* Settles request id: state, by whom, when, why (message may be NULL). With only_pending, only
 * a request still pending changes (so two replicas never both settle one). 1 changed, 0 not
 * (not pending any more, or no such id), -1 a database error (err says). */
int cs_actions_settle(cs_actions *a, int64_t id, bool only_pending, cs_action_state state, const char *by,
                      int64_t at, const char *message, mf_error *err);

/* Settles every pending request of an execution (it ended). The count changed, -1 an error. */
int cs_actions_settle_all(cs_actions *a, const char *execution_id, cs_action_state state, const char *by,
                          int64_t at, const char *message, mf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* CS_ACTIONS_H */
