/* cs_admin.c - see cs_admin.h. Answers are encoded by the codec from the shapes below. */
#include "cs_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cs_campaigns.h"
#include "cs_db.h"
#include "cs_republish.h"
#include "cs_schedule.h"
#include "cs_time.h"
#include "cs_tz.h"
#include "mf/buf.h"
#include "mf/codec.h"
#include "svc_id.h"

#define LIST_DEFAULT 50
#define LIST_MAX 1000

/* ---- shapes ---- */

static const mf_type str_t = {.kind = MF_K_STR, .name = "string", .size = sizeof(char *)};
static const mf_type int_t = {.kind = MF_K_INT, .name = "integer", .size = sizeof(int64_t)};
#define REQ(S, m, T) {.name = #m, .type = &(T), .offset = offsetof(S, m), .has_offset = -1, .null_offset = -1, .required = true}
#define OPT(S, m, T) {.name = #m, .type = &(T), .offset = offsetof(S, m), .has_offset = (int32_t)offsetof(S, has_##m), .null_offset = -1}
#define OBJ(name_, S, f) {.kind = MF_K_OBJ, .name = name_, .size = sizeof(S), .fields = f, .field_count = sizeof f / sizeof *f}
#define ARR(name_, item_) {.kind = MF_K_ARR, .name = name_, .size = sizeof(mf_array), .item = &(item_)}

typedef struct { char **keys; int64_t *values; size_t count; } count_map;
static const mf_type count_map_t = {.kind = MF_K_MAP, .name = "counts", .size = sizeof(count_map), .item = &int_t};

typedef struct request_view {
    int64_t request_id;
    char *action, *status, *requested_by, *requested_at;
    bool has_holder;
    char *holder;
    bool has_settled_by;
    char *settled_by;
    bool has_settled_at;
    char *settled_at;
    bool has_waited_ms;
    int64_t waited_ms;
    bool has_message;
    char *message;
} request_view;
static const mf_field request_fields[] = {
    REQ(request_view, request_id, int_t), REQ(request_view, action, str_t), REQ(request_view, status, str_t),
    REQ(request_view, requested_by, str_t), REQ(request_view, requested_at, str_t), OPT(request_view, holder, str_t),
    OPT(request_view, settled_by, str_t), OPT(request_view, settled_at, str_t), OPT(request_view, waited_ms, int_t),
    OPT(request_view, message, str_t),
};
static const mf_type request_t = OBJ("AdminRequest", request_view, request_fields);

typedef struct exec_view {
    char *execution_id, *campaign_id, *status, *execution_type;
    bool has_priority;
    char *priority;
    int64_t batch_size, total_targets, sent, failed, skipped, held, ever_held, batches;
    char *created_at, *updated_at;
    bool has_start_at; /* not for an execution refused before it had a start (an unknown campaign) */
    char *start_at;
    bool has_error;
    mf_error_info error;
    bool has_targets;
    count_map targets;
    bool has_run_by;
    char *run_by;
    bool has_request;
    request_view request;
} exec_view;
static const mf_field exec_fields[] = {
    REQ(exec_view, execution_id, str_t), REQ(exec_view, campaign_id, str_t), REQ(exec_view, status, str_t),
    REQ(exec_view, execution_type, str_t), OPT(exec_view, priority, str_t), REQ(exec_view, batch_size, int_t),
    REQ(exec_view, total_targets, int_t), REQ(exec_view, sent, int_t), REQ(exec_view, failed, int_t),
    REQ(exec_view, skipped, int_t), REQ(exec_view, held, int_t), REQ(exec_view, ever_held, int_t),
    REQ(exec_view, batches, int_t), REQ(exec_view, created_at, str_t), REQ(exec_view, updated_at, str_t),
    OPT(exec_view, start_at, str_t), OPT(exec_view, error, mf_error_info_desc), OPT(exec_view, targets, count_map_t),
    OPT(exec_view, run_by, str_t), OPT(exec_view, request, request_t),
};
static const mf_type exec_t = OBJ("Execution", exec_view, exec_fields);

typedef struct exec_list { struct { exec_view *items; size_t count; } executions; } exec_list;
static const mf_type exec_arr_t = ARR("executions", exec_t);
static const mf_field exec_list_fields[] = {REQ(exec_list, executions, exec_arr_t)};
static const mf_type exec_list_t = OBJ("Executions", exec_list, exec_list_fields);

typedef struct campaign_view {
    char *campaign_id, *name, *schedule_type, *stored_at;
    int64_t estimated_reach;
    bool has_next_run_at;
    char *next_run_at;
} campaign_view;
static const mf_field campaign_fields[] = {
    REQ(campaign_view, campaign_id, str_t), REQ(campaign_view, name, str_t),
    REQ(campaign_view, schedule_type, str_t), REQ(campaign_view, stored_at, str_t),
    REQ(campaign_view, estimated_reach, int_t), OPT(campaign_view, next_run_at, str_t),
};
static const mf_type campaign_t = OBJ("Campaign", campaign_view, campaign_fields);
typedef struct campaign_list { struct { campaign_view *items; size_t count; } campaigns; } campaign_list;
static const mf_type campaign_arr_t = ARR("campaigns", campaign_t);
static const mf_field campaign_list_fields[] = {REQ(campaign_list, campaigns, campaign_arr_t)};
static const mf_type campaign_list_t = OBJ("Campaigns", campaign_list, campaign_list_fields);

typedef struct refusal_view { char *campaign_id, *code, *pointer, *message, *at; } refusal_view;
static const mf_field refusal_fields[] = {
    REQ(refusal_view, campaign_id, str_t), REQ(refusal_view, code, str_t), REQ(refusal_view, pointer, str_t),
    REQ(refusal_view, message, str_t), REQ(refusal_view, at, str_t),
};
static const mf_type refusal_t = OBJ("Refusal", refusal_view, refusal_fields);
typedef struct refusal_list { struct { refusal_view *items; size_t count; } refused; } refusal_list;
static const mf_type refusal_arr_t = ARR("refused", refusal_t);
static const mf_field refusal_list_fields[] = {REQ(refusal_list, refused, refusal_arr_t)};
static const mf_type refusal_list_t = OBJ("Refused", refusal_list, refusal_list_fields);

typedef struct stats_view {
    int64_t users, view_events, view_rejected, creates, executes, requests, retries, pushes, batches,
        publish_failures, active_executions, tz_switches, refresh_requested, refresh_since, refresh_full,
        refresh_failures;
    char *now;
} stats_view;
static const mf_field stats_fields[] = {
    REQ(stats_view, users, int_t), REQ(stats_view, view_events, int_t), REQ(stats_view, view_rejected, int_t),
    REQ(stats_view, creates, int_t), REQ(stats_view, executes, int_t), REQ(stats_view, requests, int_t),
    REQ(stats_view, retries, int_t), REQ(stats_view, pushes, int_t), REQ(stats_view, batches, int_t),
    REQ(stats_view, publish_failures, int_t), REQ(stats_view, active_executions, int_t),
    REQ(stats_view, tz_switches, int_t), REQ(stats_view, refresh_requested, int_t),
    REQ(stats_view, refresh_since, int_t), REQ(stats_view, refresh_full, int_t),
    REQ(stats_view, refresh_failures, int_t), REQ(stats_view, now, str_t),
};
static const mf_type stats_t = OBJ("Stats", stats_view, stats_fields);

/* ---- helpers ---- */

static void reply_value(svc_http_req *rq, int status, const mf_type *t, const void *v)
{
    mf_buf b = MF_BUF_INIT;
    mf_error err;
    if (mf_encode(t, v, &b, &err) == MF_OK)
        svc_http_reply(rq, status, b.data, b.len);
    else
        svc_http_error(rq, 500, "INTERNAL_ERROR", err.pointer, "answer not encoded: %s", err.message);
    mf_buf_free(&b);
}

static cs_service *ready(svc_http_req *rq, void *ctx)
{
    cs_admin_ctx *a = ctx;
    if (!a->svc)
        svc_http_error(rq, 503, "STARTING", NULL, "the service is starting");
    return a->svc;
}

static char *dup_time(int64_t ms)
{
    char t[CS_TIME_TEXT_MAX];
    return strdup(cs_time_format(ms, t));
}

/* Fills v from x (strings owned by v: mf_free(&exec_t, v)). */
static void exec_fill(exec_view *v, const cs_execution *x)
{
    mf_init(&exec_t, v);
    v->execution_id = strdup(x->execution_id);
    v->campaign_id = strdup(x->campaign_id);
    v->status = strdup(mf_campaign_status_update_status_to_string(x->status));
    const char *type = mf_campaign_execute_execution_type_to_string(x->type);
    v->execution_type = strdup(type ? type : "immediate");
    if (x->priority) {
        v->has_priority = true;
        v->priority = strdup(mf_priority_to_string(x->priority));
    }
    v->batch_size = x->batch_size;
    v->total_targets = x->total;
    v->sent = x->sent;
    v->failed = x->failed;
    v->skipped = x->skipped;
    v->held = x->held;
    v->ever_held = x->ever_held;
    v->batches = x->batches;
    v->created_at = dup_time(x->created_at);
    v->updated_at = dup_time(x->updated_at);
    if ((v->has_start_at = x->start_at > 0))
        v->start_at = dup_time(x->start_at);
    if (x->error_code[0]) {
        v->has_error = true;
        v->error.code = strdup(x->error_code);
        v->error.message = strdup(x->error_message[0] ? x->error_message : x->error_code);
    }
}

static void count_cb(void *ctx, const char *label, int64_t n)
{
    count_map *m = ctx;
    char **k = realloc(m->keys, (m->count + 1) * sizeof *k);
    int64_t *v = k ? realloc(m->values, (m->count + 1) * sizeof *v) : NULL;
    if (k)
        m->keys = k;
    if (!v)
        return;
    m->values = v;
    m->keys[m->count] = strdup(label);
    if (m->keys[m->count])
        m->values[m->count++] = n;
}

/* ---- executions ---- */

static void request_fill(request_view *v, const cs_action *a)
{
    v->request_id = a->id;
    v->action = strdup(cs_action_kind_name(a->kind));
    v->status = strdup(cs_action_state_name(a->state));
    v->requested_by = strdup(a->requested_by);
    v->requested_at = dup_time(a->requested_at);
    if ((v->has_holder = a->holder[0] != '\0'))
        v->holder = strdup(a->holder);
    if (a->state != CS_ACTION_PENDING) {
        v->has_settled_by = v->has_settled_at = v->has_waited_ms = true;
        v->settled_by = strdup(a->settled_by);
        v->settled_at = dup_time(a->settled_at);
        v->waited_ms = a->settled_at - a->requested_at;
    }
    if ((v->has_message = a->message[0] != '\0'))
        v->message = strdup(a->message);
}

/* What the replicas add to an execution's view: run_by (the lease holder, while it runs) and
 * `request`: req, or the newest request when req is NULL. Nothing when the service runs
 * without leases; a failed lookup leaves both out (the rest of the view stands). */
static void exec_fill_replicas(exec_view *v, cs_engine *e, const cs_execution *x, const cs_action *req)
{
    cs_action newest;
    bool has = false;
    char holder[64] = "";
    mf_error err;
    if (cs_engine_last_request(e, x->execution_id, &newest, &has, holder, &err) != MF_OK)
        has = false;
    if (holder[0] && cs_execution_active(x->status)) {
        v->has_run_by = true;
        v->run_by = strdup(holder);
    }
    if (req && req->id == 0) /* applied with no record (no leases): nothing to show */
        req = NULL;
    else if (!req && has)
        req = &newest;
    if (req) {
        v->has_request = true;
        request_fill(&v->request, req);
    }
}

/* The execution as GET /executions/{id} shows it; req: the request to show (NULL: the newest). */
static void reply_execution(svc_http_req *rq, cs_service *svc, const char *id, int status, const cs_action *req)
{
    cs_engine *e = cs_service_engine(svc);
    cs_execution x;
    bool found;
    mf_error err;
    if (cs_engine_execution(e, id, &x, &found, &err) != MF_OK) {
        svc_http_error(rq, 500, "INTERNAL_ERROR", NULL, "%s", err.message);
        return;
    }
    if (!found) {
        svc_http_error(rq, 404, "EXECUTION_NOT_FOUND", NULL, "no execution %s", id);
        return;
    }
    exec_view v;
    exec_fill(&v, &x);
    v.has_targets = true;
    cs_ledger *l = NULL;
    if (cs_ledger_open(cs_service_db(svc), &l, &err) == MF_OK)
        cs_ledger_breakdown(l, x.execution_id, count_cb, &v.targets, &err);
    cs_ledger_close(l);
    exec_fill_replicas(&v, e, &x, req);
    reply_value(rq, status, &exec_t, &v);
    mf_free(&exec_t, &v);
}

/* The path's {id} as a canonical (lowercase) UUID in out; false, and 400 INVALID_PARAMETER
 * answered, when it is none (a typo is not "not found"). */
static bool path_id(svc_http_req *rq, const char *what, char out[SVC_UUID_LEN])
{
    const char *p = svc_http_req_param(rq, "id");
    if (p && svc_uuid_canon(p, out))
        return true;
    svc_http_error(rq, 400, "INVALID_PARAMETER", NULL, "the %s id \"%.64s\" is not a UUID", what, p ? p : "");
    return false;
}

static void get_execution(svc_http_req *rq, void *ctx)
{
    cs_service *svc = ready(rq, ctx);
    char id[SVC_UUID_LEN];
    if (svc && path_id(rq, "execution", id))
        reply_execution(rq, svc, id, 200, NULL);
}

/* 200 with the execution when applied here now; 202 with the pending request when the replica
 * that runs the execution will apply it (cs_engine_request). */
static void admin_op(svc_http_req *rq, void *ctx, cs_action_kind kind)
{
    cs_service *svc = ready(rq, ctx);
    char id[SVC_UUID_LEN];
    if (!svc || !path_id(rq, "execution", id))
        return;
    mf_error err;
    cs_action a;
    mf_status st = cs_engine_request(cs_service_engine(svc), id, kind, &a, &err);
    if (st == MF_ERR_NOT_FOUND)
        svc_http_error(rq, 404, "EXECUTION_NOT_FOUND", NULL, "%s", err.message);
    else if (st == MF_ERR_INVALID_ARG)
        svc_http_error(rq, 409, "INVALID_STATE", NULL, "%s", err.message);
    else if (st != MF_OK)
        svc_http_error(rq, 500, "INTERNAL_ERROR", NULL, "%s", err.message);
    else
        reply_execution(rq, svc, a.execution_id, a.state == CS_ACTION_PENDING ? 202 : 200, &a);
}

static void pause_execution(svc_http_req *rq, void *ctx) { admin_op(rq, ctx, CS_ACTION_PAUSE); }
static void resume_execution(svc_http_req *rq, void *ctx) { admin_op(rq, ctx, CS_ACTION_RESUME); }
static void cancel_execution(svc_http_req *rq, void *ctx) { admin_op(rq, ctx, CS_ACTION_CANCEL); }

typedef struct list_ctx {
    cs_engine *engine;
    exec_list out;
    bool nomem;
} list_ctx;

static void list_cb(void *ctx, const cs_execution *x)
{
    list_ctx *c = ctx;
    exec_view *items = realloc(c->out.executions.items, (c->out.executions.count + 1) * sizeof *items);
    if (!items) {
        c->nomem = true;
        return;
    }
    c->out.executions.items = items;
    exec_view *v = &items[c->out.executions.count++];
    exec_fill(v, x);
    exec_fill_replicas(v, c->engine, x, NULL); /* a request pending at another replica shows here too */
}

static bool query_limit(svc_http_req *rq, long *limit)
{
    char buf[32];
    *limit = LIST_DEFAULT;
    if (!svc_http_req_query(rq, "limit", buf, sizeof buf))
        return true;
    char *end;
    *limit = strtol(buf, &end, 10);
    if (*end || *limit < 1 || *limit > LIST_MAX) {
        svc_http_error(rq, 400, "INVALID_QUERY", NULL, "limit must be 1..%d", LIST_MAX);
        return false;
    }
    return true;
}

static void list_executions(svc_http_req *rq, void *ctx)
{
    cs_service *svc = ready(rq, ctx);
    long limit;
    if (!svc || !query_limit(rq, &limit))
        return;
    char q[64], campaign[SVC_UUID_LEN];
    bool by_campaign = svc_http_req_query(rq, "campaign", q, sizeof q);
    if (by_campaign && !svc_uuid_canon(q, campaign)) {
        svc_http_error(rq, 400, "INVALID_QUERY", NULL, "campaign must be a campaign id (UUID)");
        return;
    }
    list_ctx c;
    memset(&c, 0, sizeof c);
    c.engine = cs_service_engine(svc);
    mf_error err;
    cs_ledger *l = NULL;
    mf_status st = cs_ledger_open(cs_service_db(svc), &l, &err);
    if (st == MF_OK)
        st = cs_ledger_list(l, by_campaign ? campaign : NULL, (size_t)limit, list_cb, &c, &err);
    cs_ledger_close(l);
    if (st != MF_OK || c.nomem)
        svc_http_error(rq, 500, "INTERNAL_ERROR", NULL, "%s", st != MF_OK ? err.message : "out of memory");
    else
        reply_value(rq, 200, &exec_list_t, &c.out);
    mf_free(&exec_list_t, &c.out);
}

/* ---- campaigns ---- */

typedef struct campaigns_ctx {
    sqlite3 *db;
    campaign_list out;
    bool nomem;
} campaigns_ctx;

static void campaign_cb(void *ctx, const mf_campaign_create *c, int64_t stored_at)
{
    campaigns_ctx *cc = ctx;
    campaign_view *items = realloc(cc->out.campaigns.items, (cc->out.campaigns.count + 1) * sizeof *items);
    if (!items) {
        cc->nomem = true;
        return;
    }
    cc->out.campaigns.items = items;
    campaign_view *v = &items[cc->out.campaigns.count++];
    mf_init(&campaign_t, v);
    v->campaign_id = strdup(c->campaign_id);
    v->name = strdup(c->name);
    v->schedule_type = strdup(mf_campaign_create_schedule_type_to_string(c->schedule.type));
    v->stored_at = dup_time(stored_at);
    v->estimated_reach = c->target_audience.estimated_reach;
    int64_t next;
    bool none;
    if (cs_schedule_next_of(cc->db, c->campaign_id, &next, &none, NULL) == MF_OK && !none) {
        v->has_next_run_at = true;
        v->next_run_at = dup_time(next);
    }
}

static void list_campaigns(svc_http_req *rq, void *ctx)
{
    cs_service *svc = ready(rq, ctx);
    if (!svc)
        return;
    campaigns_ctx c;
    memset(&c, 0, sizeof c);
    c.db = cs_service_db(svc);
    mf_error err;
    mf_status st = cs_campaigns_each(c.db, campaign_cb, &c, &err);
    if (st != MF_OK || c.nomem)
        svc_http_error(rq, 500, "INTERNAL_ERROR", NULL, "%s", st != MF_OK ? err.message : "out of memory");
    else
        reply_value(rq, 200, &campaign_list_t, &c.out);
    mf_free(&campaign_list_t, &c.out);
}

static void get_campaign(svc_http_req *rq, void *ctx)
{
    cs_service *svc = ready(rq, ctx);
    char id[SVC_UUID_LEN];
    if (!svc || !path_id(rq, "campaign", id))
        return;
    mf_campaign_create c;
    bool found;
    mf_error err;
    if (cs_campaigns_get(cs_service_db(svc), id, &c, &found, &err) != MF_OK)
        svc_http_error(rq, 500, "INTERNAL_ERROR", NULL, "%s", err.message);
    else if (!found)
        svc_http_error(rq, 404, "CAMPAIGN_NOT_FOUND", NULL, "no campaign %s", id);
    else
        reply_value(rq, 200, &mf_campaign_create_desc, &c);
    mf_campaign_create_free(&c);
}

static void refusal_cb(void *ctx, const cs_refusal *r)
{
    refusal_list *l = ctx;
    refusal_view *items = realloc(l->refused.items, (l->refused.count + 1) * sizeof *items);
    if (!items)
        return;
    l->refused.items = items;
    refusal_view *v = &items[l->refused.count++];
    v->campaign_id = strdup(r->campaign_id);
    v->code = strdup(r->code);
    v->pointer = strdup(r->err.pointer);
    v->message = strdup(r->err.message);
    v->at = dup_time(r->at_ms);
}

static void list_refused(svc_http_req *rq, void *ctx)
{
    cs_service *svc = ready(rq, ctx);
    if (!svc)
        return;
    refusal_list l;
    mf_init(&refusal_list_t, &l);
    cs_engine_refusals(cs_service_engine(svc), refusal_cb, &l);
    reply_value(rq, 200, &refusal_list_t, &l);
    mf_free(&refusal_list_t, &l);
}

/* ---- the service ---- */

static void get_stats(svc_http_req *rq, void *ctx)
{
    cs_service *svc = ready(rq, ctx);
    if (!svc)
        return;
    cs_service_stats s;
    cs_engine_stats e;
    cs_service_stats_get(svc, &s);
    cs_engine_stats_get(cs_service_engine(svc), &e);
    stats_view v = {.users = s.users, .view_events = (int64_t)s.view_events, .view_rejected = (int64_t)s.view_rejected,
                    .creates = (int64_t)s.creates, .executes = (int64_t)s.executes, .requests = (int64_t)e.requests,
                    .retries = (int64_t)e.retries, .pushes = (int64_t)e.pushes, .batches = (int64_t)e.batches,
                    .publish_failures = (int64_t)e.publish_failures, .active_executions = (int64_t)e.active_runs,
                    .tz_switches = (int64_t)cs_tz_switches(), .refresh_requested = s.refresh_requested,
                    .refresh_since = s.refresh_since, .refresh_full = s.refresh_full,
                    .refresh_failures = s.refresh_failures, .now = dup_time(cs_service_now(svc))};
    reply_value(rq, 200, &stats_t, &v);
    free(v.now);
}

static void refresh_users(svc_http_req *rq, void *ctx)
{
    cs_admin_ctx *a = ctx;
    if (!ready(rq, ctx))
        return;
    if (!a->user_service || !*a->user_service) {
        svc_http_error(rq, 409, "NO_USER_SERVICE", NULL, "started without --user-service");
        return;
    }
    int code;
    mf_error err;
    if (cs_republish_request_auth(a->user_service, a->user_service_token, 5000, &code, &err) != MF_OK)
        svc_http_error(rq, 502, "USER_SERVICE_UNAVAILABLE", NULL, "%s", err.message);
    else
        svc_http_reply(rq, 202, "{\"requested\":true}", 18);
}

const svc_http_route cs_admin_routes[] = {
    {SVC_HTTP_GET, "/campaigns", list_campaigns, NULL, NULL, 0, NULL},
    {SVC_HTTP_GET, "/campaigns/refused", list_refused, NULL, NULL, 0, NULL},
    {SVC_HTTP_GET, "/campaigns/{id}", get_campaign, NULL, NULL, 0, NULL},
    {SVC_HTTP_GET, "/executions", list_executions, NULL, NULL, 0, "campaign limit"},
    {SVC_HTTP_GET, "/executions/{id}", get_execution, NULL, NULL, 0, NULL},
    {SVC_HTTP_POST, "/executions/{id}/pause", pause_execution, NULL, NULL, 0, NULL},
    {SVC_HTTP_POST, "/executions/{id}/resume", resume_execution, NULL, NULL, 0, NULL},
    {SVC_HTTP_POST, "/executions/{id}/cancel", cancel_execution, NULL, NULL, 0, NULL},
    {SVC_HTTP_GET, "/stats", get_stats, NULL, NULL, 0, NULL},
    {SVC_HTTP_POST, "/users/refresh", refresh_users, NULL, NULL, 0, NULL},
};
const size_t cs_admin_route_count = sizeof cs_admin_routes / sizeof cs_admin_routes[0];
