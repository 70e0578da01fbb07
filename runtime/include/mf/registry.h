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
} mf_message_desc;

typedef struct mf_param_desc {
    const char *name;        /* "user_id" */
    const mf_type *type;     /* string type carrying the parameter's format/pattern; NULL = any */
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

typedef struct mf_registry {
    const char *title;       /* info.title */
    const char *version;     /* info.version */
    const mf_message_desc *const *messages; size_t message_count; /* sorted by key */
    const mf_channel_desc *const *channels; size_t channel_count; /* sorted by key */
    const mf_operation_desc *const *operations; size_t operation_count; /* sorted by key */
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

#ifdef __cplusplus
}
#endif
#endif /* MF_REGISTRY_H */
