/*
 * user_ops.c - the User Service's operations (user_service.h).
 *
 * Each operation reads what it needs, computes the new user, stores it and
 * records its events, all in one transaction: either the change and its
 * announcement are both committed, or neither is. The outbox publisher is
 * woken after the commit.
 */
#include <stdlib.h>
#include <string.h>

#include "svc_log.h"
#include "svc_time.h"
#include "user_service.h"

/* Takes the result of a transaction's body: commits (and wakes the outbox) or rolls back. */
static mf_status finish(us_ctx *c, mf_status st, mf_error *err)
{
    if (st == MF_OK)
        st = us_store_commit(c->store, err);
    else
        us_store_rollback(c->store);
    if (st == MF_OK)
        svc_outbox_kick(svc_app_outbox(c->app));
    return st;
}

/* Stores a new user (defaults filled) and records its events. Inside a transaction. */
static mf_status apply_create(us_store *s, us_user *u, const char *now, mf_error *err)
{
    mf_status st = us_user_fill_defaults(u, now, err);
    if (st)
        return st;
    free(u->updated_at);
    u->updated_at = strdup(now);
    u->has_updated_at = u->updated_at != NULL;
    if (!u->updated_at)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    st = us_store_insert(s, u, err);
    us_announced a;
    if (st == MF_OK)
        st = us_events_change(s, NULL, u, US_CAUSE_CREATED, now, &a, err);
    return st;
}

typedef mf_status (*edit_fn)(us_user *u, const void *arg, const char *now);

/*
 * Reads user id, applies `edit` to a copy, and when that changed anything stores
 * it and records the events. *out (may be NULL) receives the user as stored.
 * Inside a transaction.
 */
static mf_status apply_edit(us_store *s, const char *id, us_cause cause, edit_fn edit, const void *arg,
                            const char *now, us_user *out, us_announced *ann, mf_error *err)
{
    us_user old, nw;
    mf_status st = us_store_get(s, id, &old, err);
    if (st)
        return st;
    st = us_user_copy(&nw, &old);
    if (st) {
        us_user_free(&old);
        return mf_error_set(err, st, "", "out of memory");
    }
    st = edit(&nw, arg, now);
    if (st)
        mf_error_set(err, st, "", "out of memory");
    if (st == MF_OK)
        st = us_events_change(s, &old, &nw, cause, now, ann, err);
    if (st == MF_OK && (ann->changes || ann->prefs_changed)) {
        char *upd = strdup(now);
        free(nw.updated_at);
        nw.updated_at = upd;
        st = upd ? us_store_update(s, &nw, err) : mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    us_user_free(&old);
    if (st == MF_OK && out)
        *out = nw; /* moved */
    else
        us_user_free(&nw);
    return st;
}

static mf_status edit_merge(us_user *u, const void *arg, const char *now)
{
    (void)now;
    return us_user_merge(u, arg);
}

static mf_status edit_prefs(us_user *u, const void *arg, const char *now)
{
    (void)now;
    mf_notification_preferences p;
    if (mf_notification_preferences_copy(&p, arg, NULL))
        return MF_ERR_NOMEM;
    mf_notification_preferences_free(&u->preferences);
    u->preferences = p;
    return MF_OK;
}

static mf_status edit_login(us_user *u, const void *arg, const char *now)
{
    (void)arg;
    char *t = strdup(now);
    if (!t)
        return MF_ERR_NOMEM;
    free(u->last_activity);
    u->last_activity = t;
    u->has_last_activity = true;
    u->last_activity_is_null = false;
    return MF_OK;
}

/* ------------------------------------------------------------ operations */

mf_status us_op_create(us_ctx *c, us_user *in, us_user *out, mf_error *err)
{
    char now[SVC_TIME_LEN];
    svc_time_format(svc_now_ms(), now);
    mf_status st = us_store_begin(c->store, err);
    if (st)
        return st;
    st = finish(c, apply_create(c->store, in, now, err), err);
    if (st == MF_OK) {
        *out = *in; /* moved */
        us_user_init(in);
        SVC_INFO("user created user_id=%s", out->user_id);
    }
    return st;
}

static mf_status edit_op(us_ctx *c, const char *id, us_cause cause, edit_fn edit, const void *arg, us_user *out,
                         const char *what, mf_error *err)
{
    char now[SVC_TIME_LEN];
    svc_time_format(svc_now_ms(), now);
    mf_status st = us_store_begin(c->store, err);
    if (st)
        return st;
    us_announced ann;
    memset(&ann, 0, sizeof ann);
    st = finish(c, apply_edit(c->store, id, cause, edit, arg, now, out, &ann, err), err);
    if (st == MF_OK)
        SVC_INFO("user %s user_id=%s changed=%zu preferences_changed=%s events=%zu", what, id, ann.changes,
                 ann.prefs_changed ? "true" : "false", ann.events);
    return st;
}

mf_status us_op_patch(us_ctx *c, const char *id, const us_user *patch, us_user *out, mf_error *err)
{
    return edit_op(c, id, US_CAUSE_UPDATED, edit_merge, patch, out, "updated", err);
}

mf_status us_op_preferences(us_ctx *c, const char *id, const mf_notification_preferences *p, us_user *out,
                            mf_error *err)
{
    return edit_op(c, id, US_CAUSE_UPDATED, edit_prefs, p, out, "preferences set", err);
}

mf_status us_op_login(us_ctx *c, const char *id, us_user *out, mf_error *err)
{
    return edit_op(c, id, US_CAUSE_LOGIN, edit_login, NULL, out, "logged in", err);
}

bool us_tombstone_horizon(const us_ctx *c, char out[SVC_TIME_LEN])
{
    if (c->opt.tombstone_days <= 0)
        return false;
    svc_time_format(svc_now_ms() - (int64_t)c->opt.tombstone_days * 86400000, out);
    return true;
}

/* Forgets the tombstones older than --tombstone-days (none with 0). Inside a transaction. */
static mf_status prune_tombstones(us_ctx *c, int64_t *pruned, char before[SVC_TIME_LEN], mf_error *err)
{
    *pruned = 0;
    return us_tombstone_horizon(c, before) ? us_store_prune_deleted(c->store, before, pruned, err) : MF_OK;
}

static void log_pruned(int64_t pruned, const char *before)
{
    if (pruned > 0)
        SVC_INFO("tombstones pruned=%lld deleted_before=%s", (long long)pruned, before);
}

mf_status us_op_prune_tombstones(us_ctx *c, mf_error *err)
{
    char before[SVC_TIME_LEN];
    int64_t pruned;
    mf_status st = us_store_begin(c->store, err);
    if (st)
        return st;
    st = finish(c, prune_tombstones(c, &pruned, before, err), err);
    if (st == MF_OK)
        log_pruned(pruned, before);
    return st;
}

mf_status us_op_delete(us_ctx *c, const char *id, mf_error *err)
{
    char now[SVC_TIME_LEN], before[SVC_TIME_LEN];
    int64_t pruned = 0;
    svc_time_format(svc_now_ms(), now);
    mf_status st = us_store_begin(c->store, err);
    if (st)
        return st;
    st = us_store_remove(c->store, id, err);
    if (st == MF_OK)
        st = us_events_deleted(c->store, id, now, err);
    if (st == MF_OK) /* each deletion takes the old tombstones with it: they stay bounded */
        st = prune_tombstones(c, &pruned, before, err);
    st = finish(c, st, err);
    if (st == MF_OK) {
        SVC_INFO("user deleted user_id=%s", id);
        log_pruned(pruned, before);
    }
    return st;
}

typedef struct republish_ctx {
    us_store *s;
    const char *now;
    int64_t n, deleted;
} republish_ctx;

static mf_status republish_one(const us_user *u, void *arg, mf_error *err)
{
    republish_ctx *r = arg;
    r->n++;
    return us_events_snapshot(r->s, u, r->now, err);
}

static mf_status republish_deleted(const char *user_id, void *arg, mf_error *err)
{
    republish_ctx *r = arg;
    r->deleted++;
    return us_events_tombstone(r->s, user_id, r->now, err);
}

mf_status us_op_republish(us_ctx *c, const char *since, int64_t *users, int64_t *deleted, mf_error *err)
{
    char now[SVC_TIME_LEN];
    svc_time_format(svc_now_ms(), now);
    republish_ctx r = {c->store, now, 0, 0};
    mf_status st = us_store_begin(c->store, err);
    if (st)
        return st;
    st = us_store_each(c->store, since, republish_one, &r, err);
    if (st == MF_OK)
        st = us_store_each_deleted(c->store, since, republish_deleted, &r, err);
    st = finish(c, st, err);
    *users = st == MF_OK ? r.n : 0;
    *deleted = st == MF_OK ? r.deleted : 0;
    if (st == MF_OK)
        SVC_INFO("republish queued since=%s users=%lld deleted=%lld events=%lld", since ? since : "(all)",
                 (long long)r.n, (long long)r.deleted, (long long)(r.n * 2 + r.deleted));
    return st;
}

mf_status us_apply_upsert(us_store *s, us_user *in, us_outcome *outcome, mf_error *err)
{
    char now[SVC_TIME_LEN];
    svc_time_format(svc_now_ms(), now);
    if (in->has_user_id) {
        us_announced ann;
        memset(&ann, 0, sizeof ann);
        mf_status st = apply_edit(s, in->user_id, US_CAUSE_UPDATED, edit_merge, in, now, NULL, &ann, err);
        if (st != MF_ERR_NOT_FOUND) {
            *outcome = ann.changes || ann.prefs_changed ? US_OUT_UPDATED : US_OUT_UNCHANGED;
            return st;
        }
        mf_error_clear(err);
    }
    *outcome = US_OUT_CREATED;
    return apply_create(s, in, now, err);
}
