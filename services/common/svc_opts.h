/*
 * svc_opts.h - command-line options from one table (after Redis' config.c).
 *
 * Each option is declared once, in a table: name, type, default, environment
 * variable, help text, and where its value lives in a struct. Parsing, the
 * defaults, the environment, `--help` and the log of the effective
 * configuration all come from that table, so they cannot disagree.
 *
 *   static const svc_opt my_opts[] = {
 *       {.name = "new-days", .type = SVC_OPT_INT, .offset = offsetof(my_cfg, new_days),
 *        .def = "30", .min = 1, .max = 3650, .metavar = "N",
 *        .help = "a user is new for N days after registering"},
 *   };
 *
 * A service passes several groups (the common options of svc_app.h and its
 * own), each with the struct its offsets refer to.
 *
 * Precedence: the default, then the environment variable, then the command
 * line. Syntax: `--name value` or `--name=value`; flags take no value
 * (`--flag`; `--flag=false` and the environment accept 1/0, true/false,
 * yes/no, on/off). A LIST option is repeatable: its occurrences on the
 * command line replace the environment's value, which is a comma-separated
 * list. `--help` (or `-h`) prints the usage generated from the tables.
 *
 * Ownership: STR and LIST values are heap copies owned by the struct;
 * svc_opts_free releases them. Threads: none of this is thread-safe; parse
 * before starting threads.
 */
#ifndef SVC_OPTS_H
#define SVC_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum svc_opt_type {
    SVC_OPT_STR = 1, /* char *; NULL when there is no default and it is not given */
    SVC_OPT_LIST,    /* svc_strv; repeatable */
    SVC_OPT_INT,     /* long long, within [min, max] when min < max */
    SVC_OPT_FLAG,    /* bool */
    SVC_OPT_CHOICE   /* int: index into choices[] */
} svc_opt_type;

/* A list of strings (LIST options). */
typedef struct svc_strv {
    char **v;
    size_t n;
} svc_strv;

enum {
    SVC_OPT_SECRET = 1u << 0 /* value never printed: svc_opts_log shows "***" */
};

typedef struct svc_opt {
    const char *name;            /* long name without dashes, e.g. "server" */
    svc_opt_type type;
    size_t offset;               /* offsetof the value in the group's struct */
    const char *def;             /* default as text (LIST: comma-separated); NULL = none */
    const char *env;             /* environment variable, NULL = none */
    const char *metavar;         /* value placeholder in --help, e.g. "URL" */
    const char *help;            /* one sentence */
    long long min, max;          /* INT bounds, applied when min < max */
    const char *const *choices;  /* CHOICE: NULL-terminated names */
    unsigned flags;              /* SVC_OPT_SECRET */
    /* Extra check of a STR/LIST value (NULL = none). Returns false and writes the reason into why. */
    bool (*check)(const char *value, char *why, size_t why_cap);
} svc_opt;

typedef struct svc_opt_group {
    const char *title;           /* heading in --help, e.g. "Common options" */
    const svc_opt *opts;
    size_t n;
    void *base;                  /* the struct the offsets refer to */
} svc_opt_group;

/* What svc_opts_parse found. */
typedef enum svc_opts_result {
    SVC_OPTS_OK = 0,     /* values set: go on */
    SVC_OPTS_HELP = 1,   /* --help was printed to `out`: exit 0 */
    SVC_OPTS_ERROR = 2   /* a message was printed to `err`: exit 2 */
} svc_opts_result;

/*
 * Sets every option of every group from its default, the environment and
 * argv[1..argc). `prog` and `summary` head the --help text. On SVC_OPTS_ERROR
 * the message names the option ("--http: expected ADDR:PORT"), and the groups'
 * values are freed (svc_opts_free not needed); otherwise the caller frees
 * them with svc_opts_free. Positional arguments are errors.
 */
svc_opts_result svc_opts_parse(const svc_opt_group *groups, size_t n_groups, const char *prog,
                               const char *summary, int argc, char **argv, FILE *out, FILE *err);

/* Prints the usage generated from the tables. */
void svc_opts_help(const svc_opt_group *groups, size_t n_groups, const char *prog, const char *summary,
                   FILE *out);

/* Logs every option's effective value at INFO level (secrets as "***", URLs redacted). */
void svc_opts_log(const svc_opt_group *groups, size_t n_groups);

/* Frees the STR and LIST values of every group and resets them. Safe to call twice. */
void svc_opts_free(const svc_opt_group *groups, size_t n_groups);

/* Frees a list's strings and resets it. */
void svc_strv_free(svc_strv *l);

#ifdef __cplusplus
}
#endif
#endif /* SVC_OPTS_H */
