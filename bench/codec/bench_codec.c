/*
 * bench/codec: the generated SDK's codec against bare cJSON, same bytes, same run.
 *
 *   decode ratio = (mf_decode: parse + decode + validate + free) / (cJSON_ParseWithLengthOpts + cJSON_Delete)
 *   encode ratio = (cJSON tree built from the value + cJSON_PrintUnformatted + frees) / (mf_encode: validate + write)
 *
 * Goals (issue 11): decode ratio <= 0.7 (aim 0.5), encode ratio >= 2.5. The
 * "ref" column is the reference decoder (mf_decode_tree: cJSON tree + walk),
 * for the record. Input: every message's "full" example from
 * generated/examples/, re-encoded compactly. Instruction counts of the same
 * operations: tests/perf (ctest -R perf.guard).
 * Usage: bench-codec [EXAMPLES_DIR] [--ms N]   (N = time per measurement, default 300)
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cjson_build.h"
#include "codec/codec_int.h"
#include "mf/codec.h"
#include "mf/registry.h"
#include "mf_sdk/registry.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    mf_buf b = MF_BUF_INIT;
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        if (mf_buf_append(&b, tmp, n)) { fclose(f); mf_buf_free(&b); return NULL; }
    fclose(f);
    return mf_buf_detach(&b, len);
}

typedef struct ctx {
    const mf_message_desc *m;
    const char *json;
    size_t len;
    void *value;
    mf_buf out;
    long sink;
} ctx;

typedef void (*op_fn)(ctx *c);

static void op_mf_decode(ctx *c)
{
    mf_error err;
    if (mf_decode(c->m->type, c->json, c->len, c->value, &err) != MF_OK) {
        fprintf(stderr, "decode failed: %s: %s\n", err.pointer, err.message);
        exit(1);
    }
    mf_free(c->m->type, c->value);
}

static void op_ref_decode(ctx *c)
{
    mf_error err;
    if (mf_decode_tree(c->m->type, c->json, c->len, c->value, &err) != MF_OK) {
        fprintf(stderr, "reference decode failed: %s: %s\n", err.pointer, err.message);
        exit(1);
    }
    mf_free(c->m->type, c->value);
}

static void op_cjson_parse(ctx *c)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(c->json, c->len, &end, 0);
    if (!j) { fprintf(stderr, "cJSON parse failed\n"); exit(1); }
    c->sink += j->type;
    cJSON_Delete(j);
}

static void op_mf_encode(ctx *c)
{
    mf_buf_reset(&c->out);
    if (mf_encode(c->m->type, c->value, &c->out, NULL) != MF_OK) { fprintf(stderr, "encode failed\n"); exit(1); }
    c->sink += (long)c->out.len;
}

static void op_cjson_encode(ctx *c)
{
    cJSON *j = bench_cjson_build(c->m->type, c->value);
    if (!j) { fprintf(stderr, "cJSON build failed\n"); exit(1); }
    char *s = cJSON_PrintUnformatted(j);
    c->sink += (long)strlen(s);
    cJSON_free(s);
    cJSON_Delete(j);
}

/* ns per call: calibrate a batch size, then run batches for `ms` milliseconds, keep the best batch. */
static double measure(op_fn fn, ctx *c, double ms)
{
    long batch = 1;
    for (;;) {
        double t0 = now_ns();
        for (long i = 0; i < batch; i++) fn(c);
        if (now_ns() - t0 > 2e6 || batch > (1L << 24)) break;
        batch *= 2;
    }
    double best = INFINITY, deadline = now_ns() + ms * 1e6;
    do {
        double t0 = now_ns();
        for (long i = 0; i < batch; i++) fn(c);
        double per = (now_ns() - t0) / (double)batch;
        if (per < best) best = per;
    } while (now_ns() < deadline);
    return best;
}

int main(int argc, char **argv)
{
    const char *dir = MF_EXAMPLES_DIR;
    double ms = 300;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ms") && i + 1 < argc) ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: %s [EXAMPLES_DIR] [--ms N]\n", argv[0]);
            return 0;
        } else dir = argv[i];
    }
    const mf_registry *r = &mf_sdk_registry;
    printf("%-24s %6s %10s %9s %9s %7s %10s %9s %7s\n", "message", "bytes", "decode ns", "ref ns", "cJSON ns",
           "ratio", "encode ns", "cJSON ns", "speedup");
    double log_dec = 0, log_enc = 0;
    int n = 0;
    for (size_t i = 0; i < r->message_count; i++) {
        ctx c = {0};
        c.m = r->messages[i];
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.full.json", dir, c.m->key);
        size_t raw_len;
        char *raw = slurp(path, &raw_len);
        if (!raw) { fprintf(stderr, "skip %s: cannot read %s\n", c.m->key, path); continue; }
        c.value = calloc(1, c.m->size);
        mf_error err;
        if (mf_decode(c.m->type, raw, raw_len, c.value, &err) != MF_OK) {
            fprintf(stderr, "%s: example invalid: %s: %s\n", c.m->key, err.pointer, err.message);
            return 1;
        }
        mf_buf compact = MF_BUF_INIT;
        if (mf_encode(c.m->type, c.value, &compact, &err) != MF_OK) return 1;
        mf_free(c.m->type, c.value); /* the timed decodes start from an empty value */
        free(raw);
        c.json = compact.data;
        c.len = compact.len;
        double dec = measure(op_mf_decode, &c, ms);
        double base_dec = measure(op_cjson_parse, &c, ms);
        double ref = measure(op_ref_decode, &c, ms);
        if (mf_decode(c.m->type, c.json, c.len, c.value, &err) != MF_OK) return 1;
        double enc = measure(op_mf_encode, &c, ms);
        double base_enc = measure(op_cjson_encode, &c, ms);
        printf("%-24s %6zu %10.0f %9.0f %9.0f %6.2fx %10.0f %9.0f %6.2fx\n", c.m->key, c.len, dec, ref, base_dec,
               dec / base_dec, enc, base_enc, base_enc / enc);
        log_dec += log(dec / base_dec);
        log_enc += log(base_enc / enc);
        n++;
        mf_free(c.m->type, c.value);
        free(c.value);
        mf_buf_free(&c.out);
        mf_buf_free(&compact);
    }
    if (n == 0) return 1;
    printf("geometric mean: decode+validate %.2fx of bare cJSON parse (goal <= 0.70, aim 0.50); "
           "encode %.2fx faster than cJSON (goal >= 2.5)\n", exp(log_dec / n), exp(log_enc / n));
    return 0;
}
