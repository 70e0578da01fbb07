/* cs_fake_sink.c - see cs_fake_sink.h. */
#include "cs_fake_sink.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cs_userview.h"

void fake_init(fake *f, int64_t now)
{
    memset(f, 0, sizeof *f);
    f->now = now;
    f->timer_at = CS_NO_TIME;
    f->pushes = calloc(FAKE_MAX_MSGS, sizeof *f->pushes);
    f->statuses = calloc(FAKE_MAX_MSGS, sizeof *f->statuses);
    f->events = calloc(FAKE_MAX_MSGS, sizeof *f->events);
    f->event_codes = calloc(FAKE_MAX_MSGS, sizeof *f->event_codes);
    assert_non_null(f->pushes);
    assert_non_null(f->statuses);
    assert_non_null(f->events);
    pthread_mutex_init(&f->mu, NULL);
    for (int w = 0; w < 2; w++) {
        f->area[w] = calloc(FAKE_AREA_MAX, sizeof *f->area[w]);
        assert_non_null(f->area[w]);
    }
}

/* Frees the messages of area w from index `from` on (not recorded). */
static void area_drop(fake *f, int w, int from)
{
    for (int i = from; i < f->n_area[w]; i++) {
        if (f->area[w][i].is_push)
            mf_push_notification_free(&f->area[w][i].p.m);
        else
            mf_campaign_analytics_event_free(&f->area[w][i].ev);
    }
    f->n_area[w] = from < f->n_area[w] ? from : f->n_area[w];
}

void fake_free(fake *f)
{
    for (int i = 0; i < f->n_pushes; i++)
        mf_push_notification_free(&f->pushes[i].m);
    for (int i = 0; i < f->n_statuses; i++)
        mf_campaign_status_update_free(&f->statuses[i]);
    for (int i = 0; i < f->n_events; i++)
        mf_campaign_analytics_event_free(&f->events[i]);
    for (int w = 0; w < 2; w++) {
        area_drop(f, w, 0);
        free(f->area[w]);
    }
    pthread_mutex_destroy(&f->mu);
    free(f->pushes);
    free(f->statuses);
    free(f->events);
    free(f->event_codes);
}

fake_user *fake_user_get(fake *f, const char *id)
{
    for (int i = 0; i < f->n_users; i++)
        if (strcasecmp(f->users[i].id, id) == 0)
            return &f->users[i];
    return NULL;
}

static int64_t f_now(void *ctx)
{
    return ((fake *)ctx)->now;
}

static void f_timer(void *ctx, int64_t at)
{
    ((fake *)ctx)->timer_at = at;
}

static mf_status f_request(void *ctx, const char *user_id, int timeout_ms, cs_user_info_cb cb, void *cb_ctx,
                           mf_error *err)
{
    fake *f = ctx;
    if (f->n_reqs == FAKE_MAX_REQS)
        return mf_error_set(err, MF_ERR_FULL, "", "fake: too many requests");
    fake_req *q = &f->reqs[f->n_reqs++];
    f->requests++;
    snprintf(q->user_id, sizeof q->user_id, "%s", user_id);
    q->cb = cb;
    q->ctx = cb_ctx;
    q->deadline = f->now + timeout_ms;
    q->answer_at = f->now + f->latency_ms;
    q->live = true;
    return MF_OK;
}

/* Encodes (the contract check), decodes into `out`: what a subscriber would receive. */
#define RECORD(T, msg, out)                                                                     \
    do {                                                                                        \
        mf_buf b = MF_BUF_INIT;                                                                 \
        mf_error e;                                                                             \
        mf_status s = T##_encode(msg, &b, &e);                                                  \
        if (s != MF_OK)                                                                         \
            fail_msg(#T " does not validate: %s: %s", e.pointer, e.message);                   \
        assert_int_equal(T##_decode(b.data, b.len, out, &e), MF_OK);                            \
        mf_buf_free(&b);                                                                        \
    } while (0)

static mf_status f_push(void *ctx, const char *user_id, const mf_push_notification *m, mf_error *err)
{
    fake *f = ctx;
    if (f->push_full > 0) {
        f->push_full--;
        return mf_error_set(err, MF_ERR_FULL, "", "fake: outbound buffer full");
    }
    assert_true(f->n_pushes < FAKE_MAX_MSGS);
    fake_push *p = &f->pushes[f->n_pushes++];
    snprintf(p->subject_user, sizeof p->subject_user, "%s", user_id);
    RECORD(mf_push_notification, m, &p->m);
    return MF_OK;
}

static mf_status f_status(void *ctx, const mf_campaign_status_update *m, mf_error *err)
{
    (void)err;
    fake *f = ctx;
    assert_true(f->n_statuses < FAKE_MAX_MSGS);
    RECORD(mf_campaign_status_update, m, &f->statuses[f->n_statuses++]);
    return MF_OK;
}

static mf_status f_analytics(void *ctx, const mf_campaign_analytics_event *m, const char *error_code,
                             mf_error *err)
{
    (void)err;
    fake *f = ctx;
    assert_true(f->n_events < FAKE_MAX_MSGS);
    snprintf(f->event_codes[f->n_events], sizeof f->event_codes[0], "%s", error_code ? error_code : "");
    RECORD(mf_campaign_analytics_event, m, &f->events[f->n_events++]);
    return MF_OK;
}

/* Staging: each area is its thread's; recording takes mu (the other thread may record meanwhile). */
static mf_status f_stage_push(void *ctx, int who, const mf_push_notification *m, mf_error *err)
{
    (void)err;
    fake *f = ctx;
    assert_true(who == 0 || who == 1);
    assert_true(f->n_area[who] < FAKE_AREA_MAX);
    fake_staged *g = &f->area[who][f->n_area[who]];
    g->is_push = true;
    snprintf(g->p.subject_user, sizeof g->p.subject_user, "%s", m->user_id);
    RECORD(mf_push_notification, m, &g->p.m);
    f->n_area[who]++;
    return MF_OK;
}

static mf_status f_stage_analytics(void *ctx, int who, const mf_campaign_analytics_event *m, mf_error *err)
{
    (void)err;
    fake *f = ctx;
    assert_true(who == 0 || who == 1);
    assert_true(f->n_area[who] < FAKE_AREA_MAX);
    fake_staged *g = &f->area[who][f->n_area[who]];
    g->is_push = false;
    RECORD(mf_campaign_analytics_event, m, &g->ev);
    f->n_area[who]++;
    return MF_OK;
}

static mf_status f_send_staged(void *ctx, int who, size_t *sent, mf_error *err)
{
    fake *f = ctx;
    pthread_mutex_lock(&f->mu);
    f->staged_sends++;
    f->helper_sends += who == 1;
    int n = f->n_area[who];
    bool refuse = f->refuse && n > f->refuse_at;
    if (refuse) {
        f->refuse = false;
        n = f->refuse_at;
    }
    for (int i = 0; i < n; i++) {
        fake_staged *s = &f->area[who][i];
        if (s->is_push) {
            assert_true(f->n_pushes < FAKE_MAX_MSGS);
            f->pushes[f->n_pushes++] = s->p;
        } else {
            assert_true(f->n_events < FAKE_MAX_MSGS);
            f->event_codes[f->n_events][0] = '\0';
            f->events[f->n_events++] = s->ev;
        }
    }
    for (int i = 0; i < n; i++) /* recorded: moved out */
        memset(&f->area[who][i], 0, sizeof f->area[who][i]);
    area_drop(f, who, n); /* the refused one and those after it */
    f->n_area[who] = 0;
    *sent = (size_t)n;
    mf_status st = refuse ? mf_error_set(err, f->refuse_st, "", "fake: refused message %d", n) : MF_OK;
    pthread_mutex_unlock(&f->mu);
    return st;
}

static void f_flush_start(void *ctx)
{
    fake *f = ctx;
    if (f->flush_starts < 8) {
        f->reqs_at_flush_start[f->flush_starts] = f->requests;
        f->pushes_at_flush_start[f->flush_starts] = f->n_pushes;
    }
    f->flush_starts++;
}

static mf_status f_flush(void *ctx, mf_error *err)
{
    fake *f = ctx;
    if (f->flushes < 8) {
        f->reqs_at_flush[f->flushes] = f->requests;
        f->pushes_at_flush[f->flushes] = f->n_pushes;
    }
    f->flushes++;
    if (f->flush_fail > 0) {
        f->flush_fail--;
        return mf_error_set(err, MF_ERR_TIMEOUT, "", "fake: no PONG");
    }
    return MF_OK;
}

static bool f_ready(void *ctx)
{
    return !((fake *)ctx)->down;
}

static void f_log(void *ctx, const char *level, const char *msg)
{
    fake *f = ctx;
    if (!f->quiet_log)
        fprintf(stderr, "  [%s] %s\n", level, msg);
}

static void f_sync_start(void *ctx, uint64_t ticket)
{
    fake *f = ctx;
    assert_true(ticket > f->sync_asked); /* one more commit each time */
    f->sync_asked = ticket;
    f->sync_starts++;
}

cs_sink fake_sink(fake *f)
{
    return (cs_sink){.ctx = f, .now = f_now, .timer = f_timer, .request_user_info = f_request,
                     .publish_push = f_push, .publish_status = f_status, .publish_analytics = f_analytics,
                     .flush = f_flush, .flush_start = f_flush_start, .ready = f_ready, .log = f_log,
                     .sync_start = f->durability == FAKE_DURABLE_WAITS ? NULL : f_sync_start,
                     .stage_push = f->staged ? f_stage_push : NULL,
                     .stage_analytics = f->staged ? f_stage_analytics : NULL,
                     .send_staged = f->staged ? f_send_staged : NULL};
}

/* Answers request q now (reply or error), as the user's mode says. */
static void answer(fake *f, fake_req *q)
{
    q->live = false;
    fake_user *u = fake_user_get(f, q->user_id);
    if (u && u->mode == FAKE_REFUSED) {
        mf_error e;
        mf_error_set(&e, MF_ERR_REFUSED, "", "refused (500): the handler failed");
        q->cb(q->ctx, MF_ERR_REFUSED, NULL, &e);
        return;
    }
    mf_user_info_reply rep;
    mf_user_info_reply_init(&rep);
    rep.user_id = q->user_id;
    if (!u || u->mode == FAKE_NOT_FOUND) {
        rep.has_error = true;
        rep.error.code = "USER_NOT_FOUND";
        rep.error.message = "no such user";
    } else {
        rep.has_name = u->name != NULL;
        rep.name = (char *)u->name;
        rep.has_email = u->email != NULL;
        rep.email = (char *)u->email;
        rep.has_language = u->language != NULL;
        rep.language = (char *)u->language;
        rep.has_timezone = u->timezone != NULL;
        rep.timezone = (char *)u->timezone;
    }
    assert_int_equal(mf_user_info_reply_validate(&rep, NULL), MF_OK);
    q->cb(q->ctx, MF_OK, &rep, NULL);
}

static void time_out(fake_req *q)
{
    q->live = false;
    mf_error e;
    mf_error_set(&e, MF_ERR_TIMEOUT, "", "fake: no reply");
    q->cb(q->ctx, MF_ERR_TIMEOUT, NULL, &e);
}

/* Handles the requests that are due now; returns how many. */
static int serve(fake *f)
{
    int done = 0;
    int n = f->n_reqs; /* requests made while serving wait for the next round */
    for (int i = 0; i < n; i++) {
        fake_req *q = &f->reqs[i];
        if (!q->live)
            continue;
        fake_user *u = fake_user_get(f, q->user_id);
        bool silent = f->down || (u && (u->mode == FAKE_SILENT || (u->mode == FAKE_FLAKY && u->asked < u->fails)));
        if (silent) {
            if (f->now >= q->deadline) {
                if (u)
                    u->asked++;
                time_out(q);
                done++;
            }
        } else if (f->now >= q->answer_at) {
            if (u)
                u->asked++;
            answer(f, q);
            done++;
        }
    }
    /* compact */
    int m = 0;
    for (int i = 0; i < f->n_reqs; i++)
        if (f->reqs[i].live)
            f->reqs[m++] = f->reqs[i];
    f->n_reqs = m;
    return done;
}

int fake_run(fake *f, int64_t until)
{
    int steps = 0;
    for (;;) {
        int work = serve(f);
        if (f->timer_at != CS_NO_TIME && f->timer_at <= f->now) {
            f->timer_at = CS_NO_TIME;
            cs_engine_on_timer(f->engine);
            work++;
        }
        if (!work && f->durability == FAKE_DURABLE_LATER && f->sync_asked > f->sync_answered) {
            f->sync_answered = f->sync_asked; /* the disk is done once the replies due now are in */
            cs_engine_on_durable(f->engine, f->sync_answered, MF_OK, NULL);
            work++;
        }
        steps += work;
        if (work)
            continue;
        /* nothing now: move the clock to the next thing */
        int64_t next = f->timer_at;
        for (int i = 0; i < f->n_reqs; i++) {
            const fake_req *q = &f->reqs[i];
            fake_user *u = fake_user_get(f, q->user_id);
            bool silent = f->down || (u && (u->mode == FAKE_SILENT || (u->mode == FAKE_FLAKY && u->asked < u->fails)));
            int64_t t = silent ? q->deadline : q->answer_at;
            if (q->live && (next == CS_NO_TIME || t < next))
                next = t;
        }
        if (next == CS_NO_TIME || next > until)
            return steps;
        f->now = next;
    }
}

void fake_close_requests(fake *f)
{
    for (int i = 0; i < f->n_reqs; i++) {
        fake_req *q = &f->reqs[i];
        if (!q->live)
            continue;
        q->live = false;
        mf_error e;
        mf_error_set(&e, MF_ERR_CLOSED, "", "fake: closed");
        q->cb(q->ctx, MF_ERR_CLOSED, NULL, &e);
    }
    f->n_reqs = 0;
}

int fake_count_events(const fake *f, mf_campaign_analytics_event_event_type t)
{
    int n = 0;
    for (int i = 0; i < f->n_events; i++)
        n += f->events[i].event_type == t;
    return n;
}

const mf_campaign_status_update *fake_last_status(const fake *f, const char *execution_id)
{
    for (int i = f->n_statuses - 1; i >= 0; i--)
        if (strcasecmp(f->statuses[i].execution_id, execution_id) == 0)
            return &f->statuses[i];
    return NULL;
}
