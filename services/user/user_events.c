/*
 * user_events.c - contract events of user changes, through the outbox (user_events.h).
 *
 * The messages are the generated structs, filled with borrowed pointers (the
 * outbox only encodes them) and published later by the generated typed send
 * functions; the `changes` object is encoded by the codec from a us_user.
 */
#include <string.h>

#include "mf_sdk/user_service.h"
#include "svc_id.h"
#include "user_events.h"

static mf_status send_info_update(mf_client *c, const void *msg, mf_error *err)
{
    return user_service_send_user_info_update(c, msg, err);
}

static mf_status send_analytics(mf_client *c, const void *msg, mf_error *err)
{
    return user_service_send_user_analytics(c, msg, err);
}

static mf_status send_preferences(mf_client *c, const void *msg, mf_error *err)
{
    return user_service_send_preferences_update(c, msg, err);
}

enum { K_INFO, K_ANALYTICS, K_PREFS };

const svc_outbox_kind us_event_kinds[] = {
    [K_INFO] = {"user.info.update", &mf_user_info_update_desc, send_info_update},
    [K_ANALYTICS] = {"user.analytics", &mf_user_analytics_event_desc, send_analytics},
    [K_PREFS] = {"notification.preferences.update", &mf_preferences_update_desc, send_preferences},
};
const size_t us_event_kind_count = sizeof us_event_kinds / sizeof us_event_kinds[0];

/* user.info.update with `changes` encoded from ch. */
static mf_status emit_info(us_store *s, const char *user_id, const us_user *ch, const char *now, mf_error *err)
{
    mf_buf json = MF_BUF_INIT;
    mf_status st = mf_encode(us_user_changes_type, ch, &json, err);
    if (st == MF_OK) {
        mf_user_info_update m;
        mf_user_info_update_init(&m);
        m.user_id = (char *)user_id;
        m.has_changes = true;
        m.changes = json.data;
        m.updated_at = (char *)now;
        st = us_store_emit(s, &us_event_kinds[K_INFO], &m, err);
    }
    mf_buf_free(&json);
    return st;
}

static mf_status emit_analytics(us_store *s, const char *user_id, mf_user_analytics_event_event_type type,
                                const char *when, mf_error *err)
{
    char id[SVC_UUID_LEN];
    if (svc_uuid_v4(id))
        return mf_error_set(err, MF_ERR_IO, "", "the random generator failed");
    mf_user_analytics_event m;
    mf_user_analytics_event_init(&m);
    m.event_id = id;
    m.event_type = type;
    m.user_id = (char *)user_id;
    m.timestamp = (char *)when;
    return us_store_emit(s, &us_event_kinds[K_ANALYTICS], &m, err);
}

static mf_status emit_prefs(us_store *s, const us_user *u, const char *now, mf_error *err)
{
    mf_preferences_update m;
    mf_preferences_update_init(&m);
    m.user_id = u->user_id;
    m.preferences = u->preferences; /* shallow: only encoded */
    m.has_updated_at = true;
    m.updated_at = (char *)now;
    return us_store_emit(s, &us_event_kinds[K_PREFS], &m, err);
}

mf_status us_events_change(us_store *s, const us_user *old, const us_user *nw, us_cause cause, const char *now,
                           us_announced *out, mf_error *err)
{
    memset(out, 0, sizeof *out);
    us_user ch;
    mf_status st = us_user_diff(old, nw, &ch, &out->changes);
    if (st)
        return mf_error_set(err, st, "", "out of memory");
    out->prefs_changed = us_user_prefs_differ(old, nw);
    const char *id = nw->user_id;
    if (out->changes)
        st = emit_info(s, id, &ch, now, err), out->events++;
    us_user_free(&ch);
    if (st == MF_OK && cause == US_CAUSE_CREATED)
        st = emit_analytics(s, id, MF_USER_ANALYTICS_EVENT_EVENT_TYPE_USER_REGISTERED, nw->registered_at, err),
        out->events++;
    if (st == MF_OK && cause == US_CAUSE_LOGIN)
        st = emit_analytics(s, id, MF_USER_ANALYTICS_EVENT_EVENT_TYPE_USER_LOGGED_IN, now, err), out->events++;
    if (st == MF_OK && cause == US_CAUSE_UPDATED && out->changes)
        st = emit_analytics(s, id, MF_USER_ANALYTICS_EVENT_EVENT_TYPE_PROFILE_UPDATED, now, err), out->events++;
    if (st == MF_OK && cause != US_CAUSE_CREATED && out->prefs_changed)
        st = emit_analytics(s, id, MF_USER_ANALYTICS_EVENT_EVENT_TYPE_PREFERENCES_CHANGED, now, err),
        out->events++;
    if (st == MF_OK && out->prefs_changed)
        st = emit_prefs(s, nw, now, err), out->events++;
    return st;
}

mf_status us_events_deleted(us_store *s, const char *user_id, const char *now, mf_error *err)
{
    us_user ch;
    us_user_init(&ch);
    ch.has_deleted = true;
    ch.deleted = true;
    mf_status st = emit_info(s, user_id, &ch, now, err);
    if (st == MF_OK)
        st = emit_analytics(s, user_id, MF_USER_ANALYTICS_EVENT_EVENT_TYPE_ACCOUNT_DELETED, now, err);
    return st;
}

mf_status us_events_tombstone(us_store *s, const char *user_id, const char *now, mf_error *err)
{
    us_user ch;
    us_user_init(&ch);
    ch.has_deleted = true;
    ch.deleted = true;
    return emit_info(s, user_id, &ch, now, err);
}

mf_status us_events_snapshot(us_store *s, const us_user *u, const char *now, mf_error *err)
{
    us_user ch;
    size_t n;
    mf_status st = us_user_diff(NULL, u, &ch, &n);
    if (st)
        return mf_error_set(err, st, "", "out of memory");
    st = emit_info(s, u->user_id, &ch, now, err);
    us_user_free(&ch);
    if (st == MF_OK)
        st = emit_prefs(s, u, now, err);
    return st;
}
