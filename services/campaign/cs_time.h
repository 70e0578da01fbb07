/*
 * cs_time.h - instants, calendar dates and wall-clock times as the Campaign Service uses them.
 *
 * Instants are int64_t milliseconds since 1970-01-01T00:00:00Z ("ms"). Calendar arithmetic is
 * the proleptic Gregorian calendar (Howard Hinnant's days_from_civil); nothing here knows about
 * time zones (that is cs_tz.h). Parsing accepts exactly what the codec's formats accept
 * (mf_format_check), so a value that passed the contract parses here.
 *
 * Threads: every function is pure and thread-safe.
 */
#ifndef CS_TIME_H
#define CS_TIME_H

#include <stdbool.h>
#include <stdint.h>
#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CS_MS_PER_DAY 86400000LL
#define CS_TIME_TEXT_MAX 32 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" and its NUL fit (>= SVC_TIME_LEN) */

/* Days since 1970-01-01 of the civil date y-m-d (m 1..12, d 1..31). */
int64_t cs_days_from_civil(int64_t y, unsigned m, unsigned d);
/* The civil date of `days` since 1970-01-01. */
void cs_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* Days in month m (1..12) of year y. */
unsigned cs_days_in_month(int64_t y, unsigned m);
/* Day of week of `days` since 1970-01-01: 0 = Monday ... 6 = Sunday. */
unsigned cs_weekday(int64_t days);

/* floor(a / b) for b > 0, right for negative a too. */
int64_t cs_floor_div(int64_t a, int64_t b);

/*
 * Parses an RFC 3339 date-time (format "date-time" of the contract) into ms with
 * services/common's svc_time_parse: fractions beyond milliseconds are dropped, a leap second
 * (23:59:60) is read as the next second. MF_ERR_FORMAT (err names nothing: the caller sets the
 * pointer) when `s` is NULL or not a date-time.
 */
mf_status cs_time_parse(const char *s, int64_t *ms, mf_error *err);

/* Parses an RFC 3339 full-date "YYYY-MM-DD" into days since 1970-01-01. MF_ERR_FORMAT otherwise. */
mf_status cs_date_parse(const char *s, int64_t *days, mf_error *err);

/* Parses a wall-clock time "HH:MM" or "HH:MM:SS[.frac]" (format time-hm) into seconds of the
 * day, 0..86399 (fractions dropped). MF_ERR_FORMAT otherwise. */
mf_status cs_hm_parse(const char *s, int32_t *secs, mf_error *err);

/* Writes ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (svc_time_format; years clamped to
 * 0000..9999). Returns out. */
char *cs_time_format(int64_t ms, char out[CS_TIME_TEXT_MAX]);

/* out holds cs_time_format(prev); rewrites it as cs_time_format(ms): only the milliseconds when ms
 * is in the same second (0 <= both <= 9999-12-31T23:59:59.999Z), else the whole text. For a clock
 * read many times a second (every notification carries the time). Returns out. */
char *cs_time_format_since(int64_t prev, int64_t ms, char out[CS_TIME_TEXT_MAX]);

/* Writes days as "YYYY-MM-DD" into out (at least 11 bytes). Returns out. */
char *cs_date_format(int64_t days, char out[CS_TIME_TEXT_MAX]);

#ifdef __cplusplus
}
#endif
#endif /* CS_TIME_H */
