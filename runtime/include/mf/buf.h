/*
 * mf/buf.h - a growable byte buffer.
 *
 * The encoder writes JSON into one; the transport frames protocol messages in
 * one. `data` is always NUL-terminated after a successful append (the NUL is
 * not counted in `len`), so JSON output can be printed directly.
 */
#ifndef MF_BUF_H
#define MF_BUF_H

#include <stddef.h>
#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mf_buf {
    char *data;   /* owned by the buffer; NULL until the first append */
    size_t len;   /* bytes in use */
    size_t cap;   /* bytes allocated */
    size_t limit; /* 0 = unbounded; otherwise appends past `limit` bytes fail with MF_ERR_LIMIT */
} mf_buf;

#define MF_BUF_INIT {NULL, 0, 0, 0}

void mf_buf_init(mf_buf *b);
/* Frees the storage and resets to empty; safe on an initialised empty buffer. */
void mf_buf_free(mf_buf *b);
/* Empties the buffer but keeps its storage. */
void mf_buf_reset(mf_buf *b);
/* Makes room for `extra` more bytes plus the terminating NUL. MF_ERR_NOMEM / MF_ERR_LIMIT. */
mf_status mf_buf_reserve(mf_buf *b, size_t extra);
mf_status mf_buf_append(mf_buf *b, const void *p, size_t n);
mf_status mf_buf_append_str(mf_buf *b, const char *s);
mf_status mf_buf_append_char(mf_buf *b, char c);
mf_status mf_buf_printf(mf_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Hands the storage to the caller (free() it); the buffer becomes empty. May return NULL if empty. */
char *mf_buf_detach(mf_buf *b, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* MF_BUF_H */
