/*
 * conn.c - one connection's life: an lws raw socket from accept to close.
 *
 * Phases: HTTP (the request head is read, recv.c, and handed to http.c), then
 * either REPLY (a plain HTTP answer, then close) or WS (a WebSocket: INFO,
 * CONNECT, NATS). Each phase has a deadline on the connection's lws timer:
 * --handshake-timeout for TLS + the upgrade, --auth-timeout from the upgrade to
 * a successful CONNECT, then --ping-interval for keepalive PINGs.
 *
 * The connecting budget: sockets that have not completed CONNECT (any phase
 * before it) are counted, and when a new socket would take the count past
 * --max-connecting, the oldest of them is dropped to make room. Sockets that
 * never authenticate therefore cannot take the connection slots from clients
 * that do (they also time out after --auth-timeout).
 *
 * Send: everything for a connection is appended to its outbound queue, and
 * only the WRITEABLE callback writes: one lws_write per callback, either the
 * HTTP bytes of the upgrade, a pong, or one binary WebSocket frame carrying as
 * many queued messages as fit in MF_BROKER_FRAME_MAX bytes (cut at a message
 * boundary whenever possible; the frame header goes into the headroom in front
 * of the bytes), or finally the close frame.
 *
 * Closing (a lingering close): an error that ends the connection queues
 * "-ERR '...'" and marks it closing. From then on input is still read and its
 * frames parsed, but data is thrown away unparsed (up to a byte budget), while
 * the queue is flushed; then our close frame goes out (status and reason),
 * and the socket is closed when the peer's close frame (or EOF) arrives.
 * Closing a socket that still has unread input makes the kernel send a RST,
 * and a peer still busy writing may then lose the -ERR that had already
 * arrived; reading until the peer's close avoids that. A timer ticking every
 * 100 ms bounds the whole close to CLOSE_GRACE_SECS; a peer sending more than
 * --ws-max-message bytes after the error is dropped at once.
 */
#include "broker/broker.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

/* A frame's header (unmasked: at most 10 bytes) goes into the headroom in front of its payload. */
_Static_assert(LWS_PRE >= 10, "LWS_PRE must hold a server frame header");

/* Seconds a closing connection gets to take its last bytes and answer the close frame. */
#define CLOSE_GRACE_SECS 3
/* While closing, the timer checks the deadline this often. */
#define CLOSE_TICK_USECS (100 * 1000)
/* How long a publisher stops being read after its messages filled a subscriber's
 * queue past a quarter of --max-pending. */
#define STALL_USECS (10 * 1000)

mfb_broker *mfb_broker_from_wsi(struct lws *wsi)
{
    return (mfb_broker *)lws_context_user(lws_get_context(wsi));
}

void mfb_conn_want_write(mfb_conn *c)
{
    if (!c->write_requested && c->wsi) {
        c->write_requested = true;
        lws_callback_on_writable(c->wsi);
    }
}

void mfb_conn_drop(mfb_conn *c)
{
    /* Through lws' timeout rather than a -1 from a callback: a timed-out wsi is killed
     * outright, and this works for any connection, not only the one being called back. */
    if (c->wsi)
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

int mfb_conn_finish(mfb_conn *c)
{
    if (c->wsi && lws_partial_buffered(c->wsi)) {
        /* lws writes nothing of ours until its buffer is out: finish at the next WRITEABLE */
        c->finishing = true;
        mfb_conn_want_write(c);
        return 0;
    }
    /* TLS: say goodbye properly (close_notify), so the peer sees an orderly end; lws does
     * not for raw sockets. Nothing of ours is pending, so the alert cannot overtake data. */
    SSL *ssl = c->wsi ? lws_get_ssl(c->wsi) : NULL;
    if (ssl)
        SSL_shutdown(ssl);
    return -1;
}

static void not_connecting(mfb_conn *c)
{
    if (c->counted_connecting) {
        c->counted_connecting = false;
        c->b->nconnecting--;
    }
}

static void slow_consumer(mfb_conn *c)
{
    mfb_broker *b = c->b;
    c->slow = true; /* first: the -ERR queued below must not come back here */
    uint64_t msgs = 0;
    size_t dropped = mfb_frameq_drop_unstarted(&c->out, &msgs);
    b->slow_consumers++;
    b->dropped_msgs += msgs;
    MFB_LOGE("cid=%llu slow consumer: more than %zu bytes pending, dropped %zu queued bytes (%llu messages), "
            "disconnecting",
            (unsigned long long)c->cid, b->cfg->max_pending, dropped, (unsigned long long)msgs);
    mfb_conn_close(c, "Slow Consumer", "slow consumer");
}

void mfb_conn_queued(mfb_conn *c, bool msg, uint64_t pbytes)
{
    mfb_frameq_commit(&c->out, msg, pbytes);
    if (!c->closing && !c->slow && mfb_frameq_pending(&c->out) > c->b->cfg->max_pending) {
        slow_consumer(c);
        return;
    }
    mfb_conn_want_write(c);
}

void mfb_conn_send_err(mfb_conn *c, const char *text)
{
    MFB_LOGI("cid=%llu -ERR '%s'", (unsigned long long)c->cid, text);
    if (mfb_frameq_prepare(&c->out) == MF_OK && mf_proto_write_err(&c->out.buf, text) == MF_OK)
        mfb_conn_queued(c, false, 0);
}

void mfb_conn_send_ok(mfb_conn *c)
{
    if (c->verbose && !c->closing && mfb_frameq_prepare(&c->out) == MF_OK && mf_proto_write_ok(&c->out.buf) == MF_OK)
        mfb_conn_queued(c, false, 0);
}

void mfb_conn_arm_timer(mfb_conn *c)
{
    const mfb_broker_config *cfg = c->b->cfg;
    int secs = c->phase != MFB_PHASE_WS ? cfg->handshake_timeout
               : c->connected           ? cfg->ping_interval
                                        : cfg->auth_timeout;
    lws_set_timer_usecs(c->wsi, (lws_usec_t)secs * LWS_USEC_PER_SEC);
}

/* err_text: the -ERR to queue (NULL: none); code/frame_text: our close frame. */
static void conn_close(mfb_conn *c, const char *err_text, unsigned code, const char *frame_text, const char *reason)
{
    if (c->closing)
        return;
    if (c->phase != MFB_PHASE_WS) {
        c->close_reason = reason;
        mfb_conn_drop(c);
        return;
    }
    if (err_text)
        mfb_conn_send_err(c, err_text);
    if (c->closing) /* send_err may have found it a slow consumer */
        return;
    c->closing = true;
    c->close_reason = reason;
    c->close_code = code;
    c->close_text = frame_text;
    /* Input keeps being read (and discarded, recv.c) so that the socket is not
     * closed with unread data; the timer bounds the close. */
    c->close_deadline = lws_now_usecs() + (lws_usec_t)CLOSE_GRACE_SECS * LWS_USEC_PER_SEC;
    lws_set_timer_usecs(c->wsi, CLOSE_TICK_USECS);
    mfb_conn_want_write(c);
}

void mfb_conn_close(mfb_conn *c, const char *err_text, const char *reason)
{
    conn_close(c, err_text, MF_WS_CLOSE_NORMAL, err_text, reason);
}

void mfb_conn_close_ws(mfb_conn *c, unsigned code, const char *text, const char *reason)
{
    if (c->closing)
        return;
    snprintf(c->close_buf, sizeof c->close_buf, "%s", text);
    conn_close(c, NULL, code, c->close_buf, reason);
}

static void send_info(mfb_conn *c)
{
    mfb_broker *b = c->b;
    const mfb_broker_config *cfg = b->cfg;
    if (mfb_frameq_prepare(&c->out) != MF_OK)
        return;
    mf_buf *o = &c->out.buf;
    mf_status st = mf_buf_printf(o,
                                 "INFO {\"server_id\":\"%s\",\"server_name\":\"%s\",\"version\":\"%s\","
                                 "\"proto\":1,\"host\":\"%s\",\"port\":%d,\"headers\":true,"
                                 "\"max_payload\":%zu,\"client_id\":%llu,\"client_ip\":\"%s\"%s%s}\r\n",
                                 b->server_id, cfg->server_name, MF_BROKER_VERSION, cfg->host, cfg->port,
                                 cfg->max_payload, (unsigned long long)c->cid, c->ip,
                                 mfb_auth_required(cfg) ? ",\"auth_required\":true" : "",
                                 cfg->tls_cert ? ",\"tls_required\":true" : "");
    if (st == MF_OK)
        mfb_conn_queued(c, false, 0);
}

void mfb_conn_upgraded(mfb_conn *c)
{
    mfb_broker *b = c->b;
    c->phase = MFB_PHASE_WS;
    c->counted_ws = true;
    b->nws++;
    b->total_connections++;
    MFB_LOGI("cid=%llu websocket from %s (%zu connections)", (unsigned long long)c->cid, c->ip, b->nws);
    if (b->nws > b->cfg->max_connections) {
        MFB_LOGE("cid=%llu refused: maximum connections (%zu) exceeded", (unsigned long long)c->cid,
                b->cfg->max_connections);
        mfb_conn_close(c, "maximum connections exceeded", "maximum connections exceeded");
        return;
    }
    send_info(c);
    mfb_conn_arm_timer(c);
    if (b->shutting_down)
        conn_close(c, NULL, MF_WS_CLOSE_NORMAL, "Server Shutdown", "server shutdown");
}

void mfb_conn_connected(mfb_conn *c)
{
    c->connected = true;
    not_connecting(c);
    mfb_conn_arm_timer(c);
}

/* Makes room under --max-connecting: drops the oldest socket that has not completed CONNECT. */
static void evict_oldest_connecting(mfb_broker *b)
{
    mfb_conn *old = NULL;
    for (mfb_conn *x = b->conns; x; x = x->next)
        if (x->counted_connecting)
            old = x; /* the list is newest first: the last match is the oldest */
    if (!old)
        return;
    b->evicted++;
    MFB_LOGE("cid=%llu dropped: %zu connections have not completed CONNECT (--max-connecting), this is the oldest",
            (unsigned long long)old->cid, b->cfg->max_connecting);
    not_connecting(old);
    if (old->counted_ws) {
        /* Its slot is free now, not when its close has finished: a silent peer keeps the close
         * waiting for CLOSE_GRACE_SECS, and hundreds of those held --max-connections against
         * correct clients on a loaded machine. */
        old->counted_ws = false;
        b->nws--;
    }
    if (old->phase == MFB_PHASE_WS)
        mfb_conn_close(old, "Authentication Timeout", "evicted before CONNECT");
    else
        conn_close(old, NULL, 0, NULL, "evicted before the upgrade");
}

static mfb_conn *conn_new(mfb_broker *b, struct lws *wsi)
{
    if (b->nconnecting >= b->cfg->max_connecting)
        evict_oldest_connecting(b);
    mfb_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->b = b;
    c->wsi = wsi;
    c->cid = ++b->next_cid;
    c->started = time(NULL);
    c->phase = MFB_PHASE_HTTP;
    /* nats-server's defaults until a CONNECT says otherwise */
    c->echo = true;
    c->verbose = true;
    c->pedantic = true;
    mf_buf_init(&c->http);
    mf_ws_parser_init(&c->ws, MF_WS_SERVER, b->cfg->ws_max_message);
    mf_proto_parser_init(&c->parser, MF_PROTO_SERVER_SIDE, b->cfg->max_control, b->cfg->max_payload);
    mfb_frameq_init(&c->out);
    lws_get_peer_simple(wsi, c->ip, sizeof c->ip);
    c->counted_connecting = true;
    b->nconnecting++;
    c->next = b->conns;
    if (b->conns)
        b->conns->prev = c;
    b->conns = c;
    b->nconns++;
    return c;
}

static void conn_destroy(mfb_conn *c)
{
    mfb_broker *b = c->b;
    lws_sul_cancel(&c->stall_sul);
    mfb_route_drop_conn(c);
    not_connecting(c);
    if (c->counted_ws)
        b->nws--;
    if (c->prev)
        c->prev->next = c->next;
    else
        b->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    b->nconns--;
    /* messages queued but never written are dropped, not sent */
    b->dropped_msgs += mfb_frameq_unsent_msgs(&c->out);
    if (c->phase == MFB_PHASE_WS)
        MFB_LOGI("cid=%llu disconnected (%s) after %llds: in %llu msgs/%llu bytes, out %llu msgs/%llu bytes",
                (unsigned long long)c->cid, c->close_reason ? c->close_reason : "client closed",
                (long long)(time(NULL) - c->started), (unsigned long long)c->in_msgs,
                (unsigned long long)c->in_bytes, (unsigned long long)c->out_msgs, (unsigned long long)c->out_bytes);
    else if (c->close_reason)
        MFB_LOGI("cid=%llu %s closed (%s)", (unsigned long long)c->cid, c->ip, c->close_reason);
    mf_buf_free(&c->http);
    mf_proto_parser_free(&c->parser);
    mfb_frameq_free(&c->out);
    free(c);
    if (b->shutting_down && b->nconns == 0 && !b->done) {
        b->done = true;
        lws_cancel_service(b->ctx);
    }
}

/*
 * Publisher backpressure. A subscriber that reads slower than a publisher
 * writes would otherwise be cut off as soon as --max-pending fills up, even if
 * it is only briefly behind. So when a chunk from a publisher fills some
 * subscriber's queue past a quarter of the limit, the publisher is not read for
 * STALL_USECS (TCP then pushes back on it), and then read again. The pause is
 * short and always ends: a subscriber that stays behind still reaches the limit
 * and is disconnected, and nobody else waits on it for long.
 */
static void stall_over(lws_sorted_usec_list_t *sul)
{
    mfb_conn *c = lws_container_of(sul, mfb_conn, stall_sul);
    c->stalled = false;
    /* a closing connection is read too (its input is discarded), until the budget is spent */
    if (!c->discard_over && c->wsi)
        lws_rx_flow_control(c->wsi, 1);
}

static void stall(mfb_conn *c)
{
    c->stalled = true;
    c->b->stalls++;
    lws_rx_flow_control(c->wsi, 0);
    lws_sul_schedule(c->b->ctx, 0, &c->stall_sul, stall_over, STALL_USECS);
}

/* Writes p[0, n) (raw bytes, already framed); false when the socket failed. */
static bool write_raw(mfb_conn *c, unsigned char *p, size_t n)
{
    int w = lws_write(c->wsi, p, n, LWS_WRITE_RAW);
    if (w < (int)n) {
        MFB_LOGE("cid=%llu write failed", (unsigned long long)c->cid);
        c->close_reason = "write error";
        return false;
    }
    return true;
}

/* A control frame (pong or close) with its payload. */
static bool write_control(mfb_conn *c, mf_ws_opcode op, const unsigned char *body, size_t n)
{
    unsigned char f[MF_WS_MAX_HEADER + MF_WS_MAX_CONTROL];
    size_t h = mf_ws_write_header(f, op, true, n, NULL);
    memcpy(f + h, body, n);
    return write_raw(c, f, h + n);
}

/* One frame of queued messages; the header goes into the headroom in front of them. */
static bool write_data(mfb_conn *c)
{
    bool ends;
    size_t n = mfb_frameq_next_chunk(&c->out, MF_BROKER_FRAME_MAX, &ends);
    unsigned char *p = (unsigned char *)c->out.buf.data + c->out.head;
    unsigned char hdr[MF_WS_MAX_HEADER];
    size_t h = mf_ws_write_header(hdr, MF_WS_OP_BINARY, true, n, NULL);
    memcpy(p - h, hdr, h); /* LWS_PRE >= 10 bytes in front of head are free */
    if (!write_raw(c, p - h, n + h))
        return false;
    uint64_t msgs, pbytes;
    mfb_frameq_consume(&c->out, n, ends, &msgs, &pbytes);
    c->out_msgs += msgs;
    c->out_bytes += pbytes;
    c->b->out_msgs += msgs;
    c->b->out_bytes += pbytes;
    return true;
}

/* 0, or -1: close the socket now (lws flushes what it still buffers first). */
static int on_writeable(mfb_conn *c)
{
    c->write_requested = false;
    if (c->finishing)
        return mfb_conn_finish(c);
    if (c->http_sent < c->http.len) {
        /* the 101 response, or a plain HTTP answer */
        size_t n = c->http.len - c->http_sent;
        if (!write_raw(c, (unsigned char *)c->http.data + c->http_sent, n))
            return -1;
        c->http_sent += n;
        if (c->phase == MFB_PHASE_REPLY)
            return mfb_conn_finish(c); /* answered: close */
        mfb_conn_want_write(c);
        return 0;
    }
    if (c->phase != MFB_PHASE_WS || c->close_sent)
        return 0;
    if (c->pong_pending && !c->peer_closed) {
        c->pong_pending = false;
        if (!write_control(c, MF_WS_OP_PONG, c->pong, c->pong_len))
            return -1;
        mfb_conn_want_write(c);
        return 0;
    }
    if (mfb_frameq_pending(&c->out) && !c->peer_closed) {
        if (!write_data(c))
            return -1;
        if (mfb_frameq_pending(&c->out) || c->closing || c->pong_pending)
            mfb_conn_want_write(c);
        return 0;
    }
    if (!c->closing)
        return 0; /* a spare callback */
    /* Everything is out: our close frame; then the peer's close frame (or EOF) ends it. */
    unsigned char body[MF_WS_MAX_CONTROL];
    size_t n = mf_ws_close_body(body, c->close_code, c->close_text);
    c->close_sent = true;
    if (!write_control(c, MF_WS_OP_CLOSE, body, n))
        return -1;
    if (c->peer_closed)
        return mfb_conn_finish(c); /* the handshake is complete once this is flushed */
    if (!c->discard_over && !c->stalled)
        lws_rx_flow_control(c->wsi, 1);
    return 0;
}

/* A closing connection's tick: the deadline. */
static void close_tick(mfb_conn *c)
{
    lws_usec_t now = lws_now_usecs();
    if (now >= c->close_deadline) {
        MFB_LOGI("cid=%llu closing: not finished within %ds (%s), dropping the connection",
                (unsigned long long)c->cid, CLOSE_GRACE_SECS,
                c->close_sent ? "no close frame from the peer" : "queued bytes not taken");
        mfb_conn_drop(c);
        return;
    }
    lws_usec_t left = c->close_deadline - now;
    lws_set_timer_usecs(c->wsi, left < CLOSE_TICK_USECS ? left : CLOSE_TICK_USECS);
}

static void on_timer(mfb_conn *c)
{
    mfb_broker *b = c->b;
    if (c->closing) {
        close_tick(c);
        return;
    }
    if (c->phase != MFB_PHASE_WS) {
        MFB_LOGI("cid=%llu %s: no complete HTTP request within %ds, dropping it", (unsigned long long)c->cid, c->ip,
                b->cfg->handshake_timeout);
        c->close_reason = "handshake timeout";
        mfb_conn_drop(c);
        return;
    }
    if (!c->connected && c->auth_pending) {
        /* Its CONNECT is here and waits for the password check (bcrypt, on the worker thread):
         * the client was on time, the check is late (a loaded machine, a high cost). Give it
         * another period; --max-connecting still bounds how many can wait like this. */
        MFB_LOGI("cid=%llu CONNECT still being checked after %ds", (unsigned long long)c->cid, b->cfg->auth_timeout);
        mfb_conn_arm_timer(c);
        return;
    }
    if (!c->connected) {
        MFB_LOGE("cid=%llu no CONNECT within %ds", (unsigned long long)c->cid, b->cfg->auth_timeout);
        b->auth_failures++;
        mfb_conn_close(c, "Authentication Timeout", "connect timeout");
        return;
    }
    if (c->activity) {
        c->activity = false;
        c->pings_out = 0;
    } else if (c->pings_out >= b->cfg->max_pings_out) {
        MFB_LOGE("cid=%llu stale connection: %d PINGs unanswered", (unsigned long long)c->cid, c->pings_out);
        mfb_conn_close(c, "Stale Connection", "stale connection");
        return;
    } else {
        c->pings_out++;
        if (mfb_frameq_prepare(&c->out) == MF_OK && mf_proto_write_ping(&c->out.buf) == MF_OK)
            mfb_conn_queued(c, false, 0);
    }
    mfb_conn_arm_timer(c);
}

int mfb_broker_raw_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    mfb_pss *pss = user;
    mfb_conn *c = pss ? pss->conn : NULL;

    switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT: {
        mfb_broker *b = mfb_broker_from_wsi(wsi);
        if (!pss)
            return -1;
        memset(pss, 0, sizeof *pss);
        c = conn_new(b, wsi);
        if (!c) {
            MFB_LOGE("out of memory accepting a connection");
            return -1;
        }
        pss->conn = c;
        MFB_LOGD("cid=%llu accepted from %s (%zu sockets, %zu connecting)", (unsigned long long)c->cid, c->ip,
                b->nconns, b->nconnecting);
        mfb_conn_arm_timer(c);
        return 0;
    }
    case LWS_CALLBACK_RAW_RX:
        if (!c)
            return -1;
        if (mfb_conn_receive(c, in, len) < 0)
            return -1;
        if (c->congested) {
            c->congested = false;
            if (!c->closing && !c->stalled)
                stall(c);
        }
        return 0;

    case LWS_CALLBACK_RAW_WRITEABLE:
        return c ? on_writeable(c) : 0;

    case LWS_CALLBACK_TIMER:
        if (c)
            on_timer(c);
        return 0;

    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        /* lws_cancel_service from the accounts' worker: answers are ready */
        mfb_auth_poll(mfb_broker_from_wsi(wsi));
        return 0;

    case LWS_CALLBACK_RAW_CLOSE:
        if (c) {
            pss->conn = NULL;
            conn_destroy(c);
        }
        return 0;

    default:
        break;
    }
    return 0;
}

void mfb_broker_begin_shutdown(mfb_broker *b)
{
    if (b->shutting_down)
        return;
    b->shutting_down = true;
    MFB_LOGI("shutting down: closing %zu connections", b->nws);
    for (mfb_conn *c = b->conns; c; c = c->next) {
        if (c->phase == MFB_PHASE_WS)
            conn_close(c, NULL, MF_WS_CLOSE_NORMAL, "Server Shutdown", "server shutdown");
        else if (c->phase == MFB_PHASE_HTTP)
            conn_close(c, NULL, 0, NULL, "server shutdown");
    }
    if (b->nconns == 0 && !b->done) {
        b->done = true;
        lws_cancel_service(b->ctx);
    }
}
