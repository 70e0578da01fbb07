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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixtures),
        cmocka_unit_test(unions_and_friends),
        cmocka_unit_test(exact_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
