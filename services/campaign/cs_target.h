/*
 * cs_target.h - which users a campaign reaches: its segments and filters as one SQL query over
 * the user view (cs_userview.h).
 *
 * Segments are a union (a user in any of them is in):
 *   all_users       every live user
 *   new_users       registered_at >= now - new_days (default 30 days)
 *   active_users    last_activity >= now - active_days (default 30 days)
 *   inactive_users  no last_activity, or last_activity < now - active_days
 *   premium_users   plan "premium"
 *   free_users      plan "free"
 * A user whose registered_at (plan) is unknown is in no date (plan) segment.
 * Filters narrow (a user must pass every filter given):
 *   language            the user's language is one of the list (exact tags, "de-DE")
 *   timezone            the user's timezone is one of the list
 *   registration_date   from/to are UTC calendar dates, both inclusive: from 00:00:00Z to the
 *                       end of `to`; a user without registered_at fails
 *   last_activity       from/to are instants, both inclusive; a user without activity fails
 * Only live users are ever targeted (see cs_userview.h).
 *
 * A query over 100,000 users uses the view's indexes where SQLite finds them useful; the
 * figures are in bench/RESULTS.md.
 *
 * Threads: one thread at a time (the sqlite3 handle's).
 */
#ifndef CS_TARGET_H
#define CS_TARGET_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include "mf/status.h"
#include "mf_sdk/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_target_opts {
    int64_t now_ms;
    int new_days;    /* --new-days, default 30 */
    int active_days; /* --active-days, default 30 */
} cs_target_opts;

/* Number of users the audience reaches now (estimated_reach). */
mf_status cs_target_count(sqlite3 *db, const mf_campaign_create_target_audience *a, const cs_target_opts *o,
                          int64_t *count, mf_error *err);

/* Calls cb for every user id the audience reaches, in user_id order; a non-zero return stops. */
typedef int (*cs_target_cb)(void *ctx, const char *user_id);
mf_status cs_target_each(sqlite3 *db, const mf_campaign_create_target_audience *a, const cs_target_opts *o,
                         cs_target_cb cb, void *ctx, mf_error *err);

/*
 * Inserts the audience into the ledger's table cs_targets under the execution key xk
 * (cs_execution_keys, cs_db.c), numbered 1..n in user_id order, and returns n. Runs inside the
 * caller's transaction, which has written the execution and its key (cs_ledger_create).
 */
mf_status cs_target_snapshot(sqlite3 *db, const mf_campaign_create_target_audience *a, const cs_target_opts *o,
                             int64_t xk, int64_t *count, mf_error *err);

/*
 * The snapshot's way for an audience without user_filters (cs_target_snapshot uses it then; any
 * audience here, for the tests): the rows are numbered by a counter (the SQL function
 * cs_target_seq, registered on db at the first call) as the INSERT takes them from a scan in
 * user_id order, instead of by row_number(), whose window SQLite materialises and walks again
 * (callgrind, 20,000 users: 9.7 k instructions per target with row_number(), 4.4 k with the
 * counter). That is user_id order only when SQLite did not sort the rows after numbering them
 * (a filter read through an index, then ORDER BY user_id): the statement's sort counter
 * (SQLITE_STMTSTATUS_SORT) says so, and then the rows written are deleted and numbered again by
 * row_number() (*renumbered true). Same result and transaction rules as cs_target_snapshot.
 */
mf_status cs_target_snapshot_numbered(sqlite3 *db, const mf_campaign_create_target_audience *a,
                                      const cs_target_opts *o, int64_t xk, int64_t *count, bool *renumbered,
                                      mf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* CS_TARGET_H */
