/*
 * test_cs_share.c - cs_share: a loop's items shared with a helper thread (cs_share.h).
 *
 * What holds every time, whoever gets a CPU: every item runs exactly once, in chunks of at most
 * `chunk`, never two calls with one `who` at once, what the caller wrote is seen by the helper and
 * what either wrote is seen by the caller on return - across thousands of runs back to back, which
 * is where a helper still busy with an old run would show. Which thread runs what is not asserted:
 * on a busy machine the helper may get no CPU at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cs_share.h"

#define MAX_ITEMS 5000

typedef struct job {
    size_t chunk;
    int input[MAX_ITEMS];           /* written by the caller before the run */
    _Atomic int ran[MAX_ITEMS];     /* calls per item */
    int output[MAX_ITEMS];          /* written by fn, read by the caller after the run */
    _Atomic int busy[2];            /* calls in progress per who */
    _Atomic int bad_chunk, bad_who, overlap;
    _Atomic size_t by_helper;
} job;

static void fn(void *ctx, size_t from, size_t to, int who)
{
    job *j = ctx;
    if (to <= from || to - from > j->chunk)
        atomic_fetch_add(&j->bad_chunk, 1);
    if (who != 0 && who != 1) {
        atomic_fetch_add(&j->bad_who, 1);
        return;
    }
    if (atomic_fetch_add(&j->busy[who], 1) != 0)
        atomic_fetch_add(&j->overlap, 1);
    for (size_t i = from; i < to; i++) {
        atomic_fetch_add(&j->ran[i], 1);
        j->output[i] = j->input[i] * 2 + 1;
    }
    if (who == 1)
        atomic_fetch_add(&j->by_helper, to - from);
    atomic_fetch_sub(&j->busy[who], 1);
}

/* One run of n items; asserts everything that must hold. Returns the items the helper ran. */
static size_t run_once(cs_share *sh, job *j, size_t n, size_t chunk, int seed)
{
    memset(j, 0, sizeof *j);
    j->chunk = chunk ? chunk : 1; /* chunk 0 means 1 */
    for (size_t i = 0; i < n; i++)
        j->input[i] = (int)i + seed;
    cs_share_run(sh, n, chunk, fn, j);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(atomic_load(&j->ran[i]), 1);
        assert_int_equal(j->output[i], (j->input[i]) * 2 + 1);
    }
    if (n < MAX_ITEMS)
        assert_int_equal(atomic_load(&j->ran[n]), 0); /* nothing past n */
    assert_int_equal(atomic_load(&j->bad_chunk), 0);
    assert_int_equal(atomic_load(&j->bad_who), 0);
    assert_int_equal(atomic_load(&j->overlap), 0);
    assert_int_equal(atomic_load(&j->busy[0]), 0);
    assert_int_equal(atomic_load(&j->busy[1]), 0); /* the helper's calls all returned */
    return atomic_load(&j->by_helper);
}

/* Each test gets a helper and a job (cmocka's state). */
typedef struct fixture {
    cs_share *sh;
    job *j;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    mf_error err;
    if (!fx || !(fx->j = malloc(sizeof *fx->j)) || cs_share_open(&fx->sh, &err) != MF_OK)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    cs_share_close(fx->sh);
    free(fx->j);
    free(fx);
    return 0;
}

static void test_every_item_once(void **state)
{
    fixture *fx = *state;
    size_t helped = 0;
    const size_t sizes[] = {0, 1, 15, 16, 17, 31, 32, 33, 1000, 1001, MAX_ITEMS};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        helped += run_once(fx->sh, fx->j, sizes[s], 16, (int)s);
    assert_int_equal(cs_share_helped(fx->sh), helped);
}

/* A run of at most one chunk is the caller's alone (no wake-up for so little). */
static void test_small_runs_stay_here(void **state)
{
    fixture *fx = *state;
    for (size_t n = 0; n <= 16; n++)
        assert_int_equal(run_once(fx->sh, fx->j, n, 16, 7), 0);
    assert_int_equal(run_once(fx->sh, fx->j, 1, 0, 7), 0); /* chunk 0 means 1 */
    assert_int_equal(cs_share_helped(fx->sh), 0);
}

/* Runs back to back with changing sizes and chunks: a helper late for one run never runs an item
 * of the next with the old one's function or bounds. */
static void test_runs_back_to_back(void **state)
{
    fixture *fx = *state;
    size_t helped = 0;
    unsigned seed = 12345;
    for (int r = 0; r < 3000; r++) {
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 8) % 400;
        size_t chunk = (seed >> 20) % 24; /* 0 too */
        helped += run_once(fx->sh, fx->j, n, chunk, r);
    }
    assert_int_equal(cs_share_helped(fx->sh), helped);
}

/* Opened and closed with no run, or right after one: the helper ends and is joined. */
static void test_open_close(void **state)
{
    (void)state;
    job *j = malloc(sizeof *j);
    assert_non_null(j);
    for (int k = 0; k < 50; k++) {
        cs_share *sh;
        mf_error err;
        assert_int_equal(cs_share_open(&sh, &err), MF_OK);
        if (k % 2)
            run_once(sh, j, 200, 8, k);
        cs_share_close(sh);
    }
    cs_share_close(NULL);
    assert_int_equal(cs_share_helped(NULL), 0);
    free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_item_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_runs_stay_here, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs_back_to_back, setup, teardown),
        cmocka_unit_test(test_open_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
