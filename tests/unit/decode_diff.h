/*
 * decode_diff.h - the differential check of the two decoders: mf_decode (the
 * direct decoder, runtime/codec/decode.c) against mf_decode_tree (the
 * reference: pre-scan, cJSON tree, walk; runtime/codec/decode_tree.c).
 *
 * On the same bytes both must give the same status, the same error code and
 * JSON pointer, and, when the text is valid, equal values (mf_equal) that
 * encode to the same bytes (which also tells -0 from 0 and every bit of a
 * double). Messages may differ in wording.
 *
 * Header-only: used by tests/unit/test_decode_diff.c, tests/sdk/test_sdk_diff.c
 * and the fuzz harness tests/fuzz/fuzz_decode_diff.c.
 */
#ifndef MF_TEST_DECODE_DIFF_H
#define MF_TEST_DECODE_DIFF_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec_int.h"
#include "mf/codec.h"

/* Shows bytes for a report: printable ASCII as is, the rest as \xHH; cut at ~200. */
static inline void diff_show(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o > 200) {
            o += (size_t)snprintf(out + o, cap - o, "...");
            break;
        }
        if (c >= 0x20 && c < 0x7F)
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02X", c);
    }
    out[o < cap ? o : cap - 1] = '\0';
}

/*
 * Decodes json[0..len) with both decoders (each from its own heap copy of
 * exactly len bytes, so that a read past the end is an ASan error). Returns
 * true when they agree; otherwise false and a description in why[cap].
 */
static inline bool diff_decode(const mf_type *t, const char *json, size_t len, char *why, size_t cap)
{
    char *a_in = malloc(len ? len : 1), *b_in = malloc(len ? len : 1);
    void *a = calloc(1, t->size ? t->size : 1), *b = calloc(1, t->size ? t->size : 1);
    mf_error ea, eb;
    bool same = false;
    char show[256];
    why[0] = '\0';
    if (!a_in || !b_in || !a || !b) {
        snprintf(why, cap, "out of memory in the test");
        goto out;
    }
    memcpy(a_in, json, len);
    memcpy(b_in, json, len);
    mf_status sa = mf_decode(t, a_in, len, a, &ea);
    mf_status sb = mf_decode_tree(t, b_in, len, b, &eb);
    diff_show(show, sizeof show, json, len);
    if (sa != sb || ea.code != eb.code || strcmp(ea.pointer, eb.pointer) != 0) {
        snprintf(why, cap, "%.40s: direct %s at \"%.100s\" (%.120s), reference %s at \"%.100s\" (%.120s); input %.200s",
                 t->name ? t->name : "?", mf_status_str(sa), ea.pointer, ea.message, mf_status_str(sb),
                 eb.pointer, eb.message, show);
        goto done;
    }
    if (sa == MF_OK) {
        mf_buf ba = MF_BUF_INIT, bb = MF_BUF_INIT;
        mf_status ca = mf_encode(t, a, &ba, &ea), cb = mf_encode(t, b, &bb, &eb);
        if (!mf_equal(t, a, b) || ca != cb || ba.len != bb.len || (ba.len && memcmp(ba.data, bb.data, ba.len))) {
            snprintf(why, cap, "%.40s: both accept, values differ: direct %.*s, reference %.*s; input %.200s",
                     t->name ? t->name : "?", (int)(ba.len < 300 ? ba.len : 300), ba.data ? ba.data : "",
                     (int)(bb.len < 300 ? bb.len : 300), bb.data ? bb.data : "", show);
            mf_buf_free(&ba);
            mf_buf_free(&bb);
            goto done;
        }
        mf_buf_free(&ba);
        mf_buf_free(&bb);
    }
    same = true;
done:
    mf_free(t, a);
    mf_free(t, b);
out:
    free(a_in);
    free(b_in);
    free(a);
    free(b);
    return same;
}

/* Bytes the mutations put in: structure, literals, numbers, escapes, bad bytes. */
static const char diff_bytes[] = {'"', '\\', '{', '}', '[', ']', ',', ':', '0', '9', '-', '.', 'e', 'n',
                                  't', ' ', 'u', 'x', '\0', '\x1f', '\x7f', '\x80', '\xc3', '\xff'};

/*
 * Runs diff_decode on json and on its mutations: every prefix, every byte
 * deleted, every byte replaced by each of diff_bytes (every `stride`-th
 * position; 1 = all), and two bytes swapped. Calls report(why, ctx) for each
 * disagreement; returns how many inputs were checked.
 */
static inline size_t diff_mutations(const mf_type *t, const char *json, size_t len, size_t stride,
                                    void (*report)(const char *why, void *ctx), void *ctx)
{
    char why[1024];
    size_t checked = 0;
    char *m = malloc(len + 1);
    if (!m)
        return 0;
#define DIFF_RUN(buf, n)                                                                                           \
    do {                                                                                                           \
        checked++;                                                                                                 \
        if (!diff_decode(t, (buf), (n), why, sizeof why))                                                         \
            report(why, ctx);                                                                                      \
    } while (0)
    DIFF_RUN(json, len);
    for (size_t k = 0; k < len; k++)
        DIFF_RUN(json, k);
    for (size_t k = 0; k < len; k++) {
        memcpy(m, json, k);
        memcpy(m + k, json + k + 1, len - k - 1);
        DIFF_RUN(m, len - 1);
    }
    for (size_t k = 0; k < len; k += stride ? stride : 1) {
        memcpy(m, json, len);
        for (size_t b = 0; b < sizeof diff_bytes; b++) {
            if (json[k] == diff_bytes[b])
                continue;
            m[k] = diff_bytes[b];
            DIFF_RUN(m, len);
        }
        if (k + 1 < len) {
            memcpy(m, json, len);
            m[k] = json[k + 1];
            m[k + 1] = json[k];
            DIFF_RUN(m, len);
        }
    }
#undef DIFF_RUN
    free(m);
    return checked;
}

#endif
