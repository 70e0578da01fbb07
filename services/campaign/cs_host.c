/* cs_host.c - see cs_host.h. Linux: eventfd and timerfd.
 *
 * The queue is a lock-free stack of tasks: a post pushes with one compare-and-swap, a run takes
 * the whole stack with one atomic and (and reverses it: posting order). No mutex is taken
 * per post (a reply per notification on the client's thread) and no pointer is popped one at a
 * time, so there is no ABA. Bit 0 of the head is the shut flag: a post after cs_host_shut fails
 * in the same atomic step that would have queued it. */
#include "cs_host.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

typedef cs_host_task task;

#define SHUT_BIT ((uintptr_t)1) /* tasks are pointer-aligned: bit 0 of the head is free */

struct cs_host {
    /* read by the host thread at every run and timer change: not on the posters' cache line */
    int efd, tfd;
    void (*on_timer)(void *ctx);
    void *ctx;
    /* written by every post, and by a run once per run: a cache line of their own, so that the
     * host thread's reads above do not take it from the posters between runs */
    _Alignas(64) _Atomic uintptr_t head; /* the newest task posted (a stack, ->next older), | SHUT_BIT */
    atomic_size_t n;                     /* tasks posted and not yet taken (counted before the push) */
    char pad[64 - sizeof(uintptr_t) - sizeof(size_t)];
};

mf_status cs_host_create(void (*on_timer)(void *ctx), void *ctx, cs_host **out, mf_error *err)
{
    *out = NULL;
    cs_host *h = aligned_alloc(64, sizeof *h); /* sizeof is a multiple of 64 (the aligned line) */
    if (!h)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    memset(h, 0, sizeof *h);
    atomic_init(&h->head, 0);
    atomic_init(&h->n, 0);
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

/* Runs one task (run: fn, else only its end), then its argument's free_arg (which may free t,
 * when embedded), then t if ours. What it needs of t is read before fn: an embedded task without
 * free_arg may be posted again as soon as fn has begun (the service's durable task, posted by the
 * syncer thread again once fn has taken its answer), and t is not read after that. */
static void run_one(task *t, bool run)
{
    bool owned = t->owned;
    cs_host_free_fn free_arg = t->free_arg;
    void *arg = t->arg;
    if (run)
        t->fn(t->ctx, arg);
    if (free_arg)
        free_arg(arg);
    if (owned)
        free(t);
}

/* Takes every queued task, oldest first (the shut flag stays). */
static task *take_all(cs_host *h)
{
    uintptr_t top = atomic_fetch_and_explicit(&h->head, SHUT_BIT, memory_order_acquire);
    task *list = NULL;
    size_t n = 0;
    for (task *t = (task *)(top & ~SHUT_BIT), *next; t; t = next, n++) { /* newest first: reverse */
        next = t->next;
        t->next = list;
        list = t;
    }
    atomic_fetch_sub_explicit(&h->n, n, memory_order_relaxed);
    return list;
}

void cs_host_close(cs_host *h)
{
    if (!h)
        return;
    for (task *t = take_all(h), *next; t; t = next) {
        next = t->next;
        run_one(t, false);
    }
    if (h->efd >= 0)
        close(h->efd);
    if (h->tfd >= 0)
        close(h->tfd);
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
    t->fn = fn, t->ctx = ctx, t->arg = arg, t->free_arg = free_arg;
    /* counted first, so that cs_host_pending never misses a task in the queue (nor wraps) */
    atomic_fetch_add_explicit(&h->n, 1, memory_order_relaxed);
    uintptr_t top = atomic_load_explicit(&h->head, memory_order_relaxed);
    do {
        if (top & SHUT_BIT) {
            atomic_fetch_sub_explicit(&h->n, 1, memory_order_relaxed);
            return MF_ERR_CLOSED;
        }
        t->next = (task *)top;
    } while (!atomic_compare_exchange_weak_explicit(&h->head, &top, (uintptr_t)t, memory_order_release,
                                                    memory_order_relaxed));
    /* one wake-up per batch of posts: cs_host_run clears the event before it takes the queue,
     * so a post that finds the queue non-empty is always seen by a run still to come */
    if (top == 0) {
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
    atomic_fetch_or_explicit(&h->head, SHUT_BIT, memory_order_acq_rel);
}

size_t cs_host_pending(cs_host *h)
{
    return atomic_load_explicit(&h->n, memory_order_relaxed);
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
    task *list = take_all(h);
    size_t ran = 0;
    for (task *t = list, *next; t; t = next) {
        next = t->next;
        run_one(t, true);
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
