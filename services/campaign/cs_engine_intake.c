/* cs_engine_intake.c - what starts work: campaign.create, campaign.execute and schedule
 * firings. See cs_engine.h for the rules. */
#include "cs_engine_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "cs_campaigns.h"
#include "cs_db.h"
#include "cs_identity.h"
#include "cs_schedule.h"
#include "cs_target.h"
#include "cs_time.h"
#include "cs_uuid.h"

static cs_target_opts target_opts(const cs_engine *e, int64_t now)
{
    return (cs_target_opts){.now_ms = now, .new_days = e->cfg.new_days, .active_days = e->cfg.active_days};
}

static void lower36(const char *in, char out[37])
{
    size_t i = 0;
    for (; in && in[i] && i < 36; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

static mf_status refuse(cs_reject *rej, const char *code, mf_status st, const char *pointer, const char *msg)
{
    rej->code = code;
    return mf_error_set(&rej->err, st, pointer, "%s", msg);
}

/* ---- campaign.create ---- */

/* Stores the campaign and its schedule in one transaction. */
static mf_status store_campaign(cs_engine *e, const mf_campaign_create *c, const char *hash, int64_t now,
                                int64_t *reach, cs_put_result *res, mf_error *err)
{
    cs_target_opts o = target_opts(e, now);
    cs_recurrence rec;
    bool none = true;
    int64_t next = 0;
    char id[37];
    lower36(c->campaign_id, id);
    mf_status s = cs_target_count(e->db, &c->target_audience, &o, reach, err);
    if (s == MF_OK)
        s = cs_recurrence_from(c, &rec, err);
    if (s == MF_OK)
        s = cs_recurrence_next(&rec, now, &next, &none, err);
    if (s == MF_OK)
        s = svc_db_begin(e->db, err);
    if (s != MF_OK)
        return s;
    s = cs_campaigns_put(e->db, c, hash, *reach, now, res, err);
    if (s == MF_OK && *res == CS_PUT_CREATED && !none)
        s = cs_schedule_put(e->db, id, next, err);
    if (s == MF_OK)
        s = svc_db_commit(e->db, err);
    if (s != MF_OK)
        svc_db_rollback(e->db);
    return s;
}

mf_status cs_engine_create_campaign(cs_engine *e, const mf_campaign_create *c, bool *created, cs_reject *rej)
{
    cs_reject local;
    if (!rej)
        rej = &local;
    rej->code = NULL;
    mf_error_clear(&rej->err);
    if (created)
        *created = false;
    int64_t now = cs_eng_now(e), reach = 0;
    char hash[CS_HASH_HEX];
    cs_put_result res = CS_PUT_CREATED;
    mf_status st = cs_validate_campaign(c, now, rej);
    if (st == MF_OK && (st = cs_campaign_hash(c, hash, &rej->err)) != MF_OK)
        rej->code = "STORAGE_ERROR";
    if (st == MF_OK && (st = store_campaign(e, c, hash, now, &reach, &res, &rej->err)) != MF_OK)
        rej->code = "STORAGE_ERROR";
    if (st == MF_OK && res == CS_PUT_CONFLICT)
        st = refuse(rej, "CAMPAIGN_CONFLICT", MF_ERR_DUPLICATE, "/campaign_id",
                    "a different campaign with this campaign_id exists; campaigns are never overwritten");
    if (st != MF_OK) {
        char msg[MF_ERROR_MESSAGE_MAX + MF_ERROR_POINTER_MAX + 8];
        snprintf(msg, sizeof msg, "%s%s%s", rej->err.pointer, rej->err.pointer[0] ? ": " : "", rej->err.message);
        cs_eng_log(e, "warn", "campaign %s refused: %s %s", c->campaign_id, rej->code, msg);
        cs_refusal *kept = &e->refusals[e->next_refusal];
        snprintf(kept->campaign_id, sizeof kept->campaign_id, "%s", c->campaign_id);
        snprintf(kept->code, sizeof kept->code, "%s", rej->code ? rej->code : "REFUSED");
        kept->err = rej->err;
        kept->at_ms = now;
        e->next_refusal = (e->next_refusal + 1) % CS_REFUSALS_KEPT;
        if (e->n_refusals < CS_REFUSALS_KEPT)
            e->n_refusals++;
        cs_eng_analytics(e, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_FAILED, c->campaign_id, NULL, NULL, NULL,
                         rej->code, msg);
        return st;
    }
    if (res == CS_PUT_SAME) {
        cs_eng_log(e, "info", "campaign %s: identical repeat, nothing changed", c->campaign_id);
        return MF_OK;
    }
    if (created)
        *created = true;
    cs_eng_log(e, "info", "campaign %s \"%s\" created, estimated reach %lld", c->campaign_id, c->name,
               (long long)reach);
    cs_eng_analytics(e, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_CREATED, c->campaign_id, NULL, NULL, NULL,
                     NULL, NULL);
    cs_eng_sched_refresh(e);
    cs_eng_rearm(e); /* a new schedule may be the earliest */
    return MF_OK;
}

/* ---- campaign.execute ---- */

/* Records an execution that cannot run (unknown campaign) so that it can be looked up. */
static void record_failed(cs_engine *e, cs_execution *x, const char *code, const char *message)
{
    mf_error err;
    x->status = MF_CAMPAIGN_STATUS_UPDATE_STATUS_FAILED;
    if (cs_ledger_create(e->ledger, x, NULL, NULL, &err) != MF_OK ||
        cs_ledger_set_status(e->ledger, x->execution_id, x->status, code, message, x->created_at, &err) != MF_OK)
        cs_eng_log(e, "warn", "execution %s: failure not recorded: %s", x->execution_id, err.message);
    cs_eng_status(e, x, code, message);
    cs_eng_analytics(e, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_FAILED, x->campaign_id, x->execution_id,
                     NULL, NULL, code, message);
}

/* When an execution of type `type` of campaign c starts. */
static int64_t start_time(const mf_campaign_create *c, mf_campaign_execute_execution_type type, int64_t now)
{
    int64_t at;
    if (type == MF_CAMPAIGN_EXECUTE_EXECUTION_TYPE_SCHEDULED && c->schedule.has_scheduled_at &&
        cs_time_parse(c->schedule.scheduled_at, &at, NULL) == MF_OK && at > now)
        return at;
    return now;
}

/* Creates the execution in the ledger and starts it (or leaves it pending). */
static mf_status launch(cs_engine *e, cs_execution *x, const mf_campaign_create *c, cs_reject *rej)
{
    cs_target_opts o = target_opts(e, x->created_at);
    cs_eng_hold_checkpoints(e, x->start_at <= cs_eng_now(e)); /* its snapshot's commit copies nothing */
    mf_status st = cs_ledger_create(e->ledger, x, &c->target_audience, &o, &rej->err);
    if (st != MF_OK)
        cs_eng_hold_checkpoints(e, false);
    if (st == MF_ERR_DUPLICATE)
        return refuse(rej, "EXECUTION_EXISTS", st, "/execution_id", "this execution_id was used before");
    if (st != MF_OK) {
        rej->code = "STORAGE_ERROR";
        return st;
    }
    cs_run *r = cs_eng_add_run(e, x);
    if (!r)
        return refuse(rej, "STORAGE_ERROR", MF_ERR_NOMEM, "", "the execution could not be loaded");
    cs_eng_log(e, "info", "execution %s of campaign %s: %lld targets, batches of %lld", x->execution_id,
               x->campaign_id, (long long)x->total, (long long)r->cap);
    cs_eng_status(e, x, NULL, NULL); /* pending */
    cs_eng_step(e, r);               /* running now, unless it starts later */
    cs_eng_rearm(e);
    return MF_OK;
}

mf_status cs_engine_execute(cs_engine *e, const mf_campaign_execute *m, cs_reject *rej)
{
    cs_reject local;
    if (!rej)
        rej = &local;
    rej->code = NULL;
    mf_error_clear(&rej->err);
    int64_t now = cs_eng_now(e);
    cs_execution x = {.status = MF_CAMPAIGN_STATUS_UPDATE_STATUS_PENDING, .type = m->execution_type,
                      .priority = m->has_priority ? m->priority : 0,
                      .batch_size = m->has_batch_size ? m->batch_size : 0, .created_at = now};
    lower36(m->execution_id, x.execution_id);
    lower36(m->campaign_id, x.campaign_id);
    cs_execution old;
    bool found = false;
    mf_status st = cs_ledger_get(e->ledger, x.execution_id, &old, &found, &rej->err);
    if (st == MF_OK && found) {
        cs_run *r = cs_eng_find(e, x.execution_id);
        cs_eng_status(e, r ? &r->x : &old, "EXECUTION_EXISTS",
                      "this execution_id was used before; the execution goes on as it was");
        return refuse(rej, "EXECUTION_EXISTS", MF_ERR_DUPLICATE, "/execution_id", "this execution_id was used before");
    }
    mf_campaign_create c;
    if (st == MF_OK)
        st = cs_campaigns_get(e->db, x.campaign_id, &c, &found, &rej->err);
    if (st != MF_OK) {
        rej->code = "STORAGE_ERROR";
        return st;
    }
    if (!found) {
        char msg[96];
        snprintf(msg, sizeof msg, "no campaign %s", x.campaign_id);
        record_failed(e, &x, "CAMPAIGN_NOT_FOUND", msg);
        return refuse(rej, "CAMPAIGN_NOT_FOUND", MF_ERR_NOT_FOUND, "/campaign_id", msg);
    }
    cs_settings s;
    cs_campaign_settings(&c, &s);
    if (!x.batch_size)
        x.batch_size = s.batch_size;
    x.start_at = start_time(&c, x.type, now);
    st = launch(e, &x, &c, rej);
    mf_campaign_create_free(&c);
    return st;
}

/* ---- schedules ---- */

/* Fires one due schedule: the execution and the schedule's next firing in one transaction. */
static void fire(cs_engine *e, const cs_due *d, int64_t now)
{
    mf_campaign_create c;
    bool found = false, none = true;
    int64_t next = 0;
    cs_recurrence rec;
    mf_error err;
    char when[24];
    snprintf(when, sizeof when, "%lld", (long long)d->fire_ms);
    cs_execution x = {.status = MF_CAMPAIGN_STATUS_UPDATE_STATUS_PENDING,
                      .type = MF_CAMPAIGN_EXECUTE_EXECUTION_TYPE_SCHEDULED, .start_at = now, .created_at = now};
    cs_uuid_v5_text(&CS_NS_EXECUTION, d->campaign_id, when, x.execution_id);
    memcpy(x.campaign_id, d->campaign_id, sizeof x.campaign_id);
    mf_status st = cs_campaigns_get(e->db, d->campaign_id, &c, &found, &err);
    if (st == MF_OK && found)
        st = cs_recurrence_from(&c, &rec, &err);
    if (st == MF_OK && found)
        st = cs_recurrence_next(&rec, now, &next, &none, &err); /* missed firings are coalesced */
    bool claimed = false;
    if (st == MF_OK)
        st = svc_db_begin(e->db, &err);
    if (st == MF_OK) /* first: a replica sharing the database may have fired it already */
        st = cs_schedule_claim(e->db, d->campaign_id, d->fire_ms, found && !none, next, &claimed, &err);
    if (st == MF_OK && !claimed) {
        svc_db_rollback(e->db);
        cs_eng_log(e, "info", "campaign %s: schedule fired by another replica", d->campaign_id);
        if (found)
            mf_campaign_create_free(&c);
        return;
    }
    if (st == MF_OK && found) {
        cs_settings s;
        cs_campaign_settings(&c, &s);
        x.batch_size = s.batch_size;
        cs_target_opts o = target_opts(e, now);
        st = cs_ledger_create(e->ledger, &x, &c.target_audience, &o, &err);
        if (st == MF_ERR_DUPLICATE)
            st = MF_OK; /* fired before a crash: the execution exists and resumes by itself */
    }
    if (st == MF_OK && found)
        cs_eng_hold_checkpoints(e, true); /* as launch: the snapshot's commit copies nothing */
    if (st == MF_OK)
        st = svc_db_commit(e->db, &err);
    if (st != MF_OK) {
        svc_db_rollback(e->db);
        cs_eng_log(e, "error", "schedule of campaign %s not fired: %s", d->campaign_id, err.message);
    } else if (found && !cs_eng_find(e, x.execution_id)) {
        cs_run *r = cs_eng_add_run(e, &x);
        cs_eng_log(e, "info", "campaign %s: schedule fired, execution %s", d->campaign_id, x.execution_id);
        if (r) {
            cs_eng_status(e, &r->x, NULL, NULL);
            r->wake_at = now;
        }
    }
    if (found)
        mf_campaign_create_free(&c);
}

void cs_eng_fire_schedules(cs_engine *e, int64_t now)
{
    cs_due due[16];
    size_t n = 0;
    mf_error err;
    /* each firing moves its schedule past now; a failing one stays due, so the rounds are bounded */
    int rounds = 0;
    do {
        if (cs_schedule_due(e->db, now, due, 16, &n, &err) != MF_OK) {
            cs_eng_log(e, "error", "schedules not read: %s", err.message);
            return;
        }
        for (size_t i = 0; i < n; i++)
            fire(e, &due[i], now);
    } while (n == 16 && ++rounds < 64);
    if (rounds || n)
        cs_eng_sched_refresh(e);
}
