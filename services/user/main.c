/*
 * main.c - user-service: users in SQLite, user.info.request on the typed API,
 * change events through the outbox, an admin API. See docs/services.md.
 */
#include <stddef.h>

#include "user_service.h"

static us_ctx g_ctx;

static const svc_opt us_opts[] = {
    {.name = "republish", .type = SVC_OPT_FLAG, .offset = offsetof(us_options, republish),
     .help = "at start, announce every stored user (user.info.update with the full profile, and its "
             "preferences), as POST /republish does"},
    {.name = "import-chunk", .type = SVC_OPT_INT, .offset = offsetof(us_options, import_chunk), .def = "500",
     .min = 1, .max = 10000, .metavar = "N", .help = "lines of POST /users/import written per transaction"},
    {.name = "tombstone-days", .type = SVC_OPT_INT, .offset = offsetof(us_options, tombstone_days), .def = "30",
     .min = 0, .max = 36500, .metavar = "N",
     .help = "keep a deleted user's tombstone (what POST /republish?since= announces) N days; 0: forever"},
};

static mf_status start(svc_app *app, void *ctx, mf_error *err)
{
    us_ctx *c = ctx;
    c->app = app;
    const char *db = svc_app_config(app)->db;
    mf_status st = us_store_sqlite_open(db, &c->store, err);
    if (st == MF_OK)
        st = us_store_sqlite_open(db, &c->req_store, err);
    int64_t n = 0, gone = 0;
    if (st == MF_OK && us_store_count(c->store, &n, err) == MF_OK)
        SVC_INFO("users stored=%lld", (long long)n);
    if (st == MF_OK)
        st = us_op_prune_tombstones(c, err);
    if (st == MF_OK)
        st = us_request_start(c, err);
    if (st == MF_OK && c->opt.republish)
        st = us_op_republish(c, NULL, &n, &gone, err);
    return st;
}

static void stop(svc_app *app, void *ctx)
{
    (void)app;
    us_request_stop(ctx);
}

static void input_done(svc_app *app, void *ctx)
{
    (void)app;
    us_request_input_done(ctx);
}

static void close_stores(svc_app *app, void *ctx)
{
    (void)app;
    us_ctx *c = ctx;
    us_request_input_done(c); /* the client has stopped: its thread left nothing open */
    us_store_close(c->req_store);
    us_store_close(c->store);
    c->req_store = c->store = NULL;
}

int main(int argc, char **argv)
{
    us_user_types_init();
    svc_service svc = {
        .name = "user-service",
        .summary = "The User Service: users (profile, language, timezone, plan, notification preferences) in "
                   "SQLite; answers user.info.request; announces every change on user.info.update, "
                   "user.analytics and notification.preferences.update (after the commit, through an outbox); "
                   "an admin HTTP API for people and scripts. See docs/services.md.",
        .default_db = "./user-service.db",
        .default_http = "127.0.0.1:4281",
        .opts = us_opts,
        .n_opts = sizeof us_opts / sizeof us_opts[0],
        .opts_base = &g_ctx.opt,
        .component = "user",
        .migrations = us_store_sqlite_migrations,
        .n_migrations = us_store_sqlite_migration_count,
        .kinds = us_event_kinds,
        .n_kinds = us_event_kind_count,
        .routes = us_admin_routes,
        .n_routes = us_admin_route_count,
        .start = start,
        .stop = stop,
        .close = close_stores,
        .on_input_done = input_done,
        .ctx = &g_ctx,
    };
    return svc_main(&svc, argc, argv);
}
