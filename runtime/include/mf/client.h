/*
 * mf/client.h - the NATS-protocol client over WebSocket (libwebsockets).
 *
 * One mf_client is one logical connection to a NATS server (nats-server with a
 * `websocket {}` listener, or mf-broker), reached at ws://host:port[/path] or
 * wss://host:port[/path]. It reconnects by itself, rotating through the
 * configured servers and the ones the server advertises (INFO connect_urls).
 *
 * Threads
 *   Each client owns ONE service thread; it is the only thread that calls
 *   libwebsockets. Every public function may be called from any thread unless
 *   stated otherwise. Functions that block (wait_connected, flush, drain,
 *   request) return MF_ERR_INVALID_ARG when called on the service thread (that
 *   is: from inside a callback of this client), because they would wait for
 *   that very thread.
 *   ALL callbacks (message handlers, async replies, events, logs emitted by the
 *   service thread) run on the service thread, one at a time, in order. They
 *   must not block for long: while one runs, nothing is read or written. They
 *   may call publish, subscribe, unsubscribe, request_async and respond.
 *   mf_client_destroy must not be called from a callback.
 *
 * Ownership
 *   The client copies everything it keeps (options, subjects, payloads).
 *   A `const mf_msg *` handed to a callback points into the client's receive
 *   buffer and is valid only until the callback returns: copy what you keep
 *   (mf_msg_copy). An mf_msg_owned returned by mf_client_request belongs to the
 *   caller: free it with mf_msg_owned_free.
 *
 * Delivery is NATS core: at most once. Publishes are queued and written by the
 * service thread; while disconnected they are buffered (bounded by
 * pending_limit) and sent after the reconnect, after the subscriptions have been
 * re-established. See docs/client.md.
 *
 * Errors: functions return an mf_status (mf/status.h). The common ones:
 *   MF_ERR_INVALID_ARG     NULL / invalid subject / called on the service thread
 *   MF_ERR_CLOSED          the client is closed or draining
 *   MF_ERR_FULL            the outbound (or, while disconnected, pending) buffer is full
 *   MF_ERR_PAYLOAD_TOO_BIG larger than the server's max_payload
 *   MF_ERR_TIMEOUT         a wait timed out
 *   MF_ERR_NO_RESPONDERS   a request reached no subscriber (server answered status 503)
 *   MF_ERR_NOMEM           allocation failed
 */
#ifndef MF_CLIENT_H
#define MF_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mf_client mf_client;

/* ---------------------------------------------------------------- messages */

/*
 * A received message. Strings are NUL-terminated; `reply` is NULL when the
 * message has no reply subject; `headers` is NULL for a plain MSG, else the raw
 * header block ("NATS/1.0[ <status>[ <text>]]\r\n<Name>: <value>\r\n...\r\n\r\n").
 * `data` is followed by a NUL byte (not counted in len), so a JSON payload can
 * be handed to a parser as is.
 */
typedef struct mf_msg {
    const char *subject;
    size_t subject_len;
    const char *reply;        /* NULL when absent */
    size_t reply_len;
    const void *data;         /* never NULL (points to "" when len == 0) */
    size_t len;
    const char *headers;      /* NULL when absent; not NUL-terminated */
    size_t headers_len;
    int status;               /* status code of the header line ("NATS/1.0 503" -> 503); 0 if none */
    uint64_t sid;             /* the subscription it was delivered to (0 for owned copies) */
} mf_msg;

/* A heap copy of a message: `msg` points into the same allocation. */
typedef struct mf_msg_owned {
    mf_msg msg;
} mf_msg_owned;

/* A header to publish. Names: visible ASCII without ':'; values: no CR/LF. */
typedef struct mf_header {
    const char *name;
    const char *value;
} mf_header;

/*
 * The first value of header `name` (case-insensitive) in msg, not NUL-terminated,
 * its length in *len; NULL when absent (or when msg has no headers).
 */
const char *mf_msg_header(const mf_msg *msg, const char *name, size_t *len);
/* Deep copy into one allocation. MF_ERR_NOMEM / MF_ERR_INVALID_ARG. */
mf_status mf_msg_copy(const mf_msg *msg, mf_msg_owned **out);
/* NULL is fine. */
void mf_msg_owned_free(mf_msg_owned *m);

/* Called on the service thread for each message of a subscription. */
typedef void (*mf_msg_cb)(mf_client *c, const mf_msg *msg, void *ctx);

/*
 * Called on the service thread exactly once per accepted mf_client_request_async:
 * st == MF_OK with the reply (valid during the call only), or st ==
 * MF_ERR_TIMEOUT / MF_ERR_NO_RESPONDERS / MF_ERR_CLOSED with reply == NULL.
 */
typedef void (*mf_reply_cb)(mf_client *c, mf_status st, const mf_msg *reply, void *ctx);

/* ------------------------------------------------------------------ events */

typedef enum mf_client_event_type {
    MF_CLIENT_CONNECTED = 1,     /* first connection ready (CONNECT accepted, PONG received) */
    MF_CLIENT_DISCONNECTED,      /* an established connection was lost; reconnecting follows */
    MF_CLIENT_RECONNECTED,       /* ready again; subscriptions re-sent, buffered publishes follow */
    MF_CLIENT_CLOSED,            /* final: drained, destroyed, reconnect attempts exhausted or disabled */
    MF_CLIENT_ERROR,             /* -ERR from the server (text), protocol or connection errors */
    MF_CLIENT_DROPPED,           /* publishes lost while disconnected: msgs/bytes since the last DROPPED */
    MF_CLIENT_SERVER_DISCOVERED  /* a server from INFO connect_urls was added to the pool (url) */
} mf_client_event_type;

typedef struct mf_client_event {
    mf_client_event_type type;
    mf_status status;   /* ERROR: MF_ERR_SERVER / MF_ERR_AUTH / MF_ERR_PROTOCOL / MF_ERR_IO ...;
                           CLOSED: why (MF_OK when asked to close) */
    const char *text;   /* ERROR: the server's -ERR text or a description; "" otherwise */
    const char *url;    /* the server concerned (connected/discovered/lost); "" when none */
    uint64_t msgs;      /* DROPPED */
    uint64_t bytes;     /* DROPPED */
} mf_client_event;

/* Called on the service thread. Pointers in ev are valid during the call only. */
typedef void (*mf_client_event_cb)(mf_client *c, const mf_client_event *ev, void *ctx);

/*
 * Called on the service thread after the messages of one read from the connection have all
 * been delivered to their callbacks (not called when a read delivered none). Every message
 * delivered since the previous call had arrived before the first of them was delivered: a
 * service may share work between them, e.g. one database read transaction per read (ended
 * here, so that nothing stays open while the connection is idle). Must not block.
 */
typedef void (*mf_client_input_cb)(mf_client *c, void *ctx);

typedef enum mf_log_level {
    MF_LOG_NONE = 0,
    MF_LOG_ERROR = 1,
    MF_LOG_WARN = 2,
    MF_LOG_INFO = 3,
    MF_LOG_DEBUG = 4
} mf_log_level;

/* One line without newline. Called from the service thread (or the calling thread for create errors). */
typedef void (*mf_client_log_cb)(mf_log_level level, const char *line, void *ctx);

/* ----------------------------------------------------------------- options */

typedef struct mf_client_opts {
    /* Servers: "ws://host:port[/path]" or "wss://host:port[/path]" (IPv6 as [addr]).
     * At least one. The array and strings are copied by mf_client_create. */
    const char *const *servers;
    size_t n_servers;
    bool randomize;             /* shuffle the pool once at start (default false: in order) */

    const char *name;           /* CONNECT name; NULL = none */
    const char *inbox_prefix;   /* request inboxes are <prefix>.<22 random>.<n>; default "_INBOX". With
                                   broker accounts, a per-user prefix ("_INBOX.billing") lets the subscribe
                                   permissions give each user only its own replies (docs/broker.md) */
    const char *token;          /* auth_token; NULL = none */
    const char *user;           /* user/pass; NULL = none */
    const char *pass;

    bool verbose;               /* default false */
    bool pedantic;              /* default false */
    bool echo;                  /* receive own publishes; default true */
    bool headers;               /* announce header support; default true */
    bool no_responders;         /* status 503 for requests nobody listens to; default true (needs headers) */

    bool reconnect;             /* default true */
    int reconnect_wait_ms;      /* first backoff, default 100 */
    int reconnect_wait_max_ms;  /* cap of the exponential backoff, default 5000 */
    int reconnect_jitter_ms;    /* random 0..jitter added to each wait, default 100 */
    int max_reconnect_attempts; /* consecutive failed attempts before CLOSED; -1 = forever (default) */

    size_t pending_limit;       /* bytes buffered while disconnected, default 8 MiB */
    size_t outbound_limit;      /* bytes queued while connected, default 64 MiB */
    size_t frame_size;          /* max bytes per WebSocket frame (coalesced ops), default 64 KiB */
    size_t ws_max_message;      /* largest WebSocket message accepted from the server; a frame announcing
                                   more is refused at its header (close 1009, then reconnect); default 64 MiB */

    int ping_interval_ms;       /* client PING period, default 120000; 0 = never */
    int max_pings_out;          /* unanswered PINGs before the connection is declared dead, default 2 */
    int connect_timeout_ms;     /* TCP + WebSocket + INFO + CONNECT/PONG, default 2000 */

    /* wss:// only */
    const char *tls_ca_file;    /* PEM bundle; NULL = system default */
    bool tls_insecure;          /* accept self-signed certificates and any host name (tests only) */

    mf_client_event_cb on_event; /* NULL = none */
    void *event_ctx;
    mf_client_input_cb on_input_done; /* NULL = none */
    void *input_ctx;
    mf_client_log_cb on_log;    /* NULL = lines go to stderr */
    void *log_ctx;
    mf_log_level log_level;     /* default MF_LOG_WARN */
    int lws_log_level;          /* libwebsockets' own log mask (LLL_*), applied process-wide by create;
                                   default LLL_ERR|LLL_WARN (3); -1 = leave it as it is */
} mf_client_opts;

/* Fills the defaults documented above (no servers). */
void mf_client_opts_init(mf_client_opts *o);

/* ------------------------------------------------------------- lifecycle */

/*
 * Validates the options, creates the client with its lws context and service
 * thread, and starts connecting asynchronously (it returns before the first
 * connection is made; publishes and subscriptions made meanwhile are buffered).
 * On success *out owns the client (mf_client_destroy). Errors:
 * MF_ERR_INVALID_ARG (bad option / URL; err says which), MF_ERR_NOMEM, MF_ERR_IO
 * (the lws context or the thread could not be created).
 */
mf_status mf_client_create(const mf_client_opts *opts, mf_client **out, mf_error *err);

/*
 * Waits until the client is connected (INFO received, CONNECT accepted).
 * MF_OK, MF_ERR_TIMEOUT, MF_ERR_CLOSED, MF_ERR_INVALID_ARG (service thread).
 * timeout_ms < 0 waits forever.
 */
mf_status mf_client_wait_connected(mf_client *c, int timeout_ms);

/*
 * Closes (WebSocket close 1000), fails pending requests with MF_ERR_CLOSED
 * (their callbacks run), emits CLOSED, joins the service thread and frees
 * everything. Queued but unsent publishes are lost (use drain or flush first).
 * No other thread may use c during or after this call. NULL is fine. Must not
 * be called from a callback.
 */
void mf_client_destroy(mf_client *c);

/* ---------------------------------------------------------------- publish */

/*
 * Queues a message for `subject` (literal: no wildcards) with an optional reply
 * subject. Thread-safe, non-blocking. MF_OK means queued (not yet sent).
 * MF_ERR_INVALID_ARG (subject/reply), MF_ERR_PAYLOAD_TOO_BIG (> max_payload of
 * the server, 1 MiB until the first INFO), MF_ERR_FULL (outbound_limit reached
 * while connected, or pending_limit while disconnected; the latter also counts
 * as dropped and raises a DROPPED event), MF_ERR_CLOSED.
 */
mf_status mf_client_publish(mf_client *c, const char *subject, const char *reply, const void *data, size_t len);

/* Same with headers (HPUB). The server must support headers: MF_ERR_INVALID_ARG if it said it does not. */
mf_status mf_client_publish_hdrs(mf_client *c, const char *subject, const char *reply, const mf_header *hdrs,
                                 size_t n_hdrs, const void *data, size_t len);

/* A message for mf_client_publish_batch: a literal subject and a payload (no reply, no headers). */
typedef struct mf_pub {
    const char *subject;
    const void *data;
    size_t len;
} mf_pub;

/*
 * Queues msgs[0..n) in order, as n calls of mf_client_publish(c, subject, NULL,
 * data, len) would, but taking the client's lock and waking the service thread
 * once per chunk of messages instead of once per message: for a thread that
 * publishes a burst (a batch's notifications), where the lock, shared with the
 * service thread, cost more than queueing. Stops at the first message that
 * mf_client_publish would refuse and returns its status (the same statuses):
 * *queued (may be NULL) is then its index, every message before it is queued
 * and none after it. MF_OK: all n queued (*queued = n). Thread-safe,
 * non-blocking; the caller's memory is not kept.
 */
mf_status mf_client_publish_batch(mf_client *c, const mf_pub *msgs, size_t n, size_t *queued);

/* Publishes data to req->reply. MF_ERR_INVALID_ARG when req has no reply subject. */
mf_status mf_client_respond(mf_client *c, const mf_msg *req, const void *data, size_t len);

/* ---------------------------------------------------------- subscriptions */

/*
 * Subscribes to `subject` (wildcards allowed), optionally in queue group
 * `queue` (NULL = none). cb(c, msg, ctx) runs on the service thread for every
 * message; ctx must stay valid until the subscription ends. *sid (may be NULL)
 * receives the id. MF_ERR_INVALID_ARG, MF_ERR_CLOSED, MF_ERR_NOMEM.
 */
mf_status mf_client_subscribe(mf_client *c, const char *subject, const char *queue, mf_msg_cb cb, void *ctx,
                              uint64_t *sid);

/*
 * max_msgs == 0: unsubscribe now. From another thread, when this returns the
 * callback is not running and will not be called again. From the subscription's
 * own callback, the current call is the last one.
 * max_msgs > 0: auto-unsubscribe after max_msgs messages in total (counting those
 * already delivered; if that many were delivered it ends now). Kept across
 * reconnects (the remaining count is re-sent).
 * MF_ERR_NOT_FOUND (unknown or finished sid), MF_ERR_CLOSED.
 */
mf_status mf_client_unsubscribe(mf_client *c, uint64_t sid, uint64_t max_msgs);

/* ---------------------------------------------------------------- requests */

/*
 * Publishes data to subject with a unique reply subject under this client's
 * inbox (_INBOX.<22 random chars>.<n>, one wildcard subscription per client) and
 * waits for the first reply. *reply is the caller's (mf_msg_owned_free).
 * MF_ERR_TIMEOUT, MF_ERR_NO_RESPONDERS (needs headers+no_responders and a
 * server that supports them, like nats-server), MF_ERR_CLOSED, the publish
 * errors, and MF_ERR_INVALID_ARG when called on the service thread (from a
 * callback): use mf_client_request_async there.
 */
mf_status mf_client_request(mf_client *c, const char *subject, const void *data, size_t len, int timeout_ms,
                            mf_msg_owned **reply);

/*
 * Non-blocking request: cb runs exactly once on the service thread (see
 * mf_reply_cb) if this returns MF_OK; never if it returns an error.
 * timeout_ms must be > 0.
 */
mf_status mf_client_request_async(mf_client *c, const char *subject, const void *data, size_t len,
                                  int timeout_ms, mf_reply_cb cb, void *ctx);

/*
 * Corking: mf_client_cork holds back the service thread's wake-ups for what the
 * calling thread publishes (or requests) until mf_client_uncork, so that a
 * burst - the replies a callback loop handles, a batch - leaves in few large
 * writes instead of one wake-up, and often one context switch, per message.
 * Messages are queued as usual: limits, errors and order do not change, only
 * when the service thread is told. It is told anyway once the bytes waiting
 * reach a quarter of a frame (mf_client_opts.frame_size), at mf_client_flush_start
 * (the PING leaves at once), and before this thread waits for the server
 * (mf_client_flush, mf_client_flush_wait, mf_client_request, mf_client_drain):
 * cork never delays a wait. Other threads' publishes wake the
 * service thread as usual (and it then sends everything queued).
 *
 * Threads: any thread but the service thread; a thread corks one client at a
 * time. mf_client_cork: MF_OK, MF_ERR_INVALID_ARG (NULL, the service thread, or
 * this thread already corks a client). mf_client_uncork: tells the service
 * thread about what was held back; a no-op when this thread does not cork c.
 */
mf_status mf_client_cork(mf_client *c);
void mf_client_uncork(mf_client *c);

/* ----------------------------------------------------- flush, drain, info */

/*
 * Sends a PING after everything queued so far and waits for its PONG: when it
 * returns MF_OK the server has processed all earlier publishes/subscriptions.
 * Waits through a reconnect. MF_ERR_TIMEOUT, MF_ERR_CLOSED, MF_ERR_INVALID_ARG.
 */
mf_status mf_client_flush(mf_client *c, int timeout_ms);

/*
 * mf_client_flush in two halves, so that a thread can do other work while the
 * PING travels: mf_client_flush_start queues the PING after everything queued
 * so far and stores its ticket in *ticket; it never blocks and may be called on
 * any thread, the service thread included. mf_client_flush_wait(c, ticket, ...)
 * then waits as mf_client_flush does: MF_OK once the server has processed
 * everything queued before the ticket's PING (a later flush's PONG also
 * answers it: PONGs come in order). A ticket may be waited for more than once.
 *
 * flush_start: MF_OK; MF_ERR_CLOSED (nothing queued, *ticket unchanged);
 * MF_ERR_INVALID_ARG; MF_ERR_NOMEM. While disconnected it queues nothing: the
 * reconnect sends one PING for the newest flush, as for mf_client_flush.
 * flush_wait: MF_OK, MF_ERR_TIMEOUT, MF_ERR_CLOSED; MF_ERR_INVALID_ARG for a
 * ticket this client did not hand out, or on the service thread.
 */
mf_status mf_client_flush_start(mf_client *c, uint64_t *ticket);
mf_status mf_client_flush_wait(mf_client *c, uint64_t ticket, int timeout_ms);

/*
 * Graceful close: unsubscribes everything, lets messages already in flight reach
 * their callbacks, refuses new subscriptions/requests (MF_ERR_CLOSED), then
 * refuses publishes, flushes what was published and closes (CLOSED event).
 * Pending requests still unanswered get MF_ERR_CLOSED. When it returns, the
 * CLOSED event and those completions have run. mf_client_destroy is still
 * needed afterwards. MF_OK, MF_ERR_TIMEOUT (closed anyway),
 * MF_ERR_CLOSED (already closed), MF_ERR_INVALID_ARG.
 */
mf_status mf_client_drain(mf_client *c, int timeout_ms);

typedef struct mf_client_stats {
    uint64_t msgs_in, bytes_in;       /* messages delivered to subscriptions/requests, payload bytes */
    uint64_t msgs_out, bytes_out;     /* publishes accepted into the queue, payload bytes */
    uint64_t reconnects;              /* successful reconnections */
    uint64_t dropped_msgs, dropped_bytes; /* lost because of a disconnection (pending_limit, or oversize
                                             for a new server) */
    uint64_t refused_full;            /* publishes refused with MF_ERR_FULL while connected */
    size_t queued_bytes;              /* bytes waiting in the outbound queue now */
    bool connected;
    char server_url[256];             /* current (or last tried) server; "" before the first attempt */
} mf_client_stats;

/* Thread-safe snapshot. MF_ERR_INVALID_ARG on NULL. */
mf_status mf_client_stats_get(mf_client *c, mf_client_stats *st);

typedef struct mf_client_server_info {
    char server_id[128];
    char server_name[128];
    char version[64];
    int64_t max_payload;
    bool headers;
    int proto;
    size_t n_servers;                 /* size of the server pool (configured + discovered) */
} mf_client_server_info;

/* The last INFO received. MF_ERR_NOT_FOUND before the first INFO. */
mf_status mf_client_server_info_get(mf_client *c, mf_client_server_info *info);

/* True when called from this client's service thread (i.e. inside one of its callbacks). */
bool mf_client_on_service_thread(const mf_client *c);

#ifdef __cplusplus
}
#endif
#endif /* MF_CLIENT_H */
