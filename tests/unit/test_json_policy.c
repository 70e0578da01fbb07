/*
 * test_json_policy.c - the JSON edge-case policy of docs/json.md, rule by rule: what the
 * codec (mf_decode, and mf_validate's raw-text check) does with duplicate member names,
 * deep nesting, lone surrogates, huge numbers, trailing data and NUL bytes, for typed
 * members, maps and free-form (raw) values alike, and what the NATS CONNECT/INFO records
 * (decoded by the same codec) inherit from it. Each table row is a rule of the document.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"
#include "mf/codec.h"
#include "mf/proto.h"

typedef struct rule {
    const mf_type *type;
    const char *json;
    size_t len;           /* 0 = strlen */
    mf_status want;
    const char *pointer;  /* NULL = not checked */
    const char *raw_out;  /* raw: the text it is re-printed as (NULL = not checked) */
} rule;

static void check_rules(const rule *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fx_out o;
        mf_error err;
        size_t len = r[i].len ? r[i].len : strlen(r[i].json);
        mf_status st = mf_decode(r[i].type, r[i].json, len, &o, &err);
        if (st != r[i].want)
            fail_msg("rule %zu: %.60s -> %s (%s), expected %s", i, r[i].json, mf_status_str(st), err.message,
                     mf_status_str(r[i].want));
        if (st != MF_OK) {
            assert_int_equal(err.code, st);
            assert_true(err.message[0] != '\0');
            if (r[i].pointer)
                assert_string_equal(err.pointer, r[i].pointer);
        } else if (r[i].raw_out) {
            assert_string_equal(o.str, r[i].raw_out);
        }
        /* the validator's raw-text check says the same as the decoder */
        if (r[i].type == &fx_raw_desc && !memchr(r[i].json, 0, len)) {
            char *text = strndup(r[i].json, len);
            mf_status v = mf_validate(&fx_raw_desc, &text, NULL);
            if ((v == MF_OK) != (st == MF_OK))
                fail_msg("rule %zu: decode says %s, validate says %s", i, mf_status_str(st), mf_status_str(v));
            free(text);
        }
        mf_free(r[i].type, &o);
    }
}

static void test_duplicate_names(void **state)
{
    (void)state;
    static const rule r[] = {
        /* typed objects and maps: the second occurrence is an error, with its pointer */
        {&fx_doc_desc, "{\"name\":\"a\",\"name\":\"b\"}", 0, MF_ERR_DUPLICATE, "/name", NULL},
        {&fx_doc_desc, "{\"name\":\"a\",\"n\\u0061me\":\"b\"}", 0, MF_ERR_DUPLICATE, "/name", NULL}, /* same after escapes */
        {&fx_labels_desc, "{\"en\":\"x\",\"en\":\"y\"}", 0, MF_ERR_DUPLICATE, "/en", NULL},
        {&fx_labels_desc, "{\"en\":\"x\",\"EN\":\"y\"}", 0, MF_OK, NULL, NULL},              /* case matters */
        /* free-form values are carried as they came: names inside them are not checked */
        {&fx_raw_desc, "{\"a\":1,\"a\":2}", 0, MF_OK, NULL, "{\"a\":1,\"a\":2}"},
    };
    check_rules(r, sizeof r / sizeof r[0]);
    /* NATS records inherit it: a CONNECT naming a member twice is refused (nats-server's
     * Go decoder would take the last one) */
    mf_proto_connect c;
    mf_error err;
    assert_int_equal(mf_proto_parse_connect("{\"verbose\":true,\"verbose\":false}", 32, &c, &err), MF_ERR_PROTOCOL);
    assert_non_null(strstr(err.message, "duplicate"));
}

static char *nest(int depth, const char *open, const char *inner, const char *close)
{
    size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
    char *s = malloc((size_t)depth * (lo + lc) + li + 1), *p = s;
    for (int i = 0; i < depth; i++, p += lo)
        memcpy(p, open, lo);
    memcpy(p, inner, li);
    p += li;
    for (int i = 0; i < depth; i++, p += lc)
        memcpy(p, close, lc);
    *p = '\0';
    return s;
}

static void test_nesting_depth(void **state)
{
    (void)state;
    char *ok = nest(MF_MAX_DEPTH, "[", "1", "]");
    char *deep = nest(MF_MAX_DEPTH + 1, "{\"a\":", "1", "}");
    char *bomb = nest(1000000, "[", "", ""); /* a megabyte of '[': refused without recursing */
    rule r[] = {
        {&fx_raw_desc, ok, 0, MF_OK, NULL, NULL},
        {&fx_raw_desc, deep, 0, MF_ERR_SYNTAX, "", NULL},
        {&fx_raw_desc, bomb, 0, MF_ERR_SYNTAX, "", NULL},
        {&fx_doc_desc, bomb, 0, MF_ERR_SYNTAX, "", NULL},
    };
    check_rules(r, sizeof r / sizeof r[0]);
    free(ok);
    free(deep);
    free(bomb);
}

static void test_surrogates_and_utf8(void **state)
{
    (void)state;
    static const rule r[] = {
        {&fx_str_desc, "\"\\ud800\"", 0, MF_ERR_UTF8, "", NULL},          /* lone high */
        {&fx_str_desc, "\"\\udfff\"", 0, MF_ERR_UTF8, "", NULL},          /* lone low */
        {&fx_str_desc, "\"\\udc00\\ud800\"", 0, MF_ERR_UTF8, "", NULL},   /* reversed pair */
        {&fx_str_desc, "\"\\ud83d\\ude00\"", 0, MF_OK, NULL, NULL},       /* a pair: U+1F600 */
        {&fx_str_desc, "\"\xed\xa0\x80\"", 0, MF_ERR_UTF8, "", NULL},     /* a surrogate encoded raw */
        {&fx_labels_desc, "{\"\\ud800\":\"x\"}", 0, MF_ERR_UTF8, NULL, NULL}, /* in a map key */
        {&fx_raw_desc, "{\"k\":\"\\udfff\"}", 0, MF_ERR_UTF8, NULL, NULL},  /* in a free-form value */
        {&fx_raw_desc, "\"\xc0\xaf\"", 0, MF_ERR_UTF8, NULL, NULL},         /* overlong */
    };
    check_rules(r, sizeof r / sizeof r[0]);
}

static void test_huge_numbers(void **state)
{
    (void)state;
    static const rule r[] = {
        /* integer members: |v| < 2^53, integral */
        {&fx_int_desc, "9007199254740991", 0, MF_OK, NULL, NULL},
        {&fx_int_desc, "9007199254740992", 0, MF_ERR_RANGE, "", NULL},
        {&fx_int_desc, "123456789012345678901234567890", 0, MF_ERR_RANGE, "", NULL},
        {&fx_int_desc, "1e400", 0, MF_ERR_RANGE, "", NULL},
        {&fx_int_desc, "-0.0", 0, MF_OK, NULL, NULL},
        /* number members: any finite double */
        {&fx_num_desc, "1e308", 0, MF_OK, NULL, NULL},
        {&fx_num_desc, "1e309", 0, MF_ERR_RANGE, "", NULL},
        {&fx_num_desc, "-1e309", 0, MF_ERR_RANGE, "", NULL},
        {&fx_num_desc, "1e-400", 0, MF_OK, NULL, NULL}, /* underflows to 0 */
        /* free-form: finite doubles, re-printed as the shortest text of the same double */
        {&fx_raw_desc, "1e999", 0, MF_ERR_RANGE, "", NULL},
        {&fx_raw_desc, "[1,2,-1e999]", 0, MF_ERR_RANGE, "/2", NULL},
        {&fx_raw_desc, "123456789012345678901234567890", 0, MF_OK, NULL, "1.2345678901234568e+29"},
        {&fx_raw_desc, "9007199254740993", 0, MF_OK, NULL, "9007199254740992"},
        {&fx_raw_desc, "1.0", 0, MF_OK, NULL, "1"},
        /* NaN and Infinity are not JSON */
        {&fx_num_desc, "NaN", 0, MF_ERR_SYNTAX, "", NULL},
        {&fx_num_desc, "Infinity", 0, MF_ERR_SYNTAX, "", NULL},
    };
    check_rules(r, sizeof r / sizeof r[0]);
}

static void test_trailing_data(void **state)
{
    (void)state;
    static const rule r[] = {
        {&fx_raw_desc, "{} ", 0, MF_OK, NULL, "{}"},             /* white space is fine */
        {&fx_raw_desc, "{}\r\n\t", 0, MF_OK, NULL, "{}"},
        {&fx_raw_desc, "{}x", 0, MF_ERR_SYNTAX, "", NULL},
        {&fx_raw_desc, "{}{}", 0, MF_ERR_SYNTAX, "", NULL},      /* two documents */
        {&fx_raw_desc, "1 2", 0, MF_ERR_SYNTAX, "", NULL},
        {&fx_raw_desc, "{}\0", 3, MF_ERR_SYNTAX, "", NULL},      /* a NUL after the value */
        {&fx_raw_desc, "\xef\xbb\xbf{}", 0, MF_ERR_SYNTAX, "", NULL}, /* a BOM before it */
        {&fx_raw_desc, "", 0, MF_ERR_SYNTAX, "", NULL},          /* nothing at all */
    };
    check_rules(r, sizeof r / sizeof r[0]);
    /* a length shorter than the text: only that prefix counts */
    fx_out o;
    assert_int_equal(mf_decode(&fx_raw_desc, "[1]garbage", 3, &o, NULL), MF_OK);
    mf_free(&fx_raw_desc, &o);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    static const rule r[] = {
        {&fx_str_desc, "\"a\0b\"", 5, MF_ERR_UTF8, "", NULL},           /* raw NUL in a string */
        {&fx_str_desc, "\"a\\u0000b\"", 0, MF_ERR_UTF8, "", NULL},      /* escaped NUL */
        {&fx_labels_desc, "{\"a\\u0000\":\"x\"}", 0, MF_ERR_UTF8, NULL, NULL}, /* in a key */
        {&fx_raw_desc, "[\"\\u0000\"]", 0, MF_ERR_UTF8, NULL, NULL},     /* in a free-form value */
        {&fx_raw_desc, "[1,\0 2]", 6, MF_ERR_SYNTAX, "", NULL},          /* raw NUL between tokens */
        {&fx_str_desc, "\"\\\\u0000\"", 0, MF_OK, NULL, NULL},          /* an escaped backslash + text */
    };
    check_rules(r, sizeof r / sizeof r[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicate_names),     cmocka_unit_test(test_nesting_depth),
        cmocka_unit_test(test_surrogates_and_utf8), cmocka_unit_test(test_huge_numbers),
        cmocka_unit_test(test_trailing_data),       cmocka_unit_test(test_nul_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
