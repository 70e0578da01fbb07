/*
 * test_proto.c - the incremental NATS protocol parser, writers, subjects and
 * the CONNECT/INFO records (runtime/nats/proto.c, proto_json.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mf/proto.h"

/* ---- helpers ---- */

/* A canonical one-line rendering of an op, so streams compare as strings. */
static void render(const mf_proto_op *op, mf_buf *out)
{
    mf_buf_printf(out, "%s", mf_proto_kind_str(op->kind));
#define F(name)                                                                       \
    if (op->name.ptr) {                                                               \
        assert_int_equal(strlen(op->name.ptr), op->name.len); /* NUL-terminated */    \
        mf_buf_printf(out, " " #name "=%.*s", (int)op->name.len, op->name.ptr);       \
    }
    F(subject)
    F(sid)
    F(reply)
    F(queue)
    F(json)
#undef F
    if (op->kind == MF_OP_ERR)
        mf_buf_printf(out, " text=%.*s", (int)op->text.len, op->text.ptr);
    if (op->has_max_msgs)
        mf_buf_printf(out, " max=%llu", (unsigned long long)op->max_msgs);
    if (op->kind == MF_OP_HPUB || op->kind == MF_OP_HMSG)
        mf_buf_printf(out, " hdr=[%.*s]", (int)op->hdr_len, op->hdr);
    if (op->kind == MF_OP_PUB || op->kind == MF_OP_HPUB || op->kind == MF_OP_MSG || op->kind == MF_OP_HMSG) {
        assert_int_equal(op->total_len, op->hdr_len + op->payload.len);
        assert_int_equal(op->payload.ptr[op->payload.len], '\0');
        mf_buf_printf(out, " data=[%.*s]", (int)op->payload.len, op->payload.ptr);
    }
    mf_buf_append_char(out, '\n');
}

/* Feeds `in` in chunks of the given sizes (cycled), renders every op; returns the last next() result. */
static int parse_chunks(mf_proto_side side, const char *in, size_t n, const size_t *chunks, size_t nchunks,
                        mf_buf *out, mf_error *err)
{
    mf_proto_parser p;
    mf_proto_parser_init(&p, side, 0, 0);
    size_t off = 0, ci = 0;
    int r = 0;
    while (off < n) {
        size_t c = chunks[ci++ % nchunks];
        if (c > n - off)
            c = n - off;
        assert_int_equal(mf_proto_feed(&p, in + off, c), MF_OK);
        off += c;
        mf_proto_op op;
        while ((r = mf_proto_next(&p, &op, err)) == 1)
            render(&op, out);
        if (r < 0)
            break;
    }
    if (r == 0)
        assert_int_equal(mf_proto_buffered(&p), 0);
    mf_proto_parser_free(&p);
    return r;
}

static char *parse_all(mf_proto_side side, const char *in, size_t n, int *rc, mf_error *err)
{
    mf_buf out = MF_BUF_INIT;
    size_t whole = n ? n : 1;
    *rc = parse_chunks(side, in, n, &whole, 1, &out, err);
    mf_buf_append(&out, "", 0);
    return mf_buf_detach(&out, NULL);
}

/* Expects `in` to fail with `why`; the error message must mention `needle`. */
static void expect_fail(mf_proto_side side, const char *in, mf_proto_error why, mf_status code, const char *needle)
{
    mf_proto_parser p;
    mf_proto_parser_init(&p, side, 0, 0);
    assert_int_equal(mf_proto_feed(&p, in, strlen(in)), MF_OK);
    mf_proto_op op;
    mf_error err;
    mf_error_clear(&err);
    int r;
    while ((r = mf_proto_next(&p, &op, &err)) == 1) {
    }
    if (r != -1)
        fail_msg("expected a protocol error for %s", in);
    assert_int_equal(p.error, why);
    assert_int_equal(err.code, code);
    if (needle && !strstr(err.message, needle))
        fail_msg("error '%s' does not mention '%s'", err.message, needle);
    /* sticky */
    assert_int_equal(mf_proto_next(&p, &op, &err), -1);
    assert_int_equal(mf_proto_next(&p, &op, NULL), -1);
    mf_proto_parser_reset(&p);
    assert_int_equal(mf_proto_feed(&p, "PING\r\n", 6), MF_OK);
    assert_int_equal(mf_proto_next(&p, &op, &err), 1);
    assert_int_equal(op.kind, MF_OP_PING);
    mf_proto_parser_free(&p);
}

/* ---- server side ops ---- */

static const char SERVER_STREAM[] =
    "CONNECT {\"verbose\":false,\"pedantic\":true}\r\n"
    "PUB foo 5\r\nhello\r\n"
    "PUB foo.bar _INBOX.x.1 3\r\nabc\r\n"
    "pub  lower\t\t0\r\n\r\n"
    "HPUB h.s 12 17\r\nNATS/1.0\r\n\r\nhello\r\n"
    "HPUB h.s rep 12 12\r\nNATS/1.0\r\n\r\n\r\n"
    "SUB foo.* 1\r\n"
    "SUB foo.> workers 22\r\n"
    "UNSUB 1\r\n"
    "UNSUB 22 5\r\n"
    "PING\r\n"
    "PONG\r\n"
    "PuB x 2\r\n\r\n\r\n"
    "PING x\r\n" /* trailing junk after PING is ignored, like nats-server */
    "ping\n"; /* bare LF accepted on control lines, like nats-server */

static const char SERVER_EXPECT[] =
    "CONNECT json={\"verbose\":false,\"pedantic\":true}\n"
    "PUB subject=foo data=[hello]\n"
    "PUB subject=foo.bar reply=_INBOX.x.1 data=[abc]\n"
    "PUB subject=lower data=[]\n"
    "HPUB subject=h.s hdr=[NATS/1.0\r\n\r\n] data=[hello]\n"
    "HPUB subject=h.s reply=rep hdr=[NATS/1.0\r\n\r\n] data=[]\n"
    "SUB subject=foo.* sid=1\n"
    "SUB subject=foo.> sid=22 queue=workers\n"
    "UNSUB sid=1\n"
    "UNSUB sid=22 max=5\n"
    "PING\n"
    "PONG\n"
    "PUB subject=x data=[\r\n]\n"
    "PING\n"
    "PING\n";

static void test_server_ops(void **state)
{
    (void)state;
    int rc;
    mf_error err;
    char *got = parse_all(MF_PROTO_SERVER_SIDE, SERVER_STREAM, strlen(SERVER_STREAM), &rc, &err);
    assert_int_equal(rc, 0);
    assert_string_equal(got, SERVER_EXPECT);
    free(got);
}

static const char CLIENT_STREAM[] =
    "INFO {\"server_id\":\"X\",\"max_payload\":1048576}\r\n"
    "MSG foo 1 5\r\nhello\r\n"
    "MSG foo.bar 22 _INBOX.a.1 3\r\nabc\r\n"
    "HMSG _INBOX.a.1 9 16 16\r\nNATS/1.0 503\r\n\r\n\r\n"
    "HMSG s 9 r 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
    "+OK\r\n"
    "-ERR 'Unknown Protocol Operation'\r\n"
    "-ERR   'Authorization Violation'  \r\n"
    "PING\r\nPONG\r\n"
    "msg lower 3 0\r\n\r\n";

static const char CLIENT_EXPECT[] =
    "INFO json={\"server_id\":\"X\",\"max_payload\":1048576}\n"
    "MSG subject=foo sid=1 data=[hello]\n"
    "MSG subject=foo.bar sid=22 reply=_INBOX.a.1 data=[abc]\n"
    "HMSG subject=_INBOX.a.1 sid=9 hdr=[NATS/1.0 503\r\n\r\n] data=[]\n"
    "HMSG subject=s sid=9 reply=r hdr=[NATS/1.0\r\n\r\n] data=[hi]\n"
    "+OK\n"
    "-ERR text=Unknown Protocol Operation\n"
    "-ERR text=Authorization Violation\n"
    "PING\nPONG\n"
    "MSG subject=lower sid=3 data=[]\n";

static void test_client_ops(void **state)
{
    (void)state;
    int rc;
    mf_error err;
    char *got = parse_all(MF_PROTO_CLIENT_SIDE, CLIENT_STREAM, strlen(CLIENT_STREAM), &rc, &err);
    assert_int_equal(rc, 0);
    assert_string_equal(got, CLIENT_EXPECT);
    free(got);
}

/* Every split point, both sides; then one byte at a time and odd chunk sizes. */
static void split_everywhere(mf_proto_side side, const char *stream, const char *expect)
{
    size_t n = strlen(stream);
    for (size_t k = 0; k <= n; k++) {
        mf_proto_parser p;
        mf_proto_parser_init(&p, side, 0, 0);
        mf_buf out = MF_BUF_INIT;
        mf_proto_op op;
        mf_error err;
        int r;
        assert_int_equal(mf_proto_feed(&p, stream, k), MF_OK);
        while ((r = mf_proto_next(&p, &op, &err)) == 1)
            render(&op, &out);
        assert_int_equal(r, 0);
        assert_int_equal(mf_proto_feed(&p, stream + k, n - k), MF_OK);
        while ((r = mf_proto_next(&p, &op, &err)) == 1)
            render(&op, &out);
        assert_int_equal(r, 0);
        assert_int_equal(mf_proto_buffered(&p), 0);
        mf_buf_append(&out, "", 0);
        assert_string_equal(out.data, expect);
        mf_buf_free(&out);
        mf_proto_parser_free(&p);
    }
    static const size_t sizes[][4] = {{1, 1, 1, 1}, {2, 3, 5, 7}, {13, 1, 64, 2}, {4096, 4096, 4096, 4096}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        mf_buf out = MF_BUF_INIT;
        mf_error err;
        assert_int_equal(parse_chunks(side, stream, n, sizes[s], 4, &out, &err), 0);
        mf_buf_append(&out, "", 0);
        assert_string_equal(out.data, expect);
        mf_buf_free(&out);
    }
}

static void test_split_server(void **state)
{
    (void)state;
    split_everywhere(MF_PROTO_SERVER_SIDE, SERVER_STREAM, SERVER_EXPECT);
}

static void test_split_client(void **state)
{
    (void)state;
    split_everywhere(MF_PROTO_CLIENT_SIDE, CLIENT_STREAM, CLIENT_EXPECT);
}

/* Ops returned before their payload completes are impossible; pointers stay valid across compaction. */
static void test_large_payload_in_pieces(void **state)
{
    (void)state;
    const size_t big = 1024 * 1024;
    mf_buf in = MF_BUF_INIT;
    mf_buf_printf(&in, "MSG big 1 %zu\r\n", big);
    for (size_t i = 0; i < big; i++)
        mf_buf_append_char(&in, (char)('a' + i % 26));
    mf_buf_append(&in, "\r\nPING\r\n", 8);
    mf_proto_parser p;
    mf_proto_parser_init(&p, MF_PROTO_CLIENT_SIDE, 0, big);
    mf_proto_op op;
    mf_error err;
    size_t off = 0;
    int got = 0;
    while (off < in.len) {
        size_t c = in.len - off < 1000 ? in.len - off : 1000;
        assert_int_equal(mf_proto_feed(&p, in.data + off, c), MF_OK);
        off += c;
        int r;
        while ((r = mf_proto_next(&p, &op, &err)) == 1) {
            if (got == 0) {
                assert_int_equal(op.kind, MF_OP_MSG);
                assert_int_equal(op.payload.len, big);
                assert_string_equal(op.subject.ptr, "big");
                for (size_t i = 0; i < big; i += 4099)
                    assert_int_equal(op.payload.ptr[i], 'a' + i % 26);
            } else {
                assert_int_equal(op.kind, MF_OP_PING);
            }
            got++;
        }
        assert_int_equal(r, 0);
    }
    assert_int_equal(got, 2);
    mf_proto_parser_free(&p);
    mf_buf_free(&in);
}

/* 200k small ops in 1500-byte chunks: linear work (a quadratic parser would take minutes). */
static void test_many_ops_stream(void **state)
{
    (void)state;
    mf_buf in = MF_BUF_INIT;
    const int N = 200000;
    for (int i = 0; i < N; i++)
        mf_proto_write_msg(&in, "orders.created", 14, "7", 1, NULL, 0, "{\"id\":12345678}", 15);
    mf_proto_parser p;
    mf_proto_parser_init(&p, MF_PROTO_CLIENT_SIDE, 0, 0);
    mf_proto_op op;
    mf_error err;
    int got = 0;
    for (size_t off = 0; off < in.len;) {
        size_t c = in.len - off < 1500 ? in.len - off : 1500;
        assert_int_equal(mf_proto_feed(&p, in.data + off, c), MF_OK);
        off += c;
        while (mf_proto_next(&p, &op, &err) == 1) {
            got++;
            assert_int_equal(op.payload.len, 15);
        }
        assert_true(p.cap <= 8192); /* compaction keeps the buffer small */
    }
    assert_int_equal(got, N);
    assert_int_equal(p.ops, (uint64_t)N);
    mf_proto_parser_free(&p);
    mf_buf_free(&in);
}


/* ---- property: chunking never changes the result ---- */

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state;
}

/* Parses `in` fed in the given way; renders ops and the final status into out. */
static void parse_rendered(mf_proto_side side, const char *in, size_t n, bool random_chunks, mf_buf *out)
{
    mf_proto_parser p;
    mf_proto_parser_init(&p, side, 64, 512);
    size_t off = 0;
    int r = 0;
    mf_error err;
    while (off < n && r >= 0) {
        size_t c = random_chunks ? 1 + rnd() % 40 : n;
        if (c > n - off)
            c = n - off;
        assert_int_equal(mf_proto_feed(&p, in + off, c), MF_OK);
        off += c;
        mf_proto_op op;
        while ((r = mf_proto_next(&p, &op, &err)) == 1)
            render(&op, out);
    }
    mf_buf_printf(out, "END %d %d\n", r, r < 0 ? (int)p.error : 0);
    mf_proto_parser_free(&p);
}

static void test_random_streams(void **state)
{
    (void)state;
    static const char *const pieces_s[] = {
        "PUB a.b 3\r\nxyz\r\n", "SUB a.* q 1\r\n", "UNSUB 1 5\r\n", "PING\r\n", "pong\r\n",
        "HPUB h 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", "CONNECT {\"a\":1}\r\n", "PUB x 0\r\n\r\n", "sub  b\t2\r\n",
    };
    static const char *const pieces_c[] = {
        "MSG a.b 1 3\r\nxyz\r\n", "HMSG a 1 r 12 12\r\nNATS/1.0\r\n\r\n\r\n", "+OK\r\n", "-ERR 'x y'\r\n",
        "INFO {}\r\n", "PING\r\n", "MSG s 2 0\r\n\r\n",
    };
    static const char *const junk[] = {
        "PUB a 99999\r\n", "FOO\r\n", "PUB a 2\r\nabc\r\n", "SUB\r\n", "\r\n", "PUB a b c d e f g\r\n",
        "SUB aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1\r\n", "HPUB a 3 2\r\n",
        "\x01\x02\xff", "PUB a 1\r\nx\n",
    };
    for (int iter = 0; iter < 3000; iter++) {
        mf_proto_side side = (iter & 1) ? MF_PROTO_CLIENT_SIDE : MF_PROTO_SERVER_SIDE;
        const char *const *pc = side == MF_PROTO_SERVER_SIDE ? pieces_s : pieces_c;
        size_t npc = side == MF_PROTO_SERVER_SIDE ? sizeof pieces_s / sizeof *pieces_s
                                                  : sizeof pieces_c / sizeof *pieces_c;
        mf_buf in = MF_BUF_INIT;
        int n = 1 + (int)(rnd() % 30);
        for (int i = 0; i < n; i++) {
            if (rnd() % 25 == 0)
                mf_buf_append_str(&in, junk[rnd() % (sizeof junk / sizeof *junk)]);
            else
                mf_buf_append_str(&in, pc[rnd() % npc]);
        }
        mf_buf a = MF_BUF_INIT, b = MF_BUF_INIT;
        parse_rendered(side, in.data, in.len, false, &a);
        parse_rendered(side, in.data, in.len, true, &b);
        mf_buf_append(&a, "", 0);
        mf_buf_append(&b, "", 0);
        /* a line-too-long error may be found earlier with small chunks, but after the same ops */
        if (strcmp(a.data, b.data) != 0) {
            const char *ea = strstr(a.data, "END"), *eb = strstr(b.data, "END");
            if (!(ea - a.data == eb - b.data && memcmp(a.data, b.data, (size_t)(ea - a.data)) == 0 &&
                  strstr(ea, "END -1") && strstr(eb, "END -1")))
                fail_msg("chunking changed the result for input #%d:\n%s\n--- vs ---\n%s", iter, a.data, b.data);
        }
        mf_buf_free(&a);
        mf_buf_free(&b);
        mf_buf_free(&in);
    }
}

/* ---- malformed input ---- */

static void test_malformed(void **state)
{
    (void)state;
    const mf_proto_side S = MF_PROTO_SERVER_SIDE, C = MF_PROTO_CLIENT_SIDE;
    expect_fail(S, "FOO bar\r\n", MF_PROTO_E_UNKNOWN_OP, MF_ERR_PROTOCOL, "FOO");
    expect_fail(S, "\r\n", MF_PROTO_E_UNKNOWN_OP, MF_ERR_PROTOCOL, "unknown");
    expect_fail(S, "MSG foo 1 2\r\nhi\r\n", MF_PROTO_E_UNKNOWN_OP, MF_ERR_PROTOCOL, "MSG");
    expect_fail(S, "INFO {}\r\n", MF_PROTO_E_UNKNOWN_OP, MF_ERR_PROTOCOL, "INFO");
    expect_fail(S, "+OK\r\n", MF_PROTO_E_UNKNOWN_OP, MF_ERR_PROTOCOL, NULL);
    expect_fail(C, "PUB foo 2\r\nhi\r\n", MF_PROTO_E_UNKNOWN_OP, MF_ERR_PROTOCOL, "PUB");
    expect_fail(C, "CONNECT {}\r\n", MF_PROTO_E_UNKNOWN_OP, MF_ERR_PROTOCOL, "CONNECT");
    expect_fail(S, "PUBX foo 1\r\n", MF_PROTO_E_UNKNOWN_OP, MF_ERR_PROTOCOL, "PUBX");
    expect_fail(S, "PU\r\n", MF_PROTO_E_UNKNOWN_OP, MF_ERR_PROTOCOL, NULL);
    /* argument counts */
    expect_fail(S, "PUB\r\n", MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "arguments");
    expect_fail(S, "PUB foo\r\n", MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "arguments");
    expect_fail(S, "PUB a b c 3\r\n", MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "arguments");
    expect_fail(S, "HPUB foo 3\r\n", MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "arguments");
    expect_fail(S, "HPUB a b c d e\r\n", MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "arguments");
    expect_fail(S, "SUB foo\r\n", MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "arguments");
    expect_fail(S, "SUB a b c d\r\n", MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "arguments");
    expect_fail(S, "UNSUB\r\n", MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "arguments");
    expect_fail(S, "UNSUB 1 2 3\r\n", MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "arguments");
    expect_fail(S, "SUB a b c d e f g h\r\n", MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "too many");
    expect_fail(S, "PINGX\r\n", MF_PROTO_E_UNKNOWN_OP, MF_ERR_PROTOCOL, "PINGX");
    expect_fail(S, "CONNECT\r\n", MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "JSON");
    expect_fail(S, "CONNECT   \r\n", MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "JSON");
    expect_fail(C, "MSG foo 1\r\n", MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "arguments");
    expect_fail(C, "HMSG foo 1 2\r\n", MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "arguments");
    expect_fail(C, "INFO\r\n", MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "JSON");
    /* sizes */
    expect_fail(S, "PUB foo abc\r\n", MF_PROTO_E_SIZE, MF_ERR_PROTOCOL, "size 'abc'");
    expect_fail(S, "PUB foo -1\r\n", MF_PROTO_E_SIZE, MF_ERR_PROTOCOL, "size");
    expect_fail(S, "PUB foo 1x\r\n", MF_PROTO_E_SIZE, MF_ERR_PROTOCOL, "size");
    expect_fail(S, "PUB foo 99999999999999999999999\r\n", MF_PROTO_E_SIZE, MF_ERR_PROTOCOL, "size");
    expect_fail(S, "HPUB foo x 3\r\n", MF_PROTO_E_SIZE, MF_ERR_PROTOCOL, "size");
    expect_fail(S, "HPUB foo 5 3\r\n", MF_PROTO_E_SIZE, MF_ERR_PROTOCOL, "larger than total");
    expect_fail(S, "UNSUB 1 many\r\n", MF_PROTO_E_SIZE, MF_ERR_PROTOCOL, "max_msgs");
    expect_fail(C, "MSG foo 1 x\r\n", MF_PROTO_E_SIZE, MF_ERR_PROTOCOL, "size");
    /* payload */
    expect_fail(S, "PUB foo 1048577\r\n", MF_PROTO_E_PAYLOAD_TOO_BIG, MF_ERR_PAYLOAD_TOO_BIG, "exceeds");
    expect_fail(S, "HPUB foo 12 1048577\r\n", MF_PROTO_E_PAYLOAD_TOO_BIG, MF_ERR_PAYLOAD_TOO_BIG, "exceeds");
    expect_fail(S, "PUB foo 18446744073709551615\r\n", MF_PROTO_E_PAYLOAD_TOO_BIG, MF_ERR_PAYLOAD_TOO_BIG, NULL);
    expect_fail(S, "PUB foo 2\r\nhello\r\n", MF_PROTO_E_MISSING_CRLF, MF_ERR_PROTOCOL, "CRLF");
    expect_fail(S, "PUB foo 2\r\nhi\rX", MF_PROTO_E_MISSING_CRLF, MF_ERR_PROTOCOL, "CRLF");
    expect_fail(S, "PUB foo 2\r\nhi\n", MF_PROTO_E_MISSING_CRLF, MF_ERR_PROTOCOL, "CRLF");
    expect_fail(C, "MSG foo 1 2\r\nhiX", MF_PROTO_E_MISSING_CRLF, MF_ERR_PROTOCOL, "CRLF");
    /* lines */
    expect_fail(S, "PUB fo\ro 1\r\n", MF_PROTO_E_BAD_LINE, MF_ERR_PROTOCOL, "bad control line");
    {
        mf_buf b = MF_BUF_INIT;
        mf_buf_append_str(&b, "SUB ");
        for (int i = 0; i < 5000; i++)
            mf_buf_append_char(&b, 'a');
        /* no line end at all: detected as soon as the limit is passed */
        expect_fail(S, b.data, MF_PROTO_E_LINE_TOO_LONG, MF_ERR_LIMIT, "longer than 4096");
        mf_buf_append_str(&b, " 1\r\n");
        expect_fail(S, b.data, MF_PROTO_E_LINE_TOO_LONG, MF_ERR_LIMIT, "longer than 4096");
        mf_buf_free(&b);
    }
}

/* Exactly max_control bytes is fine, one more is not. */
static void test_line_limit_edges(void **state)
{
    (void)state;
    mf_proto_parser p;
    mf_proto_parser_init(&p, MF_PROTO_SERVER_SIDE, 16, 8);
    mf_proto_op op;
    mf_error err;
    const char *ok = "SUB abcdefghij 1\r\n"; /* 16 bytes before CRLF */
    assert_int_equal(mf_proto_feed(&p, ok, strlen(ok)), MF_OK);
    assert_int_equal(mf_proto_next(&p, &op, &err), 1);
    assert_int_equal(op.kind, MF_OP_SUB);
    /* 17 bytes, fed without its LF: the CR may still come, then fails on the next byte */
    const char *bad = "SUB abcdefghijk 1\r";
    assert_int_equal(mf_proto_feed(&p, bad, strlen(bad)), MF_OK);
    assert_int_equal(mf_proto_next(&p, &op, &err), -1);
    assert_int_equal(p.error, MF_PROTO_E_LINE_TOO_LONG);
    mf_proto_parser_reset(&p);
    /* max_payload 8 */
    assert_int_equal(mf_proto_feed(&p, "PUB a 8\r\n12345678\r\nPUB a 9\r\n", 28), MF_OK);
    assert_int_equal(mf_proto_next(&p, &op, &err), 1);
    assert_int_equal(op.payload.len, 8);
    assert_int_equal(mf_proto_next(&p, &op, &err), -1);
    assert_int_equal(err.code, MF_ERR_PAYLOAD_TOO_BIG);
    /* max_payload can be raised (a client after INFO) */
    mf_proto_parser_reset(&p);
    p.max_payload = 9;
    assert_int_equal(mf_proto_feed(&p, "PUB a 9\r\n123456789\r\n", 20), MF_OK);
    assert_int_equal(mf_proto_next(&p, &op, &err), 1);
    mf_proto_parser_free(&p);
}

static void test_feed_args(void **state)
{
    (void)state;
    mf_proto_parser p;
    mf_proto_parser_init(&p, MF_PROTO_SERVER_SIDE, 0, 0);
    assert_int_equal(p.max_control, MF_PROTO_DEFAULT_MAX_CONTROL);
    assert_int_equal(p.max_payload, MF_PROTO_DEFAULT_MAX_PAYLOAD);
    assert_int_equal(mf_proto_feed(&p, NULL, 0), MF_OK);
    assert_int_equal(mf_proto_feed(&p, NULL, 3), MF_ERR_INVALID_ARG);
    mf_proto_op op;
    assert_int_equal(mf_proto_next(&p, &op, NULL), 0);
    mf_proto_parser_free(&p);
    mf_proto_parser_free(&p); /* twice is fine */
}

/* ---- writers round trip through the parser ---- */

static void test_writers_roundtrip(void **state)
{
    (void)state;
    mf_buf b = MF_BUF_INIT;
    mf_proto_connect c;
    mf_proto_connect_init(&c);
    c.verbose = true;
    c.headers = true;
    c.no_responders = true;
    strcpy(c.name, "svc \"one\"\n");
    strcpy(c.lang, "C");
    strcpy(c.auth_token, "s3cr\\et");
    assert_int_equal(mf_proto_write_connect(&b, &c), MF_OK);
    assert_int_equal(mf_proto_write_pub(&b, "a.b", NULL, "hi", 2), MF_OK);
    assert_int_equal(mf_proto_write_pub(&b, "a.b", "_INBOX.z.1", "", 0), MF_OK);
    assert_int_equal(mf_proto_write_hpub(&b, "a.c", "r", "NATS/1.0\r\nA: b\r\n\r\n", 18, "xyz", 3), MF_OK);
    assert_int_equal(mf_proto_write_sub(&b, "a.*", NULL, 1), MF_OK);
    assert_int_equal(mf_proto_write_sub(&b, "a.>", "", 2), MF_OK);
    assert_int_equal(mf_proto_write_sub(&b, "a.>", "q1", 18446744073709551615ULL), MF_OK);
    assert_int_equal(mf_proto_write_unsub(&b, 1, 0), MF_OK);
    assert_int_equal(mf_proto_write_unsub(&b, 2, 10), MF_OK);
    assert_int_equal(mf_proto_write_ping(&b), MF_OK);
    assert_int_equal(mf_proto_write_pong(&b), MF_OK);
    int rc;
    mf_error err;
    char *got = parse_all(MF_PROTO_SERVER_SIDE, b.data, b.len, &rc, &err);
    assert_int_equal(rc, 0);
    assert_string_equal(got,
                        "CONNECT json={\"verbose\":true,\"pedantic\":false,\"name\":\"svc \\\"one\\\"\\n\","
                        "\"lang\":\"C\",\"auth_token\":\"s3cr\\\\et\",\"protocol\":1,\"echo\":true,"
                        "\"headers\":true,\"no_responders\":true}\n"
                        "PUB subject=a.b data=[hi]\n"
                        "PUB subject=a.b reply=_INBOX.z.1 data=[]\n"
                        "HPUB subject=a.c reply=r hdr=[NATS/1.0\r\nA: b\r\n\r\n] data=[xyz]\n"
                        "SUB subject=a.* sid=1\n"
                        "SUB subject=a.> sid=2\n"
                        "SUB subject=a.> sid=18446744073709551615 queue=q1\n"
                        "UNSUB sid=1\n"
                        "UNSUB sid=2 max=10\n"
                        "PING\nPONG\n");
    /* the CONNECT we wrote parses back to the same record */
    mf_proto_parser p;
    mf_proto_parser_init(&p, MF_PROTO_SERVER_SIDE, 0, 0);
    mf_proto_feed(&p, b.data, b.len);
    mf_proto_op op;
    assert_int_equal(mf_proto_next(&p, &op, &err), 1);
    mf_proto_connect c2;
    assert_int_equal(mf_proto_parse_connect(op.json.ptr, op.json.len, &c2, &err), MF_OK);
    assert_true(c2.verbose && c2.headers && c2.no_responders && c2.echo && !c2.pedantic);
    assert_string_equal(c2.name, "svc \"one\"\n");
    assert_string_equal(c2.auth_token, "s3cr\\et");
    assert_true(c2.has_auth_token);
    assert_int_equal(c2.protocol, 1);
    mf_proto_parser_free(&p);
    free(got);

    mf_buf_reset(&b);
    assert_int_equal(mf_proto_write_info(&b, "{\"server_id\":\"S\"}"), MF_OK);
    assert_int_equal(mf_proto_write_msg(&b, "a.b", 3, "17", 2, NULL, 0, "hello", 5), MF_OK);
    assert_int_equal(mf_proto_write_msg(&b, "a.b", 3, "17", 2, "rep", 3, "", 0), MF_OK);
    assert_int_equal(mf_proto_write_hmsg(&b, "_INBOX.a.1", 10, "3", 1, NULL, 0, "NATS/1.0 503\r\n\r\n", 16, NULL, 0),
                     MF_OK);
    assert_int_equal(mf_proto_write_ok(&b), MF_OK);
    assert_int_equal(mf_proto_write_err(&b, "Slow Consumer"), MF_OK);
    got = parse_all(MF_PROTO_CLIENT_SIDE, b.data, b.len, &rc, &err);
    assert_int_equal(rc, 0);
    assert_string_equal(got, "INFO json={\"server_id\":\"S\"}\n"
                             "MSG subject=a.b sid=17 data=[hello]\n"
                             "MSG subject=a.b sid=17 reply=rep data=[]\n"
                             "HMSG subject=_INBOX.a.1 sid=3 hdr=[NATS/1.0 503\r\n\r\n] data=[]\n"
                             "+OK\n"
                             "-ERR text=Slow Consumer\n");
    free(got);
    /* exact bytes of the no-responders message nats-server sends */
    mf_buf_reset(&b);
    mf_proto_write_hmsg(&b, "_INBOX.a.1", 10, "3", 1, "", 0, "NATS/1.0 503\r\n\r\n", 16, NULL, 0);
    assert_string_equal(b.data, "HMSG _INBOX.a.1 3 16 16\r\nNATS/1.0 503\r\n\r\n\r\n");
    /* bad arguments */
    assert_int_equal(mf_proto_write_pub(&b, "", NULL, "x", 1), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_proto_write_pub(&b, NULL, NULL, "x", 1), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_proto_write_pub(&b, "a", NULL, NULL, 1), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_proto_write_err(&b, "two\nlines"), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_proto_write_info(&b, ""), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_proto_write_msg(&b, "a", 1, "", 0, NULL, 0, "x", 1), MF_ERR_INVALID_ARG);
    /* a limit on the buffer is honoured, and nothing partial is left behind */
    mf_buf lim = MF_BUF_INIT;
    lim.limit = 10;
    assert_int_equal(mf_proto_write_pub(&lim, "abc", NULL, "0123456789", 10), MF_ERR_LIMIT);
    assert_int_equal(lim.len, 0);
    mf_buf_free(&lim);
    mf_buf_free(&b);
}

/* ---- subjects ---- */

static void test_subject_valid(void **state)
{
    (void)state;
    struct {
        const char *s;
        bool literal, wild;
    } t[] = {
        {"foo", true, true},        {"foo.bar", true, true},   {"foo.*", false, true},  {"foo.>", false, true},
        {"*", false, true},         {">", false, true},        {"foo.>.bar", false, false}, {"foo..bar", false, false},
        {".foo", false, false},     {"foo.", false, false},    {"", false, false},      {"fo o", false, false},
        {"fo\to", false, false},   {"a\fb", false, false},    {"foo\r", false, false},   {"a*.b", true, true},    {"a.b>", true, true},
        {"*.*.>", false, true},     {"_INBOX.abc.1", true, true}, {"foo.**", true, true}, {"..", false, false},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t n = strlen(t[i].s);
        if (mf_subject_valid(t[i].s, n, false) != t[i].literal)
            fail_msg("literal %s", t[i].s);
        if (mf_subject_valid(t[i].s, n, true) != t[i].wild)
            fail_msg("wildcard %s", t[i].s);
    }
    assert_false(mf_subject_valid("a\0b", 3, true));
    assert_false(mf_subject_valid(NULL, 0, true));
}

/* The rule written out byte by byte (the table-driven mf_subject_valid must agree). */
static bool subject_valid_ref(const char *s, size_t len, bool wild)
{
    if (!s || len == 0)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            size_t tl = i - start;
            if (tl == 0)
                return false;
            if (tl == 1 && s[start] == '*' && !wild)
                return false;
            if (tl == 1 && s[start] == '>' && (!wild || i != len))
                return false;
            start = i + 1;
            continue;
        }
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\0')
            return false;
    }
    return true;
}

/* Random short strings over an alphabet of every byte class: both answers agree. */
static void test_subject_valid_random(void **state)
{
    (void)state;
    static const char alpha[] = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', '.', '.', '*', '>', ' ', '\t', '\r',
                                 '\n', '\f', '\0', '\x01', '\x1f', '!', '-', '/', '\x80', '\xff', 'z'};
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    char s[40];
    for (int n = 0; n < 200000; n++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t len = (size_t)(x % sizeof s);
        uint64_t y = x;
        size_t rare = 1 + (size_t)((x >> 40) % 30); /* about one byte in `rare` is not a letter */
        for (size_t i = 0; i < len; i++) {
            y = y * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t k = (size_t)(y >> 33);
            s[i] = k % rare ? alpha[(k >> 8) % 8] : alpha[(k >> 8) % sizeof alpha];
        }
        for (int w = 0; w < 2; w++)
            if (mf_subject_valid(s, len, w) != subject_valid_ref(s, len, w))
                fail_msg("subject of %zu bytes (wildcards %d): %d", len, w, (int)mf_subject_valid(s, len, w));
    }
}

/* PUB lines with runs of blanks of every length around arguments of every length: the
 * arguments come back whole (the word-at-a-time blank search against its byte loop). */
static void test_split_blanks(void **state)
{
    (void)state;
    static const char blanks[] = {' ', '\t'};
    char subj[40], reply[40], line[256];
    mf_proto_parser p;
    mf_proto_parser_init(&p, MF_PROTO_SERVER_SIDE, 0, 0);
    uint64_t x = 12345;
    for (int n = 0; n < 20000; n++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t sl = 1 + (size_t)(x % 30), rl = 1 + (size_t)((x >> 8) % 30);
        for (size_t i = 0; i < sl; i++)
            subj[i] = (char)('a' + (x >> (i % 50)) % 26);
        for (size_t i = 0; i < rl; i++)
            reply[i] = (char)('A' + (x >> (i % 40)) % 26);
        subj[sl] = reply[rl] = '\0';
        size_t b1 = 1 + (size_t)((x >> 16) % 11), b2 = 1 + (size_t)((x >> 20) % 11), b3 = 1 + (size_t)((x >> 24) % 11);
        size_t o = 0;
        o += (size_t)sprintf(line + o, "PUB");
        for (size_t i = 0; i < b1; i++)
            line[o++] = blanks[(x >> (30 + i)) & 1];
        o += (size_t)sprintf(line + o, "%s", subj);
        for (size_t i = 0; i < b2; i++)
            line[o++] = blanks[(x >> (40 + i)) & 1];
        o += (size_t)sprintf(line + o, "%s", reply);
        for (size_t i = 0; i < b3; i++)
            line[o++] = blanks[(x >> (50 + i)) & 1];
        o += (size_t)sprintf(line + o, "2\r\nhi\r\n");
        assert_int_equal(mf_proto_feed(&p, line, o), MF_OK);
        mf_proto_op op;
        mf_error err;
        assert_int_equal(mf_proto_next(&p, &op, &err), 1);
        assert_int_equal(op.subject.len, sl);
        assert_memory_equal(op.subject.ptr, subj, sl);
        assert_int_equal(op.reply.len, rl);
        assert_memory_equal(op.reply.ptr, reply, rl);
        assert_int_equal(op.payload.len, 2);
    }
    mf_proto_parser_free(&p);
}

static void test_subject_matches(void **state)
{
    (void)state;
    struct {
        const char *p, *s;
        bool m;
    } t[] = {
        {"foo", "foo", true},          {"foo", "bar", false},        {"foo", "foo.bar", false},
        {"foo.bar", "foo", false},     {"foo.*", "foo.bar", true},   {"foo.*", "foo", false},
        {"foo.*", "foo.bar.baz", false}, {"foo.>", "foo.bar", true}, {"foo.>", "foo.bar.baz", true},
        {"foo.>", "foo", false},       {">", "a", true},             {">", "a.b.c", true},
        {"*", "a", true},              {"*", "a.b", false},          {"*.b.*", "a.b.c", true},
        {"*.b.*", "a.c.c", false},     {"_INBOX.x.*", "_INBOX.x.12", true}, {"a.*.>", "a.b", false},
        {"a.*.>", "a.b.c", true},      {"foo.ba", "foo.bar", false}, {"foo.bar", "foo.ba", false},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (mf_subject_matches(t[i].p, strlen(t[i].p), t[i].s, strlen(t[i].s)) != t[i].m)
            fail_msg("%s ~ %s", t[i].p, t[i].s);
}

static void test_parse_u64(void **state)
{
    (void)state;
    uint64_t v;
    assert_true(mf_proto_parse_u64("0", 1, &v) && v == 0);
    assert_true(mf_proto_parse_u64("18446744073709551615", 20, &v) && v == UINT64_MAX);
    assert_false(mf_proto_parse_u64("18446744073709551616", 20, &v));
    assert_false(mf_proto_parse_u64("99999999999999999999", 20, &v));
    assert_false(mf_proto_parse_u64("18446744073709551620", 20, &v));
    assert_true(mf_proto_parse_u64("9999999999999999999", 19, &v) && v == 9999999999999999999ULL);
    assert_true(mf_proto_parse_u64("10000000000000000000", 20, &v) && v == 10000000000000000000ULL);
    assert_true(mf_proto_parse_u64("00000000000000000007", 20, &v) && v == 7);
    assert_false(mf_proto_parse_u64("", 0, &v));
    assert_false(mf_proto_parse_u64("+1", 2, &v));
    assert_false(mf_proto_parse_u64("1 ", 2, &v));
}

/* ---- CONNECT / INFO JSON ---- */

static void test_connect_json(void **state)
{
    (void)state;
    mf_proto_connect c;
    mf_error err;
    const char *j = " { \"verbose\" : true , \"pedantic\":false, \"lang\":\"go\",\"version\":\"1.2\","
                    "\"sig\":{\"nested\":[1,2,{\"x\":null}]},\"protocol\":1,\"echo\":false,"
                    "\"name\":\"caf\\u00e9 \\ud83d\\ude00\",\"headers\":true,\"no_responders\":true,"
                    "\"unknown\":-1.5e3,\"user\":null } ";
    assert_int_equal(mf_proto_parse_connect(j, strlen(j), &c, &err), MF_OK);
    assert_true(c.verbose && !c.pedantic && !c.echo && c.headers && c.no_responders);
    assert_string_equal(c.lang, "go");
    assert_string_equal(c.name, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    assert_int_equal(c.protocol, 1);
    assert_false(c.has_auth_token);
    assert_int_equal(mf_proto_parse_connect("{}", 2, &c, &err), MF_OK);
    assert_true(c.echo);
    assert_int_equal(c.protocol, 0);

    const char *bad[] = {"", "[]", "{", "{\"verbose\":1}", "{\"verbose\":tru}", "{\"name\":5}", "{\"a\":1,}",
                         "{\"a\" 1}", "{} x", "{\"protocol\":1.5}", "{\"name\":\"\\x\"}", "{\"name\":\"\\u0000\"}",
                         "{\"a\":[1,]}", "{\"a\":01}", "{\"a\":\"\x01\"}", "{\"echo\":\"yes\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mf_error_clear(&err);
        mf_status st = mf_proto_parse_connect(bad[i], strlen(bad[i]), &c, &err);
        if (st == MF_OK)
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(st, MF_ERR_PROTOCOL);
        assert_int_equal(err.code, MF_ERR_PROTOCOL);
    }
    /* type errors point at the member */
    assert_int_equal(mf_proto_parse_connect("{\"verbose\":1}", 13, &c, &err), MF_ERR_PROTOCOL);
    assert_string_equal(err.pointer, "/verbose");
    /* a long name is cut to fit (at a character boundary), the rest is kept */
    mf_buf b = MF_BUF_INIT;
    mf_buf_append_str(&b, "{\"name\":\"");
    for (int i = 0; i < MF_PROTO_STR_MAX - 2; i++)
        mf_buf_append_char(&b, 'n');
    mf_buf_append_str(&b, "\u00e9\u00e9\",\"auth_token\":\"tok\",\"version\":\"");
    for (int i = 0; i < 1000; i++)
        mf_buf_append_char(&b, 'v');
    mf_buf_append_str(&b, "\"}");
    assert_int_equal(mf_proto_parse_connect(b.data, b.len, &c, &err), MF_OK);
    assert_int_equal(strlen(c.name), MF_PROTO_STR_MAX - 2); /* the 2-byte character did not fit */
    assert_int_equal(strlen(c.version), MF_PROTO_STR_MAX - 1);
    assert_string_equal(c.auth_token, "tok");
    mf_buf_free(&b);
    /* a credential that does not fit: MF_ERR_LIMIT, the record still filled */
    mf_buf_append_str(&b, "{\"name\":\"n\",\"auth_token\":\"");
    for (int i = 0; i < MF_PROTO_TOKEN_MAX; i++)
        mf_buf_append_char(&b, 't');
    mf_buf_append_str(&b, "\",\"user\":\"u\"}");
    assert_int_equal(mf_proto_parse_connect(b.data, b.len, &c, &err), MF_ERR_LIMIT);
    assert_string_equal(c.name, "n");
    assert_string_equal(c.user, "u");
    mf_buf_free(&b);
    /* nesting depth is bounded */
    mf_buf_append_str(&b, "{\"x\":");
    for (int i = 0; i < 100; i++)
        mf_buf_append_char(&b, '[');
    for (int i = 0; i < 100; i++)
        mf_buf_append_char(&b, ']');
    mf_buf_append_str(&b, "}");
    assert_int_equal(mf_proto_parse_connect(b.data, b.len, &c, &err), MF_ERR_PROTOCOL);
    mf_buf_free(&b);
}

static void test_info_json(void **state)
{
    (void)state;
    mf_proto_info in;
    mf_error err;
    const char *j = "{\"server_id\":\"NABC\",\"server_name\":\"n1\",\"version\":\"2.9.10\",\"proto\":1,"
                    "\"go\":\"go1.19\",\"host\":\"0.0.0.0\",\"port\":4222,\"headers\":true,\"max_payload\":1048576,"
                    "\"client_id\":5,\"client_ip\":\"127.0.0.1\",\"auth_required\":true,"
                    "\"connect_urls\":[\"10.0.0.1:4222\",\"10.0.0.2:4222\"]}";
    assert_int_equal(mf_proto_parse_info(j, strlen(j), &in, &err), MF_OK);
    assert_string_equal(in.server_id, "NABC");
    assert_string_equal(in.server_name, "n1");
    assert_string_equal(in.version, "2.9.10");
    assert_int_equal(in.proto, 1);
    assert_int_equal(in.port, 4222);
    assert_true(in.headers && in.auth_required && !in.tls_required);
    assert_int_equal(in.max_payload, 1048576);
    assert_int_equal(in.client_id, 5);
    assert_int_equal(in.n_connect_urls, 2);
    assert_string_equal(in.connect_urls[1], "10.0.0.2:4222");
    assert_int_equal(mf_proto_parse_info("{\"connect_urls\":[1]}", 20, &in, &err), MF_ERR_PROTOCOL);
    assert_int_equal(mf_proto_parse_info("{\"port\":70000}", 14, &in, &err), MF_ERR_PROTOCOL);
    assert_int_equal(mf_proto_parse_info("{\"client_id\":-1}", 16, &in, &err), MF_ERR_PROTOCOL);
    assert_int_equal(mf_proto_parse_info("{\"connect_urls\":[]}", 19, &in, &err), MF_OK);
    assert_int_equal(in.n_connect_urls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_ops),
        cmocka_unit_test(test_client_ops),
        cmocka_unit_test(test_split_server),
        cmocka_unit_test(test_split_client),
        cmocka_unit_test(test_large_payload_in_pieces),
        cmocka_unit_test(test_many_ops_stream),
        cmocka_unit_test(test_random_streams),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_line_limit_edges),
        cmocka_unit_test(test_feed_args),
        cmocka_unit_test(test_writers_roundtrip),
        cmocka_unit_test(test_subject_valid),
        cmocka_unit_test(test_subject_valid_random),
        cmocka_unit_test(test_split_blanks),
        cmocka_unit_test(test_subject_matches),
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_connect_json),
        cmocka_unit_test(test_info_json),
    };
    return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
