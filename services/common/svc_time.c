/*
 * svc_time.c - RFC 3339 timestamps in UTC with milliseconds (svc_time.h).
 *
 * The shape of a date-time is checked by the codec's format checker
 * (mf_format_check, runtime/codec/format.c); this file only converts.
 */
#include "svc_time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mf/codec.h"

int64_t svc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t svc_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

char *svc_time_format(int64_t ms, char out[SVC_TIME_LEN])
{
    static const int64_t lo = -62167219200000LL, hi = 253402300799999LL; /* 0000-01-01 .. 9999-12-31 */
    if (ms < lo)
        ms = lo;
    if (ms > hi)
        ms = hi;
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int sec = (int)(rem / 1000);
    char buf[64]; /* wide enough for any int: the compiler cannot see the ranges */
    snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", (int)y, m, d, sec / 3600, sec / 60 % 60, sec % 60,
             (int)(rem % 1000));
    memcpy(out, buf, SVC_TIME_LEN - 1);
    out[SVC_TIME_LEN - 1] = '\0';
    return out;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

bool svc_time_parse(const char *s, size_t n, int64_t *ms)
{
    if (!s || !mf_format_check(MF_FMT_DATE_TIME, s, n))
        return false;
    /* the checker guarantees: YYYY-MM-DD[Tt]HH:MM:SS[.f+](Z|z|+HH:MM|-HH:MM) */
    int64_t days = days_from_civil(digits(s, 4), (unsigned)digits(s + 5, 2), (unsigned)digits(s + 8, 2));
    int64_t t = days * 86400 + digits(s + 11, 2) * 3600 + digits(s + 14, 2) * 60 + digits(s + 17, 2);
    size_t i = 19;
    int frac = 0, scale = 100;
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            frac += (s[i] - '0') * scale;
            scale /= 10;
        }
    }
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        int off = digits(s + i + 1, 2) * 3600 + digits(s + i + 4, 2) * 60;
        t -= s[i] == '+' ? off : -off;
    }
    *ms = t * 1000 + frac;
    return true;
}

bool svc_time_normalize(const char *s, char out[SVC_TIME_LEN])
{
    int64_t ms;
    if (!s || !svc_time_parse(s, strlen(s), &ms))
        return false;
    svc_time_format(ms, out);
    return true;
}
