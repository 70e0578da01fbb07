/*
 * test_svc_token.c - the admin API's bearer token (svc_token.h): loading from a file and
 * from the environment with every refusal, the constant-time comparison, the
 * Authorization header's forms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "svc_token.h"

#define GOOD "s3cr3t-t0ken-0123456789abcdef"

static char g_dir[64];

static const char *write_file(const char *name, const char *data, size_t len)
{
    static char path[160];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/svc-token-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_load_from_file(void **state)
{
    (void)state;
    char *t = NULL;
    mf_error err;
    const char *p = write_file("ok", GOOD "\n", strlen(GOOD) + 1);
    assert_int_equal(svc_token_load(p, NULL, "MF_ADMIN_TOKEN", &t, &err), MF_OK);
    assert_string_equal(t, GOOD);
    svc_token_free(t);
    p = write_file("crlf", GOOD "\r\n", strlen(GOOD) + 2);
    assert_int_equal(svc_token_load(p, "", "MF_ADMIN_TOKEN", &t, &err), MF_OK);
    assert_string_equal(t, GOOD);
    svc_token_free(t);
}

static void test_load_from_env_or_none(void **state)
{
    (void)state;
    char *t = (char *)1;
    mf_error err;
    assert_int_equal(svc_token_load(NULL, NULL, "MF_ADMIN_TOKEN", &t, &err), MF_OK);
    assert_null(t);
    assert_int_equal(svc_token_load("", "", "MF_ADMIN_TOKEN", &t, &err), MF_OK);
    assert_null(t);
    assert_int_equal(svc_token_load(NULL, GOOD, "MF_ADMIN_TOKEN", &t, &err), MF_OK);
    assert_string_equal(t, GOOD);
    svc_token_free(t);
}

/* Every refusal names where the token came from and never contains the value. */
static void refused(const char *file, const char *env, mf_status want, const char *says)
{
    char *t = (char *)1;
    mf_error err;
    mf_error_clear(&err);
    assert_int_equal(svc_token_load(file, env, "MF_ADMIN_TOKEN", &t, &err), want);
    assert_null(t);
    if (!strstr(err.message, says))
        fail_msg("\"%s\" does not say \"%s\"", err.message, says);
    if (env && *env && strlen(env) > 3)
        assert_null(strstr(err.message, env));
}

static void test_refusals(void **state)
{
    (void)state;
    refused(NULL, "short-token", MF_ERR_INVALID_ARG, "shorter than 16 bytes");
    refused(NULL, "has a space in the middle of it", MF_ERR_INVALID_ARG, "not printable ASCII (byte 4)");
    refused(NULL, "caf\xc3\xa9-caf\xc3\xa9-caf\xc3\xa9-caf\xc3\xa9", MF_ERR_INVALID_ARG, "not printable ASCII");
    char big[SVC_TOKEN_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    refused(NULL, big, MF_ERR_INVALID_ARG, "longer than 1024 bytes");
    refused(write_file("big", big, sizeof big - 1), NULL, MF_ERR_INVALID_ARG, "longer than 1024 bytes");
    refused(write_file("empty", "", 0), NULL, MF_ERR_INVALID_ARG, "shorter than 16 bytes");
    refused(write_file("nul", GOOD "\0tail", strlen(GOOD) + 5), NULL, MF_ERR_INVALID_ARG, "NUL byte");
    refused(write_file("two-lines", GOOD "\n" GOOD "\n", 2 * strlen(GOOD) + 2), NULL, MF_ERR_INVALID_ARG,
            "not printable ASCII");
    char missing[128];
    snprintf(missing, sizeof missing, "%s/does-not-exist", g_dir);
    refused(missing, NULL, MF_ERR_IO, "cannot read the admin token file");
    refused(write_file("both", GOOD, strlen(GOOD)), GOOD, MF_ERR_INVALID_ARG, "given twice");
}

static void test_check(void **state)
{
    (void)state;
    assert_true(svc_token_check(GOOD, GOOD, strlen(GOOD)));
    assert_false(svc_token_check(GOOD, GOOD, strlen(GOOD) - 1));
    assert_false(svc_token_check(GOOD, GOOD "x", strlen(GOOD) + 1));
    assert_false(svc_token_check(GOOD, "", 0));
    assert_false(svc_token_check(NULL, GOOD, strlen(GOOD)));
    assert_false(svc_token_check(GOOD, NULL, 0));
    char flipped[] = GOOD;
    for (size_t i = 0; i < strlen(GOOD); i++) {
        flipped[i] ^= 1;
        assert_false(svc_token_check(GOOD, flipped, strlen(flipped)));
        flipped[i] ^= 1;
    }
}

static void test_bearer_header(void **state)
{
    (void)state;
    assert_true(svc_token_check_bearer(GOOD, "Bearer " GOOD));
    assert_true(svc_token_check_bearer(GOOD, "bearer   " GOOD));
    assert_true(svc_token_check_bearer(GOOD, "BEARER " GOOD " "));
    assert_false(svc_token_check_bearer(GOOD, NULL));
    assert_false(svc_token_check_bearer(GOOD, ""));
    assert_false(svc_token_check_bearer(GOOD, GOOD));
    assert_false(svc_token_check_bearer(GOOD, "Basic " GOOD));
    assert_false(svc_token_check_bearer(GOOD, "Bearer"));
    assert_false(svc_token_check_bearer(GOOD, "Bearer "));
    assert_false(svc_token_check_bearer(GOOD, "Bearer wrong-token-0123456789abcdef"));
    assert_false(svc_token_check_bearer(GOOD, "Bearer " GOOD "x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_from_file), cmocka_unit_test(test_load_from_env_or_none),
        cmocka_unit_test(test_refusals),       cmocka_unit_test(test_check),
        cmocka_unit_test(test_bearer_header),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
