/*
 * connect.c - one client for the command, connected within --connect-timeout.
 * The client's log lines (connection lost, -ERR from the server) go to stderr
 * prefixed with "mfctl: "; it reconnects by itself.
 */
#include <string.h>

#include "mfctl.h"

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

mf_client *mfctl_connect(const mfctl_opts *o, int *rc)
{
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
    mf_client *c = NULL;
    mf_error err;
    char list[512];
    join_urls(urls, n, list, sizeof list);
    if (mf_client_create(&opts, &c, &err)) {
        fprintf(stderr, "mfctl: %s (from %s)\n", err.message, source);
        *rc = err.code == MF_ERR_INVALID_ARG ? MFCTL_USAGE : MFCTL_FAIL;
        mfctl_servers_free(urls, n);
        return NULL;
    }
    mfctl_servers_free(urls, n);
    if (mf_client_wait_connected(c, o->connect_timeout_ms)) {
        char d[32];
        fprintf(stderr, "mfctl: cannot connect to %s within %s\n", list,
                mfctl_fmt_duration(o->connect_timeout_ms, d, sizeof d));
        mf_client_destroy(c);
        *rc = MFCTL_FAIL;
        return NULL;
    }
    return c;
}
