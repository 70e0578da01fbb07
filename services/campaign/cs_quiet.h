/*
 * cs_quiet.h - quiet hours: is an instant inside a user's quiet hours, and when do they end?
 *
 * A user's quiet hours are a daily period of wall-clock time in the user's time zone, "HH:MM"
 * start to "HH:MM" end (seconds allowed), start inclusive, end exclusive:
 *   start < end    quiet when start <= wall < end            ("13:00"-"14:00")
 *   start > end    quiet when wall >= start or wall < end    ("22:00"-"07:00" wraps midnight)
 *   start == end   never quiet (an empty period)
 * "wall" is the zone's wall-clock time of day at the instant, so the rule follows DST: on the
 * fall-back day a wall time that happens twice is quiet both times.
 *
 * The release time of an instant inside quiet hours is the earliest later instant whose wall
 * time is outside them: the first occurrence after `now` of the end time on the day the period
 * ends. When that wall time does not exist (spring-forward gap), the release is the transition
 * itself - the wall clock jumps past the end. Checked against tzdata on both DST days of
 * Europe/Berlin and America/New_York (tests/services/campaign/test_cs_quiet.c).
 *
 * Threads: thread-safe (cs_tz serialises zone use).
 */
#ifndef CS_QUIET_H
#define CS_QUIET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mf/status.h"
#include "mf_sdk/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_quiet_hours {
    bool enabled;   /* false: never quiet */
    int32_t start;  /* seconds of the day, 0..86399 */
    int32_t end;
} cs_quiet_hours;

/*
 * Reads the contract's quiet_hours object (NULL = none). Disabled, or enabled without both
 * start and end, gives enabled = false. MF_ERR_FORMAT (pointer "/start" or "/end") for a time
 * the codec would not have accepted.
 */
mf_status cs_quiet_from_prefs(const mf_notification_preferences_quiet_hours *qh, cs_quiet_hours *out, mf_error *err);

/*
 * Decides for one user: *quiet tells whether `now_ms` is inside the quiet hours in `zone`; when
 * it is, *release_ms is the release time (else now_ms). MF_ERR_NOT_FOUND for an unknown zone
 * (nothing decided: *quiet false).
 */
mf_status cs_quiet_check(const char *zone, const cs_quiet_hours *q, int64_t now_ms, bool *quiet, int64_t *release_ms,
                         mf_error *err);

/* One user of a batch check. */
typedef struct cs_quiet_item {
    const char *zone;     /* in */
    cs_quiet_hours hours; /* in */
    bool quiet;           /* out */
    int64_t release_ms;   /* out */
    mf_status status;     /* out: MF_OK, or MF_ERR_NOT_FOUND for an unknown zone */
} cs_quiet_item;

/*
 * Checks many users at one instant, visiting them grouped by zone so that the process-wide
 * zone switches once per zone (see cs_tz.h), then restores the process's TZ. Items with quiet
 * hours disabled cost nothing. MF_ERR_NOMEM (nothing decided) or MF_OK; per-item errors are in
 * the items.
 */
mf_status cs_quiet_check_many(cs_quiet_item *items, size_t n, int64_t now_ms);

#ifdef __cplusplus
}
#endif
#endif /* CS_QUIET_H */
