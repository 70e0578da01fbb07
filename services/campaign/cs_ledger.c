/* cs_ledger.c - see cs_ledger.h. */
#include "cs_ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cs_db.h"
#include "cs_userview.h"

/*
 * The targets of an execution are keyed by its integer key xk (cs_execution_keys, cs_db.c). The
 * ledger remembers the keys of the executions it used last, and with each a cursor `settled`: no
 * target with seq <= settled is pending. A target never becomes pending again once it is written
 * (cs_ledger_commit never writes the pending state), so a cursor learned once stays true whoever
 * commits afterwards (another replica after a lease takeover too). Pending targets are read by a
 * primary-key range scan (xk, seq > cursor) instead of a partial index that every snapshotted and
 * every committed target had to update; the cursor keeps that scan from walking an execution's
 * finished targets again at every batch. Keys are read from committed rows only (a key written
 * by cs_ledger_create is not remembered: its transaction may still be rolled back).
 *
 * The mark. cs_execution_keys.sent_through (schema 5) is a seq at or below which every target
 * whose row still says pending was sent, with variant 0 after one profile request
 * (cs_target_outcomes, the view, reads them so). The commit leaves such a target's row as it is
 * instead of rewriting it: a batch all sent is the counters' UPDATE and the mark's, not 1,000
 * rows. The mark moves in the commit's own transaction, so there is no moment at which a target
 * is sent by the mark but not by the counters, or the other way round. It moves only up to the
 * cursor `settled` carried over the batch's outcomes (no target at or below it is pending once
 * they are written), and only past targets of the batch: every target up to it is then decided.
 * Readers of pending targets take max(their seq, the mark) from the database in the same
 * statement (MARK): a cursor remembered before another replica moved the mark is lower than the
 * mark, never higher, and the rows it would otherwise take for pending are sent.
 */
#define KEYS 16
#define MARK "(SELECT sent_through FROM cs_execution_keys WHERE xk = ?1)"

typedef struct exec_key {
    char execution_id[37]; /* "" when the slot is free */
    int64_t xk;
    int64_t settled;       /* no target with seq <= settled is pending */
    unsigned sparse;       /* batches left to read by the join: the last walk found too few targets */
} exec_key;

struct cs_ledger {
    sqlite3 *db;
    sqlite3_stmt *insert, *insert_key, *key, *set_total, *get, *status, *held_due, *pending, *update_target,
        *counters, *next_release, *has_pending, *active, *breakdown, *held_due_u, *pending_u, *view_range, *mark;
    sqlite3_stmt *fence;  /* cs_ledger_fence: "is the execution's lease held by fence_owner" */
    /* cs_ledger_commit_nowait's: the synchronous level to go back to (read on first use; 0 unread) */
    int sync_level;
    /* cs_ledger_hold_checkpoints': the automatic checkpoint's threshold to put back (0: not held,
     * -1: held with nothing to put back), and whether a checkpoint is due (released since) */
    int ckpt_back;
    bool ckpt_due;
    char fence_owner[64];
    exec_key keys[KEYS];
    exec_key spare;     /* a key not to remember (read inside a transaction) */
    unsigned next_slot; /* the slot a new key replaces (round robin) */
    cs_user_texts *texts; /* cs_ledger_batch_view_in's, for the view rows it reads (NULL: owned) */
};

static const char *const SELECT_EXEC =
    "SELECT execution_id, campaign_id, status, execution_type, priority, batch_size, start_at, created_at, "
    "updated_at, total, sent, failed, skipped, held, ever_held, batches, error_code, error_message FROM cs_executions ";

bool cs_execution_active(mf_campaign_status_update_status s)
{
    return s == MF_CAMPAIGN_STATUS_UPDATE_STATUS_PENDING || s == MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING ||
           s == MF_CAMPAIGN_STATUS_UPDATE_STATUS_PAUSED;
}

mf_status cs_ledger_open(sqlite3 *db, cs_ledger **out, mf_error *err)
{
    char sql[1024];
    *out = NULL;
    cs_ledger *l = calloc(1, sizeof *l);
    if (!l)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    l->db = db;
    mf_status s = cs_db_prepare(db,
                                "INSERT INTO cs_executions(execution_id, campaign_id, status, execution_type, priority, "
                                "batch_size, start_at, created_at, updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?8)",
                                &l->insert, err);
    if (s == MF_OK)
        s = cs_db_prepare(db, "INSERT INTO cs_execution_keys(execution_id) VALUES (?1)", &l->insert_key, err);
    if (s == MF_OK)
        s = cs_db_prepare(db, "SELECT xk FROM cs_execution_keys WHERE execution_id = ?1", &l->key, err);
    if (s == MF_OK)
        s = cs_db_prepare(db, "UPDATE cs_executions SET total = ?2 WHERE execution_id = ?1", &l->set_total, err);
    snprintf(sql, sizeof sql, "%s WHERE execution_id = ?1", SELECT_EXEC);
    if (s == MF_OK)
        s = cs_db_prepare(db, sql, &l->get, err);
    if (s == MF_OK)
        s = cs_db_prepare(db, "UPDATE cs_executions SET status = ?2, error_code = ?3, error_message = ?4, "
                              "updated_at = ?5 WHERE execution_id = ?1", &l->status, err);
    if (s == MF_OK)
        s = cs_db_prepare(db, "SELECT seq, user_id, state, attempts FROM cs_targets WHERE xk = ?1 AND "
                              "state = 3 AND release_at <= ?2 ORDER BY release_at, seq LIMIT ?3", &l->held_due, err);
    if (s == MF_OK)
        s = cs_db_prepare(db, "SELECT seq, user_id, state, attempts FROM cs_targets WHERE xk = ?1 AND "
                              "seq > max(?3, " MARK ") AND state = 0 ORDER BY seq LIMIT ?2", &l->pending, err);
    if (s == MF_OK)
        s = cs_db_prepare(db, "UPDATE cs_targets SET state = ?3, release_at = ?4, reason = ?5, variant = ?6, "
                              "attempts = ?7, updated_at = ?8 WHERE xk = ?1 AND seq BETWEEN ?2 AND ?9",
                          &l->update_target, err);
    if (s == MF_OK)
        s = cs_db_prepare(db, "UPDATE cs_executions SET sent = sent + ?2, failed = failed + ?3, skipped = skipped + ?4, "
                              "held = held + ?5, ever_held = ever_held + ?6, batches = batches + 1, updated_at = ?7 "
                              "WHERE execution_id = ?1", &l->counters, err);
    if (s == MF_OK)
        s = cs_db_prepare(db, "SELECT min(release_at) FROM cs_targets WHERE xk = ?1 AND state = 3", &l->next_release,
                          err);
    if (s == MF_OK)
        s = cs_db_prepare(db, "SELECT seq FROM cs_targets WHERE xk = ?1 AND seq > max(?2, " MARK ") AND state = 0 "
                              "ORDER BY seq LIMIT 1", &l->has_pending, err);
    /* the same two, each target with its user's view row (cs_ledger_batch_view) */
    if (s == MF_OK)
        s = cs_db_prepare(db, "SELECT t.seq, t.user_id, t.state, t.attempts, " CS_USERVIEW_COLUMNS " FROM cs_targets AS t "
                              "LEFT JOIN cs_users AS u ON u.user_id = t.user_id WHERE t.xk = ?1 AND "
                              "t.state = 3 AND t.release_at <= ?2 ORDER BY t.release_at, t.seq LIMIT ?3", &l->held_due_u,
                          err);
    if (s == MF_OK)
        s = cs_db_prepare(db, "SELECT t.seq, t.user_id, t.state, t.attempts, " CS_USERVIEW_COLUMNS " FROM cs_targets AS t "
                              "LEFT JOIN cs_users AS u ON u.user_id = t.user_id WHERE t.xk = ?1 AND "
                              "t.seq > max(?3, " MARK ") AND t.state = 0 ORDER BY t.seq LIMIT ?2", &l->pending_u, err);
    /* the view rows of a batch of pending targets, merged in C (view_merge) */
    if (s == MF_OK)
        s = cs_db_prepare(db, "SELECT " CS_USERVIEW_COLUMNS " FROM cs_users AS u WHERE u.user_id BETWEEN ?1 AND ?2 "
                              "ORDER BY u.user_id", &l->view_range, err);
    snprintf(sql, sizeof sql, "%s WHERE status IN (1, 2, 5) ORDER BY created_at, execution_id", SELECT_EXEC);
    if (s == MF_OK)
        s = cs_db_prepare(db, sql, &l->active, err);
    if (s == MF_OK)
        s = cs_db_prepare(db, "SELECT CASE state WHEN 0 THEN 'pending' WHEN 1 THEN 'sent' WHEN 2 THEN 'skipped' "
                              "WHEN 3 THEN 'held' ELSE 'failed' END || coalesce(':' || reason, '') AS label, count(*) "
                              "FROM cs_target_outcomes WHERE xk = ?1 GROUP BY label ORDER BY label", &l->breakdown,
                          err);
    if (s == MF_OK)
        s = cs_db_prepare(db, "UPDATE cs_execution_keys SET sent_through = ?2 WHERE xk = ?1 AND sent_through < ?2",
                          &l->mark, err);
    if (s != MF_OK) {
        cs_ledger_close(l);
        return s;
    }
    *out = l;
    return MF_OK;
}

void cs_ledger_close(cs_ledger *l)
{
    if (!l)
        return;
    sqlite3_stmt *all[] = {l->insert,   l->insert_key,   l->key,           l->set_total, l->get,
                           l->status,   l->held_due,     l->pending,       l->update_target,
                           l->counters, l->next_release, l->has_pending,   l->active,
                           l->breakdown, l->held_due_u,  l->pending_u,     l->view_range, l->fence,
                           l->mark};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sqlite3_finalize(all[i]);
    free(l);
}

static void done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static mf_status step_write(cs_ledger *l, sqlite3_stmt *st, const char *what, mf_error *err)
{
    int rc = sqlite3_step(st);
    done(st);
    return rc == SQLITE_DONE ? MF_OK : svc_db_status(l->db, rc, what, err);
}

/*
 * The key of execution_id, remembered or read; *k is NULL when the execution has none (no such
 * execution). Only a key read outside a transaction is remembered (it is committed).
 */
static mf_status key_of(cs_ledger *l, const char *execution_id, exec_key **k, mf_error *err)
{
    *k = NULL;
    for (size_t i = 0; i < KEYS; i++)
        if (l->keys[i].execution_id[0] && strcmp(l->keys[i].execution_id, execution_id) == 0) {
            *k = &l->keys[i];
            return MF_OK;
        }
    sqlite3_bind_text(l->key, 1, execution_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(l->key);
    int64_t xk = rc == SQLITE_ROW ? sqlite3_column_int64(l->key, 0) : 0;
    done(l->key);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? MF_OK : svc_db_status(l->db, rc, "read execution key", err);
    bool keep = sqlite3_get_autocommit(l->db) && strlen(execution_id) < sizeof l->keys[0].execution_id;
    exec_key *e = keep ? &l->keys[l->next_slot] : &l->spare;
    if (keep)
        l->next_slot = (l->next_slot + 1) % KEYS;
    snprintf(e->execution_id, sizeof e->execution_id, "%s", keep ? execution_id : "");
    e->xk = xk;
    e->settled = 0;
    e->sparse = 0;
    *k = e;
    return MF_OK;
}

static void read_exec(sqlite3_stmt *st, cs_execution *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->execution_id, sizeof e->execution_id, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(e->campaign_id, sizeof e->campaign_id, "%s", (const char *)sqlite3_column_text(st, 1));
    e->status = (mf_campaign_status_update_status)sqlite3_column_int(st, 2);
    e->type = (mf_campaign_execute_execution_type)sqlite3_column_int(st, 3);
    e->priority = (mf_priority)sqlite3_column_int(st, 4);
    int64_t *nums[] = {&e->batch_size, &e->start_at, &e->created_at, &e->updated_at, &e->total, &e->sent,
                       &e->failed, &e->skipped, &e->held, &e->ever_held, &e->batches};
    for (int i = 0; i < 11; i++)
        *nums[i] = sqlite3_column_int64(st, 5 + i);
    const unsigned char *code = sqlite3_column_text(st, 16), *msg = sqlite3_column_text(st, 17);
    snprintf(e->error_code, sizeof e->error_code, "%s", code ? (const char *)code : "");
    snprintf(e->error_message, sizeof e->error_message, "%s", msg ? (const char *)msg : "");
}

mf_status cs_ledger_get(cs_ledger *l, const char *execution_id, cs_execution *out, bool *found, mf_error *err)
{
    *found = false;
    sqlite3_bind_text(l->get, 1, execution_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(l->get);
    mf_status s = MF_OK;
    if (rc == SQLITE_ROW) {
        read_exec(l->get, out);
        *found = true;
    } else if (rc != SQLITE_DONE) {
        s = svc_db_status(l->db, rc, "read execution", err);
    }
    done(l->get);
    return s;
}

mf_status cs_ledger_create(cs_ledger *l, cs_execution *e, const mf_campaign_create_target_audience *a,
                           const cs_target_opts *o, mf_error *err)
{
    cs_execution existing;
    bool found, own = sqlite3_get_autocommit(l->db) != 0;
    mf_status s = cs_ledger_get(l, e->execution_id, &existing, &found, err);
    if (s == MF_OK && found)
        return mf_error_set(err, MF_ERR_DUPLICATE, "/execution_id", "execution %s exists", e->execution_id);
    if (s == MF_OK && own)
        s = svc_db_begin(l->db, err);
    if (s != MF_OK)
        return s;
    sqlite3_stmt *st = l->insert;
    sqlite3_bind_text(st, 1, e->execution_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, e->campaign_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, (int)e->status);
    sqlite3_bind_int(st, 4, (int)e->type);
    sqlite3_bind_int(st, 5, (int)e->priority);
    sqlite3_bind_int64(st, 6, e->batch_size);
    sqlite3_bind_int64(st, 7, e->start_at);
    sqlite3_bind_int64(st, 8, e->created_at);
    s = step_write(l, st, "insert execution", err);
    if (s == MF_OK) {
        sqlite3_bind_text(l->insert_key, 1, e->execution_id, -1, SQLITE_TRANSIENT);
        s = step_write(l, l->insert_key, "insert execution key", err);
    }
    int64_t xk = sqlite3_last_insert_rowid(l->db);
    e->total = 0;
    if (s == MF_OK && a)
        s = cs_target_snapshot(l->db, a, o, xk, &e->total, err);
    if (s == MF_OK) {
        sqlite3_bind_text(l->set_total, 1, e->execution_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(l->set_total, 2, e->total);
        s = step_write(l, l->set_total, "record total", err);
    }
    if (own && s == MF_OK)
        s = svc_db_commit(l->db, err);
    if (own && s != MF_OK)
        svc_db_rollback(l->db);
    return s;
}

mf_status cs_ledger_set_status(cs_ledger *l, const char *execution_id, mf_campaign_status_update_status status,
                               const char *code, const char *message, int64_t now_ms, mf_error *err)
{
    sqlite3_stmt *st = l->status;
    sqlite3_bind_text(st, 1, execution_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, (int)status);
    cs_db_bind_text(st, 3, code);
    cs_db_bind_text(st, 4, message);
    sqlite3_bind_int64(st, 5, now_ms);
    return step_write(l, st, "update execution status", err);
}

/* Reads up to max rows (and, when users is not NULL, each target's view row at column 4). */
static mf_status read_rows(cs_ledger *l, sqlite3_stmt *st, cs_target_row *rows, cs_user *users, size_t max, size_t *n,
                           mf_error *err)
{
    int rc = SQLITE_DONE;
    mf_status s = MF_OK;
    while (s == MF_OK && *n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cs_target_row *r = &rows[*n];
        r->seq = sqlite3_column_int64(st, 0);
        const unsigned char *id = sqlite3_column_text(st, 1);
        size_t len = id ? (size_t)sqlite3_column_bytes(st, 1) : 0;
        if (len >= sizeof r->user_id)
            len = sizeof r->user_id - 1;
        if (len)
            memcpy(r->user_id, id, len);
        r->user_id[len] = '\0';
        r->state = (cs_target_state)sqlite3_column_int(st, 2);
        r->attempts = sqlite3_column_int(st, 3);
        r->in_view = false;
        if (users)
            s = cs_userview_row_in(st, 4, l->texts, &users[*n], &r->in_view, err);
        if (s == MF_OK)
            (*n)++;
    }
    done(st);
    if (s != MF_OK)
        return s;
    return (*n == max || rc == SQLITE_DONE) ? MF_OK : svc_db_status(l->db, rc, "read targets", err);
}

mf_status cs_ledger_batch(cs_ledger *l, const char *execution_id, int64_t now_ms, cs_target_row *rows, size_t max,
                          size_t *n, mf_error *err)
{
    return cs_ledger_batch_view(l, execution_id, now_ms, 0, rows, NULL, max, n, err);
}

/*
 * The view rows of a batch of pending targets by a merge join. The snapshot numbers an execution's
 * targets in user_id order (cs_target_snapshot), so the pending targets, read in seq order, are
 * in user_id order too and their view rows are one range of cs_users' primary key: one walk of
 * that range replaces the LEFT JOIN's search of cs_users per target. The range may also hold
 * users that are not targets (a narrow segment, users added since the snapshot), and stepping
 * over one costs about what the walk saves on a target it finds (callgrind: a step 3.6 k
 * instructions with its columns, a search 3.3 k more). So the walk keeps a credit,
 * VIEW_CREDIT_BASE rows to start with and VIEW_CREDIT_PER_ROW more per target found; when it is
 * spent, the join reads the rest of the batch (from the first target not yet matched) as before,
 * and the next VIEW_SPARSE_BATCHES batches of the execution are read by the join straight away
 * (a walk again after them: users come and go). A batch thus costs at most the join's
 * instructions plus VIEW_CREDIT_BASE steps and a read of its targets without the join (1.2 k
 * each), and a sparse execution pays that once per VIEW_SPARSE_BATCHES + 1 batches. A target
 * whose user has no row stays not in view.
 */
#define VIEW_CREDIT_BASE 32
#define VIEW_CREDIT_PER_ROW 1
#define VIEW_SPARSE_BATCHES 15

/* strcmp of a target's user_id with a row's (BINARY collation: bytes, then length). */
static int id_cmp(const char *target, const unsigned char *id, size_t len)
{
    size_t tl = strlen(target);
    int c = memcmp(target, id, tl < len ? tl : len);
    return c ? c : (tl > len) - (tl < len);
}

static mf_status batch_view(cs_ledger *l, const char *execution_id, int64_t now_ms, int64_t after_seq,
                            cs_target_row *rows, cs_user *users, size_t max, size_t *n, mf_error *err);

/* Whether the n targets' user_ids rise strictly (the order the merge join needs). */
static bool in_user_order(const cs_target_row *rows, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (strcmp(rows[i - 1].user_id, rows[i].user_id) >= 0)
            return false;
    return true;
}

/* Fills users[i] and rows[i].in_view of n > 0 targets in user_id order (users zeroed) for
 * i < *merged: all n, or fewer when the credit ran out (the rest are for the join). */
static mf_status view_merge(cs_ledger *l, cs_target_row *rows, cs_user *users, size_t n, size_t *merged,
                            mf_error *err)
{
    sqlite3_stmt *st = l->view_range;
    sqlite3_bind_text(st, 1, rows[0].user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, rows[n - 1].user_id, -1, SQLITE_STATIC);
    size_t i = 0, credit = VIEW_CREDIT_BASE;
    int rc = SQLITE_ROW;
    mf_status s = MF_OK;
    while (s == MF_OK && i < n && credit > 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *id = sqlite3_column_text(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        int c = -1;
        while (i < n && (c = id_cmp(rows[i].user_id, id, len)) < 0)
            i++; /* no row for this target: it stays not in view */
        if (c == 0) {
            s = cs_userview_row_in(st, 0, l->texts, &users[i], &rows[i].in_view, err);
            i++;
            credit += VIEW_CREDIT_PER_ROW;
        } else if (i < n) {
            credit--; /* a user that is not a target */
        }
    }
    done(st);
    *merged = rc == SQLITE_DONE ? n : i; /* done: the range holds no row for the targets left */
    if (s != MF_OK)
        return s;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? MF_OK : svc_db_status(l->db, rc, "read users", err);
}

/* Reads pending targets with seq > from, with their view rows (users) when users, from rows[*n]
 * to at most rows[max - 1], in one statement. */
static mf_status read_from(cs_ledger *l, sqlite3_stmt *st, int64_t xk, int64_t from, cs_target_row *rows,
                           cs_user *users, size_t max, size_t *n, mf_error *err)
{
    sqlite3_bind_int64(st, 1, xk);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)(max - *n));
    sqlite3_bind_int64(st, 3, from);
    return read_rows(l, st, rows, users, max, n, err);
}

/* Reads up to max - *n pending targets with seq > from of k (and their view rows when users). */
static mf_status read_pending(cs_ledger *l, exec_key *k, int64_t from, cs_target_row *rows, cs_user *users,
                              size_t max, size_t *n, mf_error *err)
{
    if (!users)
        return read_from(l, l->pending, k->xk, from, rows, NULL, max, n, err);
    if (k->sparse) {
        k->sparse--;
        return read_from(l, l->pending_u, k->xk, from, rows, users, max, n, err);
    }
    size_t first = *n, merged = 0;
    mf_status s = read_from(l, l->pending, k->xk, from, rows, NULL, max, n, err);
    if (s != MF_OK || *n == first) {
        *n = first; /* users[first..] hold nothing: none to free */
        return s;
    }
    size_t got = *n - first;
    memset(users + first, 0, got * sizeof *users);
    bool walk = in_user_order(rows + first, got);
    if (walk)
        s = view_merge(l, rows + first, users + first, got, &merged, err);
    if (s != MF_OK || merged == got)
        return s;
    /* the rest by the join (targets not numbered by cs_target_snapshot: all of them) */
    if (walk)
        k->sparse = VIEW_SPARSE_BATCHES;
    *n = first + merged;
    from = rows[*n].seq - 1;
    return read_from(l, l->pending_u, k->xk, from, rows, users, max, n, err);
}

mf_status cs_ledger_batch_view(cs_ledger *l, const char *execution_id, int64_t now_ms, int64_t after_seq,
                               cs_target_row *rows, cs_user *users, size_t max, size_t *n, mf_error *err)
{
    return cs_ledger_batch_view_in(l, execution_id, now_ms, after_seq, rows, users, NULL, max, n, err);
}

mf_status cs_ledger_batch_view_in(cs_ledger *l, const char *execution_id, int64_t now_ms, int64_t after_seq,
                                  cs_target_row *rows, cs_user *users, cs_user_texts *texts, size_t max, size_t *n,
                                  mf_error *err)
{
    l->texts = texts; /* for read_rows and view_merge, during this call only */
    mf_status s = batch_view(l, execution_id, now_ms, after_seq, rows, users, max, n, err);
    l->texts = NULL;
    return s;
}

static mf_status batch_view(cs_ledger *l, const char *execution_id, int64_t now_ms, int64_t after_seq,
                            cs_target_row *rows, cs_user *users, size_t max, size_t *n, mf_error *err)
{
    *n = 0;
    exec_key *k;
    mf_status s = key_of(l, execution_id, &k, err);
    if (s != MF_OK || !k)
        return s;
    sqlite3_stmt *held = users ? l->held_due_u : l->held_due;
    sqlite3_bind_int64(held, 1, k->xk);
    sqlite3_bind_int64(held, 2, now_ms);
    sqlite3_bind_int64(held, 3, (sqlite3_int64)max);
    s = read_rows(l, held, rows, users, max, n, err);
    if (s == MF_OK && *n < max) {
        int64_t from = after_seq > k->settled ? after_seq : k->settled;
        size_t first = *n;
        s = read_pending(l, k, from, rows, users, max, n, err);
        if (s == MF_OK && from == k->settled) /* the first row read is the lowest pending target */
            k->settled = *n > first ? rows[first].seq - 1 : INT64_MAX;
    }
    if (s != MF_OK && users) { /* nothing half-read is handed out */
        for (size_t i = 0; i < *n; i++)
            cs_user_free(&users[i]);
        *n = 0;
    }
    return s;
}

/* Whether b is written like a (state, release time, reason, variant, attempts) and follows it (seq + 1). */
static bool same_write(const cs_outcome *a, const cs_outcome *b)
{
    return b->seq == a->seq + 1 && b->after == a->after && b->variant == a->variant && b->attempts == a->attempts &&
           (a->after != CS_TARGET_HELD || b->release_at == a->release_at) &&
           (a->reason == b->reason || (a->reason && b->reason && strcmp(a->reason, b->reason) == 0));
}

/* Writes o[0] and the n - 1 outcomes after it (each same_write as the one before): one UPDATE of the
 * seq range o[0].seq .. o[n-1].seq, which holds exactly these targets (seqs are unique, consecutive). */
static mf_status write_run(cs_ledger *l, int64_t xk, const cs_outcome *o, size_t n, int64_t now_ms, mf_error *err)
{
    sqlite3_stmt *st = l->update_target;
    sqlite3_bind_int64(st, 1, xk);
    sqlite3_bind_int64(st, 2, o->seq);
    sqlite3_bind_int(st, 3, (int)o->after);
    if (o->after == CS_TARGET_HELD)
        sqlite3_bind_int64(st, 4, o->release_at);
    cs_db_bind_text(st, 5, o->reason);
    if (o->variant >= 0)
        sqlite3_bind_int(st, 6, o->variant);
    sqlite3_bind_int(st, 7, o->attempts);
    sqlite3_bind_int64(st, 8, now_ms);
    sqlite3_bind_int64(st, 9, o[n - 1].seq);
    return step_write(l, st, "update target", err);
}

mf_status cs_ledger_fence(cs_ledger *l, const char *lease_owner, mf_error *err)
{
    snprintf(l->fence_owner, sizeof l->fence_owner, "%s", lease_owner);
    if (l->fence)
        return MF_OK;
    return cs_db_prepare(l->db, "SELECT 1 FROM cs_leases WHERE execution_id = ?1 AND owner = ?2", &l->fence, err);
}

/* Inside the commit's transaction (BEGIN IMMEDIATE: no replica can take the lease meanwhile). */
static mf_status check_fence(cs_ledger *l, const char *execution_id, mf_error *err)
{
    sqlite3_bind_text(l->fence, 1, execution_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(l->fence, 2, l->fence_owner, -1, SQLITE_STATIC);
    int rc = sqlite3_step(l->fence);
    done(l->fence);
    if (rc == SQLITE_ROW)
        return MF_OK;
    if (rc == SQLITE_DONE)
        return mf_error_set(err, MF_ERR_NOT_FOUND, "", "execution %s: its lease is held by another replica",
                            execution_id);
    return svc_db_status(l->db, rc, "check the lease", err);
}

/*
 * The mark these outcomes allow: the cursor `settled` (no target at or below it pending) carried
 * over the outcomes that decide the targets right after it, in their order, so never past the
 * batch's own targets. 0 when it does not pass any of them (or without a key, or when the cursor
 * says nothing is pending: then no outcome can be a pending target's).
 */
static int64_t mark_after(const exec_key *k, const cs_outcome *o, size_t n)
{
    if (!k || k->settled == INT64_MAX)
        return 0;
    int64_t through = k->settled;
    for (size_t i = 0; i < n; i++)
        if (o[i].after != CS_TARGET_PENDING && o[i].seq - 1 == through)
            through = o[i].seq;
    return through > k->settled ? through : 0;
}

/* Whether x's row is left as the snapshot wrote it (pending), the mark saying it was sent. It
 * trusts x->before: the state the row had when the batch was read, still its state now because
 * only the lease's holder commits the execution's batches (cs_ledger_fence) and it commits each
 * target once per read. A stale batch's "pending" for a row since decided would leave that row's
 * state as it is (held: sent again on release); the fence is what rules that out. */
static bool by_mark(const cs_outcome *x, int64_t mark)
{
    return x->seq <= mark && x->before == CS_TARGET_PENDING && x->after == CS_TARGET_SENT && x->variant == 0 &&
           x->attempts == 1;
}

/* The outcomes' rows: one statement per run of consecutive seqs written alike (a run ends before
 * an outcome the mark records), none for those the mark records or that stay pending. (One
 * statement per target was 14 % of the engine's time before the runs.) */
static mf_status write_rows(cs_ledger *l, int64_t xk, const cs_outcome *o, size_t n, int64_t mark, int64_t now_ms,
                            bool *marked, mf_error *err)
{
    mf_status s = MF_OK;
    *marked = false;
    for (size_t i = 0, run = 0; s == MF_OK && i < n; i++) {
        const cs_outcome *x = &o[i];
        if (x->after == CS_TARGET_PENDING)
            continue;
        if (by_mark(x, mark)) {
            *marked = true;
            continue;
        }
        run++;
        if (i + 1 == n || !same_write(x, &o[i + 1]) || by_mark(&o[i + 1], mark)) {
            s = write_run(l, xk, x - (run - 1), run, now_ms, err);
            run = 0;
        }
    }
    return s;
}

static mf_status write_counters(cs_ledger *l, const char *execution_id, const cs_outcome *o, size_t n,
                                int64_t now_ms, mf_error *err)
{
    int64_t d_sent = 0, d_failed = 0, d_skipped = 0, d_held = 0, d_ever = 0;
    for (size_t i = 0; i < n; i++) {
        const cs_outcome *x = &o[i];
        if (x->after == CS_TARGET_PENDING)
            continue;
        d_sent += x->after == CS_TARGET_SENT;
        d_failed += x->after == CS_TARGET_FAILED;
        d_skipped += x->after == CS_TARGET_SKIPPED;
        d_held += (x->after == CS_TARGET_HELD) - (x->before == CS_TARGET_HELD);
        d_ever += x->after == CS_TARGET_HELD && x->before != CS_TARGET_HELD;
    }
    sqlite3_stmt *st = l->counters;
    sqlite3_bind_text(st, 1, execution_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, d_sent);
    sqlite3_bind_int64(st, 3, d_failed);
    sqlite3_bind_int64(st, 4, d_skipped);
    sqlite3_bind_int64(st, 5, d_held);
    sqlite3_bind_int64(st, 6, d_ever);
    sqlite3_bind_int64(st, 7, now_ms);
    return step_write(l, st, "update counters", err);
}

mf_status cs_ledger_commit(cs_ledger *l, const char *execution_id, const cs_outcome *o, size_t n, int64_t now_ms,
                           mf_error *err)
{
    exec_key *k;
    mf_status s = key_of(l, execution_id, &k, err);
    int64_t xk = k ? k->xk : 0; /* 0: no execution key, no target is written */
    int64_t mark = mark_after(k, o, n);
    bool marked = false;
    if (s == MF_OK)
        s = svc_db_begin(l->db, err);
    if (s == MF_OK && l->fence)
        s = check_fence(l, execution_id, err);
    if (s == MF_OK)
        s = write_rows(l, xk, o, n, mark, now_ms, &marked, err);
    if (s == MF_OK && marked) {
        sqlite3_bind_int64(l->mark, 1, xk);
        sqlite3_bind_int64(l->mark, 2, mark);
        s = step_write(l, l->mark, "move the sent-through mark", err);
    }
    if (s == MF_OK)
        s = write_counters(l, execution_id, o, n, now_ms, err);
    if (s == MF_OK)
        s = svc_db_commit(l->db, err);
    if (s != MF_OK) {
        svc_db_rollback(l->db);
        return s;
    }
    if (k && mark > k->settled) /* the targets just written right after the cursor */
        k->settled = mark;
    return MF_OK;
}

/* Sets the connection's synchronous level. By sqlite3_exec each time: PRAGMA synchronous acts
 * when it is compiled (a prepared one stepped again acts only because SQLite happens to re-prepare
 * it), so a kept statement is no promise. */
static mf_status set_sync(cs_ledger *l, int level, mf_error *err)
{
    char sql[40];
    snprintf(sql, sizeof sql, "PRAGMA synchronous=%d", level);
    return svc_db_exec(l->db, sql, err);
}

void cs_ledger_hold_checkpoints(cs_ledger *l, bool hold)
{
    if (hold && !l->ckpt_back) {
        int64_t pages, page_size; /* 0 when unread: then nothing is held */
        svc_db_int(l->db, "PRAGMA wal_autocheckpoint", &pages, NULL);
        svc_db_int(l->db, "PRAGMA page_size", &page_size, NULL);
        int held = page_size > 0 ? (int)(CS_LEDGER_HELD_LOG_BYTES / page_size) : 0;
        l->ckpt_back = pages > 0 ? (int)pages : -1;
        if (pages > 0 && pages < held)
            sqlite3_wal_autocheckpoint(l->db, held);
    } else if (!hold && l->ckpt_back) {
        if (l->ckpt_back > 0) {
            sqlite3_wal_autocheckpoint(l->db, l->ckpt_back);
            l->ckpt_due = true;
        }
        l->ckpt_back = 0;
    }
}

mf_status cs_ledger_checkpoint(cs_ledger *l, mf_error *err)
{
    if (!l->ckpt_due || l->ckpt_back)
        return MF_OK;
    l->ckpt_due = false;
    int rc = sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? MF_OK : svc_db_status(l->db, rc, "checkpoint", err);
}

mf_status cs_ledger_commit_nowait(cs_ledger *l, const char *execution_id, const cs_outcome *o, size_t n,
                                  int64_t now_ms, mf_error *err)
{
    if (!sqlite3_get_autocommit(l->db)) /* inside the caller's transaction: its commit decides */
        return cs_ledger_commit(l, execution_id, o, n, now_ms, err);
    if (!l->sync_level) { /* the level to go back to: the connection's now (svc_db_open: FULL) */
        sqlite3_stmt *q;
        mf_status s = cs_db_prepare(l->db, "PRAGMA synchronous", &q, err);
        if (s != MF_OK)
            return s;
        l->sync_level = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : 2;
        sqlite3_finalize(q);
        if (l->sync_level <= 1) /* OFF or NORMAL already: nothing to set back (2 is as good as any) */
            l->sync_level = -1;
    }
    if (l->sync_level < 0)
        return cs_ledger_commit(l, execution_id, o, n, now_ms, err);
    mf_status s = set_sync(l, 1, err);
    if (s != MF_OK)
        return s;
    s = cs_ledger_commit(l, execution_id, o, n, now_ms, err);
    mf_error back;
    if (set_sync(l, l->sync_level, &back) != MF_OK && s == MF_OK) {
        *err = back; /* committed, but later commits would not wait for the disk either */
        s = MF_ERR_IO;
    }
    return s;
}

mf_status cs_ledger_next_release(cs_ledger *l, const char *execution_id, int64_t *at_ms, bool *none, mf_error *err)
{
    *none = true;
    exec_key *k;
    mf_status s = key_of(l, execution_id, &k, err);
    if (s != MF_OK || !k)
        return s;
    sqlite3_bind_int64(l->next_release, 1, k->xk);
    int rc = sqlite3_step(l->next_release);
    if (rc == SQLITE_ROW && sqlite3_column_type(l->next_release, 0) != SQLITE_NULL) {
        *none = false;
        *at_ms = sqlite3_column_int64(l->next_release, 0);
    } else if (rc != SQLITE_ROW) {
        s = svc_db_status(l->db, rc, "read held targets", err);
    }
    done(l->next_release);
    return s;
}

mf_status cs_ledger_has_pending(cs_ledger *l, const char *execution_id, bool *any, mf_error *err)
{
    *any = false;
    exec_key *k;
    mf_status s = key_of(l, execution_id, &k, err);
    if (s != MF_OK || !k)
        return s;
    sqlite3_bind_int64(l->has_pending, 1, k->xk);
    sqlite3_bind_int64(l->has_pending, 2, k->settled);
    int rc = sqlite3_step(l->has_pending);
    *any = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        k->settled = *any ? sqlite3_column_int64(l->has_pending, 0) - 1 : INT64_MAX;
    done(l->has_pending);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? MF_OK : svc_db_status(l->db, rc, "read pending targets", err);
}

mf_status cs_ledger_active(cs_ledger *l, cs_ledger_cb cb, void *ctx, mf_error *err)
{
    int rc;
    cs_execution e;
    while ((rc = sqlite3_step(l->active)) == SQLITE_ROW) {
        read_exec(l->active, &e);
        cb(ctx, &e);
    }
    done(l->active);
    return rc == SQLITE_DONE ? MF_OK : svc_db_status(l->db, rc, "read active executions", err);
}

mf_status cs_ledger_list(cs_ledger *l, const char *campaign_id, size_t limit, cs_ledger_cb cb, void *ctx,
                         mf_error *err)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "%s WHERE ?1 IS NULL OR campaign_id = lower(?1) ORDER BY created_at DESC, execution_id "
                              "LIMIT ?2", SELECT_EXEC);
    sqlite3_stmt *st;
    mf_status s = cs_db_prepare(l->db, sql, &st, err);
    if (s != MF_OK)
        return s;
    cs_db_bind_text(st, 1, campaign_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    int rc;
    cs_execution e;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_exec(st, &e);
        cb(ctx, &e);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? MF_OK : svc_db_status(l->db, rc, "list executions", err);
}

mf_status cs_ledger_breakdown(cs_ledger *l, const char *execution_id, cs_ledger_count_cb cb, void *ctx, mf_error *err)
{
    exec_key *k;
    mf_status s = key_of(l, execution_id, &k, err);
    if (s != MF_OK || !k)
        return s;
    int rc;
    sqlite3_bind_int64(l->breakdown, 1, k->xk);
    while ((rc = sqlite3_step(l->breakdown)) == SQLITE_ROW)
        cb(ctx, (const char *)sqlite3_column_text(l->breakdown, 0), sqlite3_column_int64(l->breakdown, 1));
    done(l->breakdown);
    return rc == SQLITE_DONE ? MF_OK : svc_db_status(l->db, rc, "count targets", err);
}
