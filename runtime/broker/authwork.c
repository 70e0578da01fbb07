/*
 * authwork.c - checking account credentials off the service thread.
 *
 * A bcrypt check costs 0.1-0.3 s of CPU on purpose; done on the service thread
 * it would stall every connection for that long per CONNECT. So a CONNECT with
 * credentials is queued to one worker thread (the only work it does is
 * crypt_r; it never calls libwebsockets except lws_cancel_service, which is
 * thread-safe), and the service thread picks the answer up in its
 * EVENT_WAIT_CANCELLED callback (mfb_auth_poll) and finishes the CONNECT.
 *
 * A credential that passed once is remembered as a SHA-256 digest in a small
 * direct-mapped cache (service thread only, memory only), so reconnecting
 * clients do not pay for bcrypt again. Failures are never cached. A login name
 * that does not exist costs the same bcrypt as a wrong password, so timing does
 * not tell which logins exist.
 */
#include "broker/broker.h"

#include <crypt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define CACHE_SLOTS 1024

/* A hash of "x" made with cost 11: compared against when the login is unknown. */
static const char DUMMY_HASH[] = "$2b$11$ZXA/YYwYJ0jgY4lc1mqFu.OcaH6gyuSWW3T3FJOQvjf1RknnGDkfi";

typedef struct auth_job {
    struct auth_job *next;
    uint64_t cid;
    mf_proto_connect cn;
    unsigned char digest[32];
    const mfb_user *user; /* the answer: NULL = refused */
} auth_job;

typedef struct cache_entry {
    bool used;
    unsigned char digest[32];
    const mfb_user *user;
} cache_entry;

struct mfb_auth_worker {
    const mfb_accounts *a;
    struct lws_context *ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    auth_job *todo, *todo_tail; /* FIFO (mu) */
    auth_job *done;             /* (mu) */
    cache_entry cache[CACHE_SLOTS]; /* service thread only */
};

static void job_free(auth_job *j)
{
    if (j) {
        explicit_bzero(j, sizeof *j);
        free(j);
    }
}

/* The worker's check: the user the credentials belong to, or NULL. */
static const mfb_user *verify(const mfb_accounts *a, const mf_proto_connect *cn, struct crypt_data *cd)
{
    if (cn->user[0]) {
        const mfb_user *u = mfb_accounts_find_login(a, cn->user);
        if (!u) {
            crypt_r(cn->pass, DUMMY_HASH, cd); /* the same cost as a wrong password */
            return NULL;
        }
        return mfb_user_check_secret(u, cn->pass, cd) ? u : NULL;
    }
    for (size_t i = 0; i < mfb_accounts_count(a); i++) {
        const mfb_user *u = mfb_accounts_user(a, i);
        if (mfb_user_is_token(u) && mfb_user_check_secret(u, cn->auth_token, cd))
            return u;
    }
    return NULL;
}

static void *worker_main(void *arg)
{
    struct mfb_auth_worker *w = arg;
    mfb_sched_default(); /* bcrypt is throughput work: not the service thread's latency hint */
    struct crypt_data *cd = calloc(1, sizeof *cd);
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->stop && !w->todo)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        auth_job *j = w->todo;
        w->todo = j->next;
        if (!w->todo)
            w->todo_tail = NULL;
        pthread_mutex_unlock(&w->mu);

        j->user = cd ? verify(w->a, &j->cn, cd) : NULL;
        explicit_bzero(j->cn.pass, sizeof j->cn.pass);
        explicit_bzero(j->cn.auth_token, sizeof j->cn.auth_token);

        pthread_mutex_lock(&w->mu);
        j->next = w->done;
        w->done = j;
        pthread_mutex_unlock(&w->mu);
        lws_cancel_service(w->ctx); /* the service thread picks it up: mfb_auth_poll */
    }
    if (cd)
        explicit_bzero(cd, sizeof *cd);
    free(cd);
    return NULL;
}

static struct mfb_auth_worker *worker_get(mfb_accounts *a, struct lws_context *ctx)
{
    struct mfb_auth_worker **slot = mfb_accounts_worker_slot(a);
    if (*slot)
        return *slot;
    struct mfb_auth_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->a = a;
    w->ctx = ctx;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return NULL;
    }
    *slot = w;
    return w;
}

void mfb_auth_worker_stop(mfb_accounts *a)
{
    struct mfb_auth_worker *w = a ? *mfb_accounts_worker_slot(a) : NULL;
    if (!w || w->stop)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
}

void mfb_auth_worker_free(struct mfb_auth_worker *w)
{
    if (!w)
        return;
    if (!w->stop) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    for (auth_job *j = w->todo, *n; j; j = n) {
        n = j->next;
        job_free(j);
    }
    for (auth_job *j = w->done, *n; j; j = n) {
        n = j->next;
        job_free(j);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    explicit_bzero(w->cache, sizeof w->cache);
    free(w);
}

/* SHA-256 of what identifies a credential: "u" user NUL pass, or "t" token. */
static void credential_digest(const mf_proto_connect *cn, unsigned char out[32])
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned int n = 0;
    memset(out, 0, 32);
    if (!m)
        return;
    EVP_DigestInit_ex(m, EVP_sha256(), NULL);
    if (cn->user[0]) {
        EVP_DigestUpdate(m, "u", 1);
        EVP_DigestUpdate(m, cn->user, strlen(cn->user) + 1);
        EVP_DigestUpdate(m, cn->pass, strlen(cn->pass));
    } else {
        EVP_DigestUpdate(m, "t", 1);
        EVP_DigestUpdate(m, cn->auth_token, strlen(cn->auth_token));
    }
    EVP_DigestFinal_ex(m, out, &n);
    EVP_MD_CTX_free(m);
}

static cache_entry *cache_slot(struct mfb_auth_worker *w, const unsigned char d[32])
{
    return &w->cache[((unsigned)d[0] | (unsigned)d[1] << 8) % CACHE_SLOTS];
}

int mfb_auth_begin(mfb_conn *c, const mf_proto_connect *cn, const mfb_user **user)
{
    mfb_accounts *a = c->b->cfg->accounts;
    *user = NULL;
    if (!cn->user[0] && !cn->auth_token[0])
        return -1;
    struct mfb_auth_worker *w = worker_get(a, c->b->ctx);
    if (!w)
        return 0; /* no worker: refused (logged by the caller as wrong credentials) */
    auth_job *j = calloc(1, sizeof *j);
    if (!j)
        return 0;
    credential_digest(cn, j->digest);
    cache_entry *e = cache_slot(w, j->digest);
    if (e->used && CRYPTO_memcmp(e->digest, j->digest, 32) == 0) {
        *user = e->user;
        job_free(j);
        return 0;
    }
    j->cid = c->cid;
    j->cn = *cn;
    pthread_mutex_lock(&w->mu);
    if (w->todo_tail)
        w->todo_tail->next = j;
    else
        w->todo = j;
    w->todo_tail = j;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 1;
}

void mfb_auth_poll(mfb_broker *b)
{
    mfb_accounts *a = b->cfg->accounts;
    struct mfb_auth_worker *w = a ? *mfb_accounts_worker_slot(a) : NULL;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    auth_job *done = w->done;
    w->done = NULL;
    pthread_mutex_unlock(&w->mu);
    while (done) {
        auth_job *j = done;
        done = j->next;
        mfb_conn *c = b->conns;
        while (c && c->cid != j->cid)
            c = c->next;
        if (c && c->auth_pending) {
            if (j->user) {
                cache_entry *e = cache_slot(w, j->digest);
                e->used = true;
                memcpy(e->digest, j->digest, 32);
                e->user = j->user;
            }
            mfb_ops_auth_done(c, &j->cn, j->user);
        }
        job_free(j);
    }
}
