/*
 * The encode baseline: what a hand-written cJSON encoder does for a message,
 * done generically from the same descriptors. It builds a cJSON tree from the
 * C value (one cJSON node and one string copy per member, as cJSON users do)
 * and the benchmark then calls cJSON_PrintUnformatted on it.
 */
#include "cjson_build.h"

#include <stdint.h>

static cJSON *build_value(const mf_type *t, const void *v);

static cJSON *build_object(const mf_type *t, const char *base)
{
    cJSON *o = cJSON_CreateObject();
    for (uint32_t i = 0; o && i < t->field_count; i++) {
        const mf_field *f = &t->fields[i];
        if (f->has_offset >= 0 && !*(const bool *)(base + f->has_offset))
            continue;
        cJSON *child;
        if (f->null_offset >= 0 && *(const bool *)(base + f->null_offset))
            child = cJSON_CreateNull();
        else
            child = build_value(f->type, base + f->offset);
        if (!child) {
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_AddItemToObject(o, f->name, child);
    }
    return o;
}

static cJSON *build_value(const mf_type *t, const void *v)
{
    switch (t->kind) {
    case MF_K_BOOL: return cJSON_CreateBool(*(const bool *)v);
    case MF_K_INT: return cJSON_CreateNumber((double)*(const int64_t *)v);
    case MF_K_NUM: return cJSON_CreateNumber(*(const double *)v);
    case MF_K_STR: return cJSON_CreateString(*(char *const *)v);
    case MF_K_ENUM: return cJSON_CreateString(mf_enum_to_string(t, *(const int *)v));
    case MF_K_RAW: return cJSON_Parse(*(char *const *)v);
    case MF_K_OBJ: return build_object(t, v);
    case MF_K_ARR: {
        const mf_array *a = v;
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; arr && i < a->count; i++) {
            cJSON *c = build_value(t->item, (const char *)a->items + i * t->item->size);
            if (!c) { cJSON_Delete(arr); return NULL; }
            cJSON_AddItemToArray(arr, c);
        }
        return arr;
    }
    case MF_K_MAP: {
        const mf_map *m = v;
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; o && i < m->count; i++) {
            cJSON *c = build_value(t->item, (const char *)m->values + i * t->item->size);
            if (!c) { cJSON_Delete(o); return NULL; }
            cJSON_AddItemToObject(o, m->keys[i], c);
        }
        return o;
    }
    case MF_K_UNION: {
        int which = *(const int *)v;
        if (which < 1 || (uint32_t)which > t->branch_count) return NULL;
        return build_value(t->branches[which - 1], (const char *)v + t->branch_offset);
    }
    }
    return NULL;
}

cJSON *bench_cjson_build(const mf_type *t, const void *value)
{
    return build_value(t, value);
}
