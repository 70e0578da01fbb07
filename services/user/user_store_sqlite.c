/*
 * user_store_sqlite.c - the SQLite backend of the user store (user_store.h).
 *
 * One table, `users`, keyed by the lowercase user_id (WITHOUT ROWID: the
 * primary key is the B-tree). Emails are unique regardless of ASCII case.
 * Preferences are stored as the contract's NotificationPreferences JSON,
 * written and read by the codec. Every statement is prepared once per
 * connection.
 */
#include <stdlib.h>
#include <string.h>

#include "svc_db.h"
#include "svc_log.h"
#include "user_store.h"

const svc_migration us_store_sqlite_migrations[] = {
    {1, "users",
     "CREATE TABLE users ("
     " user_id TEXT PRIMARY KEY,"
     " email TEXT NOT NULL COLLATE NOCASE UNIQUE,"
     " name TEXT NOT NULL,"
     " language TEXT NOT NULL,"
     " timezone TEXT NOT NULL,"
     " plan TEXT NOT NULL CHECK (plan IN ('free', 'premium')),"
     " registered_at TEXT NOT NULL,"
     " last_activity TEXT,"
     " preferences TEXT NOT NULL,"
     " updated_at TEXT NOT NULL"
     ") WITHOUT ROWID;"},
    /* A deleted user leaves a tombstone, so that a republish "since" a time can announce the
     * deletions too (POST /republish?since=). Kept by triggers: every path that deletes or
     * (re-)creates a user keeps it right, in the same transaction. */
    {2, "tombstones of deleted users",
     "CREATE TABLE deleted_users ("
     " user_id TEXT PRIMARY KEY,"
     " deleted_at TEXT NOT NULL" /* the users.updated_at format: YYYY-MM-DDTHH:MM:SS.mmmZ */
     ") WITHOUT ROWID;"
     "CREATE INDEX deleted_users_at ON deleted_users(deleted_at);"
     "CREATE TRIGGER users_tombstone AFTER DELETE ON users BEGIN"
     " INSERT OR REPLACE INTO deleted_users VALUES (old.user_id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));"
     " END;"
     "CREATE TRIGGER users_untombstone AFTER INSERT ON users BEGIN"
     " DELETE FROM deleted_users WHERE user_id = new.user_id;"
     " END;"},
};
const size_t us_store_sqlite_migration_count = sizeof us_store_sqlite_migrations / sizeof us_store_sqlite_migrations[0];

#define COLUMNS "user_id, email, name, language, timezone, plan, registered_at, last_activity, preferences, updated_at"

enum { Q_READ_BEGIN, Q_READ_END, Q_PROFILE, Q_PROFILE_SCAN, Q_ALL, Q_LIST, Q_LIST_AFTER, Q_EACH, Q_EACH_SINCE, Q_DELETED_SINCE, Q_PRUNE_DELETED, Q_COUNT, Q_INSERT, Q_UPDATE, Q_DELETE, Q_N };

static const char *const SQL[Q_N] = {
    /* the read transaction of user.info.request's batches, prepared once: sqlite3_exec would parse
     * the text each time (~3,400 and ~4,500 instructions a batch, ~3 % of the service thread's CPU) */
    [Q_READ_BEGIN] = "BEGIN",
    [Q_READ_END] = "ROLLBACK",
    [Q_PROFILE] = "SELECT email, name, language, timezone FROM users WHERE user_id = ?",
    /* inside a read transaction: the users from ?1 on, in key order (st_profile walks it forward) */
    [Q_PROFILE_SCAN] = "SELECT email, name, language, timezone, user_id FROM users WHERE user_id >= ? ORDER BY user_id",
    [Q_ALL] = "SELECT " COLUMNS " FROM users WHERE user_id = ?",
    [Q_LIST] = "SELECT " COLUMNS " FROM users ORDER BY user_id LIMIT ?",
    [Q_LIST_AFTER] = "SELECT " COLUMNS " FROM users WHERE user_id > ? ORDER BY user_id LIMIT ?",
    [Q_EACH] = "SELECT " COLUMNS " FROM users ORDER BY user_id",
    [Q_EACH_SINCE] = "SELECT " COLUMNS " FROM users WHERE updated_at >= ? ORDER BY user_id",
    [Q_DELETED_SINCE] = "SELECT user_id FROM deleted_users WHERE deleted_at >= ? ORDER BY user_id",
    [Q_PRUNE_DELETED] = "DELETE FROM deleted_users WHERE deleted_at < ?",
    [Q_COUNT] = "SELECT count(*) FROM users",
    [Q_INSERT] = "INSERT INTO users (" COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [Q_UPDATE] = "UPDATE users SET email = ?2, name = ?3, language = ?4, timezone = ?5, plan = ?6,"
                 " registered_at = ?7, last_activity = ?8, preferences = ?9, updated_at = ?10 WHERE user_id = ?1",
    [Q_DELETE] = "DELETE FROM users WHERE user_id = ?",
};

typedef struct sqlite_store {
    us_store base;
    sqlite3 *db;
    sqlite3_stmt *q[Q_N];
    svc_outbox_writer *outbox;
    mf_buf prefs; /* scratch for encoding preferences */
    bool reading; /* between read_begin and read_end: st_profile may walk Q_PROFILE_SCAN */
    bool scan_on; /* Q_PROFILE_SCAN is on a row (it is reset otherwise) */
    int scan_steps;      /* how far st_profile walks forward before it seeks: 0..SCAN_STEPS */
    unsigned scan_skips; /* seeks without a walk (scan_steps 0), for SCAN_PROBE */
    char scan_id[40];    /* the id Q_PROFILE_SCAN is bound to (a UUID; longer ones are copied by SQLite) */
} sqlite_store;

/* How many rows st_profile steps forward at most before it seeks instead: a step to the next row
 * costs ~1,100 instructions, a seek from the root ~8,000 (five levels for 100,000 users). A walk
 * that fails halves the next one's length, down to none (the users asked are sparse, e.g. a small
 * segment: each seeks at once); then every SCAN_PROBE-th request tries one step, and a walk that
 * succeeds restores SCAN_STEPS. What was learnt carries over to the next read transaction. */
#define SCAN_STEPS 4
#define SCAN_PROBE 8

#define SS(s) ((sqlite_store *)(s))

/* ------------------------------------------------------------- reading */

static char *col_str(sqlite3_stmt *q, int i)
{
    const char *t = (const char *)sqlite3_column_text(q, i);
    if (!t)
        return NULL;
    size_t n = (size_t)sqlite3_column_bytes(q, i) + 1; /* after column_text: the text's length */
    char *s = malloc(n);
    return s ? memcpy(s, t, n) : NULL;
}

/* Reads the row at q into u (columns in COLUMNS order; `all` false: the first five). */
static mf_status read_row(sqlite3_stmt *q, bool all, us_user *u, mf_error *err)
{
    us_user_init(u);
    u->user_id = col_str(q, 0), u->has_user_id = true;
    u->email = col_str(q, 1), u->has_email = true;
    u->name = col_str(q, 2), u->has_name = true;
    u->language = col_str(q, 3), u->has_language = true;
    u->timezone = col_str(q, 4), u->has_timezone = true;
    bool oom = !u->user_id || !u->email || !u->name || !u->language || !u->timezone;
    if (all && !oom) {
        const char *plan = (const char *)sqlite3_column_text(q, 5);
        u->plan = plan && strcmp(plan, "premium") == 0 ? US_PLAN_PREMIUM : US_PLAN_FREE, u->has_plan = true;
        u->registered_at = col_str(q, 6), u->has_registered_at = true;
        u->has_last_activity = true;
        u->last_activity_is_null = sqlite3_column_type(q, 7) == SQLITE_NULL;
        if (!u->last_activity_is_null)
            oom |= !(u->last_activity = col_str(q, 7));
        u->updated_at = col_str(q, 9), u->has_updated_at = true;
        oom |= !u->registered_at || !u->updated_at;
        const char *p = (const char *)sqlite3_column_text(q, 8);
        mf_status st = mf_notification_preferences_decode(p ? p : "", (size_t)sqlite3_column_bytes(q, 8),
                                                          &u->preferences, err);
        if (st) {
            mf_error_set(err, MF_ERR_IO, "", "stored preferences of %s are invalid", u->user_id);
            us_user_free(u);
            return MF_ERR_IO;
        }
        u->has_preferences = true;
    }
    if (oom) {
        us_user_free(u);
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    return MF_OK;
}

static mf_status st_get(us_store *s, const char *id, us_user *out, mf_error *err)
{
    sqlite_store *ss = SS(s);
    sqlite3_stmt *q = ss->q[Q_ALL];
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    mf_status st;
    if (rc == SQLITE_ROW)
        st = read_row(q, true, out, err);
    else if (rc == SQLITE_DONE)
        st = mf_error_set(err, MF_ERR_NOT_FOUND, "", "no user with id %s", id);
    else
        st = svc_db_status(ss->db, rc, "reading a user", err);
    sqlite3_reset(q);
    return st;
}

/* The four profile columns (0-3 in Q_PROFILE and Q_PROFILE_SCAN) of q's row into p. */
static mf_status copy_profile(sqlite3_stmt *q, us_profile *p, mf_error *err)
{
    p->email = col_str(q, 0), p->name = col_str(q, 1), p->language = col_str(q, 2), p->timezone = col_str(q, 3);
    if (p->email && p->name && p->language && p->timezone) /* the columns are NOT NULL */
        return MF_OK;
    us_profile_free(p);
    return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
}

/* One indexed read: Q_PROFILE's columns into p, without the us_user (its type walk by mf_init and
 * mf_free). */
static mf_status profile_point(sqlite_store *ss, const char *id, us_profile *p, mf_error *err)
{
    sqlite3_stmt *q = ss->q[Q_PROFILE];
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    mf_status st = MF_OK;
    if (rc == SQLITE_ROW)
        st = copy_profile(q, p, err);
    else if (rc == SQLITE_DONE)
        st = mf_error_set(err, MF_ERR_NOT_FOUND, "", "no user with id %s", id);
    else
        st = svc_db_status(ss->db, rc, "reading a user", err);
    sqlite3_reset(q); /* the statement always ends reset: no second reset before the bind */
    return st;
}

static void scan_stop(sqlite_store *ss)
{
    if (ss->scan_on)
        sqlite3_reset(ss->q[Q_PROFILE_SCAN]);
    ss->scan_on = false;
}

/* Where Q_PROFILE_SCAN's row is against id: <0 before it, 0 on it, >0 after it. */
static int scan_cmp(sqlite3_stmt *q, const char *id)
{
    const char *key = (const char *)sqlite3_column_text(q, 4);
    return key ? strcmp(key, id) : -1; /* SQLite's BINARY order is memcmp's: strcmp's for these keys */
}

/* Steps Q_PROFILE_SCAN (on a row before id, or just bound) at most `steps` rows, until its row is
 * at or after id (*reached). MF_ERR_NOT_FOUND: no row left; another error: SQLite failed. On an
 * error the scan is stopped (reset). */
static mf_status scan_to(sqlite_store *ss, const char *id, int steps, bool *reached, mf_error *err)
{
    sqlite3_stmt *q = ss->q[Q_PROFILE_SCAN];
    *reached = false;
    for (int i = 0; i < steps && !*reached; i++) {
        int rc = sqlite3_step(q);
        if (rc != SQLITE_ROW) {
            mf_status st = rc == SQLITE_DONE ? mf_error_set(err, MF_ERR_NOT_FOUND, "", "no user with id %s", id)
                                             : svc_db_status(ss->db, rc, "reading a user", err);
            sqlite3_reset(q);
            ss->scan_on = false;
            return st;
        }
        ss->scan_on = true;
        *reached = scan_cmp(q, id) >= 0;
    }
    return MF_OK;
}

/*
 * In a read transaction the profile comes from Q_PROFILE_SCAN, left on the row it answered: a
 * campaign asks for its users in user_id order (campaign-service's targets), so the next user is
 * usually the next row, one step away instead of a seek from the root. A user before the row, or
 * more than scan_steps rows after it, is sought (the scan bound again). One snapshot answers
 * either way: the first row at or after id, when it is not id, means there is no such user.
 */
static mf_status profile_scan(sqlite_store *ss, const char *id, us_profile *p, mf_error *err)
{
    sqlite3_stmt *q = ss->q[Q_PROFILE_SCAN];
    bool reached = false;
    mf_status st = MF_OK;
    if (ss->scan_on) {
        int c = scan_cmp(q, id);
        if (c < 0) {
            int steps = ss->scan_steps;
            if (steps == 0 && ++ss->scan_skips % SCAN_PROBE == 0)
                steps = 1;
            if (steps > 0) {
                st = scan_to(ss, id, steps, &reached, err);
                ss->scan_steps = reached ? SCAN_STEPS : steps / 2;
            }
        } else
            reached = c == 0; /* after id: seek back */
    }
    if (st == MF_OK && !reached) {
        scan_stop(ss);
        size_t n = strlen(id); /* the scan outlives the caller's id: bound from the store's copy */
        if (n < sizeof ss->scan_id)
            sqlite3_bind_text(q, 1, memcpy(ss->scan_id, id, n + 1), (int)n, SQLITE_STATIC);
        else
            sqlite3_bind_text(q, 1, id, (int)n, SQLITE_TRANSIENT);
        st = scan_to(ss, id, 1, &reached, err);
    }
    if (st)
        return st;
    if (scan_cmp(q, id) != 0)
        return mf_error_set(err, MF_ERR_NOT_FOUND, "", "no user with id %s", id);
    return copy_profile(q, p, err);
}

static mf_status st_profile(us_store *s, const char *id, us_profile *p, mf_error *err)
{
    sqlite_store *ss = SS(s);
    *p = (us_profile){0};
    return ss->reading ? profile_scan(ss, id, p, err) : profile_point(ss, id, p, err);
}

static mf_status st_list(us_store *s, const char *after, size_t limit, us_user_page *out, mf_error *err)
{
    sqlite_store *ss = SS(s);
    mf_init(us_user_page_type, out);
    out->users.items = calloc(limit ? limit : 1, sizeof(us_user));
    if (!out->users.items)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    sqlite3_stmt *q = ss->q[after ? Q_LIST_AFTER : Q_LIST];
    sqlite3_reset(q);
    if (after)
        sqlite3_bind_text(q, 1, after, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, after ? 2 : 1, (sqlite3_int64)limit + 1); /* one more: is there a next page? */
    int rc;
    mf_status st = MF_OK;
    while (st == MF_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (out->users.count == limit) {
            out->has_next = true;
            out->next = strdup(out->users.items[limit - 1].user_id);
            st = out->next ? MF_OK : mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
            break;
        }
        st = read_row(q, true, &out->users.items[out->users.count], err);
        if (st == MF_OK)
            out->users.count++;
    }
    if (st == MF_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        st = svc_db_status(ss->db, rc, "listing users", err);
    sqlite3_reset(q);
    if (st)
        mf_free(us_user_page_type, out);
    return st;
}

static mf_status st_each(us_store *s, const char *since, us_store_each_fn fn, void *ctx, mf_error *err)
{
    sqlite_store *ss = SS(s);
    sqlite3_stmt *q = ss->q[since ? Q_EACH_SINCE : Q_EACH];
    sqlite3_reset(q);
    if (since)
        sqlite3_bind_text(q, 1, since, -1, SQLITE_STATIC);
    int rc;
    mf_status st = MF_OK;
    while (st == MF_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        us_user u;
        st = read_row(q, true, &u, err);
        if (st == MF_OK)
            st = fn(&u, ctx, err);
        us_user_free(&u);
    }
    if (st == MF_OK && rc != SQLITE_DONE)
        st = svc_db_status(ss->db, rc, "reading users", err);
    sqlite3_reset(q);
    return st;
}

static mf_status st_each_deleted(us_store *s, const char *since, us_store_deleted_fn fn, void *ctx, mf_error *err)
{
    sqlite_store *ss = SS(s);
    sqlite3_stmt *q = ss->q[Q_DELETED_SINCE];
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, since ? since : "", -1, SQLITE_STATIC);
    int rc;
    mf_status st = MF_OK;
    while (st == MF_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
        st = fn((const char *)sqlite3_column_text(q, 0), ctx, err);
    if (st == MF_OK && rc != SQLITE_DONE)
        st = svc_db_status(ss->db, rc, "reading deleted users", err);
    sqlite3_reset(q);
    return st;
}

static mf_status st_prune_deleted(us_store *s, const char *before, int64_t *pruned, mf_error *err)
{
    sqlite_store *ss = SS(s);
    sqlite3_stmt *q = ss->q[Q_PRUNE_DELETED];
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, before, -1, SQLITE_STATIC);
    mf_status st = svc_db_status(ss->db, sqlite3_step(q), "pruning tombstones", err);
    *pruned = st == MF_OK ? sqlite3_changes(ss->db) : 0;
    sqlite3_reset(q);
    return st;
}

static mf_status st_count(us_store *s, int64_t *n, mf_error *err)
{
    sqlite_store *ss = SS(s);
    sqlite3_stmt *q = ss->q[Q_COUNT];
    sqlite3_reset(q);
    int rc = sqlite3_step(q);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_reset(q);
    return svc_db_status(ss->db, rc, "counting users", err);
}

/* ------------------------------------------------------------- writing */

/* Which member a constraint failure is about. */
static mf_status write_status(sqlite_store *ss, int rc, const char *what, mf_error *err)
{
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        const char *m = sqlite3_errmsg(ss->db);
        if (strstr(m, "users.email"))
            return mf_error_set(err, MF_ERR_DUPLICATE, "/email", "another user has this email");
        if (strstr(m, "users.user_id"))
            return mf_error_set(err, MF_ERR_DUPLICATE, "/user_id", "a user with this id exists");
    }
    return svc_db_status(ss->db, rc, what, err);
}

static mf_status bind_user(sqlite_store *ss, sqlite3_stmt *q, const us_user *u, mf_error *err)
{
    mf_buf_reset(&ss->prefs);
    mf_status st = mf_notification_preferences_encode(&u->preferences, &ss->prefs, err);
    if (st)
        return st;
    sqlite3_bind_text(q, 1, u->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, u->email, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, u->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, u->language, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, u->timezone, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, us_plan_name(u->plan), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, u->registered_at, -1, SQLITE_STATIC);
    if (u->last_activity_is_null || !u->last_activity)
        sqlite3_bind_null(q, 8);
    else
        sqlite3_bind_text(q, 8, u->last_activity, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 9, ss->prefs.data, (int)ss->prefs.len, SQLITE_STATIC);
    sqlite3_bind_text(q, 10, u->updated_at, -1, SQLITE_STATIC);
    return MF_OK;
}

static mf_status write_user(us_store *s, int which, const us_user *u, mf_error *err)
{
    sqlite_store *ss = SS(s);
    sqlite3_stmt *q = ss->q[which];
    sqlite3_reset(q);
    mf_status st = bind_user(ss, q, u, err);
    if (st)
        return st;
    int rc = sqlite3_step(q);
    st = write_status(ss, rc, which == Q_INSERT ? "storing a user" : "updating a user", err);
    if (st == MF_OK && which == Q_UPDATE && sqlite3_changes(ss->db) == 0)
        st = mf_error_set(err, MF_ERR_NOT_FOUND, "", "no user with id %s", u->user_id);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return st;
}

static mf_status st_insert(us_store *s, const us_user *u, mf_error *err)
{
    return write_user(s, Q_INSERT, u, err);
}

static mf_status st_update(us_store *s, const us_user *u, mf_error *err)
{
    return write_user(s, Q_UPDATE, u, err);
}

static mf_status st_remove(us_store *s, const char *id, mf_error *err)
{
    sqlite_store *ss = SS(s);
    sqlite3_stmt *q = ss->q[Q_DELETE];
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    mf_status st = svc_db_status(ss->db, rc, "deleting a user", err);
    if (st == MF_OK && sqlite3_changes(ss->db) == 0)
        st = mf_error_set(err, MF_ERR_NOT_FOUND, "", "no user with id %s", id);
    sqlite3_reset(q);
    return st;
}

static mf_status st_emit(us_store *s, const svc_outbox_kind *k, const void *msg, mf_error *err)
{
    return svc_outbox_add(SS(s)->outbox, k, msg, err);
}

/* --------------------------------------------------------- transactions */

static mf_status st_begin(us_store *s, mf_error *err) { return svc_db_begin(SS(s)->db, err); }
static mf_status st_commit(us_store *s, mf_error *err) { return svc_db_commit(SS(s)->db, err); }
static void st_rollback(us_store *s) { svc_db_rollback(SS(s)->db); }
static mf_status st_read_begin(us_store *s, mf_error *err)
{
    sqlite_store *ss = SS(s);
    sqlite3_stmt *q = ss->q[Q_READ_BEGIN];
    mf_status st = svc_db_status(ss->db, sqlite3_step(q), "beginning a read", err);
    sqlite3_reset(q);
    ss->reading = st == MF_OK;
    return st;
}

/* Nothing was written: ROLLBACK ends the read. Nothing to do when no transaction is open (SQLite
 * may have ended it by itself). */
static void st_read_end(us_store *s)
{
    sqlite_store *ss = SS(s);
    scan_stop(ss); /* the scan holds the snapshot too */
    ss->reading = false;
    if (sqlite3_get_autocommit(ss->db))
        return;
    sqlite3_stmt *q = ss->q[Q_READ_END];
    mf_error err;
    if (svc_db_status(ss->db, sqlite3_step(q), "ending a read", &err))
        SVC_ERROR("read transaction not ended: %s", err.message);
    sqlite3_reset(q);
}
static mf_status st_savepoint(us_store *s, mf_error *err) { return svc_db_exec(SS(s)->db, "SAVEPOINT line", err); }
static mf_status st_release(us_store *s, mf_error *err) { return svc_db_exec(SS(s)->db, "RELEASE line", err); }

static void st_rollback_to(us_store *s)
{
    mf_error err;
    if (svc_db_exec(SS(s)->db, "ROLLBACK TO line; RELEASE line", &err))
        SVC_ERROR("rollback to savepoint failed: %s", err.message);
}

static void st_close(us_store *s)
{
    sqlite_store *ss = SS(s);
    for (int i = 0; i < Q_N; i++)
        sqlite3_finalize(ss->q[i]);
    svc_outbox_writer_close(ss->outbox);
    svc_db_close(ss->db);
    mf_buf_free(&ss->prefs);
    free(ss);
}

static const us_store_ops sqlite_ops = {
    st_close, st_begin,  st_commit, st_rollback, st_savepoint, st_release, st_rollback_to, st_read_begin, st_read_end, st_get,
    st_profile, st_list,  st_each,   st_each_deleted, st_prune_deleted, st_count,  st_insert,   st_update,    st_remove,  st_emit,
};

mf_status us_store_sqlite_open(const char *path, us_store **out, mf_error *err)
{
    *out = NULL;
    sqlite_store *ss = calloc(1, sizeof *ss);
    if (!ss)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    ss->base.ops = &sqlite_ops;
    ss->scan_steps = SCAN_STEPS;
    mf_buf_init(&ss->prefs);
    mf_status st = svc_db_open(path, &ss->db, err);
    for (int i = 0; st == MF_OK && i < Q_N; i++) {
        int rc = sqlite3_prepare_v3(ss->db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &ss->q[i], NULL);
        st = svc_db_status(ss->db, rc, "preparing the user store", err);
    }
    if (st == MF_OK)
        st = svc_outbox_writer_open(ss->db, &ss->outbox, err);
    if (st) {
        st_close(&ss->base);
        return st;
    }
    *out = &ss->base;
    return MF_OK;
}
