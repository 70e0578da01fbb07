/*
 * test_nomem.c - every allocation of the codec, the NATS protocol code and the subject
 * trie made to fail, one at a time (SQLite's technique): the operation must either
 * succeed with the right result or fail with an error, leaving nothing allocated (the
 * sanitizer build checks for leaks) and its output reset.
 *
 * malloc, calloc, realloc, strdup and strndup are wrapped at link time (-Wl,--wrap, see
 * tests/unit/CMakeLists.txt) and cJSON's hooks point at the same failing allocator, so
 * the Nth allocation of the operation returns NULL, for N = 0, 1, 2, ... until the
 * operation runs through without reaching an injected failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "fixtures.h"
#include "mf/codec.h"
#include "mf/proto.h"
#include "broker/sublist.h"

static long fail_at = -1; /* the allocation to fail (counted from 0), -1 = none */
static long calls;

static bool fail_now(void)
{
    return fail_at >= 0 && calls++ == fail_at;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);

void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t a, size_t b)
{
    return fail_now() ? NULL : __real_calloc(a, b);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fail_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return fail_now() ? NULL : __real_strndup(s, n);
}

static void *hook_malloc(size_t n)
{
    return __wrap_malloc(n);
}

/* Runs op with the k-th allocation failing, for every k it reaches. op returns true
 * when it did what it should (success, or a clean failure). */
static void every_failure(const char *what, bool (*op)(void))
{
    long k;
    for (k = 0; k < 100000; k++) {
        fail_at = k;
        calls = 0;
        bool ok = op();
        long reached = calls;
        fail_at = -1;
        if (!ok)
            fail_msg("%s: wrong outcome with allocation %ld failing", what, k);
        if (reached <= k)
            break; /* it finished without meeting the injected failure: all covered */
    }
    assert_true(k > 0);
}

/* ---------------------------------------------------------------- codec */

static bool codec_roundtrip(void)
{
    fx_out v, copy, back;
    mf_error err;
    mf_status st = mf_decode(&fx_doc_desc, fx_doc_full_json, strlen(fx_doc_full_json), &v, &err);
    if (st)
        return err.code == st; /* reset and reported (mf_free of a reset value is a no-op) */
    mf_buf b = MF_BUF_INIT;
    bool ok = true;
    st = mf_encode(&fx_doc_desc, &v, &b, &err);
    if (!st) {
        if (mf_decode(&fx_doc_desc, b.data, b.len, &back, NULL) == MF_OK) {
            ok = mf_equal(&fx_doc_desc, &v, &back);
            mf_free(&fx_doc_desc, &back);
        }
    } else {
        ok = st == MF_ERR_NOMEM && b.len == 0;
    }
    st = mf_copy(&fx_doc_desc, &copy, &v, &err);
    if (!st) {
        ok = ok && mf_equal(&fx_doc_desc, &copy, &v);
        mf_free(&fx_doc_desc, &copy);
    }
    mf_buf_free(&b);
    mf_free(&fx_doc_desc, &v);
    return ok;
}

static bool codec_raw_and_maps(void)
{
    static const char *docs[] = {"{\"a\":[1,2,{\"b\":\"c\"}],\"d\":null,\"e\":\"\\u00e9\"}", "[true,false,1.5]"};
    for (size_t i = 0; i < 2; i++) {
        fx_out v;
        mf_status st = mf_decode(&fx_raw_desc, docs[i], strlen(docs[i]), &v, NULL);
        if (st == MF_OK && !v.str)
            return false;
        mf_free(&fx_raw_desc, &v);
    }
    fx_out m;
    const char *labels = "{\"en\":\"Hello\",\"fr\":\"Bonjour\",\"de\":\"Hallo\"}";
    if (mf_decode(&fx_labels_desc, labels, strlen(labels), &m, NULL) == MF_OK) {
        mf_buf b = MF_BUF_INIT;
        mf_encode(&fx_labels_desc, &m, &b, NULL);
        mf_buf_free(&b);
    }
    mf_free(&fx_labels_desc, &m);
    return true;
}

static void test_codec(void **state)
{
    (void)state;
    every_failure("codec round trip", codec_roundtrip);
    every_failure("raw values and maps", codec_raw_and_maps);
}

/* ---------------------------------------------------------------- NATS protocol */

static bool proto_parse(void)
{
    static const char stream[] = "INFO {\"server_id\":\"x\",\"connect_urls\":[\"a:1\",\"b:2\"]}\r\n"
                                 "MSG a.b 1 _INBOX.r 3\r\nabc\r\nHMSG r 2 16 16\r\nNATS/1.0 503\r\n\r\n\r\n"
                                 "PING\r\n+OK\r\n-ERR 'x'\r\n";
    mf_proto_parser p;
    mf_proto_parser_init(&p, MF_PROTO_CLIENT_SIDE, 0, 0);
    int ops = 0, r = 0;
    for (size_t i = 0; i < sizeof stream - 1; i += 7) {
        size_t n = sizeof stream - 1 - i < 7 ? sizeof stream - 1 - i : 7;
        if (mf_proto_feed(&p, stream + i, n) != MF_OK)
            break;
        mf_proto_op op;
        while ((r = mf_proto_next(&p, &op, NULL)) == 1) {
            ops++;
            if (op.kind == MF_OP_INFO) {
                mf_proto_info info;
                mf_proto_parse_info(op.json.ptr, op.json.len, &info, NULL);
            }
        }
    }
    mf_proto_parser_free(&p);
    return r >= 0 && ops <= 6;
}

static bool proto_write(void)
{
    mf_buf b = MF_BUF_INIT;
    mf_proto_connect c;
    mf_proto_connect_init(&c);
    snprintf(c.name, sizeof c.name, "n\"ame");
    snprintf(c.auth_token, sizeof c.auth_token, "tok");
    mf_status st = mf_proto_write_connect(&b, &c);
    if (!st)
        st = mf_proto_write_pub(&b, "a.b", "r", "data", 4);
    if (!st)
        st = mf_proto_write_hpub(&b, "a", NULL, "NATS/1.0\r\n\r\n", 12, "x", 1);
    if (!st)
        st = mf_proto_write_sub(&b, "a.*", "q", 7);
    if (!st)
        st = mf_proto_write_msg(&b, "a", 1, "1", 1, "r", 1, "x", 1);
    bool ok = st == MF_OK || st == MF_ERR_NOMEM;
    if (!st) {
        mf_proto_connect back;
        const char *j = strchr(b.data, '{');
        ok = mf_proto_parse_connect(j, (size_t)(strchr(j, '\r') - j), &back, NULL) != MF_OK ||
             !strcmp(back.name, "n\"ame");
    }
    mf_buf_free(&b);
    return ok;
}

static void test_proto(void **state)
{
    (void)state;
    every_failure("protocol parser", proto_parse);
    every_failure("protocol writers", proto_write);
}

/* ---------------------------------------------------------------- subject trie */

static bool sublist_ops(void)
{
    mfb_sublist *sl = mfb_sublist_new(0);
    if (!sl)
        return true;
    static const char *subs[] = {"a.b", "a.*", "a.>", "*.b", ">", "x.y.z", "a.b"};
    int tags[7];
    bool ok = true;
    size_t in = 0;
    for (size_t i = 0; i < 7; i++) {
        mf_status st = mfb_sublist_insert(sl, subs[i], i == 6 ? "q" : NULL, &tags[i]);
        if (st == MF_OK)
            in++;
        else
            ok = ok && st == MF_ERR_NOMEM;
    }
    mfb_sublist_result r;
    mfb_sublist_result_init(&r);
    for (int round = 0; round < 2; round++) /* the second match may come from the cache */
        if (mfb_sublist_match(sl, "a.b", 3, &r) == MF_OK)
            ok = ok && r.npsubs + r.ngroups <= in;
    mfb_sublist_result_free(&r);
    for (size_t i = 0; i < 7; i++)
        mfb_sublist_remove(sl, subs[i], i == 6 ? "q" : NULL, &tags[i]);
    ok = ok && mfb_sublist_count(sl) == 0;
    mfb_sublist_free(sl);
    return ok;
}

static void test_sublist(void **state)
{
    (void)state;
    every_failure("sublist", sublist_ops);
}

int main(void)
{
    cJSON_Hooks hooks = {hook_malloc, free};
    cJSON_InitHooks(&hooks);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec),
        cmocka_unit_test(test_proto),
        cmocka_unit_test(test_sublist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
