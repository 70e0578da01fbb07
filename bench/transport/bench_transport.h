/*
 * bench_transport.h - private header of bench-transport: mf-broker against
 * nats-server over WebSocket, with the same client code (mf_client) in the same run.
 *
 * Both servers are started on free loopback ports (mf-broker, and nats-server
 * with a websocket listener) and stay up for the whole run; then, with one
 * mf_client per role:
 *   1. throughput 1 -> 1: one publisher client, one subscriber client, N messages
 *      of `size` bytes, timed from the first publish to the last message received;
 *   2. fan-out 1 -> K (10): one publisher, K subscriber clients, F messages each;
 *      delivered msg/s in total and per subscriber;
 *   3. request/reply: one responder client, one requester doing M sequential
 *      blocking mf_client_request calls; p50/p90/p99/p99.9/max in microseconds.
 * Phases 1 and 2 run `repeat` times, each time on one server then the other (the
 * first one alternating), and the table shows medians; in phase 3 the requests
 * alternate between the servers in blocks of 100. So a neighbour's burst of CPU
 * falls on both columns alike - on a small shared machine that matters more than
 * anything else. Next to each rate, the CPU time the server process and the
 * client threads (this process) used per message, read from /proc and getrusage:
 * a steadier comparison of the servers than the rates, which the clients bound.
 * Then the table with the ratio mf-broker / nats-server per line, and the targets.
 *
 * Nothing is dropped silently: a publish refused with MF_ERR_FULL is retried
 * after a short sleep (and counted), every subscriber must receive exactly the
 * messages published, in order and of the right size, or the run fails (exit 1).
 * Every phase has a deadline; a watchdog thread ends the process if a phase
 * hangs in a library call. The servers are killed on every exit path (normal,
 * failure, SIGINT/SIGTERM/SIGHUP, and PR_SET_PDEATHSIG if this process dies).
 *
 * Exit: 0 ok, 1 the run failed, 2 usage / nothing to measure, 3 targets missed
 * (only with --strict).
 *
 * The files:
 *   bench_main.c  options, main, the header lines and the targets
 *   servers.c     mf-broker / nats-server processes, free ports, cleanup, signals, watchdog
 *   clients.c     one mf_client per role, with its connection trouble recorded
 *   phases.c      pub/sub throughput and fan-out, request/reply
 *   report.c      CPU accounting (/proc, getrusage), medians, the per-run lines, the table
 *   cpus.c        --server-cpus / --client-cpus: CPU lists as taskset -c takes them
 */
#ifndef BENCH_TRANSPORT_H
#define BENCH_TRANSPORT_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "mf/client.h"

#define DEF_COUNT 200000u
#define DEF_REQUESTS 5000u
#define DEF_SIZE 300u
#define DEF_FANOUT 10u
#define DEF_DEADLINE_S 30
#define DEF_REPEAT 3u
#define MAX_REPEAT 20u
#define QUICK_COUNT 20000u
#define QUICK_REQUESTS 500u
#define STALL_S 5              /* no progress for this long while waiting for messages: abort the phase */
#define WATCHDOG_GRACE_S 15    /* past a phase deadline, the watchdog ends the process */
#define SERVER_START_S 10
#define MAX_FANOUT 64
#define GAP_NS 4000000         /* a subscriber that got nothing for 4 ms was starved or descheduled (parsing one
                                  64 KiB receive chunk in lws 4.1 takes ~1-2 ms, so shorter gaps are normal) */
/* request/reply: the requests alternate between the servers in blocks of this many */
#define RR_BLOCK 100u

/* ------------------------------------------------------------------ time */

static inline int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* --------------------------------------------------------------- options */

typedef struct opts {
    char broker[PATH_MAX];
    char nats[PATH_MAX];
    bool broker_given, nats_given;
    const char *broker_url, *nats_url; /* already running servers: not spawned */
    const char *broker_args[8];        /* extra mf-broker arguments (--broker-arg) */
    size_t n_broker_args;
    bool run_mf, run_nats;
    bool do_tp, do_fo, do_rr;
    uint64_t count, fo_count, requests;
    unsigned fanout;
    size_t size;
    size_t outbound_limit;
    int deadline_s;
    unsigned repeat;
    bool quick, strict, keep_logs;
    /* --server-cpus / --client-cpus: CPU sets (NULL text: not pinned, the default) */
    const char *server_cpus_text, *client_cpus_text;
    cpu_set_t server_cpus, client_cpus;
} opts;

/* --------------------------------------------------------------- results */

typedef struct result {
    bool measured;          /* the server ran and the phases were attempted */
    bool failed;
    char note[600];         /* why not measured */
    char version[80];
    /* 1 -> 1 */
    bool tp_ok;
    double tp_rate, tp_mbs, tp_pub_rate;
    uint64_t tp_retries;
    double tp_srv_cpu, tp_cli_cpu;  /* microseconds of CPU per delivered message; < 0 unknown */
    double tp_gap_ms, tp_gaps;      /* subscriber silences > 4 ms */
    /* fan-out */
    bool fo_ok;
    double fo_total, fo_sub_mean, fo_sub_min;
    uint64_t fo_retries;
    double fo_srv_cpu, fo_cli_cpu;
    double fo_gap_ms, fo_gaps;
    /* request/reply, microseconds */
    bool rr_ok;
    double rr_p50, rr_p90, rr_p99, rr_p999, rr_max, rr_mean;
    size_t rr_n;
    double rr_srv_cpu, rr_cli_cpu; /* per request */
} result;

/* --------------------------------------------------------------- servers */

enum { SRV_MF = 0, SRV_NATS = 1, SRV_N = 2 };

typedef struct server {
    int kind;               /* SRV_MF / SRV_NATS */
    const char *const *extra_args; /* mf-broker only */
    size_t n_extra;
    const char *label;
    const char *bin;
    pid_t pid;
    int port;
    char url[128];
    char log[PATH_MAX + 32];
    char conf[PATH_MAX + 32];
    bool external;
    const cpu_set_t *cpus;  /* the spawned process is pinned to these (NULL: not pinned) */
} server;

/* cpus.c */
bool cpus_parse(const char *text, cpu_set_t *set, char *err, size_t errsz);

/* servers.c */
void install_signal_handlers(void);
bool make_tmpdir(bool keep_files);      /* false with errno set */
const char *tmpdir_path(void);
void servers_init(server srv[SRV_N], const opts *o);
void watchdog_start(void);
void watchdog_arm(const char *phase, int deadline_s);
void watchdog_disarm(void);
bool server_up(server *s, result *r);
void server_down(server *s, result *r);
void cleanup_at_exit(void);

/* --------------------------------------------------------------- clients */

typedef struct bclient {
    mf_client *c;
    char name[32];
    atomic_int lost;        /* DISCONNECTED or CLOSED seen */
    atomic_int errors;
    atomic_uint_fast64_t dropped;
    pthread_mutex_t mu;
    char first_err[256];
} bclient;

/* clients.c */
bclient *bclient_open(const char *url, const char *name, size_t outbound_limit, char *err, size_t errsz);
void bclient_close(bclient *b);
bool clients_trouble(bclient **v, size_t n, char *why, size_t whysz);

/* ---------------------------------------------------------------- phases */

/* phases.c */
void run_pubsub_stage(const opts *o, server *srv, result *res, const bool *up);
void run_rr_stage(const opts *o, server *srv, result *res, const bool *up);

/* ---------------------------------------------------------------- report */

/* report.c */
double proc_cpu_s(pid_t pid);
double self_cpu_s(void);
double cpu_us_per(double s0, double s1, double ops);
void aggregate(result *out, const result *runs, unsigned n);
void print_header(const opts *o, int argc, char **argv);
void print_run(const opts *o, const server *s, const result *r, unsigned run);
void print_table(const opts *o, const result *a, const result *b);

#endif
