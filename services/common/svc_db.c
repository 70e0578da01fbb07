/*
 * svc_db.c - SQLite connections and migrations (svc_db.h).
 */
#include "svc_db.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "svc_log.h"
#include "svc_time.h"

/* Statement journals and temporary tables stay in memory (temp_store): a multi-row UPDATE inside a
 * transaction otherwise opened, unlinked and closed a temporary file (campaign-service: three
 * system calls per committed batch, 0.25 ms).
 * Reads go through a memory map of up to 256 MiB (no pread(2) per page missed in the page
 * cache), and each connection caches 16 MiB of pages. Writes still go through the WAL. A
 * point read then makes three system calls (fcntl lock/unlock, fstat): SQLite's own. */
#define SVC_DB_MMAP_SIZE "268435456"
#define SVC_DB_CACHE_KIB "-16384"

mf_status svc_db_status(sqlite3 *db, int rc, const char *what, mf_error *err)
{
    int prim = rc & 0xff;
    if (prim == SQLITE_OK || prim == SQLITE_ROW || prim == SQLITE_DONE)
        return MF_OK;
    mf_status st = prim == SQLITE_BUSY || prim == SQLITE_LOCKED ? MF_ERR_TIMEOUT
                   : prim == SQLITE_CONSTRAINT                  ? MF_ERR_DUPLICATE
                   : prim == SQLITE_NOMEM                       ? MF_ERR_NOMEM
                                                                : MF_ERR_IO;
    return mf_error_set(err, st, "", "%s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

mf_status svc_db_exec(sqlite3 *db, const char *sql, mf_error *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    mf_status st = MF_OK;
    if (rc != SQLITE_OK) {
        st = svc_db_status(db, rc, "sql", err);
        if (msg && err)
            snprintf(err->message, sizeof err->message, "%s", msg);
    }
    sqlite3_free(msg);
    return st;
}

/* SQLite counts every allocation under a global mutex (SQLITE_CONFIG_MEMSTATUS, on by default)
 * for sqlite3_memory_used() and the soft heap limit, which no service uses; Debian's library is
 * also built without lookaside, so each text column read is a malloc and a free through that
 * counter. Turned off before SQLite initializes; when it already has (a program that opened a
 * database itself), sqlite3_config refuses and the counting stays on, nothing else changes. */
static void sqlite_setup(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

mf_status svc_db_open(const char *path, sqlite3 **out, mf_error *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    *out = NULL;
    if (!path || !*path)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "no database path");
    pthread_once(&once, sqlite_setup);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        mf_error_set(err, MF_ERR_IO, "", "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return MF_ERR_IO;
    }
    sqlite3_busy_timeout(db, SVC_DB_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(db, 1);
    mf_status st = svc_db_exec(db,
                               "PRAGMA page_size=" SVC_DB_PAGE_SIZE ";" /* before WAL: a new file only */
                               "PRAGMA journal_mode=WAL;"
                               "PRAGMA synchronous=FULL;"
                               "PRAGMA foreign_keys=ON;"
                               "PRAGMA mmap_size=" SVC_DB_MMAP_SIZE ";"
                               "PRAGMA cache_size=" SVC_DB_CACHE_KIB ";"
                               "PRAGMA temp_store=MEMORY;",
                               err);
    if (st == MF_OK) {
        /* journal_mode answers with the mode it got: a read-only or in-memory file stays non-WAL */
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
            const char *mode = (const char *)sqlite3_column_text(s, 0);
            if (mode && strcmp(mode, "wal") != 0 && strcmp(path, ":memory:") != 0)
                SVC_WARN("database not in WAL mode path=%s mode=%s", path, mode);
        }
        sqlite3_finalize(s);
    }
    if (st) {
        char msg[MF_ERROR_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "%s", err ? err->message : "");
        mf_error_set(err, st, "", "cannot set up %s: %s", path, msg);
        sqlite3_close(db);
        return st;
    }
    *out = db;
    return MF_OK;
}

mf_status svc_db_close(sqlite3 *db)
{
    if (!db)
        return MF_OK;
    sqlite3_stmt *s;
    while ((s = sqlite3_next_stmt(db, NULL)) != NULL)
        sqlite3_finalize(s);
    int rc = sqlite3_close(db);
    if (rc != SQLITE_OK) {
        SVC_ERROR("database did not close cleanly: %s", sqlite3_errstr(rc));
        return MF_ERR_IO;
    }
    return MF_OK;
}

mf_status svc_db_begin(sqlite3 *db, mf_error *err)
{
    return svc_db_exec(db, "BEGIN IMMEDIATE", err);
}

mf_status svc_db_commit(sqlite3 *db, mf_error *err)
{
    mf_status st = svc_db_exec(db, "COMMIT", err);
    if (st)
        svc_db_rollback(db);
    return st;
}

void svc_db_rollback(sqlite3 *db)
{
    if (sqlite3_get_autocommit(db))
        return; /* no transaction open (SQLite may have rolled back by itself) */
    mf_error e;
    if (svc_db_exec(db, "ROLLBACK", &e))
        SVC_ERROR("rollback failed: %s", e.message);
}

static const char SCHEMA_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " component TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " applied_at TEXT NOT NULL,"
    " PRIMARY KEY (component, version))";

mf_status svc_db_version(sqlite3 *db, const char *component, int *version, mf_error *err)
{
    *version = 0;
    mf_status st = svc_db_exec(db, SCHEMA_TABLE, err);
    if (st)
        return st;
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version WHERE component = ?", -1,
                                &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(s, 1, component, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            *version = sqlite3_column_int(s, 0);
    }
    st = svc_db_status(db, rc, "reading schema_version", err);
    sqlite3_finalize(s);
    return st;
}

mf_status svc_db_int(sqlite3 *db, const char *sql, int64_t *out, mf_error *err)
{
    *out = 0;
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW)
        return MF_OK;
    if (rc == SQLITE_DONE)
        return mf_error_set(err, MF_ERR_IO, "", "%s: no row", sql);
    return svc_db_status(db, rc, sql, err);
}

/* Applies one step and records it, in one transaction. */
static mf_status apply_step(sqlite3 *db, const char *component, const svc_migration *m, mf_error *err)
{
    mf_status st = svc_db_begin(db, err);
    if (st)
        return st;
    int have = 0;
    st = svc_db_version(db, component, &have, err);
    if (st == MF_OK && have >= m->version) { /* another process got there first */
        svc_db_rollback(db);
        return MF_OK;
    }
    if (st == MF_OK)
        st = svc_db_exec(db, m->sql, err);
    sqlite3_stmt *s = NULL;
    if (st == MF_OK) {
        char now[SVC_TIME_LEN];
        int rc = sqlite3_prepare_v2(db, "INSERT INTO schema_version VALUES (?, ?, ?, ?)", -1, &s, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(s, 1, component, -1, SQLITE_STATIC);
            sqlite3_bind_int(s, 2, m->version);
            sqlite3_bind_text(s, 3, m->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 4, svc_time_format(svc_now_ms(), now), -1, SQLITE_TRANSIENT);
            rc = sqlite3_step(s);
        }
        st = svc_db_status(db, rc, "recording the migration", err);
        sqlite3_finalize(s);
    }
    if (st == MF_OK)
        st = svc_db_commit(db, err);
    else
        svc_db_rollback(db);
    if (st == MF_OK)
        SVC_INFO("schema migrated component=%s version=%d step=\"%s\"", component, m->version, m->name);
    return st;
}

mf_status svc_db_migrate(sqlite3 *db, const char *component, const svc_migration *steps, size_t n,
                         mf_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (steps[i].version != (int)i + 1 || !steps[i].sql)
            return mf_error_set(err, MF_ERR_INVALID_ARG, "", "%s: migration steps must be numbered 1..%zu",
                                component, n);
    int have = 0;
    mf_status st = svc_db_version(db, component, &have, err);
    if (st)
        return st;
    if (have > (int)n)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "",
                            "%s: the database schema is at version %d, newer than this program's %zu", component,
                            have, n);
    for (size_t i = (size_t)have; i < n && st == MF_OK; i++) {
        st = apply_step(db, component, &steps[i], err);
        if (st && err) {
            char msg[MF_ERROR_MESSAGE_MAX];
            snprintf(msg, sizeof msg, "%s", err->message);
            mf_error_set(err, st, "", "%s migration %d (%s) failed: %s", component, steps[i].version, steps[i].name,
                         msg);
        }
    }
    return st;
}

mf_status svc_db_ping(sqlite3 *db, mf_error *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM schema_version", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    mf_status st = svc_db_status(db, rc, "database probe", err);
    sqlite3_finalize(s);
    return st;
}
