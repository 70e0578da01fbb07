/* cs_refresh.c - see cs_refresh.h. */
#include "cs_refresh.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cs_republish.h"
#include "cs_time.h"
#include "svc_time.h"

#define NO_CURSOR 0 /* no event received yet (an updated_at of 1970-01-01T00:00:00Z is not expected) */

struct cs_refresh {
    cs_refresh_config cfg;
    char *url, *token;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
    bool joined;           /* the thread is gone */
    bool pending;          /* a request waits */
    bool again;            /* the pending request goes once more, settle_ms after it succeeded */
    int64_t since;         /* of the pending request (CS_REFRESH_ALL: everyone) */
    char why[160];         /* of the pending request */
    int64_t last_full_ms;  /* monotonic time of the last full republish answered; 0 = none */
    cs_refresh_stats stats;
    /* client thread only */
    int64_t cursor;        /* newest updated_at received (also stats.cursor_ms, under lock) */
    int64_t lost;          /* the cursor at the last DISCONNECTED, until the RECONNECTED; -1 = none */
};

#define logf_(r, level, ...) cs_logf((r)->cfg.log, (r)->cfg.log_ctx, level, __VA_ARGS__)

/* Waits on the condition until the monotonic time `until` (or a signal). Lock held. */
static void wait_until(cs_refresh *r, int64_t until)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t left = until - svc_mono_ms();
    if (left <= 0)
        return;
    ts.tv_sec += left / 1000;
    ts.tv_nsec += (left % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&r->cond, &r->lock, &ts);
}

/* The broker connection is up and the server has our subscriptions (a flush answered). */
static bool broker_ready(cs_refresh *r)
{
    return mf_client_wait_connected(r->cfg.client, 1000) == MF_OK &&
           mf_client_flush(r->cfg.client, r->cfg.timeout_ms) == MF_OK;
}

/* One attempt, without the lock. */
static bool attempt(cs_refresh *r, int64_t since, const char *why)
{
    char text[CS_TIME_TEXT_MAX];
    const char *q = since == CS_REFRESH_ALL ? NULL : cs_time_format(since, text);
    int code = 0;
    mf_error err;
    mf_status st = cs_republish_request_since(r->url, r->token, q, r->cfg.timeout_ms, &code, &err);
    if (st != MF_OK) {
        logf_(r, "warn", "the User Service did not republish (%s): %s; trying again", why, err.message);
        return false;
    }
    if (q)
        logf_(r, "info", "asked the User Service to republish what changed since=%s (%s) url=%s", q, why, r->url);
    else
        logf_(r, "info", "asked the User Service to republish every user (%s) url=%s", why, r->url);
    return true;
}

/* Takes the pending request once it may run (lock held): false when stopping. */
static bool take(cs_refresh *r, int64_t *since, char *why, size_t cap, bool *again)
{
    for (;;) {
        while (!r->pending && !r->stopping)
            pthread_cond_wait(&r->cond, &r->lock);
        if (r->stopping)
            return false;
        int64_t due = r->last_full_ms ? r->last_full_ms + r->cfg.full_interval_ms : 0;
        if (r->since != CS_REFRESH_ALL || svc_mono_ms() >= due)
            break;
        wait_until(r, due); /* a full republish went out a moment ago: not again before due */
    }
    *since = r->since;
    snprintf(why, cap, "%s", r->why);
    *again = r->again;
    r->pending = r->again = false;
    return true;
}

/* Merges a request into the pending one (lock held): the older since wins. */
static void merge(cs_refresh *r, int64_t since, const char *why, bool again)
{
    r->again |= again;
    if (!r->pending || since < r->since) {
        r->since = since;
        size_t n = strnlen(why, sizeof r->why - 1); /* a reason for the log: cut if long */
        memcpy(r->why, why, n);
        r->why[n] = '\0';
    }
    if (!r->pending)
        r->stats.requested++;
    r->pending = true;
}

/* Waits ms unless stopping (lock held). */
static void pause_ms(cs_refresh *r, int64_t ms)
{
    int64_t until = svc_mono_ms() + ms;
    while (!r->stopping && svc_mono_ms() < until)
        wait_until(r, until);
}

static void *run(void *arg)
{
    cs_refresh *r = arg;
    int64_t backoff = 1000;
    char why[sizeof r->why];
    int64_t since;
    bool again;
    pthread_mutex_lock(&r->lock);
    while (take(r, &since, why, sizeof why, &again)) {
        pthread_mutex_unlock(&r->lock);
        bool ok = broker_ready(r) && attempt(r, since, why);
        pthread_mutex_lock(&r->lock);
        if (ok) {
            backoff = 1000;
            if (since == CS_REFRESH_ALL) {
                r->stats.full_done++;
                r->last_full_ms = svc_mono_ms();
            } else {
                r->stats.since_done++;
            }
            if (again) { /* once more when the cluster has settled: see cs_refresh.h */
                pause_ms(r, r->cfg.settle_ms);
                merge(r, since, "the same request again, the cluster settled", false);
            }
            continue;
        }
        r->stats.failures++;
        int64_t rs = r->stats.requested;
        merge(r, since, why, again);
        r->stats.requested = rs; /* the same request, again */
        pause_ms(r, backoff);
        backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

mf_status cs_refresh_open(const cs_refresh_config *cfg, cs_refresh **out, mf_error *err)
{
    *out = NULL;
    if (!cfg || !cfg->url || !*cfg->url || !cfg->client)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "cs_refresh needs a URL and a client");
    cs_refresh *r = calloc(1, sizeof *r);
    if (!r)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    r->cfg = *cfg;
    if (r->cfg.margin_ms <= 0)
        r->cfg.margin_ms = 15000;
    if (r->cfg.full_interval_ms <= 0)
        r->cfg.full_interval_ms = 30000;
    if (r->cfg.timeout_ms <= 0)
        r->cfg.timeout_ms = 5000;
    if (r->cfg.settle_ms <= 0)
        r->cfg.settle_ms = 2000;
    r->url = strdup(cfg->url);
    r->token = cfg->token ? strdup(cfg->token) : NULL;
    r->lost = -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&r->lock, NULL);
    if (!r->url || (cfg->token && !r->token) || pthread_create(&r->thread, NULL, run, r) != 0) {
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->lock);
        free(r->url);
        free(r->token);
        free(r);
        return mf_error_set(err, MF_ERR_NOMEM, "", "cannot start the refresh thread");
    }
    *out = r;
    return MF_OK;
}

static void want(cs_refresh *r, int64_t since_ms, const char *why, bool again)
{
    pthread_mutex_lock(&r->lock);
    merge(r, since_ms, why, again);
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

void cs_refresh_want(cs_refresh *r, int64_t since_ms, const char *why)
{
    pthread_mutex_lock(&r->lock);
    merge(r, since_ms, why, false);
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* since for a cursor: moved back by the margin; everyone when there is none. */
static int64_t since_of(cs_refresh *r, int64_t cursor)
{
    return cursor == NO_CURSOR ? CS_REFRESH_ALL : cursor - r->cfg.margin_ms;
}

mf_status cs_refresh_start(cs_refresh *r, sqlite3 *db, mf_error *err)
{
    sqlite3_stmt *q = NULL;
    const char *sql = "SELECT count(*), max(max(coalesce(profile_at, 0), coalesce(prefs_at, 0),"
                      " coalesce(deleted_at, 0))) FROM cs_users";
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
        mf_error_set(err, MF_ERR_IO, "", "reading the user view: %s", sqlite3_errmsg(db));
        sqlite3_finalize(q);
        return MF_ERR_IO;
    }
    int64_t users = sqlite3_column_int64(q, 0), newest = sqlite3_column_int64(q, 1);
    sqlite3_finalize(q);
    char text[CS_TIME_TEXT_MAX], why[128];
    pthread_mutex_lock(&r->lock);
    if (r->stats.cursor_ms < newest)
        r->stats.cursor_ms = newest;
    pthread_mutex_unlock(&r->lock);
    if (users == 0 || newest == 0) {
        cs_refresh_want(r, CS_REFRESH_ALL, "the user view is empty at start");
        return MF_OK;
    }
    snprintf(why, sizeof why, "start: the view holds %lld users, the newest event of %s", (long long)users,
             cs_time_format(newest, text));
    cs_refresh_want(r, since_of(r, newest), why);
    return MF_OK;
}

void cs_refresh_seen(cs_refresh *r, const char *updated_at)
{
    int64_t ms;
    if (!updated_at || cs_time_parse(updated_at, &ms, NULL) != MF_OK || ms <= r->cursor)
        return;
    r->cursor = ms;
    pthread_mutex_lock(&r->lock);
    if (r->stats.cursor_ms < ms)
        r->stats.cursor_ms = ms;
    pthread_mutex_unlock(&r->lock);
}

void cs_refresh_on_event(cs_refresh *r, const mf_client_event *ev)
{
    if (ev->type == MF_CLIENT_DISCONNECTED && r->lost < 0) {
        pthread_mutex_lock(&r->lock);
        r->lost = r->stats.cursor_ms; /* includes the view's newest stored event */
        pthread_mutex_unlock(&r->lock);
    } else if (ev->type == MF_CLIENT_RECONNECTED && r->lost >= 0) {
        char why[320], text[CS_TIME_TEXT_MAX];
        if (r->lost == NO_CURSOR)
            snprintf(why, sizeof why, "reconnected to %s; no user event had arrived before the disconnection",
                     ev->url ? ev->url : "");
        else
            snprintf(why, sizeof why, "reconnected to %s; events published meanwhile were lost, the newest "
                     "received was of %s", ev->url ? ev->url : "", cs_time_format(r->lost, text));
        want(r, since_of(r, r->lost), why, true);
        r->lost = -1;
    }
}

void cs_refresh_stats_get(cs_refresh *r, cs_refresh_stats *out)
{
    pthread_mutex_lock(&r->lock);
    *out = r->stats;
    pthread_mutex_unlock(&r->lock);
}

void cs_refresh_stop(cs_refresh *r)
{
    if (!r || r->joined)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    r->joined = true;
}

void cs_refresh_close(cs_refresh *r)
{
    if (!r)
        return;
    cs_refresh_stop(r);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    if (r->token) {
        memset(r->token, 0, strlen(r->token));
        free(r->token);
    }
    free(r->url);
    free(r);
}
