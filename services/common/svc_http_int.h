/*
 * svc_http_int.h - the admin server's router, separate from libwebsockets so
 * that it can be unit-tested (tests/services/test_svc_http_route.c).
 */
#ifndef SVC_HTTP_INT_H
#define SVC_HTTP_INT_H

#include <stdint.h>

#include "svc_http.h"

#define SVC_ROUTE_SEGMENTS 16
#define SVC_ROUTE_PARAM_MAX 256 /* bytes of one path parameter value, NUL included */

typedef struct svc_router svc_router;

typedef struct svc_route_match {
    const svc_http_route *route;
    size_t n_params;
    const char *names[SVC_HTTP_MAX_PARAMS];           /* point into the router */
    char values[SVC_HTTP_MAX_PARAMS][SVC_ROUTE_PARAM_MAX];
    unsigned allow;                                   /* 405: bit (1 << method) per method of the path */
} svc_route_match;

typedef enum svc_route_result {
    SVC_ROUTE_FOUND = 0,
    SVC_ROUTE_NO_PATH = 1,   /* 404 */
    SVC_ROUTE_NO_METHOD = 2  /* 405: m->allow says which methods the path has */
} svc_route_result;

/* Compiles the patterns. MF_ERR_INVALID_ARG names the bad pattern. */
mf_status svc_router_build(const svc_http_route *routes, size_t n, svc_router **out, mf_error *err);
svc_route_result svc_router_match(const svc_router *r, svc_http_method method, const char *path,
                                  svc_route_match *m);
void svc_router_free(svc_router *r);

/* "GET", "POST"... */
const char *svc_http_method_name(svc_http_method m);

/*
 * Request bodies with Transfer-Encoding: chunked (RFC 9112 section 7.1):
 * libwebsockets 4.1 hands them over still framed, so the server removes the
 * framing itself. Chunk extensions and trailer fields are read and ignored.
 */
typedef struct svc_dechunk {
    int state;
    uint64_t left;   /* bytes of the current chunk still to come */
    unsigned digits; /* hex digits of the size read so far */
    unsigned line;   /* bytes of the current trailer line */
} svc_dechunk;

typedef void (*svc_dechunk_out)(void *ctx, const char *data, size_t len);

/* Feeds framed bytes; payload goes to out. Returns 1 when the last chunk and the
 * trailers are complete (bytes after that are not read), 0 to go on, -1 on a framing error. */
int svc_dechunk_feed(svc_dechunk *d, const char *in, size_t len, svc_dechunk_out out, void *ctx);

#endif /* SVC_HTTP_INT_H */
