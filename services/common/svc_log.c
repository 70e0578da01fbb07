/*
 * svc_log.c - timestamped, levelled log lines on stderr (svc_log.h).
 */
#include "svc_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

const char *const svc_log_level_names[] = {"error", "warn", "info", "debug", NULL};

static char g_service[64] = "service";
static int g_level = SVC_LOG_INFO;

void svc_log_init(const char *service, svc_log_level level)
{
    snprintf(g_service, sizeof g_service, "%s", service ? service : "service");
    svc_log_set_level(level);
}

void svc_log_set_level(svc_log_level level)
{
    __atomic_store_n(&g_level, (int)level, __ATOMIC_RELAXED);
}

bool svc_log_enabled(svc_log_level level)
{
    return (int)level <= __atomic_load_n(&g_level, __ATOMIC_RELAXED);
}

const char *svc_log_level_name(svc_log_level level)
{
    if (level >= SVC_LOG_ERROR && level <= SVC_LOG_DEBUG)
        return svc_log_level_names[level - 1];
    return "?";
}

/* Escapes control characters of s[0..n) in place into out (cap bytes). */
static size_t sanitize(const char *s, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    return o;
}

void svc_log(svc_log_level level, const char *fmt, ...)
{
    if (!svc_log_enabled(level))
        return;
    char msg[LINE_MAX_BYTES];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    size_t mlen = (size_t)m < sizeof msg ? (size_t)m : sizeof msg - 1;

    char line[LINE_MAX_BYTES + 128];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03dZ %s %s: ", (int)(tv.tv_usec / 1000),
                          level == SVC_LOG_ERROR  ? "ERROR"
                          : level == SVC_LOG_WARN ? "WARN"
                          : level == SVC_LOG_INFO ? "INFO"
                                                  : "DEBUG",
                          g_service);
    n += sanitize(msg, mlen, line + n, sizeof line - n - 5);
    if ((size_t)m >= sizeof msg) {
        memcpy(line + n, "...", 3);
        n += 3;
    }
    line[n++] = '\n';
    /* one write per line: lines of different threads never interleave */
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}

const char *svc_log_q(char *buf, size_t cap, const char *value)
{
    if (!buf || cap == 0)
        return "";
    if (!value) {
        snprintf(buf, cap, "-");
        return buf;
    }
    bool plain = value[0] != '\0' && strpbrk(value, " \t\"\\=") == NULL;
    if (plain) {
        size_t len = strlen(value);
        if (len < cap) {
            memcpy(buf, value, len + 1);
            return buf;
        }
    }
    size_t o = 0;
    if (!plain && cap > 2)
        buf[o++] = '"';
    for (const char *p = value; *p; p++) {
        size_t need = (*p == '"' || *p == '\\') ? 2 : 1;
        if (o + need + 5 > cap) { /* room for '...', the quote and the NUL */
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (need == 2)
            buf[o++] = '\\';
        buf[o++] = *p;
    }
    if (!plain && o + 2 <= cap)
        buf[o++] = '"';
    buf[o < cap ? o : cap - 1] = '\0';
    return buf;
}

const char *svc_log_redact_url(const char *url, char *out, size_t cap)
{
    if (!out || cap == 0)
        return "";
    if (!url) {
        snprintf(out, cap, "-");
        return out;
    }
    const char *scheme = strstr(url, "://");
    const char *host = scheme ? scheme + 3 : url;
    const char *end = host + strcspn(host, "/?#");
    const char *at = NULL;
    for (const char *p = host; p < end; p++)
        if (*p == '@')
            at = p;
    if (!at) {
        snprintf(out, cap, "%s", url);
        return out;
    }
    snprintf(out, cap, "%.*s***%s", (int)(host - url), url, at);
    return out;
}
