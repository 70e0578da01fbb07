/*
 * decode.c - mf_decode: JSON bytes -> C value in one pass, driven by the
 * mf_type descriptors (one generic decoder for every message, as in nanopb).
 * This file: the walk (the entry point, the dispatch by kind, scalars,
 * arrays, objects and maps).
 *
 * The decoder reads the text once, front to back, and writes each value
 * straight into its place in the generated struct: no tree, no copy of
 * member names, one allocation per decoded string (the value owns it). The
 * lexical rules are those of the reference decoder's pre-scan (prescan.c):
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
 * The other pieces: tokens in decode_lex.c, raw values and skipping in
 * decode_raw.c, unions and `not` in decode_union.c (decode_int.h says what
 * crosses files).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec_int.h"
#include "codec/decode_int.h"

/* ---------------------------------------------------------------- scalars */

/* What the value starting with byte c is, for messages; NULL when it is no value. */
const char *mfd_found_name(unsigned char c)
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
mf_status mfd_type_error(dd *d, const mf_type *t)
{
    const char *f = mfd_found_name(at(d, d->i));
    if (!f)
        return mfd_syn(d, d->i, "expected a value");
    return mfw_fail(&d->w, MF_ERR_TYPE, "expected %s, found %s", mfw_kind_name(t), f);
}

static mf_status dnumber(dd *d, const mf_type *t, void *dst)
{
    num x;
    char tmp[32];
    mf_status st;
    if ((st = mfd_lex_num(d, &x)))
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
        return mfd_nomem(d);
    if (esc)
        n = mfd_unescape(o, s, n);
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
    if (esc && !(s = mfd_str_value(d, s, n, esc, false, &n)))
        return mfd_nomem(d);
    *dst = mfw_enum_lookup(&d->w, t, s, n, &st);
    return st;
}

/* ----------------------------------------------------------------- arrays */

/* Items are decoded straight into a growing array of the item type. The
 * reference checks an array's item count (and uniqueItems after the items)
 * before it reports an item's schema error, so after an item fails the rest
 * of the array is only scanned (counted and checked for syntax). */

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
    mf_status st = mfd_value(d, t, slot);
    mfw_pop(&d->w);
    if (!st)
        return MF_OK;
    if (d->syn || st == MF_ERR_NOMEM)
        return st;
    *vst = st;
    d->i = v0;
    d->depth = dep;
    return mfd_skip_value(d);
}

/* Room for one more item of isz bytes in *items (capacity *cap). */
static mf_status grow(dd *d, void **items, size_t *cap, size_t isz)
{
    size_t ncap = *cap ? *cap * 2 : 4;
    if (ncap > SIZE_MAX / isz)
        return mfd_nomem(d);
    void *p = realloc(*items, ncap * isz);
    if (!p)
        return mfd_nomem(d);
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
    if (list_open(d, ']')) {
        bool more;
        do {
            total++;
            if ((st = vst ? mfd_skip_value(d) : ditem(d, t->item, a, &cap, &vst)) ||
                (st = list_next(d, ']', &more)))
                return st;
        } while (more);
    }
    if ((st = mfw_check_count(&d->w, t, total)) || vst)
        return st ? st : vst;
    return (t->flags & MF_TF_UNIQUE) ? mfw_check_unique(&d->w, t, a) : MF_OK;
}

/* ------------------------------------------------------- objects and maps */

/* An object's members are matched to the descriptor's fields (usually in
 * schema order, so the field after the last match is tried first); unknown
 * members are skipped, or refused by a closed object; required members and
 * string defaults are settled after the last member. A map takes every
 * member: the name into a new key, the value into a new slot. */

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
        return mfd_nomem(d);
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
    return mfd_value(d, f->type, base + f->offset);
}

typedef struct objstate {
    uint64_t *seen; /* members met, by field index */
    uint32_t hint;  /* the field after the last one met */
    uint32_t nseen;
} objstate;

/*
 * The member name at d->i and the ':' after it, d->i left at the value. *k
 * and *n give the name's value: in place when it has no escapes, else in
 * d->tmp (valid until d->tmp is used again, e.g. by an enum value).
 */
static inline mf_status member_name(dd *d, const char **k, size_t *n)
{
    bool esc;
    mf_status st;
    if (at(d, d->i) != '"')
        return mfd_syn(d, d->i, "expected a member name");
    if ((st = lex_str(d, k, n, &esc)))
        return st;
    if (esc && !(*k = mfd_str_value(d, *k, *n, esc, false, n)))
        return mfd_nomem(d);
    ws(d);
    if (at(d, d->i) != ':')
        return mfd_syn(d, d->i, "expected ':'");
    d->i++;
    ws(d);
    return MF_OK;
}

/* One member at d->i: name, ':', value. */
static mf_status dmember(dd *d, const mf_type *t, char *base, objstate *o)
{
    const char *k;
    size_t n;
    mf_status st;
    if ((st = member_name(d, &k, &n)))
        return st;
    uint32_t j = find_field(t, k, n, o->hint);
    if (j == UINT32_MAX)
        return (t->flags & MF_TF_CLOSED) ? member_error(d, t, MF_ERR_UNKNOWN_FIELD, k, n) : mfd_skip_value(d);
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
                return mfd_nomem(d);
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
        return mfd_nomem(d);
    if (list_open(d, '}')) {
        bool more;
        do {
            if ((st = dmember(d, t, base, &o)) || (st = list_next(d, '}', &more)))
                goto out;
        } while (more);
    }
    st = dobj_finish(d, t, base, &o);
out:
    if (o.seen != small)
        free(o.seen);
    return st;
}

/* The next member of a map: its name into a new key, its value into a new slot. */
static mf_status dentry(dd *d, const mf_type *t, mf_map *m, size_t *cap, mf_status *vst)
{
    const mf_type *it = t->item;
    const size_t n = m->count;
    const char *k;
    size_t kn;
    mf_status st;
    if ((st = member_name(d, &k, &kn)))
        return st;
    if (n == *cap) {
        size_t kcap = *cap;
        if ((st = grow(d, (void **)&m->keys, &kcap, sizeof *m->keys)) ||
            (st = grow(d, &m->values, cap, it->size)))
            return st;
    }
    char *key = malloc(kn + 1);
    if (!key)
        return mfd_nomem(d);
    memcpy(key, k, kn);
    key[kn] = '\0';
    m->keys[n] = key;
    char *slot = (char *)m->values + n * it->size;
    mf_init(it, slot);
    m->count = n + 1;
    return *vst ? mfd_skip_value(d) : dslot(d, it, slot, 0, key, vst);
}

static mf_status dmap(dd *d, const mf_type *t, mf_map *m)
{
    size_t cap = 0;
    mf_status st, vst = MF_OK;
    char e[MFW_ECHO_CAP];
    if (list_open(d, '}')) {
        bool more;
        do {
            if ((st = dentry(d, t, m, &cap, &vst)) || (st = list_next(d, '}', &more)))
                return st;
        } while (more);
    }
    if ((st = mfw_check_count(&d->w, t, m->count)))
        return st;
    const char *dup = mfw_dup_key((const char *const *)m->keys, m->count, &st);
    if (st)
        return mfd_nomem(d);
    if (dup)
        return mfw_fail_member(&d->w, MF_ERR_DUPLICATE, dup, "duplicate member \"%s\"",
                               mfw_echo(e, sizeof e, dup, strlen(dup)));
    return vst;
}
/* The position of the value of the first member named `name` of the object
 * at d->i (SIZE_MAX: none); the position is restored. */
mf_status mfd_find_member(dd *d, const char *name, size_t *vpos)
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
        if ((st = member_name(d, &k, &n)))
            break;
        if (n == nl && memcmp(k, name, n) == 0) {
            *vpos = d->i;
            break;
        }
        if ((st = mfd_skip_value(d)))
            break;
        ws(d);
        if (at(d, d->i) == ',') {
            d->i++;
            ws(d);
        } else if (at(d, d->i) != '}') {
            st = mfd_syn(d, d->i, "expected ',' or '}'");
            break;
        }
    }
    d->i = i0;
    d->depth = dep;
    return st;
}

/* ------------------------------------------------------------ any value */

static mf_status dvalue(dd *d, const mf_type *t, void *dst)
{
    const unsigned char c = at(d, d->i);
    mf_status st;
    switch (t->kind) {
    case MF_K_BOOL:
        if (c != 't' && c != 'f')
            return mfd_type_error(d, t);
        if ((st = c == 't' ? lex_lit(d, "true", 4) : lex_lit(d, "false", 5)))
            return st;
        *(bool *)dst = c == 't';
        return mfw_check_bool(&d->w, t, c == 't');
    case MF_K_INT:
    case MF_K_NUM:
        if (c != '-' && !(c >= '0' && c <= '9'))
            return mfd_type_error(d, t);
        return dnumber(d, t, dst);
    case MF_K_STR:
        return c == '"' ? dstr(d, t, dst) : mfd_type_error(d, t);
    case MF_K_ENUM:
        return c == '"' ? denum(d, t, dst) : mfd_type_error(d, t);
    case MF_K_OBJ:
    case MF_K_ARR:
    case MF_K_MAP: /* containers: one nesting level each */
        if (c != (t->kind == MF_K_ARR ? '[' : '{'))
            return mfd_type_error(d, t);
        if ((st = enter(d)))
            return st;
        st = t->kind == MF_K_OBJ ? dobj(d, t, dst) : t->kind == MF_K_ARR ? darr(d, t, dst) : dmap(d, t, dst);
        d->depth--;
        return st;
    case MF_K_RAW:
        return mfd_raw(d, t, dst);
    case MF_K_UNION: /* adds no JSON nesting */
        return mfd_union(d, t, dst);
    }
    return mfw_fail(&d->w, MF_ERR_INVALID_ARG, "descriptor %s has an unknown kind %d", t->name ? t->name : "?",
                    (int)t->kind);
}

/* `not` is checked first, by a trial decode of the value as t->not_type. */
mf_status mfd_value(dd *d, const mf_type *t, void *dst)
{
    if (t->not_type) {
        mf_status st = mfw_not_rule(&d->w, t, mfd_trial, d);
        if (st)
            return st;
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
    if (!(st = mfd_value(&d, t, out))) {
        ws(&d);
        if (d.i < len)
            st = mfd_syn(&d, d.i, "unexpected data after the JSON value");
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
