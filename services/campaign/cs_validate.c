/* cs_validate.c - see cs_validate.h. */
#include "cs_validate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "cs_campaign.h"
#include "cs_data.h"
#include "cs_template.h"
#include "cs_time.h"
#include "cs_tz.h"

#define PTR_MAX MF_ERROR_POINTER_MAX

char *cs_pointer_join(char *out, size_t cap, const char *base, const char *key)
{
    size_t n = (size_t)snprintf(out, cap, "%s/", base);
    for (const char *k = key; *k && n + 3 < cap; k++) {
        if (*k == '~' || *k == '/') {
            out[n++] = '~';
            out[n++] = *k == '~' ? '0' : '1';
        } else {
            out[n++] = *k;
        }
    }
    if (n < cap)
        out[n] = '\0';
    return out;
}

static mf_status reject(cs_reject *rej, const char *code, mf_status st, const char *pointer, const char *msg)
{
    rej->code = code;
    return mf_error_set(&rej->err, st, pointer, "%s", msg);
}

static mf_status check_audience(const mf_campaign_create *c, cs_reject *rej)
{
    const mf_campaign_create_target_audience *a = &c->target_audience;
    if (a->user_segments.count == 0)
        return reject(rej, "INVALID_AUDIENCE", MF_ERR_LENGTH, "/target_audience/user_segments",
                      "at least one user segment is needed");
    if (!a->has_user_filters)
        return MF_OK;
    const mf_campaign_create_target_audience_user_filters *f = &a->user_filters;
    const mf_date_range *rd = &f->registration_date;
    if (f->has_registration_date && rd->has_from && rd->has_to && strcmp(rd->from, rd->to) > 0)
        return reject(rej, "INVALID_DATE_RANGE", MF_ERR_RANGE, "/target_audience/user_filters/registration_date",
                      "registration_date.from is after registration_date.to");
    const mf_date_time_range *la = &f->last_activity;
    int64_t from, to;
    if (f->has_last_activity && la->has_from && la->has_to && cs_time_parse(la->from, &from, NULL) == MF_OK &&
        cs_time_parse(la->to, &to, NULL) == MF_OK && from > to)
        return reject(rej, "INVALID_DATE_RANGE", MF_ERR_RANGE, "/target_audience/user_filters/last_activity",
                      "last_activity.from is after last_activity.to");
    for (size_t i = 0; f->has_timezone && i < f->timezone.count; i++) {
        if (!cs_tz_known(f->timezone.items[i])) {
            char p[PTR_MAX];
            snprintf(p, sizeof p, "/target_audience/user_filters/timezone/%zu", i);
            rej->code = "INVALID_TIMEZONE";
            return mf_error_set(&rej->err, MF_ERR_NOT_FOUND, p, "\"%.64s\" is not a zone of the tz database",
                                f->timezone.items[i]);
        }
    }
    return MF_OK;
}

/* Today's date in the schedule's zone (days since the epoch). */
static int64_t today_in(const char *zone, int64_t now_ms)
{
    int32_t off = 0;
    cs_tz_offset(zone, cs_floor_div(now_ms, 1000), &off, NULL);
    return cs_floor_div(cs_floor_div(now_ms, 1000) + off, 86400);
}

static mf_status check_recurring(const mf_campaign_create_schedule *s, const char *zone, int64_t now_ms,
                                 cs_reject *rej)
{
    const mf_campaign_create_schedule_recurring *r = &s->recurring;
    if (!s->has_recurring)
        return reject(rej, "INVALID_SCHEDULE", MF_ERR_REQUIRED, "/schedule/recurring",
                      "a recurring schedule needs recurring.frequency and recurring.start_date");
    if (!r->has_frequency)
        return reject(rej, "INVALID_SCHEDULE", MF_ERR_REQUIRED, "/schedule/recurring/frequency",
                      "a recurring schedule needs a frequency");
    if (!r->has_start_date)
        return reject(rej, "INVALID_SCHEDULE", MF_ERR_REQUIRED, "/schedule/recurring/start_date",
                      "a recurring schedule needs a start date");
    if (r->has_end_date && strcmp(r->start_date, r->end_date) > 0)
        return reject(rej, "INVALID_DATE_RANGE", MF_ERR_RANGE, "/schedule/recurring",
                      "recurring.start_date is after recurring.end_date");
    int64_t end;
    if (r->has_end_date && cs_date_parse(r->end_date, &end, NULL) == MF_OK && end < today_in(zone, now_ms))
        return reject(rej, "INVALID_SCHEDULE", MF_ERR_RANGE, "/schedule/recurring/end_date",
                      "the recurring schedule has already ended");
    return MF_OK;
}

static mf_status check_schedule(const mf_campaign_create *c, int64_t now_ms, cs_reject *rej)
{
    const mf_campaign_create_schedule *s = &c->schedule;
    const char *zone = s->has_timezone ? s->timezone : "UTC";
    if (!cs_tz_known(zone)) {
        rej->code = "INVALID_TIMEZONE";
        return mf_error_set(&rej->err, MF_ERR_NOT_FOUND, "/schedule/timezone",
                            "\"%.64s\" is not a zone of the tz database", zone);
    }
    if (s->type == MF_CAMPAIGN_CREATE_SCHEDULE_TYPE_SCHEDULED) {
        int64_t at;
        if (!s->has_scheduled_at)
            return reject(rej, "INVALID_SCHEDULE", MF_ERR_REQUIRED, "/schedule/scheduled_at",
                          "a scheduled campaign needs scheduled_at");
        if (cs_time_parse(s->scheduled_at, &at, NULL) != MF_OK || at <= now_ms)
            return reject(rej, "INVALID_SCHEDULE", MF_ERR_RANGE, "/schedule/scheduled_at",
                          "scheduled_at must be in the future");
    }
    if (s->type == MF_CAMPAIGN_CREATE_SCHEDULE_TYPE_RECURRING)
        return check_recurring(s, zone, now_ms, rej);
    return MF_OK;
}

static mf_status check_ab(const mf_campaign_create *c, cs_reject *rej)
{
    if (!c->has_settings || !c->settings.has_a_b_testing)
        return MF_OK;
    const mf_campaign_create_settings_a_b_testing *ab = &c->settings.a_b_testing;
    bool enabled = ab->has_enabled && ab->enabled;
    if (!enabled && !ab->has_variants && !ab->has_traffic_split)
        return MF_OK;
    if (!ab->has_variants)
        return reject(rej, "INVALID_AB_TEST", MF_ERR_REQUIRED, "/settings/a_b_testing/variants",
                      "an A/B test needs variants and a traffic_split");
    if (!ab->has_traffic_split)
        return reject(rej, "INVALID_AB_TEST", MF_ERR_REQUIRED, "/settings/a_b_testing/traffic_split",
                      "an A/B test needs a traffic_split with one share per variant");
    if (ab->traffic_split.count != ab->variants.count) {
        rej->code = "INVALID_AB_TEST";
        return mf_error_set(&rej->err, MF_ERR_LENGTH, "/settings/a_b_testing/traffic_split",
                            "traffic_split has %zu shares for %zu variants", ab->traffic_split.count,
                            ab->variants.count);
    }
    double sum = 0;
    for (size_t i = 0; i < ab->traffic_split.count; i++)
        sum += ab->traffic_split.items[i];
    if (!(fabs(sum - 1.0) <= 1e-9)) {
        rej->code = "INVALID_AB_TEST";
        return mf_error_set(&rej->err, MF_ERR_RANGE, "/settings/a_b_testing/traffic_split",
                            "traffic_split sums to %.12g, not 1", sum);
    }
    return MF_OK;
}

static mf_status check_text(const char *text, const cs_data *d, const char *pointer, cs_reject *rej)
{
    mf_error e;
    mf_status st = cs_template_check(text, d, &e);
    if (st != MF_OK) {
        rej->code = "INVALID_TEMPLATE";
        mf_error_set(&rej->err, st, pointer, "%s", e.message);
    }
    return st;
}

static bool language_key(const char *k)
{
    size_t n = strlen(k);
    for (size_t i = 0; i < n; i++) {
        bool alpha = (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z');
        if (i == 2 ? k[i] != '-' : !alpha)
            return false;
    }
    return n == 2 || n == 5;
}

static mf_status check_template(const mf_notification_template *t, const char *base, cs_reject *rej)
{
    char p[PTR_MAX], q[PTR_MAX + 16];
    cs_data d;
    mf_error e;
    if (cs_data_load(t->has_data ? t->data : NULL, &d, &e) != MF_OK) {
        rej->code = "INVALID_TEMPLATE";
        snprintf(p, sizeof p, "%s/data", base);
        return mf_error_set(&rej->err, e.code, p, "%s", e.message);
    }
    snprintf(p, sizeof p, "%s/title_template", base);
    mf_status st = check_text(t->title_template, &d, p, rej);
    snprintf(p, sizeof p, "%s/body_template", base);
    if (st == MF_OK)
        st = check_text(t->body_template, &d, p, rej);
    for (size_t i = 0; st == MF_OK && t->has_localization && i < t->localization.count; i++) {
        snprintf(q, sizeof q, "%s/localization", base);
        cs_pointer_join(p, sizeof p, q, t->localization.keys[i]);
        if (!language_key(t->localization.keys[i])) {
            st = reject(rej, "INVALID_LOCALIZATION", MF_ERR_PATTERN, p,
                        "a localization key is a language (\"de\") or language-region (\"de-DE\") tag");
            break;
        }
        snprintf(q, sizeof q, "%s/title", p);
        st = check_text(t->localization.values[i].title, &d, q, rej);
        snprintf(q, sizeof q, "%s/body", p);
        if (st == MF_OK)
            st = check_text(t->localization.values[i].body, &d, q, rej);
    }
    cs_data_free(&d);
    return st;
}

static mf_status check_templates(const mf_campaign_create *c, cs_reject *rej)
{
    mf_status st = check_template(&c->notification_template, "/notification_template", rej);
    const mf_campaign_create_settings_a_b_testing *ab = &c->settings.a_b_testing;
    for (size_t i = 0; st == MF_OK && c->has_settings && c->settings.has_a_b_testing && ab->has_variants &&
                       i < ab->variants.count;
         i++) {
        char p[PTR_MAX];
        snprintf(p, sizeof p, "/settings/a_b_testing/variants/%zu", i);
        st = check_template(&ab->variants.items[i], p, rej);
    }
    if (st != MF_OK)
        return st;
    cs_category cat;
    mf_error e;
    if ((st = cs_campaign_category(c, &cat, &e)) != MF_OK) {
        rej->code = "INVALID_CATEGORY";
        rej->err = e;
    }
    return st;
}

mf_status cs_validate_campaign(const mf_campaign_create *c, int64_t now_ms, cs_reject *rej)
{
    rej->code = NULL;
    mf_error_clear(&rej->err);
    mf_status st = check_audience(c, rej);
    if (st == MF_OK)
        st = check_schedule(c, now_ms, rej);
    if (st == MF_OK)
        st = check_ab(c, rej);
    if (st == MF_OK)
        st = check_templates(c, rej);
    return st;
}
