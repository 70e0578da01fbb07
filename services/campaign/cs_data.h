/*
 * cs_data.h - the free-form `data` object of a notification template, read and extended through
 * the runtime's codec (no JSON is parsed or printed by hand: the object is decoded with a
 * map-of-raw-values descriptor, and string values with a string descriptor).
 *
 * What a template placeholder {{key}} gets from data[key]:
 *   a string           its content (unescaped)
 *   a number, boolean  its compact JSON text ("42", "2.5", "true")
 *   null, an object or an array: nothing - the key counts as missing (cs_data_get returns NULL
 *   with *present true, so callers can tell "not interpolable" from "absent").
 *
 * Ownership: a cs_data owns every string it holds; release it with cs_data_free (safe on a
 * zeroed value). Threads: no shared state.
 */
#ifndef CS_DATA_H
#define CS_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_data {
    char **keys;   /* in document order */
    char **raw;    /* compact JSON text of each value */
    char **text;   /* interpolation text of each value, NULL when not interpolable */
    size_t count;
} cs_data;

/*
 * Reads a JSON object (NULL or "" = an empty object). On error *out holds nothing and err says
 * why (MF_ERR_TYPE when it is not an object, the codec's errors for bad JSON).
 */
mf_status cs_data_load(const char *json, cs_data *out, mf_error *err);

void cs_data_free(cs_data *d);

/* The interpolation text of `key`, or NULL; *present (may be NULL) tells whether the key exists. */
const char *cs_data_get(const cs_data *d, const char *key, bool *present);

/*
 * Returns in *out_json (malloc'd, caller frees) the compact JSON object `json` (NULL = empty)
 * with the n string members keys[i] = values[i] added; a key the object already has keeps its
 * value. On error *out_json is NULL.
 */
mf_status cs_data_extend(const char *json, const char *const *keys, const char *const *values, size_t n,
                         char **out_json, mf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* CS_DATA_H */
