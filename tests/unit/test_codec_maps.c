/*
 * test_codec_maps.c - maps (additionalProperties with a schema) and arrays built in C and
 * given to the codec: more than 16 keys (where duplicate detection sorts instead of
 * comparing pairs) with and without a duplicate, through mf_validate, mf_encode,
 * mf_decode, mf_copy and mf_equal; and values whose pointers disagree with their counts
 * (a map of n members without keys, an array without items), which must be refused or
 * compared without being read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mf/buf.h"
#include "mf/codec.h"
#include "mf_skip.h"

static const mf_type str_t = {.kind = MF_K_STR, .name = "Str", .size = sizeof(char *)};
static const mf_type map_t = {.kind = MF_K_MAP, .name = "Labels", .size = sizeof(mf_map), .item = &str_t};
static const mf_type arr_t = {.kind = MF_K_ARR, .name = "Tags", .size = sizeof(mf_array), .item = &str_t};

#define N 20

static char keybuf[N][8];
static char *keys[N];
static char *vals[N];

static mf_map labels(void)
{
    for (int i = 0; i < N; i++) {
        snprintf(keybuf[i], sizeof keybuf[i], "k%02d", i);
        keys[i] = keybuf[i];
        vals[i] = "v";
    }
    mf_map m = {keys, vals, N};
    return m;
}

static void test_many_keys(void **state)
{
    (void)state;
    mf_error err;
    mf_map m = labels();
    assert_int_equal(mf_validate(&map_t, &m, &err), MF_OK);
    mf_buf b = MF_BUF_INIT;
    assert_int_equal(mf_encode(&map_t, &m, &b, &err), MF_OK);
    assert_non_null(strstr(b.data, "\"k19\":\"v\""));

    /* the encoded text decodes to an equal map, and a copy is equal too */
    mf_map back;
    assert_int_equal(mf_decode(&map_t, b.data, b.len, &back, &err), MF_OK);
    assert_int_equal(back.count, N);
    assert_true(mf_equal(&map_t, &m, &back));
    mf_map copy;
    assert_int_equal(mf_copy(&map_t, &copy, &m, &err), MF_OK);
    assert_true(mf_equal(&map_t, &copy, &back));
    ((char **)copy.values)[5][0] = 'w';
    assert_false(mf_equal(&map_t, &copy, &back));
    mf_free(&map_t, &copy);
    mf_free(&map_t, &back);
    mf_buf_free(&b);
}

static void test_duplicate_among_many(void **state)
{
    (void)state;
    mf_error err;
    mf_map m = labels();
    keys[17] = keys[3]; /* "k03" twice, far apart */
    assert_int_equal(mf_validate(&map_t, &m, &err), MF_ERR_DUPLICATE);
    assert_non_null(strstr(err.message, "k03"));
    mf_buf b = MF_BUF_INIT;
    assert_int_equal(mf_encode(&map_t, &m, &b, &err), MF_ERR_DUPLICATE);
    mf_buf_free(&b);
    /* the same in JSON: 20 members, one name twice */
    mf_buf j = MF_BUF_INIT;
    mf_buf_append_char(&j, '{');
    for (int i = 0; i < N; i++)
        mf_buf_printf(&j, "%s\"k%02d\":\"v\"", i ? "," : "", i == 17 ? 3 : i);
    mf_buf_append_char(&j, '}');
    mf_map back;
    assert_int_equal(mf_decode(&map_t, j.data, j.len, &back, &err), MF_ERR_DUPLICATE);
    mf_buf_free(&j);
}

static void test_counts_without_pointers(void **state)
{
    (void)state;
    mf_error err;
    mf_map holes = {NULL, NULL, 3};
    assert_int_equal(mf_validate(&map_t, &holes, &err), MF_ERR_INVALID_ARG);
    mf_map copy;
    assert_int_equal(mf_copy(&map_t, &copy, &holes, &err), MF_ERR_INVALID_ARG);
    mf_map m = labels();
    mf_map same = {NULL, NULL, N};
    assert_false(mf_equal(&map_t, &m, &same));
    mf_map holes2 = {NULL, NULL, 3};
    assert_true(mf_equal(&map_t, &holes, &holes2)); /* both without pointers: compared as pointers */
    mf_map fewer = m;
    fewer.count = N - 1;
    assert_false(mf_equal(&map_t, &m, &fewer));

    mf_array none = {NULL, 2};
    char *items[2] = {"a", "b"};
    mf_array two = {items, 2};
    assert_false(mf_equal(&arr_t, &two, &none));
    mf_array none2 = {NULL, 2};
    assert_true(mf_equal(&arr_t, &none, &none2));
    char *items2[2] = {"a", NULL}; /* a NULL string equals only a NULL string */
    mf_array two_null = {items2, 2};
    assert_false(mf_equal(&arr_t, &two, &two_null));
    char *items3[2] = {"a", "b"};
    mf_array two_again = {items3, 2};
    assert_true(mf_equal(&arr_t, &two, &two_again));
    assert_false(mf_equal(&arr_t, NULL, &two));
    assert_true(mf_equal(&arr_t, NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_duplicate_among_many),
        cmocka_unit_test(test_counts_without_pointers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
