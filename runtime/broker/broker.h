/*
 * broker.h - mf-broker internals shared by its modules.
 *
 *   config.c  command line -> mfb_broker_config (limits, --help)
 *   log.c     one-line logging to stderr
 *   outq.c    per-connection outbound byte queue (LWS_PRE headroom, coalescing)
 *   conn.c    the "nats" websocket protocol: connection lifecycle, receive,
 *             writeable, timers, protocol errors, CONNECT/PING/PONG
 *   route.c   subscriptions (per-connection sid table + global sublist),
 *             PUB/HPUB routing, queue groups, no-responders
 *   http.c    GET /healthz and /varz on the same port
 *   main.c    lws context, signals (signalfd), main loop, clean shutdown
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
#include "mf/sublist.h"

#define MF_BROKER_VERSION "0.1.0"
#define MF_BROKER_PROTOCOL "nats"
/* Bytes of queued protocol messages sent in one lws_write (one WebSocket frame). */
#define MF_BROKER_FRAME_MAX (64u * 1024u)

/* ---------------------------------------------------------------- config */

enum { MF_LOG_QUIET = 0, MF_LOG_INFO = 1, MF_LOG_DEBUG = 2 };

typedef struct mfb_broker_config {
    char host[256];
    int port;
    char server_name[128];
    size_t max_payload;        /* bytes of one message (PUB/HPUB total size) */
    size_t max_control;        /* bytes of one protocol control line */
    size_t max_connections;    /* websocket connections */
    size_t max_subs;           /* per connection, 0 = unlimited */
    size_t max_pending;        /* per-connection outbound bytes before "slow consumer" */
    size_t ws_max_message;     /* bytes of one reassembled websocket message */
    char *auth_token;          /* NULL = no authentication */
    char **origins;            /* allowed Origin values; none = any */
    size_t norigins;
    int handshake_timeout;     /* seconds: websocket upgrade, then CONNECT */
    int ping_interval;         /* seconds between server PINGs to an idle client */
    int max_pings_out;         /* unanswered PINGs before disconnecting */
    int log_level;
} mfb_broker_config;

/* 0: run; 1: exit 0 (--help / --version printed); 2: usage error (message printed to err). */
int mfb_broker_config_parse(mfb_broker_config *cfg, int argc, char **argv, FILE *out, FILE *err);
void mfb_broker_config_free(mfb_broker_config *cfg);

/* ---------------------------------------------------------------- log */

void mfb_log(int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void mfb_log_set_level(int level);
#define MF_LOGI(...) mfb_log(MF_LOG_INFO, __VA_ARGS__)
#define MF_LOGD(...) mfb_log(MF_LOG_DEBUG, __VA_ARGS__)
/* errors are logged even with --quiet */
#define MF_LOGE(...) mfb_log(MF_LOG_QUIET, __VA_ARGS__)

/* ---------------------------------------------------------------- outq */

/*
 * A byte queue of whole protocol messages. `buf.data[0, LWS_PRE)` is always
 * headroom, the unsent bytes are [head, buf.len). Writers append with the
 * mf_proto_write_* functions straight into `buf`, then call mfb_outq_commit so
 * the queue can remember message boundaries (coarsely: one mark per ~4 KiB),
 * which lets it cut frames at a message end and drop a backlog cleanly.
 */
typedef struct mfb_outq {
    mf_buf buf;
    size_t head;
    uint64_t head_abs;       /* stream offset of buf.data[head] */
    uint64_t last_mark;      /* stream offset of the newest mark */
    uint64_t *marks;         /* ring of stream offsets that end a message, ascending */
    size_t mfirst, mcount, mcap;
    bool mid_message;        /* the last frame ended inside a message */
} mfb_outq;

void mfb_outq_init(mfb_outq *q);
void mfb_outq_free(mfb_outq *q);
/* Makes sure the headroom exists and reclaims sent bytes; call before appending. */
mf_status mfb_outq_prepare(mfb_outq *q);
/* Records that buf.len now ends a message. */
void mfb_outq_commit(mfb_outq *q);
size_t mfb_outq_pending(const mfb_outq *q);
/* The next frame: up to `max` bytes, ending at a message boundary when one is in range. */
size_t mfb_outq_next_chunk(const mfb_outq *q, size_t max, bool *ends_message);
/* After a frame of n bytes went out. */
void mfb_outq_consume(mfb_outq *q, size_t n, bool ended_message);
/* Drops every queued message that has not started going out; returns bytes dropped. */
size_t mfb_outq_drop_unstarted(mfb_outq *q);

/* ---------------------------------------------------------------- broker state */

typedef struct mfb_conn mfb_conn;

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

typedef struct mfb_broker mfb_broker;

struct mfb_conn {
    mfb_broker *b;
    struct lws *wsi;
    uint64_t cid;
    char ip[64];
    time_t started;
    mf_proto_parser parser;
    mfb_outq out;
    /* CONNECT */
    bool connected;
    bool verbose, pedantic, headers, no_responders, echo;
    char name[MF_PROTO_STR_MAX];
    /* state */
    bool write_requested;
    bool closing;            /* flushing the queue, then close 1000 (input is read and discarded) */
    bool close_sent;         /* the close frame is handed to lws: waiting for the peer's close or EOF */
    bool slow;               /* cut off as a slow consumer */
    bool discard_over;       /* closing: more than the discard budget came in; reading stopped */
    const char *close_reason; /* for the log */
    const char *close_text;  /* reason text of the close frame (the -ERR text), NULL = none */
    size_t discarded;        /* bytes received and thrown away while closing (RECEIVE) */
    uint64_t close_rx_base;  /* the socket's received-bytes count when the close began */
    bool close_rx_known;     /* close_rx_base is valid (TCP_INFO worked) */
    lws_usec_t close_deadline; /* the close must be over by then */
    size_t ws_msg_bytes;     /* bytes of the websocket message being received */
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
    mf_sublist *sl;
    mf_sublist_result res;   /* reused by every publish */
    mf_sublist_result res2;  /* no-responders lookups */
    mfb_conn *conns;
    size_t nconns;
    uint64_t next_cid;
    char server_id[32];
    time_t started;
    uint64_t rng;
    /* counters (/varz) */
    uint64_t total_connections, in_msgs, out_msgs, in_bytes, out_bytes, slow_consumers, dropped_msgs;
    uint64_t stalls;         /* publisher pauses for a congested subscriber */
    /* shutdown */
    int sigfd;
    bool shutting_down;
    bool done;
    lws_sorted_usec_list_t grace_sul;
};

/* conn.c */
int mfb_broker_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
/* Queues "-ERR '<text>'" (when text != NULL), then flushes and closes with 1000, the text as
 * the close frame's reason; input is read and discarded until the peer's close (conn.c).
 * Idempotent. */
void mfb_conn_close(mfb_conn *c, const char *err_text, const char *reason);
/* Queues "-ERR '<text>'" without closing. */
void mfb_conn_send_err(mfb_conn *c, const char *text);
/* Asks lws for a WRITEABLE callback (once until it comes). */
void mfb_conn_want_write(mfb_conn *c);
/* Call after appending to c->out: commits the boundary, enforces max_pending, asks to write. */
void mfb_conn_queued(mfb_conn *c);
/* Starts the clean shutdown (from the service thread). */
void mfb_broker_begin_shutdown(mfb_broker *b);

/* route.c */
void mfb_route_sub(mfb_conn *c, const mf_proto_op *op);
void mfb_route_unsub(mfb_conn *c, const mf_proto_op *op);
void mfb_route_pub(mfb_conn *c, const mf_proto_op *op);
/* Removes and frees every subscription of c. */
void mfb_route_drop_conn(mfb_conn *c);
size_t mfb_route_total_subs(const mfb_broker *b);

/* http.c */
int mfb_broker_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

/* The per-session data lws allocates for both protocols (the same size, on purpose:
 * an HTTP connection that upgrades keeps its user space). */
typedef struct mfb_pss {
    mfb_conn *conn;       /* websocket */
    char *body;          /* http: response body waiting for HTTP_WRITEABLE */
    size_t body_len;
} mfb_pss;

mfb_broker *mfb_broker_from_wsi(struct lws *wsi);

#endif /* MF_BROKER_H */
