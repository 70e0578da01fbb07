/*
 * test_validate_tool.c - mf_validate_tool_main run in a forked child with
 * stdin/stdout/stderr redirected to temporary files: exit codes and output.
 * Uses its own small registry (one closed object message), not fixtures.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "mf/validate_tool.h"

typedef struct ping {
    char *name;
    int64_t count;
    bool has_count;
} ping;

static const mf_type str_t = {.kind = MF_K_STR, .name = "char *", .size = sizeof(char *)};
static const mf_type int_t = {.kind = MF_K_INT, .name = "int64_t", .size = sizeof(int64_t),
                              .flags = MF_TF_HAS_MIN | MF_TF_HAS_MAX, .imin = 0, .imax = 100};
static const mf_field ping_fields[] = {
    {"name", &str_t, offsetof(ping, name), -1, -1, true, false, {0}, NULL, 0, {0}},
    {"count", &int_t, offsetof(ping, count), offsetof(ping, has_count), -1, false, false, {0}, NULL, 0, {0}},
};
static const mf_type ping_t = {.kind = MF_K_OBJ, .name = "ping", .size = sizeof(ping),
                               .flags = MF_TF_CLOSED, .fields = ping_fields, .field_count = 2};

static const mf_message_desc m_ping = {"Ping", "PingMessage", "", "application/json", &ping_t,
                                       sizeof(ping), NULL, 0};
static const mf_message_desc m_zed = {"Zed", "ZedMessage", "", "application/json", &ping_t,
                                      sizeof(ping), NULL, 0};
static const mf_message_desc m_apple = {"Apple", "AppleMessage", "", "application/json", &ping_t,
                                        sizeof(ping), NULL, 0};
/* sorted by key, as the generator emits them */
static const mf_message_desc *const msgs[] = {&m_apple, &m_ping, &m_zed};
static const mf_registry reg = {"Test", "1.2.3", msgs, 3, NULL, 0, NULL, 0, NULL, 0};

typedef struct run_result {
    int code;      /* exit status, or -1 when the child did not exit normally */
    char *out;     /* captured stdout */
    char *err;     /* captured stderr */
} run_result;

static char tmpdir[256];

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += r;
        if (len + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *path_in(const char *name)
{
    static char buf[4][512];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
    return p;
}

/* Runs the tool with argv (NULL-terminated) and optional stdin text/file. */
static run_result run_tool(const char *stdin_path, const char *const *args)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)"/usr/bin/test-validate";
    for (; args && args[argc - 1] && argc < 15; argc++)
        argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;

    char outp[512], errp[512];
    snprintf(outp, sizeof outp, "%s/stdout", tmpdir);
    snprintf(errp, sizeof errp, "%s/stderr", tmpdir);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
        int out = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0)
            _exit(99);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        int rc = mf_validate_tool_main(&reg, argc, argv);
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    run_result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(outp);
    r.err = slurp(errp);
    return r;
}

static void done(run_result *r)
{
    free(r->out);
    free(r->err);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/mf-validate-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir))
        return -1;
    write_file(path_in("valid.json"), "{\"name\":\"x\",\"count\":3}");
    write_file(path_in("spaced.json"), " {\n  \"count\" : 7,\n  \"name\" : \"\\u0041b\\/c\"\n}\n");
    write_file(path_in("wrongtype.json"), "{\"name\":5}");
    write_file(path_in("missing.json"), "{\"count\":1}");
    write_file(path_in("range.json"), "{\"name\":\"x\",\"count\":101}");
    write_file(path_in("syntax.json"), "{\"name\":");
    write_file(path_in("unknown.json"), "{\"name\":\"x\",\"extra\":true}");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const names[] = {"valid.json", "spaced.json", "wrongtype.json",
                                         "missing.json", "range.json", "syntax.json",
                                         "unknown.json", "big.json", "stdout", "stderr"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(path_in(names[i]));
    rmdir(tmpdir);
    return 0;
}

static void test_valid(void **state)
{
    (void)state;
    run_result r = run_tool(NULL, ARGS("Ping", path_in("valid.json")));
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "");
    done(&r);
    /* by message name, and from stdin ("-" and absent) */
    r = run_tool(NULL, ARGS("PingMessage", path_in("valid.json")));
    assert_int_equal(r.code, 0);
    done(&r);
    r = run_tool(path_in("valid.json"), ARGS("Ping", "-"));
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "");
    done(&r);
    r = run_tool(path_in("spaced.json"), ARGS("Zed"));
    assert_int_equal(r.code, 0);
    done(&r);
}

static void expect_invalid(const char *file, const char *prefix)
{
    run_result r = run_tool(NULL, ARGS("Ping", path_in(file)));
    assert_int_equal(r.code, 1);
    assert_int_equal(count_lines(r.out), 1);
    if (strncmp(r.out, prefix, strlen(prefix)) != 0)
        fail_msg("%s: output \"%s\" does not start with \"%s\"", file, r.out, prefix);
    assert_true(strlen(r.out) > strlen(prefix) + 1); /* a message follows */
    assert_string_equal(r.err, "");
    done(&r);
}

static void test_invalid(void **state)
{
    (void)state;
    expect_invalid("wrongtype.json", "/name: ");
    expect_invalid("missing.json", "/name: ");
    expect_invalid("range.json", "/count: ");
    expect_invalid("unknown.json", "/extra: ");
    expect_invalid("syntax.json", "(document): ");
    /* empty input from stdin is invalid JSON, not an I/O error */
    run_result r = run_tool(NULL, ARGS("Ping"));
    assert_int_equal(r.code, 1);
    assert_int_equal(strncmp(r.out, "(document): ", 12), 0);
    done(&r);
}

static void test_roundtrip(void **state)
{
    (void)state;
    run_result r = run_tool(NULL, ARGS("--roundtrip", "Ping", path_in("spaced.json")));
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "{\"name\":\"Ab/c\",\"count\":7}\n");
    assert_string_equal(r.err, "");
    done(&r);
    r = run_tool(path_in("valid.json"), ARGS("Ping", "-", "--roundtrip"));
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "{\"name\":\"x\",\"count\":3}\n");
    done(&r);
    r = run_tool(NULL, ARGS("--roundtrip", "Ping", path_in("wrongtype.json")));
    assert_int_equal(r.code, 1);
    assert_int_equal(strncmp(r.out, "/name: ", 7), 0);
    done(&r);
}

static void test_list(void **state)
{
    (void)state;
    run_result r = run_tool(NULL, ARGS("--list"));
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "Apple AppleMessage\nPing PingMessage\nZed ZedMessage\n");
    assert_string_equal(r.err, "");
    done(&r);
}

static void test_help(void **state)
{
    (void)state;
    run_result r = run_tool(NULL, ARGS("--help"));
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "usage: test-validate"));
    assert_non_null(strstr(r.out, "--roundtrip"));
    assert_string_equal(r.err, "");
    done(&r);
    r = run_tool(NULL, ARGS("Ping", "-h"));
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "usage:"));
    done(&r);
}

static void test_usage_and_io_errors(void **state)
{
    (void)state;
    run_result r = run_tool(NULL, ARGS("Ping", path_in("does-not-exist.json")));
    assert_int_equal(r.code, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "cannot open"));
    assert_non_null(strstr(r.err, "does-not-exist.json"));
    done(&r);

    r = run_tool(NULL, ARGS("Nope", path_in("valid.json")));
    assert_int_equal(r.code, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "unknown message Nope; try --list"));
    done(&r);

    r = run_tool(NULL, (const char *const[]){NULL});
    assert_int_equal(r.code, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "usage:"));
    done(&r);

    r = run_tool(NULL, ARGS("--bogus", "Ping"));
    assert_int_equal(r.code, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "unknown option --bogus"));
    done(&r);

    r = run_tool(NULL, ARGS("Ping", "a.json", "b.json"));
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "too many arguments"));
    done(&r);

    r = run_tool(NULL, ARGS("Ping", tmpdir)); /* a directory: a read error */
    assert_int_equal(r.code, 2);
    assert_string_equal(r.out, "");
    done(&r);
}

static void test_too_large(void **state)
{
    (void)state;
    const char *big = path_in("big.json");
    int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)MF_VALIDATE_MAX_INPUT + 1), 0); /* sparse */
    close(fd);
    run_result r = run_tool(NULL, ARGS("Ping", big));
    assert_int_equal(r.code, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "64 MiB"));
    done(&r);
    unlink(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_usage_and_io_errors),
        cmocka_unit_test(test_too_large),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
