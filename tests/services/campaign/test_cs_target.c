/*
 * Unit tests of cs_target: on a random population built through the view's events, every
 * audience (random segments and filters) selects exactly the users an independent computation
 * in this file selects, and estimated_reach is their number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_db.h"
#include "cs_target.h"
#include "cs_test_util.h"
#include "cs_time.h"
#include "cs_userview.h"

#define N_USERS 3000
#define DAY CS_MS_PER_DAY
#define NOW cs_test_ms(2026, 3, 1, 12, 0, 0)

static const char *const LANGS[] = {"en-US", "de-DE", "fr-FR", "es-ES", "ja-JP"};
static const char *const ZONES[] = {"Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC", "Europe/Paris"};

typedef struct person {
    char id[37];
    int lang, zone, plan;        /* plan: 0 unknown, 1 free, 2 premium */
    int64_t registered, active;  /* ms or CS_NO_TIME */
    bool deleted, profile;       /* profile false: known only from analytics */
} person;

static person people[N_USERS];
static sqlite3 *db;

static void build_population(void)
{
    uint64_t r = 42;
    cs_userview *v;
    assert_int_equal(cs_db_open(":memory:", &db, NULL), MF_OK);
    assert_int_equal(cs_userview_open(db, &v, NULL), MF_OK);
    assert_int_equal(svc_db_begin(db, NULL), MF_OK);
    for (int i = 0; i < N_USERS; i++) {
        person *p = &people[i];
        cs_test_uuid((uint64_t)i * 7919 + 1, p->id);
        p->lang = (int)(cs_test_rand(&r) % 5);
        p->zone = (int)(cs_test_rand(&r) % 5);
        p->plan = (int)(cs_test_rand(&r) % 10 == 0 ? 0 : 1 + cs_test_rand(&r) % 2);
        /* some exactly on the 30-day edges, where off-by-one mistakes hide */
        uint64_t k = cs_test_rand(&r) % 20;
        p->registered = k == 0 ? CS_NO_TIME : k == 1 ? NOW - 30 * DAY : NOW - (int64_t)(cs_test_rand(&r) % (400 * DAY));
        k = cs_test_rand(&r) % 20;
        p->active = k < 3 ? CS_NO_TIME : k == 3 ? NOW - 30 * DAY : NOW - (int64_t)(cs_test_rand(&r) % (90 * DAY));
        p->deleted = cs_test_rand(&r) % 30 == 0;
        p->profile = cs_test_rand(&r) % 40 != 0;
        char changes[512], reg[CS_TIME_TEXT_MAX], act[CS_TIME_TEXT_MAX];
        int n = snprintf(changes, sizeof changes, "{\"language\":\"%s\",\"timezone\":\"%s\"", LANGS[p->lang],
                         ZONES[p->zone]);
        if (p->plan)
            n += snprintf(changes + n, sizeof changes - (size_t)n, ",\"plan\":\"%s\"", p->plan == 1 ? "free" : "premium");
        if (p->registered != CS_NO_TIME)
            n += snprintf(changes + n, sizeof changes - (size_t)n, ",\"registered_at\":\"%s\"",
                          cs_time_format(p->registered, reg));
        if (p->active != CS_NO_TIME)
            n += snprintf(changes + n, sizeof changes - (size_t)n, ",\"last_activity\":\"%s\"",
                          cs_time_format(p->active, act));
        snprintf(changes + n, sizeof changes - (size_t)n, "}");
        mf_user_info_update ev = {.user_id = p->id, .has_changes = true, .changes = changes,
                                  .updated_at = "2026-01-01T00:00:00Z"};
        if (p->profile)
            assert_int_equal(cs_userview_apply_update(v, &ev, NULL), MF_OK);
        else if (p->active != CS_NO_TIME) {
            mf_user_analytics_event a = {.event_id = p->id, .user_id = p->id, .timestamp = act,
                                         .event_type = MF_USER_ANALYTICS_EVENT_EVENT_TYPE_USER_LOGGED_IN};
            assert_int_equal(cs_userview_apply_analytics(v, &a, NULL), MF_OK);
        }
        if (p->deleted) {
            mf_user_analytics_event a = {.event_id = p->id, .user_id = p->id, .timestamp = "2026-02-01T00:00:00Z",
                                         .event_type = MF_USER_ANALYTICS_EVENT_EVENT_TYPE_ACCOUNT_DELETED};
            assert_int_equal(cs_userview_apply_analytics(v, &a, NULL), MF_OK);
        }
    }
    assert_int_equal(svc_db_commit(db, NULL), MF_OK);
    cs_userview_close(v);
}

/* ---- the independent computation ---- */

typedef struct audience {
    bool seg[7];                  /* indexed by the segment enum */
    bool has_lang, has_zone;
    bool lang[5], zone[5];
    bool has_reg_from, has_reg_to, has_act_from, has_act_to;
    int64_t reg_from_day, reg_to_day, act_from, act_to;
} audience;

static bool selects(const audience *a, const person *p, int new_days, int active_days)
{
    if (!p->profile || p->deleted)
        return false;
    int64_t new_since = NOW - new_days * DAY, active_since = NOW - active_days * DAY;
    bool in = a->seg[1] || (a->seg[2] && p->registered != CS_NO_TIME && p->registered >= new_since) ||
              (a->seg[3] && p->active != CS_NO_TIME && p->active >= active_since) ||
              (a->seg[4] && (p->active == CS_NO_TIME || p->active < active_since)) || (a->seg[5] && p->plan == 2) ||
              (a->seg[6] && p->plan == 1);
    if (!in || (a->has_lang && !a->lang[p->lang]) || (a->has_zone && !a->zone[p->zone]))
        return false;
    if ((a->has_reg_from || a->has_reg_to) && p->registered == CS_NO_TIME)
        return false;
    if (a->has_reg_from && cs_floor_div(p->registered, DAY) < a->reg_from_day)
        return false;
    if (a->has_reg_to && cs_floor_div(p->registered, DAY) > a->reg_to_day)
        return false;
    if ((a->has_act_from || a->has_act_to) && p->active == CS_NO_TIME)
        return false;
    if (a->has_act_from && p->active < a->act_from)
        return false;
    return !(a->has_act_to && p->active > a->act_to);
}

/* The same audience as a CampaignCreate target_audience, through JSON and the codec. */
static void to_contract(const audience *a, mf_campaign_create *c)
{
    static const char *const segs[] = {"", "all_users", "new_users", "active_users", "inactive_users",
                                       "premium_users", "free_users"};
    char buf[2048], t[CS_TIME_TEXT_MAX];
    size_t n = (size_t)snprintf(buf, sizeof buf, "{'campaign_id':'7c9e6679-7425-40de-944b-e07fc1f90ae7','name':'n',"
                                                 "'target_audience':{'user_segments':[");
    const char *sep = "";
    for (int s = 1; s <= 6; s++)
        if (a->seg[s]) {
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s'%s'", sep, segs[s]);
            sep = ",";
        }
    n += (size_t)snprintf(buf + n, sizeof buf - n, "],'user_filters':{");
    sep = "";
    if (a->has_lang) {
        n += (size_t)snprintf(buf + n, sizeof buf - n, "'language':[");
        for (int i = 0, first = 1; i < 5; i++)
            if (a->lang[i]) {
                n += (size_t)snprintf(buf + n, sizeof buf - n, "%s'%s'", first ? "" : ",", LANGS[i]);
                first = 0;
            }
        n += (size_t)snprintf(buf + n, sizeof buf - n, "]");
        sep = ",";
    }
    if (a->has_zone) {
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s'timezone':[", sep);
        for (int i = 0, first = 1; i < 5; i++)
            if (a->zone[i]) {
                n += (size_t)snprintf(buf + n, sizeof buf - n, "%s'%s'", first ? "" : ",", ZONES[i]);
                first = 0;
            }
        n += (size_t)snprintf(buf + n, sizeof buf - n, "]");
        sep = ",";
    }
    if (a->has_reg_from || a->has_reg_to) {
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s'registration_date':{", sep);
        if (a->has_reg_from)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "'from':'%s'", cs_date_format(a->reg_from_day, t));
        if (a->has_reg_to)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s'to':'%s'", a->has_reg_from ? "," : "",
                                  cs_date_format(a->reg_to_day, t));
        n += (size_t)snprintf(buf + n, sizeof buf - n, "}");
        sep = ",";
    }
    if (a->has_act_from || a->has_act_to) {
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s'last_activity':{", sep);
        if (a->has_act_from)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "'from':'%s'", cs_time_format(a->act_from, t));
        if (a->has_act_to)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s'to':'%s'", a->has_act_from ? "," : "",
                                  cs_time_format(a->act_to, t));
        n += (size_t)snprintf(buf + n, sizeof buf - n, "}");
    }
    snprintf(buf + n, sizeof buf - n, "}},'notification_template':{'title_template':'t','body_template':'b'},"
                                      "'schedule':{'type':'immediate'}}");
    cs_test_campaign(buf, c);
}

static void random_audience(uint64_t *r, audience *a)
{
    memset(a, 0, sizeof *a);
    int nseg = 1 + (int)(cs_test_rand(r) % 3);
    for (int i = 0; i < nseg; i++)
        a->seg[1 + cs_test_rand(r) % 6] = true;
    if (cs_test_rand(r) % 2) {
        a->has_lang = true;
        for (int i = 0; i < 5; i++)
            a->lang[i] = cs_test_rand(r) % 2;
        a->lang[cs_test_rand(r) % 5] = true;
    }
    if (cs_test_rand(r) % 2) {
        a->has_zone = true;
        for (int i = 0; i < 5; i++)
            a->zone[i] = cs_test_rand(r) % 3 == 0;
        a->zone[cs_test_rand(r) % 5] = true;
    }
    int64_t today = cs_floor_div(NOW, DAY);
    if (cs_test_rand(r) % 3 == 0) {
        a->has_reg_from = cs_test_rand(r) % 2;
        a->has_reg_to = !a->has_reg_from || cs_test_rand(r) % 2;
        a->reg_from_day = today - 300 + (int64_t)(cs_test_rand(r) % 150);
        a->reg_to_day = a->reg_from_day + (int64_t)(cs_test_rand(r) % 200);
    }
    if (cs_test_rand(r) % 3 == 0) {
        a->has_act_from = cs_test_rand(r) % 2;
        a->has_act_to = !a->has_act_from || cs_test_rand(r) % 2;
        a->act_from = NOW - (int64_t)(cs_test_rand(r) % (60 * DAY));
        a->act_to = a->act_from + (int64_t)(cs_test_rand(r) % (40 * DAY));
    }
}

typedef struct collect {
    char (*ids)[37];
    size_t n;
} collect;

static int collect_cb(void *ctx, const char *id)
{
    collect *c = ctx;
    snprintf(c->ids[c->n++], 37, "%s", id);
    return 0;
}

static int cmp_ids(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* The independent computation: the ids of the people a selects, in user_id order, into want. */
static size_t expected_targets(const audience *a, const cs_target_opts *o, char want[][37])
{
    size_t nw = 0;
    for (int i = 0; i < N_USERS; i++)
        if (selects(a, &people[i], o->new_days, o->active_days))
            memcpy(want[nw++], people[i].id, 37);
    qsort(want, nw, 37, cmp_ids);
    return nw;
}

static void audiences_match_independent_computation(void **state)
{
    (void)state;
    static char want[N_USERS][37], got[N_USERS][37];
    uint64_t r = 7;
    const int days[][2] = {{30, 30}, {7, 90}, {1, 1}};
    for (int round = 0; round < 300; round++) {
        audience a;
        random_audience(&r, &a);
        cs_target_opts o = {.now_ms = NOW, .new_days = days[round % 3][0], .active_days = days[round % 3][1]};
        size_t nw = expected_targets(&a, &o, want);
        mf_campaign_create c;
        to_contract(&a, &c);
        int64_t count;
        assert_int_equal(cs_target_count(db, &c.target_audience, &o, &count, NULL), MF_OK);
        collect col = {got, 0};
        assert_int_equal(cs_target_each(db, &c.target_audience, &o, collect_cb, &col, NULL), MF_OK);
        if ((size_t)count != nw || col.n != nw)
            fail_msg("round %d: expected %zu users, count %lld, listed %zu", round, nw, (long long)count, col.n);
        for (size_t i = 0; i < nw; i++)
            assert_string_equal(got[i], want[i]); /* same users, in user_id order */
        mf_campaign_create_free(&c);
    }
}

static void snapshot_numbers_targets(void **state)
{
    (void)state;
    audience a = {.seg = {false, true}};
    mf_campaign_create c;
    to_contract(&a, &c);
    cs_target_opts o = {.now_ms = NOW, .new_days = 30, .active_days = 30};
    assert_int_equal(svc_db_exec(db, "INSERT INTO cs_executions(execution_id, campaign_id, status, execution_type, "
                                    "batch_size, start_at, created_at, updated_at) VALUES "
                                    "('1b4e28ba-2fa1-41d2-883f-0016d3cca427', 'c', 1, 1, 10, 0, 0, 0);"
                                "INSERT INTO cs_execution_keys(xk, execution_id) "
                                "VALUES (7, '1b4e28ba-2fa1-41d2-883f-0016d3cca427')",
                                NULL),
                     MF_OK);
    int64_t n, expected;
    assert_int_equal(cs_target_count(db, &c.target_audience, &o, &expected, NULL), MF_OK);
    assert_int_equal(cs_target_snapshot(db, &c.target_audience, &o, 7, &n, NULL), MF_OK);
    assert_int_equal(n, expected);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT seq, user_id FROM cs_targets WHERE xk = 7 ORDER BY seq", -1, &st, NULL), SQLITE_OK);
    int64_t seq = 0;
    char prev[37] = "";
    while (sqlite3_step(st) == SQLITE_ROW) {
        assert_int_equal(sqlite3_column_int64(st, 0), ++seq);
        assert_true(strcmp((const char *)sqlite3_column_text(st, 1), prev) > 0);
        snprintf(prev, sizeof prev, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    assert_int_equal(seq, n);
    assert_true(n > 0);
    sqlite3_finalize(st);
    /* every row under that key, none elsewhere */
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), count(DISTINCT xk) FROM cs_targets", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), n);
    assert_int_equal(sqlite3_column_int64(st, 1), 1);
    sqlite3_finalize(st);
    mf_campaign_create_free(&c);
}

/* The targets under xk: numbered 1..n in user_id order, exactly the users want[0..n) (sorted). */
static void check_snapshot(int64_t xk, char (*want)[37], size_t nw)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT seq, user_id FROM cs_targets WHERE xk = ?1 ORDER BY seq", -1, &st,
                                        NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, xk);
    size_t seq = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        assert_true(seq < nw);
        assert_int_equal(sqlite3_column_int64(st, 0), (int64_t)seq + 1);
        assert_string_equal((const char *)sqlite3_column_text(st, 1), want[seq]);
        seq++;
    }
    assert_int_equal(seq, nw);
    sqlite3_finalize(st);
}

/* The counter's numbering (cs_target_snapshot_numbered) on random audiences, filters included:
 * the same targets, numbered as row_number() numbers them, whether SQLite sorted or not. */
static void numbered_snapshot_matches_independent_computation(void **state)
{
    (void)state;
    static char want[N_USERS][37];
    uint64_t r = 11;
    int renumbered_rounds = 0;
    assert_int_equal(svc_db_begin(db, NULL), MF_OK);
    for (int round = 0; round < 60; round++) {
        audience a;
        random_audience(&r, &a);
        cs_target_opts o = {.now_ms = NOW, .new_days = 30, .active_days = 30};
        size_t nw = expected_targets(&a, &o, want);
        mf_campaign_create c;
        to_contract(&a, &c);
        int64_t n = -1;
        bool renumbered;
        assert_int_equal(cs_target_snapshot_numbered(db, &c.target_audience, &o, 100 + round, &n, &renumbered, NULL),
                         MF_OK);
        assert_int_equal(n, (int64_t)nw);
        check_snapshot(100 + round, want, nw);
        renumbered_rounds += renumbered;
        mf_campaign_create_free(&c);
    }
    svc_db_rollback(db);
    assert_true(renumbered_rounds > 0); /* some plans sorted: the renumbering ran */
}

/* An audience without filters is read along cs_users' key: numbered in the scan, no sort. */
static void numbered_snapshot_without_filters_needs_no_sort(void **state)
{
    (void)state;
    static char want[N_USERS][37];
    audience a = {.seg = {false, true}};
    mf_campaign_create c;
    to_contract(&a, &c);
    cs_target_opts o = {.now_ms = NOW, .new_days = 30, .active_days = 30};
    size_t nw = expected_targets(&a, &o, want);
    int64_t n;
    bool renumbered = true;
    assert_int_equal(svc_db_begin(db, NULL), MF_OK);
    assert_int_equal(cs_target_snapshot_numbered(db, &c.target_audience, &o, 99, &n, &renumbered, NULL), MF_OK);
    assert_false(renumbered);
    assert_int_equal(n, (int64_t)nw);
    check_snapshot(99, want, nw);
    svc_db_rollback(db);
    mf_campaign_create_free(&c);
}

/* cs_target_seq without its counter is an error, not a crash. */
static void seq_function_without_counter_fails(void **state)
{
    (void)state;
    audience a = {.seg = {false, true}};
    mf_campaign_create c;
    to_contract(&a, &c);
    cs_target_opts o = {.now_ms = NOW, .new_days = 30, .active_days = 30};
    int64_t n;
    bool renumbered;
    assert_int_equal(svc_db_begin(db, NULL), MF_OK); /* registers the function */
    assert_int_equal(cs_target_snapshot_numbered(db, &c.target_audience, &o, 98, &n, &renumbered, NULL), MF_OK);
    svc_db_rollback(db);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT cs_target_seq(1)", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ERROR);
    sqlite3_finalize(st);
    mf_campaign_create_free(&c);
}

static int setup(void **state)
{
    (void)state;
    build_population();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    svc_db_close(db);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(audiences_match_independent_computation),
        cmocka_unit_test(snapshot_numbers_targets),
        cmocka_unit_test(numbered_snapshot_matches_independent_computation),
        cmocka_unit_test(numbered_snapshot_without_filters_needs_no_sort),
        cmocka_unit_test(seq_function_without_counter_fails),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
