/*
 * user_events.h - the events a change of a user announces.
 *
 * Each stored change records its events in the store's outbox inside the
 * change's transaction (svc_outbox.h), in this order:
 *   1. user.info.update                 changes = only the profile members that
 *                                       changed (all of them for a new user;
 *                                       {"deleted": true} for a deletion)
 *   2. user.analytics                   user_registered | user_logged_in |
 *                                       profile_updated | preferences_changed |
 *                                       account_deleted (one per fact)
 *   3. notification.preferences.update  when the preferences changed (and for
 *                                       every new user)
 * A change that changes nothing announces nothing.
 *
 * Threads: whichever thread owns the store.
 */
#ifndef US_USER_EVENTS_H
#define US_USER_EVENTS_H

#include "svc_outbox.h"
#include "user.h"
#include "user_store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The outbox kinds of the User Service, published through its typed send functions. */
extern const svc_outbox_kind us_event_kinds[];
extern const size_t us_event_kind_count;

typedef enum us_cause {
    US_CAUSE_CREATED = 1, /* a new user */
    US_CAUSE_UPDATED,     /* profile and/or preferences edited */
    US_CAUSE_LOGIN        /* a login: last_activity moved */
} us_cause;

/* What a change announced. */
typedef struct us_announced {
    size_t changes;       /* profile members changed */
    bool prefs_changed;
    size_t events;        /* events recorded */
} us_announced;

/*
 * Records the events of the change old -> nw (old NULL for a new user); `now`
 * is the change's RFC 3339 time (updated_at of the events). Inside a
 * transaction of s. Codec errors mean an event would break the contract:
 * the caller rolls back.
 */
mf_status us_events_change(us_store *s, const us_user *old, const us_user *nw, us_cause cause, const char *now,
                           us_announced *out, mf_error *err);

/* A deletion: user.info.update {"deleted": true}, user.analytics account_deleted. */
mf_status us_events_deleted(us_store *s, const char *user_id, const char *now, mf_error *err);

/* A republish of a deletion: user.info.update {"deleted": true} alone (the account_deleted
 * analytics event went out with the deletion). */
mf_status us_events_tombstone(us_store *s, const char *user_id, const char *now, mf_error *err);

/* A republish of a stored user: user.info.update with the full profile, and its preferences. */
mf_status us_events_snapshot(us_store *s, const us_user *u, const char *now, mf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* US_USER_EVENTS_H */
