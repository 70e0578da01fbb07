/*
 * test_registry.c - registry lookups and the subject helpers over a small
 * hand-written registry: channels `a.{x}.b`, `a.c.b`, `n.{user_id}.push`
 * (uuid parameter) and `k.{kind}.{code}` (enum and pattern parameters); and
 * parameters whose value is in the payload (location) over a hand-written
 * message type.
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

static const mf_type str_t = {.kind = MF_K_STR, .name = "Str", .size = sizeof(char *)};
static const mf_type obj_t = {.kind = MF_K_OBJ, .name = "Empty", .size = 1};

static const mf_message_desc msg_alpha = {"Alpha", "AlphaMessage", "", "application/json", &obj_t, 1, NULL, 0};
static const mf_message_desc msg_beta = {"Beta", "BetaMessage", "Beta", "application/json", &obj_t, 1, NULL, 0};
static const mf_message_desc msg_gamma = {"Gamma", "GammaMsg", "", "application/json", &obj_t, 1, NULL, 0};
static const mf_message_desc *const messages[] = {&msg_alpha, &msg_beta, &msg_gamma};

static const mf_type uuid_t = {.kind = MF_K_STR, .name = "Uuid", .size = sizeof(char *),
                               .format = MF_FMT_UUID};
static const char *const kinds[] = {"email", "push"};
static const mf_type kind_t = {.kind = MF_K_ENUM, .name = "Kind", .size = sizeof(int),
                               .enum_values = kinds, .enum_count = 2};
static mf_pattern code_pat = {"^[A-Z]\\d{2}$", "^[A-Z][0-9]{2}$", 0, NULL};
static const mf_type code_t = {.kind = MF_K_STR, .name = "Code", .size = sizeof(char *),
                               .min_len = 3, .max_len = 3, .pattern = &code_pat};

static const mf_param_desc a_params[] = {{"x", NULL, NULL}};
static const mf_param_desc n_params[] = {{"user_id", &uuid_t, NULL}};
static const mf_param_desc k_params[] = {{"kind", &kind_t, NULL}, {"code", &code_t, NULL}};
static const mf_message_desc *const a_msgs[] = {&msg_alpha};

static const mf_channel_desc ch_a = {"aChan", "a.{x}.b", "a.*.b", a_params, 1, a_msgs, 1};
static const mf_channel_desc ch_ac = {"aLiteral", "a.c.b", "a.c.b", NULL, 0, a_msgs, 1};
static const mf_channel_desc ch_k = {"kinds", "k.{kind}.{code}", "k.*.*", k_params, 2, NULL, 0};
static const mf_channel_desc ch_n = {"notifyPush", "n.{user_id}.push", "n.*.push", n_params, 1,
                                     NULL, 0};
static const mf_channel_desc *const channels[] = {&ch_a, &ch_ac, &ch_k, &ch_n};

static const mf_operation_desc op_recv = {"onAlpha", "svc", MF_ACTION_RECEIVE, &ch_a, &msg_alpha,
                                          NULL, "svc"};
static const mf_operation_desc op_send = {"sendBeta", "svc", MF_ACTION_SEND, &ch_n, &msg_beta,
                                          NULL, NULL};
static const mf_operation_desc *const operations[] = {&op_recv, &op_send};

static const mf_registry reg = {"Test", "1.0.0", messages, 3, channels, 4, operations, 2, NULL, 0};

#define UUID "2eb8aa08-aa98-11ea-b4aa-73b441d16380"

static void test_lookups(void **state)
{
    (void)state;
    assert_ptr_equal(mf_registry_message(&reg, "Alpha"), &msg_alpha);
    assert_ptr_equal(mf_registry_message(&reg, "Beta"), &msg_beta);
    assert_ptr_equal(mf_registry_message(&reg, "Gamma"), &msg_gamma);
    assert_ptr_equal(mf_registry_message(&reg, "BetaMessage"), &msg_beta);
    assert_ptr_equal(mf_registry_message(&reg, "GammaMsg"), &msg_gamma);
    assert_null(mf_registry_message(&reg, "alpha"));
    assert_null(mf_registry_message(&reg, "Delta"));
    assert_null(mf_registry_message(&reg, ""));
    assert_null(mf_registry_message(&reg, NULL));
    assert_null(mf_registry_message(NULL, "Alpha"));

    assert_ptr_equal(mf_registry_channel(&reg, "aChan"), &ch_a);
    assert_ptr_equal(mf_registry_channel(&reg, "notifyPush"), &ch_n);
    assert_ptr_equal(mf_registry_channel(&reg, "n.{user_id}.push"), &ch_n);
    assert_ptr_equal(mf_registry_channel(&reg, "a.c.b"), &ch_ac);
    assert_null(mf_registry_channel(&reg, "n.*.push"));
    assert_null(mf_registry_channel(&reg, "zzz"));

    assert_ptr_equal(mf_registry_operation(&reg, "onAlpha"), &op_recv);
    assert_ptr_equal(mf_registry_operation(&reg, "sendBeta"), &op_send);
    assert_null(mf_registry_operation(&reg, "sendAlpha"));
    assert_null(mf_registry_operation(&reg, NULL));

    static const mf_registry empty = {"E", "0", NULL, 0, NULL, 0, NULL, 0, NULL, 0};
    assert_null(mf_registry_message(&empty, "Alpha"));
    assert_null(mf_registry_channel(&empty, "aChan"));
    assert_null(mf_registry_operation(&empty, "onAlpha"));
    assert_null(mf_registry_channel_for_subject(&empty, "a.c.b"));
}

static void test_channel_for_subject(void **state)
{
    (void)state;
    assert_ptr_equal(mf_registry_channel_for_subject(&reg, "a.zz.b"), &ch_a);
    assert_ptr_equal(mf_registry_channel_for_subject(&reg, "a.c.b"), &ch_ac); /* literal wins */
    assert_ptr_equal(mf_registry_channel_for_subject(&reg, "n." UUID ".push"), &ch_n);
    assert_ptr_equal(mf_registry_channel_for_subject(&reg, "k.push.A12"), &ch_k);
    assert_null(mf_registry_channel_for_subject(&reg, "a.b"));          /* missing token */
    assert_null(mf_registry_channel_for_subject(&reg, "a.x.y.b"));      /* extra token */
    assert_null(mf_registry_channel_for_subject(&reg, "a..b"));         /* empty token */
    assert_null(mf_registry_channel_for_subject(&reg, "a.*.b"));        /* wildcard */
    assert_null(mf_registry_channel_for_subject(&reg, "a.>.b"));
    assert_null(mf_registry_channel_for_subject(&reg, "a.x.b.c"));
    assert_null(mf_registry_channel_for_subject(&reg, "n.x.pus"));
    assert_null(mf_registry_channel_for_subject(&reg, ""));
    assert_null(mf_registry_channel_for_subject(&reg, NULL));
}

static void test_address_ok(void **state)
{
    (void)state;
    char out[64];
    mf_error err;
    const char *v1[] = {"xyz"};
    assert_int_equal(mf_channel_address(&ch_a, v1, out, sizeof out, &err), MF_OK);
    assert_string_equal(out, "a.xyz.b");
    const char *v2[] = {UUID};
    assert_int_equal(mf_channel_address(&ch_n, v2, out, sizeof out, &err), MF_OK);
    assert_string_equal(out, "n." UUID ".push");
    const char *v3[] = {"email", "Z09"};
    assert_int_equal(mf_channel_address(&ch_k, v3, out, sizeof out, &err), MF_OK);
    assert_string_equal(out, "k.email.Z09");
    assert_int_equal(mf_channel_address(&ch_ac, NULL, out, sizeof out, &err), MF_OK);
    assert_string_equal(out, "a.c.b");
    const char *v4[] = {"J\xc3\xb6rg"}; /* UTF-8 is fine */
    assert_int_equal(mf_channel_address(&ch_a, v4, out, sizeof out, NULL), MF_OK);
    assert_string_equal(out, "a.J\xc3\xb6rg.b");
}

static void expect_bad(const mf_channel_desc *c, const char *const *values, const char *ptr,
                       const char *needle)
{
    char out[64];
    mf_error err;
    memset(out, 'Q', sizeof out);
    assert_int_equal(mf_channel_address(c, values, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(err.code, MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, ptr);
    if (!strstr(err.message, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err.message, needle);
}

static void test_address_errors(void **state)
{
    (void)state;
    const char *empty[] = {""}, *dot[] = {"a.b"}, *star[] = {"*"}, *gt[] = {"x>"},
               *space[] = {"a b"}, *tab[] = {"a\tb"}, *nl[] = {"a\n"}, *ctl[] = {"a\x01"},
               *del[] = {"a\x7f"}, *utf[] = {"a\xc3"}, *surr[] = {"\xed\xa0\x80"},
               *missing[] = {NULL};
    expect_bad(&ch_a, empty, "/x", "empty");
    expect_bad(&ch_a, dot, "/x", "'.'");
    expect_bad(&ch_a, star, "/x", "'*'");
    expect_bad(&ch_a, gt, "/x", "'>'");
    expect_bad(&ch_a, space, "/x", "white space");
    expect_bad(&ch_a, tab, "/x", "white space");
    expect_bad(&ch_a, nl, "/x", "white space");
    expect_bad(&ch_a, ctl, "/x", "control");
    expect_bad(&ch_a, del, "/x", "control");
    expect_bad(&ch_a, utf, "/x", "UTF-8");
    expect_bad(&ch_a, surr, "/x", "UTF-8");
    expect_bad(&ch_a, missing, "/x", "missing");
    expect_bad(&ch_a, NULL, "", "parameter");

    const char *baduuid[] = {"2eb8aa08-aa98-11ea-b4aa-73b441d1638"},
               *notuuid[] = {"bob"};
    expect_bad(&ch_n, baduuid, "/user_id", "uuid");
    expect_bad(&ch_n, notuuid, "/user_id", "uuid");

    const char *badenum[] = {"sms", "A12"}, *badpat[] = {"push", "a12"},
               *badlen[] = {"push", "A123"};
    expect_bad(&ch_k, badenum, "/kind", "allowed");
    expect_bad(&ch_k, badpat, "/code", "does not match");
    expect_bad(&ch_k, badlen, "/code", "at most 3");
}

static void test_address_buffer(void **state)
{
    (void)state;
    const char *v[] = {UUID};
    const size_t need = strlen("n." UUID ".push") + 1;
    char out[64];
    mf_error err;
    /* exact fit */
    memset(out, 'Q', sizeof out);
    assert_int_equal(mf_channel_address(&ch_n, v, out, need, &err), MF_OK);
    assert_string_equal(out, "n." UUID ".push");
    /* one byte short: error, nothing written past cap, empty string */
    memset(out, 'Q', sizeof out);
    assert_int_equal(mf_channel_address(&ch_n, v, out, need - 1, &err), MF_ERR_LIMIT);
    assert_int_equal(err.code, MF_ERR_LIMIT);
    assert_string_equal(out, "");
    for (size_t i = need - 1; i < sizeof out; i++)
        assert_int_equal(out[i], 'Q');
    /* tiny and zero capacities */
    memset(out, 'Q', sizeof out);
    assert_int_equal(mf_channel_address(&ch_n, v, out, 1, &err), MF_ERR_LIMIT);
    assert_int_equal(out[0], '\0');
    assert_int_equal(out[1], 'Q');
    assert_int_equal(mf_channel_address(&ch_n, v, out, 0, &err), MF_ERR_LIMIT);
    assert_int_equal(out[0], '\0'); /* unchanged from before */
    assert_int_equal(mf_channel_address(&ch_n, v, NULL, 0, &err), MF_ERR_LIMIT);
    /* a bad value is reported before the size */
    const char *bad[] = {"x"};
    assert_int_equal(mf_channel_address(&ch_n, bad, out, 1, &err), MF_ERR_INVALID_ARG);
}

static void test_parse(void **state)
{
    (void)state;
    char v0[64], v1[64];
    char *vals[] = {v0, v1};
    mf_error err;
    assert_int_equal(mf_channel_parse(&ch_a, "a.hello.b", vals, sizeof v0, &err), MF_OK);
    assert_string_equal(v0, "hello");
    assert_int_equal(mf_channel_parse(&ch_n, "n." UUID ".push", vals, sizeof v0, &err), MF_OK);
    assert_string_equal(v0, UUID);
    assert_int_equal(mf_channel_parse(&ch_k, "k.push.B07", vals, sizeof v0, &err), MF_OK);
    assert_string_equal(v0, "push");
    assert_string_equal(v1, "B07");
    assert_int_equal(mf_channel_parse(&ch_ac, "a.c.b", NULL, 0, &err), MF_OK);
    assert_int_equal(mf_channel_parse(&ch_a, "a.hello.b", NULL, 0, &err), MF_OK); /* check only */

    /* non-matching subjects */
    static const char *const nomatch[] = {"a.b", "a.x.y.b", "a.x.b.c", "b.x.b", "a.x.c", "a..b",
                                          "a.x.b.", ".a.x.b", "a.x", ""};
    for (size_t i = 0; i < sizeof nomatch / sizeof nomatch[0]; i++) {
        mf_error_clear(&err);
        assert_int_equal(mf_channel_parse(&ch_a, nomatch[i], vals, sizeof v0, &err),
                         MF_ERR_NOT_FOUND);
        assert_int_equal(err.code, MF_ERR_NOT_FOUND);
    }
    assert_int_equal(mf_channel_parse(&ch_n, "n." UUID ".pull", vals, sizeof v0, &err),
                     MF_ERR_NOT_FOUND);
    assert_int_equal(mf_channel_parse(&ch_ac, "a.d.b", vals, sizeof v0, &err), MF_ERR_NOT_FOUND);

    /* matching shape, bad values */
    assert_int_equal(mf_channel_parse(&ch_n, "n.bob.push", vals, sizeof v0, &err),
                     MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/user_id");
    assert_int_equal(mf_channel_parse(&ch_a, "a.*.b", vals, sizeof v0, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/x");
    assert_int_equal(mf_channel_parse(&ch_a, "a.>.b", vals, sizeof v0, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_channel_parse(&ch_a, "a.x y.b", vals, sizeof v0, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_channel_parse(&ch_a, "a.\xff.b", vals, sizeof v0, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_channel_parse(&ch_k, "k.sms.B07", vals, sizeof v0, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/kind");
    assert_int_equal(mf_channel_parse(&ch_k, "k.push.b07", vals, sizeof v0, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/code");

    /* value buffers: exact fit and one byte short */
    memset(v0, 'Q', sizeof v0);
    assert_int_equal(mf_channel_parse(&ch_a, "a.hello.b", vals, 6, &err), MF_OK);
    assert_string_equal(v0, "hello");
    memset(v0, 'Q', sizeof v0);
    assert_int_equal(mf_channel_parse(&ch_a, "a.hello.b", vals, 5, &err), MF_ERR_LIMIT);
    assert_string_equal(err.pointer, "/x");
    for (size_t i = 0; i < sizeof v0; i++)
        assert_int_equal(v0[i], 'Q');
}

static void test_param_check(void **state)
{
    (void)state;
    mf_error err;
    assert_int_equal(mf_param_check(&n_params[0], UUID, &err), MF_OK);
    assert_int_equal(mf_param_check(&n_params[0], "nope", &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/user_id");
    assert_int_equal(mf_param_check(&a_params[0], "anything-goes_1", &err), MF_OK);
    assert_int_equal(mf_param_check(&a_params[0], NULL, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_param_check(NULL, "x", &err), MF_ERR_INVALID_ARG);
    const mf_param_desc plain = {"s", &str_t, NULL};
    assert_int_equal(mf_param_check(&plain, "abc", NULL), MF_OK);
    assert_int_equal(mf_param_check(&plain, "", NULL), MF_ERR_INVALID_ARG);
    /* lengths count code points */
    static const mf_type len_t = {.kind = MF_K_STR, .name = "L", .min_len = 2, .max_len = 3};
    const mf_param_desc lp = {"l", &len_t, NULL};
    assert_int_equal(mf_param_check(&lp, "\xc3\xa9\xc3\xa9\xc3\xa9", &err), MF_OK);
    assert_int_equal(mf_param_check(&lp, "\xc3\xa9", &err), MF_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "at least 2"));
    assert_int_equal(mf_param_check(&lp, "abcd", &err), MF_ERR_INVALID_ARG);
}

/* ---- parameters with a location --------------------------------------------------------- */

typedef struct loc_msg {
    char *user_id;
    int64_t n;
    bool has_opt;
    char *opt;
    int kind;
    struct {
        char *id;
    } to;
    char *slash; /* member "a/b" */
} loc_msg;

static const mf_type int_t = {.kind = MF_K_INT, .name = "Int", .size = sizeof(int64_t)};
static const mf_field to_fields[] = {{"id", &str_t, offsetof(loc_msg, to.id) - offsetof(loc_msg, to), -1, -1, true,
                                      false, {0}, NULL, 0, {0}}};
static const mf_type to_t = {.kind = MF_K_OBJ, .name = "To", .size = sizeof(((loc_msg *)0)->to),
                             .fields = to_fields, .field_count = 1};
static const mf_field loc_fields[] = {
    {"user_id", &str_t, offsetof(loc_msg, user_id), -1, -1, true, false, {0}, NULL, 0, {0}},
    {"n", &int_t, offsetof(loc_msg, n), -1, -1, true, false, {0}, NULL, 0, {0}},
    {"opt", &str_t, offsetof(loc_msg, opt), (int32_t)offsetof(loc_msg, has_opt), -1, false, false, {0}, NULL, 0, {0}},
    {"kind", &kind_t, offsetof(loc_msg, kind), -1, -1, true, false, {0}, NULL, 0, {0}},
    {"to", &to_t, offsetof(loc_msg, to), -1, -1, true, false, {0}, NULL, 0, {0}},
    {"a/b", &str_t, offsetof(loc_msg, slash), -1, -1, true, false, {0}, NULL, 0, {0}},
};
static const mf_type loc_t = {.kind = MF_K_OBJ, .name = "LocMsg", .size = sizeof(loc_msg), .fields = loc_fields,
                              .field_count = 6};
static const mf_message_desc msg_loc = {"Loc", "Loc", "", "application/json", &loc_t, sizeof(loc_msg), NULL, 0};

/* l.{user_id}.{n}.{x}: user_id and n from the payload, x explicit */
static const mf_param_desc l_params[] = {{"user_id", &uuid_t, "/user_id"}, {"n", NULL, "/n"}, {"x", NULL, NULL}};
static const mf_channel_desc ch_l = {"loc", "l.{user_id}.{n}.{x}", "l.*.*.*", l_params, 3, NULL, 0};
static const mf_param_desc o_params[] = {{"opt", NULL, "/opt"}, {"kind", NULL, "/kind"}, {"id", NULL, "/to/id"},
                                         {"s", NULL, "/a~1b"}};
static const mf_channel_desc ch_o = {"opt", "o.{opt}.{kind}.{id}.{s}", "o.*.*.*.*", o_params, 4, NULL, 0};
static const mf_param_desc bad_params[] = {{"q", NULL, "/nope"}};
static const mf_channel_desc ch_bad = {"bad", "b.{q}", "b.*", bad_params, 1, NULL, 0};
static const mf_param_desc obj_params[] = {{"q", NULL, "/to"}};
static const mf_channel_desc ch_obj = {"obj", "b.{q}", "b.*", obj_params, 1, NULL, 0};

static loc_msg sample(void)
{
    loc_msg m = {0};
    m.user_id = UUID;
    m.n = 42;
    m.opt = "o1";
    m.has_opt = true;
    m.kind = 2; /* "push" */
    m.to.id = "t9";
    m.slash = "s1";
    return m;
}

static void test_subject_from_payload(void **state)
{
    (void)state;
    char out[128];
    mf_error err;
    loc_msg m = sample();
    const char *x[3] = {"ignored", NULL, "xv"};
    assert_int_equal(mf_channel_subject(&ch_l, &msg_loc, &m, x, out, sizeof out, &err), MF_OK);
    assert_string_equal(out, "l." UUID ".42.xv");
    m.n = -7;
    assert_int_equal(mf_channel_subject(&ch_l, &msg_loc, &m, x, out, sizeof out, &err), MF_OK);
    assert_string_equal(out, "l." UUID ".-7.xv");
    assert_int_equal(mf_channel_subject(&ch_o, &msg_loc, &m, NULL, out, sizeof out, &err), MF_OK);
    assert_string_equal(out, "o.o1.push.t9.s1"); /* optional, enum, nested, escaped */

    /* the explicit one is still needed */
    assert_int_equal(mf_channel_subject(&ch_l, &msg_loc, &m, NULL, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/x");
    /* a payload value that breaks the parameter's rules names the payload member */
    m.user_id = "not-a-uuid";
    assert_int_equal(mf_channel_subject(&ch_l, &msg_loc, &m, x, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/user_id");
    m = sample();
    m.to.id = "a.b";
    assert_int_equal(mf_channel_subject(&ch_o, &msg_loc, &m, NULL, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/to/id");
    assert_non_null(strstr(err.message, "'.'"));
    m.to.id = "*";
    assert_int_equal(mf_channel_subject(&ch_o, &msg_loc, &m, NULL, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    m.to.id = "a b";
    assert_int_equal(mf_channel_subject(&ch_o, &msg_loc, &m, NULL, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    /* absent values */
    m = sample();
    m.has_opt = false;
    assert_int_equal(mf_channel_subject(&ch_o, &msg_loc, &m, NULL, out, sizeof out, &err), MF_ERR_REQUIRED);
    assert_string_equal(err.pointer, "/opt");
    m = sample();
    m.kind = 0;
    assert_int_equal(mf_channel_subject(&ch_o, &msg_loc, &m, NULL, out, sizeof out, &err), MF_ERR_REQUIRED);
    m = sample();
    m.slash = NULL;
    assert_int_equal(mf_channel_subject(&ch_o, &msg_loc, &m, NULL, out, sizeof out, &err), MF_ERR_REQUIRED);
    assert_string_equal(err.pointer, "/a~1b");
    /* locations that do not lead to a string or integer */
    m = sample();
    assert_int_equal(mf_channel_subject(&ch_bad, &msg_loc, &m, NULL, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_channel_subject(&ch_obj, &msg_loc, &m, NULL, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_channel_subject(&ch_l, &msg_loc, NULL, x, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_channel_subject(&ch_l, &msg_loc, &m, x, out, 8, &err), MF_ERR_LIMIT);
}

static void test_check_payload(void **state)
{
    (void)state;
    mf_error err;
    loc_msg m = sample();
    const char *ok[3] = {UUID, "42", "anything"};
    assert_int_equal(mf_channel_check_payload(&ch_l, &msg_loc, &m, ok, &err), MF_OK);
    const char *other[3] = {"0b7a3c9e-4f21-4d8a-9c55-2e1f6a7b8c90", "42", "x"};
    assert_int_equal(mf_channel_check_payload(&ch_l, &msg_loc, &m, other, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/user_id");
    assert_non_null(strstr(err.message, "0b7a3c9e"));
    const char *zero[3] = {UUID, "042", "x"}; /* same number, another text: not the payload's */
    assert_int_equal(mf_channel_check_payload(&ch_l, &msg_loc, &m, zero, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/n");
    m.has_opt = false;
    const char *o[4] = {"o1", "push", "t9", "s1"};
    assert_int_equal(mf_channel_check_payload(&ch_o, &msg_loc, &m, o, &err), MF_ERR_REQUIRED);
    /* channels without located parameters accept anything */
    const char *a[1] = {"zz"};
    assert_int_equal(mf_channel_check_payload(&ch_a, &msg_loc, &m, a, &err), MF_OK);
}

static void test_filter(void **state)
{
    (void)state;
    char out[128];
    mf_error err;
    assert_int_equal(mf_channel_filter(&ch_l, NULL, out, sizeof out, &err), MF_OK);
    assert_string_equal(out, "l.*.*.*");
    const char *some[3] = {NULL, "7", NULL};
    assert_int_equal(mf_channel_filter(&ch_l, some, out, sizeof out, &err), MF_OK);
    assert_string_equal(out, "l.*.7.*");
    const char *bad[3] = {"nope", NULL, NULL};
    assert_int_equal(mf_channel_filter(&ch_l, bad, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_string_equal(err.pointer, "/user_id");
    const char *wild[3] = {NULL, ">", NULL};
    assert_int_equal(mf_channel_filter(&ch_l, wild, out, sizeof out, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_channel_filter(&ch_ac, NULL, out, sizeof out, &err), MF_OK);
    assert_string_equal(out, "a.c.b");
    assert_int_equal(mf_channel_filter(&ch_l, NULL, out, 4, &err), MF_ERR_LIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_channel_for_subject),
        cmocka_unit_test(test_address_ok),
        cmocka_unit_test(test_address_errors),
        cmocka_unit_test(test_address_buffer),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_param_check),
        cmocka_unit_test(test_subject_from_payload),
        cmocka_unit_test(test_check_payload),
        cmocka_unit_test(test_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
