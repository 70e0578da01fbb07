/*
 * opts.c - client options defaults and server URL parsing.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_int.h"

void mf_client_opts_init(mf_client_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->echo = true;
    o->headers = true;
    o->no_responders = true;
    o->reconnect = true;
    o->reconnect_wait_ms = 100;
    o->reconnect_wait_max_ms = 5000;
    o->reconnect_jitter_ms = 100;
    o->max_reconnect_attempts = -1;
    o->pending_limit = 8u * 1024u * 1024u;
    o->outbound_limit = 64u * 1024u * 1024u;
    o->frame_size = 64u * 1024u;
    o->ws_max_message = 64u * 1024u * 1024u;
    o->ping_interval_ms = 120000;
    o->max_pings_out = 2;
    o->connect_timeout_ms = 2000;
    o->log_level = MF_LOG_WARN;
    o->lws_log_level = LLL_ERR | LLL_WARN;
}

void mf_server_free(mf_server *s)
{
    if (!s)
        return;
    free(s->url);
    free(s->host);
    free(s->path);
    memset(s, 0, sizeof *s);
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

mf_status mf_server_parse(const char *url, mf_server *out, mf_error *err)
{
    memset(out, 0, sizeof *out);
    if (!url || !*url)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "empty server URL");
    const char *p;
    if (!strncasecmp(url, "ws://", 5)) {
        p = url + 5;
        out->tls = false;
    } else if (!strncasecmp(url, "wss://", 6)) {
        p = url + 6;
        out->tls = true;
    } else {
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "server URL '%.200s': scheme must be ws:// or wss://", url);
    }
    for (const char *s = url; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return mf_error_set(err, MF_ERR_INVALID_ARG, "", "server URL '%.200s' contains a blank or control byte",
                                url);
    const char *hs, *he;
    if (*p == '[') {
        hs = p + 1;
        he = strchr(hs, ']');
        if (!he)
            return mf_error_set(err, MF_ERR_INVALID_ARG, "", "server URL '%.200s': unterminated [", url);
        p = he + 1;
    } else {
        hs = p;
        while (*p && *p != ':' && *p != '/' && *p != '?' && *p != '@')
            p++;
        he = p;
        if (*p == '@')
            return mf_error_set(err, MF_ERR_INVALID_ARG, "",
                                "server URL '%.200s': credentials in URLs are not supported (use the options)", url);
    }
    if (he == hs)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "server URL '%.200s' has no host", url);
    long port = out->tls ? 443 : 80;
    if (*p == ':') {
        p++;
        if (!isdigit((unsigned char)*p))
            return mf_error_set(err, MF_ERR_INVALID_ARG, "", "server URL '%.200s': bad port", url);
        char *end;
        port = strtol(p, &end, 10);
        if (port < 1 || port > 65535)
            return mf_error_set(err, MF_ERR_INVALID_ARG, "", "server URL '%.200s': port out of range", url);
        p = end;
    }
    if (*p && *p != '/')
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "server URL '%.200s': unexpected '%c'", url, *p);
    const char *path = *p ? p : "/";
    out->host = dup_n(hs, (size_t)(he - hs));
    out->path = strdup(path);
    out->port = (int)port;
    bool v6 = memchr(hs, ':', (size_t)(he - hs)) != NULL;
    size_t ulen = strlen(out->host ? out->host : "") + strlen(path) + 32;
    out->url = malloc(ulen);
    if (!out->host || !out->path || !out->url) {
        mf_server_free(out);
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    snprintf(out->url, ulen, "%s://%s%s%s:%d%s", out->tls ? "wss" : "ws", v6 ? "[" : "", out->host, v6 ? "]" : "",
             out->port, path);
    return MF_OK;
}
