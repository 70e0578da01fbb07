/*
 * e2e_util.c - see e2e_util.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "e2e_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ processes */

static const char *exe_or_null(const char *p)
{
    return (p && *p && access(p, X_OK) == 0) ? p : NULL;
}

const char *e2e_nats_server_path(void)
{
    const char *env = getenv("MF_NATS_SERVER");
    if (env)
        return exe_or_null(env);
#ifdef MF_NATS_SERVER
    if (exe_or_null(MF_NATS_SERVER))
        return MF_NATS_SERVER;
#endif
    static const char *cands[] = {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"};
    for (size_t i = 0; i < sizeof cands / sizeof *cands; i++)
        if (exe_or_null(cands[i]))
            return cands[i];
    return NULL;
}

const char *e2e_broker_path(void)
{
    const char *env = getenv("MF_BROKER");
    if (env)
        return exe_or_null(env);
#ifdef MF_BROKER_BIN
    return exe_or_null(MF_BROKER_BIN);
#else
    return NULL;
#endif
}

int64_t e2e_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void e2e_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

int e2e_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t l = sizeof a;
    int port = -1;
    if (!bind(fd, (struct sockaddr *)&a, sizeof a) && !getsockname(fd, (struct sockaddr *)&a, &l))
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
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

bool e2e_wait_port(int port, int timeout_ms)
{
    int64_t end = e2e_now_ms() + timeout_ms;
    while (e2e_now_ms() < end) {
        if (port_open(port))
            return true;
        e2e_sleep_ms(20);
    }
    return false;
}

bool e2e_wait_port_closed(int port, int timeout_ms)
{
    int64_t end = e2e_now_ms() + timeout_ms;
    while (e2e_now_ms() < end) {
        if (!port_open(port))
            return true;
        e2e_sleep_ms(20);
    }
    return false;
}

pid_t e2e_spawn(char *const argv[], const char *logfile)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = open(logfile ? logfile : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) {
            dup2(nul, 0);
            close(nul);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

void e2e_kill(pid_t pid, int sig)
{
    if (pid <= 0)
        return;
    kill(pid, sig);
    int status;
    int64_t end = e2e_now_ms() + 5000;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (e2e_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        e2e_sleep_ms(10);
    }
}

bool e2e_mkdtemp(char *out, size_t cap)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, cap, "%s/mf-e2e-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(out) != NULL;
}

void e2e_rmdir(const char *dir)
{
    if (!dir || !*dir)
        return;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* ------------------------------------------------------------ nats-server */

static bool write_conf(e2e_nats *n, const char *extra)
{
    FILE *f = fopen(n->conf, "w");
    if (!f)
        return false;
    fprintf(f, "host: \"127.0.0.1\"\nport: -1\n");
    if (n->tls_cert[0])
        fprintf(f, "websocket {\n  listen: \"127.0.0.1:%d\"\n  tls {\n    cert_file: \"%s\"\n    key_file: \"%s\"\n  }\n}\n",
                n->ws_port, n->tls_cert, n->tls_key);
    else
        fprintf(f, "websocket {\n  listen: \"127.0.0.1:%d\"\n  no_tls: true\n}\n", n->ws_port);
    if (extra)
        fprintf(f, "%s\n", extra);
    fclose(f);
    return true;
}

static bool nats_spawn(e2e_nats *n)
{
    const char *bin = e2e_nats_server_path();
    if (!bin)
        return false;
    char *argv[] = {(char *)bin, "-c", n->conf, NULL};
    n->pid = e2e_spawn(argv, n->log);
    if (n->pid <= 0)
        return false;
    if (!e2e_wait_port(n->ws_port, E2E_WAIT_MS)) {
        e2e_kill(n->pid, SIGKILL);
        n->pid = 0;
        return false;
    }
    return true;
}

bool e2e_nats_start(e2e_nats *n, const char *extra)
{
    if (!e2e_nats_server_path())
        return false;
    if (!n->ws_port)
        n->ws_port = e2e_free_port();
    if (!n->dir[0] && !e2e_mkdtemp(n->dir, sizeof n->dir))
        return false;
    snprintf(n->conf, sizeof n->conf, "%s/nats.conf", n->dir);
    snprintf(n->log, sizeof n->log, "%s/nats.log", n->dir);
    snprintf(n->url, sizeof n->url, "%s://127.0.0.1:%d", n->tls_cert[0] ? "wss" : "ws", n->ws_port);
    return write_conf(n, extra) && nats_spawn(n);
}

bool e2e_nats_restart(e2e_nats *n)
{
    /* the port may linger a moment after a kill */
    int64_t end = e2e_now_ms() + 5000;
    while (e2e_now_ms() < end) {
        if (nats_spawn(n))
            return true;
        e2e_sleep_ms(100);
    }
    return false;
}

void e2e_nats_stop(e2e_nats *n, int sig)
{
    if (n->pid > 0)
        e2e_kill(n->pid, sig);
    n->pid = 0;
}

void e2e_nats_cleanup(e2e_nats *n)
{
    e2e_nats_stop(n, SIGKILL);
    if (getenv("MF_E2E_KEEP")) {
        fprintf(stderr, "e2e: kept %s\n", n->dir);
        return;
    }
    e2e_rmdir(n->dir);
    n->dir[0] = '\0';
}

bool e2e_make_cert(const char *dir, char *cert, size_t ccap, char *key, size_t kcap)
{
    if (access("/usr/bin/openssl", X_OK) != 0)
        return false;
    snprintf(cert, ccap, "%s/cert.pem", dir);
    snprintf(key, kcap, "%s/key.pem", dir);
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' -days 2 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
             key, cert);
    return system(cmd) == 0 && access(cert, R_OK) == 0;
}

bool e2e_cluster_start(e2e_cluster *cl)
{
    memset(cl, 0, sizeof *cl);
    for (int i = 0; i < 3; i++) {
        cl->node[i].ws_port = e2e_free_port();
        cl->node[i].cluster_port = e2e_free_port();
    }
    for (int i = 0; i < 3; i++) {
        char extra[1024];
        int off = snprintf(extra, sizeof extra,
                           "server_name: n%d\ncluster {\n  name: mfc\n  listen: \"127.0.0.1:%d\"\n  routes: [", i + 1,
                           cl->node[i].cluster_port);
        for (int j = 0; j < 3; j++)
            if (j != i)
                off += snprintf(extra + off, sizeof extra - (size_t)off, "\n    \"nats://127.0.0.1:%d\"",
                                cl->node[j].cluster_port);
        snprintf(extra + off, sizeof extra - (size_t)off, "\n  ]\n}\n");
        if (!e2e_nats_start(&cl->node[i], extra)) {
            e2e_cluster_stop(cl);
            return false;
        }
    }
    return true;
}

void e2e_cluster_stop(e2e_cluster *cl)
{
    for (int i = 0; i < 3; i++)
        e2e_nats_cleanup(&cl->node[i]);
}

/* ------------------------------------------------------------ mf-broker */

static bool broker_spawn(e2e_broker *b, const char *const *extra)
{
    const char *bin = e2e_broker_path();
    if (!bin)
        return false;
    char port[16];
    snprintf(port, sizeof port, "%d", b->port);
    char *argv[32];
    int k = 0;
    argv[k++] = (char *)bin;
    argv[k++] = "--host";
    argv[k++] = "127.0.0.1";
    argv[k++] = "--port";
    argv[k++] = port;
    for (int i = 0; extra && extra[i] && k < 30; i++)
        argv[k++] = (char *)extra[i];
    argv[k] = NULL;
    b->pid = e2e_spawn(argv, b->log);
    if (b->pid <= 0)
        return false;
    if (!e2e_wait_port(b->port, E2E_WAIT_MS)) {
        e2e_kill(b->pid, SIGKILL);
        b->pid = 0;
        return false;
    }
    return true;
}

bool e2e_broker_start(e2e_broker *b, const char *const *extra_args)
{
    if (!e2e_broker_path())
        return false;
    if (!b->port)
        b->port = e2e_free_port();
    if (!b->dir[0] && !e2e_mkdtemp(b->dir, sizeof b->dir))
        return false;
    snprintf(b->log, sizeof b->log, "%s/broker.log", b->dir);
    snprintf(b->url, sizeof b->url, "ws://127.0.0.1:%d", b->port);
    return broker_spawn(b, extra_args);
}

bool e2e_broker_restart(e2e_broker *b, const char *const *extra_args)
{
    int64_t end = e2e_now_ms() + 5000;
    while (e2e_now_ms() < end) {
        if (broker_spawn(b, extra_args))
            return true;
        e2e_sleep_ms(100);
    }
    return false;
}

void e2e_broker_stop(e2e_broker *b, int sig)
{
    if (b->pid > 0)
        e2e_kill(b->pid, sig);
    b->pid = 0;
}

void e2e_broker_cleanup(e2e_broker *b)
{
    e2e_broker_stop(b, SIGKILL);
    if (getenv("MF_E2E_KEEP")) {
        fprintf(stderr, "e2e: kept %s\n", b->dir);
        return;
    }
    e2e_rmdir(b->dir);
    b->dir[0] = '\0';
}

/* ------------------------------------------------------------ collectors */

static void cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

static void abs_ms(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

void e2e_col_init(e2e_col *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    cond_init_mono(&c->cv);
    c->vals = calloc(E2E_MAX_MSGS, sizeof *c->vals);
    assert_non_null(c->vals);
}

void e2e_col_free(e2e_col *c)
{
    pthread_mutex_lock(&c->mu);
    int errors = c->cb_errors;
    pthread_mutex_unlock(&c->mu);
    free(c->vals);
    c->vals = NULL;
    for (size_t i = 0; i < E2E_KEEP_MSGS; i++) {
        mf_msg_owned_free(c->kept[i]);
        c->kept[i] = NULL;
    }
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    assert_int_equal(errors, 0); /* a respond or a copy failed in the callback */
}

static void copy_n(char *dst, size_t cap, const char *src, size_t n)
{
    if (!src)
        n = 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

void e2e_col_cb(mf_client *cl, const mf_msg *m, void *ctx)
{
    e2e_col *c = ctx;
    int errors = 0;
    if (c->respond && m->reply) {
        char buf[300];
        int n = snprintf(buf, sizeof buf, "%s%.*s", c->respond_prefix ? c->respond_prefix : "re:",
                         (int)(m->len < 200 ? m->len : 200), (const char *)m->data);
        if (mf_client_respond(cl, m, buf, (size_t)n) != MF_OK)
            errors++;
    }
    pthread_mutex_lock(&c->mu);
    if (m->len == sizeof E2E_PROBE - 1 && memcmp(m->data, E2E_PROBE, m->len) == 0) {
        c->probes++;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        return;
    }
    if (c->n < E2E_KEEP_MSGS && mf_msg_copy(m, &c->kept[c->n]) != MF_OK)
        errors++;
    c->cb_errors += errors;
    if (c->n < E2E_MAX_MSGS)
        c->vals[c->n] = atoi((const char *)m->data);
    c->n++;
    c->bytes += m->len;
    copy_n(c->last_subject, sizeof c->last_subject, m->subject, m->subject_len);
    copy_n(c->last_reply, sizeof c->last_reply, m->reply, m->reply_len);
    copy_n(c->last_data, sizeof c->last_data, m->data, m->len);
    c->last_status = m->status;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

bool e2e_col_wait(e2e_col *c, size_t n, int timeout_ms)
{
    struct timespec ts;
    abs_ms(&ts, timeout_ms);
    pthread_mutex_lock(&c->mu);
    while (c->n < n)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT)
            break;
    bool ok = c->n >= n;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

size_t e2e_col_count(e2e_col *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

void e2e_events_init(e2e_events *e)
{
    memset(e, 0, sizeof *e);
    pthread_mutex_init(&e->mu, NULL);
    cond_init_mono(&e->cv);
}

void e2e_events_free(e2e_events *e)
{
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
}

void e2e_events_cb(mf_client *c, const mf_client_event *ev, void *ctx)
{
    (void)c;
    e2e_events *e = ctx;
    pthread_mutex_lock(&e->mu);
    if ((int)ev->type >= 0 && ev->type < 16)
        e->count[ev->type]++;
    if (ev->type == MF_CLIENT_DROPPED)
        e->dropped_msgs += ev->msgs;
    if (ev->type == MF_CLIENT_ERROR) {
        copy_n(e->last_error, sizeof e->last_error, ev->text, strlen(ev->text));
        e->last_error_status = ev->status;
        if ((int)ev->status >= 0 && (int)ev->status < 64)
            e->errors_by_status[ev->status]++;
    }
    if (ev->type == MF_CLIENT_CLOSED)
        e->closed_status = ev->status;
    copy_n(e->last_url, sizeof e->last_url, ev->url, strlen(ev->url));
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

bool e2e_events_wait(e2e_events *e, mf_client_event_type t, int count, int timeout_ms)
{
    struct timespec ts;
    abs_ms(&ts, timeout_ms);
    pthread_mutex_lock(&e->mu);
    while (e->count[t] < count)
        if (pthread_cond_timedwait(&e->cv, &e->mu, &ts) == ETIMEDOUT)
            break;
    bool ok = e->count[t] >= count;
    pthread_mutex_unlock(&e->mu);
    return ok;
}

int e2e_events_count(e2e_events *e, mf_client_event_type t)
{
    pthread_mutex_lock(&e->mu);
    int n = e->count[t];
    pthread_mutex_unlock(&e->mu);
    return n;
}

bool e2e_events_wait_dropped(e2e_events *e, uint64_t msgs, int timeout_ms)
{
    struct timespec ts;
    abs_ms(&ts, timeout_ms);
    pthread_mutex_lock(&e->mu);
    while (e->dropped_msgs < msgs)
        if (pthread_cond_timedwait(&e->cv, &e->mu, &ts) == ETIMEDOUT)
            break;
    bool ok = e->dropped_msgs >= msgs;
    pthread_mutex_unlock(&e->mu);
    return ok;
}

int e2e_events_errors(e2e_events *e, mf_status st)
{
    pthread_mutex_lock(&e->mu);
    int n = (int)st >= 0 && (int)st < 64 ? e->errors_by_status[st] : 0;
    pthread_mutex_unlock(&e->mu);
    return n;
}

void e2e_events_snapshot(e2e_events *e, e2e_events *out)
{
    pthread_mutex_lock(&e->mu);
    memcpy(out->count, e->count, sizeof out->count);
    out->dropped_msgs = e->dropped_msgs;
    memcpy(out->last_url, e->last_url, sizeof out->last_url);
    memcpy(out->last_error, e->last_error, sizeof out->last_error);
    out->last_error_status = e->last_error_status;
    memcpy(out->errors_by_status, e->errors_by_status, sizeof out->errors_by_status);
    out->closed_status = e->closed_status;
    pthread_mutex_unlock(&e->mu);
}

/* ------------------------------------------------------------ async requests */

void e2e_reply_set_init(e2e_reply_set *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    cond_init_mono(&s->cv);
}

void e2e_reply_set_free(e2e_reply_set *s)
{
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
}

void e2e_reply_cb(mf_client *c, mf_status st, const mf_msg *reply, void *ctx)
{
    e2e_reply *r = ctx;
    bool on_thread = mf_client_on_service_thread(c);
    pthread_mutex_lock(&r->set->mu);
    r->calls++;
    r->st = st;
    r->on_service_thread = on_thread;
    if (reply)
        copy_n(r->data, sizeof r->data, reply->data, reply->len);
    r->set->done++;
    pthread_cond_broadcast(&r->set->cv);
    pthread_mutex_unlock(&r->set->mu);
}

bool e2e_reply_set_wait(e2e_reply_set *s, int n, int timeout_ms)
{
    struct timespec ts;
    abs_ms(&ts, timeout_ms);
    pthread_mutex_lock(&s->mu);
    while (s->done < n)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
            break;
    bool ok = s->done >= n;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

void e2e_opts(mf_client_opts *o, const char *const *servers, size_t n, e2e_events *ev)
{
    mf_client_opts_init(o);
    o->servers = servers;
    o->n_servers = n;
    o->reconnect_wait_ms = 50;
    o->reconnect_wait_max_ms = 500;
    o->reconnect_jitter_ms = 50;
    o->connect_timeout_ms = 2000;
    o->log_level = getenv("MF_E2E_DEBUG") ? MF_LOG_DEBUG : MF_LOG_ERROR;
    if (ev) {
        o->on_event = e2e_events_cb;
        o->event_ctx = ev;
    }
}

mf_client *e2e_offline_client(void)
{
    static char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d", e2e_free_port()); /* nobody listens */
    const char *servers[] = {url};
    mf_client_opts o;
    e2e_opts(&o, servers, 1, NULL);
    o.reconnect_wait_ms = 1000;
    mf_client *c = NULL;
    mf_error err;
    assert_int_equal(mf_client_create(&o, &c, &err), MF_OK);
    return c;
}

mf_client *e2e_connect(const mf_client_opts *o)
{
    mf_client *c = NULL;
    mf_error err;
    if (mf_client_create(o, &c, &err)) {
        fprintf(stderr, "e2e: mf_client_create: %s\n", err.message);
        return NULL;
    }
    if (mf_client_wait_connected(c, E2E_WAIT_MS)) {
        fprintf(stderr, "e2e: not connected within %d ms\n", E2E_WAIT_MS);
        mf_client_destroy(c);
        return NULL;
    }
    return c;
}

bool e2e_wait_interest(mf_client *pub, const char *subject, e2e_col *col, int timeout_ms)
{
    pthread_mutex_lock(&col->mu);
    size_t before = col->probes;
    pthread_mutex_unlock(&col->mu);
    struct timespec ts;
    int64_t end = e2e_now_ms() + timeout_ms;
    while (e2e_now_ms() < end) {
        if (mf_client_publish(pub, subject, NULL, E2E_PROBE, sizeof E2E_PROBE - 1) != MF_OK)
            return false;
        mf_status st = mf_client_flush(pub, 1000);
        if (st != MF_OK && st != MF_ERR_TIMEOUT)
            return false;
        abs_ms(&ts, 50); /* then probe again: a probe sent before the interest arrived is lost */
        pthread_mutex_lock(&col->mu);
        while (col->probes == before)
            if (pthread_cond_timedwait(&col->cv, &col->mu, &ts) == ETIMEDOUT)
                break;
        bool got = col->probes > before;
        pthread_mutex_unlock(&col->mu);
        if (got)
            return true;
    }
    return false;
}

void e2e_barrier(mf_client *pub, mf_client *sub)
{
    assert_int_equal(mf_client_flush(pub, E2E_WAIT_MS), MF_OK);
    if (sub != pub)
        assert_int_equal(mf_client_flush(sub, E2E_WAIT_MS), MF_OK);
}

/* ------------------------------------------------------------ either server */

const char *e2e_server_missing(e2e_kind kind)
{
    if (kind == E2E_NATS)
        return e2e_nats_server_path() ? NULL : "nats-server not found (install the nats-server package or set MF_NATS_SERVER)";
    return e2e_broker_path() ? NULL : "mf-broker not built (target mf-broker) or MF_BROKER not set";
}

bool e2e_server_start(e2e_server *s, e2e_kind kind, size_t max_payload)
{
    return e2e_server_start_ex(s, kind, max_payload, NULL);
}

bool e2e_server_start_ex(e2e_server *s, e2e_kind kind, size_t max_payload, const char *token)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->max_payload = max_payload;
    if (kind == E2E_NATS) {
        char extra[256] = "";
        int off = 0;
        if (max_payload)
            off += snprintf(extra + off, sizeof extra - (size_t)off, "max_payload: %zu\n", max_payload);
        if (token)
            snprintf(extra + off, sizeof extra - (size_t)off, "authorization { token: \"%s\" }\n", token);
        if (!e2e_nats_start(&s->nats, extra))
            return false;
        s->url = s->nats.url;
        return true;
    }
    int k = 0;
    if (max_payload) {
        snprintf(s->arg, sizeof s->arg, "--max-payload=%zu", max_payload);
        s->args[k++] = s->arg;
    }
    if (token) {
        snprintf(s->arg2, sizeof s->arg2, "--auth-token=%s", token);
        s->args[k++] = s->arg2;
    }
    s->args[k] = NULL;
    if (!e2e_broker_start(&s->broker, s->args))
        return false;
    s->url = s->broker.url;
    return true;
}

bool e2e_server_restart(e2e_server *s)
{
    return s->kind == E2E_NATS ? e2e_nats_restart(&s->nats) : e2e_broker_restart(&s->broker, s->args);
}

void e2e_server_kill(e2e_server *s)
{
    if (s->kind == E2E_NATS)
        e2e_nats_stop(&s->nats, SIGKILL);
    else
        e2e_broker_stop(&s->broker, SIGKILL);
}

void e2e_server_signal(e2e_server *s, int sig)
{
    pid_t pid = s->kind == E2E_NATS ? s->nats.pid : s->broker.pid;
    if (pid > 0)
        kill(pid, sig);
}

void e2e_server_cleanup(e2e_server *s)
{
    if (s->kind == E2E_NATS)
        e2e_nats_cleanup(&s->nats);
    else
        e2e_broker_cleanup(&s->broker);
}

void e2e_col_reset(e2e_col *c)
{
    pthread_mutex_lock(&c->mu);
    c->n = 0;
    c->bytes = 0;
    c->probes = 0;
    for (size_t i = 0; i < E2E_KEEP_MSGS; i++) {
        mf_msg_owned_free(c->kept[i]);
        c->kept[i] = NULL;
    }
    pthread_mutex_unlock(&c->mu);
}

/* ------------------------------------------------------------ cmocka test programs */

bool e2e_group_start(e2e_server *s, e2e_kind kind, size_t max_payload)
{
    signal(SIGPIPE, SIG_IGN);
    if (e2e_server_missing(kind))
        return false;
    return e2e_server_start(s, kind, max_payload);
}

mf_client *e2e_connect_url(const char *url, e2e_events *ev)
{
    const char *servers[] = {url};
    mf_client_opts o;
    e2e_opts(&o, servers, 1, ev);
    mf_client *c = e2e_connect(&o);
    assert_non_null(c);
    return c;
}

void e2e_pub_int(mf_client *c, const char *subject, int v)
{
    char b[32];
    int n = snprintf(b, sizeof b, "%d", v);
    assert_int_equal(mf_client_publish(c, subject, NULL, b, (size_t)n), MF_OK);
}
