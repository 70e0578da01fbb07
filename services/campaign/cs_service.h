/*
 * cs_service.h - the Campaign Service put together: the engine (cs_engine.h) on one host thread
 * (cs_host.h), fed by the generated typed API of campaign-service.
 *
 *   receives   campaign.create, campaign.execute         -> the engine
 *              user.info.update, user.analytics,
 *              notification.preferences.update           -> the user view (cs_userview.h), applied
 *                                                           in transactions of up to
 *                                                           view_batch events
 *   sends      user.info.request (async), notification.user.{user_id}.push, campaign.status,
 *              campaign.analytics - for the engine, with a flush before a batch is committed
 *
 * Every message handler runs on the client's service thread and only copies the decoded message
 * and posts it to the host; every reply callback likewise. The engine, the user view and the
 * database connection are used on the host thread only: the thread that calls cs_service_open
 * and then cs_service_run whenever one of cs_service_fds is readable (the admin server's loop).
 *
 * Clock: real time, or - for tests - a clock that starts at clock_start_ms when the service
 * starts and runs at the real rate (quiet hours and schedules then see that date).
 *
 * Shutdown: cs_service_stop (no more messages taken, the engine finishes the batch in hand,
 * within grace_ms), then the caller drains/destroys the client (pending request callbacks run
 * and are posted), then cs_service_close (runs what was posted, closes the engine).
 */
#ifndef CS_SERVICE_H
#define CS_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include "cs_engine.h"
#include "cs_userview.h"
#include "mf/client.h"
#include "mf/status.h"
#include "cs_log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The queue group of the user events when replicas share the database (shared_db). */
#define CS_VIEW_QUEUE "campaign-service-view"

typedef struct cs_service_config {
    cs_engine_config engine;
    int64_t clock_start_ms;    /* 0: real time; else the fixed start of a running clock */
    int view_batch;            /* user view events per transaction (default 2000) */
    int flush_timeout_ms;      /* confirmation of a batch's notifications (default 5000) */
    /* true: notifications are JetStream publishes (svc_js.h) with Nats-Msg-Id = notification_id,
     * and a batch is confirmed when the stream acknowledged every one of them (a stream must take
     * notification.>); false: core publishes confirmed by a flush (PING/PONG) */
    bool jetstream;
    /* the User Service's admin API ("http://host:port"; NULL or "" = none) and its bearer token
     * (NULL = none): asked to republish at start and after every reconnect (cs_refresh.h) */
    const char *user_service;
    const char *user_service_token;
    /* true: several replicas share this database; the user events are received in the queue
     * group CS_VIEW_QUEUE (each applied once, by one replica, to the shared view) instead of by
     * every replica. Executions are leased whatever this says (engine.lease_ms). */
    bool shared_db;
    /* the log, for the engine's and the service's lines (level "debug", "info", "warn", "error") */
    cs_log_fn log;
    void *log_ctx;
} cs_service_config;

typedef struct cs_service cs_service;

/*
 * On the host thread: opens the engine on db (resuming executions), subscribes the receive
 * operations on client. The client may still be connecting. On error nothing is left behind.
 */
mf_status cs_service_open(mf_client *client, sqlite3 *db, const cs_service_config *cfg, cs_service **out,
                          mf_error *err);

/* The event and timer fds to watch (readable: call cs_service_run). */
int cs_service_event_fd(const cs_service *s);
int cs_service_timer_fd(const cs_service *s);

/* Host thread: runs what is due. */
void cs_service_run(cs_service *s);

/* Host thread: unsubscribes, stops the engine and runs until the batch in hand is done or
 * grace_ms passed. Returns true when the engine finished its batch. */
bool cs_service_stop(cs_service *s, int grace_ms);

/* Host thread, after the client is drained or destroyed: runs what is left and frees. NULL is fine. */
void cs_service_close(cs_service *s);

/* For the admin API (host thread). */
cs_engine *cs_service_engine(cs_service *s);
cs_userview *cs_service_view(cs_service *s);
sqlite3 *cs_service_db(cs_service *s);
int64_t cs_service_now(cs_service *s);

/* The client's service thread: a broker event (svc_service.on_broker): after a reconnect the
 * user view asks for what it missed (cs_refresh.h). */
void cs_service_on_broker(cs_service *s, const mf_client_event *ev);

typedef struct cs_service_stats {
    uint64_t view_events;      /* applied to the user view */
    uint64_t view_rejected;    /* refused by the view (bad changes) */
    uint64_t creates, executes;
    int64_t users;             /* live users in the view */
    int64_t refresh_requested, refresh_since, refresh_full, refresh_failures; /* cs_refresh_stats */
} cs_service_stats;
void cs_service_stats_get(cs_service *s, cs_service_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* CS_SERVICE_H */
