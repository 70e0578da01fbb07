/* cs_db.c - see cs_db.h. The schema lives here, in one place. */
#include "cs_db.h"

#include <stdlib.h>
#include <string.h>

/*
 * Step n brings the schema from version n - 1 to n. Never edit a released step: append one.
 */
const svc_migration cs_db_migrations[] = {
    {1, "campaigns, schedules, the user view, the execution ledger",
    "CREATE TABLE cs_campaigns ("
    "  campaign_id TEXT PRIMARY KEY,"       /* lower-case uuid */
    "  content_hash TEXT NOT NULL,"         /* cs_identity: SHA-256 of the canonical form */
    "  body TEXT NOT NULL,"                 /* the CampaignCreate as received, encoded by the codec,
                                               with estimated_reach set */
    "  name TEXT NOT NULL,"
    "  estimated_reach INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL"         /* ms, when the service stored it */
    ") WITHOUT ROWID;"
    "CREATE TABLE cs_schedules ("
    "  campaign_id TEXT PRIMARY KEY REFERENCES cs_campaigns(campaign_id),"
    "  next_fire_at INTEGER,"               /* ms; NULL when the schedule has no more firings */
    "  last_fire_at INTEGER,"
    "  fired INTEGER NOT NULL DEFAULT 0"
    ") WITHOUT ROWID;"
    "CREATE INDEX cs_schedules_next ON cs_schedules(next_fire_at) WHERE next_fire_at IS NOT NULL;"
    "CREATE TABLE cs_users ("
    "  user_id TEXT PRIMARY KEY,"           /* lower-case uuid */
    "  name TEXT, email TEXT, language TEXT, timezone TEXT, plan TEXT,"
    "  registered_at INTEGER, last_activity INTEGER,"          /* ms */
    "  name_at INTEGER, email_at INTEGER, language_at INTEGER, timezone_at INTEGER,"
    "  plan_at INTEGER, registered_at_at INTEGER,"             /* updated_at of each field's value */
    "  profile_at INTEGER,"                 /* newest profile event applied; NULL: no profile yet */
    "  push_enabled INTEGER NOT NULL DEFAULT 1, email_enabled INTEGER NOT NULL DEFAULT 1,"
    "  sms_enabled INTEGER NOT NULL DEFAULT 0,"
    "  cat_marketing INTEGER NOT NULL DEFAULT 1, cat_updates INTEGER NOT NULL DEFAULT 1,"
    "  cat_security INTEGER NOT NULL DEFAULT 1,"
    "  quiet_enabled INTEGER NOT NULL DEFAULT 0, quiet_start TEXT, quiet_end TEXT,"
    "  prefs_at INTEGER,"
    "  deleted_at INTEGER"
    ") WITHOUT ROWID;"
    "CREATE INDEX cs_users_registered ON cs_users(registered_at);"
    "CREATE INDEX cs_users_activity ON cs_users(last_activity);"
    "CREATE INDEX cs_users_plan ON cs_users(plan);"
    "CREATE INDEX cs_users_language ON cs_users(language);"
    "CREATE INDEX cs_users_timezone ON cs_users(timezone);"
    "CREATE TABLE cs_executions ("
    "  execution_id TEXT PRIMARY KEY,"
    "  campaign_id TEXT NOT NULL,"
    "  status INTEGER NOT NULL,"            /* mf_campaign_status_update_status */
    "  execution_type INTEGER NOT NULL,"    /* mf_campaign_execute_execution_type */
    "  priority INTEGER NOT NULL DEFAULT 0,"/* mf_priority of the execute request, 0 = not given */
    "  batch_size INTEGER NOT NULL,"
    "  start_at INTEGER NOT NULL,"          /* ms: not before */
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  total INTEGER NOT NULL DEFAULT 0, sent INTEGER NOT NULL DEFAULT 0,"
    "  failed INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,"
    "  held INTEGER NOT NULL DEFAULT 0,"    /* targets held for quiet hours now */
    "  ever_held INTEGER NOT NULL DEFAULT 0," /* targets that were held at some point */
    "  batches INTEGER NOT NULL DEFAULT 0,"
    "  error_code TEXT, error_message TEXT"
    ") WITHOUT ROWID;"
    "CREATE INDEX cs_executions_active ON cs_executions(status) WHERE status IN (1, 2, 5);"
    "CREATE TABLE cs_targets ("
    "  execution_id TEXT NOT NULL REFERENCES cs_executions(execution_id),"
    "  seq INTEGER NOT NULL,"               /* 1.. in user_id order */
    "  user_id TEXT NOT NULL,"
    "  state INTEGER NOT NULL DEFAULT 0,"   /* cs_target_state */
    "  release_at INTEGER,"                 /* held: when quiet hours end (ms) */
    "  reason TEXT,"                        /* skipped / failed: why */
    "  variant INTEGER,"                    /* sent: the A/B variant (0-based) */
    "  attempts INTEGER NOT NULL DEFAULT 0,"/* profile requests made */
    "  updated_at INTEGER,"
    "  PRIMARY KEY (execution_id, seq)"
    ") WITHOUT ROWID;"
    "CREATE INDEX cs_targets_pending ON cs_targets(execution_id, seq) WHERE state = 0;"
    "CREATE INDEX cs_targets_held ON cs_targets(execution_id, release_at) WHERE state = 3;"},
    {2, "execution leases: replicas sharing the database (cs_lease.h)",
    "CREATE TABLE cs_leases ("
    "  execution_id TEXT PRIMARY KEY,"
    "  owner TEXT NOT NULL,"                /* host/pid/random of the replica running it */
    "  pid INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL"         /* ms, real time */
    ") WITHOUT ROWID;"},
    /* cs_targets again, keyed by a small integer per execution instead of its 36-character id:
     * shorter keys, no foreign key check per row, and no pending index to maintain (the pending
     * targets are read by a primary-key range scan from a cursor, cs_ledger.c). An execution in
     * progress keeps its targets and resumes where it was. */
    {3, "the ledger keyed by an integer execution key, without the pending index",
    "CREATE TABLE cs_execution_keys ("
    "  xk INTEGER PRIMARY KEY,"             /* the execution's key in cs_targets */
    "  execution_id TEXT NOT NULL UNIQUE REFERENCES cs_executions(execution_id)"
    ");"
    "INSERT INTO cs_execution_keys(execution_id) SELECT execution_id FROM cs_executions "
    "  ORDER BY created_at, execution_id;"
    /* No foreign key to cs_execution_keys: a key and its targets are written in the transaction
     * that creates the execution (cs_ledger_create), and neither is ever deleted; the check per
     * row was a lookup per snapshotted target. */
    "CREATE TABLE cs_targets_v3 ("
    "  xk INTEGER NOT NULL,"                /* cs_execution_keys.xk */
    "  seq INTEGER NOT NULL,"               /* 1.. in user_id order */
    "  user_id TEXT NOT NULL,"
    "  state INTEGER NOT NULL DEFAULT 0,"   /* cs_target_state; never set back to 0 (pending) */
    "  release_at INTEGER,"                 /* held: when quiet hours end (ms) */
    "  reason TEXT,"                        /* skipped / failed: why */
    "  variant INTEGER,"                    /* sent: the A/B variant (0-based) */
    "  attempts INTEGER NOT NULL DEFAULT 0,"/* profile requests made */
    "  updated_at INTEGER,"
    "  PRIMARY KEY (xk, seq)"
    ") WITHOUT ROWID;"
    "INSERT INTO cs_targets_v3(xk, seq, user_id, state, release_at, reason, variant, attempts, updated_at) "
    "  SELECT k.xk, t.seq, t.user_id, t.state, t.release_at, t.reason, t.variant, t.attempts, t.updated_at "
    "  FROM cs_targets AS t JOIN cs_execution_keys AS k ON k.execution_id = t.execution_id ORDER BY k.xk, t.seq;"
    "DROP TABLE cs_targets;"                /* and its indexes cs_targets_pending, cs_targets_held */
    "ALTER TABLE cs_targets_v3 RENAME TO cs_targets;"
    "CREATE INDEX cs_targets_held ON cs_targets(xk, release_at) WHERE state = 3;"},
    {4, "admin requests for the replica that runs an execution (cs_actions.h)",
    "CREATE TABLE cs_actions ("
    "  action_id INTEGER PRIMARY KEY,"      /* the request's id, 1.. */
    "  execution_id TEXT NOT NULL,"
    "  kind INTEGER NOT NULL,"              /* cs_action_kind: 1 pause, 2 resume, 3 cancel */
    "  state INTEGER NOT NULL DEFAULT 0,"   /* cs_action_state: 0 pending, 1 applied, 2 refused, ... */
    "  requested_by TEXT NOT NULL,"         /* the lease owner id of the replica that received it */
    "  requested_at INTEGER NOT NULL,"      /* ms, real time */
    "  holder TEXT,"                        /* who held the execution's lease then */
    "  settled_by TEXT, settled_at INTEGER,"/* the replica that applied (or refused) it, ms real time */
    "  message TEXT"                        /* why refused, superseded or withdrawn */
    ");"
    "CREATE INDEX cs_actions_execution ON cs_actions(execution_id, action_id);"},
    /* A batch all sent was one UPDATE of 1,000 target rows, ~3,800 instructions per target, 9 % of
     * the service's instructions in a campaign (bench/RESULTS.md). A target at or below its
     * execution's mark whose row still says pending (0) was sent with variant 0 after one profile
     * request, and its row is not rewritten (cs_ledger.c, the commit). Every other outcome is
     * written as before. cs_target_outcomes reads the targets with the mark applied: the table
     * for people and tests. */
    {5, "the ledger's sent-through mark per execution, and the view of targets with it applied",
    "ALTER TABLE cs_execution_keys ADD COLUMN sent_through INTEGER NOT NULL DEFAULT 0;"
    "CREATE VIEW cs_target_outcomes AS"
    "  SELECT k.execution_id, t.xk, t.seq, t.user_id,"
    "    CASE WHEN t.state = 0 AND t.seq <= k.sent_through THEN 1 ELSE t.state END AS state,"
    "    t.release_at, t.reason,"
    "    CASE WHEN t.state = 0 AND t.seq <= k.sent_through THEN 0 ELSE t.variant END AS variant,"
    "    CASE WHEN t.state = 0 AND t.seq <= k.sent_through THEN 1 ELSE t.attempts END AS attempts,"
    "    t.updated_at"
    "  FROM cs_targets AS t JOIN cs_execution_keys AS k ON k.xk = t.xk;"},
};
const size_t cs_db_migration_count = sizeof cs_db_migrations / sizeof *cs_db_migrations;

mf_status cs_db_open(const char *path, sqlite3 **out, mf_error *err)
{
    mf_status st = svc_db_open(path, out, err);
    if (st == MF_OK && (st = svc_db_migrate(*out, CS_DB_COMPONENT, cs_db_migrations, cs_db_migration_count, err)) != MF_OK) {
        svc_db_close(*out);
        *out = NULL;
    }
    return st;
}

mf_status cs_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, mf_error *err)
{
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    if (rc == SQLITE_OK)
        return MF_OK;
    *out = NULL;
    return mf_error_set(err, MF_ERR_IO, "", "prepare \"%.60s...\": %s", sql, sqlite3_errmsg(db));
}

int cs_db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

bool cs_db_column_dup(sqlite3_stmt *st, int i, char **out)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    *out = t ? strdup((const char *)t) : NULL;
    return !t || *out;
}
