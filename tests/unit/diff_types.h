/*
 * diff_types.h - descriptors for the differential tests of the decoders, next
 * to those of fixtures.h: unions whose branches are tried (oneOf, anyOf, with
 * a map branch), `not`, uniqueItems, multipleOf, integer enums, unions inside
 * arrays and nullable members, counted arrays and maps of objects.
 * Header-only (static tables): tests/unit/test_decode_diff.c and
 * tests/fuzz/fuzz_decode_diff.c include it.
 */
#ifndef MF_TEST_DIFF_TYPES_H
#define MF_TEST_DIFF_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "fixtures.h"
#include "mf/codec.h"

typedef struct dt_a { char *a; } dt_a;                        /* closed: {a} */
typedef struct dt_b { int64_t b; } dt_b;                      /* closed: {b} */
typedef struct dt_c { char *a; bool has_n; int64_t n; } dt_c; /* open: {a, n?} */
typedef struct dt_u {
    int which;
    union {
        dt_a a;
        dt_b b;
        dt_c c;
        mf_map m;
        mf_array arr;
        char *raw;
    } u;
} dt_u;

static const mf_type dt_str = {.kind = MF_K_STR, .name = "str", .size = sizeof(char *)};
static const mf_type dt_int = {.kind = MF_K_INT, .name = "int", .size = sizeof(int64_t)};
static const mf_type dt_raw = {.kind = MF_K_RAW, .name = "raw", .size = sizeof(char *)};

static const mf_field dt_a_fields[] = {
    {.name = "a", .type = &dt_str, .offset = offsetof(dt_a, a), .has_offset = -1, .null_offset = -1,
     .required = true},
};
static const mf_type dt_a_desc = {.kind = MF_K_OBJ, .name = "dt_a", .size = sizeof(dt_a), .flags = MF_TF_CLOSED,
                                  .fields = dt_a_fields, .field_count = 1};
static const mf_field dt_b_fields[] = {
    {.name = "b", .type = &dt_int, .offset = offsetof(dt_b, b), .has_offset = -1, .null_offset = -1,
     .required = true},
};
static const mf_type dt_b_desc = {.kind = MF_K_OBJ, .name = "dt_b", .size = sizeof(dt_b), .flags = MF_TF_CLOSED,
                                  .fields = dt_b_fields, .field_count = 1};
static const mf_field dt_c_fields[] = {
    {.name = "a", .type = &dt_str, .offset = offsetof(dt_c, a), .has_offset = -1, .null_offset = -1,
     .required = true},
    {.name = "n", .type = &dt_int, .offset = offsetof(dt_c, n), .has_offset = (int32_t)offsetof(dt_c, has_n),
     .null_offset = -1},
};
static const mf_type dt_c_desc = {.kind = MF_K_OBJ, .name = "dt_c", .size = sizeof(dt_c), .fields = dt_c_fields,
                                  .field_count = 2};
static const mf_type dt_map = {.kind = MF_K_MAP, .name = "map of int", .size = sizeof(mf_map), .item = &dt_int,
                               .max_items = 3};
static const mf_type dt_arr = {.kind = MF_K_ARR, .name = "array of str", .size = sizeof(mf_array), .item = &dt_str,
                               .min_items = 1};

static const mf_type *const dt_ab_br[] = {&dt_a_desc, &dt_b_desc};
static const mf_type dt_ab = {.kind = MF_K_UNION, .name = "oneOf a b", .size = sizeof(dt_u), .branches = dt_ab_br,
                              .branch_count = 2, .branch_offset = offsetof(dt_u, u)};
static const mf_type *const dt_ac_br[] = {&dt_a_desc, &dt_c_desc};
static const mf_type dt_ac = {.kind = MF_K_UNION, .name = "oneOf a c", .size = sizeof(dt_u), .branches = dt_ac_br,
                              .branch_count = 2, .branch_offset = offsetof(dt_u, u)};
static const mf_type dt_ac_any = {.kind = MF_K_UNION, .name = "anyOf a c", .size = sizeof(dt_u),
                                  .flags = MF_TF_ANY_OF, .branches = dt_ac_br, .branch_count = 2,
                                  .branch_offset = offsetof(dt_u, u)};
/* oneOf [a, map of int (<= 3), array of str (>= 1), int, str] */
static const mf_type *const dt_mix_br[] = {&dt_a_desc, &dt_map, &dt_arr, &dt_int, &dt_str};
static const mf_type dt_mix = {.kind = MF_K_UNION, .name = "oneOf mix", .size = sizeof(dt_u), .branches = dt_mix_br,
                               .branch_count = 5, .branch_offset = offsetof(dt_u, u)};
/* oneOf [a, raw object] by the discriminator "a" */
static const mf_type dt_raw_obj = {.kind = MF_K_RAW, .name = "raw object", .size = sizeof(char *),
                                   .flags = MF_TF_RAW_OBJECT};
static const mf_type *const dt_disc_br[] = {&dt_a_desc, &dt_raw_obj};
static const char *const dt_disc_vals[] = {"x", "y"};
static const mf_type dt_disc = {.kind = MF_K_UNION, .name = "by a", .size = sizeof(dt_u), .branches = dt_disc_br,
                                .branch_count = 2, .branch_offset = offsetof(dt_u, u), .discriminator = "a",
                                .disc_values = dt_disc_vals};

static const mf_type dt_not_int = {.kind = MF_K_RAW, .name = "not int", .size = sizeof(char *),
                                   .not_type = &dt_int};
static const mf_type dt_not_a = {.kind = MF_K_OBJ, .name = "c but not a", .size = sizeof(dt_c),
                                 .fields = dt_c_fields, .field_count = 2, .not_type = &dt_a_desc};
static const mf_type dt_unique = {.kind = MF_K_ARR, .name = "unique ints", .size = sizeof(mf_array),
                                  .item = &dt_int, .flags = MF_TF_UNIQUE, .max_items = 4};
static const mf_type dt_cents = {.kind = MF_K_NUM, .name = "cents", .size = sizeof(double), .multiple_of = 0.01};
static const mf_type dt_five = {.kind = MF_K_INT, .name = "fives", .size = sizeof(int64_t), .multiple_of = 5};
static const int64_t dt_levels[] = {1, 2, 3};
static const mf_type dt_level = {.kind = MF_K_INT, .name = "level", .size = sizeof(int64_t),
                                 .int_values = dt_levels, .int_value_count = 3};

/* [oneOf a b, ...] (a null item is a union error, not a type error) */
static const mf_type dt_union_list = {.kind = MF_K_ARR, .name = "list of unions", .size = sizeof(mf_array),
                                      .item = &dt_ab, .max_items = 3};
/* {"u": oneOf mix, nullable, required; "l": [dt_c] 1..2; "m": {str: dt_c} <= 2; "r": raw, nullable} */
typedef struct dt_holder {
    bool u_is_null;
    dt_u u;
    bool has_l;
    mf_array l;
    bool has_m;
    mf_map m;
    bool has_r;
    bool r_is_null;
    char *r;
} dt_holder;
static const mf_type dt_c_list = {.kind = MF_K_ARR, .name = "list of c", .size = sizeof(mf_array),
                                  .item = &dt_c_desc, .min_items = 1, .max_items = 2};
static const mf_type dt_c_map = {.kind = MF_K_MAP, .name = "map of c", .size = sizeof(mf_map), .item = &dt_c_desc,
                                 .max_items = 2};
static const mf_field dt_holder_fields[] = {
    {.name = "u", .type = &dt_mix, .offset = offsetof(dt_holder, u), .has_offset = -1,
     .null_offset = (int32_t)offsetof(dt_holder, u_is_null), .required = true},
    {.name = "l", .type = &dt_c_list, .offset = offsetof(dt_holder, l),
     .has_offset = (int32_t)offsetof(dt_holder, has_l), .null_offset = -1},
    {.name = "m", .type = &dt_c_map, .offset = offsetof(dt_holder, m),
     .has_offset = (int32_t)offsetof(dt_holder, has_m), .null_offset = -1},
    {.name = "r", .type = &dt_raw, .offset = offsetof(dt_holder, r),
     .has_offset = (int32_t)offsetof(dt_holder, has_r), .null_offset = (int32_t)offsetof(dt_holder, r_is_null)},
};
static const mf_type dt_holder_desc = {.kind = MF_K_OBJ, .name = "holder", .size = sizeof(dt_holder),
                                       .flags = MF_TF_CLOSED, .fields = dt_holder_fields, .field_count = 4};

/* Documents these types take (seeds for mutations and the fuzzer). */
static const char *const dt_docs[] = {
    "{\"a\":\"x\"}",
    "{\"b\":7}",
    "{\"a\":\"x\",\"n\":3}",
    "{\"a\":\"x\",\"b\":7}",
    "{\"k\":1,\"l\":2}",
    "[\"p\",\"q\"]",
    "[{\"a\":\"x\"},{\"b\":2},null]",
    "{\"a\":\"y\",\"z\":[1,2.5,\"\\u00e9\"]}",
    "{\"u\":{\"a\":\"s\"},\"l\":[{\"a\":\"t\",\"n\":1}],\"m\":{\"k\":{\"a\":\"v\"}},\"r\":{\"x\":[1e2,-0,true]}}",
    "{\"u\":null,\"r\":null}",
    "{\"u\":[\"a\",\"b\"],\"m\":{\"k\":{\"a\":\"v\"},\"k\":{\"a\":\"w\"}}}",
    "{\"u\":12,\"l\":[{\"a\":1},{\"a\":\"t\"},{\"a\":\"u\"}]}",
    "{\"u\":{\"a\":\"s\",\"b\":1},\"l\":[]}",
    "[1,2,3,1]",
    "0.07",
    "-15",
    "2",
    "\"five\"",
};

static const mf_type *const dt_types[] = {&dt_ab,     &dt_ac,     &dt_ac_any, &dt_mix,   &dt_disc,
                                          &dt_not_int, &dt_not_a, &dt_unique, &dt_cents, &dt_five,
                                          &dt_level,  &dt_union_list, &dt_holder_desc, &dt_c_map, &dt_c_list};

#endif
