/*
 * report.c - bench-transport: what is measured besides time (the CPU used by a
 * server process, from /proc, and by this process' client threads, from
 * getrusage), the medians over the runs, and what is printed: the header, one
 * line per pub/sub run, and the table with the ratio mf-broker / nats-server.
 */
#include "bench_transport.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libwebsockets.h>

/* ------------------------------------------------------------------ CPU */

/* CPU seconds (user + system, all threads) used so far by process pid; < 0 when unknown. */
double proc_cpu_s(pid_t pid)
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
double self_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

/* Microseconds of CPU per operation between the readings s0 and s1 (seconds); < 0 when either is unknown. */
double cpu_us_per(double s0, double s1, double ops)
{
    return s0 >= 0 && s1 >= 0 ? (s1 - s0) * 1e6 / ops : -1;
}

/* --------------------------------------------------------------- medians */

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
void aggregate(result *out, const result *runs, unsigned n)
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
        tp = tp && runs[i].tp_ok;
        fo = fo && runs[i].fo_ok;
        if (!out->version[0])
            snprintf(out->version, sizeof out->version, "%s", runs[i].version);
    }
    for (unsigned i = 0; i < n; i++) /* measured or not */
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

/* -------------------------------------------------------------- printing */

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

/* The lines above the measurements: what, where, how. */
void print_header(const opts *o, int argc, char **argv)
{
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
           o->size, (unsigned long long)o->count, o->fanout, (unsigned long long)o->fo_count,
           (unsigned long long)o->fo_count * o->fanout, (unsigned long long)(o->requests * o->repeat));
    const char *gmp = getenv("GOMAXPROCS");
    printf("  placement   servers: %s%s; clients (this process): %s%s; nats-server GOMAXPROCS: %s\n",
           o->server_cpus_text ? "CPUs " : "", o->server_cpus_text ? o->server_cpus_text : "not pinned",
           o->client_cpus_text ? "CPUs " : "", o->client_cpus_text ? o->client_cpus_text : "not pinned",
           gmp ? gmp : "Go's default (CPUs in its set)");
    printf("  command    ");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n  method      both servers up for the whole run; pub/sub: %u run%s, each phase on one server then\n"
           "              the other (first server alternating), the table shows medians; request/reply: the\n"
           "              requests alternate between the servers in blocks of %u\n",
           o->repeat, o->repeat == 1 ? "" : "s", RR_BLOCK);
    fflush(stdout);
}

void print_run(const opts *o, const server *s, const result *r, unsigned run)
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

/* The table: mf-broker and nats-server side by side, the ratio on the lines where it means something. */
void print_table(const opts *o, const result *a, const result *b)
{
    printf("\n  %-30s %-6s %14s %14s   %s\n", "", "", "mf-broker", "nats-server", "ratio mf/nats");
    if (o->do_tp) {
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
    if (o->do_fo) {
        char n1[64], n2[64], n3[64];
        snprintf(n1, sizeof n1, "fan-out 1->%u total", o->fanout);
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
    if (o->do_rr) {
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
           o->repeat, o->repeat == 1 ? "" : "s", (unsigned long long)(o->requests * o->repeat));
}
