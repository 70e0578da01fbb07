/*
 * cs_db.h - the Campaign Service's SQLite schema, and the small statement helpers its store
 * modules share. Opening, transactions and migrations are services/common's (svc_db.h: WAL,
 * synchronous=FULL, busy timeout, versioned steps per component).
 *
 * One database file holds everything the service keeps (campaigns and their schedules, its
 * view of the users, the execution ledger), so that an execution's targets are snapshotted from
 * the user view in the same transaction that creates the execution. The schema is the
 * component "campaign" of table schema_version.
 *
 * Threads: an sqlite3 handle belongs to one thread at a time (the service's host thread).
 */
#ifndef CS_DB_H
#define CS_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "mf/status.h"
#include "svc_db.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CS_DB_COMPONENT "campaign"
extern const svc_migration cs_db_migrations[];
extern const size_t cs_db_migration_count;

/* svc_db_open + the campaign schema (tests, benchmarks; the service's frame does both itself). */
mf_status cs_db_open(const char *path, sqlite3 **out, mf_error *err);

/* Prepares a statement to keep (SQLITE_PREPARE_PERSISTENT). MF_ERR_IO naming the statement. */
mf_status cs_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, mf_error *err);

/* Binds text, or NULL when s is NULL. */
int cs_db_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Column text duplicated with strdup, NULL for SQL NULL. Returns false on out of memory. */
bool cs_db_column_dup(sqlite3_stmt *st, int i, char **out);

#ifdef __cplusplus
}
#endif
#endif /* CS_DB_H */
