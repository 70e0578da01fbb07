/*
 * svc_app.h - the life of a service process, common to every service.
 *
 * A service describes itself in one svc_service (name, options, schema
 * migrations, outbox event kinds, admin routes, start/stop hooks) and hands it
 * to svc_main, which does the rest in this order:
 *
 *   1. options: the common ones below plus the service's own table, from the
 *      defaults, the environment and the command line (--help prints them all);
 *   2. logging at --log-level; the effective options are logged (secrets and
 *      URL credentials hidden);
 *   3. SIGINT and SIGTERM are blocked in every thread and read from a signalfd
 *      in the admin server's loop (no signal handler runs arbitrary code);
 *   4. the database (--db): opened (WAL, busy timeout, foreign keys) and
 *      migrated: the outbox's tables, then the service's steps;
 *   5. the mf_client to --server (repeatable; reconnects forever; its events
 *      and log lines go to the log); the service starts even when the broker
 *      is down and catches up when it comes;
 *   6. the outbox publisher thread;
 *   7. the admin HTTP server on --http (GET /healthz built in, then the
 *      service's routes). With an admin token (--admin-token-file, or
 *      $MF_ADMIN_TOKEN; svc_token.h) every request needs
 *      "Authorization: Bearer <token>" (401 otherwise). An --http address
 *      that is not loopback without a token is refused before anything
 *      starts (exit 2): the admin API can change every user;
 *   8. the service's start hook (subscribe handlers, open its stores);
 *   9. serve until SIGTERM/SIGINT. Then: stop taking work (new HTTP requests
 *      get 503, the service's stop hook unsubscribes its handlers, which waits
 *      for a handler that is running), let HTTP requests in flight finish (at
 *      most 10 s), publish what the outbox holds (at most 3 s; the rest waits
 *      in the database for the next start), drain the client, run the
 *      service's close hook, close the database, exit 0. A second signal
 *      skips the waiting.
 *
 * Exit status: 0 after a clean stop or --help, 1 when starting failed (the
 * log says why: database, listen address...), 2 for bad options.
 *
 * GET /healthz answers 200 when the broker is connected and the database
 * answers, 503 otherwise, with
 *   {"status": "ok"|"degraded", "service": NAME,
 *    "broker": {"connected": bool, "url": URL, "reconnects": N},
 *    "database": {"ok": bool, "path": PATH},
 *    "outbox": {"backlog": N, "oldest_age_ms": N, "published": N, "retries": N, "dead": N, "last_error": ""}}
 *
 * Threads: svc_main's thread runs the admin server (routes, the start, stop
 * and close hooks); the client's service thread runs message handlers; the
 * outbox has its own. Each thread that touches the database has its own
 * connection: svc_app_db is the main thread's.
 */
#ifndef SVC_APP_H
#define SVC_APP_H

#include <sqlite3.h>

#include "mf/client.h"
#include "svc_db.h"
#include "svc_http.h"
#include "svc_log.h"
#include "svc_opts.h"
#include "svc_outbox.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The common options (every service has them). */
typedef struct svc_config {
    svc_strv servers;   /* --server URL (repeatable; $MF_SERVER, comma-separated) */
    char *db;           /* --db PATH */
    char *http;         /* --http ADDR:PORT */
    int log_level;      /* --log-level: index into svc_log_level_names (0 = error) */
    char *token;        /* --token (secret; $MF_TOKEN): the server's auth token */
    char *admin_token_file; /* --admin-token-file ($MF_ADMIN_TOKEN_FILE): the admin API's bearer token */
    char *user;         /* --user ($MF_USER): a user of the server's accounts, with --password */
    char *password;     /* --password (secret; $MF_PASSWORD) */
} svc_config;

typedef struct svc_app svc_app;

typedef struct svc_service {
    const char *name;          /* "user-service": logs, client name, --help */
    const char *summary;       /* a paragraph for --help */
    const char *default_db;    /* "./user-service.db" */
    const char *default_http;  /* "127.0.0.1:4281" */

    const svc_opt *opts;       /* the service's own options (may be NULL) */
    size_t n_opts;
    void *opts_base;           /* the struct they fill */

    const char *component;     /* schema component name, e.g. "user" */
    const svc_migration *migrations;
    size_t n_migrations;

    const svc_outbox_kind *kinds; /* events the service publishes through the outbox */
    size_t n_kinds;

    const svc_http_route *routes; /* admin routes (GET /healthz is added in front) */
    size_t n_routes;

    /* Main thread, after steps 1-7: subscribe handlers, open stores. MF_OK to go on;
     * otherwise err says why and the process exits 1 (stop and close still run). */
    mf_status (*start)(svc_app *app, void *ctx, mf_error *err);
    /* Main thread, on SIGTERM/SIGINT: stop taking work (unsubscribe). May be NULL. */
    void (*stop)(svc_app *app, void *ctx);
    /* Main thread, after HTTP, outbox and client have stopped: release. May be NULL. */
    void (*close)(svc_app *app, void *ctx);
    /* The client's service thread, after the log line of each broker event (connected,
     * disconnected, reconnected...): a service that must catch up after an outage (core NATS
     * delivers nothing published while it was away) learns of it here. Must not block. May be
     * NULL. Events may come before the start hook has run. */
    void (*on_broker)(svc_app *app, const mf_client_event *ev, void *ctx);
    /* The client's service thread, after the messages of one read from the broker have been
     * handled (mf_client_input_cb): where work shared between them ends. May be NULL. */
    void (*on_input_done)(svc_app *app, void *ctx);
    void *ctx;                 /* passed to the hooks and to every route handler */
} svc_service;

/* Runs the service; returns the process exit status. */
int svc_main(const svc_service *svc, int argc, char **argv);

/* Accessors for the hooks and handlers (main thread unless noted). */
const svc_config *svc_app_config(const svc_app *app);   /* any thread */
mf_client *svc_app_client(svc_app *app);                 /* any thread */
svc_outbox *svc_app_outbox(svc_app *app);                /* any thread */
sqlite3 *svc_app_db(svc_app *app);                       /* main thread only */
svc_http *svc_app_http(svc_app *app);                    /* main thread only */

/* Asks the process to stop as if SIGTERM had arrived (any thread). */
void svc_app_request_stop(svc_app *app);

#ifdef __cplusplus
}
#endif
#endif /* SVC_APP_H */
