/* Unit tests of cs_identity: the same definition gives the same hash however it is written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cs_identity.h"
#include "cs_test_util.h"

static void hash_of(const char *sq, char hex[CS_HASH_HEX])
{
    mf_campaign_create c;
    cs_test_campaign(sq, &c);
    assert_int_equal(cs_campaign_hash(&c, hex, NULL), MF_OK);
    mf_campaign_create_free(&c);
}

#define HEAD "{'campaign_id':'7c9e6679-7425-40de-944b-e07fc1f90ae7','name':'n',"

static void same_content_same_hash(void **state)
{
    (void)state;
    char a[CS_HASH_HEX], b[CS_HASH_HEX];
    hash_of(HEAD "'target_audience':{'user_segments':['new_users','premium_users'],"
                 "'user_filters':{'language':['fr-FR','de-DE'],'timezone':['UTC','Europe/Berlin']}},"
                 "'notification_template':{'title_template':'t','body_template':'b',"
                 "'localization':{'fr-FR':{'title':'f','body':'f'},'de-DE':{'title':'d','body':'d'}}},"
                 "'schedule':{'type':'immediate'}}",
            a);
    assert_int_equal(strlen(a), 64);
    /* reordered sets, duplicates, defaults written out, volatile members added */
    hash_of(HEAD "'target_audience':{'user_segments':['premium_users','new_users','premium_users'],"
                 "'user_filters':{'language':['de-DE','fr-FR','de-DE'],'timezone':['Europe/Berlin','UTC']},"
                 "'estimated_reach':99},"
                 "'notification_template':{'title_template':'t','body_template':'b','priority':'normal',"
                 "'localization':{'de-DE':{'title':'d','body':'d'},'fr-FR':{'title':'f','body':'f'}}},"
                 "'schedule':{'type':'immediate','timezone':'UTC'},"
                 "'settings':{'max_retries':3,'batch_size':1000,'respect_quiet_hours':true},"
                 "'created_at':'2026-03-01T09:30:00Z','metadata':{'source':'web','environment':'staging'}}",
            b);
    assert_string_equal(a, b);
}

static void different_content_different_hash(void **state)
{
    (void)state;
    const char *base = HEAD "'target_audience':{'user_segments':['all_users']},"
                            "'notification_template':{'title_template':'t','body_template':'b','data':{'a':1,'b':2}},"
                            "'schedule':{'type':'immediate'}}";
    const char *other[] = {
        "{'campaign_id':'7c9e6679-7425-40de-944b-e07fc1f90ae7','name':'N',"
        "'target_audience':{'user_segments':['all_users']},"
        "'notification_template':{'title_template':'t','body_template':'b','data':{'a':1,'b':2}},"
        "'schedule':{'type':'immediate'}}",
        HEAD "'target_audience':{'user_segments':['all_users','free_users']},"
             "'notification_template':{'title_template':'t','body_template':'b','data':{'a':1,'b':2}},"
             "'schedule':{'type':'immediate'}}",
        HEAD "'target_audience':{'user_segments':['all_users']},"
             "'notification_template':{'title_template':'t','body_template':'b','data':{'a':1,'b':3}},"
             "'schedule':{'type':'immediate'}}",
        /* member order inside data counts (documented) */
        HEAD "'target_audience':{'user_segments':['all_users']},"
             "'notification_template':{'title_template':'t','body_template':'b','data':{'b':2,'a':1}},"
             "'schedule':{'type':'immediate'}}",
        HEAD "'target_audience':{'user_segments':['all_users']},"
             "'notification_template':{'title_template':'t','body_template':'b','data':{'a':1,'b':2},'priority':'high'},"
             "'schedule':{'type':'immediate'}}",
        HEAD "'target_audience':{'user_segments':['all_users']},"
             "'notification_template':{'title_template':'t','body_template':'b','data':{'a':1,'b':2}},"
             "'schedule':{'type':'immediate'},'settings':{'max_retries':3,'batch_size':999}}",
    };
    char a[CS_HASH_HEX], b[CS_HASH_HEX];
    hash_of(base, a);
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
        hash_of(other[i], b);
        if (strcmp(a, b) == 0)
            fail_msg("case %zu hashes like the base", i);
    }
}

static void canonical_form_is_a_valid_campaign(void **state)
{
    (void)state;
    mf_campaign_create c, back;
    cs_test_example_campaign(&c);
    mf_buf b = MF_BUF_INIT;
    assert_int_equal(cs_campaign_canonical_json(&c, &b, NULL), MF_OK);
    mf_error err;
    assert_int_equal(mf_campaign_create_decode(b.data, b.len, &back, &err), MF_OK);
    assert_false(back.has_created_at);
    assert_false(back.has_metadata);
    assert_false(back.target_audience.has_estimated_reach);
    assert_string_equal(back.target_audience.user_filters.language.items[0], "de-DE");
    assert_string_equal(back.notification_template.localization.keys[0], "de-DE");
    /* canonical of canonical is itself */
    mf_buf b2 = MF_BUF_INIT;
    assert_int_equal(cs_campaign_canonical_json(&back, &b2, NULL), MF_OK);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.data, b2.data, b.len);
    mf_buf_free(&b);
    mf_buf_free(&b2);
    mf_campaign_create_free(&back);
    mf_campaign_create_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_content_same_hash),
        cmocka_unit_test(different_content_different_hash),
        cmocka_unit_test(canonical_form_is_a_valid_campaign),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
