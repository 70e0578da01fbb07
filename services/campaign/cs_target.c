/* cs_target.c - see cs_target.h. The query is built as text with ? placeholders; every value
 * is bound, never spliced into the SQL. */
#include "cs_target.h"

#include <stdlib.h>
#include <string.h>
#include "cs_db.h"
#include "cs_time.h"
#include "cs_userview.h"
#include "mf/buf.h"

#define MAX_BINDS 256 /* the filters' list lengths are bounded by this */

typedef struct bind {
    bool is_text;
    const char *text; /* borrowed from the audience */
    int64_t num;
} bind;

typedef struct query {
    mf_buf sql;
    bind binds[MAX_BINDS];
    int n;
    mf_status st;
} query;

static void add_num(query *q, int64_t v)
{
    if (q->n < MAX_BINDS)
        q->binds[q->n++] = (bind){.num = v};
    else
        q->st = MF_ERR_LIMIT;
}

static void add_text(query *q, const char *v)
{
    if (q->n < MAX_BINDS)
        q->binds[q->n++] = (bind){.is_text = true, .text = v};
    else
        q->st = MF_ERR_LIMIT;
}

static void sql(query *q, const char *s)
{
    if (q->st == MF_OK)
        q->st = mf_buf_append_str(&q->sql, s);
}

static void segments(query *q, const mf_campaign_create_target_audience *a, const cs_target_opts *o)
{
    int64_t new_since = o->now_ms - (int64_t)o->new_days * CS_MS_PER_DAY;
    int64_t active_since = o->now_ms - (int64_t)o->active_days * CS_MS_PER_DAY;
    sql(q, " AND (0");
    for (size_t i = 0; i < a->user_segments.count; i++) {
        switch (a->user_segments.items[i]) {
        case MF_CAMPAIGN_CREATE_TARGET_AUDIENCE_USER_SEGMENTS_ITEM_ALL_USERS: sql(q, " OR 1"); break;
        case MF_CAMPAIGN_CREATE_TARGET_AUDIENCE_USER_SEGMENTS_ITEM_NEW_USERS:
            sql(q, " OR registered_at >= ?");
            add_num(q, new_since);
            break;
        case MF_CAMPAIGN_CREATE_TARGET_AUDIENCE_USER_SEGMENTS_ITEM_ACTIVE_USERS:
            sql(q, " OR last_activity >= ?");
            add_num(q, active_since);
            break;
        case MF_CAMPAIGN_CREATE_TARGET_AUDIENCE_USER_SEGMENTS_ITEM_INACTIVE_USERS:
            sql(q, " OR last_activity IS NULL OR last_activity < ?");
            add_num(q, active_since);
            break;
        case MF_CAMPAIGN_CREATE_TARGET_AUDIENCE_USER_SEGMENTS_ITEM_PREMIUM_USERS: sql(q, " OR plan = 'premium'"); break;
        case MF_CAMPAIGN_CREATE_TARGET_AUDIENCE_USER_SEGMENTS_ITEM_FREE_USERS: sql(q, " OR plan = 'free'"); break;
        default: break;
        }
    }
    sql(q, ")");
}

static void in_list(query *q, const char *col, char *const *items, size_t n)
{
    sql(q, " AND ");
    sql(q, col);
    sql(q, " IN (");
    for (size_t i = 0; i < n; i++) {
        sql(q, i ? ",?" : "?");
        add_text(q, items[i]);
    }
    sql(q, ")");
}

static void filters(query *q, const mf_campaign_create_target_audience_user_filters *f, mf_error *err)
{
    if (f->has_language)
        in_list(q, "language", f->language.items, f->language.count);
    if (f->has_timezone)
        in_list(q, "timezone", f->timezone.items, f->timezone.count);
    int64_t day, ms;
    if (f->has_registration_date && f->registration_date.has_from) {
        if (cs_date_parse(f->registration_date.from, &day, err) == MF_OK) {
            sql(q, " AND registered_at >= ?");
            add_num(q, day * CS_MS_PER_DAY);
        } else {
            q->st = MF_ERR_FORMAT;
        }
    }
    if (f->has_registration_date && f->registration_date.has_to) {
        if (cs_date_parse(f->registration_date.to, &day, err) == MF_OK) {
            sql(q, " AND registered_at < ?");
            add_num(q, (day + 1) * CS_MS_PER_DAY);
        } else {
            q->st = MF_ERR_FORMAT;
        }
    }
    if (f->has_last_activity && f->last_activity.has_from) {
        if (cs_time_parse(f->last_activity.from, &ms, err) == MF_OK) {
            sql(q, " AND last_activity >= ?");
            add_num(q, ms);
        } else {
            q->st = MF_ERR_FORMAT;
        }
    }
    if (f->has_last_activity && f->last_activity.has_to) {
        if (cs_time_parse(f->last_activity.to, &ms, err) == MF_OK) {
            sql(q, " AND last_activity <= ?");
            add_num(q, ms);
        } else {
            q->st = MF_ERR_FORMAT;
        }
    }
}

/* Builds "<head> FROM cs_users WHERE live AND segments AND filters <tail>" and prepares it. */
static mf_status prepare(sqlite3 *db, const char *head, const char *tail, const mf_campaign_create_target_audience *a,
                         const cs_target_opts *o, int first_bind, sqlite3_stmt **out, mf_error *err)
{
    query q;
    memset(&q, 0, sizeof q);
    mf_buf_init(&q.sql);
    sql(&q, head);
    sql(&q, " FROM cs_users WHERE " CS_USER_LIVE);
    segments(&q, a, o);
    if (a->has_user_filters)
        filters(&q, &a->user_filters, err);
    sql(&q, tail);
    mf_status s = q.st;
    if (s == MF_ERR_LIMIT)
        mf_error_set(err, s, "/target_audience/user_filters", "more than %d filter values", MAX_BINDS);
    else if (s == MF_ERR_FORMAT)
        mf_error_set(err, s, "/target_audience/user_filters", "a date in the filters does not parse");
    else if (s != MF_OK)
        mf_error_set(err, s, "", "out of memory");
    int rc;
    if (s == MF_OK && (rc = sqlite3_prepare_v2(db, q.sql.data, -1, out, NULL)) != SQLITE_OK)
        s = svc_db_status(db, rc, "prepare targeting query", err);
    for (int i = 0; s == MF_OK && i < q.n; i++) {
        if (q.binds[i].is_text)
            sqlite3_bind_text(*out, first_bind + i, q.binds[i].text, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_int64(*out, first_bind + i, q.binds[i].num);
    }
    if (s != MF_OK) {
        sqlite3_finalize(*out);
        *out = NULL;
    }
    mf_buf_free(&q.sql);
    return s;
}

mf_status cs_target_count(sqlite3 *db, const mf_campaign_create_target_audience *a, const cs_target_opts *o,
                          int64_t *count, mf_error *err)
{
    sqlite3_stmt *st;
    *count = 0;
    mf_status s = prepare(db, "SELECT count(*)", "", a, o, 1, &st, err);
    if (s != MF_OK)
        return s;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    else
        s = svc_db_status(db, rc, "count targets", err);
    sqlite3_finalize(st);
    return s;
}

mf_status cs_target_each(sqlite3 *db, const mf_campaign_create_target_audience *a, const cs_target_opts *o,
                         cs_target_cb cb, void *ctx, mf_error *err)
{
    sqlite3_stmt *st;
    mf_status s = prepare(db, "SELECT user_id", " ORDER BY user_id", a, o, 1, &st, err);
    if (s != MF_OK)
        return s;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(ctx, (const char *)sqlite3_column_text(st, 0)))
            break;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        s = svc_db_status(db, rc, "list targets", err);
    sqlite3_finalize(st);
    return s;
}

/* The window query: row_number() numbers the rows after ordering them, whatever the plan. */
static mf_status snapshot_window(sqlite3 *db, const mf_campaign_create_target_audience *a, const cs_target_opts *o,
                                 int64_t xk, int64_t *count, mf_error *err)
{
    sqlite3_stmt *st;
    mf_status s = prepare(db, "INSERT INTO cs_targets(xk, seq, user_id) SELECT ?1, "
                              "row_number() OVER (ORDER BY user_id), user_id",
                          "", a, o, 2, &st, err);
    if (s != MF_OK)
        return s;
    sqlite3_bind_int64(st, 1, xk);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        *count = sqlite3_changes64(db);
    else
        s = svc_db_status(db, rc, "snapshot targets", err);
    sqlite3_finalize(st);
    return s;
}

/* cs_target_seq(p): ++*p, p an int64_t counter bound with sqlite3_bind_pointer(..., SEQ_POINTER). */
#define SEQ_POINTER "cs_target_seq"

static void seq_fn(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    int64_t *n = argc == 1 ? sqlite3_value_pointer(argv[0], SEQ_POINTER) : NULL;
    if (n)
        sqlite3_result_int64(cx, ++*n);
    else
        sqlite3_result_error(cx, "cs_target_seq: no counter bound", -1);
}

/* The numbered INSERT; registers cs_target_seq on db the first time (a connection keeps it). */
static mf_status prepare_numbered(sqlite3 *db, const mf_campaign_create_target_audience *a, const cs_target_opts *o,
                                  sqlite3_stmt **st, mf_error *err)
{
    static const char head[] = "INSERT INTO cs_targets(xk, seq, user_id) SELECT ?1, cs_target_seq(?2), user_id";
    mf_status s = prepare(db, head, " ORDER BY user_id", a, o, 3, st, err);
    if (s == MF_OK || sqlite3_create_function_v2(db, SEQ_POINTER, 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL, seq_fn,
                                                 NULL, NULL, NULL) != SQLITE_OK)
        return s;
    return prepare(db, head, " ORDER BY user_id", a, o, 3, st, err);
}

mf_status cs_target_snapshot_numbered(sqlite3 *db, const mf_campaign_create_target_audience *a,
                                      const cs_target_opts *o, int64_t xk, int64_t *count, bool *renumbered,
                                      mf_error *err)
{
    sqlite3_stmt *st;
    int64_t seq = 0;
    *count = 0;
    *renumbered = false;
    mf_status s = prepare_numbered(db, a, o, &st, err);
    if (s != MF_OK)
        return s;
    sqlite3_bind_int64(st, 1, xk);
    sqlite3_bind_pointer(st, 2, &seq, SEQ_POINTER, NULL);
    int rc = sqlite3_step(st);
    bool sorted = sqlite3_stmt_status(st, SQLITE_STMTSTATUS_SORT, 0) > 0;
    if (rc == SQLITE_DONE)
        *count = sqlite3_changes64(db);
    else
        s = svc_db_status(db, rc, "snapshot targets", err);
    sqlite3_finalize(st);
    if (s != MF_OK || !sorted)
        return s;
    /* numbered before a sort: not user_id order. Taken back (the caller's transaction wrote every
     * row of xk just now), then numbered by the window query */
    *renumbered = true;
    *count = 0;
    if ((rc = sqlite3_prepare_v2(db, "DELETE FROM cs_targets WHERE xk = ?1", -1, &st, NULL)) != SQLITE_OK)
        return svc_db_status(db, rc, "prepare snapshot renumbering", err);
    sqlite3_bind_int64(st, 1, xk);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return svc_db_status(db, rc, "snapshot renumbering", err);
    return snapshot_window(db, a, o, xk, count, err);
}

mf_status cs_target_snapshot(sqlite3 *db, const mf_campaign_create_target_audience *a, const cs_target_opts *o,
                             int64_t xk, int64_t *count, mf_error *err)
{
    *count = 0;
    if (a->has_user_filters) /* the filters' indexes make SQLite sort: row_number() numbers once */
        return snapshot_window(db, a, o, xk, count, err);
    bool renumbered;
    return cs_target_snapshot_numbered(db, a, o, xk, count, &renumbered, err);
}
