/* Unit tests of cs_data and cs_template: data values, placeholders, escaping, localization. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cs_data.h"
#include "cs_template.h"
#include "cs_test_util.h"

static void load(const char *sq, cs_data *d)
{
    char *json = cs_test_json(sq);
    mf_error err;
    assert_int_equal(cs_data_load(json, d, &err), MF_OK);
    free(json);
}

static void data_values(void **state)
{
    (void)state;
    cs_data d;
    load("{'s':'a \\'q\\' \\u00e9','n':42,'f':2.5,'t':true,'z':null,'o':{'x':1},'a':[1]}", &d);
    assert_int_equal(d.count, 7);
    bool present;
    assert_string_equal(cs_data_get(&d, "s", &present), "a \"q\" \xc3\xa9");
    assert_string_equal(cs_data_get(&d, "n", NULL), "42");
    assert_string_equal(cs_data_get(&d, "f", NULL), "2.5");
    assert_string_equal(cs_data_get(&d, "t", NULL), "true");
    assert_null(cs_data_get(&d, "z", &present));
    assert_true(present);
    assert_null(cs_data_get(&d, "o", &present));
    assert_true(present);
    assert_null(cs_data_get(&d, "missing", &present));
    assert_false(present);
    cs_data_free(&d);
    cs_data_free(&d); /* twice is fine */
    assert_int_equal(cs_data_load(NULL, &d, NULL), MF_OK);
    assert_int_equal(d.count, 0);
    mf_error err;
    assert_int_not_equal(cs_data_load("[1,2]", &d, &err), MF_OK);
    assert_int_not_equal(cs_data_load("{\"a\":", &d, &err), MF_OK);
    assert_int_not_equal(cs_data_load("{\"a\":1,\"a\":2}", &d, &err), MF_OK);
    assert_int_equal(d.count, 0);
}

static void data_extend(void **state)
{
    (void)state;
    const char *keys[] = {"campaign_id", "variant"};
    const char *vals[] = {"7c9e6679-7425-40de-944b-e07fc1f90ae7", "B \"quoted\""};
    char *out;
    assert_int_equal(cs_data_extend("{\"deep_link\":\"x\",\"variant\":\"b\"}", keys, vals, 2, &out, NULL), MF_OK);
    assert_string_equal(out, "{\"deep_link\":\"x\",\"variant\":\"b\",\"campaign_id\":\"7c9e6679-7425-40de-944b-e07fc1f90ae7\"}");
    free(out);
    assert_int_equal(cs_data_extend(NULL, keys, vals, 2, &out, NULL), MF_OK);
    assert_string_equal(out, "{\"campaign_id\":\"7c9e6679-7425-40de-944b-e07fc1f90ae7\",\"variant\":\"B \\\"quoted\\\"\"}");
    free(out);
    assert_int_not_equal(cs_data_extend("nope", keys, vals, 2, &out, NULL), MF_OK);
    assert_null(out);
}

static void render(const char *tmpl, const cs_user_fields *u, const cs_data *d, const char *want)
{
    mf_buf b = MF_BUF_INIT;
    mf_error err;
    mf_status st = cs_template_render(tmpl, u, d, &b, &err);
    if (st != MF_OK)
        fail_msg("render %s: %s", tmpl, err.message);
    assert_string_equal(b.data ? b.data : "", want);
    mf_buf_free(&b);
}

static void placeholders(void **state)
{
    (void)state;
    cs_data d;
    load("{'discount':20,'link':'shop://x','name':'data name'}", &d);
    cs_user_fields u = {.name = "Amélie", .email = "a@example.com", .language = "fr-FR", .timezone = "Europe/Paris"};
    render("Hi {{name}}, {{ discount }}% at {{link}} ({{email}}, {{language}}, {{timezone}})", &u, &d,
           "Hi Amélie, 20% at shop://x (a@example.com, fr-FR, Europe/Paris)");
    render("no placeholders", &u, &d, "no placeholders");
    render("", &u, &d, "");
    render("\\{{name}} is literal, {{name}} is not, \\ and }} stay", &u, &d,
           "{{name}} is literal, Amélie is not, \\ and }} stay");
    render("{{name}}{{name}}", &u, &d, "AmélieAmélie");
    /* a value is inserted as it is: no re-interpolation of braces inside it */
    cs_user_fields tricky = {.name = "{{email}}", .email = "x@y.z"};
    render("{{name}}", &tricky, &d, "{{email}}");

    mf_buf b = MF_BUF_INIT;
    mf_buf_append_str(&b, "keep");
    mf_error err;
    cs_user_fields noname = {.email = "a@example.com"};
    assert_int_equal(cs_template_render("Hi {{name}}", &noname, &d, &b, &err), MF_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "{{name}}"));
    assert_string_equal(b.data, "keep"); /* nothing appended on error */
    assert_int_equal(cs_template_render("{{missing}}", &u, &d, &b, &err), MF_ERR_NOT_FOUND);
    assert_int_equal(cs_template_render("{{ name", &u, &d, &b, &err), MF_ERR_SYNTAX);
    assert_int_equal(cs_template_render("{{}}", &u, &d, &b, &err), MF_ERR_SYNTAX);
    assert_int_equal(cs_template_render("{{a b}}", &u, &d, &b, &err), MF_ERR_SYNTAX);
    assert_int_equal(cs_template_render("{{9x}}", &u, &d, &b, &err), MF_ERR_SYNTAX);
    assert_string_equal(b.data, "keep");
    mf_buf_free(&b);
    cs_data_free(&d);
}

static void check_at_creation(void **state)
{
    (void)state;
    cs_data d;
    load("{'n':1,'z':null}", &d);
    mf_error err;
    assert_int_equal(cs_template_check("{{name}} {{email}} {{language}} {{timezone}} {{n}}", &d, &err), MF_OK);
    assert_int_equal(cs_template_check("{{z}}", &d, &err), MF_ERR_NOT_FOUND);
    assert_int_equal(cs_template_check("{{nope}}", &d, &err), MF_ERR_NOT_FOUND);
    assert_int_equal(cs_template_check("{{", &d, &err), MF_ERR_SYNTAX);
    assert_non_null(strstr(err.message, "byte 0"));
    cs_data_free(&d);
}

static void localization(void **state)
{
    (void)state;
    mf_campaign_create c;
    cs_test_example_campaign(&c);
    const mf_notification_template *t = &c.notification_template;
    const char *title, *body;
    assert_string_equal(cs_template_localize(t, "de-DE", &title, &body), "de-DE");
    assert_string_equal(title, "Angebot, {{name}}!");
    assert_string_equal(cs_template_localize(t, "FR-fr", &title, &body), "fr-FR");
    assert_null(cs_template_localize(t, "de-AT", &title, &body)); /* no "de" entry here */
    assert_string_equal(title, "Spring sale, {{name}}!");
    assert_null(cs_template_localize(t, NULL, &title, &body));
    assert_null(cs_template_localize(t, "", &title, &body));
    /* variant B has "de": de-DE and de-AT fall back to it */
    const mf_notification_template *vb = &c.settings.a_b_testing.variants.items[1];
    assert_string_equal(cs_template_localize(vb, "de-DE", &title, &body), "de");
    assert_string_equal(title, "B de {{name}}");
    assert_string_equal(cs_template_localize(vb, "de-AT", &title, &body), "de");
    assert_null(cs_template_localize(vb, "fr-FR", &title, &body));
    assert_string_equal(body, "b body");
    mf_campaign_create_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(data_values),
        cmocka_unit_test(data_extend),
        cmocka_unit_test(placeholders),
        cmocka_unit_test(check_at_creation),
        cmocka_unit_test(localization),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
