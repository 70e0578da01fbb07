/*
 * test_jsonsuite.c - every file of JSONTestSuite's test_parsing through
 * mf_decode with a RAW descriptor (any JSON value).
 *
 *   y_  must decode, except the files listed in utf8_exceptions: valid JSON
 *       that mflow rejects on purpose (a \u0000 escape, see mf/codec.h: strings
 *       are NUL-terminated C strings); they must fail with MF_ERR_UTF8.
 *   n_  must fail.
 *   i_  implementation-defined: must not crash or leak; the outcome is printed.
 *
 * The files are the repository's copy, MF_TESTDATA_DIR "/jsontestsuite/test_parsing"
 * (tests/data, see its README.md). Without them the test fails (MF_ALLOW_SKIP=1:
 * skipped, exit 77).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"
#include "mf_skip.h"

#ifndef MF_TESTDATA_DIR
#error "MF_TESTDATA_DIR (the repository's tests/data) must be defined by the build"
#endif

static const char *const utf8_exceptions[] = {
    "y_object_escaped_null_in_key.json", /* {"foo\u0000bar": 42} */
    "y_string_null_escape.json",         /* ["\u0000"] */
};

static bool is_exception(const char *name)
{
    for (size_t i = 0; i < sizeof utf8_exceptions / sizeof utf8_exceptions[0]; i++)
        if (strcmp(name, utf8_exceptions[i]) == 0)
            return true;
    return false;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *p = realloc(buf, cap *= 2);
            if (!p) {
                free(buf);
                buf = NULL;
            }
            buf = p;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_suite(void **state)
{
    (void)state;
    const char *dir = MF_TESTDATA_DIR "/jsontestsuite/test_parsing";
    DIR *d = opendir(dir);
    if (!d)
        mf_skip_or_fail("no test data at %s", dir);
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strlen(e->d_name) < 3 || e->d_name[1] != '_' || !strstr(e->d_name, ".json"))
            continue;
        if (count == cap) {
            char **grown = realloc(names, (cap = cap ? cap * 2 : 512) * sizeof *names);
            assert_non_null(grown);
            names = grown;
        }
        names[count] = strdup(e->d_name);
        assert_non_null(names[count]);
        count++;
    }
    closedir(d);
    qsort(names, count, sizeof *names, cmp_names);

    size_t y = 0, n = 0, i_ok = 0, i_fail = 0, exceptions_seen = 0;
    int failures = 0;
    for (size_t k = 0; k < count; k++) {
        char path[2048];
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        char *json = read_all(path, &len);
        assert_non_null(json);
        fx_out out;
        mf_error err;
        mf_status st = mf_decode(&fx_raw_desc, json, len, &out, &err);
        const char *name = names[k];
        if (name[0] == 'y') {
            y++;
            if (is_exception(name)) {
                exceptions_seen++;
                if (st != MF_ERR_UTF8) {
                    print_error("%s: expected utf-8 error, got %s\n", name, mf_status_str(st));
                    failures++;
                }
            } else if (st != MF_OK) {
                print_error("%s: expected success, got %s: %s\n", name, mf_status_str(st), err.message);
                failures++;
            } else if (!out.str) {
                print_error("%s: no raw text\n", name);
                failures++;
            }
        } else if (name[0] == 'n') {
            n++;
            if (st == MF_OK) {
                print_error("%s: expected failure, decoded as %s\n", name, out.str);
                failures++;
            } else if (!fx_is_init(&fx_raw_desc, &out)) {
                print_error("%s: output not reset after failure\n", name);
                failures++;
            }
        } else {
            if (st == MF_OK)
                i_ok++;
            else
                i_fail++;
            print_message("%-60s %s\n", name, st == MF_OK ? "accepted" : mf_status_str(st));
        }
        mf_free(&fx_raw_desc, &out);
        free(json);
        free(names[k]);
    }
    free(names);
    print_message("y_: %zu, n_: %zu, i_: %zu accepted, %zu rejected\n", y, n, i_ok, i_fail);
    assert_int_equal(exceptions_seen, sizeof utf8_exceptions / sizeof utf8_exceptions[0]);
    assert_true(y > 90 && n > 150);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite),
    };
    return mf_skip_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
