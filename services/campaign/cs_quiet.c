/* cs_quiet.c - see cs_quiet.h. */
#include "cs_quiet.h"

#include <stdlib.h>
#include <string.h>
#include "cs_time.h"
#include "cs_tz.h"

mf_status cs_quiet_from_prefs(const mf_notification_preferences_quiet_hours *qh, cs_quiet_hours *out, mf_error *err)
{
    memset(out, 0, sizeof *out);
    if (!qh || !qh->enabled || !qh->has_start || !qh->has_end)
        return MF_OK;
    mf_status st = cs_hm_parse(qh->start, &out->start, err);
    if (st != MF_OK)
        return mf_error_set(err, st, "/start", "quiet hours start is not HH:MM");
    st = cs_hm_parse(qh->end, &out->end, err);
    if (st != MF_OK)
        return mf_error_set(err, st, "/end", "quiet hours end is not HH:MM");
    out->enabled = out->start != out->end;
    return MF_OK;
}

static bool inside(const cs_quiet_hours *q, int32_t wall)
{
    if (!q->enabled)
        return false;
    if (q->start < q->end)
        return wall >= q->start && wall < q->end;
    return wall >= q->start || wall < q->end;
}

/* Wall time of day (seconds) and local day number of instant t (seconds) in zone. */
static mf_status wall_of(const char *zone, int64_t t, int32_t *wall, int64_t *day, mf_error *err)
{
    int32_t off;
    mf_status st = cs_tz_offset(zone, t, &off, err);
    if (st != MF_OK)
        return st;
    int64_t local = t + off;
    *day = cs_floor_div(local, 86400);
    *wall = (int32_t)(local - *day * 86400);
    return MF_OK;
}

/* First instant after t (seconds) at which the wall clock reads `end` on local day `day`. */
static mf_status end_after(const char *zone, int64_t day, int32_t end, int64_t t, int64_t *out, mf_error *err)
{
    cs_tz_instants in;
    mf_status st = cs_tz_resolve(zone, day * 86400 + end, &in, err);
    if (st != MF_OK)
        return st;
    for (int i = 0; i < in.count; i++) {
        if (in.t[i] > t) {
            *out = in.t[i];
            return MF_OK;
        }
    }
    /* Both occurrences are at or before t: cannot happen for a t inside the period; move on a day. */
    return end_after(zone, day + 1, end, t, out, err);
}

/* First instant in (lo, hi] whose offset differs from offset(lo); offset(hi) must differ. */
static mf_status first_transition(const char *zone, int64_t lo, int64_t hi, int64_t *out, mf_error *err)
{
    int32_t off_lo, off;
    mf_status st = cs_tz_offset(zone, lo, &off_lo, err);
    while (st == MF_OK && hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        st = cs_tz_offset(zone, mid, &off, err);
        if (off == off_lo)
            lo = mid;
        else
            hi = mid;
    }
    *out = hi;
    return st;
}

/*
 * The release of an instant t (seconds) inside q: the end of its period, unless a clock change
 * before that takes the wall clock out of the period first (set back below the start, or
 * forward past the end). Each round either returns or moves t to a later instant still inside.
 */
static mf_status release_of(const char *zone, const cs_quiet_hours *q, int64_t t, int64_t *out, mf_error *err)
{
    for (int round = 0; round < 8; round++) {
        int32_t wall, off_t, off_r;
        int64_t day, rel = t;
        mf_status st = wall_of(zone, t, &wall, &day, err);
        /* the period holding `wall` ends today, or tomorrow when it wraps and we are before midnight */
        int64_t end_day = (q->start > q->end && wall >= q->start) ? day + 1 : day;
        if (st == MF_OK)
            st = end_after(zone, end_day, q->end, t, &rel, err);
        if (st == MF_OK)
            st = cs_tz_offset(zone, t, &off_t, err);
        if (st == MF_OK)
            st = cs_tz_offset(zone, rel - 1, &off_r, err);
        if (st != MF_OK)
            return st;
        int64_t next = rel;
        if (off_t != off_r && (st = first_transition(zone, t, rel - 1, &next, err)) != MF_OK)
            return st;
        if ((st = wall_of(zone, next, &wall, &day, err)) != MF_OK)
            return st;
        if (!inside(q, wall)) {
            *out = next;
            return MF_OK;
        }
        t = next;
    }
    return mf_error_set(err, MF_ERR_RANGE, "", "quiet hours do not end within eight clock changes");
}

mf_status cs_quiet_check(const char *zone, const cs_quiet_hours *q, int64_t now_ms, bool *quiet, int64_t *release_ms,
                         mf_error *err)
{
    *quiet = false;
    *release_ms = now_ms;
    if (!q->enabled)
        return MF_OK;
    int64_t t = cs_floor_div(now_ms, 1000), rel = 0;
    int32_t wall;
    int64_t day;
    mf_status st = wall_of(zone, t, &wall, &day, err);
    if (st != MF_OK || !inside(q, wall))
        return st;
    if ((st = release_of(zone, q, t, &rel, err)) != MF_OK)
        return st;
    *quiet = true;
    *release_ms = rel * 1000;
    return MF_OK;
}

static int cmp_zone(const void *a, const void *b)
{
    const cs_quiet_item *x = *(const cs_quiet_item *const *)a, *y = *(const cs_quiet_item *const *)b;
    return strcmp(x->zone ? x->zone : "", y->zone ? y->zone : "");
}

mf_status cs_quiet_check_many(cs_quiet_item *items, size_t n, int64_t now_ms)
{
    size_t m = 0;
    cs_quiet_item **order = n ? malloc(n * sizeof *order) : NULL;
    if (n && !order)
        return MF_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        items[i].quiet = false;
        items[i].release_ms = now_ms;
        items[i].status = MF_OK;
        if (items[i].hours.enabled)
            order[m++] = &items[i];
    }
    if (m > 1)
        qsort(order, m, sizeof *order, cmp_zone);
    for (size_t i = 0; i < m; i++) {
        cs_quiet_item *it = order[i];
        it->status = cs_quiet_check(it->zone, &it->hours, now_ms, &it->quiet, &it->release_ms, NULL);
    }
    free(order);
    if (m)
        cs_tz_restore();
    return MF_OK;
}
