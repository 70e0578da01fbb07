/* cs_actions.c - see cs_actions.h. */
#include "cs_actions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cs_db.h"
#include "svc_db.h"

#define COLUMNS "action_id, execution_id, kind, state, requested_by, requested_at, holder, settled_by, " \
                "settled_at, message"

struct cs_actions {
    sqlite3 *db;
    sqlite3_stmt *add, *pending, *newest, *settle, *settle_pending, *settle_all;
};

const char *cs_action_kind_name(cs_action_kind k)
{
    static const char *const names[] = {"?", "pause", "resume", "cancel"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

const char *cs_action_state_name(cs_action_state s)
{
    static const char *const names[] = {"pending", "applied", "refused", "superseded", "withdrawn"};
    return (unsigned)s < sizeof names / sizeof *names ? names[s] : "?";
}

mf_status cs_actions_open(sqlite3 *db, cs_actions **out, mf_error *err)
{
    *out = NULL;
    cs_actions *a = calloc(1, sizeof *a);
    if (!a)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    a->db = db;
    mf_status st = cs_db_prepare(db, "INSERT INTO cs_actions (execution_id, kind, state, requested_by, requested_at, "
                                     "holder, settled_by, settled_at, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                 &a->add, err);
    if (st == MF_OK)
        st = cs_db_prepare(db, "SELECT " COLUMNS " FROM cs_actions WHERE execution_id = ?1 AND state = 0 "
                               "ORDER BY action_id LIMIT 1", &a->pending, err);
    if (st == MF_OK)
        st = cs_db_prepare(db, "SELECT " COLUMNS " FROM cs_actions WHERE execution_id = ?1 "
                               "ORDER BY action_id DESC LIMIT 1", &a->newest, err);
    if (st == MF_OK)
        st = cs_db_prepare(db, "UPDATE cs_actions SET state = ?2, settled_by = ?3, settled_at = ?4, message = ?5 "
                               "WHERE action_id = ?1", &a->settle, err);
    if (st == MF_OK)
        st = cs_db_prepare(db, "UPDATE cs_actions SET state = ?2, settled_by = ?3, settled_at = ?4, message = ?5 "
                               "WHERE action_id = ?1 AND state = 0", &a->settle_pending, err);
    if (st == MF_OK)
        st = cs_db_prepare(db, "UPDATE cs_actions SET state = ?2, settled_by = ?3, settled_at = ?4, message = ?5 "
                               "WHERE execution_id = ?1 AND state = 0", &a->settle_all, err);
    if (st != MF_OK) {
        cs_actions_close(a);
        return st;
    }
    *out = a;
    return MF_OK;
}

void cs_actions_close(cs_actions *a)
{
    if (!a)
        return;
    sqlite3_finalize(a->add);
    sqlite3_finalize(a->pending);
    sqlite3_finalize(a->newest);
    sqlite3_finalize(a->settle);
    sqlite3_finalize(a->settle_pending);
    sqlite3_finalize(a->settle_all);
    free(a);
}

static void text_col(sqlite3_stmt *s, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

mf_status cs_actions_add(cs_actions *a, cs_action *x, mf_error *err)
{
    sqlite3_stmt *s = a->add;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, x->execution_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, (int)x->kind);
    sqlite3_bind_int(s, 3, (int)x->state);
    sqlite3_bind_text(s, 4, x->requested_by, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, x->requested_at);
    cs_db_bind_text(s, 6, x->holder[0] ? x->holder : NULL);
    cs_db_bind_text(s, 7, x->settled_by[0] ? x->settled_by : NULL);
    if (x->settled_at)
        sqlite3_bind_int64(s, 8, x->settled_at);
    else
        sqlite3_bind_null(s, 8);
    cs_db_bind_text(s, 9, x->message[0] ? x->message : NULL);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return svc_db_status(a->db, rc, "recording an admin request", err);
    x->id = (int64_t)sqlite3_last_insert_rowid(a->db);
    return MF_OK;
}

static mf_status read_one(cs_actions *a, sqlite3_stmt *s, const char *execution_id, cs_action *out, bool *found,
                          mf_error *err)
{
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, execution_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    *found = rc == SQLITE_ROW;
    if (*found) {
        memset(out, 0, sizeof *out);
        out->id = sqlite3_column_int64(s, 0);
        text_col(s, 1, out->execution_id, sizeof out->execution_id);
        out->kind = (cs_action_kind)sqlite3_column_int(s, 2);
        out->state = (cs_action_state)sqlite3_column_int(s, 3);
        text_col(s, 4, out->requested_by, sizeof out->requested_by);
        out->requested_at = sqlite3_column_int64(s, 5);
        text_col(s, 6, out->holder, sizeof out->holder);
        text_col(s, 7, out->settled_by, sizeof out->settled_by);
        out->settled_at = sqlite3_column_int64(s, 8);
        text_col(s, 9, out->message, sizeof out->message);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return svc_db_status(a->db, rc, "reading admin requests", err);
    return MF_OK;
}

mf_status cs_actions_pending(cs_actions *a, const char *execution_id, cs_action *out, bool *found, mf_error *err)
{
    return read_one(a, a->pending, execution_id, out, found, err);
}

mf_status cs_actions_newest(cs_actions *a, const char *execution_id, cs_action *out, bool *found, mf_error *err)
{
    return read_one(a, a->newest, execution_id, out, found, err);
}

/* Binds ?2..?5 (state, by, at, message), steps s; the number of rows changed or -1. */
static int settle(cs_actions *a, sqlite3_stmt *s, cs_action_state state, const char *by, int64_t at,
                  const char *message, mf_error *err)
{
    sqlite3_bind_int(s, 2, (int)state);
    cs_db_bind_text(s, 3, by);
    sqlite3_bind_int64(s, 4, at);
    cs_db_bind_text(s, 5, message && *message ? message : NULL);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        svc_db_status(a->db, rc, "settling an admin request", err);
        return -1;
    }
    return sqlite3_changes(a->db);
}

int cs_actions_settle(cs_actions *a, int64_t id, bool only_pending, cs_action_state state, const char *by,
                      int64_t at, const char *message, mf_error *err)
{
    sqlite3_stmt *s = only_pending ? a->settle_pending : a->settle;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, id);
    return settle(a, s, state, by, at, message, err);
}

int cs_actions_settle_all(cs_actions *a, const char *execution_id, cs_action_state state, const char *by,
                          int64_t at, const char *message, mf_error *err)
{
    sqlite3_reset(a->settle_all);
    sqlite3_bind_text(a->settle_all, 1, execution_id, -1, SQLITE_TRANSIENT);
    return settle(a, a->settle_all, state, by, at, message, err);
}
