/*
 * duration.c - durations with units, as the nats CLI (Go's time.ParseDuration)
 * takes them, and the same for people in messages.
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mfctl.h"

static double unit_ns(const char *u, size_t n)
{
    static const struct { const char *name; double ns; } units[] = {
        {"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
    };
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strlen(units[i].name) == n && !strncmp(units[i].name, u, n))
            return units[i].ns;
    return 0;
}

int mfctl_parse_duration(const char *s, int *ms, char *why, size_t why_cap)
{
    const char *p = s;
    double total_ns = 0;
    if (!*p) {
        snprintf(why, why_cap, "empty duration (e.g. 500ms, 3s, 1m)");
        return -1;
    }
    while (*p) {
        const char *num = p;
        while (isdigit((unsigned char)*p) || *p == '.')
            p++;
        if (p == num) {
            snprintf(why, why_cap, "not a duration (e.g. 500ms, 3s, 1m30s)");
            return -1;
        }
        char *end;
        double v = strtod(num, &end);
        if (end != p || !isfinite(v)) {
            snprintf(why, why_cap, "bad number '%.*s'", (int)(p - num), num);
            return -1;
        }
        const char *u = p;
        while (*p && !isdigit((unsigned char)*p) && *p != '.')
            p++;
        if (u == p) {
            snprintf(why, why_cap, "a duration needs a unit: %ss or %sms (units ns us ms s m h)", s, s);
            return -1;
        }
        double f = unit_ns(u, (size_t)(p - u));
        if (f == 0) {
            snprintf(why, why_cap, "unknown unit '%.*s' (units ns us ms s m h)", (int)(p - u), u);
            return -1;
        }
        total_ns += v * f;
    }
    double m = ceil(total_ns / 1e6);
    if (m <= 0 || m > INT_MAX) {
        snprintf(why, why_cap, m <= 0 ? "must be more than 0" : "too long (at most 24 days)");
        return -1;
    }
    *ms = (int)m;
    return 0;
}

const char *mfctl_fmt_duration(int64_t ms, char *buf, size_t cap)
{
    if (ms < 1000)
        snprintf(buf, cap, "%dms", (int)ms);
    else if (ms < 60000 && ms % 1000)
        snprintf(buf, cap, "%.1fs", (double)ms / 1000.0);
    else if (ms < 60000)
        snprintf(buf, cap, "%ds", (int)(ms / 1000));
    else if (ms < 3600000)
        snprintf(buf, cap, "%dm%02ds", (int)(ms / 60000), (int)(ms / 1000 % 60));
    else
        snprintf(buf, cap, "%dh%02dm", (int)(ms / 3600000), (int)(ms / 60000 % 60));
    return buf;
}
