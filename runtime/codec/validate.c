/*
 * validate.c - mf_validate: the decoder's rules applied to a value built in C.
 *
 * The constraint checks themselves live in check.c and are shared with the
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec_int.h"
#include "codec/walk.h"

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

static mf_status val_raw(mfw *w, const mf_type *t, const char *s)
{
    mf_error e;
    cJSON *root = NULL;
    mf_status st;
    if (!s)
        return mfw_fail(w, MF_ERR_REQUIRED, "expected raw JSON text, found a NULL pointer");
    if ((st = mfw_parse(s, strlen(s), &root, &e)))
        return mfw_fail(w, st, "expected raw JSON text: %s", e.message);
    if ((t->flags & MF_TF_RAW_OBJECT) && !cJSON_IsObject(root))
        st = mfw_fail(w, MF_ERR_TYPE, "expected raw JSON text of an object");
    cJSON_Delete(root);
    return st;
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
    return MF_OK;
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

static mf_status val(mfw *w, const mf_type *t, const char *v)
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
        return val_disc(w, t, b, (uint32_t)which - 1, v + t->branch_offset);
    }
    }
    return mfw_fail(w, MF_ERR_INVALID_ARG, "descriptor %s has an unknown kind %d",
                    t->name ? t->name : "?", (int)t->kind);
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
