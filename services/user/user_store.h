/*
 * user_store.h - where users live: a small interface, one file per backend.
 *
 * The handlers and operations call only these functions; a backend is a table
 * of them (us_store_ops). SQLite is the one backend today
 * (user_store_sqlite.c); a PostgreSQL backend for replicas on several
 * machines would be a second file implementing the same table, with the
 * outbox in the same database so that `emit` stays in the transaction.
 *
 * Transactions: begin ... commit/rollback wrap one change and its events;
 * savepoint/release/rollback_to nest inside one (an import line). Every write
 * (insert, update, remove, emit) must happen inside a transaction.
 *
 * Errors: MF_ERR_NOT_FOUND (no such user), MF_ERR_DUPLICATE (the user_id or
 * the email is taken: err->pointer is "/user_id" or "/email"), MF_ERR_TIMEOUT
 * (the database stayed locked), MF_ERR_IO (anything else; err says what).
 *
 * Threads: a store is used by one thread at a time; open one per thread.
 * Ownership: us_user values returned are the caller's (us_user_free).
 */
#ifndef US_USER_STORE_H
#define US_USER_STORE_H

#include <stdint.h>
#include <stdlib.h>

#include "svc_outbox.h"
#include "user.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct us_store us_store;

/* What a user.info.request answers about a user: each member a string the caller owns (free();
 * us_profile_free frees all four). */
typedef struct us_profile {
    char *email;
    char *name;
    char *language;
    char *timezone;
} us_profile;

/* Called for each user by us_store_each; a non-MF_OK status stops the walk and is returned. */
typedef mf_status (*us_store_each_fn)(const us_user *u, void *ctx, mf_error *err);
/* Called for each deleted user's id by us_store_each_deleted; the same contract. */
typedef mf_status (*us_store_deleted_fn)(const char *user_id, void *ctx, mf_error *err);

typedef struct us_store_ops {
    void (*close)(us_store *s);
    mf_status (*begin)(us_store *s, mf_error *err);
    mf_status (*commit)(us_store *s, mf_error *err);
    void (*rollback)(us_store *s);
    mf_status (*savepoint)(us_store *s, mf_error *err);
    mf_status (*release)(us_store *s, mf_error *err);
    void (*rollback_to)(us_store *s);
    mf_status (*read_begin)(us_store *s, mf_error *err);
    void (*read_end)(us_store *s);
    mf_status (*get)(us_store *s, const char *user_id, us_user *out, mf_error *err);
    mf_status (*profile)(us_store *s, const char *user_id, us_profile *out, mf_error *err);
    mf_status (*list)(us_store *s, const char *after, size_t limit, us_user_page *out, mf_error *err);
    mf_status (*each)(us_store *s, const char *since, us_store_each_fn fn, void *ctx, mf_error *err);
    mf_status (*each_deleted)(us_store *s, const char *since, us_store_deleted_fn fn, void *ctx, mf_error *err);
    mf_status (*prune_deleted)(us_store *s, const char *before, int64_t *pruned, mf_error *err);
    mf_status (*count)(us_store *s, int64_t *n, mf_error *err);
    mf_status (*insert)(us_store *s, const us_user *u, mf_error *err);
    mf_status (*update)(us_store *s, const us_user *u, mf_error *err);
    mf_status (*remove)(us_store *s, const char *user_id, mf_error *err);
    mf_status (*emit)(us_store *s, const svc_outbox_kind *kind, const void *msg, mf_error *err);
} us_store_ops;

struct us_store {
    const us_store_ops *ops;
};

/* SQLite: opens a connection to path (the schema must be migrated: us_store_sqlite_migrations). */
mf_status us_store_sqlite_open(const char *path, us_store **out, mf_error *err);
extern const svc_migration us_store_sqlite_migrations[];
extern const size_t us_store_sqlite_migration_count;

/* ---- the interface, one line each -------------------------------------- */

static inline void us_store_close(us_store *s) { if (s) s->ops->close(s); }
static inline mf_status us_store_begin(us_store *s, mf_error *e) { return s->ops->begin(s, e); }
static inline mf_status us_store_commit(us_store *s, mf_error *e) { return s->ops->commit(s, e); }
static inline void us_store_rollback(us_store *s) { s->ops->rollback(s); }
static inline mf_status us_store_savepoint(us_store *s, mf_error *e) { return s->ops->savepoint(s, e); }
static inline mf_status us_store_release(us_store *s, mf_error *e) { return s->ops->release(s, e); }
static inline void us_store_rollback_to(us_store *s) { s->ops->rollback_to(s); }

/* A read transaction: the reads until read_end see one snapshot, taken at the first of them,
 * and pay the database's locking once instead of once each. Never left open while idle (it
 * would hold back the WAL's checkpoints). Not for writes. */
static inline mf_status us_store_read_begin(us_store *s, mf_error *e) { return s->ops->read_begin(s, e); }
static inline void us_store_read_end(us_store *s) { s->ops->read_end(s); }

/* One user by id (lowercase), every member. *out must hold no memory; MF_ERR_NOT_FOUND. */
static inline mf_status us_store_get(us_store *s, const char *id, us_user *out, mf_error *e)
{ return s->ops->get(s, id, out, e); }

/* The profile of one user by id (lowercase): one indexed read, four strings copied, nothing
 * else allocated (the per-request path of user.info.request). Inside a read transaction the
 * store may keep its place after a read: profiles asked in ascending user_id order (a campaign's
 * order) then cost a step to the next row each instead of a search from the root; any order
 * gets the same answers. On error every member of *out is NULL; MF_ERR_NOT_FOUND. */
static inline mf_status us_store_profile(us_store *s, const char *id, us_profile *out, mf_error *e)
{ return s->ops->profile(s, id, out, e); }

static inline void us_profile_free(us_profile *p)
{
    free(p->email), free(p->name), free(p->language), free(p->timezone);
    p->email = p->name = p->language = p->timezone = NULL;
}

/* Up to `limit` users with user_id > after (NULL: from the start), by user_id;
 * out->next is set when more may follow. *out must hold no memory. */
static inline mf_status us_store_list(us_store *s, const char *after, size_t limit, us_user_page *out, mf_error *e)
{ return s->ops->list(s, after, limit, out, e); }

/* Every user, by user_id (inside a transaction for a consistent snapshot); with `since` (a
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" time, NULL = all) only those whose updated_at >= since. */
static inline mf_status us_store_each(us_store *s, const char *since, us_store_each_fn fn, void *ctx, mf_error *e)
{ return s->ops->each(s, since, fn, ctx, e); }

/* The ids of the users deleted at or after `since` (NULL: every deletion recorded), by
 * user_id: the tombstones left by a delete and removed when the id is created again. */
static inline mf_status us_store_each_deleted(us_store *s, const char *since, us_store_deleted_fn fn, void *ctx,
                                              mf_error *e)
{ return s->ops->each_deleted(s, since, fn, ctx, e); }

/* Forgets the tombstones of the users deleted before `before` (the us_store_each format);
 * *pruned receives how many. A write: inside a transaction. */
static inline mf_status us_store_prune_deleted(us_store *s, const char *before, int64_t *pruned, mf_error *e)
{ return s->ops->prune_deleted(s, before, pruned, e); }

static inline mf_status us_store_count(us_store *s, int64_t *n, mf_error *e) { return s->ops->count(s, n, e); }

/* A complete user (every member present). MF_ERR_DUPLICATE. */
static inline mf_status us_store_insert(us_store *s, const us_user *u, mf_error *e) { return s->ops->insert(s, u, e); }

/* Replaces the stored user of u->user_id. MF_ERR_NOT_FOUND, MF_ERR_DUPLICATE (email). */
static inline mf_status us_store_update(us_store *s, const us_user *u, mf_error *e) { return s->ops->update(s, u, e); }

/* MF_ERR_NOT_FOUND. */
static inline mf_status us_store_remove(us_store *s, const char *id, mf_error *e) { return s->ops->remove(s, id, e); }

/* Records an event to publish after the commit (svc_outbox.h), in the current transaction. */
static inline mf_status us_store_emit(us_store *s, const svc_outbox_kind *k, const void *msg, mf_error *e)
{ return s->ops->emit(s, k, msg, e); }

#ifdef __cplusplus
}
#endif
#endif /* US_USER_STORE_H */
