/*
 * user_admin.c - the admin API: HTTP requests to operations and back.
 *
 * Bodies are decoded by the codec with the user's JSON shapes (user.h) or the
 * contract's NotificationPreferences; answers are encoded the same way. Error
 * bodies are {"error": {"code", "message", "pointer"}} (svc_http.h).
 */
#include <stdlib.h>
#include <string.h>

#include "svc_id.h"
#include "svc_time.h"
#include "user_service.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

int us_http_status(mf_status st, const mf_error *err, const char **code)
{
    switch (st) {
    case MF_ERR_NOT_FOUND:
        *code = "USER_NOT_FOUND";
        return 404;
    case MF_ERR_DUPLICATE:
        *code = err && strcmp(err->pointer, "/email") == 0 ? "EMAIL_TAKEN" : "USER_EXISTS";
        return 409;
    case MF_ERR_TIMEOUT:
        *code = "BUSY";
        return 503;
    case MF_ERR_SYNTAX:
    case MF_ERR_UTF8:
        *code = "INVALID_JSON";
        return 400;
    case MF_ERR_TYPE:
    case MF_ERR_REQUIRED:
    case MF_ERR_ENUM:
    case MF_ERR_RANGE:
    case MF_ERR_LENGTH:
    case MF_ERR_FORMAT:
    case MF_ERR_PATTERN:
    case MF_ERR_UNKNOWN_FIELD:
    case MF_ERR_CONST:
    case MF_ERR_UNION:
    case MF_ERR_LIMIT:
        *code = "INVALID_FIELD";
        return 400;
    default:
        *code = "INTERNAL_ERROR";
        return 500;
    }
}

static void reply_error(svc_http_req *rq, mf_status st, const mf_error *err)
{
    const char *code;
    int status = us_http_status(st, err, &code);
    svc_http_error(rq, status, code, err->pointer, "%s", err->message);
}

static void reply_user(svc_http_req *rq, int status, const us_user *u)
{
    mf_buf b = MF_BUF_INIT;
    mf_error err;
    if (mf_encode(us_user_full_type, u, &b, &err) == MF_OK)
        svc_http_reply(rq, status, b.data, b.len);
    else
        svc_http_error(rq, 500, "INTERNAL_ERROR", err.pointer, "the stored user is invalid: %s", err.message);
    mf_buf_free(&b);
}

/* The body decoded into out with type t; false after answering 400. */
static bool decode_body(svc_http_req *rq, const mf_type *t, void *out)
{
    size_t len;
    const char *body = svc_http_req_body(rq, &len);
    mf_error err;
    mf_init(t, out);
    if (len == 0) {
        svc_http_error(rq, 400, "INVALID_JSON", "", "a JSON body is required");
        return false;
    }
    mf_status st = mf_decode(t, body, len, out, &err);
    if (st) {
        reply_error(rq, st, &err);
        return false;
    }
    return true;
}

/* The {id} of the path in canonical form; false after answering 400. */
static bool path_id(svc_http_req *rq, char id[SVC_UUID_LEN])
{
    const char *p = svc_http_req_param(rq, "id");
    if (svc_uuid_canon(p, id))
        return true;
    svc_http_error(rq, 400, "INVALID_PARAMETER", "", "the user id \"%.64s\" is not a UUID", p ? p : "");
    return false;
}

/* A decoded create/patch body: normalised, or false after answering 400. */
static bool normalize(svc_http_req *rq, us_user *u)
{
    mf_error err;
    mf_status st = us_user_normalize(u, &err);
    if (st)
        reply_error(rq, st, &err);
    return st == MF_OK;
}

/* ----------------------------------------------------------------- routes */

static void create_user(svc_http_req *rq, void *ctx)
{
    us_user in, out;
    if (!decode_body(rq, us_user_create_type, &in))
        return;
    mf_error err;
    mf_status st = MF_OK;
    if (normalize(rq, &in) && (st = us_op_create(ctx, &in, &out, &err)) == MF_OK) {
        reply_user(rq, 201, &out);
        us_user_free(&out);
    } else if (st) {
        reply_error(rq, st, &err);
    }
    us_user_free(&in);
}

static void get_user(svc_http_req *rq, void *ctx)
{
    us_ctx *c = ctx;
    char id[SVC_UUID_LEN];
    if (!path_id(rq, id))
        return;
    us_user u;
    mf_error err;
    mf_status st = us_store_get(c->store, id, &u, &err);
    if (st) {
        reply_error(rq, st, &err);
        return;
    }
    reply_user(rq, 200, &u);
    us_user_free(&u);
}

static void list_users(svc_http_req *rq, void *ctx)
{
    us_ctx *c = ctx;
    char v[64], after[SVC_UUID_LEN];
    long limit = PAGE_DEFAULT;
    if (svc_http_req_query(rq, "limit", v, sizeof v)) {
        char *end;
        limit = strtol(v, &end, 10);
        if (end == v || *end || limit < 1 || limit > PAGE_MAX) {
            svc_http_error(rq, 400, "INVALID_PARAMETER", "", "limit must be an integer from 1 to %d", PAGE_MAX);
            return;
        }
    }
    bool has_after = svc_http_req_query(rq, "after", v, sizeof v);
    if (has_after && !svc_uuid_canon(v, after)) {
        svc_http_error(rq, 400, "INVALID_PARAMETER", "", "after must be a user id (UUID)");
        return;
    }
    us_user_page page;
    mf_error err;
    mf_status st = us_store_list(c->store, has_after ? after : NULL, (size_t)limit, &page, &err);
    if (st) {
        reply_error(rq, st, &err);
        return;
    }
    mf_buf b = MF_BUF_INIT;
    if (mf_encode(us_user_page_type, &page, &b, &err) == MF_OK)
        svc_http_reply(rq, 200, b.data, b.len);
    else
        svc_http_error(rq, 500, "INTERNAL_ERROR", err.pointer, "%s", err.message);
    mf_buf_free(&b);
    mf_free(us_user_page_type, &page);
}

static void patch_user(svc_http_req *rq, void *ctx)
{
    char id[SVC_UUID_LEN];
    us_user patch, out;
    if (!path_id(rq, id) || !decode_body(rq, us_user_patch_type, &patch))
        return;
    mf_error err;
    mf_status st = MF_OK;
    if (normalize(rq, &patch) && (st = us_op_patch(ctx, id, &patch, &out, &err)) == MF_OK) {
        reply_user(rq, 200, &out);
        us_user_free(&out);
    } else if (st) {
        reply_error(rq, st, &err);
    }
    us_user_free(&patch);
}

static void put_preferences(svc_http_req *rq, void *ctx)
{
    char id[SVC_UUID_LEN];
    mf_notification_preferences p;
    if (!path_id(rq, id) || !decode_body(rq, &mf_notification_preferences_desc, &p))
        return;
    us_user out;
    mf_error err;
    mf_status st = us_op_preferences(ctx, id, &p, &out, &err);
    if (st == MF_OK) {
        reply_user(rq, 200, &out);
        us_user_free(&out);
    } else {
        reply_error(rq, st, &err);
    }
    mf_notification_preferences_free(&p);
}

static void login_user(svc_http_req *rq, void *ctx)
{
    char id[SVC_UUID_LEN];
    if (!path_id(rq, id))
        return;
    us_user out;
    mf_error err;
    mf_status st = us_op_login(ctx, id, &out, &err);
    if (st == MF_OK) {
        reply_user(rq, 200, &out);
        us_user_free(&out);
    } else {
        reply_error(rq, st, &err);
    }
}

static void delete_user(svc_http_req *rq, void *ctx)
{
    char id[SVC_UUID_LEN];
    if (!path_id(rq, id))
        return;
    mf_error err;
    mf_status st = us_op_delete(ctx, id, &err);
    if (st == MF_OK)
        svc_http_reply(rq, 204, NULL, 0);
    else
        reply_error(rq, st, &err);
}

/* POST /republish[?since=DATE-TIME]: everyone, or what changed at or after `since`. */
static void republish(svc_http_req *rq, void *ctx)
{
    int64_t n = 0, gone = 0;
    mf_error err;
    char v[64], since[SVC_TIME_LEN];
    bool has_since = svc_http_req_query(rq, "since", v, sizeof v);
    if (has_since && !svc_time_normalize(v, since)) {
        svc_http_error(rq, 400, "INVALID_PARAMETER", "", "since must be an RFC 3339 date-time (2026-12-05T21:20:41Z)");
        return;
    }
    mf_status st = us_op_republish(ctx, has_since ? since : NULL, &n, &gone, &err);
    if (st) {
        reply_error(rq, st, &err);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "users", (double)n);
    cJSON_AddNumberToObject(root, "deleted", (double)gone);
    cJSON_AddNumberToObject(root, "events", (double)(n * 2 + gone));
    char horizon[SVC_TIME_LEN];
    if (has_since && us_tombstone_horizon(ctx, horizon) && strcmp(since, horizon) < 0) {
        /* the deletions between since and the horizon were forgotten: say so, do not pretend */
        cJSON_AddStringToObject(root, "deletions_known_since", horizon);
        SVC_WARN("republish since=%s: deletions before %s are no longer recorded (--tombstone-days)", since, horizon);
    }
    svc_http_reply_json(rq, 202, root);
}

const svc_http_route us_admin_routes[] = {
    {SVC_HTTP_POST, "/users", create_user, NULL, NULL, 64 * 1024, NULL},
    {SVC_HTTP_GET, "/users", list_users, NULL, NULL, 0, "limit after"},
    {SVC_HTTP_POST, "/users/import", us_import_done, us_import_body, us_import_end, 0, NULL},
    {SVC_HTTP_GET, "/users/{id}", get_user, NULL, NULL, 0, NULL},
    {SVC_HTTP_PATCH, "/users/{id}", patch_user, NULL, NULL, 64 * 1024, NULL},
    {SVC_HTTP_DELETE, "/users/{id}", delete_user, NULL, NULL, 0, NULL},
    {SVC_HTTP_PUT, "/users/{id}/preferences", put_preferences, NULL, NULL, 64 * 1024, NULL},
    {SVC_HTTP_POST, "/users/{id}/login", login_user, NULL, NULL, 0, NULL},
    {SVC_HTTP_POST, "/republish", republish, NULL, NULL, 0, "since"},
};
const size_t us_admin_route_count = sizeof us_admin_routes / sizeof us_admin_routes[0];
