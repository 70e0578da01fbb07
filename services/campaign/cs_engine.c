/* cs_engine.c - the engine's life, its timer and the admin operations. See cs_engine.h. */
#include "cs_engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cs_campaigns.h"
#include "cs_schedule.h"
#include "cs_time.h"
#include "svc_db.h"

static void apply_pending(cs_engine *e, cs_run *r);

void cs_engine_config_defaults(cs_engine_config *c)
{
    if (c->new_days <= 0)
        c->new_days = 30;
    if (c->active_days <= 0)
        c->active_days = 30;
    if (c->request_timeout_ms <= 0)
        c->request_timeout_ms = 2000;
    if (c->retry_backoff_ms <= 0)
        c->retry_backoff_ms = 100;
    if (c->publish_retry_ms <= 0)
        c->publish_retry_ms = 1000;
    if (c->ahead_max_age_ms <= 0)
        c->ahead_max_age_ms = 1000;
}

int64_t cs_eng_now(cs_engine *e)
{
    return e->sink.now(e->sink.ctx);
}

const char *cs_eng_now_text(cs_engine *e)
{
    int64_t now = cs_eng_now(e);
    if (!e->text[0]) {
        cs_time_format(now, e->text);
        e->text_ms = now;
    } else if (now != e->text_ms) {
        cs_time_format_since(e->text_ms, now, e->text);
        e->text_ms = now;
    }
    return e->text;
}

cs_run *cs_eng_find(cs_engine *e, const char *execution_id)
{
    for (size_t i = 0; i < e->n_runs; i++)
        if (strcasecmp(e->runs[i]->x.execution_id, execution_id) == 0)
            return e->runs[i];
    return NULL;
}

static void free_run(cs_run *r)
{
    for (size_t i = 0; i < CS_MAX_VARIANTS; i++) {
        cs_data_free(&r->data[i]);
        free(r->push_data[i]);
    }
    mf_campaign_create_free(&r->campaign);
    free(r->read_rows);
    free(r->read_users);
    free(r->spare_slots[0]); /* their views were freed when they became spare */
    free(r->spare_slots[1]);
    for (size_t i = 0; i < 3; i++)
        cs_user_texts_free(&r->texts[i]); /* after the slots: their views' strings */
    free(r->outs);
    mf_buf_free(&r->b.held_texts);
    mf_buf_free(&r->ahead.held_texts);
    free(r->quiet_items);
    free(r->quiet_which);
    free(r);
}

/* The variant's data plus the ids a receiving app needs: the same for every notification of the run. */
static mf_status push_data(cs_run *r, size_t v, char **out, mf_error *err)
{
    const mf_notification_template *t = cs_campaign_variant(&r->campaign, v);
    char label[2] = {(char)('A' + (int)v), '\0'};
    const char *keys[] = {"campaign_id", "execution_id", "variant"};
    const char *vals[] = {r->x.campaign_id, r->x.execution_id, label};
    return cs_data_extend(t->has_data ? t->data : NULL, keys, vals, cs_campaign_ab(&r->campaign) ? 3 : 2, out, err);
}

/* Reads what the run needs out of its campaign. */
static mf_status prepare_run(cs_run *r, mf_error *err)
{
    cs_campaign_settings(&r->campaign, &r->settings);
    mf_status s = cs_campaign_category(&r->campaign, &r->category, err);
    r->n_variants = cs_campaign_variant_count(&r->campaign);
    if (r->n_variants > CS_MAX_VARIANTS)
        r->n_variants = CS_MAX_VARIANTS;
    for (size_t i = 0; s == MF_OK && i < r->n_variants; i++) {
        const mf_notification_template *t = cs_campaign_variant(&r->campaign, i);
        r->split[i] = cs_campaign_split(&r->campaign, i);
        s = cs_data_load(t->has_data ? t->data : NULL, &r->data[i], err);
        if (s == MF_OK)
            s = push_data(r, i, &r->push_data[i], err);
    }
    int64_t batch = r->x.batch_size > 0 ? r->x.batch_size : r->settings.batch_size;
    r->cap = r->settings.rate_limit > 0 && r->settings.rate_limit < batch ? r->settings.rate_limit : batch;
    if (r->cap < 1)
        r->cap = 1;
    return s;
}

/* With leases: takes the execution's, or says who runs it. */
static bool take_lease(cs_engine *e, cs_run *r)
{
    if (!e->lease)
        return true;
    char holder[64];
    mf_error err;
    int got = cs_lease_claim(e->lease, r->x.execution_id, holder, &err);
    if (got < 0)
        cs_eng_log(e, "error", "execution %s: lease not taken: %s", r->x.execution_id, err.message);
    else if (got == 0)
        cs_eng_log(e, "debug", "execution %s: run by the replica %s", r->x.execution_id, holder); /* every tick */
    r->lease_renewed = cs_lease_now();
    return got == 1;
}

cs_run *cs_eng_add_run(cs_engine *e, const cs_execution *x)
{
    cs_run *r = calloc(1, sizeof *r);
    if (!r) {
        cs_eng_log(e, "error", "execution %s: out of memory", x->execution_id);
        return NULL;
    }
    r->x = *x;
    r->wake_at = CS_NO_TIME;
    bool found = false;
    mf_error err;
    if (!take_lease(e, r)) {
        free(r);
        return NULL;
    }
    mf_status s = cs_campaigns_get(e->db, x->campaign_id, &r->campaign, &found, &err);
    if (s == MF_OK && !found)
        s = mf_error_set(&err, MF_ERR_NOT_FOUND, "", "campaign %s is not stored", x->campaign_id);
    if (s == MF_OK)
        s = prepare_run(r, &err);
    if (s == MF_OK && e->n_runs == e->cap_runs) {
        size_t cap = e->cap_runs ? 2 * e->cap_runs : 8;
        cs_run **runs = realloc(e->runs, cap * sizeof *runs);
        if (!runs)
            s = mf_error_set(&err, MF_ERR_NOMEM, "", "out of memory");
        else {
            e->runs = runs;
            e->cap_runs = cap;
        }
    }
    if (s != MF_OK) {
        cs_eng_log(e, "error", "execution %s: cannot load: %s", x->execution_id, err.message);
        if (e->lease)
            cs_lease_release(e->lease, x->execution_id);
        free_run(r);
        return NULL;
    }
    e->runs[e->n_runs++] = r;
    e->stats.active_runs = e->n_runs;
    return r;
}

/* The run ended: requests still pending for it can never be applied. */
static void refuse_ended(cs_engine *e, cs_run *r)
{
    char why[128];
    mf_error err;
    snprintf(why, sizeof why, "execution %s is %s", r->x.execution_id,
             mf_campaign_status_update_status_to_string(r->x.status));
    int n = cs_actions_settle_all(e->actions, r->x.execution_id, CS_ACTION_REFUSED, cs_lease_owner(e->lease),
                                  cs_lease_now(), why, &err);
    if (n < 0)
        cs_eng_log(e, "error", "execution %s: admin requests not settled: %s", r->x.execution_id, err.message);
    else if (n > 0)
        cs_eng_log(e, "info", "execution %s: %d pending admin request(s) refused: %s", r->x.execution_id, n, why);
}

void cs_eng_remove_run(cs_engine *e, cs_run *r)
{
    for (size_t i = 0; i < e->n_runs; i++) {
        if (e->runs[i] == r) {
            memmove(&e->runs[i], &e->runs[i + 1], (e->n_runs - i - 1) * sizeof *e->runs);
            e->n_runs--;
            break;
        }
    }
    e->stats.active_runs = e->n_runs;
    cs_eng_drop_batch(e, r);
    if (e->actions && !cs_execution_active(r->x.status))
        refuse_ended(e, r);
    if (e->lease)
        cs_lease_release(e->lease, r->x.execution_id);
    free_run(r);
}

void cs_eng_refresh(cs_engine *e, cs_run *r)
{
    cs_execution x;
    bool found;
    mf_error err;
    if (cs_ledger_get(e->ledger, r->x.execution_id, &x, &found, &err) == MF_OK && found)
        r->x = x;
    /* after a batch: renew the lease once half of it is gone (a write: not after every batch) */
    if (e->lease && cs_lease_now() - r->lease_renewed >= cs_lease_ttl(e->lease) / 2) {
        int ok = cs_lease_renew(e->lease, r->x.execution_id, &err);
        if (ok == 1)
            r->lease_renewed = cs_lease_now();
        else if (ok == 0)
            cs_eng_log(e, "warn", "execution %s: lease lost to another replica", r->x.execution_id);
    }
    /* after a batch (or on becoming running): what other replicas asked. Not on other transitions:
     * a resume applied inside the transition to paused would be overwritten by it */
    if (e->actions && r->x.status == MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING)
        apply_pending(e, r);
}

void cs_eng_sched_refresh(cs_engine *e)
{
    mf_error err;
    if (cs_schedule_earliest(e->db, &e->sched_at, &e->sched_none, &err) != MF_OK) {
        cs_eng_log(e, "error", "schedules not read: %s", err.message);
        e->sched_none = true;
    }
}

void cs_eng_hold_checkpoints(cs_engine *e, bool launching)
{
    bool running = launching;
    for (size_t i = 0; !running && i < e->n_runs; i++)
        running = e->runs[i]->x.status == MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING;
    cs_ledger_hold_checkpoints(e->ledger, running);
}

void cs_engine_checkpoint(cs_engine *e)
{
    mf_error err;
    if (cs_ledger_checkpoint(e->ledger, &err) != MF_OK)
        cs_eng_log(e, "error", "checkpoint of the database: %s", err.message);
}

void cs_eng_rearm(cs_engine *e)
{
    if (e->in_timer)
        return;
    cs_eng_hold_checkpoints(e, false);
    int64_t at = CS_NO_TIME;
    for (size_t i = 0; i < e->n_runs; i++) {
        int64_t w = e->runs[i]->wake_at;
        if (w != CS_NO_TIME && (at == CS_NO_TIME || w < at))
            at = w;
    }
    if (!e->stopping && !e->sched_none && (at == CS_NO_TIME || e->sched_at < at))
        at = e->sched_at;
    if (!e->stopping && e->lease && (at == CS_NO_TIME || e->lease_tick_at < at))
        at = e->lease_tick_at;
    if (at != e->armed_at) {
        e->armed_at = at;
        e->sink.timer(e->sink.ctx, at);
    }
}

static void resume(cs_engine *e, const cs_execution *x, const char *how)
{
    cs_run *r = cs_eng_add_run(e, x);
    if (r && e->sink.sync_start) {
        /* the last process's last commit may not be on disk yet (it did not wait): the first batch
         * here publishes once it is (cs_engine_on_durable), so still one batch at most is out */
        r->hold = ++e->commits_nowait;
        e->sink.sync_start(e->sink.ctx, r->hold);
    }
    if (r) {
        r->wake_at = x->status == MF_CAMPAIGN_STATUS_UPDATE_STATUS_PAUSED ? CS_NO_TIME : 0;
        cs_eng_log(e, "info", "execution %s: %s (%s, %lld of %lld targets done)", x->execution_id, how,
                   mf_campaign_status_update_status_to_string(x->status),
                   (long long)(x->sent + x->failed + x->skipped), (long long)x->total);
        if (!e->opening) /* at open: the first lease tick, at once after it, applies them */
            apply_pending(e, r); /* what was asked while nobody ran it */
    }
}

typedef struct exec_list {
    cs_execution *v;
    size_t n, cap;
    bool oom;
} exec_list;

static void collect_cb(void *ctx, const cs_execution *x)
{
    exec_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        cs_execution *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *x;
}

/* Resumes the active executions of the ledger not running here (with leases: those whose lease
 * is free). Collected first: taking a lease writes, which is not done while a read steps. */
static mf_status adopt(cs_engine *e, const char *how, mf_error *err)
{
    exec_list l = {0};
    mf_status s = cs_ledger_active(e->ledger, collect_cb, &l, err);
    if (s == MF_OK && l.oom)
        s = mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    for (size_t i = 0; s == MF_OK && i < l.n; i++)
        if (!cs_eng_find(e, l.v[i].execution_id))
            resume(e, &l.v[i], how);
    free(l.v);
    return s;
}

/* Every lease_ms / 3: keep our leases, adopt the orphans, learn the other replicas' schedules. */
static void lease_tick(cs_engine *e, int64_t now)
{
    mf_error err;
    for (size_t i = 0; i < e->n_runs;) {
        cs_run *r = e->runs[i];
        int ok = cs_lease_renew(e->lease, r->x.execution_id, &err);
        if (ok == 1) {
            r->lease_renewed = cs_lease_now();
            apply_pending(e, r); /* a paused run has no batch end: this tick is when it sees them */
        }
        if (ok == 0) { /* it expired (this process was stopped for too long) and another took it */
            cs_eng_log(e, "warn", "execution %s: lease lost to another replica; it runs there now",
                       r->x.execution_id);
            cs_eng_remove_run(e, r);
            continue;
        }
        i++;
    }
    if (adopt(e, "adopted: its replica stopped", &err) != MF_OK)
        cs_eng_log(e, "error", "active executions not read: %s", err.message);
    cs_eng_sched_refresh(e);
    e->lease_tick_at = now + cs_lease_ttl(e->lease) / 3;
}

mf_status cs_engine_open(sqlite3 *db, const cs_sink *sink, const cs_engine_config *cfg, cs_engine **out,
                         mf_error *err)
{
    *out = NULL;
    if (!db || !sink || !sink->now || !sink->timer || !sink->request_user_info || !sink->publish_push ||
        !sink->publish_status || !sink->publish_analytics)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "a database and a complete sink are needed");
    cs_engine *e = calloc(1, sizeof *e);
    if (!e)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    e->db = db;
    e->sink = *sink;
    if (cfg)
        e->cfg = *cfg;
    cs_engine_config_defaults(&e->cfg);
    e->armed_at = CS_NO_TIME;
    mf_error serr;
    if (!e->sink.stage_push || !e->sink.stage_analytics || !e->sink.send_staged)
        e->sink.stage_push = NULL, e->sink.stage_analytics = NULL, e->sink.send_staged = NULL;
    else if (cs_share_open(&e->share, &serr) != MF_OK)
        cs_eng_log(e, "warn", "notifications are delivered by the engine's thread alone: %s", serr.message);
    mf_status s = cs_userview_open(db, &e->view, err);
    if (s == MF_OK)
        s = cs_ledger_open(db, &e->ledger, err);
    if (s == MF_OK && e->cfg.lease_ms > 0)
        s = cs_lease_open(db, e->cfg.lease_ms, &e->lease, err);
    if (s == MF_OK && e->lease)
        s = cs_ledger_fence(e->ledger, cs_lease_owner(e->lease), err);
    if (s == MF_OK && e->lease)
        s = cs_actions_open(db, &e->actions, err);
    if (s == MF_OK && e->lease) {
        cs_eng_log(e, "info", "execution leases of %d ms, this replica is %s", e->cfg.lease_ms,
                   cs_lease_owner(e->lease));
        e->lease_tick_at = cs_eng_now(e); /* the first tick at once: it applies what was asked meanwhile */
    }
    e->opening = true;
    if (s == MF_OK)
        s = adopt(e, "resumed", err);
    e->opening = false;
    if (s == MF_OK)
        cs_eng_sched_refresh(e);
    if (s != MF_OK) {
        cs_engine_close(e);
        return s;
    }
    /* wake at once (from the caller's loop, never from inside this call) to resume and fire schedules */
    e->armed_at = 0;
    e->sink.timer(e->sink.ctx, 0);
    *out = e;
    return MF_OK;
}

void cs_engine_close(cs_engine *e)
{
    if (!e)
        return;
    for (cs_req *q = e->reqs; q; q = q->next)
        q->e = NULL; /* their callbacks free them */
    e->reqs = NULL;
    mf_freelist_clear(&e->free_reqs);
    while (e->n_runs)
        cs_eng_remove_run(e, e->runs[e->n_runs - 1]);
    free(e->runs);
    cs_actions_close(e->actions);
    cs_lease_close(e->lease); /* after the runs: removing one releases its lease */
    cs_ledger_close(e->ledger);
    cs_userview_close(e->view);
    cs_share_close(e->share);
    free(e->deliveries);
    for (int w = 0; w < 2; w++) {
        mf_buf_free(&e->title[w]);
        mf_buf_free(&e->body[w]);
    }
    free(e);
}

void cs_engine_on_timer(cs_engine *e)
{
    e->in_timer = true;
    e->armed_at = CS_NO_TIME; /* it fired */
    int64_t now = cs_eng_now(e);
    if (!e->stopping && e->lease && now >= e->lease_tick_at)
        lease_tick(e, now);
    if (!e->stopping)
        cs_eng_fire_schedules(e, now);
    for (size_t i = 0; i < e->n_runs;) {
        cs_run *r = e->runs[i];
        if (r->wake_at != CS_NO_TIME && r->wake_at <= now) {
            if (!cs_eng_step(e, r))
                continue; /* removed: the next run moved into slot i */
        }
        i++;
    }
    e->in_timer = false;
    cs_eng_rearm(e);
}

/* ---- admin: pause, resume, cancel (cs_engine_request) ---- */

static const char *status_name(mf_campaign_status_update_status s)
{
    return mf_campaign_status_update_status_to_string(s);
}

/* Applies an action to a run of this engine. step: an admin call, advance the run now (it may be
 * removed: a cancel); otherwise only flags and wake_at change (the caller steps it later). */
static mf_status apply(cs_engine *e, cs_run *r, cs_action_kind kind, bool step, mf_error *err)
{
    const char *id = r->x.execution_id;
    switch (kind) {
    case CS_ACTION_PAUSE:
        if (r->x.status != MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING || r->cancel_requested)
            return mf_error_set(err, MF_ERR_INVALID_ARG, "", "execution %s is %s", id,
                                r->cancel_requested ? "being cancelled" : status_name(r->x.status));
        r->pause_requested = true;
        break;
    case CS_ACTION_RESUME:
        if (r->pause_requested && !r->cancel_requested) { /* not paused yet: just do not pause */
            r->pause_requested = false;
            return MF_OK;
        }
        if (r->x.status != MF_CAMPAIGN_STATUS_UPDATE_STATUS_PAUSED)
            return mf_error_set(err, MF_ERR_INVALID_ARG, "", "execution %s is %s", id, status_name(r->x.status));
        cs_eng_transition(e, r, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING, NULL, NULL);
        break;
    case CS_ACTION_CANCEL:
        if (!cs_execution_active(r->x.status))
            return mf_error_set(err, MF_ERR_INVALID_ARG, "", "execution %s is %s", id, status_name(r->x.status));
        r->cancel_requested = true;
        break;
    default:
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "unknown admin action %d", (int)kind);
    }
    r->wake_at = 0;
    if (step && kind != CS_ACTION_RESUME && !r->b.in_batch)
        cs_eng_step(e, r); /* a cancel removes the run */
    if (step)
        cs_eng_rearm(e);
    return MF_OK;
}

static const char *owner_of(const cs_engine *e)
{
    return e->lease ? cs_lease_owner(e->lease) : "";
}

/* Applies (or refuses) the requests other replicas recorded for a run of ours, oldest first. The
 * request is settled before it is applied, so a replica withdrawing it meanwhile cannot have it
 * applied too. Never removes the run. */
static void apply_pending(cs_engine *e, cs_run *r)
{
    if (!e->actions || e->in_actions)
        return;
    e->in_actions = true;
    for (int k = 0; k < 8; k++) { /* at most one is pending (cs_engine_request's rules) */
        cs_action p;
        bool found;
        mf_error err;
        if (cs_actions_pending(e->actions, r->x.execution_id, &p, &found, &err) != MF_OK) {
            cs_eng_log(e, "error", "execution %s: admin requests not read: %s", r->x.execution_id, err.message);
            break;
        }
        if (!found)
            break;
        int64_t now = cs_lease_now();
        int got = cs_actions_settle(e->actions, p.id, true, CS_ACTION_APPLIED, owner_of(e), now, NULL, &err);
        if (got < 0) {
            cs_eng_log(e, "error", "execution %s: request %lld not settled: %s", r->x.execution_id,
                       (long long)p.id, err.message);
            break;
        }
        if (got == 0)
            continue; /* settled by another replica meanwhile */
        mf_status st = apply(e, r, p.kind, false, &err);
        if (st != MF_OK)
            cs_actions_settle(e->actions, p.id, false, CS_ACTION_REFUSED, owner_of(e), now, err.message, NULL);
        cs_eng_log(e, "info", "execution %s: request %lld (%s, received by the replica %s) %s by this replica %s "
                   "after waiting %lld ms%s%s", r->x.execution_id, (long long)p.id, cs_action_kind_name(p.kind),
                   p.requested_by, st == MF_OK ? "applied" : "refused", owner_of(e),
                   (long long)(now - p.requested_at), st == MF_OK ? "" : ": ", st == MF_OK ? "" : err.message);
    }
    e->in_actions = false;
}

/* An execution nobody runs (its replica stopped or was killed): adopt it now to act at once. */
static cs_run *adopt_one(cs_engine *e, const char *execution_id)
{
    cs_execution x;
    bool found;
    mf_error err;
    if (e->stopping || cs_ledger_get(e->ledger, execution_id, &x, &found, &err) != MF_OK || !found ||
        !cs_execution_active(x.status))
        return NULL;
    resume(e, &x, "adopted on an admin request: its replica stopped");
    return cs_eng_find(e, x.execution_id);
}

static mf_status apply_here(cs_engine *e, cs_run *r, cs_action *out, mf_error *err)
{
    snprintf(out->execution_id, sizeof out->execution_id, "%s", r->x.execution_id);
    apply_pending(e, r); /* what other replicas asked first */
    cs_eng_rearm(e);
    mf_status st = apply(e, r, out->kind, true, err); /* r may be gone now */
    if (st != MF_OK)
        return st;
    out->state = CS_ACTION_APPLIED;
    out->settled_at = cs_lease_now();
    snprintf(out->holder, sizeof out->holder, "%s", owner_of(e));
    snprintf(out->settled_by, sizeof out->settled_by, "%s", owner_of(e));
    mf_error e2;
    if (e->actions && cs_actions_add(e->actions, out, &e2) != MF_OK)
        cs_eng_log(e, "warn", "execution %s: the applied %s not recorded: %s", out->execution_id,
                   cs_action_kind_name(out->kind), e2.message);
    if (out->id)
        cs_eng_log(e, "info", "execution %s: %s requested here (request %lld): applied at once", out->execution_id,
                   cs_action_kind_name(out->kind), (long long)out->id);
    else
        cs_eng_log(e, "info", "execution %s: %s requested here: applied at once", out->execution_id,
                   cs_action_kind_name(out->kind));
    return MF_OK;
}

static bool allowed(cs_action_kind kind, mf_campaign_status_update_status s)
{
    if (kind == CS_ACTION_PAUSE)
        return s == MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING;
    if (kind == CS_ACTION_RESUME)
        return s == MF_CAMPAIGN_STATUS_UPDATE_STATUS_PAUSED;
    return cs_execution_active(s);
}

/* Inside the transaction of record(): the rules of cs_engine_request for a pending request. */
static mf_status decide(cs_engine *e, cs_action *out, bool *repeat, mf_error *err)
{
    cs_execution x;
    bool found, pending;
    cs_action p;
    mf_status s = cs_ledger_get(e->ledger, out->execution_id, &x, &found, err);
    if (s == MF_OK && !found)
        s = mf_error_set(err, MF_ERR_NOT_FOUND, "", "no execution %s", out->execution_id);
    if (s == MF_OK && !cs_execution_active(x.status))
        s = mf_error_set(err, MF_ERR_INVALID_ARG, "", "execution %s is %s", out->execution_id, status_name(x.status));
    if (s == MF_OK)
        s = cs_actions_pending(e->actions, out->execution_id, &p, &pending, err);
    if (s != MF_OK)
        return s;
    if (pending && p.kind == out->kind) { /* the same, still pending: that one is the answer */
        *out = p;
        *repeat = true;
        return MF_OK;
    }
    if (pending && p.kind == CS_ACTION_CANCEL)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "execution %s is being cancelled (request %lld, pending "
                            "for the replica %s)", out->execution_id, (long long)p.id, p.holder[0] ? p.holder : "?");
    const char *me = owner_of(e);
    if (pending && out->kind != CS_ACTION_CANCEL) { /* pause <-> resume: the two cancel each other out */
        char why[200];
        snprintf(why, sizeof why, "withdrawn by a %s before it was applied", cs_action_kind_name(out->kind));
        if (cs_actions_settle(e->actions, p.id, true, CS_ACTION_WITHDRAWN, me, out->requested_at, why, err) < 0)
            return MF_ERR_IO;
        out->state = CS_ACTION_APPLIED;
        out->settled_at = out->requested_at;
        snprintf(out->settled_by, sizeof out->settled_by, "%s", me);
        snprintf(out->message, sizeof out->message, "withdrew the pending %s (request %lld): the execution stays %s",
                 cs_action_kind_name(p.kind), (long long)p.id, status_name(x.status));
        return cs_actions_add(e->actions, out, err);
    }
    if (pending && cs_actions_settle(e->actions, p.id, true, CS_ACTION_SUPERSEDED, me, out->requested_at,
                                     "superseded by a cancel before it was applied", err) < 0)
        return MF_ERR_IO;
    if (!pending && !allowed(out->kind, x.status))
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "execution %s is %s", out->execution_id, status_name(x.status));
    out->state = CS_ACTION_PENDING;
    return cs_actions_add(e->actions, out, err);
}

/* Not run here: records the request for the lease holder (one IMMEDIATE transaction). */
static mf_status record(cs_engine *e, cs_action *out, mf_error *err)
{
    cs_execution x;
    bool found;
    mf_status s = cs_ledger_get(e->ledger, out->execution_id, &x, &found, err);
    if (s != MF_OK)
        return s;
    if (!found)
        return mf_error_set(err, MF_ERR_NOT_FOUND, "", "no execution %s", out->execution_id);
    if (!e->actions || !cs_execution_active(x.status))
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "execution %s is %s", out->execution_id,
                            status_name(x.status));
    snprintf(out->execution_id, sizeof out->execution_id, "%s", x.execution_id);
    long pid;
    if (!cs_lease_holder(e->lease, x.execution_id, out->holder, &pid))
        out->holder[0] = '\0';
    if ((s = svc_db_begin(e->db, err)) != MF_OK)
        return s;
    bool repeat = false;
    s = decide(e, out, &repeat, err);
    if (s == MF_OK)
        s = svc_db_commit(e->db, err);
    else
        svc_db_rollback(e->db);
    if (s == MF_OK && out->state == CS_ACTION_PENDING)
        cs_eng_log(e, "info", "execution %s: %s requested here (request %lld%s): pending for the replica %s, which "
                   "runs it", out->execution_id, cs_action_kind_name(out->kind), (long long)out->id,
                   repeat ? ", already pending: the same answer" : "",
                   out->holder[0] ? out->holder : "(none: the next to adopt it)");
    else if (s == MF_OK)
        cs_eng_log(e, "info", "execution %s: %s requested here (request %lld): %s", out->execution_id,
                   cs_action_kind_name(out->kind), (long long)out->id, out->message);
    else
        cs_eng_log(e, "info", "execution %s: %s requested here: refused: %s", out->execution_id,
                   cs_action_kind_name(out->kind), err->message);
    return s;
}

mf_status cs_engine_request(cs_engine *e, const char *execution_id, cs_action_kind kind, cs_action *out,
                            mf_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->execution_id, sizeof out->execution_id, "%s", execution_id);
    out->kind = kind;
    out->requested_at = cs_lease_now();
    snprintf(out->requested_by, sizeof out->requested_by, "%s", owner_of(e));
    if (kind < CS_ACTION_PAUSE || kind > CS_ACTION_CANCEL)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "unknown admin action %d", (int)kind);
    cs_run *r = cs_eng_find(e, execution_id);
    if (!r && e->lease)
        r = adopt_one(e, execution_id);
    if (r)
        return apply_here(e, r, out, err);
    return record(e, out, err);
}

mf_status cs_engine_pause(cs_engine *e, const char *execution_id, mf_error *err)
{
    cs_action a;
    return cs_engine_request(e, execution_id, CS_ACTION_PAUSE, &a, err);
}

mf_status cs_engine_resume(cs_engine *e, const char *execution_id, mf_error *err)
{
    cs_action a;
    return cs_engine_request(e, execution_id, CS_ACTION_RESUME, &a, err);
}

mf_status cs_engine_cancel(cs_engine *e, const char *execution_id, mf_error *err)
{
    cs_action a;
    return cs_engine_request(e, execution_id, CS_ACTION_CANCEL, &a, err);
}

mf_status cs_engine_last_request(cs_engine *e, const char *execution_id, cs_action *out, bool *found,
                                 char holder[64], mf_error *err)
{
    *found = false;
    holder[0] = '\0';
    if (!e->actions)
        return MF_OK;
    long pid;
    if (!cs_lease_holder(e->lease, execution_id, holder, &pid))
        holder[0] = '\0';
    return cs_actions_newest(e->actions, execution_id, out, found, err);
}

mf_status cs_engine_execution(cs_engine *e, const char *execution_id, cs_execution *out, bool *found, mf_error *err)
{
    return cs_ledger_get(e->ledger, execution_id, out, found, err);
}

void cs_engine_stop(cs_engine *e)
{
    e->stopping = true;
    cs_eng_rearm(e);
}

bool cs_engine_idle(const cs_engine *e)
{
    for (size_t i = 0; i < e->n_runs; i++)
        if (e->runs[i]->b.in_batch)
            return false;
    return true;
}

void cs_engine_refusals(const cs_engine *e, void (*cb)(void *ctx, const cs_refusal *r), void *ctx)
{
    for (size_t k = 1; k <= e->n_refusals; k++)
        cb(ctx, &e->refusals[(e->next_refusal + CS_REFUSALS_KEPT - k) % CS_REFUSALS_KEPT]);
}

void cs_engine_stats_get(const cs_engine *e, cs_engine_stats *out)
{
    *out = e->stats;
}
