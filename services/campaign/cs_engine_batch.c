/* cs_engine_batch.c - one execution's way through its targets: starting, batches, profile
 * requests and their replies, holding back, committing, completing (the notifications
 * themselves: cs_engine_deliver.c).
 * See cs_engine.h for the rules. */
#include "cs_engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cs_quiet.h"
#include "cs_time.h"
#include "cs_tz.h"
#include "mf/buf.h"

static void batch_end(cs_engine *e, cs_run *r);

static bool category_on(const cs_run *r, const cs_user *u)
{
    switch (r->category) {
    case CS_CATEGORY_UPDATES: return u->cat_updates;
    case CS_CATEGORY_SECURITY: return u->cat_security;
    default: return u->cat_marketing;
    }
}

/* The zone quiet hours are read in: the user's when the tz database knows it, else UTC. */
static const char *zone_of(const char *tz)
{
    return tz && cs_tz_known(tz) ? tz : "UTC";
}

/* ---- profile requests ---- */

static void on_reply(void *cb_ctx, mf_status st, const mf_user_info_reply *reply, const mf_error *err);

static void unlink_req(cs_engine *e, cs_req *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else if (e && e->reqs == q)
        e->reqs = q->next;
    if (q->next)
        q->next->prev = q->prev;
    q->prev = q->next = NULL;
}

static int64_t backoff(const cs_engine *e, int attempt)
{
    int64_t d = e->cfg.retry_backoff_ms;
    for (int i = 1; i < attempt && d < 5000; i++)
        d *= 2;
    return d < 5000 ? d : 5000;
}

static bool ready(cs_engine *e)
{
    return !e->sink.ready || e->sink.ready(e->sink.ctx);
}

/* A failed attempt: wait and ask again, or give up. */
static void attempt_failed(cs_engine *e, cs_run *r, slot *s, mf_status st, const char *why)
{
    if (!ready(e)) { /* the connection is down: not the user's failure, ask again once it is back */
        s->out.attempts--;
        s->phase = SLOT_RETRY_WAIT;
        s->retry_at = cs_eng_now(e) + e->cfg.publish_retry_ms;
        return;
    }
    if (s->out.attempts <= r->settings.max_retries) {
        s->phase = SLOT_RETRY_WAIT;
        s->retry_at = cs_eng_now(e) + backoff(e, s->out.attempts);
        return;
    }
    char reason[160];
    snprintf(reason, sizeof reason, "profile_unavailable: %.120s", why ? why : mf_status_str(st));
    cs_eng_decide(r, s, CS_TARGET_FAILED, reason);
}

/* A request's context: from the engine's free list, else a new one. */
static cs_req *req_take(cs_engine *e)
{
    return mf_freelist_take(&e->free_reqs, sizeof(cs_req));
}

/* Back to the free list; orphaned ones (e NULL: the engine dropped the batch or was closed) are
 * freed. */
static void req_give(cs_engine *e, cs_req *q)
{
    if (!e)
        free(q);
    else
        mf_freelist_give(&e->free_reqs, q, CS_REQS_KEPT);
}

static void ask(cs_engine *e, cs_run *r, size_t i)
{
    slot *s = &r->b.slots[i];
    cs_req *q = req_take(e);
    mf_error err;
    s->out.attempts++;
    e->stats.requests++;
    e->stats.retries += s->out.attempts > 1;
    mf_status st = MF_ERR_NOMEM;
    if (q) {
        *q = (cs_req){.e = e, .run = r, .gen = r->b.gen, .slot = i, .prev = NULL, .next = e->reqs};
        st = e->sink.request_user_info(e->sink.ctx, s->row.user_id, e->cfg.request_timeout_ms, on_reply, q, &err);
    }
    if (st == MF_OK) {
        if (e->reqs)
            e->reqs->prev = q;
        e->reqs = q;
        s->phase = SLOT_FETCHING;
        return;
    }
    if (q)
        req_give(e, q);
    attempt_failed(e, r, s, st, st == MF_ERR_NOMEM ? "out of memory" : err.message);
}

/* ---- holding back until the previous commit is durable (the sink's sync_start) ---- */

/* Keeps the merged profile's strings for deliver, which runs once the run's last commit is durable
 * (release_held). Out of memory: the target stays pending, a later batch sends it. */
static void hold_back(cs_run *r, slot *s, const cs_user_fields *u)
{
    const char *f[4] = {u->name, u->email, u->language, u->timezone};
    for (int k = 0; k < 4; k++) {
        s->held[k] = 0;
        if (!f[k])
            continue;
        size_t at = r->b.held_texts.len;
        if (mf_buf_append(&r->b.held_texts, f[k], strlen(f[k]) + 1) != MF_OK) {
            cs_eng_decide(r, s, CS_TARGET_PENDING, NULL);
            return;
        }
        s->held[k] = at + 1;
    }
    s->phase = SLOT_HELD_BACK;
    r->b.n_held++;
}

/* A reply that carries a profile: merge with the view, re-check quiet hours, deliver. */
static void got_profile(cs_engine *e, cs_run *r, slot *s, const mf_user_info_reply *rep)
{
    cs_user_fields u = {
        .name = rep->has_name ? rep->name : s->view.name,
        .email = rep->has_email ? rep->email : s->view.email,
        .language = rep->has_language ? rep->language : s->view.language,
        .timezone = rep->has_timezone ? rep->timezone : s->view.timezone,
    };
    bool moved = u.timezone && (!s->view.timezone || strcmp(u.timezone, s->view.timezone) != 0);
    if (moved && r->settings.respect_quiet_hours && s->view.quiet.enabled) {
        bool quiet;
        int64_t release;
        if (cs_quiet_check(zone_of(u.timezone), &s->view.quiet, cs_eng_now(e), &quiet, &release, NULL) == MF_OK &&
            quiet) {
            s->out.release_at = release;
            cs_eng_decide(r, s, CS_TARGET_HELD, NULL);
            return;
        }
    }
    if (r->b.ahead || r->hold > e->durable)
        hold_back(r, s, &u);
    else
        cs_eng_deliver(e, r, s, &u);
}

/* What a reply decides for its slot of the batch in b. */
static void take_reply(cs_engine *e, cs_run *r, slot *s, mf_status st, const mf_user_info_reply *reply,
                       const mf_error *err)
{
    if (st == MF_ERR_CLOSED && e->stopping) {
        cs_eng_decide(r, s, CS_TARGET_PENDING, NULL); /* shutting down: the next start sends it */
    } else if (st == MF_ERR_REFUSED) { /* the User Service answered with an error: asking again changes nothing */
        char reason[160];
        snprintf(reason, sizeof reason, "%.150s", err && err->message[0] ? err->message : "refused");
        cs_eng_decide(r, s, CS_TARGET_FAILED, reason);
    } else if (st != MF_OK) {
        attempt_failed(e, r, s, st, err ? err->message : NULL);
    } else if (reply->has_error && (strcasecmp(reply->error.code, "USER_NOT_FOUND") == 0 ||
                                    strcasecmp(reply->error.code, "INVALID_REQUEST") == 0)) {
        char reason[96];
        snprintf(reason, sizeof reason, "%s", reply->error.code);
        for (char *p = reason; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        cs_eng_decide(r, s, CS_TARGET_FAILED, reason);
    } else {
        got_profile(e, r, s, reply);
    }
}

/* Exchanges the batch in hand and the batch asked ahead. */
static void swap_batches(cs_run *r)
{
    cs_batch t = r->b;
    r->b = r->ahead;
    r->ahead = t;
}

static void on_reply(void *cb_ctx, mf_status st, const mf_user_info_reply *reply, const mf_error *err)
{
    cs_req *q = cb_ctx;
    cs_engine *e = q->e;
    cs_run *r = q->run;
    size_t i = q->slot;
    bool ahead = e && r->ahead.in_batch && q->gen == r->ahead.gen;
    unlink_req(e, q);
    req_give(e, q);
    if (!e)
        return; /* the engine was closed: nothing to do */
    if (ahead) { /* the batch asked ahead takes it: decided or kept, never published here */
        swap_batches(r);
        take_reply(e, r, &r->b.slots[i], st, reply, err);
        swap_batches(r);
        return;
    }
    slot *s = &r->b.slots[i];
    take_reply(e, r, s, st, reply, err);
    if (r->b.open == 0)
        batch_end(e, r);
    else if (s->phase == SLOT_RETRY_WAIT && (r->wake_at == CS_NO_TIME || s->retry_at < r->wake_at))
        r->wake_at = s->retry_at; /* the timer sends the retry */
    cs_eng_rearm(e);
}

/* ---- a batch ---- */

/* First decisions from the view alone (s->view, read with the batch): skipped, or a
 * quiet-hours candidate. */
static void screen(cs_run *r, slot *s)
{
    s->out = (cs_outcome){.seq = s->row.seq, .before = s->row.state, .after = CS_TARGET_PENDING, .variant = -1,
                          .attempts = s->row.attempts};
    s->phase = SLOT_FETCHING; /* not decided yet */
    r->b.open++;
    if (!s->row.in_view || !s->view.live)
        cs_eng_decide(r, s, CS_TARGET_SKIPPED, "deleted");
    else if (!s->view.push_enabled)
        cs_eng_decide(r, s, CS_TARGET_SKIPPED, "push_disabled");
    else if (!category_on(r, &s->view))
        cs_eng_decide(r, s, CS_TARGET_SKIPPED, "category_disabled");
}

static void hold_quiet(cs_engine *e, cs_run *r, int64_t now)
{
    if (!r->settings.respect_quiet_hours)
        return;
    if (!r->quiet_items)
        r->quiet_items = malloc((size_t)r->cap * sizeof *r->quiet_items);
    if (!r->quiet_which)
        r->quiet_which = malloc((size_t)r->cap * sizeof *r->quiet_which);
    cs_quiet_item *items = r->quiet_items;
    size_t *which = r->quiet_which, m = 0;
    if (!items || !which) {
        cs_eng_log(e, "warn", "execution %s: out of memory checking quiet hours; trying later", r->x.execution_id);
        for (size_t i = 0; i < r->b.n_slots; i++)
            if (r->b.slots[i].phase != SLOT_DONE)
                cs_eng_decide(r, &r->b.slots[i], CS_TARGET_PENDING, NULL);
    }
    for (size_t i = 0; items && which && i < r->b.n_slots; i++) {
        slot *s = &r->b.slots[i];
        if (s->phase == SLOT_DONE || !s->view.quiet.enabled)
            continue;
        items[m] = (cs_quiet_item){.zone = zone_of(s->view.timezone), .hours = s->view.quiet};
        which[m++] = i;
    }
    if (m && cs_quiet_check_many(items, m, now) == MF_OK) {
        for (size_t k = 0; k < m; k++) {
            if (items[k].status == MF_OK && items[k].quiet) {
                slot *s = &r->b.slots[which[k]];
                s->out.release_at = items[k].release_ms;
                cs_eng_decide(r, s, CS_TARGET_HELD, NULL);
            }
        }
    }
}

/* Takes rows and their view rows (moved into the slots) as the batch in hand and sends its
 * profile requests. A batch decided from the view alone ends at once, unless `ahead` (taken
 * while the previous batch is being finished): then the timer ends it (cs_eng_step), after the
 * previous batch's commit. */
static void batch_begin(cs_engine *e, cs_run *r, cs_target_row *rows, cs_user *users, size_t n, int64_t now,
                        bool ahead)
{
    int sp = r->spare_slots[1] ? 1 : 0;
    r->b.slots = r->spare_slots[sp] ? r->spare_slots[sp] : malloc((size_t)r->cap * sizeof *r->b.slots);
    r->spare_slots[sp] = NULL;
    if (!r->b.slots) {
        cs_eng_log(e, "error", "execution %s: out of memory for a batch; trying later", r->x.execution_id);
        for (size_t i = 0; i < n; i++)
            cs_user_free(&users[i]);
        r->wake_at = now + e->cfg.publish_retry_ms;
        return;
    }
    r->b.in_batch = true;
    r->b.gen = ++r->gens;
    r->b.n_slots = n;
    r->b.open = 0;
    r->b.batch_started = now;
    r->b.publish_failed = false;
    r->b.n_held = 0;
    mf_buf_reset(&r->b.held_texts);
    /* every member of a slot is set here or by screen (row, view, out, phase) or before it is read
     * (reason: by decide, retry_at: with SLOT_RETRY_WAIT): no memset of the ~0.3 MB array per
     * batch (callgrind: 408 instructions per notification, and the cache lines it evicts) */
    for (size_t i = 0; i < n; i++) {
        slot *s = &r->b.slots[i];
        s->row = rows[i];
        s->view = users[i];
        s->reason[0] = '\0';
        s->retry_at = 0;
        screen(r, s);
    }
    hold_quiet(e, r, now);
    for (size_t i = 0; i < n; i++)
        if (r->b.slots[i].phase != SLOT_DONE)
            ask(e, r, i);
    if (r->b.open == 0 && !ahead)
        batch_end(e, r);
}

/* Reads the next batch (after_seq: see cs_ledger_batch_view) and begins it; *n = 0 when there is
 * nothing to do now. */
static mf_status take_batch(cs_engine *e, cs_run *r, int64_t now, int64_t after_seq, bool ahead, size_t *n,
                            mf_error *err)
{
    if (!r->read_rows)
        r->read_rows = malloc((size_t)r->cap * sizeof *r->read_rows);
    if (!r->read_users)
        r->read_users = malloc((size_t)r->cap * sizeof *r->read_users);
    *n = 0;
    /* not the storage of the batch alive (if any): the one the previous take read into */
    cs_user_texts *texts = &r->texts[r->next_texts];
    cs_user_texts_reset(texts);
    mf_status st = r->read_rows && r->read_users
                       ? cs_ledger_batch_view_in(e->ledger, r->x.execution_id, now, after_seq, r->read_rows,
                                                 r->read_users, texts, (size_t)r->cap, n, err)
                       : mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    if (st == MF_OK && *n > 0) {
        r->next_texts = (r->next_texts + 1) % 3;
        batch_begin(e, r, r->read_rows, r->read_users, *n, now, ahead); /* the view rows move to the slots */
    }
    return st;
}

/* Frees the views of a batch's n slots; the array is kept as one of the run's two spares (or
 * freed when it has both). */
static void free_slots(cs_run *r, slot *slots, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cs_user_free(&slots[i].view);
    if (!r->spare_slots[0])
        r->spare_slots[0] = slots;
    else if (!r->spare_slots[1])
        r->spare_slots[1] = slots;
    else
        free(slots);
}

/* Orphans the run's requests out (all of them, or only those of batch gen): their replies are
 * ignored, and their callbacks free them. */
static void orphan_reqs(cs_engine *e, const cs_run *r, bool all, uint64_t gen)
{
    for (cs_req *q = e->reqs, *next; q; q = next) {
        next = q->next;
        if (q->run == r && (all || q->gen == gen)) {
            unlink_req(e, q);
            q->e = NULL;
        }
    }
}

/* Frees a batch (in hand or asked ahead) whose requests are orphaned; its targets stay as the
 * ledger has them. */
static void free_batch(cs_run *r, cs_batch *b)
{
    if (b->slots)
        free_slots(r, b->slots, b->n_slots);
    b->slots = NULL;
    b->n_slots = b->open = 0;
    b->n_held = 0;
    b->in_batch = b->ahead = false;
}

/* Drops the batch asked ahead: nothing of it was published, so its targets stay pending. */
static void drop_ahead(cs_engine *e, cs_run *r)
{
    if (!r->ahead.in_batch)
        return;
    orphan_reqs(e, r, false, r->ahead.gen);
    free_batch(r, &r->ahead);
}

void cs_eng_drop_batch(cs_engine *e, cs_run *r)
{
    orphan_reqs(e, r, true, 0);
    free_batch(r, &r->ahead);
    free_batch(r, &r->b);
}

/* Targets per second: the pause after a batch that sent `sent` notifications. */
static int64_t pace_of(const cs_run *r, int64_t sent)
{
    return r->settings.rate_limit > 0 ? (sent * 1000 + r->settings.rate_limit - 1) / r->settings.rate_limit : 0;
}

/*
 * Asks for the batch after the one in hand (cs_batch: the batch asked ahead), so that
 * user-service answers it while the batch in hand is delivered. Only without a rate limit (the
 * pause after a batch depends on what it sent), and only when the batch in hand holds no held
 * target: the ledger's query returns those whatever after_seq, so the two could share one. An
 * error or nothing left: no batch asked ahead (the run's next batch finds it again).
 */
static void ask_ahead(cs_engine *e, cs_run *r, int64_t now)
{
    if (r->ahead.in_batch || !r->b.in_batch || r->settings.rate_limit > 0)
        return;
    int64_t after = 0;
    for (size_t i = 0; i < r->b.n_slots; i++) {
        if (r->b.slots[i].row.state != CS_TARGET_PENDING)
            return;
        after = r->b.slots[i].row.seq > after ? r->b.slots[i].row.seq : after;
    }
    swap_batches(r); /* b: the empty one, to take the batch into */
    r->b.ahead = true;
    size_t m;
    mf_error err;
    take_batch(e, r, now, after, true, &m, &err);
    if (!r->b.in_batch)
        r->b.ahead = false;
    swap_batches(r);
}

/*
 * The next batch, while the batch just answered (outs, n) is flushed and committed, so that
 * user-service answers its requests meanwhile: the batch asked ahead becomes the batch in hand,
 * else it is taken now; then the one after it is asked ahead. Only when the finished batch held
 * no held target and left none pending (nothing of it can come back in the ledger's query: the
 * query skips its seqs), and the run may go on at once; else the batch asked ahead is dropped,
 * as it is when it was read more than cfg.ahead_max_age_ms ago.
 * The new batch's notifications are published only once the finished batch is committed and
 * that commit is durable (one thread; cs_run.hold), so published but unrecorded notifications
 * stay one batch.
 */
static void batch_ahead(cs_engine *e, cs_run *r, const cs_outcome *outs, size_t n, bool publish_failed,
                        int64_t ready_at, int64_t now)
{
    int64_t after = 0;
    bool go = !(publish_failed || r->pause_requested || r->cancel_requested || e->stopping || ready_at > now ||
                r->x.status != MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING || !ready(e));
    for (size_t i = 0; go && i < n; i++) {
        if (outs[i].before != CS_TARGET_PENDING || outs[i].after == CS_TARGET_PENDING)
            go = false;
        after = outs[i].seq > after ? outs[i].seq : after;
    }
    /* read and screened too long ago (the batch in hand waited for a retry, say): a user's quiet
     * hours, preferences or deletion may have changed since; taken again below */
    if (!go || (r->ahead.in_batch && now - r->ahead.batch_started > e->cfg.ahead_max_age_ms))
        drop_ahead(e, r);
    if (!go)
        return;
    if (r->ahead.in_batch) {
        swap_batches(r); /* the batch asked ahead is in hand; ahead: the finished one's, empty */
        r->b.ahead = false;
        r->b.batch_started = now;
    } else {
        size_t m;
        mf_error err;
        take_batch(e, r, now, after, true, &m, &err); /* an error: the run's next batch finds it again */
    }
    ask_ahead(e, r, now);
}

/* When the batch in hand (taken ahead) wants the timer: now when it is decided or holds targets
 * back it may deliver (no commit to wait for: cs_eng_step delivers them), else its first retry. */
static int64_t batch_wake(const cs_run *r, int64_t now)
{
    if (r->b.open == 0 || (r->b.n_held && !r->hold))
        return now;
    int64_t at = CS_NO_TIME;
    for (size_t i = 0; i < r->b.n_slots; i++)
        if (r->b.slots[i].phase == SLOT_RETRY_WAIT && (at == CS_NO_TIME || r->b.slots[i].retry_at < at))
            at = r->b.slots[i].retry_at;
    return at;
}

static void batch_end(cs_engine *e, cs_run *r)
{
    int64_t now = cs_eng_now(e);
    size_t n = r->b.n_slots;
    /* the run's array, taken while in use (n <= cap: the slots have cap entries) */
    cs_outcome *outs = r->outs ? r->outs : malloc((size_t)r->cap * sizeof *outs);
    r->outs = NULL;
    int64_t sent = 0;
    for (size_t i = 0; outs && i < n; i++) {
        outs[i] = r->b.slots[i].out;
        sent += outs[i].after == CS_TARGET_SENT;
    }
    /* the finished batch leaves the run (outs' reasons point into its slots until the commit) */
    slot *done_slots = r->b.slots;
    bool publish_failed = r->b.publish_failed;
    int64_t started = r->b.batch_started;
    r->b.slots = NULL;
    r->b.n_slots = r->b.open = 0;
    r->b.in_batch = false;
    /* the PING that confirms this batch's notifications leaves before the batch taken ahead is
     * read and asked for, so that its round trip overlaps that work (flush() below waits) */
    if (outs && sent > 0 && e->sink.flush && e->sink.flush_start)
        e->sink.flush_start(e->sink.ctx);
    if (outs)
        batch_ahead(e, r, outs, n, publish_failed, started + pace_of(r, sent), now);
    else
        drop_ahead(e, r);
    mf_error err;
    if (outs && sent > 0 && e->sink.flush && e->sink.flush(e->sink.ctx, &err) != MF_OK) {
        /* not known to have reached the server: record nothing as sent, send them again later */
        cs_eng_log(e, "warn", "execution %s: %lld notifications not confirmed by the server (%s); they go again",
                   r->x.execution_id, (long long)sent, err.message);
        for (size_t i = 0; i < n; i++)
            if (outs[i].after == CS_TARGET_SENT)
                outs[i].after = CS_TARGET_PENDING;
        publish_failed = r->b.publish_failed = true; /* the batch taken ahead ends with a pause too */
        sent = 0;
    }
    bool nowait = e->sink.sync_start != NULL;
    mf_status st = !outs   ? mf_error_set(&err, MF_ERR_NOMEM, "", "out of memory")
                   : nowait ? cs_ledger_commit_nowait(e->ledger, r->x.execution_id, outs, n, now, &err)
                            : cs_ledger_commit(e->ledger, r->x.execution_id, outs, n, now, &err);
    if (!r->outs)
        r->outs = outs;
    else
        free(outs);
    free_slots(r, done_slots, n);
    if (st == MF_ERR_NOT_FOUND && e->lease) { /* cs_ledger_fence: another replica runs it now */
        cs_eng_log(e, "warn", "execution %s: lease lost to another replica; this batch is not recorded here (%lld "
                   "notifications sent, which it sends again with the same notification_id)", r->x.execution_id,
                   (long long)sent);
        if (r->b.in_batch)
            cs_eng_drop_batch(e, r); /* the batch taken ahead: its targets are the other replica's */
        r->wake_at = CS_NO_TIME;
        e->lease_tick_at = now; /* the tick finds the lease lost and removes the run (callers hold r) */
        return;
    }
    if (st != MF_OK) {
        cs_eng_log(e, "error", "execution %s: batch not recorded: %s", r->x.execution_id, err.message);
        if (r->b.in_batch)
            cs_eng_drop_batch(e, r); /* the batch taken ahead: its targets stay pending */
        r->cancel_requested = false;
        cs_eng_transition(e, r, MF_CAMPAIGN_STATUS_UPDATE_STATUS_FAILED, "STORAGE_ERROR", err.message);
        r->wake_at = CS_NO_TIME;
        return;
    }
    e->stats.batches++;
    if (nowait) { /* the batch taken ahead publishes once this commit is durable (cs_engine_on_durable) */
        r->hold = ++e->commits_nowait;
        e->sink.sync_start(e->sink.ctx, r->hold);
    }
    cs_eng_refresh(e, r);
    cs_eng_status(e, &r->x, NULL, NULL);
    r->next_batch_at = started + pace_of(r, sent);
    if (publish_failed && r->next_batch_at < now + e->cfg.publish_retry_ms)
        r->next_batch_at = now + e->cfg.publish_retry_ms;
    if (r->b.in_batch)
        r->wake_at = batch_wake(r, now); /* the batch taken ahead: its replies drive it */
    else
        r->wake_at = r->next_batch_at > now ? r->next_batch_at : now;
}

/* ---- the run's state machine ---- */

/* Sends the retries that are due; the earliest one still waiting sets wake_at. */
static void retries(cs_engine *e, cs_run *r, int64_t now)
{
    for (size_t i = 0; i < r->b.n_slots; i++) {
        slot *s = &r->b.slots[i];
        if (s->phase != SLOT_RETRY_WAIT)
            continue;
        if (e->stopping) {
            cs_eng_decide(r, s, CS_TARGET_PENDING, NULL);
        } else if (s->retry_at <= now && !ready(e)) {
            s->retry_at = now + e->cfg.publish_retry_ms;
        } else if (s->retry_at <= now) {
            ask(e, r, i);
        }
        if (s->phase == SLOT_RETRY_WAIT && (r->wake_at == CS_NO_TIME || s->retry_at < r->wake_at))
            r->wake_at = s->retry_at;
    }
}

/* Starts a batch or finds out there is nothing left now. Returns false when the run ended. */
static bool next_batch(cs_engine *e, cs_run *r, int64_t now)
{
    size_t n;
    mf_error err;
    mf_status st = take_batch(e, r, now, 0, false, &n, &err);
    if (st == MF_OK && n > 0) {
        ask_ahead(e, r, now);
        return true;
    }
    if (st == MF_ERR_NOMEM) {
        cs_eng_log(e, "error", "execution %s: out of memory for a batch; trying later", r->x.execution_id);
        r->wake_at = now + e->cfg.publish_retry_ms;
        return true;
    }
    bool none = true, pending = false;
    int64_t release = 0;
    if (st == MF_OK)
        st = cs_ledger_has_pending(e->ledger, r->x.execution_id, &pending, &err);
    if (st == MF_OK && !pending)
        st = cs_ledger_next_release(e->ledger, r->x.execution_id, &release, &none, &err);
    if (st != MF_OK) {
        cs_eng_transition(e, r, MF_CAMPAIGN_STATUS_UPDATE_STATUS_FAILED, "STORAGE_ERROR", err.message);
        cs_eng_remove_run(e, r);
        return false;
    }
    if (pending) { /* pending but not returned: cannot happen; try again shortly */
        r->wake_at = now + e->cfg.publish_retry_ms;
        return true;
    }
    if (!none) {
        r->wake_at = release; /* only held targets left: wait for the earliest release */
        return true;
    }
    cs_eng_transition(e, r, MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED, NULL, NULL);
    cs_eng_remove_run(e, r);
    return false;
}

bool cs_eng_step(cs_engine *e, cs_run *r)
{
    int64_t now = cs_eng_now(e);
    r->wake_at = CS_NO_TIME;
    if (r->b.in_batch) {
        retries(e, r, now);
        if (r->b.n_held && !r->hold)
            cs_eng_release_held(e, r); /* asked ahead, now in hand, after a commit that waited for the disk */
        if (r->b.open == 0)
            batch_end(e, r);
        return true;
    }
    if (r->cancel_requested) {
        cs_eng_transition(e, r, MF_CAMPAIGN_STATUS_UPDATE_STATUS_CANCELLED, NULL, NULL);
        cs_eng_remove_run(e, r);
        return false;
    }
    if (r->x.status == MF_CAMPAIGN_STATUS_UPDATE_STATUS_PAUSED || r->x.status != MF_CAMPAIGN_STATUS_UPDATE_STATUS_PENDING) {
        if (r->x.status != MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING)
            return true; /* paused (or finished elsewhere): nothing until resumed */
    } else {
        if (e->stopping)
            return true;
        if (now < r->x.start_at) {
            r->wake_at = r->x.start_at;
            return true;
        }
        cs_eng_transition(e, r, MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING, NULL, NULL);
        cs_eng_analytics(e, MF_CAMPAIGN_ANALYTICS_EVENT_EVENT_TYPE_CAMPAIGN_EXECUTED, r->x.campaign_id,
                         r->x.execution_id, NULL, NULL, NULL, NULL);
    }
    if (r->pause_requested) {
        r->pause_requested = false;
        cs_eng_transition(e, r, MF_CAMPAIGN_STATUS_UPDATE_STATUS_PAUSED, NULL, NULL);
        return true;
    }
    if (e->stopping)
        return true;
    if (now < r->next_batch_at) {
        r->wake_at = r->next_batch_at;
        return true;
    }
    if (!ready(e)) {
        r->wake_at = now + e->cfg.publish_retry_ms;
        return true;
    }
    return next_batch(e, r, now);
}

/* ---- durability (the sink's sync_start) ---- */

/* The run's last commit is durable: what it held back goes out, and the batch ends when that was
 * all it waited for. */
static void run_durable(cs_engine *e, cs_run *r)
{
    r->hold = 0;
    if (!r->b.in_batch)
        return;
    cs_eng_release_held(e, r);
    if (r->b.open == 0)
        batch_end(e, r);
}

/* The disk refused: the run's last commits may be lost in a power loss, so nothing more is
 * published for it (what it held back stays pending) and it ends failed. */
static void run_not_durable(cs_engine *e, cs_run *r, mf_status st, const char *why)
{
    cs_eng_log(e, "error", "execution %s: its last batch is committed but not durable (%s: %s); it stops here",
               r->x.execution_id, mf_status_str(st), why && *why ? why : "no detail");
    r->hold = 0;
    if (r->b.in_batch)
        cs_eng_drop_batch(e, r);
    r->cancel_requested = false;
    cs_eng_transition(e, r, MF_CAMPAIGN_STATUS_UPDATE_STATUS_FAILED, "STORAGE_ERROR",
                      why && *why ? why : mf_status_str(st));
    r->wake_at = CS_NO_TIME;
}

void cs_engine_on_durable(cs_engine *e, uint64_t ticket, mf_status st, const char *why)
{
    if (st != MF_OK && !e->not_durable) { /* final: the commits after a lost one cannot be recovered */
        e->not_durable = true;
        snprintf(e->not_durable_why, sizeof e->not_durable_why, "%s", why && *why ? why : mf_status_str(st));
    }
    if (e->not_durable) {
        st = MF_ERR_IO;
        why = e->not_durable_why;
    }
    if (st == MF_OK && ticket <= e->durable)
        return;
    if (st == MF_OK)
        e->durable = ticket;
    for (size_t i = 0; i < e->n_runs; i++) {
        cs_run *r = e->runs[i];
        if (!r->hold || r->hold > ticket)
            continue;
        if (st == MF_OK)
            run_durable(e, r);
        else
            run_not_durable(e, r, st, why);
    }
    cs_eng_rearm(e);
}
