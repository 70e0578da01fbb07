/* Unit tests of cs_userview: events build the view; late, repeated and reordered events follow
 * "the newest value wins"; deletions hide and erase; bad events change nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_db.h"
#include "cs_test_util.h"
#include "cs_time.h"
#include "cs_userview.h"

#define U1 "3f0c9a52-7d1e-4b8a-9c61-2e5f4a7b8d90"

typedef struct fx {
    sqlite3 *db;
    cs_userview *v;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_int_equal(cs_db_open(":memory:", &f->db, NULL), MF_OK);
    assert_int_equal(cs_userview_open(f->db, &f->v, NULL), MF_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    cs_userview_close(f->v);
    svc_db_close(f->db);
    free(f);
    return 0;
}

static mf_status update(fx *f, const char *id, const char *at, const char *changes_sq, mf_error *err)
{
    mf_user_info_update ev;
    mf_user_info_update_init(&ev);
    ev.user_id = (char *)id;
    ev.updated_at = (char *)at;
    char *changes = changes_sq ? cs_test_json(changes_sq) : NULL;
    ev.has_changes = changes != NULL;
    ev.changes = changes;
    mf_status st = cs_userview_apply_update(f->v, &ev, err);
    free(changes);
    return st;
}

static mf_status analytics(fx *f, const char *id, mf_user_analytics_event_event_type type, const char *at)
{
    mf_user_analytics_event ev = {.event_id = "5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d", .event_type = type,
                                  .user_id = (char *)id, .timestamp = (char *)at};
    return cs_userview_apply_analytics(f->v, &ev, NULL);
}

static void get(fx *f, const char *id, cs_user *u)
{
    bool found;
    assert_int_equal(cs_userview_get(f->v, id, u, &found, NULL), MF_OK);
    assert_true(found);
}

static void profile_and_partial_changes(void **state)
{
    fx *f = *state;
    assert_int_equal(update(f, U1, "2026-03-01T09:00:00Z",
                            "{'name':'Amélie','email':'a@example.com','language':'fr-FR','timezone':'Europe/Paris',"
                            "'plan':'premium','registered_at':'2025-01-02T03:04:05Z',"
                            "'last_activity':'2026-02-28T10:00:00Z','unknown_field':{'x':1}}",
                            NULL),
                     MF_OK);
    cs_user u;
    get(f, "3F0C9A52-7D1E-4B8A-9C61-2E5F4A7B8D90", &u); /* any case */
    assert_true(u.live);
    assert_string_equal(u.user_id, U1);
    assert_string_equal(u.name, "Amélie");
    assert_string_equal(u.plan, "premium");
    assert_int_equal(u.registered_at, cs_test_ms(2025, 1, 2, 3, 4, 5));
    assert_int_equal(u.last_activity, cs_test_ms(2026, 2, 28, 10, 0, 0));
    assert_true(u.push_enabled && u.cat_marketing && !u.quiet.enabled); /* contract defaults */
    cs_user_free(&u);
    /* only the changed field; null clears */
    assert_int_equal(update(f, U1, "2026-03-01T10:00:00Z", "{'language':'de-DE','email':null}", NULL), MF_OK);
    get(f, U1, &u);
    assert_string_equal(u.language, "de-DE");
    assert_null(u.email);
    assert_string_equal(u.name, "Amélie");
    cs_user_free(&u);
    int64_t n;
    assert_int_equal(cs_userview_count(f->v, &n, NULL), MF_OK);
    assert_int_equal(n, 1);
    bool found;
    assert_int_equal(cs_userview_get(f->v, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", &u, &found, NULL), MF_OK);
    assert_false(found);
}

static void out_of_order_and_duplicates(void **state)
{
    fx *f = *state;
    /* newer first, older after: per field, the newer value stays */
    assert_int_equal(update(f, U1, "2026-03-01T10:00:00Z", "{'name':'New','timezone':'Europe/Berlin'}", NULL), MF_OK);
    assert_int_equal(update(f, U1, "2026-03-01T09:00:00Z", "{'name':'Old','email':'old@example.com'}", NULL), MF_OK);
    cs_user u;
    get(f, U1, &u);
    assert_string_equal(u.name, "New");
    assert_string_equal(u.email, "old@example.com"); /* no newer email: the older one is the newest known */
    assert_string_equal(u.timezone, "Europe/Berlin");
    cs_user_free(&u);
    /* a duplicate of the newer event: nothing changes */
    assert_int_equal(update(f, U1, "2026-03-01T10:00:00Z", "{'name':'New','timezone':'Europe/Berlin'}", NULL), MF_OK);
    get(f, U1, &u);
    assert_string_equal(u.name, "New");
    cs_user_free(&u);
    /* activity only moves forward, from both event kinds */
    assert_int_equal(analytics(f, U1, MF_USER_ANALYTICS_EVENT_EVENT_TYPE_USER_LOGGED_IN, "2026-03-05T00:00:00Z"), MF_OK);
    assert_int_equal(analytics(f, U1, MF_USER_ANALYTICS_EVENT_EVENT_TYPE_USER_LOGGED_IN, "2026-03-04T00:00:00Z"), MF_OK);
    assert_int_equal(update(f, U1, "2026-03-01T11:00:00Z", "{'last_activity':'2026-03-02T00:00:00Z'}", NULL), MF_OK);
    get(f, U1, &u);
    assert_int_equal(u.last_activity, cs_test_ms(2026, 3, 5, 0, 0, 0));
    cs_user_free(&u);
    /* the User Service writes a never-active user's last_activity as null: no change */
    assert_int_equal(update(f, U1, "2026-03-01T12:00:00Z", "{'last_activity':null,'name':'Newer'}", NULL), MF_OK);
    get(f, U1, &u);
    assert_int_equal(u.last_activity, cs_test_ms(2026, 3, 5, 0, 0, 0));
    assert_string_equal(u.name, "Newer");
    cs_user_free(&u);
    /* registration from analytics only when the view has none */
    assert_int_equal(analytics(f, U1, MF_USER_ANALYTICS_EVENT_EVENT_TYPE_USER_REGISTERED, "2024-01-01T00:00:00Z"), MF_OK);
    assert_int_equal(analytics(f, U1, MF_USER_ANALYTICS_EVENT_EVENT_TYPE_USER_REGISTERED, "2023-01-01T00:00:00Z"), MF_OK);
    get(f, U1, &u);
    assert_int_equal(u.registered_at, cs_test_ms(2024, 1, 1, 0, 0, 0));
    cs_user_free(&u);
}

static void preferences(void **state)
{
    fx *f = *state;
    mf_preferences_update p;
    char *json = cs_test_json("{'user_id':'" U1 "','preferences':{'email_enabled':true,'push_enabled':false,"
                              "'sms_enabled':false,'categories':{'marketing':false,'updates':true,'security':true},"
                              "'quiet_hours':{'enabled':true,'start':'22:00','end':'07:30'}},"
                              "'updated_at':'2026-03-01T09:30:00Z'}");
    assert_int_equal(mf_preferences_update_decode(json, strlen(json), &p, NULL), MF_OK);
    free(json);
    assert_int_equal(cs_userview_apply_preferences(f->v, &p, 0, NULL), MF_OK);
    cs_user u;
    get(f, U1, &u);
    assert_false(u.live); /* known only from preferences: not targetable */
    assert_false(u.push_enabled);
    assert_false(u.cat_marketing);
    assert_true(u.quiet.enabled);
    assert_int_equal(u.quiet.start, 22 * 3600);
    assert_int_equal(u.quiet.end, 7 * 3600 + 1800);
    cs_user_free(&u);
    /* an older preferences event is ignored; one without updated_at counts as received now */
    p.preferences.push_enabled = true;
    free(p.updated_at);
    p.updated_at = strdup("2026-03-01T09:00:00Z");
    assert_int_equal(cs_userview_apply_preferences(f->v, &p, 0, NULL), MF_OK);
    get(f, U1, &u);
    assert_false(u.push_enabled);
    cs_user_free(&u);
    p.has_updated_at = false;
    assert_int_equal(cs_userview_apply_preferences(f->v, &p, cs_test_ms(2026, 3, 2, 0, 0, 0), NULL), MF_OK);
    get(f, U1, &u);
    assert_true(u.push_enabled);
    cs_user_free(&u);
    /* preferences inside a republished profile follow the same rule */
    assert_int_equal(update(f, U1, "2026-03-03T00:00:00Z",
                            "{'name':'A','preferences':{'email_enabled':true,'push_enabled':true,'sms_enabled':false,"
                            "'categories':{'marketing':true,'updates':false,'security':true}}}",
                            NULL),
                     MF_OK);
    get(f, U1, &u);
    assert_true(u.live);
    assert_false(u.cat_updates);
    assert_false(u.quiet.enabled);
    cs_user_free(&u);
    mf_preferences_update_free(&p);
}

static void deletion(void **state)
{
    fx *f = *state;
    assert_int_equal(update(f, U1, "2026-03-01T09:00:00Z", "{'name':'A','email':'a@example.com'}", NULL), MF_OK);
    assert_int_equal(analytics(f, U1, MF_USER_ANALYTICS_EVENT_EVENT_TYPE_ACCOUNT_DELETED, "2026-03-02T00:00:00Z"), MF_OK);
    cs_user u;
    get(f, U1, &u);
    assert_false(u.live);
    assert_null(u.name);
    assert_null(u.email);
    cs_user_free(&u);
    /* a change made before the deletion, arriving after it, stays erased */
    assert_int_equal(update(f, U1, "2026-03-01T12:00:00Z", "{'name':'Late'}", NULL), MF_OK);
    assert_int_equal(analytics(f, U1, MF_USER_ANALYTICS_EVENT_EVENT_TYPE_USER_LOGGED_IN, "2026-03-01T13:00:00Z"), MF_OK);
    get(f, U1, &u);
    assert_false(u.live);
    assert_null(u.name);
    assert_int_equal(u.last_activity, CS_NO_TIME);
    cs_user_free(&u);
    /* a deletion arriving before the user's first profile still wins over older profiles */
    const char *u2 = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
    assert_int_equal(analytics(f, u2, MF_USER_ANALYTICS_EVENT_EVENT_TYPE_ACCOUNT_DELETED, "2026-03-02T00:00:00Z"), MF_OK);
    assert_int_equal(update(f, u2, "2026-03-01T00:00:00Z", "{'name':'B'}", NULL), MF_OK);
    get(f, u2, &u);
    assert_false(u.live);
    cs_user_free(&u);
    /* the User Service can also say it in the profile: "deleted": true */
    const char *u3 = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";
    assert_int_equal(update(f, u3, "2026-03-01T00:00:00Z", "{'name':'C'}", NULL), MF_OK);
    assert_int_equal(update(f, u3, "2026-03-01T01:00:00Z", "{'deleted':true}", NULL), MF_OK);
    get(f, u3, &u);
    assert_false(u.live);
    assert_null(u.name);
    cs_user_free(&u);
    /* a profile made after the deletion (re-created) shows the user again */
    assert_int_equal(update(f, U1, "2026-03-03T00:00:00Z", "{'name':'Again'}", NULL), MF_OK);
    get(f, U1, &u);
    assert_true(u.live);
    assert_string_equal(u.name, "Again");
    cs_user_free(&u);
}

static void bad_events_change_nothing(void **state)
{
    fx *f = *state;
    assert_int_equal(update(f, U1, "2026-03-01T09:00:00Z", "{'name':'A','plan':'free'}", NULL), MF_OK);
    mf_error err;
    assert_int_equal(update(f, U1, "2026-03-02T09:00:00Z", "{'name':'B','plan':'gold'}", &err), MF_ERR_ENUM);
    assert_string_equal(err.pointer, "/changes/plan");
    assert_int_equal(update(f, U1, "2026-03-02T09:00:00Z", "{'name':'B','email':'not an email'}", &err), MF_ERR_FORMAT);
    assert_string_equal(err.pointer, "/changes/email");
    assert_int_equal(update(f, U1, "2026-03-02T09:00:00Z", "{'language':'german'}", &err), MF_ERR_PATTERN);
    assert_int_equal(update(f, U1, "2026-03-02T09:00:00Z", "{'registered_at':'yesterday'}", &err), MF_ERR_FORMAT);
    assert_int_equal(update(f, U1, "2026-03-02T09:00:00Z", "{'name':5}", &err), MF_ERR_TYPE);
    assert_int_equal(update(f, "not-a-uuid", "2026-03-02T09:00:00Z", "{'name':'x'}", &err), MF_ERR_FORMAT);
    assert_int_equal(update(f, U1, "soon", "{'name':'x'}", &err), MF_ERR_FORMAT);
    cs_user u;
    get(f, U1, &u);
    assert_string_equal(u.name, "A");
    assert_string_equal(u.plan, "free");
    cs_user_free(&u);
    int64_t n;
    assert_int_equal(cs_userview_count(f->v, &n, NULL), MF_OK);
    assert_int_equal(n, 1);
}

static void survives_reopen(void **state)
{
    (void)state;
    char path[] = "/tmp/cs_userview_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    fx f;
    assert_int_equal(cs_db_open(path, &f.db, NULL), MF_OK);
    assert_int_equal(cs_userview_open(f.db, &f.v, NULL), MF_OK);
    assert_int_equal(update(&f, U1, "2026-03-01T09:00:00Z", "{'name':'Kept'}", NULL), MF_OK);
    cs_userview_close(f.v);
    svc_db_close(f.db);
    assert_int_equal(cs_db_open(path, &f.db, NULL), MF_OK); /* migrations are not re-applied */
    assert_int_equal(cs_userview_open(f.db, &f.v, NULL), MF_OK);
    cs_user u;
    get(&f, U1, &u);
    assert_string_equal(u.name, "Kept");
    cs_user_free(&u);
    cs_userview_close(f.v);
    /* a database from a newer build is refused */
    assert_int_equal(svc_db_exec(f.db, "INSERT INTO schema_version(component, version, name, applied_at) VALUES "
                                       "('campaign', 99, 'from the future', '2099-01-01T00:00:00.000Z')", NULL),
                     MF_OK);
    svc_db_close(f.db);
    mf_error err;
    assert_int_equal(cs_db_open(path, &f.db, &err), MF_ERR_INVALID_ARG);
    assert_null(f.db);
    cs_test_db_unlink(path);
    assert_int_equal(cs_db_open("/nonexistent-dir/x.db", &f.db, &err), MF_ERR_IO);
}

/* cs_userview_row over CS_USERVIEW_COLUMNS: what a batch needs, equal to cs_userview_get's; the
 * rest unknown. A LEFT JOIN that found no user: not found, nothing to free. */
static void batch_columns(void **state)
{
    fx *f = *state;
    assert_int_equal(update(f, U1, "2026-03-01T09:00:00Z",
                            "{'name':'Amélie','email':'a@example.com','language':'fr-FR','timezone':'Europe/Paris',"
                            "'plan':'premium','registered_at':'2025-01-02T03:04:05Z',"
                            "'last_activity':'2026-02-28T10:00:00Z'}",
                            NULL),
                     MF_OK);
    mf_preferences_update p;
    char *json = cs_test_json("{'user_id':'" U1 "','preferences':{'email_enabled':true,'push_enabled':true,"
                              "'sms_enabled':true,'categories':{'marketing':false,'updates':true,'security':false},"
                              "'quiet_hours':{'enabled':true,'start':'22:00','end':'07:30'}},"
                              "'updated_at':'2026-03-01T09:30:00Z'}");
    assert_int_equal(mf_preferences_update_decode(json, strlen(json), &p, NULL), MF_OK);
    free(json);
    assert_int_equal(cs_userview_apply_preferences(f->v, &p, 0, NULL), MF_OK);
    mf_preferences_update_free(&p);
    cs_user all, b;
    get(f, U1, &all);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT " CS_USERVIEW_COLUMNS ", 7 FROM (SELECT ?1 AS id) AS k "
                                               "LEFT JOIN cs_users AS u ON u.user_id = k.id", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, U1, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    bool found = false;
    assert_int_equal(cs_userview_row(st, 0, &b, &found, NULL), MF_OK);
    assert_true(found);
    assert_string_equal(b.user_id, all.user_id);
    assert_string_equal(b.name, "Amélie");
    assert_string_equal(b.email, all.email);
    assert_string_equal(b.language, all.language);
    assert_string_equal(b.timezone, all.timezone);
    assert_true(b.live && all.live);
    assert_true(b.push_enabled == all.push_enabled && b.cat_marketing == all.cat_marketing &&
                b.cat_updates == all.cat_updates && b.cat_security == all.cat_security);
    assert_false(b.cat_marketing);
    assert_true(b.quiet.enabled && b.quiet.start == all.quiet.start && b.quiet.end == all.quiet.end);
    /* not read for a batch: unknown */
    assert_null(b.plan);
    assert_string_equal(all.plan, "premium");
    assert_true(b.registered_at == CS_NO_TIME && b.last_activity == CS_NO_TIME);
    assert_false(b.email_enabled || b.sms_enabled);
    assert_int_equal(sqlite3_column_int(st, 13), 7); /* the columns end where the macro says */
    cs_user_free(&b);
    cs_user_free(&all);
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, "00000000-0000-4000-8000-000000000000", -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(cs_userview_row(st, 0, &b, &found, NULL), MF_OK);
    assert_false(found);
    assert_null(b.text);
    sqlite3_finalize(st);
}

/* cs_userview_row_in: many rows' strings in one cs_user_texts, growing past its first block (16
 * KiB): every string stays where it was read (valid and equal) until the reset; the users own
 * nothing (text NULL, cs_user_free harmless); after a reset the storage is reused. */
#define MANY 300
static void rows_in_texts(void **state)
{
    fx *f = *state;
    char id[MANY][37], name[MANY][160];
    for (int i = 0; i < MANY; i++) {
        snprintf(id[i], sizeof id[i], "00000000-0000-4000-8000-%012d", i);
        snprintf(name[i], sizeof name[i], "user %d %0120d", i, i); /* ~130 bytes: 300 of them > 16 KiB */
        char changes[400];
        snprintf(changes, sizeof changes, "{'name':'%.150s','email':'u%d@example.com','timezone':'Europe/Paris'}",
                 name[i], i);
        assert_int_equal(update(f, id[i], "2026-03-01T09:00:00Z", changes, NULL), MF_OK);
    }
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT " CS_USERVIEW_COLUMNS " FROM cs_users AS u ORDER BY u.user_id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    cs_user_texts texts = {0};
    static cs_user u[MANY];
    for (int round = 0; round < 2; round++) {
        cs_user_texts_reset(&texts); /* the first time: empty, nothing to do */
        int n = 0;
        bool found;
        while (sqlite3_step(st) == SQLITE_ROW) {
            assert_true(n < MANY);
            assert_int_equal(cs_userview_row_in(st, 0, &texts, &u[n], &found, NULL), MF_OK);
            assert_true(found);
            assert_null(u[n].text);
            n++;
        }
        sqlite3_reset(st);
        assert_int_equal(n, MANY);
        for (int i = 0; i < MANY; i++) { /* all still valid after the storage grew */
            char email[32];
            snprintf(email, sizeof email, "u%d@example.com", i);
            assert_string_equal(u[i].user_id, id[i]);
            assert_string_equal(u[i].name, name[i]);
            assert_string_equal(u[i].email, email);
            assert_null(u[i].language);
            assert_string_equal(u[i].timezone, "Europe/Paris");
            cs_user_free(&u[i]); /* frees nothing of the texts' */
        }
        assert_non_null(texts.blocks);
    }
    sqlite3_finalize(st);
    cs_user_texts_free(&texts);
    assert_null(texts.blocks);
    cs_user_texts_free(&texts); /* twice is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(profile_and_partial_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(out_of_order_and_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(preferences, setup, teardown),
        cmocka_unit_test_setup_teardown(batch_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(rows_in_texts, setup, teardown),
        cmocka_unit_test_setup_teardown(deletion, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_events_change_nothing, setup, teardown),
        cmocka_unit_test(survives_reopen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
