/*
 * Unit tests of the execution engine with replicas: two engines on one database file, each with
 * its own fake world (cs_engine_world.h): admin requests at the replica that does not run an
 * execution (recorded, the rules for a second one, applied by the holder or by the adopter), and
 * a replica whose lease was taken over (it records nothing more).
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

#include "cs_db.h"
#include "cs_engine.h"
#include "cs_engine_world.h"
#include "cs_fake_sink.h"
#include "cs_test_util.h"
#include "cs_userview.h"
#include "cs_uuid.h"
#include "cs_variant.h"

typedef struct replica {
    sqlite3 *db;
    fake f;
    cs_engine *e;
} replica;

static void replica_start(world *w, replica *b)
{
    assert_int_equal(cs_db_open(w->path, &b->db, NULL), MF_OK);
    fake_init(&b->f, w->f.now);
    b->f.quiet_log = w->f.quiet_log;
    cs_sink s = fake_sink(&b->f);
    mf_error err;
    if (cs_engine_open(b->db, &s, &w->cfg, &b->e, &err) != MF_OK)
        fail_msg("replica: %s", err.message);
    b->f.engine = b->e;
}

static void replica_free(replica *b)
{
    cs_engine_stop(b->e);
    cs_engine_close(b->e);
    fake_close_requests(&b->f);
    fake_free(&b->f);
    svc_db_close(b->db);
}

static void leased_world(world *w, int users)
{
    w->cfg.lease_ms = 600000; /* never expires during the test: only the holder runs it */
    for (int i = 0; i < users; i++)
        world_add_user(w, i, &WORLD_PLAIN);
    world_engine_start(w);
    world_create(w, PLAIN_CAMPAIGN("'max_retries':0,'batch_size':5,'rate_limit':5"));
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 1500); /* two batches, run by w's engine (it holds the lease) */
}

/* A replica whose lease was taken over (it was stopped longer than the lease, another adopted the
 * execution) records no batch any more: the commit checks the lease in its transaction, so the
 * execution's counters never count a target twice; the run leaves this replica at once. */
static void lost_lease_records_nothing(void **state)
{
    (void)state;
    world *w = world_new();
    leased_world(w, 30);
    cs_execution before = world_exec(w, EXEC);
    assert_int_equal(before.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING);
    assert_true(before.sent > 0 && before.sent < 30);
    int pushes = w->f.n_pushes;
    /* the other replica took it: the lease row names it (pid 1 is alive, so it is not adopted back) */
    assert_int_equal(sqlite3_exec(w->db, "UPDATE cs_leases SET owner = 'other-replica', pid = 1, expires_at = "
                                         "9000000000000 WHERE execution_id = '" EXEC "'", NULL, NULL, NULL),
                     SQLITE_OK);
    fake_run(&w->f, w->f.now + 60000);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.sent, before.sent); /* nothing recorded after the take-over */
    assert_int_equal(x.batches, before.batches);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING); /* not failed: it runs elsewhere */
    assert_true(w->f.n_pushes - pushes <= 5); /* at most the batch in hand, sent again by the other */
    cs_engine_stats st;
    cs_engine_stats_get(w->e, &st);
    assert_int_equal(st.active_runs, 0); /* the run left this replica */
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(w->db, "SELECT owner FROM cs_leases WHERE execution_id = '" EXEC "'", -1, &q,
                                        NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "other-replica"); /* its lease is left alone */
    sqlite3_finalize(q);
    world_free(w);
}

/* Requests at the replica that does not run the execution: recorded, the rules for a second
 * one, applied by the holder at its next batch end. */
static void requests_recorded_for_the_holder(void **state)
{
    (void)state;
    world *w = world_new();
    leased_world(w, 30);
    replica b;
    replica_start(w, &b);
    mf_error err;
    cs_action a, again;
    assert_int_equal(cs_engine_request(b.e, EXEC, CS_ACTION_PAUSE, &a, &err), MF_OK);
    assert_int_equal(a.state, CS_ACTION_PENDING);
    assert_true(a.id > 0 && a.holder[0] && strcmp(a.holder, a.requested_by) != 0);
    assert_int_equal(cs_engine_request(b.e, EXEC, CS_ACTION_PAUSE, &again, &err), MF_OK);
    assert_int_equal(again.id, a.id); /* the same, still pending */
    assert_int_equal(cs_engine_request(b.e, EXEC, CS_ACTION_RESUME, &again, &err), MF_OK);
    assert_int_equal(again.state, CS_ACTION_APPLIED); /* pause and resume cancel out */
    assert_non_null(strstr(again.message, "withdrew the pending pause"));
    assert_int_equal(cs_engine_request(b.e, EXEC, CS_ACTION_RESUME, &again, &err), MF_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "is running")); /* the state checked here, as at the holder */
    assert_int_equal(cs_engine_request(b.e, EXEC, CS_ACTION_PAUSE, &a, &err), MF_OK);
    assert_int_equal(cs_engine_request(b.e, EXEC, CS_ACTION_CANCEL, &again, &err), MF_OK);
    assert_int_equal(again.state, CS_ACTION_PENDING);
    cs_action last;
    bool found;
    char holder[64];
    assert_int_equal(cs_engine_last_request(b.e, EXEC, &last, &found, holder, &err), MF_OK);
    assert_true(found && last.id == again.id && last.kind == CS_ACTION_CANCEL);
    assert_string_equal(holder, again.holder);
    assert_int_equal(cs_engine_request(b.e, EXEC, CS_ACTION_PAUSE, &a, &err), MF_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "being cancelled"));
    assert_int_equal(cs_engine_request(b.e, "9b2e4d7a-1c3f-4e5a-8b6d-0f1a2c3e4d5b", CS_ACTION_CANCEL, &a, &err),
                     MF_ERR_NOT_FOUND);
    int64_t before = world_exec(w, EXEC).sent;
    fake_run(&w->f, w->f.now + 60000); /* the holder's next batch end applies the cancel */
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_CANCELLED);
    assert_true(x.sent >= before && x.sent <= before + 10 && x.sent < 30); /* at most the batches in hand */
    assert_int_equal(fake_last_status(&w->f, EXEC)->status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_CANCELLED);
    assert_int_equal(cs_engine_last_request(b.e, EXEC, &last, &found, holder, &err), MF_OK);
    assert_int_equal(last.state, CS_ACTION_APPLIED);
    assert_string_equal(last.settled_by, again.holder);
    assert_string_equal(holder, ""); /* ended: the lease is released */
    assert_int_equal(cs_engine_request(b.e, EXEC, CS_ACTION_RESUME, &a, &err), MF_ERR_INVALID_ARG);
    replica_free(&b);
    world_free(w);
}

/* A request pending when its holder stops: the replica that adopts the execution applies it. */
static void pending_request_applied_by_the_adopter(void **state)
{
    (void)state;
    world *w = world_new();
    leased_world(w, 30);
    replica b;
    replica_start(w, &b);
    mf_error err;
    cs_action a;
    assert_int_equal(cs_engine_request(b.e, EXEC, CS_ACTION_PAUSE, &a, &err), MF_OK);
    assert_int_equal(a.state, CS_ACTION_PENDING);
    cs_engine_stop(w->e); /* the holder stops: its lease is released, the request stays pending */
    cs_engine_close(w->e);
    fake_close_requests(&w->f);
    w->e = NULL;
    fake_run(&b.f, b.f.now + 400000); /* b's lease tick adopts it and applies the pause */
    cs_execution x;
    bool found;
    assert_int_equal(cs_engine_execution(b.e, EXEC, &x, &found, &err), MF_OK);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_PAUSED);
    cs_action last;
    char holder[64];
    assert_int_equal(cs_engine_last_request(b.e, EXEC, &last, &found, holder, &err), MF_OK);
    assert_true(found && last.id == a.id && last.state == CS_ACTION_APPLIED);
    assert_string_equal(last.settled_by, a.requested_by); /* b applied it */
    assert_string_equal(holder, a.requested_by);
    assert_int_equal(cs_engine_request(b.e, EXEC, CS_ACTION_RESUME, &a, &err), MF_OK); /* b runs it: at once */
    assert_int_equal(a.state, CS_ACTION_APPLIED);
    fake_run(&b.f, b.f.now + 60000);
    assert_int_equal(cs_engine_execution(b.e, EXEC, &x, &found, &err), MF_OK);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent + x.failed, 30); /* b's fake User Service knows nobody: the rest failed */
    assert_int_equal(x.sent, 10);
    replica_free(&b);
    world_free(w);
}

/* Notification ids: distinct count, raw count, and whether every expected user got one. */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lost_lease_records_nothing),
        cmocka_unit_test(requests_recorded_for_the_holder),
        cmocka_unit_test(pending_request_applied_by_the_adopter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
