/*
 * test_utf8.c - mf_utf8_valid (RFC 3629 plus "no NUL") and mf_utf8_count,
 * including every position relative to the 8-byte ASCII fast path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "codec/codec_int.h"
#include "mf/codec.h"

#define V(lit) mf_utf8_valid((lit), sizeof(lit) - 1)

static void test_ascii(void **state)
{
    (void)state;
    assert_true(mf_utf8_valid("", 0));
    assert_true(mf_utf8_valid(NULL, 0));
    assert_true(V("a"));
    assert_true(V("hello, world: 0123456789 ~\x7f"));
    assert_false(V("a\0b"));
    assert_false(V("0123456789abcdef\0"));
    assert_true(V("\x01\x1f"));
}

static void test_valid_sequences(void **state)
{
    (void)state;
    assert_true(V("\xc2\x80"));             /* U+0080 */
    assert_true(V("\xdf\xbf"));             /* U+07FF */
    assert_true(V("\xe0\xa0\x80"));         /* U+0800 */
    assert_true(V("\xed\x9f\xbf"));         /* U+D7FF */
    assert_true(V("\xee\x80\x80"));         /* U+E000 */
    assert_true(V("\xef\xbf\xbf"));         /* U+FFFF */
    assert_true(V("\xf0\x90\x80\x80"));     /* U+10000 */
    assert_true(V("\xf4\x8f\xbf\xbf"));     /* U+10FFFF */
    assert_true(V("J\xc3\xb6rg \xe2\x82\xac \xf0\x9f\x98\x80!"));
}

static void test_invalid_sequences(void **state)
{
    (void)state;
    assert_false(V("\x80"));                 /* lone continuation */
    assert_false(V("\xbf"));
    assert_false(V("\xc0\x80"));             /* overlong NUL */
    assert_false(V("\xc1\xbf"));             /* overlong */
    assert_false(V("\xe0\x80\x80"));         /* overlong 3-byte */
    assert_false(V("\xe0\x9f\xbf"));
    assert_false(V("\xf0\x80\x80\x80"));     /* overlong 4-byte */
    assert_false(V("\xf0\x8f\xbf\xbf"));
    assert_false(V("\xed\xa0\x80"));         /* U+D800 */
    assert_false(V("\xed\xbf\xbf"));         /* U+DFFF */
    assert_false(V("\xed\xa0\x80\xed\xb0\x80")); /* CESU-8 surrogate pair */
    assert_false(V("\xf4\x90\x80\x80"));     /* U+110000 */
    assert_false(V("\xf5\x80\x80\x80"));
    assert_false(V("\xf8\x88\x80\x80\x80")); /* 5-byte form */
    assert_false(V("\xfe"));
    assert_false(V("\xff"));
    assert_false(V("\xc2"));                 /* truncated */
    assert_false(V("\xe2\x82"));
    assert_false(V("\xf0\x9f\x98"));
    assert_false(V("\xc2\x41"));             /* bad continuation */
    assert_false(V("\xe2\x28\xa1"));
    assert_false(V("\xe2\x82\x28"));
    assert_false(V("\xf0\x9f\x28\x80"));
    assert_false(V("\xf0\x9f\x98\x28"));
    assert_false(V("\xc2\x80\x80"));         /* extra continuation */
}

/* Every sequence at every offset around the 8-byte fast path, and truncated at
 * every length: the result must equal a byte-at-a-time reference. */
static bool reference_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t c = s[i], cp;
        size_t len;
        if (c == 0)
            return false;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
        else return false;
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

static size_t reference_count(const unsigned char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (s[i] & 0xC0) != 0x80;
    return c;
}

static void test_offsets_against_reference(void **state)
{
    (void)state;
    static const char *const seqs[] = {
        "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\xa0\x80", "\xc0\xaf",
        "\xf4\x90\x80\x80", "\x80", "\xff", "\xe0\x80\xaf", "\xef\xbf\xbf", "\0",
    };
    static const size_t lens[] = {2, 3, 4, 3, 2, 4, 1, 1, 3, 3, 1};
    unsigned char buf[64];
    for (size_t k = 0; k < sizeof seqs / sizeof seqs[0]; k++) {
        for (size_t off = 0; off < 20; off++) {
            for (size_t tail = 0; tail < 12; tail++) {
                size_t n = 0;
                memset(buf, 'x', off);
                n = off;
                memcpy(buf + n, seqs[k], lens[k]);
                n += lens[k];
                memset(buf + n, 'y', tail);
                n += tail;
                for (size_t cut = 0; cut <= n; cut++) {
                    bool want = reference_valid(buf, cut);
                    assert_int_equal(mf_utf8_valid((const char *)buf, cut), want);
                    if (want)
                        assert_int_equal(mf_utf8_count((const char *)buf, cut),
                                         reference_count(buf, cut));
                }
            }
        }
    }
}

static void test_random_against_reference(void **state)
{
    (void)state;
    unsigned char buf[48];
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int iter = 0; iter < 200000; iter++) {
        size_t n = (size_t)(x % sizeof buf);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            /* mostly ASCII, sometimes lead/continuation bytes */
            unsigned r = (unsigned)(x >> 24);
            buf[i] = (r & 3) ? (unsigned char)(0x20 + r % 95) : (unsigned char)(0x80 + (r >> 8) % 128);
        }
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        assert_int_equal(mf_utf8_valid((const char *)buf, n), reference_valid(buf, n));
        assert_int_equal(mf_utf8_count((const char *)buf, n), reference_count(buf, n));
    }
}

static void test_count(void **state)
{
    (void)state;
    assert_int_equal(mf_utf8_count("", 0), 0);
    assert_int_equal(mf_utf8_count("abc", 3), 3);
    assert_int_equal(mf_utf8_count("J\xc3\xb6rg", 5), 4);
    assert_int_equal(mf_utf8_count("\xe2\x82\xac\xe2\x82\xac", 6), 2);
    assert_int_equal(mf_utf8_count("\xf0\x9f\x98\x80", 4), 1);
    /* long mixed string crossing many 8-byte words */
    char big[1024];
    size_t n = 0, cps = 0;
    while (n + 4 <= sizeof big) {
        memcpy(big + n, "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" + 0, 1);
        n += 1, cps++;
        if (n + 9 > sizeof big)
            break;
        memcpy(big + n, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
        n += 9, cps += 3;
    }
    assert_true(mf_utf8_valid(big, n));
    assert_int_equal(mf_utf8_count(big, n), cps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_valid_sequences),
        cmocka_unit_test(test_invalid_sequences),
        cmocka_unit_test(test_offsets_against_reference),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
