/*
 * utf8.c - streaming UTF-8 validation for WebSocket text (RFC 3629, section 4).
 *
 * runtime/codec/utf8.c checks whole C strings (and refuses NUL); WebSocket text
 * arrives in pieces split anywhere, even inside a character, and may contain
 * NUL, so this keeps the state of the character in progress between calls: how
 * many continuation bytes it still needs and the range the next one must fall
 * in (the table's narrower ranges after E0, ED, F0 and F4 exclude overlong
 * forms, surrogates and code points above U+10FFFF).
 */
#include <string.h>

#include "mf/ws.h"

void mf_ws_utf8_init(mf_ws_utf8 *u)
{
    u->need = 0;
    u->lo = 0x80;
    u->hi = 0xBF;
}

bool mf_ws_utf8_complete(const mf_ws_utf8 *u)
{
    return u->need == 0;
}

/* The state after a lead byte; false when c cannot start a character. */
static bool lead(mf_ws_utf8 *u, unsigned c)
{
    u->lo = 0x80;
    u->hi = 0xBF;
    if (c < 0xC2)
        return false; /* a stray continuation byte, or an overlong C0/C1 lead */
    if (c < 0xE0) {
        u->need = 1;
    } else if (c < 0xF0) {
        u->need = 2;
        if (c == 0xE0)
            u->lo = 0xA0; /* overlong */
        else if (c == 0xED)
            u->hi = 0x9F; /* surrogates */
    } else if (c < 0xF5) {
        u->need = 3;
        if (c == 0xF0)
            u->lo = 0x90; /* overlong */
        else if (c == 0xF4)
            u->hi = 0x8F; /* above U+10FFFF */
    } else {
        return false;
    }
    return true;
}

bool mf_ws_utf8_feed(mf_ws_utf8 *u, const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i++];
        if (u->need) {
            if (c < u->lo || c > u->hi)
                return false;
            u->need--;
            u->lo = 0x80;
            u->hi = 0xBF;
            continue;
        }
        if (c < 0x80) {
            /* a run of ASCII, 8 bytes at a time */
            while (i + 8 <= n) {
                unsigned long long w;
                memcpy(&w, s + i, sizeof w);
                if (w & 0x8080808080808080ULL)
                    break;
                i += 8;
            }
            continue;
        }
        if (!lead(u, c))
            return false;
    }
    return true;
}
