/*
 * svc_outbox.c - the transactional outbox and its publisher thread (svc_outbox.h).
 *
 * One publishing cycle: peek (no lock taken when the outbox is empty), check the
 * broker connection, take the lease, then batches of BATCH rows: decode each row
 * into its struct, send it with the kind's typed send, flush, delete the batch
 * and renew the lease in one transaction. Any failure ends the cycle without
 * deleting the batch; the thread backs off and tries again.
 */
#include "svc_outbox.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mf/buf.h"
#include "svc_id.h"
#include "svc_log.h"
#include "svc_time.h"

#define BATCH 500
#define POLL_MS 1000          /* rows written by other processes are seen within this */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define LEASE_BUSY_MS 50
#define LEASE_TTL_MS 30000
#define FLUSH_TIMEOUT_MS 5000

const svc_migration svc_outbox_migrations[] = {
    {1, "outbox and its publisher lease",
     "CREATE TABLE outbox ("
     " id INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused: id order is commit order */
     " kind TEXT NOT NULL,"
     " payload TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL);"
     "CREATE TABLE outbox_lease ("
     " name TEXT PRIMARY KEY,"
     " owner TEXT NOT NULL,"
     " pid INTEGER NOT NULL,"
     " expires_ms INTEGER NOT NULL);"},
};
const size_t svc_outbox_migration_count = sizeof svc_outbox_migrations / sizeof svc_outbox_migrations[0];

/* ------------------------------------------------------------------ writer */

struct svc_outbox_writer {
    sqlite3 *db;
    sqlite3_stmt *ins;
    mf_buf buf;
};

mf_status svc_outbox_writer_open(sqlite3 *db, svc_outbox_writer **out, mf_error *err)
{
    *out = NULL;
    svc_outbox_writer *w = calloc(1, sizeof *w);
    if (!w)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    w->db = db;
    int rc = sqlite3_prepare_v3(db, "INSERT INTO outbox (kind, payload, created_ms) VALUES (?, ?, ?)", -1,
                                SQLITE_PREPARE_PERSISTENT, &w->ins, NULL);
    if (rc != SQLITE_OK) {
        mf_status st = svc_db_status(db, rc, "preparing the outbox insert", err);
        free(w);
        return st;
    }
    *out = w;
    return MF_OK;
}

void svc_outbox_writer_close(svc_outbox_writer *w)
{
    if (!w)
        return;
    sqlite3_finalize(w->ins);
    mf_buf_free(&w->buf);
    free(w);
}

mf_status svc_outbox_add(svc_outbox_writer *w, const svc_outbox_kind *kind, const void *msg, mf_error *err)
{
    if (!w || !kind || !msg)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "writer, kind and message are required");
    mf_buf_reset(&w->buf);
    mf_status st = mf_encode(kind->type, msg, &w->buf, err);
    if (st)
        return st;
    sqlite3_reset(w->ins);
    sqlite3_bind_text(w->ins, 1, kind->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(w->ins, 2, w->buf.data, (int)w->buf.len, SQLITE_STATIC);
    sqlite3_bind_int64(w->ins, 3, svc_now_ms());
    int rc = sqlite3_step(w->ins);
    sqlite3_reset(w->ins);
    return svc_db_status(w->db, rc, "writing an outbox event", err);
}

mf_status svc_outbox_backlog(sqlite3 *db, int64_t *count, int64_t *oldest_age_ms, mf_error *err)
{
    *count = 0;
    *oldest_age_ms = 0;
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT count(*), MIN(created_ms) FROM outbox", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *count = sqlite3_column_int64(s, 0);
        if (*count > 0) {
            int64_t age = svc_now_ms() - sqlite3_column_int64(s, 1);
            *oldest_age_ms = age > 0 ? age : 0;
        }
    }
    mf_status st = svc_db_status(db, rc, "reading the outbox backlog", err);
    sqlite3_finalize(s);
    return st;
}

/* --------------------------------------------------------------- publisher */

struct svc_outbox {
    char *path;
    sqlite3 *db;
    sqlite3_stmt *peek, *sel, *del, *renew;
    mf_client *client;
    const svc_outbox_kind *kinds;
    size_t n_kinds;
    char owner[64];

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;        /* kicks and stop, to the thread */
    pthread_cond_t empty_cv;  /* progress, to wait_empty */
    bool kicked, stopping;
    int64_t stop_deadline;    /* monotonic ms */
    uint64_t kick_gen, empty_gen;
    svc_outbox_stats stats;
};

typedef enum cycle_result { CYCLE_EMPTY, CYCLE_FAILED, CYCLE_BUSY } cycle_result;

static void set_error(svc_outbox *ob, const char *fmt, const char *detail)
{
    char text[600];
    snprintf(text, sizeof text, fmt, detail);
    size_t n = strlen(text);
    if (n >= sizeof ob->stats.last_error)
        n = sizeof ob->stats.last_error - 1;
    pthread_mutex_lock(&ob->mu);
    memcpy(ob->stats.last_error, text, n);
    ob->stats.last_error[n] = '\0';
    ob->stats.retries++;
    pthread_mutex_unlock(&ob->mu);
}

static const svc_outbox_kind *find_kind(svc_outbox *ob, const char *name)
{
    for (size_t i = 0; i < ob->n_kinds; i++)
        if (strcmp(ob->kinds[i].name, name) == 0)
            return &ob->kinds[i];
    return NULL;
}

/* Takes (or keeps) the lease. 1 acquired, 0 held by a live other, -1 error. */
static int lease_acquire(svc_outbox *ob)
{
    mf_error err;
    if (svc_db_begin(ob->db, &err)) {
        SVC_WARN("outbox lease: %s", err.message);
        return -1;
    }
    int64_t now = svc_now_ms();
    bool free_lease = true;
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(ob->db, "SELECT owner, pid, expires_ms FROM outbox_lease WHERE name = 'outbox'", -1,
                                &s, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *owner = (const char *)sqlite3_column_text(s, 0);
        long pid = (long)sqlite3_column_int64(s, 1);
        bool mine = owner && strcmp(owner, ob->owner) == 0;
        bool dead = pid != (long)getpid() && pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
        free_lease = mine || dead || sqlite3_column_int64(s, 2) < now;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        svc_db_rollback(ob->db);
        return -1;
    }
    if (free_lease) {
        rc = sqlite3_prepare_v2(ob->db, "INSERT OR REPLACE INTO outbox_lease VALUES ('outbox', ?, ?, ?)", -1, &s,
                                NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(s, 1, ob->owner, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, (sqlite3_int64)getpid());
            sqlite3_bind_int64(s, 3, now + LEASE_TTL_MS);
            rc = sqlite3_step(s);
        }
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE) {
            svc_db_rollback(ob->db);
            return -1;
        }
    }
    if (svc_db_commit(ob->db, &err)) {
        SVC_WARN("outbox lease: %s", err.message);
        return -1;
    }
    return free_lease ? 1 : 0;
}

static void lease_release(svc_outbox *ob)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(ob->db, "DELETE FROM outbox_lease WHERE name = 'outbox' AND owner = ?", -1, &s, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(s, 1, ob->owner, -1, SQLITE_STATIC);
        sqlite3_step(s);
    }
    sqlite3_finalize(s);
}

/* Decodes one row and sends it. MF_OK sent; MF_ERR_NOT_FOUND / codec errors: dead row;
 * transport errors: the cycle must stop. */
static mf_status send_row(svc_outbox *ob, const char *kind_name, const char *payload, size_t len, mf_error *err)
{
    const svc_outbox_kind *k = find_kind(ob, kind_name);
    if (!k)
        return mf_error_set(err, MF_ERR_NOT_FOUND, "", "unknown event kind \"%s\"", kind_name);
    void *msg = malloc(k->type->size);
    if (!msg)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    mf_status st = mf_decode(k->type, payload, len, msg, err);
    if (st == MF_OK)
        st = k->send(ob->client, msg, err);
    mf_free(k->type, msg);
    free(msg);
    return st;
}

static bool transient(mf_status st)
{
    return st == MF_ERR_FULL || st == MF_ERR_CLOSED || st == MF_ERR_IO || st == MF_ERR_TIMEOUT ||
           st == MF_ERR_NOMEM || st == MF_ERR_NO_RESPONDERS;
}

/* Sends one batch. Returns rows handled (sent or dead), 0 when empty, -1 on failure. */
static int send_batch(svc_outbox *ob, int64_t *last_id, uint64_t *dead)
{
    sqlite3_reset(ob->sel);
    sqlite3_bind_int(ob->sel, 1, BATCH);
    int n = 0, rc;
    while ((rc = sqlite3_step(ob->sel)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(ob->sel, 0);
        const char *kind = (const char *)sqlite3_column_text(ob->sel, 1);
        const char *payload = (const char *)sqlite3_column_text(ob->sel, 2);
        size_t len = (size_t)sqlite3_column_bytes(ob->sel, 2);
        mf_error err;
        mf_error_clear(&err);
        mf_status st = send_row(ob, kind ? kind : "", payload ? payload : "", len, &err);
        if (st && transient(st)) {
            sqlite3_reset(ob->sel);
            set_error(ob, "publishing failed: %s", err.message);
            return -1;
        }
        if (st) {
            char qk[96], qe[320];
            SVC_ERROR("outbox event dropped: it can never be published id=%lld kind=%s pointer=%s error=%s",
                      (long long)id, svc_log_q(qk, sizeof qk, kind), err.pointer[0] ? err.pointer : "-",
                      svc_log_q(qe, sizeof qe, err.message));
            (*dead)++;
        }
        *last_id = id;
        n++;
    }
    sqlite3_reset(ob->sel);
    if (rc != SQLITE_DONE) {
        set_error(ob, "reading the outbox: %s", sqlite3_errmsg(ob->db));
        return -1;
    }
    return n;
}

/* Deletes rows up to last_id and renews the lease, in one transaction. */
static bool finish_batch(svc_outbox *ob, int64_t last_id)
{
    mf_error err;
    if (svc_db_begin(ob->db, &err)) {
        set_error(ob, "%s", err.message);
        return false;
    }
    sqlite3_reset(ob->del);
    sqlite3_bind_int64(ob->del, 1, last_id);
    int rc = sqlite3_step(ob->del);
    sqlite3_reset(ob->del);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(ob->renew);
        sqlite3_bind_int64(ob->renew, 1, svc_now_ms() + LEASE_TTL_MS);
        sqlite3_bind_text(ob->renew, 2, ob->owner, -1, SQLITE_STATIC);
        rc = sqlite3_step(ob->renew);
        sqlite3_reset(ob->renew);
    }
    if (rc != SQLITE_DONE || svc_db_commit(ob->db, &err)) {
        set_error(ob, "deleting published events: %s", sqlite3_errmsg(ob->db));
        svc_db_rollback(ob->db);
        return false;
    }
    return true;
}

static bool outbox_empty(svc_outbox *ob)
{
    sqlite3_reset(ob->peek);
    int rc = sqlite3_step(ob->peek);
    sqlite3_reset(ob->peek);
    return rc == SQLITE_DONE;
}

static int flush_timeout(svc_outbox *ob)
{
    pthread_mutex_lock(&ob->mu);
    int64_t left = ob->stopping ? ob->stop_deadline - svc_mono_ms() : FLUSH_TIMEOUT_MS;
    pthread_mutex_unlock(&ob->mu);
    return left < 1 ? 1 : left > FLUSH_TIMEOUT_MS ? FLUSH_TIMEOUT_MS : (int)left;
}

static cycle_result publish_all(svc_outbox *ob)
{
    for (;;) {
        int64_t last_id = 0;
        uint64_t dead = 0;
        int n = send_batch(ob, &last_id, &dead);
        if (n < 0)
            return CYCLE_FAILED;
        if (n == 0)
            return CYCLE_EMPTY;
        mf_status st = mf_client_flush(ob->client, flush_timeout(ob));
        if (st) {
            set_error(ob, "the broker did not acknowledge the batch: %s", mf_status_str(st));
            return CYCLE_FAILED;
        }
        if (!finish_batch(ob, last_id))
            return CYCLE_FAILED;
        pthread_mutex_lock(&ob->mu);
        ob->stats.published += (uint64_t)n - dead;
        ob->stats.dead += dead;
        ob->stats.last_publish_ms = svc_now_ms();
        ob->stats.last_error[0] = '\0';
        pthread_mutex_unlock(&ob->mu);
    }
}

static cycle_result cycle(svc_outbox *ob)
{
    if (outbox_empty(ob))
        return CYCLE_EMPTY;
    mf_client_stats cs;
    if (mf_client_stats_get(ob->client, &cs) != MF_OK || !cs.connected) {
        set_error(ob, "%s", "the broker is not connected");
        return CYCLE_FAILED;
    }
    int lease = lease_acquire(ob);
    if (lease < 0) {
        set_error(ob, "%s", "could not take the outbox lease");
        return CYCLE_FAILED;
    }
    if (lease == 0)
        return CYCLE_BUSY;
    cycle_result r = publish_all(ob);
    lease_release(ob);
    return r;
}

static int64_t next_wait(cycle_result r, int64_t *backoff)
{
    if (r == CYCLE_FAILED) {
        *backoff = *backoff ? (*backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *backoff * 2) : BACKOFF_MIN_MS;
        return *backoff;
    }
    *backoff = 0;
    return r == CYCLE_BUSY ? LEASE_BUSY_MS : POLL_MS;
}

static void wait_for_work(svc_outbox *ob, int64_t wait_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += wait_ms / 1000;
    ts.tv_nsec += (wait_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    while (!ob->kicked && !ob->stopping)
        if (pthread_cond_timedwait(&ob->cv, &ob->mu, &ts) == ETIMEDOUT)
            break;
}

static void *run(void *arg)
{
    svc_outbox *ob = arg;
    int64_t backoff = 0, wait_ms = 0;
    pthread_mutex_lock(&ob->mu);
    for (;;) {
        if (wait_ms > 0)
            wait_for_work(ob, wait_ms);
        bool stopping = ob->stopping;
        uint64_t gen = ob->kick_gen;
        ob->kicked = false;
        pthread_mutex_unlock(&ob->mu);
        cycle_result r = cycle(ob);
        pthread_mutex_lock(&ob->mu);
        if (r == CYCLE_EMPTY) {
            ob->empty_gen = gen;
            pthread_cond_broadcast(&ob->empty_cv);
        }
        if (stopping)
            break;
        wait_ms = next_wait(r, &backoff);
    }
    pthread_mutex_unlock(&ob->mu);
    return NULL;
}

static mf_status prepare_all(svc_outbox *ob, mf_error *err)
{
    struct {
        sqlite3_stmt **s;
        const char *sql;
    } q[] = {
        {&ob->peek, "SELECT id FROM outbox ORDER BY id LIMIT 1"},
        {&ob->sel, "SELECT id, kind, payload FROM outbox ORDER BY id LIMIT ?"},
        {&ob->del, "DELETE FROM outbox WHERE id <= ?"},
        {&ob->renew, "UPDATE outbox_lease SET expires_ms = ? WHERE name = 'outbox' AND owner = ?"},
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        int rc = sqlite3_prepare_v3(ob->db, q[i].sql, -1, SQLITE_PREPARE_PERSISTENT, q[i].s, NULL);
        if (rc != SQLITE_OK)
            return svc_db_status(ob->db, rc, "preparing the outbox publisher", err);
    }
    return MF_OK;
}

static void outbox_free(svc_outbox *ob)
{
    sqlite3_finalize(ob->peek);
    sqlite3_finalize(ob->sel);
    sqlite3_finalize(ob->del);
    sqlite3_finalize(ob->renew);
    svc_db_close(ob->db);
    pthread_mutex_destroy(&ob->mu);
    pthread_cond_destroy(&ob->cv);
    pthread_cond_destroy(&ob->empty_cv);
    free(ob->path);
    free(ob);
}

mf_status svc_outbox_start(const char *db_path, mf_client *c, const svc_outbox_kind *kinds, size_t n_kinds,
                           svc_outbox **out, mf_error *err)
{
    *out = NULL;
    if (!db_path || !c || (!kinds && n_kinds))
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "database path and client are required");
    svc_outbox *ob = calloc(1, sizeof *ob);
    if (!ob)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    pthread_mutex_init(&ob->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ob->cv, &ca);
    pthread_cond_init(&ob->empty_cv, &ca);
    pthread_condattr_destroy(&ca);
    ob->client = c;
    ob->kinds = kinds;
    ob->n_kinds = n_kinds;
    char rnd[SVC_UUID_LEN];
    svc_uuid_v4(rnd);
    snprintf(ob->owner, sizeof ob->owner, "%ld-%s", (long)getpid(), rnd);
    ob->path = strdup(db_path);
    mf_status st = ob->path ? svc_db_open(db_path, &ob->db, err) : mf_error_set(err, MF_ERR_NOMEM, "", "no memory");
    if (st == MF_OK)
        st = prepare_all(ob, err);
    if (st == MF_OK && pthread_create(&ob->thread, NULL, run, ob) != 0)
        st = mf_error_set(err, MF_ERR_IO, "", "cannot start the outbox thread");
    if (st) {
        outbox_free(ob);
        return st;
    }
    *out = ob;
    return MF_OK;
}

void svc_outbox_kick(svc_outbox *ob)
{
    if (!ob)
        return;
    pthread_mutex_lock(&ob->mu);
    ob->kicked = true;
    ob->kick_gen++;
    pthread_cond_signal(&ob->cv);
    pthread_mutex_unlock(&ob->mu);
}

void svc_outbox_stats_get(svc_outbox *ob, svc_outbox_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!ob)
        return;
    pthread_mutex_lock(&ob->mu);
    *st = ob->stats;
    pthread_mutex_unlock(&ob->mu);
}

mf_status svc_outbox_wait_empty(svc_outbox *ob, int timeout_ms)
{
    if (!ob)
        return MF_ERR_INVALID_ARG;
    int64_t deadline = svc_mono_ms() + timeout_ms;
    pthread_mutex_lock(&ob->mu);
    uint64_t want = ++ob->kick_gen;
    ob->kicked = true;
    pthread_cond_signal(&ob->cv);
    mf_status st = MF_OK;
    while (ob->empty_gen < want) {
        int64_t left = deadline - svc_mono_ms();
        if (left <= 0) {
            st = MF_ERR_TIMEOUT;
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t step = left < 100 ? left : 100;
        ts.tv_nsec += step * 1000000;
        ts.tv_sec += ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&ob->empty_cv, &ob->mu, &ts);
    }
    pthread_mutex_unlock(&ob->mu);
    return st;
}

void svc_outbox_stop(svc_outbox *ob, int timeout_ms)
{
    if (!ob)
        return;
    pthread_mutex_lock(&ob->mu);
    ob->stopping = true;
    ob->stop_deadline = svc_mono_ms() + timeout_ms;
    pthread_cond_signal(&ob->cv);
    pthread_mutex_unlock(&ob->mu);
    pthread_join(ob->thread, NULL);
    svc_outbox_stats st;
    svc_outbox_stats_get(ob, &st);
    int64_t left = 0, age = 0;
    mf_error err;
    if (svc_outbox_backlog(ob->db, &left, &age, &err) == MF_OK && left > 0)
        SVC_WARN("outbox stopped with events still to publish; they go out at the next start pending=%lld",
                 (long long)left);
    SVC_INFO("outbox stopped published=%llu dead=%llu", (unsigned long long)st.published,
             (unsigned long long)st.dead);
    outbox_free(ob);
}
