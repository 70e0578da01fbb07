/*
 * svc_app.c - a service process from start to clean exit (svc_app.h).
 */
#include "svc_app.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "svc_time.h"
#include "svc_token.h"

#define OUTBOX_STOP_MS 3000
#define DRAIN_MS 2000
#define CONFIRM_SUBS_MS 5000 /* the flush that confirms the start hook's subscriptions */

#define N_COMMON 8

struct svc_app {
    const svc_service *svc;
    svc_config cfg;
    svc_opt common[N_COMMON];
    svc_opt_group groups[2];
    size_t n_groups;
    sqlite3 *db;
    mf_client *client;
    /* set and cleared by the main thread, kicked by the client's service thread on a
     * (re)connect: outbox_mu spans each, so a kick never meets an outbox being stopped */
    pthread_mutex_t outbox_mu;
    svc_outbox *outbox;
    svc_http *http;
    svc_http_route *routes;
    int sigfd;
    int signals;
    bool started;
    char *admin_token;  /* from --admin-token-file or $MF_ADMIN_TOKEN; never logged */
};

/* One service per process: the health route and the client callbacks find it here. */
static svc_app *g_app;

static bool check_server(const char *v, char *why, size_t cap)
{
    if (strncmp(v, "ws://", 5) != 0 && strncmp(v, "wss://", 6) != 0)
        return snprintf(why, cap, "expected ws://HOST:PORT or wss://HOST:PORT, got \"%s\"", v), false;
    return true;
}

static const svc_opt common_opts[N_COMMON] = {
    {.name = "server", .type = SVC_OPT_LIST, .offset = offsetof(svc_config, servers), .def = "ws://127.0.0.1:4280",
     .env = "MF_SERVER", .metavar = "URL", .check = check_server,
     .help = "NATS server (mf-broker or a nats-server websocket listener) to connect to; several for a cluster"},
    {.name = "db", .type = SVC_OPT_STR, .offset = offsetof(svc_config, db), .metavar = "PATH",
     .help = "SQLite database file (created when absent)"},
    {.name = "http", .type = SVC_OPT_STR, .offset = offsetof(svc_config, http), .metavar = "ADDR:PORT",
     .check = svc_http_listen_valid, .help = "address of the admin HTTP API (port 0: any free port)"},
    {.name = "log-level", .type = SVC_OPT_CHOICE, .offset = offsetof(svc_config, log_level), .def = "info",
     .env = "MF_LOG_LEVEL", .metavar = "LEVEL", .choices = svc_log_level_names, .help = "most verbose log level"},
    {.name = "token", .type = SVC_OPT_STR, .offset = offsetof(svc_config, token), .env = "MF_TOKEN",
     .metavar = "TOKEN", .flags = SVC_OPT_SECRET, .help = "authentication token for the server"},
    {.name = "admin-token-file", .type = SVC_OPT_STR, .offset = offsetof(svc_config, admin_token_file),
     .env = "MF_ADMIN_TOKEN_FILE", .metavar = "PATH",
     .help = "file holding the bearer token the admin API requires (or the token itself in $MF_ADMIN_TOKEN); "
             "needed when --http is not a loopback address"},
    {.name = "user", .type = SVC_OPT_STR, .offset = offsetof(svc_config, user), .env = "MF_USER", .metavar = "USER",
     .help = "a user of the server's accounts (mf-broker --config, nats-server authorization), with --password; "
             "request inboxes are then _INBOX.<service name>.> (docs/broker.md)"},
    {.name = "password", .type = SVC_OPT_STR, .offset = offsetof(svc_config, password), .env = "MF_PASSWORD",
     .metavar = "PASSWORD", .flags = SVC_OPT_SECRET, .help = "the password of --user"},
};

/* ------------------------------------------------------------ accessors */

const svc_config *svc_app_config(const svc_app *app) { return &app->cfg; }
mf_client *svc_app_client(svc_app *app) { return app->client; }
svc_outbox *svc_app_outbox(svc_app *app) { return app->outbox; }
sqlite3 *svc_app_db(svc_app *app) { return app->db; }
svc_http *svc_app_http(svc_app *app) { return app->http; }

void svc_app_request_stop(svc_app *app)
{
    (void)app;
    kill(getpid(), SIGTERM); /* blocked in every thread: it arrives on the signalfd */
}

/* --------------------------------------------------------------- health */

static void health(svc_http_req *rq, void *ctx)
{
    (void)ctx;
    svc_app *app = g_app;
    mf_client_stats cs;
    memset(&cs, 0, sizeof cs);
    mf_client_stats_get(app->client, &cs);
    mf_error err;
    bool db_ok = svc_db_ping(app->db, &err) == MF_OK;
    int64_t backlog = 0, age = 0;
    if (db_ok)
        db_ok = svc_outbox_backlog(app->db, &backlog, &age, &err) == MF_OK;
    svc_outbox_stats os;
    svc_outbox_stats_get(app->outbox, &os);
    char url[256];
    bool ok = cs.connected && db_ok;

    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "status", ok ? "ok" : "degraded");
    cJSON_AddStringToObject(root, "service", app->svc->name);
    cJSON *b = cJSON_AddObjectToObject(root, "broker");
    cJSON_AddBoolToObject(b, "connected", cs.connected);
    cJSON_AddStringToObject(b, "url", svc_log_redact_url(cs.server_url, url, sizeof url));
    cJSON_AddNumberToObject(b, "reconnects", (double)cs.reconnects);
    cJSON *d = cJSON_AddObjectToObject(root, "database");
    cJSON_AddBoolToObject(d, "ok", db_ok);
    cJSON_AddStringToObject(d, "path", app->cfg.db);
    if (!db_ok)
        cJSON_AddStringToObject(d, "error", err.message);
    cJSON *o = cJSON_AddObjectToObject(root, "outbox");
    cJSON_AddNumberToObject(o, "backlog", (double)backlog);
    cJSON_AddNumberToObject(o, "oldest_age_ms", (double)age);
    cJSON_AddNumberToObject(o, "published", (double)os.published);
    cJSON_AddNumberToObject(o, "retries", (double)os.retries);
    cJSON_AddNumberToObject(o, "dead", (double)os.dead);
    cJSON_AddStringToObject(o, "last_error", os.last_error);
    svc_http_reply_json(rq, ok ? 200 : 503, root);
}

/* ------------------------------------------------------- client callbacks */

static void on_client_event(mf_client *c, const mf_client_event *ev, void *ctx)
{
    (void)c;
    svc_app *app = ctx;
    char url[256], q[300];
    svc_log_redact_url(ev->url, url, sizeof url);
    switch (ev->type) {
    case MF_CLIENT_CONNECTED:
    case MF_CLIENT_RECONNECTED:
        SVC_INFO("broker %s url=%s", ev->type == MF_CLIENT_CONNECTED ? "connected" : "reconnected", url);
        pthread_mutex_lock(&app->outbox_mu);
        svc_outbox_kick(app->outbox); /* publish what waited for the broker (NULL: not yet, or gone) */
        pthread_mutex_unlock(&app->outbox_mu);
        break;
    case MF_CLIENT_DISCONNECTED:
        SVC_WARN("broker disconnected; reconnecting url=%s", url);
        break;
    case MF_CLIENT_CLOSED:
        SVC_INFO("broker connection closed status=%s", mf_status_str(ev->status));
        break;
    case MF_CLIENT_ERROR:
        SVC_WARN("broker error status=%s text=%s", mf_status_str(ev->status), svc_log_q(q, sizeof q, ev->text));
        break;
    case MF_CLIENT_DROPPED:
        SVC_WARN("publishes dropped while disconnected msgs=%llu bytes=%llu", (unsigned long long)ev->msgs,
                 (unsigned long long)ev->bytes);
        break;
    case MF_CLIENT_SERVER_DISCOVERED:
        SVC_INFO("broker discovered url=%s", url);
        break;
    }
    if (app->svc->on_broker)
        app->svc->on_broker(app, ev, app->svc->ctx);
}

static void on_client_log(mf_log_level level, const char *line, void *ctx)
{
    (void)ctx;
    svc_log(level <= MF_LOG_ERROR ? SVC_LOG_ERROR : level == MF_LOG_WARN ? SVC_LOG_WARN : SVC_LOG_DEBUG,
            "client: %s", line);
}

static void on_client_input_done(mf_client *c, void *ctx)
{
    (void)c;
    svc_app *app = ctx;
    app->svc->on_input_done(app, app->svc->ctx);
}

static mf_status create_client(svc_app *app, mf_error *err)
{
    mf_client_opts o;
    mf_client_opts_init(&o);
    o.servers = (const char *const *)app->cfg.servers.v;
    o.n_servers = app->cfg.servers.n;
    o.name = app->svc->name;
    o.token = app->cfg.token;
    o.user = app->cfg.user;
    o.pass = app->cfg.password;
    /* Inboxes of its own, so that accounts can allow each service only its replies
     * (subscribe "_INBOX.<name>.>", docs/examples/broker-accounts.json). */
    char inbox[128];
    snprintf(inbox, sizeof inbox, "_INBOX.%s", app->svc->name);
    o.inbox_prefix = inbox;
    o.on_event = on_client_event;
    o.event_ctx = app;
    o.on_log = on_client_log;
    if (app->svc->on_input_done) {
        o.on_input_done = on_client_input_done;
        o.input_ctx = app;
    }
    o.log_level = svc_log_enabled(SVC_LOG_DEBUG) ? MF_LOG_DEBUG : MF_LOG_WARN;
    return mf_client_create(&o, &app->client, err);
}

/* --------------------------------------------------------------- signals */

static void on_signal(svc_http *h, int fd, void *ctx)
{
    svc_app *app = ctx;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        app->signals++;
        if (app->signals == 1) {
            SVC_INFO("received %s; stopping: no new work, finishing what is in hand", strsignal((int)si.ssi_signo));
            if (app->started && app->svc->stop)
                app->svc->stop(app, app->svc->ctx);
        } else {
            SVC_INFO("received %s again; stopping without waiting", strsignal((int)si.ssi_signo));
        }
        svc_http_stop(h);
    }
}

static mf_status block_signals(svc_app *app, mf_error *err)
{
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    /* blocked before any thread starts, so every thread inherits the mask */
    if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0)
        return mf_error_set(err, MF_ERR_IO, "", "cannot block signals");
    app->sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (app->sigfd < 0)
        return mf_error_set(err, MF_ERR_IO, "", "signalfd: %s", strerror(errno));
    return MF_OK;
}

/* ------------------------------------------------------------- start/stop */

static mf_status open_database(svc_app *app, mf_error *err)
{
    const svc_service *s = app->svc;
    mf_status st = svc_db_open(app->cfg.db, &app->db, err);
    if (st == MF_OK)
        st = svc_db_migrate(app->db, SVC_OUTBOX_COMPONENT, svc_outbox_migrations, svc_outbox_migration_count, err);
    if (st == MF_OK && s->n_migrations)
        st = svc_db_migrate(app->db, s->component ? s->component : s->name, s->migrations, s->n_migrations, err);
    if (st == MF_OK)
        SVC_INFO("database ready path=%s", app->cfg.db);
    return st;
}

static mf_status start_http(svc_app *app, mf_error *err)
{
    const svc_service *s = app->svc;
    app->routes = calloc(s->n_routes + 1, sizeof *app->routes);
    if (!app->routes)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    app->routes[0] = (svc_http_route){SVC_HTTP_GET, "/healthz", health, NULL, NULL, 0, NULL};
    if (s->n_routes)
        memcpy(app->routes + 1, s->routes, s->n_routes * sizeof *app->routes);
    svc_http_opts ho = {app->cfg.http, app->routes, s->n_routes + 1, s->ctx, 0, app->admin_token};
    mf_status st = svc_http_create(&ho, &app->http, err);
    if (st == MF_OK)
        st = svc_http_watch_fd(app->http, app->sigfd, on_signal, app);
    if (st)
        return st;
    app->sigfd = -1; /* the server owns it now */
    if (app->admin_token)
        SVC_INFO("the admin API requires a bearer token http=%s", app->cfg.http);
    return MF_OK;
}

/* The start hook subscribed. A client already connected sent those SUBs after its handshake,
 * so a message published as soon as the service says ready could reach the server before
 * them and be lost to it: a flush confirms them. A client not yet connected sends its
 * subscriptions with its CONNECT and reports connected only after that handshake's PONG.
 * Not fatal: a server that does not answer in time gets the SUBs all the same. */
static void confirm_subscriptions(svc_app *app)
{
    mf_client_stats cs;
    if (mf_client_stats_get(app->client, &cs) != MF_OK || !cs.connected)
        return;
    mf_status st = mf_client_flush(app->client, CONFIRM_SUBS_MS);
    if (st != MF_OK)
        SVC_WARN("the server has not confirmed the subscriptions within %d ms: %s", CONFIRM_SUBS_MS,
                 mf_status_str(st));
}

static mf_status start(svc_app *app, mf_error *err)
{
    mf_status st = block_signals(app, err);
    if (st == MF_OK)
        st = open_database(app, err);
    if (st == MF_OK)
        st = create_client(app, err);
    svc_outbox *ob = NULL;
    if (st == MF_OK)
        st = svc_outbox_start(app->cfg.db, app->client, app->svc->kinds, app->svc->n_kinds, &ob, err);
    /* The outbox's first pass publishes what waits; but when that pass found the broker not yet
     * connected and the connection came up before app->outbox was set, the connect's kick found
     * NULL, and the outbox would wait out its back-off: kick it once it can be found. */
    pthread_mutex_lock(&app->outbox_mu);
    app->outbox = ob;
    svc_outbox_kick(ob);
    pthread_mutex_unlock(&app->outbox_mu);
    if (st == MF_OK)
        st = start_http(app, err);
    if (st == MF_OK && app->svc->start) {
        app->started = true;
        st = app->svc->start(app, app->svc->ctx, err);
    }
    if (st == MF_OK)
        confirm_subscriptions(app);
    return st;
}

static int shut_down(svc_app *app, int rc)
{
    if (app->started && app->svc->stop && app->signals == 0)
        app->svc->stop(app, app->svc->ctx); /* start failed: the stop hook has not run */
    svc_http_destroy(app->http);
    app->http = NULL;
    SVC_DEBUG("admin server closed");
    pthread_mutex_lock(&app->outbox_mu);
    svc_outbox *ob = app->outbox;
    app->outbox = NULL;
    pthread_mutex_unlock(&app->outbox_mu);
    svc_outbox_stop(ob, app->signals > 1 ? 0 : OUTBOX_STOP_MS);
    if (app->client) {
        mf_client_drain(app->client, app->signals > 1 ? 1 : DRAIN_MS);
        mf_client_destroy(app->client);
        app->client = NULL;
    }
    if (app->started && app->svc->close)
        app->svc->close(app, app->svc->ctx);
    if (svc_db_close(app->db) == MF_OK && app->db)
        SVC_INFO("database closed path=%s", app->cfg.db);
    else if (app->db)
        rc = 1;
    app->db = NULL;
    if (app->sigfd >= 0)
        close(app->sigfd);
    free(app->routes);
    svc_token_free(app->admin_token);
    app->admin_token = NULL;
    SVC_INFO("stopped status=%d", rc);
    svc_opts_free(app->groups, app->n_groups);
    return rc;
}

static int parse_options(svc_app *app, int argc, char **argv)
{
    const svc_service *s = app->svc;
    memcpy(app->common, common_opts, sizeof common_opts);
    app->common[1].def = s->default_db; /* --db */
    app->common[2].def = s->default_http; /* --http */
    app->groups[0] = (svc_opt_group){"Common options", app->common, N_COMMON, &app->cfg};
    app->n_groups = 1;
    if (s->n_opts)
        app->groups[app->n_groups++] = (svc_opt_group){"Service options", s->opts, s->n_opts, s->opts_base};
    svc_opts_result r = svc_opts_parse(app->groups, app->n_groups, s->name, s->summary, argc, argv, stdout, stderr);
    return r == SVC_OPTS_OK ? -1 : r == SVC_OPTS_HELP ? 0 : 2;
}

/* The admin token, and the refusal of a non-loopback admin API without one; --user and
 * --password come together. */
static int load_admin_token(svc_app *app)
{
    if (!app->cfg.user != !app->cfg.password) {
        SVC_ERROR("cannot start: %s", app->cfg.user ? "--user needs --password (or MF_PASSWORD)"
                                                    : "--password needs --user (or MF_USER)");
        return 2;
    }
    mf_error err;
    mf_error_clear(&err);
    if (svc_token_load(app->cfg.admin_token_file, getenv("MF_ADMIN_TOKEN"), "MF_ADMIN_TOKEN", &app->admin_token,
                       &err) != MF_OK) {
        SVC_ERROR("cannot start: %s", err.message);
        return 2;
    }
    if (!app->admin_token && !svc_http_listen_is_loopback(app->cfg.http)) {
        SVC_ERROR("cannot start: --http %s is not a loopback address, and the admin API then requires a token: "
                  "give one with --admin-token-file PATH or MF_ADMIN_TOKEN",
                  app->cfg.http);
        return 2;
    }
    return -1;
}

int svc_main(const svc_service *svc, int argc, char **argv)
{
    static svc_app app;
    memset(&app, 0, sizeof app);
    pthread_mutex_init(&app.outbox_mu, NULL);
    app.svc = svc;
    app.sigfd = -1;
    g_app = &app;
    int rc = parse_options(&app, argc, argv);
    if (rc >= 0)
        return rc;
    svc_log_init(svc->name, (svc_log_level)(app.cfg.log_level + 1));
    SVC_INFO("starting pid=%ld", (long)getpid());
    svc_opts_log(app.groups, app.n_groups);
    rc = load_admin_token(&app);
    if (rc >= 0) {
        SVC_INFO("stopped status=%d", rc);
        svc_opts_free(app.groups, app.n_groups);
        return rc;
    }
    mf_error err;
    mf_error_clear(&err);
    if (start(&app, &err) != MF_OK) {
        SVC_ERROR("cannot start: %s", err.message);
        return shut_down(&app, 1);
    }
    char url[256], bound[300];
    snprintf(bound, sizeof bound, "%.*s:%d", (int)(strrchr(app.cfg.http, ':') - app.cfg.http), app.cfg.http,
             svc_http_port(app.http));
    SVC_INFO("ready http=http://%s server=%s", bound,
             svc_log_redact_url(app.cfg.servers.n ? app.cfg.servers.v[0] : "-", url, sizeof url));
    /* the address actually bound (the port may have been 0), for scripts that start services */
    printf("%s listening on http://%s\n", svc->name, bound);
    fflush(stdout);
    svc_http_run(app.http);
    SVC_DEBUG("admin server loop ended");
    return shut_down(&app, 0);
}
