/*
 * user_service.h - the User Service's parts and how they meet (internal).
 *
 *   main.c           the service description for svc_main (options, hooks, routes)
 *   user_ops.c       the operations: one transaction each, events through the outbox
 *   user_admin.c     the admin API routes (HTTP <-> operations)
 *   user_import.c    POST /users/import: streamed NDJSON, one transaction per chunk
 *   user_request.c   user.info.request on the typed API
 *   user.h           the user and its JSON shapes; user_store.h where users live;
 *   user_events.h    what a change announces
 *
 * Threads: the admin API and the operations run on the main thread with
 * `store`; user.info.request runs on the client's service thread with
 * `req_store` (its own connection).
 */
#ifndef US_USER_SERVICE_H
#define US_USER_SERVICE_H

#include "mf/api.h"
#include "svc_app.h"
#include "svc_time.h"
#include "user.h"
#include "user_events.h"
#include "user_store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct us_options {
    bool republish;          /* --republish: announce every user at start */
    long long import_chunk;  /* --import-chunk: lines per import transaction */
    long long tombstone_days; /* --tombstone-days: how long a deletion stays announceable (0: always) */
} us_options;

typedef struct us_ctx {
    svc_app *app;
    us_options opt;
    us_store *store;      /* main thread */
    us_store *req_store;  /* the client's service thread */
    mf_api_sub *sub;      /* user.info.request */
    bool reads_held;      /* (service thread) req_store is in a read transaction until the input is done */
} us_ctx;

/* What an upsert did. */
typedef enum us_outcome { US_OUT_CREATED = 1, US_OUT_UPDATED, US_OUT_UNCHANGED } us_outcome;

/* ---- operations: one transaction each; the outbox is kicked after the commit ---- */

/* `in` is a decoded, normalised create body; *out receives the stored user (us_user_free).
 * MF_ERR_DUPLICATE (pointer /user_id or /email). */
mf_status us_op_create(us_ctx *c, us_user *in, us_user *out, mf_error *err);
/* Applies the members present in patch. MF_ERR_NOT_FOUND, MF_ERR_DUPLICATE (/email). */
mf_status us_op_patch(us_ctx *c, const char *id, const us_user *patch, us_user *out, mf_error *err);
mf_status us_op_preferences(us_ctx *c, const char *id, const mf_notification_preferences *p, us_user *out,
                            mf_error *err);
/* last_activity = now. */
mf_status us_op_login(us_ctx *c, const char *id, us_user *out, mf_error *err);
mf_status us_op_delete(us_ctx *c, const char *id, mf_error *err);
/* Every stored user as user.info.update (full profile) + notification.preferences.update,
 * then every recorded deletion as user.info.update {"deleted": true}. With `since` (a
 * normalised "YYYY-MM-DDTHH:MM:SS.mmmZ", NULL = all) only the users changed (updated_at) and
 * deleted at or after it. *users and *deleted receive the counts. */
/* Forgets the tombstones of users deleted more than --tombstone-days ago (us_op_delete does
 * it too, in its transaction; the service at start). */
mf_status us_op_prune_tombstones(us_ctx *c, mf_error *err);

/* The time before which deletions are no longer recorded: true and `out` written when
 * --tombstone-days is set (not 0), false when every deletion is kept. */
bool us_tombstone_horizon(const us_ctx *c, char out[SVC_TIME_LEN]);

mf_status us_op_republish(us_ctx *c, const char *since, int64_t *users, int64_t *deleted, mf_error *err);

/* ---- inside a transaction the caller holds (import) ---- */

/* Creates the user, or updates the one with in->user_id from the members present. */
mf_status us_apply_upsert(us_store *s, us_user *in, us_outcome *outcome, mf_error *err);

/* ---- the rest ---- */

extern const svc_http_route us_admin_routes[];
extern const size_t us_admin_route_count;

/* Status of an operation's error as HTTP: status code and error code. */
int us_http_status(mf_status st, const mf_error *err, const char **code);

/* POST /users/import (user_import.c): the route's streaming callbacks. */
void us_import_done(svc_http_req *rq, void *ctx);
int us_import_body(svc_http_req *rq, const char *data, size_t len, void *ctx);
void us_import_end(svc_http_req *rq, void *ctx);

/* user.info.request (main thread; the handler then runs on the client's thread). */
mf_status us_request_start(us_ctx *c, mf_error *err);
void us_request_stop(us_ctx *c);
/* The client's service thread, after the messages of one read have been handled: ends the read
 * transaction the requests among them shared (svc_service.on_input_done). */
void us_request_input_done(us_ctx *c);

#ifdef __cplusplus
}
#endif
#endif /* US_USER_SERVICE_H */
