/*
 * cs_engine_world.h - the engine tests' fake world (test_cs_engine*.c): a database file, the user
 * view, the fake sink (cs_fake_sink.h) and an engine, with users, campaigns and executions made
 * in one call each. Every helper fails the test (cmocka) when something it needs does not work.
 */
#ifndef CS_ENGINE_WORLD_H
#define CS_ENGINE_WORLD_H

#include <stdbool.h>
#include <stdint.h>
#include "cs_engine.h"
#include "cs_fake_sink.h"
#include "cs_test_util.h"
#include "cs_userview.h"

#define CAMPAIGN "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define EXEC "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
#define T0 cs_test_ms(2024, 3, 30, 10, 0, 0) /* a Saturday; 19:00 in Tokyo */

typedef struct world {
    char path[64];
    sqlite3 *db;
    cs_userview *view;
    fake f;
    cs_engine *e;
    cs_engine_config cfg;
} world;

typedef struct user_spec {
    const char *name, *lang, *tz;
    bool push, marketing;
    const char *quiet_start, *quiet_end;
    fake_mode mode;
    int fails;
} user_spec;

/* A fresh database file and view, the fake at T0; no engine yet (w->cfg may be changed first). */
world *world_new(void);
/* Opens the engine on the world (w->cfg). */
void world_engine_start(world *w);
/* The process dies: nothing more is written; what was committed stays. */
void world_engine_crash(world *w);
/* Stops and closes everything and removes the database files. */
void world_free(world *w);
/* A user i (a deterministic id) in the fake User Service and in the view, as u says. */
fake_user *world_add_user(world *w, int i, const user_spec *u);
/* Ana, en-US, Europe/Berlin, push and marketing on, no quiet hours. */
extern const user_spec WORLD_PLAIN;
/* Creates the campaign (single-quoted JSON, cs_test_campaign); it must be accepted. */
void world_create(world *w, const char *sq_json);
/* Campaign CAMPAIGN to all users, "Hi {{name}}" / "b", immediate, with the given settings (the
 * members inside "settings", single-quoted JSON as world_create takes). */
#define PLAIN_CAMPAIGN(settings)                                                                   \
    "{'campaign_id':'" CAMPAIGN "','name':'n','target_audience':{'user_segments':['all_users']},"   \
    "'notification_template':{'title_template':'Hi {{name}}','body_template':'b'},"                \
    "'schedule':{'type':'immediate'},'settings':{" settings "}}"
/* campaign.execute, immediate; batch 0: the campaign's batch size. */
mf_status world_execute(world *w, const char *exec_id, const char *campaign_id, int64_t batch, cs_reject *rej);
/* The execution as stored; it must exist. */
cs_execution world_exec(world *w, const char *id);
/* Progress never goes back and the totals never change. */
void world_check_progress(const fake *f, const char *exec_id);
/* The pushes recorded (*raw) and how many distinct notification_ids they carry (*unique). */
void world_count_pushes(const fake *f, int *raw, int *unique);
/* Exactly n pushes were recorded, each with its own notification_id (none went twice). */
void world_assert_pushes_once(const fake *f, int n);

#endif /* CS_ENGINE_WORLD_H */
