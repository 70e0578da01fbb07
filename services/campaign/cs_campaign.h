/*
 * cs_campaign.h - what the Campaign Service reads out of a CampaignCreate: its effective
 * settings (schema defaults applied), its notification category, and its variants.
 *
 * Category: the contract has no category member, so a campaign names it in its template's data
 * as "category": "marketing" | "updates" | "security" (the three categories of a user's
 * notification preferences). Without one, a campaign is "marketing". A user whose preferences
 * turn that category off is skipped.
 *
 * Variants: with a_b_testing.enabled the variants are a_b_testing.variants (each a complete
 * template: its own title, body, localization, priority and data) with their traffic_split;
 * otherwise the one variant is notification_template with a split of 1.
 *
 * Threads: pure functions.
 */
#ifndef CS_CAMPAIGN_H
#define CS_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mf/status.h"
#include "mf_sdk/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_category {
    CS_CATEGORY_MARKETING = 1,
    CS_CATEGORY_UPDATES = 2,
    CS_CATEGORY_SECURITY = 3
} cs_category;

typedef struct cs_settings {
    int64_t batch_size;        /* 1..10000, default 1000 */
    int64_t max_retries;       /* 0..10, default 3 */
    int64_t rate_limit;        /* notifications per second; 0 = no limit */
    bool respect_quiet_hours;  /* default true */
} cs_settings;

/* Effective settings of c (defaults where c says nothing). */
void cs_campaign_settings(const mf_campaign_create *c, cs_settings *out);

/* The category of c. MF_ERR_ENUM (pointer /notification_template/data/category) when data names
 * one that is not a string of the three; MF_ERR_TYPE etc. when data is not an object. */
mf_status cs_campaign_category(const mf_campaign_create *c, cs_category *out, mf_error *err);

/* "marketing", "updates", "security". */
const char *cs_category_name(cs_category c);

/* Number of variants (>= 1) and variant i (0-based). */
size_t cs_campaign_variant_count(const mf_campaign_create *c);
const mf_notification_template *cs_campaign_variant(const mf_campaign_create *c, size_t i);
/* Traffic split of variant i: a_b_testing.traffic_split[i], or 1 for the single variant. */
double cs_campaign_split(const mf_campaign_create *c, size_t i);
/* Whether c runs an A/B test (enabled with variants). */
bool cs_campaign_ab(const mf_campaign_create *c);

/* JSON pointer of variant i's template ("/notification_template" or
 * "/settings/a_b_testing/variants/<i>") into buf (cap bytes). Returns buf. */
char *cs_campaign_variant_pointer(const mf_campaign_create *c, size_t i, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* CS_CAMPAIGN_H */
