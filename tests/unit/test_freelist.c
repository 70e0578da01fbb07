/*
 * test_freelist.c - the free list of mf/freelist.h (the client's request records,
 * campaign-service's request contexts and reply boxes): an empty list allocates, a given object
 * comes back before any new one (newest first), `keep` bounds what is kept (the rest is freed:
 * ASan's leak check sees a lost one), NULL is ignored, clear frees everything and leaves the list
 * usable, and a taken object is fully usable memory of the requested size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mf/freelist.h"
#include "mf_skip.h"

typedef struct obj {
    uint64_t id;
    char bytes[48];
} obj;

static void test_empty_list_allocates(void **state)
{
    (void)state;
    mf_freelist f = MF_FREELIST_INIT;
    obj *o = mf_freelist_take(&f, sizeof(obj));
    assert_non_null(o);
    assert_int_equal(f.n, 0);
    memset(o, 0x5a, sizeof *o); /* all of it is ours (ASan: no overflow) */
    mf_freelist_give(&f, o, 4);
    assert_int_equal(f.n, 1);
    mf_freelist_clear(&f);
    assert_int_equal(f.n, 0);
    assert_null(f.head);
}

static void test_reuse_newest_first(void **state)
{
    (void)state;
    mf_freelist f = MF_FREELIST_INIT;
    obj *a = mf_freelist_take(&f, sizeof(obj)), *b = mf_freelist_take(&f, sizeof(obj));
    assert_non_null(a);
    assert_non_null(b);
    mf_freelist_give(&f, a, 8);
    mf_freelist_give(&f, b, 8);
    assert_int_equal(f.n, 2);
    assert_ptr_equal(mf_freelist_take(&f, sizeof(obj)), b);
    assert_ptr_equal(mf_freelist_take(&f, sizeof(obj)), a);
    assert_int_equal(f.n, 0);
    obj *c = mf_freelist_take(&f, sizeof(obj)); /* empty again: a new one */
    assert_non_null(c);
    assert_ptr_not_equal(c, a);
    assert_ptr_not_equal(c, b);
    free(a);
    free(b);
    free(c);
}

static void test_keep_bounds_the_list(void **state)
{
    (void)state;
    enum { N = 100, KEEP = 10 };
    mf_freelist f = MF_FREELIST_INIT;
    obj *o[N];
    for (int i = 0; i < N; i++) {
        o[i] = mf_freelist_take(&f, sizeof(obj));
        assert_non_null(o[i]);
        o[i]->id = (uint64_t)i;
    }
    for (int i = 0; i < N; i++)
        mf_freelist_give(&f, o[i], KEEP); /* past KEEP: freed (a leak would fail under ASan) */
    assert_int_equal(f.n, KEEP);
    mf_freelist_give(&f, NULL, KEEP); /* ignored */
    assert_int_equal(f.n, KEEP);
    for (int i = KEEP - 1; i >= 0; i--) /* the first KEEP given are the ones kept, newest first */
        assert_ptr_equal(mf_freelist_take(&f, sizeof(obj)), o[i]);
    assert_int_equal(f.n, 0);
    for (int i = 0; i < KEEP; i++)
        free(o[i]);
}

static void test_keep_zero_frees(void **state)
{
    (void)state;
    mf_freelist f = MF_FREELIST_INIT;
    mf_freelist_give(&f, mf_freelist_take(&f, sizeof(obj)), 0);
    assert_int_equal(f.n, 0);
    assert_null(f.head);
}

static void test_clear_then_reuse(void **state)
{
    (void)state;
    mf_freelist f = MF_FREELIST_INIT;
    for (int round = 0; round < 3; round++) {
        obj *o[5];
        for (int i = 0; i < 5; i++)
            assert_non_null(o[i] = mf_freelist_take(&f, sizeof(obj)));
        for (int i = 0; i < 5; i++)
            mf_freelist_give(&f, o[i], 64);
        assert_int_equal(f.n, 5);
        mf_freelist_clear(&f);
        assert_int_equal(f.n, 0);
        assert_null(f.head);
        mf_freelist_clear(&f); /* twice is fine */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_list_allocates), cmocka_unit_test(test_reuse_newest_first),
        cmocka_unit_test(test_keep_bounds_the_list), cmocka_unit_test(test_keep_zero_frees),
        cmocka_unit_test(test_clear_then_reuse),
    };
    return mf_skip_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
