/*
 * headers.c - typed message headers (mf/api.h): a message whose contract
 * declares `headers` (an object of string members) has a C struct for them;
 * its present members travel as NATS headers named after the JSON members.
 *
 * Both directions go through the codec, so the headers are validated against
 * the contract like the payload: out, the struct is encoded (validated) and the
 * JSON members become headers; in, the declared headers found in the message
 * become a JSON object that is decoded (validated) into the struct. Headers the
 * contract does not declare are ignored.
 */
#include "api/headers.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mf/buf.h"

mf_status mf_api_headers_out(const mf_type *t, const void *headers, mf_header *out, size_t cap, size_t *n,
                             char **storage, mf_error *err)
{
    *n = 0;
    *storage = NULL;
    mf_buf json = MF_BUF_INIT;
    mf_status st = mf_encode(t, headers, &json, err);
    if (st) {
        mf_buf_free(&json);
        return st;
    }
    cJSON *o = cJSON_ParseWithLength(json.data, json.len);
    mf_buf_free(&json);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    /* one allocation holds every name and value: "name\0value\0..." */
    size_t bytes = 1;
    for (const cJSON *m = o->child; m; m = m->next)
        bytes += strlen(m->string) + 1 + (cJSON_IsString(m) ? strlen(m->valuestring) : 0) + 1;
    char *p = malloc(bytes);
    if (!p) {
        cJSON_Delete(o);
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    *storage = p;
    for (const cJSON *m = o->child; m; m = m->next) {
        if (!cJSON_IsString(m)) /* the generator allows string members only */
            continue;
        if (*n == cap) {
            cJSON_Delete(o);
            return mf_error_set(err, MF_ERR_LIMIT, "", "more than %zu headers", cap);
        }
        out[*n].name = strcpy(p, m->string);
        p += strlen(p) + 1;
        out[*n].value = strcpy(p, m->valuestring);
        p += strlen(p) + 1;
        ++*n;
    }
    cJSON_Delete(o);
    return MF_OK;
}

mf_status mf_api_headers_in(const mf_type *t, const mf_msg *m, void *out, mf_error *err)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    mf_status st = MF_OK;
    for (uint32_t i = 0; st == MF_OK && i < t->field_count; i++) {
        size_t len = 0;
        const char *v = mf_msg_header(m, t->fields[i].name, &len);
        if (!v)
            continue;
        char *text = malloc(len + 1);
        if (!text) {
            st = mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
            break;
        }
        memcpy(text, v, len);
        text[len] = '\0';
        if (!cJSON_AddStringToObject(o, t->fields[i].name, text))
            st = mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
        free(text);
    }
    char *json = st == MF_OK ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (st == MF_OK && !json)
        st = mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    if (st == MF_OK)
        st = mf_decode(t, json, strlen(json), out, err);
    free(json);
    return st;
}
