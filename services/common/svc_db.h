/*
 * svc_db.h - opening a service's SQLite database and migrating its schema.
 *
 * Every connection is opened the same way: WAL journal (readers never block the
 * writer), synchronous=FULL (a commit survives a power loss, not only a crash),
 * foreign keys on, a busy timeout so that writers from several threads or
 * processes queue instead of failing, reads through a memory map (256 MiB) and a
 * 16 MiB page cache per connection. One connection per thread: a connection
 * is never shared between threads at the same time.
 *
 * A database created here has pages of SVC_DB_PAGE_SIZE (16 KiB, SQLite's default is
 * 4 KiB): a service writes rows in runs (a campaign's 100,000 targets at its launch, a
 * batch's 1,000 outcomes, an import), and a quarter as many pages is a quarter as many
 * log frames (two writes each: the frame's header, its page) and page lookups. Measured
 * with bench/campaign, 10 campaigns alternating with 4 KiB: launch 62 against 89 ms,
 * campaign 0.60 against 0.75 s (bench/RESULTS.md). Caveat: a one-row commit writes a
 * 16 KiB frame. A database created with another page size keeps it (SQLite changes it
 * only by VACUUM).
 *
 * Migrations: each schema has a `component` name and ordered steps numbered
 * 1, 2, 3...; the table `schema_version(component, version, name, applied_at)`
 * records the steps applied. svc_db_migrate applies the missing ones in order,
 * each in its own transaction together with its schema_version row, so a crash
 * leaves the schema at a step boundary. A database newer than the binary (a step
 * recorded that the binary does not know) is refused.
 *
 * Errors are mf_status values: MF_ERR_IO for SQLite failures (err->message
 * carries SQLite's text), MF_ERR_TIMEOUT when the database stayed locked
 * longer than the busy timeout, MF_ERR_DUPLICATE for a constraint violation.
 */
#ifndef SVC_DB_H
#define SVC_DB_H

#include <stdint.h>
#include <sqlite3.h>

#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SVC_DB_BUSY_TIMEOUT_MS 10000
#define SVC_DB_PAGE_SIZE "16384"

/* One schema change: SQL run as is (several statements allowed). */
typedef struct svc_migration {
    int version;       /* 1, 2, 3... in order */
    const char *name;  /* what the step does, for the log and the table */
    const char *sql;
} svc_migration;

/*
 * Opens (creating it when absent) the database at path with the settings
 * above. On success *out is the caller's (svc_db_close). On error *out is
 * NULL and err says why.
 */
mf_status svc_db_open(const char *path, sqlite3 **out, mf_error *err);

/*
 * Applies the steps of `component` that the database lacks, in order (steps
 * must be sorted by version, starting at 1). Logs each step applied.
 * MF_ERR_INVALID_ARG when the steps are not numbered 1..n or the database has
 * a step beyond n (made by a newer binary); MF_ERR_IO when a step fails
 * (that step is rolled back, earlier ones stay).
 */
mf_status svc_db_migrate(sqlite3 *db, const char *component, const svc_migration *steps, size_t n,
                         mf_error *err);

/* The highest step of `component` applied (0 when none). MF_ERR_IO. */
mf_status svc_db_version(sqlite3 *db, const char *component, int *version, mf_error *err);

/* The integer in the first column of sql's first row (a PRAGMA's value, a count). MF_ERR_IO
 * when sql does not prepare or run, or returns no row; *out is 0 then. */
mf_status svc_db_int(sqlite3 *db, const char *sql, int64_t *out, mf_error *err);

/* Closes the connection; unfinished statements are finalized first. NULL is fine.
 * Returns MF_OK when SQLite closed it cleanly (the WAL checkpointed by the last connection). */
mf_status svc_db_close(sqlite3 *db);

/* Runs SQL without results. */
mf_status svc_db_exec(sqlite3 *db, const char *sql, mf_error *err);

/* BEGIN IMMEDIATE (takes the write lock now, waiting up to the busy timeout) / COMMIT /
 * ROLLBACK. Rollback never fails visibly (it logs). */
mf_status svc_db_begin(sqlite3 *db, mf_error *err);
mf_status svc_db_commit(sqlite3 *db, mf_error *err);
void svc_db_rollback(sqlite3 *db);

/* Maps a SQLite result code to an mf_status and fills err with "what: sqlite message".
 * SQLITE_OK / ROW / DONE -> MF_OK. */
mf_status svc_db_status(sqlite3 *db, int rc, const char *what, mf_error *err);

/* A cheap liveness probe for health checks: reads schema_version. MF_OK when it answers. */
mf_status svc_db_ping(sqlite3 *db, mf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* SVC_DB_H */
