/*
 * fuzz_decode.c - libFuzzer target for the descriptor-driven decoder.
 *
 * Each input is decoded (without a terminating NUL, so reads past `size` are
 * caught) against the rich test fixture fx_doc, a raw descriptor, a recursive
 * tree and a union; whatever decodes is validated, re-encoded, decoded again
 * and compared, and copied/freed. Any crash, leak, sanitizer report or broken
 * invariant (decode(encode(x)) != x) aborts.
 *
 * Built by tests/fuzz/run.sh against the runtime codec sources and
 * tests/unit/fixtures.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "mf/codec.h"

static void check(const mf_type *t, const uint8_t *data, size_t size)
{
    fx_out out, back, copy;
    mf_error err;
    mf_status st = mf_decode(t, (const char *)data, size, &out, &err);
    if (st != MF_OK) {
        if (err.code != st || !fx_is_init(t, &out))
            abort(); /* a failed decode must report and reset */
        return;
    }
    if (mf_validate(t, &out, &err) != MF_OK) {
        fprintf(stderr, "decoded value fails validation: %s at %s: %s\n", mf_status_str(err.code),
                err.pointer, err.message);
        abort();
    }
    mf_buf b = MF_BUF_INIT;
    if (mf_encode(t, &out, &b, &err) != MF_OK)
        abort();
    if (mf_decode(t, b.data, b.len, &back, &err) != MF_OK) {
        fprintf(stderr, "re-decode failed: %s at %s: %s\n%s\n", mf_status_str(err.code), err.pointer,
                err.message, b.data);
        abort();
    }
    if (!mf_equal(t, &out, &back)) {
        fprintf(stderr, "round trip differs:\n%s\n", b.data);
        abort();
    }
    if (mf_copy(t, &copy, &out, &err) != MF_OK || !mf_equal(t, &copy, &out))
        abort();
    /* encode(decode(encode(x))) is a fixed point */
    mf_buf b2 = MF_BUF_INIT;
    if (mf_encode(t, &back, &b2, &err) != MF_OK || b2.len != b.len || memcmp(b.data, b2.data, b.len) != 0)
        abort();
    mf_buf_free(&b);
    mf_buf_free(&b2);
    mf_free(t, &out);
    mf_free(t, &back);
    mf_free(t, &copy);
}

/* The validator's raw-text check must accept exactly what the decoder accepts. */
static void raw_differential(const uint8_t *data, size_t size)
{
    if (memchr(data, 0, size))
        return;
    char *text = malloc(size + 1);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    fx_out out;
    mf_status d = mf_decode(&fx_raw_desc, text, size, &out, NULL);
    mf_status v = mf_validate(&fx_raw_desc, &text, NULL);
    if ((d == MF_OK) != (v == MF_OK)) {
        fprintf(stderr, "decode says %s, validate says %s\n", mf_status_str(d), mf_status_str(v));
        abort();
    }
    mf_free(&fx_raw_desc, &out);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    raw_differential(data, size);
    check(&fx_doc_desc, data, size);
    check(&fx_raw_desc, data, size);
    check(&fx_tree_desc, data, size);
    check(&fx_any_desc, data, size);
    check(&fx_labels_desc, data, size);
    check(fx_wide_desc(), data, size);
    return 0;
}
