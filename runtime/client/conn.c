/*
 * conn.c - the service thread: the lws context, one connection at a time (an
 * lws raw socket carrying our own WebSocket, wire.c), the NATS handshake
 * (INFO -> CONNECT + SUBs + PING -> PONG), reading (a byte stream fed to the
 * shared mf_proto parser), keepalive PINGs, connect timeouts and reconnects
 * with exponential backoff and jitter over the server pool.
 *
 * Everything here runs on the service thread, the only thread that calls
 * libwebsockets; other threads only call lws_cancel_service() (client.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_int.h"

#define MF_CLOSE_GRACE_US (1000 * 1000)

static void connect_attempt(mf_client *c);
static void on_lost(mf_client *c, const char *why);

/* Ends the service loop; the poll in progress is interrupted (lws_service may
 * have run this from a timer and would otherwise go on polling). */
static void request_stop(mf_client *c)
{
    mf_client_life_to(c, MF_LIFE_STOPPED);
    lws_cancel_service(c->ctx);
}

/* The close has completed (closed, CLOSED event run): the loop ends if the owner destroys. */
static void stop_if_destroying(mf_client *c)
{
    pthread_mutex_lock(&c->mu);
    bool destroy = c->destroy_req;
    pthread_mutex_unlock(&c->mu);
    if (destroy)
        request_stop(c);
}

/* Closing: the connection goes, no reconnect follows. */
static bool closing(const mf_client *c)
{
    return mf_client_life(c) >= MF_LIFE_CLOSING;
}

static bool stopped(const mf_client *c)
{
    return mf_client_life(c) >= MF_LIFE_STOPPED;
}

static const char *cur_server_url(mf_client *c)
{
    return c->n_pool ? c->pool[c->cur].url : "";
}

/* -------------------------------------------------------------- timers */

static void sul_reconnect_cb(lws_sorted_usec_list_t *sul)
{
    connect_attempt(lws_container_of(sul, mf_client, sul_reconnect));
}

/* Closes the current connection: our close frame with `code` (0 = none) at the next
 * WRITEABLE, then the socket; lws kills it after a second whatever happens. */
void mf_client_kill_wsi(mf_client *c, int code)
{
    if (!c->wsi)
        return;
    c->kill_conn = true;
    c->kill_code = code;
    lws_callback_on_writable(c->wsi);
    /* if it never becomes writeable (peer stuck, not yet connected), lws kills it */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 1);
}

static void sul_conn_timeout_cb(lws_sorted_usec_list_t *sul)
{
    mf_client *c = lws_container_of(sul, mf_client, sul_conn_timeout);
    if (c->state == MF_CS_CONNECTED || c->state == MF_CS_CLOSED)
        return;
    mf_client_log(c, MF_LOG_INFO, "connect to %s timed out", cur_server_url(c));
    if (c->wsi)
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    else
        on_lost(c, "connect timeout");
}

static void sul_ping_cb(lws_sorted_usec_list_t *sul)
{
    mf_client *c = lws_container_of(sul, mf_client, sul_ping);
    if (c->state != MF_CS_CONNECTED || !c->wsi)
        return;
    pthread_mutex_lock(&c->mu);
    bool stale = c->fifo_n >= (size_t)c->o.max_pings_out;
    if (!stale)
        (void)mf_client_queue_ping_locked(c, MF_TAG_KEEPALIVE);
    pthread_mutex_unlock(&c->mu);
    if (stale) {
        mf_client_log(c, MF_LOG_WARN, "%s: no PONG for %d PINGs, dropping the connection", cur_server_url(c),
                      c->o.max_pings_out);
        mf_client_emit(c, MF_CLIENT_ERROR, MF_ERR_TIMEOUT, "stale connection", 0, 0, cur_server_url(c));
        mf_client_kill_wsi(c, MF_WS_CLOSE_NORMAL);
        return;
    }
    lws_callback_on_writable(c->wsi);
    lws_sul_schedule(c->ctx, 0, &c->sul_ping, sul_ping_cb, (lws_usec_t)c->o.ping_interval_ms * 1000);
}

static void sul_close_cb(lws_sorted_usec_list_t *sul)
{
    mf_client *c = lws_container_of(sul, mf_client, sul_close);
    /* the peer did not complete the close in time: abandon the wsi (context destroy reaps it) */
    if (c->wsi)
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    c->wsi = NULL;
    c->attempt_live = false;
    mf_client_finish_close(c, c->close_status);
    stop_if_destroying(c);
}

/* ---------------------------------------------------------- connection */

static int64_t backoff_us(mf_client *c)
{
    int64_t ms = c->o.reconnect_wait_ms;
    for (int i = 1; i < c->attempts && ms < c->o.reconnect_wait_max_ms; i++)
        ms *= 2;
    if (ms > c->o.reconnect_wait_max_ms)
        ms = c->o.reconnect_wait_max_ms;
    if (c->o.reconnect_jitter_ms > 0)
        ms += (int64_t)(mf_xorshift64(&c->rng) % (uint64_t)(c->o.reconnect_jitter_ms + 1));
    return ms * 1000;
}

static void connect_attempt(mf_client *c)
{
    if (closing(c) || c->state == MF_CS_CLOSED || c->wsi)
        return;
    mf_server *s = &c->pool[c->cur];
    pthread_mutex_lock(&c->mu);
    snprintf(c->cur_url, sizeof c->cur_url, "%s", s->url);
    c->state = MF_CS_CONNECTING;
    pthread_mutex_unlock(&c->mu);
    mf_client_log(c, MF_LOG_DEBUG, "connecting to %s", s->url);

    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = c->ctx;
    i.address = s->host;
    i.port = s->port;
    i.path = s->path;
    char hosthdr[300];
    snprintf(hosthdr, sizeof hosthdr, strchr(s->host, ':') ? "[%s]" : "%s", s->host);
    i.host = hosthdr; /* TLS: SNI and the certificate's name */
    i.method = "RAW";  /* lws does TCP (and TLS); the upgrade is ours (wire.c) */
    i.local_protocol_name = c->protocols[0].name;
    i.pwsi = &c->wsi;
    c->attempt_live = true;
    c->kill_conn = false;
    mf_proto_parser_reset(&c->parser);
    lws_sul_schedule(c->ctx, 0, &c->sul_conn_timeout, sul_conn_timeout_cb,
                     (lws_usec_t)c->o.connect_timeout_ms * 1000);
    if (!lws_client_connect_via_info(&i) && c->attempt_live) {
        c->wsi = NULL;
        on_lost(c, "connect failed");
    }
}

/* The current connection is gone (failed to open, closed, killed). */
static void on_lost(mf_client *c, const char *why)
{
    if (!c->attempt_live)
        return;
    c->attempt_live = false;
    c->wsi = NULL;
    c->kill_conn = false;
    mf_tls_end(c);
    lws_sul_cancel(&c->sul_ping);
    lws_sul_cancel(&c->sul_conn_timeout);

    uint64_t dm = 0, db = 0;
    pthread_mutex_lock(&c->mu);
    bool was_connected = c->state == MF_CS_CONNECTED;
    if (c->state != MF_CS_CLOSED)
        c->state = MF_CS_IDLE;
    c->can_send = false;
    c->writer_armed = false;
    /* keep the unsent publishes (bounded by pending_limit); SUB/UNSUB/PING are rebuilt */
    mf_replayq_salvage(&c->q, c->o.pending_limit, 0, &dm, &db);
    c->fifo_n = 0;
    c->fifo_head = 0;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    mf_proto_parser_reset(&c->parser);
    if (dm) {
        atomic_fetch_add_explicit(&c->dropped_msgs, dm, memory_order_relaxed);
        atomic_fetch_add_explicit(&c->dropped_bytes, db, memory_order_relaxed);
    }

    if (was_connected && !closing(c)) {
        mf_client_log(c, MF_LOG_WARN, "disconnected from %s (%s)", cur_server_url(c), why);
        mf_client_emit(c, MF_CLIENT_DISCONNECTED, MF_ERR_IO, why, 0, 0, cur_server_url(c));
    } else if (!was_connected && !closing(c)) {
        /* the first failure of a series is a warning, the retries are info */
        mf_client_log(c, c->attempts ? MF_LOG_INFO : MF_LOG_WARN, "connection to %s failed (%s)",
                      cur_server_url(c), why);
    }
    if (dm)
        mf_client_emit(c, MF_CLIENT_DROPPED, MF_ERR_FULL, "pending_limit", dm, db, cur_server_url(c));

    if (closing(c)) {
        lws_sul_cancel(&c->sul_close);
        mf_client_finish_close(c, c->close_status);
        stop_if_destroying(c);
        return;
    }
    if (c->state == MF_CS_CLOSED)
        return;
    if (was_connected)
        c->attempts = 0;
    else
        c->attempts++;
    bool give_up = !c->o.reconnect || c->o.max_reconnect_attempts == 0 ||
                   (c->o.max_reconnect_attempts > 0 && c->attempts >= c->o.max_reconnect_attempts);
    if (give_up) {
        mf_client_log(c, MF_LOG_WARN, "giving up after %d failed attempt(s)", c->attempts);
        mf_client_finish_close(c, MF_ERR_IO);
        return;
    }
    c->cur = (c->cur + 1) % c->n_pool;
    lws_sul_schedule(c->ctx, 0, &c->sul_reconnect, sul_reconnect_cb, backoff_us(c));
}

static void begin_close(mf_client *c)
{
    mf_client_life_to(c, MF_LIFE_CLOSING);
    lws_sul_cancel(&c->sul_reconnect);
    if (c->wsi) {
        if (c->state >= MF_CS_WAIT_INFO && c->state != MF_CS_CLOSED)
            mf_client_kill_wsi(c, MF_WS_CLOSE_NORMAL);
        else
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        lws_sul_schedule(c->ctx, 0, &c->sul_close, sul_close_cb, MF_CLOSE_GRACE_US);
        return;
    }
    c->attempt_live = false;
    mf_client_finish_close(c, c->close_status);
    stop_if_destroying(c);
}

/* ------------------------------------------------------------ protocol */

static void add_discovered(mf_client *c, const char *hostport)
{
    char url[MF_PROTO_STR_MAX + 64];
    mf_server *cur = &c->pool[c->cur];
    if (strstr(hostport, "://"))
        snprintf(url, sizeof url, "%s", hostport);
    else
        snprintf(url, sizeof url, "%s://%s%s", cur->tls ? "wss" : "ws", hostport, cur->path);
    mf_server s;
    if (mf_server_parse(url, &s, NULL))
        return;
    for (size_t i = 0; i < c->n_pool; i++) {
        if (!strcmp(c->pool[i].url, s.url)) {
            mf_server_free(&s);
            return;
        }
    }
    if (c->n_pool == c->pool_cap) {
        size_t ncap = c->pool_cap * 2 + 4;
        mf_server *np = realloc(c->pool, ncap * sizeof *np);
        if (!np) {
            mf_server_free(&s);
            return;
        }
        c->pool = np;
        c->pool_cap = ncap;
    }
    s.discovered = true;
    c->pool[c->n_pool++] = s;
    pthread_mutex_lock(&c->mu);
    c->info.n_servers = c->n_pool;
    pthread_mutex_unlock(&c->mu);
    mf_client_log(c, MF_LOG_INFO, "discovered server %s", s.url);
    mf_client_emit(c, MF_CLIENT_SERVER_DISCOVERED, MF_OK, "", 0, 0, s.url);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return true;
    return false;
}

static mf_status build_prefix_locked(mf_client *c, mf_buf *b)
{
    mf_proto_connect cn;
    mf_proto_connect_init(&cn);
    cn.verbose = c->o.verbose;
    cn.pedantic = c->o.pedantic;
    cn.headers = c->o.headers;
    cn.no_responders = c->o.headers && c->o.no_responders;
    cn.echo = c->o.echo;
    cn.protocol = 1;
    cn.tls_required = c->pool[c->cur].tls;
    copy_str(cn.lang, sizeof cn.lang, "C");
    copy_str(cn.version, sizeof cn.version, "mflow-0.1.0");
    if (c->name)
        copy_str(cn.name, sizeof cn.name, c->name);
    if (c->token)
        copy_str(cn.auth_token, sizeof cn.auth_token, c->token);
    if (c->user)
        copy_str(cn.user, sizeof cn.user, c->user);
    if (c->pass)
        copy_str(cn.pass, sizeof cn.pass, c->pass);
    mf_status st = mf_proto_write_connect(b, &cn);
    if (!st)
        st = mf_client_subs_write_locked(c, b);
    if (!st)
        st = mf_proto_write_ping(b);
    return st;
}

static int handle_info(mf_client *c, const mf_proto_op *op)
{
    mf_proto_info *in = malloc(sizeof *in);
    if (!in)
        return -1;
    mf_error err;
    mf_error_clear(&err);
    if (mf_proto_parse_info(op->json.ptr, op->json.len, in, &err)) {
        mf_client_log(c, MF_LOG_ERROR, "%s: bad INFO: %s", cur_server_url(c), err.message);
        mf_client_emit(c, MF_CLIENT_ERROR, MF_ERR_PROTOCOL, "bad INFO", 0, 0, cur_server_url(c));
        free(in);
        return -1;
    }
    uint64_t dm = 0, db = 0;
    mf_status st = MF_OK;
    pthread_mutex_lock(&c->mu);
    c->max_payload = in->max_payload > 0 ? (size_t)in->max_payload : MF_PROTO_DEFAULT_MAX_PAYLOAD;
    c->server_headers = in->headers;
    c->have_info = true;
    copy_str(c->info.server_id, sizeof c->info.server_id, in->server_id);
    copy_str(c->info.server_name, sizeof c->info.server_name, in->server_name);
    copy_str(c->info.version, sizeof c->info.version, in->version);
    c->info.max_payload = (int64_t)c->max_payload;
    c->info.headers = in->headers;
    c->info.proto = in->proto;
    c->info.n_servers = c->n_pool;
    if (c->state == MF_CS_WAIT_INFO) {
        mf_buf prefix = MF_BUF_INIT;
        /* only PUB/HPUB survive: SUBs come from the table, PINGs are re-issued */
        mf_replayq_salvage(&c->q, SIZE_MAX, c->max_payload, &dm, &db);
        st = build_prefix_locked(c, &prefix);
        if (!st)
            st = mf_replayq_prepend(&c->q, &prefix);
        mf_buf_free(&prefix);
        c->fifo_n = 0;
        c->fifo_head = 0;
        if (!st && !mf_client_fifo_push_locked(c, MF_TAG_CONNECT))
            st = MF_ERR_NOMEM;
        if (!st && c->flush_seq > c->flush_done)
            st = mf_client_queue_ping_locked(c, c->flush_seq);
        if (!st) {
            c->can_send = true;
            c->state = MF_CS_WAIT_PONG;
        }
    }
    pthread_mutex_unlock(&c->mu);
    size_t rx_max = c->max_payload > MF_PROTO_DEFAULT_MAX_PAYLOAD ? c->max_payload : MF_PROTO_DEFAULT_MAX_PAYLOAD;
    c->parser.max_payload = rx_max;
    if (dm) {
        atomic_fetch_add_explicit(&c->dropped_msgs, dm, memory_order_relaxed);
        atomic_fetch_add_explicit(&c->dropped_bytes, db, memory_order_relaxed);
        mf_client_emit(c, MF_CLIENT_DROPPED, MF_ERR_PAYLOAD_TOO_BIG, "max_payload", dm, db, cur_server_url(c));
    }
    for (size_t i = 0; i < in->n_connect_urls; i++)
        add_discovered(c, in->connect_urls[i]);
    free(in);
    if (st) {
        mf_client_log(c, MF_LOG_ERROR, "cannot build the handshake: %s", mf_status_str(st));
        return -1;
    }
    if (c->wsi)
        lws_callback_on_writable(c->wsi);
    return 0;
}

static void handle_pong(mf_client *c)
{
    uint64_t tag;
    pthread_mutex_lock(&c->mu);
    if (!mf_client_fifo_pop_locked(c, &tag)) {
        pthread_mutex_unlock(&c->mu);
        return; /* unsolicited */
    }
    bool first = false, connected = false;
    if (tag == MF_TAG_CONNECT) {
        if (c->state == MF_CS_WAIT_PONG) {
            c->state = MF_CS_CONNECTED;
            first = !c->ever_connected;
            c->ever_connected = true;
            connected = true;
        }
    } else if (tag != MF_TAG_KEEPALIVE && tag > c->flush_done) {
        c->flush_done = tag;
    }
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (!connected)
        return;
    c->attempts = 0;
    lws_sul_cancel(&c->sul_conn_timeout);
    if (c->o.ping_interval_ms > 0)
        lws_sul_schedule(c->ctx, 0, &c->sul_ping, sul_ping_cb, (lws_usec_t)c->o.ping_interval_ms * 1000);
    if (!first)
        atomic_fetch_add_explicit(&c->reconnects, 1, memory_order_relaxed);
    mf_client_log(c, MF_LOG_INFO, "%s %s", first ? "connected to" : "reconnected to", cur_server_url(c));
    mf_client_emit(c, first ? MF_CLIENT_CONNECTED : MF_CLIENT_RECONNECTED, MF_OK, "", 0, 0, cur_server_url(c));
}

static void handle_err(mf_client *c, const mf_proto_op *op)
{
    const char *t = op->text.ptr ? op->text.ptr : "";
    mf_status st = MF_ERR_SERVER;
    if (contains_ci(t, "authorization") || contains_ci(t, "authentication"))
        st = MF_ERR_AUTH;
    else if (contains_ci(t, "maximum payload"))
        st = MF_ERR_PAYLOAD_TOO_BIG;
    mf_client_log(c, MF_LOG_WARN, "%s: -ERR '%s'", cur_server_url(c), t);
    mf_client_emit(c, MF_CLIENT_ERROR, st, t, 0, 0, cur_server_url(c));
}

/* The server broke the NATS protocol: close 1002, nothing more is read, then reconnect. */
static void protocol_fail(mf_client *c, const char *why)
{
    snprintf(c->lost_why, sizeof c->lost_why, "protocol error: %.120s", why);
    mf_client_kill_wsi(c, MF_WS_CLOSE_PROTOCOL);
    c->ws_failed = true; /* the socket closes after our close frame */
}

/* After a read from the connection: on_input_done, when the read delivered a message. */
static void input_done(mf_client *c)
{
    if (!c->delivered_in_read)
        return;
    c->delivered_in_read = false;
    if (c->o.on_input_done)
        c->o.on_input_done(c, c->o.input_ctx);
}

int mf_client_nats_receive(mf_client *c, struct lws *wsi, const void *in, size_t len)
{
    if (mf_proto_feed(&c->parser, in, len))
        return -1;
    mf_proto_op op;
    mf_error err;
    int r;
    bool want_write = false;
    while ((r = mf_proto_next(&c->parser, &op, &err)) == 1) {
        switch (op.kind) {
        case MF_OP_MSG:
        case MF_OP_HMSG:
            mf_client_dispatch(c, &op);
            break;
        case MF_OP_PING:
            pthread_mutex_lock(&c->mu);
            if (c->can_send && !mf_proto_write_pong(&c->q.buf))
                want_write = true;
            pthread_mutex_unlock(&c->mu);
            break;
        case MF_OP_PONG:
            handle_pong(c);
            break;
        case MF_OP_INFO:
            if (handle_info(c, &op)) {
                protocol_fail(c, "bad INFO");
                return 0;
            }
            break;
        case MF_OP_ERR:
            handle_err(c, &op);
            break;
        default: /* +OK */
            break;
        }
        if (c->wsi != wsi || c->kill_conn)
            break; /* a callback's side effect closed this connection */
    }
    if (r < 0) {
        mf_client_log(c, MF_LOG_ERROR, "%s: protocol error: %s", cur_server_url(c), err.message);
        mf_client_emit(c, MF_CLIENT_ERROR, MF_ERR_PROTOCOL, err.message, 0, 0, cur_server_url(c));
        protocol_fail(c, err.message);
        return 0;
    }
    if (want_write && c->wsi == wsi)
        lws_callback_on_writable(wsi);
    return 0;
}

static void on_cancelled(mf_client *c)
{
    pthread_mutex_lock(&c->mu);
    c->wake_pending = false;
    bool destroy = c->destroy_req, close = mf_client_life(c) >= MF_LIFE_CLOSE_ASKED;
    bool timers = c->req_timer_dirty;
    uint64_t dm = 0, db = 0;
    if (c->dropped_event_pending) {
        dm = c->drop_ev_msgs;
        db = c->drop_ev_bytes;
        c->drop_ev_msgs = c->drop_ev_bytes = 0;
        c->dropped_event_pending = false;
    }
    bool data = c->can_send && mf_replayq_has_unsent(&c->q) && c->wsi && !c->kill_conn;
    c->writer_armed = data; /* asked for below */
    pthread_mutex_unlock(&c->mu);
    if (dm)
        mf_client_emit(c, MF_CLIENT_DROPPED, MF_ERR_FULL, "pending_limit", dm, db, cur_server_url(c));
    if (timers)
        mf_client_req_timer_update(c);
    if ((destroy || close) && !closing(c)) {
        begin_close(c);
        return;
    }
    if (destroy && c->state == MF_CS_CLOSED && !c->wsi)
        request_stop(c);
    if (data)
        lws_callback_on_writable(c->wsi);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user;
    struct lws_context *cx = lws_get_context(wsi);
    mf_client *c = cx ? lws_context_user(cx) : NULL;
    if (!c)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (!stopped(c))
            on_cancelled(c);
        break;
    case LWS_CALLBACK_RAW_CONNECTED: {
        if (wsi != c->wsi)
            return -1;
        pthread_mutex_lock(&c->mu);
        c->state = MF_CS_UPGRADING;
        pthread_mutex_unlock(&c->mu);
        mf_client_log(c, MF_LOG_DEBUG, "connected to %s, upgrading", cur_server_url(c));
        if (closing(c))
            return -1;
        int started = c->pool[c->cur].tls ? mf_tls_start(c, wsi) : mf_wire_start(c, wsi);
        input_done(c); /* the TLS start reads what came with the handshake */
        return started;
    }
    case LWS_CALLBACK_RAW_RX: {
        if (wsi != c->wsi)
            return 0;
        int r = c->tls ? mf_tls_receive(c, wsi, in, len) : mf_wire_receive(c, wsi, in, len);
        input_done(c);
        return r;
    }
    case LWS_CALLBACK_RAW_WRITEABLE:
        if (wsi != c->wsi)
            return 0;
        return mf_wire_writeable(c, wsi);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        if (stopped(c) || !(wsi == c->wsi || !c->wsi))
            break;
        char why[160];
        snprintf(why, sizeof why, "%s", in ? (const char *)in : "connection error");
        on_lost(c, why);
        break;
    }
    case LWS_CALLBACK_RAW_CLOSE:
        if (!stopped(c) && wsi == c->wsi)
            on_lost(c, c->lost_why[0] ? c->lost_why : "connection closed");
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        if (!stopped(c) && wsi == c->wsi)
            on_lost(c, "connection destroyed");
        break;
    default:
        break;
    }
    return 0;
}

void *mf_client_service_main(void *arg)
{
    mf_client *c = arg;
    bool tls = false;
    for (size_t i = 0; i < c->n_pool; i++)
        tls = tls || c->pool[i].tls;

    memset(c->protocols, 0, sizeof c->protocols);
    c->protocols[0].name = "mf-nats";
    c->protocols[0].callback = callback;
    c->protocols[0].per_session_data_size = 0;
    c->protocols[0].user = c;
    /* protocols[1] stays all-zero: the terminator */

    if (c->o.lws_log_level >= 0)
        lws_set_log_level(c->o.lws_log_level, NULL);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = c->protocols;
    info.user = c;
    info.gid = -1;
    info.uid = -1;
    info.fd_limit_per_thread = 16; /* one connection + the cancel pipe: keeps lws' tables small */
    info.pt_serv_buf_size = (unsigned int)(c->o.frame_size > 4096 ? c->o.frame_size : 4096);
    mf_error terr;
    mf_error_clear(&terr);
    struct lws_context *cx = tls && mf_tls_ctx_new(c, &terr) ? NULL : lws_create_context(&info);

    pthread_mutex_lock(&c->mu);
    c->ctx = cx;
    if (!cx && terr.code)
        c->start_err = terr;
    else if (!cx)
        mf_error_set(&c->start_err, MF_ERR_IO, "", "lws_create_context failed");
    c->start_status = cx ? 1 : -1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (!cx) {
        mf_tls_ctx_free(c);
        return NULL;
    }

    connect_attempt(c);
    while (!stopped(c)) {
        if (lws_service(cx, 0) < 0)
            break;
    }
    mf_client_life_to(c, MF_LIFE_CLOSING);
    mf_client_finish_close(c, c->close_status);
    mf_client_life_to(c, MF_LIFE_STOPPED); /* callbacks during context destruction are ignored */
    c->wsi = NULL;
    pthread_mutex_lock(&c->mu);
    c->ctx = NULL;
    pthread_mutex_unlock(&c->mu);
    lws_context_destroy(cx);
    mf_tls_ctx_free(c);
    return NULL;
}
