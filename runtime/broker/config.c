/*
 * config.c - mf-broker's command line, environment and accounts file.
 *
 * Options are one table (mfb_options): name, value kind and limits, default,
 * environment variable, help text. The parser, --help and the defaults all
 * come from it, so a default is written once. Every option is parsed and
 * checked the same way (--name VALUE or --name=VALUE); environment values
 * (MF_BROKER_AUTH_TOKEN, MF_BROKER_TLS_CERT, MF_BROKER_TLS_KEY) go through the
 * same checks as their flags; a flag wins.
 */
#include "broker/broker.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#define OFF(m) offsetof(mfb_broker_config, m)
#define NO_LIMITS 0, 0

/*
 * Every option, once: the parser, --help, the defaults and the environment
 * all come from here (as Redis's config.c). A default is written as a user
 * would write it on the command line and applied through the same checks
 * before the environment and the flags; an option whose default depends on
 * another one has no `def` and says so in `def_text` (finish() derives it).
 */
const mfb_option mfb_options[] = {
    {"--host", NULL, "ADDR", MFB_OPT_HOST, OFF(host), NO_LIMITS, "127.0.0.1", NULL, NULL, false,
     "listen address (an IP, an interface or a host name)"},
    {"--port", NULL, "N", MFB_OPT_INT, OFF(port), 1, 65535, "4280", NULL, NULL, false, "listen port"},
    {"--server-name", NULL, "NAME", MFB_OPT_STR, OFF(server_name), 1, 127, "mf-broker", NULL, NULL, false,
     "name reported in INFO and /varz"},
    {"--max-payload", NULL, "BYTES", MFB_OPT_SIZE, OFF(max_payload), 1, 1LL << 30, "1M", NULL, NULL, false,
     "largest message payload, headers included"},
    {"--max-control-line", NULL, "BYTES", MFB_OPT_SIZE, OFF(max_control), 64, 1LL << 20, "4096", NULL, NULL, false,
     "largest protocol control line"},
    {"--max-connections", NULL, "N", MFB_OPT_SIZE, OFF(max_connections), 1, 1000000, "1024", NULL, NULL, false,
     "websocket connections; beyond: -ERR and close"},
    {"--max-connecting", NULL, "N", MFB_OPT_SIZE, OFF(max_connecting), 1, 1000000, NULL, "max-connections/4", NULL,
     false, "sockets that have not completed CONNECT; beyond, the oldest of them is dropped"},
    {"--max-subs", NULL, "N", MFB_OPT_SIZE, OFF(max_subs), 0, 100000000, "10000", NULL, NULL, false,
     "subscriptions per connection, 0 = unlimited"},
    {"--max-pending", NULL, "BYTES", MFB_OPT_SIZE, OFF(max_pending), 1024, 1LL << 40, "8M", NULL, NULL, false,
     "outbound bytes queued per connection before it is cut off as a slow consumer"},
    {"--ws-max-message", NULL, "BYTES", MFB_OPT_SIZE, OFF(ws_max_message), 16, 1LL << 40, NULL,
     "4M, at least 2 x max-payload + 64K", NULL, false, "largest websocket message; beyond: close 1009"},
    {"--auth-token", NULL, "TOKEN", MFB_OPT_STR, OFF(auth_token), 1, MF_PROTO_TOKEN_MAX - 1, NULL, NULL,
     "MF_BROKER_AUTH_TOKEN", true, "require CONNECT {\"auth_token\": TOKEN}"},
    {"--config", NULL, "FILE", MFB_OPT_FILE, OFF(config_file), NO_LIMITS, NULL, NULL, NULL, false,
     "accounts: users with hashed passwords or tokens and publish/subscribe permissions (docs/broker.md)"},
    {"--tls-cert", NULL, "FILE", MFB_OPT_FILE, OFF(tls_cert), NO_LIMITS, NULL, NULL, "MF_BROKER_TLS_CERT", false,
     "serve wss:// with this PEM certificate chain (with --tls-key)"},
    {"--tls-key", NULL, "FILE", MFB_OPT_FILE, OFF(tls_key), NO_LIMITS, NULL, NULL, "MF_BROKER_TLS_KEY", false,
     "... and this PEM private key"},
    {"--allow-origin", NULL, "ORIGIN", MFB_OPT_ORIGIN, 0, NO_LIMITS, NULL, "any origin", NULL, false,
     "accept websocket upgrades only from this Origin; repeatable"},
    {"--handshake-timeout", NULL, "S", MFB_OPT_INT, OFF(handshake_timeout), 1, 3600, "5", NULL, NULL, false,
     "seconds for TLS and the websocket upgrade"},
    {"--auth-timeout", NULL, "S", MFB_OPT_INT, OFF(auth_timeout), 1, 3600, "2", NULL, NULL, false,
     "seconds from the upgrade to a successful CONNECT"},
    {"--ping-interval", NULL, "S", MFB_OPT_INT, OFF(ping_interval), 1, 86400, "120", NULL, NULL, false,
     "seconds of client silence before the server PINGs it"},
    {"--max-pings-out", NULL, "N", MFB_OPT_INT, OFF(max_pings_out), 1, 100, "2", NULL, NULL, false,
     "unanswered PINGs before disconnecting"},
    {"--hash-password", NULL, NULL, MFB_OPT_ACTION, 0, NO_LIMITS, NULL, NULL, NULL, false,
     "read a password (or token) on stdin, print its bcrypt hash for the accounts file, and exit"},
    {"--quiet", "-q", NULL, MFB_OPT_LOG, OFF(log_level), MFB_LOG_QUIET, 0, NULL, NULL, NULL, false,
     "log errors only"},
    {"--verbose", "-v", NULL, MFB_OPT_LOG, OFF(log_level), MFB_LOG_DEBUG, 0, NULL, NULL, NULL, false,
     "log every protocol operation too"},
    {"--version", NULL, NULL, MFB_OPT_ACTION, 0, NO_LIMITS, NULL, NULL, NULL, false, "print the version and exit"},
    {"--help", "-h", NULL, MFB_OPT_ACTION, 0, NO_LIMITS, NULL, NULL, NULL, false, "this text"},
};
const size_t mfb_noptions = sizeof mfb_options / sizeof mfb_options[0];

static const mfb_option *find_opt(const char *name)
{
    for (size_t i = 0; i < mfb_noptions; i++)
        if (!strcmp(mfb_options[i].name, name) || (mfb_options[i].alias && !strcmp(mfb_options[i].alias, name)))
            return &mfb_options[i];
    return NULL;
}

/* Sets an owned string member (char *) or the fixed server_name array; false on a bad value. */
static bool set_string(mfb_broker_config *cfg, const mfb_option *o, size_t lo, size_t hi, const char *val)
{
    size_t n = strlen(val);
    if (n < lo || n > hi)
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
static bool apply(mfb_broker_config *cfg, const mfb_option *o, const char *val)
{
    void *p = (char *)cfg + o->off;
    size_t sz;
    int iv;
    switch (o->kind) {
    case MFB_OPT_SIZE:
        if (!parse_size(val, &sz) || sz < (size_t)o->lo || sz > (size_t)o->hi)
            return false;
        *(size_t *)p = sz;
        return true;
    case MFB_OPT_INT:
        if (!parse_int(val, (long)o->lo, (long)o->hi, &iv))
            return false;
        *(int *)p = iv;
        return true;
    case MFB_OPT_HOST:
        if (!*val || strlen(val) >= sizeof cfg->host ||
            strspn(val, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.:-_") != strlen(val))
            return false;
        snprintf(cfg->host, sizeof cfg->host, "%s", val);
        return true;
    case MFB_OPT_FILE:
        return set_string(cfg, o, 1, PATH_MAX, val);
    case MFB_OPT_STR:
        return set_string(cfg, o, (size_t)o->lo, (size_t)o->hi, val);
    case MFB_OPT_ORIGIN:
        return add_origin(cfg, val);
    case MFB_OPT_LOG:
    case MFB_OPT_ACTION:
        return false; /* they take no value */
    }
    return false;
}

/* What a value of this option must look like, for the error message. */
static void describe(const mfb_option *o, char *out, size_t n)
{
    switch (o->kind) {
    case MFB_OPT_SIZE:
        snprintf(out, n, "a number from %lld to %lld (K, M, G: powers of 1024)", o->lo, o->hi);
        break;
    case MFB_OPT_INT:
        snprintf(out, n, "an integer from %lld to %lld", o->lo, o->hi);
        break;
    case MFB_OPT_STR:
        snprintf(out, n, "%lld to %lld bytes%s", o->lo, o->hi, o->off == OFF(server_name) ? ", no quote, backslash or line break" : "");
        break;
    case MFB_OPT_HOST:
        snprintf(out, n, "an address or host name (letters, digits, '.', ':', '-', '_')");
        break;
    default:
        snprintf(out, n, "not empty");
        break;
    }
}

/* ---------------------------------------------------------------- --help */

/* Appends words to a help line wrapped at 79 columns, continuation lines indented to col;
 * `whole`: the text is one unit that goes on one line when it fits on one. */
static void wrap(FILE *out, const char *text, size_t col, size_t *at, bool whole)
{
    const char *w = text;
    while (*w) {
        size_t len = whole && strlen(w) <= 79 - col ? strlen(w) : strcspn(w, " ");
        if (*at > col && *at + 1 + len > 79) {
            fprintf(out, "\n%*s", (int)col, "");
            *at = col;
        } else if (*at > col) {
            fputc(' ', out);
            (*at)++;
        }
        fprintf(out, "%.*s", (int)len, w);
        *at += len;
        w += len;
        while (*w == ' ')
            w++;
    }
}

void mfb_broker_config_usage(FILE *out)
{
    enum { COL = 27 };
    fputs("usage: mf-broker [options]\n"
          "       printf '%s' PASSWORD | mf-broker --hash-password\n"
          "\n"
          "A NATS-protocol broker over WebSocket (binary frames), with /healthz and /varz\n"
          "on the same port.\n"
          "\n",
          out);
    for (size_t i = 0; i < mfb_noptions; i++) {
        const mfb_option *o = &mfb_options[i];
        char head[64], extra[128];
        int n = snprintf(head, sizeof head, "  %s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "", o->name,
                         o->arg ? " " : "", o->arg ? o->arg : "");
        fputs(head, out);
        size_t at = (size_t)n;
        if (at + 1 > COL) {
            fprintf(out, "\n%*s", COL, "");
        } else {
            fprintf(out, "%*s", (int)(COL - at), "");
        }
        at = COL;
        wrap(out, o->help, COL, &at, false);
        if (o->def || o->def_text) {
            snprintf(extra, sizeof extra, "(default %s)", o->def ? o->def : o->def_text);
            wrap(out, extra, COL, &at, true);
        }
        if (o->env) {
            snprintf(extra, sizeof extra, "(also the %s environment variable)", o->env);
            wrap(out, extra, COL, &at, true);
        }
        fputc('\n', out);
    }
    fputs("\n"
          "Sizes accept a K, M or G suffix (powers of 1024). A flag wins over its\n"
          "environment variable. On start it prints \"mf-broker listening on ws://HOST:PORT\"\n"
          "(wss:// with TLS) to stdout; SIGINT/SIGTERM close every connection with status\n"
          "1000 and exit 0. Bad options exit 2.\n",
          out);
}

/* ---------------------------------------------------------------- defaults, environment, checks */

/* The table's defaults; false (a bug in the table, the unit test catches it) when one is refused. */
static bool defaults(mfb_broker_config *cfg, FILE *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->log_level = MFB_LOG_INFO;
    for (size_t i = 0; i < mfb_noptions; i++) {
        const mfb_option *o = &mfb_options[i];
        if (o->def && !apply(cfg, o, o->def)) {
            fprintf(err, "mf-broker: the default of %s ('%s') is refused by its own checks\n", o->name, o->def);
            return false;
        }
    }
    return true;
}

/* Environment variables as if their flags had been given (flags given later win). */
static bool from_env(mfb_broker_config *cfg, FILE *err)
{
    for (size_t i = 0; i < mfb_noptions; i++) {
        const mfb_option *o = &mfb_options[i];
        const char *v = o->env ? getenv(o->env) : NULL;
        if (!v || !*v || apply(cfg, o, v))
            continue;
        char what[128];
        describe(o, what, sizeof what);
        fprintf(err, "mf-broker: bad value in %s (%zu bytes; the same rules as %s apply: %s)\n", o->env, strlen(v),
                o->name, what);
        return false;
    }
    return true;
}

static bool readable(const char *path, const char *what, FILE *err)
{
    if (access(path, R_OK) == 0)
        return true;
    fprintf(err, "mf-broker: %s %s: %s\n", what, path, strerror(errno));
    return false;
}

/* Cross-option rules and derived defaults (the options without `def`), after every option is in. */
static bool finish(mfb_broker_config *cfg, FILE *err)
{
    if (cfg->max_payload > cfg->max_pending) {
        /* as nats-server: one message must fit in a connection's queue */
        fprintf(err, "mf-broker: --max-payload (%zu) cannot be larger than --max-pending (%zu)\n", cfg->max_payload,
                cfg->max_pending);
        return false;
    }
    if (!cfg->ws_max_message) { /* not given (the flag's minimum is 16) */
        size_t want = cfg->max_payload * 2 + 64 * 1024;
        cfg->ws_max_message = want > 4u * 1024 * 1024 ? want : 4u * 1024 * 1024;
    }
    if (!cfg->max_connecting) /* not given (the flag's minimum is 1) */
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

/* --hash-password: one line from stdin -> its bcrypt hash on out. 1 (done) or 2. */
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

/* --help, --version, --hash-password: 1 (exit 0) or 2. */
static int action(const mfb_option *o, FILE *out, FILE *err)
{
    if (!strcmp(o->name, "--help")) {
        mfb_broker_config_usage(out);
        return 1;
    }
    if (!strcmp(o->name, "--version")) {
        fprintf(out, "mf-broker %s\n", MF_BROKER_VERSION);
        return 1;
    }
    return hash_password(out, err);
}

/* argv[*i] (and maybe the next argument) -> 0: applied, 1/2: stop with this result. */
static int one_arg(mfb_broker_config *cfg, int argc, char **argv, int *i, FILE *out, FILE *err)
{
    char name[64];
    const char *a = argv[*i], *val = NULL, *eq = strchr(a, '=');
    if (!strncmp(a, "--", 2) && eq && (size_t)(eq - a) < sizeof name) {
        memcpy(name, a, (size_t)(eq - a)); /* --name=value */
        name[eq - a] = '\0';
        val = eq + 1;
    } else {
        snprintf(name, sizeof name, "%s", a);
    }
    const mfb_option *o = find_opt(name);
    if (!o) {
        fprintf(err, "mf-broker: unknown option '%s' (try --help)\n", a);
        return 2;
    }
    if (o->kind == MFB_OPT_ACTION || o->kind == MFB_OPT_LOG) {
        if (val) {
            fprintf(err, "mf-broker: %s takes no value\n", o->name);
            return 2;
        }
        if (o->kind == MFB_OPT_ACTION)
            return action(o, out, err);
        cfg->log_level = (int)o->lo;
        return 0;
    }
    if (!val && *i + 1 >= argc) {
        fprintf(err, "mf-broker: %s needs a value (%s)\n", o->name, o->arg);
        return 2;
    }
    if (!val)
        val = argv[++*i];
    if (!apply(cfg, o, val)) {
        char what[128];
        describe(o, what, sizeof what);
        fprintf(err, "mf-broker: bad value for %s: '%s' (expected %s)\n", o->name, o->secret ? "..." : val, what);
        return 2;
    }
    return 0;
}

int mfb_broker_config_parse(mfb_broker_config *cfg, int argc, char **argv, FILE *out, FILE *err)
{
    int rc = 2;
    if (!defaults(cfg, err) || !from_env(cfg, err))
        goto done;
    for (int i = 1; i < argc; i++)
        if ((rc = one_arg(cfg, argc, argv, &i, out, err)) != 0)
            goto done;
    rc = finish(cfg, err) ? 0 : 2;
done:
    if (rc)
        mfb_broker_config_free(cfg);
    return rc;
}
