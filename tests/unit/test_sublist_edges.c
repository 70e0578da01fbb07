/*
 * test_sublist_edges.c - the broker's subject trie (runtime/broker/sublist.h) at its edges: NULL
 * arguments, removing what is not there (another queue, another subscriber, a group among
 * several), and many siblings under one token removed in an order that walks the bucket
 * chains, with every match checked afterwards against what is left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "broker/sublist.h"
#include "mf_skip.h"

static void test_null_arguments(void **state)
{
    (void)state;
    int a;
    mfb_sublist_result r;
    mfb_sublist_result_init(&r);
    assert_int_equal(mfb_sublist_insert(NULL, "a", NULL, &a), MF_ERR_INVALID_ARG);
    assert_int_equal(mfb_sublist_remove(NULL, "a", NULL, &a), MF_ERR_INVALID_ARG);
    assert_int_equal(mfb_sublist_match(NULL, "a", 1, &r), MF_ERR_INVALID_ARG);
    assert_int_equal(mfb_sublist_count(NULL), 0);
    mfb_sublist_free(NULL);
    mfb_sublist_result_free(NULL);
    mfb_sublist_stats st;
    memset(&st, 0x5a, sizeof st);
    mfb_sublist_get_stats(NULL, &st);
    mfb_sublist *sl = mfb_sublist_new(0);
    assert_non_null(sl);
    assert_int_equal(mfb_sublist_insert(sl, NULL, NULL, &a), MF_ERR_INVALID_ARG);
    assert_int_equal(mfb_sublist_remove(sl, NULL, NULL, &a), MF_ERR_INVALID_ARG);
    assert_int_equal(mfb_sublist_match(sl, NULL, 3, &r), MF_ERR_INVALID_ARG);
    assert_int_equal(mfb_sublist_match(sl, "a", 1, NULL), MF_ERR_INVALID_ARG);
    mfb_sublist_result_free(&r);
    mfb_sublist_free(sl);
}

static void test_remove_what_is_not_there(void **state)
{
    (void)state;
    int a, b;
    mfb_sublist *sl = mfb_sublist_new(16);
    assert_int_equal(mfb_sublist_insert(sl, "q.x", "g1", &a), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "q.x", "g2", &a), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "q.x", "g3", &b), MF_OK);
    assert_int_equal(mfb_sublist_remove(sl, "q.x", "g4", &a), MF_ERR_NOT_FOUND); /* no such group */
    assert_int_equal(mfb_sublist_remove(sl, "q.x", "g3", &a), MF_ERR_NOT_FOUND); /* group, not this sub */
    assert_int_equal(mfb_sublist_remove(sl, "q.x", NULL, &a), MF_ERR_NOT_FOUND); /* not a plain sub */
    assert_int_equal(mfb_sublist_remove(sl, "q.y", "g1", &a), MF_ERR_NOT_FOUND);
    assert_int_equal(mfb_sublist_remove(sl, "q.x.z", "g1", &a), MF_ERR_NOT_FOUND);
    assert_int_equal(mfb_sublist_count(sl), 3);
    assert_int_equal(mfb_sublist_remove(sl, "q.x", "g2", &a), MF_OK);
    mfb_sublist_result r;
    mfb_sublist_result_init(&r);
    assert_int_equal(mfb_sublist_match(sl, "q.x", 3, &r), MF_OK);
    assert_int_equal(r.ngroups, 2);
    assert_int_equal(r.npsubs, 0);
    mfb_sublist_result_free(&r);
    mfb_sublist_free(sl);
}

#define SIBLINGS 300

static void test_many_siblings(void **state)
{
    (void)state;
    static int subs[SIBLINGS];
    char subj[32];
    mfb_sublist *sl = mfb_sublist_new(64);
    for (int i = 0; i < SIBLINGS; i++) {
        snprintf(subj, sizeof subj, "s.t%d.end", i);
        assert_int_equal(mfb_sublist_insert(sl, subj, NULL, &subs[i]), MF_OK);
    }
    /* remove every third, from the middle outwards, then check each match */
    for (int i = SIBLINGS / 2, k = 0; k < SIBLINGS; k++, i = (i + 7) % SIBLINGS) {
        if (i % 3 == 0) {
            snprintf(subj, sizeof subj, "s.t%d.end", i);
            assert_int_equal(mfb_sublist_remove(sl, subj, NULL, &subs[i]), MF_OK);
        }
    }
    mfb_sublist_result r;
    mfb_sublist_result_init(&r);
    for (int i = 0; i < SIBLINGS; i++) {
        snprintf(subj, sizeof subj, "s.t%d.end", i);
        assert_int_equal(mfb_sublist_match(sl, subj, strlen(subj), &r), MF_OK);
        if (i % 3 == 0) {
            assert_int_equal(r.npsubs, 0);
        } else {
            assert_int_equal(r.npsubs, 1);
            assert_ptr_equal(r.psubs[0], &subs[i]);
        }
    }
    assert_false(mfb_sublist_has_interest(sl, "s.t0.end", 8));
    assert_true(mfb_sublist_has_interest(sl, "s.t1.end", 8));
    /* remove the rest: the trie is empty again */
    for (int i = 0; i < SIBLINGS; i++) {
        if (i % 3 == 0)
            continue;
        snprintf(subj, sizeof subj, "s.t%d.end", i);
        assert_int_equal(mfb_sublist_remove(sl, subj, NULL, &subs[i]), MF_OK);
    }
    assert_int_equal(mfb_sublist_count(sl), 0);
    assert_int_equal(mfb_sublist_match(sl, "s.t1.end", 8, &r), MF_OK);
    assert_int_equal(r.npsubs, 0);
    mfb_sublist_result_free(&r);
    mfb_sublist_free(sl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_remove_what_is_not_there),
        cmocka_unit_test(test_many_siblings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
