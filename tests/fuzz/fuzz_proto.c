/*
 * libFuzzer harness for the NATS protocol parser (runtime/nats/proto.c), both
 * sides. The input is split into chunks at positions taken from its first
 * byte, so the byte-stream reassembly is fuzzed along with the grammar. Every
 * op returned must be self-consistent (lengths inside the buffer, payload
 * followed by NUL); a violation must come with an error message. CONNECT and
 * INFO JSON go through their record parsers too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mf/proto.h"

static void check_str(mf_proto_str s)
{
    if (s.ptr && s.ptr[s.len] != '\0')
        abort(); /* strings are NUL-terminated in place */
}

static void run(mf_proto_side side, const uint8_t *data, size_t size)
{
    mf_proto_parser p;
    mf_proto_parser_init(&p, side, 256, 4096);
    size_t step = size ? (size_t)(data[0] % 17) + 1 : 1;
    size_t off = 0;
    int r = 0;
    while (off < size && r >= 0) {
        size_t n = size - off < step ? size - off : step;
        if (mf_proto_feed(&p, data + off, n) != MF_OK)
            break;
        off += n;
        mf_proto_op op;
        mf_error err;
        while ((r = mf_proto_next(&p, &op, &err)) == 1) {
            check_str(op.subject);
            check_str(op.reply);
            check_str(op.queue);
            check_str(op.sid);
            if (op.payload.ptr && op.payload.ptr[op.payload.len] != '\0')
                abort();
            if ((op.kind == MF_OP_HPUB || op.kind == MF_OP_HMSG) && op.hdr_len + op.payload.len != op.total_len)
                abort();
            if (op.kind == MF_OP_CONNECT) {
                mf_proto_connect c;
                (void)mf_proto_parse_connect(op.json.ptr, op.json.len, &c, &err);
            } else if (op.kind == MF_OP_INFO) {
                mf_proto_info info;
                (void)mf_proto_parse_info(op.json.ptr, op.json.len, &info, &err);
            } else if (op.kind == MF_OP_SUB || op.kind == MF_OP_PUB || op.kind == MF_OP_MSG) {
                (void)mf_subject_valid(op.subject.ptr, op.subject.len, op.kind == MF_OP_SUB);
            }
        }
        if (r < 0 && err.message[0] == '\0')
            abort(); /* every violation explains itself */
    }
    mf_proto_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(MF_PROTO_SERVER_SIDE, data, size);
    run(MF_PROTO_CLIENT_SIDE, data, size);
    return 0;
}
