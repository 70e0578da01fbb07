/*
 * recv.c - bytes in: first the HTTP request head, then WebSocket frames.
 *
 * The head is collected (at most MF_WS_HTTP_HEAD_MAX bytes) and handed to
 * http.c once complete. After the upgrade every chunk goes through the
 * connection's WebSocket parser (mf/ws.h): data is fed to the NATS parser and
 * its operations handled one by one; a ping is answered with a pong; the
 * peer's close frame is answered and ends the connection. A WebSocket protocol
 * error (an unmasked frame, a bad close status, text that is not UTF-8, a
 * message over --ws-max-message, ...) closes the connection with the status
 * RFC 6455 names and no -ERR.
 *
 * While closing, input is still read (for the lingering close, conn.c) and its
 * frames parsed to find the peer's close frame, but data is thrown away; a peer
 * that sends more than --ws-max-message bytes after the error is dropped.
 */
#include "broker/broker.h"

#include <stdlib.h>
#include <string.h>

static void on_data(mfb_conn *c, const unsigned char *p, size_t n)
{
    if (c->closing || n == 0)
        return;
    if (mf_proto_feed(&c->parser, p, n) != MF_OK) {
        MFB_LOGE("cid=%llu out of memory buffering input", (unsigned long long)c->cid);
        mfb_conn_close(c, NULL, "out of memory");
        return;
    }
    mfb_ops_run(c);
}

static void on_ping(mfb_conn *c, const mf_ws_event *ev)
{
    memcpy(c->pong, ev->data, ev->len);
    c->pong_len = ev->len;
    c->pong_pending = true; /* only the latest ping is answered (RFC 6455 5.5.3) */
    mfb_conn_want_write(c);
}

/* The peer's close frame. 0, or -1: close the socket now. */
static int on_close(mfb_conn *c, const mf_ws_event *ev)
{
    c->peer_closed = true;
    if (c->close_sent)
        return mfb_conn_finish(c); /* it answers ours: the handshake is complete */
    MFB_LOGD("cid=%llu close frame from the client (%u)", (unsigned long long)c->cid, ev->close_code);
    if (!c->closing) {
        /* answer with the same status (none for none); what is still queued is dropped */
        uint64_t msgs = 0;
        mfb_frameq_drop_unstarted(&c->out, &msgs);
        c->b->dropped_msgs += msgs;
        unsigned code = ev->close_code == MF_WS_CLOSE_NO_STATUS ? 0 : ev->close_code;
        mfb_conn_close_ws(c, code, "", "client closed");
    }
    mfb_conn_want_write(c);
    return 0;
}

/* The parser refused a frame. 0, or -1: close the socket now. */
static int on_ws_error(mfb_conn *c)
{
    const mf_ws_parser *w = &c->ws;
    if (c->closing && w->error_code != MF_WS_CLOSE_TOO_BIG)
        return -1; /* garbage while closing: no close frame will be found in it */
    MFB_LOGE("cid=%llu websocket protocol error: %s, closing %u", (unsigned long long)c->cid, w->error_text,
            w->error_code);
    if (w->error_code == MF_WS_CLOSE_TOO_BIG) {
        /* the framing is intact: the peer's close frame can still be read after the message */
        mfb_conn_close_ws(c, MF_WS_CLOSE_TOO_BIG, "Maximum Message Size Exceeded", "websocket message too big");
        return 0;
    }
    /* RFC 6455 7.1.7: after failing the connection nothing more from the peer is processed,
     * not even a close frame, so ours is the last word: the socket closes once it is out. */
    mfb_conn_close_ws(c, w->error_code, w->error_text, "websocket protocol error");
    c->peer_closed = true;
    return 0;
}

static int ws_receive(mfb_conn *c, unsigned char *in, size_t len)
{
    if (c->closing) {
        c->discarded += len;
        if (c->discarded > c->b->cfg->ws_max_message) {
            MFB_LOGI("cid=%llu closing: more than %zu bytes received after the error, dropping the connection",
                    (unsigned long long)c->cid, c->b->cfg->ws_max_message);
            c->discard_over = true;
            return -1;
        }
        if (c->peer_closed)
            return 0; /* nothing more to look for */
    }
    c->activity = true;
    size_t off = 0;
    while (off < len) {
        size_t used;
        mf_ws_event ev;
        int r = mf_ws_parse(&c->ws, in + off, len - off, &used, &ev);
        off += used;
        if (r < 0) {
            if (on_ws_error(c) < 0)
                return -1;
            if (c->peer_closed)
                return 0;
            continue;
        }
        if (r == 0)
            break;
        switch (ev.kind) {
        case MF_WS_EV_DATA:
            on_data(c, ev.data, ev.len);
            break;
        case MF_WS_EV_PING:
            on_ping(c, &ev);
            break;
        case MF_WS_EV_PONG:
            break;
        case MF_WS_EV_CLOSE:
            return on_close(c, &ev);
        }
    }
    return 0;
}

static int http_receive(mfb_conn *c, unsigned char *in, size_t len)
{
    /* After a TLS accept lws arms a timeout of its own that nothing clears for raw
     * sockets; the phases' deadlines are ours (conn.c). */
    if (!c->http.len)
        lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
    size_t room = MF_WS_HTTP_HEAD_MAX - c->http.len;
    size_t take = len < room ? len : room;
    if (mf_buf_append(&c->http, in, take) != MF_OK)
        return -1;
    mf_ws_request req;
    size_t head;
    int status;
    const char *why;
    int r = mf_ws_parse_request(c->http.data, c->http.len, &req, &head, &status, &why);
    if (r == 0)
        return 0;
    if (r < 0) {
        MFB_LOGI("cid=%llu %s: bad HTTP request (%s), answering %d", (unsigned long long)c->cid, c->ip, why, status);
        mfb_http_reply(c, status, why);
        return 0;
    }
    /* Bytes after the head are the client's first frames (it should have waited for
     * the 101, but nothing is lost if it did not). */
    size_t early = c->http.len - head;
    unsigned char *first = NULL;
    if (early && !(first = malloc(early)))
        return -1;
    if (early)
        memcpy(first, c->http.data + head, early);
    mfb_http_request(c, &req);
    int rc = 0;
    if (c->phase == MFB_PHASE_WS && !c->closing) {
        if (early)
            rc = ws_receive(c, first, early);
        if (!rc && take < len)
            rc = ws_receive(c, in + take, len - take);
    }
    free(first);
    return rc;
}

int mfb_conn_receive(mfb_conn *c, unsigned char *in, size_t len)
{
    switch (c->phase) {
    case MFB_PHASE_HTTP:
        return http_receive(c, in, len);
    case MFB_PHASE_WS:
        return ws_receive(c, in, len);
    default:
        return 0; /* answering an HTTP request: anything after it is ignored */
    }
}
