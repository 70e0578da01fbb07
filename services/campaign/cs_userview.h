/*
 * cs_userview.h - the Campaign Service's own view of the users, built from the User Service's
 * events and kept in its database (table cs_users), so targeting works after a restart.
 *
 * Events and what they change:
 *   user.info.update      `changes` holds the changed profile fields - or, on a republish, the
 *                         whole profile. Fields read (others are ignored):
 *                           name, email, language, timezone (strings, null clears),
 *                           plan ("free" | "premium"), registered_at (date-time),
 *                           last_activity (date-time, null = none), preferences (the
 *                           contract's NotificationPreferences), deleted (true: the
 *                           account was deleted at updated_at, as account_deleted below).
 *                         A `changes` that does not decode against these rules (a bad email, an
 *                         unknown plan...) is refused whole: MF_ERR_* with the pointer, nothing
 *                         stored.
 *   user.analytics        user_registered: registered_at = timestamp when the view has none;
 *                         user_logged_in: last_activity = timestamp (if later);
 *                         account_deleted: the user is removed from targeting and the profile
 *                         fields are erased; other types change nothing.
 *   notification.preferences.update   the complete preferences.
 *
 * Order and duplicates. Events can arrive late, twice, or in another order than they were
 * made. The rule is "the newest value wins", per field, by the event's own time
 * (updated_at / timestamp), not by arrival:
 *   - each profile field keeps the updated_at of the value it holds; a change older than that
 *     is ignored for that field. Equal times: the later arrival wins (a duplicate writes the
 *     same value again: no effect);
 *   - last_activity only moves forward (max);
 *   - preferences are replaced whole when the event's updated_at is not older than the
 *     stored one (an event without updated_at counts as made when it was received);
 *   - a deletion at time T erases every field whose value is not newer than T and hides the
 *     user; a profile change made after T (a user re-created under the same id) shows it again.
 *     Changes older than the deletion that arrive after it stay erased.
 * A user is targetable ("live") once a user.info.update has been applied and no later
 * deletion hides it; a user known only from analytics or preferences events is not (its
 * profile is unknown). Preferences default to the contract's defaults (push and every
 * category on, no quiet hours) until a preferences event arrives.
 *
 * User ids are stored lower-case. Threads: one thread at a time (the sqlite3 handle's).
 * The caller may group many applies in one transaction (cs_db_begin/commit); each apply is
 * otherwise its own statement.
 */
#ifndef CS_USERVIEW_H
#define CS_USERVIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include "cs_quiet.h"
#include "mf/status.h"
#include "mf_sdk/types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CS_NO_TIME INT64_MIN /* an unknown instant */

/* One user as the view knows it. Strings are owned (cs_user_free), NULL when unknown - or, when
 * read with cs_userview_row_in into a cs_user_texts, the texts' (text NULL). */
typedef struct cs_user {
    char user_id[37];
    char *name, *email, *language, *timezone, *plan; /* NULL, or into text (or a cs_user_texts) */
    char *text;                                        /* owns the five strings: one block (or NULL) */
    int64_t registered_at, last_activity; /* ms or CS_NO_TIME */
    bool live;
    bool push_enabled, email_enabled, sms_enabled;
    bool cat_marketing, cat_updates, cat_security;
    cs_quiet_hours quiet;
} cs_user;

void cs_user_free(cs_user *u);

typedef struct cs_userview cs_userview;

/* Prepares the view's statements on db (already migrated by cs_db_open). */
mf_status cs_userview_open(sqlite3 *db, cs_userview **out, mf_error *err);
void cs_userview_close(cs_userview *v);

mf_status cs_userview_apply_update(cs_userview *v, const mf_user_info_update *ev, mf_error *err);
mf_status cs_userview_apply_analytics(cs_userview *v, const mf_user_analytics_event *ev, mf_error *err);
/* received_ms stands in for a missing updated_at. */
mf_status cs_userview_apply_preferences(cs_userview *v, const mf_preferences_update *ev, int64_t received_ms,
                                        mf_error *err);

/* Reads one user (any case of id). *found false when the view has no row for it. */
mf_status cs_userview_get(cs_userview *v, const char *user_id, cs_user *out, bool *found, mf_error *err);

/* The view's columns a batch of targets needs, for a SELECT over cs_users AS u (the ledger reads a
 * batch's targets and their users), read with cs_userview_row: what the engine decides and writes
 * with (the profile's texts but plan, whether the user is live, push and the categories, quiet
 * hours). Not read, so left unknown in the cs_user: plan (NULL), registered_at and last_activity
 * (CS_NO_TIME), email_enabled and sms_enabled (false): five fewer columns per target (callgrind:
 * a row over cs_users with its columns read 8.9 k instructions with all eighteen, 6.8 k with
 * these thirteen). cs_userview_get reads every field. */
#define CS_USERVIEW_COLUMNS                                                                                      \
    "u.user_id, u.name, u.email, u.language, u.timezone, "                                                      \
    "(u.profile_at IS NOT NULL AND (u.deleted_at IS NULL OR u.profile_at > u.deleted_at)), u.push_enabled, "  \
    "u.cat_marketing, u.cat_updates, u.cat_security, u.quiet_enabled, u.quiet_start, u.quiet_end"

/* Reads the CS_USERVIEW_COLUMNS that start at column `first` of st's current row. *found false
 * (and *out empty) when they are NULL: a LEFT JOIN found no user. MF_ERR_NOMEM. */
mf_status cs_userview_row(sqlite3_stmt *st, int first, cs_user *out, bool *found, mf_error *err);

/*
 * Storage for the strings of many users (a batch's view rows): blocks kept from batch to batch,
 * so that reading a row allocates nothing once the storage has grown to a batch's size (one
 * malloc per row, freed per row after the batch, left ~1,000 small chunks per batch in glibc's
 * fast bins for malloc_consolidate to walk). Users read into it do not own their strings: text
 * is NULL (cs_user_free frees nothing of them, and may still be called) and the strings stay
 * valid until the next cs_user_texts_reset or cs_user_texts_free. Zero-initialised is empty.
 * One thread at a time.
 */
typedef struct cs_user_texts {
    struct cs_text_block *blocks; /* newest first; the first is written */
} cs_user_texts;

/* Forgets every string (the users read into it must not be used any more); keeps the largest
 * block for the next batch. */
void cs_user_texts_reset(cs_user_texts *t);
void cs_user_texts_free(cs_user_texts *t);

/* As cs_userview_row, the strings copied into texts (NULL: into out->text, as cs_userview_row). */
mf_status cs_userview_row_in(sqlite3_stmt *st, int first, cs_user_texts *texts, cs_user *out, bool *found,
                             mf_error *err);

/* Number of live users. */
mf_status cs_userview_count(cs_userview *v, int64_t *live, mf_error *err);

/* The SQL condition of a live user over table cs_users (for cs_target). */
#define CS_USER_LIVE "(profile_at IS NOT NULL AND (deleted_at IS NULL OR profile_at > deleted_at))"

#ifdef __cplusplus
}
#endif
#endif /* CS_USERVIEW_H */
