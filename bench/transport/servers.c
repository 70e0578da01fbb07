/*
 * servers.c - bench-transport: the mf-broker and nats-server processes (started
 * on free loopback ports, stopped, their logs), the temporary directory, and the
 * cleanup on every exit path: normal, SIGINT/SIGTERM/SIGHUP, the watchdog, and
 * PR_SET_PDEATHSIG in the children if this process dies.
 */
#include "bench_transport.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

/* --------------------------------------------------- children, cleanup */

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

/* Async-signal-safe. Reaps too: the init of a container may not. */
static void kill_and_reap(pid_t p)
{
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
}

/* Async-signal-safe: used by the signal handler and the watchdog. */
static void kill_children_now(void)
{
    for (int i = 0; i < SRV_N; i++) {
        pid_t p = g_child[i];
        if (p > 0) {
            kill_and_reap(p);
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

void install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

bool make_tmpdir(bool keep_files)
{
    snprintf(g_tmpdir, sizeof g_tmpdir, "/tmp/bench-transport.XXXXXX");
    if (!mkdtemp(g_tmpdir))
        return false;
    g_keep_files = keep_files;
    return true;
}

const char *tmpdir_path(void)
{
    return g_tmpdir;
}

/* The two servers as the options describe them; their logs and config in the temporary directory. */
void servers_init(server srv[SRV_N], const opts *o)
{
    memset(srv, 0, SRV_N * sizeof *srv);
    srv[SRV_MF].kind = SRV_MF;
    srv[SRV_MF].label = "mf-broker";
    srv[SRV_MF].bin = o->broker;
    srv[SRV_MF].extra_args = o->broker_args;
    srv[SRV_MF].n_extra = o->n_broker_args;
    srv[SRV_NATS].kind = SRV_NATS;
    srv[SRV_NATS].label = "nats-server";
    srv[SRV_NATS].bin = o->nats;
    snprintf(srv[SRV_MF].log, sizeof srv[SRV_MF].log, "%s/mf-broker.log", g_tmpdir);
    snprintf(srv[SRV_NATS].log, sizeof srv[SRV_NATS].log, "%s/nats-server.log", g_tmpdir);
    snprintf(srv[SRV_NATS].conf, sizeof srv[SRV_NATS].conf, "%s/nats-server.conf", g_tmpdir);
    snprintf(g_files[0], sizeof g_files[0], "%s", srv[SRV_MF].log);
    snprintf(g_files[1], sizeof g_files[1], "%s", srv[SRV_NATS].log);
    snprintf(g_files[2], sizeof g_files[2], "%s", srv[SRV_NATS].conf);
    if (o->server_cpus_text)
        srv[SRV_MF].cpus = srv[SRV_NATS].cpus = &o->server_cpus;
    if (o->broker_url) {
        srv[SRV_MF].external = true;
        snprintf(srv[SRV_MF].url, sizeof srv[SRV_MF].url, "%s", o->broker_url);
    }
    if (o->nats_url) {
        srv[SRV_NATS].external = true;
        snprintf(srv[SRV_NATS].url, sizeof srv[SRV_NATS].url, "%s", o->nats_url);
    }
}

void cleanup_at_exit(void)
{
    kill_children_now(); /* nothing should be left; belt and braces */
    remove_files();
}

/* ------------------------------------------------------------ watchdog */

static _Atomic int64_t g_wd_deadline; /* ns, 0 = off */
static char g_wd_phase[160];
static pthread_mutex_t g_wd_mu = PTHREAD_MUTEX_INITIALIZER;

void watchdog_arm(const char *phase, int deadline_s)
{
    pthread_mutex_lock(&g_wd_mu);
    snprintf(g_wd_phase, sizeof g_wd_phase, "%s", phase);
    pthread_mutex_unlock(&g_wd_mu);
    atomic_store(&g_wd_deadline, now_ns() + (int64_t)(deadline_s + WATCHDOG_GRACE_S) * 1000000000);
}

void watchdog_disarm(void)
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

void watchdog_start(void)
{
    pthread_t wd;
    if (pthread_create(&wd, NULL, watchdog_main, NULL) == 0)
        pthread_detach(wd);
}

/* ------------------------------------------------------- ports, processes */

/* A TCP socket and 127.0.0.1:port (0: any port) for it; the socket is < 0 on failure. */
static int loopback_socket(struct sockaddr_in *a, int port)
{
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons((uint16_t)port);
    return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static int free_port(void)
{
    struct sockaddr_in a;
    int fd = loopback_socket(&a, 0);
    if (fd < 0)
        return -1;
    socklen_t l = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static bool port_accepts(int port)
{
    struct sockaddr_in a;
    int fd = loopback_socket(&a, port);
    if (fd < 0)
        return false;
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

static pid_t spawn(char *const argv[], int out_fd, int err_fd, const cpu_set_t *cpus)
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
    if (cpus && sched_setaffinity(0, sizeof *cpus, cpus) != 0) {
        static const char m[] = "bench-transport: --server-cpus: sched_setaffinity failed\n";
        ssize_t w = write(2, m, sizeof m - 1);
        (void)w;
        _exit(127);
    }
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

/* The server's process is gone (reaped): nothing left to kill on exit. */
static void forget_child(server *s)
{
    g_child[s->kind] = 0;
    s->pid = 0;
}

/* The server's log, opened for its stdout/stderr; < 0 with err set. */
static int open_log(const server *s, char *err, size_t errsz)
{
    int logfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0)
        snprintf(err, errsz, "%.300s: %s", s->log, strerror(errno));
    return logfd;
}

/* A start attempt failed: kill the child unless it `ended` on its own (`why` says how or why not), forget it. */
static void start_failed(server *s, bool ended, const char *why, char *err, size_t errsz)
{
    if (!ended)
        kill_and_reap(s->pid);
    forget_child(s);
    snprintf(err, errsz, "%s did not start (%s)", s->bin, why);
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
        int logfd = open_log(s, err, errsz);
        if (logfd < 0) {
            close(pfd[0]);
            close(pfd[1]);
            return false;
        }
        char port[16];
        snprintf(port, sizeof port, "%d", s->port);
        char *argv[6 + 8] = {(char *)s->bin, "--host", "127.0.0.1", "--port", port, NULL};
        for (size_t i = 0; i < s->n_extra && i < 8; i++)
            argv[5 + i] = (char *)s->extra_args[i];
        argv[5 + (s->n_extra < 8 ? s->n_extra : 8)] = NULL;
        s->pid = spawn(argv, pfd[1], logfd, s->cpus);
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
        if (!ended)
            snprintf(why, sizeof why, "no \"listening on\" line within %d s", SERVER_START_S);
        start_failed(s, ended, why, err, errsz);
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
        int logfd = open_log(s, err, errsz);
        if (logfd < 0)
            return false;
        char *argv[] = {(char *)s->bin, "-c", s->conf, NULL};
        s->pid = spawn(argv, logfd, logfd, s->cpus);
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
        if (!ended)
            snprintf(why, sizeof why, "websocket port %d not accepting within %d s", wport, SERVER_START_S);
        start_failed(s, ended, why, err, errsz);
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
        if (!ended)
            kill_and_reap(s->pid);
    }
    forget_child(s);
    return alive;
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
bool server_up(server *s, result *r)
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
void server_down(server *s, result *r)
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
