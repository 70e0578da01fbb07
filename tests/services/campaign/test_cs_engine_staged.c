/*
 * Unit tests of the engine's staged deliveries (cs_engine.h: the sink's stage_push, stage_analytics
 * and send_staged): a batch's notifications rendered and staged on the engine's thread and its
 * helper's (cs_share.h), published a chunk at a time, settled in the batch. What a sent chunk
 * refused is pending (sent again, once) or, when the client refused it for itself, failed; an event
 * that did not go is only logged. Every notification once, its notification_sent with it.
 * Which thread staged what is not asserted: the helper may get no CPU.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cs_engine.h"
#include "cs_engine_world.h"
#include "cs_fake_sink.h"
#include "cs_ledger.h"
#include "cs_test_util.h"

#define USERS 300

/* USERS plain users, staging on, one execution to all of them in batches of 100, the commits made
 * durable as soon as nothing else is due; executed, nothing run yet. */
static world *staged_world(void)
{
    world *w = world_new();
    for (int i = 0; i < USERS; i++)
        world_add_user(w, i, &WORLD_PLAIN);
    w->f.durability = FAKE_DURABLE_LATER;
    w->f.staged = true;
    w->f.quiet_log = true;
    world_engine_start(w);
    world_create(w, PLAIN_CAMPAIGN("'max_retries':0,'batch_size':100"));
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    return w;
}

/* Every notification_sent event names a recorded push (by notification_id), each at most once;
 * returns how many pushes have one. */
static int events_matching_pushes(const fake *f)
{
    int matched = 0;
    for (int i = 0; i < f->n_pushes; i++) {
        int n = 0;
        for (int k = 0; k < f->n_events; k++)
            if (f->events[k].event_type == MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_NOTIFICATION_SENT &&
                f->events[k].has_notification_id &&
                strcasecmp(f->events[k].notification_id, f->pushes[i].m.notification_id) == 0)
                n++;
        assert_true(n <= 1);
        matched += n;
    }
    return matched;
}

static void staged_batches_publish_everything(void **state)
{
    (void)state;
    world *w = staged_world();
    fake_run(&w->f, T0 + 600000);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, USERS);
    assert_int_equal(x.failed, 0);
    world_assert_pushes_once(&w->f, USERS);
    assert_int_equal(fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_NOTIFICATION_SENT), USERS);
    assert_int_equal(events_matching_pushes(&w->f), USERS);
    /* the pushes as the one-by-one path makes them: rendered, addressed to their user */
    for (int i = 0; i < w->f.n_pushes; i++) {
        assert_string_equal(w->f.pushes[i].m.title, "Hi Ana");
        assert_string_equal(w->f.pushes[i].subject_user, w->f.pushes[i].m.user_id);
    }
    /* the first batch delivers reply by reply (nothing to wait for); the two asked ahead are held
     * until a commit is durable, then staged and sent a chunk (16 targets) at a time */
    assert_true(w->f.staged_sends >= (USERS - 100) / 16);
    assert_true(w->f.staged_sends <= 2 * (USERS - 100) / 16 + 2);
    world_check_progress(&w->f, EXEC);
    world_free(w);
}

/* A chunk refused part-way for want of room (MF_ERR_FULL): what went is sent, the rest pending and
 * sent by a later batch - once. Refused at a push (index 4: the third target's), its event does not
 * go either; refused at an event (index 5), the push went and only that event is missing. */
static void staged_full_sends_the_rest_later(void **state)
{
    (void)state;
    for (int at = 4; at <= 5; at++) {
        world *w = staged_world();
        w->f.refuse = true;
        w->f.refuse_at = at;
        w->f.refuse_st = MF_ERR_FULL;
        fake_run(&w->f, T0 + 600000);
        assert_false(w->f.refuse); /* it happened */
        cs_execution x = world_exec(w, EXEC);
        assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
        assert_int_equal(x.sent, USERS);
        assert_int_equal(x.failed, 0);
        world_assert_pushes_once(&w->f, USERS);
        int events = fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_NOTIFICATION_SENT);
        assert_int_equal(events, at == 4 ? USERS : USERS - 1);
        assert_int_equal(events_matching_pushes(&w->f), events);
        cs_engine_stats st;
        cs_engine_stats_get(w->e, &st);
        assert_true(st.publish_failures > 0);
        world_check_progress(&w->f, EXEC);
        world_free(w);
    }
}

/* A push the client refuses for itself (too big): that target fails with the reason, the rest of
 * its chunk goes with a later batch. */
static void staged_refused_push_fails_alone(void **state)
{
    (void)state;
    world *w = staged_world();
    w->f.refuse = true;
    w->f.refuse_at = 4;
    w->f.refuse_st = MF_ERR_PAYLOAD_TOO_BIG;
    fake_run(&w->f, T0 + 600000);
    assert_false(w->f.refuse);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, USERS - 1);
    assert_int_equal(x.failed, 1);
    world_assert_pushes_once(&w->f, USERS - 1);
    assert_int_equal(fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_NOTIFICATION_SENT), USERS - 1);
    world_check_progress(&w->f, EXEC);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(staged_batches_publish_everything),
        cmocka_unit_test(staged_full_sends_the_rest_later),
        cmocka_unit_test(staged_refused_push_fails_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
