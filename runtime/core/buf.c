/*
 * buf.c - the growable byte buffer (mf/buf.h).
 *
 * Grows geometrically (x2, at least 64 bytes) so appends are amortised O(1),
 * keeps one spare byte for the terminating NUL, and honours an optional byte
 * limit so that a queue built on it is bounded.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf/buf.h"

void mf_buf_init(mf_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = 0;
}

void mf_buf_free(mf_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void mf_buf_reset(mf_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

mf_status mf_buf_reserve(mf_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return MF_ERR_NOMEM;
    size_t need = b->len + extra + 1; /* + NUL */
    if (b->limit && need - 1 > b->limit)
        return MF_ERR_LIMIT;
    if (need <= b->cap)
        return MF_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return MF_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return MF_OK;
}

mf_status mf_buf_append(mf_buf *b, const void *p, size_t n)
{
    mf_status st = mf_buf_reserve(b, n);
    if (st)
        return st;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return MF_OK;
}

mf_status mf_buf_append_str(mf_buf *b, const char *s)
{
    return mf_buf_append(b, s, strlen(s));
}

mf_status mf_buf_append_char(mf_buf *b, char c)
{
    if (b->len + 1 < b->cap) { /* fast path: room for the byte and the NUL */
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return MF_OK;
    }
    return mf_buf_append(b, &c, 1);
}

mf_status mf_buf_printf(mf_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return MF_ERR_INVALID_ARG;
    if ((size_t)n < sizeof small)
        return mf_buf_append(b, small, (size_t)n);
    mf_status st = mf_buf_reserve(b, (size_t)n);
    if (st)
        return st;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return MF_OK;
}

char *mf_buf_detach(mf_buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
