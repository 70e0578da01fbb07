/*
 * cmd_demo.c - `mfctl demo DIR`: publish DIR/<Message>.full.json on the channel
 * of every send operation without a reply (what `make run` shows).
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "mf/codec.h"
#include "mfctl.h"

#define DEFAULT_FLUSH_MS 5000
#define DEMO_PARAM "0b7a3c9e-4f21-4d8a-9c55-2e1f6a7b8c90"

void mfctl_help_demo(FILE *f)
{
    fprintf(f,
            "usage: mfctl demo DIR [--timeout D]\n\n"
            "For every operation of the contract that sends a message without expecting a reply,\n"
            "publishes DIR/<Message>.full.json (e.g. generated/examples) on the operation's channel,\n"
            "validated and re-encoded compactly, and prints one line per message. A channel\n"
            "parameter takes the value of the payload's member of the same name when it has one\n"
            "(notification.user.{user_id}.push gets the payload's user_id), else an example uuid.\n\n"
            "  --timeout D   wait up to D for the server to confirm (default 5s)\n\n"
            "%s\n%s",
            mfctl_help_connection, mfctl_help_exit);
}

/* The subject of ch for a payload: parameters from same-named members, else DEMO_PARAM. */
static int demo_subject(const mf_channel_desc *ch, const char *data, size_t len, char *out, size_t cap)
{
    const char *values[MFCTL_MAX_PARAMS];
    if (ch->param_count > MFCTL_MAX_PARAMS)
        return -1;
    cJSON *doc = cJSON_ParseWithLength(data, len);
    for (size_t i = 0; i < ch->param_count; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, ch->params[i].name);
        values[i] = cJSON_IsString(m) && mf_param_check(&ch->params[i], m->valuestring, NULL) == MF_OK
                        ? m->valuestring
                        : DEMO_PARAM;
    }
    mf_error err;
    int rc = mf_channel_address(ch, values, out, cap, &err) == MF_OK ? 0 : -1;
    cJSON_Delete(doc);
    return rc;
}

/* Publishes one example: 0, or 1 after printing why. */
static int publish_example(mf_client *c, const mf_operation_desc *op, const char *dir)
{
    char path[1024], subject[MFCTL_SUBJECT_MAX];
    snprintf(path, sizeof path, "%s/%s.full.json", dir, op->message->key);
    size_t len;
    char *data = mfctl_read_input(path, &len);
    if (!data) {
        printf("demo: %-20s %-18s -> %s FAILED\n", op->service, op->key, op->channel->address);
        return 1;
    }
    int r = 1;
    const mf_message_desc *m = op->message;
    void *v = calloc(1, m->size ? m->size : 1);
    mf_buf body = MF_BUF_INIT;
    mf_error err = {0};
    if (demo_subject(op->channel, data, len, subject, sizeof subject))
        fprintf(stderr, "mfctl: %s: no subject for %s\n", path, op->channel->address);
    else if (v && mf_decode(m->type, data, len, v, &err) == MF_OK && mf_encode(m->type, v, &body, &err) == MF_OK)
        r = mf_client_publish(c, subject, NULL, body.data, body.len) == MF_OK ? 0 : 1;
    else
        fprintf(stderr, "mfctl: %s: %s: %s\n", path, err.pointer[0] ? err.pointer : "(document)", err.message);
    if (v)
        mf_free(m->type, v);
    free(v);
    mf_buf_free(&body);
    free(data);
    printf("demo: %-20s %-18s -> %s %s\n", op->service, op->key, r ? op->channel->address : subject,
           r ? "FAILED" : "published");
    return r;
}

int mfctl_cmd_demo(const mfctl_opts *o)
{
    if (mfctl_check_options(o, MFCTL_O_TIMEOUT))
        return MFCTL_USAGE;
    if (o->n_args != 1)
        return mfctl_usage_error(o->cmd, o->n_args ? "too many arguments" : "which folder of examples?");
    int rc;
    mf_client *c = mfctl_connect(o, &rc);
    if (!c)
        return rc;
    for (size_t i = 0; i < mfctl_reg->operation_count; i++) {
        const mf_operation_desc *op = mfctl_reg->operations[i];
        if (op->action == MF_ACTION_SEND && !op->reply && publish_example(c, op, o->args[0]))
            rc = MFCTL_FAIL;
    }
    fflush(stdout);
    mf_status st = mf_client_flush(c, (o->seen & MFCTL_O_TIMEOUT) ? o->timeout_ms : DEFAULT_FLUSH_MS);
    if (st) {
        fprintf(stderr, "mfctl: the server did not confirm the publishes: %s\n", mf_status_str(st));
        rc = MFCTL_FAIL;
    } else if (mfctl_server_error()) {
        fprintf(stderr, "mfctl: the server refused a publish: %s\n", mfctl_server_error());
        rc = MFCTL_FAIL;
    }
    mf_client_destroy(c);
    return rc;
}
