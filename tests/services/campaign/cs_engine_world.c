/* cs_engine_world.c - see cs_engine_world.h. */
#include "cs_engine_world.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_db.h"

world *world_new(void)
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

void world_engine_start(world *w)
{
    cs_sink s = fake_sink(&w->f);
    mf_error err;
    if (cs_engine_open(w->db, &s, &w->cfg, &w->e, &err) != MF_OK)
        fail_msg("engine: %s", err.message);
    w->f.engine = w->e;
}

void world_engine_crash(world *w)
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

void world_free(world *w)
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

fake_user *world_add_user(world *w, int i, const user_spec *u)
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

const user_spec WORLD_PLAIN = {.name = "Ana", .lang = "en-US", .tz = "Europe/Berlin", .push = true, .marketing = true};

void world_create(world *w, const char *sq_json)
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

mf_status world_execute(world *w, const char *exec_id, const char *campaign_id, int64_t batch, cs_reject *rej)
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

cs_execution world_exec(world *w, const char *id)
{
    cs_execution x;
    bool found;
    assert_int_equal(cs_engine_execution(w->e, id, &x, &found, NULL), MF_OK);
    assert_true(found);
    return x;
}

void world_check_progress(const fake *f, const char *exec_id)
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

void world_count_pushes(const fake *f, int *raw, int *unique)
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

void world_assert_pushes_once(const fake *f, int n)
{
    int raw, unique;
    world_count_pushes(f, &raw, &unique);
    assert_int_equal(raw, n);
    assert_int_equal(unique, n);
}
