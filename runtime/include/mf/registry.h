/*
 * mf/registry.h - the tables a generated SDK exports about its contract.
 *
 * The generator emits one constant mf_registry (`<prefix>_sdk_registry`) listing
 * every message, channel and operation of the AsyncAPI document. The runtime,
 * the typed API and the command-line client find messages and build subjects
 * through it; the runtime never includes a generated header.
 *
 * Everything here is static, read-only data owned by the generated library.
 */
#ifndef MF_REGISTRY_H
#define MF_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include "mf/codec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mf_message_desc {
    const char *key;         /* component key, e.g. "CampaignCreate" */
    const char *name;        /* message name, e.g. "CampaignCreateMessage" */
    const char *title;       /* may be "" */
    const char *content_type;/* e.g. "application/json" */
    const mf_type *type;     /* payload descriptor */
    size_t size;             /* sizeof the payload struct */
    const mf_type *headers;  /* the contract's `headers` (an object of string members, sent as NATS
                                headers named after them), NULL when the message declares none */
    size_t headers_size;     /* sizeof the headers struct (0 without) */
} mf_message_desc;

typedef struct mf_param_desc {
    const char *name;        /* "user_id" */
    const mf_type *type;     /* string type carrying the parameter's format/pattern; NULL = any */
    const char *location;    /* JSON pointer into the payload of every message of the channel the
                                value comes from ("/user_id", from the parameter's
                                `location: $message.payload#/user_id`); NULL: the value is given
                                explicitly. A string member is used as is, an integer in decimal. */
} mf_param_desc;

typedef struct mf_channel_desc {
    const char *key;         /* channel key, e.g. "notificationUserPush" */
    const char *address;     /* "notification.user.{user_id}.push" */
    const char *wildcard;    /* every parameter as "*": "notification.user.*.push" */
    const mf_param_desc *params; /* in order of appearance in the address */
    size_t param_count;
    const mf_message_desc *const *messages;
    size_t message_count;
} mf_channel_desc;

typedef enum mf_action { MF_ACTION_SEND = 1, MF_ACTION_RECEIVE = 2 } mf_action;

typedef struct mf_operation_desc {
    const char *key;         /* operation key, e.g. "requestUserInfo" */
    const char *service;     /* x-service, e.g. "campaign-service" */
    mf_action action;
    const mf_channel_desc *channel;
    const mf_message_desc *message; /* the (first) message sent/received */
    const mf_message_desc *reply;   /* reply message, NULL when not request/reply */
    const char *queue_group;        /* receivers of commands/requests join this group; NULL for events */
} mf_operation_desc;

/*
 * Channel endpoints: for every message of every channel the generator also emits a pair of
 * operation descriptors that belong to no service (service and queue_group NULL): one SEND
 * (a publish, or a request when `reply` is set) and one RECEIVE (a subscription, or a
 * responder). They drive the per-channel typed API any client may use (<p>_sdk/channels_api.h,
 * see docs/generator.md); their keys are "<channel key>/<message key>/send|receive".
 */

typedef struct mf_registry {
    const char *title;       /* info.title */
    const char *version;     /* info.version */
    const mf_message_desc *const *messages; size_t message_count; /* sorted by key */
    const mf_channel_desc *const *channels; size_t channel_count; /* sorted by key */
    const mf_operation_desc *const *operations; size_t operation_count; /* sorted by key */
    const mf_operation_desc *const *endpoints; size_t endpoint_count; /* channel endpoints, sorted by key */
} mf_registry;

/* Finds a message by component key ("CampaignCreate") or name ("CampaignCreateMessage");
 * case-sensitive. NULL when absent. */
const mf_message_desc *mf_registry_message(const mf_registry *r, const char *name);
/* Finds a channel by key or by address template. NULL when absent. */
const mf_channel_desc *mf_registry_channel(const mf_registry *r, const char *key_or_address);
/* Finds an operation by key. NULL when absent. */
const mf_operation_desc *mf_registry_operation(const mf_registry *r, const char *key);
/* Finds the channel whose address matches a concrete subject ("campaign.create",
 * "notification.user.<uuid>.push"). NULL when none. */
const mf_channel_desc *mf_registry_channel_for_subject(const mf_registry *r, const char *subject);

/*
 * Builds a concrete subject from a channel address. `values[i]` is the value of
 * params[i] (by position in the descriptor; typed generated helpers bind by
 * name). A value must be non-empty, contain none of '.', '*', '>' or white
 * space, and satisfy the parameter's type. Writes a NUL-terminated subject to
 * out (capacity cap). Errors: MF_ERR_INVALID_ARG (bad value, pointer names the
 * parameter), MF_ERR_LIMIT (cap too small).
 */
mf_status mf_channel_address(const mf_channel_desc *c, const char *const *values,
                             char *out, size_t cap, mf_error *err);

/*
 * The reverse: checks that `subject` matches the address and copies each
 * parameter value into out_values[i] (each a buffer of value_cap bytes).
 * MF_ERR_NOT_FOUND when the subject does not match; MF_ERR_INVALID_ARG when a
 * value violates its parameter; MF_ERR_LIMIT when a buffer is too small.
 */
mf_status mf_channel_parse(const mf_channel_desc *c, const char *subject,
                           char **out_values, size_t value_cap, mf_error *err);

/* Parameter value check used by both directions (see mf_channel_address). */
mf_status mf_param_check(const mf_param_desc *p, const char *value, mf_error *err);

/*
 * A subscription subject for c: values[i] == NULL (or values == NULL) stands for every value of
 * params[i] ('*'); other values are checked as in mf_channel_address. Same errors.
 */
mf_status mf_channel_filter(const mf_channel_desc *c, const char *const *values, char *out, size_t cap,
                            mf_error *err);

/*
 * The subject for sending `msg` (a value of m's payload type) on c: a parameter with a location
 * takes its value from the payload, the others from values[i] (by position; the entries of
 * located parameters are ignored, and values may be NULL when every parameter has a location).
 * Values are checked as in mf_channel_address; a located value that fails has err->pointer set
 * to its location. Errors: mf_channel_address's, MF_ERR_REQUIRED when a located member is absent
 * or null, MF_ERR_INVALID_ARG when a location does not lead to a string or integer member of m.
 */
mf_status mf_channel_subject(const mf_channel_desc *c, const mf_message_desc *m, const void *msg,
                             const char *const *values, char *out, size_t cap, mf_error *err);

/*
 * For a received message: checks that every located parameter's value parsed from the subject
 * (values[i], by position, as mf_channel_parse writes them) equals the payload's. MF_OK when c
 * has no located parameter. MF_ERR_INVALID_ARG on a mismatch, err->pointer = the location;
 * MF_ERR_REQUIRED when the payload lacks the member.
 */
mf_status mf_channel_check_payload(const mf_channel_desc *c, const mf_message_desc *m, const void *msg,
                                   const char *const *values, mf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* MF_REGISTRY_H */
