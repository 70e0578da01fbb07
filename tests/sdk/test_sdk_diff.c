/*
 * test_sdk_diff.c - the direct decoder (mf_decode) against the reference
 * (mf_decode_tree) on the contract's messages (tests/unit/decode_diff.h: the
 * same status, error code and pointer, equal values that encode alike):
 *   - every example of generated/examples/, as written and compact, with all
 *     its mutations (every prefix, every byte deleted or replaced by an
 *     interesting byte, neighbours swapped), each through its own message;
 *   - every case of tests/sdk/cases.json (each constraint broken once);
 *   - every example through every other message (wrong shapes);
 * and mf_encode against mf_validate on every example with each of its parts
 * broken in turn (tests/unit/encode_diff.h); and every member name the
 * generator wrote out as JSON (mf_field.key_text) against the encoder's own
 * escaping of that name, and each object's MF_TF_NO_DEFAULTS against its members.
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

#include "decode_diff.h"
#include "encode_diff.h"
#include "codec/rules.h"
#include "mf_sdk/sdk.h"

static size_t failures, checked;

static void report(const char *why, void *ctx)
{
    (void)ctx;
    if (failures++ < 20)
        print_message("DIFF %s\n", why);
}

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

/* The message an example file belongs to: examples/<Key>.<name>.json. */
static const mf_message_desc *message_of(const char *file)
{
    char key[256];
    const char *dot = strchr(file, '.');
    if (!dot || (size_t)(dot - file) >= sizeof key)
        return NULL;
    memcpy(key, file, (size_t)(dot - file));
    key[dot - file] = '\0';
    return mf_registry_message(&mf_sdk_registry, key);
}

static void examples_and_mutations(void **state)
{
    (void)state;
    DIR *d = opendir(MF_EXAMPLES_DIR);
    size_t files = 0;
    assert_non_null(d);
    failures = checked = 0;
    for (struct dirent *e; (e = readdir(d));) {
        const mf_message_desc *m = message_of(e->d_name);
        char path[2048];
        size_t len;
        if (!m || !strstr(e->d_name, ".json"))
            continue;
        snprintf(path, sizeof path, "%s/%s", MF_EXAMPLES_DIR, e->d_name);
        char *json = slurp(path, &len);
        assert_non_null(json);
        /* as written (pretty), then compact: the shape messages travel in */
        checked += diff_mutations(m->type, json, len, 3, report, NULL);
        void *v = calloc(1, m->size);
        mf_buf compact = MF_BUF_INIT;
        assert_int_equal(mf_decode(m->type, json, len, v, NULL), MF_OK);
        assert_int_equal(mf_encode(m->type, v, &compact, NULL), MF_OK);
        checked += diff_mutations(m->type, compact.data, compact.len, 1, report, NULL);
        /* through every message */
        for (size_t k = 0; k < mf_sdk_registry.message_count; k++) {
            char why[1024];
            checked++;
            if (!diff_decode(mf_sdk_registry.messages[k]->type, compact.data, compact.len, why, sizeof why))
                report(why, NULL);
        }
        mf_free(m->type, v);
        free(v);
        mf_buf_free(&compact);
        free(json);
        files++;
    }
    closedir(d);
    print_message("%zu examples, %zu decodes compared, %zu differences\n", files, checked, failures);
    assert_true(files >= 20);
    assert_int_equal(failures, 0);
}

static void contract_cases(void **state)
{
    (void)state;
    size_t len, n = 0;
    char *text = slurp(MF_CASES_FILE, &len);
    assert_non_null(text);
    cJSON *root = cJSON_ParseWithLength(text, len);
    assert_non_null(root);
    failures = checked = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "cases"))
    {
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "message"));
        const char *json = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "json"));
        const mf_message_desc *m = msg ? mf_registry_message(&mf_sdk_registry, msg) : NULL;
        char why[1024];
        assert_non_null(m);
        assert_non_null(json);
        checked++;
        if (!diff_decode(m->type, json, strlen(json), why, sizeof why))
            report(why, NULL);
        n++;
    }
    cJSON_Delete(root);
    free(text);
    print_message("%zu cases, %zu differences\n", n, failures);
    assert_true(n > 100);
    assert_int_equal(failures, 0);
}

static void encode_checks(void **state)
{
    (void)state;
    DIR *d = opendir(MF_EXAMPLES_DIR);
    size_t n = 0;
    assert_non_null(d);
    failures = 0;
    for (struct dirent *e; (e = readdir(d));) {
        const mf_message_desc *m = message_of(e->d_name);
        char path[2048];
        size_t len;
        if (!m || !strstr(e->d_name, ".json"))
            continue;
        snprintf(path, sizeof path, "%s/%s", MF_EXAMPLES_DIR, e->d_name);
        char *json = slurp(path, &len);
        void *v = calloc(1, m->size);
        assert_int_equal(mf_decode(m->type, json, len, v, NULL), MF_OK);
        n += enc_diff_value(m->type, v, report, NULL);
        mf_free(m->type, v);
        free(v);
        free(json);
    }
    closedir(d);
    print_message("%zu encodes compared, %zu differences\n", n, failures);
    assert_true(n > 500);
    assert_int_equal(failures, 0);
}

/* Whether mf_init writes a default into an object of type t (lifecycle.c set_defaults' walk). */
static bool has_defaults(const mf_type *t, unsigned depth)
{
    for (uint32_t i = 0; depth < 32 && i < t->field_count; i++)
        if (t->fields[i].has_default || (t->fields[i].type->kind == MF_K_OBJ && has_defaults(t->fields[i].type, depth + 1)))
            return true;
    return false;
}

/* Each field's key_text is `,` + the name as mfw_buf_put_string writes it + `:`; an object flagged
 * MF_TF_NO_DEFAULTS has none, and one not flagged has some. */
static size_t check_keys(const mf_type *t, unsigned depth)
{
    size_t n = 0;
    if (!t || depth > 32)
        return 0;
    if (t->kind == MF_K_OBJ && !(t->flags & MF_TF_NO_DEFAULTS) != has_defaults(t, 0))
        fail_msg("%s: MF_TF_NO_DEFAULTS is %s, but the type has %s defaults", t->name,
                 (t->flags & MF_TF_NO_DEFAULTS) ? "set" : "not set", has_defaults(t, 0) ? "some" : "no");
    if (t->kind == MF_K_OBJ) {
        for (uint32_t i = 0; i < t->field_count; i++) {
            const mf_field *f = &t->fields[i];
            mf_buf b = MF_BUF_INIT;
            assert_non_null(f->key_text);
            assert_int_equal(mf_buf_append(&b, ",", 1), MF_OK);
            assert_int_equal(mfw_buf_put_string(&b, f->name, strlen(f->name)), MF_OK);
            assert_int_equal(mf_buf_append(&b, ":", 1), MF_OK);
            if (b.len != f->key_len || memcmp(b.data, f->key_text, b.len) != 0)
                fail_msg("%s.%s: key_text %s, the encoder writes %s", t->name, f->name, f->key_text, b.data);
            mf_buf_free(&b);
            n += 1 + check_keys(f->type, depth + 1);
        }
    }
    if (t->kind == MF_K_ARR || t->kind == MF_K_MAP)
        n += check_keys(t->item, depth + 1);
    for (uint32_t i = 0; t->kind == MF_K_UNION && i < t->branch_count; i++)
        n += check_keys(t->branches[i], depth + 1);
    return n;
}

static void generated_keys(void **state)
{
    (void)state;
    size_t n = 0;
    for (size_t i = 0; i < mf_sdk_registry.message_count; i++)
        n += check_keys(mf_sdk_registry.messages[i]->type, 0);
    print_message("%zu member names compared\n", n);
    assert_true(n > 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(contract_cases),
        cmocka_unit_test(encode_checks),
        cmocka_unit_test(examples_and_mutations),
        cmocka_unit_test(generated_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
