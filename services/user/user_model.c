/*
 * user_model.c - defaults, rules and differences of users (user.h).
 */
#include <stdlib.h>
#include <string.h>

#include "svc_id.h"
#include "svc_time.h"
#include "svc_tz.h"
#include "user.h"

void us_user_init(us_user *u)
{
    mf_init(us_user_full_type, u);
}

void us_user_free(us_user *u)
{
    mf_free(us_user_full_type, u);
}

mf_status us_user_copy(us_user *dst, const us_user *src)
{
    return mf_copy(us_user_full_type, dst, src, NULL);
}

const char *us_plan_name(int plan)
{
    return plan == US_PLAN_PREMIUM ? "premium" : plan == US_PLAN_FREE ? "free" : "?";
}

/* Replaces *slot with a copy of s. */
static mf_status set_str(char **slot, const char *s)
{
    char *c = strdup(s);
    if (!c)
        return MF_ERR_NOMEM;
    free(*slot);
    *slot = c;
    return MF_OK;
}

static mf_status normalize_time(char **slot, const char *pointer, mf_error *err)
{
    char t[SVC_TIME_LEN];
    if (!svc_time_normalize(*slot, t))
        return mf_error_set(err, MF_ERR_FORMAT, pointer, "not an RFC 3339 date-time");
    return set_str(slot, t) ? mf_error_set(err, MF_ERR_NOMEM, "", "out of memory") : MF_OK;
}

mf_status us_user_normalize(us_user *u, mf_error *err)
{
    char why[160];
    if (u->has_user_id) {
        char id[SVC_UUID_LEN];
        if (!svc_uuid_canon(u->user_id, id))
            return mf_error_set(err, MF_ERR_FORMAT, "/user_id", "not a UUID");
        memcpy(u->user_id, id, SVC_UUID_LEN); /* same length */
    }
    if (u->has_timezone && !svc_tz_valid(u->timezone, why, sizeof why))
        return mf_error_set(err, MF_ERR_FORMAT, "/timezone", "\"%s\": %s", u->timezone, why);
    mf_status st = MF_OK;
    if (u->has_registered_at)
        st = normalize_time(&u->registered_at, "/registered_at", err);
    if (st == MF_OK && u->has_last_activity && !u->last_activity_is_null)
        st = normalize_time(&u->last_activity, "/last_activity", err);
    return st;
}

mf_status us_user_fill_defaults(us_user *u, const char *now, mf_error *err)
{
    mf_status st = MF_OK;
    if (!u->has_user_id) {
        char id[SVC_UUID_LEN];
        if (svc_uuid_v4(id))
            return mf_error_set(err, MF_ERR_IO, "", "the random generator failed");
        st = set_str(&u->user_id, id);
        u->has_user_id = true;
    }
    if (st == MF_OK && !u->has_language)
        st = set_str(&u->language, US_DEFAULT_LANGUAGE), u->has_language = true;
    if (st == MF_OK && !u->has_timezone)
        st = set_str(&u->timezone, US_DEFAULT_TIMEZONE), u->has_timezone = true;
    if (!u->has_plan)
        u->plan = US_PLAN_FREE, u->has_plan = true;
    if (st == MF_OK && !u->has_registered_at)
        st = set_str(&u->registered_at, now), u->has_registered_at = true;
    if (!u->has_last_activity)
        u->has_last_activity = true, u->last_activity_is_null = true;
    if (!u->has_preferences) { /* decoding left the contract's defaults in place */
        mf_notification_preferences_free(&u->preferences);
        u->has_preferences = true;
    }
    return st ? mf_error_set(err, MF_ERR_NOMEM, "", "out of memory") : MF_OK;
}

mf_status us_user_merge(us_user *dst, const us_user *src)
{
    mf_status st = MF_OK;
#define TAKE_STR(m)                                                                                               \
    if (st == MF_OK && src->has_##m && !(st = set_str(&dst->m, src->m)))                                          \
        dst->has_##m = true;
    TAKE_STR(email)
    TAKE_STR(name)
    TAKE_STR(language)
    TAKE_STR(timezone)
    TAKE_STR(registered_at)
#undef TAKE_STR
    if (src->has_plan)
        dst->plan = src->plan, dst->has_plan = true;
    if (st == MF_OK && src->has_last_activity) {
        dst->has_last_activity = true;
        dst->last_activity_is_null = src->last_activity_is_null;
        if (!src->last_activity_is_null)
            st = set_str(&dst->last_activity, src->last_activity);
    }
    if (st == MF_OK && src->has_preferences) {
        mf_notification_preferences p;
        if (mf_notification_preferences_copy(&p, &src->preferences, NULL))
            return MF_ERR_NOMEM;
        mf_notification_preferences_free(&dst->preferences);
        dst->preferences = p;
        dst->has_preferences = true;
    }
    return st;
}

static bool str_differs(bool has_a, const char *a, bool has_b, const char *b)
{
    if (has_a != has_b)
        return true;
    return has_a && strcmp(a ? a : "", b ? b : "") != 0;
}

static bool activity_differs(const us_user *a, const us_user *b)
{
    bool na = !a->has_last_activity || a->last_activity_is_null;
    bool nb = !b->has_last_activity || b->last_activity_is_null;
    return na != nb || (!na && strcmp(a->last_activity, b->last_activity) != 0);
}

mf_status us_user_diff(const us_user *old, const us_user *nw, us_user *ch, size_t *n)
{
    us_user_init(ch);
    *n = 0;
    mf_status st = MF_OK;
#define DIFF_STR(m)                                                                                               \
    if (st == MF_OK && nw->has_##m && (!old || str_differs(old->has_##m, old->m, true, nw->m))) {                 \
        st = set_str(&ch->m, nw->m);                                                                              \
        ch->has_##m = true;                                                                                       \
        (*n)++;                                                                                                   \
    }
    DIFF_STR(email)
    DIFF_STR(name)
    DIFF_STR(language)
    DIFF_STR(timezone)
#undef DIFF_STR
    if (nw->has_plan && (!old || old->plan != nw->plan)) {
        ch->plan = nw->plan, ch->has_plan = true;
        (*n)++;
    }
    if (st == MF_OK && nw->has_registered_at &&
        (!old || str_differs(old->has_registered_at, old->registered_at, true, nw->registered_at))) {
        st = set_str(&ch->registered_at, nw->registered_at);
        ch->has_registered_at = true;
        (*n)++;
    }
    if (st == MF_OK && nw->has_last_activity && (!old || activity_differs(old, nw))) {
        ch->has_last_activity = true;
        ch->last_activity_is_null = nw->last_activity_is_null;
        if (!nw->last_activity_is_null)
            st = set_str(&ch->last_activity, nw->last_activity);
        (*n)++;
    }
    if (st)
        us_user_free(ch);
    return st;
}

bool us_user_prefs_differ(const us_user *old, const us_user *nw)
{
    return !old || !mf_notification_preferences_equal(&old->preferences, &nw->preferences);
}
