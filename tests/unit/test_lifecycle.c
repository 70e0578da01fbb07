/*
 * test_lifecycle.c - mf_init (defaults), mf_free (any state, twice), mf_copy
 * (deep, failure leaves nothing), mf_equal (presence-aware) and the enum helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"

static void test_init_defaults(void **state)
{
    (void)state;
    fx_doc d;
    memset(&d, 0x77, sizeof d);
    mf_init(&fx_doc_desc, &d);
    assert_null(d.id);
    assert_int_equal(d.count, 0);
    assert_int_equal(d.color, 0);
    assert_null(d.lang); /* string defaults are not allocated by mf_init */
    assert_false(d.has_settings);
    assert_true(d.settings.enabled);
    assert_int_equal(d.settings.retries, 3);
    assert_true(d.settings.ratio == 0.5);
    assert_int_equal(d.settings.color, FX_COLOR_GREEN);
    assert_null(d.settings.label);
    assert_int_equal(d.shape.which, 0);
    assert_null(d.tags.items);
    assert_int_equal(d.tags.count, 0);
    mf_init(NULL, &d); /* no-op */
    mf_init(&fx_doc_desc, NULL);
    int64_t i = 5;
    mf_init(&fx_int_desc, &i);
    assert_int_equal(i, 0);
}

static void test_free_any_state(void **state)
{
    (void)state;
    fx_doc d;
    memset(&d, 0, sizeof d);
    mf_free(&fx_doc_desc, &d); /* zeroed */
    assert_true(fx_is_init(&fx_doc_desc, &d));
    mf_free(&fx_doc_desc, &d); /* initialised */
    fx_doc_build_full(&d);
    mf_free(&fx_doc_desc, &d);
    assert_true(fx_is_init(&fx_doc_desc, &d));
    mf_free(&fx_doc_desc, &d); /* twice */
    mf_free(&fx_doc_desc, NULL);
    mf_free(NULL, &d);
    /* pointers are freed whatever the presence flags say */
    mf_init(&fx_doc_desc, &d);
    d.note = strdup("orphan");
    d.has_note = false;
    d.any.which = FX_ANY_STR;
    d.any.u.s = strdup("branch");
    mf_free(&fx_doc_desc, &d); /* no leak under ASan/valgrind */
    assert_null(d.note);
    /* a partial array: count set with all items initialised */
    mf_init(&fx_doc_desc, &d);
    d.tags.items = calloc(3, sizeof(char *));
    d.tags.count = 3;
    d.tags.items[0] = strdup("x");
    mf_free(&fx_doc_desc, &d);
}

static void test_copy(void **state)
{
    (void)state;
    fx_doc a, b;
    mf_error err;
    fx_doc_build_full(&a);
    memset(&b, 0x33, sizeof b);
    assert_int_equal(mf_copy(&fx_doc_desc, &b, &a, &err), MF_OK);
    assert_true(mf_equal(&fx_doc_desc, &a, &b));
    assert_ptr_not_equal(a.id, b.id);
    assert_ptr_not_equal(a.tags.items, b.tags.items);
    assert_ptr_not_equal(a.tags.items[0], b.tags.items[0]);
    assert_ptr_not_equal(a.labels.keys[0], b.labels.keys[0]);
    assert_ptr_not_equal(a.shape.u.rect.kind, b.shape.u.rect.kind);
    assert_ptr_not_equal(a.any.u.arr.items, b.any.u.arr.items);
    assert_ptr_not_equal(a.extra, b.extra);
    b.any.u.arr.items[0] = 99;
    assert_false(mf_equal(&fx_doc_desc, &a, &b));
    mf_free(&fx_doc_desc, &b);
    /* a string union branch */
    a.any.which = FX_ANY_STR;
    int64_t *arr = a.any.u.arr.items;
    a.any.u.s = strdup("s");
    assert_int_equal(mf_copy(&fx_doc_desc, &b, &a, &err), MF_OK);
    assert_string_equal(b.any.u.s, "s");
    assert_ptr_not_equal(b.any.u.s, a.any.u.s);
    mf_free(&fx_doc_desc, &b);
    free(a.any.u.s);
    a.any.which = FX_ANY_ARR;
    a.any.u.arr.items = arr;
    /* a broken source: nothing is left in dst */
    char **tags = a.tags.items;
    a.tags.items = NULL;
    assert_int_equal(mf_copy(&fx_doc_desc, &b, &a, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/tags");
    assert_true(fx_is_init(&fx_doc_desc, &b));
    a.tags.items = tags;
    assert_int_equal(mf_copy(&fx_doc_desc, &a, &a, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_copy(NULL, &b, &a, &err), MF_ERR_INVALID_ARG);
    mf_free(&fx_doc_desc, &a);
}

static void test_equal(void **state)
{
    (void)state;
    fx_doc a, b;
    fx_doc_build_full(&a);
    assert_int_equal(mf_copy(&fx_doc_desc, &b, &a, NULL), MF_OK);
    assert_true(mf_equal(&fx_doc_desc, &a, &b));
    assert_true(mf_equal(&fx_doc_desc, &a, &a));
    assert_false(mf_equal(&fx_doc_desc, &a, NULL));
#define DIFF(stmt, undo)                                 \
    do {                                                 \
        stmt;                                            \
        assert_false(mf_equal(&fx_doc_desc, &a, &b));    \
        assert_false(mf_equal(&fx_doc_desc, &b, &a));    \
        undo;                                            \
        assert_true(mf_equal(&fx_doc_desc, &a, &b));     \
    } while (0)
    DIFF(b.count = 8, b.count = 7);
    DIFF(b.score = 12.25, b.score = 12.5);
    DIFF(b.has_level = false, b.has_level = true);
    DIFF(b.note_is_null = false, b.note_is_null = true);
    DIFF(b.name[0] = 'W', b.name[0] = 'w');
    DIFF(b.tags.count = 1, b.tags.count = 2);
    DIFF(b.labels.keys[0][0] = 'E', b.labels.keys[0][0] = 'e');
    DIFF(b.labels.values[1][0] = 'b', b.labels.values[1][0] = 'B');
    DIFF(b.points.items[1].x = 5, b.points.items[1].x = 0);
    DIFF(b.colors.items[0] = FX_COLOR_BLUE, b.colors.items[0] = FX_COLOR_RED);
    DIFF(b.settings.enabled = true, b.settings.enabled = false);
    DIFF(b.extra[1] = '2', b.extra[1] = '1');
    DIFF(b.shape.u.rect.h = 0.2, b.shape.u.rect.h = 0.1);
    DIFF(b.any.which = FX_ANY_BOOL, b.any.which = FX_ANY_ARR);
    /* absent members: their values do not matter */
    a.has_score = b.has_score = false;
    b.score = 77;
    assert_true(mf_equal(&fx_doc_desc, &a, &b));
    /* a null member: the value does not matter */
    a.owner_is_null = b.owner_is_null = true;
    free(b.owner);
    b.owner = NULL;
    assert_true(mf_equal(&fx_doc_desc, &a, &b));
    mf_free(&fx_doc_desc, &a);
    mf_free(&fx_doc_desc, &b);
}

static void test_enum_helpers(void **state)
{
    (void)state;
    assert_string_equal(mf_enum_to_string(&fx_color_desc, FX_COLOR_RED), "red");
    assert_string_equal(mf_enum_to_string(&fx_color_desc, FX_COLOR_BLUE), "blue");
    assert_null(mf_enum_to_string(&fx_color_desc, 0));
    assert_null(mf_enum_to_string(&fx_color_desc, 4));
    assert_null(mf_enum_to_string(&fx_color_desc, -1));
    assert_null(mf_enum_to_string(&fx_int_desc, 1));
    assert_null(mf_enum_to_string(NULL, 1));
    assert_int_equal(mf_enum_from_string(&fx_color_desc, "green", 5), FX_COLOR_GREEN);
    assert_int_equal(mf_enum_from_string(&fx_color_desc, "greenish", 5), FX_COLOR_GREEN);
    assert_int_equal(mf_enum_from_string(&fx_color_desc, "gree", 4), 0);
    assert_int_equal(mf_enum_from_string(&fx_color_desc, "green", 6), 0); /* includes the NUL */
    assert_int_equal(mf_enum_from_string(&fx_color_desc, "", 0), 0);
    assert_int_equal(mf_enum_from_string(&fx_color_desc, "Red", 3), 0);
    assert_int_equal(mf_enum_from_string(&fx_color_desc, NULL, 0), 0);
    assert_int_equal(mf_enum_from_string(NULL, "red", 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_defaults),
        cmocka_unit_test(test_free_any_state),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_enum_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
