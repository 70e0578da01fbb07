/* cs_republish.c - see cs_republish.h. */
#include "cs_republish.h"
#include "svc_time.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct url {
    char host[256], port[8], path[512];
} url;

/* "http://host[:port][/prefix]" -> host, port (default 80), path prefix without a trailing '/'. */
static mf_status parse_url(const char *s, url *u, mf_error *err)
{
    if (!s || strncmp(s, "http://", 7) != 0)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "not an http:// URL: %.100s", s ? s : "(null)");
    const char *h = s + 7, *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    const char *colon = h[0] == '[' ? memchr(h, ']', hl) : memchr(h, ':', hl);
    if (h[0] == '[' && colon)
        colon = colon + 1 < h + hl && colon[1] == ':' ? colon + 1 : NULL;
    size_t nl = colon ? (size_t)(colon - h) : hl;
    if (h[0] == '[' && nl >= 2) { /* [::1] */
        h++;
        nl -= 2;
    }
    if (nl == 0 || nl >= sizeof u->host)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "no host in %.100s", s);
    memcpy(u->host, h, nl);
    u->host[nl] = '\0';
    snprintf(u->port, sizeof u->port, "80");
    if (colon) {
        size_t pl = hl - (size_t)(colon + 1 - (s + 7));
        if (pl == 0 || pl >= sizeof u->port || strspn(colon + 1, "0123456789") < pl)
            return mf_error_set(err, MF_ERR_INVALID_ARG, "", "bad port in %.100s", s);
        memcpy(u->port, colon + 1, pl);
        u->port[pl] = '\0';
    }
    snprintf(u->path, sizeof u->path, "%s", slash ? slash : "");
    size_t n = strlen(u->path);
    while (n && u->path[n - 1] == '/')
        u->path[--n] = '\0';
    return MF_OK;
}

static int connect_to(const url *u, int64_t deadline, mf_error *err)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) {
        mf_error_set(err, MF_ERR_IO, "", "%s: %s", u->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int left = (int)(deadline - svc_mono_ms());
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (errno != EINPROGRESS || left <= 0 || poll(&p, 1, left) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        mf_error_set(err, MF_ERR_IO, "", "cannot connect to %s:%s", u->host, u->port);
    return fd;
}

/* Sends all of buf or fails. */
static mf_status send_all(int fd, const char *buf, size_t n, int64_t deadline, mf_error *err)
{
    while (n) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w > 0) {
            buf += w;
            n -= (size_t)w;
            continue;
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int left = (int)(deadline - svc_mono_ms());
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return mf_error_set(err, MF_ERR_IO, "", "send: %s", strerror(errno));
        if (left <= 0 || poll(&p, 1, left) == 0)
            return mf_error_set(err, MF_ERR_TIMEOUT, "", "timed out sending the request");
    }
    return MF_OK;
}

/* Reads until the status line is complete; returns its code. */
static mf_status read_status(int fd, int64_t deadline, int *code, mf_error *err)
{
    char buf[512];
    size_t n = 0;
    while (n < sizeof buf - 1 && !memchr(buf, '\n', n)) {
        ssize_t r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (r > 0) {
            n += (size_t)r;
            continue;
        }
        if (r == 0)
            return mf_error_set(err, MF_ERR_IO, "", "connection closed before an answer");
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)(deadline - svc_mono_ms());
        if (errno != EAGAIN && errno != EINTR)
            return mf_error_set(err, MF_ERR_IO, "", "recv: %s", strerror(errno));
        if (left <= 0 || poll(&p, 1, left) == 0)
            return mf_error_set(err, MF_ERR_TIMEOUT, "", "timed out waiting for the answer");
    }
    buf[n] = '\0';
    int major, minor;
    if (sscanf(buf, "HTTP/%d.%d %3d", &major, &minor, code) != 3)
        return mf_error_set(err, MF_ERR_IO, "", "not an HTTP answer");
    return MF_OK;
}

mf_status cs_republish_request(const char *base_url, int timeout_ms, int *http_status, mf_error *err)
{
    return cs_republish_request_auth(base_url, NULL, timeout_ms, http_status, err);
}

mf_status cs_republish_request_auth(const char *base_url, const char *token, int timeout_ms, int *http_status,
                                    mf_error *err)
{
    return cs_republish_request_since(base_url, token, NULL, timeout_ms, http_status, err);
}

mf_status cs_republish_request_since(const char *base_url, const char *token, const char *since, int timeout_ms,
                                     int *http_status, mf_error *err)
{
    url u;
    *http_status = 0;
    mf_status st = parse_url(base_url, &u, err);
    if (st != MF_OK)
        return st;
    int64_t deadline = svc_mono_ms() + timeout_ms;
    int fd = connect_to(&u, deadline, err);
    if (fd < 0)
        return MF_ERR_IO;
    char req[3072];
    int n = snprintf(req, sizeof req,
                     "POST %s/republish%s%s HTTP/1.1\r\nHost: %s:%s\r\nContent-Length: 0\r\n"
                     "User-Agent: campaign-service\r\n%s%s%sConnection: close\r\n\r\n",
                     u.path, since ? "?since=" : "", since ? since : "", u.host, u.port, token ? "Authorization: Bearer " : "", token ? token : "",
                     token ? "\r\n" : "");
    if (n < 0 || n >= (int)sizeof req) {
        close(fd);
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "the request does not fit in %zu bytes", sizeof req);
    }
    st = send_all(fd, req, (size_t)n, deadline, err);
    memset(req, 0, sizeof req);
    if (st == MF_OK)
        st = read_status(fd, deadline, http_status, err);
    close(fd);
    if (st == MF_OK && (*http_status < 200 || *http_status > 299))
        st = mf_error_set(err, MF_ERR_SERVER, "", "POST %s/republish answered %d", base_url, *http_status);
    return st;
}
