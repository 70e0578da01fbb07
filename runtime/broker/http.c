/*
 * http.c - plain HTTP on the broker's port: GET /healthz and GET /varz.
 *
 * This is protocols[0] of the vhost, so lws sends every HTTP request here;
 * websocket upgrades are bound to the "nats" protocol (the vhost default, see
 * main.c) and never reach this callback's HTTP case. The response header is
 * written from LWS_CALLBACK_HTTP (lws's documented pattern), the body from
 * LWS_CALLBACK_HTTP_WRITEABLE.
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
        "\"connections\":%zu,\"total_connections\":%llu,\"subscriptions\":%zu,"
        "\"in_msgs\":%llu,\"out_msgs\":%llu,\"in_bytes\":%llu,\"out_bytes\":%llu,"
        "\"slow_consumers\":%llu,\"dropped_msgs\":%llu,\"publisher_stalls\":%llu,"
        "\"max_payload\":%zu,\"max_control_line\":%zu,\"max_connections\":%zu,\"max_subscriptions\":%zu,"
        "\"max_pending\":%zu,\"ws_max_message\":%zu,\"ping_interval\":%d,\"max_pings_out\":%d,"
        "\"auth_required\":%s,\"headers\":true}\n",
        b->server_id, cfg->server_name, MF_BROKER_VERSION, cfg->host, cfg->port, start, nows, upt, up, b->nconns,
        (unsigned long long)b->total_connections, mfb_route_total_subs(b), (unsigned long long)b->in_msgs,
        (unsigned long long)b->out_msgs, (unsigned long long)b->in_bytes, (unsigned long long)b->out_bytes,
        (unsigned long long)b->slow_consumers, (unsigned long long)b->dropped_msgs,
        (unsigned long long)b->stalls, cfg->max_payload,
        cfg->max_control, cfg->max_connections, cfg->max_subs, cfg->max_pending, cfg->ws_max_message,
        cfg->ping_interval, cfg->max_pings_out, cfg->auth_token ? "true" : "false");
}

/* Writes the header now and keeps the body for HTTP_WRITEABLE. 0 ok, -1 close. */
static int respond(struct lws *wsi, mfb_pss *pss, unsigned int status, const char *body, size_t len)
{
    unsigned char hdr[LWS_PRE + 512];
    unsigned char *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof hdr - 1;
    if (lws_add_http_common_headers(wsi, status, "application/json", (lws_filepos_t)len, &p, end))
        return -1;
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, (const unsigned char *)"no-store", 8, &p,
                                     end))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    if (len == 0) /* nothing to follow the header */
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    free(pss->body);
    pss->body = malloc(LWS_PRE + len + 1);
    if (!pss->body)
        return -1;
    memcpy(pss->body + LWS_PRE, body, len);
    pss->body_len = len;
    lws_callback_on_writable(wsi);
    return 0;
}

int mfb_broker_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    mfb_pss *pss = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        mfb_broker *b = mfb_broker_from_wsi(wsi);
        const char *path = in ? (const char *)in : "";
        if (!pss)
            return -1;
        int r;
        if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
            /* no body: a HEAD response must not have one */
            r = respond(wsi, pss, HTTP_STATUS_METHOD_NOT_ALLOWED, "", 0);
        } else if (strcmp(path, "/healthz") == 0) {
            static const char okb[] = "{\"status\":\"ok\"}\n";
            r = respond(wsi, pss, HTTP_STATUS_OK, okb, sizeof okb - 1);
        } else if (strcmp(path, "/varz") == 0) {
            mf_buf o = MF_BUF_INIT;
            if (varz(b, &o) != MF_OK) {
                mf_buf_free(&o);
                return -1;
            }
            r = respond(wsi, pss, HTTP_STATUS_OK, o.data, o.len);
            mf_buf_free(&o);
        } else {
            static const char nf[] = "{\"error\":\"not found\"}\n";
            r = respond(wsi, pss, HTTP_STATUS_NOT_FOUND, nf, sizeof nf - 1);
        }
        MF_LOGD("http GET %s", path);
        return r;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (!pss || !pss->body)
            return 0;
        int n = lws_write(wsi, (unsigned char *)pss->body + LWS_PRE, pss->body_len, LWS_WRITE_HTTP_FINAL);
        free(pss->body);
        pss->body = NULL;
        if (n < (int)pss->body_len)
            return -1;
        pss->body_len = 0;
        if (lws_http_transaction_completed(wsi))
            return -1;
        return 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss) {
            free(pss->body);
            pss->body = NULL;
        }
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}
