/*
 * cs_validate.h - the checks a CampaignCreate must pass beyond its schema (the codec has already
 * enforced required members, enums, formats and bounds when a message reaches the service).
 *
 * Each refusal has a stable code, the JSON pointer of the offending value and a sentence:
 *   INVALID_AUDIENCE      no user segment
 *   INVALID_DATE_RANGE    a range whose start is after its end (registration_date, last_activity,
 *                         recurring start_date/end_date)
 *   INVALID_TIMEZONE      schedule.timezone or a user_filters.timezone entry is not a zone of
 *                         the system tz database
 *   INVALID_SCHEDULE      "scheduled" without scheduled_at, or with one not in the future;
 *                         "recurring" without recurring.frequency or recurring.start_date, or
 *                         whose end_date is already past in the schedule's timezone
 *   INVALID_AB_TEST       A/B testing enabled without variants and traffic_split; variants and
 *                         traffic_split of different lengths; a split that does not sum to 1
 *                         within 1e-9
 *   INVALID_TEMPLATE      a title or body (default, variant or localization) with a syntax
 *                         error or a placeholder that is neither a user field nor a scalar of
 *                         the template's data (see cs_template.h)
 *   INVALID_LOCALIZATION  a localization key that is not a language ("de") or language-region
 *                         ("de-DE") tag
 *   INVALID_CATEGORY      data.category is not "marketing", "updates" or "security"
 * The first problem found is reported; the audience is checked first, then the schedule, the
 * A/B test, the templates and the category.
 *
 * Threads: thread-safe (uses cs_tz).
 */
#ifndef CS_VALIDATE_H
#define CS_VALIDATE_H

#include <stdint.h>
#include "mf/status.h"
#include "mf_sdk/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_reject {
    const char *code; /* static string, one of the codes above; NULL when accepted */
    mf_error err;     /* status, JSON pointer into the CampaignCreate, message */
} cs_reject;

/*
 * Checks c at instant now_ms. MF_OK (rej->code NULL) when it passes; otherwise the error's
 * status (MF_ERR_RANGE, MF_ERR_REQUIRED, MF_ERR_SYNTAX, ...) with rej filled in.
 */
mf_status cs_validate_campaign(const mf_campaign_create *c, int64_t now_ms, cs_reject *rej);

/* Appends `key` to the JSON pointer `base` as one reference token (RFC 6901: "~" -> "~0",
 * "/" -> "~1") into out (cap bytes, truncated if needed). Returns out. */
char *cs_pointer_join(char *out, size_t cap, const char *base, const char *key);

#ifdef __cplusplus
}
#endif
#endif /* CS_VALIDATE_H */
