/*
 * connect.c - one client for the command, connected within --connect-timeout,
 * with the credentials of the command line or the environment. The client's
 * log lines (connection lost, -ERR from the server) go to stderr prefixed with
 * "mfctl: "; it reconnects by itself, except that refused credentials end the
 * first connection at once (they would be refused again).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mfctl.h"

/* Set by on_event when the server refuses the credentials (-ERR 'Authorization Violation'). */
static atomic_bool g_auth_refused;
/* The first other -ERR the server sent (a permissions violation: the connection stays); written
 * on the service thread before g_server_error_set. */
static char g_server_error[256];
static atomic_bool g_server_error_set;

const char *mfctl_server_error(void)
{
    return atomic_load(&g_server_error_set) ? g_server_error : NULL;
}

/* The value of option `flag`, else the environment variable `env` when it is set and not empty. */
static const char *flag_or_env(const char *flag, const char *env)
{
    const char *v = getenv(env);
    return flag ? flag : v && *v ? v : NULL;
}

static void on_log(mf_log_level level, const char *line, void *ctx)
{
    (void)level;
    (void)ctx;
    fprintf(stderr, "mfctl: %s\n", line);
}

static void on_event(mf_client *c, const mf_client_event *ev, void *ctx)
{
    (void)c;
    (void)ctx;
    if (ev->type == MF_CLIENT_ERROR && ev->status == MF_ERR_AUTH) {
        atomic_store(&g_auth_refused, true);
    } else if (ev->type == MF_CLIENT_ERROR && ev->status == MF_ERR_SERVER && !atomic_load(&g_server_error_set)) {
        snprintf(g_server_error, sizeof g_server_error, "%s", ev->text);
        atomic_store(&g_server_error_set, true);
    }
    if (ev->type == MF_CLIENT_RECONNECTED)
        fprintf(stderr, "mfctl: reconnected to %s\n", ev->url);
    else if (ev->type == MF_CLIENT_DROPPED)
        fprintf(stderr, "mfctl: %llu message(s) lost while disconnected\n", (unsigned long long)ev->msgs);
}

/* "ws://a:1, ws://b:2" for messages. */
static void join_urls(char **urls, size_t n, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "", urls[i]);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for the first connection up to timeout_ms, in short slices so that refused credentials
 * (g_auth_refused) end the wait at once: 0, or -1 at the timeout, on a refusal, or when the client
 * closed. */
static int wait_connected(mf_client *c, int timeout_ms)
{
    enum { SLICE_MS = 50 };
    const int64_t deadline = now_ms() + timeout_ms;
    for (int64_t left = timeout_ms; left > 0 && !atomic_load(&g_auth_refused); left = deadline - now_ms()) {
        mf_status st = mf_client_wait_connected(c, left < SLICE_MS ? (int)left : SLICE_MS);
        if (st == MF_OK)
            return 0;
        if (st != MF_ERR_TIMEOUT)
            return -1;
    }
    return -1;
}

static void report_refused(const char *list, const mfctl_opts *o)
{
    bool given = flag_or_env(o->token, "MF_TOKEN") || flag_or_env(o->user, "MF_USER");
    fprintf(stderr, "mfctl: %s refused the %s: %s\n", list, given ? "credentials" : "connection",
            given ? "check the token, or the user and password"
                  : "it requires credentials: --token TOKEN (or $MF_TOKEN), or --user USER --password PASSWORD "
                    "(or $MF_USER, $MF_PASSWORD)");
}

mf_client *mfctl_connect(const mfctl_opts *o, int *rc)
{
    const char *user = flag_or_env(o->user, "MF_USER"), *password = flag_or_env(o->password, "MF_PASSWORD");
    if (!user != !password) {
        *rc = mfctl_usage_error(o->cmd, "%s without %s", user ? "--user" : "--password",
                                user ? "--password (or $MF_PASSWORD)" : "--user (or $MF_USER)");
        return NULL;
    }
    char **urls;
    size_t n;
    const char *source;
    *rc = mfctl_servers(o, &urls, &n, &source);
    if (*rc)
        return NULL;
    mf_client_opts opts;
    mf_client_opts_init(&opts);
    opts.servers = (const char *const *)urls;
    opts.n_servers = n;
    opts.name = "mfctl";
    opts.on_event = on_event;
    opts.on_log = on_log;
    opts.connect_timeout_ms = o->connect_timeout_ms;
    opts.token = flag_or_env(o->token, "MF_TOKEN");
    opts.user = user;
    opts.pass = password;
    if (o->inbox_prefix)
        opts.inbox_prefix = o->inbox_prefix;
    mf_client *c = NULL;
    mf_error err;
    char list[512];
    join_urls(urls, n, list, sizeof list);
    if (mf_client_create(&opts, &c, &err)) {
        bool about_urls = strstr(err.message, "server URL") != NULL;
        fprintf(stderr, "mfctl: %s%s%s%s\n", err.message, about_urls ? " (from " : "", about_urls ? source : "",
                about_urls ? ")" : "");
        *rc = err.code == MF_ERR_INVALID_ARG ? MFCTL_USAGE : MFCTL_FAIL;
        mfctl_servers_free(urls, n);
        return NULL;
    }
    mfctl_servers_free(urls, n);
    if (wait_connected(c, o->connect_timeout_ms)) {
        char d[32];
        if (atomic_load(&g_auth_refused))
            report_refused(list, o);
        else
            fprintf(stderr, "mfctl: cannot connect to %s within %s\n", list,
                    mfctl_fmt_duration(o->connect_timeout_ms, d, sizeof d));
        mf_client_destroy(c);
        *rc = MFCTL_FAIL;
        return NULL;
    }
    return c;
}
