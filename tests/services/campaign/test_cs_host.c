/* Unit tests of cs_host: posts from other threads (tasks the host allocates and tasks embedded in
 * their argument, mixed) run in order on the host thread; the timer fires once per arming; closing
 * frees what was never run, in order, without running it; a refused post leaves the caller's task
 * alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "cs_host.h"

#define THREADS 4
#define PER_THREAD 5000

typedef struct counts {
    pthread_t host_thread;
    int last[THREADS];
    int total;
    int timers;
} counts;

typedef struct item {
    int thread, seq;
    cs_host_task task; /* cs_host_post_task's storage: freed with the item (free_arg = free) */
} item;

static void on_item(void *ctx, void *arg)
{
    counts *c = ctx;
    item *it = arg;
    assert_true(pthread_equal(pthread_self(), c->host_thread));
    assert_int_equal(it->seq, c->last[it->thread] + 1); /* each poster's order is kept */
    c->last[it->thread] = it->seq;
    c->total++;
}

typedef struct poster {
    cs_host *h;
    counts *c;
    int thread;
} poster;

static void *post_many(void *p)
{
    poster *ps = p;
    for (int i = 1; i <= PER_THREAD; i++) {
        item *it = malloc(sizeof *it);
        *it = (item){.thread = ps->thread, .seq = i};
        if (i % 2) /* odd: embedded (ASan: the host must not touch it after free) */
            assert_int_equal(cs_host_post_task(ps->h, &it->task, on_item, ps->c, it, free), MF_OK);
        else
            while (cs_host_post(ps->h, on_item, ps->c, it, free) != MF_OK)
                ;
    }
    return NULL;
}

static void on_timer(void *ctx)
{
    ((counts *)ctx)->timers++;
}

static void posts_from_threads(void **state)
{
    (void)state;
    counts c = {.host_thread = pthread_self()};
    cs_host *h;
    assert_int_equal(cs_host_create(on_timer, &c, &h, NULL), MF_OK);
    pthread_t t[THREADS];
    poster p[THREADS];
    for (int i = 0; i < THREADS; i++) {
        p[i] = (poster){h, &c, i};
        pthread_create(&t[i], NULL, post_many, &p[i]);
    }
    time_t deadline = time(NULL) + 60; /* generous for a loaded machine */
    while (c.total < THREADS * PER_THREAD && time(NULL) < deadline)
        cs_host_wait(h, 1000);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    while (cs_host_pending(h))
        cs_host_run(h);
    assert_int_equal(c.total, THREADS * PER_THREAD);
    assert_int_equal(c.timers, 0);
    cs_host_close(h);
}

static void timer_fires_once(void **state)
{
    (void)state;
    counts c = {.host_thread = pthread_self()};
    cs_host *h;
    assert_int_equal(cs_host_create(on_timer, &c, &h, NULL), MF_OK);
    cs_host_timer_in(h, 20);
    time_t deadline = time(NULL) + 30;
    while (c.timers == 0 && time(NULL) < deadline)
        cs_host_wait(h, 1000);
    assert_int_equal(c.timers, 1);
    assert_int_equal(cs_host_wait(h, 100), 0); /* not again */
    cs_host_timer_in(h, 0);                    /* at once */
    assert_int_equal(cs_host_wait(h, 5000), 1);
    cs_host_timer_in(h, 50);
    cs_host_timer_in(h, -1); /* disarmed before it fires */
    assert_int_equal(cs_host_wait(h, 200), 0);
    assert_int_equal(c.timers, 2);
    cs_host_close(h);
}

static int frees;
static void count_free(void *arg)
{
    free(arg);
    frees++;
}

static void never_run(void *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    fail_msg("a task ran after close");
}

static void close_frees_the_queue(void **state)
{
    (void)state;
    cs_host *h;
    assert_int_equal(cs_host_create(NULL, NULL, &h, NULL), MF_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(cs_host_post(h, never_run, NULL, malloc(8), count_free), MF_OK);
    cs_host_shut(h);
    void *arg = malloc(8);
    assert_int_equal(cs_host_post(h, never_run, NULL, arg, count_free), MF_ERR_CLOSED);
    free(arg); /* refused: still the caller's */
    cs_host_close(h);
    assert_int_equal(frees, 3);
}

/* Frees recorded in order: which item, by its seq. */
static int freed[8], n_freed;
static void record_free(void *arg)
{
    item *it = arg;
    freed[n_freed++] = it->seq;
    free(it); /* the embedded task goes with it */
}

static void close_frees_embedded_tasks(void **state)
{
    (void)state;
    cs_host *h;
    n_freed = 0;
    assert_int_equal(cs_host_create(NULL, NULL, &h, NULL), MF_OK);
    for (int i = 1; i <= 4; i++) {
        item *it = calloc(1, sizeof *it);
        it->seq = i;
        mf_status st = i == 3 ? cs_host_post(h, never_run, NULL, it, record_free)
                              : cs_host_post_task(h, &it->task, never_run, NULL, it, record_free);
        assert_int_equal(st, MF_OK);
    }
    assert_int_equal(cs_host_pending(h), 4);
    cs_host_shut(h);
    item *late = calloc(1, sizeof *late);
    late->seq = 99;
    assert_int_equal(cs_host_post_task(h, &late->task, never_run, NULL, late, record_free), MF_ERR_CLOSED);
    assert_int_equal(cs_host_pending(h), 4); /* not queued */
    free(late);                              /* refused: still the caller's, task and all */
    cs_host_close(h);
    assert_int_equal(n_freed, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(freed[i], i + 1); /* in the order posted */
}

/* Queued tasks still run after cs_host_shut; an embedded task's storage can be posted again
 * once its free_arg ran (a free list of the caller's). */
static int ran_seq;
static void note_run(void *ctx, void *arg)
{
    (void)ctx;
    ran_seq += ((item *)arg)->seq;
}

static void embedded_task_reused(void **state)
{
    (void)state;
    cs_host *h;
    assert_int_equal(cs_host_create(NULL, NULL, &h, NULL), MF_OK);
    item it = {.seq = 1};
    ran_seq = 0;
    for (int round = 0; round < 3; round++) {
        assert_int_equal(cs_host_post_task(h, &it.task, note_run, NULL, &it, NULL), MF_OK);
        assert_int_equal(cs_host_run(h), 1);
    }
    assert_int_equal(ran_seq, 3);
    assert_int_equal(cs_host_post_task(h, &it.task, note_run, NULL, &it, NULL), MF_OK);
    cs_host_shut(h);
    assert_int_equal(cs_host_run(h), 1); /* queued before the shut: runs */
    assert_int_equal(ran_seq, 4);
    assert_int_equal(cs_host_post_task(h, &it.task, note_run, NULL, &it, NULL), MF_ERR_CLOSED);
    assert_int_equal(cs_host_run(h), 0);
    cs_host_close(h);
}

/* Posts racing cs_host_shut: each post is either refused (the poster frees it) or queued (then
 * run or freed by cs_host_close, exactly once): nothing lost, nothing freed twice (ASan). */
static atomic_int race_ran, race_freed, race_refused;

static void race_run(void *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    atomic_fetch_add(&race_ran, 1);
}

static void race_free(void *arg)
{
    free(arg);
    atomic_fetch_add(&race_freed, 1);
}

static void *race_post(void *p)
{
    cs_host *h = p;
    for (int i = 0; i < PER_THREAD; i++) {
        item *it = calloc(1, sizeof *it);
        if (cs_host_post_task(h, &it->task, race_run, NULL, it, race_free) != MF_OK) {
            free(it);
            atomic_fetch_add(&race_refused, 1);
        }
    }
    return NULL;
}

static void posts_racing_shut(void **state)
{
    (void)state;
    cs_host *h;
    assert_int_equal(cs_host_create(NULL, NULL, &h, NULL), MF_OK);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, race_post, h);
    time_t deadline = time(NULL) + 60; /* generous for a loaded machine */
    while (atomic_load(&race_ran) < PER_THREAD && time(NULL) < deadline) /* some ran before the shut */
        cs_host_wait(h, 1000);
    assert_true(atomic_load(&race_ran) >= PER_THREAD);
    cs_host_shut(h);
    cs_host_run(h);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    int ran = atomic_load(&race_ran);
    size_t left = cs_host_pending(h); /* queued before the shut, not run yet */
    assert_int_equal(cs_host_run(h), left);
    assert_int_equal(atomic_load(&race_ran), ran + (int)left);
    assert_int_equal(cs_host_pending(h), 0);
    cs_host_close(h);
    assert_int_equal(atomic_load(&race_freed), atomic_load(&race_ran));
    assert_int_equal(atomic_load(&race_freed) + atomic_load(&race_refused), THREADS * PER_THREAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(posts_from_threads),
        cmocka_unit_test(timer_fires_once),
        cmocka_unit_test(close_frees_the_queue),
        cmocka_unit_test(close_frees_embedded_tasks),
        cmocka_unit_test(embedded_task_reused),
        cmocka_unit_test(posts_racing_shut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
