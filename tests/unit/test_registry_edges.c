/*
 * test_registry_edges.c - the subject helpers of mf/registry.h on channels the generator
 * rarely makes, over hand-written descriptors: a parameter used twice in one address
 * (both places must agree), an address naming a parameter the channel does not declare,
 * a channel without an address, parameters typed with const, maxLength, a pattern and a
 * non-string kind, a value longer than a pattern can check, output buffers too small or
 * missing, and a registry without channels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mf/registry.h"
#include "mf_skip.h"

static const mf_type region_t = {.kind = MF_K_STR, .name = "Region", .size = sizeof(char *),
                                 .flags = MF_TF_HAS_CONST, .constant = {.s = "eu"}};
static const mf_type short_t = {.kind = MF_K_STR, .name = "Short", .size = sizeof(char *), .max_len = 2};
static const mf_type int_t = {.kind = MF_K_INT, .name = "Int", .size = sizeof(int64_t)};
static mf_pattern word_pat = {"^[a-z]+$", "^[a-z]+$", 0, NULL};
static const mf_type word_t = {.kind = MF_K_STR, .name = "Word", .size = sizeof(char *), .pattern = &word_pat};

/* p.{x}.q.{x}: one parameter, twice */
static const mf_param_desc twice_params[] = {{"x", NULL, NULL}};
static const mf_channel_desc ch_twice = {"twice", "p.{x}.q.{x}", "p.*.q.*", twice_params, 1, NULL, 0};
/* u.{y}: y is not declared */
static const mf_param_desc undeclared_params[] = {{"x", NULL, NULL}};
static const mf_channel_desc ch_undeclared = {"undeclared", "u.{y}", "u.*", undeclared_params, 1, NULL, 0};
/* no address (not a NATS subject) */
static const mf_channel_desc ch_none = {"none", NULL, NULL, NULL, 0, NULL, 0};
/* t.{region}.{s}.{n}.{w}: typed parameters */
static const mf_param_desc typed_params[] = {
    {"region", &region_t, NULL}, {"s", &short_t, NULL}, {"n", &int_t, NULL}, {"w", &word_t, NULL}};
static const mf_channel_desc ch_typed = {"typed", "t.{region}.{s}.{n}.{w}", "t.*.*.*.*", typed_params, 4, NULL, 0};

static void test_parameter_used_twice(void **state)
{
    (void)state;
    char out[64], v[16];
    char *vals[1] = {v};
    mf_error err;
    const char *x[1] = {"v1"};
    assert_int_equal(mf_channel_address(&ch_twice, x, out, sizeof out, &err), MF_OK);
    assert_string_equal(out, "p.v1.q.v1");
    assert_int_equal(mf_channel_parse(&ch_twice, "p.v1.q.v1", vals, sizeof v, &err), MF_OK);
    assert_string_equal(v, "v1");
    assert_int_equal(mf_channel_parse(&ch_twice, "p.v1.q.v2", vals, sizeof v, &err), MF_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "does not match"));
    assert_int_equal(mf_channel_parse(&ch_twice, "p.v1.q.v10", vals, sizeof v, &err), MF_ERR_NOT_FOUND);
}

static void test_undeclared_parameter(void **state)
{
    (void)state;
    char out[64], v[16];
    char *vals[1] = {v};
    mf_error err;
    const char *x[1] = {"a"};
    assert_int_equal(mf_channel_address(&ch_undeclared, x, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "undeclared parameter y"));
    assert_int_equal(mf_channel_parse(&ch_undeclared, "u.a", vals, sizeof v, &err), MF_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "undeclared parameter y"));
}

static void test_channel_without_address(void **state)
{
    (void)state;
    char out[64];
    mf_error err;
    assert_int_equal(mf_channel_address(&ch_none, NULL, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_channel_filter(&ch_none, NULL, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_channel_parse(&ch_none, "a", NULL, 0, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_channel_parse(&ch_twice, NULL, NULL, 0, &err), MF_ERR_INVALID_ARG);
    static const mf_channel_desc *const chans[] = {&ch_none, &ch_twice};
    const mf_registry r = {"T", "1", NULL, 0, chans, 2, NULL, 0, NULL, 0};
    assert_ptr_equal(mf_registry_channel_for_subject(&r, "p.a.q.a"), &ch_twice);
    assert_null(mf_registry_channel_for_subject(&r, "none"));
    /* a registry with nothing in it */
    const mf_registry empty = {"E", "1", NULL, 0, NULL, 0, NULL, 0, NULL, 0};
    assert_null(mf_registry_channel(&empty, "twice"));
    assert_null(mf_registry_channel_for_subject(&empty, "p.a.q.a"));
    assert_null(mf_registry_message(&empty, "M"));
    assert_null(mf_registry_operation(&empty, "op"));
    assert_null(mf_registry_channel(NULL, "twice"));
    assert_null(mf_registry_channel(&r, NULL));
}

static void test_typed_parameters(void **state)
{
    (void)state;
    char out[128];
    mf_error err;
    const char *ok[4] = {"eu", "ab", "42", "word"};
    assert_int_equal(mf_channel_address(&ch_typed, ok, out, sizeof out, &err), MF_OK);
    assert_string_equal(out, "t.eu.ab.42.word");

    const char *not_const[4] = {"us", "ab", "42", "word"};
    assert_int_equal(mf_channel_address(&ch_typed, not_const, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/region");
    assert_non_null(strstr(err.message, "must be \"eu\""));
    const char *longer[4] = {"e", "ab", "42", "word"};
    assert_int_equal(mf_channel_address(&ch_typed, longer, out, sizeof out, &err), MF_ERR_INVALID_ARG);

    const char *too_long[4] = {"eu", "abc", "42", "word"};
    assert_int_equal(mf_channel_address(&ch_typed, too_long, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/s");
    assert_non_null(strstr(err.message, "at most 2"));

    /* a non-string kind carries no string constraints: any subject-safe token */
    const char *any_n[4] = {"eu", "ab", "not-a-number", "word"};
    assert_int_equal(mf_channel_address(&ch_typed, any_n, out, sizeof out, &err), MF_OK);

    const char *bad_word[4] = {"eu", "ab", "1", "Word"};
    assert_int_equal(mf_channel_address(&ch_typed, bad_word, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/w");
    char huge[300];
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    const char *huge_word[4] = {"eu", "ab", "1", huge}; /* longer than the pattern check takes */
    assert_int_equal(mf_channel_address(&ch_typed, huge_word, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "too long"));
    assert_int_equal(mf_channel_parse(&ch_typed, "t.us.ab.1.w", NULL, 0, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/region");
}

static void test_parse_buffers(void **state)
{
    (void)state;
    mf_error err;
    char a[8], b[8], c[8], d[3];
    char *vals[4] = {a, b, c, d};
    assert_int_equal(mf_channel_parse(&ch_typed, "t.eu.ab.7.xy", vals, sizeof d, &err), MF_OK);
    assert_string_equal(a, "eu");
    assert_string_equal(d, "xy");
    /* checking only: no buffers */
    assert_int_equal(mf_channel_parse(&ch_typed, "t.eu.ab.7.xyz", NULL, 0, &err), MF_OK);
    /* a value longer than the buffers */
    assert_int_equal(mf_channel_parse(&ch_typed, "t.eu.ab.7.xyz", vals, sizeof d, &err), MF_ERR_LIMIT);
    assert_string_equal(err.pointer, "/w");
    /* a missing buffer */
    char *holes[4] = {a, NULL, c, d};
    assert_int_equal(mf_channel_parse(&ch_typed, "t.eu.ab.7.xy", holes, sizeof d, &err), MF_ERR_LIMIT);
    assert_string_equal(err.pointer, "/s");
}

/* The rule of a subject-safe value, written out as before the table-driven check: the message a
 * value "a<b>z" gets for byte b ("" when it is accepted). A lone byte >= 0x80 is never UTF-8. */
static void old_token_rule(unsigned b, char *msg, size_t cap)
{
    if (b == '.' || b == '*' || b == '>')
        snprintf(msg, cap, "parameter p must not contain '%c'", (int)b);
    else if (b <= 0x20 || b == 0x7f)
        snprintf(msg, cap, "parameter p must not contain white space or control characters");
    else if (b >= 0x80)
        snprintf(msg, cap, "parameter p is not valid UTF-8");
    else
        msg[0] = '\0';
}

static void test_token_rule_every_byte(void **state)
{
    (void)state;
    static const mf_param_desc p_plain = {"p", NULL, NULL};
    static const mf_param_desc p_chan[] = {{"p", NULL, NULL}};
    static const mf_channel_desc ch_p = {"pc", "x.{p}.y", "x.*.y", p_chan, 1, NULL, 0};
    for (unsigned b = 1; b < 256; b++) {
        char v[4] = {'a', (char)b, 'z', '\0'}, want[128], out[32];
        old_token_rule(b, want, sizeof want);
        mf_error err;
        mf_error_clear(&err);
        mf_status st = mf_param_check(&p_plain, v, &err);
        const char *vals[1] = {v};
        mf_error err2;
        mf_error_clear(&err2);
        mf_status st2 = mf_channel_address(&ch_p, vals, out, sizeof out, &err2);
        if (want[0]) {
            assert_int_equal(st, MF_ERR_INVALID_ARG);
            assert_string_equal(err.message, want);
            assert_string_equal(err.pointer, "/p");
            assert_int_equal(st2, MF_ERR_INVALID_ARG);
            assert_string_equal(err2.message, want);
            assert_string_equal(err2.pointer, "/p");
        } else {
            assert_int_equal(st, MF_OK);
            assert_int_equal(st2, MF_OK);
            assert_int_equal(out[3], (char)b);
        }
        /* the same byte anywhere in a longer value (16 bytes at a time, then the table) */
        static const size_t at[] = {0, 7, 15, 16, 17, 31, 32, 35, 39};
        for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
            char lv[41];
            memset(lv, 'a', 40);
            lv[40] = '\0';
            lv[at[k]] = (char)b;
            mf_error_clear(&err);
            st = mf_param_check(&p_plain, lv, &err);
            if (want[0]) {
                assert_int_equal(st, MF_ERR_INVALID_ARG);
                assert_string_equal(err.message, want);
            } else {
                assert_int_equal(st, MF_OK);
            }
        }
    }
    mf_error err;
    /* the first bad byte is the one reported, and subject syntax before UTF-8 */
    assert_int_equal(mf_param_check(&p_plain, "\xc3" "a b.", &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.message, "parameter p must not contain white space or control characters");
    assert_int_equal(mf_param_check(&p_plain, "\xff*", &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.message, "parameter p must not contain '*'");
    /* multi-byte UTF-8: whole sequences pass, broken ones do not */
    assert_int_equal(mf_param_check(&p_plain, "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80", &err), MF_OK);
    assert_int_equal(mf_param_check(&p_plain, "caf\xc3", &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.message, "parameter p is not valid UTF-8");
    assert_int_equal(mf_param_check(&p_plain, "\xed\xa0\x80", &err), MF_ERR_INVALID_ARG); /* a surrogate */
    assert_int_equal(mf_param_check(&p_plain, "", &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.message, "parameter p must not be empty");
    assert_string_equal(err.pointer, "/p");
    /* maxLength counts code points whether or not the value is ASCII */
    const char *two[4] = {"eu", "\xc3\xa9\xc3\xa9", "1", "w"};
    char out[64];
    assert_int_equal(mf_channel_address(&ch_typed, two, out, sizeof out, &err), MF_OK);
    const char *three[4] = {"eu", "\xc3\xa9\xc3\xa9\xc3\xa9", "1", "w"};
    assert_int_equal(mf_channel_address(&ch_typed, three, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/s");
    /* a '{' that opens no placeholder is a literal byte of the subject */
    static const mf_channel_desc ch_brace = {"br", "x.{p}.c{d", "x.*.c{d", p_chan, 1, NULL, 0};
    const char *v1[1] = {"v"};
    assert_int_equal(mf_channel_address(&ch_brace, v1, out, sizeof out, &err), MF_OK);
    assert_string_equal(out, "x.v.c{d");
    assert_int_equal(mf_channel_address(&ch_brace, v1, out, 7, &err), MF_ERR_LIMIT);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameter_used_twice),
        cmocka_unit_test(test_undeclared_parameter),
        cmocka_unit_test(test_channel_without_address),
        cmocka_unit_test(test_typed_parameters),
        cmocka_unit_test(test_parse_buffers),
        cmocka_unit_test(test_token_rule_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
