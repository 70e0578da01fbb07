/*
 * svc_log.h - one line per event on stderr, for every service.
 *
 *   2025-05-01T10:00:00.123Z INFO user-service: user created user_id=3f0c... email=a@b.example
 *
 * A line is: UTC timestamp with milliseconds, the level, the service name, then
 * a sentence followed by key=value context. Values that may contain blanks are
 * written with svc_log_q ("key=%s", svc_log_q(buf, value)) so a line stays one
 * record for grep and awk. Control characters (CR, LF, ...) in a formatted line
 * are escaped as \xNN, so input taken from a request cannot forge a log line.
 *
 * Credentials are never logged: options flagged SVC_OPT_SECRET print as "***"
 * (svc_opts_log), and server URLs go through svc_log_redact_url, which hides
 * the user:password@ part.
 *
 * Threads: every function may be called from any thread once svc_log_init has
 * run; a line is written with one write(2), so lines from different threads do
 * not interleave. svc_log_init itself must run before other threads start.
 */
#ifndef SVC_LOG_H
#define SVC_LOG_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum svc_log_level {
    SVC_LOG_ERROR = 1,
    SVC_LOG_WARN = 2,
    SVC_LOG_INFO = 3,
    SVC_LOG_DEBUG = 4
} svc_log_level;

/* The names accepted by --log-level, in level order (NULL-terminated). */
extern const char *const svc_log_level_names[];

/* Sets the service name printed on each line (copied; truncated to 63 bytes) and the
 * most verbose level written. Call once, before other threads start. */
void svc_log_init(const char *service, svc_log_level level);

/* Changes the level (any thread). */
void svc_log_set_level(svc_log_level level);

/* True when a line of this level would be written. */
bool svc_log_enabled(svc_log_level level);

/* "error", "warn", "info", "debug"; "?" for anything else. */
const char *svc_log_level_name(svc_log_level level);

/* Writes one line (printf format, no trailing newline needed). Lines longer than
 * 4 KiB are truncated and end with "...". */
void svc_log(svc_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#define SVC_ERROR(...) svc_log(SVC_LOG_ERROR, __VA_ARGS__)
#define SVC_WARN(...) svc_log(SVC_LOG_WARN, __VA_ARGS__)
#define SVC_INFO(...) svc_log(SVC_LOG_INFO, __VA_ARGS__)
#define SVC_DEBUG(...)                                                                                            \
    do {                                                                                                          \
        if (svc_log_enabled(SVC_LOG_DEBUG))                                                                       \
            svc_log(SVC_LOG_DEBUG, __VA_ARGS__);                                                                  \
    } while (0)

/*
 * A value for key=value context: `value` as is when it is non-empty and has no
 * blank, quote, backslash or '=', otherwise in double quotes with " and \
 * escaped. Written into buf (cap bytes, truncated with "..." when too long);
 * returns buf. NULL prints as "-".
 */
const char *svc_log_q(char *buf, size_t cap, const char *value);

/* Copies url into out (cap bytes) with any "user:password@" replaced by "***@". Returns out. */
const char *svc_log_redact_url(const char *url, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* SVC_LOG_H */
