/*
 * fuzz_messages.c - libFuzzer target for every generated message decoder, through the
 * generated registry (mf_sdk_registry), and for the channel address helpers.
 *
 * Input: "<line>\n<json>". When <line> is a message key or name of the registry, the
 * JSON is decoded as that message; otherwise the first byte picks one (modulo the
 * count), and <line> is also tried as a subject: mf_registry_channel_for_subject, then
 * mf_channel_parse, and mf_channel_address must rebuild the same subject.
 *
 * Whatever decodes must validate, re-encode, decode to an equal value, copy to an equal
 * value and re-encode byte-identically; a failed decode must leave the value reset.
 * Any crash, leak, sanitizer report or broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf/codec.h"
#include "mf/registry.h"

extern const mf_registry mf_sdk_registry;

static void roundtrip(const mf_message_desc *m, const uint8_t *data, size_t size)
{
    const mf_type *t = m->type;
    void *out = calloc(1, m->size), *back = calloc(1, m->size), *copy = calloc(1, m->size);
    void *init = calloc(1, m->size);
    if (!out || !back || !copy || !init)
        abort();
    mf_init(t, init);
    mf_error err;
    mf_status st = mf_decode(t, (const char *)data, size, out, &err);
    if (st != MF_OK) {
        if (err.code != st || memcmp(out, init, m->size) != 0)
            abort(); /* a failed decode reports and resets */
        goto done;
    }
    if (mf_validate(t, out, &err) != MF_OK) {
        fprintf(stderr, "%s: decoded value fails validation at %s: %s\n", m->key, err.pointer, err.message);
        abort();
    }
    mf_buf b = MF_BUF_INIT, b2 = MF_BUF_INIT;
    if (mf_encode(t, out, &b, &err) != MF_OK || mf_decode(t, b.data, b.len, back, &err) != MF_OK) {
        fprintf(stderr, "%s: re-encode/decode failed: %s\n%s\n", m->key, err.message, b.data ? b.data : "");
        abort();
    }
    if (!mf_equal(t, out, back) || mf_copy(t, copy, out, &err) != MF_OK || !mf_equal(t, copy, out))
        abort();
    if (mf_encode(t, back, &b2, &err) != MF_OK || b2.len != b.len || memcmp(b.data, b2.data, b.len) != 0)
        abort(); /* encode(decode(encode(x))) is a fixed point */
    mf_buf_free(&b);
    mf_buf_free(&b2);
    mf_free(t, out);
    mf_free(t, back);
    mf_free(t, copy);
done:
    free(out);
    free(back);
    free(copy);
    free(init);
}

/* A subject: find its channel, take it apart, put it back together. */
static void subject(const char *s)
{
    const mf_channel_desc *ch = mf_registry_channel_for_subject(&mf_sdk_registry, s);
    if (!ch || ch->param_count > 8)
        return;
    char bufs[8][128], *vals[8];
    for (size_t i = 0; i < ch->param_count; i++)
        vals[i] = bufs[i];
    mf_error err;
    if (mf_channel_parse(ch, s, vals, sizeof bufs[0], &err) != MF_OK)
        return;
    char again[1024];
    if (mf_channel_address(ch, (const char *const *)vals, again, sizeof again, &err) != MF_OK ||
        strcmp(again, s) != 0) {
        fprintf(stderr, "channel %s: '%s' parsed, but rebuilt as '%s' (%s)\n", ch->key, s, again, err.message);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const mf_registry *r = &mf_sdk_registry;
    if (!r->message_count)
        return 0;
    const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
    const mf_message_desc *m = NULL;
    size_t off = 0;
    if (nl) {
        char line[257];
        size_t n = (size_t)(nl - data);
        memcpy(line, data, n);
        line[n] = '\0';
        m = mf_registry_message(r, line);
        if (!m && !memchr(line, '\0', n))
            subject(line);
        off = n + 1;
    }
    if (!m)
        m = r->messages[size ? data[0] % r->message_count : 0];
    roundtrip(m, data + off, size - off);
    return 0;
}
