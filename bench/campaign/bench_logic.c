/*
 * bench-campaign-logic - the Campaign Service's per-user work without the network, over a
 * population of N users (default 100,000), each measured against a baseline in the same run:
 *
 *   1. quiet hours: cs_quiet_check_many (glibc, grouped by zone: what the engine does)
 *      against the same checks in arrival order (glibc switching TZ per user) and against ICU
 *      with one cached UCalendar per zone (wall-time lookup only, the floor of any approach);
 *   2. the user view: applying N user.info.update events (one transaction per 1,000), then
 *      targeting queries (count, snapshot) over the N users.
 *
 * Usage: bench-campaign-logic [--users N]. Prints figures and ratios; exits 1 when a check of
 * the results fails (the grouped and ungrouped answers must agree).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cs_db.h"
#include "cs_ledger.h"
#include "cs_quiet.h"
#include "cs_target.h"
#include "cs_time.h"
#include "cs_tz.h"
#include "cs_userview.h"
#ifdef CS_BENCH_ICU
#include <unicode/ucal.h>
#endif

static const char *const ZONES[] = {
    "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/London", "America/Los_Angeles", "Asia/Kolkata",
    "America/Sao_Paulo", "Europe/Paris", "Africa/Cairo", "Australia/Sydney", "Europe/Madrid", "Europe/Rome",
    "America/Chicago", "America/Denver", "Asia/Shanghai", "Asia/Singapore", "Asia/Dubai", "Europe/Moscow",
    "Europe/Istanbul", "America/Mexico_City", "America/Toronto", "America/Bogota", "America/Lima",
    "Africa/Lagos", "Africa/Johannesburg", "Asia/Seoul", "Asia/Jakarta", "Asia/Manila", "Pacific/Auckland",
    "Europe/Warsaw", "Europe/Stockholm", "Europe/Athens", "Asia/Karachi", "Asia/Bangkok", "America/Santiago",
    "America/Argentina/Buenos_Aires", "Asia/Tehran", "Asia/Kathmandu", "Australia/Adelaide", "UTC"};
#define N_ZONES (sizeof ZONES / sizeof *ZONES)

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static int bench_quiet(int n, int64_t now)
{
    cs_quiet_item *items = calloc((size_t)n, sizeof *items), *again = calloc((size_t)n, sizeof *again);
    uint64_t r = 99;
    for (int i = 0; i < n; i++) {
        items[i].zone = ZONES[rnd(&r) % N_ZONES];
        int start = (int)(rnd(&r) % 24), len = 1 + (int)(rnd(&r) % 10);
        items[i].hours = (cs_quiet_hours){.enabled = true, .start = start * 3600, .end = ((start + len) % 24) * 3600};
    }
    memcpy(again, items, (size_t)n * sizeof *items);
    uint64_t sw0 = cs_tz_switches();
    double t0 = cpu();
    cs_quiet_check_many(items, (size_t)n, now);
    double grouped = cpu() - t0;
    uint64_t sw1 = cs_tz_switches();
    /* arrival order: one user at a time, as a naive engine would (a tenth of them: it is slow) */
    int m = n / 10 > 0 ? n / 10 : 1;
    t0 = cpu();
    for (int i = 0; i < m; i++)
        cs_quiet_check(again[i].zone, &again[i].hours, now, &again[i].quiet, &again[i].release_ms, NULL);
    double ungrouped = (cpu() - t0) * n / m;
    cs_tz_restore();
    int bad = 0, quiet = 0;
    for (int i = 0; i < m; i++) {
        bad += again[i].quiet != items[i].quiet || (items[i].quiet && again[i].release_ms != items[i].release_ms);
        quiet += items[i].quiet;
    }
    printf("CPU time of this process (the machine is shared; wall time would measure the neighbours)\n");
    printf("quiet hours, %d users in %zu zones at %s (%d of the first %d in quiet hours):\n", n, N_ZONES,
           "2024-10-27T01:30Z (Europe's fall-back night)", quiet, m);
    printf("  glibc, grouped by zone (the engine)   %8.1f ms  %6.2f us/user  %llu TZ switches\n", grouped * 1e3,
           grouped * 1e6 / n, (unsigned long long)(sw1 - sw0));
    printf("  glibc, arrival order (baseline)       %8.1f ms  %6.2f us/user  (extrapolated from %d)\n",
           ungrouped * 1e3, ungrouped * 1e6 / n, m);
    printf("  ratio grouped / arrival order         %8.3f   (<1 good)\n", grouped / ungrouped);
#ifdef CS_BENCH_ICU
    UCalendar *cals[N_ZONES];
    for (size_t z = 0; z < N_ZONES; z++) {
        UChar id[64];
        int k = 0;
        for (; ZONES[z][k] && k < 63; k++)
            id[k] = (UChar)ZONES[z][k];
        UErrorCode e = U_ZERO_ERROR;
        cals[z] = ucal_open(id, k, "en_US", UCAL_GREGORIAN, &e);
    }
    long sink = 0;
    t0 = cpu();
    for (int i = 0; i < n; i++) {
        size_t z = 0;
        while (strcmp(ZONES[z], items[i].zone) != 0)
            z++;
        UErrorCode e = U_ZERO_ERROR;
        ucal_setMillis(cals[z], (double)now, &e);
        int wall = ucal_get(cals[z], UCAL_HOUR_OF_DAY, &e) * 3600 + ucal_get(cals[z], UCAL_MINUTE, &e) * 60;
        sink += wall >= items[i].hours.start;
    }
    double icu = cpu() - t0;
    for (size_t z = 0; z < N_ZONES; z++)
        ucal_close(cals[z]);
    UErrorCode e = U_ZERO_ERROR;
    printf("  ICU %s, cached calendars, wall time only %8.1f ms  %6.2f us/user  (sink %ld)\n",
           ucal_getTZDataVersion(&e), icu * 1e3, icu * 1e6 / n, sink % 2);
    printf("  ratio grouped glibc / ICU lookup      %8.3f\n", grouped / icu);
#endif
    free(items);
    free(again);
    if (bad)
        printf("  MISMATCH: %d users decided differently grouped and one by one\n", bad);
    return bad ? 1 : 0;
}

static int bench_view(int n, int64_t now)
{
    char path[] = "/tmp/bench_campaign_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    sqlite3 *db;
    cs_userview *v;
    mf_error err;
    if (cs_db_open(path, &db, &err) != MF_OK || cs_userview_open(db, &v, &err) != MF_OK) {
        fprintf(stderr, "bench: %s\n", err.message);
        return 1;
    }
    static const char *const LANGS[] = {"en-US", "de-DE", "fr-FR", "es-ES", "ja-JP", "pt-BR"};
    uint64_t r = 7;
    double t0 = mono(), c0 = cpu();
    svc_db_begin(db, NULL);
    for (int i = 0; i < n; i++) {
        char id[37], changes[512], reg[CS_TIME_TEXT_MAX], act[CS_TIME_TEXT_MAX];
        snprintf(id, sizeof id, "%08x-0000-4000-8000-%012x", (unsigned)i, (unsigned)(i * 2654435761u));
        cs_time_format(now - (int64_t)(rnd(&r) % (400 * CS_MS_PER_DAY)), reg);
        cs_time_format(now - (int64_t)(rnd(&r) % (90 * CS_MS_PER_DAY)), act);
        snprintf(changes, sizeof changes,
                 "{\"name\":\"User %d\",\"email\":\"u%d@example.com\",\"language\":\"%s\",\"timezone\":\"%s\","
                 "\"plan\":\"%s\",\"registered_at\":\"%s\",\"last_activity\":\"%s\"}",
                 i, i, LANGS[rnd(&r) % 6], ZONES[rnd(&r) % N_ZONES], rnd(&r) % 4 ? "free" : "premium", reg, act);
        mf_user_info_update ev = {.user_id = id, .has_changes = true, .changes = changes,
                                  .updated_at = "2026-01-01T00:00:00Z"};
        if (cs_userview_apply_update(v, &ev, &err) != MF_OK) {
            fprintf(stderr, "bench: %s\n", err.message);
            return 1;
        }
        if (i % 1000 == 999) {
            svc_db_commit(db, NULL);
            svc_db_begin(db, NULL);
        }
    }
    svc_db_commit(db, NULL);
    double load = mono() - t0, load_cpu = cpu() - c0;
    printf("user view: %d user.info.update applied: %.1f us CPU per event (%.0f events/s of CPU; wall %.2f s), "
           "1,000 per transaction\n", n, load_cpu * 1e6 / n, n / load_cpu, load);
    const char *audiences[][2] = {
        {"all users", "{\"user_segments\":[\"all_users\"]}"},
        {"active premium de/fr", "{\"user_segments\":[\"active_users\"],\"user_filters\":{\"language\":[\"de-DE\","
                                 "\"fr-FR\"],\"registration_date\":{\"from\":\"2024-06-01\"}}}"},
        {"new or inactive, 3 zones", "{\"user_segments\":[\"new_users\",\"inactive_users\"],\"user_filters\":"
                                     "{\"timezone\":[\"Europe/Berlin\",\"Asia/Tokyo\",\"UTC\"]}}"},
    };
    cs_target_opts o = {.now_ms = now, .new_days = 30, .active_days = 30};
    for (size_t k = 0; k < 3; k++) {
        mf_campaign_create_target_audience a;
        mf_init(&mf_campaign_create_target_audience_desc, &a);
        mf_decode(&mf_campaign_create_target_audience_desc, audiences[k][1], strlen(audiences[k][1]), &a, NULL);
        int64_t count = 0;
        t0 = cpu();
        cs_target_count(db, &a, &o, &count, NULL);
        double tc = cpu() - t0;
        char exec[37];
        snprintf(exec, sizeof exec, "00000000-0000-4000-8000-%012zu", k);
        cs_ledger *l;
        cs_ledger_open(db, &l, NULL);
        cs_execution x = {.status = MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING, .batch_size = 1000};
        snprintf(x.execution_id, sizeof x.execution_id, "%s", exec);
        snprintf(x.campaign_id, sizeof x.campaign_id, "%s", exec);
        t0 = cpu();
        cs_ledger_create(l, &x, &a, &o, NULL);
        double ts = cpu() - t0;
        cs_ledger_close(l);
        printf("  %-26s reach %6lld   count %7.1f ms CPU   snapshot into the ledger %7.1f ms CPU\n", audiences[k][0],
               (long long)count, tc * 1e3, ts * 1e3);
        mf_free(&mf_campaign_create_target_audience_desc, &a);
    }
    cs_userview_close(v);
    svc_db_close(db);
    char p[64];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    return 0;
}

int main(int argc, char **argv)
{
    int n = 100000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--users") == 0 && i + 1 < argc)
            n = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--users N]\n", argv[0]);
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (n < 1)
        n = 1;
    int64_t now = (cs_days_from_civil(2024, 10, 27) * 86400 + 5400) * 1000;
    int rc = bench_quiet(n, now);
    rc |= bench_view(n, now);
    return rc;
}
