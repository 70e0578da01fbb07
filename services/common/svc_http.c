/*
 * svc_http.c - the admin HTTP/1.1 server on libwebsockets (svc_http.h).
 *
 * One lws context with one listening vhost, served by the thread that calls
 * svc_http_run. Protocols:
 *   [0] "http"    every HTTP request (websocket upgrades are refused)
 *   [1] "svc-fd"  descriptors adopted with svc_http_watch_fd (raw files)
 *
 * A request goes: LWS_CALLBACK_HTTP (route lookup, limits) -> HTTP_BODY chunks
 * (buffered or streamed) -> HTTP_BODY_COMPLETION (handler) -> the answer is
 * written from HTTP_WRITEABLE (status line and headers, then the body in
 * pieces of WRITE_CHUNK bytes) -> lws_http_transaction_completed (keep-alive)
 * or close. The per-connection user data is the svc_http_req, reset for each
 * request of a keep-alive connection.
 */
#include "svc_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "mf/buf.h"
#include "svc_http_int.h"
#include "svc_log.h"
#include "svc_time.h"
#include "svc_token.h"

#define WRITE_CHUNK (16 * 1024)
#define PATH_MAX_LEN 1024
#define TICK_US (50 * 1000)

typedef struct watch {
    svc_http *h;
    int fd;
    void (*cb)(svc_http *h, int fd, void *ctx);
    void *ctx;
    struct watch *next;
} watch;

struct svc_http {
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    svc_router *router;
    void *uctx;
    int port;
    int grace_ms;
    int stop_requests;      /* svc_http_stop calls (atomic, any thread) */
    int stops_seen;         /* of them, handled on the service thread */
    bool stopping, done;
    int64_t deadline;       /* monotonic ms */
    size_t active;          /* requests not yet answered and written */
    lws_sorted_usec_list_t tick;
    watch *watches;
    const char *token;      /* bearer token required of every request, or NULL */
};

struct svc_http_req {
    svc_http *h;
    struct lws *wsi;
    bool active, answered, hdr_sent, close_after, streamed, stop_body, ended, chunked, logged;
    svc_dechunk dechunk;
    svc_http_method method;
    char path[PATH_MAX_LEN];
    const svc_http_route *route;
    svc_route_match m;
    mf_buf body;
    size_t body_max;
    void *state;
    int status;
    unsigned allow;         /* 405: methods to list in Allow */
    char *out;              /* LWS_PRE bytes of headroom, then the body */
    size_t out_len, out_sent;
    int64_t started_ms;
};

/* ---------------------------------------------------------------- answers */

static void log_access(const svc_http_req *rq, bool answered);

static void request_end(svc_http_req *rq)
{
    if (!rq->active)
        return;
    rq->active = false;
    if (!rq->logged)
        log_access(rq, false);
    if (rq->route && rq->route->on_end && !rq->ended) {
        rq->ended = true;
        rq->route->on_end(rq, rq->h->uctx);
    }
    mf_buf_free(&rq->body);
    free(rq->out);
    rq->out = NULL;
    rq->h->active--;
}

void svc_http_reply(svc_http_req *rq, int status, const char *json, size_t len)
{
    if (!rq || rq->answered)
        return;
    rq->answered = true;
    rq->status = status;
    if (status == 204)
        len = 0;
    rq->out = malloc(LWS_PRE + len + 1);
    if (rq->out) {
        memcpy(rq->out + LWS_PRE, json ? json : "", len);
        rq->out_len = len;
    } else {
        rq->status = 500;
        rq->out_len = 0;
        rq->close_after = true;
    }
    lws_callback_on_writable(rq->wsi);
}

void svc_http_reply_json(svc_http_req *rq, int status, cJSON *body)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!text) {
        static const char oom[] = "{\"error\":{\"code\":\"INTERNAL_ERROR\",\"message\":\"out of memory\",\"pointer\":\"\"}}";
        svc_http_reply(rq, 500, oom, sizeof oom - 1);
        return;
    }
    svc_http_reply(rq, status, text, strlen(text));
    free(text);
}

cJSON *svc_http_error_object(const char *code, const char *pointer, const char *message)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "code", code ? code : "ERROR");
    cJSON_AddStringToObject(e, "message", message ? message : "");
    cJSON_AddStringToObject(e, "pointer", pointer ? pointer : "");
    return e;
}

void svc_http_error(svc_http_req *rq, int status, const char *code, const char *pointer, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "error", svc_http_error_object(code, pointer, msg));
    svc_http_reply_json(rq, status, root);
}

/* ---------------------------------------------------------------- writing */

/* One line per request: "answered", or "abandoned" when the connection ended first. */
static void log_access(const svc_http_req *rq, bool answered)
{
    char q[PATH_MAX_LEN + 16];
    const char *how = answered ? "answered" : "abandoned";
    svc_log(rq->status >= 500 || !answered ? SVC_LOG_WARN : SVC_LOG_INFO,
            "http %s %s status=%d bytes=%zu ms=%lld %s", svc_http_method_name(rq->method),
            svc_log_q(q, sizeof q, rq->path[0] ? rq->path : "?"), rq->status, rq->out_len,
            (long long)(svc_mono_ms() - rq->started_ms), how);
}

/* libwebsockets writes the status line from a table that lacks 201, 202 and 204 ("HTTP/1.1
 * 201 " and nothing after: legal, but it reads as broken in `curl -i`); the phrase goes in
 * after the line's last space. *p is moved on; -1 when the buffer has no room. */
static int name_status(int code, unsigned char *start, unsigned char **p, unsigned char *end)
{
    const char *reason = code == 201 ? "Created" : code == 202 ? "Accepted" : code == 204 ? "No Content" : NULL;
    unsigned char *eol = memchr(start, '\r', (size_t)(*p - start)); /* the status line comes first */
    if (!reason || !eol || eol == start || eol[-1] != ' ')
        return 0; /* lws named it */
    size_t n = strlen(reason);
    if ((size_t)(end - *p) < n)
        return -1;
    memmove(eol + n, eol, (size_t)(*p - eol));
    memcpy(eol, reason, n);
    *p += n;
    return 0;
}

static int write_headers(svc_http_req *rq)
{
    unsigned char buf[LWS_PRE + 1024];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    struct lws *wsi = rq->wsi;
    if (rq->status == 204) {
        if (lws_add_http_header_status(wsi, 204, &p, end))
            return -1;
    } else if (lws_add_http_common_headers(wsi, (unsigned int)rq->status, "application/json",
                                           (lws_filepos_t)rq->out_len, &p, end)) {
        return -1;
    }
    if (name_status(rq->status, start, &p, end))
        return -1;
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, (const unsigned char *)"no-store", 8, &p,
                                     end))
        return -1;
    if (rq->status == 405 && rq->allow) {
        char allow[64] = "";
        for (int m = SVC_HTTP_GET; m <= SVC_HTTP_DELETE; m++)
            if (rq->allow & (1u << m))
                snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s", allow[0] ? ", " : "",
                         svc_http_method_name((svc_http_method)m));
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:", (const unsigned char *)allow,
                                        (int)strlen(allow), &p, end))
            return -1;
    }
    if (rq->status == 401 && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_WWW_AUTHENTICATE,
                                                          (const unsigned char *)"Bearer realm=\"admin\"", 20, &p,
                                                          end))
        return -1;
    if (rq->close_after && lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5,
                                                        &p, end))
        return -1;
    return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

/* The answer is out: close, or get ready for the next request of the connection. */
static int finish(svc_http_req *rq)
{
    if (lws_partial_buffered(rq->wsi)) { /* let lws send what it holds first */
        lws_callback_on_writable(rq->wsi);
        return 0;
    }
    log_access(rq, true);
    rq->logged = true;
    bool close_after = rq->close_after;
    request_end(rq);
    if (close_after)
        return -1;
    return lws_http_transaction_completed(rq->wsi) ? -1 : 0;
}

static int on_writeable(svc_http_req *rq)
{
    if (!rq->active || !rq->answered)
        return 0;
    if (!rq->hdr_sent) {
        if (write_headers(rq))
            return -1;
        rq->hdr_sent = true;
        if (rq->out_len > 0) {
            lws_callback_on_writable(rq->wsi);
            return 0;
        }
        return finish(rq);
    }
    if (rq->out_sent < rq->out_len) {
        size_t n = rq->out_len - rq->out_sent;
        if (n > WRITE_CHUNK)
            n = WRITE_CHUNK;
        bool last = rq->out_sent + n == rq->out_len;
        /* the LWS_PRE bytes before this piece are the headroom (or already sent data) */
        unsigned char *p = (unsigned char *)rq->out + LWS_PRE + rq->out_sent;
        if (lws_write(rq->wsi, p, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
            return -1;
        rq->out_sent += n;
        if (!last) {
            lws_callback_on_writable(rq->wsi);
            return 0;
        }
    }
    return finish(rq);
}

/* ---------------------------------------------------------------- reading */

static svc_http_method method_of(struct lws *wsi)
{
    char *uri;
    int len;
    switch (lws_http_get_uri_and_method(wsi, &uri, &len)) {
    case LWSHUMETH_GET: return SVC_HTTP_GET;
    case LWSHUMETH_POST: return SVC_HTTP_POST;
    case LWSHUMETH_PUT: return SVC_HTTP_PUT;
    case LWSHUMETH_PATCH: return SVC_HTTP_PATCH;
    case LWSHUMETH_DELETE: return SVC_HTTP_DELETE;
    default: return 0;
    }
}

/* Content-Length, or -1 when absent or unreadable. */
static long long content_length(struct lws *wsi)
{
    char buf[32];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
        lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
        return -1;
    char *end;
    long long n = strtoll(buf, &end, 10);
    return end != buf && *end == '\0' && n >= 0 ? n : -1;
}

/* The Transfer-Encoding header: 0 none, 1 chunked, -1 another coding (not supported). */
static int transfer_coding(struct lws *wsi)
{
    char te[64];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) <= 0)
        return 0;
    if (lws_hdr_copy(wsi, te, sizeof te, WSI_TOKEN_HTTP_TRANSFER_ENCODING) <= 0)
        return -1;
    return strcasecmp(te, "chunked") == 0 ? 1 : -1;
}

/* With a token configured: does the request carry it? (The header is wiped from our copy.) */
static bool authorized(const svc_http *h, struct lws *wsi)
{
    if (!h->token)
        return true;
    char v[SVC_TOKEN_MAX + 64];
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n <= 0 || n >= (int)sizeof v || lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_HTTP_AUTHORIZATION) <= 0)
        return false;
    bool ok = svc_token_check_bearer(h->token, v);
    memset(v, 0, sizeof v);
    return ok;
}

/* Is name (n bytes) one of the space-separated names of list? */
static bool listed(const char *list, const char *name, size_t n)
{
    for (const char *p = list ? list : ""; *p;) {
        size_t k = strcspn(p, " ");
        if (k == n && memcmp(p, name, n) == 0)
            return true;
        p += k + (p[k] == ' ');
    }
    return false;
}

/* Every query parameter is one the route reads: a misspelt one ("limt") is refused, not
 * ignored. False, and 400 UNKNOWN_PARAMETER answered, otherwise. */
static bool query_known(svc_http_req *rq)
{
    char frag[1024];
    for (int i = 0;; i++) {
        int n = lws_hdr_copy_fragment(rq->wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0 && lws_hdr_fragment_length(rq->wsi, WSI_TOKEN_HTTP_URI_ARGS, i) < (int)sizeof frag)
            return true; /* no fragment i: all seen */
        size_t name = n < 0 ? 0 : strcspn(frag, "=");
        if (n == 0 || (n > 0 && listed(rq->route->query, frag, name)))
            continue; /* "?&limit=1" has an empty one */
        if (!rq->route->query)
            svc_http_error(rq, 400, "UNKNOWN_PARAMETER", "", "%s takes no query parameters", rq->path);
        else if (n < 0)
            svc_http_error(rq, 400, "UNKNOWN_PARAMETER", "", "a query parameter of more than %zu bytes",
                           sizeof frag - 1);
        else
            svc_http_error(rq, 400, "UNKNOWN_PARAMETER", "", "unknown query parameter \"%.*s\" (%s reads: %s)",
                           (int)(name > 64 ? 64 : name), frag, rq->path, rq->route->query);
        return false;
    }
}

static void run_handler(svc_http_req *rq)
{
    if (rq->answered)
        return;
    rq->route->handler(rq, rq->h->uctx);
    if (!rq->answered) {
        SVC_ERROR("http handler did not answer path=%s", rq->path);
        svc_http_error(rq, 500, "INTERNAL_ERROR", "", "the request was not answered");
    }
}

static void request_begin(svc_http_req *rq, svc_http *h, struct lws *wsi, const char *path)
{
    memset(rq, 0, sizeof *rq);
    rq->h = h;
    rq->wsi = wsi;
    rq->active = true;
    rq->started_ms = svc_mono_ms();
    snprintf(rq->path, sizeof rq->path, "%s", path ? path : "");
    mf_buf_init(&rq->body);
    h->active++;
}

static int on_request(svc_http_req *rq, svc_http *h, struct lws *wsi, const char *path)
{
    request_begin(rq, h, wsi, path);
    rq->method = method_of(wsi);
    int coding = transfer_coding(wsi);
    rq->chunked = coding == 1;
    /* lws does not know where a chunked body ends: answer, then close */
    rq->close_after = rq->chunked;
    bool body = coding != 0 || content_length(wsi) > 0;
    if (coding < 0) {
        rq->close_after = true;
        svc_http_error(rq, 400, "UNSUPPORTED_CODING", "", "only the chunked transfer coding is supported");
        return 0;
    }
    if (!authorized(h, wsi)) {
        rq->close_after |= body;
        svc_http_error(rq, 401, "UNAUTHORIZED", "", "this API needs the header Authorization: Bearer <admin token>");
        return 0;
    }
    if (h->stopping) {
        rq->close_after = true;
        svc_http_error(rq, 503, "SHUTTING_DOWN", "", "the service is shutting down");
        return 0;
    }
    if (!rq->method) {
        rq->close_after |= body;
        char *uri;
        int ulen;
        if (lws_http_get_uri_and_method(wsi, &uri, &ulen) == LWSHUMETH_HEAD)
            svc_http_reply(rq, 405, NULL, 0); /* a HEAD answer has no body */
        else
            svc_http_error(rq, 405, "METHOD_NOT_ALLOWED", "", "method not supported");
        return 0;
    }
    svc_route_result r = svc_router_match(h->router, rq->method, rq->path, &rq->m);
    if (r != SVC_ROUTE_FOUND) {
        rq->close_after |= body;
        rq->allow = rq->m.allow;
        if (r == SVC_ROUTE_NO_PATH)
            svc_http_error(rq, 404, "NOT_FOUND", "", "no such resource: %s", rq->path);
        else
            svc_http_error(rq, 405, "METHOD_NOT_ALLOWED", "", "%s is not allowed on %s",
                           svc_http_method_name(rq->method), rq->path);
        return 0;
    }
    rq->route = rq->m.route;
    rq->streamed = rq->route->on_body != NULL;
    rq->body_max = rq->route->body_max ? rq->route->body_max : SVC_HTTP_BODY_MAX;
    if (!query_known(rq)) {
        rq->close_after |= body;
        return 0;
    }
    long long cl = content_length(wsi);
    if (!rq->streamed && cl > (long long)rq->body_max) {
        rq->close_after = true;
        svc_http_error(rq, 413, "BODY_TOO_LARGE", "", "the body is larger than %zu bytes", rq->body_max);
        return 0;
    }
    if (!body)
        run_handler(rq);
    return 0;
}

/* Payload bytes of the body (framing removed). */
static void body_data(void *ctx, const char *data, size_t len)
{
    svc_http_req *rq = ctx;
    if (!rq->active || rq->stop_body || !rq->route || len == 0)
        return;
    if (rq->streamed) {
        if (rq->route->on_body(rq, data, len, rq->h->uctx) != 0 || rq->answered) {
            rq->stop_body = true;
            rq->close_after = true;
        }
        return;
    }
    if (rq->body.len + len > rq->body_max || mf_buf_append(&rq->body, data, len) != MF_OK) {
        rq->stop_body = true;
        rq->close_after = true;
        svc_http_error(rq, 413, "BODY_TOO_LARGE", "", "the body is larger than %zu bytes", rq->body_max);
    }
}

static void on_body(svc_http_req *rq, const char *data, size_t len)
{
    if (!rq->chunked) {
        body_data(rq, data, len);
        return;
    }
    if (rq->stop_body)
        return;
    int r = svc_dechunk_feed(&rq->dechunk, data, len, body_data, rq);
    if (r < 0) {
        rq->stop_body = true;
        svc_http_error(rq, 400, "INVALID_CHUNKING", "", "the chunked body is malformed");
    } else if (r > 0 && rq->active && rq->route && !rq->answered) {
        rq->stop_body = true;
        run_handler(rq);
    }
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    svc_http_req *rq = user;
    svc_http *h = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return 1; /* no websockets here */
    case LWS_CALLBACK_HTTP:
        if (!rq)
            return -1;
        return on_request(rq, h, wsi, (const char *)in);
    case LWS_CALLBACK_HTTP_BODY:
        if (rq && rq->active)
            on_body(rq, (const char *)in, len);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (rq && rq->active && rq->route && !rq->answered && !rq->chunked)
            run_handler(rq);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return rq ? on_writeable(rq) : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
        if (rq && rq->active)
            request_end(rq);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ------------------------------------------------------ loop and stopping */

static void check_done(svc_http *h)
{
    if (h->stopping && (h->active == 0 || svc_mono_ms() >= h->deadline)) {
        if (h->active)
            SVC_WARN("http: %zu request(s) still running at the end of the grace period; closing them",
                     h->active);
        h->done = true;
        lws_cancel_service(h->ctx); /* from a callback: make lws_service return instead of polling on */
    }
}

static void tick(lws_sorted_usec_list_t *sul)
{
    svc_http *h = lws_container_of(sul, svc_http, tick);
    check_done(h);
    if (!h->done)
        lws_sul_schedule(h->ctx, 0, &h->tick, tick, TICK_US);
}

/* On the service thread: act on svc_http_stop calls. */
static void handle_stops(svc_http *h)
{
    int req = __atomic_load_n(&h->stop_requests, __ATOMIC_ACQUIRE);
    if (req == h->stops_seen)
        return;
    h->stops_seen = req;
    if (!h->stopping) {
        h->stopping = true;
        h->deadline = svc_mono_ms() + h->grace_ms;
        SVC_INFO("http: no new requests; waiting for %zu in flight (at most %d ms)", h->active, h->grace_ms);
        lws_sul_schedule(h->ctx, 0, &h->tick, tick, TICK_US);
    } else {
        h->deadline = 0;
    }
    check_done(h);
}

static int fd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user;
    (void)in;
    (void)len;
    svc_http *h = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE: {
        watch *w = lws_get_opaque_user_data(wsi);
        if (w)
            w->cb(h, w->fd, w->ctx);
        handle_stops(h);
        return 0;
    }
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return 1;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (h)
            handle_stops(h);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    {"http", http_callback, sizeof(svc_http_req), 64 * 1024, 0, NULL, 0},
    {"svc-fd", fd_callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ------------------------------------------------------------ addresses */

/* Splits "ADDR:PORT" / "[V6]:PORT" into a numeric address and a port. */
static bool parse_listen(const char *listen, char *addr, size_t cap, int *port, char *why, size_t why_cap)
{
    if (!listen || !*listen)
        return snprintf(why, why_cap, "expected ADDR:PORT"), false;
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen)
        return snprintf(why, why_cap, "expected ADDR:PORT, got \"%s\"", listen), false;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || p < 0 || p > 65535)
        return snprintf(why, why_cap, "bad port in \"%s\"", listen), false;
    const char *host = listen;
    size_t hlen = (size_t)(colon - listen);
    if (host[0] == '[' && hlen >= 2 && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    char name[256];
    if (hlen == 0 || hlen >= sizeof name)
        return snprintf(why, why_cap, "bad address in \"%s\"", listen), false;
    memcpy(name, host, hlen);
    name[hlen] = '\0';
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = strcmp(name, "localhost") == 0 ? AF_INET : AF_UNSPEC; /* localhost -> 127.0.0.1 */
    if (getaddrinfo(name, NULL, &hints, &res) != 0 || !res)
        return snprintf(why, why_cap, "cannot resolve \"%.64s\"", name), false;
    int rc = getnameinfo(res->ai_addr, res->ai_addrlen, addr, (socklen_t)cap, NULL, 0, NI_NUMERICHOST);
    freeaddrinfo(res);
    if (rc != 0)
        return snprintf(why, why_cap, "cannot resolve \"%.64s\"", name), false;
    *port = (int)p;
    return true;
}

bool svc_http_listen_valid(const char *listen, char *why, size_t why_cap)
{
    char addr[128];
    int port;
    return parse_listen(listen, addr, sizeof addr, &port, why, why_cap);
}

bool svc_http_listen_is_loopback(const char *listen)
{
    char addr[128], why[128];
    int port;
    if (!parse_listen(listen, addr, sizeof addr, &port, why, sizeof why))
        return false;
    struct in_addr a4;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return strcmp(addr, "::1") == 0;
}

/* Binds the address once before libwebsockets does: a clear reason when it is taken (and
 * lws 4.1 leaks a little when its listener fails). Returns false with the reason. */
static bool probe_listen(const char *addr, int port, char *why, size_t cap)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(addr, service, &hints, &res) != 0 || !res)
        return snprintf(why, cap, "bad address %s", addr), false;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
              bind(fd, res->ai_addr, res->ai_addrlen) == 0;
    if (!ok)
        snprintf(why, cap, "%s", strerror(errno));
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return ok;
}

/* ------------------------------------------------------------ lifecycle */

static void lws_log_line(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    svc_log(level & LLL_ERR ? SVC_LOG_ERROR : SVC_LOG_WARN, "lws: %.*s", (int)n, line);
}

mf_status svc_http_create(const svc_http_opts *o, svc_http **out, mf_error *err)
{
    *out = NULL;
    char addr[128], why[160];
    int port;
    if (!o || !parse_listen(o->listen, addr, sizeof addr, &port, why, sizeof why))
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "--http: %s", o ? why : "no options");
    svc_http *h = calloc(1, sizeof *h);
    if (!h)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    if (!probe_listen(addr, port, why, sizeof why)) {
        free(h);
        return mf_error_set(err, MF_ERR_IO, "", "cannot listen on %s: %s", o->listen, why);
    }
    h->uctx = o->ctx;
    h->grace_ms = o->grace_ms > 0 ? o->grace_ms : 10000;
    h->token = o->bearer_token;
    mf_status st = svc_router_build(o->routes, o->n_routes, &h->router, err);
    if (st) {
        free(h);
        return st;
    }
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_line);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = port;
    info.iface = addr;
    info.protocols = protocols;
    info.user = h;
    info.options = strchr(addr, ':') ? 0 : LWS_SERVER_OPTION_DISABLE_IPV6;
    info.timeout_secs = 30;
    h->ctx = lws_create_context(&info);
    h->vhost = h->ctx ? lws_get_vhost_by_name(h->ctx, "default") : NULL;
    if (!h->vhost) {
        svc_http_destroy(h);
        return mf_error_set(err, MF_ERR_IO, "", "cannot listen on %s (address in use?)", o->listen);
    }
    h->port = lws_get_vhost_listen_port(h->vhost);
    *out = h;
    return MF_OK;
}

int svc_http_port(const svc_http *h)
{
    return h ? h->port : 0;
}

mf_status svc_http_watch_fd(svc_http *h, int fd, void (*on_readable)(svc_http *h, int fd, void *ctx), void *ctx)
{
    watch *w = calloc(1, sizeof *w);
    if (!w)
        return MF_ERR_NOMEM;
    *w = (watch){h, fd, on_readable, ctx, h->watches};
    lws_sock_file_fd_type f;
    f.filefd = fd;
    struct lws *wsi = lws_adopt_descriptor_vhost(h->vhost, LWS_ADOPT_RAW_FILE_DESC, f, "svc-fd", NULL);
    if (!wsi) {
        free(w);
        return MF_ERR_IO;
    }
    lws_set_opaque_user_data(wsi, w);
    h->watches = w;
    return MF_OK;
}

void svc_http_run(svc_http *h)
{
    while (!h->done) {
        handle_stops(h);
        if (h->done || lws_service(h->ctx, 0) < 0)
            break;
    }
}

void svc_http_stop(svc_http *h)
{
    if (!h)
        return;
    __atomic_add_fetch(&h->stop_requests, 1, __ATOMIC_RELEASE);
    lws_cancel_service(h->ctx);
}

void svc_http_destroy(svc_http *h)
{
    if (!h)
        return;
    if (h->ctx) {
        lws_sul_cancel(&h->tick);
        lws_context_destroy(h->ctx); /* CLOSED_HTTP for each connection: on_end runs */
    }
    while (h->watches) {
        watch *w = h->watches;
        h->watches = w->next;
        free(w);
    }
    svc_router_free(h->router);
    free(h);
}

/* -------------------------------------------------------------- accessors */

svc_http_method svc_http_req_method(const svc_http_req *rq)
{
    return rq->method;
}

const char *svc_http_req_method_name(const svc_http_req *rq)
{
    return svc_http_method_name(rq->method);
}

const char *svc_http_req_path(const svc_http_req *rq)
{
    return rq->path;
}

const char *svc_http_req_param(const svc_http_req *rq, const char *name)
{
    for (size_t i = 0; i < rq->m.n_params; i++)
        if (strcmp(rq->m.names[i], name) == 0)
            return rq->m.values[i];
    return NULL;
}

bool svc_http_req_query(svc_http_req *rq, const char *name, char *buf, size_t cap)
{
    char key[64], tmp[1024];
    snprintf(key, sizeof key, "%s=", name);
    const char *v = lws_get_urlarg_by_name(rq->wsi, key, tmp, (int)sizeof tmp);
    if (!v || strlen(v) >= cap)
        return false;
    memmove(buf, v, strlen(v) + 1);
    return true;
}

const char *svc_http_req_body(const svc_http_req *rq, size_t *len)
{
    if (len)
        *len = rq->body.len;
    return rq->body.data ? rq->body.data : "";
}

void **svc_http_req_state(svc_http_req *rq)
{
    return &rq->state;
}

bool svc_http_req_answered(const svc_http_req *rq)
{
    return rq->answered;
}
