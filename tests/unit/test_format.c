/*
 * test_format.c - mf_format_check against the JSON Schema Test Suite's format
 * tests (every string case must agree with `valid`) and our own edge cases.
 *
 * The suite is the repository's copy, MF_TESTDATA_DIR "/json-schema-formats"
 * (tests/data, see its README.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cJSON.h>

#include "mf/codec.h"

#include "mf_skip.h"

#ifndef MF_TESTDATA_DIR
#error "MF_TESTDATA_DIR (the repository's tests/data) must be defined by the build"
#endif

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Runs every string case of one suite file; returns the number of cases run. */
static int run_suite(const char *file, mf_format fmt)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/json-schema-formats/%s", MF_TESTDATA_DIR, file);
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text)
        mf_skip_or_fail("cannot read %s", path);
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    assert_non_null(root);
    int cases = 0, failures = 0;
    cJSON *group;
    cJSON_ArrayForEach(group, root) {
        cJSON *tests = cJSON_GetObjectItemCaseSensitive(group, "tests");
        cJSON *t;
        cJSON_ArrayForEach(t, tests) {
            cJSON *data = cJSON_GetObjectItemCaseSensitive(t, "data");
            cJSON *valid = cJSON_GetObjectItemCaseSensitive(t, "valid");
            cJSON *desc = cJSON_GetObjectItemCaseSensitive(t, "description");
            if (!cJSON_IsString(data))
                continue; /* only string data applies to a string field */
            /* cJSON keeps a decoded \u0000 but its string ends there; the
             * suite's NUL case ("2020-01-01\u0000") is therefore checked with
             * the real bytes: the text plus the NUL that follows it. */
            const char *s = data->valuestring;
            size_t n = strlen(s);
            if (desc && cJSON_IsString(desc) && strstr(desc->valuestring, "NUL character"))
                n++;
            bool want = cJSON_IsTrue(valid);
            bool got = mf_format_check(fmt, s, n);
            cases++;
            if (got != want) {
                failures++;
                print_error("%s: \"%s\" (%s): expected %s, got %s\n", file, s,
                            desc ? desc->valuestring : "", want ? "valid" : "invalid",
                            got ? "valid" : "invalid");
            }
        }
    }
    cJSON_Delete(root);
    assert_int_equal(failures, 0);
    assert_true(cases > 0);
    print_message("%s: %d string cases agree with the suite\n", file, cases);
    return cases;
}

static void test_suite_uuid(void **state) { (void)state; run_suite("uuid.json", MF_FMT_UUID); }
static void test_suite_date(void **state) { (void)state; run_suite("date.json", MF_FMT_DATE); }
static void test_suite_time(void **state) { (void)state; run_suite("time.json", MF_FMT_TIME); }
static void test_suite_date_time(void **state)
{
    (void)state;
    run_suite("date-time.json", MF_FMT_DATE_TIME);
}
static void test_suite_email(void **state) { (void)state; run_suite("email.json", MF_FMT_EMAIL); }

#define OK(f, s) assert_true(mf_format_check((f), (s), strlen(s)))
#define BAD(f, s) assert_false(mf_format_check((f), (s), strlen(s)))

static void test_uuid_edges(void **state)
{
    (void)state;
    OK(MF_FMT_UUID, "ffffffff-ffff-ffff-ffff-ffffffffffff");
    OK(MF_FMT_UUID, "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF");
    BAD(MF_FMT_UUID, "{2eb8aa08-aa98-11ea-b4aa-73b441d16380}");
    BAD(MF_FMT_UUID, "");
    BAD(MF_FMT_UUID, "gggggggg-gggg-gggg-gggg-gggggggggggg");
    BAD(MF_FMT_UUID, "2eb8aa08-aa98-11ea-b4aa-73b441d16380 ");
    /* not NUL-terminated input: only n bytes are read */
    const char buf[40] = "2eb8aa08-aa98-11ea-b4aa-73b441d16380XXXX";
    assert_true(mf_format_check(MF_FMT_UUID, buf, 36));
    assert_false(mf_format_check(MF_FMT_UUID, buf, 35));
    assert_false(mf_format_check(MF_FMT_UUID, NULL, 0));
}

/* Every byte value at every position of a valid uuid (and of its upper-case
 * form), against the definition spelled out one byte at a time. */
static bool uuid_by_definition(const char *s, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool hyphen_place = i == 8 || i == 13 || i == 18 || i == 23;
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (hyphen_place ? c != '-' : !hex)
            return false;
    }
    return true;
}

static void test_uuid_every_byte(void **state)
{
    (void)state;
    const char *bases[] = {"0e8f5c4a-6b2d-4f1e-9a3c-7d5b8e1f2a4c", "0E8F5C4A-6B2D-4F1E-9A3C-7D5B8E1F2A4C"};
    size_t checks = 0;
    for (size_t b = 0; b < 2; b++) {
        char u[37];
        assert_true(mf_format_check(MF_FMT_UUID, bases[b], 36));
        for (size_t i = 0; i < 36; i++) {
            for (int c = 0; c < 256; c++) {
                memcpy(u, bases[b], 37);
                u[i] = (char)c;
                assert_int_equal(mf_format_check(MF_FMT_UUID, u, 36), uuid_by_definition(u, 36));
                checks++;
            }
        }
        for (size_t n = 0; n <= 36; n++)
            assert_int_equal(mf_format_check(MF_FMT_UUID, bases[b], n), n == 36);
    }
    assert_int_equal(checks, 2 * 36 * 256);
}

static void test_date_edges(void **state)
{
    (void)state;
    BAD(MF_FMT_DATE, "1900-02-29"); /* /100, not /400 */
    OK(MF_FMT_DATE, "2000-02-29");  /* /400 */
    OK(MF_FMT_DATE, "2024-02-29");
    BAD(MF_FMT_DATE, "2023-02-29");
    BAD(MF_FMT_DATE, "2024-02-30");
    OK(MF_FMT_DATE, "2023-02-28");
    BAD(MF_FMT_DATE, "2024-13-01");
    BAD(MF_FMT_DATE, "2024-01-00");
    BAD(MF_FMT_DATE, "2024-00-10");
    OK(MF_FMT_DATE, "0000-01-01");
    OK(MF_FMT_DATE, "0000-02-29"); /* year 0 is divisible by 400 */
    OK(MF_FMT_DATE, "9999-12-31");
    BAD(MF_FMT_DATE, "2024-1-015");
    BAD(MF_FMT_DATE, "2024-01-15T");
    /* a truncated buffer: only n bytes are read */
    assert_false(mf_format_check(MF_FMT_DATE, "2024-01-15", 9));
}

static void test_time_edges(void **state)
{
    (void)state;
    OK(MF_FMT_TIME, "00:00:00Z");
    OK(MF_FMT_TIME, "23:59:59.999999999+14:00");
    OK(MF_FMT_TIME, "12:00:00.5-00:00");
    OK(MF_FMT_TIME, "12:00:00+23:59");
    BAD(MF_FMT_TIME, "12:00:00.Z");   /* fraction needs a digit */
    BAD(MF_FMT_TIME, "12:00:00.5");   /* offset required */
    BAD(MF_FMT_TIME, "12:00Z");       /* seconds required */
    BAD(MF_FMT_TIME, "12:00:00+0100");
    BAD(MF_FMT_TIME, "12:00:00+01");
    BAD(MF_FMT_TIME, "12:00:00+01:00:00");
    BAD(MF_FMT_TIME, "12:00:00 Z");
    BAD(MF_FMT_TIME, "12:00:00ZZ");
    BAD(MF_FMT_TIME, "-1:00:00Z");
    OK(MF_FMT_TIME, "23:59:60.5Z");    /* a leap second may carry a fraction */
    OK(MF_FMT_TIME, "00:59:60+01:00"); /* 23:59:60 UTC */
    OK(MF_FMT_TIME, "23:59:60-00:00");
    BAD(MF_FMT_TIME, "00:59:60-01:00");
}

static void test_date_time_edges(void **state)
{
    (void)state;
    OK(MF_FMT_DATE_TIME, "2024-02-29T12:00:00Z");
    BAD(MF_FMT_DATE_TIME, "2023-02-29T12:00:00Z");
    BAD(MF_FMT_DATE_TIME, "1900-02-29T12:00:00Z");
    OK(MF_FMT_DATE_TIME, "2000-02-29T12:00:00.123456+05:30");
    BAD(MF_FMT_DATE_TIME, "2024-01-01 12:00:00Z"); /* space separator */
    BAD(MF_FMT_DATE_TIME, "2024-01-01T12:00:00");  /* offset required */
    BAD(MF_FMT_DATE_TIME, "2024-01-01");
    BAD(MF_FMT_DATE_TIME, "2024-01-01T");
    BAD(MF_FMT_DATE_TIME, "2024-13-01T00:00:00Z");
    BAD(MF_FMT_DATE_TIME, "2024-01-00T00:00:00Z");
    OK(MF_FMT_DATE_TIME, "2016-12-31t23:59:60z");
    BAD(MF_FMT_DATE_TIME, "2024-01-01T12:00:00.Z");
}

static void test_time_hm(void **state)
{
    (void)state;
    OK(MF_FMT_TIME_HM, "00:00");
    OK(MF_FMT_TIME_HM, "22:30");
    OK(MF_FMT_TIME_HM, "23:59");
    OK(MF_FMT_TIME_HM, "07:05:09");
    OK(MF_FMT_TIME_HM, "07:05:09.250");
    BAD(MF_FMT_TIME_HM, "24:00");
    BAD(MF_FMT_TIME_HM, "24:00:00");
    BAD(MF_FMT_TIME_HM, "23:60");
    BAD(MF_FMT_TIME_HM, "7:05");
    BAD(MF_FMT_TIME_HM, "07:5");
    BAD(MF_FMT_TIME_HM, "0705");
    BAD(MF_FMT_TIME_HM, "07:05Z");
    BAD(MF_FMT_TIME_HM, "07:05:00Z");
    BAD(MF_FMT_TIME_HM, "07:05:00+01:00");
    BAD(MF_FMT_TIME_HM, "07:05:60"); /* no leap seconds without an offset */
    BAD(MF_FMT_TIME_HM, "07:05:");
    BAD(MF_FMT_TIME_HM, "07:05:00.");
    BAD(MF_FMT_TIME_HM, "");
    BAD(MF_FMT_TIME_HM, " 07:05");
}

static void test_email_edges(void **state)
{
    (void)state;
    OK(MF_FMT_EMAIL, "a@b");
    OK(MF_FMT_EMAIL, "user@localhost");
    OK(MF_FMT_EMAIL, "first.last+tag@sub.example-domain.org");
    OK(MF_FMT_EMAIL, "!#$%&'*+/=?^_`{|}~-@example.com");
    OK(MF_FMT_EMAIL, "\"a\\\"b\"@example.com");  /* quoted-pair */
    BAD(MF_FMT_EMAIL, "\"\"@example.com");       /* empty quoted string */
    BAD(MF_FMT_EMAIL, "\"abc@example.com");      /* unterminated quote */
    BAD(MF_FMT_EMAIL, "\"a\"b@example.com");     /* quoted string then atext */
    BAD(MF_FMT_EMAIL, "a@-example.com");
    BAD(MF_FMT_EMAIL, "a@example-.com");
    BAD(MF_FMT_EMAIL, "a@example..com");
    BAD(MF_FMT_EMAIL, "a@example.com.");
    BAD(MF_FMT_EMAIL, "a@.example.com");
    BAD(MF_FMT_EMAIL, "a@b@example.com");
    BAD(MF_FMT_EMAIL, "a@ex_ample.com");
    BAD(MF_FMT_EMAIL, "j\xc3\xb6rg@example.com"); /* no IDN / SMTPUTF8 */
    BAD(MF_FMT_EMAIL, "jorg@exa\xc3\xb6mple.com");
    BAD(MF_FMT_EMAIL, "a\tb@example.com");
    OK(MF_FMT_EMAIL, "a@[IPv6:2001:db8::1]");
    OK(MF_FMT_EMAIL, "a@[IPv6:2001:db8:0:0:0:0:0:1]");
    OK(MF_FMT_EMAIL, "a@[IPv6:::ffff:192.0.2.1]");
    OK(MF_FMT_EMAIL, "a@[IPv6:1:2:3:4:5:6:192.0.2.1]");
    OK(MF_FMT_EMAIL, "a@[IPv6:1::]");
    BAD(MF_FMT_EMAIL, "a@[IPv6:1:2:3:4:5:6:7]");     /* 7 groups */
    BAD(MF_FMT_EMAIL, "a@[IPv6:1:2:3:4:5:6:7:8:9]"); /* 9 groups */
    BAD(MF_FMT_EMAIL, "a@[IPv6:1::2::3]");
    BAD(MF_FMT_EMAIL, "a@[IPv6:1:2:3:4::5:6:7]");    /* "::" with 7 groups */
    BAD(MF_FMT_EMAIL, "a@[IPv6:12345::1]");
    BAD(MF_FMT_EMAIL, "a@[IPv6:1:]");
    BAD(MF_FMT_EMAIL, "a@[IPv6:]");
    BAD(MF_FMT_EMAIL, "a@[1.2.3]");
    BAD(MF_FMT_EMAIL, "a@[1.2.3.4.5]");
    BAD(MF_FMT_EMAIL, "a@[1.2.3.4");
    BAD(MF_FMT_EMAIL, "a@[::1]"); /* IPv6 needs the tag */
    BAD(MF_FMT_EMAIL, "a@[tag:text]"); /* general address literals are not accepted */

    /* lengths: local part <= 64, a DNS label <= 63, the whole address <= 254 */
    char buf[300];
    memset(buf, 'a', 64);
    strcpy(buf + 64, "@example.com");
    OK(MF_FMT_EMAIL, buf);
    memset(buf, 'a', 65);
    strcpy(buf + 65, "@example.com");
    BAD(MF_FMT_EMAIL, buf);
    strcpy(buf, "a@");
    memset(buf + 2, 'b', 63);
    strcpy(buf + 65, ".com");
    OK(MF_FMT_EMAIL, buf);
    strcpy(buf, "a@");
    memset(buf + 2, 'b', 64);
    strcpy(buf + 66, ".com");
    BAD(MF_FMT_EMAIL, buf);
    /* 254 bytes: "a@" + 4 labels of 61 + dots ... build to exact sizes */
    size_t n = 0;
    buf[n++] = 'a';
    buf[n++] = '@';
    while (n < 254) {
        size_t label = 254 - n < 61 ? 254 - n : 61;
        if (n > 2)
            buf[n++] = '.', label = 254 - n < 61 ? 254 - n : 61;
        memset(buf + n, 'c', label);
        n += label;
    }
    buf[n] = '\0';
    assert_int_equal(strlen(buf), 254);
    OK(MF_FMT_EMAIL, buf);
    buf[n++] = 'c';
    buf[n] = '\0';
    BAD(MF_FMT_EMAIL, buf);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(mf_format_name(MF_FMT_NONE), "");
    assert_string_equal(mf_format_name(MF_FMT_UUID), "uuid");
    assert_string_equal(mf_format_name(MF_FMT_DATE_TIME), "date-time");
    assert_string_equal(mf_format_name(MF_FMT_DATE), "date");
    assert_string_equal(mf_format_name(MF_FMT_TIME), "time");
    assert_string_equal(mf_format_name(MF_FMT_TIME_HM), "time-hm");
    assert_string_equal(mf_format_name(MF_FMT_EMAIL), "email");
    assert_string_equal(mf_format_name((mf_format)99), "");
    OK(MF_FMT_NONE, "anything at all");
    assert_false(mf_format_check((mf_format)99, "x", 1)); /* unknown: fail closed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_uuid),
        cmocka_unit_test(test_suite_date),
        cmocka_unit_test(test_suite_time),
        cmocka_unit_test(test_suite_date_time),
        cmocka_unit_test(test_suite_email),
        cmocka_unit_test(test_uuid_edges),
        cmocka_unit_test(test_uuid_every_byte),
        cmocka_unit_test(test_date_edges),
        cmocka_unit_test(test_time_edges),
        cmocka_unit_test(test_date_time_edges),
        cmocka_unit_test(test_time_hm),
        cmocka_unit_test(test_email_edges),
        cmocka_unit_test(test_names),
    };
    return mf_skip_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
