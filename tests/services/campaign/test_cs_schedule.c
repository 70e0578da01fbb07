/* Unit tests of cs_schedule: firing times across DST and month ends, and the schedule table. */
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
#include "cs_schedule.h"
#include "cs_test_util.h"
#include "cs_time.h"

static void recurrence(const char *schedule_sq, cs_recurrence *r)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{'campaign_id':'7c9e6679-7425-40de-944b-e07fc1f90ae7','name':'n','target_audience':{'user_segments':"
             "['all_users']},'notification_template':{'title_template':'t','body_template':'b'},'schedule':%s}",
             schedule_sq);
    mf_campaign_create c;
    cs_test_campaign(buf, &c);
    assert_int_equal(cs_recurrence_from(&c, r, NULL), MF_OK);
    mf_campaign_create_free(&c);
}

/* The firings after `from`, one after another. */
static size_t firings(const cs_recurrence *r, int64_t from, int64_t *out, size_t max)
{
    size_t n = 0;
    int64_t t = from;
    while (n < max) {
        bool none;
        int64_t next;
        assert_int_equal(cs_recurrence_next(r, t, &next, &none, NULL), MF_OK);
        if (none)
            break;
        assert_true(next > t);
        out[n++] = next;
        t = next;
    }
    return n;
}

static void scheduled_once(void **state)
{
    (void)state;
    cs_recurrence r;
    recurrence("{'type':'scheduled','scheduled_at':'2026-03-02T08:00:00+01:00'}", &r);
    int64_t f[4];
    assert_int_equal(firings(&r, cs_test_ms(2026, 3, 1, 0, 0, 0), f, 4), 1);
    assert_int_equal(f[0], cs_test_ms(2026, 3, 2, 7, 0, 0));
    assert_int_equal(firings(&r, f[0], f, 4), 0);
    recurrence("{'type':'immediate'}", &r);
    assert_int_equal(firings(&r, 0, f, 4), 0);
}

static void daily_across_berlin_dst(void **state)
{
    (void)state;
    cs_recurrence r;
    /* 09:00 Berlin every day from 03-29 to 04-01: 08:00Z before the change, 07:00Z after */
    recurrence("{'type':'recurring','timezone':'Europe/Berlin','scheduled_at':'2024-03-29T09:00:00+01:00',"
               "'recurring':{'frequency':'daily','start_date':'2024-03-29','end_date':'2024-04-01'}}",
               &r);
    int64_t f[8];
    assert_int_equal(firings(&r, cs_test_ms(2024, 1, 1, 0, 0, 0), f, 8), 4);
    assert_int_equal(f[0], cs_test_ms(2024, 3, 29, 8, 0, 0));
    assert_int_equal(f[1], cs_test_ms(2024, 3, 30, 8, 0, 0));
    assert_int_equal(f[2], cs_test_ms(2024, 3, 31, 7, 0, 0));
    assert_int_equal(f[3], cs_test_ms(2024, 4, 1, 7, 0, 0));
    /* asked in the middle: the next one */
    assert_int_equal(firings(&r, cs_test_ms(2024, 3, 30, 8, 0, 0), f, 8), 2);
    assert_int_equal(f[0], cs_test_ms(2024, 3, 31, 7, 0, 0));
}

static void gap_and_overlap(void **state)
{
    (void)state;
    cs_recurrence r;
    /* 02:30 does not exist on 2024-03-31 in Berlin: fired at the jump, 01:00Z */
    recurrence("{'type':'recurring','timezone':'Europe/Berlin','scheduled_at':'2024-03-30T02:30:00+01:00',"
               "'recurring':{'frequency':'daily','start_date':'2024-03-30','end_date':'2024-04-01'}}",
               &r);
    int64_t f[4];
    assert_int_equal(firings(&r, 0, f, 4), 3);
    assert_int_equal(f[0], cs_test_ms(2024, 3, 30, 1, 30, 0));
    assert_int_equal(f[1], cs_test_ms(2024, 3, 31, 1, 0, 0));
    assert_int_equal(f[2], cs_test_ms(2024, 4, 1, 0, 30, 0));
    /* 01:30 happens twice on 2024-11-03 in New York: fired once, at the first (05:30Z) */
    recurrence("{'type':'recurring','timezone':'America/New_York','scheduled_at':'2024-11-02T01:30:00-04:00',"
               "'recurring':{'frequency':'daily','start_date':'2024-11-02','end_date':'2024-11-04'}}",
               &r);
    assert_int_equal(firings(&r, 0, f, 4), 3);
    assert_int_equal(f[0], cs_test_ms(2024, 11, 2, 5, 30, 0));
    assert_int_equal(f[1], cs_test_ms(2024, 11, 3, 5, 30, 0));
    assert_int_equal(f[2], cs_test_ms(2024, 11, 4, 6, 30, 0));
}

static void weekly_and_intervals(void **state)
{
    (void)state;
    cs_recurrence r;
    /* the contract's example: Mondays 09:00 Paris, 2026-03-02 .. 03-30 */
    recurrence("{'type':'recurring','scheduled_at':'2026-03-02T08:00:00Z','timezone':'Europe/Paris',"
               "'recurring':{'frequency':'weekly','interval':1,'start_date':'2026-03-02','end_date':'2026-03-30'}}",
               &r);
    int64_t f[8];
    assert_int_equal(firings(&r, cs_test_ms(2026, 3, 1, 0, 0, 0), f, 8), 5);
    assert_int_equal(f[0], cs_test_ms(2026, 3, 2, 8, 0, 0));
    assert_int_equal(f[3], cs_test_ms(2026, 3, 23, 8, 0, 0));
    assert_int_equal(f[4], cs_test_ms(2026, 3, 30, 7, 0, 0)); /* CEST from 03-29 */
    /* every 3 days from 01-01 UTC, starting no earlier than scheduled_at (01-05 12:00) */
    recurrence("{'type':'recurring','scheduled_at':'2026-01-05T12:00:00Z','recurring':{'frequency':'daily',"
               "'interval':3,'start_date':'2026-01-01'}}",
               &r);
    assert_int_equal(firings(&r, 0, f, 3), 3);
    assert_int_equal(f[0], cs_test_ms(2026, 1, 7, 12, 0, 0));
    assert_int_equal(f[1], cs_test_ms(2026, 1, 10, 12, 0, 0));
    /* far in the future: still finds the right step quickly */
    assert_int_equal(firings(&r, cs_test_ms(2100, 6, 15, 0, 0, 0), f, 1), 1);
    assert_int_equal(cs_floor_div(f[0], CS_MS_PER_DAY) % 3, cs_days_from_civil(2026, 1, 1) % 3);
}

static void month_ends(void **state)
{
    (void)state;
    cs_recurrence r;
    recurrence("{'type':'recurring','recurring':{'frequency':'monthly','start_date':'2024-01-31','end_date':'2024-06-30'}}",
               &r);
    int64_t f[8];
    assert_int_equal(firings(&r, 0, f, 8), 6);
    const unsigned want[][2] = {{1, 31}, {2, 29}, {3, 31}, {4, 30}, {5, 31}, {6, 30}};
    for (int i = 0; i < 6; i++)
        assert_int_equal(f[i], cs_test_ms(2024, want[i][0], want[i][1], 0, 0, 0));
    /* every 2 months from the 30th: Feb is skipped by the interval, Apr 30, Jun 30 */
    recurrence("{'type':'recurring','recurring':{'frequency':'monthly','interval':2,'start_date':'2023-12-30',"
               "'end_date':'2024-07-01'}}",
               &r);
    assert_int_equal(firings(&r, 0, f, 8), 4);
    assert_int_equal(f[1], cs_test_ms(2024, 2, 29, 0, 0, 0));
    assert_int_equal(f[2], cs_test_ms(2024, 4, 30, 0, 0, 0));
    assert_int_equal(f[3], cs_test_ms(2024, 6, 30, 0, 0, 0));
}

static void table_survives_reopen(void **state)
{
    (void)state;
    char path[] = "/tmp/cs_schedule_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    sqlite3 *db;
    assert_int_equal(cs_db_open(path, &db, NULL), MF_OK);
    assert_int_equal(svc_db_exec(db, "INSERT INTO cs_campaigns VALUES ('a','h','{}','n',0,0),('b','h','{}','n',0,0)", NULL),
                     MF_OK);
    assert_int_equal(cs_schedule_put(db, "a", 2000, NULL), MF_OK);
    assert_int_equal(cs_schedule_put(db, "b", 1000, NULL), MF_OK);
    mf_error err;
    assert_int_not_equal(cs_schedule_put(db, "a", 5, &err), MF_OK); /* one schedule per campaign */
    svc_db_close(db);
    assert_int_equal(cs_db_open(path, &db, NULL), MF_OK);
    bool none;
    int64_t at;
    assert_int_equal(cs_schedule_earliest(db, &at, &none, NULL), MF_OK);
    assert_false(none);
    assert_int_equal(at, 1000);
    cs_due due[4];
    size_t n;
    assert_int_equal(cs_schedule_due(db, 1500, due, 4, &n, NULL), MF_OK);
    assert_int_equal(n, 1);
    assert_string_equal(due[0].campaign_id, "b");
    assert_int_equal(cs_schedule_fired(db, "b", 1000, false, 0, NULL), MF_OK);
    assert_int_equal(cs_schedule_due(db, 5000, due, 4, &n, NULL), MF_OK);
    assert_int_equal(n, 1);
    assert_string_equal(due[0].campaign_id, "a");
    assert_int_equal(cs_schedule_fired(db, "a", 2000, true, 9000, NULL), MF_OK);
    assert_int_equal(cs_schedule_earliest(db, &at, &none, NULL), MF_OK);
    assert_int_equal(at, 9000);
    svc_db_close(db);
    cs_test_db_unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scheduled_once),
        cmocka_unit_test(daily_across_berlin_dst),
        cmocka_unit_test(gap_and_overlap),
        cmocka_unit_test(weekly_and_intervals),
        cmocka_unit_test(month_ends),
        cmocka_unit_test(table_survives_reopen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
