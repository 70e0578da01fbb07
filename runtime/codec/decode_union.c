/*
 * decode_union.c - unions (oneOf/anyOf) and the trial decodes behind `not`.
 *
 * A branch is picked by the JSON type of the value (the first byte, and the
 * value itself for numbers and enum strings), by the discriminator member
 * (found by scanning the object's members first), or by trying each object
 * branch into a scratch value that is freed again (the position is rolled
 * back); `not` is a trial of the same kind. These read the value more than
 * once; nothing else in the decoder does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/decode_int.h"

/* mfw_trial_fn: decodes the value at d->i (ctx) as t into a scratch value
 * that is freed again; the position, depth and frames are restored. A
 * syntax error stops the rule (the decode ends). */
mf_status mfd_trial(void *ctx, const mf_type *t, mf_error *e, bool *stop)
{
    dd *d = ctx;
    const size_t i0 = d->i;
    const unsigned depth = d->depth, nfr = d->w.nfr;
    mf_error *saved = d->w.err;
    void *v = malloc(t->size ? t->size : 1);
    if (!v)
        return mfd_nomem(d);
    mf_init(t, v);
    d->w.err = e;
    mf_status st = mfd_value(d, t, v);
    d->w.err = saved;
    d->i = i0;
    d->depth = depth;
    d->w.nfr = nfr;
    mf_free(t, v);
    free(v);
    *stop = d->syn;
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
    if (!(*v = mfd_str_value(d, s, n, esc, true, &n)))
        return mfd_nomem(d);
    return MF_OK;
}

/* The branch of an object chosen by the discriminator member. */
static mf_status pick_by_disc(dd *d, const mf_type *t, int *pick)
{
    size_t vpos;
    const char *v;
    mf_status st;
    if ((st = mfd_find_member(d, t->discriminator, &vpos)))
        return st;
    if (vpos == SIZE_MAX)
        return mfw_fail_member(&d->w, MF_ERR_REQUIRED, t->discriminator,
                               "missing required member \"%s\" (it selects the alternative)", t->discriminator);
    const size_t i0 = d->i;
    d->i = vpos;
    if (at(d, vpos) != '"') {
        const char *f = mfd_found_name(at(d, vpos));
        mfw_push_key(&d->w, t->discriminator);
        st = f ? mfw_fail(&d->w, MF_ERR_TYPE, "expected a string, found %s", f) : mfd_syn(d, vpos, "expected a value");
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
            return mfw_union_try(&d->w, t, mfd_trial, d, pick);
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
        if ((st = mfd_lex_num(d, &x)))
            return st;
        d->i = i0;
        *pick = mfw_union_pick(t, MFW_J_NUM, x.v, NULL);
    } else {
        *pick = mfw_union_pick(t, c == '[' ? MFW_J_ARR : c == 'n' ? MFW_J_NULL : MFW_J_BOOL, 0, NULL);
    }
    return MF_OK;
}

mf_status mfd_union(dd *d, const mf_type *t, char *base)
{
    int pick = -1;
    mf_status st;
    const char *f = mfd_found_name(at(d, d->i));
    if (!f)
        return mfd_syn(d, d->i, "expected a value");
    if ((st = union_pick(d, t, &pick)))
        return st;
    if (pick < 0)
        return mfw_union_error(&d->w, t, f);
    const mf_type *b = t->branches[pick];
    mf_init(b, base + t->branch_offset);
    *(int *)base = pick + 1;
    return mfd_value(d, b, base + t->branch_offset);
}
