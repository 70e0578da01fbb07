/*
 * http.c - the HTTP side of the broker's port: the WebSocket upgrade (RFC 6455
 * section 4.2), GET /healthz and GET /varz.
 *
 * The request head has been parsed (mf_ws_parse_request, recv.c). An upgrade
 * is accepted when it is a GET over HTTP/1.1 with a valid key, version 13, an
 * allowed Origin (when --allow-origin is given) and either no subprotocol or
 * "nats" among those offered; the 101 answer goes into c->http, written before
 * the first frame. Everything else gets a small HTTP/1.1 answer and the
 * connection closes after it (Connection: close).
 */
#include "broker/broker.h"

#include <stdlib.h>
#include <string.h>

static void fmt_duration(long long s, char *out, size_t n)
{
    long long d = s / 86400, h = (s / 3600) % 24, m = (s / 60) % 60, sec = s % 60;
    if (d)
        snprintf(out, n, "%lldd%lldh%lldm%llds", d, h, m, sec);
    else if (h)
        snprintf(out, n, "%lldh%lldm%llds", h, m, sec);
    else if (m)
        snprintf(out, n, "%lldm%llds", m, sec);
    else
        snprintf(out, n, "%llds", sec);
}

static mf_status varz(mfb_broker *b, mf_buf *o)
{
    const mfb_broker_config *cfg = b->cfg;
    time_t now = time(NULL);
    long long up = (long long)(now - b->started);
    char upt[64], start[32], nows[32];
    struct tm tm;
    fmt_duration(up, upt, sizeof upt);
    gmtime_r(&b->started, &tm);
    strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", &tm);
    gmtime_r(&now, &tm);
    strftime(nows, sizeof nows, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return mf_buf_printf(
        o,
        "{\"server_id\":\"%s\",\"server_name\":\"%s\",\"version\":\"%s\",\"proto\":1,"
        "\"host\":\"%s\",\"port\":%d,\"start\":\"%s\",\"now\":\"%s\",\"uptime\":\"%s\",\"uptime_seconds\":%lld,"
        "\"connections\":%zu,\"connecting\":%zu,\"total_connections\":%llu,\"subscriptions\":%zu,"
        "\"in_msgs\":%llu,\"out_msgs\":%llu,\"in_bytes\":%llu,\"out_bytes\":%llu,"
        "\"slow_consumers\":%llu,\"dropped_msgs\":%llu,\"publisher_stalls\":%llu,"
        "\"evicted_connecting\":%llu,\"auth_failures\":%llu,\"permission_violations\":%llu,"
        "\"max_payload\":%zu,\"max_control_line\":%zu,\"max_connections\":%zu,\"max_connecting\":%zu,"
        "\"max_subscriptions\":%zu,\"max_pending\":%zu,\"ws_max_message\":%zu,\"ping_interval\":%d,"
        "\"max_pings_out\":%d,\"auth_timeout\":%d,\"auth_required\":%s,\"tls_required\":%s,\"accounts\":%zu,"
        "\"headers\":true}\n",
        b->server_id, cfg->server_name, MF_BROKER_VERSION, cfg->host, cfg->port, start, nows, upt, up, b->nws,
        b->nconnecting, (unsigned long long)b->total_connections, mfb_route_total_subs(b),
        (unsigned long long)b->in_msgs, (unsigned long long)b->out_msgs, (unsigned long long)b->in_bytes,
        (unsigned long long)b->out_bytes, (unsigned long long)b->slow_consumers, (unsigned long long)b->dropped_msgs,
        (unsigned long long)b->stalls, (unsigned long long)b->evicted, (unsigned long long)b->auth_failures,
        (unsigned long long)b->permission_violations, cfg->max_payload, cfg->max_control, cfg->max_connections,
        cfg->max_connecting, cfg->max_subs, cfg->max_pending, cfg->ws_max_message, cfg->ping_interval,
        cfg->max_pings_out, cfg->auth_timeout, mfb_auth_required(cfg) ? "true" : "false",
        cfg->tls_cert ? "true" : "false", mfb_accounts_count(cfg->accounts));
}

static const char *status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 414: return "URI Too Long";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

/* The whole answer into c->http; JSON for 200/404, one line of text otherwise. */
static void reply(mfb_conn *c, int status, const char *extra_headers, const char *body, bool json, bool head)
{
    mf_buf_reset(&c->http);
    c->http_sent = 0;
    c->phase = MFB_PHASE_REPLY;
    size_t blen = strlen(body);
    mf_status st = mf_buf_printf(&c->http,
                                 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                                 "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
                                 status, status_text(status), json ? "application/json" : "text/plain; charset=utf-8",
                                 blen, extra_headers ? extra_headers : "");
    if (!st && !head)
        st = mf_buf_append(&c->http, body, blen);
    if (st) {
        mfb_conn_drop(c);
        return;
    }
    mfb_conn_want_write(c);
}

void mfb_http_reply(mfb_conn *c, int status, const char *why)
{
    char body[160];
    snprintf(body, sizeof body, "%s\n", why);
    reply(c, status, NULL, body, false, false);
}

static void plain_request(mfb_conn *c, const mf_ws_request *req)
{
    bool head = !strcmp(req->method, "HEAD");
    if (strcmp(req->method, "GET") && !head) {
        reply(c, 405, "Allow: GET, HEAD\r\n", "{\"error\":\"method not allowed\"}\n", true, false);
        return;
    }
    MFB_LOGD("cid=%llu http %s %s", (unsigned long long)c->cid, req->method, req->path);
    if (!strcmp(req->path, "/healthz")) {
        reply(c, 200, NULL, "{\"status\":\"ok\"}\n", true, head);
    } else if (!strcmp(req->path, "/varz")) {
        mf_buf o = MF_BUF_INIT;
        if (varz(c->b, &o) == MF_OK)
            reply(c, 200, NULL, o.data, true, head);
        else
            mfb_conn_drop(c);
        mf_buf_free(&o);
    } else {
        reply(c, 404, NULL, "{\"error\":\"not found\"}\n", true, head);
    }
}

static bool origin_allowed(const mfb_broker_config *cfg, const mf_ws_request *req)
{
    if (cfg->norigins == 0)
        return true;
    for (size_t i = 0; req->has_origin && i < cfg->norigins; i++)
        if (strcmp(req->origin, cfg->origins[i]) == 0)
            return true;
    return false;
}

static void refuse(mfb_conn *c, int status, const char *extra, const char *why)
{
    MFB_LOGE("cid=%llu %s: websocket upgrade refused (%d): %s", (unsigned long long)c->cid, c->ip, status, why);
    char body[160];
    snprintf(body, sizeof body, "%s\n", why);
    reply(c, status, extra, body, false, false);
}

void mfb_http_request(mfb_conn *c, const mf_ws_request *req)
{
    const mfb_broker_config *cfg = c->b->cfg;
    if (!req->upgrade) {
        plain_request(c, req);
        return;
    }
    bool nats = mf_ws_protocol_listed(req->protocols, MF_BROKER_PROTOCOL);
    if (strcmp(req->method, "GET") || req->minor < 1)
        refuse(c, 400, NULL, "a websocket upgrade is a GET over HTTP/1.1");
    else if (req->version != 13)
        refuse(c, 426, "Sec-WebSocket-Version: 13\r\n", "Sec-WebSocket-Version must be 13");
    else if (!req->key_valid)
        refuse(c, 400, NULL, "bad Sec-WebSocket-Key");
    else if (!origin_allowed(cfg, req))
        refuse(c, 403, NULL, req->has_origin ? "origin not allowed" : "no Origin header (allowed origins are set)");
    else if (req->protocols[0] && !nats)
        refuse(c, 400, NULL, "unsupported subprotocol (only \"nats\" or none)");
    else if (c->b->shutting_down)
        refuse(c, 503, NULL, "server shutting down");
    else {
        char accept[29];
        mf_buf_reset(&c->http);
        c->http_sent = 0;
        if (mf_ws_accept_value(req->key, accept) ||
            mf_buf_printf(&c->http,
                          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: %s\r\n%s\r\n",
                          accept, nats ? "Sec-WebSocket-Protocol: " MF_BROKER_PROTOCOL "\r\n" : "")) {
            mfb_conn_drop(c);
            return;
        }
        mfb_conn_upgraded(c);
        mfb_conn_want_write(c);
    }
}
