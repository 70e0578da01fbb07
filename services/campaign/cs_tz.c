/* cs_tz.c - see cs_tz.h. */
#include "cs_tz.h"
#include "svc_tz.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static bool tz_inited;
static char tz_original[CS_TZ_NAME_MAX + 32]; /* the TZ value to restore */
static char tz_current[CS_TZ_NAME_MAX + 32];  /* the TZ value set now */
static uint64_t tz_switch_count;

/* Called with the lock held. */
static void init_locked(void)
{
    if (tz_inited)
        return;
    const char *tz = getenv("TZ");
    snprintf(tz_original, sizeof tz_original, "%s", tz ? tz : ":/etc/localtime");
    snprintf(tz_current, sizeof tz_current, "%s", tz_original);
    if (!tz)
        setenv("TZ", tz_original, 1);
    tz_inited = true;
}

/* Called with the lock held (svc_tz has its own). The tz database's names, minus "right/"
 * (leap-second clocks: their offsets are not what POSIX time needs). */
static bool known_locked(const char *zone)
{
    return zone && strncmp(zone, "right/", 6) != 0 && svc_tz_valid(zone, NULL, 0);
}

void cs_tz_init(void)
{
    pthread_mutex_lock(&tz_lock);
    init_locked();
    pthread_mutex_unlock(&tz_lock);
}

bool cs_tz_known(const char *zone)
{
    pthread_mutex_lock(&tz_lock);
    init_locked();
    bool ok = known_locked(zone);
    pthread_mutex_unlock(&tz_lock);
    return ok;
}

static void set_tz_locked(const char *value)
{
    if (strcmp(tz_current, value) == 0)
        return;
    snprintf(tz_current, sizeof tz_current, "%s", value);
    setenv("TZ", tz_current, 1);
    tzset();
    tz_switch_count++;
}

/* Makes `zone` current. Called with the lock held. */
static mf_status use_locked(const char *zone, mf_error *err)
{
    init_locked();
    if (zone && tz_current[0] == ':' && strcmp(tz_current + 1, zone) == 0)
        return MF_OK; /* current already, and it was checked when it was set */
    if (!known_locked(zone))
        return mf_error_set(err, MF_ERR_NOT_FOUND, "", "unknown time zone \"%.64s\"", zone ? zone : "(null)");
    char value[CS_TZ_NAME_MAX + 2];
    snprintf(value, sizeof value, ":%s", zone);
    set_tz_locked(value);
    return MF_OK;
}

/* Offset of the current zone at t. Called with the lock held. */
static int32_t offset_locked(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm))
        return 0;
    return (int32_t)tm.tm_gmtoff;
}

mf_status cs_tz_offset(const char *zone, int64_t t, int32_t *offset, mf_error *err)
{
    pthread_mutex_lock(&tz_lock);
    mf_status st = use_locked(zone, err);
    if (st == MF_OK)
        *offset = offset_locked(t);
    pthread_mutex_unlock(&tz_lock);
    return st;
}

static void add_candidate(cs_tz_instants *out, int64_t t)
{
    for (int i = 0; i < out->count; i++)
        if (out->t[i] == t)
            return;
    if (out->count < 2)
        out->t[out->count++] = t;
}

/*
 * A wall time is read at instant t when t + offset(t) == local. The true offset is one of the
 * zone's offsets near `local`: the ones a day before and after, and the ones found at the
 * candidates themselves (covers a pair of transitions inside those two days).
 */
static mf_status resolve_locked(int64_t local, cs_tz_instants *out, mf_error *err)
{
    int32_t offs[4];
    int n = 0;
    offs[n++] = offset_locked(local - 86400);
    offs[n++] = offset_locked(local + 86400);
    for (int i = 0; i < 2; i++) {
        int32_t o = offset_locked(local - offs[i]);
        if (o != offs[0] && o != offs[1])
            offs[n++] = o;
    }
    out->count = 0;
    out->skipped = false;
    for (int i = 0; i < n; i++)
        if (offset_locked(local - offs[i]) == offs[i])
            add_candidate(out, local - offs[i]);
    if (out->count == 2 && out->t[0] > out->t[1]) {
        int64_t x = out->t[0];
        out->t[0] = out->t[1];
        out->t[1] = x;
    }
    if (out->count > 0)
        return MF_OK;
    /* A gap: bisect for the first instant whose wall clock reads at least `local`. */
    int32_t lo_off = offs[0], hi_off = offs[0];
    for (int i = 1; i < n; i++) {
        if (offs[i] > hi_off)
            hi_off = offs[i];
        if (offs[i] < lo_off)
            lo_off = offs[i];
    }
    int64_t lo = local - hi_off, hi = local - lo_off;
    if (lo + offset_locked(lo) >= local || hi + offset_locked(hi) < local)
        return mf_error_set(err, MF_ERR_RANGE, "", "the zone's rules around this time cannot be resolved");
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (mid + offset_locked(mid) >= local)
            hi = mid;
        else
            lo = mid;
    }
    out->t[0] = hi;
    out->count = 1;
    out->skipped = true;
    return MF_OK;
}

mf_status cs_tz_resolve(const char *zone, int64_t local, cs_tz_instants *out, mf_error *err)
{
    pthread_mutex_lock(&tz_lock);
    mf_status st = use_locked(zone, err);
    if (st == MF_OK)
        st = resolve_locked(local, out, err);
    pthread_mutex_unlock(&tz_lock);
    return st;
}

void cs_tz_restore(void)
{
    pthread_mutex_lock(&tz_lock);
    if (tz_inited)
        set_tz_locked(tz_original);
    pthread_mutex_unlock(&tz_lock);
}

uint64_t cs_tz_switches(void)
{
    pthread_mutex_lock(&tz_lock);
    uint64_t n = tz_switch_count;
    pthread_mutex_unlock(&tz_lock);
    return n;
}
