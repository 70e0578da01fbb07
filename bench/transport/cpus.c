/*
 * cpus.c - bench-transport: the CPU lists of --server-cpus and --client-cpus,
 * written as `taskset -c` takes them ("1", "0-1", "0,2-3").
 *
 * Why pin at all: on a small machine the 1->1 phase runs four busy threads
 * (the publishing thread, the publisher's and the subscriber's service threads,
 * the server) on few CPUs, and where the scheduler puts them moves both servers'
 * rates by 2x from run to run. Pinning the server and the clients to CPUs of
 * their own (or all to one CPU) takes that out, so the ratio says more about the
 * servers. Go's runtime sizes nats-server's GOMAXPROCS from its CPU set (unless
 * GOMAXPROCS is set in the environment, which the servers inherit).
 */
#include "bench_transport.h"

#include <stdlib.h>
#include <string.h>

/* One number of a list; false when there is none or it is too large. */
static bool cpu_number(const char **p, unsigned *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return false;
    unsigned long v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (unsigned long)(*s++ - '0');
        if (v >= CPU_SETSIZE)
            return false;
    }
    *p = s;
    *out = (unsigned)v;
    return true;
}

bool cpus_parse(const char *text, cpu_set_t *set, char *err, size_t errsz)
{
    CPU_ZERO(set);
    const char *p = text ? text : "";
    for (;;) {
        unsigned a, b;
        if (!cpu_number(&p, &a))
            break;
        b = a;
        if (*p == '-' && (p++, !cpu_number(&p, &b)))
            break;
        if (b < a)
            break;
        for (unsigned i = a; i <= b; i++)
            CPU_SET(i, set);
        if (*p == '\0')
            return true;
        if (*p++ != ',')
            break;
    }
    snprintf(err, errsz, "'%s' is not a CPU list (like 0, 0-1 or 0,2; below %d)", text ? text : "", CPU_SETSIZE);
    return false;
}
