/*
 * lifecycle.c - mf_init, mf_free, mf_copy, mf_equal and the enum helpers.
 *
 * mf_free releases every owned pointer it finds (strings, raw text, array and
 * map storage, the active union branch) whatever the presence flags say, so a
 * partly decoded value, where flags may not be set yet, is freed completely.
 */
#include <stdlib.h>
#include <string.h>

#include "codec/rules.h"

/* true when values of t may own heap memory */
static bool owns(const mf_type *t)
{
    switch (t->kind) {
    case MF_K_STR:
    case MF_K_RAW:
    case MF_K_ARR:
    case MF_K_MAP:
    case MF_K_UNION:
        return true;
    case MF_K_OBJ:
        for (uint32_t i = 0; i < t->field_count; i++)
            if (owns(t->fields[i].type))
                return true;
        return false;
    default:
        return false;
    }
}

/* mf_field is 64 bytes on LP64 (codec.h: its reserved_ member), so indexing a field is a shift. */
_Static_assert(sizeof(void *) != 8 || sizeof(mf_field) == 64, "mf_field is not 64 bytes");

static void set_defaults(const mf_type *t, char *v)
{
    if (t->kind != MF_K_OBJ || (t->flags & MF_TF_NO_DEFAULTS))
        return;
    for (const mf_field *f = t->fields, *end = f + t->field_count; f < end; f++) {
        char *p = v + f->offset;
        if (!f->has_default) {
            if (f->type->kind == MF_K_OBJ)
                set_defaults(f->type, p);
            continue;
        }
        switch (f->type->kind) {
        case MF_K_BOOL: *(bool *)p = f->def.b; break;
        case MF_K_INT: *(int64_t *)p = f->def.i; break;
        case MF_K_NUM: *(double *)p = f->def.n; break;
        case MF_K_ENUM: *(int *)p = f->def.e; break;
        case MF_K_OBJ: set_defaults(f->type, p); break;
        default: break; /* strings: the decoder fills them (mf_init never allocates) */
        }
    }
}

void mf_init(const mf_type *t, void *value)
{
    if (!t || !value)
        return;
    memset(value, 0, t->size);
    set_defaults(t, value);
}

static void release(const mf_type *t, char *v)
{
    switch (t->kind) {
    case MF_K_STR:
    case MF_K_RAW:
        free(*(char **)v);
        *(char **)v = NULL;
        break;
    case MF_K_OBJ: /* scalars need nothing: no need to ask owns() per field */
        for (const mf_field *f = t->fields, *end = f + t->field_count; f < end; f++) {
            const mf_type *ft = f->type;
            char *p = v + f->offset;
            switch (ft->kind) {
            case MF_K_STR:
            case MF_K_RAW:
                free(*(char **)p);
                *(char **)p = NULL;
                break;
            case MF_K_BOOL:
            case MF_K_INT:
            case MF_K_NUM:
            case MF_K_ENUM:
                break;
            default:
                release(ft, p);
            }
        }
        break;
    case MF_K_ARR: {
        mf_array *a = (mf_array *)v;
        if (a->items && owns(t->item))
            for (size_t i = 0; i < a->count; i++)
                release(t->item, (char *)a->items + i * t->item->size);
        free(a->items);
        a->items = NULL;
        a->count = 0;
        break;
    }
    case MF_K_MAP: {
        mf_map *m = (mf_map *)v;
        if (m->keys)
            for (size_t i = 0; i < m->count; i++)
                free(m->keys[i]);
        if (m->values && owns(t->item))
            for (size_t i = 0; i < m->count; i++)
                release(t->item, (char *)m->values + i * t->item->size);
        free(m->keys);
        free(m->values);
        m->keys = NULL;
        m->values = NULL;
        m->count = 0;
        break;
    }
    case MF_K_UNION: {
        int which = *(int *)v;
        if (which >= 1 && (uint32_t)which <= t->branch_count)
            release(t->branches[which - 1], v + t->branch_offset);
        break;
    }
    default:
        break;
    }
}

void mf_free(const mf_type *t, void *value)
{
    if (!t || !value)
        return;
    release(t, value);
    mf_init(t, value);
}

/* Clears the owned pointers of a bytewise copy (without freeing: they belong
 * to the source), so that the copy can be freed at any point. */
static void clear_owned(const mf_type *t, char *v)
{
    switch (t->kind) {
    case MF_K_STR:
    case MF_K_RAW:
        *(char **)v = NULL;
        break;
    case MF_K_OBJ:
        for (uint32_t i = 0; i < t->field_count; i++)
            if (owns(t->fields[i].type))
                clear_owned(t->fields[i].type, v + t->fields[i].offset);
        break;
    case MF_K_ARR:
        memset(v, 0, sizeof(mf_array));
        break;
    case MF_K_MAP:
        memset(v, 0, sizeof(mf_map));
        break;
    case MF_K_UNION: {
        int which = *(int *)v;
        if (which >= 1 && (uint32_t)which <= t->branch_count)
            clear_owned(t->branches[which - 1], v + t->branch_offset);
        break;
    }
    default:
        break;
    }
}

/* d is a cleared bytewise copy of s; fills in deep copies of the owned parts. */
static mf_status copy_owned(mfw *w, const mf_type *t, char *d, const char *s)
{
    mf_status st;
    switch (t->kind) {
    case MF_K_STR:
    case MF_K_RAW: {
        const char *src = *(char *const *)s;
        if (src && !(*(char **)d = strdup(src)))
            return mfw_fail(w, MF_ERR_NOMEM, "out of memory");
        return MF_OK;
    }
    case MF_K_OBJ:
        for (uint32_t i = 0; i < t->field_count; i++) {
            const mf_field *f = &t->fields[i];
            if (!owns(f->type))
                continue;
            mfw_push_key(w, f->name);
            st = copy_owned(w, f->type, d + f->offset, s + f->offset);
            mfw_pop(w);
            if (st)
                return st;
        }
        return MF_OK;
    case MF_K_ARR: {
        const mf_array *sa = (const mf_array *)s;
        mf_array *da = (mf_array *)d;
        size_t isz = t->item->size;
        if (sa->count == 0)
            return MF_OK;
        if (!sa->items)
            return mfw_fail(w, MF_ERR_INVALID_ARG, "array has %zu items but items is NULL", sa->count);
        if (sa->count > SIZE_MAX / isz)
            return mfw_fail(w, MF_ERR_NOMEM, "out of memory");
        char *items = malloc(sa->count * isz);
        if (!items)
            return mfw_fail(w, MF_ERR_NOMEM, "out of memory");
        memcpy(items, sa->items, sa->count * isz);
        if (owns(t->item))
            for (size_t i = 0; i < sa->count; i++)
                clear_owned(t->item, items + i * isz);
        da->items = items;
        da->count = sa->count;
        if (owns(t->item))
            for (size_t i = 0; i < sa->count; i++) {
                mfw_push_idx(w, i);
                st = copy_owned(w, t->item, items + i * isz, (const char *)sa->items + i * isz);
                mfw_pop(w);
                if (st)
                    return st;
            }
        return MF_OK;
    }
    case MF_K_MAP: {
        const mf_map *sm = (const mf_map *)s;
        mf_map *dm = (mf_map *)d;
        size_t isz = t->item->size, n = sm->count;
        if (n == 0)
            return MF_OK;
        if (!sm->keys || !sm->values)
            return mfw_fail(w, MF_ERR_INVALID_ARG, "map has %zu members but keys/values is NULL", n);
        char **keys = calloc(n, sizeof *keys);
        char *values = n <= SIZE_MAX / isz ? malloc(n * isz) : NULL;
        if (!keys || !values) {
            free(keys);
            free(values);
            return mfw_fail(w, MF_ERR_NOMEM, "out of memory");
        }
        memcpy(values, sm->values, n * isz);
        if (owns(t->item))
            for (size_t i = 0; i < n; i++)
                clear_owned(t->item, values + i * isz);
        dm->keys = keys;
        dm->values = values;
        dm->count = n;
        for (size_t i = 0; i < n; i++) {
            if (sm->keys[i] && !(keys[i] = strdup(sm->keys[i])))
                return mfw_fail(w, MF_ERR_NOMEM, "out of memory");
            if (owns(t->item)) {
                mfw_push_key(w, sm->keys[i] ? sm->keys[i] : "");
                st = copy_owned(w, t->item, values + i * isz, (const char *)sm->values + i * isz);
                mfw_pop(w);
                if (st)
                    return st;
            }
        }
        return MF_OK;
    }
    case MF_K_UNION: {
        int which = *(const int *)s;
        if (which >= 1 && (uint32_t)which <= t->branch_count)
            return copy_owned(w, t->branches[which - 1], d + t->branch_offset, s + t->branch_offset);
        return MF_OK;
    }
    default:
        return MF_OK;
    }
}

mf_status mf_copy(const mf_type *t, void *dst, const void *src, mf_error *err)
{
    mfw w;
    mf_status st;
    mf_error_clear(err);
    if (!t || !dst || !src)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "mf_copy: NULL argument");
    if (dst == src)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "mf_copy: source and destination are the same");
    mfw_init(&w, err);
    memcpy(dst, src, t->size);
    clear_owned(t, dst);
    st = copy_owned(&w, t, dst, src);
    if (st)
        mf_free(t, dst);
    return st;
}

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool equal(const mf_type *t, const char *a, const char *b)
{
    switch (t->kind) {
    case MF_K_BOOL: return *(const bool *)a == *(const bool *)b;
    case MF_K_INT: return *(const int64_t *)a == *(const int64_t *)b;
    case MF_K_NUM: return *(const double *)a == *(const double *)b;
    case MF_K_ENUM: return *(const int *)a == *(const int *)b;
    case MF_K_STR:
    case MF_K_RAW: return str_eq(*(char *const *)a, *(char *const *)b);
    case MF_K_OBJ:
        for (uint32_t i = 0; i < t->field_count; i++) {
            const mf_field *f = &t->fields[i];
            if (f->has_offset >= 0) {
                bool ha = *(const bool *)(a + f->has_offset), hb = *(const bool *)(b + f->has_offset);
                if (ha != hb)
                    return false;
                if (!ha)
                    continue; /* both absent: the values do not matter */
            }
            if (f->null_offset >= 0) {
                bool na = *(const bool *)(a + f->null_offset), nb = *(const bool *)(b + f->null_offset);
                if (na != nb)
                    return false;
                if (na)
                    continue;
            }
            if (!equal(f->type, a + f->offset, b + f->offset))
                return false;
        }
        return true;
    case MF_K_ARR: {
        const mf_array *x = (const mf_array *)a, *y = (const mf_array *)b;
        size_t isz = t->item->size;
        if (x->count != y->count)
            return false;
        if (x->count && (!x->items || !y->items))
            return x->items == y->items;
        for (size_t i = 0; i < x->count; i++)
            if (!equal(t->item, (const char *)x->items + i * isz, (const char *)y->items + i * isz))
                return false;
        return true;
    }
    case MF_K_MAP: { /* member order matters (it is the JSON order) */
        const mf_map *x = (const mf_map *)a, *y = (const mf_map *)b;
        size_t isz = t->item->size;
        if (x->count != y->count)
            return false;
        if (x->count && (!x->keys || !y->keys || !x->values || !y->values))
            return x->keys == y->keys && x->values == y->values;
        for (size_t i = 0; i < x->count; i++)
            if (!str_eq(x->keys[i], y->keys[i]) ||
                !equal(t->item, (const char *)x->values + i * isz, (const char *)y->values + i * isz))
                return false;
        return true;
    }
    case MF_K_UNION: {
        int wa = *(const int *)a, wb = *(const int *)b;
        if (wa != wb)
            return false;
        if (wa < 1 || (uint32_t)wa > t->branch_count)
            return true;
        return equal(t->branches[wa - 1], a + t->branch_offset, b + t->branch_offset);
    }
    }
    return false;
}

bool mf_equal(const mf_type *t, const void *a, const void *b)
{
    if (a == b)
        return true;
    if (!t || !a || !b)
        return false;
    return equal(t, a, b);
}

const char *mf_enum_to_string(const mf_type *t, int v)
{
    if (!t || t->kind != MF_K_ENUM || v < 1 || (uint32_t)v > t->enum_count)
        return NULL;
    return t->enum_values[v - 1];
}

int mf_enum_from_string(const mf_type *t, const char *s, size_t n)
{
    if (!t || t->kind != MF_K_ENUM || !s || memchr(s, '\0', n))
        return 0;
    /* s[0..n) has no NUL, so strncmp == 0 proves v has n bytes before its NUL */
    for (uint32_t i = 0; i < t->enum_count; i++) {
        const char *v = t->enum_values[i];
        if (strncmp(v, s, n) == 0 && v[n] == '\0')
            return (int)i + 1;
    }
    return 0;
}
