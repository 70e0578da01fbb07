/*
 * mf/request_copy.h - an async request whose context travels in the client's own
 * request record (internal, not installed; used by the typed API, api/send.c).
 *
 * Why: a per-request context the caller mallocs is freed on the client's service
 * thread, after the callback. malloc on one thread and free on another is what
 * glibc's allocator does worst: the service thread's cache overflows into the
 * requester's arena under that arena's lock, the requester's cache stays empty, and
 * the chunks pile up in the arena's fast bins until malloc_consolidate walks them
 * (bench/campaign: ~3 % of campaign-service's engine thread). The client already
 * keeps its records on a free list under its lock, so a context copied into the
 * record costs a memcpy and nothing else.
 *
 * Rules:
 *  1. The ctx_len bytes at ctx are copied into the record; the callback gets a
 *     pointer to a copy of them (aligned as max_align_t), valid during the call
 *     only. The caller's ctx may be gone as soon as this returns.
 *  2. Otherwise exactly mf_client_request_async (mf/client.h): cb runs once on the
 *     service thread when this returns MF_OK, never when it returns an error (so a
 *     context that owns memory frees it in cb, or itself on an error).
 *  3. 1 <= ctx_len <= MF_REQ_CTX_MAX, else MF_ERR_INVALID_ARG. A record with its copy
 *     is ~190 bytes; the client keeps up to 4,096 free ones (client_int.h).
 */
#ifndef MF_REQUEST_COPY_H
#define MF_REQUEST_COPY_H

#include <stddef.h>

#include "mf/client.h"

#define MF_REQ_CTX_MAX 128u

mf_status mf_client_request_async_copy(mf_client *c, const char *subject, const void *data, size_t len,
                                       int timeout_ms, mf_reply_cb cb, const void *ctx, size_t ctx_len);

#endif /* MF_REQUEST_COPY_H */
