/*
 * svc_http_chunked.c - removes the chunked transfer coding from a request body.
 */
#include "svc_http_int.h"

enum { S_SIZE, S_EXT, S_SIZE_LF, S_DATA, S_DATA_CR, S_DATA_LF, S_TRAILER, S_TRAILER_LF, S_DONE };

#define MAX_DIGITS 15 /* sizes below 2^60 */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One byte of framing (anything but chunk data). 0 go on, 1 done, -1 error. */
static int step(svc_dechunk *d, char c)
{
    switch (d->state) {
    case S_SIZE: {
        int v = hexval(c);
        if (v >= 0 && d->digits < MAX_DIGITS) {
            d->left = d->left * 16 + (uint64_t)v;
            d->digits++;
            return 0;
        }
        if (d->digits == 0 || v >= 0)
            return -1;
        if (c == ';' || c == ' ' || c == '\t')
            return d->state = S_EXT, 0;
        if (c == '\r')
            return d->state = S_SIZE_LF, 0;
        return -1;
    }
    case S_EXT:
        if (c == '\r')
            d->state = S_SIZE_LF;
        return 0;
    case S_SIZE_LF:
        if (c != '\n')
            return -1;
        d->digits = 0;
        d->state = d->left ? S_DATA : S_TRAILER;
        d->line = 0;
        return 0;
    case S_DATA_CR:
        return c == '\r' ? (d->state = S_DATA_LF, 0) : -1;
    case S_DATA_LF:
        return c == '\n' ? (d->state = S_SIZE, d->left = 0, 0) : -1;
    case S_TRAILER:
        if (c == '\r')
            return d->state = S_TRAILER_LF, 0;
        d->line++;
        return 0;
    case S_TRAILER_LF:
        if (c != '\n')
            return -1;
        if (d->line == 0)
            return d->state = S_DONE, 1;
        d->line = 0;
        d->state = S_TRAILER;
        return 0;
    default:
        return -1;
    }
}

int svc_dechunk_feed(svc_dechunk *d, const char *in, size_t len, svc_dechunk_out out, void *ctx)
{
    size_t i = 0;
    while (i < len) {
        if (d->state == S_DONE)
            return 1;
        if (d->state == S_DATA) {
            size_t n = len - i;
            if ((uint64_t)n > d->left)
                n = (size_t)d->left;
            out(ctx, in + i, n);
            i += n;
            d->left -= n;
            if (d->left == 0)
                d->state = S_DATA_CR;
            continue;
        }
        int r = step(d, in[i++]);
        if (r)
            return r;
    }
    return d->state == S_DONE ? 1 : 0;
}
