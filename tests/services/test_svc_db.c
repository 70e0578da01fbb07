/*
 * test_svc_db.c - opening a service's database (svc_db.h): a new file gets SVC_DB_PAGE_SIZE pages
 * and the WAL journal; a file made with other pages keeps them and opens as before; a path that
 * cannot be a database is refused with the reason; svc_db_int's answers and errors.
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

static char g_dir[64];

static const char *path_of(const char *name)
{
    static char path[160];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    return path;
}

static int int_of(sqlite3 *db, const char *sql)
{
    int64_t v;
    assert_int_equal(svc_db_int(db, sql, &v, NULL), MF_OK);
    return (int)v;
}

static const char *text_of(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return out;
}

static void new_database_has_big_pages_and_wal(void **state)
{
    (void)state;
    sqlite3 *db;
    char mode[16];
    assert_int_equal(svc_db_open(path_of("new.db"), &db, NULL), MF_OK);
    assert_int_equal(svc_db_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1)", NULL), MF_OK);
    assert_int_equal(int_of(db, "PRAGMA page_size"), atoi(SVC_DB_PAGE_SIZE));
    assert_string_equal(text_of(db, "PRAGMA journal_mode", mode, sizeof mode), "wal");
    svc_db_close(db);
    /* opened again: the same pages, the row still there */
    assert_int_equal(svc_db_open(path_of("new.db"), &db, NULL), MF_OK);
    assert_int_equal(int_of(db, "PRAGMA page_size"), atoi(SVC_DB_PAGE_SIZE));
    assert_int_equal(int_of(db, "SELECT x FROM t"), 1);
    svc_db_close(db);
}

/* A database that an older mflow made with SQLite's 4 KiB pages keeps them: SQLite changes the
 * page size of an existing file only by VACUUM, and the data is read as before. */
static void existing_database_keeps_its_pages(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path_of("old.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                                      "INSERT INTO t VALUES (7)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(svc_db_open(path_of("old.db"), &db, NULL), MF_OK);
    assert_int_equal(int_of(db, "PRAGMA page_size"), 4096);
    assert_int_equal(int_of(db, "SELECT x FROM t"), 7);
    assert_int_equal(svc_db_exec(db, "INSERT INTO t VALUES (8)", NULL), MF_OK);
    assert_int_equal(int_of(db, "SELECT sum(x) FROM t"), 15);
    svc_db_close(db);
}

/* svc_db_int: the first row's first column; a statement that fails or returns no row is an
 * error that says which, with *out 0, and the connection goes on working. */
static void one_integer_query(void **state)
{
    (void)state;
    sqlite3 *db;
    int64_t v = -1;
    mf_error err;
    assert_int_equal(svc_db_open(path_of("new.db"), &db, NULL), MF_OK);
    assert_int_equal(svc_db_int(db, "SELECT 5000000000", &v, &err), MF_OK);
    assert_int_equal(v, 5000000000LL);
    v = -1;
    assert_int_equal(svc_db_int(db, "SELECT x FROM t WHERE x = 99", &v, &err), MF_ERR_IO);
    assert_int_equal(v, 0);
    assert_non_null(strstr(err.message, "no row"));
    v = -1;
    assert_int_equal(svc_db_int(db, "SELECT * FROM no_such_table", &v, &err), MF_ERR_IO);
    assert_int_equal(v, 0);
    assert_non_null(strstr(err.message, "no_such_table"));
    assert_int_equal(svc_db_int(db, "SELECT count(*) FROM t", &v, NULL), MF_OK); /* err may be NULL */
    assert_int_equal(v, 1);
    svc_db_close(db);
}

static void bad_paths_are_refused(void **state)
{
    (void)state;
    sqlite3 *db = (sqlite3 *)&db;
    mf_error err;
    assert_int_equal(svc_db_open("", &db, &err), MF_ERR_INVALID_ARG);
    assert_null(db);
    assert_int_not_equal(svc_db_open(path_of("no/such/dir/x.db"), &db, &err), MF_OK);
    assert_null(db);
    assert_non_null(strstr(err.message, "no/such/dir/x.db"));
    /* a file that is not a database */
    FILE *f = fopen(path_of("text.db"), "wb");
    assert_non_null(f);
    fputs("this is not an SQLite database, just some text long enough to be read as a header.\n", f);
    fclose(f);
    assert_int_not_equal(svc_db_open(path_of("text.db"), &db, &err), MF_OK);
    assert_null(db);
    assert_true(err.message[0] != '\0');
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/svc_db_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"new.db", "old.db", "text.db"};
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        for (size_t k = 0; k < 3; k++) {
            char p[200];
            snprintf(p, sizeof p, "%s%s", path_of(names[i]), suffix[k]);
            unlink(p);
        }
    }
    return rmdir(g_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_database_has_big_pages_and_wal),
        cmocka_unit_test(existing_database_keeps_its_pages),
        cmocka_unit_test(one_integer_query),
        cmocka_unit_test(bad_paths_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
