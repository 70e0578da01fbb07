/*
 * main.c - mf-broker: context, listening vhost (TLS when configured), signals,
 * main loop.
 *
 * Vhosts and protocols:
 *   "mf-broker" listens; its one protocol "nats" gets every accepted socket as
 *               an lws raw socket (role "raw-skt",
 *               LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG): with
 *               --tls-cert lws does the TLS handshake and hands over plaintext;
 *               the HTTP request, the WebSocket upgrade and framing are the
 *               broker's own (conn.c, recv.c, http.c)
 *   "signals"   listens nowhere; "mf-signal" is the signalfd, adopted as a raw
 *               file descriptor
 *
 * Signals: SIGINT and SIGTERM are blocked before anything else and read from
 * a signalfd that lws polls like any other descriptor. The shutdown therefore
 * starts on the service thread, in a normal callback, where every lws call is
 * allowed. (Calling lws_cancel_service() or setting state from a signal
 * handler would race with the service thread: lws_cancel_service is only
 * documented as thread-safe, not async-signal-safe.) The shutdown flushes and
 * closes every connection with 1000, waits for them (at most a few seconds),
 * destroys the context and exits 0. A second signal skips the wait.
 */
#include "broker/broker.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* Seconds the shutdown waits for connections to close. Shorter than a connection's own
 * lingering close (3 s, conn.c): a peer that never answers the close frame does not
 * hold the exit up longer than this. */
#define SHUTDOWN_GRACE_SECS 2

static void grace_expired(lws_sorted_usec_list_t *sul)
{
    mfb_broker *b = lws_container_of(sul, mfb_broker, grace_sul);
    if (b->nconns)
        MFB_LOGI("shutdown: %zu connections did not close in time", b->nconns);
    b->done = true;
}

static int signal_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user;
    (void)in;
    (void)len;
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE: {
        mfb_broker *b = mfb_broker_from_wsi(wsi);
        struct signalfd_siginfo si;
        ssize_t n;
        while ((n = read(b->sigfd, &si, sizeof si)) == (ssize_t)sizeof si) {
            MFB_LOGI("received %s", strsignal((int)si.ssi_signo));
            if (b->shutting_down) {
                b->done = true; /* second signal: stop waiting */
            } else {
                mfb_broker_begin_shutdown(b);
                lws_sul_schedule(b->ctx, 0, &b->grace_sul, grace_expired,
                                 (lws_usec_t)SHUTDOWN_GRACE_SECS * LWS_US_PER_SEC);
            }
        }
        return 0;
    }
    default:
        return 0;
    }
}

/* Raw sockets read into the service thread's buffer (pt_serv_buf_size, 64 KiB
 * below): with 4 KiB reads a busy publisher's data went out as one small frame
 * per read to every subscriber, and fan-out cost 15x the system calls
 * (bench/RESULTS.md). */
static const struct lws_protocols protocols[] = {
    {MF_BROKER_PROTOCOL, mfb_broker_raw_callback, sizeof(mfb_pss), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0} /* lws 4.1 has no LWS_PROTOCOL_LIST_TERM */
};

/* The signalfd lives on a vhost of its own that listens nowhere: the listening vhost
 * binds everything adopted to the raw-skt role, which a file descriptor is not. */
static const struct lws_protocols signal_protocols[] = {
    {"mf-signal", signal_callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}
};

static int g_lws_quiet;

static void lws_log(int level, const char *line)
{
    (void)level;
    if (g_lws_quiet)
        return;
    /* lws lines carry their own timestamp and newline */
    fprintf(stderr, "lws: %s", line);
}

static void make_server_id(mfb_broker *b)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    unsigned char rnd[24];
    size_t got = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, rnd, sizeof rnd);
        got = n > 0 ? (size_t)n : 0;
        close(fd);
    }
    uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    for (size_t i = got; i < sizeof rnd; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        rnd[i] = (unsigned char)(seed >> 56);
    }
    b->server_id[0] = 'N';
    for (size_t i = 0; i < 21; i++)
        b->server_id[i + 1] = alphabet[rnd[i] & 31];
    b->server_id[22] = '\0';
    memcpy(&b->rng, rnd + 16, sizeof b->rng);
    b->rng |= 1;
}

/* lws binds to a numeric address (or an interface name): resolve names like "localhost". */
static bool resolve_host(const char *host, char *out, size_t outsz)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    if (getaddrinfo(host, NULL, &hints, &res) == 0) {
        freeaddrinfo(res);
        snprintf(out, outsz, "%s", host);
        return true;
    }
    hints.ai_flags = AI_ADDRCONFIG;
    hints.ai_family = AF_INET; /* prefer IPv4 for names: "localhost" -> 127.0.0.1 */
    if (getaddrinfo(host, NULL, &hints, &res) != 0) {
        hints.ai_family = AF_UNSPEC;
        if (getaddrinfo(host, NULL, &hints, &res) != 0)
            return false;
    }
    int rc = getnameinfo(res->ai_addr, res->ai_addrlen, out, (socklen_t)outsz, NULL, 0, NI_NUMERICHOST);
    freeaddrinfo(res);
    return rc == 0;
}

/*
 * Can the address be bound? lws 4.1 creates a vhost whose listening socket failed to
 * bind to an address this machine does not have ("iface ... DOESN'T EXIST") and waits
 * for it to appear, so the broker would claim to listen while nobody can connect; the
 * same bind first, with SO_REUSEADDR as lws does, turns that into a start-up error.
 */
static bool bindable(const char *addr, int port, char *why, size_t whysz)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int rc = getaddrinfo(addr, ps, &hints, &res);
    if (rc != 0) {
        snprintf(why, whysz, "%s", gai_strerror(rc));
        return false;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
              bind(fd, res->ai_addr, res->ai_addrlen) == 0;
    if (!ok)
        snprintf(why, whysz, "%s", strerror(errno));
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return ok;
}

/* Enough file descriptors for --max-connections (soft limit up to the hard one). */
static void raise_fd_limit(size_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t need = (rlim_t)want + 64;
    if (rl.rlim_cur >= need)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < need)
        MFB_LOGE("warning: file descriptor limit %llu is below --max-connections", (unsigned long long)rl.rlim_cur);
}

int main(int argc, char **argv)
{
    mfb_broker_config cfg;
    int rc = mfb_broker_config_parse(&cfg, argc, argv, stdout, stderr);
    if (rc == 1)
        return 0;
    if (rc != 0)
        return 2;
    mfb_log_set_level(cfg.log_level);
    signal(SIGPIPE, SIG_IGN);

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &sigs, NULL) != 0) {
        MFB_LOGE("sigprocmask: %s", strerror(errno));
        mfb_broker_config_free(&cfg);
        return 1;
    }

    mfb_broker b;
    bool sigfd_adopted = false;
    memset(&b, 0, sizeof b);
    b.cfg = &cfg;
    b.started = time(NULL);
    b.sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    make_server_id(&b);
    b.sl = mfb_sublist_new(0);
    mfb_sublist_result_init(&b.res);
    mfb_sublist_result_init(&b.res2);
    if (b.sigfd < 0 || !b.sl) {
        MFB_LOGE("startup failed: %s", b.sigfd < 0 ? strerror(errno) : "out of memory");
        rc = 1;
        goto out;
    }
    raise_fd_limit(cfg.max_connections + cfg.max_connecting);

    int lws_levels = LLL_ERR | LLL_WARN;
    if (cfg.log_level >= MFB_LOG_DEBUG)
        lws_levels |= LLL_NOTICE;
    g_lws_quiet = cfg.log_level == MFB_LOG_QUIET;
    lws_set_log_level(lws_levels, lws_log);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    if (cfg.tls_cert)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = &b;
    info.timeout_secs = (unsigned int)cfg.handshake_timeout;
    info.pt_serv_buf_size = 64 * 1024; /* the service thread's read buffer: lws' default is 4 KiB */
    b.ctx = lws_create_context(&info);
    if (!b.ctx) {
        MFB_LOGE("cannot create the libwebsockets context");
        rc = 1;
        goto out;
    }

    char bind_addr[256], why[128];
    if (!resolve_host(cfg.host, bind_addr, sizeof bind_addr)) {
        MFB_LOGE("cannot resolve --host %s", cfg.host);
        rc = 1;
        goto out;
    }
    if (!bindable(bind_addr, cfg.port, why, sizeof why)) {
        MFB_LOGE("cannot listen on %s:%d: %s", cfg.host, cfg.port, why);
        rc = 1;
        goto out;
    }
    memset(&info, 0, sizeof info);
    info.port = cfg.port;
    info.iface = bind_addr;
    info.protocols = protocols;
    info.vhost_name = "mf-broker";
    info.timeout_secs = (unsigned int)cfg.handshake_timeout;
    info.options = LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG;
    if (cfg.tls_cert)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT; /* lws looks for it on the vhost too */
    info.listen_accept_role = "raw-skt";
    info.listen_accept_protocol = MF_BROKER_PROTOCOL;
    info.ssl_cert_filepath = cfg.tls_cert;
    info.ssl_private_key_filepath = cfg.tls_key;
    /* Over TLS lws advertises "h2,http/1.1" by ALPN unless told otherwise, and a client that
     * speaks both (curl) then picks h2; but the broker's own parser (raw-skt role) speaks
     * HTTP/1.1 only, so such a client waited for a reply that never came. WebSocket clients
     * (RFC 6455) ask for http/1.1 or nothing. */
    info.alpn = "http/1.1";
    if (!strchr(bind_addr, ':'))
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    b.vhost = lws_create_vhost(b.ctx, &info);
    if (!b.vhost) {
        MFB_LOGE("cannot listen on %s:%d%s", cfg.host, cfg.port,
                cfg.tls_cert ? " (or the TLS certificate and key are not usable)" : "");
        rc = 1;
        goto out;
    }
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = signal_protocols;
    info.vhost_name = "signals";
    struct lws_vhost *sigvh = lws_create_vhost(b.ctx, &info);
    lws_sock_file_fd_type fd;
    fd.filefd = b.sigfd;
    if (!sigvh || !lws_adopt_descriptor_vhost(sigvh, LWS_ADOPT_RAW_FILE_DESC, fd, "mf-signal", NULL)) {
        MFB_LOGE("cannot watch the signal descriptor");
        rc = 1;
        goto out;
    }
    sigfd_adopted = true; /* lws closes it with the context */

    MFB_LOGI("version %s, server_id %s, max_payload %zu, max_connections %zu, max_pending %zu%s%s%s",
            MF_BROKER_VERSION, b.server_id, cfg.max_payload, cfg.max_connections, cfg.max_pending,
            cfg.auth_token ? ", token auth" : "", cfg.accounts ? ", accounts" : "", cfg.tls_cert ? ", TLS" : "");
    bool v6 = strchr(cfg.host, ':') != NULL;
    printf("mf-broker listening on %s://%s%s%s:%d\n", cfg.tls_cert ? "wss" : "ws", v6 ? "[" : "", cfg.host,
           v6 ? "]" : "", cfg.port);
    fflush(stdout);

    mfb_sched_latency_hint();
    while (!b.done)
        if (lws_service(b.ctx, 0) < 0)
            break;
    rc = 0;
    MFB_LOGI("stopped: %llu connections served, %llu messages in, %llu out",
            (unsigned long long)b.total_connections, (unsigned long long)b.in_msgs, (unsigned long long)b.out_msgs);

out:
    mfb_auth_worker_stop(cfg.accounts); /* it may call lws_cancel_service: before the context goes */
    if (b.ctx) {
        b.done = true;
        lws_context_destroy(b.ctx); /* closes what is left; CLOSED callbacks still see b */
        b.ctx = NULL;
    }
    if (b.sigfd >= 0 && !sigfd_adopted)
        close(b.sigfd);
    mfb_sublist_result_free(&b.res);
    mfb_sublist_result_free(&b.res2);
    mfb_sublist_free(b.sl);
    mfb_broker_config_free(&cfg);
    return rc;
}
