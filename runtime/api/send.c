/*
 * send.c - the sending half of the typed API: send, request, async request
 * (mf/api.h).
 *
 * Generated wrappers pass a descriptor (an operation or a channel endpoint);
 * everything that could go wrong (validation, subject building, reply
 * decoding, responder errors) is handled here once, so every generated
 * function behaves the same.
 */
#include "mf/api.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/headers.h"
#include "mf/buf.h"
#include "mf/codec.h"
#include "mf/request_copy.h"

/* Subjects are short; a channel address with its parameters fits easily. */
#define SUBJECT_MAX 1024

/* Room reserved for an encoded message before encoding: most messages fit, so the body is one
 * malloc instead of a growth from 64 bytes (four reallocs for a 500-byte notification). With the
 * NUL the buffer asks for exactly 1 KiB, a size malloc serves from its per-thread cache (1 KiB + 1
 * asked for 2 KiB, which glibc takes from its arena: ~700 instructions more per message). */
#define BODY_FIRST 1023

/* A body buffer kept larger than this after a send is freed, so one large message does not pin
 * its memory in a thread for the thread's life. */
#define BODY_KEEP_MAX (64 * 1024)

/*
 * One body buffer per sending thread, reused: every send used to malloc its body and free it
 * after the publish (the client copies the bytes into its queue), and glibc's realloc, free and
 * the malloc_consolidate those frees trigger were ~2 k instructions per send in bench/campaign
 * (three sends per notification). Per thread, not per client, because sends need no lock between
 * them: a thread encodes, publishes and is done with the buffer before its next send; nothing in
 * between calls back into user code, so a send never nests inside another on one thread. The
 * key's destructor frees a thread's buffer when the thread ends; the main thread ends with exit(),
 * where its buffer stays reachable through the key. Without memory for the bookkeeping, a send
 * falls back to a buffer of its own (body_take returns NULL and the caller uses its local one).
 */
static pthread_key_t body_key;
static int body_key_ok;
static pthread_once_t body_once = PTHREAD_ONCE_INIT;

static void body_destroy(void *p)
{
    mf_buf_free(p);
    free(p);
}

static void body_key_make(void)
{
    body_key_ok = pthread_key_create(&body_key, body_destroy) == 0;
}

/* This thread's body buffer, emptied; NULL when none can be had (the caller then uses its own). */
static mf_buf *body_take(void)
{
    pthread_once(&body_once, body_key_make);
    if (!body_key_ok)
        return NULL;
    mf_buf *b = pthread_getspecific(body_key);
    if (!b) {
        if (!(b = malloc(sizeof *b)))
            return NULL;
        mf_buf_init(b);
        if (pthread_setspecific(body_key, b) != 0) {
            free(b);
            return NULL;
        }
    }
    mf_buf_reset(b);
    return b;
}

/* Gives back what body_take (or the caller's own buffer) held: a thread's buffer keeps its
 * storage unless it grew past BODY_KEEP_MAX; a local one is freed. */
static void body_give(mf_buf *b, mf_buf *local)
{
    if (b == local || b->cap > BODY_KEEP_MAX)
        mf_buf_free(b);
}

/* The channel's address for messages; a channel without one by its key. */
static const char *where(const mf_operation_desc *op)
{
    return op->channel->address ? op->channel->address : op->channel->key;
}

/* Validates and encodes `msg` as op's message, then builds the concrete subject (parameters with a
 * location take the payload's value, so the message is checked first), or copies the caller's
 * (`to`, the *_to functions). */
static mf_status prepare(const mf_operation_desc *op, const char *const *params, const char *to, const void *msg,
                         char *subject, mf_buf *body, mf_error *err)
{
    if (!op->message || !msg || !op->channel)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "operation and message are required");
    if (mf_buf_reserve(body, BODY_FIRST) != MF_OK)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    if (to) {
        size_t n = strlen(to);
        if (n == 0 || n >= SUBJECT_MAX)
            return mf_error_set(err, MF_ERR_INVALID_ARG, "", "a subject of 1..%d bytes is required", SUBJECT_MAX - 1);
        memcpy(subject, to, n + 1);
        return mf_encode(op->message->type, msg, body, err);
    }
    if (!op->channel->address)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "channel %s has no NATS subject: give one (the _to functions)",
                            op->channel->key);
    mf_status st = mf_encode(op->message->type, msg, body, err);
    if (st == MF_OK)
        st = mf_channel_subject(op->channel, op->message, msg, params, subject, SUBJECT_MAX, err);
    return st;
}

static mf_status send_op(mf_client *c, const mf_operation_desc *op, const char *const *params, const char *to,
                         const void *msg, const void *headers, mf_error *err);

mf_status mf_api_send(mf_client *c, const mf_operation_desc *op, const char *const *params, const void *msg,
                      mf_error *err)
{
    return send_op(c, op, params, NULL, msg, NULL, err);
}

mf_status mf_api_send_with_headers(mf_client *c, const mf_operation_desc *op, const char *const *params,
                                   const void *msg, const void *headers, mf_error *err)
{
    return send_op(c, op, params, NULL, msg, headers, err);
}

mf_status mf_api_send_to(mf_client *c, const mf_operation_desc *op, const char *subject, const void *msg,
                         mf_error *err)
{
    if (!subject)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "a subject is required");
    return send_op(c, op, NULL, subject, msg, NULL, err);
}

static mf_status send_op(mf_client *c, const mf_operation_desc *op, const char *const *params, const char *to,
                         const void *msg, const void *headers, mf_error *err)
{
    if (!c || !op)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "client and operation are required");
    if (op->action != MF_ACTION_SEND)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "operation %s is not a send operation", op->key);
    if (headers && (!op->message || !op->message->headers))
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "message %s declares no headers",
                            op->message ? op->message->key : "(none)");
    char subject[SUBJECT_MAX];
    mf_buf local = MF_BUF_INIT, *body = body_take();
    if (!body)
        body = &local;
    mf_header hdrs[MF_API_MAX_HEADERS];
    size_t n_hdrs = 0;
    char *storage = NULL;
    mf_status st = prepare(op, params, to, msg, subject, body, err);
    if (st == MF_OK && headers)
        st = mf_api_headers_out(op->message->headers, headers, hdrs, MF_API_MAX_HEADERS, &n_hdrs, &storage, err);
    if (st == MF_OK) {
        const char *data = body->data ? body->data : "";
        st = n_hdrs ? mf_client_publish_hdrs(c, subject, NULL, hdrs, n_hdrs, data, body->len)
                    : mf_client_publish(c, subject, NULL, data, body->len);
        if (st)
            mf_error_set(err, st, "", "publishing %s on %s failed: %s", op->message->key, subject,
                         mf_status_str(st));
    }
    free(storage);
    body_give(body, &local);
    return st;
}

/* ---------------------------------------------------------------- batches */

/* The checks send_op makes of an operation before encoding (headers aside). */
static mf_status send_checks(const mf_operation_desc *op, mf_error *err)
{
    if (!op)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "operation is required");
    if (op->action != MF_ACTION_SEND)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "operation %s is not a send operation", op->key);
    return MF_OK;
}

/* Room for one more message in at and pubs (doubling, from 64). */
static mf_status batch_room(mf_api_batch *b)
{
    if (b->n < b->cap)
        return MF_OK;
    size_t cap = b->cap ? 2 * b->cap : 64;
    size_t *at = realloc(b->at, 3 * cap * sizeof *at);
    if (!at)
        return MF_ERR_NOMEM;
    b->at = at;
    mf_pub *pubs = realloc(b->pubs, cap * sizeof *pubs);
    if (!pubs)
        return MF_ERR_NOMEM; /* at stays larger: harmless */
    b->pubs = pubs;
    b->cap = cap;
    return MF_OK;
}

mf_status mf_api_batch_add(mf_api_batch *b, const mf_operation_desc *op, const char *const *params, const void *msg,
                           mf_error *err)
{
    if (!b)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "batch is required");
    mf_status st = send_checks(op, err);
    if (st != MF_OK)
        return st;
    if (batch_room(b) != MF_OK)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    size_t body_at = b->text.len;
    char subject[SUBJECT_MAX];
    st = prepare(op, params, NULL, msg, subject, &b->text, err);
    size_t body_len = b->text.len - body_at;
    if (st == MF_OK && mf_buf_append(&b->text, subject, strlen(subject) + 1) != MF_OK)
        st = mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    if (st != MF_OK) {
        b->text.len = body_at; /* the payload prepare wrote before the subject failed, if any */
        return st;
    }
    size_t *at = &b->at[3 * b->n++];
    at[0] = body_at;
    at[1] = body_len;
    at[2] = body_at + body_len;
    return MF_OK;
}

size_t mf_api_batch_count(const mf_api_batch *b)
{
    return b ? b->n : 0;
}

mf_status mf_api_batch_send(mf_client *c, mf_api_batch *b, size_t *sent, mf_error *err)
{
    if (sent)
        *sent = 0;
    if (!c || !b)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "client and batch are required");
    for (size_t i = 0; i < b->n; i++) { /* pointers now: the text no longer grows */
        const size_t *at = &b->at[3 * i];
        b->pubs[i] = (mf_pub){.subject = b->text.data + at[2], .data = b->text.data + at[0], .len = at[1]};
    }
    size_t done = 0;
    mf_status st = mf_client_publish_batch(c, b->pubs, b->n, &done);
    if (sent)
        *sent = done;
    if (st != MF_OK)
        return mf_error_set(err, st, "", "publishing message %zu of %zu of the batch on %s failed: %s", done + 1, b->n,
                            b->pubs[done].subject, mf_status_str(st));
    mf_error_clear(err);
    return MF_OK;
}

void mf_api_batch_reset(mf_api_batch *b)
{
    if (!b)
        return;
    mf_buf_reset(&b->text);
    b->n = 0;
}

void mf_api_batch_free(mf_api_batch *b)
{
    if (!b)
        return;
    mf_buf_free(&b->text);
    free(b->at);
    free(b->pubs);
    *b = (mf_api_batch)MF_API_BATCH_INIT;
}

/* A responder's error reply (Nats-Service-Error headers) as MF_ERR_REFUSED, or MF_OK when m is none. */
static mf_status refused(const mf_msg *m, mf_error *err)
{
    size_t tn = 0, cn = 0;
    const char *text = mf_msg_header(m, MF_API_ERROR_HEADER, &tn);
    const char *code = mf_msg_header(m, MF_API_ERROR_CODE_HEADER, &cn);
    if (!text && !code)
        return MF_OK;
    char num[16] = "?";
    if (code && cn < sizeof num) {
        memcpy(num, code, cn);
        num[cn] = '\0';
    }
    return mf_error_set(err, MF_ERR_REFUSED, "", "refused (%s): %.*s", num, text ? (int)tn : 0, text ? text : "");
}

/* Turns a reply message into the caller's struct: status headers first, then the payload. */
static mf_status decode_reply(const mf_operation_desc *op, const mf_msg *m, void *reply_out, mf_error *err)
{
    if (m->status == 503)
        return mf_error_set(err, MF_ERR_NO_RESPONDERS, "", "no responders for %s", where(op));
    if (m->status >= 400)
        return mf_error_set(err, MF_ERR_SERVER, "", "request on %s failed with status %d", where(op), m->status);
    mf_status st = refused(m, err);
    if (st)
        return st;
    st = mf_decode(op->reply->type, m->data, m->len, reply_out, err);
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

/* The error of a request that got no reply message. */
static mf_status request_failed(mf_status st, const char *subject, int timeout_ms, mf_error *err)
{
    if (st == MF_ERR_NO_RESPONDERS)
        return mf_error_set(err, st, "", "no responders for %s", subject);
    if (st == MF_ERR_TIMEOUT)
        return mf_error_set(err, st, "", "no reply on %s within %d ms", subject, timeout_ms);
    return mf_error_set(err, st, "", "request on %s failed: %s", subject, mf_status_str(st));
}

static mf_status request_op(mf_client *c, const mf_operation_desc *op, const char *const *params, const char *to,
                            const void *req, int timeout_ms, void *reply_out, mf_error *err);

mf_status mf_api_request(mf_client *c, const mf_operation_desc *op, const char *const *params, const void *req,
                         int timeout_ms, void *reply_out, mf_error *err)
{
    return request_op(c, op, params, NULL, req, timeout_ms, reply_out, err);
}

mf_status mf_api_request_to(mf_client *c, const mf_operation_desc *op, const char *subject, const void *req,
                            int timeout_ms, void *reply_out, mf_error *err)
{
    if (!subject)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "a subject is required");
    return request_op(c, op, NULL, subject, req, timeout_ms, reply_out, err);
}

static mf_status request_op(mf_client *c, const mf_operation_desc *op, const char *const *params, const char *to,
                            const void *req, int timeout_ms, void *reply_out, mf_error *err)
{
    mf_status st = check_request_op(c, op, err);
    if (st)
        return st;
    if (!reply_out)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "reply_out is required");
    mf_init(op->reply->type, reply_out);
    char subject[SUBJECT_MAX];
    mf_buf local = MF_BUF_INIT, *body = body_take();
    if (!body)
        body = &local;
    st = prepare(op, params, to, req, subject, body, err);
    if (st) {
        body_give(body, &local);
        return st;
    }
    mf_msg_owned *rep = NULL;
    /* the thread blocks here, so nothing else of it can use the buffer meanwhile */
    st = mf_client_request(c, subject, body->data ? body->data : "", body->len, timeout_ms, &rep);
    body_give(body, &local);
    if (st == MF_OK)
        st = decode_reply(op, &rep->msg, reply_out, err);
    else
        request_failed(st, subject, timeout_ms, err);
    mf_msg_owned_free(rep);
    return st;
}

/* State of one async request, copied into the client's request record (mf/request_copy.h: no
 * allocation per request, none freed on the service thread). The subject is kept for the error
 * messages: in the record when it fits (a channel address with one uuid does), else in one
 * allocation the callback frees. */
#define ASYNC_SUBJECT_INLINE 72

typedef struct async_req {
    const mf_operation_desc *op;
    mf_api_reply_cb cb;
    mf_api_fn fn;
    void *ctx;
    char *subject_long; /* malloc'd when the subject does not fit in subject; else NULL */
    int timeout_ms;
    char subject[ASYNC_SUBJECT_INLINE];
} async_req;

_Static_assert(sizeof(async_req) <= MF_REQ_CTX_MAX, "async_req must fit in a request record");

/* A decoded reply is valid only during its callback (mf_api_reply_cb), so one of up to this many
 * bytes is decoded on the service thread's stack rather than malloc'd and freed per reply. */
#define REPLY_ON_STACK 512

static void on_async_reply(mf_client *c, mf_status st, const mf_msg *reply, void *ctx)
{
    (void)c;
    async_req *a = ctx; /* the record's copy: valid during this call */
    const char *subject = a->subject_long ? a->subject_long : a->subject;
    mf_error err;
    mf_error_clear(&err);
    union {
        max_align_t align;
        unsigned char bytes[REPLY_ON_STACK];
    } local;
    void *value = NULL;
    if (st == MF_OK) {
        size_t size = a->op->reply->size;
        value = size <= sizeof local ? (void *)&local : malloc(size);
        if (!value) {
            st = mf_error_set(&err, MF_ERR_NOMEM, "", "out of memory decoding the reply");
        } else {
            mf_init(a->op->reply->type, value); /* decode_reply may return before decoding */
            st = decode_reply(a->op, reply, value, &err);
        }
    } else {
        request_failed(st, subject, a->timeout_ms, &err);
    }
    a->cb(a->fn, a->ctx, st, st == MF_OK ? value : NULL, &err);
    if (value) {
        mf_free(a->op->reply->type, value);
        if (value != (void *)&local)
            free(value);
    }
    free(a->subject_long);
}

static mf_status request_async_op(mf_client *c, const mf_operation_desc *op, const char *const *params,
                                  const char *to, const void *req, int timeout_ms, mf_api_reply_cb cb,
                                  mf_api_fn fn, void *ctx, mf_error *err);

mf_status mf_api_request_async(mf_client *c, const mf_operation_desc *op, const char *const *params,
                               const void *req, int timeout_ms, mf_api_reply_cb cb, mf_api_fn fn, void *ctx,
                               mf_error *err)
{
    return request_async_op(c, op, params, NULL, req, timeout_ms, cb, fn, ctx, err);
}

mf_status mf_api_request_async_to(mf_client *c, const mf_operation_desc *op, const char *subject, const void *req,
                                  int timeout_ms, mf_api_reply_cb cb, mf_api_fn fn, void *ctx, mf_error *err)
{
    if (!subject)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "a subject is required");
    return request_async_op(c, op, NULL, subject, req, timeout_ms, cb, fn, ctx, err);
}

static mf_status request_async_op(mf_client *c, const mf_operation_desc *op, const char *const *params,
                                  const char *to, const void *req, int timeout_ms, mf_api_reply_cb cb,
                                  mf_api_fn fn, void *ctx, mf_error *err)
{
    mf_status st = check_request_op(c, op, err);
    if (st)
        return st;
    if (!cb)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "a callback is required");
    char subject[SUBJECT_MAX];
    mf_buf local = MF_BUF_INIT, *body = body_take();
    if (!body)
        body = &local;
    st = prepare(op, params, to, req, subject, body, err);
    async_req a = {.op = op, .cb = cb, .fn = fn, .ctx = ctx, .subject_long = NULL, .timeout_ms = timeout_ms};
    size_t n = st ? 0 : strlen(subject) + 1;
    if (n > sizeof a.subject && !(a.subject_long = malloc(n)))
        st = mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    if (!st) {
        memcpy(a.subject_long ? a.subject_long : a.subject, subject, n);
        st = mf_client_request_async_copy(c, subject, body->data ? body->data : "", body->len, timeout_ms,
                                          on_async_reply, &a, sizeof a);
        if (st)
            mf_error_set(err, st, "", "request on %s failed: %s", subject, mf_status_str(st));
    }
    if (st)
        free(a.subject_long); /* no callback will run */
    body_give(body, &local);
    return st;
}
