/*
 * cs_db.h - the Campaign Service's SQLite database: opening it, its schema and migrations, and
 * the small helpers every store module uses.
 *
 * One database file holds everything the service keeps (campaigns and their schedules, its
 * view of the users, the execution ledger), so that an execution's targets are snapshotted from
 * the user view in the same transaction that creates the execution.
 *
 * Settings: WAL journal, synchronous=NORMAL (a committed transaction survives the process being
 * killed - SIGKILL included - though not a power cut of the machine), foreign keys on, a busy
 * timeout of 5 s. The schema is versioned in table schema_version; cs_db_open applies the
 * migrations the file lacks, each in its own transaction, and refuses a file from a newer
 * version of the service.
 *
 * Threads: an sqlite3 handle belongs to one thread at a time (the service thread).
 */
#ifndef CS_DB_H
#define CS_DB_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schema version this build writes. */
#define CS_DB_SCHEMA_VERSION 1

/*
 * Opens (creating if needed) the database at `path` (":memory:" for tests) and migrates it.
 * On error *out is NULL and err says why: MF_ERR_IO (cannot open, I/O), MF_ERR_RANGE (the file
 * has a newer schema than this build knows).
 */
mf_status cs_db_open(const char *path, sqlite3 **out, mf_error *err);

/* Closes the handle (finalizing nothing: callers finalize their statements first). NULL is fine. */
void cs_db_close(sqlite3 *db);

/* Runs SQL without results. MF_ERR_IO with SQLite's message. */
mf_status cs_db_exec(sqlite3 *db, const char *sql, mf_error *err);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Rollback never fails (it logs nothing, returns nothing). */
mf_status cs_db_begin(sqlite3 *db, mf_error *err);
mf_status cs_db_commit(sqlite3 *db, mf_error *err);
void cs_db_rollback(sqlite3 *db);

/* Prepares a statement. MF_ERR_IO with SQLite's message naming the statement. */
mf_status cs_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, mf_error *err);

/* MF_ERR_IO "what: <sqlite message>" for result code rc. Returns MF_ERR_IO. */
mf_status cs_db_fail(sqlite3 *db, int rc, const char *what, mf_error *err);

/* Binds text, or NULL when s is NULL. */
int cs_db_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Column text duplicated with strdup, NULL for SQL NULL. Returns false on out of memory. */
bool cs_db_column_dup(sqlite3_stmt *st, int i, char **out);

#ifdef __cplusplus
}
#endif
#endif /* CS_DB_H */
