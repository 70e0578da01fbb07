/*
 * main.c - bench-services: options, the run, the report (see bench_services.h).
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_services.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: bench-services [--users N] [--requests N] [--quick] [--broker PATH] [--service PATH] "
               "[--keep]\n\n"
               "user.info.request latency of user-service (database of --users users, default 100000)\n"
               "next to a bare responder on the same broker, in the same run (--requests pairs, default\n"
               "20000). --quick: 2000 users, 1000 requests (the ctest smoke). The binaries default to\n"
               "mf-broker and user-service next to this program.\n");
}

static bool parse(int argc, char **argv, bench_opts *o)
{
    static char broker[PATH_MAX], service[PATH_MAX], self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    const char *dir = dirname(self);
    snprintf(broker, sizeof broker, "%s/mf-broker", dir);
    snprintf(service, sizeof service, "%s/user-service", dir);
    *o = (bench_opts){broker, service, 100000, 20000, 1000, false};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--users") && v)
            o->users = atol(v), i++;
        else if (!strcmp(a, "--requests") && v)
            o->requests = atol(v), i++;
        else if (!strcmp(a, "--broker") && v)
            o->broker = v, i++;
        else if (!strcmp(a, "--service") && v)
            o->service = v, i++;
        else if (!strcmp(a, "--quick"))
            o->users = 2000, o->requests = 1000, o->warmup = 200;
        else if (!strcmp(a, "--keep"))
            o->keep = true;
        else
            return false;
    }
    return o->users > 0 && o->requests > 0;
}

static void report(const bench_opts *o, bench_lat *svc, bench_lat *bare, bench_lat *diff, double import_s,
                   double cpu_s, double cpu_r)
{
    bench_sort(svc);
    bench_sort(bare);
    bench_sort(diff);
    static const double ps[] = {50, 90, 99, 99.9};
    printf("\n  user.info.request, %ld users in the database, %ld pairs of requests (service, bare)\n",
           o->users, o->requests);
    printf("  %-10s %14s %14s %14s\n", "", "user-service", "bare responder", "difference");
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        double s = bench_pct_us(svc, ps[i]), b = bench_pct_us(bare, ps[i]);
        printf("  p%-9g %11.1f us %11.1f us %11.1f us\n", ps[i], s, b, s - b);
    }
    printf("\n  what the service adds, per pair: median %.1f us, p90 %.1f us\n", bench_pct_us(diff, 50),
           bench_pct_us(diff, 90));
    double per = (double)(o->requests + o->warmup);
    printf("\n  CPU per request: user-service %.1f us, bare responder %.1f us: the service adds %.1f us\n"
           "  (run time of every thread of the process, from the scheduler)\n",
           cpu_s / per * 1e6, cpu_r / per * 1e6, (cpu_s - cpu_r) / per * 1e6);
    printf("  import through the admin API %8.0f users/s (%ld users in %.1f s)\n", (double)o->users / import_s,
           o->users, import_s);
    double add50 = bench_pct_us(diff, 50);
    printf("\ntarget (issue 7): the service adds under 50 us at p50 (median per pair): %.1f us: %s\n", add50,
           add50 < 50 ? "MET" : "MISSED");
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--responder"))
        return bench_responder_main(argv[2]);
    bench_opts o;
    if (!parse(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    bench_cleanup_install();
    char dir[] = "/tmp/bench-services-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char url[64], http[64], port_s[16], db[PATH_MAX], log_b[PATH_MAX], log_s[PATH_MAX], log_r[PATH_MAX];
    int bport = bench_free_port(), hport = bench_free_port();
    snprintf(url, sizeof url, "ws://127.0.0.1:%d", bport);
    snprintf(http, sizeof http, "127.0.0.1:%d", hport);
    snprintf(port_s, sizeof port_s, "%d", bport);
    snprintf(db, sizeof db, "%s/users.db", dir);
    snprintf(log_b, sizeof log_b, "%s/broker.log", dir);
    snprintf(log_s, sizeof log_s, "%s/user-service.log", dir);
    snprintf(log_r, sizeof log_r, "%s/responder.log", dir);

    char *bargv[] = {(char *)o.broker, "--port", port_s, "--quiet", NULL};
    char *sargv[] = {(char *)o.service, "--server", url, "--db", db, "--http", http, "--log-level", "warn", NULL};
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    char *rargv[] = {self, "--responder", url, NULL};

    pid_t broker = bench_spawn(bargv, log_b);
    if (broker < 0 || !bench_wait_port(bport, 10000))
        return fprintf(stderr, "bench-services: mf-broker did not start (%s)\n", log_b), 1;
    pid_t svc = bench_spawn(sargv, log_s);
    if (svc < 0 || !bench_wait_port(hport, 20000))
        return fprintf(stderr, "bench-services: user-service did not start (%s)\n", log_s), 1;
    pid_t resp = bench_spawn(rargv, log_r);
    printf("bench-services: loading %ld users through POST /users/import ...\n", o.users);
    fflush(stdout);
    double import_s = 0;
    long created = bench_import(hport, o.users, &import_s);
    if (created != o.users)
        return fprintf(stderr, "bench-services: %ld users created, expected %ld (%s)\n", created, o.users, log_s), 1;

    if (!bench_wait_outbox_empty(hport, 300000))
        return fprintf(stderr, "bench-services: the import's events were not published (%s)\n", log_s), 1;

    mf_client_opts co;
    mf_client_opts_init(&co);
    const char *servers[] = {url};
    co.servers = servers;
    co.n_servers = 1;
    co.name = "bench-services";
    mf_client *c;
    mf_error err;
    if (mf_client_create(&co, &c, &err) || mf_client_wait_connected(c, 10000))
        return fprintf(stderr, "bench-services: cannot connect to %s\n", url), 1;
    double cpu0 = bench_cpu_seconds(svc), rcpu0 = bench_cpu_seconds(resp);
    bench_lat s, b, d;
    bool ok = resp > 0 && bench_measure(c, &o, &s, &b, &d);
    double cpu = bench_cpu_seconds(svc) - cpu0, rcpu = bench_cpu_seconds(resp) - rcpu0;
    mf_client_destroy(c);
    if (ok)
        report(&o, &s, &b, &d, import_s, cpu, rcpu);
    int rc = bench_stop(svc, 30000);
    if (rc != 0)
        fprintf(stderr, "bench-services: user-service exited with %d on SIGTERM\n", rc);
    bench_stop(resp, 2000);
    bench_stop(broker, 5000);
    free(s.ns);
    free(b.ns);
    free(d.ns);
    if (!o.keep) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench-services: could not remove %s\n", dir);
    } else {
        printf("kept %s\n", dir);
    }
    return ok && rc == 0 ? 0 : 1;
}
