/*
 * cs_fake_sink.h - a fake world for the engine's tests: a clock that only moves when told, one
 * timer, a User Service that answers from a table (or times out, or fails), and recorders for
 * everything published. Every published message is encoded with the generated encoder (so it
 * is checked against the contract) and kept decoded.
 */
#ifndef CS_FAKE_SINK_H
#define CS_FAKE_SINK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "cs_engine.h"

#define FAKE_MAX_USERS 512
#define FAKE_MAX_REQS 4096
#define FAKE_MAX_MSGS 8192

typedef enum fake_mode {
    FAKE_ANSWER = 0,     /* reply with the profile */
    FAKE_NOT_FOUND,      /* reply with error USER_NOT_FOUND */
    FAKE_SILENT,         /* never answer: time out */
    FAKE_FLAKY,          /* time out `fails` times, then answer */
    FAKE_REFUSED         /* the responder refuses (MF_ERR_REFUSED) */
} fake_mode;

/* How the fake makes the engine's commits durable. */
typedef enum fake_durability {
    FAKE_DURABLE_WAITS = 0, /* no sync_start: each commit waits for the disk itself */
    FAKE_DURABLE_LATER,     /* sync_start; fake_run answers the last ticket once nothing else is due now */
    FAKE_DURABLE_BY_TEST    /* sync_start; only the test answers (cs_engine_on_durable) */
} fake_durability;

typedef struct fake_user {
    char id[37];
    const char *name, *email, *language, *timezone; /* NULL: left out of the reply */
    fake_mode mode;
    int fails;
    int asked;
} fake_user;

typedef struct fake_req {
    char user_id[37];
    cs_user_info_cb cb;
    void *ctx;
    int64_t deadline;  /* timeout */
    int64_t answer_at; /* when an answering user answers: asked + latency_ms */
    bool live;
} fake_req;

typedef struct fake_push {
    char subject_user[37];
    mf_push_notification m;
} fake_push;

/* A message staged (cs_sink's stage_push / stage_analytics), until send_staged records it. */
#define FAKE_AREA_MAX 256
typedef struct fake_staged {
    bool is_push;
    fake_push p;
    mf_campaign_analytics_event ev;
} fake_staged;

typedef struct fake {
    int64_t now;
    int64_t timer_at;
    fake_user users[FAKE_MAX_USERS];
    int n_users;
    fake_req reqs[FAKE_MAX_REQS];
    int n_reqs;
    fake_push *pushes;
    int n_pushes;
    mf_campaign_status_update *statuses;
    int n_statuses;
    mf_campaign_analytics_event *events;
    char (*event_codes)[40]; /* events[i]'s error code (its Mflow-Error-Code header), "" for none */
    int n_events;
    int push_full;        /* the next this-many pushes fail with MF_ERR_FULL */
    int flush_fail;       /* the next this-many flushes fail with MF_ERR_TIMEOUT */
    int flushes;
    int requests;         /* requests sent in all */
    int reqs_at_flush[8], pushes_at_flush[8]; /* requests and n_pushes when flush n (0-based, < 8) ran */
    int flush_starts;
    int reqs_at_flush_start[8], pushes_at_flush_start[8]; /* the same when flush_start n ran */
    fake_durability durability; /* set before the engine opens */
    uint64_t sync_asked;  /* the last ticket sync_start was given */
    int sync_starts;
    uint64_t sync_answered; /* FAKE_DURABLE_LATER: the last ticket fake_run answered */
    bool down;            /* the transport is disconnected: requests time out, ready() false */
    int latency_ms;       /* the User Service answers this long after a request */
    bool quiet_log;
    cs_engine *engine;
    /* staging, when `staged` is set before the engine opens: the engine and its helper thread
     * stage into an area each; send_staged records an area's messages (in pushes and events,
     * under mu) in the order staged. refuse: the next send_staged with more than refuse_at
     * messages records the first refuse_at and refuses the next with refuse_st (once) */
    bool staged;
    pthread_mutex_t mu;
    fake_staged *area[2];
    int n_area[2];
    bool refuse;
    int refuse_at;
    mf_status refuse_st;
    int staged_sends, helper_sends; /* send_staged calls, those of area 1 */
} fake;

void fake_init(fake *f, int64_t now);
void fake_free(fake *f);
cs_sink fake_sink(fake *f);
fake_user *fake_user_get(fake *f, const char *id);

/* Runs the world: answers requests, fires the timer, moves the clock to the next thing that
 * happens; stops when nothing is left to happen or the clock passes `until`. Returns the number
 * of steps taken. */
int fake_run(fake *f, int64_t until);

/* Fails every outstanding request with MF_ERR_CLOSED (what the client does on destroy). */
void fake_close_requests(fake *f);

/* Counts recorded analytics events of a type. */
int fake_count_events(const fake *f, mf_campaign_analytics_event_event_type t);
/* The last status recorded for an execution (NULL if none). */
const mf_campaign_status_update *fake_last_status(const fake *f, const char *execution_id);

#endif /* CS_FAKE_SINK_H */
