/*
 * api.c - the generic typed-API operations: codec + registry + client.
 *
 * Generated wrappers pass an operation descriptor; everything that could go
 * wrong (validation, subject building, reply decoding, dropping invalid input)
 * is handled here once, so every generated operation behaves the same.
 */
#include "mf/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf/buf.h"
#include "mf/codec.h"

/* Subjects are short; a channel address with its parameters fits easily. */
#define SUBJECT_MAX 1024

struct mf_api_sub {
    mf_client *client;
    const mf_operation_desc *op;
    mf_api_handler handler;
    mf_api_fn fn;
    void *ctx;
    uint64_t sid;
    void *msg;   /* scratch message, reused: callbacks of one subscription never overlap */
    void *reply; /* scratch reply for request/reply operations, else NULL */
    mf_buf out;  /* scratch encoding buffer for replies */
    mf_api_sub_stats stats;
};

static void count(uint64_t *counter)
{
    __atomic_fetch_add(counter, 1, __ATOMIC_RELEASE);
}

/* Validates and encodes `msg` as op's message, and builds the concrete subject. */
static mf_status prepare(const mf_operation_desc *op, const mf_message_desc *m, const char *const *params,
                         const void *msg, char *subject, mf_buf *body, mf_error *err)
{
    if (!op || !m || !msg || !op->channel)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "operation and message are required");
    if (op->channel->param_count > 0 && !params)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "channel %s needs %zu parameter value(s)",
                            op->channel->address, op->channel->param_count);
    mf_status st = mf_channel_address(op->channel, params, subject, SUBJECT_MAX, err);
    if (st)
        return st;
    return mf_encode(m->type, msg, body, err);
}

mf_status mf_api_send(mf_client *c, const mf_operation_desc *op, const char *const *params, const void *msg,
                      mf_error *err)
{
    if (!c || !op)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "client and operation are required");
    if (op->action != MF_ACTION_SEND)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "operation %s is not a send operation", op->key);
    char subject[SUBJECT_MAX];
    mf_buf body = MF_BUF_INIT;
    mf_status st = prepare(op, op->message, params, msg, subject, &body, err);
    if (st == MF_OK) {
        st = mf_client_publish(c, subject, NULL, body.data ? body.data : "", body.len);
        if (st)
            mf_error_set(err, st, "", "publishing %s on %s failed: %s", op->message->key, subject,
                         mf_status_str(st));
    }
    mf_buf_free(&body);
    return st;
}

/* Turns a reply message into the caller's struct: status headers first, then the payload. */
static mf_status decode_reply(const mf_operation_desc *op, const mf_msg *m, void *reply_out, mf_error *err)
{
    if (m->status == 503)
        return mf_error_set(err, MF_ERR_NO_RESPONDERS, "", "no responders for %s", op->channel->address);
    if (m->status >= 400)
        return mf_error_set(err, MF_ERR_SERVER, "", "request on %s failed with status %d", op->channel->address,
                            m->status);
    mf_status st = mf_decode(op->reply->type, m->data, m->len, reply_out, err);
    if (st && err) {
        /* Say it was the reply that was invalid; keep as much of the text as fits. */
        char msg[MF_ERROR_MESSAGE_MAX + 64];
        snprintf(msg, sizeof msg, "invalid %s reply: %s", op->reply->key, err->message);
        size_t n = strlen(msg);
        if (n >= sizeof err->message)
            n = sizeof err->message - 1;
        memcpy(err->message, msg, n);
        err->message[n] = '\0';
    }
    return st;
}

static mf_status check_request_op(mf_client *c, const mf_operation_desc *op, mf_error *err)
{
    if (!c || !op)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "client and operation are required");
    if (op->action != MF_ACTION_SEND || !op->reply)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "operation %s is not a request", op->key);
    return MF_OK;
}

mf_status mf_api_request(mf_client *c, const mf_operation_desc *op, const char *const *params, const void *req,
                         int timeout_ms, void *reply_out, mf_error *err)
{
    mf_status st = check_request_op(c, op, err);
    if (st)
        return st;
    if (!reply_out)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "reply_out is required");
    mf_init(op->reply->type, reply_out);
    char subject[SUBJECT_MAX];
    mf_buf body = MF_BUF_INIT;
    st = prepare(op, op->message, params, req, subject, &body, err);
    if (st) {
        mf_buf_free(&body);
        return st;
    }
    mf_msg_owned *rep = NULL;
    st = mf_client_request(c, subject, body.data ? body.data : "", body.len, timeout_ms, &rep);
    mf_buf_free(&body);
    if (st == MF_OK) {
        st = decode_reply(op, &rep->msg, reply_out, err);
    } else if (st == MF_ERR_NO_RESPONDERS) {
        mf_error_set(err, st, "", "no responders for %s", subject);
    } else if (st == MF_ERR_TIMEOUT) {
        mf_error_set(err, st, "", "no reply on %s within %d ms", subject, timeout_ms);
    } else {
        mf_error_set(err, st, "", "request on %s failed: %s", subject, mf_status_str(st));
    }
    mf_msg_owned_free(rep);
    return st;
}

/* State of one async request, freed after its callback. */
typedef struct async_req {
    const mf_operation_desc *op;
    mf_api_reply_cb cb;
    mf_api_fn fn;
    void *ctx;
} async_req;

static void on_async_reply(mf_client *c, mf_status st, const mf_msg *reply, void *ctx)
{
    (void)c;
    async_req *a = ctx;
    mf_error err;
    mf_error_clear(&err);
    void *value = NULL;
    if (st == MF_OK) {
        value = malloc(a->op->reply->size);
        if (!value)
            st = mf_error_set(&err, MF_ERR_NOMEM, "", "out of memory decoding the reply");
        else
            st = decode_reply(a->op, reply, value, &err);
    } else {
        mf_error_set(&err, st, "", "request on %s failed: %s", a->op->channel->address, mf_status_str(st));
    }
    a->cb(a->fn, a->ctx, st, st == MF_OK ? value : NULL, &err);
    if (value) {
        mf_free(a->op->reply->type, value);
        free(value);
    }
    free(a);
}

mf_status mf_api_request_async(mf_client *c, const mf_operation_desc *op, const char *const *params,
                               const void *req, int timeout_ms, mf_api_reply_cb cb, mf_api_fn fn, void *ctx,
                               mf_error *err)
{
    mf_status st = check_request_op(c, op, err);
    if (st)
        return st;
    if (!cb)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "a callback is required");
    char subject[SUBJECT_MAX];
    mf_buf body = MF_BUF_INIT;
    st = prepare(op, op->message, params, req, subject, &body, err);
    async_req *a = st ? NULL : malloc(sizeof *a);
    if (!st && !a)
        st = mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    if (!st) {
        *a = (async_req){op, cb, fn, ctx};
        st = mf_client_request_async(c, subject, body.data ? body.data : "", body.len, timeout_ms,
                                     on_async_reply, a);
        if (st) {
            free(a);
            mf_error_set(err, st, "", "request on %s failed: %s", subject, mf_status_str(st));
        }
    }
    mf_buf_free(&body);
    return st;
}

/* Sends the handler's reply, or reports why not. */
static void send_reply(mf_api_sub *s, const mf_msg *m, mf_status hst, const char *subject)
{
    mf_error err;
    if (hst) {
        fprintf(stderr, "mflow: %s handler for %s returned %s; no reply sent\n", s->op->key, subject,
                mf_status_str(hst));
        count(&s->stats.reply_errors);
        return;
    }
    mf_buf_reset(&s->out);
    mf_status st = mf_encode(s->op->reply->type, s->reply, &s->out, &err);
    if (st == MF_OK)
        st = mf_client_respond(s->client, m, s->out.data ? s->out.data : "", s->out.len);
    else
        fprintf(stderr, "mflow: %s reply to %s is invalid, not sent: %s: %s\n", s->op->key, subject,
                err.pointer[0] ? err.pointer : "(document)", err.message);
    if (st)
        count(&s->stats.reply_errors);
    else
        count(&s->stats.replies);
}

static void on_message(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)c;
    mf_api_sub *s = ctx;
    const mf_operation_desc *op = s->op;
    count(&s->stats.received);

    mf_api_info info;
    memset(&info, 0, sizeof info);
    info.subject = m->subject;
    info.reply = m->reply;
    info.op = op;
    info.n_params = op->channel->param_count;
    char values[MF_API_MAX_PARAMS][MF_API_PARAM_MAX];
    char *outs[MF_API_MAX_PARAMS];
    for (size_t i = 0; i < MF_API_MAX_PARAMS; i++) {
        outs[i] = values[i];
        info.params[i] = values[i];
    }
    mf_error err;
    mf_status st = MF_OK;
    if (info.n_params > 0)
        st = mf_channel_parse(op->channel, m->subject, outs, MF_API_PARAM_MAX, &err);
    if (st == MF_OK)
        st = mf_decode(op->message->type, m->data, m->len, s->msg, &err);
    if (st) {
        count(&s->stats.invalid);
        fprintf(stderr, "mflow: dropped invalid %s on %s: %s: %s\n", op->message->key, m->subject,
                err.pointer[0] ? err.pointer : "(document)", err.message);
        return;
    }
    if (s->reply) {
        mf_init(op->reply->type, s->reply);
        mf_status hst = s->handler(s->fn, s->ctx, s->msg, s->reply, &info);
        if (m->reply)
            send_reply(s, m, hst, m->subject);
        else {
            count(&s->stats.reply_errors);
            fprintf(stderr, "mflow: %s request on %s had no reply subject; reply dropped\n", op->key, m->subject);
        }
        mf_free(op->reply->type, s->reply);
    } else {
        (void)s->handler(s->fn, s->ctx, s->msg, NULL, &info);
    }
    /* Counted once the handler has returned, so a reader of the stats that sees
     * the count also sees everything the handler did. */
    count(&s->stats.handled);
    mf_free(op->message->type, s->msg);
}

static void sub_free(mf_api_sub *s)
{
    if (!s)
        return;
    free(s->msg);
    free(s->reply);
    mf_buf_free(&s->out);
    free(s);
}

mf_status mf_api_subscribe(mf_client *c, const mf_operation_desc *op, mf_api_handler h, mf_api_fn fn,
                           void *ctx, mf_api_sub **out, mf_error *err)
{
    if (!c || !op || !h || !out || !op->channel || !op->message)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "client, operation, handler and out are required");
    *out = NULL;
    if (op->action != MF_ACTION_RECEIVE)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "operation %s is not a receive operation", op->key);
    if (op->channel->param_count > MF_API_MAX_PARAMS)
        return mf_error_set(err, MF_ERR_LIMIT, "", "channel %s has more than %d parameters",
                            op->channel->address, MF_API_MAX_PARAMS);
    mf_api_sub *s = calloc(1, sizeof *s);
    if (!s)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    s->client = c;
    s->op = op;
    s->handler = h;
    s->fn = fn;
    s->ctx = ctx;
    s->msg = malloc(op->message->size);
    s->reply = op->reply ? malloc(op->reply->size) : NULL;
    if (!s->msg || (op->reply && !s->reply)) {
        sub_free(s);
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    mf_init(op->message->type, s->msg);
    mf_status st = mf_client_subscribe(c, op->channel->wildcard, op->queue_group, on_message, s, &s->sid);
    if (st) {
        sub_free(s);
        return mf_error_set(err, st, "", "subscribing to %s failed: %s", op->channel->wildcard,
                            mf_status_str(st));
    }
    *out = s;
    return MF_OK;
}

void mf_api_unsubscribe(mf_api_sub *s)
{
    if (!s)
        return;
    /* When this returns the callback is not running and never will again
     * (mf_client_unsubscribe's contract), so the scratch memory can go. */
    (void)mf_client_unsubscribe(s->client, s->sid, 0);
    sub_free(s);
}

void mf_api_sub_stats_get(const mf_api_sub *s, mf_api_sub_stats *out)
{
    if (!s || !out)
        return;
    out->received = __atomic_load_n(&s->stats.received, __ATOMIC_ACQUIRE);
    out->handled = __atomic_load_n(&s->stats.handled, __ATOMIC_ACQUIRE);
    out->invalid = __atomic_load_n(&s->stats.invalid, __ATOMIC_RELAXED);
    out->replies = __atomic_load_n(&s->stats.replies, __ATOMIC_RELAXED);
    out->reply_errors = __atomic_load_n(&s->stats.reply_errors, __ATOMIC_RELAXED);
}
