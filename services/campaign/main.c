/*
 * main.c - campaign-service: campaigns, targeting, durable executions and notifications.
 * See cs_service.h for how it is put together and docs/services.md for how to run it.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_admin.h"
#include "cs_db.h"
#include "cs_republish.h"
#include "cs_service.h"
#include "cs_time.h"
#include "svc_app.h"
#include "svc_log.h"
#include "svc_token.h"

typedef struct cs_options {
    long long new_days, active_days, request_timeout_ms;
    char *clock;        /* --clock: a fixed start for the service's clock (tests) */
    char *user_service; /* --user-service: the User Service's admin API, for republish */
    char *user_service_token_file; /* its bearer token (or $MF_USER_SERVICE_TOKEN) */
    bool jetstream;     /* --jetstream: notifications as JetStream publishes, acknowledged */
    bool shared_db;     /* --shared-db: replicas share --db; user events in a queue group */
    long long lease_ms; /* --lease: how long an execution's lease lasts without renewal */
} cs_options;

/* The hooks and the admin routes get the same ctx: the routes' cs_admin_ctx comes first. */
typedef struct cs_main {
    cs_admin_ctx admin;
    cs_options opt;
    cs_service *svc;
    char *user_service_token; /* never logged */
} cs_main;

static cs_main g_main;

static bool check_clock(const char *value, char *why, size_t cap)
{
    int64_t ms;
    if (!*value || cs_time_parse(value, &ms, NULL) == MF_OK)
        return true;
    snprintf(why, cap, "expected an RFC 3339 date-time such as 2024-03-31T00:30:00Z");
    return false;
}

static bool check_url(const char *value, char *why, size_t cap)
{
    if (!*value || strncmp(value, "http://", 7) == 0)
        return true;
    snprintf(why, cap, "expected http://HOST:PORT (or \"\" for none)");
    return false;
}

static const svc_opt cs_opts[] = {
    {.name = "new-days", .type = SVC_OPT_INT, .offset = offsetof(cs_options, new_days), .def = "30", .min = 1,
     .max = 3650, .metavar = "N", .env = "MF_NEW_DAYS", .help = "new_users: registered within the last N days"},
    {.name = "active-days", .type = SVC_OPT_INT, .offset = offsetof(cs_options, active_days), .def = "30", .min = 1,
     .max = 3650, .metavar = "N", .env = "MF_ACTIVE_DAYS",
     .help = "active_users / inactive_users: activity within / not within the last N days"},
    {.name = "request-timeout", .type = SVC_OPT_INT, .offset = offsetof(cs_options, request_timeout_ms),
     .def = "2000", .min = 50, .max = 60000, .metavar = "MS",
     .help = "how long one user.info.request waits for its reply (then retried, up to max_retries)"},
    {.name = "clock", .type = SVC_OPT_STR, .offset = offsetof(cs_options, clock), .def = "", .env = "MF_CLOCK",
     .metavar = "DATE-TIME", .check = check_clock,
     .help = "start the service's clock at this instant (it then runs at the real rate): for tests of "
             "quiet hours and schedules; \"\" = the real time"},
    {.name = "user-service", .type = SVC_OPT_STR, .offset = offsetof(cs_options, user_service),
     .def = "http://127.0.0.1:4281", .env = "MF_USER_SERVICE", .metavar = "URL", .check = check_url,
     .help = "the User Service's admin API: asked to republish what changed since the view's newest event at "
             "start and after every reconnect to the broker (everyone when the view is empty); \"\" = never ask"},
    {.name = "user-service-token-file", .type = SVC_OPT_STR, .offset = offsetof(cs_options, user_service_token_file),
     .env = "MF_USER_SERVICE_TOKEN_FILE", .metavar = "PATH",
     .help = "file holding the User Service's admin token (or the token itself in $MF_USER_SERVICE_TOKEN), "
             "when its admin API requires one"},
    {.name = "jetstream", .type = SVC_OPT_FLAG, .offset = offsetof(cs_options, jetstream), .env = "MF_JETSTREAM",
     .help = "publish notifications to a JetStream stream (nats-server; a stream must take notification.>) with "
             "Nats-Msg-Id = notification_id, a batch confirmed by the stream's acknowledgements: stored exactly "
             "once within the stream's duplicate window, also across crashes and node failures"},
    {.name = "shared-db", .type = SVC_OPT_FLAG, .offset = offsetof(cs_options, shared_db), .env = "MF_SHARED_DB",
     .help = "several replicas use this --db file (same machine): each user event is applied by one replica "
             "(queue group " CS_VIEW_QUEUE ") instead of by every one; executions are leased anyway"},
    {.name = "lease", .type = SVC_OPT_INT, .offset = offsetof(cs_options, lease_ms), .def = "10000", .min = 1000,
     .max = 600000, .metavar = "MS",
     .help = "an execution's lease: a replica that stops renewing it (killed, frozen) loses the execution to "
             "another one sharing the database after this long (at once when its process is gone)"},
};

static void log_line(void *ctx, const char *level, const char *msg)
{
    (void)ctx;
    svc_log_level l = strcmp(level, "error") == 0  ? SVC_LOG_ERROR
                      : strcmp(level, "warn") == 0 ? SVC_LOG_WARN
                      : strcmp(level, "debug") == 0 ? SVC_LOG_DEBUG
                                                    : SVC_LOG_INFO;
    svc_log(l, "%s", msg);
}

static void on_ready(svc_http *h, int fd, void *ctx)
{
    (void)h;
    (void)fd;
    cs_main *m = ctx;
    if (m->svc)
        cs_service_run(m->svc);
}

/* Client thread: after a reconnect the view asks for what it missed (cs_refresh.h). m->svc is
 * published by start once the service is open, and cleared only after the client is gone. */
static void on_broker(svc_app *app, const mf_client_event *ev, void *ctx)
{
    (void)app;
    cs_service *svc = __atomic_load_n(&((cs_main *)ctx)->svc, __ATOMIC_ACQUIRE);
    if (svc)
        cs_service_on_broker(svc, ev);
}

static mf_status start(svc_app *app, void *ctx, mf_error *err)
{
    cs_main *m = ctx;
    int64_t clock = 0;
    if (*m->opt.clock)
        cs_time_parse(m->opt.clock, &clock, NULL);
    mf_status tst = svc_token_load(m->opt.user_service_token_file, getenv("MF_USER_SERVICE_TOKEN"),
                                   "MF_USER_SERVICE_TOKEN", &m->user_service_token, err);
    if (tst != MF_OK)
        return tst;
    cs_service_config cfg = {
        .engine = {.new_days = (int)m->opt.new_days, .active_days = (int)m->opt.active_days,
                   .request_timeout_ms = (int)m->opt.request_timeout_ms, .lease_ms = (int)m->opt.lease_ms},
        .clock_start_ms = clock,
        .jetstream = m->opt.jetstream,
        .user_service = m->opt.user_service,
        .user_service_token = m->user_service_token,
        .shared_db = m->opt.shared_db,
        .log = log_line,
    };
    cs_service *svc = NULL;
    mf_status st = cs_service_open(svc_app_client(app), svc_app_db(app), &cfg, &svc, err);
    if (st == MF_OK)
        __atomic_store_n(&m->svc, svc, __ATOMIC_RELEASE);
    if (st == MF_OK)
        st = svc_http_watch_fd(svc_app_http(app), cs_service_event_fd(m->svc), on_ready, m);
    if (st == MF_OK)
        st = svc_http_watch_fd(svc_app_http(app), cs_service_timer_fd(m->svc), on_ready, m);
    if (st != MF_OK)
        return st;
    m->admin.svc = m->svc;
    m->admin.user_service = m->opt.user_service;
    m->admin.user_service_token = m->user_service_token;
    if (clock)
        SVC_WARN("the clock starts at %s (--clock), not at the real time", m->opt.clock);
    cs_service_stats s;
    cs_service_stats_get(m->svc, &s);
    SVC_INFO("user view users=%lld", (long long)s.users);
    if (!*m->opt.user_service)
        SVC_WARN("no --user-service: the user view is not caught up after outages (POST /users/refresh cannot "
                 "help either)");
    return MF_OK;
}

static void stop(svc_app *app, void *ctx)
{
    (void)app;
    cs_main *m = ctx;
    if (m->svc && !cs_service_stop(m->svc, 10000))
        SVC_WARN("the batch in hand did not finish within 10 s; it goes again at the next start");
}

static void close_service(svc_app *app, void *ctx)
{
    (void)app;
    cs_main *m = ctx;
    m->admin.svc = NULL;
    cs_service_close(m->svc);
    m->svc = NULL;
    m->admin.user_service_token = NULL;
    svc_token_free(m->user_service_token);
    m->user_service_token = NULL;
}

int main(int argc, char **argv)
{
    svc_service svc = {
        .name = "campaign-service",
        .summary = "The Campaign Service: accepts campaign.create and campaign.execute, keeps its own view of "
                   "the users from the User Service's events, targets segments and filters, and sends "
                   "personalised, localised push notifications in batches (rate limit, preferences, quiet "
                   "hours, A/B variants), with progress on campaign.status and events on campaign.analytics. "
                   "Executions are recorded in SQLite and resume after a crash. See docs/services.md.",
        .default_db = "./campaign-service.db",
        .default_http = "127.0.0.1:4282",
        .opts = cs_opts,
        .n_opts = sizeof cs_opts / sizeof cs_opts[0],
        .opts_base = &g_main.opt,
        .component = CS_DB_COMPONENT,
        .migrations = cs_db_migrations,
        .n_migrations = cs_db_migration_count,
        .routes = cs_admin_routes,
        .n_routes = cs_admin_route_count,
        .start = start,
        .stop = stop,
        .close = close_service,
        .on_broker = on_broker,
        .ctx = &g_main,
    };
    return svc_main(&svc, argc, argv);
}
