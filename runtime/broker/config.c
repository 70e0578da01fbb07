/*
 * config.c - mf-broker's command line, environment and accounts file.
 *
 * Options are a table: each names its value's kind and limits, so every
 * option is parsed and checked the same way (--name VALUE or --name=VALUE).
 * Values from the environment (MF_BROKER_AUTH_TOKEN, MF_BROKER_TLS_CERT,
 * MF_BROKER_TLS_KEY) go through the same checks as their flags; a flag wins.
 */
#include "broker/broker.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: mf-broker [options]\n"
    "       printf '%s' PASSWORD | mf-broker --hash-password\n"
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
    "  --max-connecting N       sockets that have not completed CONNECT; beyond, the\n"
    "                           oldest of them is dropped (default max-connections/4)\n"
    "  --max-subs N             subscriptions per connection, 0 = unlimited (default 10000)\n"
    "  --max-pending BYTES      outbound bytes queued per connection before it is cut off\n"
    "                           as a slow consumer (default 8M)\n"
    "  --ws-max-message BYTES   largest websocket message; beyond: close 1009\n"
    "                           (default 4M, at least 2 x max-payload + 64K)\n"
    "  --auth-token TOKEN       require CONNECT {\"auth_token\": TOKEN} (also the\n"
    "                           MF_BROKER_AUTH_TOKEN environment variable)\n"
    "  --config FILE            accounts: users with hashed passwords or tokens and\n"
    "                           publish/subscribe permissions (docs/broker.md)\n"
    "  --tls-cert FILE          serve wss:// with this PEM certificate chain ...\n"
    "  --tls-key FILE           ... and this PEM private key (also MF_BROKER_TLS_CERT,\n"
    "                           MF_BROKER_TLS_KEY)\n"
    "  --allow-origin ORIGIN    accept websocket upgrades only from this Origin;\n"
    "                           repeatable (default: any origin)\n"
    "  --handshake-timeout S    seconds for TLS and the websocket upgrade (default 5)\n"
    "  --auth-timeout S         seconds from the upgrade to a successful CONNECT\n"
    "                           (default 2)\n"
    "  --ping-interval S        seconds of client silence before the server PINGs it\n"
    "                           (default 120)\n"
    "  --max-pings-out N        unanswered PINGs before disconnecting (default 2)\n"
    "  --hash-password          read a password (or token) on stdin, print its bcrypt\n"
    "                           hash for the accounts file, and exit\n"
    "  --quiet                  log errors only\n"
    "  --verbose                log every protocol operation too\n"
    "  --version                print the version and exit\n"
    "  --help                   this text\n"
    "\n"
    "Sizes accept a K, M or G suffix (powers of 1024). On start it prints\n"
    "\"mf-broker listening on ws://HOST:PORT\" (wss:// with TLS) to stdout;\n"
    "SIGINT/SIGTERM close every connection with status 1000 and exit 0.\n";

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

bool mfb_auth_required(const mfb_broker_config *cfg)
{
    return cfg->auth_token != NULL || cfg->accounts != NULL;
}

void mfb_broker_config_free(mfb_broker_config *cfg)
{
    free(cfg->auth_token);
    free(cfg->config_file);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    mfb_accounts_free(cfg->accounts);
    for (size_t i = 0; i < cfg->norigins; i++)
        free(cfg->origins[i]);
    free(cfg->origins);
    cfg->auth_token = cfg->config_file = cfg->tls_cert = cfg->tls_key = NULL;
    cfg->accounts = NULL;
    cfg->origins = NULL;
    cfg->norigins = 0;
}

/* ---------------------------------------------------------------- the option table */

typedef enum opt_kind { O_FLAG, O_SIZE, O_INT, O_STR, O_FILE, O_HOST, O_ORIGIN } opt_kind;

typedef struct opt {
    const char *name;
    opt_kind kind;
    size_t off;        /* offsetof the value in mfb_broker_config (O_FLAG: unused) */
    long long lo, hi;  /* O_SIZE / O_INT bounds; O_STR: lo = 1 when it may not be empty, hi = max length */
} opt;

#define OFF(m) offsetof(mfb_broker_config, m)
static const opt OPTS[] = {
    {"--host", O_HOST, OFF(host), 0, 0},
    {"--port", O_INT, OFF(port), 1, 65535},
    {"--server-name", O_STR, OFF(server_name), 1, 127},
    {"--max-payload", O_SIZE, OFF(max_payload), 1, 1LL << 30},
    {"--max-control-line", O_SIZE, OFF(max_control), 64, 1LL << 20},
    {"--max-connections", O_SIZE, OFF(max_connections), 1, 1000000},
    {"--max-connecting", O_SIZE, OFF(max_connecting), 1, 1000000},
    {"--max-subs", O_SIZE, OFF(max_subs), 0, 100000000},
    {"--max-pending", O_SIZE, OFF(max_pending), 1024, 1LL << 40},
    {"--ws-max-message", O_SIZE, OFF(ws_max_message), 16, 1LL << 40},
    {"--auth-token", O_STR, OFF(auth_token), 1, MF_PROTO_TOKEN_MAX - 1},
    {"--config", O_FILE, OFF(config_file), 0, 0},
    {"--tls-cert", O_FILE, OFF(tls_cert), 0, 0},
    {"--tls-key", O_FILE, OFF(tls_key), 0, 0},
    {"--allow-origin", O_ORIGIN, 0, 0, 0},
    {"--handshake-timeout", O_INT, OFF(handshake_timeout), 1, 3600},
    {"--auth-timeout", O_INT, OFF(auth_timeout), 1, 3600},
    {"--ping-interval", O_INT, OFF(ping_interval), 1, 86400},
    {"--max-pings-out", O_INT, OFF(max_pings_out), 1, 100},
};

static const opt *find_opt(const char *name)
{
    for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++)
        if (!strcmp(OPTS[i].name, name))
            return &OPTS[i];
    return NULL;
}

/* Sets an owned string member (char *) or a fixed array member; false on a bad value. */
static bool set_string(mfb_broker_config *cfg, const opt *o, const char *val)
{
    size_t n = strlen(val);
    if ((o->lo && !n) || n > (size_t)o->hi)
        return false;
    if (o->off == OFF(server_name)) {
        if (strpbrk(val, "\"\\\r\n"))
            return false;
        snprintf(cfg->server_name, sizeof cfg->server_name, "%s", val);
        return true;
    }
    char **slot = (char **)((char *)cfg + o->off);
    char *d = strdup(val);
    if (!d)
        return false;
    free(*slot);
    *slot = d;
    return true;
}

static bool add_origin(mfb_broker_config *cfg, const char *val)
{
    if (!*val)
        return false;
    char **no = realloc(cfg->origins, (cfg->norigins + 1) * sizeof *no);
    if (!no)
        return false;
    cfg->origins = no;
    if (!(cfg->origins[cfg->norigins] = strdup(val)))
        return false;
    cfg->norigins++;
    return true;
}

/* Applies one option's value; false when the value is not acceptable. */
static bool apply(mfb_broker_config *cfg, const opt *o, const char *val)
{
    void *p = (char *)cfg + o->off;
    size_t sz;
    int iv;
    switch (o->kind) {
    case O_SIZE:
        if (!parse_size(val, &sz) || sz < (size_t)o->lo || sz > (size_t)o->hi)
            return false;
        *(size_t *)p = sz;
        return true;
    case O_INT:
        if (!parse_int(val, (long)o->lo, (long)o->hi, &iv))
            return false;
        *(int *)p = iv;
        return true;
    case O_HOST:
        if (!*val || strlen(val) >= sizeof cfg->host ||
            strspn(val, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.:-_") != strlen(val))
            return false;
        snprintf(cfg->host, sizeof cfg->host, "%s", val);
        return true;
    case O_FILE:
        return *val && set_string(cfg, &(opt){o->name, O_STR, o->off, 1, PATH_MAX}, val);
    case O_STR:
        return set_string(cfg, o, val);
    case O_ORIGIN:
        return add_origin(cfg, val);
    default:
        return false;
    }
}

/* ---------------------------------------------------------------- environment, defaults, checks */

static void defaults(mfb_broker_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 4280;
    snprintf(cfg->server_name, sizeof cfg->server_name, "mf-broker");
    cfg->max_payload = MF_PROTO_DEFAULT_MAX_PAYLOAD;
    cfg->max_control = MF_PROTO_DEFAULT_MAX_CONTROL;
    cfg->max_connections = 1024;
    cfg->max_subs = 10000;
    cfg->max_pending = 8u * 1024 * 1024;
    cfg->handshake_timeout = 5;
    cfg->auth_timeout = 2;
    cfg->ping_interval = 120;
    cfg->max_pings_out = 2;
    cfg->log_level = MFB_LOG_INFO;
}

/* An environment variable as if its flag had been given (flags given later win). */
static bool from_env(mfb_broker_config *cfg, const char *var, const char *flag, FILE *err)
{
    const char *v = getenv(var);
    if (!v || !*v)
        return true;
    if (apply(cfg, find_opt(flag), v))
        return true;
    fprintf(err, "mf-broker: bad value in %s (%zu bytes; the same rules as %s apply)\n", var, strlen(v), flag);
    return false;
}

static bool readable(const char *path, const char *what, FILE *err)
{
    if (access(path, R_OK) == 0)
        return true;
    fprintf(err, "mf-broker: %s %s: %s\n", what, path, strerror(errno));
    return false;
}

/* Cross-option rules and derived defaults, after every option is in. */
static bool finish(mfb_broker_config *cfg, bool ws_max_set, bool connecting_set, FILE *err)
{
    if (cfg->max_payload > cfg->max_pending) {
        /* as nats-server: one message must fit in a connection's queue */
        fprintf(err, "mf-broker: --max-payload (%zu) cannot be larger than --max-pending (%zu)\n", cfg->max_payload,
                cfg->max_pending);
        return false;
    }
    if (!ws_max_set) {
        size_t want = cfg->max_payload * 2 + 64 * 1024;
        cfg->ws_max_message = want > 4u * 1024 * 1024 ? want : 4u * 1024 * 1024;
    }
    if (!connecting_set)
        cfg->max_connecting = cfg->max_connections / 4 ? cfg->max_connections / 4 : 1;
    if (!cfg->tls_cert != !cfg->tls_key) {
        fprintf(err, "mf-broker: --tls-cert and --tls-key go together\n");
        return false;
    }
    if (cfg->tls_cert && (!readable(cfg->tls_cert, "--tls-cert", err) || !readable(cfg->tls_key, "--tls-key", err)))
        return false;
    if (cfg->config_file) {
        if (cfg->auth_token) {
            fprintf(err, "mf-broker: use either --auth-token (MF_BROKER_AUTH_TOKEN) or the accounts of --config\n");
            return false;
        }
        char msg[512];
        cfg->accounts = mfb_accounts_load(cfg->config_file, msg, sizeof msg);
        if (!cfg->accounts) {
            fprintf(err, "mf-broker: --config %s\n", msg);
            return false;
        }
    }
    return true;
}

/* --hash-password: one line from stdin -> its bcrypt hash on out. */
static int hash_password(FILE *out, FILE *err)
{
    char line[MF_PROTO_TOKEN_MAX + 2];
    if (!fgets(line, sizeof line, stdin)) {
        fprintf(err, "mf-broker: --hash-password reads the password on stdin\n");
        return 2;
    }
    line[strcspn(line, "\r\n")] = '\0';
    if (strlen(line) >= MF_PROTO_TOKEN_MAX) {
        fprintf(err, "mf-broker: a password or token has at most %d bytes\n", MF_PROTO_TOKEN_MAX - 1);
        return 2;
    }
    char msg[128];
    char *h = mfb_hash_password(line, msg, sizeof msg);
    explicit_bzero(line, sizeof line);
    if (!h) {
        fprintf(err, "mf-broker: --hash-password: %s\n", msg);
        return 2;
    }
    fprintf(out, "%s\n", h);
    free(h);
    return 1;
}

int mfb_broker_config_parse(mfb_broker_config *cfg, int argc, char **argv, FILE *out, FILE *err)
{
    defaults(cfg);
    bool ws_max_set = false, connecting_set = false;
    if (!from_env(cfg, "MF_BROKER_AUTH_TOKEN", "--auth-token", err) ||
        !from_env(cfg, "MF_BROKER_TLS_CERT", "--tls-cert", err) ||
        !from_env(cfg, "MF_BROKER_TLS_KEY", "--tls-key", err))
        goto bad;
    for (int i = 1; i < argc; i++) {
        char name[64];
        const char *a = argv[i], *val = NULL, *eq = strchr(a, '=');
        if (!strncmp(a, "--", 2) && eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a)); /* --name=value */
            name[eq - a] = '\0';
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
        }
        if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
            fputs(USAGE, out);
            mfb_broker_config_free(cfg);
            return 1;
        } else if (!strcmp(name, "--version")) {
            fprintf(out, "mf-broker %s\n", MF_BROKER_VERSION);
            mfb_broker_config_free(cfg);
            return 1;
        } else if (!strcmp(name, "--hash-password")) {
            mfb_broker_config_free(cfg);
            return hash_password(out, err);
        } else if (!strcmp(name, "--quiet") || !strcmp(name, "-q")) {
            cfg->log_level = MFB_LOG_QUIET;
            continue;
        } else if (!strcmp(name, "--verbose") || !strcmp(name, "-v")) {
            cfg->log_level = MFB_LOG_DEBUG;
            continue;
        }
        const opt *o = find_opt(name);
        if (!o) {
            fprintf(err, "mf-broker: unknown option '%s' (try --help)\n", a);
            goto bad;
        }
        if (!val && i + 1 >= argc) {
            fprintf(err, "mf-broker: %s needs a value\n", name);
            goto bad;
        }
        if (!val)
            val = argv[++i];
        if (!apply(cfg, o, val)) {
            fprintf(err, "mf-broker: bad value for %s: '%s'\n", name, o->off == OFF(auth_token) ? "..." : val);
            goto bad;
        }
        ws_max_set |= o->off == OFF(ws_max_message);
        connecting_set |= o->off == OFF(max_connecting);
    }
    if (!finish(cfg, ws_max_set, connecting_set, err))
        goto bad;
    return 0;
bad:
    mfb_broker_config_free(cfg);
    return 2;
}
