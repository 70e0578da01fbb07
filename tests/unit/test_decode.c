/*
 * test_decode.c - mf_decode: values, every error path (code and pointer),
 * malformed JSON, numbers, UTF-8, nesting, and decoding of every truncated or
 * corrupted prefix of a rich document (ASan/valgrind prove no leak or crash).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"

/* Decodes json as t, expects `code` with `pointer`, and checks that the output
 * was left initialised and the message is a sentence. */
static void expect_err_at(const mf_type *t, const char *json, size_t len, mf_status code,
                          const char *pointer, int line)
{
    fx_out out;
    mf_error err;
    memset(&out, 0xAB, sizeof out);
    mf_status st = mf_decode(t, json, len, &out, &err);
    if (st != code || err.code != code || strcmp(err.pointer, pointer) != 0)
        print_error("line %d: input %.80s\n  got %s (%d) at \"%s\": %s\n  want %s at \"%s\"\n", line,
                    json, mf_status_str(st), (int)st, err.pointer, err.message, mf_status_str(code),
                    pointer);
    assert_int_equal(st, code);
    assert_int_equal(err.code, code);
    assert_string_equal(err.pointer, pointer);
    assert_true(strlen(err.message) > 10);
    assert_true(fx_is_init(t, &out));
    mf_free(t, &out);
}
#define EXPECT_ERR(t, json, code, ptr) expect_err_at(t, json, strlen(json), code, ptr, __LINE__)

/* Same, on the full document with one substring replaced. */
static void expect_doc_err_at(const char *from, const char *to, mf_status code, const char *ptr, int line)
{
    char *j = fx_replace(fx_doc_full_json, from, to);
    expect_err_at(&fx_doc_desc, j, strlen(j), code, ptr, line);
    free(j);
}
#define DOC_ERR(from, to, code, ptr) expect_doc_err_at(from, to, code, ptr, __LINE__)

static void doc_ok_at(const char *from, const char *to, fx_doc *d, int line)
{
    mf_error err;
    char *j = fx_replace(fx_doc_full_json, from, to);
    mf_status st = mf_decode(&fx_doc_desc, j, strlen(j), d, &err);
    if (st)
        print_error("line %d: %s at \"%s\": %s\n", line, mf_status_str(st), err.pointer, err.message);
    free(j);
    assert_int_equal(st, MF_OK);
}
#define DOC_OK(from, to, d) doc_ok_at(from, to, d, __LINE__)

static void test_full(void **state)
{
    (void)state;
    fx_doc d;
    mf_error err;
    assert_int_equal(fx_decode_str(&fx_doc_desc, fx_doc_full_json, &d, &err), MF_OK);
    assert_int_equal(err.code, MF_OK);
    assert_string_equal(d.id, "123e4567-e89b-12d3-a456-426614174000");
    assert_string_equal(d.name, "widget");
    assert_int_equal(d.count, 7);
    assert_true(d.has_score && d.score == 12.5);
    assert_true(d.has_level && d.level == 3);
    assert_true(d.has_temp && d.temp == -3.25);
    assert_int_equal(d.color, FX_COLOR_BLUE);
    assert_string_equal(d.created, "2024-02-29T12:30:00Z");
    assert_string_equal(d.quiet, "22:00");
    assert_true(d.has_version && strcmp(d.version, "v1") == 0);
    assert_true(d.has_answer && d.answer == 42);
    assert_true(d.has_flag && d.flag);
    assert_true(d.has_pi && d.pi == 3.5);
    assert_true(d.has_note && d.note_is_null && d.note == NULL);
    assert_false(d.owner_is_null);
    assert_string_equal(d.owner, "ann");
    assert_true(d.has_lang && strcmp(d.lang, "de") == 0);
    assert_int_equal(d.tags.count, 2);
    assert_string_equal(d.tags.items[1], "\xc3\xa9t\xc3\xa9");
    assert_int_equal(d.points.count, 2);
    assert_int_equal(d.points.items[0].y, -2);
    assert_int_equal(d.points.items[1].y, 9007199254740991LL);
    assert_int_equal(d.colors.count, 2);
    assert_int_equal(d.colors.items[1], FX_COLOR_GREEN);
    assert_true(d.has_settings && d.settings.has_enabled && !d.settings.enabled);
    assert_int_equal(d.settings.retries, 10);
    assert_true(d.settings.ratio == 0.25);
    assert_string_equal(d.settings.label, "hi");
    assert_int_equal(d.labels.count, 2);
    assert_string_equal(d.labels.keys[1], "x/y~");
    assert_string_equal(d.labels.values[1], "Bonjour");
    assert_string_equal(d.extra, "[1,\"two\",{\"three\":3.5}]");
    assert_string_equal(d.meta, "{\"k\":\"v\"}");
    assert_int_equal(d.shape.which, FX_SHAPE_RECT);
    assert_string_equal(d.shape.u.rect.kind, "rect");
    assert_true(d.shape.u.rect.w == 2 && d.shape.u.rect.h == 0.1);
    assert_int_equal(d.any.which, FX_ANY_ARR);
    assert_int_equal(d.any.u.arr.count, 3);
    assert_int_equal(d.any.u.arr.items[2], 3);
    assert_string_equal(d.weird, "\xc3\xa9\n\"\\\t\x01");
    mf_free(&fx_doc_desc, &d);
    assert_true(fx_is_init(&fx_doc_desc, &d));
}

static void test_minimal_and_defaults(void **state)
{
    (void)state;
    fx_doc d;
    assert_int_equal(fx_decode_str(&fx_doc_desc, fx_doc_min_json, &d, NULL), MF_OK);
    assert_true(d.owner_is_null);
    assert_null(d.owner);
    assert_false(d.has_lang);
    assert_string_equal(d.lang, "en"); /* string default filled by the decoder */
    assert_false(d.has_settings);
    assert_true(d.settings.enabled);   /* scalar defaults by mf_init */
    assert_int_equal(d.settings.retries, 3);
    assert_int_equal(d.settings.color, FX_COLOR_GREEN);
    assert_null(d.settings.label);     /* not decoded: mf_init never allocates */
    assert_false(d.has_tags);
    assert_null(d.tags.items);
    assert_false(d.has_note || d.note_is_null);
    mf_free(&fx_doc_desc, &d);

    DOC_OK("\"settings\":{\"enabled\":false,\"retries\":10,\"ratio\":0.25,\"color\":\"red\",\"label\":\"hi\"}",
           "\"settings\":{}", &d);
    assert_true(d.has_settings);
    assert_false(d.settings.has_enabled || d.settings.has_retries || d.settings.has_label);
    assert_true(d.settings.enabled && d.settings.retries == 3 && d.settings.ratio == 0.5);
    assert_string_equal(d.settings.label, "none");
    mf_free(&fx_doc_desc, &d);
}

static void test_member_order_and_unknown(void **state)
{
    (void)state;
    fx_doc a, b;
    const char *rev = "{\"owner\":\"o\",\"zz\":{\"deep\":[1,2,{}]},\"color\":\"green\",\"count\":5,"
                      "\"name\":\"n\",\"id\":\"123E4567-E89B-12D3-A456-426614174000\"}";
    const char *fwd = "{\"id\":\"123E4567-E89B-12D3-A456-426614174000\",\"name\":\"n\",\"count\":5,"
                      "\"color\":\"green\",\"owner\":\"o\"}";
    assert_int_equal(fx_decode_str(&fx_doc_desc, rev, &a, NULL), MF_OK);
    assert_int_equal(fx_decode_str(&fx_doc_desc, fwd, &b, NULL), MF_OK);
    assert_true(mf_equal(&fx_doc_desc, &a, &b));
    mf_free(&fx_doc_desc, &a);
    mf_free(&fx_doc_desc, &b);
}

static void test_presence_errors(void **state)
{
    (void)state;
    fx_doc d;
    DOC_ERR("\"count\":7,", "", MF_ERR_REQUIRED, "/count");
    DOC_ERR("\"owner\":\"ann\",", "", MF_ERR_REQUIRED, "/owner");
    DOC_ERR("{\"x\":0,\"y\":9007199254740991}", "{\"x\":0}", MF_ERR_REQUIRED, "/points/1/y");
    DOC_ERR("\"kind\":\"rect\",", "", MF_ERR_REQUIRED, "/shape/kind");
    DOC_ERR("\"name\":\"widget\"", "\"name\":null", MF_ERR_TYPE, "/name");
    DOC_ERR("\"count\":7", "\"count\":null", MF_ERR_TYPE, "/count");
    DOC_ERR("\"lang\":\"de\"", "\"lang\":null", MF_ERR_TYPE, "/lang");
    DOC_ERR("\"any\":[1,2,3]", "\"any\":null", MF_ERR_TYPE, "/any");
    DOC_ERR("\"name\":\"widget\"", "\"name\":\"a\",\"name\":\"widget\"", MF_ERR_DUPLICATE, "/name");
    DOC_ERR("\"a/b~c\":", "\"a/b~c\":\"x\",\"a/b~c\":", MF_ERR_DUPLICATE, "/a~1b~0c");
    DOC_ERR("{\"x\":1,\"y\":-2}", "{\"x\":1,\"y\":-2,\"z/\":0}", MF_ERR_UNKNOWN_FIELD, "/points/0/z~1");
    DOC_ERR("\"labels\":{\"en\":\"Hello\"", "\"labels\":{\"en\":\"Hello\",\"en\":\"x\"", MF_ERR_DUPLICATE,
            "/labels/en");
    /* null where allowed */
    DOC_OK("\"owner\":\"ann\"", "\"owner\":null", &d);
    assert_true(d.owner_is_null && d.owner == NULL);
    mf_free(&fx_doc_desc, &d);
    DOC_OK("\"note\":null", "\"note\":\"text\"", &d);
    assert_true(d.has_note && !d.note_is_null && strcmp(d.note, "text") == 0);
    mf_free(&fx_doc_desc, &d);
    /* a raw member takes null as its text */
    DOC_OK("\"extra\":[1,\"two\",{\"three\":3.5}]", "\"extra\":null", &d);
    assert_string_equal(d.extra, "null");
    mf_free(&fx_doc_desc, &d);
}

static void test_type_errors(void **state)
{
    (void)state;
    DOC_ERR("\"count\":7", "\"count\":\"7\"", MF_ERR_TYPE, "/count");
    DOC_ERR("\"name\":\"widget\"", "\"name\":5", MF_ERR_TYPE, "/name");
    DOC_ERR("\"flag\":true", "\"flag\":1", MF_ERR_TYPE, "/flag");
    DOC_ERR("\"score\":12.5", "\"score\":\"12.5\"", MF_ERR_TYPE, "/score");
    DOC_ERR("\"color\":\"blue\"", "\"color\":3", MF_ERR_TYPE, "/color");
    DOC_ERR("\"tags\":[\"a\",", "\"tags\":[5,", MF_ERR_TYPE, "/tags/0");
    DOC_ERR("\"tags\":[\"a\",\"\xc3\xa9t\xc3\xa9\"]", "\"tags\":{}", MF_ERR_TYPE, "/tags");
    DOC_ERR("{\"x\":1,\"y\":-2}", "[1,-2]", MF_ERR_TYPE, "/points/0");
    DOC_ERR("\"settings\":{", "\"settings\":[],\"x\":{", MF_ERR_TYPE, "/settings");
    DOC_ERR("\"labels\":{\"en\":\"Hello\"", "\"labels\":{\"en\":1", MF_ERR_TYPE, "/labels/en");
    DOC_ERR("\"x/y~\":\"Bonjour\"", "\"x/y~\":false", MF_ERR_TYPE, "/labels/x~1y~0");
    DOC_ERR("\"labels\":{", "\"labels\":[],\"x\":{", MF_ERR_TYPE, "/labels");
    DOC_ERR("\"meta\":{\"k\":\"v\"}", "\"meta\":[1]", MF_ERR_TYPE, "/meta");
    /* raw values: numbers that overflow a double are errors, not cJSON's null */
    DOC_ERR("\"extra\":[1,", "\"extra\":[1e400,", MF_ERR_RANGE, "/extra/0");
    DOC_ERR("{\"three\":3.5}", "{\"th/ree\":-1e999}", MF_ERR_RANGE, "/extra/2/th~1ree");
    DOC_ERR("\"colors\":[\"red\",", "\"colors\":[null,", MF_ERR_TYPE, "/colors/0");
    DOC_ERR("\"a/b~c\":\"", "\"a/b~c\":{},\"zz\":\"", MF_ERR_TYPE, "/a~1b~0c");
    EXPECT_ERR(&fx_doc_desc, "[]", MF_ERR_TYPE, "");
    EXPECT_ERR(&fx_doc_desc, "null", MF_ERR_TYPE, "");
    EXPECT_ERR(&fx_int_list_desc, "{}", MF_ERR_TYPE, "");
    EXPECT_ERR(&fx_raw_obj_desc, "\"s\"", MF_ERR_TYPE, "");
}

static void test_constraints(void **state)
{
    (void)state;
    fx_doc d;
    /* integer bounds: count inclusive 1..100, level exclusive 0..10 */
    DOC_ERR("\"count\":7", "\"count\":0", MF_ERR_RANGE, "/count");
    DOC_ERR("\"count\":7", "\"count\":101", MF_ERR_RANGE, "/count");
    DOC_ERR("\"level\":3", "\"level\":0", MF_ERR_RANGE, "/level");
    DOC_ERR("\"level\":3", "\"level\":10", MF_ERR_RANGE, "/level");
    DOC_ERR("\"count\":7", "\"count\":1.5", MF_ERR_RANGE, "/count");
    DOC_OK("\"count\":7", "\"count\":100", &d);
    assert_int_equal(d.count, 100);
    mf_free(&fx_doc_desc, &d);
    DOC_OK("\"count\":7", "\"count\":1e2", &d); /* integral -> an integer */
    assert_int_equal(d.count, 100);
    mf_free(&fx_doc_desc, &d);
    DOC_OK("\"level\":3", "\"level\":9.0", &d);
    assert_int_equal(d.level, 9);
    mf_free(&fx_doc_desc, &d);
    DOC_OK("\"level\":3", "\"level\":1", &d);
    mf_free(&fx_doc_desc, &d);
    /* number bounds: score exclusive 0..100, temp inclusive -50..50, ratio [0,1) */
    DOC_ERR("\"score\":12.5", "\"score\":0", MF_ERR_RANGE, "/score");
    DOC_ERR("\"score\":12.5", "\"score\":100", MF_ERR_RANGE, "/score");
    DOC_ERR("\"temp\":-3.25", "\"temp\":50.0001", MF_ERR_RANGE, "/temp");
    DOC_ERR("\"temp\":-3.25", "\"temp\":-50.5", MF_ERR_RANGE, "/temp");
    DOC_ERR("\"ratio\":0.25", "\"ratio\":1", MF_ERR_RANGE, "/settings/ratio");
    DOC_ERR("\"ratio\":0.25", "\"ratio\":-0.1", MF_ERR_RANGE, "/settings/ratio");
    DOC_ERR("\"retries\":10", "\"retries\":11", MF_ERR_RANGE, "/settings/retries");
    DOC_ERR("\"score\":12.5", "\"score\":1e400", MF_ERR_RANGE, "/score");
    DOC_OK("\"temp\":-3.25", "\"temp\":-50", &d);
    mf_free(&fx_doc_desc, &d);
    DOC_OK("\"score\":12.5", "\"score\":99.99999", &d);
    mf_free(&fx_doc_desc, &d);
    /* lengths in code points */
    DOC_ERR("\"name\":\"widget\"", "\"name\":\"\"", MF_ERR_LENGTH, "/name");
    DOC_ERR("\"name\":\"widget\"", "\"name\":\"abcdefghijk\"", MF_ERR_LENGTH, "/name");
    DOC_OK("\"name\":\"widget\"", "\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                  "\xc3\xa9\xc3\xa9\"", &d);
    mf_free(&fx_doc_desc, &d);
    DOC_ERR("\"name\":\"widget\"", "\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\xe2\x82\xac\xe2\x82"
                                   "\xac\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"",
            MF_ERR_LENGTH, "/name");
    DOC_ERR("\"tags\":[\"a\",", "\"tags\":[\"\",", MF_ERR_LENGTH, "/tags/0");
    DOC_ERR("\"tags\":[\"a\",", "\"tags\":[\"abcdef\",", MF_ERR_LENGTH, "/tags/0");
    DOC_ERR("\"tags\":[\"a\",", "\"tags\":[\"a\",\"b\",\"c\",", MF_ERR_LENGTH, "/tags");
    DOC_ERR("\"tags\":[\"a\",\"\xc3\xa9t\xc3\xa9\"]", "\"tags\":[]", MF_ERR_LENGTH, "/tags");
    DOC_ERR("\"labels\":{", "\"labels\":{\"1\":\"\",\"2\":\"\",\"3\":\"\",", MF_ERR_LENGTH, "/labels");
    /* formats */
    DOC_ERR("\"id\":\"123e4567", "\"id\":\"x123e4567", MF_ERR_FORMAT, "/id");
    DOC_ERR("2024-02-29T12:30:00Z", "2024-02-30T12:30:00Z", MF_ERR_FORMAT, "/created");
    DOC_ERR("2024-02-29T12:30:00Z", "2024-02-29 12:30:00", MF_ERR_FORMAT, "/created");
    DOC_ERR("\"day\":\"2024-02-29\"", "\"day\":\"2023-02-29\"", MF_ERR_FORMAT, "/day");
    DOC_ERR("12:30:00+02:00", "25:30:00+02:00", MF_ERR_FORMAT, "/at");
    DOC_ERR("12:30:00+02:00", "12:30:00", MF_ERR_FORMAT, "/at");
    DOC_ERR("\"22:00\"", "\"24:00\"", MF_ERR_FORMAT, "/quiet");
    DOC_ERR("ops@example.com", "ops.example.com", MF_ERR_FORMAT, "/email");
    /* pattern, const */
    DOC_ERR("ABC-123", "abc-123", MF_ERR_PATTERN, "/code");
    DOC_ERR("ABC-123", "ABC-", MF_ERR_PATTERN, "/code");
    DOC_ERR("\"version\":\"v1\"", "\"version\":\"v2\"", MF_ERR_CONST, "/version");
    DOC_ERR("\"version\":\"v1\"", "\"version\":\"v\"", MF_ERR_CONST, "/version");
    DOC_ERR("\"answer\":42", "\"answer\":41", MF_ERR_CONST, "/answer");
    DOC_ERR("\"flag\":true", "\"flag\":false", MF_ERR_CONST, "/flag");
    DOC_ERR("\"pi\":3.5", "\"pi\":3.25", MF_ERR_CONST, "/pi");
    /* enum */
    DOC_ERR("\"color\":\"blue\"", "\"color\":\"pink\"", MF_ERR_ENUM, "/color");
    DOC_ERR("\"color\":\"blue\"", "\"color\":\"Blue\"", MF_ERR_ENUM, "/color");
    DOC_ERR("\"color\":\"blue\"", "\"color\":\"\"", MF_ERR_ENUM, "/color");
    DOC_ERR("\"colors\":[\"red\",\"green\"]", "\"colors\":[\"red\",\"gree\"]", MF_ERR_ENUM, "/colors/1");
    DOC_ERR("\"color\":\"red\",\"label\"", "\"color\":\"redd\",\"label\"", MF_ERR_ENUM, "/settings/color");
}

static void test_error_messages(void **state)
{
    (void)state;
    mf_error err;
    fx_doc d;
    char *j = fx_replace(fx_doc_full_json, "\"color\":\"blue\"", "\"color\":\"pink\"");
    assert_int_equal(mf_decode(&fx_doc_desc, j, strlen(j), &d, &err), MF_ERR_ENUM);
    assert_non_null(strstr(err.message, "\"red\", \"green\", \"blue\""));
    assert_non_null(strstr(err.message, "\"pink\""));
    free(j);
    j = fx_replace(fx_doc_full_json, "\"id\":\"123e4567", "\"id\":\"123e4567-not-a-uuid-but-a-very-long-value-indeed");
    assert_int_equal(mf_decode(&fx_doc_desc, j, strlen(j), &d, &err), MF_ERR_FORMAT);
    assert_non_null(strstr(err.message, "expected a uuid, found \"123e4567-not"));
    assert_non_null(strstr(err.message, "...\"")); /* echo truncated */
    free(j);
    j = fx_replace(fx_doc_full_json, "\"count\":7,", "");
    assert_int_equal(mf_decode(&fx_doc_desc, j, strlen(j), &d, &err), MF_ERR_REQUIRED);
    assert_string_equal(err.message, "missing required member \"count\"");
    free(j);
    assert_int_equal(fx_decode_str(&fx_doc_desc, "{\"id\":1}", &d, &err), MF_ERR_TYPE);
    assert_string_equal(err.message, "expected a string, found a number");
    assert_int_equal(fx_decode_str(&fx_doc_desc, "{\"id\":\"\" ]", &d, &err), MF_ERR_SYNTAX);
    assert_string_equal(err.message, "invalid JSON at byte 9: expected ',' or '}'");
    assert_int_equal(fx_decode_str(&fx_doc_desc, "{} \n x", &d, &err), MF_ERR_SYNTAX);
    assert_string_equal(err.message, "unexpected data after the JSON value at byte 5");
    /* NULL err is allowed */
    assert_int_equal(fx_decode_str(&fx_doc_desc, "{", &d, NULL), MF_ERR_SYNTAX);
    assert_int_equal(mf_decode(NULL, "{}", 2, &d, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_decode(&fx_doc_desc, NULL, 0, &d, &err), MF_ERR_SYNTAX);
}

static void test_integers(void **state)
{
    (void)state;
    fx_out o;
    static const struct {
        const char *json;
        mf_status st;
        int64_t v;
    } cases[] = {
        {"0", MF_OK, 0},
        {"-0", MF_OK, 0},
        {"1.0", MF_OK, 1},
        {"1e2", MF_OK, 100},
        {"1E+2", MF_OK, 100},
        {"-12.000", MF_OK, -12},
        {"9007199254740991", MF_OK, 9007199254740991LL},
        {"-9007199254740991", MF_OK, -9007199254740991LL},
        {"9007199254740992", MF_ERR_RANGE, 0},  /* 2^53: rejected (stricter rule) */
        {"9007199254740993", MF_ERR_RANGE, 0},  /* reads as 2^53 */
        {"-9007199254740992", MF_ERR_RANGE, 0},
        {"18446744073709551616", MF_ERR_RANGE, 0},
        {"1e300", MF_ERR_RANGE, 0},
        {"1e400", MF_ERR_RANGE, 0},
        {"-1e400", MF_ERR_RANGE, 0},
        {"1.5", MF_ERR_RANGE, 0},
        {"0.1", MF_ERR_RANGE, 0},
        {"1e-400", MF_OK, 0}, /* underflows to 0 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mf_error err;
        mf_status st = fx_decode_str(&fx_int_desc, cases[i].json, &o, &err);
        if (st != cases[i].st)
            print_error("%s -> %s\n", cases[i].json, mf_status_str(st));
        assert_int_equal(st, cases[i].st);
        if (st == MF_OK)
            assert_int_equal(o.i, cases[i].v);
        else
            assert_string_equal(err.pointer, "");
    }
    assert_int_equal(fx_decode_str(&fx_num_desc, "-0", &o, NULL), MF_OK);
    assert_true(o.n == 0 && signbit(o.n));
    assert_int_equal(fx_decode_str(&fx_num_desc, "1e400", &o, NULL), MF_ERR_RANGE);
    assert_int_equal(fx_decode_str(&fx_num_desc, "-1e400", &o, NULL), MF_ERR_RANGE);
    assert_int_equal(fx_decode_str(&fx_num_desc, "1.7976931348623157e308", &o, NULL), MF_OK);
    assert_true(o.n == 1.7976931348623157e308);
    assert_int_equal(fx_decode_str(&fx_num_desc, "5e-324", &o, NULL), MF_OK);
    assert_true(o.n == 5e-324);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", " ", "{", "}", "{\"id\"", "{\"id\":", "{\"id\":\"abc", "{\"id\":\"abc\"", "{\"a\":1,}",
        "[1,]", "[1 2]", "{\"a\" 1}", "{a:1}", "{'a':1}", "['a']", "// c\n{}", "{} // c", "/* c */ {}",
        "[NaN]", "[Infinity]", "[-Infinity]", "[nan]", "[01]", "[-01]", "[00]", "[1.]", "[.5]", "[-.5]",
        "[-]", "[1e]", "[1e+]", "[+1]", "[0x10]", "[1.5.3]", "[1e5e5]", "[1-2]", "[tru]", "[True]",
        "[nul]", "{}}", "[1]]", "[]x", "{} {}", "\"a\\x\"", "\"a\\u12\"", "\"a\\uZZZZ\"",
        "\"tab\there\"", "\"nl\nhere\"", "\"\x1f\"", "[\f1]", "[1]\f", "\xef\xbb\xbf{}", "[\x7f]",
        "\"abc", "\"abc\\", "[\"a\",", "123abc", "-", "[1,,2]", "{,}", "{\"a\":1 \"b\":2}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_out o;
        mf_error err;
        memset(&o, 0x5A, sizeof o);
        mf_status st = mf_decode(&fx_raw_desc, bad[i], strlen(bad[i]), &o, &err);
        if (st != MF_ERR_SYNTAX)
            print_error("case %zu (%s): %s %s\n", i, bad[i], mf_status_str(st), err.message);
        assert_int_equal(st, MF_ERR_SYNTAX);
        assert_string_equal(err.pointer, "");
        assert_non_null(strstr(err.message, "byte"));
        assert_null(o.str);
    }
    /* white space around the value is fine */
    fx_out o;
    assert_int_equal(fx_decode_str(&fx_raw_desc, " \t\r\n[1, {\"a\" : null}] \n", &o, NULL), MF_OK);
    assert_string_equal(o.str, "[1,{\"a\":null}]");
    mf_free(&fx_raw_desc, &o);
    /* input without a terminating NUL: an exact-size heap copy (ASan checks reads) */
    const char *src = "{\"k\":[1,2.5,\"x\",true,null]}";
    size_t n = strlen(src);
    char *exact = malloc(n);
    memcpy(exact, src, n);
    assert_int_equal(mf_decode(&fx_raw_desc, exact, n, &o, NULL), MF_OK);
    mf_free(&fx_raw_desc, &o);
    for (size_t k = 0; k < n; k++) { /* every strict prefix fails */
        char *p = malloc(k ? k : 1);
        memcpy(p, src, k);
        assert_int_equal(mf_decode(&fx_raw_desc, p, k, &o, NULL), MF_ERR_SYNTAX);
        free(p);
    }
    free(exact);
}

static void test_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        size_t len; /* 0 = strlen */
        mf_status st;
    } cases[] = {
        {"\"\xc0\xaf\"", 0, MF_ERR_UTF8},              /* overlong '/' */
        {"\"\xe0\x80\xaf\"", 0, MF_ERR_UTF8},          /* overlong, 3 bytes */
        {"\"\xf0\x80\x80\xaf\"", 0, MF_ERR_UTF8},      /* overlong, 4 bytes */
        {"\"\xed\xa0\x80\"", 0, MF_ERR_UTF8},          /* U+D800 encoded */
        {"\"\xed\xbf\xbf\"", 0, MF_ERR_UTF8},          /* U+DFFF encoded */
        {"\"\xf4\x90\x80\x80\"", 0, MF_ERR_UTF8},      /* > U+10FFFF */
        {"\"\xf8\x88\x80\x80\x80\"", 0, MF_ERR_UTF8},  /* 5-byte form */
        {"\"\xe2\x82\"", 0, MF_ERR_UTF8},              /* truncated */
        {"\"\xe2\x82", 0, MF_ERR_UTF8},                /* truncated at the end of input */
        {"\"\x80\"", 0, MF_ERR_UTF8},                  /* lone continuation */
        {"\"\xff\"", 0, MF_ERR_UTF8},
        {"\"a\0b\"", 5, MF_ERR_UTF8},                  /* raw NUL in a string */
        {"\"a\\u0000b\"", 0, MF_ERR_UTF8},             /* escaped NUL */
        {"{\"a\\u0000\":1}", 0, MF_ERR_UTF8},          /* escaped NUL in a member name */
        {"\"\\\\\\u0000\"", 0, MF_ERR_UTF8},           /* escaped backslash, then \u0000 */
        {"\"\\\\u0000\"", 0, MF_OK},                   /* escaped backslash + text u0000 */
        {"\"\\ud800\"", 0, MF_ERR_UTF8},               /* lone high surrogate */
        {"\"\\udc00\"", 0, MF_ERR_UTF8},               /* lone low surrogate */
        {"\"\\uD800\\u0041\"", 0, MF_ERR_UTF8},        /* high + non-surrogate */
        {"\"\\ud800\\ud800\"", 0, MF_ERR_UTF8},        /* high + high */
        {"\"\\ud800x\"", 0, MF_ERR_UTF8},
        {"\"\\ud83d\\ude00\"", 0, MF_OK},              /* a pair */
        {"\"\xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xa9 \xf4\x8f\xbf\xbf\"", 0, MF_OK},
        {"[\"ok\", \xc3\xa9]", 0, MF_ERR_SYNTAX},      /* non-ASCII outside a string */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx_out o;
        mf_error err;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].json);
        mf_status st = mf_decode(&fx_raw_desc, cases[i].json, len, &o, &err);
        if (st != cases[i].st)
            print_error("case %zu: %s %s\n", i, mf_status_str(st), err.message);
        assert_int_equal(st, cases[i].st);
        mf_free(&fx_raw_desc, &o);
    }
    fx_out o;
    mf_error err;
    assert_int_equal(fx_decode_str(&fx_str_desc, "\"\\\\u0000\"", &o, NULL), MF_OK);
    assert_string_equal(o.str, "\\u0000");
    mf_free(&fx_str_desc, &o);
    assert_int_equal(fx_decode_str(&fx_str_desc, "\"\\ud83d\\ude00\\u00e9\\/\"", &o, NULL), MF_OK);
    assert_string_equal(o.str, "\xf0\x9f\x98\x80\xc3\xa9/");
    mf_free(&fx_str_desc, &o);
    assert_int_equal(fx_decode_str(&fx_str_desc, "\"ab\\u0000\"", &o, &err), MF_ERR_UTF8);
    assert_non_null(strstr(err.message, "\\u0000 (NUL)"));
}

static char *nest(int depth, const char *open, const char *inner, const char *close)
{
    size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
    char *s = malloc((size_t)depth * (lo + lc) + li + 1), *p = s;
    for (int i = 0; i < depth; i++, p += lo)
        memcpy(p, open, lo);
    memcpy(p, inner, li);
    p += li;
    for (int i = 0; i < depth; i++, p += lc)
        memcpy(p, close, lc);
    *p = '\0';
    return s;
}

static void test_nesting(void **state)
{
    (void)state;
    fx_out o;
    mf_error err;
    char *s = nest(MF_MAX_DEPTH, "[", "1", "]");
    assert_int_equal(fx_decode_str(&fx_raw_desc, s, &o, &err), MF_OK);
    mf_free(&fx_raw_desc, &o);
    free(s);
    s = nest(MF_MAX_DEPTH + 1, "[", "1", "]");
    assert_int_equal(fx_decode_str(&fx_raw_desc, s, &o, &err), MF_ERR_SYNTAX);
    assert_non_null(strstr(err.message, "nesting deeper than 64"));
    free(s);
    s = nest(100000, "{\"a\":", "1", "}");
    assert_int_equal(fx_decode_str(&fx_raw_desc, s, &o, &err), MF_ERR_SYNTAX);
    free(s);
    s = nest(100000, "[", "", "");
    assert_int_equal(fx_decode_str(&fx_raw_desc, s, &o, &err), MF_ERR_SYNTAX);
    free(s);
    /* a recursive schema: 32 levels of {"kids":[ ... ]} = 64 nestings */
    s = nest(32, "{\"kids\":[", "", "]}");
    assert_int_equal(fx_decode_str(&fx_tree_desc, s, &o, &err), MF_OK);
    assert_true(o.tree.has_kids && o.tree.kids.count == 1);
    mf_free(&fx_tree_desc, &o);
    free(s);
    s = nest(33, "{\"kids\":[", "", "]}");
    assert_int_equal(fx_decode_str(&fx_tree_desc, s, &o, &err), MF_ERR_SYNTAX);
    free(s);
    EXPECT_ERR(&fx_tree_desc, "{\"kids\":[{\"kids\":[{\"kid\":[]}]}]}", MF_ERR_UNKNOWN_FIELD,
               "/kids/0/kids/0/kid");
}

static void test_wide_object(void **state)
{
    (void)state;
    const mf_type *t = fx_wide_desc();
    char json[2048];
    size_t o = 0;
    fx_out out;
    json[o++] = '{';
    for (int i = FX_WIDE_N - 1; i >= 0; i--) /* reverse order: no hint hits */
        o += (size_t)snprintf(json + o, sizeof json - o, "%s\"f%d\":%d", i == FX_WIDE_N - 1 ? "" : ",", i, i);
    json[o++] = '}';
    json[o] = '\0';
    assert_int_equal(fx_decode_str(t, json, &out, NULL), MF_OK);
    for (int i = 0; i < FX_WIDE_N; i++)
        assert_true(out.wide.f[i].has && out.wide.f[i].v == i);
    mf_free(t, &out);
    EXPECT_ERR(t, "{\"f69\":1,\"f68\":1,\"f68\":2}", MF_ERR_DUPLICATE, "/f68");
    EXPECT_ERR(t, "{\"f0\":1,\"f69\":1,\"f0\":2}", MF_ERR_DUPLICATE, "/f0");
    EXPECT_ERR(t, "{\"f1\":1,\"f68\":1}", MF_ERR_REQUIRED, "/f69");
    EXPECT_ERR(t, "{\"f69\":1,\"f70\":1}", MF_ERR_UNKNOWN_FIELD, "/f70");
}

static void test_unions(void **state)
{
    (void)state;
    fx_doc d;
    DOC_OK("{\"kind\":\"rect\",\"w\":2,\"h\":0.1}", "{\"radius\":1.5,\"kind\":\"circle\"}", &d);
    assert_int_equal(d.shape.which, FX_SHAPE_CIRCLE);
    assert_true(d.shape.u.circle.radius == 1.5);
    mf_free(&fx_doc_desc, &d);
    DOC_ERR("{\"kind\":\"rect\",\"w\"", "{\"kind\":\"tri\",\"w\"", MF_ERR_UNION, "/shape/kind");
    DOC_ERR("{\"kind\":\"rect\",\"w\"", "{\"kind\":7,\"w\"", MF_ERR_TYPE, "/shape/kind");
    DOC_ERR("{\"kind\":\"rect\",\"w\":2,\"h\":0.1}", "{\"kind\":\"circle\",\"radius\":0}", MF_ERR_RANGE,
            "/shape/radius");
    DOC_ERR("{\"kind\":\"rect\",\"w\":2,\"h\":0.1}", "[]", MF_ERR_UNION, "/shape");
    DOC_ERR("{\"kind\":\"rect\",\"w\":2,\"h\":0.1}", "\"rect\"", MF_ERR_UNION, "/shape");

    static const struct {
        const char *v;
        int which;
    } any[] = {
        {"true", FX_ANY_BOOL}, {"5", FX_ANY_INT}, {"5.0", FX_ANY_INT}, {"5.5", FX_ANY_NUM},
        {"1e300", FX_ANY_NUM}, {"\"s\"", FX_ANY_STR}, {"[]", FX_ANY_ARR}, {"{\"x\":1,\"y\":2}", FX_ANY_OBJ},
    };
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++) {
        char *to = fx_replace("\"any\":X", "X", any[i].v);
        DOC_OK("\"any\":[1,2,3]", to, &d);
        free(to);
        assert_int_equal(d.any.which, any[i].which);
        mf_free(&fx_doc_desc, &d);
    }
    DOC_OK("\"any\":[1,2,3]", "\"any\":-7", &d);
    assert_int_equal(d.any.u.i, -7);
    mf_free(&fx_doc_desc, &d);
    DOC_OK("\"any\":[1,2,3]", "\"any\":\"text\"", &d);
    assert_string_equal(d.any.u.s, "text");
    mf_free(&fx_doc_desc, &d);
    DOC_ERR("\"any\":[1,2,3]", "\"any\":[1,\"x\"]", MF_ERR_TYPE, "/any/1");
    DOC_ERR("\"any\":[1,2,3]", "\"any\":{\"x\":1}", MF_ERR_REQUIRED, "/any/y");
}

/* Every prefix and many single-byte corruptions of the full document: never a
 * crash, never a leak, and a failed decode leaves the output initialised. */
static void test_truncate_and_corrupt(void **state)
{
    (void)state;
    const char *src = fx_doc_full_json;
    size_t n = strlen(src), fails = 0;
    static const char subst[] = {'"', '{', '}', '[', ']', ',', ':', 'x', '0', '\\', ' ', '\0', '\x80', '\xff'};
    char *buf = malloc(n + 1);
    for (size_t k = 0; k <= n; k++) {
        fx_out o;
        memcpy(buf, src, k);
        mf_status st = mf_decode(&fx_doc_desc, buf, k, &o, NULL);
        if (k < n) {
            assert_int_not_equal(st, MF_OK);
            assert_true(fx_is_init(&fx_doc_desc, &o));
        } else {
            assert_int_equal(st, MF_OK);
        }
        mf_free(&fx_doc_desc, &o);
    }
    for (size_t k = 0; k < n; k++) {
        for (size_t s = 0; s < sizeof subst; s++) {
            fx_out o;
            memcpy(buf, src, n);
            if (buf[k] == subst[s])
                continue;
            buf[k] = subst[s];
            mf_status st = mf_decode(&fx_doc_desc, buf, n, &o, NULL);
            if (st) {
                fails++;
                assert_true(fx_is_init(&fx_doc_desc, &o));
            }
            mf_free(&fx_doc_desc, &o);
        }
    }
    assert_true(fails > n); /* most corruptions are caught */
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_minimal_and_defaults),
        cmocka_unit_test(test_member_order_and_unknown),
        cmocka_unit_test(test_presence_errors),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_constraints),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_wide_object),
        cmocka_unit_test(test_unions),
        cmocka_unit_test(test_truncate_and_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
