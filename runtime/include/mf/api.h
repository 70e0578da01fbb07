/*
 * mf/api.h - the generic half of the generated typed per-service API.
 *
 * For every operation of the contract the generator emits a typed function
 * (`campaign_service_send_push_notification(client, user_id, &msg, &err)`,
 * `user_service_reply_user_info(client, handler, ctx, &sub, &err)`, ...)
 * that is a thin wrapper over the functions below, driven by the operation's
 * descriptor from the registry (mf/registry.h). All the logic lives here, once:
 *
 *   send     validate + encode the message (mf_encode), build the subject from
 *            the channel address and the parameter values, publish.
 *   request  the same with a reply inbox; the reply is decoded and validated
 *            into the caller's struct (an invalid reply is an error, never
 *            passed on).
 *   receive  subscribe to the channel (every parameter value: `*`), in the
 *            operation's queue group so replicas share the load; each message
 *            is decoded and validated before the handler sees it; an invalid
 *            one is logged with its JSON pointer, counted and dropped. For a
 *            request/reply operation the handler fills a reply struct that is
 *            validated, encoded and sent to the request's reply subject.
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

/* What a receive handler learns about the message besides its payload. */
typedef struct mf_api_info {
    const char *subject;            /* the concrete subject it arrived on */
    const char *reply;              /* reply subject or NULL */
    const mf_operation_desc *op;
    size_t n_params;                /* = op->channel->param_count */
    const char *params[MF_API_MAX_PARAMS]; /* parameter values, in the channel's parameter order */
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
 * MF_OK to send the reply; any other status sends nothing (the requester times
 * out) and is logged. Plain receives return MF_OK.
 */
typedef mf_status (*mf_api_handler)(mf_api_fn fn, void *ctx, const void *msg, void *reply,
                                    const mf_api_info *info);

/* A receive subscription (opaque). */
typedef struct mf_api_sub mf_api_sub;

typedef struct mf_api_sub_stats {
    uint64_t received;    /* messages that arrived */
    uint64_t handled;     /* passed to the handler, counted when it returned */
    uint64_t invalid;     /* dropped: failed to decode/validate (or bad subject parameters) */
    uint64_t replies;     /* replies sent */
    uint64_t reply_errors;/* handler failed, reply invalid or could not be sent */
} mf_api_sub_stats;

/*
 * Publishes `msg` (a struct of op->message's type) on op's channel. `params`
 * holds op->channel->param_count values in the channel's parameter order (NULL
 * when there are none). Errors: the codec's (MF_ERR_REQUIRED, MF_ERR_FORMAT,
 * ... with err->pointer set: nothing is sent), MF_ERR_INVALID_ARG (a bad
 * parameter value or an operation that is not a send), and mf_client_publish's.
 */
mf_status mf_api_send(mf_client *c, const mf_operation_desc *op, const char *const *params, const void *msg,
                      mf_error *err);

/*
 * Sends a request and waits up to timeout_ms for the reply, decoded into
 * `reply_out` (a struct of op->reply's type; it must hold no memory: it is
 * initialised here, and the caller frees it with the type's _free on MF_OK).
 * MF_ERR_TIMEOUT, MF_ERR_NO_RESPONDERS, the codec's errors for an invalid
 * request (nothing sent) or an invalid reply (err->pointer names the field,
 * err->message says it was the reply), mf_client_request's errors.
 */
mf_status mf_api_request(mf_client *c, const mf_operation_desc *op, const char *const *params, const void *req,
                         int timeout_ms, void *reply_out, mf_error *err);

/*
 * Async reply trampoline, run once on the service thread: st MF_OK with the
 * decoded reply (valid during the call), otherwise reply NULL and err
 * describing the failure (MF_ERR_TIMEOUT, MF_ERR_NO_RESPONDERS, an invalid reply...).
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
 * mf_client_destroy. ctx must stay valid until then. Invalid messages are
 * reported on stderr as "mflow: dropped invalid <Message> on <subject>:
 * <pointer>: <message>" and counted. MF_ERR_INVALID_ARG (NULL argument, not a
 * receive operation), MF_ERR_NOMEM, mf_client_subscribe's errors.
 */
mf_status mf_api_subscribe(mf_client *c, const mf_operation_desc *op, mf_api_handler h, mf_api_fn fn,
                           void *ctx, mf_api_sub **out, mf_error *err);

/* Ends the subscription and frees it. After it returns the handler is not running
 * and will not run again. NULL is fine. Must not be called from its own handler. */
void mf_api_unsubscribe(mf_api_sub *s);

/* Counters of one subscription (thread-safe snapshot). */
void mf_api_sub_stats_get(const mf_api_sub *s, mf_api_sub_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* MF_API_H */
