/*
 * user_request.c - user.info.request: the profile, USER_NOT_FOUND, or INVALID_REQUEST.
 *
 * The handler is the generated typed one (user_service_reply_user_info_handler),
 * subscribed in the operation's queue group so that replicas share the
 * requests. It runs on the client's service thread with its own store
 * connection and answers from one indexed read (inside the batch's read transaction, usually
 * one step forward from the user before: user_store.h, us_store_profile).
 *
 * A request that fails validation never reaches that handler; instead of the
 * runtime's generic error reply (Nats-Service-Error headers) it goes to
 * on_invalid (user_service_reply_user_info_ex's options), which answers a UserInfoReply with
 * error {code: "INVALID_REQUEST"} and the request's user_id when it has a
 * valid one, else the nil UUID (UserInfoReply requires a UUID there).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_sdk/user_service.h"
#include "svc_id.h"
#include "svc_log.h"
#include "user_service.h"

#define NIL_UUID "00000000-0000-0000-0000-000000000000"

static mf_status set_error(mf_user_info_reply *r, const char *code, const char *message)
{
    r->has_error = true;
    r->error.code = strdup(code);
    r->error.message = strdup(message);
    return r->error.code && r->error.message ? MF_OK : MF_ERR_NOMEM;
}

/* The requests of one read from the broker share a read transaction (us_request_input_done
 * ends it): they had all arrived before its snapshot was taken, at the first of them. Without it
 * (BEGIN failed) each read is its own transaction, as SQLite does by itself. */
static void hold_reads(us_ctx *c)
{
    mf_error err;
    if (c->reads_held)
        return;
    if (us_store_read_begin(c->req_store, &err) == MF_OK)
        c->reads_held = true;
    else
        SVC_WARN("user.info.request: no shared read transaction error=\"%s\"", err.message);
}

void us_request_input_done(us_ctx *c)
{
    if (!c->reads_held)
        return;
    c->reads_held = false;
    us_store_read_end(c->req_store);
}

static mf_status on_user_info(void *ctx, const mf_user_info_request *req, mf_user_info_reply *reply,
                              const mf_api_info *info)
{
    (void)info;
    us_ctx *c = ctx;
    char id[SVC_UUID_LEN], msg[128];
    reply->user_id = strdup(req->user_id); /* as asked for */
    if (!reply->user_id)
        return MF_ERR_NOMEM;
    svc_uuid_canon(req->user_id, id); /* the codec checked the format */
    us_profile p;
    mf_error err;
    hold_reads(c);
    mf_status st = us_store_profile(c->req_store, id, &p, &err);
    SVC_DEBUG("user.info.request user_id=%s found=%s", id, st == MF_OK ? "true" : "false");
    if (st == MF_ERR_NOT_FOUND) {
        snprintf(msg, sizeof msg, "no user with id %s", req->user_id);
        return set_error(reply, "USER_NOT_FOUND", msg);
    }
    if (st) {
        SVC_ERROR("user.info.request failed user_id=%s error=\"%s\"", id, err.message);
        return set_error(reply, "INTERNAL_ERROR", "the user could not be read");
    }
    /* the strings move into the reply (the runtime frees it after sending) */
    reply->name = p.name, reply->has_name = true;
    reply->email = p.email, reply->has_email = true;
    reply->language = p.language, reply->has_language = true;
    reply->timezone = p.timezone, reply->has_timezone = true;
    return MF_OK;
}

static mf_status on_invalid(void *ctx, const mf_msg *raw, const mf_error *why, void *reply_v, const mf_api_info *info)
{
    (void)ctx;
    (void)info;
    mf_user_info_reply *reply = reply_v;
    us_loose_request loose;
    const char *id = NIL_UUID;
    bool parsed = mf_decode(us_loose_request_type, raw->data, raw->len, &loose, NULL) == MF_OK;
    if (parsed && loose.has_user_id && mf_format_check(MF_FMT_UUID, loose.user_id, strlen(loose.user_id)))
        id = loose.user_id;
    reply->user_id = strdup(id);
    char msg[MF_ERROR_POINTER_MAX + MF_ERROR_MESSAGE_MAX + 8];
    snprintf(msg, sizeof msg, "%s: %s", why->pointer[0] ? why->pointer : "(document)", why->message);
    mf_free(us_loose_request_type, &loose);
    SVC_DEBUG("invalid user.info.request answered: %s", msg);
    if (!reply->user_id)
        return MF_ERR_NOMEM;
    return set_error(reply, "INVALID_REQUEST", msg);
}

mf_status us_request_start(us_ctx *c, mf_error *err)
{
    /* the default queue group: replicas share the requests */
    const mf_api_sub_opts opts = {.on_invalid = on_invalid, .invalid_ctx = c, .queue = MF_QUEUE_DEFAULT};
    return user_service_reply_user_info_ex(svc_app_client(c->app), on_user_info, c, &opts, &c->sub, err);
}

void us_request_stop(us_ctx *c)
{
    mf_api_unsubscribe(c->sub); /* returns once the handler is not running */
    c->sub = NULL;
}
