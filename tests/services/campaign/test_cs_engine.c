/*
 * Unit tests of the execution engine with a fake world (cs_fake_sink.h): a fake clock, a fake
 * User Service, recorders for every published message (each checked against the contract by
 * the generated encoder). Covers: preferences, quiet hours, A/B variants and localization,
 * retries, progress, rate limit, pause/resume/cancel, unknown campaigns and repeated
 * executions, idempotent creation, schedules across a restart, publish failures, and a
 * simulated crash in the middle of a batch (missing 0, duplicates after de-duplication 0, raw
 * duplicates within one batch). The batches in flight and the commit's durability are in
 * test_cs_engine_pipeline.c.
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

#define AB_CAMPAIGN                                                                                        \
    "{'campaign_id':'" CAMPAIGN "','name':'Spring','target_audience':{'user_segments':['all_users']},"     \
    "'notification_template':{'title_template':'T {{name}}','body_template':'B','data':{'coupon':'X1'}},"  \
    "'schedule':{'type':'immediate'},'settings':{'max_retries':2,'batch_size':10,'respect_quiet_hours':true," \
    "'a_b_testing':{'enabled':true,'variants':["                                                            \
    "{'title_template':'A {{name}}','body_template':'Code {{coupon}}','priority':'high','data':{'coupon':'A1'}," \
    "'localization':{'de':{'title':'A-de {{name}}','body':'Kode {{coupon}}'}}},"                             \
    "{'title_template':'B {{name}}','body_template':'Code {{coupon}}','data':{'coupon':'B1'},"               \
    "'localization':{'fr-FR':{'title':'B-fr {{name}}','body':'Le code {{coupon}}'}}}],"                      \
    "'traffic_split':[0.5,0.5]}}}"

static void full_execution(void **state)
{
    (void)state;
    world *w = world_new();
    const char *langs[] = {"de-DE", "fr-FR", "en-US", "de-AT"};
    for (int i = 0; i < 40; i++) {
        user_spec u = WORLD_PLAIN;
        u.lang = langs[i % 4];
        switch (i % 10) {
        case 0: u.push = false; break;
        case 1: u.marketing = false; break;
        case 2: u.tz = "Asia/Tokyo"; u.quiet_start = "18:00"; u.quiet_end = "08:00"; break; /* 19:00 there */
        case 3: u.name = NULL; break;                                                       /* {{name}} missing */
        case 4: u.mode = FAKE_NOT_FOUND; break;
        case 5: u.quiet_start = "22:00"; u.quiet_end = "07:00"; break;                       /* 11:00 in Berlin */
        default: break;
        }
        world_add_user(w, i, &u);
    }
    world_engine_start(w);
    world_create(w, AB_CAMPAIGN);
    assert_int_equal(fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_CREATED), 1);
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 3600 * 1000);

    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING); /* four are held until morning */
    assert_int_equal(x.total, 40);
    assert_int_equal(x.sent, 20);
    assert_int_equal(x.skipped, 8);
    assert_int_equal(x.failed, 8);
    assert_int_equal(x.held, 4);
    assert_int_equal(x.batches, 4);

    /* Tokyo's 08:00 is 23:00Z: then the held ones go */
    fake_run(&w->f, cs_test_ms(2024, 3, 30, 22, 59, 59));
    assert_int_equal(world_exec(w, EXEC).sent, 20);
    fake_run(&w->f, cs_test_ms(2024, 3, 31, 12, 0, 0));
    x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 24);
    assert_int_equal(x.held, 0);
    assert_int_equal(x.ever_held, 4);
    assert_int_equal(w->f.n_pushes, 24);

    /* every notification: subject = payload user, v5 id, localized variant, data with the ids */
    int per_variant[2] = {0, 0};
    for (int i = 0; i < w->f.n_pushes; i++) {
        const mf_push_notification *m = &w->f.pushes[i].m;
        assert_string_equal(w->f.pushes[i].subject_user, m->user_id);
        char nid[CS_UUID_TEXT];
        assert_string_equal(m->notification_id, cs_uuid_v5_text(&CS_NS_NOTIFICATION, EXEC, m->user_id, nid));
        const double split[] = {0.5, 0.5};
        size_t v = cs_variant_pick(CAMPAIGN, m->user_id, split, 2);
        per_variant[v]++;
        const fake_user *u = fake_user_get(&w->f, m->user_id);
        char want[128];
        bool de = strncmp(u->language, "de", 2) == 0, fr = strcmp(u->language, "fr-FR") == 0;
        if (v == 0)
            snprintf(want, sizeof want, "%s %s", de ? "A-de" : "A", u->name);
        else
            snprintf(want, sizeof want, "%s %s", fr ? "B-fr" : "B", u->name);
        assert_string_equal(m->title, want);
        assert_string_equal(m->body, v == 0 ? (de ? "Kode A1" : "Code A1") : (fr ? "Le code B1" : "Code B1"));
        assert_int_equal(m->priority, v == 0 ? MF_PRIORITY_HIGH : MF_PRIORITY_NORMAL);
        assert_non_null(strstr(m->data, "\"campaign_id\":\"" CAMPAIGN "\""));
        assert_non_null(strstr(m->data, v == 0 ? "\"variant\":\"A\"" : "\"variant\":\"B\""));
        assert_true(m->has_created_at);
    }
    assert_int_equal(per_variant[0] + per_variant[1], 24);
    assert_true(per_variant[0] > 0 && per_variant[1] > 0);

    /* the reasons, as the admin API shows them */
    assert_int_equal(fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_EXECUTED), 1);
    assert_int_equal(fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_NOTIFICATION_SENT), 24);
    assert_int_equal(fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_COMPLETED), 1);
    world_check_progress(&w->f, EXEC);
    const mf_campaign_status_update *last = fake_last_status(&w->f, EXEC);
    assert_int_equal(last->status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(last->progress.sent, 24);
    assert_int_equal(last->progress.failed, 8);
    assert_true(last->progress.success_rate > 0.74 && last->progress.success_rate < 0.76);
    world_free(w);
}

static void retries_and_failures(void **state)
{
    (void)state;
    world *w = world_new();
    user_spec flaky = WORLD_PLAIN, silent = WORLD_PLAIN, refused = WORLD_PLAIN;
    flaky.mode = FAKE_FLAKY;
    flaky.fails = 2;
    silent.mode = FAKE_SILENT;
    refused.mode = FAKE_REFUSED;
    fake_user *fu = world_add_user(w, 1, &flaky);
    fake_user *su = world_add_user(w, 2, &silent);
    fake_user *ru = world_add_user(w, 3, &refused);
    world_engine_start(w);
    world_create(w, AB_CAMPAIGN); /* max_retries 2: three attempts */
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 60000);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 1);
    assert_int_equal(x.failed, 2);
    assert_int_equal(fu->asked, 3);
    assert_int_equal(su->asked, 3);
    assert_int_equal(ru->asked, 1); /* refused once: not asked again */
    cs_engine_stats st;
    cs_engine_stats_get(w->e, &st);
    assert_int_equal(st.requests, 7);
    assert_int_equal(st.retries, 4);
    /* the whole wait: 3 timeouts of 500 ms and backoffs of 100 + 200 ms, nothing blocked meanwhile */
    assert_true(w->f.now >= T0 + 3 * 500 + 300);
    world_free(w);
}

static void rate_limit_and_batches(void **state)
{
    (void)state;
    world *w = world_new();
    for (int i = 0; i < 30; i++)
        world_add_user(w, i, &WORLD_PLAIN);
    world_engine_start(w);
    world_create(w, "{'campaign_id':'" CAMPAIGN "','name':'n','target_audience':{'user_segments':['free_users']},"
              "'notification_template':{'title_template':'Hi {{name}}','body_template':'b'},"
              "'schedule':{'type':'immediate'},'settings':{'max_retries':0,'batch_size':100,'rate_limit':5}}");
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 10, NULL), MF_OK); /* batch 10, capped at 5 by the rate */
    fake_run(&w->f, T0 + 600000);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 30);
    assert_int_equal(x.batches, 6);
    /* 6 batches of 5 at 5/s: the last one starts 5 s after the first */
    assert_true(w->f.now >= T0 + 5000);
    int progress = 0;
    for (int i = 0; i < w->f.n_statuses; i++)
        progress += w->f.statuses[i].status == MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING &&
                    w->f.statuses[i].progress.sent > 0;
    assert_int_equal(progress, 6); /* one after every batch */
    world_check_progress(&w->f, EXEC);
    world_free(w);
}

typedef struct refusal_list {
    cs_refusal r[8];
    int n;
} refusal_list;

static void collect_refusal(void *ctx, const cs_refusal *r)
{
    refusal_list *l = ctx;
    if (l->n < 8)
        l->r[l->n++] = *r;
}

static void refusals(void **state)
{
    (void)state;
    world *w = world_new();
    world_add_user(w, 1, &WORLD_PLAIN);
    world_engine_start(w);
    world_create(w, AB_CAMPAIGN);
    /* identical repeat: accepted once, nothing new */
    mf_campaign_create c;
    cs_test_campaign(AB_CAMPAIGN, &c);
    bool created = true;
    cs_reject rej;
    assert_int_equal(cs_engine_create_campaign(w->e, &c, &created, &rej), MF_OK);
    assert_false(created);
    /* other content, same id: refused, reported, not overwritten */
    free(c.name);
    c.name = strdup("Changed");
    assert_int_not_equal(cs_engine_create_campaign(w->e, &c, &created, &rej), MF_OK);
    assert_string_equal(rej.code, "CAMPAIGN_CONFLICT");
    const mf_campaign_analytics_event *ev = &w->f.events[w->f.n_events - 1];
    assert_int_equal(ev->event_type, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_FAILED);
    assert_string_equal(w->f.event_codes[w->f.n_events - 1], "CAMPAIGN_CONFLICT");
    assert_string_equal(w->f.event_codes[0], ""); /* campaign_created: no code */
    assert_string_equal(ev->campaign_id, CAMPAIGN);
    /* invalid: refused with the code and the pointer */
    c.settings.a_b_testing.traffic_split.items[1] = 0.4;
    free(c.campaign_id);
    c.campaign_id = strdup("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
    assert_int_not_equal(cs_engine_create_campaign(w->e, &c, &created, &rej), MF_OK);
    assert_string_equal(rej.code, "INVALID_AB_TEST");
    ev = &w->f.events[w->f.n_events - 1];
    assert_int_equal(ev->event_type, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_FAILED);
    assert_string_equal(w->f.event_codes[w->f.n_events - 1], "INVALID_AB_TEST");
    /* the codes, for the admin API: newest first */
    refusal_list got = {0};
    cs_engine_refusals(w->e, collect_refusal, &got);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.r[0].code, "INVALID_AB_TEST");
    assert_string_equal(got.r[0].err.pointer, "/settings/a_b_testing/traffic_split");
    assert_string_equal(got.r[1].code, "CAMPAIGN_CONFLICT");
    assert_string_equal(got.r[1].campaign_id, CAMPAIGN);
    mf_campaign_create_free(&c);
    assert_int_equal(fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_CREATED), 1);

    /* unknown campaign: a failed execution, reported */
    const char *other = "0e8f5c4a-6b2d-4f1e-9a3c-7d5b8e1f2a4c";
    assert_int_equal(world_execute(w, other, "9b2e4d7a-1c3f-4e5a-8b6d-0f1a2c3e4d5b", 0, &rej), MF_ERR_NOT_FOUND);
    assert_string_equal(rej.code, "CAMPAIGN_NOT_FOUND");
    const mf_campaign_status_update *s = fake_last_status(&w->f, other);
    assert_int_equal(s->status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_FAILED);
    assert_string_equal(s->error.code, "CAMPAIGN_NOT_FOUND");
    assert_int_equal(world_exec(w, other).status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_FAILED);
    assert_int_equal(fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_FAILED), 3);
    assert_string_equal(w->f.event_codes[w->f.n_events - 1], "CAMPAIGN_NOT_FOUND");

    /* a second execute of a running execution: refused, reported, the execution goes on */
    w->f.latency_ms = 1000;
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, &rej), MF_ERR_DUPLICATE);
    assert_string_equal(rej.code, "EXECUTION_EXISTS");
    s = fake_last_status(&w->f, EXEC);
    assert_int_equal(s->status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING);
    assert_string_equal(s->error.code, "EXECUTION_EXISTS");
    fake_run(&w->f, T0 + 60000);
    assert_int_equal(world_exec(w, EXEC).status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(world_exec(w, EXEC).sent, 1);
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, &rej), MF_ERR_DUPLICATE); /* finished: still refused */
    world_free(w);
}

static void pause_resume_cancel(void **state)
{
    (void)state;
    world *w = world_new();
    for (int i = 0; i < 30; i++)
        world_add_user(w, i, &WORLD_PLAIN);
    world_engine_start(w);
    world_create(w, PLAIN_CAMPAIGN("'max_retries':0,'batch_size':5,'rate_limit':5"));
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 1500); /* two batches */
    mf_error err;
    assert_int_equal(cs_engine_pause(w->e, EXEC, &err), MF_OK);
    fake_run(&w->f, T0 + 60000);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_PAUSED);
    int64_t sent = x.sent;
    assert_true(sent >= 10 && sent < 30);
    assert_int_equal(fake_last_status(&w->f, EXEC)->status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_PAUSED);
    assert_int_equal(cs_engine_pause(w->e, EXEC, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(cs_engine_resume(w->e, EXEC, &err), MF_OK);
    fake_run(&w->f, w->f.now + 1500); /* one or two more batches */
    assert_true(world_exec(w, EXEC).sent > sent);
    assert_int_equal(cs_engine_cancel(w->e, EXEC, &err), MF_OK);
    fake_run(&w->f, w->f.now + 60000);
    x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_CANCELLED);
    assert_true(x.sent < 30);
    assert_int_equal(w->f.n_pushes, x.sent);
    assert_int_equal(cs_engine_resume(w->e, EXEC, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(cs_engine_cancel(w->e, EXEC, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(cs_engine_pause(w->e, "9b2e4d7a-1c3f-4e5a-8b6d-0f1a2c3e4d5b", &err), MF_ERR_NOT_FOUND);
    world_free(w);
}


static void crash_mid_batch_and_resume(void **state)
{
    (void)state;
    world *w = world_new();
    fake_user *stuck = NULL;
    for (int i = 0; i < 35; i++) {
        user_spec u = WORLD_PLAIN;
        fake_user *fu = world_add_user(w, i, &u);
        if (i == 17)
            stuck = fu;
    }
    w->cfg.request_timeout_ms = 3600 * 1000; /* a reply that takes an hour keeps its batch open */
    world_engine_start(w);
    world_create(w, PLAIN_CAMPAIGN("'max_retries':0,'batch_size':10"));
    /* the user at seq 13 or so never answers before the crash: its batch stays uncommitted */
    int stuck_seq = 0;
    {
        /* find which batch the stuck user falls in: targets are in user_id order */
        int before = 0;
        for (int i = 0; i < w->f.n_users; i++)
            before += strcmp(w->f.users[i].id, stuck->id) < 0;
        stuck_seq = before + 1;
    }
    stuck->mode = FAKE_SILENT;
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 60000);
    cs_execution x = world_exec(w, EXEC);
    int batch_of_stuck = (stuck_seq - 1) / 10;
    assert_int_equal(x.sent, batch_of_stuck * 10); /* the batches before it committed */
    int published = w->f.n_pushes;
    assert_int_equal(published, batch_of_stuck * 10 + 9); /* its batch published all but one */

    world_engine_crash(w);
    stuck->mode = FAKE_ANSWER;
    world_engine_start(w);
    fake_run(&w->f, w->f.now + 60000);
    x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 35);
    int raw, unique;
    world_count_pushes(&w->f, &raw, &unique);
    assert_int_equal(unique, 35);          /* missing 0, and 0 duplicates after de-duplication */
    assert_int_equal(raw - unique, 9);     /* raw duplicates: the uncommitted batch's published ones */
    assert_true(raw - unique <= 10);       /* at most one batch */
    for (int i = 0; i < w->f.n_users; i++) {
        bool got = false;
        for (int j = 0; j < w->f.n_pushes && !got; j++)
            got = strcmp(w->f.pushes[j].m.user_id, w->f.users[i].id) == 0;
        assert_true(got);
    }
    world_check_progress(&w->f, EXEC);
    world_free(w);
}

static void publish_failures_retry_later(void **state)
{
    (void)state;
    world *w = world_new();
    for (int i = 0; i < 12; i++)
        world_add_user(w, i, &WORLD_PLAIN);
    world_engine_start(w);
    world_create(w, PLAIN_CAMPAIGN("'max_retries':0,'batch_size':5"));
    w->f.push_full = 3;
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 60000);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 12);
    assert_int_equal(x.failed, 0);
    world_assert_pushes_once(&w->f, 12);
    assert_true(w->f.now >= T0 + 1000); /* waited publish_retry_ms before trying again */
    world_free(w);
}

static void unconfirmed_batch_goes_again(void **state)
{
    (void)state;
    world *w = world_new();
    for (int i = 0; i < 8; i++)
        world_add_user(w, i, &WORLD_PLAIN);
    world_engine_start(w);
    world_create(w, PLAIN_CAMPAIGN("'max_retries':0,'batch_size':5"));
    w->f.flush_fail = 1; /* the first batch is published but not confirmed by the server */
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 60000);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 8);
    int raw, unique;
    world_count_pushes(&w->f, &raw, &unique);
    assert_int_equal(unique, 8);
    assert_int_equal(raw, 8 + 5); /* the unconfirmed batch went twice, with the same ids */
    assert_true(w->f.flushes >= 3);
    world_free(w);
}

static void broker_outage_fails_no_target(void **state)
{
    (void)state;
    world *w = world_new();
    for (int i = 0; i < 6; i++)
        world_add_user(w, i, &WORLD_PLAIN);
    world_engine_start(w);
    world_create(w, PLAIN_CAMPAIGN("'max_retries':0,'batch_size':3"));
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    w->f.down = true; /* the first batch's requests are out when the connection goes */
    fake_run(&w->f, T0 + 30000);
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.failed, 0);
    assert_int_equal(x.sent, 0);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING);
    w->f.down = false;
    fake_run(&w->f, w->f.now + 60000);
    x = world_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 6);
    assert_int_equal(x.failed, 0);
    world_free(w);
}

static void schedules_fire_after_restart(void **state)
{
    (void)state;
    world *w = world_new();
    for (int i = 0; i < 3; i++)
        world_add_user(w, i, &WORLD_PLAIN);
    world_engine_start(w);
    /* daily at 12:00 UTC from 2024-03-30 to 03-31, and a one-off at 11:00 */
    world_create(w, "{'campaign_id':'" CAMPAIGN "','name':'daily','target_audience':{'user_segments':['all_users']},"
              "'notification_template':{'title_template':'Hi {{name}}','body_template':'b'},"
              "'schedule':{'type':'recurring','scheduled_at':'2024-03-30T12:00:00Z','recurring':{'frequency':'daily',"
              "'start_date':'2024-03-30','end_date':'2024-03-31'}},'settings':{'max_retries':0,'batch_size':10}}");
    world_create(w, "{'campaign_id':'6ba7b810-9dad-11d1-80b4-00c04fd430c8','name':'once','target_audience':"
              "{'user_segments':['all_users']},'notification_template':{'title_template':'Hi','body_template':'b'},"
              "'schedule':{'type':'scheduled','scheduled_at':'2024-03-30T11:00:00Z'}}");
    fake_run(&w->f, T0 + 1800 * 1000); /* 10:30: nothing yet */
    assert_int_equal(w->f.n_pushes, 0);
    world_engine_crash(w);
    world_engine_start(w);
    fake_run(&w->f, cs_test_ms(2024, 3, 30, 11, 30, 0));
    assert_int_equal(w->f.n_pushes, 3); /* the one-off fired after the restart */
    fake_run(&w->f, cs_test_ms(2024, 4, 2, 0, 0, 0));
    assert_int_equal(w->f.n_pushes, 9); /* and the daily one twice */
    char id[CS_UUID_TEXT], when[24];
    snprintf(when, sizeof when, "%lld", (long long)cs_test_ms(2024, 3, 31, 12, 0, 0));
    cs_uuid_v5_text(&CS_NS_EXECUTION, CAMPAIGN, when, id);
    cs_execution x = world_exec(w, id);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 3);
    assert_int_equal(fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_COMPLETED), 3);
    world_free(w);
}

static void scheduled_execution_waits(void **state)
{
    (void)state;
    world *w = world_new();
    world_add_user(w, 1, &WORLD_PLAIN);
    world_engine_start(w);
    world_create(w, "{'campaign_id':'" CAMPAIGN "','name':'n','target_audience':{'user_segments':['all_users']},"
              "'notification_template':{'title_template':'Hi {{name}}','body_template':'b'},"
              "'schedule':{'type':'immediate','scheduled_at':'2024-03-30T10:30:00Z'}}");
    mf_campaign_execute m;
    mf_campaign_execute_init(&m);
    m.execution_id = EXEC;
    m.campaign_id = CAMPAIGN;
    m.execution_type = MF_CAMPAIGN_EXECUTE_EXECUTION_TYPE_SCHEDULED;
    assert_int_equal(cs_engine_execute(w->e, &m, NULL), MF_OK);
    fake_run(&w->f, T0 + 29 * 60 * 1000);
    assert_int_equal(world_exec(w, EXEC).status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_PENDING);
    assert_int_equal(fake_last_status(&w->f, EXEC)->status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_PENDING);
    fake_run(&w->f, T0 + 31 * 60 * 1000);
    assert_int_equal(world_exec(w, EXEC).status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(w->f.n_pushes, 1);
    world_free(w);
}

static void stop_finishes_the_batch_in_hand(void **state)
{
    (void)state;
    world *w = world_new();
    for (int i = 0; i < 20; i++)
        world_add_user(w, i, &WORLD_PLAIN);
    w->f.latency_ms = 200;
    world_engine_start(w);
    world_create(w, PLAIN_CAMPAIGN("'max_retries':0,'batch_size':10"));
    assert_int_equal(world_execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    assert_false(cs_engine_idle(w->e));
    cs_engine_stop(w->e);
    fake_run(&w->f, T0 + 60000);
    assert_true(cs_engine_idle(w->e));
    cs_execution x = world_exec(w, EXEC);
    assert_int_equal(x.sent, 10); /* the batch in hand, not the next */
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING);
    /* the next start takes over */
    world_engine_crash(w);
    world_engine_start(w);
    fake_run(&w->f, w->f.now + 60000);
    assert_int_equal(world_exec(w, EXEC).status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(w->f.n_pushes, 20);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_execution),
        cmocka_unit_test(retries_and_failures),
        cmocka_unit_test(rate_limit_and_batches),
        cmocka_unit_test(refusals),
        cmocka_unit_test(pause_resume_cancel),
        cmocka_unit_test(crash_mid_batch_and_resume),
        cmocka_unit_test(publish_failures_retry_later),
        cmocka_unit_test(unconfirmed_batch_goes_again),
        cmocka_unit_test(broker_outage_fails_no_target),
        cmocka_unit_test(schedules_fire_after_restart),
        cmocka_unit_test(scheduled_execution_waits),
        cmocka_unit_test(stop_finishes_the_batch_in_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
