/*
 * The generated SDK for asyncapi.yaml against the contract:
 *   - every example message (full and minimal) decodes, validates, and round-trips:
 *     encode(decode(x)) is the same JSON value as x, and decode(encode(v)) equals v;
 *   - every case of tests/sdk/cases.json (every constraint of every message broken
 *     once, derived from the YAML by make_cases.py) fails with the expected status
 *     AND names the expected JSON pointer, leaving the value freed (ASan checks).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "mf_sdk/sdk.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    mf_buf b = MF_BUF_INIT;
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        assert_int_equal(mf_buf_append(&b, tmp, n), MF_OK);
    fclose(f);
    char *s = mf_buf_detach(&b, len);
    return s ? s : strdup("");
}

static const struct {
    const char *name;
    mf_status code;
} codes[] = {
    {"MF_ERR_SYNTAX", MF_ERR_SYNTAX},   {"MF_ERR_TYPE", MF_ERR_TYPE},       {"MF_ERR_REQUIRED", MF_ERR_REQUIRED},
    {"MF_ERR_ENUM", MF_ERR_ENUM},       {"MF_ERR_RANGE", MF_ERR_RANGE},     {"MF_ERR_LENGTH", MF_ERR_LENGTH},
    {"MF_ERR_FORMAT", MF_ERR_FORMAT},   {"MF_ERR_PATTERN", MF_ERR_PATTERN}, {"MF_ERR_UTF8", MF_ERR_UTF8},
};

static mf_status code_of(const char *name)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (!strcmp(codes[i].name, name))
            return codes[i].code;
    fail_msg("unknown status name %s in cases.json", name);
    return MF_OK;
}

/* Same JSON value (member order ignored). */
static int same_json(const char *a, size_t alen, const char *b, size_t blen)
{
    cJSON *ja = cJSON_ParseWithLength(a, alen), *jb = cJSON_ParseWithLength(b, blen);
    int same = ja && jb && cJSON_Compare(ja, jb, 1);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    return same;
}

static void roundtrip_file(const char *path, const mf_message_desc *m)
{
    size_t len;
    char *json = slurp(path, &len);
    assert_non_null(json);
    void *v = calloc(1, m->size), *w = calloc(1, m->size);
    mf_error err;
    mf_status st = mf_decode(m->type, json, len, v, &err);
    if (st)
        fail_msg("%s: %s: %s", path, err.pointer, err.message);
    assert_int_equal(mf_validate(m->type, v, &err), MF_OK);
    mf_buf out = MF_BUF_INIT;
    assert_int_equal(mf_encode(m->type, v, &out, &err), MF_OK);
    if (!same_json(json, len, out.data, out.len))
        fail_msg("%s: re-encoded JSON differs:\n%s", path, out.data);
    assert_int_equal(mf_decode(m->type, out.data, out.len, w, &err), MF_OK);
    assert_true(mf_equal(m->type, v, w));
    /* A copy is equal and independent. */
    mf_free(m->type, w);
    assert_int_equal(mf_copy(m->type, w, v, &err), MF_OK);
    assert_true(mf_equal(m->type, v, w));
    mf_free(m->type, v);
    mf_free(m->type, w);
    free(v);
    free(w);
    mf_buf_free(&out);
    free(json);
}

static void test_examples_roundtrip(void **state)
{
    (void)state;
    DIR *d = opendir(MF_EXAMPLES_DIR);
    assert_non_null(d);
    int n = 0, full = 0, minimal = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *dot = strstr(e->d_name, ".json");
        if (!dot || dot[5])
            continue;
        char key[256];
        const char *first = strchr(e->d_name, '.');
        snprintf(key, sizeof key, "%.*s", (int)(first - e->d_name), e->d_name);
        const mf_message_desc *m = mf_registry_message(&mf_sdk_registry, key);
        assert_non_null(m);
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", MF_EXAMPLES_DIR, e->d_name);
        roundtrip_file(path, m);
        full += strstr(e->d_name, ".full.") != NULL;
        minimal += strstr(e->d_name, ".minimal.") != NULL;
        n++;
    }
    closedir(d);
    /* Every message of the contract has a full and a minimal example. */
    assert_int_equal(full, (int)mf_sdk_registry.message_count);
    assert_int_equal(minimal, (int)mf_sdk_registry.message_count);
    print_message("round-tripped %d example messages\n", n);
}

static void test_violations(void **state)
{
    (void)state;
    size_t len;
    char *text = slurp(MF_CASES_FILE, &len);
    assert_non_null(text);
    cJSON *root = cJSON_ParseWithLength(text, len);
    assert_non_null(root);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
    assert_true(cJSON_IsArray(cases));
    int n = 0, failures = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        const char *msg = cJSON_GetObjectItemCaseSensitive(c, "message")->valuestring;
        const char *what = cJSON_GetObjectItemCaseSensitive(c, "what")->valuestring;
        const char *json = cJSON_GetObjectItemCaseSensitive(c, "json")->valuestring;
        mf_status want = code_of(cJSON_GetObjectItemCaseSensitive(c, "code")->valuestring);
        const char *ptr = cJSON_GetObjectItemCaseSensitive(c, "pointer")->valuestring;
        const mf_message_desc *m = mf_registry_message(&mf_sdk_registry, msg);
        assert_non_null(m);
        void *v = calloc(1, m->size);
        mf_error err;
        mf_error_clear(&err);
        mf_status st = mf_decode(m->type, json, strlen(json), v, &err);
        if (st != want || strcmp(err.pointer, ptr) != 0) {
            print_error("%s %s: expected %s at \"%s\", got %s at \"%s\" (%s)\n", msg, what, mf_status_str(want), ptr,
                        mf_status_str(st), err.pointer, err.message);
            failures++;
        }
        if (st != MF_OK && err.message[0] == '\0') {
            print_error("%s %s: error without a message\n", msg, what);
            failures++;
        }
        /* A failed decode leaves nothing behind: freeing again must be harmless. */
        mf_free(m->type, v);
        free(v);
        n++;
    }
    cJSON_Delete(root);
    free(text);
    print_message("%d violation cases, %d failed\n", n, failures);
    assert_true(n > 400);
    assert_int_equal(failures, 0);
}

/* Building a message in C: validation names the missing/invalid member, encoding refuses it. */
static void test_build_in_c(void **state)
{
    (void)state;
    mf_campaign_execute e;
    mf_campaign_execute_init(&e);
    mf_error err;
    assert_int_equal(mf_campaign_execute_validate(&e, &err), MF_ERR_REQUIRED);
    mf_buf out = MF_BUF_INIT;
    assert_int_not_equal(mf_campaign_execute_encode(&e, &out, &err), MF_OK);
    assert_int_equal(out.len, 0);
    e.execution_id = strdup("5b1f3c2a-9d4e-4f6a-8b7c-1d2e3f4a5b6c");
    e.campaign_id = strdup("7c9e6679-7425-40de-944b-e07fc1f90ae7");
    e.execution_type = 99; /* out of range */
    assert_int_equal(mf_campaign_execute_validate(&e, &err), MF_ERR_ENUM);
    assert_string_equal(err.pointer, "/execution_type");
    e.execution_type = mf_campaign_execute_execution_type_from_string("batch");
    assert_int_not_equal(e.execution_type, 0);
    e.has_batch_size = true;
    e.batch_size = 0; /* below minimum 1 */
    assert_int_equal(mf_campaign_execute_validate(&e, &err), MF_ERR_RANGE);
    assert_string_equal(err.pointer, "/batch_size");
    e.batch_size = 500;
    assert_int_equal(mf_campaign_execute_encode(&e, &out, &err), MF_OK);
    assert_non_null(strstr(out.data, "\"execution_type\":\"batch\""));
    assert_non_null(strstr(out.data, "\"batch_size\":500"));
    mf_campaign_execute_free(&e);
    mf_buf_free(&out);
}

/* Defaults: an absent optional member reads as its default, and is not re-encoded. */
static void test_defaults(void **state)
{
    (void)state;
    const char *json = "{\"campaign_id\":\"7c9e6679-7425-40de-944b-e07fc1f90ae7\","
                       "\"execution_id\":\"5b1f3c2a-9d4e-4f6a-8b7c-1d2e3f4a5b6c\",\"execution_type\":\"immediate\"}";
    mf_campaign_execute e;
    mf_error err;
    assert_int_equal(mf_campaign_execute_decode(json, strlen(json), &e, &err), MF_OK);
    assert_false(e.has_priority);
    assert_string_equal(mf_priority_to_string(e.priority), "normal");
    mf_buf out = MF_BUF_INIT;
    assert_int_equal(mf_campaign_execute_encode(&e, &out, &err), MF_OK);
    assert_null(strstr(out.data, "priority"));
    mf_campaign_execute_free(&e);
    mf_buf_free(&out);
}

/* Quiet hours take "HH:mm"; `time` elsewhere still needs seconds and an offset. */
static void test_quiet_hours_time(void **state)
{
    (void)state;
    const char *ok = "{\"user_id\":\"3f0c9a52-7d1e-4b8a-9c61-2e5f4a7b8d90\",\"preferences\":{\"email_enabled\":true,"
                     "\"push_enabled\":true,\"sms_enabled\":false,\"categories\":{\"marketing\":true,\"updates\":true,"
                     "\"security\":true},\"quiet_hours\":{\"enabled\":true,\"start\":\"22:00\",\"end\":\"07:30\"}}}";
    mf_preferences_update p;
    mf_error err;
    assert_int_equal(mf_preferences_update_decode(ok, strlen(ok), &p, &err), MF_OK);
    assert_string_equal(p.preferences.quiet_hours.start, "22:00");
    mf_preferences_update_free(&p);
    assert_true(mf_format_check(MF_FMT_TIME, "22:00:00Z", 9));
    assert_false(mf_format_check(MF_FMT_TIME, "22:00", 5));
}

/* Channel helpers bind parameters by name and reject bad values. */
static void test_channel_helpers(void **state)
{
    (void)state;
    char subject[128];
    mf_error err;
    mf_notification_user_push_params p = {.user_id = "3f0c9a52-7d1e-4b8a-9c61-2e5f4a7b8d90"};
    assert_int_equal(mf_notification_user_push_address(&p, subject, sizeof subject, &err), MF_OK);
    assert_string_equal(subject, "notification.user.3f0c9a52-7d1e-4b8a-9c61-2e5f4a7b8d90.push");
    mf_notification_user_push_values v;
    assert_int_equal(mf_notification_user_push_parse(subject, &v, &err), MF_OK);
    assert_string_equal(v.user_id, p.user_id);
    const char *bad[] = {"", "a.b", "*", ">", "a b", "not-a-uuid"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p.user_id = bad[i];
        assert_int_equal(mf_notification_user_push_address(&p, subject, sizeof subject, &err), MF_ERR_INVALID_ARG);
    }
    assert_int_equal(mf_notification_user_push_parse("campaign.create", &v, &err), MF_ERR_NOT_FOUND);
    assert_string_equal(MF_NOTIFICATION_USER_PUSH_WILDCARD, "notification.user.*.push");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples_roundtrip), cmocka_unit_test(test_violations),
        cmocka_unit_test(test_build_in_c),         cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_quiet_hours_time),   cmocka_unit_test(test_channel_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
