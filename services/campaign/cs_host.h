/*
 * cs_host.h - runs the engine's events on one thread: a queue that any thread posts to, and one
 * timer, both as file descriptors a poll loop watches (the admin server's loop in the service).
 *
 * The engine (cs_engine.h) must only ever be entered from one thread. Messages arrive on the
 * client's service thread, admin requests on the main thread, timers are the engine's own; the
 * host turns all of them into tasks run, in order, on the thread that calls cs_host_run.
 *
 *   post    cs_host_post(h, fn, ctx, arg, free_arg) from any thread: fn(ctx, arg) runs later on
 *           the host thread, then free_arg(arg). If the host is closed first, only free_arg runs.
 *           cs_host_post_task does the same with the task's storage (a cs_host_task) supplied
 *           by the caller, usually a member of arg: no allocation per post (a reply per
 *           notification: memory malloc'd on the posting thread and freed on the host's is what
 *           glibc's allocator handles worst).
 *   timer   cs_host_timer_in(h, ms) (host thread): the timer fd becomes readable after ms
 *           (0: at once; < 0: disarmed); cs_host_run then calls the timer callback.
 *   run     cs_host_run(h) (host thread, when either fd is readable - or at any time): runs the
 *           tasks queued so far and, if the timer expired, its callback.
 *
 * Tasks posted while cs_host_run runs wait for the next call (the event fd stays readable).
 *
 * Threads: cs_host_post, cs_host_post_task, cs_host_shut and cs_host_pending are thread-safe
 * (lock-free: a post is one compare-and-swap, and one eventfd write when the queue was empty);
 * the rest belongs to the host thread.
 */
#ifndef CS_HOST_H
#define CS_HOST_H

#include <stddef.h>
#include <stdint.h>
#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_host cs_host;
typedef void (*cs_host_fn)(void *ctx, void *arg);
typedef void (*cs_host_free_fn)(void *arg);

/* A task's storage, embedded by the caller (cs_host_post_task). Its members are the host's. */
typedef struct cs_host_task {
    cs_host_fn fn;
    void *ctx, *arg;
    cs_host_free_fn free_arg;
    struct cs_host_task *next;
    int owned; /* allocated by cs_host_post: freed by the host */
} cs_host_task;

/* on_timer(ctx) runs on the host thread when the timer expires. MF_ERR_IO (eventfd/timerfd). */
mf_status cs_host_create(void (*on_timer)(void *ctx), void *ctx, cs_host **out, mf_error *err);

/* Frees queued tasks' arguments (their fn does not run: free_arg(arg) only, in the order they were
 * posted) and the host. Host thread (or any thread once no other thread posts). NULL is fine. */
void cs_host_close(cs_host *h);

int cs_host_event_fd(const cs_host *h);
int cs_host_timer_fd(const cs_host *h);

/* Queues fn(ctx, arg); free_arg(arg) afterwards (may be NULL). MF_ERR_NOMEM (nothing queued:
 * the caller still owns arg), MF_ERR_CLOSED after cs_host_shut. Any thread. */
mf_status cs_host_post(cs_host *h, cs_host_fn fn, void *ctx, void *arg, cs_host_free_fn free_arg);

/* Queues fn(ctx, arg) in the caller's task storage t: t must stay valid, untouched by the caller,
 * until free_arg(arg) is called (by cs_host_run after fn, or by cs_host_close without fn), which
 * may free it (t is not used after free_arg returns). free_arg may be NULL only when t outlives
 * the host; t may then be posted again as soon as fn has begun (the host reads t no more). MF_ERR_CLOSED after cs_host_shut: nothing queued, the caller still owns arg and t.
 * Never MF_ERR_NOMEM: no allocation. Any thread. */
mf_status cs_host_post_task(cs_host *h, cs_host_task *t, cs_host_fn fn, void *ctx, void *arg,
                            cs_host_free_fn free_arg);

/* Refuses further posts (MF_ERR_CLOSED); queued tasks still run. Any thread. */
void cs_host_shut(cs_host *h);

/* Tasks posted and not yet taken by a run (a post still in progress may count already; a task
 * being run does not). Any thread. */
size_t cs_host_pending(cs_host *h);

/* Arms the timer to fire after ms milliseconds (0: at once), or disarms it (ms < 0). */
void cs_host_timer_in(cs_host *h, int64_t ms);

/* Runs what is due: the queued tasks, then the timer callback if it expired. Returns the
 * number of tasks run (the timer counts as one). */
size_t cs_host_run(cs_host *h);

/* Waits up to timeout_ms for either fd (poll) and runs what is due; for loops of one's own
 * (shutdown, tests). Returns what cs_host_run returned, 0 on timeout. */
size_t cs_host_wait(cs_host *h, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif /* CS_HOST_H */
