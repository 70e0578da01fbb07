/*
 * report.c - how the codec reports an error: the JSON pointer (rendered
 * lazily from the walk's frames), the message, a value quoted in it, and
 * the names and numbers messages show.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/rules.h"

/* ---------------------------------------------------------------- pointers */

static size_t put_uint(char *out, size_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* Appends "/" + escaped key (n bytes, or up to its NUL when n is MFW_NUL);
 * o is the write position, returns the new one. */
static size_t put_key(char *out, size_t o, size_t cap, const char *key, size_t n)
{
    if (o + 1 < cap)
        out[o++] = '/';
    for (const char *p = key; (n == MFW_NUL ? *p != '\0' : (size_t)(p - key) < n) && o + 1 < cap; p++) {
        if (*p == '~' || *p == '/') {
            if (o + 2 >= cap)
                break;
            out[o++] = '~';
            out[o++] = *p == '~' ? '0' : '1';
        } else {
            out[o++] = *p;
        }
    }
    return o;
}

void mfw_pointer(const mfw *w, const char *extra, char *out, size_t cap)
{
    size_t o = 0;
    unsigned n = w->nfr < MFW_MAX_FRAMES ? w->nfr : MFW_MAX_FRAMES;
    if (cap == 0)
        return;
    for (unsigned i = 0; i < n && o + 1 < cap; i++) {
        if (w->fr[i].key) {
            o = put_key(out, o, cap, w->fr[i].key, w->fr[i].idx);
        } else if (o + 22 < cap) {
            out[o++] = '/';
            o += put_uint(out + o, w->fr[i].idx);
        } else {
            break;
        }
    }
    if (extra && o + 1 < cap)
        o = put_key(out, o, cap, extra, MFW_NUL);
    out[o] = '\0';
}

static mf_status vfail(mfw *w, mf_status code, const char *extra, const char *fmt, va_list ap)
{
    if (!w->err)
        return code;
    w->err->code = code;
    mfw_pointer(w, extra, w->err->pointer, sizeof w->err->pointer);
    vsnprintf(w->err->message, sizeof w->err->message, fmt, ap);
    return code;
}

mf_status mfw_fail(mfw *w, mf_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(w, code, NULL, fmt, ap);
    va_end(ap);
    return code;
}

mf_status mfw_fail_member(mfw *w, mf_status code, const char *extra, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(w, code, extra, fmt, ap);
    va_end(ap);
    return code;
}

const char *mfw_echo(char *out, size_t cap, const char *s, size_t n)
{
    const size_t lim = cap > 8 ? cap - 8 : 0; /* room for "..." and NUL */
    size_t o = 0, i = 0;
    if (!s)
        s = "";
    while (i < n && o < lim) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (i + k > n || o + k > lim)
            break;
        if (k == 1) {
            out[o++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
        } else {
            memcpy(out + o, s + i, k);
            o += k;
        }
        i += k;
    }
    if (i < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

const char *mfw_kind_name(const mf_type *t)
{
    switch (t->kind) {
    case MF_K_BOOL: return "a boolean";
    case MF_K_INT: return "an integer";
    case MF_K_NUM: return "a number";
    case MF_K_STR: return "a string";
    case MF_K_ENUM: return "a string (enum)";
    case MF_K_OBJ: return "an object";
    case MF_K_ARR: return "an array";
    case MF_K_MAP: return "an object (map)";
    case MF_K_RAW: return (t->flags & MF_TF_RAW_OBJECT) ? "an object" : "a JSON value";
    case MF_K_UNION: return "one of the alternatives";
    }
    return "a value";
}

/* ----------------------------------------------------------------- numbers */

size_t mfw_fmt_double(char out[32], double v)
{
    int n;
    if (v == 0) {
        if (signbit(v)) {
            memcpy(out, "-0", 3);
            return 2;
        }
        memcpy(out, "0", 2);
        return 1;
    }
    if (v == trunc(v) && fabs(v) < 1e15) { /* integral: exact as an int64 */
        long long x = (long long)v;
        size_t o = 0;
        unsigned long long u = x < 0 ? 0ull - (unsigned long long)x : (unsigned long long)x;
        if (x < 0)
            out[o++] = '-';
        o += put_uint(out + o, (size_t)u);
        out[o] = '\0';
        return o;
    }
    n = snprintf(out, 32, "%.15g", v);
    if (strtod(out, NULL) != v) {
        n = snprintf(out, 32, "%.16g", v);
        if (strtod(out, NULL) != v)
            n = snprintf(out, 32, "%.17g", v);
    }
    if (n < 0)
        n = 0;
    for (int i = 0; i < n; i++) { /* a locale with a decimal comma */
        if (out[i] == ',')
            out[i] = '.';
        /* "1e-07" -> "1e-7": drop the exponent's leading zeros */
        if (out[i] == 'e' && i + 2 < n && (out[i + 1] == '-' || out[i + 1] == '+') && out[i + 2] == '0') {
            int j = i + 2;
            while (j < n - 1 && out[j] == '0')
                j++;
            memmove(out + i + 2, out + j, (size_t)(n - j) + 1);
            n -= j - (i + 2);
            break;
        }
    }
    return (size_t)n;
}
