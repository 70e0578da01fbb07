/*
 * cs_refresh.h - keeps the user view caught up with the User Service across outages.
 *
 * Core NATS delivers at most once: what the User Service publishes while the Campaign Service
 * is not subscribed (the broker restarting, a nats-server node going away, the service itself
 * stopped) never reaches it. So it asks the User Service to publish again (its admin API,
 * POST <url>/republish?since=DATE-TIME, cs_republish.h) what changed since the newest event it
 * had received before the gap:
 *
 *   at start          since the newest event stored in the view (cs_users), or everyone when
 *                     the view is empty;
 *   after a reconnect since the newest event received before the disconnection.
 *
 * `since` is moved back by margin_ms: updated_at is stamped before the User Service commits, and
 * its outbox publishes in commit order, so an event may arrive after one with a later stamp. A
 * full republish (no cursor yet) is rate-limited to one per full_interval_ms, and logged with the
 * reason. Requests run on a thread of their own (the HTTP request blocks): they wait for the
 * broker connection and a flush first (so that the server knows the subscriptions again and the
 * republished events reach us), then retry with backoff (1 s doubling to 30 s) until the User
 * Service answers 2xx; requests asked for meanwhile are merged (the oldest `since` wins). The
 * request after a reconnect is made once more settle_ms after it succeeded: in a nats-server
 * cluster our subscriptions reach the other nodes (where the User Service may be connected) a
 * moment after the node we are on answered the flush, and what the User Service republished
 * before that would be lost again.
 *
 * Threads: cs_refresh_seen and cs_refresh_on_event on the client's service thread (in the order
 * the client delivers messages and events); the rest from any thread.
 */
#ifndef CS_REFRESH_H
#define CS_REFRESH_H

#include <stdint.h>
#include <sqlite3.h>
#include "mf/client.h"
#include "mf/status.h"
#include "cs_log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* `since` for "every user": a full republish. */
#define CS_REFRESH_ALL INT64_MIN

typedef struct cs_refresh_config {
    const char *url;       /* the User Service's admin API, "http://host:port"; copied */
    const char *token;     /* its bearer token or NULL; copied, wiped at close, never logged */
    mf_client *client;     /* waited for and flushed before each request */
    int margin_ms;         /* since = cursor - margin_ms (default 15000) */
    int full_interval_ms;  /* at least this between two full republishes (default 30000) */
    int timeout_ms;        /* one HTTP request (default 5000) */
    int settle_ms;         /* after a reconnect, the request again this much later (default 2000) */
    cs_log_fn log;
    void *log_ctx;
} cs_refresh_config;

typedef struct cs_refresh_stats {
    int64_t requested;     /* republishes asked for (merged ones count once) */
    int64_t since_done;    /* answered 2xx, with since */
    int64_t full_done;     /* answered 2xx, everyone */
    int64_t failures;      /* attempts that failed (then retried) */
    int64_t cursor_ms;     /* newest updated_at received; 0 = none yet */
} cs_refresh_stats;

typedef struct cs_refresh cs_refresh;

/* Starts the thread. MF_ERR_NOMEM, MF_ERR_INVALID_ARG (no url or client). */
mf_status cs_refresh_open(const cs_refresh_config *cfg, cs_refresh **out, mf_error *err);

/*
 * The first request, at start: reads the view (cs_users) on db - the caller's connection, its
 * thread - and asks for what changed since its newest event, or for everyone when it is empty.
 * The view's newest event also becomes the cursor when nothing newer was received.
 */
mf_status cs_refresh_start(cs_refresh *r, sqlite3 *db, mf_error *err);

/* Client thread: a user event stamped updated_at (RFC 3339) arrived; the cursor moves forward. */
void cs_refresh_seen(cs_refresh *r, const char *updated_at);

/* Client thread: DISCONNECTED remembers the cursor; RECONNECTED asks for what changed since
 * then (everyone when no event had arrived). Other events are ignored. */
void cs_refresh_on_event(cs_refresh *r, const mf_client_event *ev);

/* Asks for a republish since since_ms (CS_REFRESH_ALL: everyone); why goes to the log. */
void cs_refresh_want(cs_refresh *r, int64_t since_ms, const char *why);

void cs_refresh_stats_get(cs_refresh *r, cs_refresh_stats *out);

/* Stops the thread (an HTTP request in flight finishes within timeout_ms): call it before the
 * client goes. The other functions stay callable (nothing is sent any more). NULL is fine. */
void cs_refresh_stop(cs_refresh *r);

/* Stops (if not yet) and frees, once no client callback can call in. NULL is fine. */
void cs_refresh_close(cs_refresh *r);

#ifdef __cplusplus
}
#endif
#endif /* CS_REFRESH_H */
