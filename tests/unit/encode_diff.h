/*
 * encode_diff.h - mf_encode checks values while it writes them; it must say
 * exactly what mf_validate says. This walks a valid value, breaks each of its
 * parts in turn (a string NULL, not UTF-8 or too long, an enum out of range,
 * an integer past 2^53, a NaN, an array count without items or past its
 * maximum, a map key NULL or repeated, a required member's flag cleared, a
 * union's `which` out of range), and requires mf_encode to fail with
 * mf_validate's status, code and pointer, leaving the buffer as it was; an
 * unbroken value must encode to text that decodes back to it.
 *
 * Header-only: tests/unit/test_encode_checks.c and tests/sdk/test_sdk_diff.c.
 */
#ifndef MF_TEST_ENCODE_DIFF_H
#define MF_TEST_ENCODE_DIFF_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf/codec.h"

typedef struct enc_site {
    const mf_type *t; /* the part's type (or the object's, for a member flag) */
    char *p;          /* where it lives */
    const mf_field *f; /* for a member of an object: the field (has_offset breaks) */
    char *base;        /* ... and the object */
} enc_site;

typedef struct enc_sites {
    enc_site *v;
    size_t n, cap;
} enc_sites;

static inline void enc_add(enc_sites *s, const mf_type *t, char *p, const mf_field *f, char *base)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v)
            abort();
    }
    s->v[s->n++] = (enc_site){t, p, f, base};
}

/* Every part of the value v of t, depth first. */
static inline void enc_collect(enc_sites *s, const mf_type *t, char *v)
{
    enc_add(s, t, v, NULL, NULL);
    switch (t->kind) {
    case MF_K_OBJ:
        for (uint32_t i = 0; i < t->field_count; i++) {
            const mf_field *f = &t->fields[i];
            if (f->has_offset >= 0 && !*(bool *)(v + f->has_offset))
                continue;
            if (f->has_offset >= 0 || f->required)
                enc_add(s, t, v, f, v);
            if (f->null_offset >= 0 && *(bool *)(v + f->null_offset))
                continue;
            enc_collect(s, f->type, v + f->offset);
        }
        break;
    case MF_K_ARR: {
        mf_array *a = (mf_array *)v;
        for (size_t i = 0; i < a->count; i++)
            enc_collect(s, t->item, (char *)a->items + i * t->item->size);
        break;
    }
    case MF_K_MAP: {
        mf_map *m = (mf_map *)v;
        for (size_t i = 0; i < m->count; i++)
            enc_collect(s, t->item, (char *)m->values + i * t->item->size);
        break;
    }
    case MF_K_UNION: {
        int w = *(int *)v;
        if (w >= 1 && (uint32_t)w <= t->branch_count)
            enc_collect(s, t->branches[w - 1], v + t->branch_offset);
        break;
    }
    default:
        break;
    }
}

/* mf_encode against mf_validate on the value as it is now. */
static inline bool enc_compare(const mf_type *root, const void *value, char *why, size_t cap)
{
    mf_error ee, ev;
    mf_buf b = MF_BUF_INIT;
    mf_buf_append_str(&b, "prefix");
    mf_status se = mf_encode(root, value, &b, &ee), sv = mf_validate(root, value, &ev);
    bool same = se == sv && ee.code == ev.code && strcmp(ee.pointer, ev.pointer) == 0;
    if (!same)
        snprintf(why, cap, "%.40s: encode %s at \"%.100s\" (%.100s), validate %s at \"%.100s\" (%.100s)",
                 root->name ? root->name : "?", mf_status_str(se), ee.pointer, ee.message, mf_status_str(sv),
                 ev.pointer, ev.message);
    else if (se && (b.len != 6 || strcmp(b.data, "prefix") != 0))
        snprintf(why, cap, "%.40s: a failed encode changed the buffer", root->name ? root->name : "?"), same = false;
    else if (!se) {
        void *back = calloc(1, root->size ? root->size : 1);
        if (mf_decode(root, b.data + 6, b.len - 6, back, &ee) != MF_OK || !mf_equal(root, value, back))
            snprintf(why, cap, "%.40s: the encoding does not decode back: %.200s", root->name ? root->name : "?",
                     b.data + 6), same = false;
        mf_free(root, back);
        free(back);
    }
    mf_buf_free(&b);
    return same;
}

/* Breaks site k of the value in every way that applies, comparing after each. */
static inline size_t enc_break(const mf_type *root, void *value, const enc_site *k,
                               void (*report)(const char *why, void *ctx), void *ctx)
{
    static char bad_utf8[] = "a\xC3(z", long_str[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static char empty[] = "", not_uuid[] = "not-a-uuid", raw_bad[] = "{\"a\":", raw_arr[] = "[1]";
    char why[1024];
    size_t n = 0;
#define ENC_TRY(type, lv, val)                                                                                     \
    do {                                                                                                           \
        type saved_ = (lv);                                                                                        \
        (lv) = (val);                                                                                              \
        n++;                                                                                                       \
        if (!enc_compare(root, value, why, sizeof why))                                                           \
            report(why, ctx);                                                                                      \
        (lv) = saved_;                                                                                             \
    } while (0)
    if (k->f) { /* a member's presence */
        if (k->f->has_offset >= 0)
            ENC_TRY(bool, *(bool *)(k->base + k->f->has_offset), false);
        return n;
    }
    switch (k->t->kind) {
    case MF_K_STR:
        ENC_TRY(char *, *(char **)k->p, NULL);
        ENC_TRY(char *, *(char **)k->p, bad_utf8);
        ENC_TRY(char *, *(char **)k->p, long_str);
        ENC_TRY(char *, *(char **)k->p, empty);
        ENC_TRY(char *, *(char **)k->p, not_uuid);
        break;
    case MF_K_RAW:
        ENC_TRY(char *, *(char **)k->p, NULL);
        ENC_TRY(char *, *(char **)k->p, raw_bad);
        ENC_TRY(char *, *(char **)k->p, raw_arr);
        break;
    case MF_K_ENUM:
        ENC_TRY(int, *(int *)k->p, 0);
        ENC_TRY(int, *(int *)k->p, (int)k->t->enum_count + 1);
        break;
    case MF_K_INT:
        ENC_TRY(int64_t, *(int64_t *)k->p, INT64_C(9007199254740992));
        ENC_TRY(int64_t, *(int64_t *)k->p, -1000000);
        ENC_TRY(int64_t, *(int64_t *)k->p, 1000000);
        break;
    case MF_K_NUM:
        ENC_TRY(double, *(double *)k->p, NAN);
        ENC_TRY(double, *(double *)k->p, -INFINITY);
        ENC_TRY(double, *(double *)k->p, 1e300);
        break;
    case MF_K_BOOL:
        ENC_TRY(bool, *(bool *)k->p, !*(bool *)k->p);
        break;
    case MF_K_ARR: {
        mf_array *a = (mf_array *)k->p;
        ENC_TRY(void *, a->items, a->count ? NULL : a->items);
        if (a->count > 1)
            ENC_TRY(size_t, a->count, a->count - 1);
        break;
    }
    case MF_K_MAP: {
        mf_map *m = (mf_map *)k->p;
        if (m->count) {
            ENC_TRY(char *, m->keys[0], NULL);
            ENC_TRY(char *, m->keys[0], bad_utf8);
        }
        if (m->count > 1)
            ENC_TRY(char *, m->keys[1], m->keys[0]);
        break;
    }
    case MF_K_UNION:
        ENC_TRY(int, *(int *)k->p, 0);
        ENC_TRY(int, *(int *)k->p, (int)k->t->branch_count + 1);
        break;
    default:
        break;
    }
#undef ENC_TRY
    return n;
}

/* The value as it is, then every part broken in turn; returns the encodes compared. */
static inline size_t enc_diff_value(const mf_type *t, void *value, void (*report)(const char *why, void *ctx),
                                    void *ctx)
{
    enc_sites s = {NULL, 0, 0};
    char why[1024];
    size_t n = 1;
    if (!enc_compare(t, value, why, sizeof why))
        report(why, ctx);
    enc_collect(&s, t, value);
    for (size_t i = 0; i < s.n; i++)
        n += enc_break(t, value, &s.v[i], report, ctx);
    free(s.v);
    return n;
}

#endif
