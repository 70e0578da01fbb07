/*
 * config.c - mf-broker's command line.
 */
#include "broker/broker.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: mf-broker [options]\n"
    "\n"
    "A NATS-protocol broker over WebSocket (binary frames), with /healthz and /varz\n"
    "on the same port.\n"
    "\n"
    "  --host ADDR              listen address (default 127.0.0.1)\n"
    "  --port N                 listen port (default 4280)\n"
    "  --server-name NAME       name reported in INFO and /varz (default mf-broker)\n"
    "  --max-payload BYTES      largest message payload, headers included (default 1M)\n"
    "  --max-control-line BYTES largest protocol control line (default 4096)\n"
    "  --max-connections N      websocket connections; beyond: -ERR and close (default 1024)\n"
    "  --max-subs N             subscriptions per connection, 0 = unlimited (default 10000)\n"
    "  --max-pending BYTES      outbound bytes queued per connection before it is cut off\n"
    "                           as a slow consumer (default 8M)\n"
    "  --ws-max-message BYTES   largest websocket message; beyond: close 1009\n"
    "                           (default 4M, at least 2 x max-payload + 64K)\n"
    "  --auth-token TOKEN       require CONNECT {\"auth_token\": TOKEN} (also the\n"
    "                           MF_BROKER_AUTH_TOKEN environment variable)\n"
    "  --allow-origin ORIGIN    accept websocket upgrades only from this Origin;\n"
    "                           repeatable (default: any origin)\n"
    "  --handshake-timeout S    seconds for the websocket upgrade and then for CONNECT\n"
    "                           (default 5)\n"
    "  --ping-interval S        seconds of client silence before the server PINGs it\n"
    "                           (default 120)\n"
    "  --max-pings-out N        unanswered PINGs before disconnecting (default 2)\n"
    "  --quiet                  log errors only\n"
    "  --verbose                log every protocol operation too\n"
    "  --version                print the version and exit\n"
    "  --help                   this text\n"
    "\n"
    "Sizes accept a K, M or G suffix (powers of 1024). On start it prints\n"
    "\"mf-broker listening on ws://HOST:PORT\" to stdout; SIGINT/SIGTERM close every\n"
    "connection with status 1000 and exit 0.\n";

/* "123", "64K", "8M", "1G" -> bytes. */
static bool parse_size(const char *s, size_t *out)
{
    if (!s || !*s || !isdigit((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return false;
    unsigned long long mul = 1;
    if (*end) {
        switch (toupper((unsigned char)*end)) {
        case 'K': mul = 1024ULL; break;
        case 'M': mul = 1024ULL * 1024; break;
        case 'G': mul = 1024ULL * 1024 * 1024; break;
        default: return false;
        }
        end++;
        if (*end == 'B' || *end == 'b')
            end++;
        if (*end)
            return false;
    }
    if (v > (unsigned long long)SIZE_MAX / mul)
        return false;
    *out = (size_t)(v * mul);
    return true;
}

static bool parse_int(const char *s, long lo, long hi, int *out)
{
    if (!s || !*s)
        return false;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

static void set_str(char *dst, size_t dstsz, const char *src)
{
    snprintf(dst, dstsz, "%s", src);
}

void mfb_broker_config_free(mfb_broker_config *cfg)
{
    free(cfg->auth_token);
    for (size_t i = 0; i < cfg->norigins; i++)
        free(cfg->origins[i]);
    free(cfg->origins);
    cfg->auth_token = NULL;
    cfg->origins = NULL;
    cfg->norigins = 0;
}

int mfb_broker_config_parse(mfb_broker_config *cfg, int argc, char **argv, FILE *out, FILE *err)
{
    memset(cfg, 0, sizeof *cfg);
    set_str(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 4280;
    set_str(cfg->server_name, sizeof cfg->server_name, "mf-broker");
    cfg->max_payload = MF_PROTO_DEFAULT_MAX_PAYLOAD;
    cfg->max_control = MF_PROTO_DEFAULT_MAX_CONTROL;
    cfg->max_connections = 1024;
    cfg->max_subs = 10000;
    cfg->max_pending = 8u * 1024 * 1024;
    cfg->handshake_timeout = 5;
    cfg->ping_interval = 120;
    cfg->max_pings_out = 2;
    cfg->log_level = MF_LOG_INFO;
    bool ws_max_set = false;
    const char *env = getenv("MF_BROKER_AUTH_TOKEN");
    if (env && *env)
        cfg->auth_token = strdup(env);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        char name[64];
        /* --name=value or --name value */
        const char *eq = strchr(a, '=');
        if (strncmp(a, "--", 2) == 0 && eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = '\0';
            val = eq + 1;
        } else {
            set_str(name, sizeof name, a);
        }
#define NEED_VAL()                                                       \
    do {                                                                 \
        if (!val) {                                                      \
            if (i + 1 >= argc) {                                         \
                fprintf(err, "mf-broker: %s needs a value\n", name);     \
                goto bad;                                                \
            }                                                            \
            val = argv[++i];                                             \
        }                                                                \
    } while (0)
#define BAD_VAL()                                                        \
    do {                                                                 \
        fprintf(err, "mf-broker: bad value for %s: '%s'\n", name, val);  \
        goto bad;                                                        \
    } while (0)
        if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
            fputs(USAGE, out);
            mfb_broker_config_free(cfg);
            return 1;
        } else if (!strcmp(name, "--version")) {
            fprintf(out, "mf-broker %s\n", MF_BROKER_VERSION);
            mfb_broker_config_free(cfg);
            return 1;
        } else if (!strcmp(name, "--quiet") || !strcmp(name, "-q")) {
            cfg->log_level = MF_LOG_QUIET;
        } else if (!strcmp(name, "--verbose") || !strcmp(name, "-v")) {
            cfg->log_level = MF_LOG_DEBUG;
        } else if (!strcmp(name, "--host")) {
            NEED_VAL();
            if (!*val || strlen(val) >= sizeof cfg->host || strspn(val, "0123456789abcdefABCDEF"
                                                                       "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ.:-_") !=
                                                                   strlen(val))
                BAD_VAL();
            set_str(cfg->host, sizeof cfg->host, val);
        } else if (!strcmp(name, "--port")) {
            NEED_VAL();
            if (!parse_int(val, 1, 65535, &cfg->port))
                BAD_VAL();
        } else if (!strcmp(name, "--server-name")) {
            NEED_VAL();
            if (!*val || strlen(val) >= sizeof cfg->server_name || strpbrk(val, "\"\\\r\n"))
                BAD_VAL();
            set_str(cfg->server_name, sizeof cfg->server_name, val);
        } else if (!strcmp(name, "--max-payload")) {
            NEED_VAL();
            if (!parse_size(val, &cfg->max_payload) || cfg->max_payload == 0 || cfg->max_payload > (1u << 30))
                BAD_VAL();
        } else if (!strcmp(name, "--max-control-line")) {
            NEED_VAL();
            if (!parse_size(val, &cfg->max_control) || cfg->max_control < 64 || cfg->max_control > (1u << 20))
                BAD_VAL();
        } else if (!strcmp(name, "--max-connections")) {
            NEED_VAL();
            if (!parse_size(val, &cfg->max_connections) || cfg->max_connections == 0)
                BAD_VAL();
        } else if (!strcmp(name, "--max-subs")) {
            NEED_VAL();
            if (!parse_size(val, &cfg->max_subs))
                BAD_VAL();
        } else if (!strcmp(name, "--max-pending")) {
            NEED_VAL();
            if (!parse_size(val, &cfg->max_pending) || cfg->max_pending < 1024)
                BAD_VAL();
        } else if (!strcmp(name, "--ws-max-message")) {
            NEED_VAL();
            if (!parse_size(val, &cfg->ws_max_message) || cfg->ws_max_message < 16)
                BAD_VAL();
            ws_max_set = true;
        } else if (!strcmp(name, "--auth-token")) {
            NEED_VAL();
            if (!*val || strlen(val) >= MF_PROTO_TOKEN_MAX)
                BAD_VAL();
            free(cfg->auth_token);
            cfg->auth_token = strdup(val);
        } else if (!strcmp(name, "--allow-origin")) {
            NEED_VAL();
            if (!*val)
                BAD_VAL();
            char **no = realloc(cfg->origins, (cfg->norigins + 1) * sizeof *no);
            if (!no)
                goto bad;
            cfg->origins = no;
            cfg->origins[cfg->norigins] = strdup(val);
            if (!cfg->origins[cfg->norigins])
                goto bad;
            cfg->norigins++;
        } else if (!strcmp(name, "--handshake-timeout")) {
            NEED_VAL();
            if (!parse_int(val, 1, 3600, &cfg->handshake_timeout))
                BAD_VAL();
        } else if (!strcmp(name, "--ping-interval")) {
            NEED_VAL();
            if (!parse_int(val, 1, 86400, &cfg->ping_interval))
                BAD_VAL();
        } else if (!strcmp(name, "--max-pings-out")) {
            NEED_VAL();
            if (!parse_int(val, 1, 100, &cfg->max_pings_out))
                BAD_VAL();
        } else {
            fprintf(err, "mf-broker: unknown option '%s' (try --help)\n", a);
            goto bad;
        }
#undef NEED_VAL
#undef BAD_VAL
    }
    if (cfg->max_payload > cfg->max_pending) {
        /* as nats-server: one message must fit in a connection's queue */
        fprintf(err, "mf-broker: --max-payload (%zu) cannot be larger than --max-pending (%zu)\n", cfg->max_payload,
                cfg->max_pending);
        goto bad;
    }
    if (!ws_max_set) {
        size_t want = cfg->max_payload * 2 + 64 * 1024;
        cfg->ws_max_message = want > 4u * 1024 * 1024 ? want : 4u * 1024 * 1024;
    }
    return 0;
bad:
    mfb_broker_config_free(cfg);
    return 2;
}
