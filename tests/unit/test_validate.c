/*
 * test_validate.c - mf_validate on values built in C: every rule, its code and
 * its pointer; presence flags; the value is never modified.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"

static void expect_at(const fx_doc *d, mf_status code, const char *ptr, int line)
{
    mf_error err;
    fx_doc before;
    memcpy(&before, d, sizeof before);
    mf_status st = mf_validate(&fx_doc_desc, d, &err);
    if (st != code || strcmp(err.pointer, ptr) != 0)
        print_error("line %d: got %s at \"%s\" (%s), want %s at \"%s\"\n", line, mf_status_str(st),
                    err.pointer, err.message, mf_status_str(code), ptr);
    assert_int_equal(st, code);
    assert_int_equal(err.code, code);
    assert_string_equal(err.pointer, ptr);
    if (code)
        assert_true(strlen(err.message) > 10);
    assert_memory_equal(&before, d, sizeof before); /* not modified */
}
#define EXPECT(d, code, ptr) expect_at(d, code, ptr, __LINE__)

/* Runs `mutate` on a fresh full document, expects code at ptr, frees. The
 * mutation swaps pointers for string literals only after saving the owned
 * originals, so freeing stays correct. */
#define CASE(code, ptr, ...)                   \
    do {                                       \
        fx_doc d;                              \
        fx_doc_build_full(&d);                 \
        fx_doc keep = d;                       \
        __VA_ARGS__;                           \
        EXPECT(&d, code, ptr);                 \
        mf_free(&fx_doc_desc, &keep);          \
    } while (0)

/* For an element of an owned array: swap it, check, put the original back. */
#define CASE_ELEM(code, ptr, lvalue, value) \
    do {                                    \
        fx_doc d;                           \
        fx_doc_build_full(&d);              \
        char *saved = (lvalue);             \
        (lvalue) = (value);                 \
        EXPECT(&d, code, ptr);              \
        (lvalue) = saved;                   \
        mf_free(&fx_doc_desc, &d);          \
    } while (0)

static void test_valid(void **state)
{
    (void)state;
    fx_doc d;
    fx_doc_build_full(&d);
    EXPECT(&d, MF_OK, "");
    assert_int_equal(mf_validate(&fx_doc_desc, &d, NULL), MF_OK);
    mf_free(&fx_doc_desc, &d);
    assert_int_equal(mf_validate(NULL, &d, NULL), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_validate(&fx_doc_desc, NULL, NULL), MF_ERR_INVALID_ARG);
}

static void test_presence_rules(void **state)
{
    (void)state;
    CASE(MF_ERR_REQUIRED, "/id", d.id = NULL);
    CASE(MF_ERR_REQUIRED, "/owner", d.owner = NULL);
    CASE(MF_OK, "", d.owner = NULL; d.owner_is_null = true);
    CASE(MF_OK, "", d.note_is_null = true; d.note = NULL);
    CASE(MF_ERR_REQUIRED, "/note", d.note_is_null = false; d.note = NULL);
    /* absent optional members are not looked at */
    CASE(MF_OK, "", d.has_score = false; d.score = NAN; d.has_code = false; d.code = "lower";
         d.has_tags = false; d.tags.count = 99; d.tags.items = NULL; d.has_any = false; d.any.which = 42);
    CASE(MF_ERR_RANGE, "/score", d.score = NAN);
    CASE_ELEM(MF_ERR_REQUIRED, "/tags/1", d.tags.items[1], NULL);
    CASE(MF_ERR_REQUIRED, "/a~1b~0c", d.weird = NULL);
}

static void test_scalar_rules(void **state)
{
    (void)state;
    CASE(MF_ERR_RANGE, "/count", d.count = 0);
    CASE(MF_ERR_RANGE, "/count", d.count = 101);
    CASE(MF_OK, "", d.count = 100);
    CASE(MF_ERR_RANGE, "/level", d.level = 10);
    CASE(MF_ERR_RANGE, "/level", d.level = 0);
    CASE(MF_ERR_RANGE, "/score", d.score = 100);
    CASE(MF_ERR_RANGE, "/score", d.score = INFINITY);
    CASE(MF_ERR_RANGE, "/temp", d.temp = -50.25);
    CASE(MF_ERR_RANGE, "/settings/ratio", d.settings.ratio = 1.0);
    CASE(MF_ERR_RANGE, "/points/1/y", d.points.items[1].y = 9007199254740992LL);
    CASE(MF_ERR_RANGE, "/points/0/x", d.points.items[0].x = INT64_MIN);
    CASE(MF_ERR_ENUM, "/color", d.color = 0);
    CASE(MF_ERR_ENUM, "/color", d.color = 4);
    CASE(MF_ERR_ENUM, "/colors/1", d.colors.items[1] = (fx_color)-1);
    CASE(MF_ERR_LENGTH, "/name", d.name = "");
    CASE(MF_ERR_LENGTH, "/name", d.name = "abcdefghijk");
    CASE(MF_OK, "", d.name = "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
                             "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac");
    CASE(MF_ERR_UTF8, "/name", d.name = "a\xc0\xafz");
    CASE(MF_ERR_UTF8, "/name", d.name = "\xed\xa0\x80");
    CASE_ELEM(MF_ERR_UTF8, "/labels/en", d.labels.values[0], "\xff");
    CASE(MF_ERR_FORMAT, "/id", d.id = "123e4567-e89b-12d3-a456-42661417400");
    CASE(MF_ERR_FORMAT, "/created", d.created = "2024-02-29T12:30:00");
    CASE(MF_ERR_FORMAT, "/day", d.day = "2024-13-01");
    CASE(MF_ERR_FORMAT, "/at", d.at = "12:30");
    CASE(MF_ERR_FORMAT, "/quiet", d.quiet = "7:00");
    CASE(MF_ERR_FORMAT, "/email", d.email = "a@");
    CASE(MF_ERR_PATTERN, "/code", d.code = "AB-1");
    CASE(MF_ERR_CONST, "/version", d.version = "v10");
    CASE(MF_ERR_CONST, "/answer", d.answer = 43);
    CASE(MF_ERR_CONST, "/flag", d.flag = false);
    CASE(MF_ERR_CONST, "/pi", d.pi = 3.0);
}

static void test_container_rules(void **state)
{
    (void)state;
    CASE(MF_ERR_INVALID_ARG, "/tags", d.tags.items = NULL);
    CASE(MF_ERR_LENGTH, "/tags", d.tags.count = 0);
    CASE_ELEM(MF_ERR_LENGTH, "/tags/0", d.tags.items[0], "");
    CASE(MF_ERR_LENGTH, "/labels", d.labels.count = 5);
    CASE(MF_ERR_INVALID_ARG, "/labels", d.labels.keys = NULL);
    CASE_ELEM(MF_ERR_REQUIRED, "/labels", d.labels.keys[1], NULL);
    CASE_ELEM(MF_ERR_DUPLICATE, "/labels/en", d.labels.keys[1], "en");
    CASE_ELEM(MF_ERR_UTF8, "/labels", d.labels.keys[1], "\xc3");
    CASE(MF_ERR_REQUIRED, "/extra", d.extra = NULL);
    CASE(MF_ERR_SYNTAX, "/extra", d.extra = "[1,");
    CASE(MF_ERR_SYNTAX, "/extra", d.extra = "[1] x");
    CASE(MF_ERR_UTF8, "/extra", d.extra = "\"\\u0000\"");
    CASE(MF_OK, "", d.extra = "null");
    CASE(MF_OK, "", d.extra = " 1.5 ");
    CASE(MF_OK, "", d.extra = "{\"a\":[true,false,null,-0.5e-3,\"\\u00e9\\n\"],\"b\":{}}");
    CASE(MF_ERR_RANGE, "/extra", d.extra = "[1e400]");
    CASE(MF_ERR_SYNTAX, "/extra", d.extra = "[01]");
    CASE(MF_ERR_SYNTAX, "/extra", d.extra = "{\"a\" 1}");
    CASE(MF_ERR_SYNTAX, "/extra", d.extra = "{\"a\":1,}");
    CASE(MF_ERR_SYNTAX, "/extra", d.extra = "[\"a]");
    CASE(MF_ERR_SYNTAX, "/extra", d.extra = "tru");
    CASE(MF_ERR_SYNTAX, "/extra", d.extra = "");
    CASE(MF_OK, "", d.extra = "-0.00000000000000000000000000000000000000000000000000000000000000000000000001");
    CASE(MF_ERR_RANGE, "/extra", d.extra = "-1e309");
    CASE(MF_ERR_UTF8, "/extra", d.extra = "\"\\udc00\"");
    CASE(MF_OK, "", d.meta = " {} ");
    CASE(MF_ERR_TYPE, "/meta", d.meta = "[]");
    CASE(MF_ERR_UNION, "/any", d.any.which = 0);
    CASE(MF_ERR_UNION, "/any", d.any.which = 7);
    CASE(MF_ERR_UNION, "/shape", d.shape.which = -1);
    CASE(MF_ERR_CONST, "/shape/kind", d.shape.u.rect.kind = "circle");
    CASE(MF_ERR_REQUIRED, "/shape/kind", d.shape.u.rect.kind = NULL);
    CASE(MF_OK, "", d.any.which = FX_ANY_NUM; d.any.u.n = 2.5);
    CASE(MF_ERR_UNION, "/any", d.any.which = FX_ANY_NUM; d.any.u.n = 2.0); /* would decode as INT */
    CASE(MF_OK, "", d.any.which = FX_ANY_NUM; d.any.u.n = 1e300);
}

static void test_union_discriminator(void **state)
{
    (void)state;
    fx_doc d;
    fx_doc_build_full(&d);
    char *rect_kind = d.shape.u.rect.kind;
    /* a circle branch: the discriminator member must say "circle" */
    d.shape.which = FX_SHAPE_CIRCLE;
    d.shape.u.circle.kind = "circle";
    d.shape.u.circle.radius = 2;
    EXPECT(&d, MF_OK, "");
    d.shape.u.circle.radius = 0;
    EXPECT(&d, MF_ERR_RANGE, "/shape/radius");
    d.shape.which = FX_SHAPE_RECT;
    d.shape.u.rect.kind = rect_kind;
    mf_free(&fx_doc_desc, &d);
}

static void test_raw_depth(void **state)
{
    (void)state;
    char deep[200];
    for (int depth = 64; depth <= 65; depth++) {
        int o = 0;
        for (int i = 0; i < depth; i++)
            deep[o++] = '[';
        for (int i = 0; i < depth; i++)
            deep[o++] = ']';
        deep[o] = '\0';
        char *s = deep;
        mf_status want = depth <= MF_MAX_DEPTH ? MF_OK : MF_ERR_SYNTAX;
        assert_int_equal(mf_validate(&fx_raw_desc, &s, NULL), want);
        fx_out out;
        assert_int_equal(mf_decode(&fx_raw_desc, deep, strlen(deep), &out, NULL), want);
        mf_free(&fx_raw_desc, &out);
    }
}

static void test_depth(void **state)
{
    (void)state;
    /* 40 levels of tree = 80 nestings of object + array */
    fx_tree nodes[40];
    memset(nodes, 0, sizeof nodes);
    for (int i = 0; i < 39; i++) {
        nodes[i].has_kids = true;
        nodes[i].kids.items = &nodes[i + 1];
        nodes[i].kids.count = 1;
    }
    mf_error err;
    assert_int_equal(mf_validate(&fx_tree_desc, &nodes[0], &err), MF_ERR_SYNTAX);
    assert_non_null(strstr(err.message, "nesting deeper than 64"));
    assert_int_equal(mf_validate(&fx_tree_desc, &nodes[8], &err), MF_OK); /* 31 levels */
    mf_buf b = MF_BUF_INIT;
    assert_int_equal(mf_encode(&fx_tree_desc, &nodes[0], &b, &err), MF_ERR_SYNTAX);
    assert_int_equal(b.len, 0);
    assert_int_equal(mf_encode(&fx_tree_desc, &nodes[8], &b, &err), MF_OK);
    fx_out o;
    assert_int_equal(mf_decode(&fx_tree_desc, b.data, b.len, &o, &err), MF_OK);
    assert_true(mf_equal(&fx_tree_desc, &o, &nodes[8]));
    mf_free(&fx_tree_desc, &o);
    mf_buf_free(&b);
}

/* Raw text found valid once is found valid again by its bytes (check_value.c's per-thread memo):
 * the answer for any text must stay what the scan says, whatever was checked just before. */
static void test_raw_repeated(void **state)
{
    (void)state;
    char big[2000];
    memset(big, ' ', sizeof big - 3);
    memcpy(big + sizeof big - 3, "{}", 3); /* valid, longer than the memo holds */
    const struct {
        const mf_type *t;
        const char *text;
        mf_status want;
    } seq[] = {
        {&fx_raw_desc, "{\"campaign_id\":\"c1\",\"n\":[1,2.5,null]}", MF_OK},
        {&fx_raw_desc, "{\"campaign_id\":\"c1\",\"n\":[1,2.5,null]}", MF_OK},
        {&fx_raw_desc, "{\"campaign_id\":\"c1\",\"n\":[1,2.5,null]]", MF_ERR_SYNTAX}, /* same length */
        {&fx_raw_desc, "{\"campaign_id\":\"c1\",\"n\":[1,2.5,null]}", MF_OK},
        {&fx_raw_desc, "{\"campaign_id\":\"c1\",\"n\":[1,2.5,null]} x", MF_ERR_SYNTAX}, /* a longer one */
        {&fx_raw_desc, "{\"campaign_id\":\"c1\",\"n\":[1,2.5,nul]}", MF_ERR_SYNTAX}, /* a shorter one */
        {&fx_raw_desc, " [1,2] ", MF_OK},
        {&fx_raw_obj_desc, " [1,2] ", MF_ERR_TYPE}, /* the object rule holds for a remembered text */
        {&fx_raw_obj_desc, "{\"a\":1}", MF_OK},
        {&fx_raw_obj_desc, big, MF_OK},
        {&fx_raw_obj_desc, big, MF_OK},
        {&fx_raw_desc, "", MF_ERR_SYNTAX},
        {&fx_raw_desc, "1e999", MF_ERR_RANGE},
        {&fx_raw_desc, "1e999", MF_ERR_RANGE},
    };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        const char *v = seq[i].text;
        mf_error err;
        mf_status st = mf_validate(seq[i].t, &v, &err);
        if (st != seq[i].want)
            print_error("step %zu: %s, expected %s (%s)\n", i, mf_status_str(st), mf_status_str(seq[i].want),
                        err.message);
        assert_int_equal(st, seq[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_presence_rules),
        cmocka_unit_test(test_scalar_rules),
        cmocka_unit_test(test_container_rules),
        cmocka_unit_test(test_union_discriminator),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_raw_depth),
        cmocka_unit_test(test_raw_repeated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
