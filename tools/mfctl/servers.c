/*
 * servers.c - the server list: -s/--server, else $MF_SERVER, else $NATS_URL,
 * else ws://127.0.0.1:4280; comma-separated lists; ws:// added to a URL
 * without a scheme; nats:// refused with a hint.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mfctl.h"

#define DEFAULT_SERVER "ws://127.0.0.1:4280"

void mfctl_servers_free(char **urls, size_t n)
{
    for (size_t i = 0; urls && i < n; i++)
        free(urls[i]);
    free(urls);
}

/* Appends the URLs of one comma-separated list. MFCTL_OK or MFCTL_USAGE (printed). */
static int add_list(const char *list, const char *source, char ***urls, size_t *n, size_t *cap)
{
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *s = p, *e = p + len;
        p = *e ? e + 1 : e;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if (s == e)
            continue;
        const char *scheme_end = strstr(s, "://");
        bool has_scheme = scheme_end && scheme_end < e;
        if (has_scheme && strncasecmp(s, "ws://", 5) && strncasecmp(s, "wss://", 6)) {
            fprintf(stderr,
                    "mfctl: %s names %.*s, which mfctl cannot use: it speaks NATS over WebSocket and needs\n"
                    "  ws://HOST:PORT or wss://HOST:PORT (for nats-server, the port of its websocket {} block).\n"
                    "  Give one with -s URL or $MF_SERVER (they take precedence over $NATS_URL).\n",
                    source, (int)(e - s), s);
            return MFCTL_USAGE;
        }
        if (*n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 4;
            char **g = realloc(*urls, ncap * sizeof *g);
            if (!g)
                return MFCTL_FAIL;
            *urls = g;
            *cap = ncap;
        }
        size_t ulen = (size_t)(e - s) + 6;
        char *u = malloc(ulen);
        if (!u)
            return MFCTL_FAIL;
        snprintf(u, ulen, "%s%.*s", has_scheme ? "" : "ws://", (int)(e - s), s);
        (*urls)[(*n)++] = u;
    }
    return MFCTL_OK;
}

int mfctl_servers(const mfctl_opts *o, char ***urls, size_t *n, const char **source)
{
    const char *env_mf = getenv("MF_SERVER"), *env_nats = getenv("NATS_URL");
    const char *lists[MFCTL_MAX_SERVER_ARGS];
    size_t n_lists = 0;
    if (o->n_server_args) {
        *source = "--server";
        for (size_t i = 0; i < o->n_server_args; i++)
            lists[n_lists++] = o->server_args[i];
    } else if (env_mf && *env_mf) {
        *source = "$MF_SERVER";
        lists[n_lists++] = env_mf;
    } else if (env_nats && *env_nats) {
        *source = "$NATS_URL";
        lists[n_lists++] = env_nats;
    } else {
        *source = "the default";
        lists[n_lists++] = DEFAULT_SERVER;
    }
    size_t cap = 0;
    *urls = NULL;
    *n = 0;
    for (size_t i = 0; i < n_lists; i++) {
        int rc = add_list(lists[i], *source, urls, n, &cap);
        if (rc) {
            mfctl_servers_free(*urls, *n);
            *urls = NULL;
            *n = 0;
            return rc;
        }
    }
    if (*n == 0) {
        fprintf(stderr, "mfctl: %s holds no server URL\n", *source);
        free(*urls);
        *urls = NULL;
        return MFCTL_USAGE;
    }
    return MFCTL_OK;
}
