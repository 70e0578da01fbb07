/*
 * cs_log.h - the log sink the Campaign Service's modules write to.
 *
 * The engine, the refresh thread and the service take a sink (a function and
 * its context) instead of calling svc_log directly, so that the unit tests can
 * collect what a module says. campaign-service's main passes a sink that
 * writes through svc_log.
 *
 * Threads: cs_logf calls the sink on the calling thread; a sink must accept
 * calls from every thread the module runs on.
 */
#ifndef CS_LOG_H
#define CS_LOG_H

/* A log sink: level is "error", "warn", "info" or "debug"; message is one line, without a newline. */
typedef void (*cs_log_fn)(void *ctx, const char *level, const char *message);

/*
 * Formats fmt (printf rules) and passes the line to fn. A line longer than 511
 * bytes is cut. With fn NULL nothing is formatted and nothing happens.
 */
void cs_logf(cs_log_fn fn, void *ctx, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
