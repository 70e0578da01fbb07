/* cs_log.c - formatting a line for a module's log sink (see cs_log.h). */
#include "cs_log.h"

#include <stdarg.h>
#include <stdio.h>

void cs_logf(cs_log_fn fn, void *ctx, const char *level, const char *fmt, ...)
{
    if (!fn)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fn(ctx, level, msg);
}
