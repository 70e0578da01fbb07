/*
 * headers.h - typed message headers, inside the typed API (send.c, receive.c).
 */
#ifndef MF_API_HEADERS_H
#define MF_API_HEADERS_H

#include "mf/client.h"
#include "mf/codec.h"

/* At most this many headers a message's contract may declare. */
#define MF_API_MAX_HEADERS 32

/*
 * Validates `headers` (a struct of t: an object of string members) and lists its
 * present members in out[0..*n) (at most cap). The names and values live in
 * *storage, which the caller frees (also on error). The codec's errors
 * (err->pointer names the member), MF_ERR_LIMIT, MF_ERR_NOMEM.
 */
mf_status mf_api_headers_out(const mf_type *t, const void *headers, mf_header *out, size_t cap, size_t *n,
                             char **storage, mf_error *err);

/*
 * Decodes the headers of m that t declares into out (a struct of t, which this
 * initialises; free it with mf_free(t, out) on MF_OK). Validated like a payload:
 * the codec's errors.
 */
mf_status mf_api_headers_in(const mf_type *t, const mf_msg *m, void *out, mf_error *err);

#endif
