/* Unit tests of cs_ledger and cs_campaigns: snapshot, batches, outcomes and counters in one
 * transaction, held targets coming back, resume after an uncommitted batch, campaign identity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_campaigns.h"
#include "cs_db.h"
#include "cs_ledger.h"
#include "cs_test_util.h"
#include "cs_test_vfs.h"
#include "cs_userview.h"

#define EXEC "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
#define N 25

static char path[64];

static void populate(sqlite3 *db)
{
    cs_userview *v;
    assert_int_equal(cs_userview_open(db, &v, NULL), MF_OK);
    for (int i = 0; i < N; i++) {
        char id[37];
        cs_test_uuid((uint64_t)i + 100, id);
        mf_user_info_update ev = {.user_id = id, .has_changes = true, .changes = "{\"name\":\"x\"}",
                                  .updated_at = "2026-01-01T00:00:00Z"};
        assert_int_equal(cs_userview_apply_update(v, &ev, NULL), MF_OK);
    }
    cs_userview_close(v);
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/cs_ledger_XXXXXX");
    int fd = mkstemp(path);
    close(fd);
    sqlite3 *db;
    assert_int_equal(cs_db_open(path, &db, NULL), MF_OK);
    populate(db);
    svc_db_close(db);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cs_test_db_unlink(path);
    return 0;
}

static void open_all(sqlite3 **db, cs_ledger **l)
{
    assert_int_equal(cs_db_open(path, db, NULL), MF_OK);
    assert_int_equal(cs_ledger_open(*db, l, NULL), MF_OK);
}

static void close_all(sqlite3 *db, cs_ledger *l)
{
    cs_ledger_close(l);
    svc_db_close(db);
}

static void active_cb(void *ctx, const cs_execution *e)
{
    int *n = ctx;
    (*n)++;
    assert_string_equal(e->execution_id, EXEC);
}

static void label_cb(void *ctx, const char *label, int64_t count)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 512 - n, "%s=%lld;", label, (long long)count);
}

/* The campaign every test here executes: all users, one plain template. */
static void all_users_campaign(mf_campaign_create *c)
{
    cs_test_campaign("{'campaign_id':'7c9e6679-7425-40de-944b-e07fc1f90ae7','name':'n','target_audience':"
                     "{'user_segments':['all_users']},'notification_template':{'title_template':'t',"
                     "'body_template':'b'},'schedule':{'type':'immediate'}}",
                     c);
}

/* Records a running immediate execution of the all-users campaign c (filled here; the caller frees
 * it) with its targets: all N users. */
static cs_execution create_all_users(cs_ledger *l, const char *exec, int64_t batch_size, int64_t created_at,
                                     mf_campaign_create *c)
{
    all_users_campaign(c);
    cs_target_opts o = {.now_ms = 0, .new_days = 30, .active_days = 30};
    cs_execution e = {.campaign_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                      .status = MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING,
                      .type = MF_CAMPAIGN_EXECUTE_EXECUTION_TYPE_IMMEDIATE, .batch_size = batch_size,
                      .created_at = created_at};
    snprintf(e.execution_id, sizeof e.execution_id, "%s", exec);
    assert_int_equal(cs_ledger_create(l, &e, &c->target_audience, &o, NULL), MF_OK);
    return e;
}

static void lifecycle(void **state)
{
    (void)state;
    sqlite3 *db;
    cs_ledger *l;
    open_all(&db, &l);
    mf_campaign_create c;
    all_users_campaign(&c);
    cs_target_opts o = {.now_ms = 0, .new_days = 30, .active_days = 30};
    cs_execution e = {.execution_id = EXEC, .campaign_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                      .status = MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING,
                      .type = MF_CAMPAIGN_EXECUTE_EXECUTION_TYPE_IMMEDIATE, .batch_size = 10, .created_at = 5};
    assert_int_equal(cs_ledger_create(l, &e, &c.target_audience, &o, NULL), MF_OK);
    assert_int_equal(e.total, N);
    mf_error err;
    assert_int_equal(cs_ledger_create(l, &e, &c.target_audience, &o, &err), MF_ERR_DUPLICATE);

    /* batch 1: 10 pending; 6 sent, 2 skipped, 1 held until t=100, 1 failed */
    cs_target_row rows[16];
    size_t n;
    assert_int_equal(cs_ledger_batch(l, EXEC, 0, rows, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 10);
    assert_int_equal(rows[0].seq, 1);
    assert_int_equal(rows[9].seq, 10);
    cs_outcome out[16];
    for (size_t i = 0; i < n; i++) {
        out[i] = (cs_outcome){.seq = rows[i].seq, .before = rows[i].state, .after = CS_TARGET_SENT, .variant = 0,
                              .attempts = 1};
        if (i == 6 || i == 7)
            out[i] = (cs_outcome){.seq = rows[i].seq, .after = CS_TARGET_SKIPPED, .reason = "push_disabled", .variant = -1};
        if (i == 8)
            out[i] = (cs_outcome){.seq = rows[i].seq, .after = CS_TARGET_HELD, .release_at = 100, .variant = -1};
        if (i == 9)
            out[i] = (cs_outcome){.seq = rows[i].seq, .after = CS_TARGET_FAILED, .reason = "user_not_found", .variant = -1};
    }
    assert_int_equal(cs_ledger_commit(l, EXEC, out, n, 1, NULL), MF_OK);

    /* batch 2, uncommitted (the service is killed after publishing) */
    assert_int_equal(cs_ledger_batch(l, EXEC, 1, rows, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 10);
    assert_int_equal(rows[0].seq, 11);
    /* the batch taken ahead while batch 2 is finished: only the pending targets after it */
    cs_target_row ahead[16];
    assert_int_equal(cs_ledger_batch_view(l, EXEC, 1, rows[n - 1].seq, ahead, NULL, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 5);
    assert_int_equal(ahead[0].seq, 21);
    assert_int_equal(ahead[4].seq, 25);
    assert_int_equal(cs_ledger_batch_view(l, EXEC, 1, 25, ahead, NULL, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 0);
    close_all(db, l);

    /* restart: the same batch again, then the rest */
    open_all(&db, &l);
    int active = 0;
    assert_int_equal(cs_ledger_active(l, active_cb, &active, NULL), MF_OK);
    assert_int_equal(active, 1);
    assert_int_equal(cs_ledger_batch(l, EXEC, 2, rows, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 10);
    assert_int_equal(rows[0].seq, 11);
    for (size_t i = 0; i < n; i++)
        out[i] = (cs_outcome){.seq = rows[i].seq, .after = i == 0 ? CS_TARGET_PENDING : CS_TARGET_SENT, .variant = 1};
    assert_int_equal(cs_ledger_commit(l, EXEC, out, n, 3, NULL), MF_OK);
    /* the one left pending (a publish that failed) comes first next time */
    assert_int_equal(cs_ledger_batch(l, EXEC, 4, rows, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 6);
    assert_int_equal(rows[0].seq, 11);
    for (size_t i = 0; i < n; i++)
        out[i] = (cs_outcome){.seq = rows[i].seq, .after = CS_TARGET_SENT, .variant = 0};
    assert_int_equal(cs_ledger_commit(l, EXEC, out, n, 5, NULL), MF_OK);

    /* only the held one is left, due at 100 */
    bool any, none;
    int64_t at;
    assert_int_equal(cs_ledger_has_pending(l, EXEC, &any, NULL), MF_OK);
    assert_false(any);
    assert_int_equal(cs_ledger_batch(l, EXEC, 99, rows, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cs_ledger_next_release(l, EXEC, &at, &none, NULL), MF_OK);
    assert_false(none);
    assert_int_equal(at, 100);
    assert_int_equal(cs_ledger_batch(l, EXEC, 100, rows, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].seq, 9);
    assert_int_equal(rows[0].state, CS_TARGET_HELD);
    out[0] = (cs_outcome){.seq = 9, .before = CS_TARGET_HELD, .after = CS_TARGET_SENT, .variant = 0};
    assert_int_equal(cs_ledger_commit(l, EXEC, out, 1, 101, NULL), MF_OK);
    assert_int_equal(cs_ledger_next_release(l, EXEC, &at, &none, NULL), MF_OK);
    assert_true(none);

    cs_execution got;
    bool found;
    assert_int_equal(cs_ledger_get(l, EXEC, &got, &found, NULL), MF_OK);
    assert_true(found);
    assert_int_equal(got.total, N);
    assert_int_equal(got.sent, 6 + 9 + 6 + 1);
    assert_int_equal(got.skipped, 2);
    assert_int_equal(got.failed, 1);
    assert_int_equal(got.held, 0);
    assert_int_equal(got.ever_held, 1);
    assert_int_equal(got.sent + got.skipped + got.failed, N);
    char labels[512] = "";
    assert_int_equal(cs_ledger_breakdown(l, EXEC, label_cb, labels, NULL), MF_OK);
    assert_string_equal(labels, "failed:user_not_found=1;sent=22;skipped:push_disabled=2;");
    assert_int_equal(cs_ledger_set_status(l, EXEC, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED, NULL, NULL, 102, NULL),
                     MF_OK);
    active = 0;
    assert_int_equal(cs_ledger_active(l, active_cb, &active, NULL), MF_OK);
    assert_int_equal(active, 0);
    assert_int_equal(cs_ledger_get(l, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", &got, &found, NULL), MF_OK);
    assert_false(found);
    mf_campaign_create_free(&c);
    close_all(db, l);
}

#define EXEC2 "2b4e28ba-2fa1-41d2-883f-0016d3cca427" /* a second execution in the same file */

/* One target as the commit recorded it, read through the view cs_target_outcomes (the mark
 * applied): "state/release_at/reason/variant/attempts/updated_at". */
static void row_of(sqlite3 *db, const char *exec, int64_t seq, char *out, size_t cap)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT state, coalesce(release_at, -1), coalesce(reason, '-'), "
                                            "coalesce(variant, -1), attempts, coalesce(updated_at, -1) FROM "
                                            "cs_target_outcomes WHERE execution_id = ?1 AND seq = ?2", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, exec, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, cap, "%d/%lld/%s/%d/%d/%lld", sqlite3_column_int(st, 0), (long long)sqlite3_column_int64(st, 1),
             (const char *)sqlite3_column_text(st, 2), sqlite3_column_int(st, 3), sqlite3_column_int(st, 4),
             (long long)sqlite3_column_int64(st, 5));
    sqlite3_finalize(st);
}

/* The commit writes runs of consecutive seqs alike with one statement: every target must still get
 * exactly its own outcome, across gaps, changes of state, reason, variant, attempts and release time,
 * outcomes out of seq order and targets left pending. */
static void commit_writes_each_target(void **state)
{
    (void)state;
    sqlite3 *db;
    cs_ledger *l;
    open_all(&db, &l);
    mf_campaign_create c;
    create_all_users(l, EXEC2, N, 5, &c);
    char r1[] = "push_disabled", r2[] = "push_disabled"; /* equal reasons at different addresses */
    cs_outcome out[] = {
        {.seq = 1, .after = CS_TARGET_SENT, .variant = 0, .attempts = 1},
        {.seq = 2, .after = CS_TARGET_SENT, .variant = 0, .attempts = 1},
        {.seq = 3, .after = CS_TARGET_SENT, .variant = 1, .attempts = 1},
        {.seq = 4, .after = CS_TARGET_SENT, .variant = 1, .attempts = 2},
        {.seq = 5, .after = CS_TARGET_PENDING, .variant = -1, .attempts = 1},
        {.seq = 6, .after = CS_TARGET_SENT, .variant = 1, .attempts = 2},
        {.seq = 8, .after = CS_TARGET_SENT, .variant = 1, .attempts = 2}, /* 7 is not in the batch */
        {.seq = 9, .after = CS_TARGET_SKIPPED, .reason = r1, .variant = -1},
        {.seq = 10, .after = CS_TARGET_SKIPPED, .reason = r2, .variant = -1},
        {.seq = 11, .after = CS_TARGET_SKIPPED, .reason = "deleted", .variant = -1},
        {.seq = 12, .after = CS_TARGET_HELD, .release_at = 100, .variant = -1},
        {.seq = 13, .after = CS_TARGET_HELD, .release_at = 100, .variant = -1},
        {.seq = 14, .after = CS_TARGET_HELD, .release_at = 200, .variant = -1},
        {.seq = 16, .after = CS_TARGET_FAILED, .reason = "user_not_found", .variant = -1, .attempts = 1},
        {.seq = 15, .after = CS_TARGET_FAILED, .reason = "user_not_found", .variant = -1, .attempts = 1},
        {.seq = 17, .after = CS_TARGET_SENT, .variant = 0, .attempts = 1},
    };
    size_t n = sizeof out / sizeof *out;
    assert_int_equal(cs_ledger_commit(l, EXEC2, out, n, 7, NULL), MF_OK);
    /* 1 and 2 (variant 0, one request) are sent by the mark, which stops at 4 (5 stays pending):
     * their rows are the snapshot's, with no time; 17 is above the mark and written */
    const char *want[] = {
        "1/-1/-/0/1/-1", "1/-1/-/0/1/-1", "1/-1/-/1/1/7", "1/-1/-/1/2/7", "0/-1/-/-1/0/-1", "1/-1/-/1/2/7",
        "0/-1/-/-1/0/-1", "1/-1/-/1/2/7", "2/-1/push_disabled/-1/0/7", "2/-1/push_disabled/-1/0/7",
        "2/-1/deleted/-1/0/7", "3/100/-/-1/0/7", "3/100/-/-1/0/7", "3/200/-/-1/0/7",
        "4/-1/user_not_found/-1/1/7", "4/-1/user_not_found/-1/1/7", "1/-1/-/0/1/7", "0/-1/-/-1/0/-1",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        char got[128];
        row_of(db, EXEC2, (int64_t)i + 1, got, sizeof got);
        assert_string_equal(got, want[i]);
    }
    assert_int_equal(cs_test_db_int(db, "SELECT sent_through FROM cs_execution_keys WHERE execution_id = '" EXEC2 "'"),
                     4);
    assert_int_equal(cs_test_db_int(db, "SELECT count(*) FROM cs_targets WHERE state = 0 AND seq IN (1, 2) AND xk = "
                                         "(SELECT xk FROM cs_execution_keys WHERE execution_id = '" EXEC2 "')"), 2);
    cs_execution x;
    bool found;
    assert_int_equal(cs_ledger_get(l, EXEC2, &x, &found, NULL), MF_OK);
    assert_true(found);
    assert_int_equal(x.sent, 7);
    assert_int_equal(x.skipped, 3);
    assert_int_equal(x.held, 3);
    assert_int_equal(x.ever_held, 3);
    assert_int_equal(x.failed, 2);
    mf_campaign_create_free(&c);
    close_all(db, l);
}

static int synchronous_level(sqlite3 *db)
{
    return cs_test_db_int(db, "PRAGMA synchronous");
}

#define EXEC7 "7b4e28ba-2fa1-41d2-883f-0016d3cca427"

/* cs_ledger_commit_nowait records as cs_ledger_commit does and leaves the connection's synchronous
 * level as it found it (FULL from svc_db_open), also after a refused commit. */
static void commit_nowait_records_and_restores_sync(void **state)
{
    (void)state;
    cs_test_count_wal_syncs();
    sqlite3 *db;
    cs_ledger *l;
    open_all(&db, &l);
    assert_int_equal(synchronous_level(db), 2);
    mf_campaign_create c;
    create_all_users(l, EXEC7, N, 5, &c);
    cs_outcome out[] = {
        {.seq = 1, .after = CS_TARGET_SENT, .variant = 0, .attempts = 1},
        {.seq = 2, .after = CS_TARGET_SKIPPED, .reason = "push_disabled", .variant = -1},
    };
    cs_test_wal_syncs = 0;
    assert_int_equal(cs_ledger_commit_nowait(l, EXEC7, out, 2, 9, NULL), MF_OK);
    assert_int_equal(cs_test_wal_syncs, 0); /* not synced by the commit, the first one included */
    assert_int_equal(synchronous_level(db), 2);
    char got[128];
    row_of(db, EXEC7, 1, got, sizeof got);
    assert_string_equal(got, "1/-1/-/0/1/-1"); /* sent by the mark */
    row_of(db, EXEC7, 2, got, sizeof got);
    assert_string_equal(got, "2/-1/push_disabled/-1/0/9");
    /* again, with the level prepared once: the counters add up */
    cs_outcome more[] = {{.seq = 3, .after = CS_TARGET_SENT, .variant = 0, .attempts = 1}};
    assert_int_equal(cs_ledger_commit_nowait(l, EXEC7, more, 1, 10, NULL), MF_OK);
    assert_int_equal(cs_test_wal_syncs, 0);
    cs_outcome last[] = {{.seq = 4, .after = CS_TARGET_SENT, .variant = 0, .attempts = 1}};
    assert_int_equal(cs_ledger_commit(l, EXEC7, last, 1, 10, NULL), MF_OK);
    assert_true(cs_test_wal_syncs >= 1); /* a plain commit waits for the disk */
    cs_execution x;
    bool found;
    assert_int_equal(cs_ledger_get(l, EXEC7, &x, &found, NULL), MF_OK);
    assert_int_equal(x.sent, 3);
    assert_int_equal(x.skipped, 1);
    assert_int_equal(x.batches, 3);
    /* inside a transaction the caller opened: refused as cs_ledger_commit is, the level unchanged */
    mf_error err;
    assert_int_equal(svc_db_begin(db, NULL), MF_OK);
    assert_int_not_equal(cs_ledger_commit_nowait(l, EXEC7, more, 1, 11, &err), MF_OK);
    svc_db_rollback(db);
    assert_int_equal(synchronous_level(db), 2);
    assert_int_equal(cs_ledger_get(l, EXEC7, &x, &found, NULL), MF_OK);
    assert_int_equal(x.batches, 3);
    mf_campaign_create_free(&c);
    close_all(db, l);
}

#define EXEC3 "3b4e28ba-2fa1-41d2-883f-0016d3cca427" /* half done when the service is upgraded */
#define EXEC4 "4b4e28ba-2fa1-41d2-883f-0016d3cca427" /* completed before the upgrade */
#define EXEC5 "5b4e28ba-2fa1-41d2-883f-0016d3cca427" /* created after it */

/* A database at schema version 2 (the released steps 1 and 2 only) with EXEC4 completed and EXEC3
 * running, half done: seqs 1-8 and 12 sent (11 left pending by a failed publish), 9 held until
 * t=100, 10 skipped, 13-25 pending. */
static void write_version2(const char *file)
{
    sqlite3 *db;
    assert_int_equal(svc_db_open(file, &db, NULL), MF_OK);
    assert_int_equal(svc_db_migrate(db, CS_DB_COMPONENT, cs_db_migrations, 2, NULL), MF_OK);
    populate(db);
    assert_int_equal(
        svc_db_exec(db,
                    "INSERT INTO cs_executions(execution_id, campaign_id, status, execution_type, batch_size, "
                    "start_at, created_at, updated_at, total, sent, skipped, held, ever_held, batches) VALUES "
                    "('" EXEC4 "', 'c', 3, 1, 10, 0, 1, 1, 25, 25, 0, 0, 0, 3),"
                    "('" EXEC3 "', 'c', 2, 1, 10, 0, 2, 7, 25, 9, 1, 1, 1, 2);"
                    "INSERT INTO cs_targets(execution_id, seq, user_id, state, variant, attempts, updated_at) "
                    "SELECT '" EXEC4 "', row_number() OVER (ORDER BY user_id), user_id, 1, 0, 1, 1 FROM cs_users;"
                    "INSERT INTO cs_targets(execution_id, seq, user_id) "
                    "SELECT '" EXEC3 "', row_number() OVER (ORDER BY user_id), user_id FROM cs_users;"
                    "UPDATE cs_targets SET state = 1, variant = 1, attempts = 1, updated_at = 7 "
                    "WHERE execution_id = '" EXEC3 "' AND (seq <= 8 OR seq = 12);"
                    "UPDATE cs_targets SET state = 3, release_at = 100, updated_at = 7 "
                    "WHERE execution_id = '" EXEC3 "' AND seq = 9;"
                    "UPDATE cs_targets SET state = 2, reason = 'push_disabled', updated_at = 7 "
                    "WHERE execution_id = '" EXEC3 "' AND seq = 10;",
                    NULL),
        MF_OK);
    svc_db_close(db);
}

static int64_t int_of(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void breakdown_is(cs_ledger *l, const char *exec, const char *want)
{
    char labels[512] = "";
    assert_int_equal(cs_ledger_breakdown(l, exec, label_cb, labels, NULL), MF_OK);
    assert_string_equal(labels, want);
}

/* One commit of 1.5 times `pages` pages of the database. */
static void write_pages(sqlite3 *db, int pages)
{
    char sql[96];
    snprintf(sql, sizeof sql, "INSERT INTO scratch VALUES (zeroblob(%d))", pages * 3 / 2 * cs_test_db_int(db, "PRAGMA page_size"));
    assert_int_equal(svc_db_exec(db, sql, NULL), MF_OK);
}

/* While checkpoints are held a big commit leaves its pages in the log; let go, the log is copied
 * at the next cs_ledger_checkpoint (not before); not held, SQLite copies inside the commit. The
 * connection's own threshold comes back, and one with no automatic checkpoint is left alone. */
static void checkpoints_wait_while_held(void **state)
{
    (void)state;
    sqlite3 *db;
    cs_ledger *l;
    open_all(&db, &l);
    assert_int_equal(svc_db_exec(db, "CREATE TABLE scratch(b BLOB)", NULL), MF_OK);
    assert_int_equal(cs_test_db_int(db, "PRAGMA wal_autocheckpoint"), 1000); /* SQLite's default */
    assert_int_equal(cs_ledger_checkpoint(l, NULL), MF_OK);     /* nothing due: nothing done */
    const int own = 100, held = CS_LEDGER_HELD_LOG_BYTES / cs_test_db_int(db, "PRAGMA page_size");
    sqlite3_wal_autocheckpoint(db, own); /* small: the test's commits stay small */

    cs_ledger_hold_checkpoints(l, true);
    cs_ledger_hold_checkpoints(l, true); /* again: still held, the threshold to put back kept */
    assert_int_equal(cs_test_db_int(db, "PRAGMA wal_autocheckpoint"), held);
    write_pages(db, own);
    assert_true(cs_test_wal_backlog(path) > (uint32_t)own);
    assert_int_equal(cs_ledger_checkpoint(l, NULL), MF_OK); /* held: not due */
    assert_true(cs_test_wal_backlog(path) > (uint32_t)own);
    cs_ledger_hold_checkpoints(l, false);
    assert_int_equal(cs_test_db_int(db, "PRAGMA wal_autocheckpoint"), own);
    assert_true(cs_test_wal_backlog(path) > (uint32_t)own); /* due, not run yet */
    assert_int_equal(cs_ledger_checkpoint(l, NULL), MF_OK);
    assert_int_equal(cs_test_wal_backlog(path), 0);

    write_pages(db, own); /* not held */
    assert_int_equal(cs_test_wal_backlog(path), 0);

    sqlite3_wal_autocheckpoint(db, 0); /* none: holding changes nothing, letting go makes none due */
    cs_ledger_hold_checkpoints(l, true);
    assert_int_equal(cs_test_db_int(db, "PRAGMA wal_autocheckpoint"), 0);
    cs_ledger_hold_checkpoints(l, false);
    assert_int_equal(cs_test_db_int(db, "PRAGMA wal_autocheckpoint"), 0);
    write_pages(db, own);
    assert_int_equal(cs_ledger_checkpoint(l, NULL), MF_OK);
    assert_true(cs_test_wal_backlog(path) > (uint32_t)own);

    sqlite3_wal_autocheckpoint(db, own);
    cs_ledger_hold_checkpoints(l, true);
    cs_ledger_hold_checkpoints(l, false);
    assert_int_equal(cs_ledger_checkpoint(l, NULL), MF_OK);
    assert_int_equal(cs_test_wal_backlog(path), 0);
    assert_int_equal(svc_db_exec(db, "DROP TABLE scratch", NULL), MF_OK);
    close_all(db, l);
}

/* Migration 3 on a database at version 2: the rows are kept under the new keys, and an execution
 * in progress resumes as the engine drives it (batches read from the start after a restart, no
 * cursor yet) and finishes exactly the targets it had left: pending ones in seq order, then the
 * held one when it is due. A completed execution and one created afterwards stay apart. */
static void version2_execution_resumes(void **state)
{
    (void)state;
    char file[64];
    snprintf(file, sizeof file, "/tmp/cs_ledger_v2_XXXXXX");
    close(mkstemp(file));
    write_version2(file);
    sqlite3 *db;
    cs_ledger *l;
    assert_int_equal(cs_db_open(file, &db, NULL), MF_OK);
    assert_int_equal(int_of(db, "SELECT max(version) FROM schema_version WHERE component = 'campaign'"), (int)cs_db_migration_count);
    assert_int_equal(int_of(db, "SELECT count(*) FROM sqlite_master WHERE name = 'cs_targets_pending'"), 0);
    assert_int_equal(int_of(db, "SELECT count(*) FROM sqlite_master WHERE name = 'cs_targets_held'"), 1);
    assert_int_equal(int_of(db, "SELECT count(*) FROM pragma_table_info('cs_targets') WHERE name = 'execution_id'"), 0);
    assert_int_equal(int_of(db, "SELECT count(*) FROM cs_targets"), 2 * N);
    assert_int_equal(int_of(db, "SELECT count(*) FROM cs_execution_keys"), 2);
    const char *kept[][2] = {{"8", "1/-1/-/1/1/7"}, {"9", "3/100/-/-1/0/7"}, {"10", "2/-1/push_disabled/-1/0/7"},
                             {"11", "0/-1/-/-1/0/-1"}, {"12", "1/-1/-/1/1/7"}, {"25", "0/-1/-/-1/0/-1"}};
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++) {
        char got[128];
        row_of(db, EXEC3, atoi(kept[i][0]), got, sizeof got);
        assert_string_equal(got, kept[i][1]);
    }
    assert_int_equal(cs_ledger_open(db, &l, NULL), MF_OK);
    breakdown_is(l, EXEC4, "sent=25;");
    breakdown_is(l, EXEC3, "held=1;pending=14;sent=9;skipped:push_disabled=1;");

    int64_t seqs[N], want = 11;
    size_t n, got = 0;
    cs_target_row rows[10];
    cs_outcome out[10];
    for (;;) {
        assert_int_equal(cs_ledger_batch(l, EXEC3, 50, rows, 10, &n, NULL), MF_OK);
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++) {
            assert_true(got < N);
            assert_int_equal(rows[i].state, CS_TARGET_PENDING);
            seqs[got++] = rows[i].seq;
            out[i] = (cs_outcome){.seq = rows[i].seq, .after = CS_TARGET_SENT, .variant = 0, .attempts = 1};
        }
        assert_int_equal(cs_ledger_commit(l, EXEC3, out, n, 60, NULL), MF_OK);
    }
    assert_int_equal(got, 14);
    for (size_t i = 0; i < got; i++, want += want == 11 ? 2 : 1)
        assert_int_equal(seqs[i], want); /* 11, 13, 14, ..., 25 */
    bool any, none;
    int64_t at;
    assert_int_equal(cs_ledger_has_pending(l, EXEC3, &any, NULL), MF_OK);
    assert_false(any);
    assert_int_equal(cs_ledger_next_release(l, EXEC3, &at, &none, NULL), MF_OK);
    assert_false(none);
    assert_int_equal(at, 100);
    assert_int_equal(cs_ledger_batch(l, EXEC3, 100, rows, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].seq, 9);
    out[0] = (cs_outcome){.seq = 9, .before = CS_TARGET_HELD, .after = CS_TARGET_SENT, .variant = 0};
    assert_int_equal(cs_ledger_commit(l, EXEC3, out, 1, 101, NULL), MF_OK);
    assert_int_equal(cs_ledger_batch(l, EXEC3, 200, rows, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 0);
    cs_execution x;
    bool found;
    assert_int_equal(cs_ledger_get(l, EXEC3, &x, &found, NULL), MF_OK);
    assert_true(found);
    assert_int_equal(x.total, N);
    assert_int_equal(x.sent, 9 + 14 + 1);
    assert_int_equal(x.skipped, 1);
    assert_int_equal(x.held, 0);
    assert_int_equal(x.ever_held, 1);
    assert_int_equal(x.batches, 2 + 2 + 1);
    breakdown_is(l, EXEC3, "sent=24;skipped:push_disabled=1;");

    /* a new execution gets a key of its own */
    mf_campaign_create c;
    cs_execution e = create_all_users(l, EXEC5, 10, 300, &c);
    assert_int_equal(e.total, N);
    breakdown_is(l, EXEC5, "pending=25;");
    breakdown_is(l, EXEC4, "sent=25;");
    breakdown_is(l, EXEC3, "sent=24;skipped:push_disabled=1;");
    assert_int_equal(cs_ledger_batch(l, EXEC5, 300, rows, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 10);
    assert_int_equal(rows[0].seq, 1);
    mf_campaign_create_free(&c);
    close_all(db, l);
    cs_test_db_unlink(file);
}

#define EXEC6 "6b4e28ba-2fa1-41d2-883f-0016d3cca427"

/* The ledger remembers where an execution's pending targets begin. Two replicas (two connections,
 * two ledgers) take and commit batches in turn, some targets staying pending each time: every
 * batch must start at the lowest pending target in the file and hold every pending one up to its
 * size, whichever ledger committed last; both then agree nothing is pending. The sent targets are
 * variant 0 after one request, so each commit moves the sent-through mark as far as it can, and a
 * ledger whose cursor was learned before the other moved it must not take a target the mark
 * records as sent for a pending one (the file's truth is the view, cs_target_outcomes). */
static void cursor_never_skips_a_pending_target(void **state)
{
    (void)state;
    sqlite3 *db[2];
    cs_ledger *l[2];
    open_all(&db[0], &l[0]);
    open_all(&db[1], &l[1]);
    mf_campaign_create c;
    create_all_users(l[0], EXEC6, 4, 400, &c);
    sqlite3_stmt *truth;
    assert_int_equal(sqlite3_prepare_v2(db[0], "SELECT seq FROM cs_target_outcomes WHERE state = 0 AND execution_id = '"
                                               EXEC6 "' ORDER BY seq",
                                        -1, &truth, NULL),
                     SQLITE_OK);
    int round = 0, done = 0;
    for (; round < 200; round++) {
        cs_ledger *reader = l[round % 3 == 0], *writer = l[round % 2];
        int64_t want[4];
        size_t nw = 0, n;
        while (nw < 4 && sqlite3_step(truth) == SQLITE_ROW)
            want[nw++] = sqlite3_column_int64(truth, 0);
        sqlite3_reset(truth);
        cs_target_row rows[4];
        cs_outcome out[4];
        assert_int_equal(cs_ledger_batch(reader, EXEC6, 400, rows, 4, &n, NULL), MF_OK);
        assert_int_equal(n, nw);
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(rows[i].seq, want[i]);
            bool stays = (rows[i].seq * 7 + round) % 3 == 0;
            out[i] = (cs_outcome){.seq = rows[i].seq, .after = stays ? CS_TARGET_PENDING : CS_TARGET_SENT,
                                  .attempts = 1};
            done += !stays;
        }
        assert_int_equal(cs_ledger_commit(writer, EXEC6, out, n, 401, NULL), MF_OK);
    }
    assert_true(round < 200);
    assert_int_equal(done, N);
    /* the mark did its part: some sent targets are recorded by it alone */
    assert_true(cs_test_db_int(db[0], "SELECT count(*) FROM cs_targets WHERE state = 0") > 0);
    assert_int_equal(cs_test_db_int(db[0], "SELECT count(*) FROM cs_target_outcomes WHERE state = 1 AND execution_id = '"
                                           EXEC6 "'"), N);
    for (int i = 0; i < 2; i++) {
        bool any = true;
        assert_int_equal(cs_ledger_has_pending(l[i], EXEC6, &any, NULL), MF_OK);
        assert_false(any);
    }
    sqlite3_finalize(truth);
    mf_campaign_create_free(&c);
    close_all(db[1], l[1]);
    close_all(db[0], l[0]);
}

#define EXEC8 "8b4e28ba-2fa1-41d2-883f-0016d3cca427"

static int64_t mark_of(sqlite3 *db, const char *exec)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT sent_through FROM cs_execution_keys WHERE execution_id = '%s'", exec);
    return int_of(db, sql);
}

/* Commits one batch of outcomes made by `kinds` for rows: 's' sent (variant 0, one request), 'p'
 * left pending, 'v' sent with variant 1, 'r' sent after a retry (2 requests), 'k' skipped,
 * 'h' held until t=100. */
static void commit_kinds(cs_ledger *l, const cs_target_row *rows, size_t n, const char *kinds, int64_t now)
{
    cs_outcome out[16];
    assert_true(n <= 16 && strlen(kinds) == n);
    for (size_t i = 0; i < n; i++) {
        cs_outcome *o = &out[i];
        *o = (cs_outcome){.seq = rows[i].seq, .before = rows[i].state, .after = CS_TARGET_SENT, .variant = 0,
                          .attempts = rows[i].attempts + 1};
        switch (kinds[i]) {
        case 'p': o->after = CS_TARGET_PENDING; o->variant = -1; break;
        case 'v': o->variant = 1; break;
        case 'r': o->attempts++; break;
        case 'k': o->after = CS_TARGET_SKIPPED; o->reason = "push_disabled"; o->variant = -1; break;
        case 'h': o->after = CS_TARGET_HELD; o->release_at = 100; o->variant = -1; break;
        default: break;
        }
    }
    assert_int_equal(cs_ledger_commit(l, EXEC8, out, n, now, NULL), MF_OK);
}

/* The sent-through mark: it records a batch sent with variant 0 after one request without
 * rewriting the rows, stops below a target left pending (the rows after it are written), never
 * records another variant, a retry, a skip or a hold, and a ledger opened afresh on the file
 * (a restart) takes exactly the targets still pending from it. */
static void mark_records_sent_targets_only(void **state)
{
    (void)state;
    sqlite3 *db;
    cs_ledger *l;
    open_all(&db, &l);
    mf_campaign_create c;
    create_all_users(l, EXEC8, 10, 5, &c);
    assert_int_equal(mark_of(db, EXEC8), 0);
    cs_target_row rows[10];
    size_t n;
    char got[128];
    /* batch 1: all sent; no row rewritten, the mark at 10 */
    assert_int_equal(cs_ledger_batch(l, EXEC8, 50, rows, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 10);
    commit_kinds(l, rows, n, "ssssssssss", 51);
    assert_int_equal(mark_of(db, EXEC8), 10);
    const char *written = "SELECT count(*) FROM cs_target_outcomes WHERE execution_id = '" EXEC8 "' AND "
                          "updated_at IS NOT NULL";
    assert_int_equal(int_of(db, written), 0);
    /* batch 2: 11-14 sent, 15 left pending (a failed publish), then 16 sent, 17 variant 1, 18
     * skipped, 19 retried, 20 held: the mark stops at 14 and 16-20 are written */
    assert_int_equal(cs_ledger_batch(l, EXEC8, 50, rows, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 10);
    assert_int_equal(rows[0].seq, 11);
    commit_kinds(l, rows, n, "sssspsvkrh", 52);
    assert_int_equal(mark_of(db, EXEC8), 14);
    assert_int_equal(int_of(db, written), 5);
    const char *want[] = {"1/-1/-/0/1/-1", "0/-1/-/-1/0/-1", "1/-1/-/0/1/52", "1/-1/-/1/1/52",
                          "2/-1/push_disabled/-1/1/52", "1/-1/-/0/2/52", "3/100/-/-1/1/52", "0/-1/-/-1/0/-1"};
    for (int64_t seq = 14; seq <= 21; seq++) {
        row_of(db, EXEC8, seq, got, sizeof got);
        assert_string_equal(got, want[seq - 14]);
    }
    breakdown_is(l, EXEC8, "held=1;pending=6;sent=17;skipped:push_disabled=1;");
    close_all(db, l);

    /* a restart: the pending targets are 15 and 21-25, nothing at or below the mark */
    open_all(&db, &l);
    assert_int_equal(cs_ledger_batch(l, EXEC8, 50, rows, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 6);
    const int64_t pending[] = {15, 21, 22, 23, 24, 25};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rows[i].seq, pending[i]);
        assert_int_equal(rows[i].state, CS_TARGET_PENDING);
    }
    commit_kinds(l, rows, n, "ssssss", 60);
    assert_int_equal(mark_of(db, EXEC8), 15); /* 16 was written, not in this batch: the mark stops */
    row_of(db, EXEC8, 25, got, sizeof got);
    assert_string_equal(got, "1/-1/-/0/1/60");
    bool any = true;
    assert_int_equal(cs_ledger_has_pending(l, EXEC8, &any, NULL), MF_OK);
    assert_false(any);
    /* the held target comes back and is sent: written, whatever the mark */
    assert_int_equal(cs_ledger_batch(l, EXEC8, 100, rows, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].seq, 20);
    commit_kinds(l, rows, n, "s", 101);
    row_of(db, EXEC8, 20, got, sizeof got);
    assert_string_equal(got, "1/-1/-/0/2/101");
    breakdown_is(l, EXEC8, "sent=24;skipped:push_disabled=1;");
    cs_execution x;
    bool found;
    assert_int_equal(cs_ledger_get(l, EXEC8, &x, &found, NULL), MF_OK);
    assert_int_equal(x.sent, 24);
    assert_int_equal(int_of(db, "SELECT count(*) FROM cs_target_outcomes WHERE state = 1 AND execution_id = '"
                                EXEC8 "'"), 24);
    mf_campaign_create_free(&c);
    close_all(db, l);
}

#define EXEC9 "9b4e28ba-2fa1-41d2-883f-0016d3cca427"

/* The mark's UPDATE refused (a trigger stands for a failing write): the commit reports it and
 * records nothing - no counter, no row, no mark - and the same batch is read again. */
static void mark_refused_records_nothing(void **state)
{
    (void)state;
    sqlite3 *db;
    cs_ledger *l;
    open_all(&db, &l);
    mf_campaign_create c;
    create_all_users(l, EXEC9, 10, 5, &c);
    assert_int_equal(svc_db_exec(db, "CREATE TEMP TRIGGER refuse_mark BEFORE UPDATE OF sent_through ON "
                                     "cs_execution_keys BEGIN SELECT RAISE(ABORT, 'disk says no'); END;", NULL),
                     MF_OK);
    cs_target_row rows[10];
    size_t n;
    assert_int_equal(cs_ledger_batch(l, EXEC9, 50, rows, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 10);
    cs_outcome out[10];
    for (size_t i = 0; i < n; i++)
        out[i] = (cs_outcome){.seq = rows[i].seq, .after = i == 3 ? CS_TARGET_SKIPPED : CS_TARGET_SENT,
                              .reason = i == 3 ? "push_disabled" : NULL, .variant = i == 3 ? -1 : 0,
                              .attempts = 1};
    mf_error err;
    assert_int_not_equal(cs_ledger_commit(l, EXEC9, out, n, 51, &err), MF_OK); /* a constraint, here */
    assert_non_null(strstr(err.message, "sent-through mark"));
    cs_execution x;
    bool found;
    assert_int_equal(cs_ledger_get(l, EXEC9, &x, &found, NULL), MF_OK);
    assert_true(found && x.sent == 0 && x.skipped == 0 && x.batches == 0);
    assert_int_equal(mark_of(db, EXEC9), 0);
    breakdown_is(l, EXEC9, "pending=25;"); /* the skipped target's row was rolled back too */
    cs_target_row again[10];
    assert_int_equal(cs_ledger_batch(l, EXEC9, 52, again, 10, &n, NULL), MF_OK);
    assert_int_equal(n, 10);
    assert_int_equal(again[0].seq, rows[0].seq);
    /* the write allowed again: the same outcomes are recorded */
    assert_int_equal(svc_db_exec(db, "DROP TRIGGER refuse_mark", NULL), MF_OK);
    assert_int_equal(cs_ledger_commit(l, EXEC9, out, n, 53, NULL), MF_OK);
    assert_int_equal(mark_of(db, EXEC9), 10);
    breakdown_is(l, EXEC9, "pending=15;sent=9;skipped:push_disabled=1;");
    mf_campaign_create_free(&c);
    close_all(db, l);
}

/* Every statement of the ledger on cs_targets (or its view cs_target_outcomes) searches it by
 * execution key, through its primary key or the held index: none scans a table, and none sorts
 * except the admin breakdown's GROUP BY. The pending reads walk the primary key from a seq on (no sort of an execution's targets). */
static void queries_search_by_key(void **state)
{
    (void)state;
    sqlite3 *db;
    cs_ledger *l;
    open_all(&db, &l);
    int checked = 0, pending_reads = 0;
    for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st; st = sqlite3_next_stmt(db, st)) {
        const char *sql = sqlite3_sql(st);
        if (!strstr(sql, "cs_targets") && !strstr(sql, "cs_target_outcomes"))
            continue;
        char q[2048];
        snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
        sqlite3_stmt *p;
        assert_int_equal(sqlite3_prepare_v2(db, q, -1, &p, NULL), SQLITE_OK);
        /* a read of pending targets (seq above the cursor and the mark) must search that range */
        bool searched = false, ranged = false, pending = strstr(sql, "state = 0") != NULL;
        while (sqlite3_step(p) == SQLITE_ROW) {
            const char *d = (const char *)sqlite3_column_text(p, 3);
            if (strncmp(d, "SCAN", 4) == 0 || (strstr(d, "TEMP B-TREE") && !strstr(sql, "GROUP BY")))
                fail_msg("%s\n  plan: %s", sql, d);
            searched |= strncmp(d, "SEARCH", 6) == 0 && strstr(d, "xk=?") != NULL;
            ranged |= strncmp(d, "SEARCH", 6) == 0 && strstr(d, "(xk=? AND seq>?)") != NULL;
        }
        if (!searched)
            fail_msg("%s: no search by execution key", sql);
        if (pending && !ranged)
            fail_msg("%s: pending targets not read as a range of seq", sql);
        pending_reads += pending;
        sqlite3_finalize(p);
        checked++;
    }
    assert_int_equal(checked, 8); /* held, pending (each with and without users), update, min, any, breakdown */
    assert_int_equal(pending_reads, 3); /* pending, pending with users, any */
    close_all(db, l);
}

static void campaigns_are_never_overwritten(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(cs_db_open(path, &db, NULL), MF_OK);
    mf_campaign_create a, b, got;
    cs_test_example_campaign(&a);
    cs_test_example_campaign(&b);
    free(b.name);
    b.name = strdup("Other");
    char ha[CS_HASH_HEX], hb[CS_HASH_HEX];
    assert_int_equal(cs_campaign_hash(&a, ha, NULL), MF_OK);
    assert_int_equal(cs_campaign_hash(&b, hb, NULL), MF_OK);
    cs_put_result r;
    assert_int_equal(cs_campaigns_put(db, &a, ha, 17, 1, &r, NULL), MF_OK);
    assert_int_equal(r, CS_PUT_CREATED);
    assert_int_equal(cs_campaigns_put(db, &a, ha, 99, 2, &r, NULL), MF_OK);
    assert_int_equal(r, CS_PUT_SAME);
    assert_int_equal(cs_campaigns_put(db, &b, hb, 99, 3, &r, NULL), MF_OK);
    assert_int_equal(r, CS_PUT_CONFLICT);
    bool found;
    assert_int_equal(cs_campaigns_get(db, "7C9E6679-7425-40DE-944B-E07FC1F90AE7", &got, &found, NULL), MF_OK);
    assert_true(found);
    assert_string_equal(got.name, "Spring sale");
    assert_int_equal(got.target_audience.estimated_reach, 17);
    mf_campaign_create_free(&got);
    assert_int_equal(cs_campaigns_get(db, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", &got, &found, NULL), MF_OK);
    assert_false(found);
    mf_campaign_create_free(&a);
    mf_campaign_create_free(&b);
    svc_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lifecycle),
        cmocka_unit_test(commit_writes_each_target),
        cmocka_unit_test(commit_nowait_records_and_restores_sync),
        cmocka_unit_test(checkpoints_wait_while_held),
        cmocka_unit_test(version2_execution_resumes),
        cmocka_unit_test(queries_search_by_key),
        cmocka_unit_test(cursor_never_skips_a_pending_target),
        cmocka_unit_test(mark_records_sent_targets_only),
        cmocka_unit_test(mark_refused_records_nothing),
        cmocka_unit_test(campaigns_are_never_overwritten),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
