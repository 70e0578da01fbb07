/*
 * decode_lex.c - the direct decoder's tokens: strings (escapes, UTF-8),
 * numbers, and the syntax and memory errors.
 *
 * The lexical rules are those of the pre-scan (prescan.c): well-formed UTF-8,
 * no raw control bytes or NUL, no \u0000 or lone surrogate escape, the
 * strict number grammar. Plain strings that end within 16 bytes are read by
 * lex_str in decode_int.h; the rest comes here.
 *
 * Numbers get the double strtod would give (what cJSON stores): exact
 * integers and short decimals are computed directly (Clinger's fast path:
 * a mantissa below 2^53 times or divided by an exact power of ten is
 * correctly rounded); everything else goes through strtod, with the
 * locale's decimal point as cJSON does.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/decode_int.h"

/* A syntax error at byte `at`. The code and message that reach the caller
 * are mfw_json_check's (see mf_decode). */
mf_status mfd_syn(dd *d, size_t pos, const char *what)
{
    d->syn = true;
    return mf_error_set(d->w.err, MF_ERR_SYNTAX, "", "invalid JSON at byte %zu: %s", pos, what);
}

mf_status mfd_nomem(dd *d)
{
    return mfw_fail(&d->w, MF_ERR_NOMEM, "out of memory");
}

/* Room for n bytes and a NUL in d->tmp. */
static char *scratch(dd *d, size_t n)
{
    if (n < d->tmpcap)
        return d->tmp;
    size_t cap = n + 1 > 2 * d->tmpcap ? n + 1 : 2 * d->tmpcap;
    char *t = malloc(cap);
    if (!t)
        return NULL;
    if (d->tmp != d->small)
        free(d->tmp);
    d->tmp = t;
    d->tmpcap = cap;
    return t;
}

/* One escape at p[i] ('\\'), checked as the pre-scan does; returns its
 * length (2, 6 or 12 for a surrogate pair) or 0 when invalid. */
static size_t lex_escape(const unsigned char *p, size_t len, size_t i)
{
    unsigned char e = i + 1 < len ? p[i + 1] : 0;
    if (e == 'u') {
        long v = mfw_hex4(p + i + 2, len - i - 2);
        if (v <= 0 || (v >= 0xDC00 && v <= 0xDFFF))
            return 0;
        if (v >= 0xD800 && v <= 0xDBFF) {
            long lo = -1;
            if (i + 12 <= len && p[i + 6] == '\\' && p[i + 7] == 'u')
                lo = mfw_hex4(p + i + 8, 4);
            return lo >= 0xDC00 && lo <= 0xDFFF ? 12 : 0;
        }
        return 6;
    }
    return (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't')
               ? 2 : 0;
}

/* The rest of lex_str, from p[i] (the bytes from the opening quote to i are plain). */
mf_status mfd_lex_str_at(dd *d, size_t i, const char **s, size_t *n, bool *esc)
{
    const unsigned char *p = d->p;
    const size_t len = d->len, start = d->i + 1;
    bool e = false;
    for (;;) {
        unsigned m;
        if (i + 16 <= len) {
            m = mfw_special16(p + i);
        } else if (len >= 16) { /* the last 16 bytes, shifted so that bit 0 is byte i */
            m = mfw_special16(p + len - 16) >> (16 - (len - i));
            if (!m)
                return mfd_syn(d, start - 1, "unterminated string");
        } else {
            unsigned char tail[16] = {0}; /* the zero padding flags the end */
            memcpy(tail, p + i, len - i);
            m = mfw_special16(tail);
        }
        if (!m) { /* 16 plain bytes */
            i += 16;
            continue;
        }
        i += (size_t)__builtin_ctz(m);
        if (i >= len)
            return mfd_syn(d, start - 1, "unterminated string");
        unsigned char c = p[i];
        size_t k;
        if (c == '"')
            break;
        if (c == '\\')
            k = lex_escape(p, len, i), e = true;
        else if (c >= 0x80)
            k = mf_utf8_seq(p + i, len - i);
        else
            k = 0; /* a control character */
        if (!k)
            return mfd_syn(d, i, "invalid string");
        i += k;
    }
    *s = (const char *)p + start;
    *n = i - start;
    *esc = e;
    d->i = i + 1;
    return MF_OK;
}

static size_t put_utf8(char *o, unsigned long c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* The value of a string body s[0..n) checked by lex_str, written to o (room
 * for n bytes: the value is never longer); returns its length. */
size_t mfd_unescape(char *o, const char *s, size_t n)
{
    size_t i = 0, k = 0;
    while (i < n) {
        const char *bs = memchr(s + i, '\\', n - i);
        size_t run = bs ? (size_t)(bs - (s + i)) : n - i;
        memcpy(o + k, s + i, run);
        k += run;
        i += run;
        if (i >= n)
            break;
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break;
        case 't': o[k++] = '\t'; break;
        case 'u': {
            unsigned long c = (unsigned long)mfw_hex4((const unsigned char *)s + i, 4);
            i += 4;
            if (c >= 0xD800 && c <= 0xDBFF) { /* lex_str checked the pair */
                unsigned long lo = (unsigned long)mfw_hex4((const unsigned char *)s + i + 2, 4);
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            k += put_utf8(o + k, c);
            break;
        }
        default: o[k++] = e; /* '"' '\\' '/' */
        }
    }
    return k;
}

/* The next string's value, NUL-terminated: in place when it has no escapes
 * and need not be terminated, else in d->tmp. NULL: out of memory. */
const char *mfd_str_value(dd *d, const char *s, size_t n, bool esc, bool terminate, size_t *out_n)
{
    if (!esc && !terminate) {
        *out_n = n;
        return s;
    }
    char *t = scratch(d, n);
    if (!t)
        return NULL;
    *out_n = esc ? mfd_unescape(t, s, n) : (memcpy(t, s, n), n);
    t[*out_n] = '\0';
    return t;
}

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* strtod of the number text s[0..n) as cJSON reads it: '.' replaced by the
 * locale's decimal point. */
static int slow_number(const unsigned char *s, size_t n, double *v)
{
    char small[64], *b = n < sizeof small ? small : malloc(n + 1);
    char dp = localeconv()->decimal_point[0];
    if (!b)
        return -1;
    for (size_t k = 0; k < n; k++)
        b[k] = s[k] == '.' ? dp : (char)s[k];
    b[n] = '\0';
    *v = strtod(b, NULL);
    if (b != small)
        free(b);
    return 0;
}


/*
 * The number at d->i: the strict JSON grammar (as the pre-scan), d->i left
 * after it. With `out`, its double: directly when the mantissa has at most
 * 19 significant digits, is at most 2^53 and the decimal exponent is within
 * +-22 (Clinger), else by strtod.
 */
mf_status mfd_lex_num(dd *d, num *out)
{
    const unsigned char *p = d->p;
    const size_t s = d->i;
    size_t i = s;
    uint64_t m = 0;
    int nd = 0, e10 = 0;
    bool neg = at(d, i) == '-', frac_or_exp = false;
    i += neg;
    if (!(at(d, i) >= '0' && at(d, i) <= '9'))
        return mfd_syn(d, s, "invalid number");
    if (p[i] == '0') {
        i++;
        if (at(d, i) >= '0' && at(d, i) <= '9')
            return mfd_syn(d, s, "invalid number (leading zero)");
    }
    for (; i < d->len && p[i] >= '0' && p[i] <= '9'; i++) {
        if (nd < 19)
            m = m * 10 + (p[i] - '0'), nd += m != 0;
        else
            e10++;
    }
    if (at(d, i) == '.') {
        frac_or_exp = true;
        if (!(at(d, ++i) >= '0' && at(d, i) <= '9'))
            return mfd_syn(d, s, "invalid number");
        for (; i < d->len && p[i] >= '0' && p[i] <= '9'; i++)
            if (nd < 19)
                m = m * 10 + (p[i] - '0'), nd += m != 0, e10--;
    }
    if (at(d, i) == 'e' || at(d, i) == 'E') {
        int es = 1, ev = 0;
        frac_or_exp = true;
        i++;
        if (at(d, i) == '+' || at(d, i) == '-')
            es = at(d, i++) == '-' ? -1 : 1;
        if (!(at(d, i) >= '0' && at(d, i) <= '9'))
            return mfd_syn(d, s, "invalid number");
        for (; i < d->len && p[i] >= '0' && p[i] <= '9'; i++)
            ev = ev < 100000 ? ev * 10 + (p[i] - '0') : ev;
        e10 += es * ev;
    }
    unsigned char c = at(d, i);
    if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')
        return mfd_syn(d, s, "invalid number");
    d->i = i;
    if (!out)
        return MF_OK;
    out->canon = !frac_or_exp && i - s - neg <= 15;
    if (m == 0 && nd == 0) {
        out->v = neg ? -0.0 : 0.0;
    } else if (nd < 19 && m <= (1ull << 53) && e10 >= -22 && e10 <= 22) {
        double v = (double)m;
        v = e10 < 0 ? v / pow10_exact[-e10] : v * pow10_exact[e10];
        out->v = neg ? -v : v;
    } else if (slow_number(p + s, i - s, &out->v)) {
        return mfd_nomem(d);
    }
    return MF_OK;
}

