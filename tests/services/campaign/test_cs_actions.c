/*
 * Unit tests of cs_actions (admin requests recorded for the replica that runs an execution):
 * two connections to one database file stand for two replicas sharing it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_actions.h"
#include "cs_db.h"
#include "svc_db.h"
#include "cs_test_util.h"

typedef struct two {
    char path[64];
    sqlite3 *a, *b;
    cs_actions *xa, *xb;
} two;

static int setup(void **state)
{
    two *t = calloc(1, sizeof *t);
    snprintf(t->path, sizeof t->path, "/tmp/cs_actions_XXXXXX");
    int fd = mkstemp(t->path);
    close(fd);
    assert_int_equal(cs_db_open(t->path, &t->a, NULL), MF_OK);
    assert_int_equal(cs_db_open(t->path, &t->b, NULL), MF_OK);
    assert_int_equal(cs_actions_open(t->a, &t->xa, NULL), MF_OK);
    assert_int_equal(cs_actions_open(t->b, &t->xb, NULL), MF_OK);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    two *t = *state;
    cs_actions_close(t->xa);
    cs_actions_close(t->xb);
    svc_db_close(t->a);
    svc_db_close(t->b);
    cs_test_db_unlink(t->path);
    free(t);
    return 0;
}

static cs_action request(const char *xid, cs_action_kind kind, const char *by, int64_t at)
{
    cs_action x;
    memset(&x, 0, sizeof x);
    snprintf(x.execution_id, sizeof x.execution_id, "%s", xid);
    x.kind = kind;
    snprintf(x.requested_by, sizeof x.requested_by, "%s", by);
    snprintf(x.holder, sizeof x.holder, "host/42/beef");
    x.requested_at = at;
    return x;
}

static void recorded_by_one_seen_by_the_other(void **state)
{
    two *t = *state;
    cs_action x = request("x1", CS_ACTION_PAUSE, "host/7/cafe", 1000);
    mf_error err;
    assert_int_equal(cs_actions_add(t->xa, &x, &err), MF_OK);
    assert_true(x.id > 0);
    cs_action got;
    bool found;
    assert_int_equal(cs_actions_pending(t->xb, "x1", &got, &found, &err), MF_OK);
    assert_true(found);
    assert_int_equal(got.id, x.id);
    assert_int_equal(got.kind, CS_ACTION_PAUSE);
    assert_int_equal(got.state, CS_ACTION_PENDING);
    assert_string_equal(got.requested_by, "host/7/cafe");
    assert_string_equal(got.holder, "host/42/beef");
    assert_int_equal(got.requested_at, 1000);
    assert_string_equal(got.settled_by, "");
    assert_int_equal(got.settled_at, 0);
    assert_int_equal(cs_actions_pending(t->xb, "x2", &got, &found, &err), MF_OK);
    assert_false(found); /* another execution: nothing */
    assert_int_equal(cs_actions_newest(t->xb, "x2", &got, &found, &err), MF_OK);
    assert_false(found);
}

static void settled_once(void **state)
{
    two *t = *state;
    cs_action x = request("x1", CS_ACTION_CANCEL, "host/7/cafe", 1000);
    mf_error err;
    assert_int_equal(cs_actions_add(t->xa, &x, &err), MF_OK);
    /* the holder (b) takes it; a replica trying to withdraw it later (a) changes nothing */
    assert_int_equal(cs_actions_settle(t->xb, x.id, true, CS_ACTION_APPLIED, "host/42/beef", 1250, NULL, &err), 1);
    assert_int_equal(cs_actions_settle(t->xa, x.id, true, CS_ACTION_WITHDRAWN, "host/7/cafe", 1300, "late", &err), 0);
    cs_action got;
    bool found;
    assert_int_equal(cs_actions_pending(t->xa, "x1", &got, &found, &err), MF_OK);
    assert_false(found);
    assert_int_equal(cs_actions_newest(t->xa, "x1", &got, &found, &err), MF_OK);
    assert_true(found);
    assert_int_equal(got.state, CS_ACTION_APPLIED);
    assert_string_equal(got.settled_by, "host/42/beef");
    assert_int_equal(got.settled_at, 1250);
    assert_string_equal(got.message, "");
    /* turned into a refusal afterwards (the holder found the state did not allow it) */
    assert_int_equal(cs_actions_settle(t->xb, x.id, false, CS_ACTION_REFUSED, "host/42/beef", 1250,
                                       "execution x1 is completed", &err), 1);
    assert_int_equal(cs_actions_newest(t->xa, "x1", &got, &found, &err), MF_OK);
    assert_int_equal(got.state, CS_ACTION_REFUSED);
    assert_string_equal(got.message, "execution x1 is completed");
    assert_int_equal(cs_actions_settle(t->xb, 999999, false, CS_ACTION_APPLIED, "b", 1, NULL, &err), 0); /* no such id */
}

static void oldest_pending_newest_any(void **state)
{
    two *t = *state;
    mf_error err;
    cs_action p = request("x1", CS_ACTION_PAUSE, "a", 1000), r = request("x1", CS_ACTION_RESUME, "a", 2000),
              other = request("x9", CS_ACTION_CANCEL, "a", 1500);
    assert_int_equal(cs_actions_add(t->xa, &p, &err), MF_OK);
    assert_int_equal(cs_actions_add(t->xa, &other, &err), MF_OK);
    assert_int_equal(cs_actions_add(t->xa, &r, &err), MF_OK);
    cs_action got;
    bool found;
    assert_int_equal(cs_actions_pending(t->xb, "x1", &got, &found, &err), MF_OK);
    assert_int_equal(got.id, p.id); /* the oldest first */
    assert_int_equal(cs_actions_newest(t->xb, "x1", &got, &found, &err), MF_OK);
    assert_int_equal(got.id, r.id);
    /* the execution ended: every pending request of it is refused, the other execution's stays */
    assert_int_equal(cs_actions_settle_all(t->xb, "x1", CS_ACTION_REFUSED, "b", 3000, "execution x1 is completed",
                                           &err), 2);
    assert_int_equal(cs_actions_pending(t->xa, "x1", &got, &found, &err), MF_OK);
    assert_false(found);
    assert_int_equal(cs_actions_pending(t->xa, "x9", &got, &found, &err), MF_OK);
    assert_true(found);
    assert_int_equal(cs_actions_settle_all(t->xb, "x1", CS_ACTION_REFUSED, "b", 3000, NULL, &err), 0);
}

static void names(void **state)
{
    (void)state;
    assert_string_equal(cs_action_kind_name(CS_ACTION_PAUSE), "pause");
    assert_string_equal(cs_action_kind_name(CS_ACTION_RESUME), "resume");
    assert_string_equal(cs_action_kind_name(CS_ACTION_CANCEL), "cancel");
    assert_string_equal(cs_action_kind_name((cs_action_kind)0), "?");
    assert_string_equal(cs_action_kind_name((cs_action_kind)77), "?");
    assert_string_equal(cs_action_state_name(CS_ACTION_PENDING), "pending");
    assert_string_equal(cs_action_state_name(CS_ACTION_WITHDRAWN), "withdrawn");
    assert_string_equal(cs_action_state_name((cs_action_state)-1), "?");
}

static void unmigrated_database_is_an_error(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(svc_db_open(":memory:", &db, NULL), MF_OK); /* no migration: no table */
    cs_actions *a = (cs_actions *)1;
    mf_error err;
    assert_int_equal(cs_actions_open(db, &a, &err), MF_ERR_IO);
    assert_null(a);
    assert_non_null(strstr(err.message, "cs_actions"));
    svc_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(recorded_by_one_seen_by_the_other, setup, teardown),
        cmocka_unit_test_setup_teardown(settled_once, setup, teardown),
        cmocka_unit_test_setup_teardown(oldest_pending_newest_any, setup, teardown),
        cmocka_unit_test(names),
        cmocka_unit_test(unmigrated_database_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
