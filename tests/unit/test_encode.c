/*
 * test_encode.c - mf_encode: canonical output, round trips, escaping, number
 * formatting, error handling (nothing appended on error) and buffer limits.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"

/* decode -> encode must give back the same bytes */
static void roundtrip_bytes(const mf_type *t, const char *json)
{
    fx_out o;
    mf_error err;
    mf_buf b = MF_BUF_INIT;
    mf_status st = fx_decode_str(t, json, &o, &err);
    if (st)
        print_error("decode: %s at %s: %s\n", mf_status_str(st), err.pointer, err.message);
    assert_int_equal(st, MF_OK);
    st = mf_encode(t, &o, &b, &err);
    if (st)
        print_error("encode: %s at %s: %s\n", mf_status_str(st), err.pointer, err.message);
    assert_int_equal(st, MF_OK);
    assert_string_equal(b.data, json);
    assert_int_equal(b.len, strlen(json));
    /* and decode(encode(x)) == x */
    fx_out o2;
    assert_int_equal(mf_decode(t, b.data, b.len, &o2, NULL), MF_OK);
    assert_true(mf_equal(t, &o, &o2));
    mf_free(t, &o);
    mf_free(t, &o2);
    mf_buf_free(&b);
}

static void test_canonical_roundtrip(void **state)
{
    (void)state;
    roundtrip_bytes(&fx_doc_desc, fx_doc_full_json);
    roundtrip_bytes(&fx_doc_desc, fx_doc_min_json);
    roundtrip_bytes(&fx_int_list_desc, "[1,-2,9007199254740991,-9007199254740991,0]");
    roundtrip_bytes(&fx_int_list_desc, "[]");
    roundtrip_bytes(&fx_raw_desc, "{\"a\":[1,2,{\"b\":null}],\"c\":\"\\u0001\\n\"}");
    roundtrip_bytes(&fx_tree_desc, "{\"kids\":[{\"kids\":[]},{}]}");
    roundtrip_bytes(&fx_str_desc, "\"\"");
    const char *variants[][2] = {
        {"{\"kind\":\"rect\",\"w\":2,\"h\":0.1}", "{\"kind\":\"circle\",\"radius\":1e-7}"},
        {"\"any\":[1,2,3]", "\"any\":true"},
        {"\"any\":[1,2,3]", "\"any\":-3"},
        {"\"any\":[1,2,3]", "\"any\":2.5"},
        {"\"any\":[1,2,3]", "\"any\":\"s\\\"\""},
        {"\"any\":[1,2,3]", "\"any\":{\"x\":1,\"y\":2}"},
        {"\"note\":null", "\"note\":\"n\""},
        {"\"labels\":{\"en\":\"Hello\",\"x/y~\":\"Bonjour\"}", "\"labels\":{}"},
        {"\"extra\":[1,\"two\",{\"three\":3.5}]", "\"extra\":null"},
    };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        char *j = fx_replace(fx_doc_full_json, variants[i][0], variants[i][1]);
        roundtrip_bytes(&fx_doc_desc, j);
        free(j);
    }
}

static void test_built_in_c(void **state)
{
    (void)state;
    fx_doc d, back;
    mf_buf b = MF_BUF_INIT;
    mf_error err;
    fx_doc_build_full(&d);
    assert_int_equal(mf_encode(&fx_doc_desc, &d, &b, &err), MF_OK);
    assert_string_equal(b.data, fx_doc_full_json);
    assert_int_equal(mf_decode(&fx_doc_desc, b.data, b.len, &back, &err), MF_OK);
    assert_true(mf_equal(&fx_doc_desc, &d, &back));
    /* appending keeps what the buffer held */
    mf_buf_reset(&b);
    mf_buf_append_str(&b, "prefix:");
    assert_int_equal(mf_encode(&fx_doc_desc, &d, &b, &err), MF_OK);
    assert_int_equal(strncmp(b.data, "prefix:", 7), 0);
    assert_string_equal(b.data + 7, fx_doc_full_json);
    mf_free(&fx_doc_desc, &d);
    mf_free(&fx_doc_desc, &back);
    mf_buf_free(&b);
}

static void test_error_restores_buffer(void **state)
{
    (void)state;
    fx_doc d;
    mf_buf b = MF_BUF_INIT;
    mf_error err;
    fx_doc_build_full(&d);
    mf_buf_append_str(&b, "keep");
    d.settings.retries = 11;
    assert_int_equal(mf_encode(&fx_doc_desc, &d, &b, &err), MF_ERR_RANGE);
    assert_string_equal(err.pointer, "/settings/retries");
    assert_int_equal(b.len, 4);
    assert_string_equal(b.data, "keep");
    d.settings.retries = 10;
    d.any.which = 0;
    assert_int_equal(mf_encode(&fx_doc_desc, &d, &b, &err), MF_ERR_UNION);
    assert_string_equal(err.pointer, "/any");
    assert_string_equal(b.data, "keep");
    d.any.which = FX_ANY_ARR;
    /* a size limit hit in the middle: nothing appended */
    mf_buf lim = MF_BUF_INIT;
    lim.limit = 100;
    mf_buf_append_str(&lim, "xy");
    assert_int_equal(mf_encode(&fx_doc_desc, &d, &lim, &err), MF_ERR_LIMIT);
    assert_int_equal(lim.len, 2);
    assert_string_equal(lim.data, "xy");
    /* the same buffer with room enough works */
    lim.limit = 4096;
    assert_int_equal(mf_encode(&fx_doc_desc, &d, &lim, &err), MF_OK);
    assert_string_equal(lim.data + 2, fx_doc_full_json);
    /* a limit of exactly the output size works; one less does not */
    size_t need = lim.len;
    mf_buf_reset(&lim);
    mf_buf_append_str(&lim, "xy");
    lim.limit = need - 1;
    assert_int_equal(mf_encode(&fx_doc_desc, &d, &lim, &err), MF_ERR_LIMIT);
    assert_int_equal(lim.len, 2);
    lim.limit = need;
    assert_int_equal(mf_encode(&fx_doc_desc, &d, &lim, &err), MF_OK);
    assert_int_equal(lim.len, need);
    /* a fresh buffer with a small limit (no storage yet) */
    mf_buf tiny = MF_BUF_INIT;
    tiny.limit = 10;
    assert_int_equal(mf_encode(&fx_doc_desc, &d, &tiny, &err), MF_ERR_LIMIT);
    assert_int_equal(tiny.len, 0);
    int64_t small = 12345;
    assert_int_equal(mf_encode(&fx_int_desc, &small, &tiny, &err), MF_OK);
    assert_string_equal(tiny.data, "12345");
    mf_buf_free(&tiny);
    assert_int_equal(mf_encode(NULL, &d, &lim, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_encode(&fx_doc_desc, &d, NULL, &err), MF_ERR_INVALID_ARG);
    mf_buf_free(&lim);
    mf_free(&fx_doc_desc, &d);
    mf_buf_free(&b);
}

static void test_string_escaping(void **state)
{
    (void)state;
    char in[64], *p = in;
    for (int c = 1; c < 0x20; c++)
        *p++ = (char)c;
    memcpy(p, "\"\\/\x7f\xc3\xa9\xe2\x80\xa8", 10);
    p[10] = '\0';
    char *s = in;
    mf_buf b = MF_BUF_INIT;
    assert_int_equal(mf_encode(&fx_str_desc, &s, &b, NULL), MF_OK);
    assert_string_equal(b.data,
                        "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
                        "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018"
                        "\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\\"\\\\/\x7f\xc3\xa9\xe2\x80\xa8\"");
    fx_out o;
    assert_int_equal(mf_decode(&fx_str_desc, b.data, b.len, &o, NULL), MF_OK);
    assert_string_equal(o.str, in);
    mf_free(&fx_str_desc, &o);
    /* a long string with escapes near the 8-byte boundaries and a tight limit */
    char longs[300];
    for (int i = 0; i < 299; i++)
        longs[i] = (i % 9 == 8) ? '"' : 'a' + i % 26;
    longs[299] = '\0';
    s = longs;
    mf_buf_reset(&b);
    assert_int_equal(mf_encode(&fx_str_desc, &s, &b, NULL), MF_OK);
    assert_int_equal(b.len, 299 + 33 + 2);
    assert_int_equal(mf_decode(&fx_str_desc, b.data, b.len, &o, NULL), MF_OK);
    assert_string_equal(o.str, longs);
    mf_free(&fx_str_desc, &o);
    /* invalid UTF-8 is never written */
    s = "a\xc3";
    mf_buf_reset(&b);
    mf_error err;
    assert_int_equal(mf_encode(&fx_str_desc, &s, &b, &err), MF_ERR_UTF8);
    assert_int_equal(b.len, 0);
    mf_buf_free(&b);
}

static void test_numbers(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *text; /* NULL: only check that it reads back exactly */
    } cases[] = {
        {0.0, "0"}, {-0.0, "-0"}, {1.0, "1"}, {100.0, "100"}, {-2.5, "-2.5"}, {0.1, "0.1"},
        {0.3, "0.3"}, {1e21, "1e+21"}, {1e15, "1e+15"}, {123456789012345.0, "123456789012345"},
        {1.0 / 3.0, "0.3333333333333333"}, {2.0 / 3.0, "0.6666666666666666"},
        {5e-324, "4.94065645841247e-324"}, {DBL_MAX, "1.7976931348623157e+308"},
        {0.1 + 0.2, "0.30000000000000004"}, {9007199254740993.0, NULL}, {1e-7, "1e-7"}, {1.5e-10, "1.5e-10"}, {2e100, "2e+100"},
        {123456.789, "123456.789"}, {-1e300, "-1e+300"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mf_buf b = MF_BUF_INIT;
        double v = cases[i].v;
        assert_int_equal(mf_encode(&fx_num_desc, &v, &b, NULL), MF_OK);
        if (cases[i].text)
            assert_string_equal(b.data, cases[i].text);
        assert_true(strtod(b.data, NULL) == v);
        assert_true(signbit(strtod(b.data, NULL)) == signbit(v));
        fx_out o;
        assert_int_equal(mf_decode(&fx_num_desc, b.data, b.len, &o, NULL), MF_OK);
        assert_true(o.n == v);
        mf_buf_free(&b);
    }
    mf_buf b = MF_BUF_INIT;
    mf_error err;
    double bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(mf_encode(&fx_num_desc, &bad[i], &b, &err), MF_ERR_RANGE);
        assert_int_equal(b.len, 0);
    }
    int64_t ints[] = {0, -1, 9007199254740991LL, -9007199254740991LL};
    const char *itext[] = {"0", "-1", "9007199254740991", "-9007199254740991"};
    for (size_t i = 0; i < 4; i++) {
        mf_buf_reset(&b);
        assert_int_equal(mf_encode(&fx_int_desc, &ints[i], &b, NULL), MF_OK);
        assert_string_equal(b.data, itext[i]);
    }
    int64_t big[] = {9007199254740992LL, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(mf_encode(&fx_int_desc, &big[i], &b, &err), MF_ERR_RANGE);
    mf_buf_free(&b);
}

static void test_presence(void **state)
{
    (void)state;
    fx_doc d;
    mf_buf b = MF_BUF_INIT;
    mf_init(&fx_doc_desc, &d);
    d.id = "123e4567-e89b-12d3-a456-426614174000";
    d.name = "n";
    d.count = 2;
    d.color = FX_COLOR_GREEN;
    d.owner_is_null = true;
    d.score = NAN; /* absent members are neither checked nor written */
    d.has_note = true;
    d.note_is_null = true;
    d.has_settings = true; /* with only defaults inside: an empty object */
    d.has_tags = true;
    d.tags.count = 1;
    char *tag = "t";
    d.tags.items = &tag;
    assert_int_equal(mf_encode(&fx_doc_desc, &d, &b, NULL), MF_OK);
    assert_string_equal(b.data, "{\"id\":\"123e4567-e89b-12d3-a456-426614174000\",\"name\":\"n\",\"count\":2,"
                                "\"color\":\"green\",\"note\":null,\"owner\":null,\"tags\":[\"t\"],\"settings\":{}}");
    mf_buf_free(&b);
}

/* Reference escaper: one byte at a time, as RFC 8259 and encode.c's header say. */
static size_t ref_escape(const char *s, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    out[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        const char *sh = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f"
                       : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
        if (sh) {
            memcpy(out + o, sh, 2);
            o += 2;
        } else if (c < 0x20) {
            memcpy(out + o, "\\u00", 4);
            out[o + 4] = hex[c >> 4];
            out[o + 5] = hex[c & 15];
            o += 6;
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return o;
}

/* The escaper's fast paths (8-byte runs, byte tails, an escape at every
 * offset) against the reference, and every buffer limit around the exact
 * output size. */
static void test_string_escaping_random(void **state)
{
    (void)state;
    static const char pool[] = "abcdefgh\"\\\n\t\x01\x1f \x7f/";
    uint64_t r = 0x2545F4914F6CDD1Dull;
    char in[80], want[80 * 6 + 3];
    for (int round = 0; round < 4000; round++) {
        size_t n = 0, len;
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        len = r % 40;
        for (size_t i = 0; i < len; i++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            /* mostly plain bytes, sometimes a byte that needs an escape, sometimes UTF-8 */
            unsigned k = (unsigned)(r >> 32) % 16;
            if (k < 10)
                in[n++] = (char)('a' + k);
            else if (k < 15)
                in[n++] = pool[(r >> 8) % (sizeof pool - 1)];
            else if (n + 2 <= sizeof in - 1) {
                in[n++] = (char)0xc3;
                in[n++] = (char)0xa9;
            }
        }
        in[n] = '\0';
        size_t wl = ref_escape(in, want);
        char *s = in;
        mf_buf b = MF_BUF_INIT;
        assert_int_equal(mf_encode(&fx_str_desc, &s, &b, NULL), MF_OK);
        assert_int_equal(b.len, wl);
        assert_memory_equal(b.data, want, wl + 1);
        mf_buf_free(&b);
        if (round % 8 == 0) {
            /* limits just below, at and above the output size, on a buffer that grows */
            for (size_t lim = wl > 2 ? wl - 2 : 1; lim <= wl + 1; lim++) {
                mf_buf t = MF_BUF_INIT;
                t.limit = lim;
                mf_status st = mf_encode(&fx_str_desc, &s, &t, NULL);
                assert_int_equal(st, lim >= wl ? MF_OK : MF_ERR_LIMIT);
                if (st == MF_OK)
                    assert_memory_equal(t.data, want, wl + 1);
                else
                    assert_int_equal(t.len, 0);
                mf_buf_free(&t);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_roundtrip),
        cmocka_unit_test(test_built_in_c),
        cmocka_unit_test(test_error_restores_buffer),
        cmocka_unit_test(test_string_escaping),
        cmocka_unit_test(test_string_escaping_random),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_presence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
