/*
 * cmd_channels.c - `mfctl channels` (alias `list`): every channel of the
 * contract with its messages, who sends and who receives, and its parameters.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "mf/codec.h"
#include "mfctl.h"

void mfctl_help_channels(FILE *f)
{
    fprintf(f, "usage: mfctl channels [--json]\n"
               "       mfctl list                (the same)\n\n"
               "Lists the contract's channels, sorted by address: the subject (parameters in braces),\n"
               "the channel's key, its messages (and the reply of a request), who sends and who\n"
               "receives it (\"any client\" when the contract names no service), the queue group of\n"
               "its receivers, and each parameter with its format. CHANNEL arguments of pub, sub and\n"
               "req take the address or the key.\n\n"
               "  --json   one JSON array of channel objects instead of text: address, key, messages,\n"
               "           reply, sent_by, received_by ([] = any client), queue_group, parameters\n\n%s",
            mfctl_help_exit);
}

static const mf_operation_desc *receiver_op(const mf_channel_desc *ch)
{
    for (size_t i = 0; i < mfctl_reg->operation_count; i++)
        if (mfctl_reg->operations[i]->channel == ch && mfctl_reg->operations[i]->action == MF_ACTION_RECEIVE)
            return mfctl_reg->operations[i];
    return NULL;
}

/* "uuid", "pattern ^[a-z]+$", "any token". */
static void param_kind(const mf_param_desc *p, char *out, size_t cap)
{
    const mf_type *t = p->type;
    if (t && t->format)
        snprintf(out, cap, "format %s", mf_format_name(t->format));
    else if (t && t->pattern)
        snprintf(out, cap, "pattern %s", t->pattern->source);
    else
        snprintf(out, cap, "any subject token");
}

static int cmp_addr(const void *a, const void *b)
{
    return strcmp((*(const mf_channel_desc *const *)a)->address, (*(const mf_channel_desc *const *)b)->address);
}

/* ["a", "b"]: the services acting on ch; [] when the contract names none ("any client"). */
static cJSON *services_json(const mf_channel_desc *ch, mf_action action)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < mfctl_reg->operation_count; i++) {
        const mf_operation_desc *op = mfctl_reg->operations[i];
        bool dup = false;
        for (const cJSON *e = arr->child; e && !dup; e = e->next)
            dup = !strcmp(e->valuestring, op->service);
        if (op->channel == ch && op->action == action && !dup)
            cJSON_AddItemToArray(arr, cJSON_CreateString(op->service));
    }
    return arr;
}

/* "a, b" of the services acting on ch; "any client" when none. */
static void services(const mf_channel_desc *ch, mf_action action, char *out, size_t cap)
{
    cJSON *arr = services_json(ch, action);
    size_t len = 0;
    out[0] = '\0';
    for (const cJSON *e = arr ? arr->child : NULL; e && len < cap; e = e->next)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "", e->valuestring);
    if (!len)
        snprintf(out, cap, "any client");
    cJSON_Delete(arr);
}

static cJSON *channel_json(const mf_channel_desc *ch)
{
    char buf[256];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "address", ch->address);
    cJSON_AddStringToObject(o, "key", ch->key);
    const mf_message_desc *list[16];
    size_t n = mfctl_channel_messages(ch, list, 16);
    cJSON *msgs = cJSON_AddArrayToObject(o, "messages");
    for (size_t j = 0; j < n; j++)
        cJSON_AddItemToArray(msgs, cJSON_CreateString(list[j]->key));
    const mf_message_desc *reply = mfctl_channel_reply(ch);
    if (reply)
        cJSON_AddStringToObject(o, "reply", reply->key);
    cJSON_AddItemToObject(o, "sent_by", services_json(ch, MF_ACTION_SEND));
    cJSON_AddItemToObject(o, "received_by", services_json(ch, MF_ACTION_RECEIVE));
    const mf_operation_desc *rop = receiver_op(ch);
    if (rop && rop->queue_group)
        cJSON_AddStringToObject(o, "queue_group", rop->queue_group);
    cJSON *params = cJSON_AddObjectToObject(o, "parameters");
    for (size_t j = 0; j < ch->param_count; j++) {
        param_kind(&ch->params[j], buf, sizeof buf);
        cJSON_AddStringToObject(params, ch->params[j].name, buf);
    }
    return o;
}

static void print_text(const mf_channel_desc *ch)
{
    char senders[256], receivers[256], kind[256];
    services(ch, MF_ACTION_SEND, senders, sizeof senders);
    services(ch, MF_ACTION_RECEIVE, receivers, sizeof receivers);
    const mf_operation_desc *rop = receiver_op(ch);
    const mf_message_desc *reply = mfctl_channel_reply(ch);
    const mf_message_desc *msgs[16];
    size_t n = mfctl_channel_messages(ch, msgs, 16);
    printf("%s  (%s)\n  message    ", ch->address, ch->key);
    for (size_t j = 0; j < n; j++)
        printf("%s%s", j ? ", " : "", msgs[j]->key);
    if (reply)
        printf(" -> reply %s", reply->key);
    char notes[160] = "";
    if (reply || (rop && rop->queue_group))
        snprintf(notes, sizeof notes, " (%s%s%s%s)", reply ? "request/reply" : "",
                 reply && rop && rop->queue_group ? ", " : "", rop && rop->queue_group ? "queue " : "",
                 rop && rop->queue_group ? rop->queue_group : "");
    printf("\n  direction  %s -> %s%s\n", senders, receivers, notes);
    for (size_t j = 0; j < ch->param_count; j++) {
        param_kind(&ch->params[j], kind, sizeof kind);
        printf("  parameter  %s: %s\n", ch->params[j].name, kind);
    }
}

int mfctl_cmd_channels(const mfctl_opts *o)
{
    if (mfctl_check_options(o, MFCTL_O_JSON))
        return MFCTL_USAGE;
    if (o->n_args)
        return mfctl_usage_error(o->cmd, "unexpected argument %s", o->args[0]);
    size_t n = mfctl_reg->channel_count;
    const mf_channel_desc **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return MFCTL_FAIL;
    memcpy(sorted, mfctl_reg->channels, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_addr);
    if (o->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, channel_json(sorted[i]));
        char *s = cJSON_PrintUnformatted(arr);
        if (s)
            printf("%s\n", s);
        cJSON_free(s);
        cJSON_Delete(arr);
    } else {
        for (size_t i = 0; i < n; i++)
            print_text(sorted[i]);
    }
    free(sorted);
    return fflush(stdout) ? MFCTL_FAIL : MFCTL_OK;
}
