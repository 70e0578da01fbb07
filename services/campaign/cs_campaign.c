/* cs_campaign.c - see cs_campaign.h. */
#include "cs_campaign.h"

#include <stdio.h>
#include <string.h>
#include "cs_data.h"

void cs_campaign_settings(const mf_campaign_create *c, cs_settings *out)
{
    out->batch_size = 1000;
    out->max_retries = 3;
    out->rate_limit = 0;
    out->respect_quiet_hours = true;
    if (!c->has_settings)
        return;
    const mf_campaign_create_settings *s = &c->settings;
    out->batch_size = s->batch_size;
    out->max_retries = s->max_retries;
    out->rate_limit = s->has_rate_limit ? s->rate_limit : 0;
    out->respect_quiet_hours = s->has_respect_quiet_hours ? s->respect_quiet_hours : true;
}

const char *cs_category_name(cs_category c)
{
    switch (c) {
    case CS_CATEGORY_UPDATES: return "updates";
    case CS_CATEGORY_SECURITY: return "security";
    default: return "marketing";
    }
}

mf_status cs_campaign_category(const mf_campaign_create *c, cs_category *out, mf_error *err)
{
    *out = CS_CATEGORY_MARKETING;
    const mf_notification_template *t = &c->notification_template;
    if (!t->has_data)
        return MF_OK;
    cs_data d;
    mf_error e;
    mf_status st = cs_data_load(t->data, &d, &e);
    if (st != MF_OK)
        return mf_error_set(err, st, "/notification_template/data", "%s", e.message);
    for (size_t i = 0; i < d.count; i++) {
        if (strcmp(d.keys[i], "category") != 0)
            continue;
        st = MF_ERR_ENUM;
        for (int k = CS_CATEGORY_MARKETING; k <= CS_CATEGORY_SECURITY; k++) {
            if (d.raw[i][0] == '"' && strcmp(d.text[i], cs_category_name((cs_category)k)) == 0) {
                *out = (cs_category)k;
                st = MF_OK;
            }
        }
        if (st != MF_OK)
            mf_error_set(err, st, "/notification_template/data/category",
                         "category must be \"marketing\", \"updates\" or \"security\"");
        break;
    }
    cs_data_free(&d);
    return st;
}

bool cs_campaign_ab(const mf_campaign_create *c)
{
    const mf_campaign_create_settings_a_b_testing *ab = &c->settings.a_b_testing;
    return c->has_settings && c->settings.has_a_b_testing && ab->has_enabled && ab->enabled && ab->has_variants &&
           ab->variants.count > 0;
}

size_t cs_campaign_variant_count(const mf_campaign_create *c)
{
    return cs_campaign_ab(c) ? c->settings.a_b_testing.variants.count : 1;
}

const mf_notification_template *cs_campaign_variant(const mf_campaign_create *c, size_t i)
{
    return cs_campaign_ab(c) ? &c->settings.a_b_testing.variants.items[i] : &c->notification_template;
}

double cs_campaign_split(const mf_campaign_create *c, size_t i)
{
    if (!cs_campaign_ab(c))
        return 1.0;
    const mf_campaign_create_settings_a_b_testing *ab = &c->settings.a_b_testing;
    return ab->has_traffic_split && i < ab->traffic_split.count ? ab->traffic_split.items[i] : 0.0;
}

char *cs_campaign_variant_pointer(const mf_campaign_create *c, size_t i, char *buf, size_t cap)
{
    if (cs_campaign_ab(c))
        snprintf(buf, cap, "/settings/a_b_testing/variants/%zu", i);
    else
        snprintf(buf, cap, "/notification_template");
    return buf;
}
