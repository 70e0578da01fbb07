/* cs_service.c - see cs_service.h. */
#include "cs_service.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cs_db.h"
#include "cs_host.h"
#include "cs_walsync.h"
#include "cs_refresh.h"
#include "cs_tz.h"
#include "mf/freelist.h"
#include "svc_js.h"
#include "mf_sdk/campaign_service.h"
#include "mf_sdk/channels.h"
#include "svc_time.h"

/* One user view event waiting for the host. */
typedef struct view_event {
    int kind; /* 1 info update, 2 analytics, 3 preferences */
    union {
        mf_user_info_update info;
        mf_user_analytics_event analytics;
        mf_preferences_update prefs;
    } m;
    int64_t received_ms;
    struct view_event *next;
} view_event;

struct cs_service {
    mf_client *client;
    sqlite3 *db;
    cs_service_config cfg;
    cs_host *host;
    cs_engine *engine;
    cs_walsync *walsync;       /* the write-ahead log's fdatasync off the engine thread; NULL: not WAL */
    bool closing;              /* cs_service_close runs: the client may be gone, the sink sends nothing */
    /* the syncer's newest answer for the host (lock); durable_task is posted once until it runs */
    cs_host_task durable_task;
    bool durable_posted;
    uint64_t durable_ticket;
    mf_status durable_st;
    char durable_why[256];
    cs_userview *view;
    mf_api_sub *subs[5];
    svc_js *js;                /* cfg.jetstream: the notifications' publisher */
    mf_api_batch staged[2];    /* the engine's staging areas (sink_stage_*), one per thread that fills one */
    uint64_t flush_ticket;     /* sink_flush_start's, for sink_flush; 0: none (engine thread only) */
    cs_refresh *refresh;       /* cfg.user_service: republish requests after gaps */
    int64_t mono0;
    /* view events: appended on the client thread, applied on the host */
    pthread_mutex_t lock;
    view_event *vhead, *vtail;
    bool drain_posted;
    cs_service_stats stats;
    /* profile requests' boxes not in use (engine thread only: taken by sink_request, given back
     * by reply_free, which the host runs on that thread) */
    mf_freelist free_boxes; /* reply boxes to reuse (engine thread; at most BOXES_KEPT) */
};

/* ---- clock and log ---- */

int64_t cs_service_now(cs_service *s)
{
    if (s->cfg.clock_start_ms)
        return s->cfg.clock_start_ms + (svc_mono_ms() - s->mono0);
    return svc_now_ms();
}

#define logf_(s, level, ...) cs_logf((s)->cfg.log, (s)->cfg.log_ctx, level, __VA_ARGS__)

/* ---- the engine's sink ---- */

static int64_t sink_now(void *ctx)
{
    return cs_service_now(ctx);
}

static void sink_timer(void *ctx, int64_t at)
{
    cs_service *s = ctx;
    if (at == CS_NO_TIME) {
        cs_host_timer_in(s->host, -1);
        return;
    }
    int64_t d = at - cs_service_now(s);
    cs_host_timer_in(s->host, d > 0 ? d : 0);
}

/* A profile request's context and, once answered, its reply on the way to the host. Per
 * notification nothing is allocated: the box comes from the service's free list (engine thread),
 * the reply's strings go in its own storage (unless they are long: then one malloc) and the host's
 * task is embedded. Memory the client's thread malloc'd and the engine thread freed, three blocks
 * per reply, was what glibc's allocator does worst (tcache overflowing into the other arena's
 * bins, under that arena's lock). */
#define REPLY_INLINE 200 /* a reply's strings: user_id (36) and four short profile fields */

typedef struct reply_box {
    cs_service *s;
    cs_user_info_cb cb;
    void *cb_ctx;
    mf_status st;
    mf_error err;
    bool has_reply;
    mf_user_info_reply reply; /* its strings point into text */
    char *text;               /* inline, or malloc'd when the strings do not fit */
    cs_host_task task;
    char inline_text[REPLY_INLINE];
} reply_box;

#define BOXES_KEPT 4096 /* free boxes kept (~0.5 KiB each): more than the requests a run has out */

static void reply_run(void *ctx, void *arg)
{
    (void)ctx;
    reply_box *b = arg;
    b->cb(b->cb_ctx, b->st, b->has_reply ? &b->reply : NULL, &b->err);
}

static void reply_drop_text(reply_box *b)
{
    if (b->text != b->inline_text)
        free(b->text);
    b->text = NULL;
}

/* Host thread (the engine's): the box goes back to the free list. */
static void reply_free(void *arg)
{
    reply_box *b = arg;
    cs_service *s = b->s;
    reply_drop_text(b);
    mf_freelist_give(&s->free_boxes, b, BOXES_KEPT);
}

/* The reply's strings (every member of UserInfoReply) copied into the box's own storage, or one
 * allocation when they do not fit: no walk of the type's descriptor (mf_user_info_reply_copy). */
static mf_status reply_keep(reply_box *b, const mf_user_info_reply *r)
{
    const char *src[7] = {r->user_id,
                          r->has_name ? r->name : NULL,
                          r->has_email ? r->email : NULL,
                          r->has_language ? r->language : NULL,
                          r->has_timezone ? r->timezone : NULL,
                          r->has_error ? r->error.code : NULL,
                          r->has_error ? r->error.message : NULL};
    char **dst[7] = {&b->reply.user_id, &b->reply.name, &b->reply.email, &b->reply.language, &b->reply.timezone,
                     &b->reply.error.code, &b->reply.error.message};
    size_t len[7], total = 0;
    for (int i = 0; i < 7; i++)
        total += len[i] = src[i] ? strlen(src[i]) + 1 : 0;
    char *p = b->text = total <= sizeof b->inline_text ? b->inline_text : malloc(total);
    if (!p)
        return mf_error_set(&b->err, MF_ERR_NOMEM, "", "out of memory keeping a user.info reply");
    b->reply = *r; /* the has_ flags */
    for (int i = 0; i < 7; i++) {
        *dst[i] = src[i] ? memcpy(p, src[i], len[i]) : NULL;
        p += len[i];
    }
    return MF_OK;
}

/* Client thread: the reply (or the failure) goes to the host. The box is the host's (then the
 * engine thread's) from here: this thread never touches the free list. */
static void on_user_info(void *ctx, mf_status st, const mf_user_info_reply *reply, const mf_error *err)
{
    reply_box *b = ctx;
    b->st = st;
    if (err)
        b->err = *err;
    else
        mf_error_clear(&b->err);
    if (st == MF_OK && reply) {
        if (reply_keep(b, reply) == MF_OK)
            b->has_reply = true;
        else
            b->st = b->err.code;
    }
    if (cs_host_post_task(b->s->host, &b->task, reply_run, NULL, b, reply_free) != MF_OK) {
        /* only after cs_host_shut (cs_service_close); the engine then gets no answer for this one */
        reply_drop_text(b);
        free(b);
    }
}

/* Engine thread: a box from the free list (or a new one). */
static reply_box *box_take(cs_service *s)
{
    return mf_freelist_take(&s->free_boxes, sizeof(reply_box));
}

/* Once cs_service_close runs, the tasks it drains (replies failed by the client's destroy, a sync's
 * answer) may still end a batch: the client is destroyed by then (svc_app), so nothing is sent. */
static mf_status closed(mf_error *err)
{
    return mf_error_set(err, MF_ERR_CLOSED, "", "the service is closing");
}

static mf_status sink_request(void *ctx, const char *user_id, int timeout_ms, cs_user_info_cb cb, void *cb_ctx,
                              mf_error *err)
{
    cs_service *s = ctx;
    if (s->closing)
        return closed(err);
    reply_box *b = box_take(s);
    if (!b)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    b->s = s, b->cb = cb, b->cb_ctx = cb_ctx, b->has_reply = false, b->text = NULL;
    mf_user_info_request req = {.user_id = (char *)user_id};
    mf_status st = campaign_service_request_user_info_async(s->client, &req, timeout_ms, on_user_info, b, err);
    if (st != MF_OK)
        reply_free(b); /* not sent: back to the list */
    return st;
}

/* JetStream: the same validation, encoding and subject as the typed send, then a publish that
 * the stream acknowledges, de-duplicated by the notification_id. */
static mf_status push_jetstream(cs_service *s, const mf_push_notification *m, mf_error *err)
{
    char subject[256];
    mf_notification_user_push_params p = {.user_id = m->user_id};
    mf_status st = mf_push_notification_validate(m, err);
    if (st == MF_OK)
        st = mf_notification_user_push_address(&p, subject, sizeof subject, err);
    if (st != MF_OK)
        return st;
    mf_buf b;
    mf_buf_init(&b);
    st = mf_push_notification_encode(m, &b, err);
    if (st == MF_OK)
        st = svc_js_publish(s->js, subject, m->notification_id, b.data, b.len, err);
    mf_buf_free(&b);
    return st;
}

static mf_status sink_push(void *ctx, const char *user_id, const mf_push_notification *m, mf_error *err)
{
    (void)user_id; /* the channel takes it from the payload (m->user_id) */
    cs_service *s = ctx;
    if (s->closing)
        return closed(err);
    if (s->js)
        return push_jetstream(s, m, err);
    return campaign_service_send_push_notification(s->client, m, err);
}

static mf_status sink_status(void *ctx, const mf_campaign_status_update *m, mf_error *err)
{
    if (((cs_service *)ctx)->closing)
        return closed(err);
    return campaign_service_send_campaign_status(((cs_service *)ctx)->client, m, err);
}

static mf_status sink_analytics(void *ctx, const mf_campaign_analytics_event *m, const char *error_code,
                                mf_error *err)
{
    if (((cs_service *)ctx)->closing)
        return closed(err);
    mf_campaign_analytics_event_headers h = {.has_mflow_error_code = error_code != NULL,
                                             .mflow_error_code = (char *)error_code};
    return campaign_service_send_campaign_analytics_with_headers(((cs_service *)ctx)->client, m,
                                                                 error_code ? &h : NULL, err);
}

/* Staging (cs_engine.h): the typed sends' batch variants, one mf_api_batch per area. */
static mf_status sink_stage_push(void *ctx, int who, const mf_push_notification *m, mf_error *err)
{
    cs_service *s = ctx;
    if (s->closing)
        return closed(err);
    return campaign_service_send_push_notification_batch(&s->staged[who], m, err);
}

static mf_status sink_stage_analytics(void *ctx, int who, const mf_campaign_analytics_event *m, mf_error *err)
{
    cs_service *s = ctx;
    if (s->closing)
        return closed(err);
    return campaign_service_send_campaign_analytics_batch(&s->staged[who], m, err);
}

static mf_status sink_send_staged(void *ctx, int who, size_t *sent, mf_error *err)
{
    cs_service *s = ctx;
    mf_status st = s->closing ? closed(err) : mf_api_batch_send(s->client, &s->staged[who], sent, err);
    if (s->closing)
        *sent = 0;
    mf_api_batch_reset(&s->staged[who]);
    return st;
}

static mf_status sink_flush(void *ctx, mf_error *err)
{
    cs_service *s = ctx;
    if (s->closing)
        return closed(err);
    if (s->js)
        return svc_js_wait(s->js, s->cfg.flush_timeout_ms, err);
    uint64_t ticket = s->flush_ticket;
    s->flush_ticket = 0;
    mf_status st = ticket ? mf_client_flush_wait(s->client, ticket, s->cfg.flush_timeout_ms)
                          : mf_client_flush(s->client, s->cfg.flush_timeout_ms);
    return st == MF_OK ? MF_OK : mf_error_set(err, st, "", "flush: %s", mf_status_str(st));
}

/* With JetStream the wait is for acknowledgements, which need no PING. */
static void sink_flush_start(void *ctx)
{
    cs_service *s = ctx;
    if (s->closing)
        return;
    if (!s->js && mf_client_flush_start(s->client, &s->flush_ticket) != MF_OK)
        s->flush_ticket = 0; /* closed: sink_flush finds out and says so */
}

/* ---- durability of the engine's commits (cs_walsync.h) ---- */

/* The syncer's answers on their way to the host: one task, embedded here, carries the newest
 * answer (a later ticket answers for the earlier ones; a failure is final, cs_walsync.h), so none
 * is lost to an allocation. */
static void durable_run(void *ctx, void *arg)
{
    (void)arg;
    cs_service *s = ctx;
    pthread_mutex_lock(&s->lock);
    uint64_t ticket = s->durable_ticket;
    mf_status st = s->durable_st;
    char why[sizeof s->durable_why];
    memcpy(why, s->durable_why, sizeof why);
    s->durable_posted = false;
    pthread_mutex_unlock(&s->lock);
    if (s->engine) /* NULL: cs_engine_open failed after asking (cs_service_open's clean-up drains us) */
        cs_engine_on_durable(s->engine, ticket, st, why);
}

/* Syncer thread. */
static void on_synced(void *ctx, uint64_t ticket, mf_status st, const char *why)
{
    cs_service *s = ctx;
    pthread_mutex_lock(&s->lock);
    s->durable_ticket = ticket;
    if (s->durable_st == MF_OK) {
        s->durable_st = st;
        snprintf(s->durable_why, sizeof s->durable_why, "%s", why ? why : "");
    }
    bool post = !s->durable_posted;
    s->durable_posted = true;
    pthread_mutex_unlock(&s->lock);
    if (post && cs_host_post_task(s->host, &s->durable_task, durable_run, s, NULL, NULL) != MF_OK) {
        pthread_mutex_lock(&s->lock); /* after cs_host_shut: the engine is closing */
        s->durable_posted = false;
        pthread_mutex_unlock(&s->lock);
    }
}

static void sink_sync_start(void *ctx, uint64_t ticket)
{
    cs_walsync_request(((cs_service *)ctx)->walsync, ticket);
}

/* The syncer, when the database is a file in WAL mode (svc_db_open asks for it); otherwise each
 * commit waits for the disk itself. */
static mf_status open_walsync(cs_service *s, mf_error *err)
{
    sqlite3_stmt *q = NULL;
    bool wal = false;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(q, 0);
        wal = mode && strcmp(mode, "wal") == 0;
    }
    sqlite3_finalize(q);
    const char *db_path = sqlite3_db_filename(s->db, "main");
    if (!wal || !db_path || !*db_path)
        return MF_OK;
    return cs_walsync_open(sqlite3_filename_wal(db_path), on_synced, s, &s->walsync, err);
}

static bool sink_ready(void *ctx)
{
    mf_client_stats st;
    return !((cs_service *)ctx)->closing && mf_client_stats_get(((cs_service *)ctx)->client, &st) == MF_OK &&
           st.connected;
}

static void sink_log(void *ctx, const char *level, const char *msg)
{
    cs_service *s = ctx;
    if (s->cfg.log)
        s->cfg.log(s->cfg.log_ctx, level, msg);
}

/* ---- commands: campaign.create, campaign.execute ---- */

static void create_run(void *ctx, void *arg)
{
    cs_service *s = ctx;
    s->stats.creates++;
    cs_engine_create_campaign(s->engine, arg, NULL, NULL);
}

static void create_free(void *arg)
{
    mf_campaign_create_free(arg);
    free(arg);
}

static void on_create(void *ctx, const mf_campaign_create *msg, const mf_api_info *info)
{
    (void)info;
    cs_service *s = ctx;
    mf_campaign_create *c = malloc(sizeof *c);
    mf_error err;
    if (c)
        mf_campaign_create_init(c);
    if (!c || mf_campaign_create_copy(c, msg, &err) != MF_OK || cs_host_post(s->host, create_run, s, c, create_free) != MF_OK) {
        logf_(s, "error", "campaign.create %s dropped: out of memory or shutting down", msg->campaign_id);
        if (c)
            create_free(c);
    }
}

static void execute_run(void *ctx, void *arg)
{
    cs_service *s = ctx;
    s->stats.executes++;
    cs_engine_execute(s->engine, arg, NULL);
}

static void execute_free(void *arg)
{
    mf_campaign_execute_free(arg);
    free(arg);
}

static void on_execute(void *ctx, const mf_campaign_execute *msg, const mf_api_info *info)
{
    (void)info;
    cs_service *s = ctx;
    mf_campaign_execute *x = malloc(sizeof *x);
    mf_error err;
    if (x)
        mf_campaign_execute_init(x);
    if (!x || mf_campaign_execute_copy(x, msg, &err) != MF_OK || cs_host_post(s->host, execute_run, s, x, execute_free) != MF_OK) {
        logf_(s, "error", "campaign.execute %s dropped: out of memory or shutting down", msg->execution_id);
        if (x)
            execute_free(x);
    }
}

/* ---- the user view's events ---- */

static void view_event_free(view_event *v)
{
    switch (v->kind) {
    case 1: mf_user_info_update_free(&v->m.info); break;
    case 2: mf_user_analytics_event_free(&v->m.analytics); break;
    default: mf_preferences_update_free(&v->m.prefs); break;
    }
    free(v);
}

static void drain_views(void *ctx, void *arg);

/* Applies up to view_batch queued events in one transaction; posts itself again for the rest. */
static void drain_views(void *ctx, void *arg)
{
    (void)arg;
    cs_service *s = ctx;
    pthread_mutex_lock(&s->lock);
    view_event *list = s->vhead;
    view_event *last = list;
    int n = 1;
    for (; last && last->next && n < s->cfg.view_batch; n++)
        last = last->next;
    if (last) {
        s->vhead = last->next;
        if (!s->vhead)
            s->vtail = NULL;
        last->next = NULL;
    }
    bool more = s->vhead != NULL;
    if (!more)
        s->drain_posted = false;
    pthread_mutex_unlock(&s->lock);
    if (!list)
        return;
    mf_error err;
    bool tx = svc_db_begin(s->db, &err) == MF_OK;
    for (view_event *v = list, *next; v; v = next) {
        next = v->next;
        mf_status st = v->kind == 1   ? cs_userview_apply_update(s->view, &v->m.info, &err)
                       : v->kind == 2 ? cs_userview_apply_analytics(s->view, &v->m.analytics, &err)
                                      : cs_userview_apply_preferences(s->view, &v->m.prefs, v->received_ms, &err);
        if (st == MF_OK) {
            s->stats.view_events++;
        } else {
            s->stats.view_rejected++;
            logf_(s, "warn", "user event refused: %s %s", err.pointer, err.message);
        }
        view_event_free(v);
    }
    if (tx && svc_db_commit(s->db, &err) != MF_OK) {
        svc_db_rollback(s->db);
        logf_(s, "error", "user events not stored: %s", err.message);
    }
    if (more && cs_host_post(s->host, drain_views, s, NULL, NULL) != MF_OK) {
        pthread_mutex_lock(&s->lock);
        s->drain_posted = false;
        pthread_mutex_unlock(&s->lock);
    }
}

/* Client thread: queue one event; one drain task at a time is enough. */
static void queue_view(cs_service *s, view_event *v)
{
    v->received_ms = cs_service_now(s);
    pthread_mutex_lock(&s->lock);
    if (s->vtail)
        s->vtail->next = v;
    else
        s->vhead = v;
    s->vtail = v;
    bool post = !s->drain_posted;
    s->drain_posted = true;
    pthread_mutex_unlock(&s->lock);
    if (post && cs_host_post(s->host, drain_views, s, NULL, NULL) != MF_OK) {
        pthread_mutex_lock(&s->lock);
        s->drain_posted = false;
        pthread_mutex_unlock(&s->lock);
    }
}

/* Client thread: the events that carry a state (not analytics) move the refresh cursor. */
static void view_seen(cs_service *s, const view_event *v)
{
    if (!s->refresh)
        return;
    if (v->kind == 1)
        cs_refresh_seen(s->refresh, v->m.info.updated_at);
    else if (v->kind == 3 && v->m.prefs.has_updated_at)
        cs_refresh_seen(s->refresh, v->m.prefs.updated_at);
}

#define VIEW_HANDLER(fn, T, kind_, member)                                                \
    static void fn(void *ctx, const T *msg, const mf_api_info *info)                      \
    {                                                                                     \
        (void)info;                                                                       \
        cs_service *s = ctx;                                                              \
        view_event *v = calloc(1, sizeof *v);                                             \
        mf_error err;                                                                     \
        if (!v || T##_copy(&v->m.member, msg, &err) != MF_OK) {                           \
            free(v);                                                                      \
            logf_(s, "error", "user event dropped: out of memory");                      \
            return;                                                                       \
        }                                                                                 \
        v->kind = kind_;                                                                  \
        view_seen(s, v);                                                                  \
        queue_view(s, v);                                                                 \
    }

VIEW_HANDLER(on_info, mf_user_info_update, 1, info)
VIEW_HANDLER(on_analytics, mf_user_analytics_event, 2, analytics)
VIEW_HANDLER(on_prefs, mf_preferences_update, 3, prefs)

/* ---- life ---- */

static void on_timer(void *ctx)
{
    cs_service *s = ctx;
    cs_engine_on_timer(s->engine);
}

/* Every replica keeps its own view of the users (its database): the user events reach every
 * replica (no queue group), while campaign.create and campaign.execute go to one of them (the
 * operations' queue group, the default). Replicas sharing one database share the view too:
 * then one replica of CS_VIEW_QUEUE applies each user event. */
static mf_status subscribe(cs_service *s, mf_error *err)
{
    const mf_api_sub_opts every_replica = s->cfg.shared_db
                                              ? (mf_api_sub_opts){.queue = MF_QUEUE_GROUP, .queue_group = CS_VIEW_QUEUE}
                                              : (mf_api_sub_opts){.queue = MF_QUEUE_NONE};
    mf_status st = campaign_service_receive_user_info_update_ex(s->client, on_info, s, &every_replica, &s->subs[0], err);
    if (st == MF_OK)
        st = campaign_service_receive_user_analytics_ex(s->client, on_analytics, s, &every_replica, &s->subs[1], err);
    if (st == MF_OK)
        st = campaign_service_receive_preferences_update_ex(s->client, on_prefs, s, &every_replica, &s->subs[2], err);
    if (st == MF_OK)
        st = campaign_service_receive_campaign_create(s->client, on_create, s, &s->subs[3], err);
    if (st == MF_OK)
        st = campaign_service_receive_campaign_execute(s->client, on_execute, s, &s->subs[4], err);
    return st;
}

static void unsubscribe(cs_service *s)
{
    for (size_t i = 0; i < sizeof s->subs / sizeof *s->subs; i++) {
        mf_api_unsubscribe(s->subs[i]);
        s->subs[i] = NULL;
    }
}

static void refresh_log(void *ctx, const char *level, const char *msg)
{
    cs_service *s = ctx;
    if (s->cfg.log)
        s->cfg.log(s->cfg.log_ctx, level, msg);
}

void cs_service_on_broker(cs_service *s, const mf_client_event *ev)
{
    if (s->refresh)
        cs_refresh_on_event(s->refresh, ev);
}

mf_status cs_service_open(mf_client *client, sqlite3 *db, const cs_service_config *cfg, cs_service **out,
                          mf_error *err)
{
    *out = NULL;
    cs_tz_init();
    cs_service *s = calloc(1, sizeof *s);
    if (!s)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    s->client = client;
    s->db = db;
    if (cfg)
        s->cfg = *cfg;
    if (s->cfg.view_batch <= 0)
        s->cfg.view_batch = 2000;
    if (s->cfg.flush_timeout_ms <= 0)
        s->cfg.flush_timeout_ms = 5000;
    s->mono0 = svc_mono_ms();
    pthread_mutex_init(&s->lock, NULL);
    cs_sink sink = {.ctx = s, .now = sink_now, .timer = sink_timer, .request_user_info = sink_request,
                    .publish_push = sink_push, .publish_status = sink_status, .publish_analytics = sink_analytics,
                    .flush = sink_flush, .flush_start = sink_flush_start, .ready = sink_ready, .log = sink_log};
    mf_status st = cs_host_create(on_timer, s, &s->host, err);
    if (st == MF_OK)
        st = open_walsync(s, err);
    if (s->walsync)
        sink.sync_start = sink_sync_start;
    if (st == MF_OK && s->cfg.jetstream)
        st = svc_js_open(client, 2000, &s->js, err);
    if (!s->js) { /* JetStream's pushes go one by one, each with its acknowledgement (svc_js.h) */
        sink.stage_push = sink_stage_push;
        sink.stage_analytics = sink_stage_analytics;
        sink.send_staged = sink_send_staged;
    }
    if (st == MF_OK)
        st = cs_userview_open(db, &s->view, err);
    if (st == MF_OK)
        st = cs_engine_open(db, &sink, &s->cfg.engine, &s->engine, err);
    bool refresh = s->cfg.user_service && *s->cfg.user_service;
    if (st == MF_OK && refresh) { /* before the handlers that feed it */
        cs_refresh_config rc = {.url = s->cfg.user_service, .token = s->cfg.user_service_token,
                                .client = s->client, .log = refresh_log, .log_ctx = s};
        st = cs_refresh_open(&rc, &s->refresh, err);
    }
    if (st == MF_OK)
        st = subscribe(s, err);
    if (st == MF_OK && refresh) /* after subscribing: the first request covers the time we were away */
        st = cs_refresh_start(s->refresh, s->db, err);
    if (st != MF_OK) {
        unsubscribe(s);
        svc_js_close(s->js, true);
        s->js = NULL;
        cs_service_close(s);
        return st;
    }
    *out = s;
    return MF_OK;
}

int cs_service_event_fd(const cs_service *s)
{
    return cs_host_event_fd(s->host);
}

int cs_service_timer_fd(const cs_service *s)
{
    return cs_host_timer_fd(s->host);
}

/* Corked (mf_client_cork): what the tasks publish - a few hundred replies' notifications and
 * events - reaches the service thread in frame-sized writes, not as one wake-up each, which made
 * it preempt the engine on the engine's own CPU after nearly every publish (seen with perf's
 * sched_switch events). A flush inside a task still sends at once. */
void cs_service_run(cs_service *s)
{
    bool corked = mf_client_cork(s->client) == MF_OK;
    cs_host_run(s->host);
    if (corked)
        mf_client_uncork(s->client);
    cs_engine_checkpoint(s->engine); /* after the uncork: a final status is not held back by it */
}

bool cs_service_stop(cs_service *s, int grace_ms)
{
    unsubscribe(s);
    cs_refresh_stop(s->refresh); /* its thread uses the client, which goes before cs_service_close */
    cs_engine_stop(s->engine);
    int64_t deadline = svc_mono_ms() + grace_ms;
    while (!cs_engine_idle(s->engine) && svc_mono_ms() < deadline)
        cs_host_wait(s->host, 50);
    bool idle = cs_engine_idle(s->engine);
    if (idle) { /* no batch will publish any more: the ack subscription can go while the client is there */
        svc_js_close(s->js, true);
        s->js = NULL;
    }
    return idle;
}

void cs_service_close(cs_service *s)
{
    if (!s)
        return;
    s->closing = true;
    if (s->host) {
        cs_host_shut(s->host);
        while (cs_host_pending(s->host))
            cs_host_run(s->host); /* replies posted by the client's destroy, view events */
    }
    cs_refresh_close(s->refresh); /* when cs_service_stop did not run */
    s->refresh = NULL;
    cs_walsync_close(s->walsync); /* its last answer, if any, is refused by the shut host */
    s->walsync = NULL;
    cs_engine_close(s->engine);
    svc_js_close(s->js, false); /* the client is gone (svc_app destroys it before the close hook) */
    cs_userview_close(s->view);
    cs_host_close(s->host); /* replies never run go back to the free list */
    mf_freelist_clear(&s->free_boxes);
    mf_api_batch_free(&s->staged[0]);
    mf_api_batch_free(&s->staged[1]);
    pthread_mutex_lock(&s->lock);
    for (view_event *v = s->vhead, *next; v; v = next) {
        next = v->next;
        view_event_free(v);
    }
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

cs_engine *cs_service_engine(cs_service *s)
{
    return s->engine;
}

cs_userview *cs_service_view(cs_service *s)
{
    return s->view;
}

sqlite3 *cs_service_db(cs_service *s)
{
    return s->db;
}

void cs_service_stats_get(cs_service *s, cs_service_stats *out)
{
    *out = s->stats;
    int64_t n = 0;
    if (cs_userview_count(s->view, &n, NULL) == MF_OK)
        out->users = n;
    if (s->refresh) {
        cs_refresh_stats r;
        cs_refresh_stats_get(s->refresh, &r);
        out->refresh_requested = r.requested;
        out->refresh_since = r.since_done;
        out->refresh_full = r.full_done;
        out->refresh_failures = r.failures;
    }
}
