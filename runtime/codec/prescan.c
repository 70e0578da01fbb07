/*
 * prescan.c - the JSON front end: the lexical pre-scan of the whole text
 * (UTF-8, NUL, control characters, escapes, the number grammar, nesting)
 * and mfw_parse (pre-scan, then cJSON). The reference decoder
 * (decode_tree.c) starts with mfw_parse; the direct decoder applies the same
 * lexical rules while it reads and calls mfw_json_check on an error.
 */
#include <stdint.h>
#include <string.h>

#include "codec/rules.h"

/* ------------------------------------------------------------- the prescan */

static inline uint64_t load8(const unsigned char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

static inline int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

long mfw_hex4(const unsigned char *p, size_t avail)
{
    long v = 0;
    if (avail < 4)
        return -1;
    for (int k = 0; k < 4; k++) {
        int h = hexval(p[k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Byte classes outside strings: 0 skip (white space, letters of literals,
 * ',' ':'), 1 '"', 2 '[' '{', 3 ']' '}', 4 '-' or digit, 5 never valid here. */
enum { O_SKIP, O_QUOTE, O_OPEN, O_CLOSE, O_NUM, O_BAD };
static const unsigned char out_cls[256] = {
    5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 5, 5, 0, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
};
/* Byte classes inside strings: 0 plain, 1 '"', 2 '\\', 3 control, 4 >= 0x80. */
enum { S_PLAIN, S_QUOTE, S_ESC, S_CTRL, S_HIGH };
static const unsigned char str_cls[256] = {
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
};

/* index of the first flagged byte of a nonzero mfw_special8() mask: the lowest
 * flagged byte is always a true match (borrows only propagate upwards) */
static inline size_t first_byte(uint64_t m)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (size_t)__builtin_clzll(m) >> 3;
#else
    return (size_t)__builtin_ctzll(m) >> 3;
#endif
}

static inline bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* The string body whose opening quote is at p[open - 1], scanned from p[*pi]
 * (open <= *pi: the bytes before were already found plain). */
static mf_status scan_string_at(const unsigned char *p, size_t len, size_t open, size_t *pi,
                                mf_error *err)
{
    size_t i = *pi;
    for (;;) {
#ifdef __SSE2__
        if (i + 16 <= len) {
            unsigned m = mfw_special16(p + i);
            if (!m) {
                i += 16;
                continue;
            }
            i += (size_t)__builtin_ctz(m);
        } else
#endif
        if (i + 8 <= len) {
            uint64_t m = mfw_special8(load8(p + i));
            if (!m) {
                i += 8;
                continue;
            }
            i += first_byte(m);
        } else {
            while (i < len && str_cls[p[i]] == S_PLAIN)
                i++;
            if (i >= len)
                break; /* unterminated */
        }
        unsigned char c = p[i];
        switch (str_cls[c]) {
        case S_QUOTE:
            *pi = i + 1;
            return MF_OK;
        case S_ESC: {
            unsigned char e = i + 1 < len ? p[i + 1] : 0;
            if (e == 'u') {
                long v = mfw_hex4(p + i + 2, len - i - 2);
                if (v == 0)
                    return mf_error_set(err, MF_ERR_UTF8, "",
                                        "string contains \\u0000 (NUL), which is not allowed "
                                        "(escape at byte %zu)", i);
                if (v >= 0xD800 && v <= 0xDBFF) {
                    long lo = -1;
                    if (i + 12 <= len && p[i + 6] == '\\' && p[i + 7] == 'u')
                        lo = mfw_hex4(p + i + 8, 4);
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return mf_error_set(err, MF_ERR_UTF8, "",
                                            "string contains a lone surrogate escape "
                                            "\\u%04lX at byte %zu", v, i);
                    i += 12;
                } else if (v >= 0xDC00 && v <= 0xDFFF) {
                    return mf_error_set(err, MF_ERR_UTF8, "",
                                        "string contains a lone surrogate escape "
                                        "\\u%04lX at byte %zu", v, i);
                } else if (v < 0) { /* cJSON would read bad hex as \\u0000 */
                    return mf_error_set(err, MF_ERR_SYNTAX, "",
                                        "invalid \\u escape in a string at byte %zu", i);
                } else {
                    i += 6;
                }
                continue;
            }
            if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
                e == 't') {
                i += 2;
                continue;
            }
            if (i + 1 >= len)
                break; /* unterminated */
            return mf_error_set(err, MF_ERR_SYNTAX, "", "invalid escape sequence in a string at byte %zu",
                                i);
        }
        case S_CTRL:
            if (c == 0)
                return mf_error_set(err, MF_ERR_UTF8, "", "string contains a raw NUL byte at byte %zu", i);
            return mf_error_set(err, MF_ERR_SYNTAX, "",
                                "unescaped control character 0x%02X in a string at byte %zu", c, i);
        case S_HIGH: {
            size_t k = mf_utf8_seq(p + i, len - i);
            if (!k)
                return mf_error_set(err, MF_ERR_UTF8, "", "invalid UTF-8 at byte %zu", i);
            i += k;
            continue;
        }
        default:
            i++;
            continue;
        }
        break;
    }
    return mf_error_set(err, MF_ERR_SYNTAX, "",
                        "invalid JSON at byte %zu: unterminated string starting at byte %zu", len, open - 1);
}

/* The string body starting at p[*pi] (after the opening quote). */
mf_status mfw_scan_string(const unsigned char *p, size_t len, size_t *pi, mf_error *err)
{
    return scan_string_at(p, len, *pi, pi, err);
}

/* A number starting at p[*pi]: the strict JSON grammar. */
mf_status mfw_scan_number(const unsigned char *p, size_t len, size_t *pi, mf_error *err)
{
    size_t s = *pi, i = s;
    if (p[i] == '-')
        i++;
    if (i >= len || !is_digit(p[i]))
        goto bad;
    if (p[i] == '0') {
        i++;
        if (i < len && is_digit(p[i]))
            return mf_error_set(err, MF_ERR_SYNTAX, "", "invalid JSON number (leading zero) at byte %zu", s);
    } else {
        while (i < len && is_digit(p[i]))
            i++;
    }
    if (i < len && p[i] == '.') {
        i++;
        if (i >= len || !is_digit(p[i]))
            goto bad;
        while (i < len && is_digit(p[i]))
            i++;
    }
    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < len && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= len || !is_digit(p[i]))
            goto bad;
        while (i < len && is_digit(p[i]))
            i++;
    }
    if (i < len && (p[i] == '.' || p[i] == 'e' || p[i] == 'E' || p[i] == '+' || p[i] == '-'))
        goto bad;
    *pi = i;
    return MF_OK;
bad:
    return mf_error_set(err, MF_ERR_SYNTAX, "", "invalid JSON number at byte %zu", s);
}

mf_status mfw_prescan(const unsigned char *p, size_t len, mf_error *err)
{
    size_t i = 0;
    unsigned depth = 0;
    mf_status st;
    for (;;) {
        unsigned char k;
        while (i < len && (k = out_cls[p[i]]) == O_SKIP)
            i++;
        if (i >= len)
            return MF_OK;
        switch (k) {
        case O_QUOTE: {
            size_t open = ++i;
#ifdef __SSE2__
            /* inline fast path for plain strings: 16 bytes at a time up to
             * the first special byte; done when that is the closing quote */
            while (i + 16 <= len) {
                unsigned m = mfw_special16(p + i);
                if (!m) {
                    i += 16;
                    continue;
                }
                i += (size_t)__builtin_ctz(m);
                break;
            }
            if (i < len && p[i] == '"') {
                i++;
                break;
            }
#endif
            size_t j = i; /* i itself never has its address taken: it stays in a register */
            if ((st = scan_string_at(p, len, open, &j, err)))
                return st;
            i = j;
            break;
        }
        case O_OPEN:
            if (++depth > MF_MAX_DEPTH)
                return mf_error_set(err, MF_ERR_SYNTAX, "", "nesting deeper than %d at byte %zu",
                                    MF_MAX_DEPTH, i);
            i++;
            break;
        case O_CLOSE:
            if (depth)
                depth--;
            i++;
            break;
        case O_NUM: {
            size_t j = i;
            if ((st = mfw_scan_number(p, len, &j, err)))
                return st;
            i = j;
            break;
        }
        default:
            if (p[i] >= 0x80)
                return mf_error_set(err, MF_ERR_SYNTAX, "",
                                    "invalid JSON at byte %zu: byte 0x%02X outside a string", i, p[i]);
            return mf_error_set(err, MF_ERR_SYNTAX, "",
                                "invalid JSON at byte %zu: control character 0x%02X", i, p[i]);
        }
    }
}

mf_status mfw_parse(const char *json, size_t len, cJSON **root, mf_error *err)
{
    const char *end = NULL;
    mf_status st;
    *root = NULL;
    if (!json || len == 0)
        return mf_error_set(err, MF_ERR_SYNTAX, "", "invalid JSON at byte 0: the input is empty");
    st = mfw_prescan((const unsigned char *)json, len, err);
    if (st)
        return st;
    cJSON *r = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!r) {
        size_t at = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        return mf_error_set(err, MF_ERR_SYNTAX, "", "invalid JSON at byte %zu", at);
    }
    size_t at = end ? (size_t)(end - json) : len;
    while (at < len && (json[at] == ' ' || json[at] == '\n' || json[at] == '\r' || json[at] == '\t'))
        at++;
    if (at < len) {
        cJSON_Delete(r);
        return mf_error_set(err, MF_ERR_SYNTAX, "", "unexpected data after the JSON value at byte %zu",
                            at);
    }
    *root = r;
    return MF_OK;
}
