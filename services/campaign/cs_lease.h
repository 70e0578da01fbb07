/*
 * cs_lease.h - which replica runs an execution, when several Campaign Services share one
 * database file (same machine: SQLite in WAL mode, one writer at a time).
 *
 * One row per active execution in cs_leases: (execution_id, owner, pid, expires_at). A replica
 * runs an execution only while it holds its lease; it renews it (at most every ttl/2, after a
 * batch and on the engine's lease tick) and deletes it when the execution ends or the replica
 * stops. A lease is free when there is no row, it is ours, it expired, or the pid that holds it
 * is gone (kill(pid, 0) says ESRCH: the replica was SIGKILLed; then no need to wait for the
 * expiry). Taking a lease is one IMMEDIATE transaction, so two replicas never both get it.
 *
 * Times are the real clock (CLOCK_REALTIME), never the engine's (--clock), since they are
 * compared between processes.
 *
 * Threads: the thread that owns db (the engine's).
 */
#ifndef CS_LEASE_H
#define CS_LEASE_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_lease cs_lease;

/* ttl_ms: how long a lease lasts without renewal. The owner id is made here (host, pid, a random
 * part) and logged by the caller through cs_lease_owner. MF_ERR_NOMEM, MF_ERR_IO. */
mf_status cs_lease_open(sqlite3 *db, int ttl_ms, cs_lease **out, mf_error *err);
void cs_lease_close(cs_lease *l);
const char *cs_lease_owner(const cs_lease *l);
int cs_lease_ttl(const cs_lease *l);

/* Takes the lease of an execution, or keeps ours. 1 taken, 0 held by a live other (*holder,
 * when not NULL, receives its owner id, up to 63 bytes), -1 a database error (err says). */
int cs_lease_claim(cs_lease *l, const char *execution_id, char holder[64], mf_error *err);

/* Extends ours by ttl. 1 renewed, 0 lost (another replica took it: stop running it), -1 error. */
int cs_lease_renew(cs_lease *l, const char *execution_id, mf_error *err);

/* Deletes ours (the execution ended, or we stop). Errors are ignored: the lease then expires. */
void cs_lease_release(cs_lease *l, const char *execution_id);

/* Who holds the lease of an execution: true with its owner id and pid when a row exists
 * (expired or not), false otherwise or on an error. */
bool cs_lease_holder(cs_lease *l, const char *execution_id, char owner[64], long *pid);

/* The real time now, ms. */
int64_t cs_lease_now(void);

#ifdef __cplusplus
}
#endif
#endif /* CS_LEASE_H */
