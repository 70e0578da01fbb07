/*
 * test_sublist.c - subject trie, wildcards, queue groups, removal, the match
 * cache (runtime/broker/sublist.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mf/proto.h"
#include "broker/sublist.h"

/* Subscriptions are opaque to the sublist: use small distinct addresses. */
static int SUBS[64];
#define S(i) ((void *)&SUBS[i])

static bool has(void *const *v, size_t n, void *x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

static size_t match_plain(mfb_sublist *sl, const char *subject, mfb_sublist_result *r)
{
    assert_int_equal(mfb_sublist_match(sl, subject, strlen(subject), r), MF_OK);
    return r->npsubs;
}

static const mfb_sublist_group *group(const mfb_sublist_result *r, const char *q)
{
    for (size_t g = 0; g < r->ngroups; g++)
        if (strcmp(r->groups[g].queue, q) == 0)
            return &r->groups[g];
    return NULL;
}

static void test_literal(void **state)
{
    (void)state;
    mfb_sublist *sl = mfb_sublist_new(0);
    mfb_sublist_result r;
    mfb_sublist_result_init(&r);
    assert_int_equal(mfb_sublist_insert(sl, "foo.bar", NULL, S(1)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "foo.bar", NULL, S(2)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "foo", NULL, S(3)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "foo.bar.baz", NULL, S(4)), MF_OK);
    assert_int_equal(mfb_sublist_count(sl), 4);
    assert_int_equal(match_plain(sl, "foo.bar", &r), 2);
    assert_true(has(r.psubs, r.npsubs, S(1)) && has(r.psubs, r.npsubs, S(2)));
    assert_int_equal(r.ngroups, 0);
    assert_int_equal(match_plain(sl, "foo", &r), 1);
    assert_ptr_equal(r.psubs[0], S(3));
    assert_int_equal(match_plain(sl, "foo.baz", &r), 0);
    assert_int_equal(match_plain(sl, "fo", &r), 0);
    assert_int_equal(match_plain(sl, "foo.bar.baz.qux", &r), 0);
    /* a publish subject with wildcards or bad syntax matches nothing */
    assert_int_equal(match_plain(sl, "foo.*", &r), 0);
    assert_int_equal(match_plain(sl, "foo..bar", &r), 0);
    assert_int_equal(mfb_sublist_match(sl, "", 0, &r), MF_OK);
    assert_int_equal(r.npsubs, 0);
    /* bad subscriptions are refused */
    assert_int_equal(mfb_sublist_insert(sl, "foo.>.bar", NULL, S(5)), MF_ERR_INVALID_ARG);
    assert_int_equal(mfb_sublist_insert(sl, "", NULL, S(5)), MF_ERR_INVALID_ARG);
    assert_int_equal(mfb_sublist_insert(sl, "a b", NULL, S(5)), MF_ERR_INVALID_ARG);
    assert_int_equal(mfb_sublist_count(sl), 4);
    assert_true(mfb_sublist_has_interest(sl, "foo", 3));
    assert_false(mfb_sublist_has_interest(sl, "nobody.here", 11));
    mfb_sublist_result_free(&r);
    mfb_sublist_free(sl);
}

static void test_wildcards(void **state)
{
    (void)state;
    mfb_sublist *sl = mfb_sublist_new(8);
    mfb_sublist_result r;
    mfb_sublist_result_init(&r);
    assert_int_equal(mfb_sublist_insert(sl, "foo.*", NULL, S(1)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "foo.>", NULL, S(2)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "*.bar", NULL, S(3)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, ">", NULL, S(4)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "*.*.baz", NULL, S(5)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "foo.bar", NULL, S(6)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "*", NULL, S(7)), MF_OK);

    assert_int_equal(match_plain(sl, "foo.bar", &r), 5); /* foo.* foo.> *.bar > foo.bar */
    assert_true(has(r.psubs, 5, S(1)) && has(r.psubs, 5, S(2)) && has(r.psubs, 5, S(3)) && has(r.psubs, 5, S(4)) &&
                has(r.psubs, 5, S(6)));
    assert_int_equal(match_plain(sl, "foo.bar.baz", &r), 3); /* foo.> > *.*.baz */
    assert_true(has(r.psubs, 3, S(2)) && has(r.psubs, 3, S(4)) && has(r.psubs, 3, S(5)));
    assert_int_equal(match_plain(sl, "foo", &r), 2); /* > * (foo.> needs one more token) */
    assert_true(has(r.psubs, 2, S(4)) && has(r.psubs, 2, S(7)));
    assert_int_equal(match_plain(sl, "x.bar", &r), 2); /* *.bar > */
    assert_int_equal(match_plain(sl, "a.b.c.d.e.f", &r), 1);
    assert_ptr_equal(r.psubs[0], S(4));
    mfb_sublist_result_free(&r);
    mfb_sublist_free(sl);
}

static void test_queue_groups(void **state)
{
    (void)state;
    mfb_sublist *sl = mfb_sublist_new(0);
    mfb_sublist_result r;
    mfb_sublist_result_init(&r);
    assert_int_equal(mfb_sublist_insert(sl, "work.a", "q1", S(1)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "work.a", "q1", S(2)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "work.*", "q1", S(3)), MF_OK); /* same group name, other node */
    assert_int_equal(mfb_sublist_insert(sl, "work.a", "q2", S(4)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "work.a", NULL, S(5)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "work.a", "", S(6)), MF_OK); /* "" = plain */
    assert_int_equal(mfb_sublist_match(sl, "work.a", 6, &r), MF_OK);
    assert_int_equal(r.npsubs, 2);
    assert_true(has(r.psubs, 2, S(5)) && has(r.psubs, 2, S(6)));
    assert_int_equal(r.ngroups, 2);
    const mfb_sublist_group *g1 = group(&r, "q1"), *g2 = group(&r, "q2");
    assert_non_null(g1);
    assert_non_null(g2);
    assert_int_equal(g1->n, 3); /* merged across work.a and work.* */
    assert_true(has(g1->subs, 3, S(1)) && has(g1->subs, 3, S(2)) && has(g1->subs, 3, S(3)));
    assert_int_equal(g2->n, 1);
    assert_ptr_equal(g2->subs[0], S(4));
    /* the cached copy says the same */
    assert_int_equal(mfb_sublist_match(sl, "work.a", 6, &r), MF_OK);
    assert_int_equal(r.ngroups, 2);
    g1 = group(&r, "q1");
    assert_int_equal(g1->n, 3);
    assert_true(has(g1->subs, 3, S(3)));
    assert_false(has(r.psubs, r.npsubs, S(1)));
    /* work.b: only the wildcard member of q1 */
    assert_int_equal(mfb_sublist_match(sl, "work.b", 6, &r), MF_OK);
    assert_int_equal(r.npsubs, 0);
    assert_int_equal(r.ngroups, 1);
    assert_int_equal(r.groups[0].n, 1);
    assert_ptr_equal(r.groups[0].subs[0], S(3));
    assert_true(mfb_sublist_has_interest(sl, "work.b", 6));
    /* remove needs the right queue */
    assert_int_equal(mfb_sublist_remove(sl, "work.a", NULL, S(1)), MF_ERR_NOT_FOUND);
    assert_int_equal(mfb_sublist_remove(sl, "work.a", "q2", S(1)), MF_ERR_NOT_FOUND);
    assert_int_equal(mfb_sublist_remove(sl, "work.a", "q1", S(1)), MF_OK);
    assert_int_equal(mfb_sublist_remove(sl, "work.a", "q2", S(4)), MF_OK);
    assert_int_equal(mfb_sublist_match(sl, "work.a", 6, &r), MF_OK);
    assert_int_equal(r.ngroups, 1);
    assert_int_equal(r.groups[0].n, 2);
    assert_string_equal(r.groups[0].queue, "q1");
    mfb_sublist_result_free(&r);
    mfb_sublist_free(sl);
}

static void test_remove_and_prune(void **state)
{
    (void)state;
    mfb_sublist *sl = mfb_sublist_new(0);
    mfb_sublist_result r;
    mfb_sublist_result_init(&r);
    mfb_sublist_stats st;
    assert_int_equal(mfb_sublist_insert(sl, "a.b.c", NULL, S(1)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "a.b", NULL, S(2)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "a.*.c", NULL, S(3)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "a.>", "q", S(4)), MF_OK);
    mfb_sublist_get_stats(sl, &st);
    assert_int_equal(st.nodes, 6); /* a b c * c > */
    assert_int_equal(mfb_sublist_remove(sl, "a.b.c", NULL, S(2)), MF_ERR_NOT_FOUND);
    assert_int_equal(mfb_sublist_remove(sl, "a.b.x", NULL, S(1)), MF_ERR_NOT_FOUND);
    assert_int_equal(mfb_sublist_remove(sl, "a..b", NULL, S(1)), MF_ERR_NOT_FOUND);
    assert_int_equal(mfb_sublist_remove(sl, "a.b.c", NULL, S(1)), MF_OK);
    assert_int_equal(mfb_sublist_remove(sl, "a.b.c", NULL, S(1)), MF_ERR_NOT_FOUND);
    mfb_sublist_get_stats(sl, &st);
    assert_int_equal(st.nodes, 5);
    assert_int_equal(match_plain(sl, "a.b.c", &r), 1);
    assert_ptr_equal(r.psubs[0], S(3));
    assert_int_equal(r.ngroups, 1);
    assert_int_equal(mfb_sublist_remove(sl, "a.*.c", NULL, S(3)), MF_OK);
    assert_int_equal(mfb_sublist_remove(sl, "a.>", "q", S(4)), MF_OK);
    assert_int_equal(mfb_sublist_remove(sl, "a.b", NULL, S(2)), MF_OK);
    mfb_sublist_get_stats(sl, &st);
    assert_int_equal(st.nodes, 0);
    assert_int_equal(st.subscriptions, 0);
    assert_int_equal(st.inserts, 4);
    assert_int_equal(st.removes, 4);
    assert_int_equal(match_plain(sl, "a.b.c", &r), 0);
    assert_int_equal(r.ngroups, 0);
    /* reusable after emptying */
    assert_int_equal(mfb_sublist_insert(sl, "a.b", NULL, S(2)), MF_OK);
    assert_int_equal(match_plain(sl, "a.b", &r), 1);
    mfb_sublist_result_free(&r);
    mfb_sublist_free(sl);
}

static void test_cache_invalidation(void **state)
{
    (void)state;
    mfb_sublist *sl = mfb_sublist_new(4);
    mfb_sublist_result r;
    mfb_sublist_result_init(&r);
    mfb_sublist_stats st;
    assert_int_equal(mfb_sublist_insert(sl, "x.y", NULL, S(1)), MF_OK);
    assert_int_equal(match_plain(sl, "x.y", &r), 1);
    assert_int_equal(match_plain(sl, "x.y", &r), 1);
    mfb_sublist_get_stats(sl, &st);
    assert_int_equal(st.matches, 2);
    assert_int_equal(st.cache_hits, 1);
    assert_int_equal(st.cache_entries, 1);
    /* a new wildcard subscription must show up on the next match of a cached subject */
    assert_int_equal(mfb_sublist_insert(sl, "x.*", NULL, S(2)), MF_OK);
    mfb_sublist_get_stats(sl, &st);
    assert_int_equal(st.cache_entries, 0);
    assert_int_equal(match_plain(sl, "x.y", &r), 2);
    assert_int_equal(match_plain(sl, "x.y", &r), 2);
    mfb_sublist_get_stats(sl, &st);
    assert_int_equal(st.cache_hits, 2);
    /* and a removal must disappear */
    assert_int_equal(mfb_sublist_remove(sl, "x.y", NULL, S(1)), MF_OK);
    assert_int_equal(match_plain(sl, "x.y", &r), 1);
    assert_ptr_equal(r.psubs[0], S(2));
    /* queue groups through the cache, and more subjects than slots */
    assert_int_equal(mfb_sublist_insert(sl, "x.*", "g", S(3)), MF_OK);
    char subj[32];
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 20; i++) {
            snprintf(subj, sizeof subj, "x.s%d", i);
            assert_int_equal(match_plain(sl, subj, &r), 1);
            assert_int_equal(r.ngroups, 1);
            assert_ptr_equal(r.groups[0].subs[0], S(3));
        }
    mfb_sublist_get_stats(sl, &st);
    assert_true(st.cache_entries <= 4);
    mfb_sublist_result_free(&r);
    mfb_sublist_free(sl);
}

/* A result is a copy: removing subscriptions while walking it is safe. */
static void test_remove_while_walking(void **state)
{
    (void)state;
    mfb_sublist *sl = mfb_sublist_new(0);
    mfb_sublist_result r;
    mfb_sublist_result_init(&r);
    for (int i = 0; i < 10; i++)
        assert_int_equal(mfb_sublist_insert(sl, "t", NULL, S(i)), MF_OK);
    assert_int_equal(match_plain(sl, "t", &r), 10);
    for (size_t i = 0; i < r.npsubs; i++)
        assert_int_equal(mfb_sublist_remove(sl, "t", NULL, r.psubs[i]), MF_OK);
    assert_int_equal(mfb_sublist_count(sl), 0);
    mfb_sublist_result_free(&r);
    mfb_sublist_free(sl);
}

/* 10k inbox-style subscriptions: each request subject matches exactly its own; then remove all. */
static void test_ten_thousand(void **state)
{
    (void)state;
    enum { N = 10000 };
    mfb_sublist *sl = mfb_sublist_new(0);
    mfb_sublist_result r;
    mfb_sublist_result_init(&r);
    uintptr_t *ids = calloc(N, sizeof *ids);
    char subj[64];
    for (int i = 0; i < N; i++) {
        ids[i] = (uintptr_t)(i + 1) * 8;
        snprintf(subj, sizeof subj, "_INBOX.c%05d.*", i);
        assert_int_equal(mfb_sublist_insert(sl, subj, NULL, (void *)ids[i]), MF_OK);
    }
    assert_int_equal(mfb_sublist_insert(sl, "_INBOX.>", "mon", (void *)(uintptr_t)1), MF_OK);
    assert_int_equal(mfb_sublist_count(sl), N + 1);
    for (int i = 0; i < N; i += 7) {
        snprintf(subj, sizeof subj, "_INBOX.c%05d.%d", i, i);
        assert_int_equal(match_plain(sl, subj, &r), 1);
        assert_ptr_equal(r.psubs[0], (void *)ids[i]);
        assert_int_equal(r.ngroups, 1);
    }
    /* many distinct literals at one level too */
    for (int i = 0; i < N; i++) {
        snprintf(subj, sizeof subj, "orders.%d", i);
        assert_int_equal(mfb_sublist_insert(sl, subj, NULL, (void *)ids[i]), MF_OK);
    }
    for (int i = 0; i < N; i += 13) {
        snprintf(subj, sizeof subj, "orders.%d", i);
        assert_int_equal(match_plain(sl, subj, &r), 1);
    }
    for (int i = 0; i < N; i++) {
        snprintf(subj, sizeof subj, "_INBOX.c%05d.*", i);
        assert_int_equal(mfb_sublist_remove(sl, subj, NULL, (void *)ids[i]), MF_OK);
        snprintf(subj, sizeof subj, "orders.%d", i);
        assert_int_equal(mfb_sublist_remove(sl, subj, NULL, (void *)ids[i]), MF_OK);
    }
    assert_int_equal(mfb_sublist_remove(sl, "_INBOX.>", "mon", (void *)(uintptr_t)1), MF_OK);
    mfb_sublist_stats st;
    mfb_sublist_get_stats(sl, &st);
    assert_int_equal(st.subscriptions, 0);
    assert_int_equal(st.nodes, 0);
    free(ids);
    mfb_sublist_result_free(&r);
    mfb_sublist_free(sl);
}

/* Long subjects (more tokens than the tokenizer's stack array). */
static void test_many_tokens(void **state)
{
    (void)state;
    mfb_sublist *sl = mfb_sublist_new(0);
    mfb_sublist_result r;
    mfb_sublist_result_init(&r);
    char subj[512] = "t";
    for (int i = 0; i < 100; i++)
        strcat(subj, ".x");
    assert_int_equal(mfb_sublist_insert(sl, subj, NULL, S(1)), MF_OK);
    assert_int_equal(mfb_sublist_insert(sl, "t.>", NULL, S(2)), MF_OK);
    assert_int_equal(match_plain(sl, subj, &r), 2);
    mfb_sublist_result_free(&r);
    mfb_sublist_free(sl); /* frees the non-empty trie */
}


/* Property: the trie (and its cache) agrees with a brute-force scan, through random inserts/removes. */
static uint32_t rs = 777;
static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 17;
    rs ^= rs << 5;
    return rs;
}

static void random_subject(char *out, bool wild)
{
    static const char *const toks[] = {"a", "b", "c", "dd"};
    int n = 1 + (int)(rnd() % 4);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(out, ".");
        unsigned r = rnd() % 10;
        if (wild && r == 0 && i == n - 1)
            strcat(out, ">");
        else if (wild && r < 3)
            strcat(out, "*");
        else
            strcat(out, toks[rnd() % 4]);
    }
}

static void test_random_vs_bruteforce(void **state)
{
    (void)state;
    enum { N = 48 };
    struct {
        char subj[32];
        char queue[4];
        bool in;
    } subs[N];
    memset(subs, 0, sizeof subs);
    mfb_sublist *sl = mfb_sublist_new(16);
    mfb_sublist_result r;
    mfb_sublist_result_init(&r);
    for (int step = 0; step < 20000; step++) {
        int i = (int)(rnd() % N);
        if (!subs[i].in && rnd() % 2) {
            random_subject(subs[i].subj, true);
            subs[i].queue[0] = rnd() % 3 == 0 ? (char)('p' + rnd() % 2) : '\0';
            subs[i].queue[1] = '\0';
            assert_int_equal(mfb_sublist_insert(sl, subs[i].subj, subs[i].queue, &subs[i]), MF_OK);
            subs[i].in = true;
        } else if (subs[i].in && rnd() % 3 == 0) {
            assert_int_equal(mfb_sublist_remove(sl, subs[i].subj, subs[i].queue, &subs[i]), MF_OK);
            subs[i].in = false;
        }
        char lit[32];
        random_subject(lit, false);
        assert_int_equal(mfb_sublist_match(sl, lit, strlen(lit), &r), MF_OK);
        size_t want_plain = 0, got_total = r.npsubs;
        for (int k = 0; k < N; k++) {
            bool m = subs[k].in && mf_subject_matches(subs[k].subj, strlen(subs[k].subj), lit, strlen(lit));
            if (m && !subs[k].queue[0]) {
                want_plain++;
                assert_true(has(r.psubs, r.npsubs, &subs[k]));
            }
            if (m && subs[k].queue[0]) {
                const mfb_sublist_group *g = group(&r, subs[k].queue);
                assert_non_null(g);
                assert_true(has(g->subs, g->n, &subs[k]));
            }
        }
        for (size_t g = 0; g < r.ngroups; g++)
            got_total += r.groups[g].n;
        size_t want_total = 0;
        for (int k = 0; k < N; k++)
            if (subs[k].in && mf_subject_matches(subs[k].subj, strlen(subs[k].subj), lit, strlen(lit)))
                want_total++;
        assert_int_equal(r.npsubs, want_plain);
        assert_int_equal(got_total, want_total);
    }
    mfb_sublist_stats st;
    mfb_sublist_get_stats(sl, &st);
    assert_true(st.cache_hits > 0);
    mfb_sublist_result_free(&r);
    mfb_sublist_free(sl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_queue_groups),
        cmocka_unit_test(test_remove_and_prune),
        cmocka_unit_test(test_cache_invalidation),
        cmocka_unit_test(test_remove_while_walking),
        cmocka_unit_test(test_ten_thousand),
        cmocka_unit_test(test_many_tokens),
        cmocka_unit_test(test_random_vs_bruteforce),
    };
    return cmocka_run_group_tests_name("sublist", tests, NULL, NULL);
}
