/*
 * test_user_store.c - the user store's SQLite backend, migrations, the user model
 * (normalising, defaults, differences) and the small helpers of services/common
 * (timestamps, UUIDs, time zone names).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "svc_db.h"
#include "svc_id.h"
#include "svc_time.h"
#include "svc_tz.h"
#include "user_events.h"
#include "user_store.h"

static char g_dir[] = "/tmp/mf-store-test-XXXXXX";
static char g_path[256];

static int setup(void **state)
{
    (void)state;
    static int n;
    snprintf(g_path, sizeof g_path, "%s/t%d.db", g_dir, ++n);
    sqlite3 *db;
    mf_error err;
    assert_int_equal(svc_db_open(g_path, &db, &err), MF_OK);
    assert_int_equal(svc_db_migrate(db, SVC_OUTBOX_COMPONENT, svc_outbox_migrations, svc_outbox_migration_count,
                                    &err), MF_OK);
    assert_int_equal(svc_db_migrate(db, "user", us_store_sqlite_migrations, us_store_sqlite_migration_count, &err),
                     MF_OK);
    svc_db_close(db);
    return 0;
}

static us_store *open_store(void)
{
    us_store *s = NULL;
    mf_error err;
    if (us_store_sqlite_open(g_path, &s, &err))
        fail_msg("open: %s", err.message);
    return s;
}

/* A complete user. */
static void make_user(us_user *u, const char *id, const char *email)
{
    mf_error err;
    us_user_init(u);
    u->user_id = strdup(id), u->has_user_id = true;
    u->email = strdup(email), u->has_email = true;
    u->name = strdup("Name"), u->has_name = true;
    assert_int_equal(us_user_fill_defaults(u, "2025-01-02T03:04:05.678Z", &err), MF_OK);
    u->updated_at = strdup("2025-01-02T03:04:05.678Z"), u->has_updated_at = true;
}

static void put(us_store *s, const char *id, const char *email, mf_status want, const char *pointer)
{
    us_user u;
    mf_error err;
    make_user(&u, id, email);
    assert_int_equal(us_store_begin(s, &err), MF_OK);
    mf_status st = us_store_insert(s, &u, &err);
    assert_int_equal(st, want);
    if (pointer)
        assert_string_equal(err.pointer, pointer);
    if (st == MF_OK)
        assert_int_equal(us_store_commit(s, &err), MF_OK);
    else
        us_store_rollback(s);
    us_user_free(&u);
}

#define ID(n) "00000000-0000-4000-8000-00000000000" #n

static void migrations(void **state)
{
    (void)state;
    sqlite3 *db;
    mf_error err;
    int v = -1;
    assert_int_equal(svc_db_open(g_path, &db, &err), MF_OK);
    assert_int_equal(svc_db_version(db, "user", &v, &err), MF_OK);
    assert_int_equal(v, 2);
    /* again: nothing to do */
    assert_int_equal(svc_db_migrate(db, "user", us_store_sqlite_migrations, us_store_sqlite_migration_count, &err),
                     MF_OK);
    /* two steps of a new component, each in its own transaction */
    svc_migration two[] = {{1, "t", "CREATE TABLE t (x)"}, {2, "t.y", "ALTER TABLE t ADD COLUMN y"}};
    assert_int_equal(svc_db_migrate(db, "extra", two, 2, &err), MF_OK);
    assert_int_equal(svc_db_version(db, "extra", &v, &err), MF_OK);
    assert_int_equal(v, 2);
    /* a failing step is rolled back; the ones before stay */
    svc_migration three[] = {two[0], two[1], {3, "broken", "CREATE TABLE t (x)"}};
    assert_int_equal(svc_db_migrate(db, "extra", three, 3, &err), MF_ERR_IO);
    assert_non_null(strstr(err.message, "extra migration 3 (broken) failed"));
    assert_int_equal(svc_db_version(db, "extra", &v, &err), MF_OK);
    assert_int_equal(v, 2);
    /* the database is newer than the program */
    assert_int_equal(svc_db_migrate(db, "extra", two, 1, &err), MF_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "newer"));
    /* steps must be numbered 1..n */
    svc_migration gap[] = {{1, "a", "SELECT 1"}, {3, "b", "SELECT 1"}};
    assert_int_equal(svc_db_migrate(db, "gap", gap, 2, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(svc_db_close(db), MF_OK);
    /* WAL mode */
    assert_int_equal(svc_db_open(g_path, &db, &err), MF_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    /* SQLite's allocation counting is off (its global mutex per malloc): nothing is counted */
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE big (x); INSERT INTO big VALUES (zeroblob(100000))", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_memory_used(), 0);
    svc_db_close(db);
    assert_int_equal(svc_db_open("/nonexistent/dir/x.db", &db, &err), MF_ERR_IO);
    assert_null(db);
}

static void insert_get_update_remove(void **state)
{
    (void)state;
    us_store *s = open_store();
    mf_error err;
    put(s, ID(1), "a@example.com", MF_OK, NULL);
    put(s, ID(2), "A@EXAMPLE.com", MF_ERR_DUPLICATE, "/email"); /* emails ignore ASCII case */
    put(s, ID(1), "b@example.com", MF_ERR_DUPLICATE, "/user_id");
    put(s, ID(2), "b@example.com", MF_OK, NULL);
    us_user u, p;
    assert_int_equal(us_store_get(s, ID(1), &u, &err), MF_OK);
    assert_string_equal(u.email, "a@example.com");
    assert_string_equal(u.language, US_DEFAULT_LANGUAGE);
    assert_int_equal(u.plan, US_PLAN_FREE);
    assert_true(u.last_activity_is_null);
    assert_true(u.preferences.push_enabled);
    us_profile pr = {.email = (char *)"stale"}; /* overwritten: on error too */
    assert_int_equal(us_store_profile(s, ID(1), &pr, &err), MF_OK);
    assert_string_equal(pr.email, "a@example.com");
    assert_string_equal(pr.name, u.name);
    assert_string_equal(pr.language, US_DEFAULT_LANGUAGE);
    assert_string_equal(pr.timezone, "UTC");
    us_profile_free(&pr);
    assert_null(pr.email);
    for (int i = 0; i < 2; i++) { /* twice: the statement is reset after a miss too */
        pr.name = (char *)"stale";
        assert_int_equal(us_store_profile(s, ID(9), &pr, &err), MF_ERR_NOT_FOUND);
        assert_non_null(strstr(err.message, ID(9)));
        assert_null(pr.email), assert_null(pr.name), assert_null(pr.language), assert_null(pr.timezone);
    }
    assert_int_equal(us_store_profile(s, ID(2), &pr, &err), MF_OK);
    assert_string_equal(pr.email, "b@example.com");
    us_profile_free(&pr);
    assert_int_equal(us_store_get(s, ID(9), &p, &err), MF_ERR_NOT_FOUND);

    assert_int_equal(us_store_begin(s, &err), MF_OK);
    free(u.email);
    u.email = strdup("B@example.com");
    assert_int_equal(us_store_update(s, &u, &err), MF_ERR_DUPLICATE);
    assert_string_equal(err.pointer, "/email");
    free(u.email);
    u.email = strdup("c@example.com");
    u.plan = US_PLAN_PREMIUM;
    u.preferences.categories.marketing = false;
    assert_int_equal(us_store_update(s, &u, &err), MF_OK);
    assert_int_equal(us_store_commit(s, &err), MF_OK);
    us_user v;
    assert_int_equal(us_store_get(s, ID(1), &v, &err), MF_OK);
    assert_true(mf_equal(us_user_full_type, &u, &v));
    us_user_free(&v);
    assert_int_equal(us_store_profile(s, ID(1), &pr, &err), MF_OK); /* the update is read */
    assert_string_equal(pr.email, "c@example.com");
    us_profile_free(&pr);

    assert_int_equal(us_store_begin(s, &err), MF_OK);
    assert_int_equal(us_store_remove(s, ID(1), &err), MF_OK);
    assert_int_equal(us_store_remove(s, ID(1), &err), MF_ERR_NOT_FOUND);
    free(u.user_id);
    u.user_id = strdup(ID(7));
    assert_int_equal(us_store_update(s, &u, &err), MF_ERR_NOT_FOUND);
    assert_int_equal(us_store_commit(s, &err), MF_OK);
    assert_int_equal(us_store_profile(s, ID(1), &pr, &err), MF_ERR_NOT_FOUND); /* nor the removal */
    int64_t n;
    assert_int_equal(us_store_count(s, &n, &err), MF_OK);
    assert_int_equal(n, 1);
    us_user_free(&u);
    us_store_close(s);
}

/* A read transaction (user.info.request's batches): its reads see the snapshot of the first one,
 * a write committed meanwhile by another connection is seen after read_end, and ending it twice
 * or beginning it twice leaves the store working. */
static void read_transactions_see_one_snapshot(void **state)
{
    (void)state;
    us_store *w = open_store(), *r = open_store();
    mf_error err;
    us_profile pr;
    put(w, ID(1), "a@example.com", MF_OK, NULL);
    for (int round = 0; round < 2; round++) { /* twice: the prepared statements are reset */
        assert_int_equal(us_store_read_begin(r, &err), MF_OK);
        assert_int_equal(us_store_profile(r, ID(1), &pr, &err), MF_OK);
        us_profile_free(&pr);
        const char *id = round ? ID(3) : ID(2), *email = round ? "c@example.com" : "b@example.com";
        put(w, id, email, MF_OK, NULL); /* committed while r reads */
        assert_int_equal(us_store_profile(r, id, &pr, &err), MF_ERR_NOT_FOUND);
        us_store_read_end(r);
        assert_int_equal(us_store_profile(r, id, &pr, &err), MF_OK);
        assert_string_equal(pr.email, email);
        us_profile_free(&pr);
    }
    us_store_read_end(r); /* none open: nothing happens */
    assert_int_equal(us_store_read_begin(r, &err), MF_OK);
    assert_int_equal(us_store_read_begin(r, &err), MF_ERR_IO); /* no nesting */
    assert_non_null(strstr(err.message, "beginning a read"));
    us_store_read_end(r);
    assert_int_equal(us_store_read_begin(r, &err), MF_OK); /* the first one was ended */
    us_store_read_end(r);
    put(w, ID(4), "d@example.com", MF_OK, NULL); /* r holds no lock that would stop a writer */
    us_store_close(r);
    us_store_close(w);
}

/* Inside a read transaction profiles are read by walking the table forward from the last one
 * (user_store_sqlite.c's profile_scan): every order of asking gets what a point read outside one
 * gets. Users 0, 2, 4 ... 58 exist, odd ids do not. */
#define NID(buf, n) snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", n)
static void profile_in_read_transaction(us_store *r, int n)
{
    char id[40], email[40];
    mf_error err;
    us_profile pr = {.email = (char *)"stale"};
    NID(id, n);
    mf_status st = us_store_profile(r, id, &pr, &err);
    if (n % 2 == 0 && n < 60) {
        if (st != MF_OK)
            fail_msg("user %d: %s", n, err.message);
        snprintf(email, sizeof email, "u%d@example.com", n);
        assert_string_equal(pr.email, email);
        assert_string_equal(pr.name, "Name");
        assert_non_null(pr.language), assert_non_null(pr.timezone);
        us_profile_free(&pr);
    } else {
        if (st != MF_ERR_NOT_FOUND)
            fail_msg("user %d: status %d", n, (int)st);
        assert_non_null(strstr(err.message, id));
        assert_null(pr.email), assert_null(pr.name), assert_null(pr.language), assert_null(pr.timezone);
    }
}

static void profiles_in_any_order_in_a_read_transaction(void **state)
{
    (void)state;
    us_store *w = open_store(), *r = open_store();
    mf_error err;
    char id[40], email[40];
    for (int n = 0; n < 60; n += 2) {
        NID(id, n);
        snprintf(email, sizeof email, "u%d@example.com", n);
        put(w, id, email, MF_OK, NULL);
    }
    static const int orders[][16] = {
        {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, -1}, /* the next row each time */
        {1, 2, 3, 4, 5, 9, 10, 11, 30, 31, 58, 59, 60, 61, -1},      /* gaps, missing ids, past the end */
        {58, 59, 61, 0, 58, 30, 30, 31, 29, 28, 12, 2, 0, -1},       /* backwards, the same twice, again after the end */
        {2, 10, 12, 24, 26, 40, 56, 58, 4, -1},                      /* more than SCAN_STEPS rows ahead */
        {0, 20, 40, 50, 58, 2, 4, 6, 7, 8, 16, 18, 19, 20, -1},     /* sparse (shorter walks), then dense */
        {0, 12, 22, 32, 42, 52, 54, 56, 58, 59, -1},                 /* no walks, then a probe */
        {-1},
    };
    for (int o = 0; orders[o][0] >= 0; o++) {
        assert_int_equal(us_store_read_begin(r, &err), MF_OK);
        for (int i = 0; orders[o][i] >= 0; i++)
            profile_in_read_transaction(r, orders[o][i]);
        us_store_read_end(r);
    }
    /* a write committed meanwhile is not seen by the scan, and seen after read_end */
    assert_int_equal(us_store_read_begin(r, &err), MF_OK);
    profile_in_read_transaction(r, 20);
    put(w, "00000000-0000-4000-8000-000000000021", "u21@example.com", MF_OK, NULL);
    profile_in_read_transaction(r, 21); /* odd: not found in the snapshot */
    profile_in_read_transaction(r, 22);
    us_store_read_end(r);
    us_profile pr;
    assert_int_equal(us_store_profile(r, "00000000-0000-4000-8000-000000000021", &pr, &err), MF_OK);
    us_profile_free(&pr);
    us_store_close(r); /* closed inside a read transaction with the scan on a row: nothing leaks */
    r = open_store();
    assert_int_equal(us_store_read_begin(r, &err), MF_OK);
    profile_in_read_transaction(r, 4);
    us_store_close(r);
    us_store_close(w);
}

static mf_status count_each(const us_user *u, void *ctx, mf_error *err)
{
    (void)err;
    assert_true(u->has_preferences);
    (*(int *)ctx)++;
    return MF_OK;
}

static void list_pages_and_each(void **state)
{
    (void)state;
    us_store *s = open_store();
    mf_error err;
    char id[SVC_UUID_LEN], email[64];
    for (int i = 0; i < 25; i++) {
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", 24 - i);
        snprintf(email, sizeof email, "u%d@example.com", i);
        put(s, id, email, MF_OK, NULL);
    }
    us_user_page page;
    assert_int_equal(us_store_list(s, NULL, 10, &page, &err), MF_OK);
    assert_int_equal(page.users.count, 10);
    assert_true(page.has_next);
    assert_string_equal(page.users.items[0].user_id, "00000000-0000-4000-8000-000000000000");
    assert_string_equal(page.next, page.users.items[9].user_id);
    char after[SVC_UUID_LEN];
    snprintf(after, sizeof after, "%s", page.next);
    mf_free(us_user_page_type, &page);
    assert_int_equal(us_store_list(s, after, 15, &page, &err), MF_OK);
    assert_int_equal(page.users.count, 15);
    assert_false(page.has_next); /* exactly the rest: no next page */
    mf_free(us_user_page_type, &page);
    int n = 0;
    assert_int_equal(us_store_each(s, NULL, count_each, &n, &err), MF_OK);
    assert_int_equal(n, 25);
    us_store_close(s);
}

static mf_status count_deleted(const char *user_id, void *ctx, mf_error *err)
{
    (void)err;
    assert_non_null(user_id);
    (*(int *)ctx)++;
    return MF_OK;
}

/* A republish since a time: the users changed at or after it, and the tombstones of the ones
 * deleted at or after it (kept by triggers; a re-created id loses its tombstone). */
static void since_and_tombstones(void **state)
{
    (void)state;
    us_store *s = open_store();
    mf_error err;
    put(s, ID(1), "a@example.com", MF_OK, NULL); /* updated_at 2025-01-02T03:04:05.678Z */
    put(s, ID(2), "b@example.com", MF_OK, NULL);
    int n = 0;
    assert_int_equal(us_store_each(s, "2025-01-02T03:04:05.678Z", count_each, &n, &err), MF_OK);
    assert_int_equal(n, 2); /* at or after */
    n = 0;
    assert_int_equal(us_store_each(s, "2025-01-02T03:04:05.679Z", count_each, &n, &err), MF_OK);
    assert_int_equal(n, 0);
    n = 0;
    assert_int_equal(us_store_each_deleted(s, NULL, count_deleted, &n, &err), MF_OK);
    assert_int_equal(n, 0);
    assert_int_equal(us_store_begin(s, &err), MF_OK);
    assert_int_equal(us_store_remove(s, ID(2), &err), MF_OK);
    assert_int_equal(us_store_commit(s, &err), MF_OK);
    assert_int_equal(us_store_each_deleted(s, NULL, count_deleted, &n, &err), MF_OK);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(us_store_each_deleted(s, "2025-01-01T00:00:00.000Z", count_deleted, &n, &err), MF_OK);
    assert_int_equal(n, 1); /* deleted now, after 2025 */
    n = 0;
    assert_int_equal(us_store_each_deleted(s, "2999-01-01T00:00:00.000Z", count_deleted, &n, &err), MF_OK);
    assert_int_equal(n, 0);
    put(s, ID(2), "b@example.com", MF_OK, NULL); /* the id again: no tombstone */
    assert_int_equal(us_store_each_deleted(s, NULL, count_deleted, &n, &err), MF_OK);
    assert_int_equal(n, 0);
    us_store_close(s);
}

/* Pruning forgets the tombstones deleted strictly before the given time, and only those. */
static void prune_deleted_forgets_old_tombstones(void **state)
{
    (void)state;
    us_store *s = open_store();
    mf_error err;
    int64_t pruned = -1;
    int n = 0;
    put(s, ID(1), "a@example.com", MF_OK, NULL);
    put(s, ID(2), "b@example.com", MF_OK, NULL);
    assert_int_equal(us_store_begin(s, &err), MF_OK);
    assert_int_equal(us_store_remove(s, ID(1), &err), MF_OK);
    assert_int_equal(us_store_remove(s, ID(2), &err), MF_OK);
    assert_int_equal(us_store_prune_deleted(s, "2000-01-01T00:00:00.000Z", &pruned, &err), MF_OK);
    assert_int_equal(pruned, 0); /* deleted now: not before 2000 */
    assert_int_equal(us_store_commit(s, &err), MF_OK);
    assert_int_equal(us_store_each_deleted(s, NULL, count_deleted, &n, &err), MF_OK);
    assert_int_equal(n, 2);
    assert_int_equal(us_store_begin(s, &err), MF_OK);
    assert_int_equal(us_store_prune_deleted(s, "2999-01-01T00:00:00.000Z", &pruned, &err), MF_OK);
    assert_int_equal(pruned, 2);
    assert_int_equal(us_store_commit(s, &err), MF_OK);
    n = 0;
    assert_int_equal(us_store_each_deleted(s, NULL, count_deleted, &n, &err), MF_OK);
    assert_int_equal(n, 0);
    int64_t left = -1;
    assert_int_equal(us_store_count(s, &left, &err), MF_OK);
    assert_int_equal(left, 0); /* pruning touches tombstones only */
    us_store_close(s);
}

static void savepoints_and_events_stay_with_the_transaction(void **state)
{
    (void)state;
    us_store *s = open_store();
    mf_error err;
    us_user a, b;
    make_user(&a, ID(1), "a@example.com");
    make_user(&b, ID(2), "a@example.com");
    us_announced ann;
    assert_int_equal(us_store_begin(s, &err), MF_OK);
    assert_int_equal(us_store_savepoint(s, &err), MF_OK);
    assert_int_equal(us_store_insert(s, &a, &err), MF_OK);
    assert_int_equal(us_events_change(s, NULL, &a, US_CAUSE_CREATED, "2025-01-02T03:04:05.678Z", &ann, &err),
                     MF_OK);
    assert_int_equal(ann.events, 3);
    assert_int_equal(ann.changes, 7);
    assert_int_equal(us_store_release(s, &err), MF_OK);
    assert_int_equal(us_store_savepoint(s, &err), MF_OK);
    assert_int_equal(us_events_change(s, NULL, &b, US_CAUSE_CREATED, "2025-01-02T03:04:05.678Z", &ann, &err),
                     MF_OK);
    assert_int_equal(us_store_insert(s, &b, &err), MF_ERR_DUPLICATE);
    us_store_rollback_to(s); /* b and its events go, a stays */
    assert_int_equal(us_store_commit(s, &err), MF_OK);
    sqlite3 *db;
    assert_int_equal(svc_db_open(g_path, &db, &err), MF_OK);
    int64_t backlog, age;
    assert_int_equal(svc_outbox_backlog(db, &backlog, &age, &err), MF_OK);
    assert_int_equal(backlog, 3);
    /* a whole transaction rolled back leaves no event */
    assert_int_equal(us_store_begin(s, &err), MF_OK);
    assert_int_equal(us_events_deleted(s, ID(1), "2025-01-02T03:04:05.678Z", &err), MF_OK);
    us_store_rollback(s);
    assert_int_equal(svc_outbox_backlog(db, &backlog, &age, &err), MF_OK);
    assert_int_equal(backlog, 3);
    svc_db_close(db);
    us_user_free(&a);
    us_user_free(&b);
    us_store_close(s);
}

static void model_rules(void **state)
{
    (void)state;
    mf_error err;
    us_user u;
    const char *body = "{\"user_id\":\"ABCDEF00-0000-4000-8000-00000000000A\",\"email\":\"x@example.com\","
                       "\"name\":\"X\",\"timezone\":\"Asia/Kolkata\",\"registered_at\":\"2024-03-10T01:30:00.1234-05:00\","
                       "\"last_activity\":null}";
    assert_int_equal(mf_decode(us_user_create_type, body, strlen(body), &u, &err), MF_OK);
    assert_int_equal(us_user_normalize(&u, &err), MF_OK);
    assert_string_equal(u.user_id, "abcdef00-0000-4000-8000-00000000000a");
    assert_string_equal(u.registered_at, "2024-03-10T06:30:00.123Z");
    assert_true(u.last_activity_is_null);
    us_user old;
    assert_int_equal(us_user_copy(&old, &u), MF_OK);
    free(u.timezone);
    u.timezone = strdup("Nowhere/Land");
    assert_int_equal(us_user_normalize(&u, &err), MF_ERR_FORMAT);
    assert_string_equal(err.pointer, "/timezone");
    free(u.timezone);
    u.timezone = strdup("Asia/Kolkata");
    free(u.name);
    u.name = strdup("Y");
    us_user ch;
    size_t n;
    assert_int_equal(us_user_diff(&old, &u, &ch, &n), MF_OK);
    assert_int_equal(n, 1);
    mf_buf b = MF_BUF_INIT;
    assert_int_equal(mf_encode(us_user_changes_type, &ch, &b, &err), MF_OK);
    assert_string_equal(b.data, "{\"name\":\"Y\"}");
    mf_buf_free(&b);
    us_user_free(&ch);
    assert_false(us_user_prefs_differ(&old, &u));
    u.preferences.sms_enabled = true;
    assert_true(us_user_prefs_differ(&old, &u));
    us_user_free(&u);
    us_user_free(&old);
    const char *unknown = "{\"email\":\"x@example.com\",\"name\":\"X\",\"plan\":\"gold\"}";
    assert_int_equal(mf_decode(us_user_create_type, unknown, strlen(unknown), &u, &err), MF_ERR_ENUM);
    assert_string_equal(err.pointer, "/plan");
}

static void helpers(void **state)
{
    (void)state;
    char t[SVC_TIME_LEN];
    int64_t ms = 0;
    assert_true(svc_time_parse("1970-01-01T00:00:00Z", 20, &ms));
    assert_int_equal(ms, 0);
    assert_true(svc_time_parse("2000-02-29T12:00:00.5+01:30", 27, &ms));
    assert_string_equal(svc_time_format(ms, t), "2000-02-29T10:30:00.500Z");
    assert_true(svc_time_parse("1969-12-31T23:59:59.999Z", 24, &ms));
    assert_int_equal(ms, -1);
    assert_string_equal(svc_time_format(ms, t), "1969-12-31T23:59:59.999Z");
    assert_true(svc_time_normalize("2016-12-31T23:59:60Z", t)); /* leap second: the next second */
    assert_string_equal(t, "2017-01-01T00:00:00.000Z");
    assert_false(svc_time_parse("2001-02-29T00:00:00Z", 20, &ms));
    assert_false(svc_time_parse("2001-01-01 00:00:00Z", 20, &ms));
    assert_false(svc_time_parse("2001-01-01T00:00:00", 19, &ms));
    int64_t now = svc_now_ms();
    assert_true(svc_time_parse(svc_time_format(now, t), SVC_TIME_LEN - 1, &ms));
    assert_int_equal(ms, now);

    char a[SVC_UUID_LEN], b[SVC_UUID_LEN], c[SVC_UUID_LEN];
    assert_int_equal(svc_uuid_v4(a), MF_OK);
    assert_int_equal(svc_uuid_v4(b), MF_OK);
    assert_string_not_equal(a, b);
    assert_int_equal(strlen(a), 36);
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
    assert_true(svc_uuid_canon("3F0C9A52-7D1E-4B8A-9C61-2E5F4A7B8D90", c));
    assert_string_equal(c, "3f0c9a52-7d1e-4b8a-9c61-2e5f4a7b8d90");
    assert_true(svc_uuid_canon("ABCDEF01-2345-6789-AbCd-eF0123456789", c)); /* every digit, both cases */
    assert_string_equal(c, "abcdef01-2345-6789-abcd-ef0123456789");
    assert_true(svc_uuid_canon("00000000-0000-0000-0000-000000000000", c));
    assert_string_equal(c, "00000000-0000-0000-0000-000000000000");
    assert_false(svc_uuid_canon("3f0c9a52", c));
    assert_string_equal(c, "");
    assert_false(svc_uuid_canon("3G0C9A52-7D1E-4B8A-9C61-2E5F4A7B8D90", c)); /* not hex */
    assert_false(svc_uuid_canon("3F0C9A52_7D1E-4B8A-9C61-2E5F4A7B8D90", c));
    assert_false(svc_uuid_canon(NULL, c));

    const char *good[] = {"Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires", "US/Eastern", "Etc/GMT+5"};
    const char *bad[] = {"", "Europe/Nowhere", "europe/berlin", "../etc/passwd", "Europe/../UTC", "/UTC",
                         "Europe/", "Europe//Berlin", ".hidden", "Europe", "Europe/Berlin\n"};
    char why[128];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!svc_tz_valid(good[i], why, sizeof why))
            fail_msg("%s refused: %s", good[i], why);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (svc_tz_valid(bad[i], why, sizeof why))
            fail_msg("%s accepted", bad[i]);
    assert_true(svc_tz_valid("Europe/Berlin", NULL, 0)); /* cached */
    assert_false(svc_tz_valid(NULL, NULL, 0));
}

static int group_setup(void **state)
{
    (void)state;
    us_user_types_init();
    return mkdtemp(g_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(migrations, setup),
        cmocka_unit_test_setup(insert_get_update_remove, setup),
        cmocka_unit_test_setup(read_transactions_see_one_snapshot, setup),
        cmocka_unit_test_setup(profiles_in_any_order_in_a_read_transaction, setup),
        cmocka_unit_test_setup(list_pages_and_each, setup),
        cmocka_unit_test_setup(since_and_tombstones, setup),
        cmocka_unit_test_setup(prune_deleted_forgets_old_tombstones, setup),
        cmocka_unit_test_setup(savepoints_and_events_stay_with_the_transaction, setup),
        cmocka_unit_test(model_rules),
        cmocka_unit_test(helpers),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
