/*
 * conn.c - the "nats" websocket protocol: one mfb_conn per websocket.
 *
 * Receive: lws hands us chunks of websocket messages. NATS over WebSocket is a
 * byte stream (ops may span frames, frames may hold many ops), so chunks go
 * straight into the connection's parser; we only count the bytes of the
 * current websocket message to enforce --ws-max-message (close 1009).
 *
 * Send: everything for a connection is appended to its outbound queue, and
 * only the WRITEABLE callback writes: one lws_write per callback carrying as
 * many queued messages as fit in MF_BROKER_FRAME_MAX bytes (cut at a message
 * boundary whenever possible), then it asks for another callback if more is
 * queued.
 *
 * Closing (a lingering close): an error that ends the connection queues
 * "-ERR '...'" and marks it closing. From then on input is still read but
 * thrown away unparsed (up to a byte budget), while the queue is flushed; when
 * it is empty, WRITEABLE sets the close status and reason (lws_close_reason)
 * and returns -1, which makes lws send the close frame and wait for the peer's
 * close frame (or EOF), discarding data frames meanwhile; only then is the
 * socket closed. Closing a socket that still has unread input makes the kernel
 * send a RST, and a peer still busy writing may then lose the -ERR that had
 * already arrived; reading until the peer's close avoids that. (lws 4.1 still
 * delivers WRITEABLE callbacks during its close handshake: they must return 0,
 * a second -1 kills the socket at once.) A timer ticking every 100 ms bounds
 * the whole close (flush + handshake) to CLOSE_GRACE_SECS, and the bytes the
 * peer may send after the error to --ws-max-message (the kernel's count, which
 * also sees what lws discards without telling us).
 */
#include "broker/broker.h"

#include <linux/tcp.h> /* TCP_INFO, struct tcp_info with tcpi_bytes_received */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Seconds a closing connection gets to take its last bytes and answer the close frame. */
#define CLOSE_GRACE_SECS 3
/* While closing, the timer checks the deadline and the discard budget this often. */
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

static void slow_consumer(mfb_conn *c)
{
    mfb_broker *b = c->b;
    c->slow = true; /* first: the -ERR queued below must not come back here */
    size_t dropped = mfb_outq_drop_unstarted(&c->out);
    b->slow_consumers++;
    MF_LOGE("cid=%llu slow consumer: more than %zu bytes pending, dropped %zu queued bytes, disconnecting",
            (unsigned long long)c->cid, b->cfg->max_pending, dropped);
    mfb_conn_close(c, "Slow Consumer", "slow consumer");
}

void mfb_conn_queued(mfb_conn *c)
{
    mfb_outq_commit(&c->out);
    if (!c->closing && !c->slow && mfb_outq_pending(&c->out) > c->b->cfg->max_pending) {
        slow_consumer(c);
        return;
    }
    mfb_conn_want_write(c);
}

void mfb_conn_send_err(mfb_conn *c, const char *text)
{
    MF_LOGI("cid=%llu -ERR '%s'", (unsigned long long)c->cid, text);
    if (mfb_outq_prepare(&c->out) == MF_OK && mf_proto_write_err(&c->out.buf, text) == MF_OK)
        mfb_conn_queued(c);
}

/* Bytes the kernel has received on the connection's socket so far (Linux TCP_INFO). */
static bool sock_bytes_received(struct lws *wsi, uint64_t *out)
{
    int fd = lws_get_socket_fd(wsi);
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
        return false;
    *out = ti.tcpi_bytes_received;
    return true;
}

/*
 * Bytes the peer sent after the connection began to close. The kernel's count
 * also covers what lws reads and throws away itself during the close handshake
 * (no RECEIVE callbacks then); without it, what RECEIVE discarded.
 */
static uint64_t received_since_close(mfb_conn *c)
{
    uint64_t now;
    if (c->close_rx_known && c->wsi && sock_bytes_received(c->wsi, &now) && now >= c->close_rx_base)
        return now - c->close_rx_base;
    return c->discarded;
}

/* The lingering close's bounds: CLOSE_GRACE_SECS, and --ws-max-message bytes received after the error. */
static void begin_linger(mfb_conn *c)
{
    if (!c->wsi)
        return;
    c->close_deadline = lws_now_usecs() + (lws_usec_t)CLOSE_GRACE_SECS * LWS_USEC_PER_SEC;
    c->close_rx_known = sock_bytes_received(c->wsi, &c->close_rx_base);
    lws_set_timer_usecs(c->wsi, CLOSE_TICK_USECS);
}

static bool discard_budget_spent(mfb_conn *c)
{
    return received_since_close(c) > c->b->cfg->ws_max_message;
}

/* Closing, and the peer sent too much since: stop reading (the close then ends at the next tick). */
static void stop_discarding(mfb_conn *c)
{
    if (c->discard_over)
        return;
    c->discard_over = true;
    MF_LOGI("cid=%llu closing: more than %zu bytes received after the error, no longer reading",
            (unsigned long long)c->cid, c->b->cfg->ws_max_message);
    if (c->wsi)
        lws_rx_flow_control(c->wsi, 0);
}

/* err_text: the -ERR to queue (NULL: none); frame_text: the close frame's reason (NULL: none). */
static void conn_close(mfb_conn *c, const char *err_text, const char *frame_text, const char *reason)
{
    if (c->closing)
        return;
    if (err_text)
        mfb_conn_send_err(c, err_text);
    if (c->closing) /* send_err may have found it a slow consumer */
        return;
    c->closing = true;
    c->close_reason = reason;
    c->close_text = frame_text;
    /* Input keeps being read (and discarded, see on_receive) so that the socket
     * is not closed with unread data; the timer bounds the close. */
    begin_linger(c);
    mfb_conn_want_write(c);
}

void mfb_conn_close(mfb_conn *c, const char *err_text, const char *reason)
{
    conn_close(c, err_text, err_text, reason);
}

static void send_ok(mfb_conn *c)
{
    if (c->verbose && !c->closing && mfb_outq_prepare(&c->out) == MF_OK && mf_proto_write_ok(&c->out.buf) == MF_OK)
        mfb_conn_queued(c);
}

static void send_info(mfb_conn *c)
{
    mfb_broker *b = c->b;
    const mfb_broker_config *cfg = b->cfg;
    if (mfb_outq_prepare(&c->out) != MF_OK)
        return;
    mf_buf *o = &c->out.buf;
    mf_status st = mf_buf_printf(o,
                                 "INFO {\"server_id\":\"%s\",\"server_name\":\"%s\",\"version\":\"%s\","
                                 "\"proto\":1,\"host\":\"%s\",\"port\":%d,\"headers\":true,"
                                 "\"max_payload\":%zu,\"client_id\":%llu,\"client_ip\":\"%s\"%s}\r\n",
                                 b->server_id, cfg->server_name, MF_BROKER_VERSION, cfg->host, cfg->port,
                                 cfg->max_payload, (unsigned long long)c->cid, c->ip,
                                 cfg->auth_token ? ",\"auth_required\":true" : "");
    if (st == MF_OK)
        mfb_conn_queued(c);
}

/* Constant-time comparison: the time depends on the lengths only, never on where bytes differ. */
static bool token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t n = la > lb ? la : lb;
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < n; i++) {
        unsigned char x = i < la ? (unsigned char)a[i] : 0;
        unsigned char y = i < lb ? (unsigned char)b[i] : 0;
        diff |= (unsigned char)(x ^ y);
    }
    return diff == 0;
}

static void arm_timer(mfb_conn *c)
{
    int secs = c->connected ? c->b->cfg->ping_interval : c->b->cfg->handshake_timeout;
    lws_set_timer_usecs(c->wsi, (lws_usec_t)secs * LWS_USEC_PER_SEC);
}

static void handle_connect(mfb_conn *c, const mf_proto_op *op)
{
    mf_proto_connect opts;
    mf_error err;
    mf_error_clear(&err);
    if (mf_proto_parse_connect(op->json.ptr, op->json.len, &opts, &err) != MF_OK) {
        MF_LOGE("cid=%llu bad CONNECT: %s", (unsigned long long)c->cid, err.message);
        mfb_conn_close(c, "Unknown Protocol Operation", "bad CONNECT");
        return;
    }
    const char *want = c->b->cfg->auth_token;
    if (want && !token_equal(opts.auth_token, want)) {
        MF_LOGE("cid=%llu authorization violation (%s)", (unsigned long long)c->cid,
                opts.has_auth_token ? "wrong auth_token" : "no auth_token");
        mfb_conn_close(c, "Authorization Violation", "authorization violation");
        return;
    }
    /* Like nats-server, members a CONNECT leaves out keep their current value
     * (verbose and pedantic start true). */
    if (opts.has_verbose)
        c->verbose = opts.verbose;
    if (opts.has_pedantic)
        c->pedantic = opts.pedantic;
    c->headers = opts.headers;
    c->no_responders = opts.no_responders && opts.headers;
    c->echo = opts.echo;
    snprintf(c->name, sizeof c->name, "%s", opts.name);
    bool first = !c->connected;
    c->connected = true;
    if (first) {
        MF_LOGD("cid=%llu CONNECT name='%s' lang='%s' version='%s' verbose=%d pedantic=%d headers=%d",
                (unsigned long long)c->cid, opts.name, opts.lang, opts.version, opts.verbose, opts.pedantic,
                opts.headers);
        arm_timer(c);
    }
    send_ok(c);
}

static void handle_op(mfb_conn *c, const mf_proto_op *op)
{
    if (c->b->cfg->log_level >= MF_LOG_DEBUG)
        MF_LOGD("cid=%llu <- %s%s%.*s", (unsigned long long)c->cid, mf_proto_kind_str(op->kind),
                op->subject.len ? " " : "", (int)op->subject.len, op->subject.ptr ? op->subject.ptr : "");
    /* With authentication on, the first op must be a CONNECT (as nats-server). */
    if (!c->connected && c->b->cfg->auth_token && op->kind != MF_OP_CONNECT) {
        MF_LOGE("cid=%llu authorization violation (%s before CONNECT)", (unsigned long long)c->cid,
                mf_proto_kind_str(op->kind));
        mfb_conn_close(c, "Authorization Violation", "authorization violation");
        return;
    }
    switch (op->kind) {
    case MF_OP_CONNECT:
        handle_connect(c, op);
        break;
    case MF_OP_PING:
        if (mfb_outq_prepare(&c->out) == MF_OK && mf_proto_write_pong(&c->out.buf) == MF_OK)
            mfb_conn_queued(c);
        break;
    case MF_OP_PONG:
        c->pings_out = 0;
        break;
    case MF_OP_HPUB:
        if (!c->headers) {
            /* nats-server: headers must be announced in CONNECT first */
            MF_LOGE("cid=%llu HPUB without headers support in CONNECT", (unsigned long long)c->cid);
            mfb_conn_close(c, "Unknown Protocol Operation", "protocol error");
            break;
        }
        mfb_route_pub(c, op);
        break;
    case MF_OP_PUB:
        mfb_route_pub(c, op);
        break;
    case MF_OP_SUB:
        mfb_route_sub(c, op);
        break;
    case MF_OP_UNSUB:
        mfb_route_unsub(c, op);
        break;
    default:
        /* the server-side parser returns no other kinds */
        mfb_conn_close(c, "Unknown Protocol Operation", "unexpected operation");
        break;
    }
}

/* Protocol violation -> the nats-server text, then close. */
static void protocol_error(mfb_conn *c, const mf_error *err)
{
    const char *text;
    switch (c->parser.error) {
    case MF_PROTO_E_PAYLOAD_TOO_BIG: text = "Maximum Payload Violation"; break;
    case MF_PROTO_E_LINE_TOO_LONG: text = "maximum control line exceeded"; break; /* nats-server's case */
    default: text = "Unknown Protocol Operation"; break;
    }
    MF_LOGE("cid=%llu protocol error: %s", (unsigned long long)c->cid, err->message);
    if (!c->connected && c->b->cfg->auth_token)
        text = "Authorization Violation";
    mfb_conn_close(c, text, "protocol error");
}

static mfb_conn *conn_new(mfb_broker *b, struct lws *wsi)
{
    mfb_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->b = b;
    c->wsi = wsi;
    c->cid = ++b->next_cid;
    c->started = time(NULL);
    /* nats-server's defaults until a CONNECT says otherwise */
    c->echo = true;
    c->verbose = true;
    c->pedantic = true;
    mf_proto_parser_init(&c->parser, MF_PROTO_SERVER_SIDE, b->cfg->max_control, b->cfg->max_payload);
    mfb_outq_init(&c->out);
    lws_get_peer_simple(wsi, c->ip, sizeof c->ip);
    /* link */
    c->next = b->conns;
    if (b->conns)
        b->conns->prev = c;
    b->conns = c;
    b->nconns++;
    b->total_connections++;
    return c;
}

static void conn_destroy(mfb_conn *c)
{
    mfb_broker *b = c->b;
    lws_sul_cancel(&c->stall_sul);
    mfb_route_drop_conn(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        b->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    b->nconns--;
    MF_LOGI("cid=%llu disconnected (%s) after %llds: in %llu msgs/%llu bytes, out %llu msgs/%llu bytes",
            (unsigned long long)c->cid, c->close_reason ? c->close_reason : "client closed",
            (long long)(time(NULL) - c->started), (unsigned long long)c->in_msgs, (unsigned long long)c->in_bytes,
            (unsigned long long)c->out_msgs, (unsigned long long)c->out_bytes);
    mf_proto_parser_free(&c->parser);
    mfb_outq_free(&c->out);
    free(c);
    if (b->shutting_down && b->nconns == 0 && !b->done) {
        b->done = true;
        lws_cancel_service(b->ctx);
    }
}

static bool origin_allowed(mfb_broker *b, struct lws *wsi)
{
    if (b->cfg->norigins == 0)
        return true;
    char origin[512];
    int n = lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN);
    if (n <= 0) {
        MF_LOGE("websocket upgrade refused: no Origin header (allowed origins are configured)");
        return false;
    }
    for (size_t i = 0; i < b->cfg->norigins; i++)
        if (strcmp(origin, b->cfg->origins[i]) == 0)
            return true;
    MF_LOGE("websocket upgrade refused: Origin '%s' not allowed", origin);
    return false;
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

static int on_receive(mfb_conn *c, struct lws *wsi, const void *in, size_t len)
{
    mfb_broker *b = c->b;
    if (c->closing) {
        /* thrown away unparsed; a peer that sent far more than the rest of one
         * message since the error is no longer read */
        c->discarded += len;
        if (discard_budget_spent(c))
            stop_discarding(c);
        return 0;
    }
    c->ws_msg_bytes += len;
    if (c->ws_msg_bytes > b->cfg->ws_max_message) {
        MF_LOGE("cid=%llu websocket message larger than %zu bytes, closing 1009", (unsigned long long)c->cid,
                b->cfg->ws_max_message);
        c->close_reason = "websocket message too big";
        /* lws sends the close frame and waits for the peer's (discarding data); nothing
         * of ours may follow it */
        c->closing = true;
        c->close_sent = true;
        begin_linger(c);
        static const char why[] = "Maximum Message Size Exceeded";
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why, sizeof why - 1);
        return -1;
    }
    if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
        c->ws_msg_bytes = 0;
    if (len == 0)
        return 0;
    c->activity = true;
    if (mf_proto_feed(&c->parser, in, len) != MF_OK) {
        MF_LOGE("cid=%llu out of memory buffering input", (unsigned long long)c->cid);
        mfb_conn_close(c, NULL, "out of memory");
        return 0;
    }
    mf_proto_op op;
    mf_error err;
    int r;
    while (!c->closing && (r = mf_proto_next(&c->parser, &op, &err)) == 1)
        handle_op(c, &op);
    if (!c->closing && r < 0)
        protocol_error(c, &err);
    if (c->congested) {
        c->congested = false;
        if (!c->closing && !c->stalled)
            stall(c);
    }
    return 0;
}

static int on_writeable(mfb_conn *c, struct lws *wsi)
{
    c->write_requested = false;
    if (c->close_sent)
        return 0; /* lws is in its close handshake: returning -1 again would drop the socket now */
    size_t pending = mfb_outq_pending(&c->out);
    if (pending == 0) {
        if (c->closing) {
            /* Everything is out: lws sends the close frame (status 1000 and the reason),
             * then reads, discarding data frames, until the peer's close frame or EOF. */
            c->close_sent = true;
            if (!c->discard_over && !c->stalled)
                lws_rx_flow_control(wsi, 1);
            const char *t = c->close_text;
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)t, t ? strlen(t) : 0);
            return -1;
        }
        return 0; /* a spare callback */
    }
    bool ends;
    size_t n = mfb_outq_next_chunk(&c->out, MF_BROKER_FRAME_MAX, &ends);
    unsigned char *p = (unsigned char *)c->out.buf.data + c->out.head;
    int w = lws_write(wsi, p, n, LWS_WRITE_BINARY);
    if (w < (int)n) {
        MF_LOGE("cid=%llu write failed", (unsigned long long)c->cid);
        c->close_reason = "write error";
        return -1;
    }
    mfb_outq_consume(&c->out, n, ends);
    /* more to send, or the close still to do */
    if (mfb_outq_pending(&c->out) || c->closing)
        mfb_conn_want_write(c);
    return 0;
}

/*
 * Drops a closing connection now. Through lws' timeout rather than a -1 from
 * the callback: a timed-out wsi is killed outright, whereas a close requested
 * by the callback would first wait (up to 5 s more) for output lws still
 * buffers, and the peer that did not take its bytes in time will not take them.
 */
static void drop_now(mfb_conn *c)
{
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* A closing connection's tick: the deadline and the discard budget. */
static void close_tick(mfb_conn *c)
{
    lws_usec_t now = lws_now_usecs();
    if (now >= c->close_deadline) {
        MF_LOGI("cid=%llu closing: not finished within %ds (%s), dropping the connection",
                (unsigned long long)c->cid, CLOSE_GRACE_SECS,
                c->close_sent ? "no close frame from the peer" : "queued bytes not taken");
        drop_now(c);
        return;
    }
    if (discard_budget_spent(c)) {
        if (c->close_sent) {
            /* lws is reading and discarding for us in its close handshake: enough */
            MF_LOGI("cid=%llu closing: more than %zu bytes received after the error, dropping the connection",
                    (unsigned long long)c->cid, c->b->cfg->ws_max_message);
            drop_now(c);
            return;
        }
        stop_discarding(c);
    }
    lws_usec_t left = c->close_deadline - now;
    lws_set_timer_usecs(c->wsi, left < CLOSE_TICK_USECS ? left : CLOSE_TICK_USECS);
}

static void on_timer(mfb_conn *c)
{
    if (c->closing) {
        close_tick(c);
        return;
    }
    if (!c->connected) {
        MF_LOGE("cid=%llu no CONNECT within %ds", (unsigned long long)c->cid, c->b->cfg->handshake_timeout);
        mfb_conn_close(c, "Authentication Timeout", "connect timeout");
        return;
    }
    if (c->activity) {
        c->activity = false;
        c->pings_out = 0;
    } else if (c->pings_out >= c->b->cfg->max_pings_out) {
        MF_LOGE("cid=%llu stale connection: %d PINGs unanswered", (unsigned long long)c->cid, c->pings_out);
        mfb_conn_close(c, "Stale Connection", "stale connection");
        return;
    } else {
        c->pings_out++;
        if (mfb_outq_prepare(&c->out) == MF_OK && mf_proto_write_ping(&c->out.buf) == MF_OK)
            mfb_conn_queued(c);
    }
    arm_timer(c);
}

int mfb_broker_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    mfb_pss *pss = user;
    mfb_broker *b;
    mfb_conn *c = pss ? pss->conn : NULL;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* Do not read `in` here (see docs/broker.md: lws 4.1 upgrade bug). */
        b = mfb_broker_from_wsi(wsi);
        if (b->shutting_down)
            return 1;
        return origin_allowed(b, wsi) ? 0 : 1;

    case LWS_CALLBACK_ESTABLISHED:
        b = mfb_broker_from_wsi(wsi);
        if (pss)
            memset(pss, 0, sizeof *pss);
        c = pss ? conn_new(b, wsi) : NULL;
        if (!c) {
            MF_LOGE("out of memory accepting a connection");
            return -1;
        }
        pss->conn = c;
        MF_LOGI("cid=%llu connected from %s (%zu connections)", (unsigned long long)c->cid, c->ip, b->nconns);
        if (b->nconns > b->cfg->max_connections) {
            MF_LOGE("cid=%llu refused: maximum connections (%zu) exceeded", (unsigned long long)c->cid,
                    b->cfg->max_connections);
            mfb_conn_close(c, "maximum connections exceeded", "maximum connections exceeded");
            return 0;
        }
        send_info(c);
        arm_timer(c);
        if (b->shutting_down)
            conn_close(c, NULL, "Server Shutdown", "server shutdown");
        return 0;

    case LWS_CALLBACK_RECEIVE:
        if (!c)
            return -1;
        return on_receive(c, wsi, in, len);

    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (!c)
            return 0;
        return on_writeable(c, wsi);

    case LWS_CALLBACK_TIMER:
        if (c)
            on_timer(c);
        return 0;

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c && !c->close_reason)
            c->close_reason = "client closed";
        return 0;

    case LWS_CALLBACK_CLOSED:
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
    MF_LOGI("shutting down: closing %zu connections", b->nconns);
    for (mfb_conn *c = b->conns; c; c = c->next)
        conn_close(c, NULL, "Server Shutdown", "server shutdown");
    if (b->nconns == 0 && !b->done) {
        b->done = true;
        lws_cancel_service(b->ctx);
    }
}
