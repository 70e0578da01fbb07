/* cs_data.c - see cs_data.h. */
#include "cs_data.h"

#include <stdlib.h>
#include <string.h>
#include "mf/buf.h"
#include "mf/codec.h"

/* A JSON object as keys and compact raw values: the layout of mf_map with char * values. */
typedef struct raw_map {
    char **keys;
    char **values;
    size_t count;
} raw_map;

static const mf_type raw_value = {.kind = MF_K_RAW, .name = "data value", .size = sizeof(char *)};
static const mf_type raw_map_desc = {.kind = MF_K_MAP, .name = "data", .size = sizeof(raw_map), .item = &raw_value};
static const mf_type string_desc = {.kind = MF_K_STR, .name = "data string", .size = sizeof(char *)};

void cs_data_free(cs_data *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++) {
        free(d->keys[i]);
        free(d->raw[i]);
        free(d->text[i]);
    }
    free(d->keys);
    free(d->raw);
    free(d->text);
    memset(d, 0, sizeof *d);
}

/* The interpolation text of one raw value; *out NULL when it has none. */
static mf_status text_of(const char *raw, char **out, mf_error *err)
{
    *out = NULL;
    switch (raw[0]) {
    case '"':
        return mf_decode(&string_desc, raw, strlen(raw), out, err);
    case '{':
    case '[':
    case 'n':
        return MF_OK;
    default: /* number, true, false */
        *out = strdup(raw);
        return *out ? MF_OK : mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
}

mf_status cs_data_load(const char *json, cs_data *out, mf_error *err)
{
    memset(out, 0, sizeof *out);
    if (!json || !*json)
        return MF_OK;
    raw_map m;
    mf_init(&raw_map_desc, &m);
    mf_status st = mf_decode(&raw_map_desc, json, strlen(json), &m, err);
    if (st != MF_OK)
        return st;
    out->keys = m.keys;
    out->raw = m.values;
    out->count = m.count;
    out->text = m.count ? calloc(m.count, sizeof *out->text) : NULL;
    if (m.count && !out->text) {
        st = mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    for (size_t i = 0; st == MF_OK && i < m.count; i++)
        st = text_of(m.values[i], &out->text[i], err);
    if (st != MF_OK) {
        if (!out->text) { /* give the map back to the codec to free */
            mf_free(&raw_map_desc, &m);
            memset(out, 0, sizeof *out);
        } else {
            cs_data_free(out);
        }
    }
    return st;
}

const char *cs_data_get(const cs_data *d, const char *key, bool *present)
{
    for (size_t i = 0; d && i < d->count; i++) {
        if (strcmp(d->keys[i], key) == 0) {
            if (present)
                *present = true;
            return d->text[i];
        }
    }
    if (present)
        *present = false;
    return NULL;
}

mf_status cs_data_extend(const char *json, const char *const *keys, const char *const *values, size_t n,
                         char **out_json, mf_error *err)
{
    *out_json = NULL;
    raw_map m;
    mf_init(&raw_map_desc, &m);
    mf_status st = json && *json ? mf_decode(&raw_map_desc, json, strlen(json), &m, err) : MF_OK;
    if (st != MF_OK)
        return st;
    char **nk = realloc(m.keys, (m.count + n + 1) * sizeof *nk);
    if (nk)
        m.keys = nk;
    char **nv = nk ? realloc(m.values, (m.count + n + 1) * sizeof *nv) : NULL;
    if (nv)
        m.values = nv;
    if (!nk || !nv) {
        mf_free(&raw_map_desc, &m);
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    for (size_t i = 0; i < n && st == MF_OK; i++) {
        bool have = false;
        for (size_t j = 0; j < m.count && !have; j++)
            have = strcmp(m.keys[j], keys[i]) == 0;
        if (have)
            continue;
        mf_buf b = MF_BUF_INIT;
        st = mf_encode(&string_desc, &values[i], &b, err);
        char *k = st == MF_OK ? strdup(keys[i]) : NULL;
        if (st == MF_OK && (!k || !b.data)) {
            free(k);
            mf_buf_free(&b);
            st = mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
            break;
        }
        if (st != MF_OK) {
            mf_buf_free(&b);
            break;
        }
        m.keys[m.count] = k;
        m.values[m.count] = mf_buf_detach(&b, NULL);
        m.count++;
    }
    mf_buf out = MF_BUF_INIT;
    if (st == MF_OK)
        st = mf_encode(&raw_map_desc, &m, &out, err);
    mf_free(&raw_map_desc, &m);
    if (st == MF_OK)
        *out_json = mf_buf_detach(&out, NULL);
    mf_buf_free(&out);
    return st;
}
