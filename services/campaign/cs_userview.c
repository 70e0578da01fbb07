/* cs_userview.c - see cs_userview.h. */
#include "cs_userview.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cs_db.h"
#include "cs_time.h"

/* ---- the `changes` object, decoded by the codec with these hand-written descriptors ---- */

typedef enum cs_plan { CS_PLAN_FREE = 1, CS_PLAN_PREMIUM = 2 } cs_plan;

typedef struct cs_profile_changes {
    bool has_name, name_is_null;
    char *name;
    bool has_email, email_is_null;
    char *email;
    bool has_language, language_is_null;
    char *language;
    bool has_timezone, timezone_is_null;
    char *timezone;
    bool has_plan;
    cs_plan plan;
    bool has_registered_at;
    char *registered_at;
    bool has_last_activity, last_activity_is_null;
    char *last_activity;
    bool has_preferences;
    mf_notification_preferences preferences;
    bool has_deleted;
    bool deleted;
} cs_profile_changes;

static const mf_type str_t = {.kind = MF_K_STR, .name = "string", .size = sizeof(char *)};
static const mf_type email_t = {.kind = MF_K_STR, .name = "email", .size = sizeof(char *), .format = MF_FMT_EMAIL};
static const mf_type time_t_ = {.kind = MF_K_STR, .name = "date-time", .size = sizeof(char *),
                                .format = MF_FMT_DATE_TIME};
static mf_pattern language_re = {.source = "^[a-z]{2}-[A-Z]{2}$", .ere = "^[a-z]{2}-[A-Z]{2}$"};
static const mf_type language_t = {.kind = MF_K_STR, .name = "language", .size = sizeof(char *),
                                   .pattern = &language_re};
static const mf_type bool_t = {.kind = MF_K_BOOL, .name = "bool", .size = sizeof(bool)};
static const char *const plan_values[] = {"free", "premium"};
static const mf_type plan_t = {.kind = MF_K_ENUM, .name = "plan", .size = sizeof(cs_plan),
                               .enum_values = plan_values, .enum_count = 2};

#define OPT(m, T) \
    {.name = #m, .type = &(T), .offset = offsetof(cs_profile_changes, m), \
     .has_offset = (int32_t)offsetof(cs_profile_changes, has_##m), .null_offset = -1}
#define NULLABLE(m, T) \
    {.name = #m, .type = &(T), .offset = offsetof(cs_profile_changes, m), \
     .has_offset = (int32_t)offsetof(cs_profile_changes, has_##m), \
     .null_offset = (int32_t)offsetof(cs_profile_changes, m##_is_null)}

static const mf_field changes_fields[] = {
    NULLABLE(name, str_t),     NULLABLE(email, email_t),       NULLABLE(language, language_t),
    NULLABLE(timezone, str_t), OPT(plan, plan_t),              OPT(registered_at, time_t_),
    NULLABLE(last_activity, time_t_), OPT(preferences, mf_notification_preferences_desc), OPT(deleted, bool_t),
};
static const mf_type changes_desc = {.kind = MF_K_OBJ, .name = "user changes", .size = sizeof(cs_profile_changes),
                                     .fields = changes_fields,
                                     .field_count = sizeof changes_fields / sizeof *changes_fields};

/* ---- statements ---- */

struct cs_userview {
    sqlite3 *db;
    sqlite3_stmt *ensure, *profile, *prefs, *registered, *activity, *deleted, *get, *count;
};

/* Profile columns with a per-field time, in the order of the profile statement's parameters. */
static const char *const profile_cols[] = {"name", "email", "language", "timezone", "plan", "registered_at"};
#define N_PROFILE 6

static char *profile_sql(void)
{
    /* ?1 user, ?2 updated_at, then (has, value) per field, then ?15 last_activity */
    static char sql[4096];
    size_t n = (size_t)snprintf(sql, sizeof sql, "UPDATE cs_users SET ");
    for (int i = 0; i < N_PROFILE; i++) {
        const char *c = profile_cols[i];
        int h = 3 + 2 * i, v = 4 + 2 * i;
        n += (size_t)snprintf(sql + n, sizeof sql - n,
                              "%s = CASE WHEN ?%d AND (%s_at IS NULL OR %s_at <= ?2) THEN ?%d ELSE %s END, "
                              "%s_at = CASE WHEN ?%d AND (%s_at IS NULL OR %s_at <= ?2) THEN ?2 ELSE %s_at END, ",
                              c, h, c, c, v, c, c, h, c, c, c);
    }
    snprintf(sql + n, sizeof sql - n,
             "last_activity = CASE WHEN ?15 IS NOT NULL AND (last_activity IS NULL OR last_activity < ?15) "
             "THEN ?15 ELSE last_activity END, "
             "profile_at = CASE WHEN profile_at IS NULL OR profile_at < ?2 THEN ?2 ELSE profile_at END "
             "WHERE user_id = ?1");
    return sql;
}

static char *deleted_sql(void)
{
    static char sql[4096];
    size_t n = (size_t)snprintf(sql, sizeof sql,
                                "UPDATE cs_users SET deleted_at = CASE WHEN deleted_at IS NULL OR deleted_at < ?2 "
                                "THEN ?2 ELSE deleted_at END, ");
    for (int i = 0; i < N_PROFILE; i++) {
        const char *c = profile_cols[i];
        n += (size_t)snprintf(sql + n, sizeof sql - n,
                              "%s = CASE WHEN %s_at IS NULL OR %s_at <= ?2 THEN NULL ELSE %s END, "
                              "%s_at = CASE WHEN %s_at IS NULL OR %s_at <= ?2 THEN ?2 ELSE %s_at END, ",
                              c, c, c, c, c, c, c, c);
    }
    snprintf(sql + n, sizeof sql - n, "last_activity = NULL WHERE user_id = ?1");
    return sql;
}

/* Every field of a user, in read_user's order. */
#define USER_COLUMNS                                                                                             \
    "u.user_id, u.name, u.email, u.language, u.timezone, u.plan, u.registered_at, u.last_activity, "          \
    "(u.profile_at IS NOT NULL AND (u.deleted_at IS NULL OR u.profile_at > u.deleted_at)), u.push_enabled, "  \
    "u.email_enabled, u.sms_enabled, u.cat_marketing, u.cat_updates, u.cat_security, u.quiet_enabled, "       \
    "u.quiet_start, u.quiet_end"

static const char *const GET_SQL = "SELECT " USER_COLUMNS " FROM cs_users AS u WHERE u.user_id = ?1";

mf_status cs_userview_open(sqlite3 *db, cs_userview **out, mf_error *err)
{
    *out = NULL;
    cs_userview *v = calloc(1, sizeof *v);
    if (!v)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    v->db = db;
    mf_status s = cs_db_prepare(db, "INSERT INTO cs_users(user_id) VALUES (?1) ON CONFLICT(user_id) DO NOTHING",
                                &v->ensure, err);
    if (s == MF_OK)
        s = cs_db_prepare(db, profile_sql(), &v->profile, err);
    if (s == MF_OK)
        s = cs_db_prepare(db,
                          "UPDATE cs_users SET push_enabled = ?3, email_enabled = ?4, sms_enabled = ?5, "
                          "cat_marketing = ?6, cat_updates = ?7, cat_security = ?8, quiet_enabled = ?9, "
                          "quiet_start = ?10, quiet_end = ?11, prefs_at = ?2 "
                          "WHERE user_id = ?1 AND (prefs_at IS NULL OR prefs_at <= ?2)",
                          &v->prefs, err);
    if (s == MF_OK)
        s = cs_db_prepare(db, "UPDATE cs_users SET registered_at = ?2 WHERE user_id = ?1 AND registered_at IS NULL",
                          &v->registered, err);
    if (s == MF_OK)
        s = cs_db_prepare(db,
                          "UPDATE cs_users SET last_activity = ?2 WHERE user_id = ?1 AND "
                          "(last_activity IS NULL OR last_activity < ?2) AND (deleted_at IS NULL OR deleted_at < ?2)",
                          &v->activity, err);
    if (s == MF_OK)
        s = cs_db_prepare(db, deleted_sql(), &v->deleted, err);
    if (s == MF_OK)
        s = cs_db_prepare(db, GET_SQL, &v->get, err);
    if (s == MF_OK)
        s = cs_db_prepare(db, "SELECT count(*) FROM cs_users WHERE " CS_USER_LIVE, &v->count, err);
    if (s != MF_OK) {
        cs_userview_close(v);
        return s;
    }
    *out = v;
    return MF_OK;
}

void cs_userview_close(cs_userview *v)
{
    if (!v)
        return;
    sqlite3_stmt *all[] = {v->ensure, v->profile, v->prefs, v->registered, v->activity, v->deleted, v->get, v->count};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sqlite3_finalize(all[i]);
    free(v);
}

/* Lower-cases a uuid into out (37 bytes). MF_ERR_FORMAT when it is not one. */
static mf_status norm_id(const char *id, char out[37], mf_error *err)
{
    if (!id || !mf_format_check(MF_FMT_UUID, id, strlen(id)))
        return mf_error_set(err, MF_ERR_FORMAT, "/user_id", "not a UUID");
    for (int i = 0; i < 36; i++)
        out[i] = (char)tolower((unsigned char)id[i]);
    out[36] = '\0';
    return MF_OK;
}

/* Steps a write statement to completion and resets it. */
static mf_status run(cs_userview *v, sqlite3_stmt *st, const char *what, mf_error *err)
{
    int rc = sqlite3_step(st);
    mf_status s = rc == SQLITE_DONE ? MF_OK : svc_db_status(v->db, rc, what, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return s;
}

static mf_status ensure_row(cs_userview *v, const char *id, mf_error *err)
{
    sqlite3_bind_text(v->ensure, 1, id, -1, SQLITE_STATIC);
    return run(v, v->ensure, "insert user", err);
}

static mf_status parse_time(const char *s, const char *pointer, int64_t *ms, mf_error *err)
{
    mf_status st = cs_time_parse(s, ms, err);
    return st == MF_OK ? MF_OK : mf_error_set(err, st, pointer, "not an RFC 3339 date-time");
}

static mf_status write_prefs(cs_userview *v, const char *id, const mf_notification_preferences *p, int64_t at,
                             mf_error *err)
{
    sqlite3_stmt *st = v->prefs;
    const mf_notification_preferences_quiet_hours *q = p->has_quiet_hours ? &p->quiet_hours : NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_int(st, 3, p->push_enabled);
    sqlite3_bind_int(st, 4, p->email_enabled);
    sqlite3_bind_int(st, 5, p->sms_enabled);
    sqlite3_bind_int(st, 6, p->categories.marketing);
    sqlite3_bind_int(st, 7, p->categories.updates);
    sqlite3_bind_int(st, 8, p->categories.security);
    sqlite3_bind_int(st, 9, q && q->enabled);
    cs_db_bind_text(st, 10, q && q->has_start ? q->start : NULL);
    cs_db_bind_text(st, 11, q && q->has_end ? q->end : NULL);
    return run(v, st, "update preferences", err);
}

/* Binds field i of the profile statement: present flag and value (NULL clears). */
static void bind_field(sqlite3_stmt *st, int i, bool has, const char *value)
{
    sqlite3_bind_int(st, 3 + 2 * i, has);
    cs_db_bind_text(st, 4 + 2 * i, has ? value : NULL);
}

static mf_status write_profile(cs_userview *v, const char *id, const cs_profile_changes *c, int64_t at, mf_error *err)
{
    int64_t reg = 0, act = 0;
    mf_status s = MF_OK;
    if (c->has_registered_at)
        s = parse_time(c->registered_at, "/changes/registered_at", &reg, err);
    bool has_act = c->has_last_activity && !c->last_activity_is_null; /* null: never active, nothing to move */
    if (s == MF_OK && has_act)
        s = parse_time(c->last_activity, "/changes/last_activity", &act, err);
    if (s != MF_OK)
        return s;
    sqlite3_stmt *st = v->profile;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    bind_field(st, 0, c->has_name, c->name_is_null ? NULL : c->name);
    bind_field(st, 1, c->has_email, c->email_is_null ? NULL : c->email);
    bind_field(st, 2, c->has_language, c->language_is_null ? NULL : c->language);
    bind_field(st, 3, c->has_timezone, c->timezone_is_null ? NULL : c->timezone);
    bind_field(st, 4, c->has_plan, c->has_plan ? plan_values[c->plan - 1] : NULL);
    sqlite3_bind_int(st, 13, c->has_registered_at);
    if (c->has_registered_at)
        sqlite3_bind_int64(st, 14, reg);
    if (has_act)
        sqlite3_bind_int64(st, 15, act);
    return run(v, st, "update profile", err);
}

mf_status cs_userview_apply_update(cs_userview *v, const mf_user_info_update *ev, mf_error *err)
{
    char id[37];
    int64_t at;
    mf_status s = norm_id(ev->user_id, id, err);
    if (s == MF_OK)
        s = parse_time(ev->updated_at, "/updated_at", &at, err);
    cs_profile_changes c;
    mf_init(&changes_desc, &c);
    if (s == MF_OK && ev->has_changes) {
        mf_error e;
        s = mf_decode(&changes_desc, ev->changes, strlen(ev->changes), &c, &e);
        if (s != MF_OK) {
            char p[MF_ERROR_POINTER_MAX + 8];
            snprintf(p, sizeof p, "/changes%s", e.pointer);
            mf_error_set(err, s, p, "%s", e.message); /* mf_error_set truncates the pointer if needed */
        }
    }
    if (s == MF_OK)
        s = ensure_row(v, id, err);
    if (s == MF_OK && c.has_deleted && c.deleted) {
        sqlite3_bind_text(v->deleted, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(v->deleted, 2, at);
        s = run(v, v->deleted, "delete user", err);
        mf_free(&changes_desc, &c);
        return s;
    }
    if (s == MF_OK)
        s = write_profile(v, id, &c, at, err);
    if (s == MF_OK && c.has_preferences)
        s = write_prefs(v, id, &c.preferences, at, err);
    mf_free(&changes_desc, &c);
    return s;
}

mf_status cs_userview_apply_analytics(cs_userview *v, const mf_user_analytics_event *ev, mf_error *err)
{
    char id[37];
    int64_t at;
    mf_status s = norm_id(ev->user_id, id, err);
    if (s == MF_OK)
        s = parse_time(ev->timestamp, "/timestamp", &at, err);
    if (s != MF_OK)
        return s;
    sqlite3_stmt *st;
    switch (ev->event_type) {
    case MF_USER_ANALYTICS_EVENT_EVENT_TYPE_USER_REGISTERED: st = v->registered; break;
    case MF_USER_ANALYTICS_EVENT_EVENT_TYPE_USER_LOGGED_IN: st = v->activity; break;
    case MF_USER_ANALYTICS_EVENT_EVENT_TYPE_ACCOUNT_DELETED: st = v->deleted; break;
    default: return MF_OK;
    }
    if ((s = ensure_row(v, id, err)) != MF_OK)
        return s;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    return run(v, st, "apply user analytics", err);
}

mf_status cs_userview_apply_preferences(cs_userview *v, const mf_preferences_update *ev, int64_t received_ms,
                                        mf_error *err)
{
    char id[37];
    int64_t at = received_ms;
    mf_status s = norm_id(ev->user_id, id, err);
    if (s == MF_OK && ev->has_updated_at)
        s = parse_time(ev->updated_at, "/updated_at", &at, err);
    if (s == MF_OK)
        s = ensure_row(v, id, err);
    if (s == MF_OK)
        s = write_prefs(v, id, &ev->preferences, at, err);
    return s;
}

void cs_user_free(cs_user *u)
{
    if (!u)
        return;
    free(u->text);
    memset(u, 0, sizeof *u);
}

static int64_t col_time(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? CS_NO_TIME : sqlite3_column_int64(st, i);
}

struct cs_text_block {
    struct cs_text_block *next; /* older */
    size_t used, cap;
    char data[];
};

void cs_user_texts_reset(cs_user_texts *t)
{
    struct cs_text_block *keep = t->blocks; /* the newest is the largest (each new one doubles) */
    if (!keep)
        return;
    for (struct cs_text_block *b = keep->next, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    keep->next = NULL;
    keep->used = 0;
}

void cs_user_texts_free(cs_user_texts *t)
{
    for (struct cs_text_block *b = t->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    t->blocks = NULL;
}

/* n bytes of t's storage: the newest block's, or a new block (twice the last, >= 16 KiB). */
static char *texts_take(cs_user_texts *t, size_t n)
{
    struct cs_text_block *b = t->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = b ? b->cap * 2 : 16384;
        while (cap < n)
            cap *= 2;
        struct cs_text_block *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        t->blocks = b = nb;
    }
    char *p = b->data + b->used;
    b->used += n;
    return p;
}

/* Columns c+1..c+n (name, email, language, timezone, and plan when n is 5) copied into one block:
 * u->text (a batch reads 1,000 rows, one malloc each instead of n), or texts' storage (no malloc). */
static bool read_strings(sqlite3_stmt *st, int c, int n, cs_user_texts *texts, cs_user *u)
{
    char **dst[5] = {&u->name, &u->email, &u->language, &u->timezone, &u->plan};
    const unsigned char *src[5];
    size_t len[5], total = 0;
    for (int i = 0; i < n; i++) {
        src[i] = sqlite3_column_text(st, c + 1 + i);
        len[i] = src[i] ? (size_t)sqlite3_column_bytes(st, c + 1 + i) + 1 : 0;
        total += len[i];
    }
    if (!total)
        return true;
    char *p = texts ? texts_take(texts, total) : (u->text = malloc(total));
    if (!p)
        return false;
    for (int i = 0; i < n; i++) {
        *dst[i] = src[i] ? memcpy(p, src[i], len[i]) : NULL;
        p += len[i];
    }
    return true;
}

/* Column c: the user_id, copied by its length. */
static void read_id(sqlite3_stmt *st, int c, cs_user *u)
{
    const unsigned char *id = sqlite3_column_text(st, c);
    size_t id_len = id ? (size_t)sqlite3_column_bytes(st, c) : 0;
    id_len = id_len < sizeof u->user_id ? id_len : sizeof u->user_id - 1;
    if (id_len)
        memcpy(u->user_id, id, id_len);
    u->user_id[id_len] = '\0';
}

/* Columns c..c+2: quiet_enabled, quiet_start, quiet_end. */
static void read_quiet(sqlite3_stmt *st, int c, cs_user *u)
{
    mf_notification_preferences_quiet_hours q = {
        .enabled = sqlite3_column_int(st, c) != 0,
        .has_start = sqlite3_column_type(st, c + 1) != SQLITE_NULL,
        .start = (char *)sqlite3_column_text(st, c + 1),
        .has_end = sqlite3_column_type(st, c + 2) != SQLITE_NULL,
        .end = (char *)sqlite3_column_text(st, c + 2),
    };
    /* a stored time that does not parse (it passed the codec, so it cannot) means no quiet hours */
    if (cs_quiet_from_prefs(&q, &u->quiet, NULL) != MF_OK)
        u->quiet.enabled = false;
}

/* Every field: the columns of the view's own SELECT (cs_userview_get), from column c. */
static mf_status read_user(sqlite3_stmt *st, int c, cs_user *u, mf_error *err)
{
    memset(u, 0, sizeof *u);
    read_id(st, c, u);
    bool ok = read_strings(st, c, 5, NULL, u);
    u->registered_at = col_time(st, c + 6);
    u->last_activity = col_time(st, c + 7);
    u->live = sqlite3_column_int(st, c + 8) != 0;
    u->push_enabled = sqlite3_column_int(st, c + 9);
    u->email_enabled = sqlite3_column_int(st, c + 10);
    u->sms_enabled = sqlite3_column_int(st, c + 11);
    u->cat_marketing = sqlite3_column_int(st, c + 12);
    u->cat_updates = sqlite3_column_int(st, c + 13);
    u->cat_security = sqlite3_column_int(st, c + 14);
    read_quiet(st, c + 15, u);
    if (!ok) {
        cs_user_free(u);
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    return MF_OK;
}

/* The CS_USERVIEW_COLUMNS from column c (what a batch needs; the rest stays unknown). */
static mf_status read_batch_user(sqlite3_stmt *st, int c, cs_user_texts *texts, cs_user *u, mf_error *err)
{
    read_id(st, c, u);
    bool ok = read_strings(st, c, 4, texts, u);
    u->registered_at = u->last_activity = CS_NO_TIME;
    u->live = sqlite3_column_int(st, c + 5) != 0;
    u->push_enabled = sqlite3_column_int(st, c + 6);
    u->cat_marketing = sqlite3_column_int(st, c + 7);
    u->cat_updates = sqlite3_column_int(st, c + 8);
    u->cat_security = sqlite3_column_int(st, c + 9);
    read_quiet(st, c + 10, u);
    if (!ok) {
        cs_user_free(u);
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    return MF_OK;
}

mf_status cs_userview_row_in(sqlite3_stmt *st, int first, cs_user_texts *texts, cs_user *out, bool *found,
                             mf_error *err)
{
    memset(out, 0, sizeof *out);
    *found = sqlite3_column_type(st, first) != SQLITE_NULL;
    return *found ? read_batch_user(st, first, texts, out, err) : MF_OK;
}

mf_status cs_userview_row(sqlite3_stmt *st, int first, cs_user *out, bool *found, mf_error *err)
{
    return cs_userview_row_in(st, first, NULL, out, found, err);
}

mf_status cs_userview_get(cs_userview *v, const char *user_id, cs_user *out, bool *found, mf_error *err)
{
    char id[37];
    memset(out, 0, sizeof *out);
    *found = false;
    mf_status s = norm_id(user_id, id, err);
    if (s != MF_OK)
        return s;
    sqlite3_bind_text(v->get, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(v->get);
    if (rc == SQLITE_ROW) {
        s = read_user(v->get, 0, out, err);
        *found = s == MF_OK;
    } else if (rc != SQLITE_DONE) {
        s = svc_db_status(v->db, rc, "read user", err);
    }
    sqlite3_reset(v->get);
    sqlite3_clear_bindings(v->get);
    return s;
}

mf_status cs_userview_count(cs_userview *v, int64_t *live, mf_error *err)
{
    int rc = sqlite3_step(v->count);
    mf_status s = MF_OK;
    if (rc == SQLITE_ROW)
        *live = sqlite3_column_int64(v->count, 0);
    else
        s = svc_db_status(v->db, rc, "count users", err);
    sqlite3_reset(v->count);
    return s;
}
