/*
 * cs_admin.h - the Campaign Service's admin API (HTTP/1.1 + JSON on services/common's server).
 *
 *   GET  /campaigns                      stored campaigns: id, name, estimated_reach, schedule
 *   GET  /campaigns/{id}                 one stored CampaignCreate, as stored (codec-encoded)
 *   GET  /campaigns/refused              the latest refused campaign.create (code, pointer, message)
 *   GET  /executions?campaign=ID&limit=N executions, newest first (default 50, at most 1000)
 *   GET  /executions/{id}                one execution: status, counters, targets by outcome
 *   POST /executions/{id}/pause          running -> paused after the batch in hand
 *   POST /executions/{id}/resume         paused -> running
 *   POST /executions/{id}/cancel         pending/running/paused -> cancelled (final)
 *        at any replica (cs_engine_request): 200 with the execution when applied here now, 202
 *        with the execution and its "request" (id, status pending, holder) when the replica that
 *        runs it will apply it; GET /executions/{id} shows "run_by" (the lease holder) and the
 *        newest "request" (pending, applied, refused, superseded, withdrawn)
 *   GET  /stats                          the user view and the engine's counters
 *   POST /users/refresh                  asks the User Service to republish every user
 *   (GET /healthz is the frame's)
 *
 * Errors: {"error": {"code", "message", "pointer"}} with 404 CAMPAIGN_NOT_FOUND /
 * EXECUTION_NOT_FOUND, 409 INVALID_STATE (e.g. pausing a completed execution), 400
 * INVALID_QUERY, 502 USER_SERVICE_UNAVAILABLE, 500 INTERNAL_ERROR. Every answer is encoded by the
 * codec from the shapes in cs_admin.c. Handlers run on the main thread, the engine's host thread.
 */
#ifndef CS_ADMIN_H
#define CS_ADMIN_H

#include <stddef.h>
#include "cs_service.h"
#include "svc_http.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the routes need. The route ctx points at a cs_admin_ctx, or at a struct whose first
 * member is one (campaign-service's main). */
typedef struct cs_admin_ctx {
    cs_service *svc;            /* NULL until the service started: routes answer 503 */
    const char *user_service;   /* base URL of the User Service's admin API, "" = none */
    const char *user_service_token; /* its bearer token, or NULL */
} cs_admin_ctx;

extern const svc_http_route cs_admin_routes[];
extern const size_t cs_admin_route_count;

#ifdef __cplusplus
}
#endif
#endif /* CS_ADMIN_H */
