/*
 * test_svc_outbox.c - the outbox (svc_outbox.h) against a real mf-broker: events go out
 * after the commit, in order, through the kind's send function; nothing of a rolled-back
 * transaction; retried while the broker is down; rows that can never be sent are dropped
 * and counted; a lease held by another live publisher is respected, a dead one's taken over.
 *
 * The publisher and the subscriber share one client: after a reconnect the client
 * re-subscribes before it sends anything, so the test sees every event the outbox
 * publishes without racing the reconnect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "e2e_util.h"
#include "mf_sdk/types.h"
#include "svc_outbox.h"

#define SUBJECT "test.outbox"
#define WAIT_MS 30000

static e2e_broker g_broker;
static bool g_up;
static char g_path[512];
static int g_sent_by_kind; /* calls of send_a */

static mf_status send_a(mf_client *c, const void *msg, mf_error *err)
{
    const mf_user_info_request *m = msg;
    g_sent_by_kind++;
    /* the payload is the event's number (the UUID's last 12 digits): e2e_col keeps atoi() of it */
    const char *num = m->user_id + 24;
    mf_status st = mf_client_publish(c, SUBJECT, NULL, num, strlen(num));
    if (st)
        mf_error_set(err, st, "", "publish: %s", mf_status_str(st));
    return st;
}

static const svc_outbox_kind kinds[] = {{"a", &mf_user_info_request_desc, send_a}};

typedef struct fixture {
    sqlite3 *db;
    svc_outbox_writer *w;
    mf_client *c;
    e2e_col col;
    svc_outbox *ob;
} fixture;

static int setup(void **state)
{
    static int n;
    fixture *f = calloc(1, sizeof *f);
    snprintf(g_path, sizeof g_path, "%s/o%d.db", g_broker.dir, ++n);
    mf_error err;
    assert_int_equal(svc_db_open(g_path, &f->db, &err), MF_OK);
    assert_int_equal(svc_db_migrate(f->db, SVC_OUTBOX_COMPONENT, svc_outbox_migrations, svc_outbox_migration_count,
                                    &err), MF_OK);
    assert_int_equal(svc_outbox_writer_open(f->db, &f->w, &err), MF_OK);
    e2e_col_init(&f->col);
    g_sent_by_kind = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    svc_outbox_stop(f->ob, 1000);
    mf_client_destroy(f->c);
    e2e_col_free(&f->col);
    svc_outbox_writer_close(f->w);
    svc_db_close(f->db);
    free(f);
    return 0;
}

/* Connects the shared client and subscribes the collector. */
static void connect_client(fixture *f)
{
    f->c = e2e_connect_url(g_broker.url, NULL);
    assert_int_equal(mf_client_subscribe(f->c, SUBJECT, NULL, e2e_col_cb, &f->col, NULL), MF_OK);
    assert_int_equal(mf_client_flush(f->c, WAIT_MS), MF_OK);
}

static void start_outbox(fixture *f)
{
    mf_error err;
    assert_int_equal(svc_outbox_start(g_path, f->c, kinds, 1, &f->ob, &err), MF_OK);
}

/* Adds n events "<prefix>0000..." in one transaction; commits or rolls back. */
static void add_events(fixture *f, int from, int n, bool commit)
{
    mf_error err;
    assert_int_equal(svc_db_begin(f->db, &err), MF_OK);
    for (int i = from; i < from + n; i++) {
        char id[40];
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i);
        mf_user_info_request m = {.user_id = id};
        assert_int_equal(svc_outbox_add(f->w, &kinds[0], &m, &err), MF_OK);
    }
    if (commit)
        assert_int_equal(svc_db_commit(f->db, &err), MF_OK);
    else
        svc_db_rollback(f->db);
}

static int64_t backlog(fixture *f)
{
    int64_t n, age;
    mf_error err;
    assert_int_equal(svc_outbox_backlog(f->db, &n, &age, &err), MF_OK);
    return n;
}

/* The collector got exactly the events first..first+n-1, in order. */
static void assert_received_in_order(fixture *f, int first, int n)
{
    assert_true(e2e_col_wait(&f->col, (size_t)n, WAIT_MS));
    pthread_mutex_lock(&f->col.mu);
    assert_int_equal(f->col.n, (size_t)n);
    for (int i = 0; i < n; i++)
        if (f->col.vals[i] != first + i)
            fail_msg("event %d arrived as number %d", first + i, f->col.vals[i]);
    pthread_mutex_unlock(&f->col.mu);
}

static void writer_validates_and_follows_the_transaction(void **state)
{
    fixture *f = *state;
    mf_error err;
    add_events(f, 0, 3, false);
    assert_int_equal(backlog(f), 0); /* rolled back: nothing */
    add_events(f, 0, 3, true);
    assert_int_equal(backlog(f), 3);
    mf_user_info_request bad = {.user_id = "not-a-uuid"};
    assert_int_equal(svc_db_begin(f->db, &err), MF_OK);
    assert_int_equal(svc_outbox_add(f->w, &kinds[0], &bad, &err), MF_ERR_FORMAT);
    assert_string_equal(err.pointer, "/user_id");
    svc_db_rollback(f->db);
    assert_int_equal(svc_outbox_add(f->w, &kinds[0], NULL, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(backlog(f), 3);
}

static void publishes_in_order_after_the_commit(void **state)
{
    fixture *f = *state;
    assert_true(g_up); /* mf-broker must run: a test that cannot run its subject fails */
    connect_client(f);
    add_events(f, 0, 700, true); /* more than one batch */
    start_outbox(f);              /* publishes what was there at start */
    assert_int_equal(svc_outbox_wait_empty(f->ob, WAIT_MS), MF_OK);
    add_events(f, 700, 5, false);
    add_events(f, 700, 300, true);
    svc_outbox_kick(f->ob);
    assert_int_equal(svc_outbox_wait_empty(f->ob, WAIT_MS), MF_OK);
    assert_received_in_order(f, 0, 1000);
    assert_int_equal(g_sent_by_kind, 1000);
    assert_int_equal(backlog(f), 0);
    svc_outbox_stats st;
    svc_outbox_stats_get(f->ob, &st);
    assert_int_equal(st.published, 1000);
    assert_int_equal(st.dead, 0);
    assert_true(st.last_publish_ms > 0);
}

static void retries_while_the_broker_is_down(void **state)
{
    fixture *f = *state;
    assert_true(g_up); /* mf-broker must run: a test that cannot run its subject fails */
    connect_client(f);
    start_outbox(f);
    e2e_broker_stop(&g_broker, SIGKILL);
    add_events(f, 0, 10, true);
    svc_outbox_kick(f->ob);
    assert_int_equal(svc_outbox_wait_empty(f->ob, 1500), MF_ERR_TIMEOUT);
    assert_int_equal(backlog(f), 10);
    svc_outbox_stats st;
    svc_outbox_stats_get(f->ob, &st);
    assert_true(st.retries >= 1);
    assert_true(st.last_error[0] != '\0');
    assert_int_equal(st.published, 0);
    assert_true(e2e_broker_restart(&g_broker, NULL));
    assert_int_equal(svc_outbox_wait_empty(f->ob, WAIT_MS), MF_OK);
    assert_received_in_order(f, 0, 10);
    assert_int_equal(backlog(f), 0);
}

static void rows_that_can_never_be_sent_are_dropped(void **state)
{
    fixture *f = *state;
    assert_true(g_up); /* mf-broker must run: a test that cannot run its subject fails */
    connect_client(f);
    mf_error err;
    add_events(f, 0, 1, true);
    assert_int_equal(svc_db_exec(f->db,
                                 "INSERT INTO outbox (kind, payload, created_ms) VALUES ('unknown', '{}', 0);"
                                 "INSERT INTO outbox (kind, payload, created_ms) VALUES ('a', '{\"user_id\":1}', 0);",
                                 &err),
                     MF_OK);
    add_events(f, 1, 1, true);
    start_outbox(f);
    assert_int_equal(svc_outbox_wait_empty(f->ob, WAIT_MS), MF_OK);
    assert_received_in_order(f, 0, 2);
    svc_outbox_stats st;
    svc_outbox_stats_get(f->ob, &st);
    assert_int_equal(st.dead, 2);
    assert_int_equal(st.published, 2);
    assert_int_equal(backlog(f), 0);
}

static void a_live_lease_is_respected_a_dead_one_taken_over(void **state)
{
    fixture *f = *state;
    assert_true(g_up); /* mf-broker must run: a test that cannot run its subject fails */
    connect_client(f);
    mf_error err;
    char sql[256];
    /* another publisher in this (live) process holds the lease for a minute */
    snprintf(sql, sizeof sql, "INSERT INTO outbox_lease VALUES ('outbox', 'other', %ld, %lld)", (long)getpid(),
             (long long)(time(NULL) + 60) * 1000);
    assert_int_equal(svc_db_exec(f->db, sql, &err), MF_OK);
    add_events(f, 0, 3, true);
    start_outbox(f);
    assert_int_equal(svc_outbox_wait_empty(f->ob, 1000), MF_ERR_TIMEOUT);
    assert_int_equal(backlog(f), 3);
    assert_int_equal(e2e_col_count(&f->col), 0);
    /* its holder died: a process that has exited */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    snprintf(sql, sizeof sql, "UPDATE outbox_lease SET pid = %ld", (long)child);
    assert_int_equal(svc_db_exec(f->db, sql, &err), MF_OK);
    assert_int_equal(svc_outbox_wait_empty(f->ob, WAIT_MS), MF_OK);
    assert_received_in_order(f, 0, 3);
}

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    g_up = e2e_broker_start(&g_broker, NULL);
    if (!g_broker.dir[0] && !e2e_mkdtemp(g_broker.dir, sizeof g_broker.dir))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    e2e_broker_cleanup(&g_broker);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(writer_validates_and_follows_the_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(publishes_in_order_after_the_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(retries_while_the_broker_is_down, setup, teardown),
        cmocka_unit_test_setup_teardown(rows_that_can_never_be_sent_are_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(a_live_lease_is_respected_a_dead_one_taken_over, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
