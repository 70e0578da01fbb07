/*
 * status.c - names of status codes and the mf_error helpers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mf/status.h"

const char *mf_status_str(mf_status st)
{
    switch (st) {
    case MF_OK: return "ok";
    case MF_ERR_NOMEM: return "out of memory";
    case MF_ERR_SYNTAX: return "syntax";
    case MF_ERR_TYPE: return "type";
    case MF_ERR_REQUIRED: return "required";
    case MF_ERR_ENUM: return "enum";
    case MF_ERR_RANGE: return "range";
    case MF_ERR_LENGTH: return "length";
    case MF_ERR_FORMAT: return "format";
    case MF_ERR_PATTERN: return "pattern";
    case MF_ERR_UTF8: return "utf-8";
    case MF_ERR_UNKNOWN_FIELD: return "unknown field";
    case MF_ERR_DUPLICATE: return "duplicate";
    case MF_ERR_CONST: return "const";
    case MF_ERR_UNION: return "union";
    case MF_ERR_INVALID_ARG: return "invalid argument";
    case MF_ERR_LIMIT: return "limit";
    case MF_ERR_NOT_FOUND: return "not found";
    case MF_ERR_IO: return "i/o";
    case MF_ERR_PROTOCOL: return "protocol";
    case MF_ERR_SERVER: return "server error";
    case MF_ERR_TIMEOUT: return "timeout";
    case MF_ERR_NO_RESPONDERS: return "no responders";
    case MF_ERR_CLOSED: return "closed";
    case MF_ERR_FULL: return "full";
    case MF_ERR_PAYLOAD_TOO_BIG: return "payload too big";
    case MF_ERR_AUTH: return "authorization";
    case MF_ERR_REFUSED: return "refused";
    }
    return "unknown status";
}

void mf_error_clear(mf_error *err)
{
    if (!err)
        return;
    err->code = MF_OK;
    err->pointer[0] = '\0';
    err->message[0] = '\0';
}

mf_status mf_error_set(mf_error *err, mf_status code, const char *pointer, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    /* snprintf truncates safely; a pointer longer than the field keeps its prefix. */
    snprintf(err->pointer, sizeof err->pointer, "%s", pointer ? pointer : "");
    err->message[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}
