/* cs_host.c - see cs_host.h. Linux: eventfd and timerfd. */
#include "cs_host.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

typedef cs_host_task task;

struct cs_host {
    pthread_mutex_t lock;
    task *head, *tail;
    size_t n;
    bool shut;
    int efd, tfd;
    void (*on_timer)(void *ctx);
    void *ctx;
};

mf_status cs_host_create(void (*on_timer)(void *ctx), void *ctx, cs_host **out, mf_error *err)
{
    *out = NULL;
    cs_host *h = calloc(1, sizeof *h);
    if (!h)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    pthread_mutex_init(&h->lock, NULL);
    h->on_timer = on_timer;
    h->ctx = ctx;
    h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    h->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (h->efd < 0 || h->tfd < 0) {
        mf_status st = mf_error_set(err, MF_ERR_IO, "", "eventfd/timerfd: %s", strerror(errno));
        cs_host_close(h);
        return st;
    }
    *out = h;
    return MF_OK;
}

/* Ends one task: its argument's free_arg (which may free t, when embedded), then t if ours. */
static void done(task *t)
{
    bool owned = t->owned;
    if (t->free_arg)
        t->free_arg(t->arg);
    if (owned)
        free(t);
}

void cs_host_close(cs_host *h)
{
    if (!h)
        return;
    for (task *t = h->head, *next; t; t = next) {
        next = t->next;
        done(t);
    }
    if (h->efd >= 0)
        close(h->efd);
    if (h->tfd >= 0)
        close(h->tfd);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

int cs_host_event_fd(const cs_host *h)
{
    return h->efd;
}

int cs_host_timer_fd(const cs_host *h)
{
    return h->tfd;
}

static mf_status enqueue(cs_host *h, task *t, cs_host_fn fn, void *ctx, void *arg, cs_host_free_fn free_arg)
{
    t->fn = fn, t->ctx = ctx, t->arg = arg, t->free_arg = free_arg, t->next = NULL;
    pthread_mutex_lock(&h->lock);
    if (h->shut) {
        pthread_mutex_unlock(&h->lock);
        return MF_ERR_CLOSED;
    }
    if (h->tail)
        h->tail->next = t;
    else
        h->head = t;
    h->tail = t;
    bool was_empty = h->n++ == 0;
    pthread_mutex_unlock(&h->lock);
    /* one wake-up per batch of posts: cs_host_run clears the event before it takes the queue,
     * so a post that finds the queue non-empty is always seen by a run still to come */
    if (was_empty) {
        uint64_t one = 1;
        ssize_t w = write(h->efd, &one, sizeof one); /* cannot block: the counter never nears its max */
        (void)w;
    }
    return MF_OK;
}

mf_status cs_host_post_task(cs_host *h, cs_host_task *t, cs_host_fn fn, void *ctx, void *arg,
                            cs_host_free_fn free_arg)
{
    t->owned = 0;
    return enqueue(h, t, fn, ctx, arg, free_arg);
}

mf_status cs_host_post(cs_host *h, cs_host_fn fn, void *ctx, void *arg, cs_host_free_fn free_arg)
{
    task *t = malloc(sizeof *t);
    if (!t)
        return MF_ERR_NOMEM;
    t->owned = 1;
    mf_status st = enqueue(h, t, fn, ctx, arg, free_arg);
    if (st != MF_OK)
        free(t);
    return st;
}

void cs_host_shut(cs_host *h)
{
    pthread_mutex_lock(&h->lock);
    h->shut = true;
    pthread_mutex_unlock(&h->lock);
}

size_t cs_host_pending(cs_host *h)
{
    pthread_mutex_lock(&h->lock);
    size_t n = h->n;
    pthread_mutex_unlock(&h->lock);
    return n;
}

void cs_host_timer_in(cs_host *h, int64_t ms)
{
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (ms >= 0) {
        if (ms == 0) {
            its.it_value.tv_nsec = 1; /* 0 would disarm */
        } else {
            its.it_value.tv_sec = (time_t)(ms / 1000);
            its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
        }
    }
    timerfd_settime(h->tfd, 0, &its, NULL);
}

size_t cs_host_run(cs_host *h)
{
    uint64_t count;
    ssize_t r = read(h->efd, &count, sizeof count); /* clears the event; EAGAIN when nothing */
    (void)r;
    pthread_mutex_lock(&h->lock);
    task *list = h->head;
    h->head = h->tail = NULL;
    h->n = 0;
    pthread_mutex_unlock(&h->lock);
    size_t ran = 0;
    for (task *t = list, *next; t; t = next) {
        next = t->next;
        t->fn(t->ctx, t->arg);
        done(t);
        ran++;
    }
    if (read(h->tfd, &count, sizeof count) == (ssize_t)sizeof count && h->on_timer) {
        h->on_timer(h->ctx);
        ran++;
    }
    return ran;
}

size_t cs_host_wait(cs_host *h, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = h->efd, .events = POLLIN}, {.fd = h->tfd, .events = POLLIN}};
    if (poll(p, 2, timeout_ms) <= 0)
        return 0;
    return cs_host_run(h);
}
