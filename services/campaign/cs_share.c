/* cs_share.c - a helper thread that shares the items of a loop (cs_share.h). */
#include "cs_share.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Spins of the caller, once it has claimed every chunk, before it sleeps until the helper ends
 * its last one (a chunk is some tens of microseconds: sleeping costs two context switches). */
#define SPINS 2000

struct cs_share {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t go;   /* the helper waits for a job (or stop) */
    pthread_cond_t idle; /* the caller waits for the helper's last chunk */
    /* the job, under mu; job counts the jobs posted (0: none yet) */
    uint64_t job;
    cs_share_fn fn;
    void *ctx;
    size_t n, chunk;
    bool stop;
    /* the job's low 32 bits << 32 | the next item to claim: a helper that read an older job
     * fails every claim, so it never runs an item with that job's fn */
    _Atomic uint64_t next;
    _Atomic size_t left; /* items of the job not yet run */
    _Atomic size_t helped;
};

/* Claims the next chunk of job `tag`: [*from, *to). False when the job has none left or is over. */
static bool claim(cs_share *sh, uint32_t tag, size_t n, size_t chunk, size_t *from, size_t *to)
{
    uint64_t cur = atomic_load(&sh->next);
    for (;;) {
        size_t at = (size_t)(cur & UINT32_MAX);
        if ((uint32_t)(cur >> 32) != tag || at >= n)
            return false;
        size_t end = n - at > chunk ? at + chunk : n;
        if (atomic_compare_exchange_weak(&sh->next, &cur, (uint64_t)tag << 32 | end)) {
            *from = at;
            *to = end;
            return true;
        }
    }
}

/* Runs chunks of job `tag` until none is left. The thread that runs the job's last item wakes the
 * caller (it may be asleep in cs_share_run). */
static void work(cs_share *sh, uint32_t tag, size_t n, size_t chunk, cs_share_fn fn, void *ctx, int who)
{
    size_t from, to;
    while (claim(sh, tag, n, chunk, &from, &to)) {
        fn(ctx, from, to, who);
        if (who != 0) /* counted before the chunk is done: the caller may return at once after */
            atomic_fetch_add(&sh->helped, to - from);
        if (atomic_fetch_sub(&sh->left, to - from) == to - from && who != 0) {
            pthread_mutex_lock(&sh->mu);
            pthread_cond_signal(&sh->idle);
            pthread_mutex_unlock(&sh->mu);
        }
    }
}

static void *helper(void *arg)
{
    cs_share *sh = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&sh->mu);
    for (;;) {
        while (!sh->stop && sh->job == seen)
            pthread_cond_wait(&sh->go, &sh->mu);
        if (sh->stop)
            break;
        seen = sh->job;
        cs_share_fn fn = sh->fn;
        void *ctx = sh->ctx;
        size_t n = sh->n, chunk = sh->chunk;
        pthread_mutex_unlock(&sh->mu);
        work(sh, (uint32_t)seen, n, chunk, fn, ctx, 1);
        pthread_mutex_lock(&sh->mu);
    }
    pthread_mutex_unlock(&sh->mu);
    return NULL;
}

mf_status cs_share_open(cs_share **out, mf_error *err)
{
    *out = NULL;
    cs_share *sh = calloc(1, sizeof *sh);
    if (!sh)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    pthread_mutex_init(&sh->mu, NULL);
    pthread_cond_init(&sh->go, NULL);
    pthread_cond_init(&sh->idle, NULL);
    int rc = pthread_create(&sh->thread, NULL, helper, sh);
    if (rc != 0) {
        pthread_cond_destroy(&sh->idle);
        pthread_cond_destroy(&sh->go);
        pthread_mutex_destroy(&sh->mu);
        free(sh);
        return mf_error_set(err, MF_ERR_IO, "", "cannot start the engine's helper thread: %s", strerror(rc));
    }
    *out = sh;
    return MF_OK;
}

void cs_share_run(cs_share *sh, size_t n, size_t chunk, cs_share_fn fn, void *ctx)
{
    if (chunk == 0)
        chunk = 1;
    if (n <= chunk || n > UINT32_MAX) { /* not worth a wake-up (or too many to tag): all here */
        for (size_t from = 0; from < n; from += chunk)
            fn(ctx, from, n - from > chunk ? from + chunk : n, 0);
        return;
    }
    pthread_mutex_lock(&sh->mu);
    uint32_t tag = (uint32_t)++sh->job;
    sh->fn = fn;
    sh->ctx = ctx;
    sh->n = n;
    sh->chunk = chunk;
    atomic_store(&sh->left, n);
    atomic_store(&sh->next, (uint64_t)tag << 32);
    pthread_cond_signal(&sh->go);
    pthread_mutex_unlock(&sh->mu);
    work(sh, tag, n, chunk, fn, ctx, 0);
    for (int spin = 0; spin < SPINS && atomic_load(&sh->left) != 0; spin++)
        ;
    if (atomic_load(&sh->left) == 0)
        return;
    pthread_mutex_lock(&sh->mu);
    while (atomic_load(&sh->left) != 0)
        pthread_cond_wait(&sh->idle, &sh->mu);
    pthread_mutex_unlock(&sh->mu);
}

size_t cs_share_helped(const cs_share *sh)
{
    return sh ? atomic_load(&((cs_share *)sh)->helped) : 0;
}

void cs_share_close(cs_share *sh)
{
    if (!sh)
        return;
    pthread_mutex_lock(&sh->mu);
    sh->stop = true;
    pthread_cond_signal(&sh->go);
    pthread_mutex_unlock(&sh->mu);
    pthread_join(sh->thread, NULL);
    pthread_cond_destroy(&sh->idle);
    pthread_cond_destroy(&sh->go);
    pthread_mutex_destroy(&sh->mu);
    free(sh);
}
