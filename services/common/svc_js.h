/*
 * svc_js.h - publishing to a JetStream stream and waiting for its acknowledgements
 * (a small part of JetStream, on top of mf_client; nats-server 2.9 with JetStream).
 *
 * Core NATS delivers at most once: a message published while a route or a node is
 * down reaches nobody, and nothing tells the publisher. A JetStream stream stores
 * the messages of its subjects and acknowledges each publish with a PubAck once it
 * is stored (on a majority of the replicas):
 *
 *     HPUB <subject> <reply> ...   Nats-Msg-Id: <id>
 *     -> on <reply>: {"stream":"NOTIFY","seq":42}                 stored
 *                    {"stream":"NOTIFY","seq":42,"duplicate":true} this id was stored before
 *                    {"error":{"code":503,"description":"..."}}     not stored
 *                    a 503 status without payload                   no stream (or no leader)
 *
 * The stream drops a message whose Nats-Msg-Id it has seen within its
 * duplicate_window, so a publisher that sends again what was not acknowledged
 * stores every message exactly once (within that window). This is what svc_js
 * does: svc_js_publish queues messages (one batch), svc_js_wait waits until every
 * one of them is acknowledged, sending again, with the same id, what was not
 * acknowledged within ack_timeout_ms.
 *
 * The stream must exist (created by the operator or the test: nats-server's
 * $JS.API.STREAM.CREATE); a publish to a subject no stream takes is never
 * acknowledged, and svc_js_wait fails with the server's answer in err.
 *
 * Threads: svc_js_publish and svc_js_wait from one thread (not the client's
 * service thread: svc_js_wait blocks); the acknowledgements arrive on the client's
 * service thread. Ownership: svc_js borrows the client, which must outlive it.
 */
#ifndef SVC_JS_H
#define SVC_JS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mf/client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svc_js svc_js;

typedef struct svc_js_stats {
    uint64_t published;   /* messages acknowledged as stored (new) */
    uint64_t duplicates;  /* acknowledged with "duplicate": true (sent again after a lost ack) */
    uint64_t resent;      /* publishes sent again because no ack came in time */
    uint64_t errors;      /* error answers (each followed by a resend) */
} svc_js_stats;

/*
 * Subscribes to a private inbox on c for the acknowledgements. ack_timeout_ms
 * (> 0) is how long one publish waits for its ack before it is sent again.
 * MF_ERR_NOMEM, or the subscribe's error; *out NULL on error.
 */
mf_status svc_js_open(mf_client *c, int ack_timeout_ms, svc_js **out, mf_error *err);

/* Frees (what is pending is forgotten). With unsubscribe, first ends the ack
 * subscription (the client must still exist); without, the client must have
 * been destroyed already (its subscriptions died with it). NULL is fine. */
void svc_js_close(svc_js *js, bool unsubscribe);

/*
 * Queues one message of the current batch: HPUB subject with the header
 * Nats-Msg-Id: msg_id (and a reply for the ack). The data is copied (for a
 * resend). MF_ERR_INVALID_ARG (subject, empty msg_id), MF_ERR_NOMEM, the
 * publish's errors (MF_ERR_FULL...): then the message is not in the batch.
 */
mf_status svc_js_publish(svc_js *js, const char *subject, const char *msg_id, const void *data, size_t len,
                         mf_error *err);

/*
 * Waits until every message of the batch is acknowledged, resending as above,
 * for at most timeout_ms; then starts a new batch either way. MF_OK: all are
 * stored. MF_ERR_TIMEOUT: some were not acknowledged in time (err says how many
 * and the last error answer); sending the batch again is safe (same ids).
 * MF_ERR_INVALID_ARG on the client's service thread.
 */
mf_status svc_js_wait(svc_js *js, int timeout_ms, mf_error *err);

/* Counters since svc_js_open. Any thread. */
void svc_js_stats_get(svc_js *js, svc_js_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* SVC_JS_H */
