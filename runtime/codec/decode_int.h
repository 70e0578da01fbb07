/*
 * decode_int.h - private to the direct decoder (mf_decode, decode*.c).
 *
 * The decoder's state (dd), the lexer's inline fast paths (white space,
 * plain strings, literals, nesting) and the functions one decode*.c file
 * calls in another. Which file holds what:
 *
 *   decode.c         the walk: mf_decode, values by kind into their slots
 *                    (scalars, arrays, objects, maps)
 *   decode_lex.c     tokens: strings (escapes, UTF-8), numbers, errors
 *   decode_raw.c     free-form (raw) values, skipping, mfw_json_check
 *   decode_union.c   unions (by JSON type, discriminator or trial) and `not`
 *
 * Names: mfd_ for what crosses files; the rest is static. The walk over
 * scalars and containers stays one translation unit: the compiler inlines
 * it into one recursive function, which perf.guard's counts rely on.
 */
#ifndef MF_DECODE_INT_H
#define MF_DECODE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "codec/rules.h"

/* The decoder's state: the text, the read position and the walk. */
typedef struct dd {
    const unsigned char *p;
    size_t len;
    size_t i;       /* read position */
    unsigned depth; /* JSON nesting at the position */
    bool syn;       /* a syntax error was met: the verdict is mfw_json_check's */
    char *tmp;      /* scratch for unescaped names and enum strings */
    size_t tmpcap;
    mfw w;          /* pointer frames and the error */
    char small[128];
} dd;

typedef struct num {
    double v;
    bool canon; /* a plain integer of at most 15 digits: printed as written */
} num;

/* --------------------------------------------------- tokens (decode_lex.c) */

/* A syntax error at byte `pos`. The code and message that reach the caller
 * are mfw_json_check's (see mf_decode). Sets d->syn. */
mf_status mfd_syn(dd *d, size_t pos, const char *what);

/* MF_ERR_NOMEM at the current pointer. */
mf_status mfd_nomem(dd *d);

/* The rest of lex_str, from p[i] (the bytes from the opening quote to i are plain). */
mf_status mfd_lex_str_at(dd *d, size_t i, const char **s, size_t *n, bool *esc);

/* The value of a string body s[0..n) checked by lex_str, written to o (room
 * for n bytes: the value is never longer); returns its length. */
size_t mfd_unescape(char *o, const char *s, size_t n);

/* The string's value, NUL-terminated: in place when it has no escapes and
 * need not be terminated, else in d->tmp. NULL: out of memory. */
const char *mfd_str_value(dd *d, const char *s, size_t n, bool esc, bool terminate, size_t *out_n);

/*
 * The number at d->i: the strict JSON grammar (as the pre-scan), d->i left
 * after it. With `out`, its double (what strtod gives) and whether it prints
 * as written.
 */
mf_status mfd_lex_num(dd *d, num *out);

/* The byte at i, or 0 past the end (0 is invalid wherever a token may start). */
static inline unsigned char at(const dd *d, size_t i)
{
    return i < d->len ? d->p[i] : 0;
}

static inline void ws(dd *d)
{
    size_t i = d->i;
    while (i < d->len) {
        unsigned char c = d->p[i];
        if (c > ' ' || (c != ' ' && c != '\n' && c != '\r' && c != '\t'))
            break;
        i++;
    }
    d->i = i;
}

/*
 * The string whose opening quote is at d->i: checked, and d->i left after its
 * closing quote. *s and *n give the body as written (without the quotes);
 * *esc says whether it has escapes (then mfd_unescape() gives its value). Inline
 * for the common case: a plain string that ends within 16 bytes.
 */
static inline mf_status lex_str(dd *d, const char **s, size_t *n, bool *esc)
{
    const size_t start = d->i + 1;
    unsigned m;
    if (start + 16 <= d->len && (m = mfw_special16(d->p + start)) != 0) {
        const size_t i = start + (size_t)__builtin_ctz(m);
        if (d->p[i] == '"') {
            *s = (const char *)d->p + start;
            *n = i - start;
            *esc = false;
            d->i = i + 1;
            return MF_OK;
        }
        return mfd_lex_str_at(d, i, s, n, esc);
    }
    return mfd_lex_str_at(d, start, s, n, esc);
}

/* The literal `lit` (n bytes) at d->i. */
static inline mf_status lex_lit(dd *d, const char *lit, size_t n)
{
    if (d->len - d->i < n || memcmp(d->p + d->i, lit, n) != 0)
        return mfd_syn(d, d->i, "invalid literal");
    d->i += n;
    return MF_OK;
}

static inline mf_status enter(dd *d)
{
    if (++d->depth > MF_MAX_DEPTH)
        return mfd_syn(d, d->i, "nesting too deep");
    return MF_OK;
}

/* The opening byte of an array or object at d->i: skipped with the white
 * space after it. False when the container is empty (its closing byte
 * `close` is skipped too). */
static inline bool list_open(dd *d, unsigned char close)
{
    d->i++;
    ws(d);
    if (at(d, d->i) == close) {
        d->i++;
        return false;
    }
    return true;
}

/* After an item or member: white space, then ',' (*more: another follows)
 * or the closing byte `close` (the end); anything else is a syntax error. */
static inline mf_status list_next(dd *d, unsigned char close, bool *more)
{
    ws(d);
    unsigned char c = at(d, d->i++);
    if (c == close) {
        *more = false;
        return MF_OK;
    }
    if (c != ',')
        return mfd_syn(d, d->i - 1, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    ws(d);
    *more = true;
    return MF_OK;
}

/* ----------------------------------------------------------- the walk */

/* Any value at d->i, checked and skipped (decode_raw.c). */
mf_status mfd_skip_value(dd *d);

/* The value at d->i as t into dst (decode.c): `not`, then by kind. */
mf_status mfd_value(dd *d, const mf_type *t, void *dst);

/* What the value starting with byte c is, for messages; NULL when no value
 * starts with c (decode.c). */
const char *mfd_found_name(unsigned char c);

/* The value at d->i is not a t: MF_ERR_TYPE naming what it is (decode.c). */
mf_status mfd_type_error(dd *d, const mf_type *t);

/* A raw (free-form) member: its compact text into *dst (decode_raw.c). */
mf_status mfd_raw(dd *d, const mf_type *t, char **dst);

/* The position of the value of the first member named `name` of the object
 * at d->i (SIZE_MAX: none); the position is restored (decode.c). */
mf_status mfd_find_member(dd *d, const char *name, size_t *vpos);

/* A union's value (decode_union.c). */
mf_status mfd_union(dd *d, const mf_type *t, char *base);

/* mfw_trial_fn of the direct decoder (ctx: the dd): a trial decode of the
 * value at d->i as t into a scratch value that is freed again; the position,
 * depth and frames are restored; a syntax error sets *stop (decode_union.c). */
mf_status mfd_trial(void *ctx, const mf_type *t, mf_error *e, bool *stop);

#endif
