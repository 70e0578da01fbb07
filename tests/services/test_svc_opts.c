/*
 * test_svc_opts.c - the option tables of services/common (svc_opts.h): defaults, the
 * environment, the command line, errors, --help.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svc_opts.h"

typedef struct cfg {
    char *name;
    svc_strv servers;
    long long count;
    bool verbose;
    int level;
    char *secret;
    char *note;
} cfg;

static const char *const levels[] = {"low", "mid", "high", NULL};

static bool no_spaces(const char *v, char *why, size_t cap)
{
    if (strchr(v, ' '))
        return snprintf(why, cap, "no spaces please"), false;
    return true;
}

static const svc_opt opts[] = {
    {.name = "name", .type = SVC_OPT_STR, .offset = offsetof(cfg, name), .def = "anon", .env = "T_NAME",
     .metavar = "NAME", .help = "a name", .check = no_spaces},
    {.name = "server", .type = SVC_OPT_LIST, .offset = offsetof(cfg, servers), .def = "ws://a:1",
     .env = "T_SERVER", .metavar = "URL", .help = "servers"},
    {.name = "count", .type = SVC_OPT_INT, .offset = offsetof(cfg, count), .def = "3", .min = 1, .max = 10,
     .metavar = "N", .help = "how many"},
    {.name = "verbose", .type = SVC_OPT_FLAG, .offset = offsetof(cfg, verbose), .env = "T_VERBOSE",
     .help = "say more"},
    {.name = "level", .type = SVC_OPT_CHOICE, .offset = offsetof(cfg, level), .def = "mid", .choices = levels,
     .metavar = "L", .help = "a level"},
    {.name = "secret", .type = SVC_OPT_STR, .offset = offsetof(cfg, secret), .flags = SVC_OPT_SECRET,
     .metavar = "S", .help = "a secret"},
    {.name = "note", .type = SVC_OPT_STR, .offset = offsetof(cfg, note), .def = "", .metavar = "TEXT",
     .help = "a note, empty by default"},
};

static cfg g;
static svc_opt_group groups[1];
static char outbuf[8192], errbuf[1024];

static int setup(void **state)
{
    (void)state;
    memset(&g, 0, sizeof g);
    groups[0] = (svc_opt_group){"Options", opts, sizeof opts / sizeof opts[0], &g};
    unsetenv("T_NAME");
    unsetenv("T_SERVER");
    unsetenv("T_VERBOSE");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    svc_opts_free(groups, 1);
    svc_opts_free(groups, 1); /* twice is fine */
    return 0;
}

/* Parses a NULL-terminated argument list; stdout/stderr go to outbuf/errbuf. */
static svc_opts_result parse(const char *first, ...)
{
    char *argv[32] = {"prog"};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    memset(outbuf, 0, sizeof outbuf);
    memset(errbuf, 0, sizeof errbuf);
    FILE *out = fmemopen(outbuf, sizeof outbuf - 1, "w");
    FILE *err = fmemopen(errbuf, sizeof errbuf - 1, "w");
    svc_opts_result r = svc_opts_parse(groups, 1, "prog", "A program.", argc, argv, out, err);
    fclose(out);
    fclose(err);
    return r;
}

static void defaults(void **state)
{
    (void)state;
    assert_int_equal(parse(NULL), SVC_OPTS_OK);
    assert_string_equal(g.name, "anon");
    assert_int_equal(g.servers.n, 1);
    assert_string_equal(g.servers.v[0], "ws://a:1");
    assert_int_equal(g.count, 3);
    assert_false(g.verbose);
    assert_int_equal(g.level, 1);
    assert_null(g.secret);
}

static void environment_then_command_line(void **state)
{
    (void)state;
    setenv("T_NAME", "fromenv", 1);
    setenv("T_SERVER", "ws://e:1,ws://e:2", 1);
    setenv("T_VERBOSE", "yes", 1);
    assert_int_equal(parse(NULL), SVC_OPTS_OK);
    assert_string_equal(g.name, "fromenv");
    assert_int_equal(g.servers.n, 2);
    assert_string_equal(g.servers.v[1], "ws://e:2");
    assert_true(g.verbose);
    svc_opts_free(groups, 1);
    /* the command line wins; a repeated list option accumulates and replaces the environment's */
    assert_int_equal(parse("--name", "cli", "--server", "ws://c:1", "--server=ws://c:2,ws://c:3", "--verbose=false",
                           "--count=10", "--level", "HIGH", NULL),
                     SVC_OPTS_OK);
    assert_string_equal(g.name, "cli");
    assert_int_equal(g.servers.n, 3);
    assert_string_equal(g.servers.v[0], "ws://c:1");
    assert_string_equal(g.servers.v[2], "ws://c:3");
    assert_false(g.verbose);
    assert_int_equal(g.count, 10);
    assert_int_equal(g.level, 2);
}

static void errors_name_the_option(void **state)
{
    (void)state;
    struct {
        const char *a, *b, *want;
    } cases[] = {
        {"--nope", NULL, "unknown option --nope"},
        {"--count", NULL, "--count needs a value"},
        {"--count", "11", "--count: 11 is out of range 1..10"},
        {"--count", "3x", "--count: expected an integer"},
        {"--level", "max", "--level: unknown value"},
        {"--verbose=maybe", NULL, "--verbose: expected true or false"},
        {"--name", "a b", "--name: no spaces please"},
        {"--server=", NULL, "--server: empty value"},
        {"stray", NULL, "unexpected argument \"stray\""},
        {"-x", NULL, "unexpected argument"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(parse(cases[i].a, cases[i].b, NULL), SVC_OPTS_ERROR);
        if (!strstr(errbuf, cases[i].want))
            fail_msg("case %zu: %s", i, errbuf);
        /* values are freed on error */
        assert_null(g.name);
        assert_int_equal(g.servers.n, 0);
    }
    setenv("T_VERBOSE", "perhaps", 1);
    assert_int_equal(parse(NULL), SVC_OPTS_ERROR);
    assert_non_null(strstr(errbuf, "T_VERBOSE"));
}

static void help_comes_from_the_table(void **state)
{
    (void)state;
    assert_int_equal(parse("--count", "99", "--help", NULL), SVC_OPTS_HELP); /* --help wins */
    const char *want[] = {"usage: prog [options]", "A program.", "--name NAME", "env T_NAME", "default anon",
                          "--server URL", "repeatable", "--count N", "1..10", "--verbose", "one of low, mid, high",
                          "--secret S", "--help"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(outbuf, want[i]))
            fail_msg("--help lacks \"%s\":\n%s", want[i], outbuf);
    /* an empty default is not shown as "default " followed by nothing */
    assert_non_null(strstr(outbuf, "a note, empty by default\n"));
    assert_int_equal(parse("-h", NULL), SVC_OPTS_HELP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(environment_then_command_line, setup, teardown),
        cmocka_unit_test_setup_teardown(errors_name_the_option, setup, teardown),
        cmocka_unit_test_setup_teardown(help_comes_from_the_table, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
