/*
 * wire.c - the client's WebSocket: the HTTP/1.1 upgrade and the frames, on an
 * lws raw socket (lws does TCP and TLS; RFC 6455 is runtime/ws/).
 *
 * The client applies to the server what the broker applies to clients: a
 * masked server frame, a bad close status, text that is not UTF-8, a message
 * over ws_max_message (refused at its header) and any other framing error fail
 * the connection (MF_CLIENT_ERROR with MF_ERR_PROTOCOL, our close frame with
 * the RFC 6455 status, then the socket closes and the client reconnects). A
 * hostile server can therefore neither crash the client nor make it buffer
 * without bound: WebSocket payload goes straight to the NATS parser, which
 * bounds lines and payloads itself.
 *
 * Writes: one lws_write per WRITEABLE: the upgrade request, a pong, our close
 * frame, or one binary frame of queued NATS bytes, masked with a fresh key
 * (RFC 6455 5.3: unpredictable; drawn from getrandom in batches).
 *
 * Everything here runs on the service thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "client/client_int.h"

/* A frame's header is written into the headroom in front of its payload. */
_Static_assert(LWS_PRE >= MF_WS_MAX_HEADER, "LWS_PRE must hold a masked frame header");

/* A fresh masking key. */
static void next_mask(mf_client *c, unsigned char key[4])
{
    if (c->maskpos + 4 > sizeof c->maskpool) {
        ssize_t r;
        do
            r = getrandom(c->maskpool, sizeof c->maskpool, 0);
        while (r < 0 && errno == EINTR);
        if (r != (ssize_t)sizeof c->maskpool) {
            /* no entropy: still different keys (masking is about proxies, not secrecy) */
            for (size_t i = 0; i < sizeof c->maskpool; i++)
                c->maskpool[i] = (unsigned char)mf_xorshift64(&c->rng);
        }
        c->maskpos = 0;
    }
    memcpy(key, c->maskpool + c->maskpos, 4);
    c->maskpos += 4;
}

bool mf_wire_write(mf_client *c, struct lws *wsi, const unsigned char *p, size_t n)
{
    bool ok = c->tls ? mf_tls_write(c, wsi, p, n) == 0 : lws_write(wsi, (unsigned char *)p, n, LWS_WRITE_RAW) >= (int)n;
    if (!ok)
        mf_client_log(c, MF_LOG_WARN, "%s: write failed", c->cur_url);
    return ok;
}

/* Writes a frame whose payload is at p[0, n) with at least MF_WS_MAX_HEADER free bytes
 * in front of it (the payload is masked in place). */
static bool write_frame(mf_client *c, struct lws *wsi, mf_ws_opcode op, unsigned char *p, size_t n)
{
    unsigned char key[4], hdr[MF_WS_MAX_HEADER];
    next_mask(c, key);
    size_t h = mf_ws_write_header(hdr, op, true, n, key);
    mf_ws_mask(p, n, key, 0);
    memcpy(p - h, hdr, h);
    return mf_wire_write(c, wsi, p - h, n + h);
}

static bool write_control(mf_client *c, struct lws *wsi, mf_ws_opcode op, const unsigned char *body, size_t n)
{
    unsigned char f[MF_WS_MAX_HEADER + MF_WS_MAX_CONTROL];
    memcpy(f + MF_WS_MAX_HEADER, body, n);
    return write_frame(c, wsi, op, f + MF_WS_MAX_HEADER, n);
}

int mf_wire_start(mf_client *c, struct lws *wsi)
{
    mf_server *s = &c->pool[c->cur];
    c->close_sent = c->peer_closed = c->ws_failed = c->pong_pending = false;
    c->hs_request_done = false;
    c->hs_sent = 0;
    c->lost_why[0] = '\0';
    mf_buf_reset(&c->hs);
    mf_ws_parser_init(&c->wsp, MF_WS_CLIENT, c->o.ws_max_message);
    bool v6 = strchr(s->host, ':') != NULL;
    if (mf_ws_new_key(c->ws_key) ||
        mf_buf_printf(&c->hs,
                      "GET %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nUser-Agent: mflow/0.1.0\r\n\r\n",
                      s->path, v6 ? "[" : "", s->host, v6 ? "]" : "", s->port, c->ws_key)) {
        snprintf(c->lost_why, sizeof c->lost_why, "cannot build the upgrade request");
        return -1;
    }
    lws_callback_on_writable(wsi);
    return 0;
}

/* Fails the connection: our close frame with `code`, then the socket closes (RFC 6455 7.1.7). */
static void fail(mf_client *c, struct lws *wsi, unsigned code, const char *why)
{
    mf_client_log(c, MF_LOG_ERROR, "%s: %s, closing %u", c->cur_url, why, code);
    char text[96];
    snprintf(text, sizeof text, "websocket: %s", why);
    mf_client_emit(c, MF_CLIENT_ERROR, MF_ERR_PROTOCOL, text, 0, 0, c->cur_url);
    snprintf(c->lost_why, sizeof c->lost_why, "%s", text);
    c->ws_failed = true;
    if (c->wsi == wsi)
        mf_client_kill_wsi(c, (int)code);
}

/* The server's close frame. 0, or -1: close the socket now. */
static int on_close(mf_client *c, struct lws *wsi, const mf_ws_event *ev)
{
    c->peer_closed = true;
    mf_client_log(c, MF_LOG_INFO, "%s closed the connection (%u%s%.*s)", c->cur_url, ev->close_code,
                  ev->len ? ": " : "", (int)(ev->len > 80 ? 80 : ev->len), (const char *)ev->data);
    snprintf(c->lost_why, sizeof c->lost_why, "closed by the server (%u%s%.*s)", ev->close_code, ev->len ? ": " : "",
             (int)(ev->len > 80 ? 80 : ev->len), (const char *)ev->data);
    if (c->close_sent)
        return -1; /* it answers ours */
    /* answer with the same status, then the server closes the TCP connection (or we do) */
    mf_client_kill_wsi(c, ev->close_code == MF_WS_CLOSE_NO_STATUS ? 0 : (int)ev->close_code);
    (void)wsi;
    return 0;
}

/* WebSocket bytes after the upgrade. */
static int frames_in(mf_client *c, struct lws *wsi, unsigned char *in, size_t len)
{
    size_t off = 0;
    while (off < len && !c->ws_failed && !c->peer_closed) {
        size_t used;
        mf_ws_event ev;
        int r = mf_ws_parse(&c->wsp, in + off, len - off, &used, &ev);
        off += used;
        if (r < 0) {
            fail(c, wsi, c->wsp.error_code, c->wsp.error_text);
            return 0;
        }
        if (r == 0)
            break;
        switch (ev.kind) {
        case MF_WS_EV_DATA:
            if (c->kill_conn || !ev.len)
                break; /* closing: data is not looked at any more */
            if (mf_client_nats_receive(c, wsi, ev.data, ev.len) < 0)
                return -1;
            break;
        case MF_WS_EV_PING:
            memcpy(c->pong, ev.data, ev.len);
            c->pong_len = ev.len;
            c->pong_pending = true;
            lws_callback_on_writable(wsi);
            break;
        case MF_WS_EV_PONG:
            break;
        case MF_WS_EV_CLOSE:
            return on_close(c, wsi, &ev);
        }
        if (c->wsi != wsi)
            return 0; /* a callback's side effect closed this connection */
    }
    return 0;
}

/* The upgrade response; then the frames that came with it. */
static int upgrade_in(mf_client *c, struct lws *wsi, unsigned char *in, size_t len)
{
    size_t room = MF_WS_HTTP_HEAD_MAX - c->hs.len;
    size_t take = len < room ? len : room;
    if (mf_buf_append(&c->hs, in, take))
        return -1;
    size_t head;
    char why[128];
    int r = mf_ws_parse_response(c->hs.data, c->hs.len, c->ws_key, &head, why, sizeof why);
    if (r == 0)
        return 0;
    if (r < 0) {
        mf_client_log(c, MF_LOG_WARN, "%s: %s", c->cur_url, why);
        snprintf(c->lost_why, sizeof c->lost_why, "%s", why);
        return -1;
    }
    pthread_mutex_lock(&c->mu);
    c->state = MF_CS_WAIT_INFO;
    pthread_mutex_unlock(&c->mu);
    mf_client_log(c, MF_LOG_DEBUG, "WebSocket open to %s", c->cur_url);
    size_t early = c->hs.len - head;
    int rc = 0;
    if (early) {
        unsigned char *first = malloc(early);
        if (!first)
            return -1;
        memcpy(first, c->hs.data + head, early);
        rc = frames_in(c, wsi, first, early);
        free(first);
    }
    mf_buf_free(&c->hs);
    if (!rc && take < len && c->wsi == wsi)
        rc = frames_in(c, wsi, in + take, len - take);
    return rc;
}

int mf_wire_receive(mf_client *c, struct lws *wsi, unsigned char *in, size_t len)
{
    if (c->state == MF_CS_UPGRADING)
        return c->hs_request_done ? upgrade_in(c, wsi, in, len) : 0;
    if (c->ws_failed || c->peer_closed)
        return 0; /* nothing more is processed; the close is on its way */
    return frames_in(c, wsi, in, len);
}

/*
 * A backlog of at least this many bytes is detached from the queue (mf_replayq_detach) and
 * framed without the client lock: a publisher that outruns the connection holds the lock
 * while its records go into fresh pages of the growing queue (about 15 us a page fault on
 * the 2-vCPU VM of bench/RESULTS.md), and a writer that needed the lock for every frame
 * waited on it 11,000-14,000 times per 200,000 messages. Smaller queues are copied out
 * under the lock, frame by frame, as before.
 */
#define DETACH_MIN (256u * 1024u)

/* One frame of queued NATS bytes. 0 nothing to send, 1 sent, -1 failed. */
static int write_data(mf_client *c, struct lws *wsi)
{
    unsigned char *p = (unsigned char *)c->frame + LWS_PRE;
    size_t n = 0;
    bool more = true; /* while detached bytes remain, writer_armed stays as it was: true */
    if (!c->can_send || !mf_replayq_detached(&c->q)) {
        pthread_mutex_lock(&c->mu);
        if (c->can_send && !mf_replayq_detach(&c->q, DETACH_MIN))
            n = mf_replayq_take(&c->q, (char *)p, c->o.frame_size);
        more = c->can_send && mf_replayq_has_unsent(&c->q);
        c->writer_armed = more; /* asked for below; when false, the next publish wakes us */
        pthread_mutex_unlock(&c->mu);
    }
    if (!n && c->can_send && mf_replayq_detached(&c->q)) {
        n = mf_replayq_take_detached(&c->q, (char *)p, c->o.frame_size);
        more = true; /* the next WRITEABLE looks again (under the lock once this part is out) */
    }
    if (!n)
        return 0;
    if (!write_frame(c, wsi, MF_WS_OP_BINARY, p, n))
        return -1;
    if (more)
        lws_callback_on_writable(wsi);
    return 1;
}

int mf_wire_writeable(mf_client *c, struct lws *wsi)
{
    if (!c->hs_request_done) {
        size_t n = c->hs.len - c->hs_sent;
        if (c->kill_conn)
            return -1;
        if (n && !mf_wire_write(c, wsi, (unsigned char *)c->hs.data + c->hs_sent, n))
            return -1;
        c->hs_request_done = true;
        mf_buf_reset(&c->hs); /* now it collects the response */
        return 0;
    }
    if (c->state == MF_CS_UPGRADING)
        return c->kill_conn ? -1 : 0;
    if (c->kill_conn) {
        if (!c->close_sent) {
            unsigned char body[MF_WS_MAX_CONTROL];
            size_t n = mf_ws_close_body(body, (unsigned)c->kill_code, NULL);
            c->close_sent = true;
            if (!write_control(c, wsi, MF_WS_OP_CLOSE, body, n))
                return -1;
        }
        /* done when the server had closed or we failed the connection; otherwise its close
         * frame (or EOF) ends it, bounded by the kill timeout */
        return c->peer_closed || c->ws_failed ? -1 : 0;
    }
    if (c->pong_pending) {
        c->pong_pending = false;
        if (!write_control(c, wsi, MF_WS_OP_PONG, c->pong, c->pong_len))
            return -1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    return write_data(c, wsi) < 0 ? -1 : 0;
}
