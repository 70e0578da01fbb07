/*
 * svc_time.h - wall-clock timestamps as the contract writes them.
 *
 * Services store and publish instants as RFC 3339 date-times in UTC with
 * milliseconds, "2025-05-01T10:00:00.123Z": one spelling per instant, so
 * text order is time order (SQLite compares them as strings) and every value
 * passes the contract's date-time format.
 *
 * All functions are pure or read the clock; any thread may call them.
 */
#ifndef SVC_TIME_H
#define SVC_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of a formatted timestamp including the NUL ("YYYY-MM-DDTHH:MM:SS.mmmZ"). */
#define SVC_TIME_LEN 25

/* Milliseconds since 1970-01-01T00:00:00Z (CLOCK_REALTIME). */
int64_t svc_now_ms(void);

/* Milliseconds of CLOCK_MONOTONIC, for deadlines and durations. */
int64_t svc_mono_ms(void);

/* Writes ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (SVC_TIME_LEN bytes). Years outside
 * 0000..9999 are clamped to those bounds. Returns out. */
char *svc_time_format(int64_t ms, char out[SVC_TIME_LEN]);

/*
 * Parses an RFC 3339 date-time (the contract's `date-time` format: offset
 * required, fraction optional, leap second 23:59:60 read as the next second)
 * into ms since the epoch; digits of the fraction beyond milliseconds are
 * dropped. Returns false (and leaves *ms alone) when s[0..n) is not one.
 */
bool svc_time_parse(const char *s, size_t n, int64_t *ms);

/* Normalises a date-time in place of out: parse + format. False when s is not a date-time. */
bool svc_time_normalize(const char *s, char out[SVC_TIME_LEN]);

#ifdef __cplusplus
}
#endif
#endif /* SVC_TIME_H */
