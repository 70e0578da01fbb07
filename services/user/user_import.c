/*
 * user_import.c - POST /users/import: newline-delimited JSON, streamed.
 *
 * Each line is a user as for POST /users (user_id optional: a line whose
 * user_id exists updates that user with the members it has). The body is read
 * as it arrives; lines are decoded and checked at once, and every
 * --import-chunk valid lines are written in one transaction (each line in a
 * savepoint, so a line the database refuses - an email taken - is rejected
 * alone). The write lock is held only while a chunk is written, never while
 * waiting for the client. Events of each chunk are committed with it.
 *
 * A bad line is rejected with its number, the others are stored. If the
 * database fails, the import stops: the chunks committed so far stay, and the
 * answer (503/500) says how far it got. A connection lost mid-import keeps
 * the committed chunks and drops the lines not yet written.
 *
 * Answer: 200 {"lines", "created", "updated", "unchanged", "rejected",
 *              "errors": [{"line", "code", "message", "pointer"}...], "errors_truncated"}
 * (at most ERRORS_MAX errors are listed; blank lines are skipped but counted
 * in line numbers).
 */
#include <stdlib.h>
#include <string.h>

#include "svc_log.h"
#include "user_service.h"

#define LINE_MAX_BYTES (64 * 1024)
#define ERRORS_MAX 1000

typedef struct pending {
    us_user u;
    size_t line;
} pending;

typedef struct counts {
    size_t created, updated, unchanged, rejected;
} counts;

typedef struct import_state {
    us_ctx *c;
    mf_buf line;           /* the line being assembled */
    size_t line_no;        /* its number, from 1 */
    bool too_long;
    pending *batch;
    size_t n;              /* lines in batch */
    size_t lines;          /* non-blank lines seen */
    counts done;           /* committed (or rejected before writing) */
    cJSON *errors;
    size_t n_errors;
    bool failed;           /* the database failed: answered, stop */
} import_state;

static void reject(import_state *s, cJSON *errors, size_t *count, size_t line, const char *code, const char *pointer,
                   const char *message)
{
    (*count)++;
    if (s->n_errors >= ERRORS_MAX)
        return;
    cJSON *e = svc_http_error_object(code, pointer, message);
    cJSON_AddNumberToObject(e, "line", (double)line);
    cJSON_AddItemToArray(errors, e);
    s->n_errors++;
}

static int by_line(const void *a, const void *b)
{
    double x = cJSON_GetNumberValue(cJSON_GetObjectItem(*(cJSON *const *)a, "line"));
    double y = cJSON_GetNumberValue(cJSON_GetObjectItem(*(cJSON *const *)b, "line"));
    return (x > y) - (x < y);
}

/* Rejections are found before (decoding) or while (database) a chunk is written: sort by line. */
static void sort_errors(cJSON *errors)
{
    size_t n = (size_t)cJSON_GetArraySize(errors);
    cJSON **v = n ? malloc(n * sizeof *v) : NULL;
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        v[i] = cJSON_DetachItemFromArray(errors, 0);
    qsort(v, n, sizeof *v, by_line);
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(errors, v[i]);
    free(v);
}

static cJSON *summary(const import_state *s)
{
    sort_errors(s->errors);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "lines", (double)s->lines);
    cJSON_AddNumberToObject(r, "created", (double)s->done.created);
    cJSON_AddNumberToObject(r, "updated", (double)s->done.updated);
    cJSON_AddNumberToObject(r, "unchanged", (double)s->done.unchanged);
    cJSON_AddNumberToObject(r, "rejected", (double)s->done.rejected);
    cJSON_AddItemReferenceToObject(r, "errors", s->errors);
    cJSON_AddBoolToObject(r, "errors_truncated", s->n_errors >= ERRORS_MAX && s->done.rejected > s->n_errors);
    return r;
}

/* The database failed: answer with how far the import got, stop reading. */
static void fail(import_state *s, svc_http_req *rq, mf_status st, const mf_error *err)
{
    const char *code;
    int status = us_http_status(st, err, &code);
    if (status < 500)
        status = 500, code = "INTERNAL_ERROR";
    SVC_ERROR("import stopped by a database failure: %s", err->message);
    cJSON *r = summary(s);
    cJSON_AddItemToObject(r, "error", svc_http_error_object(code, "", err->message));
    svc_http_reply_json(rq, status, r);
    s->failed = true;
}

/* Writes one line inside the chunk's transaction (its own savepoint). */
static mf_status write_line(import_state *s, pending *p, counts *k, cJSON *errors, mf_error *fatal)
{
    us_store *st = s->c->store;
    mf_status rc = us_store_savepoint(st, fatal);
    if (rc)
        return rc;
    us_outcome out;
    mf_error err;
    mf_error_clear(&err);
    rc = us_apply_upsert(st, &p->u, &out, &err);
    if (rc == MF_OK) {
        rc = us_store_release(st, fatal);
        if (rc == MF_OK && out == US_OUT_CREATED)
            k->created++;
        else if (rc == MF_OK && out == US_OUT_UPDATED)
            k->updated++;
        else if (rc == MF_OK)
            k->unchanged++;
        return rc;
    }
    us_store_rollback_to(st);
    const char *code;
    if (us_http_status(rc, &err, &code) >= 500) { /* not about the line: stop */
        *fatal = err;
        return rc;
    }
    reject(s, errors, &k->rejected, p->line, code, err.pointer, err.message);
    return MF_OK;
}

/* Writes the batch in one transaction. */
static void flush_batch(import_state *s, svc_http_req *rq)
{
    if (s->n == 0 || s->failed)
        return;
    counts k = {0, 0, 0, 0};
    cJSON *errors = cJSON_CreateArray();
    size_t n_errors = s->n_errors;
    mf_error fatal;
    mf_error_clear(&fatal);
    mf_status st = us_store_begin(s->c->store, &fatal);
    for (size_t i = 0; st == MF_OK && i < s->n; i++)
        st = write_line(s, &s->batch[i], &k, errors, &fatal);
    if (st == MF_OK)
        st = us_store_commit(s->c->store, &fatal);
    else
        us_store_rollback(s->c->store);
    for (size_t i = 0; i < s->n; i++)
        us_user_free(&s->batch[i].u);
    s->n = 0;
    if (st) {
        s->n_errors = n_errors; /* this chunk's rejections were not kept */
        cJSON_Delete(errors);
        fail(s, rq, st, &fatal);
        return;
    }
    svc_outbox_kick(svc_app_outbox(s->c->app));
    s->done.created += k.created, s->done.updated += k.updated;
    s->done.unchanged += k.unchanged, s->done.rejected += k.rejected;
    cJSON *e;
    while ((e = cJSON_DetachItemFromArray(errors, 0)) != NULL)
        cJSON_AddItemToArray(s->errors, e);
    cJSON_Delete(errors);
}

static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

/* A complete line: decode and check it, queue it for the next transaction. */
static void finish_line(import_state *s, svc_http_req *rq)
{
    size_t line = s->line_no++;
    const char *text = s->line.data ? s->line.data : "";
    size_t len = s->line.len;
    if (len && text[len - 1] == '\r')
        len--;
    bool too_long = s->too_long;
    s->too_long = false;
    if (!too_long && blank(text, len)) {
        mf_buf_reset(&s->line);
        return;
    }
    s->lines++;
    if (too_long) {
        reject(s, s->errors, &s->done.rejected, line, "LINE_TOO_LONG", "", "the line is longer than 64 KiB");
        mf_buf_reset(&s->line);
        return;
    }
    pending *p = &s->batch[s->n];
    mf_error err;
    mf_status st = mf_decode(us_user_create_type, text, len, &p->u, &err);
    if (st == MF_OK)
        st = us_user_normalize(&p->u, &err);
    mf_buf_reset(&s->line);
    if (st) {
        const char *code;
        us_http_status(st, &err, &code);
        reject(s, s->errors, &s->done.rejected, line, code, err.pointer, err.message);
        us_user_free(&p->u);
        return;
    }
    p->line = line;
    if (++s->n == (size_t)s->c->opt.import_chunk)
        flush_batch(s, rq);
}

static import_state *state_new(us_ctx *c)
{
    import_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->c = c;
    s->line_no = 1;
    mf_buf_init(&s->line);
    s->batch = calloc((size_t)c->opt.import_chunk, sizeof *s->batch);
    s->errors = cJSON_CreateArray();
    if (!s->batch || !s->errors) {
        free(s->batch);
        cJSON_Delete(s->errors);
        free(s);
        return NULL;
    }
    return s;
}

static import_state *state_of(svc_http_req *rq, void *ctx)
{
    void **slot = svc_http_req_state(rq);
    if (!*slot)
        *slot = state_new(ctx);
    return *slot;
}

int us_import_body(svc_http_req *rq, const char *data, size_t len, void *ctx)
{
    import_state *s = state_of(rq, ctx);
    if (!s) {
        svc_http_error(rq, 500, "INTERNAL_ERROR", "", "out of memory");
        return 1;
    }
    while (len > 0 && !s->failed) {
        const char *nl = memchr(data, '\n', len);
        size_t n = nl ? (size_t)(nl - data) : len;
        if (!s->too_long && s->line.len + n > LINE_MAX_BYTES) {
            s->too_long = true;
            mf_buf_reset(&s->line);
        }
        if (!s->too_long && mf_buf_append(&s->line, data, n) != MF_OK) {
            svc_http_error(rq, 500, "INTERNAL_ERROR", "", "out of memory");
            return 1;
        }
        if (nl)
            finish_line(s, rq);
        data += nl ? n + 1 : n;
        len -= nl ? n + 1 : n;
    }
    return s->failed;
}

void us_import_done(svc_http_req *rq, void *ctx)
{
    import_state *s = state_of(rq, ctx);
    if (!s) {
        svc_http_error(rq, 500, "INTERNAL_ERROR", "", "out of memory");
        return;
    }
    if (!s->failed && (s->line.len > 0 || s->too_long))
        finish_line(s, rq); /* the last line had no newline */
    flush_batch(s, rq);
    if (s->failed)
        return;
    SVC_INFO("import done lines=%zu created=%zu updated=%zu unchanged=%zu rejected=%zu", s->lines, s->done.created,
             s->done.updated, s->done.unchanged, s->done.rejected);
    svc_http_reply_json(rq, 200, summary(s));
}

void us_import_end(svc_http_req *rq, void *ctx)
{
    (void)ctx;
    import_state *s = *svc_http_req_state(rq);
    if (!s)
        return;
    if (s->n)
        SVC_WARN("import abandoned (connection closed); lines not written=%zu committed: created=%zu updated=%zu",
                 s->n, s->done.created, s->done.updated);
    for (size_t i = 0; i < s->n; i++)
        us_user_free(&s->batch[i].u);
    free(s->batch);
    mf_buf_free(&s->line);
    cJSON_Delete(s->errors);
    free(s);
    *svc_http_req_state(rq) = NULL;
}
