/*
 * cs_republish.h - asks the User Service to publish every user again (POST <url>/republish on
 * its admin API), so that a Campaign Service that starts with an empty view can build it:
 * core NATS keeps no history of user.info.update.
 *
 * A plain HTTP/1.1 request over a blocking TCP socket, on loopback by default: one request at
 * start-up does not justify a second event loop (libwebsockets' client) in the service. Only
 * "http://host[:port][/prefix]" URLs; the answer's status line is all that is read.
 *
 * Threads: no shared state; blocks for at most timeout_ms.
 */
#ifndef CS_REPUBLISH_H
#define CS_REPUBLISH_H

#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * POSTs to <base_url>/republish and returns the HTTP status in *http_status. MF_OK when a
 * 2xx came back; MF_ERR_INVALID_ARG (bad URL), MF_ERR_IO (cannot connect, connection broken,
 * not HTTP), MF_ERR_TIMEOUT, MF_ERR_SERVER (a non-2xx answer: *http_status says which).
 */
mf_status cs_republish_request(const char *base_url, int timeout_ms, int *http_status, mf_error *err);

/* The same with "Authorization: Bearer <token>" when token is non-NULL (a User Service whose
 * admin API requires a token, svc_token.h). The token is not logged nor put in err. */
mf_status cs_republish_request_auth(const char *base_url, const char *token, int timeout_ms, int *http_status,
                                    mf_error *err);

/* The same for what changed at or after `since` (an RFC 3339 date-time without blanks, such as
 * "2026-12-05T21:20:41.582Z", sent as ?since=; NULL = everyone): the User Service republishes
 * the users whose updated_at >= since and the deletions made since then. */
mf_status cs_republish_request_since(const char *base_url, const char *token, const char *since, int timeout_ms,
                                     int *http_status, mf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* CS_REPUBLISH_H */
