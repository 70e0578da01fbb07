/* Unit tests of cs_ledger_batch_view's merge join (cs_ledger.c, view_merge): every batch must equal,
 * row for row and field for field, what the LEFT JOIN of cs_targets and cs_users it replaces
 * reads (the reference statements below): all users targeted, a sparse segment, view rows
 * removed after the snapshot, users added between the targets after it, batches of one, held
 * targets before the pending ones, the cursor after a restart and reads ahead of the batch in hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_db.h"
#include "cs_ledger.h"
#include "cs_test_util.h"
#include "cs_userview.h"

#define CAMPAIGN "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define MAXB 1000

/* The reads before the merge join, word for word (the pending one above the sent-through mark). */
#define REF_HELD                                                                                                  \
    "SELECT t.seq, t.user_id, t.state, t.attempts, " CS_USERVIEW_COLUMNS " FROM cs_targets AS t "               \
    "LEFT JOIN cs_users AS u ON u.user_id = t.user_id WHERE t.xk = ?1 AND "                                      \
    "t.state = 3 AND t.release_at <= ?2 ORDER BY t.release_at, t.seq LIMIT ?3"
#define REF_PENDING                                                                                               \
    "SELECT t.seq, t.user_id, t.state, t.attempts, " CS_USERVIEW_COLUMNS " FROM cs_targets AS t "               \
    "LEFT JOIN cs_users AS u ON u.user_id = t.user_id WHERE t.xk = ?1 AND "                                      \
    "t.seq > max(?3, (SELECT sent_through FROM cs_execution_keys WHERE xk = ?1)) AND t.state = 0 "            \
    "ORDER BY t.seq LIMIT ?2"

typedef struct fixture {
    char path[64];
    sqlite3 *db;
    cs_ledger *l;
    cs_userview *v;
    sqlite3_stmt *held, *pending;
    uint64_t seed;
    int users; /* users added so far */
} fixture;

typedef struct batch {
    cs_target_row rows[MAXB];
    cs_user users[MAXB];
    size_t n;
} batch;

static batch got, want; /* large: not on the stack */

static void open_handles(fixture *f)
{
    assert_int_equal(cs_db_open(f->path, &f->db, NULL), MF_OK);
    assert_int_equal(cs_ledger_open(f->db, &f->l, NULL), MF_OK);
    assert_int_equal(cs_userview_open(f->db, &f->v, NULL), MF_OK);
    assert_int_equal(sqlite3_prepare_v2(f->db, REF_HELD, -1, &f->held, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(f->db, REF_PENDING, -1, &f->pending, NULL), SQLITE_OK);
}

static void close_handles(fixture *f)
{
    sqlite3_finalize(f->held);
    sqlite3_finalize(f->pending);
    cs_userview_close(f->v);
    cs_ledger_close(f->l);
    svc_db_close(f->db);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->path, sizeof f->path, "/tmp/cs_ledger_view_XXXXXX");
    int fd = mkstemp(f->path);
    assert_true(fd >= 0);
    close(fd);
    f->seed = 20261206;
    open_handles(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    close_handles(f);
    cs_test_db_unlink(f->path);
    free(f);
    return 0;
}

/* A user with a profile (premium when premium, else free), quiet hours for every third one. */
static void add_user(fixture *f, const char *id, bool premium)
{
    int i = f->users++;
    char changes[256], email[40];
    if (i % 5) /* some without an email */
        snprintf(email, sizeof email, "\"u%d@example.com\"", i);
    else
        snprintf(email, sizeof email, "null");
    snprintf(changes, sizeof changes,
             "{\"name\":\"user %d\",\"email\":%s,\"language\":\"%s\",\"timezone\":\"Europe/Berlin\","
             "\"plan\":\"%s\"}",
             i, email, i % 2 ? "de-DE" : "en-US", premium ? "premium" : "free");
    mf_user_info_update ev = {.user_id = (char *)id, .has_changes = true, .changes = changes,
                              .updated_at = "2026-01-01T00:00:00Z"};
    assert_int_equal(cs_userview_apply_update(f->v, &ev, NULL), MF_OK);
    if (i % 3 == 0) {
        mf_preferences_update p = {.user_id = (char *)id};
        p.preferences.push_enabled = i % 2;
        p.preferences.email_enabled = true;
        p.preferences.categories.marketing = true;
        p.preferences.has_quiet_hours = true;
        p.preferences.quiet_hours = (mf_notification_preferences_quiet_hours){
            .enabled = true, .has_start = true, .start = "22:00", .has_end = true, .end = "07:30"};
        assert_int_equal(cs_userview_apply_preferences(f->v, &p, 1000, NULL), MF_OK);
    }
}

/* count users with random ids, every `every`-th premium (0: none). */
static void add_users(fixture *f, int count, int every)
{
    for (int i = 0; i < count; i++) {
        char id[37];
        cs_test_uuid(cs_test_rand(&f->seed), id);
        add_user(f, id, every && i % every == 0);
    }
}

/* A new execution of the campaign for segment ("all_users", "premium_users"). */
static void create(fixture *f, const char *exec, const char *segment)
{
    char json[512];
    snprintf(json, sizeof json,
             "{'campaign_id':'" CAMPAIGN "','name':'n','target_audience':{'user_segments':['%s']},"
             "'notification_template':{'title_template':'t','body_template':'b'},'schedule':{'type':'immediate'}}",
             segment);
    mf_campaign_create c;
    cs_test_campaign(json, &c);
    cs_target_opts o = {.now_ms = 0, .new_days = 30, .active_days = 30};
    cs_execution e = {.status = MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING,
                      .type = MF_CAMPAIGN_EXECUTE_EXECUTION_TYPE_IMMEDIATE, .batch_size = 10, .created_at = 1};
    snprintf(e.execution_id, sizeof e.execution_id, "%s", exec);
    snprintf(e.campaign_id, sizeof e.campaign_id, "%s", CAMPAIGN);
    assert_int_equal(cs_ledger_create(f->l, &e, &c.target_audience, &o, NULL), MF_OK);
    assert_true(e.total > 0);
    mf_campaign_create_free(&c);
}

static int64_t int_of(fixture *f, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int64_t xk_of(fixture *f, const char *exec)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT xk FROM cs_execution_keys WHERE execution_id = '%s'", exec);
    return int_of(f, sql);
}

static void free_batch(batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        cs_user_free(&b->users[i]);
    b->n = 0;
}

static void ref_read(sqlite3_stmt *st, batch *b, size_t max)
{
    while (b->n < max && sqlite3_step(st) == SQLITE_ROW) {
        cs_target_row *r = &b->rows[b->n];
        memset(r, 0, sizeof *r);
        r->seq = sqlite3_column_int64(st, 0);
        snprintf(r->user_id, sizeof r->user_id, "%s", (const char *)sqlite3_column_text(st, 1));
        r->state = (cs_target_state)sqlite3_column_int(st, 2);
        r->attempts = sqlite3_column_int(st, 3);
        assert_int_equal(cs_userview_row(st, 4, &b->users[b->n], &r->in_view, NULL), MF_OK);
        b->n++;
    }
    sqlite3_reset(st);
}

/* What the join read for this batch (held due at now, then pending after max(after_seq, 0)). */
static void reference(fixture *f, const char *exec, int64_t now, int64_t after_seq, size_t max, batch *b)
{
    int64_t xk = xk_of(f, exec);
    b->n = 0;
    sqlite3_bind_int64(f->held, 1, xk);
    sqlite3_bind_int64(f->held, 2, now);
    sqlite3_bind_int64(f->held, 3, (sqlite3_int64)max);
    ref_read(f->held, b, max);
    sqlite3_bind_int64(f->pending, 1, xk);
    sqlite3_bind_int64(f->pending, 2, (sqlite3_int64)(max - b->n));
    sqlite3_bind_int64(f->pending, 3, after_seq);
    ref_read(f->pending, b, max);
}

static void same_text(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void same_user(const cs_user *a, const cs_user *b)
{
    assert_string_equal(a->user_id, b->user_id);
    same_text(a->name, b->name);
    same_text(a->email, b->email);
    same_text(a->language, b->language);
    same_text(a->timezone, b->timezone);
    same_text(a->plan, b->plan);
    assert_true(a->registered_at == b->registered_at && a->last_activity == b->last_activity);
    assert_true(a->live == b->live && a->push_enabled == b->push_enabled && a->email_enabled == b->email_enabled &&
                a->sms_enabled == b->sms_enabled);
    assert_true(a->cat_marketing == b->cat_marketing && a->cat_updates == b->cat_updates &&
                a->cat_security == b->cat_security);
    assert_true(a->quiet.enabled == b->quiet.enabled && a->quiet.start == b->quiet.start &&
                a->quiet.end == b->quiet.end);
}

typedef struct tally {
    size_t batches, rows, in_view, missing;
} tally;

/* Reads a batch both ways and compares them; leaves it in `got`. */
static void compare(fixture *f, const char *exec, int64_t now, int64_t after_seq, size_t max, tally *t)
{
    reference(f, exec, now, after_seq, max, &want);
    assert_int_equal(cs_ledger_batch_view(f->l, exec, now, after_seq, got.rows, got.users, max, &got.n, NULL), MF_OK);
    assert_int_equal(got.n, want.n);
    for (size_t i = 0; i < got.n; i++) {
        const cs_target_row *a = &got.rows[i], *b = &want.rows[i];
        assert_int_equal(a->seq, b->seq);
        assert_string_equal(a->user_id, b->user_id);
        assert_int_equal(a->state, b->state);
        assert_int_equal(a->attempts, b->attempts);
        assert_int_equal(a->in_view, b->in_view);
        same_user(&got.users[i], &want.users[i]);
        t->in_view += a->in_view;
        t->missing += !a->in_view;
    }
    t->batches += got.n > 0;
    t->rows += got.n;
    free_batch(&want);
}

/* Commits `got` as sent with variant 0 after one request, so that the sent-through mark records
 * what it can (or each seq % keep == 0 left pending, keep > 0), and frees it. */
static void commit_got(fixture *f, const char *exec, int keep)
{
    static cs_outcome out[MAXB];
    for (size_t i = 0; i < got.n; i++) {
        bool stays = keep && got.rows[i].seq % keep == 0;
        out[i] = (cs_outcome){.seq = got.rows[i].seq, .before = got.rows[i].state,
                              .after = stays ? CS_TARGET_PENDING : CS_TARGET_SENT, .variant = 0,
                              .attempts = got.rows[i].attempts + 1};
    }
    assert_int_equal(cs_ledger_commit(f->l, exec, out, got.n, 2, NULL), MF_OK);
    free_batch(&got);
}

/* Reads and commits batches of max until none is left; each compared with the join's. */
static tally drain(fixture *f, const char *exec, size_t max)
{
    tally t = {0};
    for (;;) {
        compare(f, exec, 2, 0, max, &t);
        if (got.n == 0)
            break;
        commit_got(f, exec, 0);
    }
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT total FROM cs_executions WHERE execution_id = '%s'", exec);
    assert_int_equal(t.rows, int_of(f, sql));
    return t;
}

/* How many times the ledger's walk of cs_users ran (its statement's run counter). */
static int walks(fixture *f)
{
    for (sqlite3_stmt *st = sqlite3_next_stmt(f->db, NULL); st; st = sqlite3_next_stmt(f->db, st))
        if (strstr(sqlite3_sql(st), "FROM cs_users AS u WHERE u.user_id BETWEEN"))
            return sqlite3_stmt_status(st, SQLITE_STMTSTATUS_RUN, 0);
    fail_msg("the ledger has no walk of cs_users");
    return -1;
}

static void all_users_targeted(void **state)
{
    fixture *f = *state;
    add_users(f, 600, 0);
    create(f, "00000000-0000-4000-8000-000000000001", "all_users");
    create(f, "00000000-0000-4000-8000-000000000002", "all_users");
    tally t = drain(f, "00000000-0000-4000-8000-000000000001", MAXB);
    assert_int_equal(t.batches, 1);
    assert_int_equal(t.in_view, 600);
    int before = walks(f);
    t = drain(f, "00000000-0000-4000-8000-000000000002", 37);
    assert_int_equal(t.batches, (600 + 36) / 37);
    assert_int_equal(t.missing, 0);
    assert_int_equal(walks(f) - before, t.batches); /* every batch walked */
}

/* A segment of every 20th user: the range of a batch holds 19 users that are not targets to one
 * that is, the walk runs out of credit and searches the rest. */
static void sparse_targets(void **state)
{
    fixture *f = *state;
    add_users(f, 2000, 20);
    create(f, "00000000-0000-4000-8000-000000000003", "premium_users");
    create(f, "00000000-0000-4000-8000-000000000004", "premium_users");
    tally t = drain(f, "00000000-0000-4000-8000-000000000003", MAXB);
    assert_int_equal(t.rows, 100);
    assert_int_equal(t.in_view, 100);
    int before = walks(f);
    t = drain(f, "00000000-0000-4000-8000-000000000004", 9);
    assert_int_equal(t.in_view, 100);
    /* the first batch's walk ran out of credit: the next ones (fewer than 16) are read by the join */
    assert_int_equal(t.batches, 12);
    assert_int_equal(walks(f) - before, 1);
}

/* A ledger reading a sparse execution by the join (its walk ran out of credit) while another
 * ledger on the same file (another replica after a takeover) commits batches and moves the
 * sent-through mark past its cursor: its next batch starts above the mark, as the join's does,
 * not at the targets the mark records as sent. */
static void join_reads_above_another_ledgers_mark(void **state)
{
    fixture *f = *state;
    const char *exec = "00000000-0000-4000-8000-000000000005";
    add_users(f, 2000, 20);
    create(f, exec, "premium_users");
    tally t = {0};
    compare(f, exec, 2, 0, 9, &t); /* walks, runs out of credit: the next batches by the join */
    commit_got(f, exec, 0);
    int walked = walks(f);
    compare(f, exec, 2, 0, 9, &t);
    commit_got(f, exec, 0);
    assert_int_equal(walks(f), walked);
    cs_ledger *other;
    assert_int_equal(cs_ledger_open(f->db, &other, NULL), MF_OK);
    cs_ledger *mine = f->l;
    f->l = other; /* compare and commit_got use f->l */
    for (int i = 0; i < 5; i++) {
        compare(f, exec, 2, 0, 9, &t);
        commit_got(f, exec, 0);
    }
    f->l = mine;
    cs_ledger_close(other); /* its statements gone: walks() counts this ledger's */
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT sent_through FROM cs_execution_keys WHERE execution_id = '%s'", exec);
    int64_t mark = int_of(f, sql);
    assert_true(mark >= 7 * 9 * 20 / 20 - 9); /* the other ledger's batches are below it */
    compare(f, exec, 2, 0, 9, &t);
    assert_int_equal(got.n, 9);
    assert_true(got.rows[0].seq > mark);
    assert_int_equal(walks(f), walked); /* read by the join, from its cursor below the mark */
    free_batch(&got);
}

/* View rows removed after the snapshot (the first and last of a batch's range among them), and
 * users deleted through the API (their row stays, not live): in_view as the join says. */
static void rows_removed_after_snapshot(void **state)
{
    fixture *f = *state;
    add_users(f, 300, 0);
    const char *exec = "00000000-0000-4000-8000-000000000005";
    create(f, exec, "all_users");
    char sql[512];
    snprintf(sql, sizeof sql,
             "DELETE FROM cs_users WHERE user_id IN (SELECT user_id FROM cs_targets WHERE xk = %lld AND "
             "(seq %% 3 = 0 OR seq %% 50 IN (1, 49) OR seq BETWEEN 200 AND 260))",
             (long long)xk_of(f, exec));
    assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL), SQLITE_OK);
    char id[37];
    snprintf(sql, sizeof sql, "SELECT user_id FROM cs_targets WHERE seq = 10");
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    mf_user_info_update ev = {.user_id = id, .has_changes = true, .changes = "{\"deleted\":true}",
                              .updated_at = "2026-02-01T00:00:00Z"};
    assert_int_equal(cs_userview_apply_update(f->v, &ev, NULL), MF_OK);
    tally t = drain(f, exec, 50);
    assert_int_equal(t.batches, 6);
    int64_t gone = int_of(f, "SELECT count(*) FROM cs_targets AS t WHERE NOT EXISTS "
                             "(SELECT 1 FROM cs_users AS u WHERE u.user_id = t.user_id)");
    assert_true(gone > 100);
    assert_int_equal(t.missing, gone);
}

/* A uuid right after id in user_id order (its last two hex digits replaced by k). */
static void neighbour(const char *id, unsigned k, char out[37])
{
    snprintf(out, 37, "%.34s%02x", id, k & 0xff);
}

/* Users added after the snapshot: random ones all over the range, and a run of 30 right after each
 * target of the range's second half (the walk finds the first half dense, then runs out of credit). */
static void users_added_after_snapshot(void **state)
{
    fixture *f = *state;
    add_users(f, 200, 0);
    const char *exec = "00000000-0000-4000-8000-000000000006";
    create(f, exec, "all_users");
    add_users(f, 300, 0);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT user_id FROM cs_targets WHERE seq > 100 ORDER BY seq", -1, &st,
                                        NULL),
                     SQLITE_OK);
    char ids[100][37];
    int n = 0;
    while (n < 100 && sqlite3_step(st) == SQLITE_ROW)
        snprintf(ids[n++], 37, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    assert_int_equal(n, 100);
    for (int i = 0; i < n; i++)
        for (unsigned k = 0; k < 30; k++) {
            char id[37];
            neighbour(ids[i], k * 7 + 1, id);
            if (strcmp(id, ids[i]) > 0)
                add_user(f, id, false);
        }
    assert_true(int_of(f, "SELECT count(*) FROM cs_users") > 200 + 300 + 1000);
    tally t = drain(f, exec, MAXB);
    assert_int_equal(t.batches, 1);
    assert_int_equal(t.in_view, 200);
    /* the same again in batches of 23 (a second execution of the same 200) */
    const char *exec2 = "00000000-0000-4000-8000-000000000007";
    create(f, exec2, "all_users"); /* now 200 + 300 + the neighbours: all of them targets */
    t = drain(f, exec2, 23);
    assert_int_equal(t.missing, 0);
}

/* Batches of one: the range is one user; with rows removed and users added around them. */
static void batches_of_one(void **state)
{
    fixture *f = *state;
    add_users(f, 120, 0);
    const char *exec = "00000000-0000-4000-8000-000000000008";
    create(f, exec, "all_users");
    add_users(f, 120, 0);
    assert_int_equal(sqlite3_exec(f->db,
                                  "DELETE FROM cs_users WHERE user_id IN (SELECT user_id FROM cs_targets "
                                  "WHERE seq % 4 = 1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    tally t = drain(f, exec, 1);
    assert_int_equal(t.batches, 120);
    assert_int_equal(t.missing, 30);
}

/* Held targets first, then pending ones; the cursor after a restart (a new ledger on a new
 * connection), and reads ahead of the batch in hand (after_seq), each as the join reads them. */
static void cursor_after_restart(void **state)
{
    fixture *f = *state;
    add_users(f, 400, 0);
    const char *exec = "00000000-0000-4000-8000-000000000009";
    create(f, exec, "all_users");
    add_users(f, 400, 0);
    assert_int_equal(sqlite3_exec(f->db,
                                  "DELETE FROM cs_users WHERE user_id IN (SELECT user_id FROM cs_targets "
                                  "WHERE seq % 7 = 3)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    tally t = {0};
    /* two batches: some targets stay pending, some are held until 5 */
    for (int b = 0; b < 2; b++) {
        compare(f, exec, 2, 0, 60, &t);
        assert_int_equal(got.n, 60);
        static cs_outcome out[60];
        for (size_t i = 0; i < got.n; i++) {
            int64_t seq = got.rows[i].seq;
            cs_target_state after = seq % 11 == 0 ? CS_TARGET_PENDING : seq % 5 == 0 ? CS_TARGET_HELD : CS_TARGET_SENT;
            out[i] = (cs_outcome){.seq = seq, .before = got.rows[i].state, .after = after, .release_at = 5 + seq % 3,
                                  .variant = after == CS_TARGET_SENT ? 0 : -1};
        }
        assert_int_equal(cs_ledger_commit(f->l, exec, out, got.n, 2, NULL), MF_OK);
        free_batch(&got);
    }
    close_handles(f);
    open_handles(f); /* the restart: the cursor is learned again */
    compare(f, exec, 2, 0, 50, &t); /* the pending ones left behind, then on */
    assert_int_equal(got.rows[0].seq, 11);
    int64_t last = got.rows[got.n - 1].seq;
    free_batch(&got);
    compare(f, exec, 2, last, 50, &t); /* read ahead of the batch in hand, not committed */
    assert_true(got.rows[0].seq > last);
    free_batch(&got);
    compare(f, exec, 7, 0, 70, &t); /* the held ones are due: they come first */
    assert_int_equal(got.rows[0].state, CS_TARGET_HELD);
    assert_int_equal(got.rows[69].state, CS_TARGET_PENDING);
    commit_got(f, exec, 0);
    close_handles(f);
    open_handles(f);
    for (;;) {
        compare(f, exec, 7, 0, 45, &t);
        if (got.n == 0)
            break;
        commit_got(f, exec, 13);
        compare(f, exec, 7, 0, 45, &t);
        commit_got(f, exec, 0);
    }
    assert_true(t.missing > 0);
    assert_int_equal(int_of(f, "SELECT count(*) FROM cs_target_outcomes WHERE state IN (0, 3)"), 0);
    assert_true(int_of(f, "SELECT count(*) FROM cs_targets WHERE state = 0") > 0); /* the mark's */
}

/* Targets not numbered in user_id order (not written by the snapshot): read as the join reads them. */
static void targets_out_of_user_order(void **state)
{
    fixture *f = *state;
    add_users(f, 50, 0);
    const char *exec = "00000000-0000-4000-8000-00000000000a";
    create(f, exec, "all_users");
    /* reverse the numbering: seq = 51 - seq */
    assert_int_equal(sqlite3_exec(f->db,
                                  "UPDATE cs_targets SET seq = -seq; UPDATE cs_targets SET seq = 51 + seq;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    tally t = drain(f, exec, 8);
    assert_int_equal(t.in_view, 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(all_users_targeted, setup, teardown),
        cmocka_unit_test_setup_teardown(sparse_targets, setup, teardown),
        cmocka_unit_test_setup_teardown(join_reads_above_another_ledgers_mark, setup, teardown),
        cmocka_unit_test_setup_teardown(rows_removed_after_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(users_added_after_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(batches_of_one, setup, teardown),
        cmocka_unit_test_setup_teardown(cursor_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(targets_out_of_user_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
