/*
 * decode_raw.c - free-form (raw) values, skipping, and mfw_json_check.
 *
 * Raw members (free-form JSON) are re-printed compactly while they are
 * read, as the reference prints them from its tree (mfw_print_raw): strings
 * with escapes are decoded and re-escaped, numbers printed from their double
 * unless they are plain integers of at most 15 digits (which print as
 * written). The same reader without an output skips a value (unknown
 * members, the rest of a container after an error) and checks the grammar
 * of a whole text (mfw_json_check).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/decode_int.h"

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
        return mfd_nomem(d);
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
        return mfd_nomem(d);
    size_t k = mfd_unescape(t, s, n);
    if (mf_buf_append(&r->b, d->p + r->from, s0 - r->from) || mfw_buf_put_string(&r->b, t, k)) {
        free(t);
        return mfd_nomem(d);
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
    mf_status st = mfd_lex_num(d, r ? &x : NULL);
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
            return mfd_syn(d, d->i, "expected a member name");
        if ((st = raw_string(d, r, true, &owned)))
            return st;
        if (!(st = rws(d, r))) {
            if (at(d, d->i) != ':')
                st = mfd_syn(d, d->i, "expected ':'");
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
                return mfd_syn(d, d->i, obj ? "expected ',' or '}'" : "expected ',' or ']'");
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
        return mfd_syn(d, d->i, "expected a value");
    }
}

mf_status mfd_skip_value(dd *d)
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
    if ((st = mfd_skip_value(&d))) /* after the pre-scan, only grammar errors (syn) */
        return st;
    ws(&d);
    if (d.i < len)
        return mf_error_set(err, MF_ERR_SYNTAX, "", "unexpected data after the JSON value at byte %zu", d.i);
    return MF_OK;
}
/* A raw member: an object when MF_TF_RAW_OBJECT says so, else any value. */
mf_status mfd_raw(dd *d, const mf_type *t, char **dst)
{
    rsink r = {MF_BUF_INIT, d->i, false};
    mf_status st;
    if ((t->flags & MF_TF_RAW_OBJECT) && at(d, d->i) != '{')
        return mfd_type_error(d, t);
    if ((st = raw_value(d, &r)))
        goto out;
    if (!r.dirty) { /* compact already: the input as it is */
        const size_t n = d->i - r.from;
        char *o = malloc(n + 1);
        if (!o) {
            st = mfd_nomem(d);
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
