/*
 * mf_skip.h - the skip policy of the cmocka test programs (tests/README.md).
 *
 * A test that cannot run its subject (a peer that is not installed, test data
 * that is missing) FAILS. Only when the environment variable MF_ALLOW_SKIP is
 * "1" is it skipped instead; the program then exits with MF_SKIP_EXIT (77),
 * which ctest reports as "skipped" (SKIP_RETURN_CODE 77), never as "passed".
 * A bare cmocka skip() would make the program exit 0: use mf_skip_or_fail().
 *
 * Include after <cmocka.h>, then:
 *     mf_skip_or_fail("nats-server not found (%s)", hint);      inside a test
 *     return mf_skip_exit(cmocka_run_group_tests(...));          in main()
 */
#ifndef MF_TEST_SKIP_H
#define MF_TEST_SKIP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MF_SKIP_EXIT 77

/* True when the environment asks for skipping (MF_ALLOW_SKIP=1). */
static inline bool mf_skip_allowed(void)
{
    const char *v = getenv("MF_ALLOW_SKIP");
    return v && strcmp(v, "1") == 0;
}

/* The number of tests of this program that skipped. */
static inline int *mf_skip_count(void)
{
    static int n;
    return &n;
}

/* Ends the running cmocka test: skipped (counted) when allowed, else failed. Never returns. */
static inline void mf_skip_or_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void mf_skip_or_fail(const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (mf_skip_allowed()) {
        (*mf_skip_count())++;
        print_message("SKIP (MF_ALLOW_SKIP=1): %s\n", why);
        skip();
    }
    fail_msg("cannot run this test: %s (set MF_ALLOW_SKIP=1 to report it as skipped instead)", why);
    abort(); /* not reached: skip() and fail_msg() leave the test */
}

/* main()'s exit status from cmocka's count of failed tests: 1 on a failure, else
 * MF_SKIP_EXIT when a test skipped, else 0. */
static inline int mf_skip_exit(int failed)
{
    if (failed)
        return 1;
    if (*mf_skip_count()) {
        fprintf(stderr, "%d test(s) skipped: exit %d\n", *mf_skip_count(), MF_SKIP_EXIT);
        return MF_SKIP_EXIT;
    }
    return 0;
}

#endif
