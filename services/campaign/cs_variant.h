/*
 * cs_variant.h - the A/B variant of a user, chosen deterministically.
 *
 * u = the first 8 bytes of SHA-256("<campaign_id>/<user_id>", both lower-cased) read as a
 * big-endian integer, top 53 bits scaled into [0, 1). Variant i is chosen when
 * split[0] + ... + split[i-1] <= u < split[0] + ... + split[i]; a variant with split 0 is never
 * chosen, and when rounding leaves u past the last sum the last variant with a non-zero split
 * takes it. Keyed on the campaign (not the execution), so a user sees the same variant in every
 * execution of a recurring campaign; users are spread independently across campaigns.
 *
 * Threads: pure.
 */
#ifndef CS_VARIANT_H
#define CS_VARIANT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The point in [0, 1) of this user in this campaign. */
double cs_variant_point(const char *campaign_id, const char *user_id);

/* The variant index for the point u given n splits (n >= 1). */
size_t cs_variant_for_point(double u, const double *split, size_t n);

/* cs_variant_for_point(cs_variant_point(campaign_id, user_id), split, n). */
size_t cs_variant_pick(const char *campaign_id, const char *user_id, const double *split, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* CS_VARIANT_H */
