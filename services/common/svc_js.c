/*
 * svc_js.c - see svc_js.h.
 *
 * A batch is an array of entries; entry i's reply subject is
 * <inbox>.<batch>.<i>, so an ack names its entry and a late ack of an earlier
 * batch is recognised and ignored.
 */
#include "svc_js.h"
#include "svc_time.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/rand.h>

typedef struct js_entry {
    char *subject, *msg_id;
    void *data;
    size_t len;
    int64_t sent_ms;
    bool acked;
} js_entry;

struct svc_js {
    mf_client *c;
    int ack_timeout_ms;
    uint64_t sid;
    char inbox[64];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t batch;
    js_entry *e;
    size_t n, cap, acked;
    char last_error[200];
    svc_js_stats stats;
};

/* 0 stored, 1 duplicate, -1 an error (its text in why). */
static int parse_ack(const mf_msg *m, char *why, size_t cap)
{
    if (m->status && m->len == 0)
        return snprintf(why, cap, "status %d (no stream for the subject, or no leader)", m->status), -1;
    cJSON *j = cJSON_ParseWithLength(m->data, m->len);
    int rc = -1;
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seq");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsNumber(seq) && !e) {
        rc = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "duplicate")) ? 1 : 0;
    } else {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "description");
        snprintf(why, cap, "%s", cJSON_IsString(d) ? d->valuestring : "not a PubAck");
    }
    cJSON_Delete(j);
    return rc;
}

static void on_ack(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)c;
    svc_js *js = ctx;
    uint64_t batch;
    size_t i;
    const char *tail = m->subject + strlen(js->inbox) + 1;
    if (m->subject_len <= strlen(js->inbox) + 1 || sscanf(tail, "%" SCNu64 ".%zu", &batch, &i) != 2)
        return;
    char why[200] = "";
    int rc = parse_ack(m, why, sizeof why);
    pthread_mutex_lock(&js->mu);
    if (batch == js->batch && i < js->n && !js->e[i].acked) {
        if (rc >= 0) {
            js->e[i].acked = true;
            js->acked++;
            if (rc == 1)
                js->stats.duplicates++;
            else
                js->stats.published++;
            pthread_cond_broadcast(&js->cv);
        } else {
            js->stats.errors++;
            snprintf(js->last_error, sizeof js->last_error, "%s", why);
            js->e[i].sent_ms = svc_mono_ms() - js->ack_timeout_ms + 250; /* send again in 250 ms */
            pthread_cond_broadcast(&js->cv);
        }
    }
    pthread_mutex_unlock(&js->mu);
}

mf_status svc_js_open(mf_client *c, int ack_timeout_ms, svc_js **out, mf_error *err)
{
    *out = NULL;
    if (!c || ack_timeout_ms <= 0)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "svc_js_open: no client or ack timeout");
    svc_js *js = calloc(1, sizeof *js);
    if (!js)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    unsigned char r[8];
    if (RAND_bytes(r, sizeof r) != 1) {
        free(js);
        return mf_error_set(err, MF_ERR_IO, "", "no random bytes for the inbox");
    }
    snprintf(js->inbox, sizeof js->inbox, "_INBOX.js%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
             r[5], r[6], r[7]);
    js->c = c;
    js->ack_timeout_ms = ack_timeout_ms;
    js->batch = 1;
    pthread_mutex_init(&js->mu, NULL);
    pthread_cond_init(&js->cv, NULL);
    char subj[80];
    snprintf(subj, sizeof subj, "%s.>", js->inbox);
    mf_status st = mf_client_subscribe(c, subj, NULL, on_ack, js, &js->sid);
    if (st != MF_OK) {
        pthread_cond_destroy(&js->cv);
        pthread_mutex_destroy(&js->mu);
        free(js);
        return mf_error_set(err, st, "", "cannot subscribe to the ack inbox: %s", mf_status_str(st));
    }
    *out = js;
    return MF_OK;
}

static void clear_batch(svc_js *js)
{
    for (size_t i = 0; i < js->n; i++) {
        free(js->e[i].subject);
        free(js->e[i].msg_id);
        free(js->e[i].data);
    }
    js->n = js->acked = 0;
    js->batch++;
}

void svc_js_close(svc_js *js, bool unsubscribe)
{
    if (!js)
        return;
    if (unsubscribe)
        mf_client_unsubscribe(js->c, js->sid, 0); /* the callback is not running after this */
    clear_batch(js);
    free(js->e);
    pthread_cond_destroy(&js->cv);
    pthread_mutex_destroy(&js->mu);
    free(js);
}

/* Sends entry i (mu held: the ack may race the publish otherwise it is harmless). */
static mf_status send_entry(svc_js *js, size_t i, uint64_t batch)
{
    js_entry *e = &js->e[i];
    char reply[96];
    snprintf(reply, sizeof reply, "%s.%" PRIu64 ".%zu", js->inbox, batch, i);
    mf_header h = {"Nats-Msg-Id", e->msg_id};
    e->sent_ms = svc_mono_ms();
    return mf_client_publish_hdrs(js->c, e->subject, reply, &h, 1, e->data, e->len);
}

mf_status svc_js_publish(svc_js *js, const char *subject, const char *msg_id, const void *data, size_t len,
                         mf_error *err)
{
    if (!js || !subject || !msg_id || !*msg_id || (!data && len))
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "svc_js_publish: bad arguments");
    pthread_mutex_lock(&js->mu);
    if (js->n == js->cap) {
        size_t cap = js->cap ? js->cap * 2 : 64;
        js_entry *ne = realloc(js->e, cap * sizeof *ne);
        if (!ne) {
            pthread_mutex_unlock(&js->mu);
            return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
        }
        js->e = ne;
        js->cap = cap;
    }
    js_entry *e = &js->e[js->n];
    *e = (js_entry){strdup(subject), strdup(msg_id), malloc(len ? len : 1), len, 0, false};
    if (!e->subject || !e->msg_id || !e->data) {
        free(e->subject), free(e->msg_id), free(e->data);
        pthread_mutex_unlock(&js->mu);
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    if (len)
        memcpy(e->data, data, len);
    mf_status st = send_entry(js, js->n, js->batch);
    if (st != MF_OK) {
        free(e->subject), free(e->msg_id), free(e->data);
        pthread_mutex_unlock(&js->mu);
        return mf_error_set(err, st, "", "publish %s: %s", subject, mf_status_str(st));
    }
    js->n++;
    pthread_mutex_unlock(&js->mu);
    return MF_OK;
}

/* Resends what waited longer than the ack timeout (or was answered with an error). */
static void resend_late(svc_js *js, int64_t now)
{
    for (size_t i = 0; i < js->n; i++) {
        js_entry *e = &js->e[i];
        if (e->acked || now - e->sent_ms < js->ack_timeout_ms)
            continue;
        if (send_entry(js, i, js->batch) == MF_OK)
            js->stats.resent++;
    }
}

mf_status svc_js_wait(svc_js *js, int timeout_ms, mf_error *err)
{
    if (!js || mf_client_on_service_thread(js->c))
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "svc_js_wait: no svc_js, or on the client's thread");
    int64_t deadline = svc_mono_ms() + timeout_ms;
    pthread_mutex_lock(&js->mu);
    while (js->acked < js->n) {
        int64_t now = svc_mono_ms();
        if (now >= deadline)
            break;
        resend_late(js, now);
        int64_t until = now + (js->ack_timeout_ms < 100 ? js->ack_timeout_ms : 100);
        if (until > deadline)
            until = deadline;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (until - now) * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&js->cv, &js->mu, &ts);
    }
    size_t missing = js->n - js->acked;
    char last[200];
    snprintf(last, sizeof last, "%s", js->last_error[0] ? js->last_error : "no answer");
    clear_batch(js);
    js->last_error[0] = '\0';
    pthread_mutex_unlock(&js->mu);
    if (missing)
        return mf_error_set(err, MF_ERR_TIMEOUT, "", "%zu JetStream publishes not acknowledged (last: %s)", missing,
                            last);
    return MF_OK;
}

void svc_js_stats_get(svc_js *js, svc_js_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!js)
        return;
    pthread_mutex_lock(&js->mu);
    *out = js->stats;
    pthread_mutex_unlock(&js->mu);
}
