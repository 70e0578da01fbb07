/*
 * decode.c - mf_decode: JSON bytes -> C value in one pass, driven by the
 * mf_type descriptors (one generic decoder for every message, as in nanopb).
 *
 * The decoder reads the text once, front to back, and writes each value
 * straight into its place in the generated struct: no tree, no copy of
 * member names, one allocation per decoded string (the value owns it). The
 * lexical rules are those of the reference decoder's pre-scan (check.c):
 * well-formed UTF-8, no raw control bytes or NUL, no \u0000 or lone
 * surrogate escape, the strict number grammar, at most MF_MAX_DEPTH levels;
 * and the grammar is the one cJSON accepts (RFC 8259).
 *
 * The reference (decode_tree.c: pre-scan, cJSON tree, walk) stays the
 * definition of the verdict: a syntax error anywhere in the text wins over
 * any schema error, a lexical error over a grammar error, and schema errors
 * come in the walk's order. So on any error this decoder runs
 * mfw_json_check over the whole text (what the reference's first two steps
 * would say) and reports its error instead when there is one. The valid
 * path pays nothing for this. Within the walk, the order of the reference is
 * kept where it differs from reading order: an array's or map's item count
 * and a map's duplicate keys are checked before the errors of its values, so
 * after a value fails the rest of the container is scanned for them.
 *
 * Numbers get the double strtod would give (what cJSON stores): exact
 * integers and short decimals are computed directly (Clinger's fast path:
 * a mantissa below 2^53 times or divided by an exact power of ten is
 * correctly rounded); everything else goes through strtod, with the
 * locale's decimal point as cJSON does.
 *
 * Unions: a branch is picked by the JSON type of the value (the first byte,
 * and the value itself for numbers and enum strings), by the discriminator
 * member (found by scanning the object's members first), or by trying each
 * object branch into a scratch value that is freed again (the position is
 * rolled back); `not` is a trial of the same kind. These read the value
 * more than once; nothing else does.
 *
 * Raw members (free-form JSON) are re-printed compactly while they are
 * read, as the reference prints them from its tree (mfw_print_raw): strings
 * with escapes are decoded and re-escaped, numbers printed from their double
 * unless they are plain integers of at most 15 digits (which print as
 * written).
 */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "codec/codec_int.h"
#include "codec/walk.h"

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

/* ---------------------------------------------------------------- lexing */

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

/* A syntax error at byte `at`. The code and message that reach the caller
 * are mfw_json_check's (see mf_decode). */
static mf_status syn(dd *d, size_t pos, const char *what)
{
    d->syn = true;
    return mf_error_set(d->w.err, MF_ERR_SYNTAX, "", "invalid JSON at byte %zu: %s", pos, what);
}

static mf_status nomem(dd *d)
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

/* The mask of bytes that end a plain run in the 16 bytes at q: '"', '\\',
 * controls and (signed compare) bytes >= 0x80. */
static inline unsigned special16(const unsigned char *q)
{
#ifdef __SSE2__
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
    __m128i sp = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                           _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                              _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
    return (unsigned)_mm_movemask_epi8(sp);
#else
    unsigned m = 0;
    for (int k = 0; k < 16; k++)
        m |= (unsigned)(q[k] == '"' || q[k] == '\\' || q[k] < 0x20 || q[k] >= 0x80) << k;
    return m;
#endif
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
static mf_status lex_str_at(dd *d, size_t i, const char **s, size_t *n, bool *esc)
{
    const unsigned char *p = d->p;
    const size_t len = d->len, start = d->i + 1;
    bool e = false;
    for (;;) {
        unsigned m;
        if (i + 16 <= len) {
            m = special16(p + i);
        } else if (len >= 16) { /* the last 16 bytes, shifted so that bit 0 is byte i */
            m = special16(p + len - 16) >> (16 - (len - i));
            if (!m)
                return syn(d, start - 1, "unterminated string");
        } else {
            unsigned char tail[16] = {0}; /* the zero padding flags the end */
            memcpy(tail, p + i, len - i);
            m = special16(tail);
        }
        if (!m) { /* 16 plain bytes */
            i += 16;
            continue;
        }
        i += (size_t)__builtin_ctz(m);
        if (i >= len)
            return syn(d, start - 1, "unterminated string");
        unsigned char c = p[i];
        size_t k;
        if (c == '"')
            break;
        if (c == '\\')
            k = lex_escape(p, len, i), e = true;
        else if (c >= 0x80)
            k = mfw_utf8_seq(p + i, len - i);
        else
            k = 0; /* a control character */
        if (!k)
            return syn(d, i, "invalid string");
        i += k;
    }
    *s = (const char *)p + start;
    *n = i - start;
    *esc = e;
    d->i = i + 1;
    return MF_OK;
}

/*
 * The string whose opening quote is at d->i: checked, and d->i left after its
 * closing quote. *s and *n give the body as written (without the quotes);
 * *esc says whether it has escapes (then unescape() gives its value). Inline
 * for the common case: a plain string that ends within 16 bytes.
 */
static inline mf_status lex_str(dd *d, const char **s, size_t *n, bool *esc)
{
    const size_t start = d->i + 1;
    unsigned m;
    if (start + 16 <= d->len && (m = special16(d->p + start)) != 0) {
        const size_t i = start + (size_t)__builtin_ctz(m);
        if (d->p[i] == '"') {
            *s = (const char *)d->p + start;
            *n = i - start;
            *esc = false;
            d->i = i + 1;
            return MF_OK;
        }
        return lex_str_at(d, i, s, n, esc);
    }
    return lex_str_at(d, start, s, n, esc);
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
static size_t unescape(char *o, const char *s, size_t n)
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
static const char *str_value(dd *d, const char *s, size_t n, bool esc, bool terminate, size_t *out_n)
{
    if (!esc && !terminate) {
        *out_n = n;
        return s;
    }
    char *t = scratch(d, n);
    if (!t)
        return NULL;
    *out_n = esc ? unescape(t, s, n) : (memcpy(t, s, n), n);
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

typedef struct num {
    double v;
    bool canon; /* a plain integer of at most 15 digits: printed as written */
} num;

/*
 * The number at d->i: the strict JSON grammar (as the pre-scan), d->i left
 * after it. With `out`, its double: directly when the mantissa has at most
 * 19 significant digits, is at most 2^53 and the decimal exponent is within
 * +-22 (Clinger), else by strtod.
 */
static mf_status lex_num(dd *d, num *out)
{
    const unsigned char *p = d->p;
    const size_t s = d->i;
    size_t i = s;
    uint64_t m = 0;
    int nd = 0, e10 = 0;
    bool neg = at(d, i) == '-', frac_or_exp = false;
    i += neg;
    if (!(at(d, i) >= '0' && at(d, i) <= '9'))
        return syn(d, s, "invalid number");
    if (p[i] == '0') {
        i++;
        if (at(d, i) >= '0' && at(d, i) <= '9')
            return syn(d, s, "invalid number (leading zero)");
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
            return syn(d, s, "invalid number");
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
            return syn(d, s, "invalid number");
        for (; i < d->len && p[i] >= '0' && p[i] <= '9'; i++)
            ev = ev < 100000 ? ev * 10 + (p[i] - '0') : ev;
        e10 += es * ev;
    }
    unsigned char c = at(d, i);
    if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')
        return syn(d, s, "invalid number");
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
        return nomem(d);
    }
    return MF_OK;
}

/* The literal `lit` (n bytes) at d->i. */
static mf_status lex_lit(dd *d, const char *lit, size_t n)
{
    if (d->len - d->i < n || memcmp(d->p + d->i, lit, n) != 0)
        return syn(d, d->i, "invalid literal");
    d->i += n;
    return MF_OK;
}

static mf_status enter(dd *d)
{
    if (++d->depth > MF_MAX_DEPTH)
        return syn(d, d->i, "nesting too deep");
    return MF_OK;
}

/* ------------------------------------------------- raw values, skipping */

/*
 * A raw value is written as the reference prints it (mfw_print_raw), which
 * is the input itself wherever the input is already compact: the output is
 * the input with spans replaced (white space dropped, strings with escapes
 * re-escaped, numbers not written as the shortest round trip reprinted).
 * The sink tracks how far the input has been accounted for; text is copied
 * only when something is replaced, so a compact raw value costs one copy.
 */
typedef struct rsink {
    mf_buf b;      /* the output so far (empty while nothing was replaced) */
    size_t from;   /* input[from, d->i) still equals the output to come */
    bool dirty;    /* something was replaced: the output is b + input[from, end) */
} rsink;

/* Input [r->from, to) goes out as is, then text[0..n) replaces input [to, end). */
static mf_status replace(dd *d, rsink *r, size_t to, const char *text, size_t n, size_t end)
{
    if (mf_buf_append(&r->b, d->p + r->from, to - r->from) || (n && mf_buf_append(&r->b, text, n)))
        return nomem(d);
    r->from = end;
    r->dirty = true;
    return MF_OK;
}

/* White space at d->i: skipped (and dropped from the output). */
static inline mf_status rws(dd *d, rsink *r)
{
    const size_t i0 = d->i;
    ws(d);
    return r && d->i != i0 ? replace(d, r, i0, NULL, 0, d->i) : MF_OK;
}

static mf_status raw_value(dd *d, rsink *r);

/* A string at d->i (checked; with r, re-escaped when it has escapes). With
 * `key` (and r), a member name: its value is pushed as a frame, in *owned
 * when it had to be unescaped (the caller pops the frame and frees *owned). */
static mf_status raw_string(dd *d, rsink *r, bool key, char **owned)
{
    const size_t s0 = d->i;
    const char *s;
    size_t n;
    bool esc;
    mf_status st;
    if ((st = lex_str(d, &s, &n, &esc)) || !r)
        return st;
    if (!esc) { /* nothing in it needs an escape: it prints as written */
        if (key)
            mfw_push_keyn(&d->w, s, n);
        return MF_OK;
    }
    char *t = malloc(n + 1);
    if (!t)
        return nomem(d);
    size_t k = unescape(t, s, n);
    if (mf_buf_append(&r->b, d->p + r->from, s0 - r->from) || mfw_buf_put_string(&r->b, t, k)) {
        free(t);
        return nomem(d);
    }
    r->from = d->i;
    r->dirty = true;
    if (key) {
        mfw_push_keyn(&d->w, t, k);
        *owned = t;
    } else {
        free(t);
    }
    return MF_OK;
}

static mf_status raw_number(dd *d, rsink *r)
{
    const size_t s = d->i;
    num x;
    char tmp[32];
    mf_status st = lex_num(d, r ? &x : NULL);
    if (st || !r)
        return st;
    if (!isfinite(x.v))
        return mfw_fail(&d->w, MF_ERR_RANGE, "expected a finite number, found one too large for a double");
    return x.canon ? MF_OK : replace(d, r, s, tmp, mfw_fmt_double(tmp, x.v), d->i);
}

/* One member (name, ':' and value) or item of a raw container; with r, its
 * frame is pushed around the value. */
static mf_status raw_entry(dd *d, rsink *r, bool obj, size_t idx)
{
    char *owned = NULL;
    mf_status st = MF_OK;
    if (obj) {
        if (at(d, d->i) != '"')
            return syn(d, d->i, "expected a member name");
        if ((st = raw_string(d, r, true, &owned)))
            return st;
        if (!(st = rws(d, r))) {
            if (at(d, d->i) != ':')
                st = syn(d, d->i, "expected ':'");
            else
                d->i++;
        }
    } else if (r) {
        mfw_push_idx(&d->w, idx);
    }
    if (!st && !(st = rws(d, r)))
        st = raw_value(d, r);
    if (r)
        mfw_pop(&d->w);
    free(owned);
    return st;
}

/* The container whose opening byte is at d->i. */
static mf_status raw_container(dd *d, rsink *r)
{
    const bool obj = d->p[d->i] == '{';
    const unsigned char close = obj ? '}' : ']';
    mf_status st;
    if ((st = enter(d)))
        return st;
    d->i++;
    if ((st = rws(d, r)))
        return st;
    if (at(d, d->i) != close) {
        for (size_t idx = 0;; idx++) {
            if ((st = raw_entry(d, r, obj, idx)) || (st = rws(d, r)))
                return st;
            unsigned char c = at(d, d->i);
            if (c == close)
                break;
            if (c != ',')
                return syn(d, d->i, obj ? "expected ',' or '}'" : "expected ',' or ']'");
            d->i++;
            if ((st = rws(d, r)))
                return st;
        }
    }
    d->i++;
    d->depth--;
    return MF_OK;
}

/*
 * Any JSON value at d->i: with r, as the reference prints raw values
 * (compact; strings re-escaped; numbers by mfw_fmt_double, non-finite ones
 * refused with MF_ERR_RANGE at their pointer); without, only checked and
 * skipped.
 */
static mf_status raw_value(dd *d, rsink *r)
{
    unsigned char c = at(d, d->i);
    switch (c) {
    case '{':
    case '[':
        return raw_container(d, r);
    case '"':
        return raw_string(d, r, false, NULL);
    case 't':
        return lex_lit(d, "true", 4);
    case 'f':
        return lex_lit(d, "false", 5);
    case 'n':
        return lex_lit(d, "null", 4);
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return raw_number(d, r);
        return syn(d, d->i, "expected a value");
    }
}

static inline mf_status skip_value(dd *d)
{
    return raw_value(d, NULL);
}

mf_status mfw_json_check(const char *json, size_t len, mf_error *err)
{
    dd d;
    mf_status st;
    if (!json || len == 0)
        return mf_error_set(err, MF_ERR_SYNTAX, "", "invalid JSON at byte 0: the input is empty");
    if ((st = mfw_prescan((const unsigned char *)json, len, err)))
        return st;
    memset(&d, 0, offsetof(dd, w));
    d.p = (const unsigned char *)json;
    d.len = len;
    mfw_init(&d.w, err);
    ws(&d);
    if ((st = skip_value(&d))) /* after the pre-scan, only grammar errors (syn) */
        return st;
    ws(&d);
    if (d.i < len)
        return mf_error_set(err, MF_ERR_SYNTAX, "", "unexpected data after the JSON value at byte %zu", d.i);
    return MF_OK;
}

/* ------------------------------------------------------------ the walker */

static mf_status dv(dd *d, const mf_type *t, void *dst);

/* What the value at d->i is, for messages; NULL when it is no value. */
static const char *found_name(unsigned char c)
{
    switch (c) {
    case '{': return mfw_jtype_name(MFW_J_OBJ);
    case '[': return mfw_jtype_name(MFW_J_ARR);
    case '"': return mfw_jtype_name(MFW_J_STR);
    case 't':
    case 'f': return mfw_jtype_name(MFW_J_BOOL);
    case 'n': return mfw_jtype_name(MFW_J_NULL);
    }
    return c == '-' || (c >= '0' && c <= '9') ? mfw_jtype_name(MFW_J_NUM) : NULL;
}

/* The value at d->i is not a t: MF_ERR_TYPE naming what it is. */
static mf_status type_error(dd *d, const mf_type *t)
{
    const char *f = found_name(at(d, d->i));
    if (!f)
        return syn(d, d->i, "expected a value");
    return mfw_fail(&d->w, MF_ERR_TYPE, "expected %s, found %s", mfw_kind_name(t), f);
}

static mf_status dnumber(dd *d, const mf_type *t, void *dst)
{
    num x;
    char tmp[32];
    mf_status st;
    if ((st = lex_num(d, &x)))
        return st;
    const double v = x.v;
    if (t->kind == MF_K_NUM) {
        *(double *)dst = v;
        return mfw_check_num(&d->w, t, v);
    }
    if (!isfinite(v))
        return mfw_fail(&d->w, MF_ERR_RANGE, "expected an integer, found a number too large for a double");
    if (v != trunc(v)) {
        mfw_fmt_double(tmp, v);
        return mfw_fail(&d->w, MF_ERR_RANGE, "expected an integer, found %s", tmp);
    }
    if (fabs(v) >= (double)MF_MAX_SAFE_INT) {
        mfw_fmt_double(tmp, v);
        return mfw_fail(&d->w, MF_ERR_RANGE, "expected an integer of magnitude below 2^53, found %s", tmp);
    }
    *(int64_t *)dst = (int64_t)v;
    return mfw_check_int(&d->w, t, (int64_t)v);
}

static mf_status dstr(dd *d, const mf_type *t, char **dst)
{
    const char *s;
    size_t n;
    bool esc;
    mf_status st;
    if ((st = lex_str(d, &s, &n, &esc)))
        return st;
    char *o = malloc(n + 1);
    if (!o)
        return nomem(d);
    if (esc)
        n = unescape(o, s, n);
    else
        memcpy(o, s, n);
    o[n] = '\0';
    if ((t->min_len | t->max_len | (uint32_t)t->format | (t->flags & MF_TF_HAS_CONST)) || t->pattern) {
        if ((st = mfw_check_str(&d->w, t, o, n))) {
            free(o);
            return st;
        }
    }
    *dst = o;
    return MF_OK;
}

static mf_status denum(dd *d, const mf_type *t, int *dst)
{
    const char *s;
    size_t n;
    bool esc;
    mf_status st;
    if ((st = lex_str(d, &s, &n, &esc)))
        return st;
    if (esc && !(s = str_value(d, s, n, esc, false, &n)))
        return nomem(d);
    *dst = mfw_enum_lookup(&d->w, t, s, n, &st);
    return st;
}

static mf_status draw(dd *d, const mf_type *t, char **dst)
{
    rsink r = {MF_BUF_INIT, d->i, false};
    mf_status st;
    if ((t->flags & MF_TF_RAW_OBJECT) && at(d, d->i) != '{')
        return type_error(d, t);
    if ((st = raw_value(d, &r)))
        goto out;
    if (!r.dirty) { /* compact already: the input as it is */
        const size_t n = d->i - r.from;
        char *o = malloc(n + 1);
        if (!o) {
            st = nomem(d);
            goto out;
        }
        memcpy(o, d->p + r.from, n);
        o[n] = '\0';
        *dst = o;
    } else if ((st = replace(d, &r, d->i, NULL, 0, d->i)) == MF_OK) {
        *dst = mf_buf_detach(&r.b, NULL);
    }
out:
    mf_buf_free(&r.b);
    return st;
}

/* ----------------------------------------------------------------- objects */

/* Members usually come in schema order: the one after the previous match is
 * tried first (a first-byte compare, then strncmp), then the rest. k[0..n)
 * holds no NUL, so strncmp == 0 proves the name has n bytes before its NUL. */
static inline uint32_t find_field(const mf_type *t, const char *k, size_t n, uint32_t hint)
{
    const mf_field *f = t->fields;
    const uint32_t nf = t->field_count;
    const char c = n ? k[0] : '\0';
    for (uint32_t j = hint; j < nf; j++)
        if (f[j].name[0] == c && strncmp(f[j].name, k, n) == 0 && f[j].name[n] == '\0')
            return j;
    for (uint32_t j = 0; j < hint && j < nf; j++)
        if (f[j].name[0] == c && strncmp(f[j].name, k, n) == 0 && f[j].name[n] == '\0')
            return j;
    return UINT32_MAX;
}

/* An unknown member of a closed object, or a duplicate one (name k[0..n)). */
static mf_status member_error(dd *d, const mf_type *t, mf_status code, const char *k, size_t n)
{
    char e[MFW_ECHO_CAP];
    char *name = malloc(n + 1);
    if (!name)
        return nomem(d);
    memcpy(name, k, n);
    name[n] = '\0';
    if (code == MF_ERR_UNKNOWN_FIELD)
        mfw_fail_member(&d->w, code, name, "unexpected member \"%s\": %s allows no other members",
                        mfw_echo(e, sizeof e, k, n), t->name ? t->name : "the object");
    else
        mfw_fail_member(&d->w, code, name, "duplicate member \"%s\"", mfw_echo(e, sizeof e, k, n));
    free(name);
    return code;
}

/* A member's value; null sets <x>_is_null where allowed (a raw member
 * without that flag takes null as its text). */
static mf_status dfield(dd *d, const mf_field *f, char *base)
{
    if (at(d, d->i) == 'n' && (f->null_offset >= 0 || f->type->kind != MF_K_RAW)) {
        mf_status st = lex_lit(d, "null", 4);
        if (st)
            return st;
        if (f->null_offset >= 0) {
            *(bool *)(base + f->null_offset) = true;
            return MF_OK;
        }
        return mfw_fail(&d->w, MF_ERR_TYPE, "expected %s, found null", mfw_kind_name(f->type));
    }
    return dv(d, f->type, base + f->offset);
}

typedef struct objstate {
    uint64_t *seen; /* members met, by field index */
    uint32_t hint;  /* the field after the last one met */
    uint32_t nseen;
} objstate;

/* One member at d->i: name, ':', value. */
static mf_status dmember(dd *d, const mf_type *t, char *base, objstate *o)
{
    const char *k;
    size_t n;
    bool esc;
    mf_status st;
    if (at(d, d->i) != '"')
        return syn(d, d->i, "expected a member name");
    if ((st = lex_str(d, &k, &n, &esc)))
        return st;
    if (esc && !(k = str_value(d, k, n, esc, false, &n)))
        return nomem(d);
    ws(d);
    if (at(d, d->i) != ':')
        return syn(d, d->i, "expected ':'");
    d->i++;
    ws(d);
    uint32_t j = find_field(t, k, n, o->hint);
    if (j == UINT32_MAX)
        return (t->flags & MF_TF_CLOSED) ? member_error(d, t, MF_ERR_UNKNOWN_FIELD, k, n) : skip_value(d);
    uint64_t bit = 1ull << (j % 64);
    if (o->seen[j / 64] & bit)
        return member_error(d, t, MF_ERR_DUPLICATE, k, n);
    o->seen[j / 64] |= bit;
    o->nseen++;
    o->hint = j + 1;
    const mf_field *f = &t->fields[j];
    mfw_push_key(&d->w, f->name);
    st = dfield(d, f, base);
    mfw_pop(&d->w);
    if (!st && f->has_offset >= 0)
        *(bool *)(base + f->has_offset) = true;
    return st;
}

/* After the members: required ones present, string defaults filled in. */
static mf_status dobj_finish(dd *d, const mf_type *t, char *base, const objstate *o)
{
    const uint32_t nf = t->field_count;
    for (uint32_t j = 0; j < nf && o->nseen < nf; j++) {
        if (o->seen[j / 64] & (1ull << (j % 64)))
            continue;
        const mf_field *f = &t->fields[j];
        if (f->required)
            return mfw_fail_member(&d->w, MF_ERR_REQUIRED, f->name, "missing required member \"%s\"", f->name);
        if (f->has_default && f->type->kind == MF_K_STR && f->def.s) {
            char **slot = (char **)(base + f->offset);
            if (!*slot && !(*slot = strdup(f->def.s)))
                return nomem(d);
        }
    }
    return MF_OK;
}

static mf_status dobj(dd *d, const mf_type *t, char *base)
{
    uint64_t small[4] = {0, 0, 0, 0};
    objstate o = {small, 0, 0};
    mf_status st = MF_OK;
    if (t->field_count > 256 && !(o.seen = calloc((t->field_count + 63) / 64, sizeof *o.seen)))
        return nomem(d);
    d->i++;
    ws(d);
    if (at(d, d->i) == '}') {
        d->i++;
    } else {
        for (;;) {
            if ((st = dmember(d, t, base, &o)))
                goto out;
            ws(d);
            unsigned char c = at(d, d->i++);
            if (c == '}')
                break;
            if (c != ',') {
                st = syn(d, d->i - 1, "expected ',' or '}'");
                goto out;
            }
            ws(d);
        }
    }
    st = dobj_finish(d, t, base, &o);
out:
    if (o.seen != small)
        free(o.seen);
    return st;
}

/* ------------------------------------------------------- arrays and maps */

/*
 * The value at d->i, decoded into slot under the frame of index idx (or of
 * key, when not NULL). The reference checks an array's item count and a
 * map's keys before any of its values, so a schema error here is kept in
 * *vst and the value skipped, and the caller reads the rest of the
 * container before it reports the error. Returned: a syntax error or
 * MF_ERR_NOMEM, which end the decode at once.
 */
static mf_status dslot(dd *d, const mf_type *t, void *slot, size_t idx, const char *key, mf_status *vst)
{
    const size_t v0 = d->i;
    const unsigned dep = d->depth;
    if (key)
        mfw_push_key(&d->w, key);
    else
        mfw_push_idx(&d->w, idx);
    mf_status st = dv(d, t, slot);
    mfw_pop(&d->w);
    if (!st)
        return MF_OK;
    if (d->syn || st == MF_ERR_NOMEM)
        return st;
    *vst = st;
    d->i = v0;
    d->depth = dep;
    return skip_value(d);
}

/* Room for one more item of isz bytes in *items (capacity *cap). */
static mf_status grow(dd *d, void **items, size_t *cap, size_t isz)
{
    size_t ncap = *cap ? *cap * 2 : 4;
    if (ncap > SIZE_MAX / isz)
        return nomem(d);
    void *p = realloc(*items, ncap * isz);
    if (!p)
        return nomem(d);
    *items = p;
    *cap = ncap;
    return MF_OK;
}

/* The next item, into a new slot (initialised first: freeable at any point). */
static mf_status ditem(dd *d, const mf_type *it, mf_array *a, size_t *cap, mf_status *vst)
{
    const size_t n = a->count;
    mf_status st;
    if (n == *cap && (st = grow(d, &a->items, cap, it->size)))
        return st;
    char *slot = (char *)a->items + n * it->size;
    mf_init(it, slot);
    a->count = n + 1;
    return dslot(d, it, slot, n, NULL, vst);
}

static mf_status darr(dd *d, const mf_type *t, mf_array *a)
{
    size_t cap = 0, total = 0;
    mf_status st, vst = MF_OK;
    d->i++;
    ws(d);
    if (at(d, d->i) == ']') {
        d->i++;
    } else {
        for (;;) {
            total++;
            if ((st = vst ? skip_value(d) : ditem(d, t->item, a, &cap, &vst)))
                return st;
            ws(d);
            unsigned char c = at(d, d->i++);
            if (c == ']')
                break;
            if (c != ',')
                return syn(d, d->i - 1, "expected ',' or ']'");
            ws(d);
        }
    }
    if ((st = mfw_check_count(&d->w, t, total)) || vst)
        return st ? st : vst;
    return (t->flags & MF_TF_UNIQUE) ? mfw_check_unique(&d->w, t, a) : MF_OK;
}

/* The next member of a map: its name into a new key, its value into a new slot. */
static mf_status dentry(dd *d, const mf_type *t, mf_map *m, size_t *cap, mf_status *vst)
{
    const mf_type *it = t->item;
    const size_t n = m->count;
    const char *k;
    size_t kn;
    bool esc;
    mf_status st;
    if (at(d, d->i) != '"')
        return syn(d, d->i, "expected a member name");
    if ((st = lex_str(d, &k, &kn, &esc)))
        return st;
    if (n == *cap) {
        size_t kcap = *cap;
        if ((st = grow(d, (void **)&m->keys, &kcap, sizeof *m->keys)) ||
            (st = grow(d, &m->values, cap, it->size)))
            return st;
    }
    char *key = malloc(kn + 1);
    if (!key)
        return nomem(d);
    kn = esc ? unescape(key, k, kn) : (memcpy(key, k, kn), kn);
    key[kn] = '\0';
    m->keys[n] = key;
    char *slot = (char *)m->values + n * it->size;
    mf_init(it, slot);
    m->count = n + 1;
    ws(d);
    if (at(d, d->i) != ':')
        return syn(d, d->i, "expected ':'");
    d->i++;
    ws(d);
    return *vst ? skip_value(d) : dslot(d, it, slot, 0, key, vst);
}

static mf_status dmap(dd *d, const mf_type *t, mf_map *m)
{
    size_t cap = 0;
    mf_status st, vst = MF_OK;
    char e[MFW_ECHO_CAP];
    d->i++;
    ws(d);
    if (at(d, d->i) == '}') {
        d->i++;
    } else {
        for (;;) {
            if ((st = dentry(d, t, m, &cap, &vst)))
                return st;
            ws(d);
            unsigned char c = at(d, d->i++);
            if (c == '}')
                break;
            if (c != ',')
                return syn(d, d->i - 1, "expected ',' or '}'");
            ws(d);
        }
    }
    if ((st = mfw_check_count(&d->w, t, m->count)))
        return st;
    const char *dup = mfw_dup_key((const char *const *)m->keys, m->count, &st);
    if (st)
        return nomem(d);
    if (dup)
        return mfw_fail_member(&d->w, MF_ERR_DUPLICATE, dup, "duplicate member \"%s\"",
                               mfw_echo(e, sizeof e, dup, strlen(dup)));
    return vst;
}

/* ------------------------------------------------------------------ unions */

/* Decodes the value at d->i as t into a scratch value that is freed again;
 * the position, depth and frames are restored. MF_OK when the value is a
 * valid t, else the reason in *e (d->syn: a syntax error, which ends the
 * decode). */
static mf_status trial(dd *d, const mf_type *t, mf_error *e)
{
    const size_t i0 = d->i;
    const unsigned depth = d->depth, nfr = d->w.nfr;
    mf_error *saved = d->w.err;
    void *v = malloc(t->size ? t->size : 1);
    if (!v)
        return nomem(d);
    mf_init(t, v);
    d->w.err = e;
    mf_status st = dv(d, t, v);
    d->w.err = saved;
    d->i = i0;
    d->depth = depth;
    d->w.nfr = nfr;
    mf_free(t, v);
    free(v);
    return st;
}

/* An object for a union whose object branches are told apart by trying
 * them: oneOf needs exactly one to match, anyOf takes the first. */
static mf_status dunion_try(dd *d, const mf_type *t, int *pick)
{
    const bool any = (t->flags & MF_TF_ANY_OF) != 0;
    int best_i = -1;
    mf_error best, e;
    memset(&best, 0, sizeof best);
    *pick = -1;
    for (uint32_t i = 0; i < t->branch_count; i++) {
        const mf_type *b = t->branches[i];
        if (b->kind != MF_K_OBJ && b->kind != MF_K_MAP)
            continue;
        mf_status st = trial(d, b, &e);
        if (d->syn)
            return st;
        if (st == MF_ERR_NOMEM)
            return nomem(d);
        if (st) {
            mfw_keep_closest(&best, &best_i, &e, (int)i);
            continue;
        }
        if (*pick >= 0)
            return mfw_union_two(&d->w, t, *pick, (int)i);
        *pick = (int)i;
        if (any)
            break;
    }
    return *pick < 0 ? mfw_union_none(&d->w, t, &best, best_i) : MF_OK;
}

/* The position of the value of the first member named `name` of the object
 * at d->i (SIZE_MAX: none); the position is restored. */
static mf_status find_member(dd *d, const char *name, size_t *vpos)
{
    const size_t i0 = d->i;
    const unsigned dep = d->depth;
    const size_t nl = strlen(name);
    mf_status st = MF_OK;
    *vpos = SIZE_MAX;
    d->i++;
    ws(d);
    while (at(d, d->i) != '}') {
        const char *k;
        size_t n;
        bool esc;
        if (at(d, d->i) != '"') {
            st = syn(d, d->i, "expected a member name");
            break;
        }
        if ((st = lex_str(d, &k, &n, &esc)))
            break;
        if (esc && !(k = str_value(d, k, n, esc, false, &n))) {
            st = nomem(d);
            break;
        }
        ws(d);
        if (at(d, d->i) != ':') {
            st = syn(d, d->i, "expected ':'");
            break;
        }
        d->i++;
        ws(d);
        if (n == nl && memcmp(k, name, n) == 0) {
            *vpos = d->i;
            break;
        }
        if ((st = skip_value(d)))
            break;
        ws(d);
        if (at(d, d->i) == ',') {
            d->i++;
            ws(d);
        } else if (at(d, d->i) != '}') {
            st = syn(d, d->i, "expected ',' or '}'");
            break;
        }
    }
    d->i = i0;
    d->depth = dep;
    return st;
}

/* The string at d->i, NUL-terminated in d->tmp; the position is restored. */
static mf_status peek_string(dd *d, const char **v)
{
    const size_t i0 = d->i;
    const char *s;
    size_t n;
    bool esc;
    mf_status st = lex_str(d, &s, &n, &esc);
    d->i = i0;
    if (st)
        return st;
    if (!(*v = str_value(d, s, n, esc, true, &n)))
        return nomem(d);
    return MF_OK;
}

/* The branch of an object chosen by the discriminator member. */
static mf_status pick_by_disc(dd *d, const mf_type *t, int *pick)
{
    size_t vpos;
    const char *v;
    mf_status st;
    if ((st = find_member(d, t->discriminator, &vpos)))
        return st;
    if (vpos == SIZE_MAX)
        return mfw_fail_member(&d->w, MF_ERR_REQUIRED, t->discriminator,
                               "missing required member \"%s\" (it selects the alternative)", t->discriminator);
    const size_t i0 = d->i;
    d->i = vpos;
    if (at(d, vpos) != '"') {
        const char *f = found_name(at(d, vpos));
        mfw_push_key(&d->w, t->discriminator);
        st = f ? mfw_fail(&d->w, MF_ERR_TYPE, "expected a string, found %s", f) : syn(d, vpos, "expected a value");
        mfw_pop(&d->w);
    } else if (!(st = peek_string(d, &v)) && (*pick = mfw_union_pick_disc(t, v)) < 0) {
        st = mfw_disc_error(&d->w, t, v);
    }
    d->i = i0;
    return st;
}

/* The branch for the value at d->i, by its JSON type (see mfw_union_pick). */
static mf_status union_pick(dd *d, const mf_type *t, int *pick)
{
    const unsigned char c = at(d, d->i);
    mf_status st;
    if (c == '{') {
        uint32_t cnt;
        if (mfw_union_tries(t))
            return dunion_try(d, t, pick);
        *pick = mfw_union_pick_object(t, &cnt);
        return cnt > 1 && t->discriminator && t->disc_values ? pick_by_disc(d, t, pick) : MF_OK;
    }
    if (c == '"') {
        const char *v;
        if ((st = peek_string(d, &v)))
            return st;
        *pick = mfw_union_pick(t, MFW_J_STR, 0, v);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        const size_t i0 = d->i;
        num x;
        if ((st = lex_num(d, &x)))
            return st;
        d->i = i0;
        *pick = mfw_union_pick(t, MFW_J_NUM, x.v, NULL);
    } else {
        *pick = mfw_union_pick(t, c == '[' ? MFW_J_ARR : c == 'n' ? MFW_J_NULL : MFW_J_BOOL, 0, NULL);
    }
    return MF_OK;
}

static mf_status dunion(dd *d, const mf_type *t, char *base)
{
    int pick = -1;
    mf_status st;
    const char *f = found_name(at(d, d->i));
    if (!f)
        return syn(d, d->i, "expected a value");
    if ((st = union_pick(d, t, &pick)))
        return st;
    if (pick < 0)
        return mfw_union_error(&d->w, t, f);
    const mf_type *b = t->branches[pick];
    mf_init(b, base + t->branch_offset);
    *(int *)base = pick + 1;
    return dv(d, b, base + t->branch_offset);
}

/* ------------------------------------------------------------ any value */

static mf_status dvalue(dd *d, const mf_type *t, void *dst)
{
    const unsigned char c = at(d, d->i);
    mf_status st;
    switch (t->kind) {
    case MF_K_BOOL:
        if (c != 't' && c != 'f')
            return type_error(d, t);
        if ((st = c == 't' ? lex_lit(d, "true", 4) : lex_lit(d, "false", 5)))
            return st;
        *(bool *)dst = c == 't';
        return mfw_check_bool(&d->w, t, c == 't');
    case MF_K_INT:
    case MF_K_NUM:
        if (c != '-' && !(c >= '0' && c <= '9'))
            return type_error(d, t);
        return dnumber(d, t, dst);
    case MF_K_STR:
        return c == '"' ? dstr(d, t, dst) : type_error(d, t);
    case MF_K_ENUM:
        return c == '"' ? denum(d, t, dst) : type_error(d, t);
    case MF_K_OBJ:
    case MF_K_ARR:
    case MF_K_MAP: /* containers: one nesting level each */
        if (c != (t->kind == MF_K_ARR ? '[' : '{'))
            return type_error(d, t);
        if ((st = enter(d)))
            return st;
        st = t->kind == MF_K_OBJ ? dobj(d, t, dst) : t->kind == MF_K_ARR ? darr(d, t, dst) : dmap(d, t, dst);
        d->depth--;
        return st;
    case MF_K_RAW:
        return draw(d, t, dst);
    case MF_K_UNION: /* adds no JSON nesting */
        return dunion(d, t, dst);
    }
    return mfw_fail(&d->w, MF_ERR_INVALID_ARG, "descriptor %s has an unknown kind %d", t->name ? t->name : "?",
                    (int)t->kind);
}

/* `not` is checked first, by a trial decode of the value as t->not_type. */
static mf_status dv(dd *d, const mf_type *t, void *dst)
{
    if (t->not_type) {
        mf_error e;
        mf_status st = trial(d, t->not_type, &e);
        if (d->syn)
            return st;
        if (st == MF_ERR_NOMEM)
            return nomem(d);
        if (st == MF_OK)
            return mfw_not_error(&d->w, t);
    }
    return dvalue(d, t, dst);
}

mf_status mf_decode(const mf_type *t, const char *json, size_t len, void *out, mf_error *err)
{
    dd d;
    mf_status st;
    mf_error_clear(err);
    if (!t || !out)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "mf_decode: NULL descriptor or output");
    mf_init(t, out);
    if (!json || len == 0)
        return mf_error_set(err, MF_ERR_SYNTAX, "", "invalid JSON at byte 0: the input is empty");
    d.p = (const unsigned char *)json;
    d.len = len;
    d.i = 0;
    d.depth = 0;
    d.syn = false;
    d.tmp = d.small;
    d.tmpcap = sizeof d.small;
    mfw_init(&d.w, err);
    ws(&d);
    if (!(st = dv(&d, t, out))) {
        ws(&d);
        if (d.i < len)
            st = syn(&d, d.i, "unexpected data after the JSON value");
    }
    if (d.tmp != d.small)
        free(d.tmp);
    if (st) {
        mf_free(t, out);
        if (st != MF_ERR_NOMEM) {
            /* the reference's verdict: a syntax error anywhere comes first */
            mf_error e;
            mf_status js = mfw_json_check(json, len, &e);
            if (js) {
                if (err)
                    *err = e;
                st = js;
            }
        }
    }
    return st;
}
