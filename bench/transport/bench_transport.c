/*
 * bench_transport.c - bench-transport: mf-broker against nats-server over
 * WebSocket, with the same client code (mf_client) in the same run.
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
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

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

/* ------------------------------------------------------------------ time */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* CPU seconds (user + system, all threads) used so far by process pid; < 0 when unknown. */
static double proc_cpu_s(pid_t pid)
{
    if (pid <= 0)
        return -1;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may contain spaces */
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds used by this process (every client thread). */
static double self_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

/* --------------------------------------------------- children, cleanup */

enum { SRV_MF = 0, SRV_NATS = 1, SRV_N = 2 };

static volatile pid_t g_child[SRV_N];
static char g_tmpdir[PATH_MAX];
static char g_files[4][PATH_MAX + 32]; /* removed on exit unless --keep-logs */
static volatile sig_atomic_t g_keep_files;

static void remove_files(void)
{
    if (g_keep_files || !g_tmpdir[0])
        return;
    for (size_t i = 0; i < sizeof g_files / sizeof g_files[0]; i++)
        if (g_files[i][0])
            unlink(g_files[i]);
    rmdir(g_tmpdir);
}

/* Async-signal-safe: used by the signal handler and the watchdog. */
static void kill_children_now(void)
{
    for (int i = 0; i < SRV_N; i++) {
        pid_t p = g_child[i];
        if (p > 0) {
            kill(p, SIGKILL);
            waitpid(p, NULL, 0); /* reap: the init of a container may not */
            g_child[i] = 0;
        }
    }
}

static void on_signal(int sig)
{
    static const char msg[] = "\nbench-transport: interrupted, killing the servers\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    kill_children_now();
    remove_files();
    _exit(128 + sig);
}

/* ------------------------------------------------------------ watchdog */

static _Atomic int64_t g_wd_deadline; /* ns, 0 = off */
static char g_wd_phase[160];
static pthread_mutex_t g_wd_mu = PTHREAD_MUTEX_INITIALIZER;

static void watchdog_arm(const char *phase, int deadline_s)
{
    pthread_mutex_lock(&g_wd_mu);
    snprintf(g_wd_phase, sizeof g_wd_phase, "%s", phase);
    pthread_mutex_unlock(&g_wd_mu);
    atomic_store(&g_wd_deadline, now_ns() + (int64_t)(deadline_s + WATCHDOG_GRACE_S) * 1000000000);
}

static void watchdog_disarm(void)
{
    atomic_store(&g_wd_deadline, 0);
}

static void *watchdog_main(void *arg)
{
    (void)arg;
    for (;;) {
        sleep_us(200000);
        int64_t d = atomic_load(&g_wd_deadline);
        if (d && now_ns() > d) {
            pthread_mutex_lock(&g_wd_mu);
            fprintf(stderr, "\nbench-transport: WATCHDOG: phase \"%s\" is stuck %d s past its deadline; "
                            "killing the servers and exiting\n", g_wd_phase, WATCHDOG_GRACE_S);
            pthread_mutex_unlock(&g_wd_mu);
            fflush(stderr);
            kill_children_now();
            remove_files();
            _exit(1);
        }
    }
    return NULL;
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
} opts;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench-transport [options]\n"
            "\n"
            "Starts mf-broker and nats-server (websocket listener) on free loopback ports and measures\n"
            "both with the same client (mf_client), alternating between them: 1->1 throughput, 1->K\n"
            "fan-out, request/reply latency, and the CPU the server and the clients use per message.\n"
            "Prints both figures and the ratio mf-broker / nats-server per line.\n"
            "\n"
            "  --broker PATH         mf-broker binary (default: next to this executable)\n"
            "  --nats-server PATH    nats-server binary (default: from PATH, /usr/sbin, /usr/local/bin)\n"
            "  --broker-arg ARG      pass ARG to mf-broker (repeatable: --broker-arg --max-pending --broker-arg 64M)\n"
            "  --broker-url URL      use an already running mf-broker (ws://...) instead of starting one\n"
            "  --nats-url URL        use an already running nats-server websocket listener\n"
            "  --only mf|nats        measure one server only (no ratios)\n"
            "  --phases LIST         comma-separated subset of tp,fanout,rr (default: all)\n"
            "  --count N             messages of the 1->1 throughput phase (default %u)\n"
            "  --fanout K            subscribers of the fan-out phase (default %u, max %u)\n"
            "  --fanout-count N      messages published in the fan-out phase (default count/4)\n"
            "  --requests M          sequential requests per server and run (default %u; x repeat in all)\n"
            "  --size BYTES          payload size, >= 8 (default %u)\n"
            "  --outbound-limit B    mf_client outbound_limit of the publisher (default: the client's, 64 MiB)\n"
            "  --deadline S          deadline of each phase in seconds (default %d; request/reply: x repeat)\n"
            "  --repeat R            pub/sub runs per server, alternating servers; the table shows the\n"
            "                        median of each line (default %u, --quick: 1)\n"
            "  --quick               smoke test: count %u, fan-out count count/10, %u requests\n"
            "  --strict              exit 3 when a target is missed\n"
            "  --keep-logs           keep the temporary directory with the server logs\n"
            "  --help\n",
            DEF_COUNT, DEF_FANOUT, MAX_FANOUT, DEF_REQUESTS, DEF_SIZE, DEF_DEADLINE_S, DEF_REPEAT, QUICK_COUNT,
            QUICK_REQUESTS);
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return false;
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno || *e || s[0] == '-')
        return false;
    *out = v;
    return true;
}

static bool exe_dir(char *out, size_t outsz, const char *argv0)
{
    char p[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", p, sizeof p - 1);
    if (n > 0) {
        p[n] = '\0';
    } else {
        snprintf(p, sizeof p, "%s", argv0);
    }
    char *slash = strrchr(p, '/');
    if (!slash) {
        snprintf(out, outsz, ".");
        return true;
    }
    *slash = '\0';
    snprintf(out, outsz, "%s", p[0] ? p : "/");
    return true;
}

static bool find_in_path(const char *name, char *out, size_t outsz)
{
    const char *path = getenv("PATH");
    char buf[8192];
    snprintf(buf, sizeof buf, "%s:/usr/sbin:/usr/local/sbin:/usr/local/bin:/usr/bin:/sbin:/bin",
             path ? path : "");
    char *save = NULL;
    for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        if (!*d)
            continue;
        char cand[PATH_MAX];
        if ((size_t)snprintf(cand, sizeof cand, "%s/%s", d, name) >= sizeof cand)
            continue;
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
            snprintf(out, outsz, "%s", cand);
            return true;
        }
    }
    return false;
}

static int parse_opts(opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->run_mf = o->run_nats = true;
    o->do_tp = o->do_fo = o->do_rr = true;
    o->count = DEF_COUNT;
    o->requests = DEF_REQUESTS;
    o->fanout = DEF_FANOUT;
    o->size = DEF_SIZE;
    o->deadline_s = DEF_DEADLINE_S;
    o->repeat = DEF_REPEAT;
    bool count_set = false, req_set = false, fo_set = false, rep_set = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
#define NEED_VALUE()                                                        \
    do {                                                                    \
        if (!v) {                                                           \
            fprintf(stderr, "bench-transport: %s needs a value\n", a);      \
            return 2;                                                       \
        }                                                                   \
        i++;                                                                \
    } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "--broker")) {
            NEED_VALUE();
            snprintf(o->broker, sizeof o->broker, "%s", v);
            o->broker_given = true;
        } else if (!strcmp(a, "--nats-server")) {
            NEED_VALUE();
            snprintf(o->nats, sizeof o->nats, "%s", v);
            o->nats_given = true;
        } else if (!strcmp(a, "--broker-arg")) {
            NEED_VALUE();
            if (o->n_broker_args == sizeof o->broker_args / sizeof o->broker_args[0]) {
                fprintf(stderr, "bench-transport: too many --broker-arg\n");
                return 2;
            }
            o->broker_args[o->n_broker_args++] = v;
        } else if (!strcmp(a, "--broker-url")) {
            NEED_VALUE();
            o->broker_url = v;
        } else if (!strcmp(a, "--nats-url")) {
            NEED_VALUE();
            o->nats_url = v;
        } else if (!strcmp(a, "--only")) {
            NEED_VALUE();
            if (!strcmp(v, "mf") || !strcmp(v, "mf-broker")) {
                o->run_nats = false;
            } else if (!strcmp(v, "nats") || !strcmp(v, "nats-server")) {
                o->run_mf = false;
            } else {
                fprintf(stderr, "bench-transport: --only mf|nats\n");
                return 2;
            }
        } else if (!strcmp(a, "--phases")) {
            NEED_VALUE();
            o->do_tp = strstr(v, "tp") != NULL;
            o->do_fo = strstr(v, "fan") != NULL;
            o->do_rr = strstr(v, "rr") != NULL;
            if (!o->do_tp && !o->do_fo && !o->do_rr) {
                fprintf(stderr, "bench-transport: --phases: a list of tp,fanout,rr\n");
                return 2;
            }
        } else if (!strcmp(a, "--count")) {
            NEED_VALUE();
            if (!parse_u64(v, &o->count) || !o->count) {
                fprintf(stderr, "bench-transport: bad --count\n");
                return 2;
            }
            count_set = true;
        } else if (!strcmp(a, "--fanout")) {
            NEED_VALUE();
            if (!parse_u64(v, &n) || !n || n > MAX_FANOUT) {
                fprintf(stderr, "bench-transport: --fanout must be 1..%u\n", MAX_FANOUT);
                return 2;
            }
            o->fanout = (unsigned)n;
        } else if (!strcmp(a, "--fanout-count")) {
            NEED_VALUE();
            if (!parse_u64(v, &o->fo_count) || !o->fo_count) {
                fprintf(stderr, "bench-transport: bad --fanout-count\n");
                return 2;
            }
            fo_set = true;
        } else if (!strcmp(a, "--requests")) {
            NEED_VALUE();
            if (!parse_u64(v, &o->requests) || !o->requests) {
                fprintf(stderr, "bench-transport: bad --requests\n");
                return 2;
            }
            req_set = true;
        } else if (!strcmp(a, "--size")) {
            NEED_VALUE();
            if (!parse_u64(v, &n) || n < 8 || n > 1000000) {
                fprintf(stderr, "bench-transport: --size must be 8..1000000\n");
                return 2;
            }
            o->size = (size_t)n;
        } else if (!strcmp(a, "--outbound-limit")) {
            NEED_VALUE();
            if (!parse_u64(v, &n) || n < 4096) {
                fprintf(stderr, "bench-transport: --outbound-limit must be >= 4096\n");
                return 2;
            }
            o->outbound_limit = (size_t)n;
        } else if (!strcmp(a, "--deadline")) {
            NEED_VALUE();
            if (!parse_u64(v, &n) || !n || n > 3600) {
                fprintf(stderr, "bench-transport: --deadline must be 1..3600 seconds\n");
                return 2;
            }
            o->deadline_s = (int)n;
        } else if (!strcmp(a, "--repeat")) {
            NEED_VALUE();
            if (!parse_u64(v, &n) || !n || n > MAX_REPEAT) {
                fprintf(stderr, "bench-transport: --repeat must be 1..%u\n", MAX_REPEAT);
                return 2;
            }
            o->repeat = (unsigned)n;
            rep_set = true;
        } else if (!strcmp(a, "--quick")) {
            o->quick = true;
        } else if (!strcmp(a, "--strict")) {
            o->strict = true;
        } else if (!strcmp(a, "--keep-logs")) {
            o->keep_logs = true;
        } else {
            fprintf(stderr, "bench-transport: unknown option %s (see --help)\n", a);
            return 2;
        }
#undef NEED_VALUE
    }
    if (o->quick) {
        if (!count_set)
            o->count = QUICK_COUNT;
        if (!req_set)
            o->requests = QUICK_REQUESTS;
        if (!fo_set)
            o->fo_count = o->count / 10 ? o->count / 10 : 1;
        if (!rep_set)
            o->repeat = 1;
    }
    if (!o->fo_count)
        o->fo_count = o->count / 4 ? o->count / 4 : 1;
    if (!o->broker_given) {
        char d[PATH_MAX];
        exe_dir(d, sizeof d, argv[0]);
        snprintf(o->broker, sizeof o->broker, "%.*s/mf-broker", (int)(sizeof o->broker - 16), d);
    }
    if (!o->nats_given && !find_in_path("nats-server", o->nats, sizeof o->nats))
        o->nats[0] = '\0';
    return 0;
}

/* ------------------------------------------------------------- servers */

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
} server;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t l = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static void print_log_tail(const char *path, const char *label)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char buf[3000];
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    long off = sz > (long)sizeof buf - 1 ? sz - (long)sizeof buf + 1 : 0;
    fseek(f, off, SEEK_SET);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = buf;
    if (off) { /* skip the partial first line */
        char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : p;
    }
    fprintf(stderr, "  --- last lines of the %s log (%s) ---\n", label, path);
    for (char *line = strtok(p, "\n"); line; line = strtok(NULL, "\n"))
        fprintf(stderr, "  | %s\n", line);
}

static pid_t spawn(char *const argv[], int out_fd, int err_fd)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* child: only async-signal-safe calls until exec */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execv(argv[0], argv);
    static const char m[] = "bench-transport: exec failed\n";
    ssize_t w = write(2, m, sizeof m - 1);
    (void)w;
    _exit(127);
}

/* Describes how a child ended ("exit 1", "signal 11"); false if it is still running. */
static bool child_ended(pid_t pid, char *why, size_t whysz)
{
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == 0)
        return false;
    if (r < 0) {
        snprintf(why, whysz, "waitpid: %s", strerror(errno));
        return true;
    }
    if (WIFEXITED(status))
        snprintf(why, whysz, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(why, whysz, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(why, whysz, "status 0x%x", status);
    return true;
}

static bool start_mf_broker(server *s, char *err, size_t errsz)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        s->port = free_port();
        if (s->port <= 0) {
            snprintf(err, errsz, "no free port");
            return false;
        }
        int pfd[2];
        if (pipe(pfd) != 0) {
            snprintf(err, errsz, "pipe: %s", strerror(errno));
            return false;
        }
        fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
        fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
        int logfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (logfd < 0) {
            close(pfd[0]);
            close(pfd[1]);
            snprintf(err, errsz, "%.300s: %s", s->log, strerror(errno));
            return false;
        }
        char port[16];
        snprintf(port, sizeof port, "%d", s->port);
        char *argv[6 + 8] = {(char *)s->bin, "--host", "127.0.0.1", "--port", port, NULL};
        for (size_t i = 0; i < s->n_extra && i < 8; i++)
            argv[5 + i] = (char *)s->extra_args[i];
        argv[5 + (s->n_extra < 8 ? s->n_extra : 8)] = NULL;
        s->pid = spawn(argv, pfd[1], logfd);
        close(pfd[1]);
        close(logfd);
        if (s->pid < 0) {
            close(pfd[0]);
            snprintf(err, errsz, "fork: %s", strerror(errno));
            return false;
        }
        g_child[s->kind] = s->pid;

        char out[1024];
        size_t olen = 0;
        bool ready = false, eof = false;
        int64_t until = now_ns() + (int64_t)SERVER_START_S * 1000000000;
        while (!ready && !eof && now_ns() < until) {
            struct pollfd p = {pfd[0], POLLIN, 0};
            int r = poll(&p, 1, 100);
            if (r > 0) {
                ssize_t n = read(pfd[0], out + olen, sizeof out - 1 - olen);
                if (n <= 0) {
                    eof = true;
                } else {
                    olen += (size_t)n;
                    out[olen] = '\0';
                    if (strstr(out, "listening on") && strchr(strstr(out, "listening on"), '\n'))
                        ready = true;
                    if (olen == sizeof out - 1)
                        olen = 0; /* garbage: keep reading */
                }
            }
        }
        /* the broker prints nothing else on stdout; if it ever does, EPIPE (it ignores SIGPIPE) */
        close(pfd[0]);
        if (ready) {
            snprintf(s->url, sizeof s->url, "ws://127.0.0.1:%d", s->port);
            return true;
        }
        char why[128];
        bool ended = child_ended(s->pid, why, sizeof why);
        /* stdout closed: the broker is exiting; give it a moment to become reapable */
        for (int i = 0; eof && !ended && i < 200; i++) {
            sleep_us(10000);
            ended = child_ended(s->pid, why, sizeof why);
        }
        if (!ended) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            snprintf(why, sizeof why, "no \"listening on\" line within %d s", SERVER_START_S);
        }
        g_child[s->kind] = 0;
        s->pid = 0;
        snprintf(err, errsz, "%s did not start (%s)", s->bin, why);
        if (!ended || strstr(why, "exit status 2")) /* hung, or a usage error: not a port race */
            break;
    }
    print_log_tail(s->log, s->label);
    return false;
}

static bool start_nats(server *s, char *err, size_t errsz)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        int cport = free_port(), wport = free_port();
        if (cport <= 0 || wport <= 0 || cport == wport) {
            snprintf(err, errsz, "no free port");
            return false;
        }
        s->port = wport;
        FILE *f = fopen(s->conf, "w");
        if (!f) {
            snprintf(err, errsz, "%.300s: %s", s->conf, strerror(errno));
            return false;
        }
        fprintf(f,
                "# written by bench-transport\n"
                "listen: \"127.0.0.1:%d\"\n"
                "websocket {\n  listen: \"127.0.0.1:%d\"\n  no_tls: true\n}\n",
                cport, wport);
        fclose(f);
        int logfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (logfd < 0) {
            snprintf(err, errsz, "%.300s: %s", s->log, strerror(errno));
            return false;
        }
        char *argv[] = {(char *)s->bin, "-c", s->conf, NULL};
        s->pid = spawn(argv, logfd, logfd);
        close(logfd);
        if (s->pid < 0) {
            snprintf(err, errsz, "fork: %s", strerror(errno));
            return false;
        }
        g_child[s->kind] = s->pid;
        int64_t until = now_ns() + (int64_t)SERVER_START_S * 1000000000;
        char why[128] = "";
        bool ended = false;
        while (now_ns() < until) {
            if ((ended = child_ended(s->pid, why, sizeof why)))
                break;
            if (port_accepts(wport)) {
                snprintf(s->url, sizeof s->url, "ws://127.0.0.1:%d", wport);
                return true;
            }
            sleep_us(20000);
        }
        if (!ended) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            snprintf(why, sizeof why, "websocket port %d not accepting within %d s", wport, SERVER_START_S);
        }
        g_child[s->kind] = 0;
        s->pid = 0;
        snprintf(err, errsz, "%s did not start (%s)", s->bin, why);
        if (!ended)
            break;
    }
    print_log_tail(s->log, s->label);
    return false;
}

/* Stops the server; false (with why) if it had died before we asked. */
static bool stop_server(server *s, char *why, size_t whysz)
{
    if (s->external || s->pid <= 0)
        return true;
    bool alive = !child_ended(s->pid, why, whysz);
    if (alive) {
        kill(s->pid, SIGTERM);
        int64_t until = now_ns() + 5 * (int64_t)1000000000;
        char w2[128];
        bool ended = false;
        while (now_ns() < until && !(ended = child_ended(s->pid, w2, sizeof w2)))
            sleep_us(10000);
        if (!ended) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
        }
    }
    g_child[s->kind] = 0;
    s->pid = 0;
    return alive;
}

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

static void on_client_event(mf_client *c, const mf_client_event *ev, void *ctx)
{
    (void)c;
    bclient *b = ctx;
    const char *what = NULL;
    switch (ev->type) {
    case MF_CLIENT_DISCONNECTED:
        atomic_fetch_add(&b->lost, 1);
        what = "disconnected";
        break;
    case MF_CLIENT_CLOSED:
        atomic_fetch_add(&b->lost, 1);
        what = "closed";
        break;
    case MF_CLIENT_ERROR:
        atomic_fetch_add(&b->errors, 1);
        what = "error";
        break;
    case MF_CLIENT_DROPPED:
        atomic_fetch_add(&b->dropped, ev->msgs);
        what = "dropped";
        break;
    default:
        return;
    }
    pthread_mutex_lock(&b->mu);
    if (!b->first_err[0])
        snprintf(b->first_err, sizeof b->first_err, "%s: %s (%s)%s%s", b->name, what, mf_status_str(ev->status),
                 ev->text && ev->text[0] ? " " : "", ev->text ? ev->text : "");
    pthread_mutex_unlock(&b->mu);
}

static bclient *bclient_open(const char *url, const char *name, size_t outbound_limit, char *err, size_t errsz)
{
    bclient *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    snprintf(b->name, sizeof b->name, "%s", name);
    pthread_mutex_init(&b->mu, NULL);
    mf_client_opts o;
    mf_client_opts_init(&o);
    const char *servers[1] = {url};
    o.servers = servers;
    o.n_servers = 1;
    o.name = name;
    o.reconnect = false;        /* a lost connection must show, not be papered over */
    o.connect_timeout_ms = 5000;
    o.on_event = on_client_event;
    o.event_ctx = b;
    if (outbound_limit)
        o.outbound_limit = outbound_limit;
    mf_error e;
    mf_status st = mf_client_create(&o, &b->c, &e);
    if (st) {
        snprintf(err, errsz, "%s: mf_client_create: %s: %s", name, mf_status_str(st), e.message);
        pthread_mutex_destroy(&b->mu);
        free(b);
        return NULL;
    }
    st = mf_client_wait_connected(b->c, 5000);
    if (st) {
        snprintf(err, errsz, "%s: not connected to %s: %s%s%s", name, url, mf_status_str(st),
                 b->first_err[0] ? "; " : "", b->first_err);
        mf_client_destroy(b->c);
        pthread_mutex_destroy(&b->mu);
        free(b);
        return NULL;
    }
    return b;
}

static void bclient_close(bclient *b)
{
    if (!b)
        return;
    mf_client_destroy(b->c);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* "sub3: closed (io) ..." for the first client of the list that lost its connection or saw an error */
static bool clients_trouble(bclient **v, size_t n, char *why, size_t whysz)
{
    for (size_t i = 0; i < n; i++) {
        if (!v[i])
            continue;
        if (atomic_load(&v[i]->lost) || atomic_load(&v[i]->errors) || atomic_load(&v[i]->dropped)) {
            pthread_mutex_lock(&v[i]->mu);
            snprintf(why, whysz, "%s", v[i]->first_err[0] ? v[i]->first_err : v[i]->name);
            pthread_mutex_unlock(&v[i]->mu);
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------- results */

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

static void phase_fail(result *r, const char *server, const char *phase, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void phase_fail(result *r, const char *server, const char *phase, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "bench-transport: FAILED: %s, %s: %s\n", server, phase, msg);
    r->failed = true;
}

/* ------------------------------------------------------- pub/sub phases */

typedef struct sub_state {
    bclient *bc;
    size_t size;
    uint64_t next_seq;               /* service thread only */
    int64_t prev_ns;                 /* service thread only */
    atomic_int_fast64_t gap_ns;      /* sum of the silences longer than GAP_NS between two messages */
    atomic_uint_fast64_t gaps;
    atomic_uint_fast64_t count;
    atomic_int_fast64_t last_ns;
    atomic_uint_fast64_t bad_order, bad_size;
} sub_state;

static void on_bench_msg(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)c;
    sub_state *s = ctx;
    if (m->len != s->size) {
        atomic_fetch_add_explicit(&s->bad_size, 1, memory_order_relaxed);
    } else {
        uint64_t seq;
        memcpy(&seq, m->data, sizeof seq);
        if (seq != s->next_seq)
            atomic_fetch_add_explicit(&s->bad_order, 1, memory_order_relaxed);
        s->next_seq = seq + 1;
    }
    int64_t t = now_ns();
    if (s->prev_ns && t - s->prev_ns > GAP_NS) {
        atomic_fetch_add_explicit(&s->gap_ns, t - s->prev_ns, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->gaps, 1, memory_order_relaxed);
    }
    s->prev_ns = t;
    atomic_store_explicit(&s->last_ns, t, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_release);
}

typedef struct ps_out {
    double total_rate;   /* deliveries per second, all subscribers */
    double sub_mean;     /* per subscriber: msgs / (its last receive - first publish), mean */
    double sub_min;
    double mbs;          /* payload MB/s delivered (10^6 bytes) */
    double pub_rate;     /* publish calls accepted per second (the publishing loop) */
    uint64_t retries;    /* MF_ERR_FULL retries */
    double srv_cpu_us;   /* server CPU per delivery (first publish .. last delivery); < 0 unknown */
    double gap_ms;       /* per subscriber, mean: time spent in silences > 4 ms while receiving */
    double gaps;         /* per subscriber, mean number of such silences */
    double cli_cpu_us;   /* this process' CPU (all clients) per delivery */
} ps_out;

/*
 * One publisher -> k subscribers (separate clients), n messages on `subject`.
 * Returns false (after phase_fail) on loss, disorder, disconnects or deadline.
 */
static bool run_pubsub(const opts *o, const server *s, result *r, const char *phase, const char *subject,
                       unsigned k, uint64_t n, ps_out *out)
{
    char err[512];
    bool ok = false;
    sub_state subs[MAX_FANOUT];
    bclient *cl[MAX_FANOUT + 1];
    memset(subs, 0, sizeof subs);
    memset(cl, 0, sizeof cl);
    bclient *pub = NULL;
    char *payload = NULL;
    char wdname[160];
    snprintf(wdname, sizeof wdname, "%s on %s", phase, s->label);
    watchdog_arm(wdname, o->deadline_s + 15); /* + setup and teardown */

    for (unsigned i = 0; i < k; i++) {
        char name[32];
        snprintf(name, sizeof name, "bench-sub%u", i);
        if (!(cl[i] = bclient_open(s->url, name, 0, err, sizeof err))) {
            phase_fail(r, s->label, phase, "%s", err);
            goto out;
        }
        subs[i].bc = cl[i];
        subs[i].size = o->size;
        mf_status st = mf_client_subscribe(cl[i]->c, subject, NULL, on_bench_msg, &subs[i], NULL);
        if (st) {
            phase_fail(r, s->label, phase, "%s: subscribe: %s", name, mf_status_str(st));
            goto out;
        }
    }
    /* the SUBs are in effect once each flush's PONG is back */
    for (unsigned i = 0; i < k; i++) {
        mf_status st = mf_client_flush(cl[i]->c, 5000);
        if (st) {
            phase_fail(r, s->label, phase, "%s: flush after subscribe: %s", cl[i]->name, mf_status_str(st));
            goto out;
        }
    }
    if (!(pub = bclient_open(s->url, "bench-pub", o->outbound_limit, err, sizeof err))) {
        phase_fail(r, s->label, phase, "%s", err);
        goto out;
    }
    cl[k] = pub;
    payload = malloc(o->size);
    if (!payload) {
        phase_fail(r, s->label, phase, "out of memory");
        goto out;
    }
    memset(payload, 'x', o->size);

    double srv0 = proc_cpu_s(s->pid), cli0 = self_cpu_s();
    int64_t t0 = now_ns();
    int64_t deadline = t0 + (int64_t)o->deadline_s * 1000000000;
    uint64_t retries = 0;
    for (uint64_t i = 0; i < n; i++) {
        memcpy(payload, &i, sizeof i);
        long backoff = 50;
        for (;;) {
            mf_status st = mf_client_publish(pub->c, subject, NULL, payload, o->size);
            if (st == MF_OK)
                break;
            if (st != MF_ERR_FULL) {
                phase_fail(r, s->label, phase, "publish #%llu: %s", (unsigned long long)i, mf_status_str(st));
                goto out;
            }
            retries++;
            sleep_us(backoff);
            backoff = backoff < 200 ? backoff * 2 : 200;
            if (now_ns() > deadline) {
                phase_fail(r, s->label, phase,
                           "deadline %d s exceeded while publishing (%llu of %llu published, outbound queue full)",
                           o->deadline_s, (unsigned long long)i, (unsigned long long)n);
                goto out;
            }
            if (clients_trouble(cl, k + 1, err, sizeof err)) {
                phase_fail(r, s->label, phase, "while publishing: %s", err);
                goto out;
            }
        }
        if ((i & 4095) == 4095 && now_ns() > deadline) {
            phase_fail(r, s->label, phase, "deadline %d s exceeded while publishing (%llu of %llu published)",
                       o->deadline_s, (unsigned long long)i + 1, (unsigned long long)n);
            goto out;
        }
    }
    int64_t t_pub = now_ns();

    /* wait for every subscriber to have all n */
    uint64_t last_total = 0;
    int64_t last_progress = now_ns();
    for (;;) {
        uint64_t total = 0;
        bool all = true;
        for (unsigned i = 0; i < k; i++) {
            uint64_t c = atomic_load_explicit(&subs[i].count, memory_order_acquire);
            total += c;
            all = all && c >= n;
        }
        if (all)
            break;
        int64_t t = now_ns();
        if (total != last_total) {
            last_total = total;
            last_progress = t;
        }
        if (clients_trouble(cl, k + 1, err, sizeof err)) {
            phase_fail(r, s->label, phase, "LOSS: %llu of %llu deliveries received, then %s",
                       (unsigned long long)total, (unsigned long long)n * k, err);
            goto out;
        }
        if (t > deadline || t - last_progress > (int64_t)STALL_S * 1000000000) {
            phase_fail(r, s->label, phase, "LOSS: %llu of %llu deliveries received (%s %d s)",
                       (unsigned long long)total, (unsigned long long)n * k,
                       t > deadline ? "phase deadline exceeded:" : "no message for", t > deadline ? o->deadline_s : STALL_S);
            goto out;
        }
        sleep_us(t - last_progress > 100000000 ? 5000 : 200);
    }
    double srv1 = proc_cpu_s(s->pid), cli1 = self_cpu_s();
    /* exactly n each: let a possible duplicate arrive (the publisher's flush returns after the
     * server processed everything; a short grace covers the delivery of anything extra) */
    (void)mf_client_flush(pub->c, 2000);
    sleep_us(20000);
    int64_t t_last = 0;
    double sum = 0, mn = INFINITY;
    for (unsigned i = 0; i < k; i++) {
        uint64_t c = atomic_load(&subs[i].count);
        uint64_t bo = atomic_load(&subs[i].bad_order), bs = atomic_load(&subs[i].bad_size);
        if (c != n || bo || bs) {
            phase_fail(r, s->label, phase,
                       "%s received %llu of %llu messages, %llu out of order, %llu of the wrong size",
                       cl[i]->name, (unsigned long long)c, (unsigned long long)n, (unsigned long long)bo,
                       (unsigned long long)bs);
            goto out;
        }
        int64_t l = atomic_load(&subs[i].last_ns);
        if (l > t_last)
            t_last = l;
        double rate = (double)n / ((double)(l - t0) / 1e9);
        sum += rate;
        if (rate < mn)
            mn = rate;
    }
    if (clients_trouble(cl, k + 1, err, sizeof err)) {
        phase_fail(r, s->label, phase, "%s", err);
        goto out;
    }
    mf_client_stats ps;
    mf_client_stats_get(pub->c, &ps);
    if (ps.dropped_msgs) {
        phase_fail(r, s->label, phase, "the publisher client dropped %llu messages",
                   (unsigned long long)ps.dropped_msgs);
        goto out;
    }
    double el = (double)(t_last - t0) / 1e9;
    double gsum = 0, gcount = 0;
    for (unsigned i = 0; i < k; i++) {
        gsum += (double)atomic_load(&subs[i].gap_ns) / 1e6;
        gcount += (double)atomic_load(&subs[i].gaps);
    }
    out->gap_ms = gsum / k;
    out->gaps = gcount / k;
    out->total_rate = (double)n * k / el;
    out->sub_mean = sum / k;
    out->sub_min = mn;
    out->mbs = (double)n * k * (double)o->size / el / 1e6;
    out->pub_rate = (double)n / ((double)(t_pub - t0) / 1e9);
    out->retries = retries;
    out->srv_cpu_us = srv0 >= 0 && srv1 >= 0 ? (srv1 - srv0) * 1e6 / ((double)n * k) : -1;
    out->cli_cpu_us = cli0 >= 0 && cli1 >= 0 ? (cli1 - cli0) * 1e6 / ((double)n * k) : -1;
    ok = true;
out:
    /* the publisher first: its queue is gone, then the subscribers */
    bclient_close(pub);
    for (unsigned i = 0; i < k; i++)
        bclient_close(cl[i]);
    free(payload);
    watchdog_disarm();
    return ok;
}

/* -------------------------------------------------------- request/reply */

typedef struct responder_state {
    atomic_uint_fast64_t served, failed;
} responder_state;

static void on_request(mf_client *c, const mf_msg *m, void *ctx)
{
    responder_state *rs = ctx;
    if (mf_client_respond(c, m, m->data, m->len) == MF_OK)
        atomic_fetch_add_explicit(&rs->served, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&rs->failed, 1, memory_order_relaxed);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank. */
static double pct_us(const int64_t *sorted, size_t n, double p)
{
    size_t rank = (size_t)ceil(p * (double)n);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)sorted[rank - 1] / 1000.0;
}

/* One server's side of the request/reply stage: a responder client, a requester client. */
typedef struct rr_side {
    server *s;
    result *r;
    bclient *resp, *req;
    responder_state rs;
    int64_t *lat;          /* ns, one per measured request */
    size_t n, cap;
    uint64_t seq;
    double cli_cpu;        /* this process' CPU seconds spent in this side's measured blocks */
    double srv0;           /* server CPU at the start of the measured requests */
    bool ok;
} rr_side;

static const char *RR_PHASE = "request/reply";

/* count sequential requests; latencies recorded when `record`. False (after phase_fail) on error. */
static bool rr_block(const opts *o, rr_side *d, uint64_t count, bool record, int64_t deadline, char *payload)
{
    char err[512];
    bclient *both[2] = {d->resp, d->req};
    double c0 = self_cpu_s();
    for (uint64_t i = 0; i < count; i++, d->seq++) {
        memcpy(payload, &d->seq, sizeof d->seq);
        mf_msg_owned *reply = NULL;
        int64_t a = now_ns();
        mf_status st = mf_client_request(d->req->c, "bench.rr", payload, o->size, 2000, &reply);
        int64_t b = now_ns();
        if (st) {
            err[0] = '\0';
            clients_trouble(both, 2, err, sizeof err);
            phase_fail(d->r, d->s->label, RR_PHASE, "request #%llu: %s%s%s", (unsigned long long)d->seq,
                       mf_status_str(st), err[0] ? "; " : "", err);
            return d->ok = false;
        }
        bool good = reply->msg.len == o->size && !memcmp(reply->msg.data, payload, o->size);
        mf_msg_owned_free(reply);
        if (!good) {
            phase_fail(d->r, d->s->label, RR_PHASE, "request #%llu: the reply is not the echoed payload",
                       (unsigned long long)d->seq);
            return d->ok = false;
        }
        if (record && d->n < d->cap)
            d->lat[d->n++] = b - a;
        if (b > deadline) {
            phase_fail(d->r, d->s->label, RR_PHASE, "deadline exceeded after %zu of %zu measured requests", d->n,
                       d->cap);
            return d->ok = false;
        }
    }
    if (record)
        d->cli_cpu += self_cpu_s() - c0;
    return true;
}

static bool rr_open(rr_side *d, size_t cap)
{
    char err[512];
    atomic_init(&d->rs.served, 0);
    atomic_init(&d->rs.failed, 0);
    if (!(d->resp = bclient_open(d->s->url, "bench-responder", 0, err, sizeof err))) {
        phase_fail(d->r, d->s->label, RR_PHASE, "%s", err);
        return false;
    }
    mf_status st = mf_client_subscribe(d->resp->c, "bench.rr", NULL, on_request, &d->rs, NULL);
    if (!st)
        st = mf_client_flush(d->resp->c, 5000);
    if (st) {
        phase_fail(d->r, d->s->label, RR_PHASE, "responder subscribe/flush: %s", mf_status_str(st));
        return false;
    }
    if (!(d->req = bclient_open(d->s->url, "bench-requester", 0, err, sizeof err))) {
        phase_fail(d->r, d->s->label, RR_PHASE, "%s", err);
        return false;
    }
    d->lat = malloc(cap * sizeof *d->lat);
    if (!d->lat) {
        phase_fail(d->r, d->s->label, RR_PHASE, "out of memory");
        return false;
    }
    d->cap = cap;
    d->ok = true;
    return true;
}

static void rr_finish(rr_side *d)
{
    char err[512] = "";
    bclient *both[2] = {d->resp, d->req};
    double srv1 = proc_cpu_s(d->s->pid);
    if (clients_trouble(both, 2, err, sizeof err) || atomic_load(&d->rs.failed)) {
        phase_fail(d->r, d->s->label, RR_PHASE, "%s (responder: %llu replies refused)", err,
                   (unsigned long long)atomic_load(&d->rs.failed));
        d->ok = false;
    }
    if (!d->ok || d->n != d->cap || !d->n)
        return;
    result *r = d->r;
    qsort(d->lat, d->n, sizeof *d->lat, cmp_i64);
    double sum = 0;
    for (size_t i = 0; i < d->n; i++)
        sum += (double)d->lat[i];
    r->rr_mean = sum / (double)d->n / 1000.0;
    r->rr_p50 = pct_us(d->lat, d->n, 0.50);
    r->rr_p90 = pct_us(d->lat, d->n, 0.90);
    r->rr_p99 = pct_us(d->lat, d->n, 0.99);
    r->rr_p999 = pct_us(d->lat, d->n, 0.999);
    r->rr_max = (double)d->lat[d->n - 1] / 1000.0;
    r->rr_n = d->n;
    r->rr_srv_cpu = d->srv0 >= 0 && srv1 >= 0 ? (srv1 - d->srv0) * 1e6 / (double)d->n : -1;
    r->rr_cli_cpu = d->cli_cpu * 1e6 / (double)d->n;
    r->rr_ok = true;
}

static void rr_close(rr_side *d)
{
    bclient_close(d->req);
    bclient_close(d->resp);
    free(d->lat);
    d->req = d->resp = NULL;
    d->lat = NULL;
}

/* ------------------------------------------------------------ one server */

static void server_version(const server *s, result *r)
{
    char err[256];
    bclient *b = bclient_open(s->url, "bench-info", 0, err, sizeof err);
    if (!b)
        return;
    mf_client_server_info info;
    if (mf_client_server_info_get(b->c, &info) == MF_OK)
        snprintf(r->version, sizeof r->version, "%s", info.version);
    bclient_close(b);
}

/* Starts the server (unless external). False with r->note set when it is missing or did not start. */
static bool server_up(server *s, result *r)
{
    char err[512];
    if (!s->external) {
        if (!s->bin || !s->bin[0]) {
            snprintf(r->note, sizeof r->note, "not found (give --%s PATH)",
                     s->kind == SRV_MF ? "broker" : "nats-server");
            return false;
        }
        if (access(s->bin, X_OK) != 0) {
            snprintf(r->note, sizeof r->note, "%s: %s", s->bin, strerror(errno));
            return false;
        }
        watchdog_arm("server start", SERVER_START_S * 4);
        bool up = s->kind == SRV_MF ? start_mf_broker(s, err, sizeof err) : start_nats(s, err, sizeof err);
        watchdog_disarm();
        if (!up) {
            snprintf(r->note, sizeof r->note, "%s", err);
            fprintf(stderr, "bench-transport: FAILED: %s: %s\n", s->label, err);
            r->failed = true;
            return false;
        }
    }
    r->measured = true;
    server_version(s, r);
    return true;
}

/* Stops the server; a server that died on its own fails the run. */
static void server_down(server *s, result *r)
{
    char why[128];
    if (!s->external && !stop_server(s, why, sizeof why)) {
        fprintf(stderr, "bench-transport: FAILED: %s died during the run (%s)\n", s->label, why);
        print_log_tail(s->log, s->label);
        r->failed = true;
    } else if (r->failed && !s->external) {
        print_log_tail(s->log, s->label);
    }
}

static void measure_tp(const opts *o, server *s, result *r)
{
    ps_out p;
    if (run_pubsub(o, s, r, "throughput 1->1", "bench.tp", 1, o->count, &p)) {
        r->tp_ok = true;
        r->tp_rate = p.total_rate;
        r->tp_mbs = p.mbs;
        r->tp_pub_rate = p.pub_rate;
        r->tp_retries = p.retries;
        r->tp_srv_cpu = p.srv_cpu_us;
        r->tp_cli_cpu = p.cli_cpu_us;
        r->tp_gap_ms = p.gap_ms;
        r->tp_gaps = p.gaps;
    }
}

static void measure_fo(const opts *o, server *s, result *r)
{
    ps_out p;
    char phase[64];
    snprintf(phase, sizeof phase, "fan-out 1->%u", o->fanout);
    if (run_pubsub(o, s, r, phase, "bench.fo", o->fanout, o->fo_count, &p)) {
        r->fo_ok = true;
        r->fo_total = p.total_rate;
        r->fo_sub_mean = p.sub_mean;
        r->fo_sub_min = p.sub_min;
        r->fo_retries = p.retries;
        r->fo_srv_cpu = p.srv_cpu_us;
        r->fo_cli_cpu = p.cli_cpu_us;
        r->fo_gap_ms = p.gap_ms;
        r->fo_gaps = p.gaps;
    }
}

static void print_run(const opts *o, const server *s, const result *r, unsigned run)
{
    char line[400];
    int l = snprintf(line, sizeof line, "  run %u  %-11s", run, s->label);
    if (o->do_tp)
        l += snprintf(line + l, sizeof line - (size_t)l,
                      r->tp_ok ? "  1->1 %.0f msg/s (subscriber silent %.0f ms in %.0f gaps > 4 ms)" : "  1->1 FAILED",
                      r->tp_rate, r->tp_gap_ms, r->tp_gaps);
    if (o->do_fo)
        snprintf(line + l, sizeof line - (size_t)l, r->fo_ok ? "  fan-out 1->%u %.0f msg/s" : "  fan-out 1->%u FAILED",
                 o->fanout, r->fo_total);
    printf("%s\n", line);
    fflush(stdout);
}

/*
 * The request/reply stage: each server gets its responder and requester, and the requests
 * alternate between the servers in blocks of RR_BLOCK, so that whatever else the machine
 * does hits both columns alike (a p99 is otherwise mostly a measure of the neighbours).
 * requests x repeat measured requests per server.
 */
#define RR_BLOCK 100u

static void run_rr_stage(const opts *o, server *srv, result *res, const bool *up)
{
    rr_side side[SRV_N];
    memset(side, 0, sizeof side);
    char *payload = malloc(o->size);
    if (!payload) {
        fprintf(stderr, "bench-transport: out of memory\n");
        res[0].failed = true;
        return;
    }
    memset(payload, 'r', o->size);
    size_t total = (size_t)(o->requests * o->repeat);
    uint64_t warm = o->requests / 10 < 100 ? o->requests / 10 : 100;
    if (warm < 10)
        warm = 10;
    int budget_s = o->deadline_s * (int)o->repeat;
    watchdog_arm("request/reply", budget_s + 30);
    for (int i = 0; i < SRV_N; i++) {
        if (!up[i])
            continue;
        side[i].s = &srv[i];
        side[i].r = &res[i];
        if (rr_open(&side[i], total))
            rr_block(o, &side[i], warm, false, now_ns() + (int64_t)o->deadline_s * 1000000000, payload);
    }
    int64_t deadline = now_ns() + (int64_t)budget_s * 1000000000;
    for (int i = 0; i < SRV_N; i++)
        if (side[i].ok)
            side[i].srv0 = proc_cpu_s(side[i].s->pid);
    for (;;) {
        bool more = false;
        for (int i = 0; i < SRV_N; i++) {
            rr_side *d = &side[i];
            if (!d->ok || d->n >= d->cap)
                continue;
            size_t k = d->cap - d->n < RR_BLOCK ? d->cap - d->n : RR_BLOCK;
            if (rr_block(o, d, k, true, deadline, payload) && d->n < d->cap)
                more = true;
        }
        if (!more)
            break;
    }
    for (int i = 0; i < SRV_N; i++) {
        if (!side[i].s)
            continue;
        rr_finish(&side[i]);
        rr_close(&side[i]);
        result *r = &res[i];
        if (r->rr_ok)
            printf("  req/reply   %-11s %zu requests%s: p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f us\n",
                   srv[i].label, (size_t)r->rr_n, up[0] && up[1] ? " (interleaved)" : "", r->rr_p50, r->rr_p90,
                   r->rr_p99, r->rr_p999, r->rr_max);
        else
            printf("  req/reply   %-11s FAILED\n", srv[i].label);
    }
    fflush(stdout);
    watchdog_disarm();
    free(payload);
}

/* ------------------------------------------------------------- report */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The median of each pub/sub figure over the runs. A phase that failed in any run is
 * reported FAILED (the run fails anyway).
 */
static void aggregate(result *out, const result *runs, unsigned n)
{
    memset(out, 0, sizeof *out);
    snprintf(out->note, sizeof out->note, "%s", runs[0].note);
    double v[MAX_REPEAT];
    size_t m;
    unsigned measured = 0;
    bool tp = true, fo = true;
    for (unsigned i = 0; i < n; i++) {
        if (!runs[i].measured)
            continue;
        measured++;
        out->failed = out->failed || runs[i].failed;
        tp = tp && runs[i].tp_ok;
        fo = fo && runs[i].fo_ok;
        if (!out->version[0])
            snprintf(out->version, sizeof out->version, "%s", runs[i].version);
    }
    for (unsigned i = 0; i < n; i++)
        out->failed = out->failed || runs[i].failed;
    if (!measured)
        return;
    out->measured = true;
#define MED(field)                                      \
    do {                                                \
        m = 0;                                          \
        for (unsigned i = 0; i < n; i++)                \
            if (runs[i].measured)                       \
                v[m++] = (double)runs[i].field;         \
        out->field = median(v, m);                      \
    } while (0)
    if ((out->tp_ok = tp)) {
        MED(tp_rate);
        MED(tp_mbs);
        MED(tp_pub_rate);
        MED(tp_srv_cpu);
        MED(tp_cli_cpu);
        MED(tp_gap_ms);
        MED(tp_gaps);
        for (unsigned i = 0; i < n; i++)
            out->tp_retries += runs[i].tp_retries;
    }
    if ((out->fo_ok = fo)) {
        MED(fo_total);
        MED(fo_sub_mean);
        MED(fo_sub_min);
        MED(fo_srv_cpu);
        MED(fo_cli_cpu);
        MED(fo_gap_ms);
        MED(fo_gaps);
        for (unsigned i = 0; i < n; i++)
            out->fo_retries += runs[i].fo_retries;
    }
#undef MED
}

static void machine_info(char *model, size_t msz)
{
    snprintf(model, msz, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                c++;
                while (*c == ' ' || *c == '\t')
                    c++;
                c[strcspn(c, "\n")] = '\0';
                snprintf(model, msz, "%s", c);
            }
            break;
        }
    }
    fclose(f);
}

static void fmt_val(char *out, size_t sz, bool ok, double v, bool measured, int decimals)
{
    if (!measured)
        snprintf(out, sz, "-");
    else if (!ok)
        snprintf(out, sz, "FAILED");
    else if (v < 0) /* not measurable (a CPU figure of an external server) */
        snprintf(out, sz, "n/a");
    else
        snprintf(out, sz, "%.*f", decimals, v);
}

typedef enum { HIGHER_BETTER, LOWER_BETTER, NO_RATIO } sense;

static void row(const char *name, const char *unit, const result *a, const result *b, bool oka, bool okb, double va,
                double vb, int decimals, sense se)
{
    char sa[32], sb[32], ratio[48];
    fmt_val(sa, sizeof sa, oka, va, a->measured, decimals);
    fmt_val(sb, sizeof sb, okb, vb, b->measured, decimals);
    if (se == NO_RATIO || !oka || !okb || !a->measured || !b->measured || vb <= 0 || va < 0)
        snprintf(ratio, sizeof ratio, "%s", se == NO_RATIO ? "" : "n/a");
    else
        snprintf(ratio, sizeof ratio, "%.2f %s", va / vb, se == HIGHER_BETTER ? "(>=1 good)" : "(<=1 good)");
    printf("  %-30s %-6s %14s %14s   %s\n", name, unit, sa, sb, ratio);
}

static const char *verdict(bool have, double ratio, bool higher)
{
    if (!have)
        return "n/a";
    return (higher ? ratio >= 1.0 : ratio <= 1.0) ? "MET" : "MISSED";
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    opts o;
    int rc = parse_opts(&o, argc, argv);
    if (rc == 1)
        return 0;
    if (rc)
        return 2;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    snprintf(g_tmpdir, sizeof g_tmpdir, "/tmp/bench-transport.XXXXXX");
    if (!mkdtemp(g_tmpdir)) {
        fprintf(stderr, "bench-transport: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    g_keep_files = o.keep_logs;

    server srv[SRV_N];
    memset(srv, 0, sizeof srv);
    srv[SRV_MF].kind = SRV_MF;
    srv[SRV_MF].label = "mf-broker";
    srv[SRV_MF].bin = o.broker;
    srv[SRV_MF].extra_args = o.broker_args;
    srv[SRV_MF].n_extra = o.n_broker_args;
    srv[SRV_NATS].kind = SRV_NATS;
    srv[SRV_NATS].label = "nats-server";
    srv[SRV_NATS].bin = o.nats;
    snprintf(srv[SRV_MF].log, sizeof srv[SRV_MF].log, "%s/mf-broker.log", g_tmpdir);
    snprintf(srv[SRV_NATS].log, sizeof srv[SRV_NATS].log, "%s/nats-server.log", g_tmpdir);
    snprintf(srv[SRV_NATS].conf, sizeof srv[SRV_NATS].conf, "%s/nats-server.conf", g_tmpdir);
    snprintf(g_files[0], sizeof g_files[0], "%s", srv[SRV_MF].log);
    snprintf(g_files[1], sizeof g_files[1], "%s", srv[SRV_NATS].log);
    snprintf(g_files[2], sizeof g_files[2], "%s", srv[SRV_NATS].conf);
    if (o.broker_url) {
        srv[SRV_MF].external = true;
        snprintf(srv[SRV_MF].url, sizeof srv[SRV_MF].url, "%s", o.broker_url);
    }
    if (o.nats_url) {
        srv[SRV_NATS].external = true;
        snprintf(srv[SRV_NATS].url, sizeof srv[SRV_NATS].url, "%s", o.nats_url);
    }

    pthread_t wd;
    if (pthread_create(&wd, NULL, watchdog_main, NULL) == 0)
        pthread_detach(wd);

    /* header: what, where, how */
    char model[256];
    machine_info(model, sizeof model);
    struct utsname un;
    uname(&un);
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    time_t now = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
    printf("bench-transport: NATS over WebSocket, mf-broker vs nats-server, same client (mf_client)\n");
    printf("  date        %s\n", date);
    printf("  machine     %ld CPUs (nproc), %s; %s %s; load average %.2f %.2f %.2f\n",
           sysconf(_SC_NPROCESSORS_ONLN), model, un.sysname, un.release, load[0], load[1], load[2]);
    printf("  client      mf_client, libwebsockets %s; one service thread per client\n", lws_get_library_version());
    printf("  workload    %zu-byte payloads; 1->1: %llu msgs; fan-out 1->%u: %llu msgs (%llu deliveries); "
           "req/reply: %llu sequential requests per server\n",
           o.size, (unsigned long long)o.count, o.fanout, (unsigned long long)o.fo_count,
           (unsigned long long)o.fo_count * o.fanout, (unsigned long long)(o.requests * o.repeat));
    printf("  command    ");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n  method      both servers up for the whole run; pub/sub: %u run%s, each phase on one server then\n"
           "              the other (first server alternating), the table shows medians; request/reply: the\n"
           "              requests alternate between the servers in blocks of %u\n", o.repeat, o.repeat == 1 ? "" : "s",
           RR_BLOCK);
    fflush(stdout);

    /*
     * Both servers run for the whole measurement (an idle one costs nothing), and the phases
     * alternate between them: run k does 1->1 on both, then fan-out on both, the server that
     * goes first alternating from run to run. So a neighbour's burst of CPU, or whatever a
     * previous phase left behind, falls on both columns alike.
     */
    static result runs[SRV_N][MAX_REPEAT];
    result res[SRV_N], base[SRV_N];
    memset(res, 0, sizeof res);
    memset(base, 0, sizeof base);
    bool up[SRV_N] = {false, false};
    bool want[SRV_N] = {o.run_mf, o.run_nats};
    for (int i = 0; i < SRV_N; i++) {
        if (want[i] && (up[i] = server_up(&srv[i], &base[i])))
            printf("  %-11s %s  version %s%s\n", srv[i].label, srv[i].url, base[i].version,
                   srv[i].external ? " (external)" : "");
    }
    fflush(stdout);
    if (o.do_tp || o.do_fo) {
        for (unsigned k = 0; k < o.repeat; k++) {
            int order[SRV_N] = {SRV_MF, SRV_NATS};
            if (k % 2) {
                order[0] = SRV_NATS;
                order[1] = SRV_MF;
            }
            for (int j = 0; j < SRV_N; j++)
                runs[order[j]][k].measured = up[order[j]];
            if (o.do_tp)
                for (int j = 0; j < SRV_N; j++)
                    if (up[order[j]])
                        measure_tp(&o, &srv[order[j]], &runs[order[j]][k]);
            if (o.do_fo)
                for (int j = 0; j < SRV_N; j++)
                    if (up[order[j]])
                        measure_fo(&o, &srv[order[j]], &runs[order[j]][k]);
            for (int i = 0; i < SRV_N; i++)
                if (up[i])
                    print_run(&o, &srv[i], &runs[i][k], k + 1);
        }
        for (int i = 0; i < SRV_N; i++)
            aggregate(&res[i], runs[i], o.repeat);
    }
    if (o.do_rr)
        run_rr_stage(&o, srv, res, up);
    for (int i = 0; i < SRV_N; i++) {
        if (up[i])
            server_down(&srv[i], &res[i]);
        res[i].measured = up[i];
        res[i].failed = res[i].failed || base[i].failed;
        snprintf(res[i].note, sizeof res[i].note, "%s", base[i].note);
        snprintf(res[i].version, sizeof res[i].version, "%s", base[i].version);
    }

    for (int i = 0; i < SRV_N; i++) {
        if (i == SRV_MF && !o.run_mf)
            snprintf(res[i].note, sizeof res[i].note, "not requested (--only)");
        if (i == SRV_NATS && !o.run_nats)
            snprintf(res[i].note, sizeof res[i].note, "not requested (--only)");
        if (!res[i].measured)
            printf("  %-11s skipped: %s\n", srv[i].label, res[i].note);
    }

    const result *a = &res[SRV_MF], *b = &res[SRV_NATS];
    printf("\n  %-30s %-6s %14s %14s   %s\n", "", "", "mf-broker", "nats-server", "ratio mf/nats");
    if (o.do_tp) {
        row("throughput 1->1", "msg/s", a, b, a->tp_ok, b->tp_ok, a->tp_rate, b->tp_rate, 0, HIGHER_BETTER);
        row("throughput 1->1", "MB/s", a, b, a->tp_ok, b->tp_ok, a->tp_mbs, b->tp_mbs, 1, HIGHER_BETTER);
        row("  publish loop (accepted)", "msg/s", a, b, a->tp_ok, b->tp_ok, a->tp_pub_rate, b->tp_pub_rate, 0,
            NO_RATIO);
        row("  MF_ERR_FULL retries", "", a, b, a->tp_ok, b->tp_ok, (double)a->tp_retries, (double)b->tp_retries, 0,
            NO_RATIO);
        row("  server CPU per message", "us", a, b, a->tp_ok, b->tp_ok, a->tp_srv_cpu, b->tp_srv_cpu, 2,
            LOWER_BETTER);
        row("  client CPU per message", "us", a, b, a->tp_ok, b->tp_ok, a->tp_cli_cpu, b->tp_cli_cpu, 2, NO_RATIO);
        /* time the subscriber got nothing for > 4 ms: it was descheduled or starved (a noise gauge) */
        row("  subscriber silences > 4 ms", "ms", a, b, a->tp_ok, b->tp_ok, a->tp_gap_ms, b->tp_gap_ms, 1, NO_RATIO);
    }
    if (o.do_fo) {
        char n1[64], n2[64], n3[64];
        snprintf(n1, sizeof n1, "fan-out 1->%u total", o.fanout);
        snprintf(n2, sizeof n2, "fan-out per subscriber, mean");
        snprintf(n3, sizeof n3, "fan-out per subscriber, min");
        row(n1, "msg/s", a, b, a->fo_ok, b->fo_ok, a->fo_total, b->fo_total, 0, HIGHER_BETTER);
        row(n2, "msg/s", a, b, a->fo_ok, b->fo_ok, a->fo_sub_mean, b->fo_sub_mean, 0, HIGHER_BETTER);
        row(n3, "msg/s", a, b, a->fo_ok, b->fo_ok, a->fo_sub_min, b->fo_sub_min, 0, HIGHER_BETTER);
        row("  MF_ERR_FULL retries", "", a, b, a->fo_ok, b->fo_ok, (double)a->fo_retries, (double)b->fo_retries, 0,
            NO_RATIO);
        row("  server CPU per delivery", "us", a, b, a->fo_ok, b->fo_ok, a->fo_srv_cpu, b->fo_srv_cpu, 2,
            LOWER_BETTER);
        row("  client CPU per delivery", "us", a, b, a->fo_ok, b->fo_ok, a->fo_cli_cpu, b->fo_cli_cpu, 2, NO_RATIO);
        /* no "silences" row here: 10 subscriber threads on a few cores are descheduled by design */
    }
    if (o.do_rr) {
        row("request/reply p50", "us", a, b, a->rr_ok, b->rr_ok, a->rr_p50, b->rr_p50, 1, LOWER_BETTER);
        row("request/reply p90", "us", a, b, a->rr_ok, b->rr_ok, a->rr_p90, b->rr_p90, 1, LOWER_BETTER);
        row("request/reply p99", "us", a, b, a->rr_ok, b->rr_ok, a->rr_p99, b->rr_p99, 1, LOWER_BETTER);
        row("request/reply p99.9", "us", a, b, a->rr_ok, b->rr_ok, a->rr_p999, b->rr_p999, 1, LOWER_BETTER);
        row("request/reply max", "us", a, b, a->rr_ok, b->rr_ok, a->rr_max, b->rr_max, 1, LOWER_BETTER);
        row("request/reply mean", "us", a, b, a->rr_ok, b->rr_ok, a->rr_mean, b->rr_mean, 1, LOWER_BETTER);
        row("  server CPU per request", "us", a, b, a->rr_ok, b->rr_ok, a->rr_srv_cpu, b->rr_srv_cpu, 2,
            LOWER_BETTER);
        row("  client CPU per request", "us", a, b, a->rr_ok, b->rr_ok, a->rr_cli_cpu, b->rr_cli_cpu, 2, NO_RATIO);
    }
    printf("  (pub/sub: medians of %u run%s, retries are totals; request/reply: all %llu requests per server;\n"
           "   the nats-server column is also \"our client against nats-server\")\n",
           o.repeat, o.repeat == 1 ? "" : "s", (unsigned long long)(o.requests * o.repeat));

    bool both = a->measured && b->measured;
    bool have_tp = both && a->tp_ok && b->tp_ok && b->tp_rate > 0;
    bool have_fo = both && a->fo_ok && b->fo_ok && b->fo_total > 0;
    bool have_rr = both && a->rr_ok && b->rr_ok && b->rr_p99 > 0;
    double r_tp = have_tp ? a->tp_rate / b->tp_rate : 0;
    double r_fo = have_fo ? a->fo_total / b->fo_total : 0;
    double r_rr = have_rr ? a->rr_p99 / b->rr_p99 : 0;
    char t1[32] = "n/a", t2[32] = "n/a", t3[32] = "n/a";
    if (have_tp)
        snprintf(t1, sizeof t1, "%.2f", r_tp);
    if (have_fo)
        snprintf(t2, sizeof t2, "%.2f", r_fo);
    if (have_rr)
        snprintf(t3, sizeof t3, "%.2f", r_rr);
    printf("\ntargets (issue: mf-broker throughput >= nats-server's over WebSocket, request/reply p99 no worse):\n"
           "  throughput 1->1 ratio %s >= 1: %s;  fan-out total ratio %s >= 1: %s;  req/reply p99 ratio %s <= 1: %s\n",
           t1, verdict(have_tp, r_tp, true), t2, verdict(have_fo, r_fo, true), t3, verdict(have_rr, r_rr, false));

    bool failed = a->failed || b->failed;
    bool nothing = !a->measured && !b->measured;
    bool missed = (have_tp && r_tp < 1.0) || (have_fo && r_fo < 1.0) || (have_rr && r_rr > 1.0);
    if (failed)
        printf("RESULT: FAILED (see the messages above)\n");
    else if (nothing)
        printf("RESULT: nothing measured\n");
    else
        printf("RESULT: ok%s\n", missed ? " (targets missed)" : "");
    fflush(stdout);
    kill_children_now(); /* nothing should be left; belt and braces */
    remove_files();
    if (o.keep_logs)
        fprintf(stderr, "bench-transport: logs kept in %s\n", g_tmpdir);
    if (failed)
        return 1;
    if (nothing)
        return 2;
    return o.strict && missed ? 3 : 0;
}
