/*
 * test_cs_walsync.c - the write-ahead log's syncer thread (cs_walsync.h): answers, coalescing,
 * a missing log, a log that cannot be opened, closing with a request outstanding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "cs_walsync.h"

#define MAX_ANSWERS 64

typedef struct answers {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t ticket[MAX_ANSWERS];
    mf_status st[MAX_ANSWERS];
    char why[MAX_ANSWERS][256];
    int n;
} answers;

static void on_done(void *ctx, uint64_t ticket, mf_status st, const char *why)
{
    answers *a = ctx;
    pthread_mutex_lock(&a->mu);
    if (a->n < MAX_ANSWERS) {
        a->ticket[a->n] = ticket;
        a->st[a->n] = st;
        snprintf(a->why[a->n], sizeof a->why[0], "%s", why ? why : "");
        a->n++;
    }
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

static void answers_init(answers *a)
{
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
}

static void answers_destroy(answers *a)
{
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
}

/* Waits (up to 30 s: a loaded machine's disk) until ticket t is answered; the count of answers. */
static int await_ticket(answers *a, uint64_t t)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&a->mu);
    while (!(a->n > 0 && a->ticket[a->n - 1] >= t))
        if (pthread_cond_timedwait(&a->cv, &a->mu, &until) != 0)
            break;
    int n = a->n;
    bool got = n > 0 && a->ticket[n - 1] >= t;
    pthread_mutex_unlock(&a->mu);
    if (!got)
        fail_msg("ticket %llu not answered in 30 s", (unsigned long long)t);
    return n;
}

/* A syncer on path, its answers in a (initialised here). */
static cs_walsync *syncer(const char *path, answers *a)
{
    answers_init(a);
    cs_walsync *w;
    assert_int_equal(cs_walsync_open(path, on_done, a, &w, NULL), MF_OK);
    return w;
}

/* Asks for ticket t and waits for its answer; the number of answers so far. */
static int ask(cs_walsync *w, answers *a, uint64_t t)
{
    cs_walsync_request(w, t);
    return await_ticket(a, t);
}

static void temp_file(char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/cs_walsync_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "frames", 6), 6);
    close(fd);
}

static void answers_a_request(void **state)
{
    (void)state;
    char path[64];
    temp_file(path, sizeof path);
    answers a;
    cs_walsync *w = syncer(path, &a);
    assert_int_equal(ask(w, &a, 1), 1);
    assert_int_equal(a.ticket[0], 1);
    assert_int_equal(a.st[0], MF_OK);
    cs_walsync_request(w, 1); /* not higher: nothing to do */
    ask(w, &a, 2);
    cs_walsync_close(w);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.ticket[1], 2);
    answers_destroy(&a);
    unlink(path);
}

/* Requests made while a sync runs are answered by one later sync; tickets only go up. */
static void coalesces_requests(void **state)
{
    (void)state;
    char path[64];
    temp_file(path, sizeof path);
    answers a;
    cs_walsync *w = syncer(path, &a);
    for (uint64_t t = 1; t <= 40; t++)
        cs_walsync_request(w, t);
    int n = await_ticket(&a, 40);
    cs_walsync_close(w);
    assert_true(n >= 1 && n <= 40);
    for (int i = 0; i < n; i++) {
        assert_int_equal(a.st[i], MF_OK);
        if (i > 0)
            assert_true(a.ticket[i] > a.ticket[i - 1]);
    }
    assert_int_equal(a.ticket[n - 1], 40);
    answers_destroy(&a);
    unlink(path);
}

/* While the service's connection is open SQLite keeps its log: a missing one is a failure. */
static void missing_log_is_an_error(void **state)
{
    (void)state;
    answers a;
    cs_walsync *w = syncer("/tmp/cs_walsync_no_such_file-wal", &a);
    ask(w, &a, 7);
    cs_walsync_close(w);
    assert_int_equal(a.st[0], MF_ERR_IO);
    assert_non_null(strstr(a.why[0], "No such file"));
    answers_destroy(&a);
}

/* SQLite made the log anew at the same path: the next sync opens the new file (the old one,
 * unlinked, could be synced for ever without error). */
static void follows_a_new_log_at_the_path(void **state)
{
    (void)state;
    char path[64];
    temp_file(path, sizeof path);
    answers a;
    cs_walsync *w = syncer(path, &a);
    ask(w, &a, 1);
    assert_int_equal(unlink(path), 0);
    ask(w, &a, 2); /* the path is gone: the log is not there to sync */
    cs_walsync_close(w);
    assert_int_equal(a.st[0], MF_OK);
    assert_int_equal(a.st[a.n - 1], MF_ERR_IO);
    answers_destroy(&a);
    /* a new file at the path, after the first one was synced: followed */
    temp_file(path, sizeof path);
    w = syncer(path, &a);
    ask(w, &a, 1);
    char moved[80];
    snprintf(moved, sizeof moved, "%s.old", path);
    assert_int_equal(rename(path, moved), 0);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    ask(w, &a, 2);
    cs_walsync_close(w);
    assert_int_equal(a.st[a.n - 1], MF_OK);
    answers_destroy(&a);
    unlink(path);
    unlink(moved);
}

/* A log that cannot be opened (here a name too long for the file system): MF_ERR_IO and why. */
static void unopenable_log_is_an_error(void **state)
{
    (void)state;
    char path[5000];
    memset(path, 'x', sizeof path - 1);
    path[0] = '/';
    path[sizeof path - 1] = '\0';
    answers a;
    cs_walsync *w = syncer(path, &a);
    ask(w, &a, 3);
    assert_int_equal(a.st[0], MF_ERR_IO);
    assert_non_null(strstr(a.why[0], "open"));
    ask(w, &a, 4); /* still answering after an error: with the first error, for ever */
    cs_walsync_close(w);
    assert_int_equal(a.st[a.n - 1], MF_ERR_IO);
    assert_string_equal(a.why[a.n - 1], a.why[0]);
    answers_destroy(&a);
}

/* Closing with a request outstanding, or none at all: no hang, nothing leaked (ASan). */
static void closes_with_a_request_outstanding(void **state)
{
    (void)state;
    char path[64];
    temp_file(path, sizeof path);
    answers a;
    cs_walsync *w = syncer(path, &a);
    cs_walsync_close(w);
    assert_int_equal(cs_walsync_open(path, on_done, &a, &w, NULL), MF_OK);
    cs_walsync_request(w, 1);
    cs_walsync_close(w);
    assert_true(a.n <= 1);
    cs_walsync_close(NULL);
    answers_destroy(&a);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answers_a_request),
        cmocka_unit_test(coalesces_requests),
        cmocka_unit_test(missing_log_is_an_error),
        cmocka_unit_test(follows_a_new_log_at_the_path),
        cmocka_unit_test(unopenable_log_is_an_error),
        cmocka_unit_test(closes_with_a_request_outstanding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
