/*
 * svc_token.h - the admin API's bearer token: where it comes from and how it
 * is compared.
 *
 * A token is read from a file (--admin-token-file: the whole file, a final
 * newline removed) or from an environment variable (MF_ADMIN_TOKEN), never
 * from the command line, where `ps` would show it. It is printable ASCII
 * without blanks (RFC 6750 b64token characters and a few more), 16 to 1024
 * bytes (the whole Authorization header must fit in the
 * HTTP server's 4 KiB of header data). It is never logged: errors name the file or the variable, not the
 * value.
 *
 * svc_token_check compares in time independent of where the inputs differ:
 * both sides are hashed with SHA-256 and the digests compared with
 * CRYPTO_memcmp, so neither the position of the first difference nor the
 * expected token's length shows in the timing.
 *
 * Threads: no shared state; any thread.
 */
#ifndef SVC_TOKEN_H
#define SVC_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SVC_TOKEN_MIN 16
#define SVC_TOKEN_MAX 1024

/*
 * Loads the token: from `file` when it is non-NULL and non-empty, else from
 * `env_value` (the environment variable's value, named env_name in errors)
 * when non-NULL and non-empty, else *out = NULL and MF_OK (no token).
 * On MF_OK *out is a heap copy the caller frees with svc_token_free.
 * On error (MF_ERR_IO: the file cannot be read; MF_ERR_INVALID_ARG: too
 * short, too long, a character outside the allowed set, both sources given)
 * err says why without the value, *out is NULL.
 */
mf_status svc_token_load(const char *file, const char *env_value, const char *env_name, char **out,
                         mf_error *err);

/* Wipes and frees a token from svc_token_load. NULL is fine. */
void svc_token_free(char *token);

/* True when `given` (given_len bytes, not NUL-terminated) equals `expected`; constant time. */
bool svc_token_check(const char *expected, const char *given, size_t given_len);

/*
 * Checks an Authorization header value against `expected`: "Bearer <token>"
 * (the scheme case-insensitive, one or more spaces). False for NULL, another
 * scheme or another token.
 */
bool svc_token_check_bearer(const char *expected, const char *header);

#ifdef __cplusplus
}
#endif
#endif /* SVC_TOKEN_H */
