/*
 * Unit tests of cs_lease and cs_schedule_claim: two connections to one database file stand for
 * two replicas sharing it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cs_db.h"
#include "cs_lease.h"
#include "cs_schedule.h"
#include "svc_db.h"
#include "cs_test_util.h"

typedef struct two {
    char path[64];
    sqlite3 *a, *b;
} two;

static int setup(void **state)
{
    two *t = calloc(1, sizeof *t);
    snprintf(t->path, sizeof t->path, "/tmp/cs_lease_XXXXXX");
    int fd = mkstemp(t->path);
    close(fd);
    assert_int_equal(cs_db_open(t->path, &t->a, NULL), MF_OK);
    assert_int_equal(cs_db_open(t->path, &t->b, NULL), MF_OK);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    two *t = *state;
    svc_db_close(t->a);
    svc_db_close(t->b);
    cs_test_db_unlink(t->path);
    free(t);
    return 0;
}

static void one_holder_at_a_time(void **state)
{
    two *t = *state;
    cs_lease *a, *b;
    assert_int_equal(cs_lease_open(t->a, 60000, &a, NULL), MF_OK);
    assert_int_equal(cs_lease_open(t->b, 60000, &b, NULL), MF_OK);
    assert_string_not_equal(cs_lease_owner(a), cs_lease_owner(b));
    char holder[64];
    mf_error err;
    assert_int_equal(cs_lease_claim(a, "x1", holder, &err), 1);
    assert_int_equal(cs_lease_claim(a, "x1", holder, &err), 1); /* ours: kept */
    assert_int_equal(cs_lease_claim(b, "x1", holder, &err), 0); /* a live other holds it */
    assert_string_equal(holder, cs_lease_owner(a));
    long pid = 0;
    char who[64];
    assert_true(cs_lease_holder(b, "x1", who, &pid));
    assert_string_equal(who, cs_lease_owner(a));
    assert_int_equal(pid, (long)getpid());
    assert_false(cs_lease_holder(b, "nope", who, &pid));
    assert_int_equal(cs_lease_renew(a, "x1", &err), 1);
    assert_int_equal(cs_lease_renew(b, "x1", &err), 0); /* not b's */
    cs_lease_release(b, "x1");                          /* not b's: nothing happens */
    assert_int_equal(cs_lease_claim(b, "x1", holder, &err), 0);
    cs_lease_release(a, "x1");
    assert_int_equal(cs_lease_claim(b, "x1", holder, &err), 1); /* free once released */
    assert_int_equal(cs_lease_renew(a, "x1", &err), 0);         /* a lost it */
    cs_lease_close(a);
    cs_lease_close(b);
}

static void expired_lease_is_taken(void **state)
{
    two *t = *state;
    cs_lease *a, *b;
    assert_int_equal(cs_lease_open(t->a, 60000, &a, NULL), MF_OK);
    assert_int_equal(cs_lease_open(t->b, 60000, &b, NULL), MF_OK);
    assert_int_equal(cs_lease_claim(a, "x2", NULL, NULL), 1);
    assert_int_equal(svc_db_exec(t->b, "UPDATE cs_leases SET expires_at = 1 WHERE execution_id = 'x2'", NULL), MF_OK);
    assert_int_equal(cs_lease_claim(b, "x2", NULL, NULL), 1);
    assert_int_equal(cs_lease_renew(a, "x2", NULL), 0);
    cs_lease_close(a);
    cs_lease_close(b);
}

static void lease_of_a_dead_process_is_taken_at_once(void **state)
{
    two *t = *state;
    cs_lease *b;
    assert_int_equal(cs_lease_open(t->b, 60000, &b, NULL), MF_OK);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child); /* its pid is gone now */
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO cs_leases VALUES ('x3', 'elsewhere/%ld/0', %ld, 9999999999999)", (long)child,
             (long)child);
    assert_int_equal(svc_db_exec(t->a, sql, NULL), MF_OK);
    char holder[64];
    assert_int_equal(cs_lease_claim(b, "x3", holder, NULL), 1);
    /* a live process (ours, under another owner id) keeps it until it expires */
    snprintf(sql, sizeof sql, "UPDATE cs_leases SET owner = 'other', pid = %ld WHERE execution_id = 'x3'",
             (long)getppid());
    assert_int_equal(svc_db_exec(t->a, sql, NULL), MF_OK);
    assert_int_equal(cs_lease_claim(b, "x3", holder, NULL), 0);
    assert_string_equal(holder, "other");
    cs_lease_close(b);
}

static void schedule_firing_claimed_once(void **state)
{
    two *t = *state;
    assert_int_equal(svc_db_exec(t->a, "INSERT INTO cs_campaigns VALUES ('c','h','{}','n',0,0)", NULL), MF_OK);
    assert_int_equal(cs_schedule_put(t->a, "c", 1000, NULL), MF_OK);
    bool claimed = false;
    assert_int_equal(svc_db_begin(t->a, NULL), MF_OK);
    assert_int_equal(cs_schedule_claim(t->a, "c", 1000, true, 5000, &claimed, NULL), MF_OK);
    assert_true(claimed);
    assert_int_equal(svc_db_commit(t->a, NULL), MF_OK);
    /* the other replica saw the same due firing before: its claim finds it moved on */
    assert_int_equal(svc_db_begin(t->b, NULL), MF_OK);
    assert_int_equal(cs_schedule_claim(t->b, "c", 1000, true, 5000, &claimed, NULL), MF_OK);
    assert_false(claimed);
    svc_db_rollback(t->b);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(t->b, "SELECT fired, next_fire_at FROM cs_schedules", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(q, 0), 1);
    assert_int_equal(sqlite3_column_int64(q, 1), 5000);
    sqlite3_finalize(q);
    /* the last firing: no next */
    assert_int_equal(cs_schedule_claim(t->b, "c", 5000, false, 0, &claimed, NULL), MF_OK);
    assert_true(claimed);
    assert_int_equal(cs_schedule_claim(t->a, "c", 5000, false, 0, &claimed, NULL), MF_OK);
    assert_false(claimed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(one_holder_at_a_time, setup, teardown),
        cmocka_unit_test_setup_teardown(expired_lease_is_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(lease_of_a_dead_process_is_taken_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(schedule_firing_claimed_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
