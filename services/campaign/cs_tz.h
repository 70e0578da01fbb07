/*
 * cs_tz.h - time zones from the system tz database (tzdata, /usr/share/zoneinfo) through glibc.
 *
 * Why glibc and not ICU: Debian's ICU 72 carries its own copy of the rules (tz 2022e) while the
 * system database is newer (2025b here) and is what the User Service checks zone names against
 * (America/Ciudad_Juarez, for one, is unknown to ICU 72). glibc reads the system files.
 *
 * The price: glibc has one process-wide zone (TZ). This module serialises every use behind one
 * mutex and switches TZ (setenv + tzset) only when the zone changes; glibc re-reads the zone
 * file on every switch (about 37 us here). Measured with bench/campaign (bench-campaign-logic,
 * CPU time, 100,000 users in 40 zones, quiet hours with release times): users checked in
 * arrival order cost 22.7 us each (a switch almost every time); grouped by zone, as
 * cs_quiet_check_many does, 1.5 us each (41 switches in all). ICU's wall-time lookup with a
 * cached calendar per zone costs 0.44 us - without release times, and with 2022 rules.
 *
 * Rules for the rest of the process: nothing else may call setenv/putenv/unsetenv("TZ") or
 * tzset(), and nothing should rely on localtime(): between cs_tz calls TZ holds the last zone
 * used until cs_tz_restore() puts the original back (the service logs in UTC). TZ is always
 * present in the environment after cs_tz_init (set to ":/etc/localtime" if it was unset, which
 * glibc reads the same way), so later changes replace an existing entry and never reallocate
 * the environment under another thread's getenv: a service calls cs_tz_init before it starts
 * threads (every other function calls it too, for programs with one thread).
 *
 * Instants here are seconds since the epoch; "local seconds" are the wall-clock reading of a
 * zone counted the same way (local = utc + offset).
 *
 * Threads: every function is thread-safe (one global mutex).
 */
#ifndef CS_TZ_H
#define CS_TZ_H

#include <stdbool.h>
#include <stdint.h>
#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CS_TZ_NAME_MAX 64 /* longest zone name accepted, without the NUL */

/* Reads TZ and TZDIR and makes sure TZ is set. Call before starting threads; idempotent. */
void cs_tz_init(void);

/*
 * true when `zone` is a zone of the system tz database as services/common checks it
 * (svc_tz_valid: a TZif file under $TZDIR, default /usr/share/zoneinfo; answers cached), and
 * not under "right/" (leap-second clocks).
 */
bool cs_tz_known(const char *zone);

/* The UTC offset (seconds east) of `zone` at instant t. MF_ERR_NOT_FOUND for an unknown zone. */
mf_status cs_tz_offset(const char *zone, int64_t t, int32_t *offset, mf_error *err);

/*
 * The instants at which `zone`'s wall clock reads `local`:
 *   count 1, skipped false   the usual case;
 *   count 2, skipped false   an overlap (clocks set back): t[0] < t[1], both read `local`;
 *   count 1, skipped true    a gap (clocks set forward): `local` never happens; t[0] is the
 *                            first instant whose wall clock reads later than `local` (the
 *                            transition), the "next valid time" rule.
 * MF_ERR_NOT_FOUND for an unknown zone; MF_ERR_RANGE when the zone's rules cannot be bracketed
 * (two transitions within a few hours: not in tzdata since 1900).
 */
typedef struct cs_tz_instants {
    int64_t t[2];
    int count;
    bool skipped;
} cs_tz_instants;
mf_status cs_tz_resolve(const char *zone, int64_t local, cs_tz_instants *out, mf_error *err);

/* Puts back the TZ the process started with (a no-op when it is current). */
void cs_tz_restore(void);

/* How many times TZ was switched since the start (for benchmarks and tests). */
uint64_t cs_tz_switches(void);

#ifdef __cplusplus
}
#endif
#endif /* CS_TZ_H */
