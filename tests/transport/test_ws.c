/*
 * test_ws.c - the WebSocket layer (runtime/ws/): frame parsing and writing,
 * streaming UTF-8, close bodies, the HTTP upgrade on both sides.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mf/ws.h"

static const unsigned char KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

/* A frame as a client (masked) or a server (unmasked) sends it. */
static size_t frame(unsigned char *out, unsigned op, bool fin, const void *data, size_t n, bool masked)
{
    size_t h = mf_ws_write_header(out, (mf_ws_opcode)op, fin, n, masked ? KEY : NULL);
    memcpy(out + h, data, n);
    if (masked)
        mf_ws_mask(out + h, n, KEY, 0);
    return h + n;
}

/* Parses all of buf; collects data into got, returns the number of events or -1. */
typedef struct collected {
    unsigned char data[1 << 17];
    size_t len;
    int msgs_ended, pings, pongs, closes;
    unsigned close_code;
    char reason[128];
} collected;

static int run(mf_ws_parser *p, unsigned char *buf, size_t n, size_t step, collected *c)
{
    int events = 0;
    size_t off = 0;
    while (off < n) {
        size_t chunk = n - off < step ? n - off : step, done = 0;
        while (done < chunk) {
            size_t used;
            mf_ws_event ev;
            int r = mf_ws_parse(p, buf + off + done, chunk - done, &used, &ev);
            done += used;
            if (r < 0)
                return -1;
            if (r == 0) {
                assert_int_equal(done, chunk);
                break;
            }
            events++;
            switch (ev.kind) {
            case MF_WS_EV_DATA:
                memcpy(c->data + c->len, ev.data, ev.len);
                c->len += ev.len;
                c->msgs_ended += ev.msg_end;
                break;
            case MF_WS_EV_PING: c->pings++; break;
            case MF_WS_EV_PONG: c->pongs++; break;
            case MF_WS_EV_CLOSE:
                c->closes++;
                c->close_code = ev.close_code;
                snprintf(c->reason, sizeof c->reason, "%.*s", (int)ev.len, (const char *)ev.data);
                break;
            }
        }
        off += chunk;
    }
    return events;
}

static void test_roundtrip_any_split(void **state)
{
    (void)state;
    static unsigned char big[70000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 7);
    static unsigned char wire[80000];
    for (int masked = 0; masked < 2; masked++) {
        size_t n = 0;
        n += frame(wire + n, MF_WS_OP_BINARY, false, "PUB a 5\r\n", 9, masked);
        n += frame(wire + n, MF_WS_OP_PING, true, "hb", 2, masked);
        n += frame(wire + n, MF_WS_OP_CONT, true, "hello\r\n", 7, masked);
        n += frame(wire + n, MF_WS_OP_BINARY, true, "", 0, masked);
        n += frame(wire + n, MF_WS_OP_BINARY, true, big, 300, masked);   /* 16-bit length */
        n += frame(wire + n, MF_WS_OP_BINARY, true, big, sizeof big, masked); /* 64-bit length */
        n += frame(wire + n, MF_WS_OP_PONG, true, "", 0, masked);
        n += frame(wire + n, MF_WS_OP_TEXT, true, "h\xc3\xa9llo", 6, masked);
        unsigned char body[MF_WS_MAX_CONTROL];
        size_t bl = mf_ws_close_body(body, 1000, "bye");
        n += frame(wire + n, MF_WS_OP_CLOSE, true, body, bl, masked);
        n += frame(wire + n, MF_WS_OP_BINARY, true, "after", 5, masked); /* ignored */
        size_t steps[] = {1, 2, 3, 7, 13, 4096, n};
        for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
            static unsigned char copy[80000];
            memcpy(copy, wire, n);
            static collected c;
            memset(&c, 0, sizeof c);
            mf_ws_parser p;
            mf_ws_parser_init(&p, masked ? MF_WS_SERVER : MF_WS_CLIENT, 1 << 20);
            assert_true(run(&p, copy, n, steps[s], &c) > 0);
            assert_int_equal(c.len, 16 + 300 + sizeof big + 6);
            assert_memory_equal(c.data, "PUB a 5\r\nhello\r\n", 16);
            assert_memory_equal(c.data + 16, big, 300);
            assert_memory_equal(c.data + 316, big, sizeof big);
            assert_memory_equal(c.data + 316 + sizeof big, "h\xc3\xa9llo", 6);
            assert_int_equal(c.msgs_ended, 5);
            assert_int_equal(c.pings, 1);
            assert_int_equal(c.pongs, 1);
            assert_int_equal(c.closes, 1);
            assert_int_equal(c.close_code, 1000);
            assert_string_equal(c.reason, "bye");
        }
    }
}

/* One bad frame: the code and that the parser stays failed. */
static void expect_error(mf_ws_role role, const unsigned char *wire, size_t n, unsigned code, uint64_t max)
{
    unsigned char *copy = malloc(n);
    assert_non_null(copy);
    memcpy(copy, wire, n);
    mf_ws_parser p;
    mf_ws_parser_init(&p, role, max);
    static collected c;
    memset(&c, 0, sizeof c);
    assert_int_equal(run(&p, copy, n, n, &c), -1);
    assert_int_equal(p.error_code, code);
    assert_true(p.error_text[0] != '\0');
    if (code != 1009) { /* failed for good */
        size_t used = 7;
        mf_ws_event ev;
        assert_int_equal(mf_ws_parse(&p, copy, n, &used, &ev), -1);
        assert_int_equal(used, 0);
    }
    free(copy);
}

static void test_masking_rules(void **state)
{
    (void)state;
    unsigned char w[64];
    size_t n = frame(w, MF_WS_OP_BINARY, true, "PING\r\n", 6, false);
    expect_error(MF_WS_SERVER, w, n, 1002, 0); /* unmasked client frame */
    n = frame(w, MF_WS_OP_BINARY, true, "PING\r\n", 6, true);
    expect_error(MF_WS_CLIENT, w, n, 1002, 0); /* masked server frame */
}

static void test_header_rules(void **state)
{
    (void)state;
    unsigned char w[64];
    size_t n = frame(w, MF_WS_OP_BINARY, true, "x", 1, true);
    w[0] |= 0x40; /* RSV1 */
    expect_error(MF_WS_SERVER, w, n, 1002, 0);
    n = frame(w, 3, true, "x", 1, true); /* reserved opcode */
    expect_error(MF_WS_SERVER, w, n, 1002, 0);
    n = frame(w, MF_WS_OP_PING, false, "x", 1, true); /* fragmented control */
    expect_error(MF_WS_SERVER, w, n, 1002, 0);
    n = frame(w, MF_WS_OP_CONT, true, "x", 1, true); /* continuation outside a message */
    expect_error(MF_WS_SERVER, w, n, 1002, 0);
    n = frame(w, MF_WS_OP_BINARY, false, "x", 1, true);
    n += frame(w + n, MF_WS_OP_BINARY, true, "y", 1, true); /* new message inside one */
    expect_error(MF_WS_SERVER, w, n, 1002, 0);
    /* a 126-byte ping (16-bit length form) */
    unsigned char big[200];
    memset(big, 'p', sizeof big);
    unsigned char w2[256];
    n = frame(w2, MF_WS_OP_PING, true, big, 126, true);
    expect_error(MF_WS_SERVER, w2, n, 1002, 0);
    /* 64-bit length with the top bit set */
    unsigned char h[14] = {0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4};
    expect_error(MF_WS_SERVER, h, sizeof h, 1002, 0);
}

static void test_too_big_at_header(void **state)
{
    (void)state;
    /* a header announcing 2^62 bytes, no payload at all: refused with 1009 at once */
    unsigned char h[14];
    size_t n = mf_ws_write_header(h, MF_WS_OP_BINARY, true, 1ULL << 62, KEY);
    expect_error(MF_WS_SERVER, h, n, 1009, 4u << 20);
    /* fragments: the sum counts */
    unsigned char w[1024], data[200];
    memset(data, 'a', sizeof data);
    n = frame(w, MF_WS_OP_BINARY, false, data, 200, true);
    n += frame(w + n, MF_WS_OP_CONT, false, data, 200, true);
    expect_error(MF_WS_SERVER, w, n, 1009, 399);
    /* after a 1009 the framing goes on: the rest of the message is skipped without
     * events, and a close frame after it is still read */
    {
        static unsigned char wb[4096];
        size_t k = frame(wb, MF_WS_OP_BINARY, false, data, 200, true);
        k += frame(wb + k, MF_WS_OP_CONT, false, data, 200, true); /* refused here */
        k += frame(wb + k, MF_WS_OP_PING, true, "p", 1, true);
        k += frame(wb + k, MF_WS_OP_CONT, true, data, 200, true);  /* still skipped */
        unsigned char body[MF_WS_MAX_CONTROL];
        k += frame(wb + k, MF_WS_OP_CLOSE, true, body, mf_ws_close_body(body, 1000, ""), true);
        for (size_t step = 1; step <= k; step += k - 1) {
            unsigned char cp[4096];
            memcpy(cp, wb, k);
            mf_ws_parser q;
            mf_ws_parser_init(&q, MF_WS_SERVER, 300);
            size_t off = 0, datab = 0;
            int errors = 0, pings = 0, closes = 0;
            while (off < k) {
                size_t chunk = k - off < step ? k - off : step, done = 0;
                while (done < chunk) {
                    size_t used;
                    mf_ws_event ev;
                    int r = mf_ws_parse(&q, cp + off + done, chunk - done, &used, &ev);
                    done += used;
                    if (r < 0) {
                        errors++;
                        assert_int_equal(q.error_code, 1009);
                        continue;
                    }
                    if (r == 0)
                        break;
                    if (ev.kind == MF_WS_EV_DATA)
                        datab += ev.len;
                    pings += ev.kind == MF_WS_EV_PING;
                    closes += ev.kind == MF_WS_EV_CLOSE;
                }
                off += chunk;
            }
            assert_int_equal(errors, 1);
            assert_int_equal(datab, 200);
            assert_int_equal(pings, 1);
            assert_int_equal(closes, 1);
        }
    }
    /* exactly the limit is fine */
    mf_ws_parser p;
    mf_ws_parser_init(&p, MF_WS_SERVER, 400);
    static collected c;
    memset(&c, 0, sizeof c);
    n = frame(w, MF_WS_OP_BINARY, false, data, 200, true);
    n += frame(w + n, MF_WS_OP_CONT, true, data, 200, true);
    n += frame(w + n, MF_WS_OP_BINARY, true, data, 200, true); /* a new message starts from 0 */
    assert_true(run(&p, w, n, n, &c) > 0);
    assert_int_equal(c.len, 600);
}

static void test_close_rules(void **state)
{
    (void)state;
    unsigned bad[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char body[2] = {(unsigned char)(bad[i] >> 8), (unsigned char)bad[i]}, w[16];
        size_t n = frame(w, MF_WS_OP_CLOSE, true, body, 2, true);
        expect_error(MF_WS_SERVER, w, n, 1002, 0);
        n = frame(w, MF_WS_OP_CLOSE, true, body, 2, false);
        expect_error(MF_WS_CLIENT, w, n, 1002, 0);
    }
    unsigned good[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(mf_ws_close_code_valid(good[i]));
    unsigned char w[32];
    size_t n = frame(w, MF_WS_OP_CLOSE, true, "\x03", 1, true); /* 1-byte body */
    expect_error(MF_WS_SERVER, w, n, 1002, 0);
    n = frame(w, MF_WS_OP_CLOSE, true, "\x03\xe8\xff\xfe", 4, true); /* reason not UTF-8 */
    expect_error(MF_WS_SERVER, w, n, 1007, 0);
    /* an empty close body reads as 1005 (no status) */
    mf_ws_parser p;
    mf_ws_parser_init(&p, MF_WS_SERVER, 0);
    static collected c;
    memset(&c, 0, sizeof c);
    n = frame(w, MF_WS_OP_CLOSE, true, "", 0, true);
    assert_int_equal(run(&p, w, n, n, &c), 1);
    assert_int_equal(c.close_code, 1005);
}

static void test_text_utf8(void **state)
{
    (void)state;
    unsigned char w[64];
    size_t n = frame(w, MF_WS_OP_TEXT, true, "PUB a 2\r\n\xff\xfe\r\n", 13, true);
    expect_error(MF_WS_SERVER, w, n, 1007, 0);
    /* a character split across two fragments is fine */
    mf_ws_parser p;
    mf_ws_parser_init(&p, MF_WS_CLIENT, 0);
    static collected c;
    memset(&c, 0, sizeof c);
    n = frame(w, MF_WS_OP_TEXT, false, "a\xe2\x82", 3, false);
    n += frame(w + n, MF_WS_OP_CONT, true, "\xac", 1, false);
    assert_int_equal(run(&p, w, n, 1, &c), 4); /* fed byte by byte: one event per payload byte */
    assert_int_equal(c.msgs_ended, 1);
    assert_memory_equal(c.data, "a\xe2\x82\xac", 4);
    /* a message ending inside a character */
    n = frame(w, MF_WS_OP_TEXT, true, "a\xe2\x82", 3, false);
    expect_error(MF_WS_CLIENT, w, n, 1007, 0);
    /* binary messages are not checked */
    mf_ws_parser_init(&p, MF_WS_CLIENT, 0);
    memset(&c, 0, sizeof c);
    n = frame(w, MF_WS_OP_BINARY, true, "\xff\xfe", 2, false);
    assert_int_equal(run(&p, w, n, n, &c), 1);
}

static void test_utf8_stream(void **state)
{
    (void)state;
    struct { const char *s; size_t n; bool ok; } v[] = {
        {"plain ascii and NUL \0 ok", 24, true},
        {"\xc2\x80", 2, true},       {"\xc0\x80", 2, false},        /* overlong NUL */
        {"\xe0\xa0\x80", 3, true},   {"\xe0\x9f\xbf", 3, false},    /* overlong */
        {"\xed\x9f\xbf", 3, true},   {"\xed\xa0\x80", 3, false},    /* lone surrogate */
        {"\xf0\x90\x80\x80", 4, true}, {"\xf0\x8f\xbf\xbf", 4, false},
        {"\xf4\x8f\xbf\xbf", 4, true}, {"\xf4\x90\x80\x80", 4, false}, /* above U+10FFFF */
        {"\xf5\x80\x80\x80", 4, false}, {"\x80", 1, false},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        /* whole, and byte by byte */
        mf_ws_utf8 u;
        mf_ws_utf8_init(&u);
        bool ok = mf_ws_utf8_feed(&u, (const unsigned char *)v[i].s, v[i].n) && mf_ws_utf8_complete(&u);
        assert_int_equal(ok, v[i].ok);
        mf_ws_utf8_init(&u);
        ok = true;
        for (size_t k = 0; k < v[i].n && ok; k++)
            ok = mf_ws_utf8_feed(&u, (const unsigned char *)v[i].s + k, 1);
        assert_int_equal(ok && mf_ws_utf8_complete(&u), v[i].ok);
    }
}

static void test_close_body(void **state)
{
    (void)state;
    unsigned char b[MF_WS_MAX_CONTROL];
    assert_int_equal(mf_ws_close_body(b, 0, "x"), 0);
    assert_int_equal(mf_ws_close_body(b, 1009, "Maximum Message Size Exceeded"), 2 + 29);
    assert_int_equal(b[0] << 8 | b[1], 1009);
    /* a long reason is cut at 123 bytes, not inside a character */
    char r[300];
    memset(r, 'a', 122);
    strcpy(r + 122, "\xc3\xa9tail and more text");
    size_t n = mf_ws_close_body(b, 1000, r);
    assert_int_equal(n, 2 + 122);
    mf_ws_utf8 u;
    mf_ws_utf8_init(&u);
    assert_true(mf_ws_utf8_feed(&u, b + 2, n - 2) && mf_ws_utf8_complete(&u));
}

static void test_request(void **state)
{
    (void)state;
    const char *ok = "GET /nats HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: nats\r\nOrigin: https://a.example\r\n"
                     "\r\nFRAMES";
    mf_ws_request r;
    size_t hl;
    int st;
    const char *why;
    assert_int_equal(mf_ws_parse_request(ok, strlen(ok), &r, &hl, &st, &why), 1);
    assert_int_equal(hl, strlen(ok) - 6);
    assert_true(r.upgrade && r.key_valid);
    assert_int_equal(r.version, 13);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.path, "/nats");
    assert_string_equal(r.origin, "https://a.example");
    assert_true(mf_ws_protocol_listed(r.protocols, "nats"));
    assert_false(mf_ws_protocol_listed(r.protocols, "nat"));
    char acc[29];
    assert_int_equal(mf_ws_accept_value(r.key, acc), MF_OK);
    assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* RFC 6455 section 1.3 */
    /* incomplete */
    assert_int_equal(mf_ws_parse_request(ok, 30, &r, &hl, &st, &why), 0);
    /* malformed ones */
    const char *bad[] = {"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", "GET / HTTP/1.1\r\n folded\r\n\r\n",
                         "GET  HTTP/1.1\r\n\r\n", "GET / HTTP/2.0\r\n\r\n", "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
                         "GET / FTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nA: \x01\r\n\r\n"};
    int want[] = {400, 400, 400, 505, 400, 400, 400};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(mf_ws_parse_request(bad[i], strlen(bad[i]), &r, &hl, &st, &why), -1);
        assert_int_equal(st, want[i]);
    }
    /* too long without an end */
    char *lng = malloc(MF_WS_HTTP_HEAD_MAX + 10);
    memset(lng, 'a', MF_WS_HTTP_HEAD_MAX + 10);
    assert_int_equal(mf_ws_parse_request(lng, MF_WS_HTTP_HEAD_MAX + 10, &r, &hl, &st, &why), -1);
    assert_int_equal(st, 431);
    free(lng);
    /* a plain GET is no upgrade; a bad key is reported */
    const char *get = "GET /varz HTTP/1.0\r\nSec-WebSocket-Key: short\r\n\r\n";
    assert_int_equal(mf_ws_parse_request(get, strlen(get), &r, &hl, &st, &why), 1);
    assert_false(r.upgrade);
    assert_false(r.key_valid);
    assert_int_equal(r.minor, 0);
}

static void test_response(void **state)
{
    (void)state;
    char key[25], acc[29], resp[512], why[128];
    assert_int_equal(mf_ws_new_key(key), MF_OK);
    assert_int_equal(strlen(key), 24);
    assert_int_equal(mf_ws_accept_value(key, acc), MF_OK);
    size_t hl;
    snprintf(resp, sizeof resp,
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: %s\r\n\r\n\x82\x01x",
             acc);
    assert_int_equal(mf_ws_parse_response(resp, strlen(resp), key, &hl, why, sizeof why), 1);
    assert_int_equal(hl, strlen(resp) - 3);
    assert_int_equal(mf_ws_parse_response(resp, 20, key, &hl, why, sizeof why), 0);
    /* refused, wrong accept, an extension we did not offer */
    const char *r403 = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(mf_ws_parse_response(r403, strlen(r403), key, &hl, why, sizeof why), -1);
    assert_non_null(strstr(why, "403"));
    snprintf(resp, sizeof resp,
             "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x%s\r\n\r\n", acc);
    assert_int_equal(mf_ws_parse_response(resp, strlen(resp), key, &hl, why, sizeof why), -1);
    snprintf(resp, sizeof resp,
             "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
             "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
             acc);
    assert_int_equal(mf_ws_parse_response(resp, strlen(resp), key, &hl, why, sizeof why), -1);
    const char *junk = "SSH-2.0-OpenSSH\r\n\r\n";
    assert_int_equal(mf_ws_parse_response(junk, strlen(junk), key, &hl, why, sizeof why), -1);
}

/* Every way a request head can be refused, and the odd but valid ones. */
static void test_request_heads_strictly(void **state)
{
    (void)state;
    static const struct {
        const char *head;
        int status; /* 0 = accepted */
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0},
        {"GET / HTTP/1.1\r\n\r\n", 0},                                   /* no headers at all */
        {"GETTTTTTTTTTTTTTT / HTTP/1.1\r\n\r\n", 400},                   /* method too long */
        {"G(T / HTTP/1.1\r\n\r\n", 400},                                 /* not a token */
        {"GET\r\n\r\n", 400},                                            /* no target */
        {"GET /\r\n\r\n", 400},                                          /* no version */
        {"GET /a\x01b HTTP/1.1\r\n\r\n", 400},                          /* control byte in the target */
        {"GET / HTTP/1.1x\r\n\r\n", 400},
        {"GET / HTTP/a.1\r\n\r\n", 400},
        {"GET / HTTP/1,1\r\n\r\n", 400},
        {"GET / HTTP/1.a\r\n\r\n", 400},
        {"GET / HTTP/3.0\r\n\r\n", 505},
        {"GET / HTTP/1.1\r\n: x\r\n\r\n", 400},                        /* no name */
        {"GET / HTTP/1.1\r\nName\r\n\r\n", 400},                        /* no colon */
        {"GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n", 400},                   /* DEL in a value */
        {"GET / HTTP/1.1\r\nSec-WebSocket-Key: a\r\nSec-WebSocket-Key: b\r\n\r\n", 400}, /* twice */
        {"GET / HTTP/1.1\r\nOrigin: a\r\nOrigin: b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nA:\t b \t\r\n\r\n", 0},                    /* blanks around a value */
        {"GET / HTTP/1.1\r\nSec-WebSocket-Version: 13a\r\n\r\n", 0},    /* read as no version */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mf_ws_request r;
        size_t hl;
        int st;
        const char *why;
        int rc = mf_ws_parse_request(cases[i].head, strlen(cases[i].head), &r, &hl, &st, &why);
        if (rc != (cases[i].status ? -1 : 1) || (cases[i].status && st != cases[i].status))
            fail_msg("case %zu: %d %d (%s)", i, rc, st, why);
        assert_non_null(why);
    }
    /* a target of 1024 bytes: 414 */
    char big[1200];
    snprintf(big, sizeof big, "GET /%01023d HTTP/1.1\r\n\r\n", 0);
    mf_ws_request r;
    size_t hl;
    int st;
    const char *why;
    assert_int_equal(mf_ws_parse_request(big, strlen(big), &r, &hl, &st, &why), -1);
    assert_int_equal(st, 414);
    /* values that do not fit their fields */
    char hdr[1500];
    int n = snprintf(hdr, sizeof hdr, "GET / HTTP/1.1\r\nOrigin: %0600d\r\n\r\n", 0);
    assert_int_equal(mf_ws_parse_request(hdr, (size_t)n, &r, &hl, &st, &why), -1);
    n = snprintf(hdr, sizeof hdr, "GET / HTTP/1.1\r\nSec-WebSocket-Key: %040d\r\n\r\n", 0);
    assert_int_equal(mf_ws_parse_request(hdr, (size_t)n, &r, &hl, &st, &why), -1);
    n = snprintf(hdr, sizeof hdr, "GET / HTTP/1.1\r\nSec-WebSocket-Protocol: %0200d\r\nSec-WebSocket-Protocol: "
                 "%0100d\r\n\r\n", 0, 0);
    assert_int_equal(mf_ws_parse_request(hdr, (size_t)n, &r, &hl, &st, &why), -1);
    n = snprintf(hdr, sizeof hdr, "GET / HTTP/1.1\r\nSec-WebSocket-Version: 99999999\r\n\r\n");
    assert_int_equal(mf_ws_parse_request(hdr, (size_t)n, &r, &hl, &st, &why), 1);
    assert_int_not_equal(r.version, 13);
    /* token lists: blanks, empty items, case */
    assert_true(mf_ws_protocol_listed(" a ,, nats\t", "nats"));
    assert_false(mf_ws_protocol_listed("NATS", "nats")); /* subprotocols are case-sensitive */
    assert_false(mf_ws_protocol_listed(NULL, "nats"));
    assert_false(mf_ws_protocol_listed("", "nats"));
    const char *up = "GET / HTTP/1.1\r\nUpgrade: h2c, WebSocket\r\nConnection: keep-alive,UPGRADE\r\n\r\n";
    assert_int_equal(mf_ws_parse_request(up, strlen(up), &r, &hl, &st, &why), 1);
    assert_true(r.upgrade);
    /* keys that are not base64 of 16 bytes */
    const char *keys[] = {"dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=x", "dGhlIHNhbXBsZSBub25jZ!==",
                          "dGhlIHNhbXBsZSBub25jZQ==="};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        n = snprintf(hdr, sizeof hdr, "GET / HTTP/1.1\r\nSec-WebSocket-Key: %s\r\n\r\n", keys[i]);
        assert_int_equal(mf_ws_parse_request(hdr, (size_t)n, &r, &hl, &st, &why), 1);
        assert_false(r.key_valid);
    }
    /* the accept value needs a key of sane length */
    char acc[29];
    assert_int_equal(mf_ws_accept_value(NULL, acc), MF_ERR_INVALID_ARG);
    char longkey[200];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_int_equal(mf_ws_accept_value(longkey, acc), MF_ERR_INVALID_ARG);
}

static void test_response_heads_strictly(void **state)
{
    (void)state;
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==", *acc = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    char resp[600], why[128];
    size_t hl;
    const char *bad[] = {
        "HTTP/1.1 101 OK\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",       /* no Upgrade */
        "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: %s\r\n\r\n",        /* no Connection */
        "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n%s",            /* no accept */
        "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
        "Sec-WebSocket-Accept: x\r\n\r\n",                                                   /* accept twice */
        "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
        "Sec-WebSocket-Protocol: nats\r\n\r\n",                                              /* not asked for */
        "HTTP/1.1 101 OK\r\nUpgrade websocket\r\nSec-WebSocket-Accept: %s\r\n\r\n",           /* malformed */
        "HTTX/1.1 101 OK\r\nSec-WebSocket-Accept: %s\r\n\r\n",
        "HTTP/1.1 1x1 OK\r\nSec-WebSocket-Accept: %s\r\n\r\n",
        "HTTP/1.1 10\r\n%s\r\n\r\n",
        "HTTP/1.1 200 OK\r\nSec-WebSocket-Accept: %s\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(resp, sizeof resp, bad[i], acc);
        if (mf_ws_parse_response(resp, strlen(resp), key, &hl, why, sizeof why) != -1)
            fail_msg("case %zu accepted", i);
        assert_true(why[0] != '\0');
    }
    /* a head that never ends */
    char *lng = malloc(MF_WS_HTTP_HEAD_MAX + 1);
    memset(lng, 'x', MF_WS_HTTP_HEAD_MAX + 1);
    assert_int_equal(mf_ws_parse_response(lng, MF_WS_HTTP_HEAD_MAX + 1, key, &hl, why, sizeof why), -1);
    free(lng);
    /* a key the accept value cannot be made for */
    snprintf(resp, sizeof resp, "HTTP/1.1 101 OK\r\n\r\n");
    assert_int_equal(mf_ws_parse_response(resp, strlen(resp), NULL, &hl, why, sizeof why), -1);
}

/* mf_ws_mask against RFC 6455 5.3's rule (byte i ^= key[(offset + i) % 4]) for every length
 * up to 100 (the 32-, 8- and 1-byte steps and their joins), every key phase and unaligned data. */
static void test_mask_rule(void **state)
{
    (void)state;
    unsigned char buf[128], want[128];
    for (size_t off = 0; off < 4; off++)
        for (size_t start = 0; start < 3; start++)
            for (size_t n = 0; n <= 100; n++) {
                for (size_t i = 0; i < n; i++)
                    buf[start + i] = want[i] = (unsigned char)(i * 7 + n + off);
                for (size_t i = 0; i < n; i++)
                    want[i] ^= KEY[(off + i) & 3];
                mf_ws_mask(buf + start, n, KEY, off);
                if (n)
                    assert_memory_equal(buf + start, want, n);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_any_split), cmocka_unit_test(test_masking_rules),
        cmocka_unit_test(test_mask_rule),
        cmocka_unit_test(test_header_rules),        cmocka_unit_test(test_too_big_at_header),
        cmocka_unit_test(test_close_rules),         cmocka_unit_test(test_text_utf8),
        cmocka_unit_test(test_utf8_stream),         cmocka_unit_test(test_close_body),
        cmocka_unit_test(test_request),             cmocka_unit_test(test_response),
        cmocka_unit_test(test_request_heads_strictly), cmocka_unit_test(test_response_heads_strictly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
