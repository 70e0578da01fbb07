/*
 * test_lifecycle_edges.c - mf_init, mf_copy, mf_free, mf_equal and the enum helpers
 * (runtime/codec/lifecycle.c) on values the decoder never produces but a C caller may
 * build: defaults of an object nested in an object, a union whose `which` is unset or out
 * of range, a union holding an owned string, NULL and aliased arguments, enum texts with
 * an embedded NUL or out of range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mf/codec.h"
#include "mf_skip.h"

typedef struct inner {
    bool flag;
    int64_t n;
    double x;
    int level;
    char *label;
} inner;

typedef struct outer {
    inner in;      /* no default of its own: its members' defaults apply */
    inner in2;     /* an object member marked with a default: the same */
} outer;

static const char *const levels[] = {"low", "high"};
static const mf_type bool_t = {.kind = MF_K_BOOL, .name = "bool", .size = sizeof(bool)};
static const mf_type int_t = {.kind = MF_K_INT, .name = "int", .size = sizeof(int64_t)};
static const mf_type num_t = {.kind = MF_K_NUM, .name = "num", .size = sizeof(double)};
static const mf_type level_t = {.kind = MF_K_ENUM, .name = "Level", .size = sizeof(int), .enum_values = levels,
                                .enum_count = 2};
static const mf_type str_t = {.kind = MF_K_STR, .name = "str", .size = sizeof(char *)};

static const mf_field inner_fields[] = {
    {"flag", &bool_t, offsetof(inner, flag), -1, -1, false, true, {.b = true}, NULL, 0, {0}},
    {"n", &int_t, offsetof(inner, n), -1, -1, false, true, {.i = 42}, NULL, 0, {0}},
    {"x", &num_t, offsetof(inner, x), -1, -1, false, true, {.n = 2.5}, NULL, 0, {0}},
    {"level", &level_t, offsetof(inner, level), -1, -1, false, true, {.e = 2}, NULL, 0, {0}},
    {"label", &str_t, offsetof(inner, label), -1, -1, false, true, {.s = "dflt"}, NULL, 0, {0}},
};
static const mf_type inner_t = {.kind = MF_K_OBJ, .name = "Inner", .size = sizeof(inner), .fields = inner_fields,
                                .field_count = 5};
static const mf_field outer_fields[] = {
    {"in", &inner_t, offsetof(outer, in), -1, -1, true, false, {0}, NULL, 0, {0}},
    {"in2", &inner_t, offsetof(outer, in2), -1, -1, false, true, {0}, NULL, 0, {0}},
};
static const mf_type outer_t = {.kind = MF_K_OBJ, .name = "Outer", .size = sizeof(outer), .fields = outer_fields,
                                .field_count = 2};

static void test_nested_defaults(void **state)
{
    (void)state;
    outer o;
    memset(&o, 0x7f, sizeof o);
    mf_init(&outer_t, &o);
    for (int k = 0; k < 2; k++) {
        const inner *i = k ? &o.in2 : &o.in;
        assert_true(i->flag);
        assert_int_equal(i->n, 42);
        assert_true(i->x == 2.5);
        assert_int_equal(i->level, 2);
        assert_null(i->label); /* mf_init never allocates: strings come from the decoder */
    }
    mf_init(NULL, &o);
    mf_init(&outer_t, NULL);
}

typedef struct choice {
    int which;
    union {
        int64_t n;
        char *s;
    } u;
} choice;

static const mf_type *const choice_branches[] = {&int_t, &str_t};
static const mf_type choice_t = {.kind = MF_K_UNION, .name = "Choice", .size = sizeof(choice),
                                 .branches = choice_branches, .branch_count = 2,
                                 .branch_offset = offsetof(choice, u)};

static void test_unions(void **state)
{
    (void)state;
    mf_error err;
    choice a = {.which = 2}, b;
    a.u.s = strdup("text");
    assert_int_equal(mf_copy(&choice_t, &b, &a, &err), MF_OK);
    assert_int_equal(b.which, 2);
    assert_ptr_not_equal(b.u.s, a.u.s);
    assert_true(mf_equal(&choice_t, &a, &b));
    b.u.s[0] = 'n';
    assert_false(mf_equal(&choice_t, &a, &b));
    mf_free(&choice_t, &b);
    mf_free(&choice_t, &a);

    /* unset and out-of-range `which`: nothing owned, nothing read */
    choice u0 = {.which = 0}, u9 = {.which = 9}, c;
    u9.u.s = (char *)"not owned";
    assert_int_equal(mf_copy(&choice_t, &c, &u9, &err), MF_OK);
    assert_int_equal(c.which, 9);
    choice u9b = {.which = 9};
    assert_true(mf_equal(&choice_t, &u9, &u9b));
    assert_false(mf_equal(&choice_t, &u0, &u9));
    mf_free(&choice_t, &u9); /* must not free the static text */
    mf_free(&choice_t, &u0);
    choice n1 = {.which = 1}, n2 = {.which = 1};
    n1.u.n = 5;
    n2.u.n = 6;
    assert_false(mf_equal(&choice_t, &n1, &n2));

    /* NULL and aliased arguments */
    assert_int_equal(mf_copy(NULL, &c, &n1, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_copy(&choice_t, NULL, &n1, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_copy(&choice_t, &c, NULL, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_copy(&choice_t, &n1, &n1, &err), MF_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "same"));
    assert_false(mf_equal(NULL, &n1, &n2));
    mf_free(NULL, &n1);
    mf_free(&choice_t, NULL);
}

static void test_enum_texts(void **state)
{
    (void)state;
    assert_string_equal(mf_enum_to_string(&level_t, 1), "low");
    assert_null(mf_enum_to_string(&level_t, 0));
    assert_null(mf_enum_to_string(&level_t, 3));
    assert_null(mf_enum_to_string(&int_t, 1));
    assert_null(mf_enum_to_string(NULL, 1));
    assert_int_equal(mf_enum_from_string(&level_t, "high", 4), 2);
    assert_int_equal(mf_enum_from_string(&level_t, "hig", 3), 0);
    assert_int_equal(mf_enum_from_string(&level_t, "high\0x", 6), 0); /* an embedded NUL */
    assert_int_equal(mf_enum_from_string(&level_t, NULL, 0), 0);
    assert_int_equal(mf_enum_from_string(&str_t, "low", 3), 0);
    assert_int_equal(mf_enum_from_string(NULL, "low", 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_defaults),
        cmocka_unit_test(test_unions),
        cmocka_unit_test(test_enum_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
