/*
 * bench_main.c - bench-transport: the options, main, and the targets.
 * What the benchmark does and why it is done that way: bench_transport.h.
 */
#include "bench_transport.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --------------------------------------------------------------- options */

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
            "  --server-cpus LIST    pin both spawned servers to these CPUs (a taskset -c list: 1, 0-1, 0,2);\n"
            "                        nats-server's GOMAXPROCS follows its CPU set unless GOMAXPROCS is set\n"
            "                        in the environment (the servers inherit it). Default: not pinned\n"
            "  --client-cpus LIST    pin this process (every client thread) to these CPUs. Default: not\n"
            "                        pinned. E.g. --client-cpus 0 --server-cpus 1: each side a CPU of its own\n"
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
        } else if (!strcmp(a, "--server-cpus") || !strcmp(a, "--client-cpus")) {
            NEED_VALUE();
            bool srv = !strcmp(a, "--server-cpus");
            char err[160];
            if (!cpus_parse(v, srv ? &o->server_cpus : &o->client_cpus, err, sizeof err)) {
                fprintf(stderr, "bench-transport: %s: %s\n", a, err);
                return 2;
            }
            if (srv)
                o->server_cpus_text = v;
            else
                o->client_cpus_text = v;
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

/* ---------------------------------------------------------------- targets */

static const char *verdict(bool have, double ratio, bool higher)
{
    if (!have)
        return "n/a";
    return (higher ? ratio >= 1.0 : ratio <= 1.0) ? "MET" : "MISSED";
}

/* The targets line; true when one was missed. */
static bool print_targets(const result *a, const result *b)
{
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
    return (have_tp && r_tp < 1.0) || (have_fo && r_fo < 1.0) || (have_rr && r_rr > 1.0);
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

    /* before any thread: the client threads inherit the main thread's CPU set */
    if (o.client_cpus_text && sched_setaffinity(0, sizeof o.client_cpus, &o.client_cpus) != 0) {
        fprintf(stderr, "bench-transport: --client-cpus %s: %s\n", o.client_cpus_text, strerror(errno));
        return 2;
    }
    install_signal_handlers();
    if (!make_tmpdir(o.keep_logs)) {
        fprintf(stderr, "bench-transport: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    server srv[SRV_N];
    servers_init(srv, &o);
    watchdog_start();
    print_header(&o, argc, argv);

    /* both servers stay up for the whole run; the phases alternate between them */
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
    if (o.do_tp || o.do_fo)
        run_pubsub_stage(&o, srv, res, up);
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
        if (!want[i])
            snprintf(res[i].note, sizeof res[i].note, "not requested (--only)");
        if (!res[i].measured)
            printf("  %-11s skipped: %s\n", srv[i].label, res[i].note);
    }

    const result *a = &res[SRV_MF], *b = &res[SRV_NATS];
    print_table(&o, a, b);
    bool missed = print_targets(a, b);

    bool failed = a->failed || b->failed;
    bool nothing = !a->measured && !b->measured;
    if (failed)
        printf("RESULT: FAILED (see the messages above)\n");
    else if (nothing)
        printf("RESULT: nothing measured\n");
    else
        printf("RESULT: ok%s\n", missed ? " (targets missed)" : "");
    fflush(stdout);
    cleanup_at_exit();
    if (o.keep_logs)
        fprintf(stderr, "bench-transport: logs kept in %s\n", tmpdir_path());
    if (failed)
        return 1;
    if (nothing)
        return 2;
    return o.strict && missed ? 3 : 0;
}
