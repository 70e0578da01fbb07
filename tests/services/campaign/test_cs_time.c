/* Unit tests of cs_time: calendar arithmetic, RFC 3339 parsing and formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "cs_time.h"

static void civil_round_trip(void **state)
{
    (void)state;
    /* every day from 1600 to 2600 maps back to itself, and matches timegm where it can */
    for (int64_t d = cs_days_from_civil(1600, 1, 1); d < cs_days_from_civil(2600, 1, 1); d++) {
        int64_t y;
        unsigned m, dd;
        cs_civil_from_days(d, &y, &m, &dd);
        assert_int_equal(cs_days_from_civil(y, m, dd), d);
        assert_true(dd >= 1 && dd <= cs_days_in_month(y, m));
    }
    struct tm tm = {.tm_year = 2024 - 1900, .tm_mon = 1, .tm_mday = 29};
    assert_int_equal(cs_days_from_civil(2024, 2, 29) * 86400, (int64_t)timegm(&tm));
    assert_int_equal(cs_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(cs_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(cs_days_in_month(2000, 2), 29);
    assert_int_equal(cs_days_in_month(1900, 2), 28);
    assert_int_equal(cs_weekday(0), 3);                                /* Thursday */
    assert_int_equal(cs_weekday(cs_days_from_civil(2024, 3, 31)), 6);  /* Sunday */
    assert_int_equal(cs_weekday(-1), 2);                               /* Wednesday */
    assert_int_equal(cs_floor_div(-1, 86400), -1);
    assert_int_equal(cs_floor_div(-86400, 86400), -1);
    assert_int_equal(cs_floor_div(86399, 86400), 0);
}

static void parse_date_time(void **state)
{
    (void)state;
    int64_t ms;
    mf_error err;
    assert_int_equal(cs_time_parse("1970-01-01T00:00:00Z", &ms, &err), MF_OK);
    assert_int_equal(ms, 0);
    assert_int_equal(cs_time_parse("2024-03-31T02:30:00.123+02:00", &ms, &err), MF_OK);
    assert_int_equal(ms, (cs_days_from_civil(2024, 3, 31) * 86400 + 30 * 60) * 1000 + 123);
    assert_int_equal(cs_time_parse("2024-03-31t00:30:00.1239z", &ms, &err), MF_OK);
    assert_int_equal(ms, (cs_days_from_civil(2024, 3, 31) * 86400 + 30 * 60) * 1000 + 123);
    assert_int_equal(cs_time_parse("1969-12-31T23:00:00-01:30", &ms, &err), MF_OK);
    assert_int_equal(ms, 30 * 60 * 1000);
    assert_int_equal(cs_time_parse("2016-12-31T23:59:60Z", &ms, &err), MF_OK);
    assert_int_equal(ms, cs_days_from_civil(2017, 1, 1) * 86400000LL); /* read as the next second */
    /* bad input: a clear error, nothing else */
    const char *bad[] = {"", "2024-03-31", "2024-03-31T25:00:00Z", "2024-02-30T00:00:00Z",
                         "2024-03-31T00:00:00", "2024-03-31 00:00:00Z", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(cs_time_parse(bad[i], &ms, &err), MF_ERR_FORMAT);
    assert_int_equal(cs_time_parse(NULL, &ms, NULL), MF_ERR_FORMAT);
}

static void parse_date_and_hm(void **state)
{
    (void)state;
    int64_t days;
    int32_t secs;
    assert_int_equal(cs_date_parse("2024-02-29", &days, NULL), MF_OK);
    assert_int_equal(days, cs_days_from_civil(2024, 2, 29));
    assert_int_equal(cs_date_parse("2023-02-29", &days, NULL), MF_ERR_FORMAT);
    assert_int_equal(cs_date_parse("2023-1-01", &days, NULL), MF_ERR_FORMAT);
    assert_int_equal(cs_hm_parse("22:30", &secs, NULL), MF_OK);
    assert_int_equal(secs, 22 * 3600 + 30 * 60);
    assert_int_equal(cs_hm_parse("07:00:15.5", &secs, NULL), MF_OK);
    assert_int_equal(secs, 7 * 3600 + 15);
    assert_int_equal(cs_hm_parse("24:00", &secs, NULL), MF_ERR_FORMAT);
    assert_int_equal(cs_hm_parse("7:00", &secs, NULL), MF_ERR_FORMAT);
    assert_int_equal(cs_hm_parse("07:00Z", &secs, NULL), MF_ERR_FORMAT);
}

static void format_round_trip(void **state)
{
    (void)state;
    char buf[CS_TIME_TEXT_MAX];
    assert_string_equal(cs_time_format(0, buf), "1970-01-01T00:00:00.000Z");
    assert_string_equal(cs_time_format(-1, buf), "1969-12-31T23:59:59.999Z");
    assert_string_equal(cs_date_format(cs_days_from_civil(2024, 10, 27), buf), "2024-10-27");
    for (int64_t ms = -5000000000000LL; ms < 5000000000000LL; ms += 7777777777LL) {
        int64_t back;
        assert_int_equal(cs_time_parse(cs_time_format(ms, buf), &back, NULL), MF_OK);
        assert_int_equal(back, ms);
    }
}

/* The text rewritten from one time to the next is the text of the next, whatever the step: within
 * a second, across seconds, days and years, backwards, from and to the clamped ends. */
static void format_since(void **state)
{
    (void)state;
    char text[CS_TIME_TEXT_MAX], want[CS_TIME_TEXT_MAX];
    const int64_t steps[] = {1, 7, 999, 1000, 1001, 86399999, 86400000, -1, -999, -1000, -86400001};
    int64_t prev = 1733443199000LL - 5000; /* 2024-12-05T23:59:54Z: days and a year end nearby */
    cs_time_format(prev, text);
    for (int round = 0; round < 4000; round++) {
        int64_t ms = prev + steps[round % 11] * (round % 3 == 0 ? 1 : 1 + round % 5);
        cs_time_format_since(prev, ms, text);
        assert_string_equal(text, cs_time_format(ms, want));
        prev = ms;
    }
    const int64_t edges[][2] = {{-1, 0}, {0, -1}, {-1000, -1}, {999, 1000}, {253402300799998LL, 253402300799999LL},
                                {253402300799999LL, 253402300800500LL}, {253402300800500LL, 253402300800600LL},
                                {1704067199999LL, 1704067200000LL}};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        cs_time_format(edges[i][0], text);
        cs_time_format_since(edges[i][0], edges[i][1], text);
        assert_string_equal(text, cs_time_format(edges[i][1], want));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(civil_round_trip),
        cmocka_unit_test(parse_date_time),
        cmocka_unit_test(parse_date_and_hm),
        cmocka_unit_test(format_round_trip),
        cmocka_unit_test(format_since),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
