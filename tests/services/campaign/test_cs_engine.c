/*
 * Unit tests of the execution engine with a fake world (cs_fake_sink.h): a fake clock, a fake
 * User Service, recorders for every published message (each checked against the contract by
 * the generated encoder). Covers: preferences, quiet hours, A/B variants and localization,
 * retries, progress, rate limit, pause/resume/cancel, unknown campaigns and repeated
 * executions, idempotent creation, schedules across a restart, publish failures, and a
 * simulated crash in the middle of a batch (missing 0, duplicates after de-duplication 0, raw
 * duplicates within one batch).
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
#include "cs_fake_sink.h"
#include "cs_test_util.h"
#include "cs_userview.h"
#include "cs_uuid.h"
#include "cs_variant.h"

#define CAMPAIGN "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define EXEC "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
#define T0 cs_test_ms(2024, 3, 30, 10, 0, 0) /* a Saturday; 19:00 in Tokyo */

typedef struct world {
    char path[64];
    sqlite3 *db;
    cs_userview *view;
    fake f;
    cs_engine *e;
    cs_engine_config cfg;
} world;

static world *world_new(void)
{
    world *w = calloc(1, sizeof *w);
    snprintf(w->path, sizeof w->path, "/tmp/cs_engine_XXXXXX");
    int fd = mkstemp(w->path);
    close(fd);
    fake_init(&w->f, T0);
    w->f.quiet_log = getenv("CS_TEST_LOG") == NULL;
    assert_int_equal(cs_db_open(w->path, &w->db, NULL), MF_OK);
    assert_int_equal(cs_userview_open(w->db, &w->view, NULL), MF_OK);
    w->cfg = (cs_engine_config){.request_timeout_ms = 500, .retry_backoff_ms = 100, .publish_retry_ms = 1000};
    return w;
}

static void engine_start(world *w)
{
    cs_sink s = fake_sink(&w->f);
    mf_error err;
    if (cs_engine_open(w->db, &s, &w->cfg, &w->e, &err) != MF_OK)
        fail_msg("engine: %s", err.message);
    w->f.engine = w->e;
}

/* The process dies: nothing more is written; what was committed stays. */
static void engine_crash(world *w)
{
    cs_engine_close(w->e);
    fake_close_requests(&w->f); /* the replies that never come: their contexts are freed */
    w->e = NULL;
    w->f.engine = NULL;
    w->f.timer_at = CS_NO_TIME;
    cs_userview_close(w->view);
    svc_db_close(w->db);
    assert_int_equal(cs_db_open(w->path, &w->db, NULL), MF_OK);
    assert_int_equal(cs_userview_open(w->db, &w->view, NULL), MF_OK);
}

static void world_free(world *w)
{
    if (w->e) {
        cs_engine_stop(w->e);
        cs_engine_close(w->e);
    }
    fake_close_requests(&w->f);
    cs_userview_close(w->view);
    svc_db_close(w->db);
    fake_free(&w->f);
    cs_test_db_unlink(w->path);
    free(w);
}

typedef struct user_spec {
    const char *name, *lang, *tz;
    bool push, marketing;
    const char *quiet_start, *quiet_end;
    fake_mode mode;
    int fails;
} user_spec;

static fake_user *add_user(world *w, int i, const user_spec *u)
{
    fake_user *fu = &w->f.users[w->f.n_users++];
    cs_test_uuid((uint64_t)i * 104729 + 17, fu->id);
    fu->name = u->name;
    fu->email = "user@example.com";
    fu->language = u->lang;
    fu->timezone = u->tz;
    fu->mode = u->mode;
    fu->fails = u->fails;
    char changes[512];
    int n = snprintf(changes, sizeof changes, "{\"email\":\"user@example.com\",\"plan\":\"free\","
                                              "\"registered_at\":\"2024-01-01T00:00:00Z\"");
    if (u->name)
        n += snprintf(changes + n, sizeof changes - (size_t)n, ",\"name\":\"%s\"", u->name);
    if (u->lang)
        n += snprintf(changes + n, sizeof changes - (size_t)n, ",\"language\":\"%s\"", u->lang);
    if (u->tz)
        n += snprintf(changes + n, sizeof changes - (size_t)n, ",\"timezone\":\"%s\"", u->tz);
    snprintf(changes + n, sizeof changes - (size_t)n, "}");
    mf_user_info_update ev = {.user_id = fu->id, .has_changes = true, .changes = changes,
                              .updated_at = "2024-01-01T00:00:00Z"};
    assert_int_equal(cs_userview_apply_update(w->view, &ev, NULL), MF_OK);
    mf_preferences_update p;
    mf_preferences_update_init(&p);
    p.user_id = fu->id;
    p.preferences.push_enabled = u->push;
    p.preferences.categories.marketing = u->marketing;
    if (u->quiet_start) {
        p.preferences.has_quiet_hours = true;
        p.preferences.quiet_hours = (mf_notification_preferences_quiet_hours){
            .enabled = true, .has_start = true, .start = (char *)u->quiet_start, .has_end = true,
            .end = (char *)u->quiet_end};
    }
    assert_int_equal(cs_userview_apply_preferences(w->view, &p, T0 - 1000, NULL), MF_OK);
    return fu;
}

static const user_spec PLAIN = {.name = "Ana", .lang = "en-US", .tz = "Europe/Berlin", .push = true, .marketing = true};

static void create(world *w, const char *sq_json)
{
    mf_campaign_create c;
    cs_test_campaign(sq_json, &c);
    cs_reject rej;
    bool created;
    mf_status st = cs_engine_create_campaign(w->e, &c, &created, &rej);
    if (st != MF_OK)
        fail_msg("campaign refused: %s %s %s", rej.code, rej.err.pointer, rej.err.message);
    assert_true(created);
    mf_campaign_create_free(&c);
}

static mf_status execute(world *w, const char *exec_id, const char *campaign_id, int64_t batch, cs_reject *rej)
{
    mf_campaign_execute x;
    mf_campaign_execute_init(&x);
    x.execution_id = (char *)exec_id;
    x.campaign_id = (char *)campaign_id;
    x.execution_type = MF_CAMPAIGN_EXECUTE_EXECUTION_TYPE_IMMEDIATE;
    if (batch) {
        x.has_batch_size = true;
        x.batch_size = batch;
    }
    return cs_engine_execute(w->e, &x, rej);
}

static cs_execution get_exec(world *w, const char *id)
{
    cs_execution x;
    bool found;
    assert_int_equal(cs_engine_execution(w->e, id, &x, &found, NULL), MF_OK);
    assert_true(found);
    return x;
}

/* Progress never goes back and the totals never change. */
static void check_progress(const fake *f, const char *exec_id)
{
    int64_t sent = 0, failed = 0, total = -1;
    for (int i = 0; i < f->n_statuses; i++) {
        const mf_campaign_status_update *s = &f->statuses[i];
        if (strcmp(s->execution_id, exec_id) != 0 || !s->has_progress)
            continue;
        assert_true(s->progress.sent >= sent);
        assert_true(s->progress.failed >= failed);
        if (total >= 0)
            assert_int_equal(s->progress.total_targets, total);
        sent = s->progress.sent;
        failed = s->progress.failed;
        total = s->progress.total_targets;
        if (s->progress.has_success_rate)
            assert_true(s->progress.success_rate >= 0 && s->progress.success_rate <= 1);
    }
}

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
        user_spec u = PLAIN;
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
        add_user(w, i, &u);
    }
    engine_start(w);
    create(w, AB_CAMPAIGN);
    assert_int_equal(fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_CREATED), 1);
    assert_int_equal(execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 3600 * 1000);

    cs_execution x = get_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING); /* four are held until morning */
    assert_int_equal(x.total, 40);
    assert_int_equal(x.sent, 20);
    assert_int_equal(x.skipped, 8);
    assert_int_equal(x.failed, 8);
    assert_int_equal(x.held, 4);
    assert_int_equal(x.batches, 4);

    /* Tokyo's 08:00 is 23:00Z: then the held ones go */
    fake_run(&w->f, cs_test_ms(2024, 3, 30, 22, 59, 59));
    assert_int_equal(get_exec(w, EXEC).sent, 20);
    fake_run(&w->f, cs_test_ms(2024, 3, 31, 12, 0, 0));
    x = get_exec(w, EXEC);
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
    check_progress(&w->f, EXEC);
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
    user_spec flaky = PLAIN, silent = PLAIN, refused = PLAIN;
    flaky.mode = FAKE_FLAKY;
    flaky.fails = 2;
    silent.mode = FAKE_SILENT;
    refused.mode = FAKE_REFUSED;
    fake_user *fu = add_user(w, 1, &flaky);
    fake_user *su = add_user(w, 2, &silent);
    fake_user *ru = add_user(w, 3, &refused);
    engine_start(w);
    create(w, AB_CAMPAIGN); /* max_retries 2: three attempts */
    assert_int_equal(execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 60000);
    cs_execution x = get_exec(w, EXEC);
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
        add_user(w, i, &PLAIN);
    engine_start(w);
    create(w, "{'campaign_id':'" CAMPAIGN "','name':'n','target_audience':{'user_segments':['free_users']},"
              "'notification_template':{'title_template':'Hi {{name}}','body_template':'b'},"
              "'schedule':{'type':'immediate'},'settings':{'max_retries':0,'batch_size':100,'rate_limit':5}}");
    assert_int_equal(execute(w, EXEC, CAMPAIGN, 10, NULL), MF_OK); /* batch 10, capped at 5 by the rate */
    fake_run(&w->f, T0 + 600000);
    cs_execution x = get_exec(w, EXEC);
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
    check_progress(&w->f, EXEC);
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
    add_user(w, 1, &PLAIN);
    engine_start(w);
    create(w, AB_CAMPAIGN);
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
    assert_int_equal(execute(w, other, "9b2e4d7a-1c3f-4e5a-8b6d-0f1a2c3e4d5b", 0, &rej), MF_ERR_NOT_FOUND);
    assert_string_equal(rej.code, "CAMPAIGN_NOT_FOUND");
    const mf_campaign_status_update *s = fake_last_status(&w->f, other);
    assert_int_equal(s->status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_FAILED);
    assert_string_equal(s->error.code, "CAMPAIGN_NOT_FOUND");
    assert_int_equal(get_exec(w, other).status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_FAILED);
    assert_int_equal(fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_FAILED), 3);
    assert_string_equal(w->f.event_codes[w->f.n_events - 1], "CAMPAIGN_NOT_FOUND");

    /* a second execute of a running execution: refused, reported, the execution goes on */
    w->f.latency_ms = 1000;
    assert_int_equal(execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    assert_int_equal(execute(w, EXEC, CAMPAIGN, 0, &rej), MF_ERR_DUPLICATE);
    assert_string_equal(rej.code, "EXECUTION_EXISTS");
    s = fake_last_status(&w->f, EXEC);
    assert_int_equal(s->status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING);
    assert_string_equal(s->error.code, "EXECUTION_EXISTS");
    fake_run(&w->f, T0 + 60000);
    assert_int_equal(get_exec(w, EXEC).status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(get_exec(w, EXEC).sent, 1);
    assert_int_equal(execute(w, EXEC, CAMPAIGN, 0, &rej), MF_ERR_DUPLICATE); /* finished: still refused */
    world_free(w);
}

static void pause_resume_cancel(void **state)
{
    (void)state;
    world *w = world_new();
    for (int i = 0; i < 30; i++)
        add_user(w, i, &PLAIN);
    engine_start(w);
    create(w, "{'campaign_id':'" CAMPAIGN "','name':'n','target_audience':{'user_segments':['all_users']},"
              "'notification_template':{'title_template':'Hi {{name}}','body_template':'b'},"
              "'schedule':{'type':'immediate'},'settings':{'max_retries':0,'batch_size':5,'rate_limit':5}}");
    assert_int_equal(execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 1500); /* two batches */
    mf_error err;
    assert_int_equal(cs_engine_pause(w->e, EXEC, &err), MF_OK);
    fake_run(&w->f, T0 + 60000);
    cs_execution x = get_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_PAUSED);
    int64_t sent = x.sent;
    assert_true(sent >= 10 && sent < 30);
    assert_int_equal(fake_last_status(&w->f, EXEC)->status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_PAUSED);
    assert_int_equal(cs_engine_pause(w->e, EXEC, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(cs_engine_resume(w->e, EXEC, &err), MF_OK);
    fake_run(&w->f, w->f.now + 1500); /* one or two more batches */
    assert_true(get_exec(w, EXEC).sent > sent);
    assert_int_equal(cs_engine_cancel(w->e, EXEC, &err), MF_OK);
    fake_run(&w->f, w->f.now + 60000);
    x = get_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_CANCELLED);
    assert_true(x.sent < 30);
    assert_int_equal(w->f.n_pushes, x.sent);
    assert_int_equal(cs_engine_resume(w->e, EXEC, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(cs_engine_cancel(w->e, EXEC, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(cs_engine_pause(w->e, "9b2e4d7a-1c3f-4e5a-8b6d-0f1a2c3e4d5b", &err), MF_ERR_NOT_FOUND);
    world_free(w);
}

/* A second replica on the world's database file: its own connection and fake world. */
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
        add_user(w, i, &PLAIN);
    engine_start(w);
    create(w, "{'campaign_id':'" CAMPAIGN "','name':'n','target_audience':{'user_segments':['all_users']},"
              "'notification_template':{'title_template':'Hi {{name}}','body_template':'b'},"
              "'schedule':{'type':'immediate'},'settings':{'max_retries':0,'batch_size':5,'rate_limit':5}}");
    assert_int_equal(execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
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
    cs_execution before = get_exec(w, EXEC);
    assert_int_equal(before.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING);
    assert_true(before.sent > 0 && before.sent < 30);
    int pushes = w->f.n_pushes;
    /* the other replica took it: the lease row names it (pid 1 is alive, so it is not adopted back) */
    assert_int_equal(sqlite3_exec(w->db, "UPDATE cs_leases SET owner = 'other-replica', pid = 1, expires_at = "
                                         "9000000000000 WHERE execution_id = '" EXEC "'", NULL, NULL, NULL),
                     SQLITE_OK);
    fake_run(&w->f, w->f.now + 60000);
    cs_execution x = get_exec(w, EXEC);
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
    int64_t before = get_exec(w, EXEC).sent;
    fake_run(&w->f, w->f.now + 60000); /* the holder's next batch end applies the cancel */
    cs_execution x = get_exec(w, EXEC);
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
static void count_pushes(const fake *f, int *raw, int *unique)
{
    *raw = f->n_pushes;
    *unique = 0;
    for (int i = 0; i < f->n_pushes; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(f->pushes[i].m.notification_id, f->pushes[j].m.notification_id) == 0;
        *unique += !seen;
    }
}

static void crash_mid_batch_and_resume(void **state)
{
    (void)state;
    world *w = world_new();
    fake_user *stuck = NULL;
    for (int i = 0; i < 35; i++) {
        user_spec u = PLAIN;
        fake_user *fu = add_user(w, i, &u);
        if (i == 17)
            stuck = fu;
    }
    w->cfg.request_timeout_ms = 3600 * 1000; /* a reply that takes an hour keeps its batch open */
    engine_start(w);
    create(w, "{'campaign_id':'" CAMPAIGN "','name':'n','target_audience':{'user_segments':['all_users']},"
              "'notification_template':{'title_template':'Hi {{name}}','body_template':'b'},"
              "'schedule':{'type':'immediate'},'settings':{'max_retries':0,'batch_size':10}}");
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
    assert_int_equal(execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 60000);
    cs_execution x = get_exec(w, EXEC);
    int batch_of_stuck = (stuck_seq - 1) / 10;
    assert_int_equal(x.sent, batch_of_stuck * 10); /* the batches before it committed */
    int published = w->f.n_pushes;
    assert_int_equal(published, batch_of_stuck * 10 + 9); /* its batch published all but one */

    engine_crash(w);
    stuck->mode = FAKE_ANSWER;
    engine_start(w);
    fake_run(&w->f, w->f.now + 60000);
    x = get_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 35);
    int raw, unique;
    count_pushes(&w->f, &raw, &unique);
    assert_int_equal(unique, 35);          /* missing 0, and 0 duplicates after de-duplication */
    assert_int_equal(raw - unique, 9);     /* raw duplicates: the uncommitted batch's published ones */
    assert_true(raw - unique <= 10);       /* at most one batch */
    for (int i = 0; i < w->f.n_users; i++) {
        bool got = false;
        for (int j = 0; j < w->f.n_pushes && !got; j++)
            got = strcmp(w->f.pushes[j].m.user_id, w->f.users[i].id) == 0;
        assert_true(got);
    }
    check_progress(&w->f, EXEC);
    world_free(w);
}

static void publish_failures_retry_later(void **state)
{
    (void)state;
    world *w = world_new();
    for (int i = 0; i < 12; i++)
        add_user(w, i, &PLAIN);
    engine_start(w);
    create(w, "{'campaign_id':'" CAMPAIGN "','name':'n','target_audience':{'user_segments':['all_users']},"
              "'notification_template':{'title_template':'Hi {{name}}','body_template':'b'},"
              "'schedule':{'type':'immediate'},'settings':{'max_retries':0,'batch_size':5}}");
    w->f.push_full = 3;
    assert_int_equal(execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 60000);
    cs_execution x = get_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 12);
    assert_int_equal(x.failed, 0);
    int raw, unique;
    count_pushes(&w->f, &raw, &unique);
    assert_int_equal(raw, 12);
    assert_int_equal(unique, 12);
    assert_true(w->f.now >= T0 + 1000); /* waited publish_retry_ms before trying again */
    world_free(w);
}

static void unconfirmed_batch_goes_again(void **state)
{
    (void)state;
    world *w = world_new();
    for (int i = 0; i < 8; i++)
        add_user(w, i, &PLAIN);
    engine_start(w);
    create(w, "{'campaign_id':'" CAMPAIGN "','name':'n','target_audience':{'user_segments':['all_users']},"
              "'notification_template':{'title_template':'Hi {{name}}','body_template':'b'},"
              "'schedule':{'type':'immediate'},'settings':{'max_retries':0,'batch_size':5}}");
    w->f.flush_fail = 1; /* the first batch is published but not confirmed by the server */
    assert_int_equal(execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 60000);
    cs_execution x = get_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 8);
    int raw, unique;
    count_pushes(&w->f, &raw, &unique);
    assert_int_equal(unique, 8);
    assert_int_equal(raw, 8 + 5); /* the unconfirmed batch went twice, with the same ids */
    assert_true(w->f.flushes >= 3);
    world_free(w);
}

/* The finished batch's flush starts first; then the next batch's requests go out, before the finished
 * batch's flush is awaited and the batch committed; its
 * notifications only after that commit: never more than one batch published and uncommitted. */
static void next_batch_asked_while_committing(void **state)
{
    (void)state;
    world *w = world_new();
    for (int i = 0; i < 12; i++)
        add_user(w, i, &PLAIN);
    engine_start(w);
    create(w, "{'campaign_id':'" CAMPAIGN "','name':'n','target_audience':{'user_segments':['all_users']},"
              "'notification_template':{'title_template':'Hi {{name}}','body_template':'b'},"
              "'schedule':{'type':'immediate'},'settings':{'max_retries':0,'batch_size':5}}");
    assert_int_equal(execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    fake_run(&w->f, T0 + 60000);
    cs_execution x = get_exec(w, EXEC);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 12);
    assert_int_equal(x.batches, 3);
    assert_int_equal(w->f.flushes, 3);
    assert_int_equal(w->f.reqs_at_flush[0], 10);  /* batch 2 asked before batch 1's flush */
    assert_int_equal(w->f.pushes_at_flush[0], 5); /* ... and published nothing yet */
    assert_int_equal(w->f.reqs_at_flush[1], 12);
    assert_int_equal(w->f.pushes_at_flush[1], 10);
    assert_int_equal(w->f.reqs_at_flush[2], 12);
    assert_int_equal(w->f.pushes_at_flush[2], 12);
    /* each flush's PING left before the batch taken ahead was asked for (its round trip overlaps it) */
    assert_int_equal(w->f.flush_starts, 3);
    assert_int_equal(w->f.reqs_at_flush_start[0], 5);
    assert_int_equal(w->f.pushes_at_flush_start[0], 5);
    assert_int_equal(w->f.reqs_at_flush_start[1], 10);
    assert_int_equal(w->f.pushes_at_flush_start[1], 10);
    int raw, unique;
    count_pushes(&w->f, &raw, &unique);
    assert_int_equal(raw, 12);
    assert_int_equal(unique, 12);
    world_free(w);
}

static void broker_outage_fails_no_target(void **state)
{
    (void)state;
    world *w = world_new();
    for (int i = 0; i < 6; i++)
        add_user(w, i, &PLAIN);
    engine_start(w);
    create(w, "{'campaign_id':'" CAMPAIGN "','name':'n','target_audience':{'user_segments':['all_users']},"
              "'notification_template':{'title_template':'Hi {{name}}','body_template':'b'},"
              "'schedule':{'type':'immediate'},'settings':{'max_retries':0,'batch_size':3}}");
    assert_int_equal(execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    w->f.down = true; /* the first batch's requests are out when the connection goes */
    fake_run(&w->f, T0 + 30000);
    cs_execution x = get_exec(w, EXEC);
    assert_int_equal(x.failed, 0);
    assert_int_equal(x.sent, 0);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING);
    w->f.down = false;
    fake_run(&w->f, w->f.now + 60000);
    x = get_exec(w, EXEC);
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
        add_user(w, i, &PLAIN);
    engine_start(w);
    /* daily at 12:00 UTC from 2024-03-30 to 03-31, and a one-off at 11:00 */
    create(w, "{'campaign_id':'" CAMPAIGN "','name':'daily','target_audience':{'user_segments':['all_users']},"
              "'notification_template':{'title_template':'Hi {{name}}','body_template':'b'},"
              "'schedule':{'type':'recurring','scheduled_at':'2024-03-30T12:00:00Z','recurring':{'frequency':'daily',"
              "'start_date':'2024-03-30','end_date':'2024-03-31'}},'settings':{'max_retries':0,'batch_size':10}}");
    create(w, "{'campaign_id':'6ba7b810-9dad-11d1-80b4-00c04fd430c8','name':'once','target_audience':"
              "{'user_segments':['all_users']},'notification_template':{'title_template':'Hi','body_template':'b'},"
              "'schedule':{'type':'scheduled','scheduled_at':'2024-03-30T11:00:00Z'}}");
    fake_run(&w->f, T0 + 1800 * 1000); /* 10:30: nothing yet */
    assert_int_equal(w->f.n_pushes, 0);
    engine_crash(w);
    engine_start(w);
    fake_run(&w->f, cs_test_ms(2024, 3, 30, 11, 30, 0));
    assert_int_equal(w->f.n_pushes, 3); /* the one-off fired after the restart */
    fake_run(&w->f, cs_test_ms(2024, 4, 2, 0, 0, 0));
    assert_int_equal(w->f.n_pushes, 9); /* and the daily one twice */
    char id[CS_UUID_TEXT], when[24];
    snprintf(when, sizeof when, "%lld", (long long)cs_test_ms(2024, 3, 31, 12, 0, 0));
    cs_uuid_v5_text(&CS_NS_EXECUTION, CAMPAIGN, when, id);
    cs_execution x = get_exec(w, id);
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(x.sent, 3);
    assert_int_equal(fake_count_events(&w->f, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_COMPLETED), 3);
    world_free(w);
}

static void scheduled_execution_waits(void **state)
{
    (void)state;
    world *w = world_new();
    add_user(w, 1, &PLAIN);
    engine_start(w);
    create(w, "{'campaign_id':'" CAMPAIGN "','name':'n','target_audience':{'user_segments':['all_users']},"
              "'notification_template':{'title_template':'Hi {{name}}','body_template':'b'},"
              "'schedule':{'type':'immediate','scheduled_at':'2024-03-30T10:30:00Z'}}");
    mf_campaign_execute m;
    mf_campaign_execute_init(&m);
    m.execution_id = EXEC;
    m.campaign_id = CAMPAIGN;
    m.execution_type = MF_CAMPAIGN_EXECUTE_EXECUTION_TYPE_SCHEDULED;
    assert_int_equal(cs_engine_execute(w->e, &m, NULL), MF_OK);
    fake_run(&w->f, T0 + 29 * 60 * 1000);
    assert_int_equal(get_exec(w, EXEC).status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_PENDING);
    assert_int_equal(fake_last_status(&w->f, EXEC)->status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_PENDING);
    fake_run(&w->f, T0 + 31 * 60 * 1000);
    assert_int_equal(get_exec(w, EXEC).status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
    assert_int_equal(w->f.n_pushes, 1);
    world_free(w);
}

static void stop_finishes_the_batch_in_hand(void **state)
{
    (void)state;
    world *w = world_new();
    for (int i = 0; i < 20; i++)
        add_user(w, i, &PLAIN);
    w->f.latency_ms = 200;
    engine_start(w);
    create(w, "{'campaign_id':'" CAMPAIGN "','name':'n','target_audience':{'user_segments':['all_users']},"
              "'notification_template':{'title_template':'Hi {{name}}','body_template':'b'},"
              "'schedule':{'type':'immediate'},'settings':{'max_retries':0,'batch_size':10}}");
    assert_int_equal(execute(w, EXEC, CAMPAIGN, 0, NULL), MF_OK);
    assert_false(cs_engine_idle(w->e));
    cs_engine_stop(w->e);
    fake_run(&w->f, T0 + 60000);
    assert_true(cs_engine_idle(w->e));
    cs_execution x = get_exec(w, EXEC);
    assert_int_equal(x.sent, 10); /* the batch in hand, not the next */
    assert_int_equal(x.status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING);
    /* the next start takes over */
    engine_crash(w);
    engine_start(w);
    fake_run(&w->f, w->f.now + 60000);
    assert_int_equal(get_exec(w, EXEC).status, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED);
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
        cmocka_unit_test(requests_recorded_for_the_holder),
        cmocka_unit_test(lost_lease_records_nothing),
        cmocka_unit_test(pending_request_applied_by_the_adopter),
        cmocka_unit_test(crash_mid_batch_and_resume),
        cmocka_unit_test(publish_failures_retry_later),
        cmocka_unit_test(unconfirmed_batch_goes_again),
        cmocka_unit_test(next_batch_asked_while_committing),
        cmocka_unit_test(broker_outage_fails_no_target),
        cmocka_unit_test(schedules_fire_after_restart),
        cmocka_unit_test(scheduled_execution_waits),
        cmocka_unit_test(stop_finishes_the_batch_in_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
