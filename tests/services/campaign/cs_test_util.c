/* cs_test_util.c - see cs_test_util.h. */
#include "cs_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_time.h"
#include "svc_db.h"

char *cs_test_json(const char *sq)
{
    char *s = strdup(sq);
    assert_non_null(s);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

void cs_test_campaign(const char *sq, mf_campaign_create *out)
{
    char *json = cs_test_json(sq);
    mf_error err;
    mf_status st = mf_campaign_create_decode(json, strlen(json), out, &err);
    if (st != MF_OK)
        fail_msg("test campaign does not decode: %s: %s\n%s", err.pointer, err.message, json);
    free(json);
}

void cs_test_example_campaign(mf_campaign_create *out)
{
    cs_test_campaign(
        "{'campaign_id':'7c9e6679-7425-40de-944b-e07fc1f90ae7','name':'Spring sale',"
        "'target_audience':{'user_segments':['active_users','premium_users'],"
        "'user_filters':{'language':['fr-FR','de-DE'],'timezone':['Europe/Paris','Europe/Berlin'],"
        "'registration_date':{'from':'2024-01-01','to':'2026-02-28'},"
        "'last_activity':{'from':'2026-02-01T00:00:00Z','to':'2026-03-01T00:00:00Z'}},'estimated_reach':48250},"
        "'notification_template':{'title_template':'Spring sale, {{name}}!',"
        "'body_template':'Hi {{name}}, {{discount_percent}}% off.','priority':'high',"
        "'data':{'deep_link':'shop://sale','discount_percent':20},"
        "'localization':{'fr-FR':{'title':'Soldes, {{name}} !','body':'Bonjour {{name}}'},"
        "'de-DE':{'title':'Angebot, {{name}}!','body':'Hallo {{name}}'}}},"
        "'schedule':{'type':'recurring','scheduled_at':'2026-03-02T08:00:00Z','timezone':'Europe/Paris',"
        "'recurring':{'frequency':'weekly','interval':1,'start_date':'2026-03-02','end_date':'2026-03-30'}},"
        "'settings':{'max_retries':5,'batch_size':500,'rate_limit':200,'respect_quiet_hours':true,"
        "'a_b_testing':{'enabled':true,'variants':["
        "{'title_template':'A {{name}}','body_template':'a body','priority':'normal','data':{'variant':'a'}},"
        "{'title_template':'B {{name}}','body_template':'b body','priority':'high','data':{'variant':'b'},"
        "'localization':{'de':{'title':'B de {{name}}','body':'b de'}}}],"
        "'traffic_split':[0.5,0.5]}},"
        "'created_at':'2026-03-01T09:30:00Z'}",
        out);
}

int64_t cs_test_ms(int y, unsigned mo, unsigned d, int h, int mi, int s)
{
    return (cs_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000;
}

uint64_t cs_test_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : 88172645463325252ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ULL;
}

void cs_test_uuid(uint64_t n, char out[37])
{
    snprintf(out, 37, "%08llx-%04llx-4%03llx-8%03llx-%012llx", (unsigned long long)(n >> 32) & 0xffffffffULL,
             (unsigned long long)(n >> 16) & 0xffffULL, (unsigned long long)n & 0xfffULL,
             (unsigned long long)(n * 7) & 0xfffULL, (unsigned long long)(n * 2654435761ULL) & 0xffffffffffffULL);
}

int cs_test_db_int(sqlite3 *db, const char *sql)
{
    int64_t v;
    assert_int_equal(svc_db_int(db, sql, &v, NULL), MF_OK);
    return (int)v;
}

uint32_t cs_test_wal_backlog(const char *path)
{
    char p[4200];
    snprintf(p, sizeof p, "%s-shm", path);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    unsigned char head[136]; /* two WalIndexHdr copies (48 bytes each), then WalCkptInfo */
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    assert_int_equal(got, sizeof head);
    uint32_t max_frame, backfilled; /* in the machine's byte order, as SQLite maps them */
    memcpy(&max_frame, head + 16, 4);  /* WalIndexHdr.mxFrame */
    memcpy(&backfilled, head + 96, 4); /* WalCkptInfo.nBackfill */
    assert_true(backfilled <= max_frame);
    return max_frame - backfilled;
}

void cs_test_db_unlink(const char *path)
{
    char p[4200];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}
