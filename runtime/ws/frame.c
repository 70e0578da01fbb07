/*
 * frame.c - WebSocket frames (RFC 6455 section 5): the receiving state
 * machine and the header writer.
 *
 * The parser collects a frame header byte by byte (2 to 14 bytes), checks it
 * completely before any payload byte is looked at - so a frame announcing more
 * than the message limit is refused at once, whatever follows - and then hands
 * data payload out in pieces as it arrives, unmasked in place in the caller's
 * buffer (nothing is copied or buffered). Control frames, at most 125 bytes,
 * are collected in the parser and returned whole.
 */
#include <stdio.h>
#include <string.h>

#include "mf/ws.h"

static int fail(mf_ws_parser *p, unsigned code, const char *text)
{
    p->error_code = code;
    snprintf(p->error_text, sizeof p->error_text, "%s", text);
    return -1;
}

void mf_ws_parser_init(mf_ws_parser *p, mf_ws_role role, uint64_t max_message)
{
    memset(p, 0, sizeof *p);
    p->role = role;
    p->max_message = max_message;
    p->hdr_need = 2;
    mf_ws_utf8_init(&p->utf8);
}

bool mf_ws_close_code_valid(unsigned code)
{
    /* 1004-1006 and 1015 are reserved (never on the wire), 1016-2999 unassigned,
     * 3000-4999 for libraries and applications, 1012-1014 registered with IANA. */
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/* The first two header bytes are in: check them and size the rest of the header. */
static int check_start(mf_ws_parser *p)
{
    unsigned b0 = p->hdr[0], b1 = p->hdr[1];
    unsigned op = b0 & 0x0F, len7 = b1 & 0x7F;
    bool fin = (b0 & 0x80) != 0, masked = (b1 & 0x80) != 0;
    if (b0 & 0x70)
        return fail(p, MF_WS_CLOSE_PROTOCOL, "RSV bits set without an extension");
    switch (op) {
    case MF_WS_OP_CONT:
        if (!p->in_message)
            return fail(p, MF_WS_CLOSE_PROTOCOL, "continuation frame outside a message");
        break;
    case MF_WS_OP_TEXT:
    case MF_WS_OP_BINARY:
        if (p->in_message)
            return fail(p, MF_WS_CLOSE_PROTOCOL, "new message inside a fragmented message");
        break;
    case MF_WS_OP_CLOSE:
    case MF_WS_OP_PING:
    case MF_WS_OP_PONG:
        if (!fin)
            return fail(p, MF_WS_CLOSE_PROTOCOL, "fragmented control frame");
        if (len7 > MF_WS_MAX_CONTROL)
            return fail(p, MF_WS_CLOSE_PROTOCOL, "control frame longer than 125 bytes");
        break;
    default:
        return fail(p, MF_WS_CLOSE_PROTOCOL, "unknown opcode");
    }
    if (p->role == MF_WS_SERVER && !masked)
        return fail(p, MF_WS_CLOSE_PROTOCOL, "unmasked frame from a client");
    if (p->role == MF_WS_CLIENT && masked)
        return fail(p, MF_WS_CLOSE_PROTOCOL, "masked frame from a server");
    p->opcode = op;
    p->fin = fin;
    p->masked = masked;
    p->hdr_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0);
    return 0;
}

/* The whole header is in: its length, mask key and the message limit. */
static int begin_frame(mf_ws_parser *p)
{
    unsigned len7 = p->hdr[1] & 0x7F;
    uint64_t len = len7;
    size_t k = 2;
    if (len7 == 126) {
        len = ((uint64_t)p->hdr[2] << 8) | p->hdr[3];
        k = 4;
    } else if (len7 == 127) {
        len = 0;
        for (k = 2; k < 10; k++)
            len = (len << 8) | p->hdr[k];
        if (len >> 63)
            return fail(p, MF_WS_CLOSE_PROTOCOL, "frame length with the most significant bit set");
    }
    if (p->masked)
        memcpy(p->mask, p->hdr + k, 4);
    p->mask_pos = 0;
    p->remaining = len;
    p->ctrl_len = 0;
    if (!(p->opcode & 0x8)) {
        if (p->opcode != MF_WS_OP_CONT) {
            p->in_message = true;
            p->msg_text = p->opcode == MF_WS_OP_TEXT;
            p->msg_bytes = 0;
            mf_ws_utf8_init(&p->utf8);
        }
        if (!p->skip_message && p->max_message && len > p->max_message - p->msg_bytes) {
            /* the rest of this message is skipped; the framing goes on (see mf_ws_parse) */
            char t[64];
            snprintf(t, sizeof t, "message larger than %llu bytes", (unsigned long long)p->max_message);
            p->skip_message = true;
            p->in_frame = true;
            return fail(p, MF_WS_CLOSE_TOO_BIG, t);
        }
        p->msg_bytes += len;
    }
    p->in_frame = true;
    return 0;
}

/* The next frame starts with a fresh header. */
static void end_frame(mf_ws_parser *p)
{
    p->in_frame = false;
    p->hdr_have = 0;
    p->hdr_need = 2;
}

/* A whole control frame is in p->ctrl. */
static int control_event(mf_ws_parser *p, mf_ws_event *ev)
{
    memset(ev, 0, sizeof *ev);
    end_frame(p);
    if (p->opcode == MF_WS_OP_PING || p->opcode == MF_WS_OP_PONG) {
        ev->kind = p->opcode == MF_WS_OP_PING ? MF_WS_EV_PING : MF_WS_EV_PONG;
        ev->data = p->ctrl;
        ev->len = p->ctrl_len;
        return 1;
    }
    ev->kind = MF_WS_EV_CLOSE;
    if (p->ctrl_len == 1)
        return fail(p, MF_WS_CLOSE_PROTOCOL, "close frame with a 1-byte body");
    ev->close_code = MF_WS_CLOSE_NO_STATUS;
    ev->data = p->ctrl + p->ctrl_len; /* empty reason */
    if (p->ctrl_len >= 2) {
        unsigned code = ((unsigned)p->ctrl[0] << 8) | p->ctrl[1];
        if (!mf_ws_close_code_valid(code)) {
            char t[64];
            snprintf(t, sizeof t, "close status %u may not be sent", code);
            return fail(p, MF_WS_CLOSE_PROTOCOL, t);
        }
        mf_ws_utf8 u;
        mf_ws_utf8_init(&u);
        if (!mf_ws_utf8_feed(&u, p->ctrl + 2, p->ctrl_len - 2) || !mf_ws_utf8_complete(&u))
            return fail(p, MF_WS_CLOSE_INVALID_DATA, "close reason is not UTF-8");
        ev->close_code = code;
        ev->data = p->ctrl + 2;
        ev->len = p->ctrl_len - 2;
    }
    p->closed = true;
    return 1;
}

/* Payload bytes of the current frame from buf[0, avail): consumes what belongs to it. */
static int payload(mf_ws_parser *p, unsigned char *buf, size_t avail, size_t *took, mf_ws_event *ev)
{
    size_t n = avail < p->remaining ? avail : (size_t)p->remaining;
    *took = n;
    p->remaining -= n;
    if (p->skip_message && !(p->opcode & 0x8)) {
        /* the rest of a message refused with 1009: no events */
        if (p->remaining == 0) {
            end_frame(p);
            if (p->fin)
                p->in_message = p->skip_message = false;
        }
        return 0;
    }
    if (p->masked)
        mf_ws_mask(buf, n, p->mask, p->mask_pos);
    p->mask_pos = (p->mask_pos + n) & 3;
    if (p->opcode & 0x8) {
        memcpy(p->ctrl + p->ctrl_len, buf, n);
        p->ctrl_len += n;
        return p->remaining ? 0 : control_event(p, ev);
    }
    if (n == 0 && p->remaining)
        return 0;
    if (p->msg_text && !mf_ws_utf8_feed(&p->utf8, buf, n))
        return fail(p, MF_WS_CLOSE_INVALID_DATA, "text message is not UTF-8");
    memset(ev, 0, sizeof *ev);
    ev->kind = MF_WS_EV_DATA;
    ev->data = buf;
    ev->len = n;
    ev->text = p->msg_text;
    if (p->remaining == 0) {
        ev->msg_end = p->fin;
        end_frame(p);
        if (p->fin) {
            p->in_message = false;
            if (p->msg_text && !mf_ws_utf8_complete(&p->utf8))
                return fail(p, MF_WS_CLOSE_INVALID_DATA, "text message ends inside a character");
        }
    }
    return 1;
}

/* One step: a frame header, or some payload. 1 event, 0 consumed without one, -1 error. */
static int step(mf_ws_parser *p, unsigned char *buf, size_t len, size_t *used, mf_ws_event *ev)
{
    size_t i = 0;
    *used = 0;
    if (!p->in_frame) {
        while (p->hdr_have < p->hdr_need && i < len) {
            p->hdr[p->hdr_have++] = buf[i++];
            if (p->hdr_have == 2 && check_start(p) < 0) {
                *used = i;
                return -1;
            }
        }
        *used = i;
        if (p->hdr_have < p->hdr_need)
            return 0;
        if (begin_frame(p) < 0)
            return -1;
    }
    size_t took = 0;
    int r = payload(p, buf + i, len - i, &took, ev);
    *used = i + took;
    return r;
}

int mf_ws_parse(mf_ws_parser *p, unsigned char *buf, size_t len, size_t *used, mf_ws_event *ev)
{
    size_t off = 0;
    *used = 0;
    if (p->error_code && p->error_code != MF_WS_CLOSE_TOO_BIG)
        return -1;
    for (;;) {
        if (p->closed) {
            *used = len; /* nothing may follow a close frame: ignored */
            return 0;
        }
        size_t n;
        int r = step(p, buf + off, len - off, &n, ev);
        off += n;
        *used = off;
        if (r != 0 || off == len)
            return r;
    }
}

/*
 * XORs with the key repeated: 32 bytes per step where the compiler has vector
 * types (two 16-byte registers on a plain x86-64; every byte of a client's
 * frames passes here twice, masked by the client and unmasked by the broker),
 * then 8, then single bytes.
 */
void mf_ws_mask(unsigned char *data, size_t n, const unsigned char mask[4], size_t offset)
{
    unsigned char k[32];
    for (size_t j = 0; j < sizeof k; j++)
        k[j] = mask[(offset + j) & 3];
    size_t i = 0;
#if defined(__GNUC__)
    typedef unsigned char v32 __attribute__((vector_size(32)));
    v32 kv;
    memcpy(&kv, k, sizeof kv);
    for (; i + 32 <= n; i += 32) {
        v32 w;
        memcpy(&w, data + i, sizeof w);
        w ^= kv;
        memcpy(data + i, &w, sizeof w);
    }
#endif
    uint64_t kw;
    memcpy(&kw, k, sizeof kw); /* i is a multiple of 32 here: the key's phase is the same */
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, data + i, sizeof w);
        w ^= kw;
        memcpy(data + i, &w, sizeof w);
    }
    for (; i < n; i++)
        data[i] ^= k[i & 7];
}

size_t mf_ws_write_header(unsigned char *out, mf_ws_opcode op, bool fin, uint64_t len, const unsigned char *mask)
{
    size_t k = 2;
    out[0] = (unsigned char)((fin ? 0x80 : 0) | (op & 0x0F));
    if (len < 126) {
        out[1] = (unsigned char)len;
    } else if (len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (unsigned char)(len >> 8);
        out[3] = (unsigned char)len;
        k = 4;
    } else {
        out[1] = 127;
        for (int j = 0; j < 8; j++)
            out[2 + j] = (unsigned char)(len >> (56 - 8 * j));
        k = 10;
    }
    if (mask) {
        out[1] |= 0x80;
        memcpy(out + k, mask, 4);
        k += 4;
    }
    return k;
}

size_t mf_ws_close_body(unsigned char *out, unsigned code, const char *reason)
{
    if (!code)
        return 0;
    out[0] = (unsigned char)(code >> 8);
    out[1] = (unsigned char)code;
    size_t n = reason ? strlen(reason) : 0;
    if (n > MF_WS_MAX_CONTROL - 2) {
        n = MF_WS_MAX_CONTROL - 2;
        while (n && ((unsigned char)reason[n] & 0xC0) == 0x80)
            n--; /* do not cut a character */
    }
    if (n)
        memcpy(out + 2, reason, n);
    return 2 + n;
}
