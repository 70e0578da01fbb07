/*
 * utf8.h - the rule of UTF-8 (RFC 3629, section 4), private to the codec.
 *
 * mf_utf8_seq is the one place the byte ranges of a well-formed sequence
 * are written: mf_utf8_valid (utf8.c), the pre-scan (prescan.c), the direct
 * decoder's lexer (decode_lex.c) and the encoder's string writer (encode.c)
 * all call it. It is inline because it sits on their hot paths. (WebSocket
 * text, which arrives in pieces, has its own streaming state machine in
 * runtime/ws/utf8.c.)
 */
#ifndef MF_CODEC_UTF8_H
#define MF_CODEC_UTF8_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at p (lead byte >= 0x80, `avail`
 * bytes readable), 0 when invalid: no overlongs, no surrogates, nothing above
 * U+10FFFF (the rules of mf_utf8_valid). */
static inline size_t mf_utf8_seq(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t k;
    if (c >= 0xC2 && c <= 0xDF)
        k = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* > U+10FFFF */
    } else
        return 0;
    if (avail < k || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t j = 2; j < k; j++)
        if ((p[j] & 0xC0) != 0x80)
            return 0;
    return k;
}

/* Number of Unicode code points in valid UTF-8 s[0..n). */
size_t mf_utf8_count(const char *s, size_t n);

#endif
