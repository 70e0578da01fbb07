/*
 * client_int.h - private state of mf_client (runtime/client/ only).
 *
 * Locking: one mutex `mu` guards the outbound queue, the subscription and
 * request tables, the PING FIFO, the state fields marked (mu), and the wait
 * condition `cv`. Fields marked (svc) belong to the service thread alone (the
 * only thread that calls libwebsockets). Counters are relaxed atomics.
 * Callbacks into user code are always made with `mu` released.
 */
#ifndef MF_CLIENT_INT_H
#define MF_CLIENT_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <libwebsockets.h>

#include "mf/buf.h"
#include "mf/client.h"
#include "mf/freelist.h"
#include "mf/request_copy.h"
#include "mf/proto.h"
#include "mf/ws.h"

/* ------------------------------------------------------------ u64 map */

/* Open-addressing hash map uint64 key (never 0) -> pointer. */
typedef struct mf_u64map {
    uint64_t *keys;
    void **vals;
    size_t cap;   /* power of two, or 0 */
    size_t n;
} mf_u64map;

void mf_u64map_free(mf_u64map *m);
void *mf_u64map_get(const mf_u64map *m, uint64_t key);
mf_status mf_u64map_put(mf_u64map *m, uint64_t key, void *val);
void *mf_u64map_del(mf_u64map *m, uint64_t key);
/* Iteration: for (size_t i = 0; i < m->cap; i++) if (m->keys[i]) ... (no changes while iterating) */

/* --------------------------------------------------------- server pool */

typedef struct mf_server {
    char *url;      /* normalised: scheme://host:port/path */
    char *host;     /* without brackets */
    char *path;     /* starts with '/' */
    int port;
    bool tls;
    bool discovered;
} mf_server;

/* Parses ws[s]://host[:port][/path]. MF_ERR_INVALID_ARG with a message in err. */
mf_status mf_server_parse(const char *url, mf_server *out, mf_error *err);
void mf_server_free(mf_server *s);

/* -------------------------------------------------------- outbound queue (replayq.c) */

/*
 * The outbound byte stream, replayable after a disconnect: complete protocol
 * records appended under `mu`; [sent, buf.len) not yet handed to lws; `rec` <=
 * sent is the start of the record that contains `sent` (== sent at a record
 * boundary), where a replay starts. Why the broker's queue differs: mf/reclaim.h.
 */
typedef struct mf_replayq {
    mf_buf buf;
    size_t sent;
    size_t rec;
    size_t rec_end;  /* end of the record starting at rec (valid when rec < sent) */
    /*
     * The detached part (service thread only): a large backlog is moved out of `buf`
     * under mu in O(1) (mf_replayq_detach) and then framed from here without the lock
     * (mf_replayq_take_detached), so publishers that append to `buf` meanwhile, page
     * faults of a growing queue included, do not stop the writer. Everything in `out`
     * is older than everything in `buf`; while `out` holds bytes, `buf` has sent none.
     * out_left mirrors out.len - orec for the publishers' limit check (mf_replayq_pending).
     */
    mf_buf out;
    size_t osent, orec, orec_end;
    atomic_size_t out_left;
} mf_replayq;

/* Unsent bytes (counted from rec, what a disconnect would keep). */
size_t mf_replayq_pending(const mf_replayq *q);
/* Bytes not yet handed out, detached or not (service thread). */
bool mf_replayq_has_unsent(const mf_replayq *q);
/* The detached part has bytes to take (service thread; no lock needed). */
bool mf_replayq_detached(const mf_replayq *q);
/* Under mu, service thread: when `buf` holds at least `min` unsent bytes and nothing is
 * detached, moves them out (O(1)); true when it did. */
bool mf_replayq_detach(mf_replayq *q, size_t min);
/* Service thread, without mu: copies up to max detached bytes into dst. */
size_t mf_replayq_take_detached(mf_replayq *q, char *dst, size_t max);
/* Copies up to max unsent bytes into dst, advancing sent/rec. Returns the count. */
size_t mf_replayq_take(mf_replayq *q, char *dst, size_t max);
/* Length of the record at p (n bytes available); 0 if incomplete/garbage. Sets *is_pub for PUB/HPUB. */
size_t mf_replayq_record_len(const char *p, size_t n, bool *is_pub, size_t *payload_total);
/*
 * Keeps only the unsent PUB/HPUB records (from rec), in order, with a payload
 * total <= max_payload (0 = no check), up to `limit` bytes in total; the rest is
 * dropped and counted in *dmsgs / *dbytes (PUB records only). Resets sent/rec.
 */
mf_status mf_replayq_salvage(mf_replayq *q, size_t limit, size_t max_payload, uint64_t *dmsgs, uint64_t *dbytes);
/* Puts `prefix` in front of the unsent bytes. */
mf_status mf_replayq_prepend(mf_replayq *q, const mf_buf *prefix);
void mf_replayq_clear(mf_replayq *q);

/* ------------------------------------------------------- subscriptions */

typedef struct mf_sub {
    uint64_t sid;
    char *subject;
    char *queue;        /* NULL = none */
    mf_msg_cb cb;
    void *ctx;
    uint64_t max;       /* 0 = unlimited */
    uint64_t delivered;
    uint64_t base;      /* `delivered` when the SUB was (re)sent on the current connection */
    bool internal;      /* the request inbox */
    bool draining;      /* UNSUB sent by drain; delivered until drain removes it */
    bool free_after_dispatch;
} mf_sub;

/* ------------------------------------------------------------ requests */

typedef struct mf_req {
    uint64_t id;
    int64_t deadline_us;  /* monotonic */
    mf_reply_cb cb;
    void *ctx;            /* the caller's, or NULL when the context is copied (ctx_len > 0) */
    struct mf_req *next; /* while being completed */
    size_t ctx_len;       /* bytes of ctx_copy in use (mf_client_request_async_copy); 0: none */
    union {
        max_align_t align;
        unsigned char bytes[MF_REQ_CTX_MAX];
    } ctx_copy; /* last: a record is copied out only up to its ctx_len (mf_client_inbox_take_locked) */
} mf_req;

/* The context r's callback gets: the caller's pointer, or r's own copy of its bytes. */
static inline void *mf_req_ctx(mf_req *r)
{
    return r->ctx_len ? (void *)r->ctx_copy.bytes : r->ctx;
}

/* Records kept for reuse (req_free): a request's record is taken on the requester's thread and
 * given back on the service thread, so malloc and free ran on two threads; both happen under
 * `mu` already, and a free list there costs neither a lock nor the allocator's cross-thread work. */
#define MF_REQ_FREE_MAX 4096u

typedef struct mf_deadline {
    int64_t at;
    uint64_t id;
} mf_deadline;

/* ------------------------------------------------------------- client */

typedef enum mf_conn_state {
    MF_CS_IDLE = 0,      /* no connection, reconnect scheduled or not yet started */
    MF_CS_CONNECTING,    /* lws connect in progress (TCP, TLS) */
    MF_CS_UPGRADING,     /* the HTTP upgrade to WebSocket (wire.c) */
    MF_CS_WAIT_INFO,     /* WebSocket open, waiting for INFO */
    MF_CS_WAIT_PONG,     /* CONNECT + PING sent, waiting for PONG */
    MF_CS_CONNECTED,
    MF_CS_CLOSED         /* final */
} mf_conn_state;

/*
 * Where the client is in its life, apart from the connection (mf_conn_state): how far a
 * drain, a close and the service thread's end have gone. It only moves forward
 * (mf_client_life_to_locked). Written under `mu`; read anywhere (an atomic).
 *
 *   OPEN -> DRAINING_SUBS -> DRAINING_PUBS -> CLOSE_ASKED   mf_client_drain (user thread)
 *        -> CLOSING -> CLOSED -> CLOSE_DONE -> STOPPED      service thread
 *
 * mf_client_destroy asks for the close and the end of the service thread from any stage
 * (destroy_req): from CLOSING on, publish, subscribe and request are refused (a callback
 * during the close would only add to a queue that is never sent). Giving up reconnecting
 * goes from any stage before CLOSING to CLOSED.
 */
typedef enum mf_life {
    MF_LIFE_OPEN = 0,
    MF_LIFE_DRAINING_SUBS, /* UNSUBs queued: subscribe and request refused, messages still delivered */
    MF_LIFE_DRAINING_PUBS, /* the drained subscriptions are gone: publish refused, the queue is flushed */
    MF_LIFE_CLOSE_ASKED,   /* drain asked the service thread to close */
    MF_LIFE_CLOSING,       /* the service thread closes the connection: no more reconnects */
    MF_LIFE_CLOSED,        /* final: everything refused with MF_ERR_CLOSED */
    MF_LIFE_CLOSE_DONE,    /* ...and the CLOSED event and the MF_ERR_CLOSED completions have run */
    MF_LIFE_STOPPED        /* the service loop ends; callbacks are ignored */
} mf_life;

#define MF_TAG_KEEPALIVE 0u
#define MF_TAG_CONNECT UINT64_MAX

struct mf_client {
    /* configuration (immutable after create) */
    mf_client_opts o;
    char *name, *token, *user, *pass, *ca_file;
    char inbox_prefix[160]; /* "<opts.inbox_prefix>.<22>." */
    size_t inbox_prefix_len;

    pthread_t thread;
    bool thread_started;

    /* ---- (mu) ---- */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct lws_context *ctx;  /* set once by the service thread before create returns */
    int start_status;         /* 0 pending, 1 ok, -1 failed */
    mf_error start_err;

    mf_conn_state state;
    atomic_int life;          /* mf_life: written under mu, by mf_client_life_to_locked only */
    bool can_send;            /* CONNECT prefix is in the queue: SUB/UNSUB/PING may be appended */
    bool ever_connected;
    bool destroy_req;         /* mf_client_destroy: close, then end the service thread */
    bool wake_pending;
    bool in_batch;       /* mf_client_publish_batch queues: one wake-up at the end of a chunk (mu) */
    bool cork_held;      /* a wake-up held back by mf_client_cork's thread (mu) */
    /* The service thread has asked for WRITEABLE and will take the queue then (set where it
     * asks, cleared where it finds the queue empty or the connection gone): a publish needs
     * no wake meanwhile. Without it every publish between two writes woke the service thread
     * through the cancel pipe, and the publisher lost its CPU to it each time. Under mu. */
    bool writer_armed;
    bool dropped_event_pending;

    mf_replayq q;
    /* publishes accepted into q and their payload bytes (mf_counter_add: written under mu only) */
    atomic_uint_fast64_t msgs_out, bytes_out;
    uint64_t *fifo;           /* tags of PINGs in the queue / in flight, oldest first */
    size_t fifo_head, fifo_n, fifo_cap;
    uint64_t flush_seq, flush_done;

    mf_u64map subs;           /* sid -> mf_sub* */
    uint64_t next_sid;
    uint64_t inbox_sid;       /* 0 until the first request */
    /* The sub whose callback runs now. Set under mu by the service thread; cleared by it
     * without mu (a store, then a look at dispatch_waiters, both sequentially consistent), so
     * a message costs one lock, not two: a thread waiting for the callback to end counts
     * itself in dispatch_waiters (under mu) before it looks, and is woken under mu. */
    _Atomic(mf_sub *) dispatching;
    atomic_int dispatch_waiters;
    bool delivered_in_read;   /* (svc) a message was delivered during this read: on_input_done follows */

    mf_u64map reqs;           /* id -> mf_req* */
    mf_freelist req_free;     /* records to reuse (at most MF_REQ_FREE_MAX: mf/freelist.h) */
    uint64_t next_req;
    mf_deadline *heap;
    size_t heap_n, heap_cap;
    bool req_timer_dirty;
    int64_t req_timer_at;     /* when the request sul fires; INT64_MAX = not scheduled */

    size_t max_payload;       /* from INFO (default until then) */
    bool server_headers;      /* INFO headers (true until INFO says otherwise) */
    bool have_info;
    mf_client_server_info info;
    char cur_url[256];
    mf_status close_status;
    uint64_t drop_ev_msgs, drop_ev_bytes; /* not yet reported */

    /* ---- counters (read by mf_client_stats_get on any thread) ---- */
    atomic_uint_fast64_t reconnects, dropped_msgs, dropped_bytes, refused_full;

    /* ---- (svc) service thread only ---- */
    /* messages delivered and their payload bytes (mf_counter_add: the service thread is the one
     * writer), away from msgs_out/bytes_out, which the publishers write: on one cache line,
     * side by side, every reply read moved the publishers' line to the service thread's core. */
    atomic_uint_fast64_t msgs_in, bytes_in;
    struct lws_protocols protocols[2];
    struct lws *wsi;
    mf_server *pool;
    size_t n_pool, pool_cap, cur;
    int attempts;             /* consecutive failed attempts */
    bool attempt_live;        /* a connection attempt/connection exists and was not reported lost */
    bool kill_conn;           /* close the current wsi: our close frame at the next WRITEABLE */
    int kill_code;
    char lost_why[160];       /* why the current connection ends, for the log */
    /* the WebSocket (wire.c) */
    mf_buf hs;                /* UPGRADING: the request being sent, then the response being read */
    size_t hs_sent;
    bool hs_request_done;
    char ws_key[25];
    mf_ws_parser wsp;
    unsigned char pong[MF_WS_MAX_CONTROL];
    size_t pong_len;
    bool pong_pending;
    bool close_sent;          /* our close frame is written */
    bool peer_closed;         /* the server's close frame came */
    bool ws_failed;           /* we failed the connection: nothing more is read */
    unsigned char maskpool[64];
    size_t maskpos;
    /* wss:// (tls.c) */
    struct ssl_ctx_st *ssl_ctx;   /* SSL_CTX, when a server in the pool is wss:// */
    struct mf_tls *tls;           /* the current connection's TLS state */
    unsigned char tls_buf[16384]; /* plaintext out of SSL_read */
    mf_proto_parser parser;
    char *frame;              /* LWS_PRE (room for a frame header) + frame_size */
    uint64_t rng;
    lws_sorted_usec_list_t sul_reconnect, sul_ping, sul_conn_timeout, sul_req, sul_close;
};

/* Adds n to a counter that one thread at a time writes (under mu, or the service thread's own):
 * a load and a store, not a locked read-modify-write; mf_client_stats_get still loads it whole. */
static inline void mf_counter_add(atomic_uint_fast64_t *ctr, uint64_t n)
{
    atomic_store_explicit(ctr, atomic_load_explicit(ctr, memory_order_relaxed) + n, memory_order_relaxed);
}

/* ---- client.c ---- */
void mf_client_log(mf_client *c, mf_log_level lvl, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void mf_client_emit(mf_client *c, mf_client_event_type type, mf_status st, const char *text, uint64_t msgs,
                    uint64_t bytes, const char *url);
/* Wakes the service thread (mu held). */
void mf_client_wake_locked(mf_client *c);
/* Before this thread waits for the server: the wake-up its cork held back, if any. Under mu. */
void mf_client_cork_release_locked(mf_client *c);
/* The lifecycle stage (any thread, with or without mu). */
mf_life mf_client_life(const mf_client *c);
/* The one transition of the lifecycle (mu held): moves to `to` if that is forward, wakes the
 * waiters on cv. true when it moved. */
bool mf_client_life_to_locked(mf_client *c, mf_life to);
/* The same, taking mu. */
bool mf_client_life_to(mf_client *c, mf_life to);
/* Monotonic microseconds. */
int64_t mf_now_us(void);
/* *ts = CLOCK_MONOTONIC now + us (for pthread_cond_timedwait on cv). */
void mf_deadline_after(struct timespec *ts, int64_t us);
/* The next value of a xorshift64 generator (*state never 0): jitter, shuffles, mask keys. */
uint64_t mf_xorshift64(uint64_t *state);
/* Appends a PING with tag to the queue (mu held, can_send). */
mf_status mf_client_queue_ping_locked(mf_client *c, uint64_t tag);
bool mf_client_fifo_push_locked(mf_client *c, uint64_t tag);
bool mf_client_fifo_pop_locked(mf_client *c, uint64_t *tag);
/* Validates and queues a PUB/HPUB record (mu held). hdr may be NULL. */
mf_status mf_client_publish_locked(mf_client *c, const char *subject, size_t slen, const char *reply, size_t rlen,
                                   const char *hdr, size_t hlen, const void *data, size_t len);
/* Final close (service thread): fails requests, wakes waiters, emits CLOSED once. */
void mf_client_finish_close(mf_client *c, mf_status why);

/* ---- conn.c ---- */
void *mf_client_service_main(void *arg);
/* NATS bytes from the server (a WebSocket message's payload). 0, or -1 to close now. */
int mf_client_nats_receive(mf_client *c, struct lws *wsi, const void *in, size_t len);
/* Closes the current connection with our close frame (code 0 = no status). */
void mf_client_kill_wsi(mf_client *c, int code);

/* ---- wire.c ---- */
/* The socket is connected: sends the upgrade request. 0, or -1 to close. */
int mf_wire_start(mf_client *c, struct lws *wsi);
/* RAW_RX / RAW_WRITEABLE of the current connection. 0, or -1 to close now. */
int mf_wire_receive(mf_client *c, struct lws *wsi, unsigned char *in, size_t len);
int mf_wire_writeable(mf_client *c, struct lws *wsi);
/* Writes bytes to the current connection (through TLS for wss://). false when it failed. */
bool mf_wire_write(mf_client *c, struct lws *wsi, const unsigned char *p, size_t n);

/* ---- tls.c ---- */
struct mf_tls;
/* The SSL_CTX for wss:// servers (tls_ca_file, tls_insecure). */
mf_status mf_tls_ctx_new(mf_client *c, mf_error *err);
void mf_tls_ctx_free(mf_client *c);
/* The socket is connected to a wss:// server: starts the handshake (then mf_wire_start). 0 / -1. */
int mf_tls_start(mf_client *c, struct lws *wsi);
/* Ciphertext in (RAW_RX): the handshake, then plaintext to mf_wire_receive. 0 / -1. */
int mf_tls_receive(mf_client *c, struct lws *wsi, const unsigned char *in, size_t len);
/* Plaintext out. 0 / -1. */
int mf_tls_write(mf_client *c, struct lws *wsi, const unsigned char *p, size_t n);
/* Frees the current connection's TLS state. */
void mf_tls_end(mf_client *c);

/* ---- sub.c ---- */
mf_status mf_client_sub_add_locked(mf_client *c, const char *subject, const char *queue, mf_msg_cb cb, void *ctx,
                                   bool internal, uint64_t *sid);
/* Appends SUB (+UNSUB remaining) for every subscription to b (mu held). */
mf_status mf_client_subs_write_locked(mf_client *c, mf_buf *b);
/* Delivers a MSG/HMSG op (service thread). */
void mf_client_dispatch(mf_client *c, const mf_proto_op *op);
/* The request a message on the request inbox answers, taken out of the table (mu held): its
 * record is copied to *out (up to its context copy's length) and recycled (the record itself is
 * never touched again). false for a late, duplicate or foreign one. */
bool mf_client_inbox_take_locked(mf_client *c, const mf_msg *m, struct mf_req *out);
/* Calls the request's callback (the copy inbox_take made, whose context copy the callback gets)
 * with the reply (service thread, mu released). */
void mf_client_inbox_complete(mf_client *c, struct mf_req *r, const mf_msg *m);
void mf_client_subs_free_all(mf_client *c);
/* Marks all user subscriptions draining and queues their UNSUB (mu held). */
void mf_client_subs_drain_locked(mf_client *c);
/* Removes the draining subscriptions (mu held, not on the service thread). */
void mf_client_subs_remove_drained_locked(mf_client *c);

/* ---- request.c ---- */
/* Request timer sul: expire due requests. */
void mf_client_req_timer_cb(lws_sorted_usec_list_t *sul);
/* Service thread: re-arm the timer if registrations changed it. */
void mf_client_req_timer_update(mf_client *c);
/* Completes every pending request with st (service thread). */
void mf_client_reqs_fail_all(mf_client *c, mf_status st);
void mf_client_reqs_free_all(mf_client *c);

/* ---- msg.c ---- */
/* Status code of a header block ("NATS/1.0 503 ..."), 0 if none. */
int mf_msg_parse_status(const char *hdr, size_t len);
/* Builds a header block. MF_ERR_INVALID_ARG for bad names/values. */
mf_status mf_msg_build_headers(mf_buf *b, const mf_header *h, size_t n);

#endif /* MF_CLIENT_INT_H */
