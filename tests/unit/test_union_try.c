/*
 * test_union_try.c - unions whose object branches are told apart by trying
 * them (oneOf: exactly one must match, anyOf: the first that matches), `not`,
 * uniqueItems, multipleOf and integer enums: decode, validate, encode, and
 * ownership of the strings a trial decode copies (ASan/valgrind prove no leak
 * or double free).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mf/codec.h"

typedef struct tu_a { char *a; } tu_a;                    /* closed: {a} */
typedef struct tu_b { int64_t b; } tu_b;                  /* closed: {b} */
typedef struct tu_c { char *a; bool has_n; int64_t n; } tu_c; /* open: {a, n?} */
typedef struct tu_u {
    int which;
    union {
        tu_a a;
        tu_b b;
        tu_c c;
        mf_map m;
    } u;
} tu_u;

static const mf_type t_str = {.kind = MF_K_STR, .name = "str", .size = sizeof(char *)};
static const mf_type t_int = {.kind = MF_K_INT, .name = "int", .size = sizeof(int64_t)};

static const mf_field a_fields[] = {
    {.name = "a", .type = &t_str, .offset = offsetof(tu_a, a), .has_offset = -1, .null_offset = -1, .required = true},
};
static const mf_type t_a = {.kind = MF_K_OBJ, .name = "tu_a", .size = sizeof(tu_a), .flags = MF_TF_CLOSED,
                            .fields = a_fields, .field_count = 1};
static const mf_field b_fields[] = {
    {.name = "b", .type = &t_int, .offset = offsetof(tu_b, b), .has_offset = -1, .null_offset = -1, .required = true},
};
static const mf_type t_b = {.kind = MF_K_OBJ, .name = "tu_b", .size = sizeof(tu_b), .flags = MF_TF_CLOSED,
                            .fields = b_fields, .field_count = 1};
static const mf_field c_fields[] = {
    {.name = "a", .type = &t_str, .offset = offsetof(tu_c, a), .has_offset = -1, .null_offset = -1, .required = true},
    {.name = "n", .type = &t_int, .offset = offsetof(tu_c, n), .has_offset = (int32_t)offsetof(tu_c, has_n),
     .null_offset = -1},
};
static const mf_type t_c = {.kind = MF_K_OBJ, .name = "tu_c", .size = sizeof(tu_c), .fields = c_fields,
                            .field_count = 2};
static const mf_type t_map = {.kind = MF_K_MAP, .name = "map of int", .size = sizeof(mf_map), .item = &t_int};

/* oneOf [A, B]: disjoint */
static const mf_type *const ab_branches[] = {&t_a, &t_b};
static const mf_type t_ab = {.kind = MF_K_UNION, .name = "tu_ab", .size = sizeof(tu_u), .branches = ab_branches,
                             .branch_count = 2, .branch_offset = offsetof(tu_u, u)};
/* oneOf [A, C]: {"a": ...} matches both */
static const mf_type *const ac_branches[] = {&t_a, &t_c};
static const mf_type t_ac = {.kind = MF_K_UNION, .name = "tu_ac", .size = sizeof(tu_u), .branches = ac_branches,
                             .branch_count = 2, .branch_offset = offsetof(tu_u, u)};
/* anyOf [A, C] */
static const mf_type t_ac_any = {.kind = MF_K_UNION, .name = "tu_ac_any", .size = sizeof(tu_u),
                                 .flags = MF_TF_ANY_OF, .branches = ac_branches, .branch_count = 2,
                                 .branch_offset = offsetof(tu_u, u)};
/* oneOf [A, map of int] */
static const mf_type *const am_branches[] = {&t_a, &t_map};
static const mf_type t_am = {.kind = MF_K_UNION, .name = "tu_am", .size = sizeof(tu_u), .branches = am_branches,
                             .branch_count = 2, .branch_offset = offsetof(tu_u, u)};

static mf_status dec(const mf_type *t, const char *json, void *out, mf_error *err)
{
    return mf_decode(t, json, strlen(json), out, err);
}

static void oneof_picks_the_branch_that_matches(void **state)
{
    (void)state;
    tu_u v;
    mf_error err;
    assert_int_equal(dec(&t_ab, "{\"a\":\"x\"}", &v, &err), MF_OK);
    assert_int_equal(v.which, 1);
    assert_string_equal(v.u.a.a, "x");
    mf_free(&t_ab, &v);
    assert_int_equal(dec(&t_ab, "{\"b\":7}", &v, &err), MF_OK);
    assert_int_equal(v.which, 2);
    assert_int_equal(v.u.b.b, 7);
    mf_free(&t_ab, &v);
}

static void oneof_matching_none_names_the_closest_branch(void **state)
{
    (void)state;
    tu_u v;
    mf_error err;
    /* both closed: each branch rejects the other's member */
    assert_int_equal(dec(&t_ab, "{\"a\":\"x\",\"b\":7}", &v, &err), MF_ERR_UNION);
    assert_int_equal(err.code, MF_ERR_UNION);
    assert_non_null(strstr(err.message, "no alternative matches"));
    assert_int_equal(v.which, 0);
    /* {"b": "s"}: the reason of the branch that got furthest (to /b; on a tie the first) */
    assert_int_equal(dec(&t_ab, "{\"b\":\"s\"}", &v, &err), MF_ERR_UNION);
    assert_string_equal(err.pointer, "/b");
    assert_non_null(strstr(err.message, "closest, 1 (tu_a)"));
    assert_int_equal(dec(&t_ab, "{}", &v, &err), MF_ERR_UNION);
    assert_int_equal(dec(&t_ab, "\"text\"", &v, &err), MF_ERR_UNION);
}

static void oneof_matching_two_is_an_error(void **state)
{
    (void)state;
    tu_u v;
    mf_error err;
    assert_int_equal(dec(&t_ac, "{\"a\":\"x\"}", &v, &err), MF_ERR_UNION);
    assert_non_null(strstr(err.message, "exactly one"));
    assert_int_equal(v.which, 0);
    /* only C allows n */
    assert_int_equal(dec(&t_ac, "{\"a\":\"x\",\"n\":3}", &v, &err), MF_OK);
    assert_int_equal(v.which, 2);
    assert_string_equal(v.u.c.a, "x");
    assert_true(v.u.c.has_n);
    assert_int_equal(v.u.c.n, 3);
    mf_free(&t_ac, &v);
}

static void anyof_takes_the_first_match(void **state)
{
    (void)state;
    tu_u v;
    mf_error err;
    assert_int_equal(dec(&t_ac_any, "{\"a\":\"x\"}", &v, &err), MF_OK);
    assert_int_equal(v.which, 1);
    assert_string_equal(v.u.a.a, "x");
    mf_free(&t_ac_any, &v);
}

static void map_branches_are_tried_too(void **state)
{
    (void)state;
    tu_u v;
    mf_error err;
    assert_int_equal(dec(&t_am, "{\"a\":\"x\"}", &v, &err), MF_OK);
    assert_int_equal(v.which, 1);
    mf_free(&t_am, &v);
    assert_int_equal(dec(&t_am, "{\"p\":1,\"q\":2}", &v, &err), MF_OK);
    assert_int_equal(v.which, 2);
    assert_int_equal(v.u.m.count, 2);
    assert_string_equal(v.u.m.keys[1], "q");
    assert_int_equal(((int64_t *)v.u.m.values)[1], 2);
    mf_free(&t_am, &v);
}

/* The first branch tried decodes (and copies) strings and map keys before it
 * fails; the branch that matches must still see them. */
static void a_failed_trial_leaves_the_strings_in_place(void **state)
{
    (void)state;
    tu_u v;
    mf_error err;
    /* A fails only on the closed check after decoding "a"; C then needs "a" */
    assert_int_equal(dec(&t_ac, "{\"a\":\"kept\",\"n\":1}", &v, &err), MF_OK);
    assert_int_equal(v.which, 2);
    assert_string_equal(v.u.c.a, "kept");
    mf_free(&t_ac, &v);
}

static void validate_checks_the_json_of_the_branch(void **state)
{
    (void)state;
    mf_error err;
    tu_u v;
    char x[] = "x";
    memset(&v, 0, sizeof v);
    v.which = 2; /* C holding only "a": its JSON also matches A, so oneOf fails */
    v.u.c.a = x;
    assert_int_equal(mf_validate(&t_ac, &v, &err), MF_ERR_UNION);
    assert_non_null(strstr(err.message, "also matches"));
    assert_int_equal(mf_validate(&t_ac_any, &v, &err), MF_ERR_UNION); /* anyOf: A comes first */
    v.u.c.has_n = true;
    v.u.c.n = 4;
    assert_int_equal(mf_validate(&t_ac, &v, &err), MF_OK);
    assert_int_equal(mf_validate(&t_ac_any, &v, &err), MF_OK);
    v.which = 1; /* A is first: anyOf is fine with it */
    v.u.a.a = x;
    assert_int_equal(mf_validate(&t_ac_any, &v, &err), MF_OK);
}

static void encode_round_trips(void **state)
{
    (void)state;
    mf_error err;
    tu_u v, back;
    mf_buf b = MF_BUF_INIT;
    memset(&v, 0, sizeof v);
    v.which = 2;
    v.u.b.b = 42;
    assert_int_equal(mf_encode(&t_ab, &v, &b, &err), MF_OK);
    assert_string_equal(b.data, "{\"b\":42}");
    assert_int_equal(mf_decode(&t_ab, b.data, b.len, &back, &err), MF_OK);
    assert_true(mf_equal(&t_ab, &v, &back));
    mf_free(&t_ab, &back);
    mf_buf_free(&b);
}

/* ---- not, uniqueItems, multipleOf, integer enums ---- */

static const mf_type t_not_int = {.kind = MF_K_RAW, .name = "not int", .size = sizeof(char *), .not_type = &t_int};
static const mf_type t_unique = {.kind = MF_K_ARR, .name = "unique ints", .size = sizeof(mf_array),
                                 .item = &t_int, .flags = MF_TF_UNIQUE};
static const mf_type t_cents = {.kind = MF_K_NUM, .name = "cents", .size = sizeof(double), .multiple_of = 0.01};
static const mf_type t_five = {.kind = MF_K_INT, .name = "fives", .size = sizeof(int64_t), .multiple_of = 5};
static const int64_t levels[] = {1, 2, 3};
static const mf_type t_level = {.kind = MF_K_INT, .name = "level", .size = sizeof(int64_t), .int_values = levels,
                                .int_value_count = 3};

static void not_rejects_what_the_other_type_accepts(void **state)
{
    (void)state;
    char *raw = NULL;
    mf_error err;
    assert_int_equal(dec(&t_not_int, "5", &raw, &err), MF_ERR_UNION);
    assert_non_null(strstr(err.message, "not"));
    assert_null(raw);
    assert_int_equal(dec(&t_not_int, "\"five\"", &raw, &err), MF_OK);
    assert_string_equal(raw, "\"five\"");
    assert_int_equal(mf_validate(&t_not_int, &raw, &err), MF_OK);
    mf_free(&t_not_int, &raw);
    char five[] = "5";
    raw = five;
    assert_int_equal(mf_validate(&t_not_int, &raw, &err), MF_ERR_UNION);
}

static void unique_items(void **state)
{
    (void)state;
    mf_array a;
    mf_error err;
    assert_int_equal(dec(&t_unique, "[1,2,3]", &a, &err), MF_OK);
    assert_int_equal(mf_validate(&t_unique, &a, &err), MF_OK);
    ((int64_t *)a.items)[2] = 1;
    assert_int_equal(mf_validate(&t_unique, &a, &err), MF_ERR_DUPLICATE);
    assert_string_equal(err.pointer, "/2");
    mf_free(&t_unique, &a);
    assert_int_equal(dec(&t_unique, "[1,2,1]", &a, &err), MF_ERR_DUPLICATE);
    assert_string_equal(err.pointer, "/2");
}

static void multiple_of(void **state)
{
    (void)state;
    double d;
    int64_t i;
    mf_error err;
    assert_int_equal(dec(&t_cents, "0.07", &d, &err), MF_OK); /* 0.07 / 0.01 is 7.000000000000001 */
    assert_int_equal(dec(&t_cents, "19.99", &d, &err), MF_OK);
    assert_int_equal(dec(&t_cents, "0.075", &d, &err), MF_ERR_RANGE);
    assert_non_null(strstr(err.message, "multiple of 0.01"));
    assert_int_equal(dec(&t_five, "-15", &i, &err), MF_OK);
    assert_int_equal(dec(&t_five, "12", &i, &err), MF_ERR_RANGE);
    i = 11;
    assert_int_equal(mf_validate(&t_five, &i, &err), MF_ERR_RANGE);
}

static void integer_enum(void **state)
{
    (void)state;
    int64_t i;
    mf_error err;
    assert_int_equal(dec(&t_level, "2", &i, &err), MF_OK);
    assert_int_equal(i, 2);
    assert_int_equal(dec(&t_level, "4", &i, &err), MF_ERR_ENUM);
    assert_non_null(strstr(err.message, "1, 2, 3"));
    i = 0;
    assert_int_equal(mf_validate(&t_level, &i, &err), MF_ERR_ENUM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oneof_picks_the_branch_that_matches),
        cmocka_unit_test(oneof_matching_none_names_the_closest_branch),
        cmocka_unit_test(oneof_matching_two_is_an_error),
        cmocka_unit_test(anyof_takes_the_first_match),
        cmocka_unit_test(map_branches_are_tried_too),
        cmocka_unit_test(a_failed_trial_leaves_the_strings_in_place),
        cmocka_unit_test(validate_checks_the_json_of_the_branch),
        cmocka_unit_test(encode_round_trips),
        cmocka_unit_test(not_rejects_what_the_other_type_accepts),
        cmocka_unit_test(unique_items),
        cmocka_unit_test(multiple_of),
        cmocka_unit_test(integer_enum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
