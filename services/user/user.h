/*
 * user.h - the User Service's user: its C struct, its JSON shapes, its rules.
 *
 * A user has an id (UUID, stored in lowercase), email, name, language (the
 * contract's "xx-YY" tag), timezone (an IANA name of the system's tz
 * database), plan (free or premium), registered_at and last_activity (RFC 3339
 * UTC with milliseconds; last_activity is null until the first login) and the
 * contract's NotificationPreferences.
 *
 * The admin API's JSON shapes of a user are codec descriptors (mf/codec.h)
 * built once at start from the contract's own field types: the email, language
 * and user_id rules are those of UserInfoReply/UserInfoRequest, timestamps are
 * the contract's date-time, preferences are NotificationPreferences. So the
 * admin API accepts exactly what the contract allows, errors carry a JSON
 * pointer, and no JSON is written by hand:
 *   us_user_create_type   POST /users and import lines: email and name required,
 *                         the rest optional; unknown members rejected
 *   us_user_patch_type    PATCH /users/{id}: email, name, language, timezone, plan
 *   us_user_full_type     what the API answers: every member
 *   us_user_changes_type  the `changes` object of user.info.update
 *   us_user_page_type     GET /users: {"users": [...], "next": "<user_id>"}
 *
 * Threads: us_user_types_init runs once before threads start; everything else
 * is pure and may run on any thread.
 */
#ifndef US_USER_H
#define US_USER_H

#include <stdbool.h>
#include <stddef.h>

#include "mf/codec.h"
#include "mf_sdk/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum us_plan { US_PLAN_UNSET = 0, US_PLAN_FREE = 1, US_PLAN_PREMIUM = 2 } us_plan;

/* Every member has a presence flag: the same struct serves all the shapes above. */
typedef struct us_user {
    bool has_user_id;
    char *user_id;
    bool has_email;
    char *email;
    bool has_name;
    char *name;
    bool has_language;
    char *language;
    bool has_timezone;
    char *timezone;
    bool has_plan;
    int plan;                          /* us_plan */
    bool has_registered_at;
    char *registered_at;
    bool has_last_activity;
    bool last_activity_is_null;
    char *last_activity;
    bool has_preferences;
    mf_notification_preferences preferences;
    bool has_updated_at;
    char *updated_at;
    bool has_deleted;                  /* only in the changes of a deletion */
    bool deleted;
} us_user;

typedef struct us_user_page {
    struct {
        us_user *items;
        size_t count;
    } users;
    bool has_next;
    char *next;
} us_user_page;

/* Loose view of an invalid user.info.request: any JSON object, user_id any string. */
typedef struct us_loose_request {
    bool has_user_id;
    char *user_id;
} us_loose_request;

extern const mf_type *us_user_create_type;
extern const mf_type *us_user_patch_type;
extern const mf_type *us_user_full_type;
extern const mf_type *us_user_changes_type;
extern const mf_type *us_user_page_type;
extern const mf_type *us_loose_request_type;

/* Builds the descriptors from the contract's. Call once before anything else;
 * exits the process with a message if the contract lacks a field used here. */
void us_user_types_init(void);

/* Defaults and rules ----------------------------------------------------- */

#define US_DEFAULT_LANGUAGE "en-US"
#define US_DEFAULT_TIMEZONE "UTC"
#define US_NAME_MAX 200 /* code points */

void us_user_init(us_user *u);
void us_user_free(us_user *u);
/* Deep copy; *dst must hold no memory. MF_ERR_NOMEM. */
mf_status us_user_copy(us_user *dst, const us_user *src);

/*
 * Checks what the codec cannot (the timezone is in the tz database) and
 * normalises a decoded create/patch body in place: user_id in lowercase,
 * timestamps in UTC with milliseconds. Errors: MF_ERR_FORMAT with
 * err->pointer naming the member.
 */
mf_status us_user_normalize(us_user *u, mf_error *err);

/* Fills the members a new user lacks: user_id (a new UUIDv4), language,
 * timezone, plan, registered_at (now), last_activity (null), preferences
 * (the contract's defaults). `now` is an RFC 3339 timestamp. */
mf_status us_user_fill_defaults(us_user *u, const char *now, mf_error *err);

/* Copies into *dst every member present in src (profile members and
 * preferences; never user_id). MF_ERR_NOMEM. */
mf_status us_user_merge(us_user *dst, const us_user *src);

/*
 * The profile members (email, name, language, timezone, plan, registered_at,
 * last_activity) that differ between old and new, as a changes object:
 * *changes (which must hold no memory) gets a us_user with only those members
 * present, all of them when old is NULL; *n how many. MF_ERR_NOMEM.
 */
mf_status us_user_diff(const us_user *old, const us_user *new_, us_user *changes, size_t *n);

/* True when the preferences differ (or old is NULL). */
bool us_user_prefs_differ(const us_user *old, const us_user *new_);

const char *us_plan_name(int plan);

#ifdef __cplusplus
}
#endif
#endif /* US_USER_H */
