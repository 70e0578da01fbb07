/*
 * cs_engine_int.h - the engine's private state, shared by cs_engine*.c. Not installed, not
 * used outside the engine.
 */
#ifndef CS_ENGINE_INT_H
#define CS_ENGINE_INT_H

#include <stdio.h>

#include "cs_actions.h"
#include "cs_campaign.h"
#include "cs_data.h"
#include "cs_engine.h"
#include "cs_lease.h"
#include "cs_ledger.h"
#include "cs_quiet.h"
#include "cs_share.h"
#include "cs_template.h"
#include "cs_userview.h"
#include "mf/buf.h"
#include "mf/freelist.h"

#define CS_MAX_VARIANTS 5

/* Where a target of the batch in hand stands. */
typedef enum slot_phase {
    SLOT_DONE = 0,   /* decided: out.after says how */
    SLOT_FETCHING,   /* a profile request is out */
    SLOT_RETRY_WAIT, /* waiting for retry_at to ask again */
    SLOT_HELD_BACK   /* to be delivered once the run's last commit is durable (cs_run.hold) and the
                      * batch is in hand */
} slot_phase;

typedef struct cs_run cs_run;
typedef struct cs_delivery cs_delivery; /* cs_engine_deliver.c */

/* The context of one profile request; outlives the engine if the engine is closed first. */
typedef struct cs_req {
    struct cs_engine *e; /* NULL once orphaned by cs_engine_close */
    cs_run *run;
    uint64_t gen; /* the batch's (cs_batch.gen): in hand or asked ahead */
    size_t slot;
    struct cs_req *prev, *next;
} cs_req;

typedef struct slot {
    cs_target_row row;
    cs_outcome out;
    char reason[160];
    cs_user view;
    slot_phase phase;
    int64_t retry_at;
    /* SLOT_HELD_BACK: the profile to deliver with (name, email, language, timezone), each an
     * offset + 1 into the run's held_texts, 0 for none */
    size_t held[4];
} slot;

/*
 * A batch of targets and what is left of it. A run has the batch in hand (cs_run.b) and, while
 * it runs without a rate limit, one asked ahead (cs_run.ahead): read from the ledger and its
 * profile requests sent while the batch in hand is still delivering, so that user-service
 * answers them meanwhile instead of after it. The batch asked ahead publishes nothing: its
 * replies are kept (SLOT_HELD_BACK) until it becomes the batch in hand at that batch's end, and
 * its notifications go out once that batch's commit is durable, as those of any batch in hand.
 * Published but unrecorded notifications stay one batch. The engine works on either batch
 * through b: it swaps them (swap_batches in cs_engine_batch.c) to take a reply of the one
 * asked ahead, and to turn it into the batch in hand.
 */
typedef struct cs_batch {
    bool in_batch;         /* b: a batch is in hand; ahead: a batch is asked ahead */
    bool ahead;            /* asked ahead (also while swapped into b to take its replies) */
    uint64_t gen;          /* which take of the run it is (cs_req.gen) */
    slot *slots;
    size_t n_slots, open;  /* open: slots not yet SLOT_DONE */
    int64_t batch_started;
    bool publish_failed;
    /* replies that would publish before they may (the run's last commit not yet durable, or the
     * batch asked ahead): their strings in held_texts (emptied at each batch_begin); n_held */
    size_t n_held;
    mf_buf held_texts;
} cs_batch;

/* One active execution in memory. */
struct cs_run {
    cs_execution x;              /* as in the ledger (counters refreshed after each commit) */
    mf_campaign_create campaign;
    cs_settings settings;
    cs_category category;
    size_t n_variants;
    double split[CS_MAX_VARIANTS];
    cs_data data[CS_MAX_VARIANTS];
    char *push_data[CS_MAX_VARIANTS]; /* each variant's PushNotification.data, built once per run */
    int64_t cap;                 /* targets per batch: min(batch_size, rate_limit) */
    int64_t next_batch_at;       /* rate limit: not before */
    int64_t wake_at;             /* when this run wants the timer, CS_NO_TIME: not by itself */
    bool pause_requested, cancel_requested;
    cs_batch b;                  /* the batch in hand */
    cs_batch ahead;              /* the batch asked ahead */
    uint64_t gens;               /* batches taken so far (cs_batch.gen) */
    /* the sink's sync_start: the ticket of the run's last commit while it is not yet durable
     * (e->durable below it), 0 otherwise. Replies that would publish meanwhile hold back
     * (SLOT_HELD_BACK) */
    uint64_t hold;
    int64_t lease_renewed;       /* real time (cs_lease_now) of the last taking or renewal */
    /* arrays of cap entries kept from batch to batch (a batch of 1,000 slots is ~0.5 MB: allocated,
     * zeroed and freed per batch, glibc gave its pages back and faulted them in again); NULL until
     * first needed, freed with the run */
    cs_target_row *read_rows;    /* take_batch's: the targets read */
    cs_user *read_users;         /* take_batch's: their view rows (moved into the slots) */
    slot *spare_slots[2];        /* slots arrays not in use (three alternate: the batch being
                                  * committed, the one in hand, the one asked ahead) */
    /* the view rows' strings (cs_user_texts), one storage per batch alive: the batch being
     * committed, the one in hand and the one asked ahead use the three in turn (a fourth is
     * read only once the first is freed); next_texts is the one the next take_batch resets and
     * reads into */
    cs_user_texts texts[3];
    int next_texts;
    /* batch_end's outcomes and hold_quiet's work, also cap entries each: a block that large,
     * allocated per batch, made glibc consolidate its free lists every time (malloc_consolidate) */
    cs_outcome *outs;
    cs_quiet_item *quiet_items;
    size_t *quiet_which;
};

#define CS_REFUSALS_KEPT 64
#define CS_REQS_KEPT 4096 /* free request contexts kept: more than a run has out */

struct cs_engine {
    cs_refusal refusals[CS_REFUSALS_KEPT]; /* ring: the newest at (next_refusal - 1) */
    size_t next_refusal, n_refusals;
    sqlite3 *db;
    cs_sink sink;
    cs_engine_config cfg;
    cs_userview *view;
    cs_ledger *ledger;
    cs_lease *lease;             /* cfg.lease_ms > 0 */
    int64_t lease_tick_at;       /* engine time of the next lease tick */
    cs_actions *actions;         /* with leases: admin requests other replicas recorded (cs_actions.h) */
    bool in_actions;             /* re-entrancy guard of applying them */
    bool opening;                /* inside cs_engine_open: nothing is published (requests wait for the first tick) */
    cs_run **runs;
    size_t n_runs, cap_runs;
    cs_req *reqs;                /* requests out, for orphaning at close */
    mf_freelist free_reqs;       /* contexts of answered requests, reused (at most CS_REQS_KEPT) */
    bool stopping;
    bool sched_none;             /* cached earliest schedule firing (cs_eng_sched_refresh) */
    int64_t sched_at;
    bool in_timer;               /* re-entrancy guard: arm the timer once at the end */
    int64_t armed_at;
    uint64_t commits_nowait;     /* commits made without waiting for the disk: the last ticket asked for */
    uint64_t durable;            /* the highest ticket cs_engine_on_durable said MF_OK to */
    bool not_durable;            /* a sync failed: no later answer is trusted (cs_engine_on_durable) */
    char not_durable_why[200];
    cs_engine_stats stats;
    /* a notification's rendered title and body, reused (storage kept): one pair per thread that
     * delivers (cs_share.h's who: 0 the engine's, 1 its helper's) */
    mf_buf title[2], body[2];
    cs_share *share;             /* with the sink's staging: the helper that delivers with the engine */
    cs_delivery *deliveries;     /* release_held's, n_deliveries entries (kept from batch to batch) */
    size_t n_deliveries;
    size_t staged[2];            /* messages in the sink's staging areas (each its thread's) */
    int64_t text_ms;             /* cs_eng_now_text's cache */
    char text[32];
};

/* What the engine says, to its sink (cs_log.h). */
#define cs_eng_log(e, level, ...) cs_logf((e)->sink.log, (e)->sink.ctx, level, __VA_ARGS__)

/* cs_engine.c */
int64_t cs_eng_now(cs_engine *e);
/* The time now as RFC 3339 text (formatted once per millisecond); valid until the next call. */
const char *cs_eng_now_text(cs_engine *e);
cs_run *cs_eng_find(cs_engine *e, const char *execution_id);
/* Loads the campaign of x into a new run and adds it. NULL when the campaign is gone (logged). */
cs_run *cs_eng_add_run(cs_engine *e, const cs_execution *x);
void cs_eng_remove_run(cs_engine *e, cs_run *r);
/* Recomputes the timer from every run and the schedules and arms it when it changed. */
void cs_eng_rearm(cs_engine *e);
/* Holds the ledger's checkpoints while a run is running (or `launching`: one is being created to
 * run at once), lets them go otherwise (cs_engine_checkpoint). Called by cs_eng_rearm. */
void cs_eng_hold_checkpoints(cs_engine *e, bool launching);
/* Re-reads the earliest schedule firing (after a campaign is stored or a schedule fired). */
void cs_eng_sched_refresh(cs_engine *e);
/* Re-reads the run's counters and status from the ledger (after a batch, on a transition); with
 * leases, while the run is running, also applies the admin requests other replicas recorded for it
 * (flags only: the run is stepped later, never removed here). */
void cs_eng_refresh(cs_engine *e, cs_run *r);

/* cs_engine_report.c */
void cs_eng_status(cs_engine *e, const cs_execution *x, const char *code, const char *message);
/* Publishes one CampaignAnalyticsEvent stamped now. */
void cs_eng_analytics(cs_engine *e, mf_campaign_analytics_event_event_type type, const char *campaign_id,
                      const char *execution_id, const char *notification_id, const char *user_id, const char *code,
                      const char *message);
/* The same, stamped `at` (a date-time text): a notification's notification_sent carries the
 * notification's own created_at, which also spares a clock read per notification. */
void cs_eng_analytics_at(cs_engine *e, mf_campaign_analytics_event_event_type type, const char *campaign_id,
                         const char *execution_id, const char *notification_id, const char *user_id, const char *code,
                         const char *message, const char *at);
/* The event cs_eng_analytics_at publishes, into *out: its members point at the arguments and at id
 * (its event_id, written here). Reads nothing of the engine (any thread). False: no id could be
 * made (an event without execution or campaign takes a random one), nothing to publish. */
bool cs_eng_analytics_build(mf_campaign_analytics_event_event_type type, const char *campaign_id,
                            const char *execution_id, const char *notification_id, const char *user_id,
                            const char *at, char id[37], mf_campaign_analytics_event *out);
/* Sets the status in the ledger and publishes it; final statuses also emit their analytics. */
void cs_eng_transition(cs_engine *e, cs_run *r, mf_campaign_status_update_status to, const char *code,
                       const char *message);

/* Decides a target of the batch in hand: its outcome (the reason copied; NULL for none), and an
 * open slot closes (the batch's open count goes down). */
static inline void cs_eng_decide(cs_run *r, slot *s, cs_target_state st, const char *reason)
{
    s->out.after = st;
    s->out.reason = NULL;
    if (reason) {
        snprintf(s->reason, sizeof s->reason, "%.159s", reason);
        s->out.reason = s->reason;
    }
    if (s->phase != SLOT_DONE) {
        s->phase = SLOT_DONE;
        r->b.open--;
    }
}

/* cs_engine_deliver.c */
/* Renders and publishes one notification on the engine's thread; decides the slot (sent, failed,
 * or pending when publishing failed). */
void cs_eng_deliver(cs_engine *e, cs_run *r, slot *s, const cs_user_fields *u);
/* Delivers the targets held back (the run's last commit is now durable) - unless the run is being
 * cancelled or paused or the engine stops: then they stay pending (never published, so never a
 * duplicate), and a stopping service needs neither its disk nor its client for them. */
void cs_eng_release_held(cs_engine *e, cs_run *r);

/* cs_engine_batch.c */
/* Advances one run as far as it can go now (start, batch, completion); sets r->wake_at.
 * May remove (free) the run: returns false then. */
bool cs_eng_step(cs_engine *e, cs_run *r);
/* Fails the batch's outstanding retries and frees its slots (close). */
void cs_eng_drop_batch(cs_engine *e, cs_run *r);

/* cs_engine_intake.c */
void cs_eng_fire_schedules(cs_engine *e, int64_t now);

#endif /* CS_ENGINE_INT_H */
