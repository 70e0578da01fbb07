/* cs_campaigns.c - see cs_campaigns.h. */
#include "cs_campaigns.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "cs_db.h"
#include "mf/buf.h"

static void lower_id(const char *in, char out[37])
{
    size_t i = 0;
    for (; in && in[i] && i < 36; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

mf_status cs_campaigns_put(sqlite3 *db, const mf_campaign_create *c, const char hash[CS_HASH_HEX], int64_t reach,
                           int64_t now_ms, cs_put_result *res, mf_error *err)
{
    char id[37];
    lower_id(c->campaign_id, id);
    sqlite3_stmt *st;
    mf_status s = cs_db_prepare(db, "SELECT content_hash FROM cs_campaigns WHERE campaign_id = ?1", &st, err);
    if (s != MF_OK)
        return s;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *res = strcmp((const char *)sqlite3_column_text(st, 0), hash) == 0 ? CS_PUT_SAME : CS_PUT_CONFLICT;
    else if (rc != SQLITE_DONE)
        s = svc_db_status(db, rc, "read campaign", err);
    sqlite3_finalize(st);
    if (s != MF_OK || rc == SQLITE_ROW)
        return s;

    mf_campaign_create copy;
    mf_campaign_create_init(&copy);
    mf_buf body = MF_BUF_INIT;
    s = mf_campaign_create_copy(&copy, c, err);
    if (s == MF_OK) {
        copy.target_audience.has_estimated_reach = true;
        copy.target_audience.estimated_reach = reach;
        s = mf_campaign_create_encode(&copy, &body, err);
    }
    if (s == MF_OK)
        s = cs_db_prepare(db, "INSERT INTO cs_campaigns(campaign_id, content_hash, body, name, estimated_reach, "
                              "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st, err);
    if (s == MF_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, body.data, (int)body.len, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, c->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, reach);
        sqlite3_bind_int64(st, 6, now_ms);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            s = svc_db_status(db, rc, "insert campaign", err);
        sqlite3_finalize(st);
        *res = CS_PUT_CREATED;
    }
    mf_buf_free(&body);
    mf_campaign_create_free(&copy);
    return s;
}

mf_status cs_campaigns_get(sqlite3 *db, const char *campaign_id, mf_campaign_create *out, bool *found, mf_error *err)
{
    char id[37];
    lower_id(campaign_id, id);
    *found = false;
    mf_campaign_create_init(out);
    sqlite3_stmt *st;
    mf_status s = cs_db_prepare(db, "SELECT body FROM cs_campaigns WHERE campaign_id = ?1", &st, err);
    if (s != MF_OK)
        return s;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        s = mf_campaign_create_decode((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                                      out, err);
        *found = s == MF_OK;
    } else if (rc != SQLITE_DONE) {
        s = svc_db_status(db, rc, "read campaign", err);
    }
    sqlite3_finalize(st);
    return s;
}

mf_status cs_campaigns_each(sqlite3 *db, cs_campaigns_cb cb, void *ctx, mf_error *err)
{
    sqlite3_stmt *st;
    mf_status s = cs_db_prepare(db, "SELECT body, created_at FROM cs_campaigns ORDER BY created_at, campaign_id", &st,
                                err);
    if (s != MF_OK)
        return s;
    int rc;
    while (s == MF_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        mf_campaign_create c;
        s = mf_campaign_create_decode((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                                      &c, err);
        if (s == MF_OK) {
            cb(ctx, &c, sqlite3_column_int64(st, 1));
            mf_campaign_create_free(&c);
        }
    }
    if (s == MF_OK && rc != SQLITE_DONE)
        s = svc_db_status(db, rc, "list campaigns", err);
    sqlite3_finalize(st);
    return s;
}
