/*
 * test_u64map.c - the client's uint64 -> pointer map (runtime/client/u64map.c), which holds
 * the subscriptions by sid and the pending requests by id: the empty map, key 0 refused,
 * put / overwrite / get / delete, growth with the load kept under 3/4, and thousands of
 * random puts and deletes on a small map (long clusters that wrap around the table, where
 * the backward-shift deletion must move the right entries) checked against a plain array
 * after every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "client/client_int.h"
#include "mf_skip.h"

static size_t occupied(const mf_u64map *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i])
            n++;
    return n;
}

static void test_empty(void **state)
{
    (void)state;
    mf_u64map m = {0};
    assert_null(mf_u64map_get(&m, 1));
    assert_null(mf_u64map_del(&m, 1));
    assert_null(mf_u64map_get(&m, 0));
    assert_int_equal(mf_u64map_put(&m, 0, &m), MF_ERR_INVALID_ARG); /* 0 means "empty slot" */
    assert_int_equal(m.n, 0);
    assert_int_equal(m.cap, 0);
    mf_u64map_free(&m);
    mf_u64map_free(&m); /* twice is fine */
}

static void test_put_get_overwrite_del(void **state)
{
    (void)state;
    mf_u64map m = {0};
    int a, b, c;
    assert_int_equal(mf_u64map_put(&m, 7, &a), MF_OK);
    assert_int_equal(mf_u64map_put(&m, UINT64_MAX, &b), MF_OK);
    assert_int_equal(m.n, 2);
    assert_ptr_equal(mf_u64map_get(&m, 7), &a);
    assert_ptr_equal(mf_u64map_get(&m, UINT64_MAX), &b);
    assert_null(mf_u64map_get(&m, 8));
    assert_null(mf_u64map_get(&m, 0));

    assert_int_equal(mf_u64map_put(&m, 7, &c), MF_OK); /* overwrite: no new entry */
    assert_int_equal(m.n, 2);
    assert_ptr_equal(mf_u64map_get(&m, 7), &c);

    assert_ptr_equal(mf_u64map_del(&m, 7), &c);
    assert_null(mf_u64map_get(&m, 7));
    assert_null(mf_u64map_del(&m, 7)); /* already gone */
    assert_null(mf_u64map_del(&m, 0));
    assert_int_equal(m.n, 1);
    assert_int_equal(occupied(&m), 1);
    mf_u64map_free(&m);
    assert_null(m.keys);
    assert_int_equal(m.n, 0);

    /* usable again after free */
    assert_int_equal(mf_u64map_put(&m, 3, &a), MF_OK);
    assert_ptr_equal(mf_u64map_get(&m, 3), &a);
    mf_u64map_free(&m);
}

static void test_growth(void **state)
{
    (void)state;
    mf_u64map m = {0};
    enum { N = 20000 };
    for (uint64_t k = 1; k <= N; k++) {
        assert_int_equal(mf_u64map_put(&m, k * 0x9E3779B97F4A7C15ULL, (void *)(uintptr_t)k), MF_OK);
        assert_true(m.cap && (m.cap & (m.cap - 1)) == 0); /* a power of two */
        assert_true(m.n * 4 <= m.cap * 3);                /* load at most 3/4 */
    }
    assert_int_equal(m.n, N);
    assert_int_equal(occupied(&m), N);
    for (uint64_t k = 1; k <= N; k++)
        assert_int_equal((uintptr_t)mf_u64map_get(&m, k * 0x9E3779B97F4A7C15ULL), k);
    /* sequential sids, as the client hands them out */
    mf_u64map s = {0};
    for (uint64_t k = 1; k <= N; k++)
        assert_int_equal(mf_u64map_put(&s, k, (void *)(uintptr_t)k), MF_OK);
    for (uint64_t k = 1; k <= N; k += 2)
        assert_int_equal((uintptr_t)mf_u64map_del(&s, k), k);
    for (uint64_t k = 1; k <= N; k++)
        assert_int_equal((uintptr_t)mf_u64map_get(&s, k), k % 2 ? 0 : k);
    assert_int_equal(s.n, N / 2);
    mf_u64map_free(&s);
    mf_u64map_free(&m);
}

/* Random puts and deletes of keys from a small set, so the map stays at 16 or 32 slots with
 * clusters that wrap around; after every step each key's lookup agrees with the model. */
static void test_random_against_model(void **state)
{
    (void)state;
    enum { KEYS = 24, STEPS = 20000 };
    void *model[KEYS + 1] = {0};
    int vals[KEYS + 1];
    size_t n = 0;
    mf_u64map m = {0};
    uint64_t x = 0x2545F4914F6CDD1DULL;
    for (int step = 0; step < STEPS; step++) {
        uint64_t r = mf_xorshift64(&x);
        uint64_t k = 1 + r % KEYS;
        uint64_t key = k * 1000003u; /* spread, but still few enough to collide in 16 slots */
        if ((r >> 32) % 3 == 0) {
            void *v = mf_u64map_del(&m, key);
            assert_ptr_equal(v, model[k]);
            if (model[k])
                n--;
            model[k] = NULL;
        } else {
            assert_int_equal(mf_u64map_put(&m, key, &vals[k]), MF_OK);
            if (!model[k])
                n++;
            model[k] = &vals[k];
        }
        assert_int_equal(m.n, n);
        for (uint64_t j = 1; j <= KEYS; j++)
            assert_ptr_equal(mf_u64map_get(&m, j * 1000003u), model[j]);
        assert_int_equal(occupied(&m), n);
    }
    assert_true(m.cap <= 32); /* 24 keys at most: deletes free their slots, the table does not keep growing */
    mf_u64map_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_put_get_overwrite_del),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_random_against_model),
    };
    return mf_skip_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
