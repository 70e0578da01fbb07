/*
 * broker.h - mf-broker internals shared by its modules.
 *
 *   config.c  command line (and environment) -> mfb_broker_config, --help
 *   log.c     one-line logging to stderr
 *   frameq.c  per-connection outbound queue: frames written in place (headroom
 *             for their headers), cut at message boundaries, which it marks for
 *             coalescing, dropping a backlog and counting (why it is not the
 *             client's queue: mf/reclaim.h)
 *   conn.c    one connection's life on an lws raw socket: accept, the budget of
 *             connections still connecting, timers, writing, the lingering close
 *   recv.c    bytes in: the HTTP request head, then WebSocket frames (mf/ws.h)
 *             whose data goes to the NATS parser
 *   ops.c     NATS operations: CONNECT (authentication), PING/PONG, errors
 *   route.c   subscriptions (per-connection sid table + global sublist),
 *             PUB/HPUB routing, queue groups, no-responders
 *   http.c    the HTTP side of the port: the WebSocket upgrade, GET /healthz, /varz
 *   main.c    lws context, TLS, signals (signalfd), main loop, clean shutdown
 *   sched.c   the service thread's scheduling hint (a short slice: woken, it runs at once)
 *
 * libwebsockets carries bytes only (sockets, TLS, the event loop, timers): every
 * accepted socket is an lws "raw" connection, and the HTTP upgrade and the
 * WebSocket framing are mflow's own (runtime/ws/), because lws 4.1 lets through
 * frames RFC 6455 says must be refused (docs/broker.md, "WebSocket").
 *
 * Internal names use the mfb_ prefix (the runtime library owns mf_).
 * Everything runs on the single lws service thread; nothing here is shared
 * with another thread, so there are no locks.
 */
#ifndef MF_BROKER_H
#define MF_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <libwebsockets.h>

#include "mf/buf.h"
#include "mf/proto.h"
#include "mf/status.h"
#include "broker/sublist.h"
#include "mf/ws.h"

#define MF_BROKER_VERSION "0.1.0"
#define MF_BROKER_PROTOCOL "nats"
/* Bytes of queued protocol messages sent in one lws_write (one WebSocket frame). */
#define MF_BROKER_FRAME_MAX (64u * 1024u)

/* ---------------------------------------------------------------- config */

enum { MFB_LOG_QUIET = 0, MFB_LOG_INFO = 1, MFB_LOG_DEBUG = 2 };

typedef struct mfb_accounts mfb_accounts; /* accounts.c */
typedef struct mfb_conn mfb_conn;
typedef struct mfb_broker mfb_broker;

typedef struct mfb_broker_config {
    char host[256];
    int port;
    char server_name[128];
    size_t max_payload;        /* bytes of one message (PUB/HPUB total size) */
    size_t max_control;        /* bytes of one protocol control line */
    size_t max_connections;    /* websocket connections */
    size_t max_connecting;     /* sockets that have not completed CONNECT yet (oldest evicted beyond) */
    size_t max_subs;           /* per connection, 0 = unlimited */
    size_t max_pending;        /* per-connection outbound bytes before "slow consumer" */
    size_t ws_max_message;     /* bytes of one websocket message (all its frames) */
    char *auth_token;          /* NULL = no token */
    char *config_file;         /* --config: the accounts file, NULL = none */
    mfb_accounts *accounts;    /* loaded from config_file (auth.c), NULL = none */
    char *tls_cert, *tls_key;  /* PEM files; both or neither (wss://) */
    char **origins;            /* allowed Origin values; none = any */
    size_t norigins;
    int handshake_timeout;     /* seconds: TLS + HTTP upgrade */
    int auth_timeout;          /* seconds from the upgrade to a successful CONNECT */
    int ping_interval;         /* seconds between server PINGs to an idle client */
    int max_pings_out;         /* unanswered PINGs before disconnecting */
    int log_level;
} mfb_broker_config;

/* The kinds of option values (config.c). */
typedef enum mfb_opt_kind {
    MFB_OPT_SIZE,   /* size_t: digits with an optional K, M or G suffix, within [lo, hi] */
    MFB_OPT_INT,    /* int within [lo, hi] */
    MFB_OPT_STR,    /* owned char * (server_name: the fixed array) of lo..hi bytes */
    MFB_OPT_FILE,   /* owned char *: a path, not empty */
    MFB_OPT_HOST,   /* the host array: an address or a host name */
    MFB_OPT_ORIGIN, /* one more entry of origins (repeatable) */
    MFB_OPT_LOG,    /* no value: log_level = lo */
    MFB_OPT_ACTION  /* no value: --help, --version, --hash-password do their job and exit */
} mfb_opt_kind;

/* One command-line option: the parser, --help, the defaults and the environment all come
 * from the table mfb_options (config.c). */
typedef struct mfb_option {
    const char *name;     /* "--max-payload" */
    const char *alias;    /* "-q", or NULL */
    const char *arg;      /* the value's name in --help ("BYTES"); NULL for LOG and ACTION */
    mfb_opt_kind kind;
    size_t off;           /* offsetof the member of mfb_broker_config it sets */
    long long lo, hi;     /* SIZE/INT bounds; STR length bounds; LOG: the level */
    const char *def;      /* default as written on the command line, applied through the same
                           * checks before anything else; NULL = none or derived (def_text) */
    const char *def_text; /* what --help says the default is when def is NULL (derived), or NULL */
    const char *env;      /* environment variable read like the flag (a flag wins), or NULL */
    bool secret;          /* never echo a refused value */
    const char *help;
} mfb_option;

extern const mfb_option mfb_options[];
extern const size_t mfb_noptions;

/* Writes --help (every option of mfb_options with its default and variable) to out. */
void mfb_broker_config_usage(FILE *out);

/*
 * Parses the command line (and MF_BROKER_AUTH_TOKEN, MF_BROKER_TLS_CERT,
 * MF_BROKER_TLS_KEY from the environment, checked like their flags) and loads
 * the --config file. 0: run; 1: exit 0 (--help, --version, --hash-password done,
 * output in out); 2: usage or configuration error (message printed to err).
 */
int mfb_broker_config_parse(mfb_broker_config *cfg, int argc, char **argv, FILE *out, FILE *err);
void mfb_broker_config_free(mfb_broker_config *cfg);
/* Is authentication required (a token or accounts)? */
bool mfb_auth_required(const mfb_broker_config *cfg);

/* ---------------------------------------------------------------- log */

void mfb_log(int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void mfb_log_set_level(int level);
#define MFB_LOGI(...) mfb_log(MFB_LOG_INFO, __VA_ARGS__)
#define MFB_LOGD(...) mfb_log(MFB_LOG_DEBUG, __VA_ARGS__)
/* errors are logged even with --quiet */
#define MFB_LOGE(...) mfb_log(MFB_LOG_QUIET, __VA_ARGS__)

/* ---------------------------------------------------------------- scheduling (sched.c) */

/* Asks the kernel for a short scheduler slice for the calling thread (the service
 * thread), so that it runs as soon as it wakes rather than after the running task's
 * slice; nice and CPU share are unchanged. Best effort: logged at debug level. */
void mfb_sched_latency_hint(void);
/* Gives the calling thread the default slice back (threads inherit the hint). */
void mfb_sched_default(void);

/* ---------------------------------------------------------------- frameq */

/*
 * A byte queue of whole protocol messages, sent as WebSocket frames straight from
 * its buffer. `buf.data[0, LWS_PRE)` is always headroom and in front of `head`
 * there are always at least LWS_PRE bytes that are headroom or already sent, so
 * a frame header can be written right in front of the bytes it carries. The
 * unsent bytes are [head, buf.len). Writers append with the mf_proto_write_*
 * functions straight into `buf`, then call mfb_frameq_commit so the queue can
 * remember message boundaries (coarsely: one mark per ~4 KiB), which lets it cut
 * frames at a message end, drop a backlog cleanly, and count the MSGs and
 * payload bytes that actually went out. Unlike the client's queue (mf/reclaim.h
 * says why there are two), nothing in it is ever sent twice.
 */
typedef struct mfb_frameq_mark {
    uint64_t off;            /* stream offset just past a message */
    uint64_t msgs, pbytes;   /* MSG records and their payload bytes up to there */
} mfb_frameq_mark;

typedef struct mfb_frameq {
    mf_buf buf;
    size_t head;
    uint64_t head_abs;       /* stream offset of buf.data[head] */
    uint64_t last_mark;      /* stream offset of the newest mark */
    mfb_frameq_mark *marks;  /* ring of marks, ascending */
    size_t mfirst, mcount, mcap;
    bool mid_message;        /* the last frame ended inside a message */
    uint64_t msgs, pbytes;   /* MSG records / payload bytes committed so far */
    uint64_t msgs_out, pbytes_out; /* ... of which fully sent */
    mfb_frameq_mark chunk_end; /* the boundary the chunk from next_chunk ends at */
} mfb_frameq;

void mfb_frameq_init(mfb_frameq *q);
void mfb_frameq_free(mfb_frameq *q);
/* Makes sure the headroom exists and reclaims sent bytes; call before appending. */
mf_status mfb_frameq_prepare(mfb_frameq *q);
/* Records that buf.len now ends a message: `msg` says whether it was a MSG/HMSG
 * (counted in /varz out_msgs when it goes out) with `pbytes` payload bytes. */
void mfb_frameq_commit(mfb_frameq *q, bool msg, uint64_t pbytes);
size_t mfb_frameq_pending(const mfb_frameq *q);
/* The next frame: up to `max` bytes, ending at a message boundary when one is in range. */
size_t mfb_frameq_next_chunk(mfb_frameq *q, size_t max, bool *ends_message);
/* After a frame of n bytes went out; adds the MSGs / payload bytes it completed. */
void mfb_frameq_consume(mfb_frameq *q, size_t n, bool ended_message, uint64_t *msgs, uint64_t *pbytes);
/* Drops every queued message that has not started going out; returns bytes dropped,
 * and the MSGs among them in *msgs. */
size_t mfb_frameq_drop_unstarted(mfb_frameq *q, uint64_t *msgs);
/* MSGs committed but not (fully) sent. */
uint64_t mfb_frameq_unsent_msgs(const mfb_frameq *q);

/* ---------------------------------------------------------------- accounts */

typedef struct mfb_user mfb_user;
struct mfb_auth_worker;
struct crypt_data;

/* accounts.c: loads and checks an accounts file; NULL with a message in err (path and JSON pointer). */
mfb_accounts *mfb_accounts_load(const char *path, char *err, size_t errsz);
/* Stops the worker thread (if any) and frees everything. NULL-safe. */
void mfb_accounts_free(mfb_accounts *a);
size_t mfb_accounts_count(const mfb_accounts *a);
const mfb_user *mfb_accounts_user(const mfb_accounts *a, size_t i);
const mfb_user *mfb_accounts_find_login(const mfb_accounts *a, const char *login);
struct mfb_auth_worker **mfb_accounts_worker_slot(mfb_accounts *a);
const char *mfb_user_name(const mfb_user *u);
bool mfb_user_is_token(const mfb_user *u);
/* Does the secret (password or token) match the user's hash? Costs a bcrypt (any thread). */
bool mfb_user_check_secret(const mfb_user *u, const char *secret, struct crypt_data *cd);
/* Permissions: may this user publish to / subscribe to the subject? (NULL user: yes) */
bool mfb_user_may_publish(const mfb_user *u, const char *subject, size_t len);
bool mfb_user_may_subscribe(const mfb_user *u, const char *subject, size_t len, const char *queue);
/* May a message on this subject reach the user (its subscribe deny list)? */
bool mfb_user_may_receive(const mfb_user *u, const char *subject, size_t len);
/* Does the user get the reply permission (allow_responses) for requests it receives? */
bool mfb_user_allow_responses(const mfb_user *u, uint64_t *max_msgs, int *expires_ms);
/* "$2b$11$..." (bcrypt) for a password; NULL with a message on failure. Free with free(). */
char *mfb_hash_password(const char *password, char *err, size_t errsz);

/* authwork.c: the CONNECT of c with credentials cn. 0: decided now (*user, NULL = refused);
 * 1: queued to the worker (mfb_ops_auth_done follows); -1: no credentials given. */
int mfb_auth_begin(mfb_conn *c, const mf_proto_connect *cn, const mfb_user **user);
/* Service thread (EVENT_WAIT_CANCELLED): finishes the CONNECTs the worker has checked. */
void mfb_auth_poll(mfb_broker *b);
/* Joins the worker thread; call before the lws context is destroyed. */
void mfb_auth_worker_stop(mfb_accounts *a);
void mfb_auth_worker_free(struct mfb_auth_worker *w);

/* ---------------------------------------------------------------- broker state */

typedef struct mfb_sub {
    mfb_conn *conn;
    char *subject;
    size_t subject_len;
    char *queue;         /* NULL = plain */
    char *sid;
    size_t sid_len;
    uint64_t delivered;
    uint64_t max;        /* 0 = unlimited (auto-unsubscribe after max deliveries) */
    struct mfb_sub *next; /* chain in the connection's sid table */
} mfb_sub;

/* A reply subject a connection may publish to once (allow_responses), from a request it got. */
typedef struct mfb_resp {
    char *subject;
    size_t len;
    uint64_t left;        /* publishes still allowed */
    lws_usec_t expires;   /* 0 = never */
    struct mfb_resp *next;
} mfb_resp;

typedef enum mfb_phase {
    MFB_PHASE_HTTP = 0,   /* reading the HTTP request head */
    MFB_PHASE_REPLY,      /* answering a plain HTTP request (or refusing an upgrade), then closing */
    MFB_PHASE_WS          /* a WebSocket connection */
} mfb_phase;

struct mfb_conn {
    mfb_broker *b;
    struct lws *wsi;
    uint64_t cid;
    char ip[64];
    time_t started;
    mfb_phase phase;
    mf_buf http;             /* HTTP_PHASE: the request head so far; REPLY: the response to write */
    size_t http_sent;
    mf_ws_parser ws;
    mf_proto_parser parser;
    mfb_frameq out;
    /* pending control frame: the pong for the last ping */
    unsigned char pong[MF_WS_MAX_CONTROL];
    size_t pong_len;
    bool pong_pending;
    /* CONNECT */
    bool counted_connecting; /* counted in b->nconnecting (not yet CONNECTed, not evicted) */
    bool counted_ws;         /* counted in b->nws */
    bool connected;
    bool verbose, pedantic, headers, no_responders, echo;
    char name[MF_PROTO_STR_MAX];
    const mfb_user *user;    /* accounts: who this is (NULL: no accounts) */
    bool auth_pending;       /* the worker checks the CONNECT's credentials; input paused */
    mfb_resp *resps;         /* reply subjects this connection may publish to */
    /* state */
    bool write_requested;
    bool closing;            /* flushing the queue, then our close frame */
    bool close_sent;         /* our close frame is written: waiting for the peer's */
    bool peer_closed;        /* the peer's close frame came: ours goes out, then the socket closes */
    bool finishing;          /* everything is written: close the socket at the next WRITEABLE */
    bool slow;               /* cut off as a slow consumer */
    bool discard_over;       /* closing: more than the discard budget came in */
    const char *close_reason; /* for the log */
    unsigned close_code;     /* our close frame's status */
    const char *close_text;  /* reason text of our close frame, NULL = none */
    char close_buf[64];      /* storage for a close_text made up here */
    size_t discarded;        /* bytes received and thrown away while closing */
    lws_usec_t close_deadline; /* the close must be over by then */
    int pings_out;
    bool activity;           /* bytes received since the last timer tick */
    bool congested;          /* this input chunk filled some subscriber past the stall mark */
    bool stalled;            /* reading paused for a moment (publisher backpressure) */
    lws_sorted_usec_list_t stall_sul;
    /* subscriptions by sid */
    mfb_sub **sids;
    size_t nsids_buckets, nsubs;
    /* stats */
    uint64_t in_msgs, out_msgs, in_bytes, out_bytes;
    mfb_conn *prev, *next;
};

struct mfb_broker {
    mfb_broker_config *cfg;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    mfb_sublist *sl;
    mfb_sublist_result res;   /* reused by every publish */
    mfb_sublist_result res2;  /* no-responders lookups */
    mfb_conn *conns;         /* newest first */
    size_t nconns;           /* sockets, any phase */
    size_t nws;              /* websocket connections (--max-connections) */
    size_t nconnecting;      /* sockets that have not completed CONNECT (--max-connecting) */
    uint64_t next_cid;
    char server_id[32];
    time_t started;
    uint64_t rng;
    /* counters (/varz) */
    uint64_t total_connections, in_msgs, out_msgs, in_bytes, out_bytes, slow_consumers, dropped_msgs;
    uint64_t stalls;         /* publisher pauses for a congested subscriber */
    uint64_t evicted;        /* connecting sockets closed to make room (--max-connecting) */
    uint64_t auth_failures;  /* CONNECTs refused (Authorization Violation, Authentication Timeout) */
    uint64_t permission_violations;
    /* shutdown */
    int sigfd;
    bool shutting_down;
    bool done;
    lws_sorted_usec_list_t grace_sul;
};

/* conn.c */
int mfb_broker_raw_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
/* Queues "-ERR '<text>'" (when text != NULL), then flushes and closes with 1000, the text as
 * the close frame's reason; input is read and discarded until the peer's close. Idempotent. */
void mfb_conn_close(mfb_conn *c, const char *err_text, const char *reason);
/* The same with a WebSocket status and reason and no -ERR (a WebSocket-level error). */
void mfb_conn_close_ws(mfb_conn *c, unsigned code, const char *text, const char *reason);
/* Queues "-ERR '<text>'" without closing. */
void mfb_conn_send_err(mfb_conn *c, const char *text);
/* +OK when the client asked for verbose mode (and the connection is not closing). */
void mfb_conn_send_ok(mfb_conn *c);
/* Asks lws for a WRITEABLE callback (once until it comes). */
void mfb_conn_want_write(mfb_conn *c);
/* Call after appending to c->out: commits the boundary, enforces max_pending, asks to write.
 * msg/pbytes: a MSG/HMSG record and its payload bytes (/varz counts them when sent). */
void mfb_conn_queued(mfb_conn *c, bool msg, uint64_t pbytes);
/* The WebSocket upgrade was accepted (http.c): counts it, queues INFO, arms the CONNECT timer. */
void mfb_conn_upgraded(mfb_conn *c);
/* CONNECT succeeded: no longer counted as connecting; the ping timer starts. */
void mfb_conn_connected(mfb_conn *c);
/* Drops the connection now, without a close handshake. */
void mfb_conn_drop(mfb_conn *c);
/* Closes the socket once what lws still buffers is out (TLS: with a close_notify).
 * 0, or -1 when the caller (a callback of this connection) is to return -1 now. */
int mfb_conn_finish(mfb_conn *c);
/* Arms the connection's timer for its phase. */
void mfb_conn_arm_timer(mfb_conn *c);
/* Starts the clean shutdown (from the service thread). */
void mfb_broker_begin_shutdown(mfb_broker *b);

/* recv.c */
/* RAW_RX: bytes from the socket (writable: WebSocket data is unmasked in place). 0, or -1 to close now. */
int mfb_conn_receive(mfb_conn *c, unsigned char *in, size_t len);

/* ops.c */
/* One NATS operation from the client. */
void mfb_ops_handle(mfb_conn *c, const mf_proto_op *op);
/* Handles the operations buffered in c's parser (stops when closing or authenticating). */
void mfb_ops_run(mfb_conn *c);
/* The worker's answer for a CONNECT (user NULL: refused). */
void mfb_ops_auth_done(mfb_conn *c, const mf_proto_connect *cn, const mfb_user *user);
/* The NATS parser refused the input: the nats-server text, then close. */
void mfb_ops_protocol_error(mfb_conn *c, const mf_error *err);

/* route.c */
void mfb_route_sub(mfb_conn *c, const mf_proto_op *op);
void mfb_route_unsub(mfb_conn *c, const mf_proto_op *op);
void mfb_route_pub(mfb_conn *c, const mf_proto_op *op);
/* Removes and frees every subscription (and reply permission) of c. */
void mfb_route_drop_conn(mfb_conn *c);
size_t mfb_route_total_subs(const mfb_broker *b);

/* http.c */
/* A complete request head is in c->http (head_len bytes): upgrade or answer. */
void mfb_http_request(mfb_conn *c, const mf_ws_request *req);
/* Queues an HTTP response (then the connection closes); status 0 = just close. */
void mfb_http_reply(mfb_conn *c, int status, const char *body);

/* The per-session data lws allocates for the raw protocol. */
typedef struct mfb_pss {
    mfb_conn *conn;
} mfb_pss;

mfb_broker *mfb_broker_from_wsi(struct lws *wsi);

#endif /* MF_BROKER_H */
