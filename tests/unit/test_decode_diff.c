/*
 * test_decode_diff.c - the direct decoder (mf_decode) against the reference
 * (mf_decode_tree, cJSON) on every input we have: the same status, error code
 * and pointer, and equal values that encode to the same bytes (decode_diff.h).
 *
 * Inputs: every file of JSONTestSuite's test_parsing (tests/data), the
 * fixtures' documents and the union/not/... documents of diff_types.h with
 * their mutations (every prefix, every byte deleted, every byte replaced by
 * interesting bytes, neighbours swapped), hand-written edge cases (numbers,
 * escapes, nesting, white space), and seeded random documents. Each input goes
 * through every descriptor of fixtures.h and diff_types.h.
 *
 * The contract's messages (examples, tests/sdk/cases.json) are checked the
 * same way by tests/sdk/test_sdk_diff.c; the fuzz harness
 * tests/fuzz/fuzz_decode_diff.c explores further.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode_diff.h"
#include "diff_types.h"
#include "fixtures.h"
#include "mf_skip.h"

#ifndef MF_TESTDATA_DIR
#error "MF_TESTDATA_DIR (tests/data) must be defined by the build"
#endif

static size_t failures, checked;

static void report(const char *why, void *ctx)
{
    (void)ctx;
    if (failures++ < 20)
        print_message("DIFF %s\n", why);
}

/* Every descriptor the inputs go through. */
static const mf_type *all_types[64];
static size_t n_types;

static int setup(void **state)
{
    (void)state;
    const mf_type *fx[] = {&fx_doc_desc,  &fx_raw_desc,      &fx_raw_obj_desc, &fx_int_desc,
                           &fx_num_desc,  &fx_str_desc,      &fx_int_list_desc, &fx_tree_desc,
                           &fx_any_desc,  &fx_labels_desc,   &fx_shape_desc,   &fx_settings_desc,
                           &fx_point_desc, &fx_color_desc,   fx_wide_desc()};
    n_types = 0;
    for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++)
        all_types[n_types++] = fx[i];
    for (size_t i = 0; i < sizeof dt_types / sizeof dt_types[0]; i++)
        all_types[n_types++] = dt_types[i];
    return 0;
}

static void check_all_types(const char *json, size_t len)
{
    char why[1024];
    for (size_t k = 0; k < n_types; k++) {
        checked++;
        if (!diff_decode(all_types[k], json, len, why, sizeof why))
            report(why, NULL);
    }
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(n > 0 ? (size_t)n : 1);
    *len = buf && n > 0 ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    return buf;
}

static void jsontestsuite(void **state)
{
    (void)state;
    const char *dir = MF_TESTDATA_DIR "/jsontestsuite/test_parsing";
    DIR *d = opendir(dir);
    size_t files = 0;
    if (!d)
        mf_skip_or_fail("no test data at %s (tests/data/README.md)", dir);
    failures = checked = 0;
    for (struct dirent *e; (e = readdir(d));) {
        char path[2048];
        size_t len = 0;
        if (!strstr(e->d_name, ".json"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *buf = read_file(path, &len);
        assert_non_null(buf);
        check_all_types(buf, len);
        free(buf);
        files++;
    }
    closedir(d);
    print_message("%zu files, %zu decodes compared, %zu differences\n", files, checked, failures);
    assert_true(files > 300);
    assert_int_equal(failures, 0);
}

static void mutate_all(const char *json, size_t stride)
{
    for (size_t k = 0; k < n_types; k++)
        checked += diff_mutations(all_types[k], json, strlen(json), stride, report, NULL);
}

static void fixture_documents_and_mutations(void **state)
{
    (void)state;
    failures = checked = 0;
    /* fx_doc's documents through every type would be slow; fx_doc and a few take all mutations */
    const mf_type *doc_types[] = {&fx_doc_desc, &fx_raw_desc, &fx_any_desc, &dt_holder_desc};
    for (size_t k = 0; k < sizeof doc_types / sizeof doc_types[0]; k++) {
        checked += diff_mutations(doc_types[k], fx_doc_full_json, strlen(fx_doc_full_json), 1, report, NULL);
        checked += diff_mutations(doc_types[k], fx_doc_min_json, strlen(fx_doc_min_json), 1, report, NULL);
    }
    print_message("%zu decodes compared, %zu differences\n", checked, failures);
    assert_int_equal(failures, 0);
}

static void union_documents_and_mutations(void **state)
{
    (void)state;
    failures = checked = 0;
    for (size_t i = 0; i < sizeof dt_docs / sizeof dt_docs[0]; i++)
        mutate_all(dt_docs[i], 1);
    print_message("%zu decodes compared, %zu differences\n", checked, failures);
    assert_int_equal(failures, 0);
}

static void edge_cases(void **state)
{
    (void)state;
    static const char *const cases[] = {
        /* numbers: exact, Clinger's fast path, strtod, overflow, underflow, -0 */
        "0", "-0", "-0.0", "0e0", "0E-999", "1e22", "1e23", "9007199254740991", "9007199254740992",
        "-9007199254740993", "123456789012345678", "12345678901234567890123", "0.1", "0.30000000000000004",
        "1.7976931348623157e308", "1.8e308", "-1e400", "1e-400", "-1e-400", "4.9e-324", "2.2250738585072014e-308",
        "1.5", "1.50", "100e-2", "0.000001", "1e15", "1e16", "999999999999999", "1000000000000000",
        "12.5e1", "1E+2", "-.5", "01", "1.", "1e", "1e+", "--1", "+1", "1.0e-5", "3.14159265358979323846264338",
        "[1e400]", "{\"count\":1e400}", "{\"count\":7.5}", "{\"count\":70e-1}",
        "1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111",
        /* strings and escapes */
        "\"\"", "\"\\u00e9\"", "\"\\ud83d\\ude00\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\u0000\"", "\"\\u00\"",
        "\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"", "\"\\x\"", "\"a\x01\"", "\"\xc3\xa9\"", "\"\xc3\"", "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"", "\"\xe0\x80\xaf\"", "\"abc", "\"abc\\", "\"\\u12", "\"1234567890abcdef\"",
        "\"1234567890abcdefg\"", "\"123456789012345\\n\"",
        /* member names with escapes that spell field names, duplicates so spelled */
        "{\"\\u0069d\":\"123e4567-e89b-12d3-a456-426614174000\"}",
        "{\"count\":1,\"c\\u006funt\":2}", "{\"a\\/b~c\":\"w\"}", "{\"\\u0061\":\"x\"}", "{\"a\":\"x\",\"\\u0061\":\"y\"}",
        /* structure, white space, trailing data */
        " {} ", "{}x", "{} \n x", "[] ]", "{\"a\":1,}", "[1,]", "[,1]", "{,}", "{\"a\" 1}", "{\"a\":}", "{1:2}",
        "\xef\xbb\xbf{}", "\t\r\n[\t1\r,\n2 ]", "nul", "nullx", "truefalse", "[tru]", "[true false]", "\"a\"\"b\"",
        "{\"u\":nulL}", "[nan]", "[-inf]", "[0x10]", "[1 2]", " ", "",
        /* raw values: canonical printing */
        "{\"x\":[1.0,-0,1e2,\"\\u0041\\n\",{\"\\u00e9\":null}],\"y\":{}}", "[ 1 , { \"a\" : [ ] } ]",
        "{\"z\":1e400}", "{\"z\":[{\"k\\u00e9\":[1,-1e999]}]}", "{\"a/b\":{\"~\":1e400}}",
    };
    failures = checked = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_all_types(cases[i], strlen(cases[i]));
    /* nesting: 64 levels are allowed, 65 are not, in every container and context */
    for (int depth = 62; depth <= 66; depth++) {
        char buf[400];
        size_t o = 0;
        for (int k = 0; k < depth; k++) {
            if (k % 2) {
                memcpy(buf + o, "{\"k\":", 5);
                o += 5;
            } else {
                buf[o++] = '[';
            }
        }
        for (int k = depth - 1; k >= 0; k--)
            buf[o++] = k % 2 ? '}' : ']';
        check_all_types(buf, o);
        memmove(buf + 1, buf, o);
        buf[0] = '[';
        buf[o + 1] = ']';
        check_all_types(buf, o + 2);
    }
    print_message("%zu decodes compared, %zu differences\n", checked, failures);
    assert_int_equal(failures, 0);
}

/* ---- seeded random documents ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *const names[] = {"id", "name", "count", "score", "color", "owner", "note", "tags", "points",
                                    "labels", "extra", "meta", "shape", "any", "kind", "radius", "x", "y", "a",
                                    "b", "n", "u", "l", "m", "r", "kids", "f0", "f69", "a/b~c", "\\u0061"};
static const char *const atoms[] = {"0", "-0", "7", "1.5", "-2e3", "1e400", "9007199254740993", "true", "false",
                                    "null", "\"\"", "\"x\"", "\"red\"", "\"circle\"", "\"\\u00e9\"",
                                    "\"123e4567-e89b-12d3-a456-426614174000\"", "\"ABC-12\"", "\"v1\"", "42", "3.5"};

static void gen(mf_buf *b, int depth)
{
    uint32_t r = rnd(depth > 4 ? 3 : 6);
    if (r < 3) {
        mf_buf_append_str(b, atoms[rnd(sizeof atoms / sizeof atoms[0])]);
    } else if (r == 3) {
        uint32_t n = rnd(4);
        mf_buf_append_char(b, '[');
        for (uint32_t i = 0; i < n; i++) {
            if (i)
                mf_buf_append_char(b, ',');
            gen(b, depth + 1);
        }
        mf_buf_append_char(b, ']');
    } else {
        uint32_t n = rnd(5);
        mf_buf_append_char(b, '{');
        for (uint32_t i = 0; i < n; i++) {
            if (i)
                mf_buf_append_char(b, ',');
            mf_buf_printf(b, "\"%s\":", names[rnd(sizeof names / sizeof names[0])]);
            gen(b, depth + 1);
        }
        mf_buf_append_char(b, '}');
    }
}

static void random_documents(void **state)
{
    (void)state;
    failures = checked = 0;
    for (int i = 0; i < 4000; i++) {
        mf_buf b = MF_BUF_INIT;
        gen(&b, 0);
        check_all_types(b.data, b.len);
        if (b.len > 1 && rnd(4) == 0) { /* and a damaged copy */
            b.data[rnd((uint32_t)b.len)] = diff_bytes[rnd(sizeof diff_bytes)];
            check_all_types(b.data, b.len);
        }
        mf_buf_free(&b);
    }
    print_message("%zu decodes compared, %zu differences\n", checked, failures);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jsontestsuite),
        cmocka_unit_test(edge_cases),
        cmocka_unit_test(union_documents_and_mutations),
        cmocka_unit_test(fixture_documents_and_mutations),
        cmocka_unit_test(random_documents),
    };
    return mf_skip_exit(cmocka_run_group_tests(tests, setup, NULL));
}
