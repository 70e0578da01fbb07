/*
 * receive.c - the receiving half of the typed API: subscriptions that decode,
 * validate and dispatch each message to a typed handler, and responders that
 * answer every request - with the handler's reply, or with an error reply the
 * requester can tell apart (mf/api.h, "Responder errors").
 */
#include "mf/api.h"

#include "api/headers.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf/buf.h"
#include "mf/codec.h"

#define SUBJECT_MAX 1024

typedef struct route {
    const mf_operation_desc *op;
    mf_api_handler handler;
    mf_api_fn fn;
} route;

struct mf_api_sub {
    mf_client *client;
    const mf_channel_desc *channel;
    void *ctx;
    uint64_t sid;
    route *routes;
    size_t n_routes;
    bool responder; /* some route answers requests */
    bool to;        /* subscribed to the caller's subject (the _to functions): no parameters parsed */
    /* Scratch memory, reused: callbacks of one subscription never overlap. */
    void *msg;      /* decoded message, as large as the largest message of the channel */
    void *reply;    /* reply struct, as large as the largest reply, or NULL */
    mf_buf out;     /* reply encoding */
    mf_api_sub_opts opts;
    mf_api_sub_stats stats;
};

static void count(uint64_t *counter)
{
    __atomic_fetch_add(counter, 1, __ATOMIC_RELEASE);
}

/* ---- error replies ------------------------------------------------------- */

/* Answers request m with an empty error reply (Nats-Service-Error headers) and logs why. */
static void refuse(mf_api_sub *s, const mf_msg *m, int code, const char *fmt, ...)
{
    char text[MF_ERROR_MESSAGE_MAX + MF_ERROR_POINTER_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    for (char *p = text; *p; p++) /* a header value is one line */
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    if (!m->reply) {
        fprintf(stderr, "mflow: request on %s had no reply subject; not answered: %s\n", m->subject, text);
        return;
    }
    char num[16];
    snprintf(num, sizeof num, "%d", code);
    const mf_header hdrs[2] = {{MF_API_ERROR_HEADER, text}, {MF_API_ERROR_CODE_HEADER, num}};
    mf_status st = mf_client_publish_hdrs(s->client, m->reply, NULL, hdrs, 2, "", 0);
    if (st == MF_OK)
        count(&s->stats.refused);
    fprintf(stderr, "mflow: request on %s refused (%d)%s: %s\n", m->subject, code,
            st ? " - and the error reply could not be sent" : "", text);
}

static const char *ptr_or_doc(const mf_error *err)
{
    return err->pointer[0] ? err->pointer : "(document)";
}

static void send_reply(mf_api_sub *s, const struct route *r, const mf_msg *m, mf_status hst, const mf_error *herr);

/* Gives an invalid request to the subscription's on_invalid handler (mf_api_subscribe_ex). True when it
 * answered. */
static bool answer_invalid(mf_api_sub *s, const mf_msg *m, const mf_error *why)
{
    const route *r = NULL;
    for (size_t i = 0; i < s->n_routes && !r; i++)
        if (s->routes[i].op->reply)
            r = &s->routes[i];
    if (!s->opts.on_invalid || !r || !m->reply)
        return false;
    mf_api_info info;
    memset(&info, 0, sizeof info);
    info.subject = m->subject;
    info.reply = m->reply;
    info.op = r->op;
    info.message = r->op->message;
    mf_init(r->op->reply->type, s->reply);
    mf_status hst = s->opts.on_invalid(s->opts.invalid_ctx, m, why, s->reply, &info);
    if (hst == MF_OK) {
        mf_error none;
        mf_error_clear(&none);
        send_reply(s, r, m, MF_OK, &none);
    }
    mf_free(r->op->reply->type, s->reply);
    return hst == MF_OK;
}

/* An incoming message that is not valid: counted, logged, and answered when it is a request. */
static void drop_invalid(mf_api_sub *s, const mf_msg *m, const char *what, const mf_error *err)
{
    if (s->responder && m->reply) {
        if (!answer_invalid(s, m, err)) /* not answered in the contract's terms: a 400 error reply */
            refuse(s, m, MF_API_ERROR_BAD_REQUEST, "invalid %s: %s: %s", what, ptr_or_doc(err), err->message);
    } else {
        fprintf(stderr, "mflow: dropped invalid %s on %s: %s: %s\n", what, m->subject, ptr_or_doc(err),
                err->message);
    }
    count(&s->stats.invalid); /* last: a reader that sees it sees the error reply too */
}

/* ---- replies ------------------------------------------------------------- */

/* Sends the handler's reply, or an error reply saying why not. */
static void send_reply(mf_api_sub *s, const route *r, const mf_msg *m, mf_status hst, const mf_error *herr)
{
    if (hst) {
        count(&s->stats.reply_errors);
        refuse(s, m, MF_API_ERROR_FAILED, "handler failed: %s%s%s", mf_status_str(hst), herr->message[0] ? ": " : "",
               herr->message);
        return;
    }
    mf_error err;
    mf_buf_reset(&s->out);
    mf_status st = mf_encode(r->op->reply->type, s->reply, &s->out, &err);
    if (st) {
        count(&s->stats.reply_errors);
        refuse(s, m, MF_API_ERROR_FAILED, "invalid reply %s: %s: %s", r->op->reply->key, ptr_or_doc(&err),
               err.message);
        return;
    }
    st = mf_client_respond(s->client, m, s->out.data ? s->out.data : "", s->out.len);
    if (st) {
        count(&s->stats.reply_errors);
        fprintf(stderr, "mflow: reply to %s could not be sent: %s\n", m->subject, mf_status_str(st));
    } else {
        count(&s->stats.replies);
    }
}

/* ---- dispatch ------------------------------------------------------------ */

/* True when the payload is valid as a message of the channel that no route takes. */
static bool other_message(mf_api_sub *s, const mf_msg *m)
{
    for (size_t i = 0; i < s->channel->message_count; i++) {
        const mf_message_desc *md = s->channel->messages[i];
        bool ours = false;
        for (size_t j = 0; j < s->n_routes && !ours; j++)
            ours = s->routes[j].op->message == md;
        if (ours || !md->type)
            continue;
        bool ok = mf_decode(md->type, m->data, m->len, s->msg, NULL) == MF_OK;
        mf_free(md->type, s->msg);
        if (ok)
            return true;
    }
    return false;
}

/* Decodes m as the first route's message that validates; NULL (err: the first route's error) if none. */
static const route *decode_routed(mf_api_sub *s, const mf_msg *m, mf_error *err)
{
    for (size_t i = 0; i < s->n_routes; i++) {
        const route *r = &s->routes[i];
        mf_error e;
        if (mf_decode(r->op->message->type, m->data, m->len, s->msg, i ? &e : err) == MF_OK)
            return r;
    }
    return NULL;
}

/* Runs the handler of route r for the decoded s->msg, and replies for a request. */
static void dispatch(mf_api_sub *s, const route *r, const mf_msg *m, mf_api_info *info)
{
    const mf_operation_desc *op = r->op;
    mf_error herr;
    mf_error_clear(&herr);
    info->op = op;
    info->message = op->message;
    info->error = &herr;
    if (op->reply) {
        mf_init(op->reply->type, s->reply);
        mf_status hst = r->handler(r->fn, s->ctx, s->msg, s->reply, info);
        if (m->reply) {
            send_reply(s, r, m, hst, &herr);
        } else {
            count(&s->stats.reply_errors);
            fprintf(stderr, "mflow: %s request on %s had no reply subject; reply dropped\n", op->key, m->subject);
        }
        mf_free(op->reply->type, s->reply);
    } else {
        (void)r->handler(r->fn, s->ctx, s->msg, NULL, info);
    }
    /* Counted once the handler has returned, so a reader of the stats that sees
     * the count also sees everything the handler did. */
    count(&s->stats.handled);
}

/* Says that an invalid value was a header ("header /Mflow-Error-Code: ..."). */
static mf_error *header_error(mf_error *err)
{
    static const char prefix[] = "header: ";
    size_t k = sizeof prefix - 1, n = strnlen(err->message, sizeof err->message - 1);
    if (n > sizeof err->message - 1 - k)
        n = sizeof err->message - 1 - k;
    memmove(err->message + k, err->message, n);
    memcpy(err->message, prefix, k);
    err->message[k + n] = '\0';
    return err;
}

static void on_message(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)c;
    mf_api_sub *s = ctx;
    const mf_channel_desc *ch = s->channel;
    count(&s->stats.received);

    mf_api_info info;
    memset(&info, 0, sizeof info);
    info.subject = m->subject;
    info.reply = m->reply;
    info.n_params = s->to ? 0 : ch->param_count;
    char values[MF_API_MAX_PARAMS][MF_API_PARAM_MAX];
    char *outs[MF_API_MAX_PARAMS];
    for (size_t i = 0; i < MF_API_MAX_PARAMS; i++) {
        outs[i] = values[i];
        info.params[i] = values[i];
    }
    const char *what = s->n_routes == 1 ? s->routes[0].op->message->key : "message";
    mf_error err;
    if (info.n_params > 0 && mf_channel_parse(ch, m->subject, outs, MF_API_PARAM_MAX, &err) != MF_OK) {
        drop_invalid(s, m, what, &err);
        return;
    }
    const route *r = decode_routed(s, m, &err);
    if (!r) {
        if (s->n_routes < ch->message_count && other_message(s, m))
            count(&s->stats.skipped);
        else
            drop_invalid(s, m, what, &err);
        return;
    }
    const mf_message_desc *md = r->op->message;
    void *hdrs = NULL;
    if (!s->to && mf_channel_check_payload(ch, md, s->msg, info.params, &err) != MF_OK)
        drop_invalid(s, m, md->key, &err);
    else if (md->headers && !(hdrs = calloc(1, md->headers_size ? md->headers_size : 1))) {
        mf_error_set(&err, MF_ERR_NOMEM, "", "out of memory");
        drop_invalid(s, m, md->key, &err);
    } else if (hdrs && mf_api_headers_in(md->headers, m, hdrs, &err) != MF_OK) {
        free(hdrs);
        hdrs = NULL;
        drop_invalid(s, m, md->key, header_error(&err));
    } else {
        info.headers = hdrs;
        dispatch(s, r, m, &info);
    }
    if (hdrs) {
        mf_free(md->headers, hdrs);
        free(hdrs);
    }
    mf_free(md->type, s->msg);
}

/* ---- subscribe ----------------------------------------------------------- */

static void sub_free(mf_api_sub *s)
{
    if (!s)
        return;
    free(s->routes);
    free(s->msg);
    free(s->reply);
    mf_buf_free(&s->out);
    free(s);
}

/* Copies the routes that have a handler, checking each; sizes the scratch memory. */
static mf_status take_routes(mf_api_sub *s, const mf_api_route *routes, size_t n, size_t *msg_size,
                             size_t *reply_size, mf_error *err)
{
    s->routes = calloc(n ? n : 1, sizeof *s->routes);
    if (!s->routes)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    for (size_t i = 0; i < n; i++) {
        const mf_operation_desc *op = routes[i].op;
        if (!op || !op->channel || !op->message || !routes[i].handler)
            return mf_error_set(err, MF_ERR_INVALID_ARG, "", "every route needs an operation and a handler");
        if (op->action != MF_ACTION_RECEIVE)
            return mf_error_set(err, MF_ERR_INVALID_ARG, "", "operation %s is not a receive operation", op->key);
        if (op->channel != routes[0].op->channel)
            return mf_error_set(err, MF_ERR_INVALID_ARG, "", "operations %s and %s are on different channels",
                                routes[0].op->key, op->key);
        if (!routes[i].fn)
            continue;
        s->routes[s->n_routes++] = (route){op, routes[i].handler, routes[i].fn};
        if (op->message->size > *msg_size)
            *msg_size = op->message->size;
        if (op->reply && op->reply->size > *reply_size)
            *reply_size = op->reply->size;
        s->responder |= op->reply != NULL;
    }
    if (!s->n_routes)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "a handler is required");
    return MF_OK;
}

static mf_status subscribe_channel(mf_client *c, const mf_api_route *routes, size_t n_routes,
                                   const char *const *filter, const char *queue, void *ctx,
                                   const mf_api_sub_opts *opts, mf_api_sub **out, mf_error *err);

mf_status mf_api_subscribe_channel(mf_client *c, const mf_api_route *routes, size_t n_routes,
                                   const char *const *filter, const char *queue, void *ctx, mf_api_sub **out,
                                   mf_error *err)
{
    return subscribe_channel(c, routes, n_routes, filter, queue, ctx, NULL, out, err);
}

static mf_status subscribe(mf_client *c, const mf_api_route *routes, size_t n_routes, const char *subject,
                           bool to, const char *queue, void *ctx, const mf_api_sub_opts *opts, mf_api_sub **out,
                           mf_error *err);

static mf_status subscribe_channel(mf_client *c, const mf_api_route *routes, size_t n_routes,
                                   const char *const *filter, const char *queue, void *ctx,
                                   const mf_api_sub_opts *opts, mf_api_sub **out, mf_error *err)
{
    if (!c || !routes || !n_routes || !out || !routes[0].op || !routes[0].op->channel)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "client, routes and out are required");
    *out = NULL;
    const mf_channel_desc *ch = routes[0].op->channel;
    if (!ch->address)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "channel %s has no NATS subject: give one (the _to functions)",
                            ch->key);
    if (ch->param_count > MF_API_MAX_PARAMS)
        return mf_error_set(err, MF_ERR_LIMIT, "", "channel %s has more than %d parameters", ch->address,
                            MF_API_MAX_PARAMS);
    char subject[SUBJECT_MAX];
    mf_status st = mf_channel_filter(ch, filter, subject, sizeof subject, err);
    if (st)
        return st;
    return subscribe(c, routes, n_routes, subject, false, queue, ctx, opts, out, err);
}

mf_status mf_api_subscribe_channel_to(mf_client *c, const mf_api_route *routes, size_t n_routes, const char *subject,
                                      const char *queue, void *ctx, mf_api_sub **out, mf_error *err)
{
    if (!c || !routes || !n_routes || !out || !routes[0].op || !routes[0].op->channel)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "client, routes and out are required");
    *out = NULL;
    if (!subject || !subject[0] || strlen(subject) >= SUBJECT_MAX)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "a subject of 1..%d bytes is required", SUBJECT_MAX - 1);
    return subscribe(c, routes, n_routes, subject, true, queue, ctx, NULL, out, err);
}

/* The subscription of subscribe_channel and mf_api_subscribe_channel_to, on a subject already built. */
static mf_status subscribe(mf_client *c, const mf_api_route *routes, size_t n_routes, const char *subject,
                           bool to, const char *queue, void *ctx, const mf_api_sub_opts *opts, mf_api_sub **out,
                           mf_error *err)
{
    const mf_channel_desc *ch = routes[0].op->channel;
    mf_status st;
    mf_api_sub *s = calloc(1, sizeof *s);
    if (!s)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    s->client = c;
    s->channel = ch;
    s->ctx = ctx;
    s->to = to;
    if (opts)
        s->opts = *opts;
    size_t msg_size = 0, reply_size = 0;
    st = take_routes(s, routes, n_routes, &msg_size, &reply_size, err);
    for (size_t i = 0; st == MF_OK && i < ch->message_count; i++) /* other_message decodes those too */
        if (ch->messages[i]->size > msg_size)
            msg_size = ch->messages[i]->size;
    if (st == MF_OK) {
        s->msg = malloc(msg_size);
        s->reply = reply_size ? malloc(reply_size) : NULL;
        if (!s->msg || (reply_size && !s->reply))
            st = mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    if (st == MF_OK) {
        st = mf_client_subscribe(c, subject, queue, on_message, s, &s->sid);
        if (st)
            mf_error_set(err, st, "", "subscribing to %s failed: %s", subject, mf_status_str(st));
    }
    if (st) {
        sub_free(s);
        return st;
    }
    *out = s;
    return MF_OK;
}

mf_status mf_api_subscribe(mf_client *c, const mf_operation_desc *op, mf_api_handler h, mf_api_fn fn,
                           void *ctx, mf_api_sub **out, mf_error *err)
{
    return mf_api_subscribe_ex(c, op, h, fn, ctx, NULL, out, err);
}

/* The queue group a subscription of op joins under opts (NULL: none). */
static mf_status queue_of(const mf_operation_desc *op, const mf_api_sub_opts *opts, const char **queue,
                          mf_error *err)
{
    *queue = op->queue_group;
    if (!opts || opts->queue == MF_QUEUE_DEFAULT)
        return MF_OK;
    if (opts->queue == MF_QUEUE_NONE) {
        *queue = NULL;
        return MF_OK;
    }
    if (opts->queue != MF_QUEUE_GROUP)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "/queue", "unknown queue mode %d", (int)opts->queue);
    const char *g = opts->queue_group;
    size_t n = g ? strlen(g) : 0;
    if (!n || n > 255)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "/queue_group", "a queue group of 1..255 bytes is required");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)g[i] <= ' ' || g[i] == 0x7f)
            return mf_error_set(err, MF_ERR_INVALID_ARG, "/queue_group",
                                "queue group '%s' contains white space or a control character", g);
    *queue = g;
    return MF_OK;
}

/* The checks every mf_api_subscribe* makes of its operation and handler. */
/* The arguments of a subscribe to a receive operation, checked; *queue set from opts (see queue_of). */
static mf_status check_receive(mf_client *c, const mf_operation_desc *op, mf_api_handler h,
                               const mf_api_sub_opts *opts, mf_api_sub **out, const char **queue, mf_error *err)
{
    if (!c || !op || !h || !out || !op->channel || !op->message)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "client, operation, handler and out are required");
    *out = NULL;
    if (op->action != MF_ACTION_RECEIVE)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "operation %s is not a receive operation", op->key);
    return queue_of(op, opts, queue, err);
}

mf_status mf_api_subscribe_ex(mf_client *c, const mf_operation_desc *op, mf_api_handler h, mf_api_fn fn,
                              void *ctx, const mf_api_sub_opts *opts, mf_api_sub **out, mf_error *err)
{
    const char *queue = NULL; /* set by check_receive when it succeeds (-O3 cannot tell) */
    mf_status st = check_receive(c, op, h, opts, out, &queue, err);
    if (st)
        return st;
    const mf_api_route r = {op, h, fn};
    return subscribe_channel(c, &r, 1, NULL, queue, ctx, opts, out, err);
}

mf_status mf_api_subscribe_to(mf_client *c, const mf_operation_desc *op, const char *subject, mf_api_handler h,
                              mf_api_fn fn, void *ctx, mf_api_sub **out, mf_error *err)
{
    return mf_api_subscribe_to_ex(c, op, subject, h, fn, ctx, NULL, out, err);
}

mf_status mf_api_subscribe_to_ex(mf_client *c, const mf_operation_desc *op, const char *subject, mf_api_handler h,
                                 mf_api_fn fn, void *ctx, const mf_api_sub_opts *opts, mf_api_sub **out,
                                 mf_error *err)
{
    const char *queue = NULL; /* set by check_receive when it succeeds (-O3 cannot tell) */
    mf_status st = check_receive(c, op, h, opts, out, &queue, err);
    if (st)
        return st;
    if (!subject || !subject[0] || strlen(subject) >= SUBJECT_MAX)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "a subject of 1..%d bytes is required", SUBJECT_MAX - 1);
    const mf_api_route r = {op, h, fn};
    return subscribe(c, &r, 1, subject, true, queue, ctx, opts, out, err);
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
    out->invalid = __atomic_load_n(&s->stats.invalid, __ATOMIC_ACQUIRE);
    out->skipped = __atomic_load_n(&s->stats.skipped, __ATOMIC_ACQUIRE);
    out->replies = __atomic_load_n(&s->stats.replies, __ATOMIC_ACQUIRE);
    out->reply_errors = __atomic_load_n(&s->stats.reply_errors, __ATOMIC_ACQUIRE);
    out->refused = __atomic_load_n(&s->stats.refused, __ATOMIC_ACQUIRE);
}
