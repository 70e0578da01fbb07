/* Unit tests of cs_quiet: quiet hours in the user's zone, right across DST changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cs_quiet.h"
#include "cs_time.h"
#include "cs_tz.h"

static int64_t utc_ms(int y, unsigned mo, unsigned d, int h, int mi)
{
    return (cs_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000;
}

static cs_quiet_hours hours(const char *start, const char *end)
{
    mf_notification_preferences_quiet_hours qh = {.enabled = true, .has_start = true, .start = (char *)start,
                                                  .has_end = true, .end = (char *)end};
    cs_quiet_hours q;
    assert_int_equal(cs_quiet_from_prefs(&qh, &q, NULL), MF_OK);
    return q;
}

static void expect(const char *zone, cs_quiet_hours q, int64_t now, bool quiet, int64_t release)
{
    bool in;
    int64_t rel;
    assert_int_equal(cs_quiet_check(zone, &q, now, &in, &rel, NULL), MF_OK);
    assert_int_equal(in, quiet);
    assert_int_equal(rel, quiet ? release : now);
}

static void from_prefs(void **state)
{
    (void)state;
    cs_quiet_hours q;
    assert_int_equal(cs_quiet_from_prefs(NULL, &q, NULL), MF_OK);
    assert_false(q.enabled);
    mf_notification_preferences_quiet_hours qh = {.enabled = false, .has_start = true, .start = "22:00",
                                                  .has_end = true, .end = "07:00"};
    assert_int_equal(cs_quiet_from_prefs(&qh, &q, NULL), MF_OK);
    assert_false(q.enabled);
    qh.enabled = true;
    qh.has_end = false;
    assert_int_equal(cs_quiet_from_prefs(&qh, &q, NULL), MF_OK);
    assert_false(q.enabled);
    qh.has_end = true;
    qh.end = "7:00";
    mf_error err;
    assert_int_equal(cs_quiet_from_prefs(&qh, &q, &err), MF_ERR_FORMAT);
    assert_string_equal(err.pointer, "/end");
    q = hours("08:00", "08:00");
    assert_false(q.enabled); /* empty period */
}

static void plain_days(void **state)
{
    (void)state;
    cs_quiet_hours night = hours("22:00", "07:00"), lunch = hours("13:00", "14:00");
    /* Berlin in January is UTC+1 */
    expect("Europe/Berlin", night, utc_ms(2024, 1, 10, 20, 59) + 59999, false, 0);
    expect("Europe/Berlin", night, utc_ms(2024, 1, 10, 21, 0), true, utc_ms(2024, 1, 11, 6, 0));
    expect("Europe/Berlin", night, utc_ms(2024, 1, 11, 3, 0), true, utc_ms(2024, 1, 11, 6, 0));
    expect("Europe/Berlin", night, utc_ms(2024, 1, 11, 6, 0), false, 0);
    expect("Europe/Berlin", lunch, utc_ms(2024, 1, 11, 12, 30), true, utc_ms(2024, 1, 11, 13, 0));
    expect("Europe/Berlin", lunch, utc_ms(2024, 1, 11, 13, 0), false, 0);
    /* the same instant is night in Tokyo and day in New York */
    expect("Asia/Tokyo", night, utc_ms(2024, 1, 11, 14, 0), true, utc_ms(2024, 1, 11, 22, 0));
    expect("America/New_York", night, utc_ms(2024, 1, 11, 14, 0), false, 0);
    cs_quiet_hours off = {0};
    expect("Europe/Berlin", off, utc_ms(2024, 1, 11, 3, 0), false, 0);
    bool in;
    int64_t rel;
    mf_error err;
    assert_int_equal(cs_quiet_check("Nowhere/Land", &night, 0, &in, &rel, &err), MF_ERR_NOT_FOUND);
    assert_false(in);
}

static void berlin_dst_days(void **state)
{
    (void)state;
    cs_quiet_hours night = hours("22:00", "07:00"), early = hours("01:00", "02:30");
    /* spring forward 2024-03-31 01:00Z: 07:00 CEST = 05:00Z */
    expect("Europe/Berlin", night, utc_ms(2024, 3, 30, 23, 30), true, utc_ms(2024, 3, 31, 5, 0));
    /* 02:30 never happens that night: quiet ends at the jump (01:00Z, wall 03:00) */
    expect("Europe/Berlin", early, utc_ms(2024, 3, 31, 0, 30), true, utc_ms(2024, 3, 31, 1, 0));
    expect("Europe/Berlin", early, utc_ms(2024, 3, 31, 1, 0), false, 0);
    /* fall back 2024-10-27 01:00Z: 07:00 CET = 06:00Z */
    expect("Europe/Berlin", night, utc_ms(2024, 10, 26, 22, 30), true, utc_ms(2024, 10, 27, 6, 0));
    /* 02:10 CEST (00:10Z): ends at the first 02:30 (00:30Z) */
    expect("Europe/Berlin", early, utc_ms(2024, 10, 27, 0, 10), true, utc_ms(2024, 10, 27, 0, 30));
    /* 02:45 CEST is outside; 02:10 CET (01:10Z), the second time round, is quiet until 02:30 CET */
    expect("Europe/Berlin", early, utc_ms(2024, 10, 27, 0, 45), false, 0);
    expect("Europe/Berlin", early, utc_ms(2024, 10, 27, 1, 10), true, utc_ms(2024, 10, 27, 1, 30));
}

static void new_york_dst_days(void **state)
{
    (void)state;
    cs_quiet_hours night = hours("22:00", "07:00"), small = hours("01:30", "02:30");
    /* spring forward 2024-03-10 07:00Z: 07:00 EDT = 11:00Z */
    expect("America/New_York", night, utc_ms(2024, 3, 10, 5, 0), true, utc_ms(2024, 3, 10, 11, 0));
    /* 01:45 EST (06:45Z): 02:30 is skipped, released at the jump 07:00Z (wall 03:00 EDT) */
    expect("America/New_York", small, utc_ms(2024, 3, 10, 6, 45), true, utc_ms(2024, 3, 10, 7, 0));
    /* fall back 2024-11-03 06:00Z: 07:00 EST = 12:00Z */
    expect("America/New_York", night, utc_ms(2024, 11, 3, 4, 30), true, utc_ms(2024, 11, 3, 12, 0));
    /* 01:45 EDT (05:45Z): at 06:00Z the clock goes back from 02:00 EDT to 01:00 EST, below the
     * start: released then; from 01:30 EST (06:30Z) it is quiet again until 02:30 EST (07:30Z) */
    expect("America/New_York", small, utc_ms(2024, 11, 3, 5, 45), true, utc_ms(2024, 11, 3, 6, 0));
    expect("America/New_York", small, utc_ms(2024, 11, 3, 6, 0), false, 0);
    expect("America/New_York", small, utc_ms(2024, 11, 3, 6, 40), true, utc_ms(2024, 11, 3, 7, 30));
}

/* Independent check by stepping the clock: the release is the first second whose wall time is
 * outside the period, computed from offsets only. */
static bool inside_at(const char *zone, const cs_quiet_hours *q, int64_t t)
{
    int32_t off;
    assert_int_equal(cs_tz_offset(zone, t, &off, NULL), MF_OK);
    int32_t w = (int32_t)(((t + off) % 86400 + 86400) % 86400);
    return q->start < q->end ? (w >= q->start && w < q->end) : (w >= q->start || w < q->end);
}

/* The 2024 clock changes of a zone, found by scanning its offsets hour by hour. */
static size_t transitions_2024(const char *zone, int64_t *out, size_t cap)
{
    size_t n = 0;
    int32_t prev, off;
    int64_t t = utc_ms(2024, 1, 1, 0, 0) / 1000;
    assert_int_equal(cs_tz_offset(zone, t, &prev, NULL), MF_OK);
    for (; t < utc_ms(2025, 1, 1, 0, 0) / 1000 && n < cap; t += 3600) {
        assert_int_equal(cs_tz_offset(zone, t, &off, NULL), MF_OK);
        if (off != prev)
            out[n++] = t;
        prev = off;
    }
    return n;
}

static void random_instants_against_stepping(void **state)
{
    (void)state;
    const char *zones[] = {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago"};
    const char *periods[][2] = {{"22:00", "07:00"}, {"01:00", "02:30"}, {"02:15", "03:15"},
                                {"23:59", "00:01"}, {"01:30", "02:30"}, {"02:30", "01:45"},
                                {"23:30", "00:15"}, {"00:10", "00:40"}};
    srand(11);
    int quiet_seen = 0;
    for (size_t z = 0; z < sizeof zones / sizeof *zones; z++) {
        int64_t tr[8];
        size_t ntr = transitions_2024(zones[z], tr, 8);
        assert_true(ntr >= 2);
        for (int i = 0; i < 400; i++) {
            const char **p = periods[rand() % 8];
            cs_quiet_hours q = hours(p[0], p[1]);
            /* instants within 14 hours of a clock change, where mistakes hide */
            int64_t now = (tr[(size_t)rand() % ntr] - 14 * 3600 + rand() % (28 * 3600)) * 1000 + rand() % 1000;
            bool in;
            int64_t rel;
            assert_int_equal(cs_quiet_check(zones[z], &q, now, &in, &rel, NULL), MF_OK);
            int64_t t = now / 1000;
            assert_int_equal(in, inside_at(zones[z], &q, t));
            if (!in)
                continue;
            quiet_seen++;
            int64_t step = t;
            while (inside_at(zones[z], &q, step))
                step = (step / 60 + 1) * 60; /* the next whole minute: every boundary here is one */
            assert_int_equal(rel, step * 1000);
        }
    }
    assert_true(quiet_seen > 200);
    cs_tz_restore();
}

static void many_grouped_by_zone(void **state)
{
    (void)state;
    const char *zones[] = {"Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/Paris", "Nowhere/X"};
    cs_quiet_item items[200];
    srand(3);
    for (int i = 0; i < 200; i++) {
        items[i].zone = zones[rand() % 5];
        items[i].hours = (i % 7 == 0) ? (cs_quiet_hours){0} : hours("22:00", "07:00");
    }
    int64_t now = utc_ms(2024, 10, 26, 23, 0);
    uint64_t before = cs_tz_switches();
    assert_int_equal(cs_quiet_check_many(items, 200, now), MF_OK);
    /* one switch per zone plus the restore, however the items are ordered */
    assert_true(cs_tz_switches() - before <= 6);
    for (int i = 0; i < 200; i++) {
        bool in;
        int64_t rel;
        mf_status st = cs_quiet_check(items[i].zone, &items[i].hours, now, &in, &rel, NULL);
        assert_int_equal(items[i].status, st);
        assert_int_equal(items[i].quiet, in);
        assert_int_equal(items[i].release_ms, rel);
    }
    assert_int_equal(cs_quiet_check_many(NULL, 0, now), MF_OK);
    cs_tz_restore();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(from_prefs),
        cmocka_unit_test(plain_days),
        cmocka_unit_test(berlin_dst_days),
        cmocka_unit_test(new_york_dst_days),
        cmocka_unit_test(random_instants_against_stepping),
        cmocka_unit_test(many_grouped_by_zone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
