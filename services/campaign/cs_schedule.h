/*
 * cs_schedule.h - when a campaign runs by itself: its firing times, and the table that keeps
 * the next one so that schedules survive restarts.
 *
 * Firing times, in the schedule's timezone (default UTC):
 *   immediate   never (runs when a campaign.execute asks).
 *   scheduled   once, at scheduled_at.
 *   recurring   on start_date and then every `interval` (default 1) days, weeks or months,
 *               not after end_date (when given), at the local time of day of scheduled_at
 *               (00:00 when there is no scheduled_at), and never before scheduled_at.
 *               Monthly: on the day of the month of start_date; a month without that day
 *               uses its last day (start 2026-01-31: Feb 28, Mar 31, Apr 30, ...), the
 *               following months go back to the start day.
 *               A local time that does not exist that day (spring forward) fires at the
 *               first valid instant after the gap; one that happens twice (fall back) fires
 *               at the first.
 *
 * Persistence (table cs_schedules): the next firing of each scheduled campaign. When the
 * service finds firings in the past (it was down), it runs the campaign once for the latest
 * one and moves on to the next firing after now: missed firings are coalesced, not replayed.
 * A firing's execution_id is v5(CS_NS_EXECUTION, "<campaign_id>/<fire time in ms>"), so
 * firing twice (a crash between the two) creates one execution.
 *
 * Threads: cs_recurrence_* are thread-safe; the table functions use the caller's handle.
 */
#ifndef CS_SCHEDULE_H
#define CS_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "cs_tz.h"
#include "mf/status.h"
#include "mf_sdk/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_recurrence {
    mf_campaign_create_schedule_type type;
    char zone[CS_TZ_NAME_MAX + 1];
    bool has_at;
    int64_t at_ms;                 /* scheduled_at */
    mf_campaign_create_schedule_recurring_frequency freq;
    int64_t interval;
    int64_t start_day;             /* days since the epoch */
    bool has_end;
    int64_t end_day;
    int32_t time_of_day;           /* seconds */
} cs_recurrence;

/* Reads the schedule of a validated campaign (see cs_validate.h). MF_ERR_* for what validation
 * would have refused. */
mf_status cs_recurrence_from(const mf_campaign_create *c, cs_recurrence *r, mf_error *err);

/* The first firing strictly after after_ms, or *none true when there is none. */
mf_status cs_recurrence_next(const cs_recurrence *r, int64_t after_ms, int64_t *next_ms, bool *none, mf_error *err);

/* ---- the table ---- */

/* Records campaign_id's next firing (inside the caller's transaction). */
mf_status cs_schedule_put(sqlite3 *db, const char *campaign_id, int64_t next_ms, mf_error *err);

/* After firing at fired_ms: the next firing, or none. */
mf_status cs_schedule_fired(sqlite3 *db, const char *campaign_id, int64_t fired_ms, bool has_next, int64_t next_ms,
                            mf_error *err);

/* The same, only if the schedule is still due at fired_ms (next_fire_at = fired_ms): inside the
 * caller's IMMEDIATE transaction this claims the firing, so that replicas sharing the database
 * fire it once. *claimed false: another replica fired it (nothing changed). */
mf_status cs_schedule_claim(sqlite3 *db, const char *campaign_id, int64_t fired_ms, bool has_next, int64_t next_ms,
                            bool *claimed, mf_error *err);

typedef struct cs_due {
    char campaign_id[37];
    int64_t fire_ms;
} cs_due;

/* Up to max schedules due at now_ms (next_fire_at <= now), earliest first. */
mf_status cs_schedule_due(sqlite3 *db, int64_t now_ms, cs_due *out, size_t max, size_t *n, mf_error *err);

/* The next firing of one campaign's schedule; *none when it has none (or no schedule). */
mf_status cs_schedule_next_of(sqlite3 *db, const char *campaign_id, int64_t *at_ms, bool *none, mf_error *err);

/* The earliest next firing of all schedules; *none when there is none. */
mf_status cs_schedule_earliest(sqlite3 *db, int64_t *at_ms, bool *none, mf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* CS_SCHEDULE_H */
