/* Unit tests of cs_validate and cs_campaign: every refusal code with its pointer, and what passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_campaign.h"
#include "cs_test_util.h"
#include "cs_validate.h"

#define NOW cs_test_ms(2026, 3, 1, 12, 0, 0)

/* A minimal campaign with `extra` members spliced in (single-quoted JSON, leading comma). */
static void campaign_with(const char *audience, const char *tmpl, const char *schedule, const char *settings,
                          mf_campaign_create *c)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{'campaign_id':'7c9e6679-7425-40de-944b-e07fc1f90ae7','name':'n',"
             "'target_audience':%s,'notification_template':%s,'schedule':%s%s%s}",
             audience ? audience : "{'user_segments':['all_users']}",
             tmpl ? tmpl : "{'title_template':'Hi {{name}}','body_template':'b'}",
             schedule ? schedule : "{'type':'immediate'}", settings ? ",'settings':" : "", settings ? settings : "");
    cs_test_campaign(buf, c);
}

static void expect(const char *audience, const char *tmpl, const char *schedule, const char *settings,
                   const char *code, const char *pointer)
{
    mf_campaign_create c;
    campaign_with(audience, tmpl, schedule, settings, &c);
    cs_reject rej;
    mf_status st = cs_validate_campaign(&c, NOW, &rej);
    if (!code) {
        if (st != MF_OK)
            fail_msg("refused %s at %s: %s", rej.code, rej.err.pointer, rej.err.message);
        assert_null(rej.code);
    } else {
        assert_int_not_equal(st, MF_OK);
        assert_int_equal(rej.err.code, st);
        if (!rej.code || strcmp(rej.code, code) != 0 || strcmp(rej.err.pointer, pointer) != 0)
            fail_msg("want %s at %s, got %s at %s (%s)", code, pointer, rej.code ? rej.code : "-", rej.err.pointer,
                     rej.err.message);
        assert_true(rej.err.message[0] != '\0');
    }
    mf_campaign_create_free(&c);
}

static void accepted(void **state)
{
    (void)state;
    mf_campaign_create c;
    cs_test_example_campaign(&c);
    cs_reject rej;
    assert_int_equal(cs_validate_campaign(&c, NOW, &rej), MF_OK);
    mf_campaign_create_free(&c);
    expect(NULL, NULL, NULL, NULL, NULL, NULL);
    expect(NULL, NULL, "{'type':'scheduled','scheduled_at':'2026-03-01T12:00:00.001Z'}", NULL, NULL, NULL);
    expect(NULL, NULL, "{'type':'recurring','recurring':{'frequency':'daily','start_date':'2020-01-01'}}", NULL,
           NULL, NULL);
    /* the end date is today in the schedule's zone (Pacific/Kiritimati is already on 03-02) */
    expect(NULL, NULL, "{'type':'recurring','timezone':'Pacific/Kiritimati','recurring':{'frequency':'daily',"
           "'start_date':'2026-01-01','end_date':'2026-03-02'}}", NULL, NULL, NULL);
    /* disabled A/B testing with nothing else is fine; a split of thirds is within 1e-9 */
    expect(NULL, NULL, NULL, "{'max_retries':3,'batch_size':10,'a_b_testing':{'enabled':false}}", NULL, NULL);
    expect(NULL, NULL, NULL,
           "{'max_retries':3,'batch_size':10,'a_b_testing':{'enabled':true,'variants':[{'title_template':'a',"
           "'body_template':'a'},{'title_template':'b','body_template':'b'},{'title_template':'c',"
           "'body_template':'c'}],'traffic_split':[0.3333333333,0.3333333333,0.3333333334]}}",
           NULL, NULL);
}

static void audience(void **state)
{
    (void)state;
    expect("{'user_segments':[]}", NULL, NULL, NULL, "INVALID_AUDIENCE", "/target_audience/user_segments");
    expect("{'user_segments':['all_users'],'user_filters':{'registration_date':{'from':'2025-02-01','to':'2025-01-31'}}}",
           NULL, NULL, NULL, "INVALID_DATE_RANGE", "/target_audience/user_filters/registration_date");
    expect("{'user_segments':['all_users'],'user_filters':{'registration_date':{'from':'2025-02-01','to':'2025-02-01'}}}",
           NULL, NULL, NULL, NULL, NULL);
    expect("{'user_segments':['all_users'],'user_filters':{'last_activity':{'from':'2025-02-01T00:00:00-01:00',"
           "'to':'2025-01-31T23:30:00Z'}}}",
           NULL, NULL, NULL, "INVALID_DATE_RANGE", "/target_audience/user_filters/last_activity");
    /* compared as instants, not as text: 00:00+01:00 is before 23:30Z the day before */
    expect("{'user_segments':['all_users'],'user_filters':{'last_activity':{'from':'2025-02-01T00:00:00+01:00',"
           "'to':'2025-01-31T23:30:00.5Z'}}}",
           NULL, NULL, NULL, NULL, NULL);
    expect("{'user_segments':['all_users'],'user_filters':{'timezone':['Europe/Berlin','Europe/Atlantis']}}", NULL,
           NULL, NULL, "INVALID_TIMEZONE", "/target_audience/user_filters/timezone/1");
}

static void schedule(void **state)
{
    (void)state;
    expect(NULL, NULL, "{'type':'immediate','timezone':'Mars/Base'}", NULL, "INVALID_TIMEZONE", "/schedule/timezone");
    expect(NULL, NULL, "{'type':'scheduled'}", NULL, "INVALID_SCHEDULE", "/schedule/scheduled_at");
    expect(NULL, NULL, "{'type':'scheduled','scheduled_at':'2026-03-01T12:00:00Z'}", NULL, "INVALID_SCHEDULE",
           "/schedule/scheduled_at");
    expect(NULL, NULL, "{'type':'scheduled','scheduled_at':'2026-03-01T13:00:00+02:00'}", NULL, "INVALID_SCHEDULE",
           "/schedule/scheduled_at");
    expect(NULL, NULL, "{'type':'recurring'}", NULL, "INVALID_SCHEDULE", "/schedule/recurring");
    expect(NULL, NULL, "{'type':'recurring','recurring':{'start_date':'2026-03-02'}}", NULL, "INVALID_SCHEDULE",
           "/schedule/recurring/frequency");
    expect(NULL, NULL, "{'type':'recurring','recurring':{'frequency':'daily'}}", NULL, "INVALID_SCHEDULE",
           "/schedule/recurring/start_date");
    expect(NULL, NULL, "{'type':'recurring','recurring':{'frequency':'daily','start_date':'2026-03-02',"
           "'end_date':'2026-03-01'}}", NULL, "INVALID_DATE_RANGE", "/schedule/recurring");
    expect(NULL, NULL, "{'type':'recurring','recurring':{'frequency':'monthly','start_date':'2026-01-01',"
           "'end_date':'2026-02-28'}}", NULL, "INVALID_SCHEDULE", "/schedule/recurring/end_date");
}

static void ab_testing(void **state)
{
    (void)state;
    const char *v2 = "'variants':[{'title_template':'a','body_template':'a'},{'title_template':'b','body_template':'b'}]";
    char s[1024];
    expect(NULL, NULL, NULL, "{'max_retries':3,'batch_size':10,'a_b_testing':{'enabled':true}}", "INVALID_AB_TEST",
           "/settings/a_b_testing/variants");
    snprintf(s, sizeof s, "{'max_retries':3,'batch_size':10,'a_b_testing':{'enabled':true,%s}}", v2);
    expect(NULL, NULL, NULL, s, "INVALID_AB_TEST", "/settings/a_b_testing/traffic_split");
    snprintf(s, sizeof s, "{'max_retries':3,'batch_size':10,'a_b_testing':{'enabled':false,%s}}", v2);
    expect(NULL, NULL, NULL, s, "INVALID_AB_TEST", "/settings/a_b_testing/traffic_split");
    snprintf(s, sizeof s, "{'max_retries':3,'batch_size':10,'a_b_testing':{'enabled':true,%s,'traffic_split':[1]}}", v2);
    expect(NULL, NULL, NULL, s, "INVALID_AB_TEST", "/settings/a_b_testing/traffic_split");
    snprintf(s, sizeof s, "{'max_retries':3,'batch_size':10,'a_b_testing':{'enabled':true,%s,'traffic_split':[0.5,0.4]}}", v2);
    expect(NULL, NULL, NULL, s, "INVALID_AB_TEST", "/settings/a_b_testing/traffic_split");
    snprintf(s, sizeof s, "{'max_retries':3,'batch_size':10,'a_b_testing':{'enabled':true,%s,"
             "'traffic_split':[0.5,0.500000002]}}", v2);
    expect(NULL, NULL, NULL, s, "INVALID_AB_TEST", "/settings/a_b_testing/traffic_split");
    snprintf(s, sizeof s, "{'max_retries':3,'batch_size':10,'a_b_testing':{'enabled':true,%s,"
             "'traffic_split':[0.5,0.5000000005]}}", v2);
    expect(NULL, NULL, NULL, s, NULL, NULL);
}

static void templates(void **state)
{
    (void)state;
    expect(NULL, "{'title_template':'Hi {{name','body_template':'b'}", NULL, NULL, "INVALID_TEMPLATE",
           "/notification_template/title_template");
    expect(NULL, "{'title_template':'t','body_template':'{{coupon}}'}", NULL, NULL, "INVALID_TEMPLATE",
           "/notification_template/body_template");
    expect(NULL, "{'title_template':'t','body_template':'{{coupon}}','data':{'coupon':'X1'}}", NULL, NULL, NULL, NULL);
    expect(NULL, "{'title_template':'t','body_template':'b','localization':{'de-DE':{'title':'{{x}}','body':'b'}}}",
           NULL, NULL, "INVALID_TEMPLATE", "/notification_template/localization/de-DE/title");
    expect(NULL, "{'title_template':'t','body_template':'b','localization':{'de_DE':{'title':'t','body':'b'}}}",
           NULL, NULL, "INVALID_LOCALIZATION", "/notification_template/localization/de_DE");
    expect(NULL, "{'title_template':'t','body_template':'b','localization':{'a/b~':{'title':'t','body':'b'}}}",
           NULL, NULL, "INVALID_LOCALIZATION", "/notification_template/localization/a~1b~0");
    expect(NULL, NULL, NULL,
           "{'max_retries':3,'batch_size':10,'a_b_testing':{'enabled':true,'variants':[{'title_template':'a',"
           "'body_template':'a'},{'title_template':'b','body_template':'{{nope}}'}],'traffic_split':[0.5,0.5]}}",
           "INVALID_TEMPLATE", "/settings/a_b_testing/variants/1/body_template");
    expect(NULL, "{'title_template':'t','body_template':'b','data':{'category':'promo'}}", NULL, NULL,
           "INVALID_CATEGORY", "/notification_template/data/category");
    expect(NULL, "{'title_template':'t','body_template':'b','data':{'category':3}}", NULL, NULL, "INVALID_CATEGORY",
           "/notification_template/data/category");
}

static void campaign_accessors(void **state)
{
    (void)state;
    mf_campaign_create c;
    cs_test_example_campaign(&c);
    cs_settings s;
    cs_campaign_settings(&c, &s);
    assert_int_equal(s.batch_size, 500);
    assert_int_equal(s.max_retries, 5);
    assert_int_equal(s.rate_limit, 200);
    assert_true(s.respect_quiet_hours);
    assert_true(cs_campaign_ab(&c));
    assert_int_equal(cs_campaign_variant_count(&c), 2);
    assert_string_equal(cs_campaign_variant(&c, 1)->title_template, "B {{name}}");
    assert_true(cs_campaign_split(&c, 1) == 0.5);
    char p[64];
    assert_string_equal(cs_campaign_variant_pointer(&c, 1, p, sizeof p), "/settings/a_b_testing/variants/1");
    cs_category cat;
    assert_int_equal(cs_campaign_category(&c, &cat, NULL), MF_OK);
    assert_int_equal(cat, CS_CATEGORY_MARKETING);
    mf_campaign_create_free(&c);

    campaign_with(NULL, "{'title_template':'t','body_template':'b','data':{'category':'security'}}", NULL, NULL, &c);
    assert_int_equal(cs_campaign_category(&c, &cat, NULL), MF_OK);
    assert_int_equal(cat, CS_CATEGORY_SECURITY);
    cs_campaign_settings(&c, &s);
    assert_int_equal(s.batch_size, 1000);
    assert_int_equal(s.max_retries, 3);
    assert_int_equal(s.rate_limit, 0);
    assert_false(cs_campaign_ab(&c));
    assert_int_equal(cs_campaign_variant_count(&c), 1);
    assert_ptr_equal(cs_campaign_variant(&c, 0), &c.notification_template);
    assert_true(cs_campaign_split(&c, 0) == 1.0);
    mf_campaign_create_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepted),
        cmocka_unit_test(audience),
        cmocka_unit_test(schedule),
        cmocka_unit_test(ab_testing),
        cmocka_unit_test(templates),
        cmocka_unit_test(campaign_accessors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
