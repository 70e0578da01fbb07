/* cs_identity.c - see cs_identity.h. */
#include "cs_identity.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_segments(mf_campaign_create_target_audience *a)
{
    size_t n = a->user_segments.count, m = 0;
    int *v = (int *)a->user_segments.items;
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_int);
    for (size_t i = 0; i < n; i++)
        if (m == 0 || v[m - 1] != v[i])
            v[m++] = v[i];
    a->user_segments.count = m;
}

/* Sorts an owned string list and frees duplicates. */
static void sort_strings(char **items, size_t *count)
{
    size_t n = *count, m = 0;
    if (n > 1)
        qsort(items, n, sizeof *items, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (m && strcmp(items[m - 1], items[i]) == 0)
            free(items[i]);
        else
            items[m++] = items[i];
    }
    *count = m;
}

static void sort_localization(mf_localization *l)
{
    /* insertion sort keeps keys and values together; a handful of languages */
    for (size_t i = 1; i < l->count; i++) {
        for (size_t j = i; j > 0 && strcmp(l->keys[j - 1], l->keys[j]) > 0; j--) {
            char *k = l->keys[j];
            mf_localized_text v = l->values[j];
            l->keys[j] = l->keys[j - 1];
            l->values[j] = l->values[j - 1];
            l->keys[j - 1] = k;
            l->values[j - 1] = v;
        }
    }
}

static void canon_template(mf_notification_template *t)
{
    if (!t->has_priority) {
        t->has_priority = true;
        t->priority = MF_PRIORITY_NORMAL;
    }
    if (t->has_localization)
        sort_localization(&t->localization);
}

static mf_status canon_schedule(mf_campaign_create_schedule *s, mf_error *err)
{
    if (!s->has_timezone) {
        free(s->timezone);
        s->timezone = strdup("UTC");
        if (!s->timezone)
            return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
        s->has_timezone = true;
    }
    if (s->has_recurring && !s->recurring.has_interval) {
        s->recurring.has_interval = true;
        s->recurring.interval = 1;
    }
    return MF_OK;
}

static void canon_settings(mf_campaign_create *c)
{
    mf_campaign_create_settings *s = &c->settings;
    if (!c->has_settings) {
        c->has_settings = true;
        s->max_retries = 3;
        s->batch_size = 1000;
    }
    if (!s->has_respect_quiet_hours) {
        s->has_respect_quiet_hours = true;
        s->respect_quiet_hours = true;
    }
    if (s->has_a_b_testing) {
        if (!s->a_b_testing.has_enabled) {
            s->a_b_testing.has_enabled = true;
            s->a_b_testing.enabled = false;
        }
        for (size_t i = 0; s->a_b_testing.has_variants && i < s->a_b_testing.variants.count; i++)
            canon_template(&s->a_b_testing.variants.items[i]);
    }
}

mf_status cs_campaign_canonical(const mf_campaign_create *c, mf_campaign_create *out, mf_error *err)
{
    mf_status st = mf_campaign_create_copy(out, c, err);
    if (st != MF_OK)
        return st;
    free(out->created_at);
    out->created_at = NULL;
    out->has_created_at = false;
    mf_metadata_free(&out->metadata);
    out->has_metadata = false;
    out->target_audience.has_estimated_reach = false;
    out->target_audience.estimated_reach = 0;
    sort_segments(&out->target_audience);
    mf_campaign_create_target_audience_user_filters *f = &out->target_audience.user_filters;
    if (out->target_audience.has_user_filters) {
        if (f->has_language)
            sort_strings(f->language.items, &f->language.count);
        if (f->has_timezone)
            sort_strings(f->timezone.items, &f->timezone.count);
    }
    canon_template(&out->notification_template);
    canon_settings(out);
    if ((st = canon_schedule(&out->schedule, err)) != MF_OK)
        mf_campaign_create_free(out);
    return st;
}

mf_status cs_campaign_canonical_json(const mf_campaign_create *c, mf_buf *out, mf_error *err)
{
    mf_campaign_create canon;
    mf_campaign_create_init(&canon);
    mf_status st = cs_campaign_canonical(c, &canon, err);
    if (st != MF_OK)
        return st;
    st = mf_campaign_create_encode(&canon, out, err);
    mf_campaign_create_free(&canon);
    return st;
}

mf_status cs_campaign_hash(const mf_campaign_create *c, char hex[CS_HASH_HEX], mf_error *err)
{
    mf_buf b = MF_BUF_INIT;
    hex[0] = '\0';
    mf_status st = cs_campaign_canonical_json(c, &b, err);
    if (st != MF_OK)
        return st;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(b.data, b.len, md, &len, EVP_sha256(), NULL) != 1) {
        mf_buf_free(&b);
        return mf_error_set(err, MF_ERR_IO, "", "SHA-256 failed");
    }
    mf_buf_free(&b);
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < len && i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
    return MF_OK;
}
