/*
 * test_broker_config.c - mf-broker's option table (runtime/broker/config.c): --help lists
 * every option of the table with its default and environment variable; the configuration
 * the broker runs with when given nothing equals the table's defaults (and the protocol's
 * own defaults); a bad value of every option, of every kind, is refused with exit code 2
 * and a message that names the option (a secret value never echoed); the environment
 * variables are read like their flags and a flag wins.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/broker.h"

/* authwork.c's, for accounts.c (no accounts file is loaded here) */
void mfb_auth_worker_free(struct mfb_auth_worker *w)
{
    (void)w;
}

typedef struct run {
    int rc;
    char out[16384], err[4096];
} run;

/* mfb_broker_config_parse on "mf-broker args..." (NULL-terminated); cfg is freed unless keep. */
static run *parse(mfb_broker_config *cfg, const char *first, ...)
{
    static run r;
    char *argv[16] = {"mf-broker"};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        assert_true(argc < 15);
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    memset(&r, 0, sizeof r);
    FILE *out = fmemopen(r.out, sizeof r.out - 1, "w"), *err = fmemopen(r.err, sizeof r.err - 1, "w");
    assert_non_null(out);
    assert_non_null(err);
    r.rc = mfb_broker_config_parse(cfg, argc, argv, out, err);
    fclose(out);
    fclose(err);
    return &r;
}

static int clean_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < mfb_noptions; i++)
        if (mfb_options[i].env)
            unsetenv(mfb_options[i].env);
    return 0;
}

/* The --help entry of an option: from its line to the next option's, wrapped lines joined. */
static void help_entry(const char *help, const mfb_option *o, char *entry, size_t n)
{
    char head[64];
    snprintf(head, sizeof head, "%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    const char *p = help, *start = NULL;
    while ((p = strstr(p, head))) {
        /* at the start of an entry: "  --name" or "  -q, --name" */
        const char *bol = p;
        while (bol > help && bol[-1] != '\n')
            bol--;
        size_t len = strlen(head);
        if ((p[len] == ' ' || p[len] == '\n') && (bol + 2 == p || (bol[2] == '-' && bol[3] != '-'))) {
            start = bol;
            break;
        }
        p++;
    }
    assert_non_null(start);
    size_t w = 0;
    bool space = false;
    for (const char *q = start + 2; *q && w + 1 < n; q++) {
        if (*q == '\n' && (q[1] != ' ' || q[2] != ' ' || q[3] == '-'))
            break; /* the next entry or the end of the list */
        if (*q == ' ' || *q == '\n') {
            space = true;
            continue;
        }
        if (space && w)
            entry[w++] = ' ';
        space = false;
        entry[w++] = *q;
    }
    entry[w] = '\0';
}

static void help_lists_every_option(void **state)
{
    (void)state;
    mfb_broker_config cfg;
    run *r = parse(&cfg, "--help", NULL);
    assert_int_equal(r->rc, 1);
    assert_string_equal(r->err, "");
    assert_non_null(strstr(r->out, "usage: mf-broker"));
    char entry[1024], want[256];
    for (size_t i = 0; i < mfb_noptions; i++) {
        const mfb_option *o = &mfb_options[i];
        help_entry(r->out, o, entry, sizeof entry);
        assert_non_null(strstr(entry, o->name));
        if (o->alias) {
            snprintf(want, sizeof want, "%s, %s", o->alias, o->name);
            assert_non_null(strstr(entry, want));
        }
        if (o->def || o->def_text) {
            snprintf(want, sizeof want, "(default %s)", o->def ? o->def : o->def_text);
            assert_non_null(strstr(entry, want));
        } else {
            assert_null(strstr(entry, "(default"));
        }
        if (o->env)
            assert_non_null(strstr(entry, o->env));
        /* the help text, with its words wrapped anywhere */
        assert_true(strlen(o->help) > 3);
        char first[32];
        snprintf(first, sizeof first, "%.*s", (int)strcspn(o->help, " "), o->help);
        assert_non_null(strstr(entry, first));
    }
    /* no line is wider than a terminal */
    for (const char *l = r->out; *l;) {
        size_t len = strcspn(l, "\n");
        assert_true(len <= 80);
        l += len + (l[len] == '\n');
    }
}

/* A member's value as text, to compare a configuration with another. */
static void value_text(const mfb_broker_config *cfg, const mfb_option *o, char *out, size_t n)
{
    const char *p = (const char *)cfg + o->off;
    switch (o->kind) {
    case MFB_OPT_SIZE: snprintf(out, n, "%zu", *(const size_t *)p); break;
    case MFB_OPT_INT: snprintf(out, n, "%d", *(const int *)p); break;
    case MFB_OPT_HOST: snprintf(out, n, "%s", cfg->host); break;
    case MFB_OPT_STR:
        snprintf(out, n, "%s", o->off == offsetof(mfb_broker_config, server_name) ? cfg->server_name
                               : *(char *const *)p ? *(char *const *)p : "(null)");
        break;
    default: snprintf(out, n, "-"); break;
    }
}

static void defaults_are_the_table(void **state)
{
    (void)state;
    mfb_broker_config none, given;
    run *r = parse(&none, NULL);
    assert_int_equal(r->rc, 0);
    assert_string_equal(r->err, "");
    char a[256], b[256];
    for (size_t i = 0; i < mfb_noptions; i++) {
        const mfb_option *o = &mfb_options[i];
        if (!o->def)
            continue;
        r = parse(&given, o->name, o->def, NULL); /* the default, given as a flag */
        assert_int_equal(r->rc, 0);
        value_text(&none, o, a, sizeof a);
        value_text(&given, o, b, sizeof b);
        assert_string_equal(a, b);
        mfb_broker_config_free(&given);
    }
    /* the figures the rest of the project assumes */
    assert_string_equal(none.host, "127.0.0.1");
    assert_int_equal(none.port, 4280);
    assert_string_equal(none.server_name, "mf-broker");
    assert_int_equal(none.max_payload, MF_PROTO_DEFAULT_MAX_PAYLOAD);
    assert_int_equal(none.max_control, MF_PROTO_DEFAULT_MAX_CONTROL);
    assert_int_equal(none.max_connections, 1024);
    assert_int_equal(none.max_connecting, 256); /* derived: max-connections / 4 */
    assert_int_equal(none.max_subs, 10000);
    assert_int_equal(none.max_pending, 8u << 20);
    assert_int_equal(none.ws_max_message, 4u << 20); /* derived: 4M, at least 2 x max-payload + 64K */
    assert_int_equal(none.handshake_timeout, 5);
    assert_int_equal(none.auth_timeout, 2);
    assert_int_equal(none.ping_interval, 120);
    assert_int_equal(none.max_pings_out, 2);
    assert_int_equal(none.log_level, MFB_LOG_INFO);
    assert_null(none.auth_token);
    assert_null(none.config_file);
    assert_null(none.tls_cert);
    assert_int_equal(none.norigins, 0);
    mfb_broker_config_free(&none);

    /* the derived ones follow what they derive from, unless given */
    r = parse(&given, "--max-payload=4M", "--max-connections", "2", "--max-pending", "16M", NULL);
    assert_int_equal(r->rc, 0);
    assert_int_equal(given.ws_max_message, 8u * 1024 * 1024 + 64 * 1024);
    assert_int_equal(given.max_connecting, 1);
    mfb_broker_config_free(&given);
    r = parse(&given, "--ws-max-message", "64K", "--max-connecting", "7", "--quiet", NULL);
    assert_int_equal(r->rc, 0);
    assert_int_equal(given.ws_max_message, 64 * 1024);
    assert_int_equal(given.max_connecting, 7);
    assert_int_equal(given.log_level, MFB_LOG_QUIET);
    mfb_broker_config_free(&given);
    r = parse(&given, "-v", "--allow-origin", "https://a", "--allow-origin=https://b", NULL);
    assert_int_equal(r->rc, 0);
    assert_int_equal(given.log_level, MFB_LOG_DEBUG);
    assert_int_equal(given.norigins, 2);
    assert_string_equal(given.origins[1], "https://b");
    mfb_broker_config_free(&given);
}

/* Values every option of a kind refuses; "" ends the list. */
static void bad_values(const mfb_option *o, char vals[][64], size_t *n)
{
    *n = 0;
    switch (o->kind) {
    case MFB_OPT_SIZE:
        snprintf(vals[(*n)++], 64, "x");
        snprintf(vals[(*n)++], 64, "-1");
        snprintf(vals[(*n)++], 64, "1Q");
        snprintf(vals[(*n)++], 64, "99999999999999999999");
        snprintf(vals[(*n)++], 64, "%lld", o->hi + 1);
        if (o->lo > 0)
            snprintf(vals[(*n)++], 64, "%lld", o->lo - 1);
        break;
    case MFB_OPT_INT:
        snprintf(vals[(*n)++], 64, "x");
        snprintf(vals[(*n)++], 64, "1.5");
        snprintf(vals[(*n)++], 64, "%lld", o->lo - 1);
        snprintf(vals[(*n)++], 64, "%lld", o->hi + 1);
        break;
    case MFB_OPT_STR:
        snprintf(vals[(*n)++], 64, "%s", ""); /* every STR option needs at least one byte */
        break;
    case MFB_OPT_HOST:
        snprintf(vals[(*n)++], 64, "%s", "");
        snprintf(vals[(*n)++], 64, "a/b");
        break;
    case MFB_OPT_FILE:
    case MFB_OPT_ORIGIN:
        snprintf(vals[(*n)++], 64, "%s", "");
        break;
    default:
        break;
    }
}

static void bad_value_of_each_option(void **state)
{
    (void)state;
    mfb_broker_config cfg;
    char vals[8][64], arg[600], want[128];
    size_t tested = 0;
    for (size_t i = 0; i < mfb_noptions; i++) {
        const mfb_option *o = &mfb_options[i];
        size_t n;
        bad_values(o, vals, &n);
        for (size_t k = 0; k < n; k++) {
            snprintf(want, sizeof want, "mf-broker: bad value for %s: '", o->name);
            run *r = parse(&cfg, o->name, vals[k], NULL); /* --name VALUE */
            assert_int_equal(r->rc, 2);
            assert_ptr_equal(strstr(r->err, want), r->err);
            assert_non_null(strstr(r->err, "expected"));
            snprintf(arg, sizeof arg, "%s=%s", o->name, vals[k]); /* --name=VALUE */
            r = parse(&cfg, arg, NULL);
            assert_int_equal(r->rc, 2);
            assert_ptr_equal(strstr(r->err, want), r->err);
            tested++;
        }
        if (o->kind == MFB_OPT_STR) { /* one byte too long */
            char *big = malloc((size_t)o->hi + 2);
            assert_non_null(big);
            memset(big, 't', (size_t)o->hi + 1);
            big[o->hi + 1] = '\0';
            run *r = parse(&cfg, o->name, big, NULL);
            assert_int_equal(r->rc, 2);
            assert_non_null(strstr(r->err, o->name));
            if (o->secret)
                assert_null(strstr(r->err, "ttttt"));
            free(big);
            tested++;
        }
        if (o->arg) { /* the value missing */
            run *r = parse(&cfg, o->name, NULL);
            snprintf(want, sizeof want, "mf-broker: %s needs a value", o->name);
            assert_int_equal(r->rc, 2);
            assert_ptr_equal(strstr(r->err, want), r->err);
        } else { /* a value where none is taken */
            snprintf(arg, sizeof arg, "%s=1", o->name);
            run *r = parse(&cfg, arg, NULL);
            snprintf(want, sizeof want, "mf-broker: %s takes no value", o->name);
            assert_int_equal(r->rc, 2);
            assert_ptr_equal(strstr(r->err, want), r->err);
            assert_string_equal(r->out, "");
        }
    }
    assert_true(tested >= 40); /* every option that takes a value, each several times */
    run *r = parse(&cfg, "--server-name", "a\"b", NULL);
    assert_int_equal(r->rc, 2);
    assert_non_null(strstr(r->err, "--server-name"));
    r = parse(&cfg, "--verbose", "--bogus", NULL);
    assert_int_equal(r->rc, 2);
    assert_non_null(strstr(r->err, "unknown option '--bogus'"));
    r = parse(&cfg, "--max-payload", "2M", "--max-pending", "1M", NULL);
    assert_int_equal(r->rc, 2);
    assert_non_null(strstr(r->err, "--max-payload"));
    r = parse(&cfg, "--auth-token", "s3cret", "--config", "/nonexistent.json", NULL);
    assert_int_equal(r->rc, 2);
    assert_null(strstr(r->err, "s3cret"));
    r = parse(&cfg, "--tls-cert", "/nonexistent.pem", NULL);
    assert_int_equal(r->rc, 2);
    assert_non_null(strstr(r->err, "go together"));
}

static void environment_like_the_flags(void **state)
{
    (void)state;
    mfb_broker_config cfg;
    setenv("MF_BROKER_AUTH_TOKEN", "from-env", 1);
    run *r = parse(&cfg, NULL);
    assert_int_equal(r->rc, 0);
    assert_string_equal(cfg.auth_token, "from-env");
    mfb_broker_config_free(&cfg);
    r = parse(&cfg, "--auth-token", "from-flag", NULL); /* a flag wins */
    assert_int_equal(r->rc, 0);
    assert_string_equal(cfg.auth_token, "from-flag");
    mfb_broker_config_free(&cfg);
    char big[MF_PROTO_TOKEN_MAX + 8];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    setenv("MF_BROKER_AUTH_TOKEN", big, 1);
    r = parse(&cfg, NULL);
    assert_int_equal(r->rc, 2);
    assert_non_null(strstr(r->err, "MF_BROKER_AUTH_TOKEN"));
    assert_non_null(strstr(r->err, "--auth-token"));
    assert_null(strstr(r->err, "kkkkk"));
    unsetenv("MF_BROKER_AUTH_TOKEN");
    setenv("MF_BROKER_TLS_CERT", "/nonexistent-cert.pem", 1);
    setenv("MF_BROKER_TLS_KEY", "/nonexistent-key.pem", 1);
    r = parse(&cfg, NULL);
    assert_int_equal(r->rc, 2);
    assert_non_null(strstr(r->err, "/nonexistent-cert.pem"));
    unsetenv("MF_BROKER_TLS_CERT");
    unsetenv("MF_BROKER_TLS_KEY");
    r = parse(&cfg, "--version", NULL);
    assert_int_equal(r->rc, 1);
    assert_ptr_equal(strstr(r->out, "mf-broker " MF_BROKER_VERSION "\n"), r->out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(help_lists_every_option, clean_env),
        cmocka_unit_test_setup(defaults_are_the_table, clean_env),
        cmocka_unit_test_setup(bad_value_of_each_option, clean_env),
        cmocka_unit_test_setup(environment_like_the_flags, clean_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
