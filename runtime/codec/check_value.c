/*
 * check_value.c - mf_validate: the decoder's rules applied to a value built in C.
 *
 * The constraint checks themselves live in rules.c and are shared with the
 * decoder. On top of them this file checks what JSON text cannot get wrong but
 * C code can: required pointers left NULL, enum values out of 1..n, arrays with
 * a count but no items, non-finite doubles, strings that are not UTF-8, a
 * union whose `which` selects nothing, and raw text that is not JSON.
 *
 * Presence: an optional member is validated only when has_<x> is set; a
 * member whose <x>_is_null is set is null and not validated further. A value
 * that passes mf_validate encodes to JSON that mf_decode accepts and decodes
 * to an equal value.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec_int.h"
#include "codec/rules.h"

static mf_status val(mfw *w, const mf_type *t, const char *v);

static mf_status val_str(mfw *w, const mf_type *t, const char *s)
{
    if (!s)
        return mfw_fail(w, MF_ERR_REQUIRED, "expected %s, found a NULL pointer", mfw_kind_name(t));
    size_t n = strlen(s);
    if (!mf_utf8_valid(s, n))
        return mfw_fail(w, MF_ERR_UTF8, "expected a string of valid UTF-8, found invalid bytes");
    return mfw_check_str(w, t, s, n);
}

/*
 * Raw text: a syntax check without building a tree, accepting exactly what
 * mf_decode accepts (the same lexical scanners, at most MF_MAX_DEPTH nesting,
 * numbers that do not overflow a double).
 */
typedef struct jchk {
    const unsigned char *p;
    size_t n, i;
    unsigned depth;
    mf_error *err;
} jchk;

static void skip_ws(jchk *j)
{
    while (j->i < j->n) {
        unsigned char c = j->p[j->i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            break;
        j->i++;
    }
}

static mf_status jbad(jchk *j)
{
    return mf_error_set(j->err, MF_ERR_SYNTAX, "", "invalid JSON at byte %zu", j->i);
}

static mf_status jvalue(jchk *j)
{
    mf_status st;
    skip_ws(j);
    if (j->i >= j->n)
        return jbad(j);
    unsigned char c = j->p[j->i];
    if (c == '{' || c == '[') {
        unsigned char close = c == '{' ? '}' : ']';
        if (++j->depth > MF_MAX_DEPTH)
            return mf_error_set(j->err, MF_ERR_SYNTAX, "", "nesting deeper than %d at byte %zu",
                                MF_MAX_DEPTH, j->i);
        j->i++;
        skip_ws(j);
        if (j->i < j->n && j->p[j->i] == close) {
            j->i++;
            j->depth--;
            return MF_OK;
        }
        for (;;) {
            if (c == '{') {
                skip_ws(j);
                if (j->i >= j->n || j->p[j->i] != '"')
                    return jbad(j);
                j->i++;
                if ((st = mfw_scan_string(j->p, j->n, &j->i, j->err)))
                    return st;
                skip_ws(j);
                if (j->i >= j->n || j->p[j->i] != ':')
                    return jbad(j);
                j->i++;
            }
            if ((st = jvalue(j)))
                return st;
            skip_ws(j);
            if (j->i < j->n && j->p[j->i] == ',') {
                j->i++;
                continue;
            }
            if (j->i < j->n && j->p[j->i] == close) {
                j->i++;
                j->depth--;
                return MF_OK;
            }
            return jbad(j);
        }
    }
    if (c == '"') {
        j->i++;
        return mfw_scan_string(j->p, j->n, &j->i, j->err);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        size_t s = j->i;
        bool expo = false;
        if ((st = mfw_scan_number(j->p, j->n, &j->i, j->err)))
            return st;
        for (size_t k = s; k < j->i; k++)
            expo |= j->p[k] == 'e' || j->p[k] == 'E';
        if (expo || j->i - s > 300) { /* only these can overflow a double */
            char tmp[64], *big = j->i - s < sizeof tmp ? tmp : malloc(j->i - s + 1);
            if (!big)
                return mf_error_set(j->err, MF_ERR_NOMEM, "", "out of memory");
            memcpy(big, j->p + s, j->i - s);
            big[j->i - s] = '\0';
            double v = strtod(big, NULL);
            if (big != tmp)
                free(big);
            if (!isfinite(v))
                return mf_error_set(j->err, MF_ERR_RANGE, "",
                                    "number at byte %zu is too large for a double", s);
        }
        return MF_OK;
    }
    static const char *const lits[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t l = strlen(lits[k]);
        if (j->n - j->i >= l && memcmp(j->p + j->i, lits[k], l) == 0) {
            j->i += l;
            return MF_OK;
        }
    }
    return jbad(j);
}

/* The last raw text this thread found to be valid JSON. Raw members repeat (a campaign sends the
 * same push data with every notification; a JetStream send validates, then encodes): a text of
 * exactly the same bytes is valid again, found by one compare instead of the scan. Only valid
 * texts of at most RAW_MEMO_MAX bytes are kept; no allocation, nothing to free. */
#define RAW_MEMO_MAX 512
static _Thread_local struct {
    size_t len; /* 0: none (the empty text is not JSON) */
    char text[RAW_MEMO_MAX];
} raw_memo;

/* Whether s[0..n) is one JSON value with nothing but white space around it (err says why not). */
static mf_status raw_syntax(const char *s, size_t n, mf_error *e)
{
    if (n && n == raw_memo.len && memcmp(s, raw_memo.text, n) == 0)
        return MF_OK;
    jchk j = {(const unsigned char *)s, n, 0, 0, e};
    mf_status st = jvalue(&j);
    if (st == MF_OK) {
        skip_ws(&j);
        if (j.i < j.n)
            return mf_error_set(e, MF_ERR_SYNTAX, "", "unexpected data after the JSON value at byte %zu", j.i);
    }
    if (st == MF_OK && n <= RAW_MEMO_MAX) {
        memcpy(raw_memo.text, s, n);
        raw_memo.len = n;
    }
    return st;
}

static mf_status val_raw(mfw *w, const mf_type *t, const char *s)
{
    mf_error e;
    mf_status st;
    if (!s)
        return mfw_fail(w, MF_ERR_REQUIRED, "expected raw JSON text, found a NULL pointer");
    jchk j = {(const unsigned char *)s, strlen(s), 0, 0, &e};
    if ((st = raw_syntax(s, j.n, &e)))
        return mfw_fail(w, st, "expected raw JSON text: %s", e.message);
    skip_ws(&j);
    if ((t->flags & MF_TF_RAW_OBJECT) && j.p[j.i] != '{')
        return mfw_fail(w, MF_ERR_TYPE, "expected raw JSON text of an object");
    return MF_OK;
}

/* The decoder picks an object branch by the discriminator member; the C value
 * must carry the same value, or it would not decode back to itself. */
static mf_status val_disc(mfw *w, const mf_type *t, const mf_type *b, uint32_t bi, const char *bv)
{
    uint32_t objs = 0;
    if (!t->discriminator || !t->disc_values || !t->disc_values[bi] || b->kind != MF_K_OBJ)
        return MF_OK;
    for (uint32_t i = 0; i < t->branch_count; i++) {
        mf_kind k = t->branches[i]->kind;
        objs += k == MF_K_OBJ || k == MF_K_MAP || k == MF_K_RAW;
    }
    if (objs < 2)
        return MF_OK;
    for (uint32_t j = 0; j < b->field_count; j++) {
        const mf_field *f = &b->fields[j];
        const char *s = NULL;
        if (strcmp(f->name, t->discriminator) != 0)
            continue;
        if (f->has_offset >= 0 && !*(const bool *)(bv + f->has_offset))
            break;
        if (f->type->kind == MF_K_STR)
            s = *(char *const *)(bv + f->offset);
        else if (f->type->kind == MF_K_ENUM)
            s = mf_enum_to_string(f->type, *(const int *)(bv + f->offset));
        else
            return MF_OK;
        if (s && strcmp(s, t->disc_values[bi]) == 0)
            return MF_OK;
        break;
    }
    return mfw_fail_member(w, MF_ERR_UNION, t->discriminator,
                           "expected \"%s\" (the value that selects alternative %u)",
                           t->disc_values[bi], (unsigned)bi + 1);
}

/* The decoder picks a branch by JSON type: an integral number goes to the
 * integer branch, a string that is a value of an enum branch to that branch.
 * A value in another branch would not decode back to itself. */
static mf_status val_pick(mfw *w, const mf_type *t, const mf_type *b, const char *bv)
{
    for (uint32_t i = 0; i < t->branch_count; i++) {
        const mf_type *o = t->branches[i];
        if (o == b)
            continue;
        if (b->kind == MF_K_NUM && o->kind == MF_K_INT) {
            double d = *(const double *)bv;
            if (d == trunc(d) && fabs(d) < (double)MF_MAX_SAFE_INT)
                return mfw_fail(w, MF_ERR_UNION, "the number alternative holds an integral value, which "
                                                 "decodes as the integer alternative");
        }
        if (b->kind == MF_K_STR && o->kind == MF_K_ENUM) {
            const char *str = *(char *const *)bv;
            for (uint32_t k = 0; k < o->enum_count; k++)
                if (strcmp(o->enum_values[k], str) == 0)
                    return mfw_fail(w, MF_ERR_UNION, "the string alternative holds \"%s\", which "
                                                     "decodes as the enum alternative", o->enum_values[k]);
        }
    }
    return MF_OK;
}

static mf_status enter(mfw *w)
{
    if (++w->depth > MF_MAX_DEPTH)
        return mfw_fail(w, MF_ERR_SYNTAX, "nesting deeper than %d", MF_MAX_DEPTH);
    return MF_OK;
}

static mf_status val_obj(mfw *w, const mf_type *t, const char *v)
{
    for (uint32_t i = 0; i < t->field_count; i++) {
        const mf_field *f = &t->fields[i];
        mf_status st;
        if (f->has_offset >= 0 && !*(const bool *)(v + f->has_offset)) {
            if (f->required) /* a generated struct has no flag for these; be safe */
                return mfw_fail_member(w, MF_ERR_REQUIRED, f->name, "missing required member \"%s\"",
                                       f->name);
            continue;
        }
        if (f->null_offset >= 0 && *(const bool *)(v + f->null_offset))
            continue;
        mfw_push_key(w, f->name);
        st = val(w, f->type, v + f->offset);
        mfw_pop(w);
        if (st)
            return st;
    }
    return MF_OK;
}

static mf_status val_arr(mfw *w, const mf_type *t, const mf_array *a)
{
    mf_status st;
    if (a->count && !a->items)
        return mfw_fail(w, MF_ERR_INVALID_ARG, "expected an array: count is %zu but items is NULL",
                        a->count);
    if ((st = mfw_check_count(w, t, a->count)))
        return st;
    for (size_t i = 0; i < a->count; i++) {
        mfw_push_idx(w, i);
        st = val(w, t->item, (const char *)a->items + i * t->item->size);
        mfw_pop(w);
        if (st)
            return st;
    }
    return (t->flags & MF_TF_UNIQUE) ? mfw_check_unique(w, t, a) : MF_OK;
}

static mf_status val_map(mfw *w, const mf_type *t, const mf_map *m)
{
    mf_status st;
    char e[MFW_ECHO_CAP];
    if (m->count && (!m->keys || !m->values))
        return mfw_fail(w, MF_ERR_INVALID_ARG,
                        "expected a map: count is %zu but keys or values is NULL", m->count);
    if ((st = mfw_check_count(w, t, m->count)))
        return st;
    for (size_t i = 0; i < m->count; i++) {
        const char *k = m->keys[i];
        if (!k)
            return mfw_fail(w, MF_ERR_REQUIRED, "map key %zu is a NULL pointer", i);
        if (!mf_utf8_valid(k, strlen(k)))
            return mfw_fail(w, MF_ERR_UTF8, "map key %zu is not valid UTF-8", i);
    }
    const char *d = mfw_dup_key((const char *const *)m->keys, m->count, &st);
    if (st)
        return mfw_fail(w, st, "out of memory");
    if (d)
        return mfw_fail_member(w, MF_ERR_DUPLICATE, d, "duplicate member \"%s\"",
                               mfw_echo(e, sizeof e, d, strlen(d)));
    for (size_t i = 0; i < m->count; i++) {
        mfw_push_key(w, m->keys[i]);
        st = val(w, t->item, (const char *)m->values + i * t->item->size);
        mfw_pop(w);
        if (st)
            return st;
    }
    return MF_OK;
}

static mf_status val_value(mfw *w, const mf_type *t, const char *v);

/* `not`, checked on the JSON the value encodes to, once the value is valid. */
static mf_status val(mfw *w, const mf_type *t, const char *v)
{
    mf_status st = val_value(w, t, v);
    if (st || !t->not_type)
        return st;
    cJSON *tree = NULL;
    if ((st = mfw_value_tree(t, v, &tree)))
        return mfw_fail(w, st, "cannot check 'not': %s", mf_status_str(st));
    st = mfw_check_not(w, t, tree);
    cJSON_Delete(tree);
    return st;
}

static mf_status val_value(mfw *w, const mf_type *t, const char *v)
{
    mf_status st;
    switch (t->kind) {
    case MF_K_BOOL:
        return mfw_check_bool(w, t, *(const bool *)v);
    case MF_K_INT:
        return mfw_check_int(w, t, *(const int64_t *)v);
    case MF_K_NUM:
        return mfw_check_num(w, t, *(const double *)v);
    case MF_K_STR:
        return val_str(w, t, *(char *const *)v);
    case MF_K_ENUM: {
        int e = *(const int *)v;
        if (e < 1 || (uint32_t)e > t->enum_count)
            return mfw_fail(w, MF_ERR_ENUM, "expected an enum value of %s in 1..%u, found %d",
                            t->name ? t->name : "the enum", (unsigned)t->enum_count, e);
        return MF_OK;
    }
    case MF_K_RAW:
        return val_raw(w, t, *(char *const *)v);
    case MF_K_OBJ:
        if ((st = enter(w)) == MF_OK)
            st = val_obj(w, t, v);
        w->depth--;
        return st;
    case MF_K_ARR:
        if ((st = enter(w)) == MF_OK)
            st = val_arr(w, t, (const mf_array *)v);
        w->depth--;
        return st;
    case MF_K_MAP:
        if ((st = enter(w)) == MF_OK)
            st = val_map(w, t, (const mf_map *)v);
        w->depth--;
        return st;
    case MF_K_UNION: {
        int which = *(const int *)v;
        if (which < 1 || (uint32_t)which > t->branch_count)
            return mfw_fail(w, MF_ERR_UNION, "expected a union alternative in 1..%u, found which = %d",
                            (unsigned)t->branch_count, which);
        const mf_type *b = t->branches[which - 1];
        if ((st = val(w, b, v + t->branch_offset)))
            return st;
        if ((st = val_pick(w, t, b, v + t->branch_offset)))
            return st;
        if ((st = val_disc(w, t, b, (uint32_t)which - 1, v + t->branch_offset)))
            return st;
        return mfw_union_recheck(w, t, (uint32_t)which - 1, v + t->branch_offset);
    }
    }
    return mfw_fail(w, MF_ERR_INVALID_ARG, "descriptor %s has an unknown kind %d",
                    t->name ? t->name : "?", (int)t->kind);
}

mf_status mfw_validate_at(mfw *w, const mf_type *t, const void *v)
{
    return val(w, t, v);
}

mf_status mf_validate(const mf_type *t, const void *value, mf_error *err)
{
    mfw w;
    mf_error_clear(err);
    if (!t || !value)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "mf_validate: NULL descriptor or value");
    mfw_init(&w, err);
    return val(&w, t, value);
}
