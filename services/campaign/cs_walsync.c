/*
 * cs_walsync.c - the write-ahead log's fdatasync on its own thread (cs_walsync.h).
 */
#include "cs_walsync.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cs_walsync {
    char *path;
    cs_walsync_done_fn done;
    void *ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t wanted;   /* the highest ticket asked for (mu) */
    uint64_t answered; /* the highest ticket answered (mu) */
    bool closing;      /* mu */
};

/* One fdatasync of the log; MF_OK, or MF_ERR_IO with errno's text in why. */
static mf_status sync_once(const char *path, char *why, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return MF_OK; /* deleted after a checkpoint into the synced database: nothing to write */
    int rc = fd < 0 ? -1 : fdatasync(fd);
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (rc == 0)
        return MF_OK;
    snprintf(why, cap, "%s %s: %s", fd < 0 ? "open" : "fdatasync", path, strerror(e));
    return MF_ERR_IO;
}

static void *syncer_main(void *arg)
{
    cs_walsync *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->closing && w->wanted == w->answered)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->closing)
            break;
        uint64_t t = w->wanted;
        pthread_mutex_unlock(&w->mu);
        char why[256] = "";
        mf_status st = sync_once(w->path, why, sizeof why);
        w->done(w->ctx, t, st, why);
        pthread_mutex_lock(&w->mu);
        w->answered = t;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

mf_status cs_walsync_open(const char *wal_path, cs_walsync_done_fn done, void *ctx, cs_walsync **out, mf_error *err)
{
    *out = NULL;
    cs_walsync *w = calloc(1, sizeof *w);
    if (w)
        w->path = strdup(wal_path);
    if (!w || !w->path) {
        free(w);
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    w->done = done;
    w->ctx = ctx;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    int rc = pthread_create(&w->thread, NULL, syncer_main, w);
    if (rc != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w->path);
        free(w);
        return mf_error_set(err, MF_ERR_IO, "", "cannot start the log's syncer thread: %s", strerror(rc));
    }
    *out = w;
    return MF_OK;
}

void cs_walsync_request(cs_walsync *w, uint64_t ticket)
{
    pthread_mutex_lock(&w->mu);
    if (ticket > w->wanted) {
        w->wanted = ticket;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
}

void cs_walsync_close(cs_walsync *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->closing = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->path);
    free(w);
}
