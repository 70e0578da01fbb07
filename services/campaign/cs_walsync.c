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
#include <sys/stat.h>
#include <unistd.h>

struct cs_walsync {
    char *path;
    int fd;            /* the log, kept open (syncer thread): it sees every write-back error from its
                        * opening on; -1 until the first sync */
    char failed[256];  /* the first failure, answered to every later ticket ("" none; syncer thread) */
    cs_walsync_done_fn done;
    void *ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t wanted;   /* the highest ticket asked for (mu) */
    uint64_t answered; /* the highest ticket answered (mu) */
    bool closing;      /* mu */
};

/* The log's descriptor, opened on first use and again when SQLite made a new file at the path
 * (another inode); false with why set when it cannot be opened. */
static bool log_open(cs_walsync *w, char *why, size_t cap)
{
    struct stat at, have;
    if (w->fd >= 0 && stat(w->path, &at) == 0 && fstat(w->fd, &have) == 0 && at.st_ino == have.st_ino &&
        at.st_dev == have.st_dev)
        return true;
    int fd = open(w->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, cap, "open %s: %s", w->path, strerror(errno));
        return false;
    }
    if (w->fd >= 0) /* SQLite syncs a log before it lets it go: nothing of the old one is pending */
        close(w->fd);
    w->fd = fd;
    return true;
}

/* One fdatasync of the log: MF_OK, or MF_ERR_IO with the reason in why. A failure is final: the
 * kernel reports a lost write-back once and then calls the pages clean, and SQLite's recovery
 * stops at the first bad frame, so no later sync can make the commits after it durable. */
static mf_status sync_once(cs_walsync *w, char *why, size_t cap)
{
    if (w->failed[0]) {
        snprintf(why, cap, "%s", w->failed);
        return MF_ERR_IO;
    }
    if (log_open(w, why, cap)) {
        if (fdatasync(w->fd) == 0)
            return MF_OK;
        snprintf(why, cap, "fdatasync %s: %s", w->path, strerror(errno));
    }
    snprintf(w->failed, sizeof w->failed, "%s", why);
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
        mf_status st = sync_once(w, why, sizeof why);
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
    w->fd = -1;
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
    if (w->fd >= 0)
        close(w->fd);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->path);
    free(w);
}
