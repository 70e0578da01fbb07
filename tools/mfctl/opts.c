/*
 * opts.c - the command line: options before or after the command, each
 * command's accepted options, usage errors.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mfctl.h"

typedef struct opt_spec {
    const char *lng;   /* "--server" */
    const char *shrt;  /* "-s" or NULL */
    unsigned id;       /* MFCTL_O_* */
    bool value;        /* takes a value */
} opt_spec;

static const opt_spec OPTS[] = {
    {"--server", "-s", MFCTL_O_SERVER, true},
    {"--connect-timeout", NULL, MFCTL_O_CONNECT_TIMEOUT, true},
    {"--help", "-h", MFCTL_O_HELP, false},
    {"--version", NULL, MFCTL_O_VERSION, false},
    {"--timeout", NULL, MFCTL_O_TIMEOUT, true},
    {"--count", NULL, MFCTL_O_COUNT, true},
    {"--queue", NULL, MFCTL_O_QUEUE, true},
    {"--message", NULL, MFCTL_O_MESSAGE, true},
    {"--param", "-p", MFCTL_O_PARAM, true},
    {"--raw", NULL, MFCTL_O_RAW, false},
    {"--json", NULL, MFCTL_O_JSON, false},
    {"--campaign", NULL, MFCTL_O_CAMPAIGN, true},
    {"--token", NULL, MFCTL_O_TOKEN, true},
    {"--user", NULL, MFCTL_O_USER, true},
    {"--password", NULL, MFCTL_O_PASSWORD, true},
    {"--inbox-prefix", NULL, MFCTL_O_INBOX_PREFIX, true},
};
#define N_OPTS (sizeof OPTS / sizeof *OPTS)

int mfctl_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mfctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'mfctl %s%s--help' for usage.\n", cmd ? cmd : "", cmd ? " " : "");
    return MFCTL_USAGE;
}

/* The option `a` names ("--x", "--x=v", "-s"); *inline_value gets the text after '=' (or NULL). */
static const opt_spec *find_opt(const char *a, const char **inline_value)
{
    *inline_value = NULL;
    const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    for (size_t i = 0; i < N_OPTS; i++) {
        const opt_spec *s = &OPTS[i];
        if ((strlen(s->lng) == n && !strncmp(a, s->lng, n)) || (!eq && s->shrt && !strcmp(a, s->shrt))) {
            *inline_value = eq ? eq + 1 : NULL;
            return s;
        }
    }
    return NULL;
}

static int set_count(mfctl_opts *o, const char *v)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!isdigit((unsigned char)*v) || *end || errno)
        return mfctl_usage_error(o->cmd, "--count %s: expected a whole number >= 0 (0: no limit)", v);
    o->count = n;
    return MFCTL_OK;
}

static int set_param(mfctl_opts *o, const char *v)
{
    const char *eq = strchr(v, '=');
    if (!eq || eq == v)
        return mfctl_usage_error(o->cmd, "--param %s: expected NAME=VALUE (e.g. --param user_id=<uuid>)", v);
    size_t n = (size_t)(eq - v);
    for (size_t i = 0; i < o->n_params; i++)
        if (o->params[i].name_len == n && !strncmp(o->params[i].name, v, n))
            return mfctl_usage_error(o->cmd, "--param %.*s given twice", (int)n, v);
    if (o->n_params == MFCTL_MAX_PARAMS)
        return mfctl_usage_error(o->cmd, "more than %d --param options", MFCTL_MAX_PARAMS);
    o->params[o->n_params++] = (mfctl_param){v, n, eq + 1};
    return MFCTL_OK;
}

/* Stores the value of option s. */
static int set_opt(mfctl_opts *o, const opt_spec *s, const char *v)
{
    char why[160];
    switch (s->id) {
    case MFCTL_O_SERVER:
        if (o->n_server_args == MFCTL_MAX_SERVER_ARGS)
            return mfctl_usage_error(o->cmd, "more than %d --server options", MFCTL_MAX_SERVER_ARGS);
        o->server_args[o->n_server_args++] = v;
        return MFCTL_OK;
    case MFCTL_O_CONNECT_TIMEOUT:
    case MFCTL_O_TIMEOUT:
        if (mfctl_parse_duration(v, s->id == MFCTL_O_TIMEOUT ? &o->timeout_ms : &o->connect_timeout_ms, why,
                                 sizeof why))
            return mfctl_usage_error(o->cmd, "%s %s: %s", s->lng, v, why);
        return MFCTL_OK;
    case MFCTL_O_COUNT:
        return set_count(o, v);
    case MFCTL_O_QUEUE:
        o->queue = v;
        return MFCTL_OK;
    case MFCTL_O_MESSAGE:
        o->message = v;
        return MFCTL_OK;
    case MFCTL_O_PARAM:
        return set_param(o, v);
    case MFCTL_O_CAMPAIGN:
        o->campaign = v;
        return MFCTL_OK;
    case MFCTL_O_TOKEN:
        o->token = v;
        return MFCTL_OK;
    case MFCTL_O_USER:
        o->user = v;
        return MFCTL_OK;
    case MFCTL_O_PASSWORD:
        o->password = v;
        return MFCTL_OK;
    case MFCTL_O_INBOX_PREFIX:
        o->inbox_prefix = v;
        return MFCTL_OK;
    case MFCTL_O_RAW:
        o->raw = true;
        return MFCTL_OK;
    case MFCTL_O_JSON:
        o->json = true;
        return MFCTL_OK;
    default:
        return MFCTL_OK; /* --help, --version: only `seen` */
    }
}

/* Options every command takes, also inside `validate`'s own arguments. */
static bool is_global(const opt_spec *s)
{
    return (s->id & MFCTL_O_CONNECTION) != 0;
}

static int add_positional(mfctl_opts *o, const char *a, bool passthrough, char **pass, int *n_pass)
{
    if (!o->cmd) {
        o->cmd = a;
        return MFCTL_OK;
    }
    if (passthrough) {
        pass[(*n_pass)++] = (char *)a;
        return MFCTL_OK;
    }
    if (o->n_args == MFCTL_MAX_ARGS)
        return mfctl_usage_error(o->cmd, "too many arguments (%s)", a);
    o->args[o->n_args++] = a;
    return MFCTL_OK;
}

int mfctl_parse(int argc, char **argv, mfctl_opts *o, char **pass, int *n_pass)
{
    memset(o, 0, sizeof *o);
    o->connect_timeout_ms = 5000;
    *n_pass = 0;
    bool only_args = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool passthrough = o->cmd && !strcmp(o->cmd, "validate");
        if (only_args || a[0] != '-' || !a[1]) {
            if (add_positional(o, a, passthrough, pass, n_pass))
                return MFCTL_USAGE;
            continue;
        }
        if (!strcmp(a, "--") && !passthrough) {
            only_args = true;
            continue;
        }
        const char *v;
        const opt_spec *s = find_opt(a, &v);
        if (passthrough && (!s || !is_global(s))) {
            pass[(*n_pass)++] = argv[i];
            continue;
        }
        if (!s)
            return mfctl_usage_error(o->cmd, "unknown option %s", a);
        if (!s->value && v)
            return mfctl_usage_error(o->cmd, "%s takes no value", s->lng);
        if (s->value && !v) {
            if (i + 1 >= argc)
                return mfctl_usage_error(o->cmd, "%s needs a value", s->lng);
            v = argv[++i];
        }
        o->seen |= s->id;
        if (set_opt(o, s, v))
            return MFCTL_USAGE;
    }
    return MFCTL_OK;
}

int mfctl_check_options(const mfctl_opts *o, unsigned accepted)
{
    unsigned bad = o->seen & ~(accepted | MFCTL_O_GLOBAL | MFCTL_O_VERSION);
    for (size_t i = 0; i < N_OPTS; i++)
        if (bad & OPTS[i].id)
            return mfctl_usage_error(o->cmd, "%s does not apply to mfctl %s", OPTS[i].lng, o->cmd);
    return MFCTL_OK;
}
