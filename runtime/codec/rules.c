/*
 * rules.c - the constraint checks shared by the decoders, mf_validate
 * (check_value.c) and the encoder, and the rules of unions.
 *
 * Each rule of mf/codec.h is written here once. The decoder calls these on
 * values it just read from JSON, the validator on values built in C, so both
 * directions accept exactly the same values. How errors are reported is in
 * report.c; the lexical rules of JSON text in prescan.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec_int.h"
#include "codec/rules.h"

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

/* No branch matched: the error of the one that got furthest (best_i < 0:
 * no branch takes objects). */
static mf_status union_none(mfw *w, const mf_type *t, const mf_error *best, int best_i)
{
    if (best_i < 0)
        return mfw_fail(w, MF_ERR_UNION, "expected one of the alternatives, found an object");
    if (w->err)
        mf_error_set(w->err, MF_ERR_UNION, best->pointer, "no alternative matches; closest, %u (%.48s): %.160s",
                     (unsigned)best_i + 1, t->branches[best_i]->name ? t->branches[best_i]->name : "?",
                     best->message);
    return MF_ERR_UNION;
}

static mf_status union_two(mfw *w, const mf_type *t, int a, int b)
{
    return mfw_fail(w, MF_ERR_UNION, "expected exactly one alternative to match (oneOf), found two: "
                                     "%u (%s) and %u (%s)", (unsigned)a + 1,
                    t->branches[a]->name ? t->branches[a]->name : "?", (unsigned)b + 1,
                    t->branches[b]->name ? t->branches[b]->name : "?");
}

mf_status mfw_union_try(mfw *w, const mf_type *t, mfw_trial_fn trial, void *ctx, int *pick)
{
    const bool any = (t->flags & MF_TF_ANY_OF) != 0;
    int best_i = -1;
    mf_error best, e;
    memset(&best, 0, sizeof best);
    *pick = -1;
    for (uint32_t i = 0; i < t->branch_count; i++) {
        const mf_type *b = t->branches[i];
        bool stop = false;
        if (b->kind != MF_K_OBJ && b->kind != MF_K_MAP)
            continue;
        mf_status st = trial(ctx, b, &e, &stop);
        if (stop)
            return st;
        if (st == MF_ERR_NOMEM)
            return mfw_fail(w, MF_ERR_NOMEM, "out of memory");
        if (st) { /* keep the error of the branch that got furthest */
            if (best_i < 0 || strlen(e.pointer) > strlen(best.pointer)) {
                best = e;
                best_i = (int)i;
            }
            continue;
        }
        if (*pick >= 0)
            return union_two(w, t, *pick, (int)i);
        *pick = (int)i;
        if (any)
            break;
    }
    return *pick < 0 ? union_none(w, t, &best, best_i) : MF_OK;
}

mf_status mfw_not_rule(mfw *w, const mf_type *t, mfw_trial_fn trial, void *ctx)
{
    mf_error e;
    bool stop = false;
    mf_status st = trial(ctx, t->not_type, &e, &stop);
    if (stop)
        return st;
    if (st == MF_ERR_NOMEM)
        return mfw_fail(w, MF_ERR_NOMEM, "out of memory");
    if (st == MF_OK)
        return mfw_fail(w, MF_ERR_UNION, "expected a value that is not %s (%s), found one",
                        mfw_kind_name(t->not_type), t->not_type->name ? t->not_type->name : "not");
    return MF_OK;
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
