/*
 * count_codec.c - the codec's operations, one loop each, for callgrind.
 *
 * For every message of the contract (its "full" example, re-encoded
 * compactly) this program runs, each in its own loop of `iters` iterations
 * after a warm-up, with callgrind's counters zeroed before and dumped after
 * (CALLGRIND_ZERO_STATS / CALLGRIND_DUMP_STATS_AT, so each loop is one dump
 * named "<op> <message>"):
 *
 *   decode   mf_decode + mf_free          (decode + validate, the SDK's receive path)
 *   cjson    cJSON_ParseWithLengthOpts + cJSON_Delete of the same bytes (the baseline)
 *   encode   mf_encode                     (validate + write)
 *   print    cJSON tree built from the value + cJSON_PrintUnformatted + frees (the baseline)
 *   ref      mf_decode_tree + mf_free      (the reference decoder, for the record)
 *
 * tests/perf/guard.py runs it under valgrind and checks the ratios. Outside
 * valgrind the client requests do nothing, so it also runs as a quick smoke.
 *
 *   perf-count-codec [--iters N] [EXAMPLES_DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <valgrind/callgrind.h>

#include "cjson_build.h"
#include "codec/codec_int.h"
#include "mf/codec.h"
#include "mf/registry.h"
#include "mf_sdk/registry.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    mf_buf b = MF_BUF_INIT;
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        if (mf_buf_append(&b, tmp, n)) {
            fclose(f);
            mf_buf_free(&b);
            return NULL;
        }
    fclose(f);
    return mf_buf_detach(&b, len);
}

typedef struct job {
    const mf_message_desc *m;
    const char *json;
    size_t len;
    void *value;
    mf_buf out;
    long sink;
} job;

static void op_decode(job *j)
{
    if (mf_decode(j->m->type, j->json, j->len, j->value, NULL) != MF_OK)
        abort();
    mf_free(j->m->type, j->value);
}

static void op_ref(job *j)
{
    if (mf_decode_tree(j->m->type, j->json, j->len, j->value, NULL) != MF_OK)
        abort();
    mf_free(j->m->type, j->value);
}

static void op_cjson(job *j)
{
    const char *end = NULL;
    cJSON *c = cJSON_ParseWithLengthOpts(j->json, j->len, &end, 0);
    if (!c)
        abort();
    j->sink += c->type;
    cJSON_Delete(c);
}

static void op_encode(job *j)
{
    mf_buf_reset(&j->out);
    if (mf_encode(j->m->type, j->value, &j->out, NULL) != MF_OK)
        abort();
    j->sink += (long)j->out.len;
}

static void op_print(job *j)
{
    cJSON *c = bench_cjson_build(j->m->type, j->value);
    if (!c)
        abort();
    char *s = cJSON_PrintUnformatted(c);
    j->sink += (long)strlen(s);
    cJSON_free(s);
    cJSON_Delete(c);
}

static void run(const char *name, void (*op)(job *), job *j, int iters)
{
    char label[160];
    for (int i = 0; i < 5; i++) /* warm-up: lazily compiled patterns, malloc's free lists */
        op(j);
    snprintf(label, sizeof label, "%s %s %d", name, j->m->key, iters);
    CALLGRIND_ZERO_STATS;
    for (int i = 0; i < iters; i++)
        op(j);
    CALLGRIND_DUMP_STATS_AT(label);
}

int main(int argc, char **argv)
{
    const char *dir = MF_EXAMPLES_DIR;
    int iters = 50;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: %s [--iters N] [EXAMPLES_DIR]\n", argv[0]);
            return 0;
        } else
            dir = argv[i];
    }
    const mf_registry *r = &mf_sdk_registry;
    int done = 0;
    for (size_t i = 0; i < r->message_count; i++) {
        job j = {0};
        char path[1024];
        size_t raw_len;
        j.m = r->messages[i];
        snprintf(path, sizeof path, "%s/%s.full.json", dir, j.m->key);
        char *raw = slurp(path, &raw_len);
        if (!raw) {
            fprintf(stderr, "cannot read %s\n", path);
            return 1;
        }
        j.value = calloc(1, j.m->size);
        mf_buf compact = MF_BUF_INIT;
        if (mf_decode(j.m->type, raw, raw_len, j.value, NULL) != MF_OK ||
            mf_encode(j.m->type, j.value, &compact, NULL) != MF_OK) {
            fprintf(stderr, "%s: the example does not decode\n", j.m->key);
            return 1;
        }
        mf_free(j.m->type, j.value);
        free(raw);
        j.json = compact.data;
        j.len = compact.len;
        printf("%s %zu\n", j.m->key, j.len);
        run("decode", op_decode, &j, iters);
        run("cjson", op_cjson, &j, iters);
        run("ref", op_ref, &j, iters);
        if (mf_decode(j.m->type, j.json, j.len, j.value, NULL) != MF_OK)
            return 1;
        run("encode", op_encode, &j, iters);
        run("print", op_print, &j, iters);
        mf_free(j.m->type, j.value);
        free(j.value);
        mf_buf_free(&j.out);
        mf_buf_free(&compact);
        done++;
    }
    return done ? 0 : 1;
}
