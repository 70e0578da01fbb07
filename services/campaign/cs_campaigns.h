/*
 * cs_campaigns.h - stored campaigns (table cs_campaigns): one row per campaign_id with its
 * content hash (cs_identity.h) and its CampaignCreate encoded by the codec.
 *
 * A campaign is never overwritten: storing a campaign_id again answers whether the content is
 * the same (idempotent repeat) or not (conflict); the stored row stays as it was either way.
 *
 * Threads: one thread at a time (the sqlite3 handle's).
 */
#ifndef CS_CAMPAIGNS_H
#define CS_CAMPAIGNS_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include "cs_identity.h"
#include "mf/status.h"
#include "mf_sdk/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cs_put_result {
    CS_PUT_CREATED = 1, /* stored now */
    CS_PUT_SAME,        /* already stored with the same content: nothing written */
    CS_PUT_CONFLICT     /* already stored with other content: nothing written */
} cs_put_result;

/*
 * Stores c (with its estimated_reach set to `reach`) under its campaign_id, lower-cased,
 * inside the caller's transaction if one is open. hash is cs_campaign_hash(c).
 */
mf_status cs_campaigns_put(sqlite3 *db, const mf_campaign_create *c, const char hash[CS_HASH_HEX], int64_t reach,
                           int64_t now_ms, cs_put_result *res, mf_error *err);

/* Reads a campaign (any case of id) into *out (must hold no memory; free with
 * mf_campaign_create_free when *found). */
mf_status cs_campaigns_get(sqlite3 *db, const char *campaign_id, mf_campaign_create *out, bool *found, mf_error *err);

/* Calls cb for every stored campaign, oldest first, with its decoded CampaignCreate (valid during the call). */
typedef void (*cs_campaigns_cb)(void *ctx, const mf_campaign_create *c, int64_t stored_at_ms);
mf_status cs_campaigns_each(sqlite3 *db, cs_campaigns_cb cb, void *ctx, mf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* CS_CAMPAIGNS_H */
