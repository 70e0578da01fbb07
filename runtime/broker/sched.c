/*
 * sched.c - telling the kernel's scheduler that the service thread is latency
 * sensitive.
 *
 * The service thread sleeps in poll() and, per message, wakes, reads, routes,
 * writes and sleeps again after some tens of microseconds. Under Linux's EEVDF
 * scheduler (6.6 and later) a task that wakes up while every CPU is busy
 * waits until the running task has used its slice (0.7 ms x (1 + log2 CPUs):
 * 1.4 ms on 2 CPUs) unless its own slice is shorter: a request/reply hop
 * then costs up to 1.4 ms more whenever the client's helper threads or any
 * neighbour fill the CPUs, and that is the broker's request/reply p99 with
 * nats.ws on a 2-CPU machine (bench/RESULTS.md). Since Linux 6.12 a SCHED_OTHER
 * task may ask for a shorter slice with sched_setattr(2) (sched_runtime); a
 * waking task whose slice is shorter than the running one's is then run at
 * once (it still gets only its fair share of the CPU: the slice changes when
 * it runs, not how much).
 *
 * nice, policy and CPU share are unchanged. Older kernels ignore sched_runtime
 * for SCHED_OTHER; where the call fails the broker runs as before.
 */
#include "broker/broker.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's minimum slice (0.1 ms): one wakeup of the service thread costs less. */
#define LATENCY_SLICE_NS (100u * 1000u)

/* struct sched_attr as sched_setattr(2) documents it (<linux/sched/types.h> clashes with <sched.h>). */
typedef struct {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime; /* SCHED_OTHER: the requested slice in ns, 0 = the default */
    uint64_t sched_deadline;
    uint64_t sched_period;
    uint32_t sched_util_min;
    uint32_t sched_util_max;
} sched_attr_v1;

/* The calling thread stays SCHED_OTHER at its nice value, with a slice of slice_ns (0: the default). */
static int set_slice(uint64_t slice_ns)
{
#ifdef SYS_sched_setattr
    if (sched_getscheduler(0) != SCHED_OTHER)
        return 0; /* a policy chosen by the operator (chrt): leave it */
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0); /* the calling thread's, on Linux */
    if (nice == -1 && errno)
        return -1;
    sched_attr_v1 a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.sched_policy = SCHED_OTHER;
    a.sched_nice = nice;
    a.sched_runtime = slice_ns;
    return (int)syscall(SYS_sched_setattr, 0, &a, 0);
#else
    (void)slice_ns;
    errno = ENOSYS;
    return -1;
#endif
}

void mfb_sched_latency_hint(void)
{
    if (set_slice(LATENCY_SLICE_NS) == 0)
        MFB_LOGD("service thread: scheduler slice %u us requested", LATENCY_SLICE_NS / 1000u);
    else
        MFB_LOGD("service thread: no shorter scheduler slice (%s)", strerror(errno));
}

void mfb_sched_default(void)
{
    (void)set_slice(0);
}
