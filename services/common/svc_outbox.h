/*
 * svc_outbox.h - events written with the change, published after the commit.
 *
 * A service announces a change only once it is committed, and never zero
 * times: the event is validated, encoded and INSERTed into the `outbox` table
 * in the same transaction as the change (svc_outbox_add). After the commit a
 * publisher thread reads the outbox in id order, decodes each event into its
 * generated struct and sends it through the generated typed send function of
 * its kind, then mf_client_flush()es: once the broker has acknowledged the
 * batch (PONG after the PUBs), the rows are deleted. When the broker is down
 * or a flush times out the rows stay and the publisher retries with
 * exponential backoff (100 ms doubling to 5 s). A crash loses nothing
 * committed: the next start publishes what is left.
 *
 * Guarantee: at least once, in commit order. An event can be published twice
 * when the connection breaks after the broker received a batch but before
 * the acknowledgement arrived (or when the process dies in between); the
 * batch is then sent again. Consumers that must not count an event twice
 * de-duplicate (user.analytics and campaign.analytics carry an event_id).
 * Core NATS itself delivers at most once to each subscriber.
 *
 * Several processes on one database (replicas) share one publisher at a
 * time through a lease row (`outbox_lease`): whoever holds it publishes
 * everything pending, in id order; a lease whose holder died is taken over
 * at once (same machine: the holder's pid is gone) or after 30 s.
 *
 * Threads: svc_outbox_add and the writer run on the caller's thread with the
 * caller's connection. The publisher has its own thread and connection.
 * svc_outbox_kick, _stats and _stop may be called from any thread (kick also
 * from an mf_client callback).
 */
#ifndef SVC_OUTBOX_H
#define SVC_OUTBOX_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "mf/client.h"
#include "mf/codec.h"
#include "svc_db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The outbox's tables: apply with svc_db_migrate(db, SVC_OUTBOX_COMPONENT, ...). */
#define SVC_OUTBOX_COMPONENT "svc_outbox"
extern const svc_migration svc_outbox_migrations[];
extern const size_t svc_outbox_migration_count;

/* One kind of event: its stored name, its message type and the typed send for it. */
typedef struct svc_outbox_kind {
    const char *name;     /* stored with each row, e.g. "user.info.update"; unique per service */
    const mf_type *type;  /* the generated descriptor of the message struct */
    /* Publishes a decoded message, e.g. a wrapper around user_service_send_user_info_update. */
    mf_status (*send)(mf_client *c, const void *msg, mf_error *err);
} svc_outbox_kind;

/* ------------------------------------------------------------------ writing */

/* A prepared INSERT on one connection (opaque). Use it on that connection's thread. */
typedef struct svc_outbox_writer svc_outbox_writer;

/* MF_ERR_IO (the outbox table is missing: migrate first), MF_ERR_NOMEM. */
mf_status svc_outbox_writer_open(sqlite3 *db, svc_outbox_writer **out, mf_error *err);
void svc_outbox_writer_close(svc_outbox_writer *w);

/*
 * Validates and encodes msg (a struct of kind->type) and inserts it, inside the
 * transaction the caller has open. On error nothing is inserted: a codec error
 * (err->pointer names the field) or MF_ERR_IO; the caller rolls back, so the
 * change and its events stay together.
 */
mf_status svc_outbox_add(svc_outbox_writer *w, const svc_outbox_kind *kind, const void *msg, mf_error *err);

/* Events waiting, and the age in ms of the oldest (0 when none), read on db. MF_ERR_IO. */
mf_status svc_outbox_backlog(sqlite3 *db, int64_t *count, int64_t *oldest_age_ms, mf_error *err);

/* --------------------------------------------------------------- publishing */

typedef struct svc_outbox svc_outbox;

typedef struct svc_outbox_stats {
    uint64_t published;    /* events acknowledged by the broker and deleted */
    uint64_t retries;      /* cycles that failed (broker down, flush timed out) */
    uint64_t dead;         /* rows that could never be sent (unknown kind, invalid): logged and removed */
    int64_t last_publish_ms; /* wall clock of the last acknowledged batch, 0 = never */
    char last_error[160];  /* "" when the last cycle succeeded */
} svc_outbox_stats;

/*
 * Starts the publisher: its own thread and connection to the database at
 * path, publishing through c with the kinds given (the array must outlive the
 * publisher). It publishes what is pending at once. MF_ERR_IO, MF_ERR_NOMEM.
 */
mf_status svc_outbox_start(const char *db_path, mf_client *c, const svc_outbox_kind *kinds, size_t n_kinds,
                           svc_outbox **out, mf_error *err);

/* Publish soon (after a commit, or when the broker connection is back). Cheap; never blocks for long. */
void svc_outbox_kick(svc_outbox *ob);

/* A thread-safe snapshot. */
void svc_outbox_stats_get(svc_outbox *ob, svc_outbox_stats *st);

/*
 * Waits up to timeout_ms until the outbox is empty as seen by this publisher
 * (everything committed before the call published). MF_OK, MF_ERR_TIMEOUT.
 */
mf_status svc_outbox_wait_empty(svc_outbox *ob, int timeout_ms);

/*
 * Stops the publisher: one last attempt to publish what is pending (bounded by
 * timeout_ms), then joins the thread and closes its connection. What is left
 * stays in the database for the next start. NULL is fine.
 */
void svc_outbox_stop(svc_outbox *ob, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif /* SVC_OUTBOX_H */
