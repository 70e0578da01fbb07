/*
 * Unit tests of the execution engine's batches in flight (cs_engine.h: the batch asked ahead, the
 * flush and the commit) and of the commit's durability (the sink's sync_start and
 * cs_engine_on_durable), with the fake world of test_cs_engine.c (cs_fake_sink.h): requests and
 * pushes counted at each flush, held back until durable, crashes, pause/cancel/stop and failed
 * syncs while held back, replies and retries of a batch asked ahead, held targets released
 * mid-run. Never more than one batch published and not durable, every notification once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_engine.h"
#include "cs_engine_world.h"
#include "cs_fake_sink.h"
#include "cs_test_util.h"

/* Twelve plain users, one execution to all of them in batches of 5 (3 batches), the commits made
 * durable as d says; executed, nothing run yet. */
static world *twelve_users(fake_durability d)
{
    world *w = world_new();
    for (int i = 0; i < 12; i++)
        world_add_user(w, i, &WORLD_PLAIN);
    w->f.durability = d;
    world_engine_start(w);
    world_create(w, PLAIN_CAMPAIGN("'max_retries':0,'batch_size':5"));
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    return w;
}

/* A batch's requests go out with the batch before it (asked ahead: cs_batch); at a batch's end its
 * flush starts first, then the batch after the next one is asked for, before the finished batch's
 * flush is awaited and the batch committed; the next batch's notifications only after that commit:
 * never more than one batch published and uncommitted. */
static void next_batch_asked_while_committing(void **state)
{
    (void)state;
    world *w = twelve_users(FAKE_DURABLE_WAITS);
    fake_run(&w->f, T0 + 60000);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 12);
    assert_int_equal(x.batches, 3);
    assert_int_equal(w->f.flushes, 3);
    assert_int_equal(w->f.reqs_at_flush[0], 12);  /* batches 2 and 3 asked before batch 1's flush */
    assert_int_equal(w->f.pushes_at_flush[0], 5); /* ... and published nothing yet */
    assert_int_equal(w->f.reqs_at_flush[1], 12);
    assert_int_equal(w->f.pushes_at_flush[1], 10);
    assert_int_equal(w->f.reqs_at_flush[2], 12);
    assert_int_equal(w->f.pushes_at_flush[2], 12);
    /* each flush's PING left before the batch after the next one was asked for (its round trip
     * overlaps it) */
    assert_int_equal(w->f.flush_starts, 3);
    assert_int_equal(w->f.reqs_at_flush_start[0], 10); /* batch 2 asked with batch 1 */
    assert_int_equal(w->f.pushes_at_flush_start[0], 5);
    assert_int_equal(w->f.reqs_at_flush_start[1], 12);
    assert_int_equal(w->f.pushes_at_flush_start[1], 10);
    world_assert_pushes_once(&w->f, 12);
    world_free(w);
}

/* The ledger's checkpoints are held from the launch's commit while the execution runs, and the
 * log is copied at the first cs_engine_checkpoint after it has ended (cs_engine.h). */
static void checkpoints_held_while_running(void **state)
{
    (void)state;
    world *w = twelve_users(FAKE_DURABLE_WAITS);
    assert_int_equal(world_exec(w, EXEC).status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING);
    assert_int_equal(cs_test_db_int(w->db, "PRAGMA wal_autocheckpoint"),
                     CS_LEDGER_HELD_LOG_BYTES / cs_test_db_int(w->db, "PRAGMA page_size"));
    uint32_t backlog = cs_test_wal_backlog(w->path);
    assert_true(backlog > 0);
    cs_engine_checkpoint(w->e); /* running: nothing due */
    assert_int_equal(cs_test_wal_backlog(w->path), backlog);
    fake_run(&w->f, T0 + 60000);
    assert_int_equal(world_exec(w, EXEC).status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(cs_test_db_int(w->db, "PRAGMA wal_autocheckpoint"), 1000); /* SQLite's default, back */
    assert_true(cs_test_wal_backlog(w->path) > backlog); /* the batches' commits, not copied yet */
    cs_engine_checkpoint(w->e);
    assert_int_equal(cs_test_wal_backlog(w->path), 0);
    world_assert_pushes_once(&w->f, 12);
    world_free(w);
}

/* With the sink's sync_start the commit does not wait for the disk: the batch taken ahead is asked
 * for and answered meanwhile, and publishes only once cs_engine_on_durable says the commit is on disk. */
#define CAMPAIGN2 "8c9e6679-7425-40de-944b-e07fc1f90ae8"
#define EXEC2 "2b4e28ba-2fa1-41d2-883f-0016d3cca428"

static void next_batch_held_back_until_durable(void **state)
{
    (void)state;
    world *w = twelve_users(FAKE_DURABLE_BY_TEST);
    fake_run(&w->f, T0 + 60000);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.sent, 5);            /* batch 1 committed (not yet durable) */
    assert_int_equal(w->f.sync_starts, 1);
    assert_int_equal(w->f.sync_asked, 1);
    assert_int_equal(w->f.requests, 12);    /* batches 2 and 3 asked and answered ... */
    assert_int_equal(w->f.n_reqs, 0);
    assert_int_equal(w->f.n_pushes, 5);     /* ... but held back */
    assert_false(cs_engine_idle(w->e));     /* its batch is in hand */
    fake_run(&w->f, T0 + 3600 * 1000);      /* time alone releases nothing */
    assert_int_equal(w->f.n_pushes, 5);

    cs_engine_on_durable(w->e, 1, MF_OK, NULL);
    assert_int_equal(w->f.n_pushes, 10);    /* batch 2 published at once, flushed and committed */
    assert_int_equal(w->f.sync_asked, 2);
    fake_run(&w->f, w->f.now + 60000);
    assert_int_equal(w->f.requests, 12);
    assert_int_equal(w->f.n_pushes, 10);    /* batch 3 waits for commit 2 */
    cs_engine_on_durable(w->e, 1, MF_OK, NULL); /* an old ticket changes nothing */
    assert_int_equal(w->f.n_pushes, 10);
    cs_engine_on_durable(w->e, 2, MF_OK, NULL);
    assert_int_equal(w->f.n_pushes, 12);
    fake_run(&w->f, w->f.now + 60000);
    x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 12);
    assert_int_equal(x.batches, 3);
    assert_int_equal(w->f.sync_asked, 3);
    world_assert_pushes_once(&w->f, 12);
    assert_int_equal(fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_NOTIFICATION_SENT), 12);
    cs_engine_on_durable(w->e, 3, MF_OK, NULL); /* after the end: nothing to release */
    assert_int_equal(w->f.n_pushes, 12);
    world_check_progress(&w->f, EXEC);
    world_free(w);
}

/* As next_batch_asked_while_committing, with the durability answered as soon as the replies due now
 * are in: the same flushes, never more than one batch published and not durable. */
static void nowait_commits_keep_one_batch_out(void **state)
{
    (void)state;
    world *w = twelve_users(FAKE_DURABLE_LATER);
    fake_run(&w->f, T0 + 60000);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 12);
    assert_int_equal(w->f.sync_starts, 3);
    assert_int_equal(w->f.flushes, 3);
    assert_int_equal(w->f.reqs_at_flush[0], 12); /* batches 2 and 3 asked before batch 1's flush */
    assert_int_equal(w->f.pushes_at_flush[0], 5);
    assert_int_equal(w->f.pushes_at_flush[1], 10);
    assert_int_equal(w->f.pushes_at_flush[2], 12);
    world_assert_pushes_once(&w->f, 12);
    world_free(w);
}

/* The replies to a batch asked ahead decide as any: a profile is kept until the batch is in hand, a
 * missing user or a refusal fails the target at once, a timeout is asked again once the batch is in
 * hand. Every target ends once, every notification goes once. */
static void asked_ahead_failures_and_retries(void **state)
{
    (void)state;
    world *w = world_new();
    user_spec flaky = WORLD_PLAIN, silent = WORLD_PLAIN, refused = WORLD_PLAIN, missing = WORLD_PLAIN;
    flaky.mode = FAKE_FLAKY;
    flaky.fails = 1;
    silent.mode = FAKE_SILENT;
    refused.mode = FAKE_REFUSED;
    missing.mode = FAKE_NOT_FOUND;
    fake_user *u[12];
    for (int i = 0; i < 12; i++) /* batch 2 (users 5-9) is asked ahead, with batch 1 */
        u[i] = world_add_user(w, i, i == 5 ? &missing : i == 6 ? &flaky : i == 7 ? &refused : i == 8 ? &silent
                                                                                                   : &WORLD_PLAIN);
    w->f.durability = FAKE_DURABLE_LATER;
    world_engine_start(w);
    world_create(w, PLAIN_CAMPAIGN("'max_retries':1,'batch_size':5"));
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 60000);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 9);
    assert_int_equal(x.failed, 3);
    assert_int_equal(x.batches, 3);
    assert_int_equal(u[5]->asked, 1);
    assert_int_equal(u[6]->asked, 2); /* timed out while asked ahead, answered when asked again */
    assert_int_equal(u[7]->asked, 1);
    assert_int_equal(u[8]->asked, 2);
    assert_int_equal(u[9]->asked, 1);
    world_assert_pushes_once(&w->f, 9);
    assert_int_equal(fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_NOTIFICATION_SENT), 9);
    world_check_progress(&w->f, EXEC);
    world_free(w);
}

/* Held targets whose quiet hours end while the run goes on come back in a later batch, perhaps one
 * asked ahead; that batch then asks nothing ahead (the ledger returns held targets whatever
 * after_seq, so two batches could share one), and each notification goes once. */
static void held_released_while_batches_go(void **state)
{
    (void)state;
    world *w = world_new();
    user_spec quiet = WORLD_PLAIN;
    quiet.quiet_start = "22:00";
    quiet.quiet_end = "11:01"; /* Berlin: 11:00 at T0, so released a minute later */
    for (int i = 0; i < 30; i++)
        world_add_user(w, i, i < 2 ? &quiet : &WORLD_PLAIN);
    w->f.latency_ms = 25000; /* a batch's round trip: 25 s, so that the release comes mid-run */
    w->cfg.ahead_max_age_ms = 3600 * 1000; /* ... and each batch asked ahead is kept */
    world_engine_start(w);
    world_create(w, PLAIN_CAMPAIGN("'max_retries':0,'batch_size':5,'respect_quiet_hours':true"));
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 50000);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING);
    assert_int_equal(x.held, 2);
    fake_run(&w->f, T0 + 3600 * 1000);
    x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 30);
    assert_int_equal(x.held, 0);
    assert_int_equal(x.ever_held, 2);
    world_assert_pushes_once(&w->f, 30);
    for (int i = 0; i < 30; i++)
        assert_int_equal(w->f.users[i].asked, 1);
    world_check_progress(&w->f, EXEC);
    world_free(w);
}

/* A batch asked ahead is screened (quiet hours) when it is read, but delivered only once the batch
 * in hand ends. When the batch in hand takes long (a retry after a 2-minute timeout), the quiet
 * hours of a user of the batch asked ahead may have begun meanwhile: the batch is read again, and
 * that user held, not pushed (cs_engine_config.ahead_max_age_ms; found by review). */
static void asked_ahead_read_again_when_old(void **state)
{
    (void)state;
    world *w = world_new();
    user_spec slow = WORLD_PLAIN, quiet = WORLD_PLAIN;
    slow.mode = FAKE_FLAKY;
    slow.fails = 1; /* times out once (2 min), answers when asked again */
    quiet.quiet_start = "11:01";
    quiet.quiet_end = "12:00"; /* Berlin: 11:00 at T0, quiet from a minute later */
    fake_user *u[10];
    for (int i = 0; i < 10; i++) /* batch 1: users 0-4 (0 is slow); batch 2: users 5-9 (5 is quiet soon) */
        u[i] = world_add_user(w, i, i == 0 ? &slow : i == 5 ? &quiet : &WORLD_PLAIN);
    w->cfg.request_timeout_ms = 120000;
    world_engine_start(w);
    world_create(w, PLAIN_CAMPAIGN("'max_retries':1,'batch_size':5,'respect_quiet_hours':true"));
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 10 * 60000); /* 11:10 in Berlin: user 5's quiet hours */
    int pushed5 = 0;
    for (int i = 0; i < w->f.n_pushes; i++)
        pushed5 += strcmp(w->f.pushes[i].m.user_id, u[5]->id) == 0;
    assert_int_equal(pushed5, 0); /* not pushed during its quiet hours */
    assert_int_equal(u[6]->asked, 2); /* asked ahead, then again with the batch read again */
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.held, 1);
    assert_int_equal(x.sent, 9);
    fake_run(&w->f, T0 + 3600 * 1000 * 2);
    x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 10);
    world_assert_pushes_once(&w->f, 10);
    world_free(w);
}

/* The disk refuses the sync: nothing more is published for the execution, which ends failed. */
static void not_durable_fails_the_execution(void **state)
{
    (void)state;
    world *w = twelve_users(FAKE_DURABLE_BY_TEST);
    fake_run(&w->f, T0 + 60000);
    assert_int_equal(w->f.n_pushes, 5);
    cs_engine_on_durable(w->e, 1, MF_ERR_IO, "fdatasync /x-wal: Input/output error");
    fake_run(&w->f, w->f.now + 60000);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_FAILED);
    assert_string_equal(x.error_code, "STORAGE_ERROR");
    assert_non_null(strstr(x.error_message, "Input/output error"));
    assert_int_equal(x.sent, 5);
    assert_int_equal(w->f.n_pushes, 5); /* batch 2 was never published */
    assert_true(cs_engine_idle(w->e));
    assert_int_equal(fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_FAILED), 1);
    const mf_campaign_status_update *st = fake_last_status(&w->f, EXEC);
    assert_non_null(st);
    assert_int_equal(st->status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_FAILED);
    world_free(w);
}

/* Answers every sync the engine asks for until nothing more happens (FAKE_DURABLE_BY_TEST). */
static void answer_syncs(world *w)
{
    for (int i = 0; i < 1000; i++) {
        fake_run(&w->f, w->f.now + 60000);
        if (w->f.sync_asked <= w->f.sync_answered)
            return;
        w->f.sync_answered = w->f.sync_asked;
        cs_engine_on_durable(w->e, w->f.sync_answered, MF_OK, NULL);
    }
    fail_msg("the syncs never end");
}

/* A crash while the batch taken ahead is held back: it was never published, so the restart sends it
 * once; the commit before it (in the log, not yet synced) is kept by the process's death. The
 * restarted engine first asks for a sync (the dead process's last commit may not be on disk) and
 * publishes nothing before its answer. */
static void crash_while_held_back(void **state)
{
    (void)state;
    world *w = twelve_users(FAKE_DURABLE_BY_TEST);
    fake_run(&w->f, T0 + 60000);
    assert_int_equal(w->f.n_pushes, 5);
    world_engine_crash(w);
    w->f.sync_asked = w->f.sync_answered = 0; /* a new engine counts its commits from 1 */
    world_engine_start(w);
    assert_int_equal(w->f.sync_asked, 1); /* asked at open, for the resumed execution */
    fake_run(&w->f, w->f.now + 60000);
    assert_int_equal(w->f.n_pushes, 5); /* batch 2 asked and answered, held back */
    assert_int_equal(w->f.requests, 19); /* 12 before the crash (batches 1-3), 7 after (2 and 3) */
    answer_syncs(w);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 12);
    world_assert_pushes_once(&w->f, 12); /* no duplicate at all */
    world_free(w);
}

/* Cancelled, paused or stopped while held back: the held targets stay pending, nothing more is
 * published for them (they were never out, so no duplicate can come of it). */
static void held_back_then_cancel_pause_or_stop(void **state)
{
    (void)state;
    for (int k = 0; k < 3; k++) {
        world *w = twelve_users(FAKE_DURABLE_BY_TEST);
        fake_run(&w->f, T0 + 60000);
        assert_int_equal(w->f.n_pushes, 5);
        mf_error err;
        if (k == 0)
            assert_int_equal(cs_engine_cancel(w->e, EXEC, &err), MF_OK);
        else if (k == 1)
            assert_int_equal(cs_engine_pause(w->e, EXEC, &err), MF_OK);
        else
            cs_engine_stop(w->e);
        cs_engine_on_durable(w->e, 1, MF_OK, NULL);
        answer_syncs(w);
        assert_int_equal(w->f.n_pushes, 5);
        cs_execution x = world_exec(w, EXEC);
        assert_int_equal(x.sent, 5);
        assert_true(cs_engine_idle(w->e));
        mf_campaign_status_update_status want[] = {MF_CAMPAIGN_STATUS_UPDATE_STATUS_CANCELLED,
                                                   MF_CAMPAIGN_STATUS_UPDATE_STATUS_PAUSED,
                                                   MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING};
        assert_int_equal(x.status, want[k]);
        if (k == 1) { /* resumed: the rest goes, each once */
            assert_int_equal(cs_engine_resume(w->e, EXEC, &err), MF_OK);
            answer_syncs(w);
            x = world_exec(w, EXEC);
            assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
            world_assert_pushes_once(&w->f, 12);
        }
        world_free(w);
    }
}

/* Two executions: the first sync fails. The execution that waited for it fails; the other one's
 * later sync is answered MF_OK by the disk, but a failure is final: it fails too and publishes
 * nothing more (the commits after a lost one cannot be recovered). */
static void failed_sync_is_final(void **state)
{
    (void)state;
    world *w = twelve_users(FAKE_DURABLE_BY_TEST);
    world_create(w, "{'campaign_id':'" CAMPAIGN2 "','name':'m','target_audience':{'user_segments':['all_users']},"
              "'notification_template':{'title_template':'Yo {{name}}','body_template':'b'},"
              "'schedule':{'type':'immediate'},'settings':{'max_retries':0,'batch_size':5}}");
    assert_int_equal(world_execute(w, EXEC2, CAMPAIGN2, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 60000);
    assert_int_equal(w->f.sync_asked, 2); /* each execution committed its first batch */
    assert_int_equal(w->f.n_pushes, 10);
    cs_engine_on_durable(w->e, 1, MF_ERR_IO, "fdatasync /x-wal: Input/output error");
    cs_engine_on_durable(w->e, 2, MF_OK, NULL);
    fake_run(&w->f, w->f.now + 60000);
    assert_int_equal(w->f.n_pushes, 10);
    cs_execution a = world_exec(w, EXEC), b = world_exec(w, EXEC2);
    assert_int_equal(a.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_FAILED);
    assert_int_equal(b.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_FAILED);
    assert_string_equal(b.error_code, "STORAGE_ERROR");
    assert_non_null(strstr(b.error_message, "Input/output error"));
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(next_batch_asked_while_committing),
        cmocka_unit_test(next_batch_held_back_until_durable),
        cmocka_unit_test(checkpoints_held_while_running),
        cmocka_unit_test(nowait_commits_keep_one_batch_out),
        cmocka_unit_test(asked_ahead_failures_and_retries),
        cmocka_unit_test(held_released_while_batches_go),
        cmocka_unit_test(asked_ahead_read_again_when_old),
        cmocka_unit_test(not_durable_fails_the_execution),
        cmocka_unit_test(crash_while_held_back),
        cmocka_unit_test(held_back_then_cancel_pause_or_stop),
        cmocka_unit_test(failed_sync_is_final),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
