/*
 * test_pattern.c - mf_pattern_check: match, no match, message format, a bad
 * ERE (an error, not a crash), and concurrent first use from 8 threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "codec/codec_int.h"
#include "mf/codec.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_no_match),
        cmocka_unit_test(test_unanchored_and_alternation),
        cmocka_unit_test(test_bad_ere),
        cmocka_unit_test(test_concurrent_first_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
