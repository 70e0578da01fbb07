/*
 * cs_identity.h - the content identity of a campaign, for idempotent campaign.create.
 *
 * A campaign_id seen again with the same content is the same campaign (accepted once, nothing
 * changes); with different content it is refused and the stored campaign stays as it was.
 * "Content" is the campaign's definition in a canonical form:
 *   - left out: created_at, metadata (when and from where it was sent, not what it is) and
 *     target_audience.estimated_reach (the service computes it);
 *   - defaults written out: template priority "normal", schedule timezone "UTC", recurring
 *     interval 1, settings {max_retries 3, batch_size 1000, respect_quiet_hours true},
 *     a_b_testing.enabled false - so leaving a default out and writing it are the same;
 *   - sets sorted: user_segments (duplicates dropped), user_filters.language and .timezone
 *     (duplicates dropped), localization entries by key;
 *   - then encoded with the generated encoder (members in schema order, compact) and hashed
 *     with SHA-256 (OpenSSL EVP).
 * The members of a template's free-form `data` object keep their order: {"a":1,"b":2} and
 * {"b":2,"a":1} are different content.
 *
 * Threads: no shared state.
 */
#ifndef CS_IDENTITY_H
#define CS_IDENTITY_H

#include "mf/buf.h"
#include "mf/status.h"
#include "mf_sdk/types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CS_HASH_HEX 65 /* 64 hex digits and the NUL */

/* Makes *out (which must hold no memory) the canonical form of c. On error *out holds nothing. */
mf_status cs_campaign_canonical(const mf_campaign_create *c, mf_campaign_create *out, mf_error *err);

/* Appends the canonical JSON bytes of c to out. On error nothing is appended. */
mf_status cs_campaign_canonical_json(const mf_campaign_create *c, mf_buf *out, mf_error *err);

/* SHA-256 of the canonical bytes, lower-case hex, into hex. */
mf_status cs_campaign_hash(const mf_campaign_create *c, char hex[CS_HASH_HEX], mf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* CS_IDENTITY_H */
