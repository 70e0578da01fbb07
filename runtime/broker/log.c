/*
 * log.c - one line per event on stderr: "2024-05-01T10:00:00.123Z mf-broker: ...".
 */
#include "broker/broker.h"

#include <stdarg.h>
#include <sys/time.h>

static int g_level = MFB_LOG_INFO;

void mfb_log_set_level(int level)
{
    g_level = level;
}

void mfb_log(int level, const char *fmt, ...)
{
    if (level > g_level)
        return;
    char line[1024];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03dZ mf-broker: ", (int)(tv.tv_usec / 1000));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    /* one write per line, so lines from a crash or from lws do not interleave mid-line */
    fprintf(stderr, "%s\n", line);
}
