/* cs_schedule.c - see cs_schedule.h. */
#include "cs_schedule.h"

#include <stdio.h>
#include <string.h>
#include "cs_db.h"
#include "cs_time.h"

mf_status cs_recurrence_from(const mf_campaign_create *c, cs_recurrence *r, mf_error *err)
{
    const mf_campaign_create_schedule *s = &c->schedule;
    memset(r, 0, sizeof *r);
    r->type = s->type;
    snprintf(r->zone, sizeof r->zone, "%s", s->has_timezone ? s->timezone : "UTC");
    if (!cs_tz_known(r->zone))
        return mf_error_set(err, MF_ERR_NOT_FOUND, "/schedule/timezone", "unknown time zone");
    mf_status st = MF_OK;
    if (s->has_scheduled_at) {
        r->has_at = true;
        if ((st = cs_time_parse(s->scheduled_at, &r->at_ms, err)) != MF_OK)
            return mf_error_set(err, st, "/schedule/scheduled_at", "not a date-time");
    }
    if (r->type == MF_CAMPAIGN_CREATE_SCHEDULE_TYPE_SCHEDULED && !r->has_at)
        return mf_error_set(err, MF_ERR_REQUIRED, "/schedule/scheduled_at", "a scheduled campaign needs scheduled_at");
    if (r->type != MF_CAMPAIGN_CREATE_SCHEDULE_TYPE_RECURRING)
        return MF_OK;
    const mf_campaign_create_schedule_recurring *rc = &s->recurring;
    if (!s->has_recurring || !rc->has_frequency || !rc->has_start_date)
        return mf_error_set(err, MF_ERR_REQUIRED, "/schedule/recurring", "needs frequency and start_date");
    r->freq = rc->frequency;
    r->interval = rc->has_interval ? rc->interval : 1;
    if ((st = cs_date_parse(rc->start_date, &r->start_day, err)) != MF_OK)
        return mf_error_set(err, st, "/schedule/recurring/start_date", "not a date");
    if (rc->has_end_date) {
        r->has_end = true;
        if ((st = cs_date_parse(rc->end_date, &r->end_day, err)) != MF_OK)
            return mf_error_set(err, st, "/schedule/recurring/end_date", "not a date");
    }
    if (r->has_at) {
        int32_t off;
        int64_t t = cs_floor_div(r->at_ms, 1000);
        if ((st = cs_tz_offset(r->zone, t, &off, err)) != MF_OK)
            return st;
        r->time_of_day = (int32_t)(t + off - cs_floor_div(t + off, 86400) * 86400);
    }
    return MF_OK;
}

/* Local date of occurrence k. */
static int64_t occurrence_day(const cs_recurrence *r, int64_t k)
{
    switch (r->freq) {
    case MF_CAMPAIGN_CREATE_SCHEDULE_RECURRING_FREQUENCY_WEEKLY: return r->start_day + 7 * k * r->interval;
    case MF_CAMPAIGN_CREATE_SCHEDULE_RECURRING_FREQUENCY_MONTHLY: {
        int64_t y;
        unsigned m, d;
        cs_civil_from_days(r->start_day, &y, &m, &d);
        int64_t months = (int64_t)(m - 1) + k * r->interval;
        int64_t yy = y + cs_floor_div(months, 12);
        unsigned mm = (unsigned)(months - cs_floor_div(months, 12) * 12) + 1;
        unsigned dim = cs_days_in_month(yy, mm);
        return cs_days_from_civil(yy, mm, d < dim ? d : dim);
    }
    default: return r->start_day + k * r->interval;
    }
}

/* A first k worth trying for dates around `day` (never past the answer). */
static int64_t first_k(const cs_recurrence *r, int64_t day)
{
    int64_t k;
    if (r->freq == MF_CAMPAIGN_CREATE_SCHEDULE_RECURRING_FREQUENCY_MONTHLY) {
        int64_t y0, y;
        unsigned m0, d0, m, d;
        cs_civil_from_days(r->start_day, &y0, &m0, &d0);
        cs_civil_from_days(day, &y, &m, &d);
        k = cs_floor_div((y - y0) * 12 + (int64_t)m - (int64_t)m0, r->interval);
    } else {
        int64_t step = r->interval * (r->freq == MF_CAMPAIGN_CREATE_SCHEDULE_RECURRING_FREQUENCY_WEEKLY ? 7 : 1);
        k = cs_floor_div(day - r->start_day, step);
    }
    k -= 2; /* the local date and the zone's offset can put the answer a step earlier */
    return k < 0 ? 0 : k;
}

mf_status cs_recurrence_next(const cs_recurrence *r, int64_t after_ms, int64_t *next_ms, bool *none, mf_error *err)
{
    *none = true;
    *next_ms = 0;
    if (r->type == MF_CAMPAIGN_CREATE_SCHEDULE_TYPE_SCHEDULED) {
        if (r->at_ms > after_ms) {
            *none = false;
            *next_ms = r->at_ms;
        }
        return MF_OK;
    }
    if (r->type != MF_CAMPAIGN_CREATE_SCHEDULE_TYPE_RECURRING || r->interval < 1)
        return MF_OK;
    int64_t lower = after_ms + 1;
    if (r->has_at && r->at_ms > lower)
        lower = r->at_ms;
    int64_t lower_day = cs_floor_div(cs_floor_div(lower, 1000), 86400);
    for (int64_t k = first_k(r, lower_day), guard = 0; guard < 64; k++, guard++) {
        int64_t day = occurrence_day(r, k);
        if (r->has_end && day > r->end_day)
            return MF_OK;
        cs_tz_instants in;
        mf_status st = cs_tz_resolve(r->zone, day * 86400 + r->time_of_day, &in, err);
        if (st != MF_OK)
            return st;
        int64_t fire = in.t[0] * 1000;
        if (fire >= lower) {
            *none = false;
            *next_ms = fire;
            return MF_OK;
        }
    }
    return mf_error_set(err, MF_ERR_RANGE, "/schedule", "no firing found near the requested time");
}

/* ---- the table ---- */

static mf_status step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, mf_error *err)
{
    int rc = sqlite3_step(st);
    mf_status s = rc == SQLITE_DONE ? MF_OK : svc_db_status(db, rc, what, err);
    sqlite3_finalize(st);
    return s;
}

mf_status cs_schedule_put(sqlite3 *db, const char *campaign_id, int64_t next_ms, mf_error *err)
{
    sqlite3_stmt *st;
    mf_status s = cs_db_prepare(db, "INSERT INTO cs_schedules(campaign_id, next_fire_at) VALUES (?1, ?2)", &st, err);
    if (s != MF_OK)
        return s;
    sqlite3_bind_text(st, 1, campaign_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, next_ms);
    return step_done(db, st, "insert schedule", err);
}

/*
 * Records a firing at fired_ms and the next one (none when !has_next). With
 * only_if_due the row changes only while its next firing is still fired_ms:
 * *changed then says whether this call claimed it (another replica may have).
 */
static mf_status record_firing(sqlite3 *db, const char *campaign_id, int64_t fired_ms, bool has_next, int64_t next_ms,
                               bool only_if_due, bool *changed, mf_error *err)
{
    sqlite3_stmt *st;
    *changed = false;
    mf_status s = cs_db_prepare(db, only_if_due ? "UPDATE cs_schedules SET last_fire_at = ?2, next_fire_at = ?3, "
                                                  "fired = fired + 1 WHERE campaign_id = ?1 AND next_fire_at = ?2"
                                                : "UPDATE cs_schedules SET last_fire_at = ?2, next_fire_at = ?3, "
                                                  "fired = fired + 1 WHERE campaign_id = ?1",
                                &st, err);
    if (s != MF_OK)
        return s;
    sqlite3_bind_text(st, 1, campaign_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, fired_ms);
    if (has_next)
        sqlite3_bind_int64(st, 3, next_ms);
    else
        sqlite3_bind_null(st, 3);
    s = step_done(db, st, only_if_due ? "claim a schedule firing" : "update schedule", err);
    *changed = s == MF_OK && sqlite3_changes(db) == 1;
    return s;
}

mf_status cs_schedule_fired(sqlite3 *db, const char *campaign_id, int64_t fired_ms, bool has_next, int64_t next_ms,
                            mf_error *err)
{
    bool changed;
    return record_firing(db, campaign_id, fired_ms, has_next, next_ms, false, &changed, err);
}

mf_status cs_schedule_claim(sqlite3 *db, const char *campaign_id, int64_t fired_ms, bool has_next, int64_t next_ms,
                            bool *claimed, mf_error *err)
{
    return record_firing(db, campaign_id, fired_ms, has_next, next_ms, true, claimed, err);
}

mf_status cs_schedule_due(sqlite3 *db, int64_t now_ms, cs_due *out, size_t max, size_t *n, mf_error *err)
{
    sqlite3_stmt *st;
    *n = 0;
    mf_status s = cs_db_prepare(db, "SELECT campaign_id, next_fire_at FROM cs_schedules WHERE next_fire_at IS NOT NULL "
                                    "AND next_fire_at <= ?1 ORDER BY next_fire_at LIMIT ?2", &st, err);
    if (s != MF_OK)
        return s;
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
        snprintf(out[*n].campaign_id, sizeof out[*n].campaign_id, "%s", (const char *)sqlite3_column_text(st, 0));
        out[*n].fire_ms = sqlite3_column_int64(st, 1);
        (*n)++;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        s = svc_db_status(db, rc, "read due schedules", err);
    sqlite3_finalize(st);
    return s;
}

mf_status cs_schedule_next_of(sqlite3 *db, const char *campaign_id, int64_t *at_ms, bool *none, mf_error *err)
{
    sqlite3_stmt *st;
    *none = true;
    mf_status s = cs_db_prepare(db, "SELECT next_fire_at FROM cs_schedules WHERE campaign_id = lower(?1)", &st, err);
    if (s != MF_OK)
        return s;
    sqlite3_bind_text(st, 1, campaign_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *none = false;
        *at_ms = sqlite3_column_int64(st, 0);
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        s = svc_db_status(db, rc, "read schedule", err);
    }
    sqlite3_finalize(st);
    return s;
}

mf_status cs_schedule_earliest(sqlite3 *db, int64_t *at_ms, bool *none, mf_error *err)
{
    sqlite3_stmt *st;
    *none = true;
    mf_status s = cs_db_prepare(db, "SELECT min(next_fire_at) FROM cs_schedules WHERE next_fire_at IS NOT NULL", &st,
                                err);
    if (s != MF_OK)
        return s;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *none = false;
        *at_ms = sqlite3_column_int64(st, 0);
    } else if (rc != SQLITE_ROW) {
        s = svc_db_status(db, rc, "read schedules", err);
    }
    sqlite3_finalize(st);
    return s;
}
