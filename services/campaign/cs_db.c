/* cs_db.c - see cs_db.h. The schema lives here, in one place. */
#include "cs_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Migration n brings the schema from version n - 1 to n. Never edit a released migration:
 * append a new one.
 */
static const char *const migrations[] = {
    /* 1: campaigns, schedules, the user view, the execution ledger */
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
    "CREATE INDEX cs_targets_held ON cs_targets(execution_id, release_at) WHERE state = 3;",
};

#define N_MIGRATIONS (sizeof migrations / sizeof *migrations)
_Static_assert(N_MIGRATIONS == CS_DB_SCHEMA_VERSION, "one migration per schema version");

mf_status cs_db_fail(sqlite3 *db, int rc, const char *what, mf_error *err)
{
    return mf_error_set(err, MF_ERR_IO, "", "%s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

mf_status cs_db_exec(sqlite3 *db, const char *sql, mf_error *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return MF_OK;
    mf_status st = mf_error_set(err, MF_ERR_IO, "", "sqlite: %s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return st;
}

mf_status cs_db_begin(sqlite3 *db, mf_error *err)
{
    return cs_db_exec(db, "BEGIN IMMEDIATE", err);
}

mf_status cs_db_commit(sqlite3 *db, mf_error *err)
{
    return cs_db_exec(db, "COMMIT", err);
}

void cs_db_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
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

static mf_status schema_version(sqlite3 *db, int *version, mf_error *err)
{
    mf_status s = cs_db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", err);
    sqlite3_stmt *st = NULL;
    if (s == MF_OK)
        s = cs_db_prepare(db, "SELECT max(version) FROM schema_version", &st, err);
    if (s == MF_OK) {
        int rc = sqlite3_step(st);
        *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
        if (rc != SQLITE_ROW)
            s = cs_db_fail(db, rc, "read schema_version", err);
    }
    sqlite3_finalize(st);
    return s;
}

static mf_status migrate(sqlite3 *db, mf_error *err)
{
    int version = 0;
    mf_status s = schema_version(db, &version, err);
    if (s != MF_OK)
        return s;
    if (version > CS_DB_SCHEMA_VERSION)
        return mf_error_set(err, MF_ERR_RANGE, "", "the database has schema version %d; this build knows up to %d",
                            version, CS_DB_SCHEMA_VERSION);
    for (int v = version + 1; v <= CS_DB_SCHEMA_VERSION && s == MF_OK; v++) {
        char bump[96];
        snprintf(bump, sizeof bump, "INSERT INTO schema_version(version) VALUES (%d)", v);
        s = cs_db_begin(db, err);
        if (s == MF_OK)
            s = cs_db_exec(db, migrations[v - 1], err);
        if (s == MF_OK)
            s = cs_db_exec(db, bump, err);
        if (s == MF_OK)
            s = cs_db_commit(db, err);
        if (s != MF_OK)
            cs_db_rollback(db);
    }
    return s;
}

mf_status cs_db_open(const char *path, sqlite3 **out, mf_error *err)
{
    *out = NULL;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        mf_status s = mf_error_set(err, MF_ERR_IO, "", "open %s: %s", path,
                                   db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return s;
    }
    sqlite3_busy_timeout(db, 5000);
    mf_status s = cs_db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err);
    if (s == MF_OK)
        s = migrate(db, err);
    if (s != MF_OK) {
        sqlite3_close(db);
        return s;
    }
    *out = db;
    return MF_OK;
}

void cs_db_close(sqlite3 *db)
{
    sqlite3_close(db);
}
