/*
 * test_encode_checks.c - mf_encode checks values as it writes them; on every
 * value broken in every way encode_diff.h knows, it must fail exactly as
 * mf_validate does (status, code, pointer) and leave the buffer unchanged,
 * and a valid value must encode to text that decodes back to it. Values:
 * the fixtures' documents and the union/not/... documents of diff_types.h,
 * decoded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diff_types.h"
#include "encode_diff.h"
#include "fixtures.h"

static size_t failures;

static void report(const char *why, void *ctx)
{
    (void)ctx;
    if (failures++ < 20)
        print_message("DIFF %s\n", why);
}

/* Decodes json as t; every value that decodes is broken part by part. */
static size_t check_doc(const mf_type *t, const char *json)
{
    void *v = calloc(1, t->size ? t->size : 1);
    size_t n = 0;
    assert_non_null(v);
    if (mf_decode(t, json, strlen(json), v, NULL) == MF_OK)
        n = enc_diff_value(t, v, report, NULL);
    mf_free(t, v);
    free(v);
    return n;
}

static void fixtures(void **state)
{
    (void)state;
    static const char *const extra[] = {
        "{\"kind\":\"circle\",\"radius\":2}", "{\"kind\":\"rect\",\"w\":1,\"h\":2}", "true", "7", "2.5", "\"s\"",
        "[1,2]", "{\"x\":1,\"y\":2}", "{\"a\":\"b\",\"c\":\"d\"}", "{\"kids\":[{\"kids\":[{}]},{}]}",
        "{\"enabled\":false,\"retries\":4,\"ratio\":0.25,\"color\":\"red\",\"label\":\"x\"}",
    };
    const mf_type *types[] = {&fx_shape_desc, &fx_any_desc, &fx_labels_desc, &fx_point_desc,
                              &fx_tree_desc,  &fx_settings_desc, &fx_int_list_desc};
    size_t n = 0;
    failures = 0;
    n += check_doc(&fx_doc_desc, fx_doc_full_json);
    n += check_doc(&fx_doc_desc, fx_doc_min_json);
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
            n += check_doc(types[k], extra[i]);
    print_message("%zu encodes compared, %zu differences\n", n, failures);
    assert_true(n > 300);
    assert_int_equal(failures, 0);
}

static void unions_and_friends(void **state)
{
    (void)state;
    size_t n = 0;
    failures = 0;
    for (size_t i = 0; i < sizeof dt_docs / sizeof dt_docs[0]; i++)
        for (size_t k = 0; k < sizeof dt_types / sizeof dt_types[0]; k++)
            n += check_doc(dt_types[k], dt_docs[i]);
    print_message("%zu encodes compared, %zu differences\n", n, failures);
    assert_true(n > 100);
    assert_int_equal(failures, 0);
}

/* A buffer limit of exactly the output size works; one byte less fails with
 * MF_ERR_LIMIT and leaves the buffer as it was. */
static void exact_limits(void **state)
{
    (void)state;
    fx_doc d;
    mf_buf full = MF_BUF_INIT;
    assert_int_equal(mf_decode(&fx_doc_desc, fx_doc_full_json, strlen(fx_doc_full_json), &d, NULL), MF_OK);
    assert_int_equal(mf_encode(&fx_doc_desc, &d, &full, NULL), MF_OK);
    for (size_t lim = full.len - 40; lim <= full.len; lim++) {
        mf_buf b = MF_BUF_INIT;
        mf_error err;
        b.limit = lim;
        mf_status st = mf_encode(&fx_doc_desc, &d, &b, &err);
        if (lim == full.len) {
            assert_int_equal(st, MF_OK);
            assert_memory_equal(b.data, full.data, full.len);
        } else {
            assert_int_equal(st, MF_ERR_LIMIT);
            assert_int_equal(b.len, 0);
        }
        mf_buf_free(&b);
    }
    mf_buf_free(&full);
    mf_free(&fx_doc_desc, &d);
}

/* Strings of the formats mf_encode writes without the escaping scan (uuid, date-time, date, time,
 * time-hm), with the constraints that are checked after the format: a value that passes its
 * format and fails its length or constant fails as mf_validate says; broken in every way
 * encode_diff.h knows (invalid UTF-8 included), each fails as mf_validate does. */
typedef struct pf_doc {
    char *id, *at, *day, *t, *hm;
} pf_doc;
static const mf_type pf_id = {.kind = MF_K_STR, .name = "Id", .size = sizeof(char *), .format = MF_FMT_UUID,
                              .flags = MF_TF_HAS_CONST, .constant = {.s = "0e8f5c4a-6b2d-4f1e-9a3c-7d5b8e1f2a4c"}};
static const mf_type pf_at = {.kind = MF_K_STR, .name = "At", .size = sizeof(char *), .format = MF_FMT_DATE_TIME,
                              .max_len = 20};
static const mf_type pf_day = {.kind = MF_K_STR, .name = "Day", .size = sizeof(char *), .format = MF_FMT_DATE};
static const mf_type pf_t = {.kind = MF_K_STR, .name = "T", .size = sizeof(char *), .format = MF_FMT_TIME,
                             .min_len = 10};
static const mf_type pf_hm = {.kind = MF_K_STR, .name = "Hm", .size = sizeof(char *), .format = MF_FMT_TIME_HM};
static const mf_field pf_fields[] = {
    {.name = "id", .type = &pf_id, .offset = offsetof(pf_doc, id), .has_offset = -1, .null_offset = -1, .required = true},
    {.name = "at", .type = &pf_at, .offset = offsetof(pf_doc, at), .has_offset = -1, .null_offset = -1, .required = true},
    {.name = "day", .type = &pf_day, .offset = offsetof(pf_doc, day), .has_offset = -1, .null_offset = -1,
     .required = true},
    {.name = "t", .type = &pf_t, .offset = offsetof(pf_doc, t), .has_offset = -1, .null_offset = -1, .required = true},
    {.name = "hm", .type = &pf_hm, .offset = offsetof(pf_doc, hm), .has_offset = -1, .null_offset = -1, .required = true},
};
static const mf_type pf_doc_t = {.kind = MF_K_OBJ, .name = "Pf", .size = sizeof(pf_doc), .fields = pf_fields,
                                 .field_count = 5};

static void plain_formats(void **state)
{
    (void)state;
    static const char ok[] = "{\"id\":\"0e8f5c4a-6b2d-4f1e-9a3c-7d5b8e1f2a4c\",\"at\":\"2026-03-02T08:00:03Z\","
                             "\"day\":\"2024-02-29\",\"t\":\"08:00:03.5+01:00\",\"hm\":\"23:59:59.999\"}";
    pf_doc d;
    mf_buf b = MF_BUF_INIT;
    assert_int_equal(mf_decode(&pf_doc_t, ok, strlen(ok), &d, NULL), MF_OK);
    assert_int_equal(mf_encode(&pf_doc_t, &d, &b, NULL), MF_OK);
    assert_string_equal(b.data, ok);
    const struct {
        char **at;
        const char *value;
        mf_status code;
        const char *pointer;
    } bad[] = {
        {&d.id, "0e8f5c4a-6b2d-4f1e-9a3c-7d5b8e1f2a4d", MF_ERR_CONST, "/id"},  /* a uuid, not the constant */
        {&d.at, "2026-03-02T08:00:03.5Z", MF_ERR_LENGTH, "/at"},             /* a date-time, 22 characters */
        {&d.t, "08:00:03Z", MF_ERR_LENGTH, "/t"},                            /* a time, 9 characters */
        {&d.day, "2026-02-29", MF_ERR_FORMAT, "/day"},                       /* not a leap year */
        {&d.hm, "24:00", MF_ERR_FORMAT, "/hm"},
        {&d.id, "0e8f5c4a-6b2d-4f1e-9a3c-7d5b8e1f2a4\xc3", MF_ERR_UTF8, "/id"}, /* UTF-8 before the format */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *keep = *bad[i].at;
        mf_error e1, e2;
        *bad[i].at = (char *)bad[i].value;
        mf_buf_reset(&b);
        assert_int_equal(mf_encode(&pf_doc_t, &d, &b, &e1), bad[i].code);
        assert_int_equal(mf_validate(&pf_doc_t, &d, &e2), bad[i].code);
        assert_string_equal(e1.pointer, bad[i].pointer);
        assert_string_equal(e1.pointer, e2.pointer);
        assert_string_equal(e1.message, e2.message);
        assert_int_equal(b.len, 0);
        *bad[i].at = keep;
    }
    failures = 0;
    size_t n = enc_diff_value(&pf_doc_t, &d, report, NULL);
    print_message("%zu encodes compared, %zu differences\n", n, failures);
    assert_true(n > 10);
    assert_int_equal(failures, 0);
    mf_buf_free(&b);
    mf_free(&pf_doc_t, &d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixtures),
        cmocka_unit_test(unions_and_friends),
        cmocka_unit_test(exact_limits),
        cmocka_unit_test(plain_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
