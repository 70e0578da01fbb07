/*
 * bench_services.h - bench-services: what the User Service adds to a request.
 *
 * One run, one machine, one mf-broker:
 *   1. user-service with a fresh database, loaded with --users users (default 100,000)
 *      through its admin API (POST /users/import: the import rate is reported too);
 *   2. a bare responder: a process with one mf_client that answers every request on
 *      "bench.echo" at once with a fixed reply of the size of a profile;
 *   3. one requester client sends --requests pairs of requests, one to each, back to back:
 *      user.info.request for a random known user (the reply is checked), and the same
 *      bytes to the bare responder. Both use mf_client_request (the same client path).
 *      A burst of load from the neighbours (the machine is shared) falls on both members
 *      of a pair, so the difference within a pair is a clean sample of what the service
 *      adds (decoding and validating the request, the SQLite read, building, validating
 *      and encoding the reply).
 *
 * Reported: p50/p90/p99/p99.9 of both, the median and p90 of the per-pair differences, and
 * each process's CPU time per request. Goal (issue 7): the service adds under 50 us at p50.
 */
#ifndef BENCH_SERVICES_H
#define BENCH_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mf/client.h"

#define ECHO_SUBJECT "bench.echo"

typedef struct bench_opts {
    const char *broker;      /* mf-broker binary */
    const char *service;     /* user-service binary */
    long users;
    long requests;           /* per target */
    long warmup;             /* per target, not measured */
    bool keep;               /* keep the temporary directory */
} bench_opts;

/* ---- procs.c: processes on free loopback ports, killed on any exit ---- */
int bench_free_port(void);
bool bench_wait_port(int port, int timeout_ms);
/* Starts argv with stdout/stderr to logfile; the child dies with this process. */
pid_t bench_spawn(char *const argv[], const char *logfile);
/* SIGTERM and wait (at most timeout_ms; then SIGKILL); the exit status, or -1. */
int bench_stop(pid_t pid, int timeout_ms);
void bench_cleanup_install(void);
void bench_track(pid_t pid);
/* Seconds the threads of the process have run so far (the schedstat of each task, in ns). */
double bench_cpu_seconds(pid_t pid);
/* The responder mode of this binary: answers on ECHO_SUBJECT until killed. */
int bench_responder_main(const char *url);

/* ---- load.c: the population, the admin API ---- */
/* The i-th user's id (deterministic). out: 37 bytes. */
void bench_user_id(long i, char *out);
/* POSTs `users` generated users to /users/import on 127.0.0.1:port; the users created, or -1. */
long bench_import(int port, long users, double *seconds);

/* Waits until the service's outbox is empty (GET /healthz). */
bool bench_wait_outbox_empty(int port, int timeout_ms);

/* ---- measure.c ---- */
typedef struct bench_lat {
    int64_t *ns;
    size_t n;
} bench_lat;
/* Runs the requests in pairs (one to each target, back to back); fills svc, bare and the
 * per-pair differences svc - bare. False (and says why) on an error. */
bool bench_measure(mf_client *c, const bench_opts *o, bench_lat *svc, bench_lat *bare, bench_lat *diff);
void bench_sort(bench_lat *l);
double bench_pct_us(const bench_lat *l, double p); /* l sorted */

#endif
