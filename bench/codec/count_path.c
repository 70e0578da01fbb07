/*
 * count_path.c - the codec's work per notification of bench/campaign, for callgrind.
 *
 * Per notification, campaign-service encodes a PushNotification and a
 * notification_sent CampaignAnalyticsEvent and a UserInfoRequest and decodes
 * a UserInfoReply; user-service decodes the request and encodes the reply.
 * The payloads below are what bench/campaign's traffic carries (its users,
 * its template "Hello {{name}}" / "A bench for {{email}}", the push data the
 * engine adds, the engine's millisecond timestamps). For each message this
 * program runs, each in its own loop with callgrind's counters zeroed before
 * and dumped after (one dump named "<op> <message> <iters>"):
 *
 *   encode  mf_encode into a reused buffer (the codec alone)
 *   send    what the typed API does around it (runtime/api/send.c prepare):
 *           a fresh 1 KiB body, mf_encode, mf_channel_subject, the free
 *   decode  mf_decode + mf_free
 *
 *   valgrind --tool=callgrind --callgrind-out-file=/tmp/cp.out build/bench/count-path
 *   for f in /tmp/cp.out.*; do grep -E '^desc: Trigger|^summary|^totals' $f; done
 *
 * Outside valgrind the client requests do nothing: it runs as a smoke test
 * that checks every message round-trips byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/callgrind.h>

#include "mf/codec.h"
#include "mf/registry.h"
#include "mf_sdk/channels.h"
#include "mf_sdk/registry.h"
#include "mf_sdk/types.h"

#define SUBJECT_MAX 1024

typedef struct path_msg {
    const char *name;
    const mf_message_desc *m;
    const mf_channel_desc *ch; /* NULL: a reply, sent to the requester's inbox */
    const char *json;
} path_msg;

static const path_msg msgs[] = {
    {"PushNotification", &mf_msg_push_notification_desc, &mf_ch_notification_user_push_desc,
     "{\"notification_id\":\"5d0f7a3e-2b1c-5e4d-8f6a-9b0c1d2e3f40\","
     "\"user_id\":\"b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e\",\"title\":\"Hello User 12345\","
     "\"body\":\"A bench for bench12345@example.com\",\"priority\":\"normal\","
     "\"data\":{\"campaign_id\":\"c1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8\","
     "\"execution_id\":\"e1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f9\"},"
     "\"created_at\":\"2026-12-06T11:05:51.123Z\"}"},
    {"CampaignAnalyticsEvent", &mf_msg_campaign_analytics_event_desc, &mf_ch_campaign_analytics_desc,
     "{\"event_id\":\"9a8b7c6d-5e4f-5a3b-9c2d-1e0f9a8b7c6d\",\"event_type\":\"notification_sent\","
     "\"campaign_id\":\"c1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8\","
     "\"execution_id\":\"e1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f9\","
     "\"notification_id\":\"5d0f7a3e-2b1c-5e4d-8f6a-9b0c1d2e3f40\","
     "\"user_id\":\"b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e\",\"timestamp\":\"2026-12-06T11:05:51.123Z\"}"},
    {"UserInfoRequest", &mf_msg_user_info_request_desc, &mf_ch_user_info_request_desc,
     "{\"user_id\":\"b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e\"}"},
    {"UserInfoReply", &mf_msg_user_info_reply_desc, NULL,
     "{\"user_id\":\"b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e\",\"name\":\"User 12345\","
     "\"email\":\"bench12345@example.com\",\"language\":\"fr-FR\",\"timezone\":\"Europe/Paris\"}"},
};

typedef struct job {
    const path_msg *p;
    void *value;
    size_t len;
    mf_buf out;
    long sink;
} job;

static void op_encode(job *j)
{
    mf_buf_reset(&j->out);
    if (mf_encode(j->p->m->type, j->value, &j->out, NULL) != MF_OK)
        abort();
    j->sink += (long)j->out.len;
}

/* runtime/api/send.c's prepare() and what send_op frees */
static void op_send(job *j)
{
    char subject[SUBJECT_MAX];
    mf_buf body = MF_BUF_INIT;
    if (mf_buf_reserve(&body, 1023) != MF_OK || mf_encode(j->p->m->type, j->value, &body, NULL) != MF_OK)
        abort();
    if (j->p->ch && mf_channel_subject(j->p->ch, j->p->m, j->value, NULL, subject, sizeof subject, NULL) != MF_OK)
        abort();
    j->sink += (long)body.len + subject[0];
    mf_buf_free(&body);
}

static void op_decode(job *j)
{
    void *v = calloc(1, j->p->m->size);
    if (!v || mf_decode(j->p->m->type, j->p->json, j->len, v, NULL) != MF_OK)
        abort();
    mf_free(j->p->m->type, v);
    free(v);
}

static void run(const char *op_name, void (*op)(job *), job *j, int iters)
{
    char label[160];
    for (int i = 0; i < 5; i++) /* warm-up: malloc's free lists, lazily compiled patterns */
        op(j);
    snprintf(label, sizeof label, "%s %s %d", op_name, j->p->name, iters);
    CALLGRIND_ZERO_STATS;
    for (int i = 0; i < iters; i++)
        op(j);
    CALLGRIND_DUMP_STATS_AT(label);
}

int main(int argc, char **argv)
{
    int iters = 200;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
            iters = atoi(argv[++i]);
        } else {
            printf("usage: %s [--iters N]\n", argv[0]);
            return strcmp(argv[i], "-h") && strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        job j = {.p = &msgs[i], .len = strlen(msgs[i].json)};
        mf_error err;
        j.value = calloc(1, j.p->m->size);
        if (!j.value || mf_decode(j.p->m->type, j.p->json, j.len, j.value, &err) != MF_OK) {
            fprintf(stderr, "%s: does not decode: %s at %s\n", j.p->name, err.message, err.pointer);
            return 1;
        }
        op_encode(&j);
        if (j.out.len != j.len || memcmp(j.out.data, j.p->json, j.len) != 0) {
            fprintf(stderr, "%s: does not round-trip:\n%s\n%s\n", j.p->name, j.p->json, j.out.data);
            return 1;
        }
        printf("%-24s %zu bytes\n", j.p->name, j.len);
        run("encode", op_encode, &j, iters);
        run("send", op_send, &j, iters);
        run("decode", op_decode, &j, iters);
        mf_free(j.p->m->type, j.value);
        free(j.value);
        mf_buf_free(&j.out);
    }
    return 0;
}
