/*
 * cs_time.c - see cs_time.h. The calendar algorithms are Howard Hinnant's
 * ("chrono-Compatible Low-Level Date Algorithms"), valid for every int64 year we can meet.
 */
#include "cs_time.h"

#include <stdio.h>
#include <string.h>
#include "mf/codec.h"
#include "svc_time.h"

int64_t cs_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

int64_t cs_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = cs_floor_div(y, 400);
    const unsigned yoe = (unsigned)(y - era * 400);                       /* [0, 399] */
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  /* [0, 365] */
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

void cs_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = cs_floor_div(z, 146097);
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

unsigned cs_days_in_month(int64_t y, unsigned m)
{
    static const unsigned char days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return m >= 1 && m <= 12 ? days[m] : 0;
}

unsigned cs_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (3 with Monday = 0). */
    return (unsigned)((days % 7 + 10) % 7);
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

mf_status cs_date_parse(const char *s, int64_t *days, mf_error *err)
{
    if (!s || !mf_format_check(MF_FMT_DATE, s, strlen(s)))
        return mf_error_set(err, MF_ERR_FORMAT, "", "not a date (YYYY-MM-DD)");
    *days = cs_days_from_civil(digits(s, 4), (unsigned)digits(s + 5, 2), (unsigned)digits(s + 8, 2));
    return MF_OK;
}

mf_status cs_time_parse(const char *s, int64_t *ms, mf_error *err)
{
    if (!s || !svc_time_parse(s, strlen(s), ms))
        return mf_error_set(err, MF_ERR_FORMAT, "", "not an RFC 3339 date-time");
    return MF_OK;
}

mf_status cs_hm_parse(const char *s, int32_t *secs, mf_error *err)
{
    if (!s || !mf_format_check(MF_FMT_TIME_HM, s, strlen(s)))
        return mf_error_set(err, MF_ERR_FORMAT, "", "not a wall-clock time (HH:MM or HH:MM:SS)");
    int32_t v = digits(s, 2) * 3600 + digits(s + 3, 2) * 60;
    if (s[5] == ':')
        v += digits(s + 6, 2);
    *secs = v;
    return MF_OK;
}

char *cs_time_format(int64_t ms, char out[CS_TIME_TEXT_MAX])
{
    return svc_time_format(ms, out);
}

char *cs_time_format_since(int64_t prev, int64_t ms, char out[CS_TIME_TEXT_MAX])
{
    static const int64_t last = 253402300799999LL; /* 9999-12-31T23:59:59.999Z */
    if (prev < 0 || ms < 0 || ms > last || prev / 1000 != ms / 1000)
        return cs_time_format(ms, out);
    int frac = (int)(ms % 1000); /* "YYYY-MM-DDTHH:MM:SS.mmmZ": the digits at 20..22 */
    out[20] = (char)('0' + frac / 100);
    out[21] = (char)('0' + frac / 10 % 10);
    out[22] = (char)('0' + frac % 10);
    return out;
}

char *cs_date_format(int64_t days, char out[CS_TIME_TEXT_MAX])
{
    int64_t y;
    unsigned m, d;
    cs_civil_from_days(days, &y, &m, &d);
    snprintf(out, CS_TIME_TEXT_MAX, "%04lld-%02u-%02u", (long long)y, m, d);
    return out;
}
