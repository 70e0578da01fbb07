/*
 * svc_tz.h - IANA time zone names, checked against the system's tz database.
 *
 * A name is valid when the tz database (tzdata: $TZDIR, else /usr/share/zoneinfo)
 * holds a compiled zone file (TZif) of that name: "Europe/Berlin", "UTC",
 * "America/Argentina/Buenos_Aires", and the backward-compatible links such as
 * "US/Eastern". Names are case-sensitive, as in the database. Results are
 * cached for the life of the process.
 *
 * Thread-safe.
 */
#ifndef SVC_TZ_H
#define SVC_TZ_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* True when `name` is a zone of the tz database. Writes the reason into why (may be NULL) otherwise. */
bool svc_tz_valid(const char *name, char *why, size_t why_cap);

/* The directory searched (for messages). */
const char *svc_tz_dir(void);

#ifdef __cplusplus
}
#endif
#endif /* SVC_TZ_H */
