/*
 * svc_http.h - the admin API server: HTTP/1.1 + JSON on libwebsockets.
 *
 * The same library as the transport (no second HTTP stack). A service declares
 * a route table; the server matches method and path, extracts path parameters
 * ("/users/{id}/preferences"), collects or streams the request body and calls
 * the route's handler, which answers with JSON.
 *
 *   static const svc_http_route routes[] = {
 *       {SVC_HTTP_GET, "/users/{id}", get_user},
 *       {SVC_HTTP_POST, "/users/import", import_done, .on_body = import_chunk, .on_end = import_free},
 *   };
 *
 * Requests
 *   - Unknown path: 404 NOT_FOUND; known path, other method: 405
 *     METHOD_NOT_ALLOWED with an Allow header. Paths are matched after
 *     percent-decoding, a trailing "/" ignored; parameters match one non-empty
 *     segment.
 *   - Buffered bodies (routes without on_body) are collected up to body_max
 *     bytes (default SVC_HTTP_BODY_MAX); a larger one is answered 413
 *     BODY_TOO_LARGE at once and the connection closed. The handler runs when
 *     the whole body is there (at once for a request without a body).
 *   - Streamed bodies (routes with on_body): each chunk goes to on_body as it
 *     arrives (any size, split anywhere); the handler runs at the end. A route
 *     keeps its own state in *svc_http_req_state(rq); on_end, when set, runs
 *     exactly once when the request is over in any way (answered, connection
 *     lost, server stopping) to free it.
 *   - While the server is stopping, new requests get 503 SHUTTING_DOWN.
 *   - With a bearer token (svc_http_opts.bearer_token), a request without
 *     "Authorization: Bearer <token>" or with another token is answered 401
 *     UNAUTHORIZED (with WWW-Authenticate: Bearer) before routing, its body
 *     unread; the header's value is never logged.
 *
 * Responses: exactly one per request, from the handler or from on_body (an
 * early answer; the rest of the body is then not read and the connection is
 * closed after the answer). Bodies are JSON (Content-Type application/json;
 * 204 has none); errors have the shape
 *   {"error": {"code": "USER_NOT_FOUND", "message": "...", "pointer": "/email"}}
 * (`pointer` is the RFC 6901 JSON pointer into the request body, "" when the
 * error is not about one value). HTTP/1.1 keep-alive is supported. A handler
 * that returns without answering gets a 500 INTERNAL_ERROR answer.
 *
 * Threads: everything (handlers, on_body, on_end) runs on the thread that calls
 * svc_http_run, the only thread that touches this server's libwebsockets
 * context. svc_http_stop may be called from any thread. A handler must not
 * block for long: while it runs, no other request is served.
 *
 * Ownership: the route table and ctx must outlive the server. Everything a
 * svc_http_req accessor returns is valid until the request ends.
 */
#ifndef SVC_HTTP_H
#define SVC_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SVC_HTTP_BODY_MAX (1024 * 1024) /* default limit of a buffered body */
#define SVC_HTTP_MAX_PARAMS 4

typedef enum svc_http_method {
    SVC_HTTP_GET = 1,
    SVC_HTTP_POST,
    SVC_HTTP_PUT,
    SVC_HTTP_PATCH,
    SVC_HTTP_DELETE
} svc_http_method;

typedef struct svc_http svc_http;
typedef struct svc_http_req svc_http_req;

/* Runs when the request (and its body) is complete: answer with svc_http_reply*. */
typedef void (*svc_http_handler)(svc_http_req *rq, void *ctx);
/* A chunk of a streamed body. Return 0 to go on; non-zero after answering early (stops reading). */
typedef int (*svc_http_body_fn)(svc_http_req *rq, const char *data, size_t len, void *ctx);
/* The request is over (answered or abandoned): free what *svc_http_req_state(rq) holds. */
typedef void (*svc_http_end_fn)(svc_http_req *rq, void *ctx);

typedef struct svc_http_route {
    svc_http_method method;
    const char *pattern;        /* "/users/{id}": literal segments and {name} parameters */
    svc_http_handler handler;
    svc_http_body_fn on_body;   /* NULL: the body is buffered (see body_max) */
    svc_http_end_fn on_end;     /* NULL: nothing to free */
    size_t body_max;            /* buffered bodies: 0 = SVC_HTTP_BODY_MAX */
    const char *query;          /* the query parameters the handler reads, space-separated ("limit after");
                                 * any other: 400 UNKNOWN_PARAMETER before the handler runs. NULL: none */
} svc_http_route;

typedef struct svc_http_opts {
    const char *listen;            /* "ADDR:PORT" ("[::1]:4281" for IPv6); port 0 = any free port */
    const svc_http_route *routes;  /* tried in order; the first match wins */
    size_t n_routes;
    void *ctx;                     /* passed to every handler */
    int grace_ms;                  /* how long svc_http_stop lets requests in flight finish (default 10000) */
    const char *bearer_token;      /* non-NULL: every request needs "Authorization: Bearer <it>" (svc_token.h);
                                    * without it or with another: 401 UNAUTHORIZED. Must outlive the server. */
} svc_http_opts;

/*
 * Creates the server and binds the listening socket (on the calling thread,
 * which must then be the one calling svc_http_run). MF_ERR_INVALID_ARG (bad
 * listen address or route pattern; err says which), MF_ERR_IO (cannot
 * listen: address in use...), MF_ERR_NOMEM.
 */
mf_status svc_http_create(const svc_http_opts *o, svc_http **out, mf_error *err);

/* The port actually bound (useful with port 0). */
int svc_http_port(const svc_http *h);

/* Checks "ADDR:PORT" (used by the --http option). */
bool svc_http_listen_valid(const char *listen, char *why, size_t why_cap);

/* True when ADDR of "ADDR:PORT" is a loopback address (127.0.0.0/8, ::1, localhost). */
bool svc_http_listen_is_loopback(const char *listen);

/*
 * Watches another file descriptor in the same loop: on_readable runs on the
 * svc_http_run thread whenever fd is readable (a signalfd, an eventfd...).
 * The server does not close fd. MF_ERR_IO.
 */
mf_status svc_http_watch_fd(svc_http *h, int fd, void (*on_readable)(svc_http *h, int fd, void *ctx), void *ctx);

/* Serves on the calling thread until svc_http_stop has run its course. */
void svc_http_run(svc_http *h);

/*
 * Stops taking requests (new ones get 503) and lets those in flight finish,
 * for at most the grace period; then svc_http_run returns. A second call
 * shortens the grace to nothing. Any thread.
 */
void svc_http_stop(svc_http *h);

/* Closes every connection (on_end runs for unfinished requests) and frees. NULL is fine.
 * On the svc_http_run thread, after svc_http_run returned. */
void svc_http_destroy(svc_http *h);

/* ------------------------------------------------------------- requests */

svc_http_method svc_http_req_method(const svc_http_req *rq);
const char *svc_http_req_method_name(const svc_http_req *rq);
const char *svc_http_req_path(const svc_http_req *rq);
/* Value of path parameter `name` ("id" for "/users/{id}"); NULL when the route has none. */
const char *svc_http_req_param(const svc_http_req *rq, const char *name);
/* Query argument `name` (percent-decoded) copied into buf; false when absent or longer than cap - 1. */
bool svc_http_req_query(svc_http_req *rq, const char *name, char *buf, size_t cap);
/* The buffered body, NUL-terminated (len may be NULL); "" when there was none. */
const char *svc_http_req_body(const svc_http_req *rq, size_t *len);
/* A per-request slot for the route's own state (NULL at the start of each request). */
void **svc_http_req_state(svc_http_req *rq);
/* True once the request has been answered. */
bool svc_http_req_answered(const svc_http_req *rq);

/* --------------------------------------------------------------- answers */

/* Answers with status and a JSON body (copied; len 0 with a 204). Only the first answer counts. */
void svc_http_reply(svc_http_req *rq, int status, const char *json, size_t len);

/* Answers with a cJSON value (printed compactly, then deleted: the call takes it over). */
void svc_http_reply_json(svc_http_req *rq, int status, cJSON *body);

/* Answers {"error": {"code", "message", "pointer"}}; pointer NULL means "". */
void svc_http_error(svc_http_req *rq, int status, const char *code, const char *pointer, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* The error body as a cJSON object (for routes that embed errors, such as import summaries). */
cJSON *svc_http_error_object(const char *code, const char *pointer, const char *message);

#ifdef __cplusplus
}
#endif
#endif /* SVC_HTTP_H */
