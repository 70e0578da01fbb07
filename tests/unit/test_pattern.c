/*
 * test_pattern.c - mf_pattern_check: match, no match, message format, a bad
 * ERE (an error, not a crash), concurrent first use from 8 threads, and the
 * fast matcher (pattern.c) against regexec: the schema's patterns and random
 * simple patterns on random strings must get the same answer from both, and
 * patterns outside the fast matcher's scope must fall back to regexec.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <locale.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <cmocka.h>

#include "codec/codec_int.h"
#include "mf/codec.h"
#include "mf_skip.h"

static mf_status check(mf_pattern *p, const char *s, mf_error *err)
{
    return mf_pattern_check(p, s, strlen(s), "/code", err);
}

static void test_match(void **state)
{
    (void)state;
    static mf_pattern p = {"^[A-Z]{3}-\\d+$", "^[A-Z]{3}-[0-9]+$", 0, NULL};
    mf_error err;
    mf_error_clear(&err);
    assert_int_equal(check(&p, "ABC-1", &err), MF_OK);
    assert_int_equal(p.state, 1);
    assert_non_null(p.compiled);
    void *compiled = p.compiled;
    assert_int_equal(check(&p, "XYZ-0042", &err), MF_OK);
    assert_ptr_equal(p.compiled, compiled); /* compiled once */
    assert_int_equal(err.code, MF_OK);
    assert_int_equal(mf_pattern_check(&p, "ABC-1", 5, "", NULL), MF_OK);
}

static void test_no_match(void **state)
{
    (void)state;
    static mf_pattern p = {"^[A-Z]{3}-\\d+$", "^[A-Z]{3}-[0-9]+$", 0, NULL};
    mf_error err;
    assert_int_equal(check(&p, "abc-1", &err), MF_ERR_PATTERN);
    assert_int_equal(err.code, MF_ERR_PATTERN);
    assert_string_equal(err.pointer, "/code");
    assert_string_equal(err.message, "\"abc-1\" does not match ^[A-Z]{3}-\\d+$");
    assert_int_equal(check(&p, "", &err), MF_ERR_PATTERN);
    assert_string_equal(err.message, "\"\" does not match ^[A-Z]{3}-\\d+$");
    assert_int_equal(mf_pattern_check(&p, "nope", 4, "/x", NULL), MF_ERR_PATTERN);

    /* long values are cut to 40 bytes in the message */
    const char *longv = "0123456789012345678901234567890123456789TAIL";
    assert_int_equal(check(&p, longv, &err), MF_ERR_PATTERN);
    assert_string_equal(err.message,
                        "\"0123456789012345678901234567890123456789\" does not match ^[A-Z]{3}-\\d+$");
    /* ... at a character boundary */
    char utf[64];
    memset(utf, 'a', 39);
    strcpy(utf + 39, "\xc3\xa9zz");
    assert_int_equal(check(&p, utf, &err), MF_ERR_PATTERN);
    assert_non_null(strstr(err.message, "aaaaaaaa\" does not match"));
    assert_true(mf_utf8_valid(err.message, strlen(err.message)));
}

static void test_unanchored_and_alternation(void **state)
{
    (void)state;
    static mf_pattern p = {"(push|email)", "(push|email)", 0, NULL};
    assert_int_equal(check(&p, "via push only", NULL), MF_OK);
    assert_int_equal(check(&p, "sms", NULL), MF_ERR_PATTERN);
}

static void test_bad_ere(void **state)
{
    (void)state;
    static mf_pattern p = {"([a-z", "([a-z", 0, NULL};
    mf_error err;
    assert_int_equal(check(&p, "abc", &err), MF_ERR_PATTERN);
    assert_int_equal(p.state, -1);
    assert_string_equal(err.pointer, "/code");
    assert_string_equal(err.message, "pattern ([a-z could not be compiled");
    /* every later check fails the same way, without retrying */
    assert_int_equal(check(&p, "abc", &err), MF_ERR_PATTERN);
    assert_string_equal(err.message, "pattern ([a-z could not be compiled");

    static mf_pattern q = {"x", NULL, 0, NULL}; /* no translation at all */
    assert_int_equal(check(&q, "x", &err), MF_ERR_PATTERN);
    assert_int_equal(q.state, -1);
}

#define THREADS 8
#define ROUNDS 2000

static mf_pattern shared = {"^[0-9a-f]{8}$", "^[0-9a-f]{8}$", 0, NULL};
static pthread_barrier_t barrier;

static void *worker(void *arg)
{
    intptr_t bad = 0;
    (void)arg;
    pthread_barrier_wait(&barrier); /* all threads hit the first use together */
    for (int i = 0; i < ROUNDS; i++) {
        mf_error err;
        if (mf_pattern_check(&shared, "deadbeef", 8, "/id", &err) != MF_OK)
            bad++;
        if (mf_pattern_check(&shared, "DEADBEEF", 8, "/id", &err) != MF_ERR_PATTERN)
            bad++;
    }
    return (void *)bad;
}

static void test_concurrent_first_use(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    assert_int_equal(pthread_barrier_init(&barrier, NULL, THREADS), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker, NULL), 0);
    intptr_t bad = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        bad += (intptr_t)r;
    }
    pthread_barrier_destroy(&barrier);
    assert_int_equal(bad, 0);
    assert_int_equal(shared.state, 1);
}

/* ------------------------------------------------ fast matcher vs regexec */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void random_string(char *buf, size_t cap, const char *alphabet, size_t maxlen)
{
    size_t n = rnd((unsigned)maxlen + 1), k = strlen(alphabet);
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = alphabet[rnd((unsigned)k)];
    buf[n] = '\0';
}

/* Patterns (and their ERE text) made by the tests below. Compiled forms live
 * until the process exits, so these stay reachable from here: not leaks. */
static mf_pattern *kept_patterns[1024];
static char *kept_eres[1024];
static size_t nkept, nkept_eres;

/* Compares the fast matcher with regexec on `rounds` random strings; returns
 * how many the fast matcher answered (it must answer when `expect_fast`). */
static long compare_with_regexec(const char *ere, const char *alphabet, size_t maxlen, long rounds,
                                 bool expect_fast)
{
    mf_pattern *p = calloc(1, sizeof *p);
    regex_t re;
    char buf[600];
    long fast = 0, mismatches = 0;
    assert_non_null(p);
    assert_true(nkept < sizeof kept_patterns / sizeof *kept_patterns);
    kept_patterns[nkept++] = p;
    p->source = ere;
    p->ere = ere;
    assert_int_equal(regcomp(&re, ere, REG_EXTENDED | REG_NOSUB), 0);
    for (long r = 0; r < rounds; r++) {
        random_string(buf, sizeof buf, alphabet, maxlen);
        size_t n = strlen(buf);
        int want = regexec(&re, buf, 0, NULL, 0) == 0;
        int got = mf_pattern_fast_match(p, buf, n);
        if (expect_fast && got < 0 && n <= 256)
            fail_msg("fast matcher does not apply to %s on \"%s\"", ere, buf);
        if (got >= 0) {
            fast++;
            if (got != want && mismatches++ < 5)
                print_error("%s on \"%s\": fast %d, regexec %d\n", ere, buf, got, want);
        }
        /* and the public check agrees as well */
        if ((mf_pattern_check(p, buf, n, "", NULL) == MF_OK) != want && mismatches++ < 5)
            print_error("%s on \"%s\": mf_pattern_check disagrees with regexec\n", ere, buf);
    }
    regfree(&re);
    if (mismatches)
        fail_msg("%ld mismatches for %s", mismatches, ere);
    return fast;
}

static void test_fast_schema_patterns(void **state)
{
    (void)state;
    /* the EREs of generated/src/types.c and similar ones */
    compare_with_regexec("^[0-9]+\\.[0-9]+\\.[0-9]+$", "0123456789.a", 12, 20000, true);
    compare_with_regexec("^[a-z]{2}-[A-Z]{2}$", "abzAZ-_", 7, 20000, true);
    compare_with_regexec("^[A-Z]{3}-[0-9]+$", "ABZ-09a", 9, 20000, true);
    compare_with_regexec("^[0-9a-f]{8}$", "09afAFg", 10, 20000, true);
    compare_with_regexec("^[a-z0-9_]{3,16}$", "az09_-A", 20, 20000, true);
    compare_with_regexec("^\\+?[0-9]{7,15}$", "+09 -", 18, 20000, true);
    compare_with_regexec("^[^\n\r]*$", "ab\n\r \t", 8, 20000, true);
    compare_with_regexec("^[]a-]+x?$", "]a-x[b", 8, 20000, true);
    compare_with_regexec("^a{0}b{2,}c{1,3}$", "abc", 10, 20000, true);
    compare_with_regexec("[0-9]{2}", "0123a", 8, 20000, true);       /* unanchored */
    compare_with_regexec("x[ab]*a$", "abx", 10, 20000, true);       /* overlapping: position sets */
    compare_with_regexec("^[a-z]*[a-z0-9]*1$", "a19", 12, 20000, true);
    compare_with_regexec("^$", "a", 2, 200, true);
    compare_with_regexec("^", "a", 2, 200, true);
    compare_with_regexec("}", "}a", 3, 200, true);
    compare_with_regexec("^\\$\\^\\.\\[\\(\\)\\*\\+\\?\\{\\|\\\\$", "$^.[()*+?{|\\", 13, 2000, true);
}

/* Random EREs of the fast matcher's shape, checked on random strings. */
static void test_fast_random_patterns(void **state)
{
    (void)state;
    static const char *const atoms[] = {"a", "b", "-", "\\.", "[ab]", "[^a]", "[a-c]", "[b-]",
                                        "[^ab-]", "[]a]", "[0-9]", "0"};
    static const char *const quants[] = {"", "", "", "?", "*", "+", "{2}", "{0,2}", "{1,}", "{2,3}",
                                         "{0}"};
    long answered = 0;
    for (int k = 0; k < 600; k++) {
        char *ere = malloc(128); /* kept: the pattern it belongs to lives forever */
        size_t o = 0;
        assert_non_null(ere);
        assert_true(nkept_eres < sizeof kept_eres / sizeof *kept_eres);
        kept_eres[nkept_eres++] = ere;
        if (rnd(3))
            ere[o++] = '^';
        unsigned count = rnd(6);
        for (unsigned i = 0; i < count; i++) {
            const char *a = atoms[rnd(sizeof atoms / sizeof *atoms)];
            const char *q = quants[rnd(sizeof quants / sizeof *quants)];
            memcpy(ere + o, a, strlen(a));
            o += strlen(a);
            memcpy(ere + o, q, strlen(q));
            o += strlen(q);
        }
        if (rnd(3))
            ere[o++] = '$';
        ere[o] = '\0';
        answered += compare_with_regexec(ere, "ab-.c09]", 12, 400, true);
    }
    assert_true(answered > 0);
    /* long values: deterministic programs stay fast, the others fall back */
    compare_with_regexec("^[a-c]+-?[0-9]*$", "abc-0", 520, 300, true);
    compare_with_regexec("^[a-c]*[ab]*$", "abc-", 520, 300, false);
}

static void test_fast_fallbacks(void **state)
{
    (void)state;
    /* outside the fast matcher's scope: regexec answers */
    static mf_pattern alt = {"(push|email)", "(push|email)", 0, NULL};
    static mf_pattern grp = {"^(ab)+$", "^(ab)+$", 0, NULL};
    static mf_pattern dot = {"a.c", "a.c", 0, NULL};
    static mf_pattern cls = {"^[[:digit:]]+$", "^[[:digit:]]+$", 0, NULL};
    static mf_pattern mid = {"a^b", "a^b", 0, NULL};
    static mf_pattern word = {"^\\w+$", "^\\w+$", 0, NULL};
    static mf_pattern simple = {"^[a-z]{2}-[A-Z]{2}$", "^[a-z]{2}-[A-Z]{2}$", 0, NULL};
    mf_pattern *slow[] = {&alt, &grp, &dot, &cls, &mid, &word};
    for (size_t i = 0; i < sizeof slow / sizeof *slow; i++)
        assert_int_equal(mf_pattern_fast_match(slow[i], "abab", 4), -1);
    assert_int_equal(mf_pattern_check(&grp, "abab", 4, "", NULL), MF_OK);
    assert_int_equal(mf_pattern_check(&grp, "aba", 3, "", NULL), MF_ERR_PATTERN);
    assert_int_equal(mf_pattern_check(&cls, "123", 3, "", NULL), MF_OK);
    /* non-ASCII values go to regexec */
    assert_int_equal(mf_pattern_fast_match(&simple, "en-US", 5), 1);
    assert_int_equal(mf_pattern_fast_match(&simple, "\xc3\xa9n-US", 6), -1);
    assert_int_equal(mf_pattern_check(&simple, "\xc3\xa9n-US", 6, "", NULL), MF_ERR_PATTERN);
    /* a bad ERE stays an error */
    static mf_pattern bad = {"[a-", "[a-", 0, NULL};
    assert_int_equal(mf_pattern_fast_match(&bad, "a", 1), -1);
    assert_int_equal(mf_pattern_check(&bad, "a", 1, "", NULL), MF_ERR_PATTERN);
}

/* A pattern first used under a locale other than C is left to regexec. */
static void test_fast_needs_c_locale(void **state)
{
    (void)state;
    locale_t loc = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
    if (!loc) /* glibc >= 2.35 has C.UTF-8 built in */
        mf_skip_or_fail("the C.UTF-8 locale is not available");
    static mf_pattern p = {"^[a-z]{2}$", "^[a-z]{2}$", 0, NULL};
    locale_t old = uselocale(loc);
    assert_int_equal(mf_pattern_check(&p, "ab", 2, "", NULL), MF_OK);
    uselocale(old);
    freelocale(loc);
    assert_int_equal(mf_pattern_fast_match(&p, "ab", 2), -1);
    assert_int_equal(mf_pattern_check(&p, "ab", 2, "", NULL), MF_OK);
    assert_int_equal(mf_pattern_check(&p, "aB", 2, "", NULL), MF_ERR_PATTERN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_no_match),
        cmocka_unit_test(test_unanchored_and_alternation),
        cmocka_unit_test(test_bad_ere),
        cmocka_unit_test(test_concurrent_first_use),
        cmocka_unit_test(test_fast_schema_patterns),
        cmocka_unit_test(test_fast_random_patterns),
        cmocka_unit_test(test_fast_fallbacks),
        cmocka_unit_test(test_fast_needs_c_locale),
    };
    return mf_skip_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
