/*
 * procs.c - bench-services: child processes (broker, service, responder) on free loopback
 * ports; every child gets PR_SET_PDEATHSIG and is killed on exit or interruption.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_services.h"

#define MAX_CHILDREN 8
static volatile pid_t g_children[MAX_CHILDREN];

void bench_track(pid_t pid)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (g_children[i] == 0) {
            g_children[i] = pid;
            return;
        }
}

static void untrack(pid_t pid)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (g_children[i] == pid)
            g_children[i] = 0;
}

static void kill_all(void)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (g_children[i] > 0) {
            kill(g_children[i], SIGKILL);
            waitpid(g_children[i], NULL, 0);
            g_children[i] = 0;
        }
}

static void on_signal(int sig)
{
    static const char msg[] = "\nbench-services: interrupted, killing the children\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    kill_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

void bench_cleanup_install(void)
{
    atexit(kill_all);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    signal(SIGPIPE, SIG_IGN);
}

int bench_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

bool bench_wait_port(int port, int timeout_ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (fd >= 0)
            close(fd);
        if (ok)
            return true;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
            return false;
        usleep(20000);
    }
}

pid_t bench_spawn(char *const argv[], const char *logfile)
{
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    if (pid > 0)
        bench_track(pid);
    return pid;
}

int bench_stop(pid_t pid, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    int status = 0;
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            untrack(pid);
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    untrack(pid);
    return -1;
}

double bench_cpu_seconds(pid_t pid)
{
    /* the scheduler's run time of every thread, in ns (/proc/PID/task/TID/schedstat): exact,
     * unlike the 10 ms ticks of /proc/PID/stat */
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    double total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char f[400];
        snprintf(f, sizeof f, "%s/%s/schedstat", path, e->d_name);
        FILE *fp = fopen(f, "r");
        unsigned long long ns = 0;
        if (fp && fscanf(fp, "%llu", &ns) == 1)
            total += (double)ns / 1e9;
        if (fp)
            fclose(fp);
    }
    closedir(d);
    return total;
}

/* ------------------------------------------------------------ responder */

static const char ECHO_REPLY[] =
    "{\"user_id\":\"00000000-0000-4000-8000-000000000000\",\"name\":\"Bench User 00000\","
    "\"email\":\"bench.000000@example.com\",\"language\":\"en-US\",\"timezone\":\"Europe/Berlin\"}";

static void on_echo(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)ctx;
    mf_client_respond(c, m, ECHO_REPLY, sizeof ECHO_REPLY - 1);
}

int bench_responder_main(const char *url)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    mf_client_opts o;
    mf_client_opts_init(&o);
    o.servers = &url;
    o.n_servers = 1;
    o.name = "bench-responder";
    mf_client *c;
    mf_error err;
    if (mf_client_create(&o, &c, &err) || mf_client_wait_connected(c, 10000) ||
        mf_client_subscribe(c, ECHO_SUBJECT, NULL, on_echo, NULL, NULL) || mf_client_flush(c, 10000)) {
        fprintf(stderr, "bench-services responder: cannot serve on %s\n", url);
        return 1;
    }
    printf("responder ready\n");
    fflush(stdout);
    for (;;)
        pause(); /* killed by the benchmark */
}
