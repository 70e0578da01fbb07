/*
 * mf/api.h - the generic half of the generated typed APIs.
 *
 * For every operation of the contract the generator emits a typed function of
 * its service (`campaign_service_send_push_notification(client, &msg, &err)`,
 * `user_service_reply_user_info(client, handler, ctx, &sub, &err)`, ...), and
 * for every channel typed functions any client may use
 * (`<prefix>_campaign_execute_channel_publish(client, &msg, &err)`,
 * `<prefix>_campaign_status_channel_subscribe(client, handler, ctx, queue, &sub, &err)`,
 * ...). All are thin wrappers over the functions below, driven by descriptors
 * from the registry (mf/registry.h: operations, and the service-less channel
 * endpoints). All the logic lives here, once:
 *
 *   send     validate + encode the message (mf_encode), build the subject from
 *            the channel address, the parameter values given and those taken
 *            from the payload (parameters with a location), publish.
 *   request  the same with a reply inbox; the reply is decoded and validated
 *            into the caller's struct (an invalid reply is an error, never
 *            passed on). A responder's error reply is MF_ERR_REFUSED.
 *   receive  subscribe to the channel (every parameter value `*`, or the values
 *            asked for), in a queue group (a service's operations: the service,
 *            so replicas share the load); each message is decoded and validated
 *            before the handler sees it, and a parameter with a location must
 *            equal the payload's value; an invalid one is logged with its JSON
 *            pointer, counted and dropped. For a request/reply operation the
 *            handler fills a reply struct that is validated, encoded and sent to
 *            the request's reply subject.
 *
 * Responder errors. A responder never leaves a requester waiting for its
 * timeout: it answers, as NATS services do, with an empty reply carrying the
 * headers
 *     Nats-Service-Error: <text>        Nats-Service-Error-Code: <code>
 * code 400 for an invalid request (text "invalid <Message>: <pointer>: <why>"),
 * 500 when the handler failed ("handler failed: <status>[: <its message>]") or
 * filled an invalid reply ("invalid reply <Message>: <pointer>: <why>"). The
 * requester gets MF_ERR_REFUSED with err->message "refused (<code>): <text>",
 * distinct from MF_ERR_TIMEOUT and MF_ERR_NO_RESPONDERS.
 *
 * Handlers run on the client's service thread (see mf/client.h): they may
 * publish and send async requests, not block.
 */
#ifndef MF_API_H
#define MF_API_H

#include <stdint.h>
#include "mf/client.h"
#include "mf/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MF_API_MAX_PARAMS 8
#define MF_API_PARAM_MAX 128 /* bytes of one parameter value, NUL included */

/* The headers of a responder's error reply (see "Responder errors" above). */
#define MF_API_ERROR_HEADER "Nats-Service-Error"
#define MF_API_ERROR_CODE_HEADER "Nats-Service-Error-Code"
#define MF_API_ERROR_BAD_REQUEST 400 /* the request was invalid */
#define MF_API_ERROR_FAILED 500      /* the handler failed or its reply was invalid */

/* What a receive handler learns about the message besides its payload. */
typedef struct mf_api_info {
    const char *subject;            /* the concrete subject it arrived on */
    const char *reply;              /* reply subject or NULL */
    const mf_operation_desc *op;    /* the operation (or channel endpoint) that matched */
    const mf_message_desc *message; /* = op->message: which of the channel's messages it is */
    size_t n_params;                /* = op->channel->param_count */
    const char *params[MF_API_MAX_PARAMS]; /* parameter values, in the channel's parameter order */
    mf_error *error;                /* request handlers that fail may describe why here (mf_error_set);
                                       its message is sent to the requester. Cleared before each call. */
    const void *headers;            /* a struct of message->headers: the declared headers that
                                       arrived, decoded and validated (members absent when not sent);
                                       NULL when the message declares none. Valid during the call. */
} mf_api_info;

/*
 * Generated code hands the runtime its typed handler as an mf_api_fn together
 * with a trampoline that casts it back to the real type and calls it (calling
 * a function through a pointer of another type is undefined; converting and
 * converting back is not).
 */
typedef void (*mf_api_fn)(void);

/*
 * Receive trampoline: `msg` is the decoded, validated message (owned by the
 * runtime, valid during the call); `reply` is NULL for plain receives, else an
 * initialised reply struct for the handler to fill. For a request, return
 * MF_OK to send the reply; any other status is logged and answered with a 500
 * error reply (see "Responder errors"). Plain receives return MF_OK.
 */
typedef mf_status (*mf_api_handler)(mf_api_fn fn, void *ctx, const void *msg, void *reply,
                                    const mf_api_info *info);

/* A receive subscription (opaque). */
typedef struct mf_api_sub mf_api_sub;

typedef struct mf_api_sub_stats {
    uint64_t received;    /* messages that arrived */
    uint64_t handled;     /* passed to the handler, counted when it returned */
    uint64_t invalid;     /* dropped: failed to decode/validate, bad subject parameters, or a
                             subject parameter that differs from the payload's value */
    uint64_t skipped;     /* valid as another message of the channel than those subscribed to */
    uint64_t replies;     /* replies sent */
    uint64_t reply_errors;/* handler failed, reply invalid or could not be sent */
    uint64_t refused;     /* error replies sent (invalid request, failed handler, invalid reply) */
} mf_api_sub_stats;

/*
 * Publishes `msg` (a struct of op->message's type) on op's channel. `params`
 * holds op->channel->param_count values in the channel's parameter order; the
 * entries of parameters with a location are ignored (their value is the
 * payload's), and params may be NULL when no parameter needs a value. Errors:
 * the codec's (MF_ERR_REQUIRED, MF_ERR_FORMAT, ... with err->pointer set:
 * nothing is sent), MF_ERR_INVALID_ARG (a bad parameter value - err->pointer
 * "/<name>", or the payload member for a located one - or an operation that
 * is not a send), and mf_client_publish's.
 */
mf_status mf_api_send(mf_client *c, const mf_operation_desc *op, const char *const *params, const void *msg,
                      mf_error *err);

/*
 * mf_api_send with the message's typed headers: `headers` is a struct of
 * op->message->headers (NULL: none sent). It is validated like the payload
 * (err->pointer names the header, nothing is sent on error); its present
 * members are sent as NATS headers named after them. MF_ERR_INVALID_ARG also
 * for headers given to a message that declares none.
 */
mf_status mf_api_send_with_headers(mf_client *c, const mf_operation_desc *op, const char *const *params,
                                   const void *msg, const void *headers, mf_error *err);

/*
 * A batch of sends, for a thread that sends a burst of messages (a batch's
 * notifications): mf_api_batch_add validates, encodes and addresses a message
 * as mf_api_send does - the same errors, err->pointer set, nothing added on
 * error - into the batch's own memory, without the client; mf_api_batch_send
 * then publishes the messages in the order added with mf_client_publish_batch,
 * which takes the client's lock once per chunk of messages instead of once per
 * message. Messages with headers are not batched (mf_api_send_with_headers).
 *
 *     mf_api_batch b = MF_API_BATCH_INIT;
 *     campaign_service_send_push_notification_batch(&b, &msg, &err);  (generated)
 *     mf_api_batch_send(client, &b, &sent, &err);
 *     mf_api_batch_reset(&b);     (keeps the memory for the next burst)
 *     mf_api_batch_free(&b);
 *
 * Threads: a batch is used by one thread at a time; threads with a batch each
 * may fill them at once. The members are private.
 */
typedef struct mf_api_batch {
    mf_buf text;   /* each message's payload, then its subject and a NUL */
    size_t *at;    /* per message: payload offset, payload length, subject offset */
    mf_pub *pubs;  /* mf_api_batch_send's */
    size_t n, cap; /* messages added; entries of at (3 each) and pubs */
} mf_api_batch;

#define MF_API_BATCH_INIT {MF_BUF_INIT, NULL, NULL, 0, 0}

/* Adds msg for op (a send operation; params as for mf_api_send). MF_OK, the
 * codec's errors, MF_ERR_INVALID_ARG, MF_ERR_NOMEM: then the batch is as it was. */
mf_status mf_api_batch_add(mf_api_batch *b, const mf_operation_desc *op, const char *const *params, const void *msg,
                           mf_error *err);

/* Messages added since the last reset. */
size_t mf_api_batch_count(const mf_api_batch *b);

/*
 * Publishes the batch's messages in order (mf_client_publish_batch). MF_OK:
 * all queued. Otherwise the status of the first that was not (the statuses of
 * mf_client_publish, err says which message): those before it are queued,
 * none after it. *sent (may be NULL): how many were queued. The batch is left
 * as it was (mf_api_batch_reset empties it).
 */
mf_status mf_api_batch_send(mf_client *c, mf_api_batch *b, size_t *sent, mf_error *err);

/* Empties the batch and keeps its memory; mf_api_batch_free gives the memory
 * back (the batch is then empty and usable). NULL is fine for both. */
void mf_api_batch_reset(mf_api_batch *b);
void mf_api_batch_free(mf_api_batch *b);

/*
 * Sends a request and waits up to timeout_ms for the reply, decoded into
 * `reply_out` (a struct of op->reply's type; it must hold no memory: it is
 * initialised here, and the caller frees it with the type's _free on MF_OK).
 * MF_ERR_TIMEOUT (nobody answered in time), MF_ERR_NO_RESPONDERS (nobody
 * subscribes to the subject), MF_ERR_REFUSED (the responder answered with an
 * error: err->message is "refused (<code>): <responder's text>"), the codec's
 * errors for an invalid request (nothing sent) or an invalid reply
 * (err->pointer names the field, err->message says it was the reply),
 * mf_client_request's errors.
 */
mf_status mf_api_request(mf_client *c, const mf_operation_desc *op, const char *const *params, const void *req,
                         int timeout_ms, void *reply_out, mf_error *err);

/*
 * Async reply trampoline, run once on the service thread: st MF_OK with the
 * decoded reply (valid during the call), otherwise reply NULL and err
 * describing the failure (MF_ERR_TIMEOUT, MF_ERR_NO_RESPONDERS,
 * MF_ERR_REFUSED, an invalid reply...).
 */
typedef void (*mf_api_reply_cb)(mf_api_fn fn, void *ctx, mf_status st, const void *reply, const mf_error *err);

/* Like mf_api_request without waiting: cb(fn, ctx, ...) runs exactly once if
 * this returns MF_OK, never otherwise. */
mf_status mf_api_request_async(mf_client *c, const mf_operation_desc *op, const char *const *params,
                               const void *req, int timeout_ms, mf_api_reply_cb cb, mf_api_fn fn, void *ctx,
                               mf_error *err);

/*
 * Subscribes to op (a receive operation): h(fn, ctx, ...) runs for every valid message. *out receives the
 * subscription, owned by the caller: end it with mf_api_unsubscribe before
 * mf_client_destroy. ctx must stay valid until then. It subscribes to every
 * parameter value, in op->queue_group. Invalid messages are reported on
 * stderr as "mflow: dropped invalid <Message> on <subject>: <pointer>:
 * <message>" and counted (an invalid request is also answered with a 400
 * error). MF_ERR_INVALID_ARG (NULL argument, not a receive operation),
 * MF_ERR_NOMEM, mf_client_subscribe's errors.
 */
mf_status mf_api_subscribe(mf_client *c, const mf_operation_desc *op, mf_api_handler h, mf_api_fn fn,
                           void *ctx, mf_api_sub **out, mf_error *err);

/*
 * Called, for a request/reply subscription, with a request that failed to
 * decode or validate, instead of the 400 error reply: `raw` is the message as
 * received, `why` the first error (JSON pointer and message), `reply` an
 * initialised struct of the operation's reply type to fill, `info` the
 * subject, reply subject and operation (no parameters). Return MF_OK to send
 * the reply (validated first; an invalid one is answered with a 500 error
 * reply); any other status falls back to the 400 error reply. Runs on the
 * service thread.
 */
typedef mf_status (*mf_api_invalid_handler)(void *ctx, const mf_msg *raw, const mf_error *why, void *reply,
                                            const mf_api_info *info);

/* Who gets a message when several subscribers of one receive operation listen (replicas of a
 * service, or several subscriptions of one program). */
typedef enum mf_queue_mode {
    MF_QUEUE_DEFAULT = 0, /* the operation's queue group (op->queue_group: its service id): one of
                             the replicas gets each message - right for requests and work items */
    MF_QUEUE_NONE,        /* no queue group: every subscriber gets every message - right for events
                             that each replica applies to its own state (a local view, a cache) */
    MF_QUEUE_GROUP        /* the queue group named in mf_api_sub_opts.queue_group */
} mf_queue_mode;

/* Options of a subscription (mf_api_subscribe_ex, mf_api_subscribe_to_ex and the generated
 * <service>_<operation>_ex functions). A zeroed struct, like opts == NULL, means the defaults.
 * The struct is read during the call only: it need not outlive it. */
typedef struct mf_api_sub_opts {
    mf_api_invalid_handler on_invalid; /* request/reply only (ignored otherwise); NULL: invalid
                                          requests get the 400 error reply (the default) */
    void *invalid_ctx;                 /* passed to on_invalid */
    mf_queue_mode queue;               /* MF_QUEUE_DEFAULT: op->queue_group */
    const char *queue_group;           /* with MF_QUEUE_GROUP: the group (a NATS queue name:
                                          1..255 bytes, no white space); copied */
} mf_api_sub_opts;

/*
 * mf_api_subscribe with options (opts may be NULL: the defaults). A service whose reply
 * message can carry an error (UserInfoReply's `error`) uses on_invalid to answer invalid
 * requests in the contract's terms; invalid requests still count in stats.invalid, an answer
 * sent counts in stats.replies. opts->queue chooses the queue group. MF_ERR_INVALID_ARG also
 * for an unknown queue mode or a bad queue_group (err->pointer "/queue_group").
 */
mf_status mf_api_subscribe_ex(mf_client *c, const mf_operation_desc *op, mf_api_handler h, mf_api_fn fn,
                              void *ctx, const mf_api_sub_opts *opts, mf_api_sub **out, mf_error *err);

/* mf_api_subscribe_to with options, as mf_api_subscribe_ex. */
mf_status mf_api_subscribe_to_ex(mf_client *c, const mf_operation_desc *op, const char *subject, mf_api_handler h,
                                 mf_api_fn fn, void *ctx, const mf_api_sub_opts *opts, mf_api_sub **out,
                                 mf_error *err);

/* One message a subscription takes: a RECEIVE descriptor (operation or channel
 * endpoint) and the typed handler behind its trampoline. A route whose fn is
 * NULL is left out (its messages count as `skipped`). */
typedef struct mf_api_route {
    const mf_operation_desc *op;
    mf_api_handler handler;
    mf_api_fn fn;
} mf_api_route;

/*
 * Subscribes to a channel for one or more of its messages: every route's op
 * must be a RECEIVE descriptor of the same channel. An arriving message is
 * decoded as each route's message in turn and goes to the first that
 * validates; one valid only as another message of the channel is counted as
 * skipped, anything else is invalid (logged, counted, dropped; a request is
 * answered with a 400 error when some route replies). `filter` holds a value
 * per channel parameter (in order; NULL entries, or filter NULL: every value),
 * `queue` the queue group (NULL: none). Otherwise as mf_api_subscribe, whose
 * errors it returns, plus MF_ERR_INVALID_ARG for routes of different channels,
 * no route with a handler, or a bad filter value.
 */
mf_status mf_api_subscribe_channel(mf_client *c, const mf_api_route *routes, size_t n_routes,
                                   const char *const *filter, const char *queue, void *ctx, mf_api_sub **out,
                                   mf_error *err);

/*
 * The same for a channel without a NATS subject (its AsyncAPI address is not
 * one, or it has none: op->channel->address is NULL), or to use another
 * subject than the channel's: the caller gives `subject`. A send or request
 * needs a concrete subject; a subscription may use wildcards ("a.*.c", "a.>").
 * No channel parameters are parsed, nor compared with the payload
 * (info->n_params is 0). MF_ERR_INVALID_ARG
 * for a NULL or empty subject (or one of 1024 bytes or more); otherwise as
 * the functions above. The ones above return MF_ERR_INVALID_ARG for a channel
 * without a subject.
 */
mf_status mf_api_send_to(mf_client *c, const mf_operation_desc *op, const char *subject, const void *msg,
                         mf_error *err);
mf_status mf_api_request_to(mf_client *c, const mf_operation_desc *op, const char *subject, const void *req,
                            int timeout_ms, void *reply_out, mf_error *err);
mf_status mf_api_request_async_to(mf_client *c, const mf_operation_desc *op, const char *subject, const void *req,
                                  int timeout_ms, mf_api_reply_cb cb, mf_api_fn fn, void *ctx, mf_error *err);
mf_status mf_api_subscribe_to(mf_client *c, const mf_operation_desc *op, const char *subject, mf_api_handler h,
                              mf_api_fn fn, void *ctx, mf_api_sub **out, mf_error *err);
mf_status mf_api_subscribe_channel_to(mf_client *c, const mf_api_route *routes, size_t n_routes, const char *subject,
                                      const char *queue, void *ctx, mf_api_sub **out, mf_error *err);

/* Ends the subscription and frees it. After it returns the handler is not running
 * and will not run again. NULL is fine. Must not be called from its own handler. */
void mf_api_unsubscribe(mf_api_sub *s);

/* Counters of one subscription (thread-safe snapshot). */
void mf_api_sub_stats_get(const mf_api_sub *s, mf_api_sub_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* MF_API_H */
