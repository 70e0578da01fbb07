/*
 * fuzz_ws.c - libFuzzer target for the WebSocket layer (runtime/ws/) and the path bytes
 * take in the broker and the client: frames reassembled by mf_ws_parse, their data fed
 * to the NATS parser of the matching side (recv.c / wire.c do the same), and the HTTP
 * upgrade heads (mf_ws_parse_request, mf_ws_parse_response).
 *
 * Input: byte 0 picks the mode (bit 0: server or client role, bit 1: a 256-byte or
 * 1 MiB message limit, bit 2: the HTTP heads instead of frames), byte 1 the chunk size
 * (1..61) the rest is split into, as reads from a socket would split it.
 *
 * Invariants: data events point inside the chunk being parsed and are unmasked in
 * place; control payloads are at most 125 bytes; a close event has a status that may
 * be sent (or 1005); errors are 1002, 1007 or 1009 with a reason; after any other than
 * 1009 the parser consumes nothing more; parsed heads lie within the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mf/proto.h"
#include "mf/ws.h"

static void frames(const uint8_t *in, size_t size, mf_ws_role role, uint64_t max, size_t step)
{
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf)
        return;
    memcpy(buf, in, size);
    mf_ws_parser p;
    mf_ws_parser_init(&p, role, max);
    mf_proto_parser np;
    mf_proto_parser_init(&np, role == MF_WS_SERVER ? MF_PROTO_SERVER_SIDE : MF_PROTO_CLIENT_SIDE, 256, 4096);
    bool failed = false, closed = false;
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step, done = 0;
        unsigned char *chunk = buf + off;
        while (done < n) {
            size_t used = 99;
            mf_ws_event ev;
            int r = mf_ws_parse(&p, chunk + done, n - done, &used, &ev);
            if (used > n - done)
                abort();
            if (failed && (r != -1 || used != 0))
                abort(); /* a failed parser stays failed and consumes nothing */
            done += used;
            if (r < 0) {
                if (p.error_code != MF_WS_CLOSE_PROTOCOL && p.error_code != MF_WS_CLOSE_INVALID_DATA &&
                    p.error_code != MF_WS_CLOSE_TOO_BIG)
                    abort();
                if (!p.error_text[0])
                    abort();
                if (p.error_code != MF_WS_CLOSE_TOO_BIG) {
                    failed = true;
                    break;
                }
                continue;
            }
            if (r == 0) {
                if (done != n)
                    abort(); /* 0 means everything was consumed */
                break;
            }
            if (closed)
                abort(); /* nothing after a close event */
            switch (ev.kind) {
            case MF_WS_EV_DATA:
                if (ev.data < chunk || ev.data + ev.len > chunk + n)
                    abort();
                if (ev.len && mf_proto_feed(&np, ev.data, ev.len) == MF_OK) {
                    mf_proto_op op;
                    mf_error err;
                    while (mf_proto_next(&np, &op, &err) == 1) {
                    }
                }
                break;
            case MF_WS_EV_PING:
            case MF_WS_EV_PONG:
                if (ev.len > MF_WS_MAX_CONTROL)
                    abort();
                break;
            case MF_WS_EV_CLOSE:
                if (ev.close_code != MF_WS_CLOSE_NO_STATUS && !mf_ws_close_code_valid(ev.close_code))
                    abort();
                if (ev.len > MF_WS_MAX_CONTROL - 2)
                    abort();
                closed = true;
                break;
            default:
                abort();
            }
        }
        if (failed)
            break;
    }
    mf_proto_parser_free(&np);
    free(buf);
}

static void heads(const uint8_t *in, size_t size)
{
    mf_ws_request req;
    size_t head = 0;
    int status = 0;
    const char *why = NULL;
    int r = mf_ws_parse_request((const char *)in, size, &req, &head, &status, &why);
    if (r == 1 && (head == 0 || head > size || status != 0))
        abort();
    if (r == -1 && (status < 400 || status > 599 || !why))
        abort();
    if (r == 1 && req.key_valid) {
        char acc[29];
        if (mf_ws_accept_value(req.key, acc) != MF_OK || strlen(acc) != 28)
            abort();
    }
    char reason[128];
    r = mf_ws_parse_response((const char *)in, size, "dGhlIHNhbXBsZSBub25jZQ==", &head, reason, sizeof reason);
    if (r == 1 && (head == 0 || head > size))
        abort();
    if (r == -1 && !reason[0])
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned mode = data[0];
    size_t step = (size_t)(data[1] % 61) + 1;
    if (mode & 4)
        heads(data + 2, size - 2);
    else
        frames(data + 2, size - 2, (mode & 1) ? MF_WS_SERVER : MF_WS_CLIENT, (mode & 2) ? 256 : 1u << 20, step);
    return 0;
}
