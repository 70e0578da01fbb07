/* cs_engine_deliver.c - a target's notification rendered, encoded and published, with its
 * notification_sent event; a batch's held notifications staged and published a chunk at a time,
 * shared with the engine's helper thread (cs_share.h). See cs_engine.h for the rules. */
#include "cs_engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cs_template.h"
#include "cs_uuid.h"
#include "cs_variant.h"
#include "mf/buf.h"

static mf_priority priority_of(const cs_run *r, const mf_notification_template *t)
{
    if (t->has_priority)
        return t->priority;
    if (r->campaign.notification_template.has_priority && !cs_campaign_ab(&r->campaign))
        return r->campaign.notification_template.priority;
    return r->x.priority ? r->x.priority : MF_PRIORITY_NORMAL;
}

/* A target to deliver and what delivering it found: send_one fills it (on either thread when
 * staged), the engine's thread applies it to the batch (settle). */
struct cs_delivery {
    slot *s;
    cs_user_fields u;
    size_t variant;
    cs_target_state verdict; /* SENT; FAILED (reason); PENDING: publishing failed, a later batch sends it */
    char reason[256];        /* cs_eng_decide keeps its first 159 bytes */
    /* staged (the sink's stage_push): the area and the indexes of the push and its notification_sent
     * event (NO_EVENT: not staged, event_err says why when it failed) */
    int who;
    size_t push_at, event_at;
    char event_err[128];
};

#define NO_EVENT ((size_t)-1)

/* Whether a publish that failed this way may succeed later (the target stays pending). */
static bool publish_retryable(mf_status st)
{
    return st == MF_ERR_FULL || st == MF_ERR_CLOSED || st == MF_ERR_IO || st == MF_ERR_NOMEM;
}

/* The push's notification_sent event into staging area who: d->event_at, or NO_EVENT and why. */
static void stage_event(cs_engine *e, const cs_run *r, cs_delivery *d, int who, const char *nid, const char *at)
{
    char id[CS_UUID_TEXT];
    mf_campaign_analytics_event ev;
    mf_error err;
    d->event_at = NO_EVENT;
    d->event_err[0] = '\0';
    if (!cs_eng_analytics_build(MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_NOTIFICATION_SENT, r->x.campaign_id,
                                r->x.execution_id, nid, d->s->row.user_id, at, id, &ev))
        return;
    if (e->sink.stage_analytics(e->sink.ctx, who, &ev, &err) == MF_OK)
        d->event_at = e->staged[who]++;
    else
        snprintf(d->event_err, sizeof d->event_err, "%.120s", err.message);
}

/* Renders d's notification and publishes it, then its notification_sent event - or, `staged`,
 * stages both into area who (send_area publishes them and keeps the verdict SENT only for a push
 * that went). Reads the run and the slot; writes d, the who-th title and body buffers and, staged,
 * e->staged[who]: the engine's helper runs it too (cs_share.h). `at` is the created_at. */
static void send_one(cs_engine *e, const cs_run *r, cs_delivery *d, int who, const char *at, bool staged)
{
    slot *s = d->s;
    const cs_user_fields *u = &d->u;
    size_t v = r->n_variants > 1 ? cs_variant_pick(r->x.campaign_id, s->row.user_id, r->split, r->n_variants) : 0;
    const mf_notification_template *t = cs_campaign_variant(&r->campaign, v);
    const char *title_t, *body_t;
    cs_template_localize(t, u->language, &title_t, &body_t);
    mf_buf *title = &e->title[who], *body = &e->body[who];
    mf_error err;
    char nid[CS_UUID_TEXT];
    d->variant = v;
    d->who = who;
    d->push_at = d->event_at = NO_EVENT;
    d->event_err[0] = '\0';
    mf_buf_reset(title);
    mf_buf_reset(body);
    mf_status st = cs_template_render(title_t, u, &r->data[v], title, &err);
    if (st == MF_OK)
        st = cs_template_render(body_t, u, &r->data[v], body, &err);
    if (st != MF_OK) {
        snprintf(d->reason, sizeof d->reason, "template: %.150s", err.message);
        d->verdict = CS_TARGET_FAILED;
        return;
    }
    cs_uuid_v5_text(&CS_NS_NOTIFICATION, r->x.execution_id, s->row.user_id, nid);
    mf_push_notification m;
    mf_push_notification_init(&m);
    m.notification_id = nid;
    m.user_id = s->row.user_id;
    m.title = title->data ? title->data : "";
    m.body = body->data ? body->data : "";
    m.has_priority = true;
    m.priority = priority_of(r, t);
    m.has_data = true;
    m.data = r->push_data[v];
    m.has_created_at = true;
    m.created_at = (char *)at;
    st = staged ? e->sink.stage_push(e->sink.ctx, who, &m, &err)
                : e->sink.publish_push(e->sink.ctx, s->row.user_id, &m, &err);
    if (st == MF_OK) {
        d->verdict = CS_TARGET_SENT;
        if (staged) {
            d->push_at = e->staged[who]++;
            stage_event(e, r, d, who, nid, at);
        } else {
            cs_eng_analytics_at(e, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_NOTIFICATION_SENT, r->x.campaign_id,
                                r->x.execution_id, nid, s->row.user_id, NULL, NULL, at);
        }
    } else if (publish_retryable(st)) {
        d->verdict = CS_TARGET_PENDING;
    } else {
        snprintf(d->reason, sizeof d->reason, "invalid notification: %.60s %.120s", err.pointer, err.message);
        d->verdict = CS_TARGET_FAILED;
    }
}

/* Applies a delivery's verdict to its slot and the engine's counters (the engine's thread). */
static void settle(cs_engine *e, cs_run *r, cs_delivery *d)
{
    slot *s = d->s;
    if (d->verdict == CS_TARGET_SENT && d->event_at == NO_EVENT && d->event_err[0])
        cs_eng_log(e, "warn", "campaign %s: notification_sent not published: %s", r->x.campaign_id, d->event_err);
    if (d->verdict == CS_TARGET_SENT) {
        e->stats.pushes++;
        s->out.variant = (int)d->variant;
        cs_eng_decide(r, s, CS_TARGET_SENT, NULL);
    } else if (d->verdict == CS_TARGET_PENDING) {
        e->stats.publish_failures++;
        r->b.publish_failed = true;
        cs_eng_decide(r, s, CS_TARGET_PENDING, NULL); /* a later batch sends it */
    } else {
        cs_eng_decide(r, s, CS_TARGET_FAILED, d->reason);
    }
}

void cs_eng_deliver(cs_engine *e, cs_run *r, slot *s, const cs_user_fields *u)
{
    cs_delivery d = {.s = s, .u = *u};
    send_one(e, r, &d, 0, cs_eng_now_text(e), false);
    settle(e, r, &d);
}

/* release_held's deliveries (cs_share_run's ctx). */
typedef struct shared_sends {
    cs_engine *e;
    const cs_run *r;
    const char *at;
} shared_sends;

/* Publishes staging area who (what send_one staged for dl[from, to)) and turns the verdicts of the
 * pushes that did not go: pending, or failed when it is the one the client refused for itself. An
 * event that did not go keeps why in event_err (settle logs it, as an unpublished event always was). */
static void send_area(cs_engine *e, cs_delivery *dl, size_t from, size_t to, int who)
{
    size_t went = 0;
    mf_error err;
    mf_status st = e->staged[who] ? e->sink.send_staged(e->sink.ctx, who, &went, &err) : MF_OK;
    e->staged[who] = 0;
    if (st == MF_OK)
        return;
    for (size_t i = from; i < to; i++) {
        cs_delivery *d = &dl[i];
        if (d->verdict != CS_TARGET_SENT)
            continue;
        if (d->push_at >= went) {
            d->verdict = d->push_at == went && !publish_retryable(st) ? CS_TARGET_FAILED : CS_TARGET_PENDING;
            snprintf(d->reason, sizeof d->reason, "invalid notification: %.200s", err.message);
        } else if (d->event_at != NO_EVENT && d->event_at >= went) {
            d->event_at = NO_EVENT;
            snprintf(d->event_err, sizeof d->event_err, "%.120s", err.message);
        }
    }
}

/* Renders and stages the deliveries [from, to), then publishes them: one taking of the client's
 * lock for the chunk, on either thread (cs_share.h). */
static void send_chunk(void *ctx, size_t from, size_t to, int who)
{
    shared_sends *c = ctx;
    for (size_t i = from; i < to; i++)
        send_one(c->e, c->r, &c->e->deliveries[i], who, c->at, true);
    send_area(c->e, c->e->deliveries, from, to, who);
}

/* Deliveries go in chunks this size: small enough that the staged messages (~800 bytes each) stay
 * in the cache until published and the engine, done with its own chunks, seldom waits long for the
 * helper's last; large enough that the client's lock is taken once per some tens of messages. */
#define SHARE_CHUNK 16

void cs_eng_release_held(cs_engine *e, cs_run *r)
{
    bool keep = e->stopping || r->cancel_requested || r->pause_requested;
    /* staged: the deliveries are listed here, rendered and staged (on both threads, with a helper),
     * published at once, then settled here in slot order. Without staging (or memory for the list)
     * each is delivered in turn */
    cs_delivery *dl = NULL;
    size_t n = 0;
    if (e->sink.stage_push && !keep && r->b.n_held > 1) {
        if (e->n_deliveries < r->b.n_held) {
            free(e->deliveries);
            e->n_deliveries = 0;
            if ((e->deliveries = malloc(r->b.n_held * sizeof *e->deliveries)) != NULL)
                e->n_deliveries = r->b.n_held;
        }
        dl = e->deliveries;
    }
    for (size_t i = 0; r->b.n_held && i < r->b.n_slots; i++) {
        slot *s = &r->b.slots[i];
        if (s->phase != SLOT_HELD_BACK)
            continue;
        if (keep) {
            r->b.n_held--;
            s->phase = SLOT_FETCHING;
            cs_eng_decide(r, s, CS_TARGET_PENDING, NULL);
            continue;
        }
        const char *f[4];
        for (int k = 0; k < 4; k++)
            f[k] = s->held[k] ? r->b.held_texts.data + s->held[k] - 1 : NULL;
        cs_user_fields u = {.name = f[0], .email = f[1], .language = f[2], .timezone = f[3]};
        r->b.n_held--;
        s->phase = SLOT_FETCHING; /* open, as it was: deliver (or settle) decides it */
        if (dl)
            dl[n++] = (cs_delivery){.s = s, .u = u};
        else
            cs_eng_deliver(e, r, s, &u);
    }
    r->b.n_held = 0;
    if (n == 0)
        return;
    /* the held texts u points into stay as they are until the next batch_begin */
    shared_sends c = {.e = e, .r = r, .at = cs_eng_now_text(e)};
    if (e->share)
        cs_share_run(e->share, n, SHARE_CHUNK, send_chunk, &c);
    else
        for (size_t from = 0; from < n; from += SHARE_CHUNK)
            send_chunk(&c, from, n - from > SHARE_CHUNK ? from + SHARE_CHUNK : n, 0);
    for (size_t i = 0; i < n; i++)
        settle(e, r, &dl[i]);
}
