/*
 * svc_opts.c - option tables: defaults, environment, command line, --help (svc_opts.h).
 */
#include "svc_opts.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "svc_log.h"

#define FIELD(g, o, T) ((T *)((char *)(g)->base + (o)->offset))

void svc_strv_free(svc_strv *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static bool strv_push(svc_strv *l, const char *s, size_t len)
{
    char **nv = realloc(l->v, (l->n + 1) * sizeof *nv);
    if (!nv)
        return false;
    l->v = nv;
    char *copy = malloc(len + 1);
    if (!copy)
        return false;
    memcpy(copy, s, len);
    copy[len] = '\0';
    l->v[l->n++] = copy;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = true, true;
        if (strcasecmp(s, no[i]) == 0)
            return *out = false, true;
    }
    return false;
}

/* Sets one option from text. `append` adds to a LIST instead of replacing it.
 * Returns false with the reason in why. */
static bool set_value(const svc_opt_group *g, const svc_opt *o, const char *v, bool append, char *why,
                      size_t cap)
{
    switch (o->type) {
    case SVC_OPT_STR: {
        if (o->check && !o->check(v, why, cap))
            return false;
        char *copy = strdup(v);
        if (!copy)
            return snprintf(why, cap, "out of memory"), false;
        char **slot = FIELD(g, o, char *);
        free(*slot);
        *slot = copy;
        return true;
    }
    case SVC_OPT_LIST: {
        svc_strv *l = FIELD(g, o, svc_strv);
        if (!append)
            svc_strv_free(l);
        /* comma-separated items, as in $NATS_URL */
        const char *p = v;
        do {
            size_t len = strcspn(p, ",");
            char item[1024];
            if (len == 0 || len >= sizeof item)
                return snprintf(why, cap, len ? "value too long" : "empty value"), false;
            memcpy(item, p, len);
            item[len] = '\0';
            if (o->check && !o->check(item, why, cap))
                return false;
            if (!strv_push(l, item, len))
                return snprintf(why, cap, "out of memory"), false;
            p += len;
        } while (*p == ',' && *++p);
        return true;
    }
    case SVC_OPT_INT: {
        errno = 0;
        char *end;
        long long x = strtoll(v, &end, 10);
        if (errno || end == v || *end)
            return snprintf(why, cap, "expected an integer, got \"%s\"", v), false;
        if (o->min < o->max && (x < o->min || x > o->max))
            return snprintf(why, cap, "%lld is out of range %lld..%lld", x, o->min, o->max), false;
        *FIELD(g, o, long long) = x;
        return true;
    }
    case SVC_OPT_FLAG: {
        bool b;
        if (!parse_bool(v, &b))
            return snprintf(why, cap, "expected true or false, got \"%s\"", v), false;
        *FIELD(g, o, bool) = b;
        return true;
    }
    case SVC_OPT_CHOICE:
        for (int i = 0; o->choices && o->choices[i]; i++) {
            if (strcasecmp(v, o->choices[i]) == 0) {
                *FIELD(g, o, int) = i;
                return true;
            }
        }
        snprintf(why, cap, "unknown value \"%s\"", v);
        return false;
    }
    return snprintf(why, cap, "bad option type"), false;
}

static bool is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* Finds --name (of length n) in the groups. */
static const svc_opt *find_opt(const svc_opt_group *groups, size_t ng, const char *name, size_t n,
                               const svc_opt_group **gout)
{
    for (size_t i = 0; i < ng; i++)
        for (size_t j = 0; j < groups[i].n; j++) {
            const svc_opt *o = &groups[i].opts[j];
            if (strlen(o->name) == n && strncmp(o->name, name, n) == 0) {
                *gout = &groups[i];
                return o;
            }
        }
    return NULL;
}

/* Defaults, then the environment. */
static bool apply_defaults(const svc_opt_group *groups, size_t ng, FILE *err)
{
    char why[256];
    for (size_t i = 0; i < ng; i++)
        for (size_t j = 0; j < groups[i].n; j++) {
            const svc_opt_group *g = &groups[i];
            const svc_opt *o = &g->opts[j];
            if (o->def && !set_value(g, o, o->def, false, why, sizeof why)) {
                fprintf(err, "bad default of --%s: %s\n", o->name, why);
                return false;
            }
            const char *e = o->env ? getenv(o->env) : NULL;
            if (e && *e && !set_value(g, o, e, false, why, sizeof why)) {
                fprintf(err, "%s: %s\n", o->env, why);
                return false;
            }
        }
    return true;
}

/* The command line. Returns SVC_OPTS_OK, _HELP or _ERROR. */
static svc_opts_result apply_args(const svc_opt_group *groups, size_t ng, int argc, char **argv, FILE *err)
{
    bool list_seen[64][64];
    memset(list_seen, 0, sizeof list_seen);
    char why[256];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (is_help(a))
            return SVC_OPTS_HELP;
        if (strncmp(a, "--", 2) != 0 || !a[2]) {
            fprintf(err, "unexpected argument \"%s\" (see --help)\n", a);
            return SVC_OPTS_ERROR;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const svc_opt_group *g = NULL;
        const svc_opt *o = find_opt(groups, ng, name, nlen, &g);
        if (!o) {
            fprintf(err, "unknown option --%.*s (see --help)\n", (int)nlen, name);
            return SVC_OPTS_ERROR;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v && o->type == SVC_OPT_FLAG)
            v = "true";
        if (!v) {
            if (i + 1 >= argc) {
                fprintf(err, "--%s needs a value (%s)\n", o->name, o->metavar ? o->metavar : "VALUE");
                return SVC_OPTS_ERROR;
            }
            v = argv[++i];
        }
        bool append = false;
        if (o->type == SVC_OPT_LIST) {
            size_t gi = (size_t)(g - groups), oi = (size_t)(o - g->opts);
            append = gi < 64 && oi < 64 && list_seen[gi][oi];
            if (gi < 64 && oi < 64)
                list_seen[gi][oi] = true;
        }
        if (!set_value(g, o, v, append, why, sizeof why)) {
            fprintf(err, "--%s: %s\n", o->name, why);
            return SVC_OPTS_ERROR;
        }
    }
    return SVC_OPTS_OK;
}

svc_opts_result svc_opts_parse(const svc_opt_group *groups, size_t n_groups, const char *prog,
                               const char *summary, int argc, char **argv, FILE *out, FILE *err)
{
    for (int i = 1; i < argc; i++) /* --help wins over any error */
        if (is_help(argv[i])) {
            svc_opts_help(groups, n_groups, prog, summary, out);
            return SVC_OPTS_HELP;
        }
    svc_opts_result r = apply_defaults(groups, n_groups, err) ? apply_args(groups, n_groups, argc, argv, err)
                                                              : SVC_OPTS_ERROR;
    if (r == SVC_OPTS_ERROR)
        svc_opts_free(groups, n_groups);
    return r;
}

/* "--name METAVAR" as shown in --help. */
static void opt_head(const svc_opt *o, char *buf, size_t cap)
{
    if (o->type == SVC_OPT_FLAG)
        snprintf(buf, cap, "--%s", o->name);
    else
        snprintf(buf, cap, "--%s %s", o->name, o->metavar ? o->metavar : "VALUE");
}

#define HELP_INDENT 27 /* column where option help text starts */
#define HELP_WIDTH 90

/* Prints text wrapped at `width` columns, continuation lines indented by `indent`. */
static void wrap(FILE *out, const char *text, size_t col, size_t indent, size_t width)
{
    const char *p = text;
    while (*p) {
        size_t w = strcspn(p, " ");
        if (col > indent && col + 1 + w > width) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, w, out);
        col += w;
        p += w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

static void opt_help(const svc_opt *o, FILE *out)
{
    char head[96], text[1024];
    opt_head(o, head, sizeof head);
    size_t n = (size_t)snprintf(text, sizeof text, "%s", o->help ? o->help : "");
    if (o->type == SVC_OPT_CHOICE && o->choices) {
        n += (size_t)snprintf(text + n, sizeof text - n, " (one of");
        for (int i = 0; o->choices[i] && n < sizeof text; i++)
            n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", i ? ", " : " ", o->choices[i]);
        n += (size_t)snprintf(text + n, sizeof text - n, ")");
    }
    if (o->type == SVC_OPT_LIST && n < sizeof text)
        n += (size_t)snprintf(text + n, sizeof text - n, "; repeatable");
    if (o->type == SVC_OPT_INT && o->min < o->max && n < sizeof text)
        n += (size_t)snprintf(text + n, sizeof text - n, "; %lld..%lld", o->min, o->max);
    if (o->env && n < sizeof text)
        n += (size_t)snprintf(text + n, sizeof text - n, "; env %s", o->env);
    if (o->def && *o->def && o->type != SVC_OPT_FLAG && n < sizeof text)
        snprintf(text + n, sizeof text - n, "; default %s", o->def);
    if (strlen(head) + 3 > HELP_INDENT)
        fprintf(out, "  %s\n%*s", head, HELP_INDENT, "");
    else
        fprintf(out, "  %-*s", HELP_INDENT - 2, head);
    size_t col = HELP_INDENT;
    wrap(out, text, col, HELP_INDENT, HELP_WIDTH);
}

void svc_opts_help(const svc_opt_group *groups, size_t n_groups, const char *prog, const char *summary,
                   FILE *out)
{
    fprintf(out, "usage: %s [options]\n\n", prog);
    if (summary && *summary) {
        wrap(out, summary, 0, 0, HELP_WIDTH);
        fputc('\n', out);
    }
    for (size_t i = 0; i < n_groups; i++) {
        fprintf(out, "%s:\n", groups[i].title ? groups[i].title : "Options");
        for (size_t j = 0; j < groups[i].n; j++)
            opt_help(&groups[i].opts[j], out);
        fputc('\n', out);
    }
    fprintf(out, "  %-*sprint this help and exit\n", HELP_INDENT - 2, "--help");
}

static void log_one(const svc_opt_group *g, const svc_opt *o)
{
    char v[512], q[600];
    v[0] = '\0';
    if (o->flags & SVC_OPT_SECRET) {
        bool set = (o->type == SVC_OPT_STR && *FIELD(g, o, char *)) ||
                   (o->type == SVC_OPT_LIST && FIELD(g, o, svc_strv)->n);
        snprintf(v, sizeof v, "%s", set ? "***" : "-");
    } else if (o->type == SVC_OPT_STR) {
        const char *s = *FIELD(g, o, char *);
        svc_log_redact_url(s, v, sizeof v);
    } else if (o->type == SVC_OPT_LIST) {
        const svc_strv *l = FIELD(g, o, svc_strv);
        size_t n = 0;
        for (size_t i = 0; i < l->n && n < sizeof v; i++) {
            char one[256];
            n += (size_t)snprintf(v + n, sizeof v - n, "%s%s", i ? "," : "",
                                  svc_log_redact_url(l->v[i], one, sizeof one));
        }
    } else if (o->type == SVC_OPT_INT) {
        snprintf(v, sizeof v, "%lld", *FIELD(g, o, long long));
    } else if (o->type == SVC_OPT_FLAG) {
        snprintf(v, sizeof v, "%s", *FIELD(g, o, bool) ? "true" : "false");
    } else if (o->type == SVC_OPT_CHOICE) {
        snprintf(v, sizeof v, "%s", o->choices[*FIELD(g, o, int)]);
    }
    SVC_INFO("option %s=%s", o->name, svc_log_q(q, sizeof q, v));
}

void svc_opts_log(const svc_opt_group *groups, size_t n_groups)
{
    for (size_t i = 0; i < n_groups; i++)
        for (size_t j = 0; j < groups[i].n; j++)
            log_one(&groups[i], &groups[i].opts[j]);
}

void svc_opts_free(const svc_opt_group *groups, size_t n_groups)
{
    for (size_t i = 0; i < n_groups; i++)
        for (size_t j = 0; j < groups[i].n; j++) {
            const svc_opt_group *g = &groups[i];
            const svc_opt *o = &g->opts[j];
            if (o->type == SVC_OPT_STR) {
                char **slot = FIELD(g, o, char *);
                free(*slot);
                *slot = NULL;
            } else if (o->type == SVC_OPT_LIST) {
                svc_strv_free(FIELD(g, o, svc_strv));
            }
        }
}
