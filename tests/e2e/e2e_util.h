/*
 * e2e_util.h - helpers for end-to-end tests that start real processes
 * (nats-server, mf-broker) on free loopback ports, and small thread-safe
 * collectors for messages and client events.
 */
#ifndef MF_E2E_UTIL_H
#define MF_E2E_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mf/client.h"
#include "mf_skip.h" /* needs <cmocka.h> first, as every includer has */

/* ---- processes ---- */

/* Path of nats-server / mf-broker, or NULL when not available (tests then fail, or skip
 * with MF_ALLOW_SKIP=1). */
const char *e2e_nats_server_path(void);
const char *e2e_broker_path(void);

/* A free TCP port on 127.0.0.1 (bound then released). */
int e2e_free_port(void);
/* Waits until 127.0.0.1:port accepts TCP connections. */
bool e2e_wait_port(int port, int timeout_ms);
/* Waits until nothing listens on 127.0.0.1:port any more. */
bool e2e_wait_port_closed(int port, int timeout_ms);
/* fork+exec argv with stdout/stderr appended to logfile; the child dies with the test. */
pid_t e2e_spawn(char *const argv[], const char *logfile);
/* Sends sig and reaps the process. */
void e2e_kill(pid_t pid, int sig);
/* Creates a private temporary directory (removed by e2e_rmdir). */
bool e2e_mkdtemp(char *out, size_t cap);
void e2e_rmdir(const char *dir);
int64_t e2e_now_ms(void);
void e2e_sleep_ms(int ms);

/* A nats-server with a websocket listener (and optionally a cluster block). */
typedef struct e2e_nats {
    pid_t pid;
    int ws_port;
    int cluster_port;
    char dir[256];
    char conf[320];
    char log[320];
    char url[64];   /* ws://127.0.0.1:<ws_port> (wss:// with TLS) */
    char tls_cert[300], tls_key[300]; /* set before start for a TLS websocket listener */
} e2e_nats;

/* extra: more configuration text (may be NULL). Fills ports when 0. */
bool e2e_nats_start(e2e_nats *n, const char *extra);
/* Starts again with the same configuration (same ports). */
bool e2e_nats_restart(e2e_nats *n);
void e2e_nats_stop(e2e_nats *n, int sig);
void e2e_nats_cleanup(e2e_nats *n);

/* Writes a self-signed certificate for 127.0.0.1 (cert.pem, key.pem in dir) with the
 * openssl command; false if that is not possible. */
bool e2e_make_cert(const char *dir, char *cert, size_t ccap, char *key, size_t kcap);

/* A 3-node nats-server cluster on loopback, each node with a websocket port. */
typedef struct e2e_cluster {
    e2e_nats node[3];
} e2e_cluster;
bool e2e_cluster_start(e2e_cluster *cl);
void e2e_cluster_stop(e2e_cluster *cl);

/* mf-broker on a free port. */
typedef struct e2e_broker {
    pid_t pid;
    int port;
    char dir[256];
    char log[320];
    char url[64];
} e2e_broker;
bool e2e_broker_start(e2e_broker *b, const char *const *extra_args);
bool e2e_broker_restart(e2e_broker *b, const char *const *extra_args);
void e2e_broker_stop(e2e_broker *b, int sig);
void e2e_broker_cleanup(e2e_broker *b);

/* Either kind of server, for tests that run against both. */
typedef enum e2e_kind { E2E_NATS = 1, E2E_BROKER = 2 } e2e_kind;
typedef struct e2e_server {
    e2e_kind kind;
    e2e_nats nats;
    e2e_broker broker;
    const char *url;
    size_t max_payload;
    char arg[64];
    char arg2[128];
    const char *args[3];
} e2e_server;
/* NULL when the server binary is available, else why not (for skip messages). */
const char *e2e_server_missing(e2e_kind kind);
/* max_payload 0 = the server's default. */
bool e2e_server_start(e2e_server *s, e2e_kind kind, size_t max_payload);
/* With token authentication (token may be NULL). */
bool e2e_server_start_ex(e2e_server *s, e2e_kind kind, size_t max_payload, const char *token);
bool e2e_server_restart(e2e_server *s);
/* kill(pid, sig) without reaping (SIGSTOP / SIGCONT). */
void e2e_server_signal(e2e_server *s, int sig);
void e2e_server_kill(e2e_server *s);
void e2e_server_cleanup(e2e_server *s);

/* ---- collectors ---- */

/* The deadline of a wait for something that must happen (a message, an event, a flush):
 * generous, because the machine may be loaded; a wait returns as soon as it is met. */
#define E2E_WAIT_MS 15000

#define E2E_MAX_MSGS 200000
#define E2E_KEEP_MSGS 8 /* the first messages are kept whole (headers included) */

typedef struct e2e_col {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t n;
    uint64_t bytes;
    int *vals;          /* integer payloads (atoi), E2E_MAX_MSGS entries */
    char last_subject[256];
    char last_reply[256];
    char last_data[256];
    int last_status;
    mf_msg_owned *kept[E2E_KEEP_MSGS]; /* copies of the first E2E_KEEP_MSGS messages */
    size_t probes;      /* e2e_wait_interest's probes: counted here only, not in n */
    int cb_errors;      /* a respond or copy the callback could not do */
    bool respond;       /* respond with "re:<data>" to messages with a reply */
    const char *respond_prefix;
} e2e_col;

/* Fails the running test when the vals array cannot be allocated. */
void e2e_col_init(e2e_col *c);
/* Fails the running test when the callback met an error (cb_errors), then frees. */
void e2e_col_free(e2e_col *c);
/* mf_msg_cb: ctx is an e2e_col */
void e2e_col_cb(mf_client *cl, const mf_msg *m, void *ctx);
bool e2e_col_wait(e2e_col *c, size_t n, int timeout_ms);
size_t e2e_col_count(e2e_col *c);
void e2e_col_reset(e2e_col *c);

typedef struct e2e_events {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int count[16];
    uint64_t dropped_msgs;
    char last_url[256];
    char last_error[256];
    mf_status last_error_status; /* of the last ERROR event */
    int errors_by_status[64];    /* ERROR events per mf_status (index < 64) */
    mf_status closed_status;     /* of the CLOSED event */
} e2e_events;

void e2e_events_init(e2e_events *e);
void e2e_events_free(e2e_events *e);
/* mf_client_event_cb: ctx is an e2e_events */
void e2e_events_cb(mf_client *c, const mf_client_event *ev, void *ctx);
bool e2e_events_wait(e2e_events *e, mf_client_event_type t, int count, int timeout_ms);
int e2e_events_count(e2e_events *e, mf_client_event_type t);
/* Waits until DROPPED events reported at least msgs messages in all. */
bool e2e_events_wait_dropped(e2e_events *e, uint64_t msgs, int timeout_ms);
/* The number of ERROR events with status st. */
int e2e_events_errors(e2e_events *e, mf_status st);
/* A consistent copy of e's counters and texts (its mutex and condition are not copied). */
void e2e_events_snapshot(e2e_events *e, e2e_events *out);

/* ---- async requests: one e2e_reply per request, as its ctx ---- */

typedef struct e2e_reply_set {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done; /* completions of the replies that point here */
} e2e_reply_set;

/* The outcome of one mf_client_request_async, recorded by e2e_reply_cb on the service thread;
 * read it after e2e_reply_set_wait. */
typedef struct e2e_reply {
    e2e_reply_set *set;
    int calls;            /* completions: exactly 1 when all is well */
    mf_status st;
    char data[64];        /* the reply's payload (truncated); "" when none */
    bool on_service_thread;
} e2e_reply;

void e2e_reply_set_init(e2e_reply_set *s);
void e2e_reply_set_free(e2e_reply_set *s);
/* mf_reply_cb: ctx is an e2e_reply whose set is initialised */
void e2e_reply_cb(mf_client *c, mf_status st, const mf_msg *reply, void *ctx);
/* Waits until n completions were recorded in s (or timeout_ms passed). */
bool e2e_reply_set_wait(e2e_reply_set *s, int n, int timeout_ms);

/* Options for tests: one or more servers, fast reconnects, quiet logs, events to ev (may be NULL). */
void e2e_opts(mf_client_opts *o, const char *const *servers, size_t n, e2e_events *ev);
/* A client of a server url where nobody listens (it keeps trying, once a second); the test fails
 * if it cannot be created. For the checks a client makes before any connection. */
mf_client *e2e_offline_client(void);
/* Creates and waits for the connection; NULL on failure. */
mf_client *e2e_connect(const mf_client_opts *o);

/* Publishes probes (payload E2E_PROBE) on subject until `col` got one (interest propagated,
 * e.g. across routes). Probes still on their way count in col->probes, never in col->n. */
#define E2E_PROBE "e2e-interest-probe"
bool e2e_wait_interest(mf_client *pub, const char *subject, e2e_col *col, int timeout_ms);

/* A barrier (fails the running cmocka test when a flush fails): when it returns, every
 * message `pub` published before the call has been routed by the server, and every message
 * the server routed to `sub` before that has been handed to sub's callbacks (a flush is a
 * PING answered after what the server already queued, and sub's callbacks run, in order,
 * before its PONG is handled). pub and sub may be the same client. */
void e2e_barrier(mf_client *pub, mf_client *sub);

/* ---- cmocka test programs that share one server ---- */

/* The max_payload of the server the test_client_<theme> programs share (test_max_payload
 * checks that the client sees it). */
#define E2E_SHARED_MAX_PAYLOAD 65536

/* For a cmocka group setup: ignores SIGPIPE (a write to a server a test killed must fail,
 * not end the program) and starts a server of `kind` unless its binary is missing. Returns
 * whether it is up; the group setup itself always succeeds, so that each test fails (or
 * skips) on its own (E2E_REQUIRE_SERVER) with the reason. */
bool e2e_group_start(e2e_server *s, e2e_kind kind, size_t max_payload);

/* At the top of a cmocka test (expanded after #include <cmocka.h>): fails with the reason
 * when the server binary is missing (skips instead, exit 77, when MF_ALLOW_SKIP=1: see
 * mf_skip.h), fails when it is installed but did not start. */
#define E2E_REQUIRE_SERVER(kind, up)                                                                       \
    do {                                                                                                   \
        const char *why_ = e2e_server_missing(kind);                                                       \
        if (why_)                                                                                          \
            mf_skip_or_fail("%s", why_);                                                                   \
        assert_true(up);                                                                                   \
    } while (0)

/* e2e_opts for the one server url (events to ev, may be NULL), then e2e_connect; fails the
 * running cmocka test when it cannot connect. */
mf_client *e2e_connect_url(const char *url, e2e_events *ev);
/* Publishes v as its decimal text (what e2e_col_cb stores in vals); fails the running
 * cmocka test unless the client accepts it. */
void e2e_pub_int(mf_client *c, const char *subject, int v);

#endif
