/*
 * utf8.c - UTF-8 validation and code point counting (RFC 3629).
 *
 * mf_utf8_valid is on the decoder's hot path: every decoded string goes
 * through it. Runs of ASCII are checked 8 bytes at a time (no byte with the
 * high bit set and no zero byte); multi-byte sequences are checked by
 * mf_utf8_seq (utf8.h: the table of RFC 3629 section 4, which excludes
 * overlong forms, the surrogates U+D800..U+DFFF and everything above
 * U+10FFFF). A NUL byte is rejected too: strings are handed to C as
 * NUL-terminated text.
 */
#include <stdint.h>
#include <string.h>

#include "codec/utf8.h"
#include "mf/codec.h"

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w); /* unaligned-safe; compiles to one load */
    return w;
}

bool mf_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    bool tail_tried = false;
    if (n && !s)
        return false;
    while (i < n) {
        /* Fast path: 8 ASCII bytes, none of them NUL. */
        while (i + 8 <= n) {
            uint64_t w = load64(s + i);
            if ((w & HIGHS) || ((w - ONES) & ~w & HIGHS))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        /* Fewer than 8 bytes left: try once the last 8 bytes of the string
         * (they overlap bytes already checked), when it has 8. */
        if (n - i < 8 && n >= 8 && !tail_tried) {
            uint64_t w = load64(s + n - 8);
            if (!(w & HIGHS) && !((w - ONES) & ~w & HIGHS))
                break;
            tail_tried = true;
        }
        if (s[i] < 0x80) {
            if (s[i] == 0)
                return false;
            i++;
            continue;
        }
        size_t k = mf_utf8_seq(s + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

size_t mf_utf8_count(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, cont = 0;
    /* A code point starts at every byte that is not a continuation byte
     * (10xxxxxx). Count continuation bytes 8 at a time: bit 7 set and bit 6
     * clear; (w << 1) moves each byte's bit 6 onto its own bit 7. */
    for (; i + 8 <= n; i += 8) {
        uint64_t w = load64(s + i);
        uint64_t c = w & ~(w << 1) & HIGHS;
        cont += (size_t)__builtin_popcountll(c);
    }
    for (; i < n; i++)
        cont += (s[i] & 0xC0) == 0x80;
    return n - cont;
}
