/*
 * check.c - the constraint checks shared by decode.c, validate.c and
 * encode.c, and the lazily rendered JSON pointers of their errors.
 *
 * Also the JSON front end (prescan + cJSON parse, see decode.c's header),
 * used by the decoder and by the validator's check of raw members.
 *
 * Each rule of mf/codec.h is written here once. The decoder calls these on
 * values it just read from JSON, the validator on values built in C, so both
 * directions accept exactly the same values.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "codec/codec_int.h"
#include "codec/walk.h"

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

/* ------------------------------------------------------------------ unions */

const char *mfw_jtype_name(mfw_jtype jt)
{
    switch (jt) {
    case MFW_J_BOOL: return "a boolean";
    case MFW_J_NUM: return "a number";
    case MFW_J_STR: return "a string";
    case MFW_J_ARR: return "an array";
    case MFW_J_OBJ: return "an object";
    case MFW_J_NULL: return "null";
    }
    return "an unknown value";
}

static int first_of(const mf_type *t, mf_kind k)
{
    for (uint32_t i = 0; i < t->branch_count; i++)
        if (t->branches[i]->kind == k)
            return (int)i;
    return -1;
}

int mfw_union_pick(const mf_type *t, mfw_jtype jt, double num, const char *str)
{
    int pick = -1;
    switch (jt) {
    case MFW_J_BOOL:
        return first_of(t, MF_K_BOOL);
    case MFW_J_NUM: {
        bool integral = isfinite(num) && num == trunc(num) && fabs(num) < (double)MF_MAX_SAFE_INT;
        if ((pick = first_of(t, integral ? MF_K_INT : MF_K_NUM)) < 0) /* the other kind reports why */
            for (uint32_t i = 0; i < t->branch_count && pick < 0; i++)
                if (t->branches[i]->kind == MF_K_INT || t->branches[i]->kind == MF_K_NUM)
                    pick = (int)i;
        return pick;
    }
    case MFW_J_STR:
        for (uint32_t i = 0; i < t->branch_count && pick < 0; i++) {
            const mf_type *b = t->branches[i];
            if (b->kind == MF_K_ENUM)
                for (uint32_t k = 0; k < b->enum_count; k++)
                    if (strcmp(b->enum_values[k], str) == 0)
                        pick = (int)i;
        }
        if (pick < 0)
            pick = first_of(t, MF_K_STR);
        return pick >= 0 ? pick : first_of(t, MF_K_ENUM); /* an enum reports the allowed values */
    case MFW_J_ARR:
        return first_of(t, MF_K_ARR);
    default:
        return -1;
    }
}

int mfw_union_pick_object(const mf_type *t, uint32_t *count)
{
    int pick = -1;
    *count = 0;
    for (uint32_t i = 0; i < t->branch_count; i++) {
        mf_kind k = t->branches[i]->kind;
        if (k == MF_K_OBJ || k == MF_K_MAP || k == MF_K_RAW) {
            if (pick < 0)
                pick = (int)i;
            (*count)++;
        }
    }
    return pick;
}

int mfw_union_pick_disc(const mf_type *t, const char *value)
{
    for (uint32_t i = 0; i < t->branch_count; i++) {
        mf_kind k = t->branches[i]->kind;
        if ((k == MF_K_OBJ || k == MF_K_MAP || k == MF_K_RAW) && t->disc_values[i] &&
            strcmp(t->disc_values[i], value) == 0)
            return (int)i;
    }
    return -1;
}

mf_status mfw_union_error(mfw *w, const mf_type *t, const char *found)
{
    char list[160];
    size_t o = 0;
    list[0] = '\0';
    for (uint32_t i = 0; i < t->branch_count && o < sizeof list - 40; i++) {
        int k = snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", mfw_kind_name(t->branches[i]));
        if (k > 0)
            o += (size_t)k;
    }
    return mfw_fail(w, MF_ERR_UNION, "expected one of: %s; found %s", list, found);
}

mf_status mfw_disc_error(mfw *w, const mf_type *t, const char *value)
{
    char list[160], e[MFW_ECHO_CAP];
    size_t o = 0;
    list[0] = '\0';
    for (uint32_t i = 0; i < t->branch_count && o < sizeof list - 40; i++) {
        if (!t->disc_values[i])
            continue;
        int k = snprintf(list + o, sizeof list - o, "%s\"%s\"", o ? ", " : "", t->disc_values[i]);
        if (k > 0)
            o += (size_t)k;
    }
    return mfw_fail_member(w, MF_ERR_UNION, t->discriminator, "expected one of %s, found \"%s\"", list,
                           mfw_echo(e, sizeof e, value, strlen(value)));
}

mf_status mfw_union_none(mfw *w, const mf_type *t, const mf_error *best, int best_i)
{
    if (best_i < 0)
        return mfw_fail(w, MF_ERR_UNION, "expected one of the alternatives, found an object");
    if (w->err)
        mf_error_set(w->err, MF_ERR_UNION, best->pointer, "no alternative matches; closest, %u (%.48s): %.160s",
                     (unsigned)best_i + 1, t->branches[best_i]->name ? t->branches[best_i]->name : "?",
                     best->message);
    return MF_ERR_UNION;
}

mf_status mfw_union_two(mfw *w, const mf_type *t, int a, int b)
{
    return mfw_fail(w, MF_ERR_UNION, "expected exactly one alternative to match (oneOf), found two: "
                                     "%u (%s) and %u (%s)", (unsigned)a + 1,
                    t->branches[a]->name ? t->branches[a]->name : "?", (unsigned)b + 1,
                    t->branches[b]->name ? t->branches[b]->name : "?");
}

mf_status mfw_not_error(mfw *w, const mf_type *t)
{
    return mfw_fail(w, MF_ERR_UNION, "expected a value that is not %s (%s), found one",
                    mfw_kind_name(t->not_type), t->not_type->name ? t->not_type->name : "not");
}

/* ------------------------------------------------------------- map keys */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

const char *mfw_dup_key(const char *const *keys, size_t cnt, mf_status *st)
{
    *st = MF_OK;
    if (cnt <= 16) {
        for (size_t i = 1; i < cnt; i++)
            for (size_t j = 0; j < i; j++)
                if (strcmp(keys[i], keys[j]) == 0)
                    return keys[i];
        return NULL;
    }
    const char **sorted = malloc(cnt * sizeof *sorted);
    const char *d = NULL;
    if (!sorted) {
        *st = MF_ERR_NOMEM;
        return NULL;
    }
    memcpy(sorted, keys, cnt * sizeof *sorted);
    qsort(sorted, cnt, sizeof *sorted, cmp_str);
    for (size_t i = 1; i < cnt && !d; i++)
        if (strcmp(sorted[i], sorted[i - 1]) == 0)
            d = sorted[i];
    free(sorted);
    return d;
}

/* -------------------------------------------------------------- the checks */

/* multipleOf: an integral m divides an integral v exactly; otherwise v / m
 * must be within 1e-9 of an integer (0.07 is a multiple of 0.01 although
 * 0.07 / 0.01 is 7.000000000000001 in binary floating point). */
static bool is_multiple(double v, double m)
{
    if (m == trunc(m) && v == trunc(v) && fabs(m) < (double)MF_MAX_SAFE_INT && fabs(v) < (double)MF_MAX_SAFE_INT)
        return (int64_t)v % (int64_t)m == 0;
    double q = v / m;
    return isfinite(q) && fabs(q - nearbyint(q)) <= 1e-9;
}

static mf_status check_multiple(mfw *w, const mf_type *t, double v)
{
    char a[32], b[32];
    if (t->multiple_of <= 0 || is_multiple(v, t->multiple_of))
        return MF_OK;
    mfw_fmt_double(a, t->multiple_of);
    mfw_fmt_double(b, v);
    return mfw_fail(w, MF_ERR_RANGE, "expected a multiple of %s, found %s", a, b);
}

/* An enum of integers: v must be one of t->int_values. */
static mf_status check_int_enum(mfw *w, const mf_type *t, int64_t v)
{
    char list[120];
    size_t o = 0;
    for (uint32_t i = 0; i < t->int_value_count; i++)
        if (t->int_values[i] == v)
            return MF_OK;
    list[0] = '\0';
    for (uint32_t i = 0; i < t->int_value_count && o < sizeof list - 32; i++) {
        int k = snprintf(list + o, sizeof list - o, "%s%lld", i ? ", " : "", (long long)t->int_values[i]);
        if (k > 0)
            o += (size_t)k;
    }
    if (o >= sizeof list - 32 && t->int_value_count > 1)
        snprintf(list + o, sizeof list - o, ", ...");
    return mfw_fail(w, MF_ERR_ENUM, "expected one of %s, found %lld", list, (long long)v);
}

mf_status mfw_check_unique(mfw *w, const mf_type *t, const mf_array *a)
{
    const size_t isz = t->item->size;
    const char *items = (const char *)a->items;
    for (size_t j = 1; j < a->count; j++)
        for (size_t i = 0; i < j; i++)
            if (mf_equal(t->item, items + i * isz, items + j * isz)) {
                mfw_push_idx(w, j);
                mf_status st = mfw_fail(w, MF_ERR_DUPLICATE, "expected unique items, found item %zu "
                                                             "equal to item %zu", j, i);
                mfw_pop(w);
                return st;
            }
    return MF_OK;
}

mf_status mfw_check_int(mfw *w, const mf_type *t, int64_t v)
{
    if (v >= MF_MAX_SAFE_INT || v <= -MF_MAX_SAFE_INT)
        return mfw_fail(w, MF_ERR_RANGE,
                        "expected an integer of magnitude below 2^53, found %lld", (long long)v);
    if (t->flags & MF_TF_HAS_MIN) {
        if ((t->flags & MF_TF_EXCL_MIN) ? v <= t->imin : v < t->imin)
            return mfw_fail(w, MF_ERR_RANGE, "expected an integer %s %lld, found %lld",
                            (t->flags & MF_TF_EXCL_MIN) ? "greater than" : "of at least",
                            (long long)t->imin, (long long)v);
    }
    if (t->flags & MF_TF_HAS_MAX) {
        if ((t->flags & MF_TF_EXCL_MAX) ? v >= t->imax : v > t->imax)
            return mfw_fail(w, MF_ERR_RANGE, "expected an integer %s %lld, found %lld",
                            (t->flags & MF_TF_EXCL_MAX) ? "less than" : "of at most",
                            (long long)t->imax, (long long)v);
    }
    if ((t->flags & MF_TF_HAS_CONST) && v != t->constant.i)
        return mfw_fail(w, MF_ERR_CONST, "expected the constant %lld, found %lld",
                        (long long)t->constant.i, (long long)v);
    if (t->int_value_count)
        return check_int_enum(w, t, v);
    return check_multiple(w, t, (double)v);
}

mf_status mfw_check_num(mfw *w, const mf_type *t, double v)
{
    char a[32], b[32];
    if (!isfinite(v))
        return mfw_fail(w, MF_ERR_RANGE, "expected a finite number, found %s",
                        isnan(v) ? "NaN" : v > 0 ? "infinity (or a number too large for a double)"
                                                 : "-infinity (or a number too large for a double)");
    if (t->flags & MF_TF_HAS_MIN) {
        if ((t->flags & MF_TF_EXCL_MIN) ? v <= t->nmin : v < t->nmin) {
            mfw_fmt_double(a, t->nmin);
            mfw_fmt_double(b, v);
            return mfw_fail(w, MF_ERR_RANGE, "expected a number %s %s, found %s",
                            (t->flags & MF_TF_EXCL_MIN) ? "greater than" : "of at least", a, b);
        }
    }
    if (t->flags & MF_TF_HAS_MAX) {
        if ((t->flags & MF_TF_EXCL_MAX) ? v >= t->nmax : v > t->nmax) {
            mfw_fmt_double(a, t->nmax);
            mfw_fmt_double(b, v);
            return mfw_fail(w, MF_ERR_RANGE, "expected a number %s %s, found %s",
                            (t->flags & MF_TF_EXCL_MAX) ? "less than" : "of at most", a, b);
        }
    }
    if ((t->flags & MF_TF_HAS_CONST) && v != t->constant.n) {
        mfw_fmt_double(a, t->constant.n);
        mfw_fmt_double(b, v);
        return mfw_fail(w, MF_ERR_CONST, "expected the constant %s, found %s", a, b);
    }
    return check_multiple(w, t, v);
}

mf_status mfw_check_bool(mfw *w, const mf_type *t, bool v)
{
    if ((t->flags & MF_TF_HAS_CONST) && v != t->constant.b)
        return mfw_fail(w, MF_ERR_CONST, "expected the constant %s, found %s",
                        t->constant.b ? "true" : "false", v ? "true" : "false");
    return MF_OK;
}

mf_status mfw_check_str(mfw *w, const mf_type *t, const char *s, size_t n)
{
    char e[MFW_ECHO_CAP];
    if (t->min_len || t->max_len) {
        /* code points <= bytes <= 4 * code points: count only when the byte
         * length cannot decide */
        bool surely_ok = (t->max_len == 0 || n <= t->max_len) && n / 4 >= t->min_len;
        if (!surely_ok) {
            size_t cp = mf_utf8_count(s, n);
            if (cp < t->min_len)
                return mfw_fail(w, MF_ERR_LENGTH,
                                "expected a string of at least %u characters, found %zu (\"%s\")",
                                (unsigned)t->min_len, cp, mfw_echo(e, sizeof e, s, n));
            if (t->max_len && cp > t->max_len)
                return mfw_fail(w, MF_ERR_LENGTH,
                                "expected a string of at most %u characters, found %zu (\"%s\")",
                                (unsigned)t->max_len, cp, mfw_echo(e, sizeof e, s, n));
        }
    }
    if (t->format != MF_FMT_NONE && !mf_format_check(t->format, s, n)) {
        const char *fn = mf_format_name(t->format);
        bool an = fn && (fn[0] == 'a' || fn[0] == 'e' || fn[0] == 'i' || fn[0] == 'o');
        return mfw_fail(w, MF_ERR_FORMAT, "expected %s %s, found \"%s\"", an ? "an" : "a",
                        fn ? fn : "formatted string", mfw_echo(e, sizeof e, s, n));
    }
    if (t->pattern) {
        mf_status st = mf_pattern_check(t->pattern, s, n, "", w->err);
        if (st) {
            if (w->err) {
                w->err->code = st;
                mfw_pointer(w, NULL, w->err->pointer, sizeof w->err->pointer);
            }
            return st;
        }
    }
    if ((t->flags & MF_TF_HAS_CONST) && t->constant.s &&
        (strncmp(t->constant.s, s, n) != 0 || t->constant.s[n] != '\0')) {
        char c[MFW_ECHO_CAP];
        return mfw_fail(w, MF_ERR_CONST, "expected the constant \"%s\", found \"%s\"",
                        mfw_echo(c, sizeof c, t->constant.s, strlen(t->constant.s)),
                        mfw_echo(e, sizeof e, s, n));
    }
    return MF_OK;
}

mf_status mfw_check_count(mfw *w, const mf_type *t, size_t count)
{
    const char *what = t->kind == MF_K_MAP ? "members" : "items";
    if (count < t->min_items)
        return mfw_fail(w, MF_ERR_LENGTH, "expected at least %u %s, found %zu",
                        (unsigned)t->min_items, what, count);
    if (t->max_items && count > t->max_items)
        return mfw_fail(w, MF_ERR_LENGTH, "expected at most %u %s, found %zu",
                        (unsigned)t->max_items, what, count);
    return MF_OK;
}

int mfw_enum_lookup(mfw *w, const mf_type *t, const char *s, size_t n, mf_status *st)
{
    char list[160], e[MFW_ECHO_CAP];
    size_t o = 0;
    for (uint32_t i = 0; i < t->enum_count; i++) {
        const char *v = t->enum_values[i];
        /* the first byte rules out most values; strncmp stops at v's NUL, so
         * v[n] is read only when v has at least n bytes */
        if (n && v[0] != s[0])
            continue;
        if (strncmp(v, s, n) == 0 && v[n] == '\0') {
            *st = MF_OK;
            return (int)i + 1;
        }
    }
    list[0] = '\0';
    for (uint32_t i = 0; i < t->enum_count; i++) {
        int k = snprintf(list + o, sizeof list - o, "%s\"%s\"", i ? ", " : "", t->enum_values[i]);
        if (k < 0 || o + (size_t)k >= sizeof list - 8) {
            /* cut at the last complete entry */
            list[o] = '\0';
            snprintf(list + o, sizeof list - o, ", ...");
            break;
        }
        o += (size_t)k;
    }
    *st = mfw_fail(w, MF_ERR_ENUM, "expected one of %s, found \"%s\"", list,
                   mfw_echo(e, sizeof e, s, n));
    return 0;
}

/* ------------------------------------------------------------- the prescan */

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline uint64_t load8(const unsigned char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

/* nonzero when some byte of x is >= 0x80, < 0x20, '"' or '\\' */
static inline uint64_t special8(uint64_t x)
{
    uint64_t lt20 = (x - ONES * 0x20) & ~x;
    uint64_t q = x ^ (ONES * '"');
    uint64_t b = x ^ (ONES * '\\');
    uint64_t zq = (q - ONES) & ~q;
    uint64_t zb = (b - ONES) & ~b;
    return (x | lt20 | zq | zb) & HIGHS;
}

static inline int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

long mfw_hex4(const unsigned char *p, size_t avail)
{
    long v = 0;
    if (avail < 4)
        return -1;
    for (int k = 0; k < 4; k++) {
        int h = hexval(p[k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Byte classes outside strings: 0 skip (white space, letters of literals,
 * ',' ':'), 1 '"', 2 '[' '{', 3 ']' '}', 4 '-' or digit, 5 never valid here. */
enum { O_SKIP, O_QUOTE, O_OPEN, O_CLOSE, O_NUM, O_BAD };
static const unsigned char out_cls[256] = {
    5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 5, 5, 0, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
};
/* Byte classes inside strings: 0 plain, 1 '"', 2 '\\', 3 control, 4 >= 0x80. */
enum { S_PLAIN, S_QUOTE, S_ESC, S_CTRL, S_HIGH };
static const unsigned char str_cls[256] = {
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
};

/* index of the first flagged byte of a nonzero special8() mask: the lowest
 * flagged byte is always a true match (borrows only propagate upwards) */
static inline size_t first_byte(uint64_t m)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (size_t)__builtin_clzll(m) >> 3;
#else
    return (size_t)__builtin_ctzll(m) >> 3;
#endif
}

static inline bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* The string body whose opening quote is at p[open - 1], scanned from p[*pi]
 * (open <= *pi: the bytes before were already found plain). */
static mf_status scan_string_at(const unsigned char *p, size_t len, size_t open, size_t *pi,
                                mf_error *err)
{
    size_t i = *pi;
    for (;;) {
#ifdef __SSE2__
        if (i + 16 <= len) {
            /* signed compare: bytes >= 0x80 are negative, so "< 0x20" also
             * flags them (they need the UTF-8 check) */
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            __m128i sp = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                                   _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                                      _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
            unsigned m = (unsigned)_mm_movemask_epi8(sp);
            if (!m) {
                i += 16;
                continue;
            }
            i += (size_t)__builtin_ctz(m);
        } else
#endif
        if (i + 8 <= len) {
            uint64_t m = special8(load8(p + i));
            if (!m) {
                i += 8;
                continue;
            }
            i += first_byte(m);
        } else {
            while (i < len && str_cls[p[i]] == S_PLAIN)
                i++;
            if (i >= len)
                break; /* unterminated */
        }
        unsigned char c = p[i];
        switch (str_cls[c]) {
        case S_QUOTE:
            *pi = i + 1;
            return MF_OK;
        case S_ESC: {
            unsigned char e = i + 1 < len ? p[i + 1] : 0;
            if (e == 'u') {
                long v = mfw_hex4(p + i + 2, len - i - 2);
                if (v == 0)
                    return mf_error_set(err, MF_ERR_UTF8, "",
                                        "string contains \\u0000 (NUL), which is not allowed "
                                        "(escape at byte %zu)", i);
                if (v >= 0xD800 && v <= 0xDBFF) {
                    long lo = -1;
                    if (i + 12 <= len && p[i + 6] == '\\' && p[i + 7] == 'u')
                        lo = mfw_hex4(p + i + 8, 4);
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return mf_error_set(err, MF_ERR_UTF8, "",
                                            "string contains a lone surrogate escape "
                                            "\\u%04lX at byte %zu", v, i);
                    i += 12;
                } else if (v >= 0xDC00 && v <= 0xDFFF) {
                    return mf_error_set(err, MF_ERR_UTF8, "",
                                        "string contains a lone surrogate escape "
                                        "\\u%04lX at byte %zu", v, i);
                } else if (v < 0) { /* cJSON would read bad hex as \\u0000 */
                    return mf_error_set(err, MF_ERR_SYNTAX, "",
                                        "invalid \\u escape in a string at byte %zu", i);
                } else {
                    i += 6;
                }
                continue;
            }
            if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
                e == 't') {
                i += 2;
                continue;
            }
            if (i + 1 >= len)
                break; /* unterminated */
            return mf_error_set(err, MF_ERR_SYNTAX, "", "invalid escape sequence in a string at byte %zu",
                                i);
        }
        case S_CTRL:
            if (c == 0)
                return mf_error_set(err, MF_ERR_UTF8, "", "string contains a raw NUL byte at byte %zu", i);
            return mf_error_set(err, MF_ERR_SYNTAX, "",
                                "unescaped control character 0x%02X in a string at byte %zu", c, i);
        case S_HIGH: {
            size_t k = mfw_utf8_seq(p + i, len - i);
            if (!k)
                return mf_error_set(err, MF_ERR_UTF8, "", "invalid UTF-8 at byte %zu", i);
            i += k;
            continue;
        }
        default:
            i++;
            continue;
        }
        break;
    }
    return mf_error_set(err, MF_ERR_SYNTAX, "",
                        "invalid JSON at byte %zu: unterminated string starting at byte %zu", len, open - 1);
}

/* The string body starting at p[*pi] (after the opening quote). */
mf_status mfw_scan_string(const unsigned char *p, size_t len, size_t *pi, mf_error *err)
{
    return scan_string_at(p, len, *pi, pi, err);
}

/* A number starting at p[*pi]: the strict JSON grammar. */
mf_status mfw_scan_number(const unsigned char *p, size_t len, size_t *pi, mf_error *err)
{
    size_t s = *pi, i = s;
    if (p[i] == '-')
        i++;
    if (i >= len || !is_digit(p[i]))
        goto bad;
    if (p[i] == '0') {
        i++;
        if (i < len && is_digit(p[i]))
            return mf_error_set(err, MF_ERR_SYNTAX, "", "invalid JSON number (leading zero) at byte %zu", s);
    } else {
        while (i < len && is_digit(p[i]))
            i++;
    }
    if (i < len && p[i] == '.') {
        i++;
        if (i >= len || !is_digit(p[i]))
            goto bad;
        while (i < len && is_digit(p[i]))
            i++;
    }
    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < len && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= len || !is_digit(p[i]))
            goto bad;
        while (i < len && is_digit(p[i]))
            i++;
    }
    if (i < len && (p[i] == '.' || p[i] == 'e' || p[i] == 'E' || p[i] == '+' || p[i] == '-'))
        goto bad;
    *pi = i;
    return MF_OK;
bad:
    return mf_error_set(err, MF_ERR_SYNTAX, "", "invalid JSON number at byte %zu", s);
}

mf_status mfw_prescan(const unsigned char *p, size_t len, mf_error *err)
{
    size_t i = 0;
    unsigned depth = 0;
    mf_status st;
    for (;;) {
        unsigned char k;
        while (i < len && (k = out_cls[p[i]]) == O_SKIP)
            i++;
        if (i >= len)
            return MF_OK;
        switch (k) {
        case O_QUOTE: {
            size_t open = ++i;
#ifdef __SSE2__
            /* inline fast path for plain strings: 16 bytes at a time up to
             * the first special byte; done when that is the closing quote */
            while (i + 16 <= len) {
                __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
                __m128i sp = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                                       _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                                          _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
                unsigned m = (unsigned)_mm_movemask_epi8(sp);
                if (!m) {
                    i += 16;
                    continue;
                }
                i += (size_t)__builtin_ctz(m);
                break;
            }
            if (i < len && p[i] == '"') {
                i++;
                break;
            }
#endif
            size_t j = i; /* i itself never has its address taken: it stays in a register */
            if ((st = scan_string_at(p, len, open, &j, err)))
                return st;
            i = j;
            break;
        }
        case O_OPEN:
            if (++depth > MF_MAX_DEPTH)
                return mf_error_set(err, MF_ERR_SYNTAX, "", "nesting deeper than %d at byte %zu",
                                    MF_MAX_DEPTH, i);
            i++;
            break;
        case O_CLOSE:
            if (depth)
                depth--;
            i++;
            break;
        case O_NUM: {
            size_t j = i;
            if ((st = mfw_scan_number(p, len, &j, err)))
                return st;
            i = j;
            break;
        }
        default:
            if (p[i] >= 0x80)
                return mf_error_set(err, MF_ERR_SYNTAX, "",
                                    "invalid JSON at byte %zu: byte 0x%02X outside a string", i, p[i]);
            return mf_error_set(err, MF_ERR_SYNTAX, "",
                                "invalid JSON at byte %zu: control character 0x%02X", i, p[i]);
        }
    }
}

mf_status mfw_parse(const char *json, size_t len, cJSON **root, mf_error *err)
{
    const char *end = NULL;
    mf_status st;
    *root = NULL;
    if (!json || len == 0)
        return mf_error_set(err, MF_ERR_SYNTAX, "", "invalid JSON at byte 0: the input is empty");
    st = mfw_prescan((const unsigned char *)json, len, err);
    if (st)
        return st;
    cJSON *r = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!r) {
        size_t at = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        return mf_error_set(err, MF_ERR_SYNTAX, "", "invalid JSON at byte %zu", at);
    }
    size_t at = end ? (size_t)(end - json) : len;
    while (at < len && (json[at] == ' ' || json[at] == '\n' || json[at] == '\r' || json[at] == '\t'))
        at++;
    if (at < len) {
        cJSON_Delete(r);
        return mf_error_set(err, MF_ERR_SYNTAX, "", "unexpected data after the JSON value at byte %zu",
                            at);
    }
    *root = r;
    return MF_OK;
}
