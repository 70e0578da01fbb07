/*
 * mf/status.h - status codes and the error value shared by every mflow layer.
 *
 * Errors are values: every fallible function returns an mf_status and, where it
 * has more to say, fills an mf_error the caller owns (usually on its stack).
 * MF_OK is 0 so that `if (st) ...` reads naturally.
 */
#ifndef MF_STATUS_H
#define MF_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mf_status {
    MF_OK = 0,
    /* codec: the value or the JSON text */
    MF_ERR_NOMEM = 1,      /* allocation failed */
    MF_ERR_SYNTAX,         /* not JSON, trailing garbage, nesting too deep */
    MF_ERR_TYPE,           /* wrong JSON type (including null where null is not allowed) */
    MF_ERR_REQUIRED,       /* a required member is absent (or a required pointer is NULL) */
    MF_ERR_ENUM,           /* a string not in the enum */
    MF_ERR_RANGE,          /* minimum/maximum, non-integral or unrepresentable number */
    MF_ERR_LENGTH,         /* minLength/maxLength, minItems/maxItems */
    MF_ERR_FORMAT,         /* uuid, date-time, date, time, email */
    MF_ERR_PATTERN,        /* pattern did not match */
    MF_ERR_UTF8,           /* invalid UTF-8 or an embedded NUL in a string */
    MF_ERR_UNKNOWN_FIELD,  /* member not allowed by additionalProperties: false */
    MF_ERR_DUPLICATE,      /* the same member twice in one object */
    MF_ERR_CONST,          /* value differs from the schema's const */
    MF_ERR_UNION,          /* no oneOf branch matches */
    MF_ERR_INVALID_ARG,    /* caller error: NULL where a value is needed, bad parameter */
    MF_ERR_LIMIT,          /* a configured size limit was exceeded */
    MF_ERR_NOT_FOUND,      /* no such message / channel / operation / subject */
    /* transport */
    MF_ERR_IO = 32,        /* socket or libwebsockets failure */
    MF_ERR_PROTOCOL,       /* the peer broke the NATS protocol */
    MF_ERR_SERVER,         /* the server answered -ERR */
    MF_ERR_TIMEOUT,        /* a request or flush timed out */
    MF_ERR_NO_RESPONDERS,  /* nobody subscribed to the request subject (status 503) */
    MF_ERR_CLOSED,         /* the client is closed or draining */
    MF_ERR_FULL,           /* a bounded queue is full; the item was not accepted */
    MF_ERR_PAYLOAD_TOO_BIG,/* larger than the server's max_payload */
    MF_ERR_AUTH,           /* authorization violation */
    MF_ERR_REFUSED         /* a responder answered a request with an error (Nats-Service-Error
                              header): an invalid request, a failed handler, an invalid reply */
} mf_status;

/* Sizes of the text fields of mf_error; longer text is truncated, never overflowed. */
#define MF_ERROR_POINTER_MAX 256
#define MF_ERROR_MESSAGE_MAX 256

/*
 * The first error an operation met. `pointer` is an RFC 6901 JSON pointer to the
 * offending value ("" is the whole document, "/schedule/recurring/interval" a
 * member); `message` is a sentence for people. Both are always NUL-terminated.
 */
typedef struct mf_error {
    mf_status code;
    char pointer[MF_ERROR_POINTER_MAX];
    char message[MF_ERROR_MESSAGE_MAX];
} mf_error;

/* A static, human-readable name for a status ("range", "timeout", ...). Never NULL. */
const char *mf_status_str(mf_status st);

/* Resets err to MF_OK with empty pointer and message. err may be NULL (no-op). */
void mf_error_clear(mf_error *err);

/*
 * Fills err (when not NULL) with code, pointer and a printf-style message and
 * returns code, so callers can write `return mf_error_set(err, MF_ERR_TYPE, p, "...")`.
 */
mf_status mf_error_set(mf_error *err, mf_status code, const char *pointer, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif /* MF_STATUS_H */
