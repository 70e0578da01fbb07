/*
 * handshake.c - the HTTP/1.1 upgrade to WebSocket (RFC 6455 section 4), both
 * sides: parsing a request head (server), the Sec-WebSocket-Accept value,
 * a fresh key and checking the response head (client).
 *
 * Heads are parsed strictly and with bounded sizes: CRLF line ends, no
 * obsolete line folding, no control bytes, at most MF_WS_HTTP_HEAD_MAX bytes.
 * SHA-1 and base64 come from OpenSSL.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "mf/ws.h"

static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* Offset just past the "\r\n\r\n" ending the head in buf[0, len), or 0. */
static size_t head_end(const char *buf, size_t len)
{
    size_t n = len < MF_WS_HTTP_HEAD_MAX ? len : MF_WS_HTTP_HEAD_MAX;
    for (size_t i = 3; i < n; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
            return i + 1;
    return 0;
}

/* An RFC 9110 token character (ASCII only, whatever the locale). */
static bool is_tchar(int c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Is `tok` one of the comma-separated items of v[0, n)? Items are trimmed of blanks. */
static bool list_has(const char *v, size_t n, const char *tok, bool nocase)
{
    size_t tl = strlen(tok), i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        size_t a = i, b = j;
        while (a < b && (v[a] == ' ' || v[a] == '\t'))
            a++;
        while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
            b--;
        if (b - a == tl && (nocase ? strncasecmp(v + a, tok, tl) : strncmp(v + a, tok, tl)) == 0)
            return true;
        i = j + 1;
    }
    return false;
}

bool mf_ws_protocol_listed(const char *list, const char *name)
{
    return list && name && list_has(list, strlen(list), name, false);
}

typedef int (*header_fn)(void *ctx, const char *name, size_t nlen, const char *val, size_t vlen);

/* Calls fn for every "Name: value" line in [p, end) (end points at the blank line's CRLF). */
static int each_header(const char *p, const char *end, header_fn fn, void *ctx)
{
    while (p < end) {
        const char *eol = p;
        while (eol < end && *eol != '\r')
            eol++;
        if (eol >= end || eol[1] != '\n')
            return -1;
        const char *colon = p;
        while (colon < eol && is_tchar((unsigned char)*colon))
            colon++;
        if (colon == p || colon == eol || *colon != ':')
            return -1; /* no name, a blank before the colon, or a folded line */
        const char *v = colon + 1, *ve = eol;
        for (const char *q = v; q < ve; q++)
            if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f)
                return -1;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if (fn(ctx, p, (size_t)(colon - p), v, (size_t)(ve - v)))
            return -1;
        p = eol + 2;
    }
    return 0;
}

static bool name_is(const char *name, size_t nlen, const char *want)
{
    return strlen(want) == nlen && strncasecmp(name, want, nlen) == 0;
}

/* Appends v[0, n) to a NUL-terminated field, ", "-separated; false when it does not fit. */
static bool field_add(char *dst, size_t cap, const char *v, size_t n)
{
    size_t have = strlen(dst), sep = have ? 2 : 0;
    if (have + sep + n + 1 > cap)
        return false;
    if (sep)
        memcpy(dst + have, ", ", 2);
    memcpy(dst + have + sep, v, n);
    dst[have + sep + n] = '\0';
    return true;
}

static bool key_looks_valid(const char *k)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (strlen(k) != 24 || k[22] != '=' || k[23] != '=')
        return false;
    for (int i = 0; i < 22; i++)
        if (!k[i] || !strchr(b64, k[i]))
            return false;
    return true;
}

typedef struct req_ctx {
    mf_ws_request *r;
    bool up_ws, conn_up;
} req_ctx;

static int request_header(void *ctx, const char *name, size_t nlen, const char *v, size_t vlen)
{
    req_ctx *x = ctx;
    mf_ws_request *r = x->r;
    if (name_is(name, nlen, "upgrade")) {
        x->up_ws = x->up_ws || list_has(v, vlen, "websocket", true);
    } else if (name_is(name, nlen, "connection")) {
        x->conn_up = x->conn_up || list_has(v, vlen, "upgrade", true);
    } else if (name_is(name, nlen, "sec-websocket-version")) {
        r->version = 0;
        for (size_t i = 0; i < vlen && r->version < 1000; i++)
            r->version = isdigit((unsigned char)v[i]) ? r->version * 10 + (v[i] - '0') : 1000;
    } else if (name_is(name, nlen, "sec-websocket-key")) {
        if (r->key[0] || vlen >= sizeof r->key)
            return -1; /* twice, or absurdly long */
        memcpy(r->key, v, vlen);
        r->key[vlen] = '\0';
    } else if (name_is(name, nlen, "sec-websocket-protocol")) {
        if (!field_add(r->protocols, sizeof r->protocols, v, vlen))
            return -1;
    } else if (name_is(name, nlen, "origin")) {
        if (r->has_origin || vlen >= sizeof r->origin)
            return -1;
        memcpy(r->origin, v, vlen);
        r->origin[vlen] = '\0';
        r->has_origin = true;
    }
    return 0;
}

/* "METHOD SP target SP HTTP/1.x": 0, or the HTTP status to refuse with. */
static int request_line(const char *p, const char *eol, mf_ws_request *r)
{
    const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
    if (!sp1 || sp1 == p || (size_t)(sp1 - p) >= sizeof r->method)
        return 400;
    for (const char *q = p; q < sp1; q++)
        if (!is_tchar((unsigned char)*q))
            return 400;
    const char *t = sp1 + 1;
    const char *sp2 = memchr(t, ' ', (size_t)(eol - t));
    if (!sp2 || sp2 == t || (size_t)(sp2 - t) >= sizeof r->path)
        return sp2 && sp2 != t ? 414 : 400;
    for (const char *q = t; q < sp2; q++)
        if ((unsigned char)*q <= 0x20 || *q == 0x7f)
            return 400;
    const char *ver = sp2 + 1;
    size_t vlen = (size_t)(eol - ver);
    if (vlen != 8 || strncmp(ver, "HTTP/", 5) != 0 || !isdigit((unsigned char)ver[5]) || ver[6] != '.' ||
        !isdigit((unsigned char)ver[7]))
        return 400;
    if (ver[5] != '1')
        return 505;
    memcpy(r->method, p, (size_t)(sp1 - p));
    r->method[sp1 - p] = '\0';
    memcpy(r->path, t, (size_t)(sp2 - t));
    r->path[sp2 - t] = '\0';
    r->minor = ver[7] - '0';
    return 0;
}

int mf_ws_parse_request(const char *buf, size_t len, mf_ws_request *req, size_t *head_len, int *status,
                        const char **why)
{
    memset(req, 0, sizeof *req);
    *head_len = 0;
    *status = 400;
    *why = "malformed request";
    size_t end = head_end(buf, len);
    if (!end) {
        if (len < MF_WS_HTTP_HEAD_MAX)
            return 0;
        *status = 431;
        *why = "request head too long";
        return -1;
    }
    const char *eol = memchr(buf, '\r', end);
    if (!eol || eol[1] != '\n')
        return -1;
    int st = request_line(buf, eol, req);
    if (st) {
        *status = st;
        *why = st == 505 ? "not HTTP/1.x" : st == 414 ? "request target too long" : "malformed request line";
        return -1;
    }
    req_ctx x = {req, false, false};
    if (each_header(eol + 2, buf + end - 2, request_header, &x)) {
        *why = "malformed header";
        return -1;
    }
    req->upgrade = x.up_ws && x.conn_up;
    req->key_valid = key_looks_valid(req->key);
    *head_len = end;
    *status = 0;
    *why = "";
    return 1;
}

mf_status mf_ws_accept_value(const char *key, char out[29])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char in[128];
    int n = snprintf(in, sizeof in, "%s%s", key ? key : "", GUID);
    if (!key || n < 0 || (size_t)n >= sizeof in || !EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha1(), NULL) ||
        mdlen != 20)
        return MF_ERR_INVALID_ARG;
    EVP_EncodeBlock((unsigned char *)out, md, 20); /* 28 characters + NUL */
    return MF_OK;
}

mf_status mf_ws_new_key(char out[25])
{
    unsigned char rnd[16];
    size_t got = 0;
    while (got < sizeof rnd) {
        ssize_t r = getrandom(rnd + got, sizeof rnd - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return MF_ERR_IO;
        got += (size_t)r;
    }
    EVP_EncodeBlock((unsigned char *)out, rnd, 16); /* 24 characters + NUL */
    return MF_OK;
}

typedef struct resp_ctx {
    bool up_ws, conn_up, accept_ok, has_accept, extension, protocol;
    const char *want;
} resp_ctx;

static int response_header(void *ctx, const char *name, size_t nlen, const char *v, size_t vlen)
{
    resp_ctx *x = ctx;
    if (name_is(name, nlen, "upgrade")) {
        x->up_ws = x->up_ws || list_has(v, vlen, "websocket", true);
    } else if (name_is(name, nlen, "connection")) {
        x->conn_up = x->conn_up || list_has(v, vlen, "upgrade", true);
    } else if (name_is(name, nlen, "sec-websocket-accept")) {
        x->accept_ok = !x->has_accept && vlen == strlen(x->want) && memcmp(v, x->want, vlen) == 0;
        x->has_accept = true;
    } else if (name_is(name, nlen, "sec-websocket-extensions")) {
        x->extension = x->extension || vlen > 0;
    } else if (name_is(name, nlen, "sec-websocket-protocol")) {
        x->protocol = true;
    }
    return 0;
}

int mf_ws_parse_response(const char *buf, size_t len, const char *key, size_t *head_len, char *why, size_t whysz)
{
    *head_len = 0;
    size_t end = head_end(buf, len);
    if (!end) {
        if (len < MF_WS_HTTP_HEAD_MAX)
            return 0;
        snprintf(why, whysz, "handshake response head longer than %d bytes", MF_WS_HTTP_HEAD_MAX);
        return -1;
    }
    const char *eol = memchr(buf, '\r', end);
    if (!eol || eol - buf < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' ||
        !isdigit((unsigned char)buf[9]) || !isdigit((unsigned char)buf[10]) || !isdigit((unsigned char)buf[11])) {
        snprintf(why, whysz, "not an HTTP/1.x response");
        return -1;
    }
    int status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    if (status != 101) {
        int n = (int)(eol - buf) - 9;
        snprintf(why, whysz, "upgrade refused: %.*s", n > 80 ? 80 : n, buf + 9);
        return -1;
    }
    char want[29];
    if (mf_ws_accept_value(key, want)) {
        snprintf(why, whysz, "bad key");
        return -1;
    }
    resp_ctx x;
    memset(&x, 0, sizeof x);
    x.want = want;
    if (each_header(eol + 2, buf + end - 2, response_header, &x)) {
        snprintf(why, whysz, "malformed handshake response header");
        return -1;
    }
    const char *bad = !x.up_ws      ? "no Upgrade: websocket"
                      : !x.conn_up  ? "no Connection: upgrade"
                      : !x.accept_ok ? "wrong or missing Sec-WebSocket-Accept"
                      : x.extension ? "an extension the client did not offer"
                      : x.protocol  ? "a subprotocol the client did not ask for"
                                    : NULL;
    if (bad) {
        snprintf(why, whysz, "bad handshake response: %s", bad);
        return -1;
    }
    *head_len = end;
    return 1;
}
