/*
 * mf/ws.h - WebSocket (RFC 6455) framing and the HTTP/1.1 upgrade, both sides.
 *
 * mflow speaks NATS in WebSocket binary messages. libwebsockets (4.1) carries
 * the bytes - sockets, TLS, the event loop, timers - but the WebSocket layer
 * itself is this module, shared by the client (runtime/client/) and the broker
 * (runtime/broker/), because lws 4.1 accepts what RFC 6455 says an endpoint
 * must refuse and gives no way to refuse it: an unmasked client frame, a
 * masked server frame, a close code that may not be sent, a frame whose
 * announced length is absurd (it is only seen when its bytes arrive). Here
 * every such frame is a protocol error with the close code RFC 6455 names.
 *
 * No I/O and no allocation: bytes in, events out; headers and handshakes into
 * caller buffers. Everything here is fuzzed (tests/fuzz/fuzz_ws.c).
 *
 * Receiving, the usual loop:
 *
 *     mf_ws_parser p;
 *     mf_ws_parser_init(&p, MF_WS_SERVER, 4 << 20);   // a server reads masked client frames
 *     ...for every chunk received (writable: data is unmasked in place):
 *     size_t off = 0, used;
 *     mf_ws_event ev;
 *     while (off < n) {
 *         int r = mf_ws_parse(&p, chunk + off, n - off, &used, &ev);
 *         off += used;
 *         if (r < 0) ...close with p.error_code, reason p.error_text...
 *         if (r == 0) break;                       // everything consumed
 *         ...handle ev...
 *     }
 */
#ifndef MF_WS_H
#define MF_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which side reads: a server reads masked client frames, a client unmasked server frames. */
typedef enum mf_ws_role { MF_WS_SERVER = 1, MF_WS_CLIENT = 2 } mf_ws_role;

typedef enum mf_ws_opcode {
    MF_WS_OP_CONT = 0x0,
    MF_WS_OP_TEXT = 0x1,
    MF_WS_OP_BINARY = 0x2,
    MF_WS_OP_CLOSE = 0x8,
    MF_WS_OP_PING = 0x9,
    MF_WS_OP_PONG = 0xA
} mf_ws_opcode;

/* Close status codes (RFC 6455 section 7.4.1) this code sends. */
#define MF_WS_CLOSE_NORMAL 1000
#define MF_WS_CLOSE_GOING_AWAY 1001
#define MF_WS_CLOSE_PROTOCOL 1002
#define MF_WS_CLOSE_NO_STATUS 1005  /* never sent: a close frame without a body reads as this */
#define MF_WS_CLOSE_INVALID_DATA 1007
#define MF_WS_CLOSE_POLICY 1008
#define MF_WS_CLOSE_TOO_BIG 1009
#define MF_WS_CLOSE_INTERNAL 1011

/* Longest frame header: 2 + 8 (64-bit length) + 4 (mask key). */
#define MF_WS_MAX_HEADER 14
/* Longest control frame payload. */
#define MF_WS_MAX_CONTROL 125

/* ---------------------------------------------------------------- UTF-8, streaming */

/*
 * Incremental UTF-8 validation (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF) for text split anywhere, fragments included. NUL is
 * valid UTF-8 here (unlike mf_utf8_valid, which checks C strings). It fails as
 * soon as a byte cannot continue any valid sequence, as RFC 6455 8.1 asks.
 */
typedef struct mf_ws_utf8 {
    uint8_t need;      /* continuation bytes still expected */
    uint8_t lo, hi;    /* allowed range of the next continuation byte */
} mf_ws_utf8;

void mf_ws_utf8_init(mf_ws_utf8 *u);
/* false: not UTF-8 (the state is then meaningless until init). */
bool mf_ws_utf8_feed(mf_ws_utf8 *u, const unsigned char *s, size_t n);
/* true when the text fed so far ends at a character boundary. */
bool mf_ws_utf8_complete(const mf_ws_utf8 *u);

/* ---------------------------------------------------------------- receiving frames */

typedef enum mf_ws_event_kind {
    MF_WS_EV_DATA = 1, /* a piece of a data message's payload (any size, possibly 0) */
    MF_WS_EV_PING,     /* a whole ping frame: answer with a pong carrying the same bytes */
    MF_WS_EV_PONG,     /* a whole pong frame */
    MF_WS_EV_CLOSE     /* a whole, valid close frame: nothing more is parsed after it */
} mf_ws_event_kind;

typedef struct mf_ws_event {
    mf_ws_event_kind kind;
    const unsigned char *data; /* DATA: inside the caller's chunk; PING/PONG/CLOSE: inside the parser */
    size_t len;                /* CLOSE: the reason text only */
    bool text;                 /* DATA: the message is a text message (validated UTF-8) */
    bool msg_end;              /* DATA: the message ends with this piece */
    unsigned close_code;       /* CLOSE: the status, MF_WS_CLOSE_NO_STATUS when the body was empty */
} mf_ws_event;

/*
 * The receiving state machine. Rules, each a protocol error whose close code is
 * in error_code:
 *   1002  RSV bits set (no extension is ever negotiated), an unknown opcode, a
 *         fragmented or longer-than-125-byte control frame, a continuation frame
 *         outside a message or a new data frame inside one, a 64-bit length with
 *         its top bit set, an unmasked frame read by a server or a masked frame
 *         read by a client, a close frame with a 1-byte body or a status that may
 *         not be sent (0-999, 1004-1006, 1015, 1016-2999, 5000 and above)
 *   1007  a text message that is not UTF-8, a close reason that is not UTF-8
 *   1009  a data frame whose announced length takes its message past max_message:
 *         refused at the frame header, before any of its payload is read
 * After a 1009 the framing is still intact: later calls go on, skip the rest of
 * that message without events (however long it announced itself to be) and
 * return the frames after it, so the peer's close frame can still be read.
 * After any other error every call returns -1 again (consuming nothing).
 */
typedef struct mf_ws_parser {
    /* configuration */
    mf_ws_role role;
    uint64_t max_message;      /* bytes of one data message (all frames); 0 = unlimited */
    /* result of an error */
    unsigned error_code;       /* 0, or the close code to send */
    char error_text[64];       /* for logs and the close frame's reason */
    /* state: private */
    unsigned char hdr[MF_WS_MAX_HEADER];
    size_t hdr_have, hdr_need;
    bool in_frame;             /* the header is complete: reading the payload */
    unsigned opcode;
    bool fin, masked;
    unsigned char mask[4];
    size_t mask_pos;
    uint64_t remaining;        /* payload bytes of this frame still to come */
    bool in_message;           /* a data message continues in a later frame */
    bool skip_message;         /* the current message was refused (1009): skip it */
    bool msg_text;
    uint64_t msg_bytes;
    mf_ws_utf8 utf8;
    unsigned char ctrl[MF_WS_MAX_CONTROL + 1];
    size_t ctrl_len;
    bool closed;               /* a close frame was returned */
} mf_ws_parser;

void mf_ws_parser_init(mf_ws_parser *p, mf_ws_role role, uint64_t max_message);

/*
 * Parses from buf[0, len) (buf is writable: data is unmasked in place).
 * Returns 1 with *ev filled, 0 when all of buf was consumed without completing
 * an event, -1 on a protocol violation (error_code / error_text). *used is the
 * number of bytes consumed in every case. After a CLOSE event the rest of the
 * input is consumed and ignored (0). error_code stays set after a 1009.
 */
int mf_ws_parse(mf_ws_parser *p, unsigned char *buf, size_t len, size_t *used, mf_ws_event *ev);

/* May a close frame carry this status (RFC 6455 7.4, IANA registry)? */
bool mf_ws_close_code_valid(unsigned code);

/* ---------------------------------------------------------------- sending frames */

/*
 * Writes a frame header into out (at least MF_WS_MAX_HEADER bytes) and returns
 * its length. mask NULL: unmasked (a server); otherwise the 4-byte key, and the
 * caller masks the payload with mf_ws_mask (a client).
 */
size_t mf_ws_write_header(unsigned char *out, mf_ws_opcode op, bool fin, uint64_t len, const unsigned char *mask);
/* XORs n bytes with the key, starting at key byte `offset` % 4. */
void mf_ws_mask(unsigned char *data, size_t n, const unsigned char mask[4], size_t offset);
/*
 * A close frame's body: the status (0 = no body at all) and the reason, cut at
 * 123 bytes on a character boundary. out holds MF_WS_MAX_CONTROL bytes. Returns
 * the body length.
 */
size_t mf_ws_close_body(unsigned char *out, unsigned code, const char *reason);

/* ---------------------------------------------------------------- the HTTP/1.1 upgrade */

/* Longest request or response head accepted (request line or status line + headers). */
#define MF_WS_HTTP_HEAD_MAX 8192

typedef struct mf_ws_request {
    char method[16];
    char path[1024];
    int minor;                 /* HTTP/1.<minor> */
    bool upgrade;              /* "Upgrade: websocket" and "Connection: ... upgrade ..." */
    int version;               /* Sec-WebSocket-Version, 0 when absent */
    char key[32];              /* Sec-WebSocket-Key as sent ("" when absent) */
    bool key_valid;            /* base64 of exactly 16 bytes */
    char protocols[256];       /* Sec-WebSocket-Protocol as sent (a comma list), "" when absent */
    char origin[512];
    bool has_origin;
} mf_ws_request;

/*
 * Looks for a complete request head ("...\r\n\r\n") in buf[0, len).
 * 1: parsed into *req, *head_len bytes of buf belong to it (what follows is the
 * peer's first frames). 0: incomplete (and shorter than MF_WS_HTTP_HEAD_MAX).
 * -1: not acceptable; *status is the HTTP status to answer (400 malformed, 431
 * head too long, 505 not HTTP/1.x) and *why says why.
 */
int mf_ws_parse_request(const char *buf, size_t len, mf_ws_request *req, size_t *head_len, int *status,
                        const char **why);

/* Is `name` one of the comma-separated tokens of `list` (case-sensitive, as RFC 6455 says)? */
bool mf_ws_protocol_listed(const char *list, const char *name);

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)), 28 characters + NUL. */
mf_status mf_ws_accept_value(const char *key, char out[29]);

/* A fresh Sec-WebSocket-Key: base64 of 16 random bytes, 24 characters + NUL. */
mf_status mf_ws_new_key(char out[25]);

/*
 * A client's handshake response: looks for a complete head in buf[0, len).
 * 1: "HTTP/1.1 101" with Upgrade: websocket, Connection: upgrade and the
 * Sec-WebSocket-Accept that `key` calls for, no extension and no subprotocol
 * the client did not ask for; *head_len bytes belong to it. 0: incomplete.
 * -1: refused or invalid; *why says why (with the status when it was not 101).
 */
int mf_ws_parse_response(const char *buf, size_t len, const char *key, size_t *head_len, char *why, size_t whysz);

#ifdef __cplusplus
}
#endif
#endif /* MF_WS_H */
