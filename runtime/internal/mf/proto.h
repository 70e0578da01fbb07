/*
 * mf/proto.h - the NATS client protocol: an incremental parser, writers for
 * every operation, subject validation and the CONNECT / INFO option records.
 *
 * Shared by the client (runtime/client/) and the broker (runtime/broker/).
 * No I/O here: bytes in, operations out; operations in, bytes (into an mf_buf) out.
 *
 * Parsing, the usual loop:
 *
 *     mf_proto_parser p;
 *     mf_proto_parser_init(&p, MF_PROTO_CLIENT_SIDE, 0, 0);   // defaults
 *     ...for every chunk received:
 *     if (mf_proto_feed(&p, chunk, n)) ...out of memory...
 *     mf_proto_op op; mf_error err; int r;
 *     while ((r = mf_proto_next(&p, &op, &err)) == 1) handle(&op);
 *     if (r < 0) ...protocol violation: err.code / err.message, p.error...
 *     ...
 *     mf_proto_parser_free(&p);
 *
 * The parser owns one byte buffer. Every pointer in an mf_proto_op points into
 * it and stays valid until the next mf_proto_feed / mf_proto_next /
 * mf_proto_parser_reset / mf_proto_parser_free on that parser. Consumed bytes are
 * dropped by moving the (short) unconsumed tail to the front only when it pays
 * off, so feeding a stream costs amortised O(bytes), never quadratic copying.
 *
 * String arguments (subject, reply, queue, sid, json, text) are NUL-terminated
 * in place, so `op.subject.ptr` can be used as a C string. The payload of
 * PUB/HPUB/MSG/HMSG is also followed by a NUL (its CR is overwritten), so a
 * JSON payload can be handed to a decoder as is; `hdr` is NOT NUL-terminated
 * (the payload follows it directly).
 *
 * Operation names are case-insensitive, arguments are separated by runs of
 * spaces or tabs, like nats-server (which also ignores anything after PING,
 * PONG and +OK). After a -1 the parser stays in the error
 * state (every later mf_proto_next returns -1 again) until reset.
 */
#ifndef MF_PROTO_H
#define MF_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mf/buf.h"
#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MF_PROTO_DEFAULT_MAX_CONTROL 4096u           /* bytes of one control line, CRLF excluded */
#define MF_PROTO_DEFAULT_MAX_PAYLOAD (1024u * 1024u) /* 1 MiB, nats-server's default */

/* Which direction of the protocol a parser reads. */
typedef enum mf_proto_side {
    MF_PROTO_SERVER_SIDE = 1, /* the broker reads client ops: CONNECT PUB HPUB SUB UNSUB PING PONG */
    MF_PROTO_CLIENT_SIDE = 2  /* the client reads server ops: INFO MSG HMSG PING PONG +OK -ERR */
} mf_proto_side;

typedef enum mf_proto_kind {
    MF_OP_NONE = 0,
    MF_OP_INFO,
    MF_OP_CONNECT,
    MF_OP_PUB,
    MF_OP_HPUB,
    MF_OP_SUB,
    MF_OP_UNSUB,
    MF_OP_MSG,
    MF_OP_HMSG,
    MF_OP_PING,
    MF_OP_PONG,
    MF_OP_OK,  /* +OK */
    MF_OP_ERR  /* -ERR */
} mf_proto_kind;

/* A static name for a kind ("PUB", "+OK", ...). Never NULL. */
const char *mf_proto_kind_str(mf_proto_kind k);

/* Why mf_proto_next returned -1 (also in err->code / err->message). */
typedef enum mf_proto_error {
    MF_PROTO_E_NONE = 0,
    MF_PROTO_E_UNKNOWN_OP,      /* not an op of this side               err->code MF_ERR_PROTOCOL */
    MF_PROTO_E_ARGS,            /* wrong number of arguments / missing   MF_ERR_PROTOCOL */
    MF_PROTO_E_SIZE,            /* size / header size / max_msgs not a number, hdr > total  MF_ERR_PROTOCOL */
    MF_PROTO_E_PAYLOAD_TOO_BIG, /* size > max_payload                    MF_ERR_PAYLOAD_TOO_BIG */
    MF_PROTO_E_MISSING_CRLF,    /* payload not followed by CRLF          MF_ERR_PROTOCOL */
    MF_PROTO_E_LINE_TOO_LONG,   /* control line longer than max_control  MF_ERR_LIMIT */
    MF_PROTO_E_BAD_LINE         /* bare CR/LF or control byte in a line  MF_ERR_PROTOCOL */
} mf_proto_error;

/* A byte range inside the parser's buffer (NUL-terminated, see above). {NULL,0} when absent. */
typedef struct mf_proto_str {
    const char *ptr;
    size_t len;
} mf_proto_str;

/*
 * One operation. Fields not used by `kind` are zero / {NULL,0}.
 *   INFO, CONNECT  json                              (the JSON object text)
 *   -ERR           text                              (quotes stripped: Unknown Protocol Operation)
 *   PUB            subject [reply] payload
 *   HPUB           subject [reply] hdr payload       (hdr_len + payload.len == total_len)
 *   SUB            subject [queue] sid
 *   UNSUB          sid [max_msgs]                    (has_max_msgs tells whether it was given)
 *   MSG            subject sid [reply] payload
 *   HMSG           subject sid [reply] hdr payload
 *   PING PONG +OK  nothing
 */
typedef struct mf_proto_op {
    mf_proto_kind kind;
    mf_proto_str subject;
    mf_proto_str reply;
    mf_proto_str queue;
    mf_proto_str sid;
    uint64_t max_msgs;
    bool has_max_msgs;
    mf_proto_str json;
    mf_proto_str text;
    const char *hdr;     /* HPUB/HMSG: start of the header block ("NATS/1.0...\r\n\r\n") */
    size_t hdr_len;      /* bytes of the header block (the <#header bytes> argument) */
    mf_proto_str payload;/* PUB/MSG: the data; HPUB/HMSG: the bytes after the headers */
    size_t total_len;    /* PUB/MSG: payload.len; HPUB/HMSG: hdr_len + payload.len */
} mf_proto_op;

typedef struct mf_proto_parser {
    /* configuration (set by init; max_payload may be changed any time, e.g. after INFO) */
    mf_proto_side side;
    size_t max_control;
    size_t max_payload;
    /* state: private */
    char *buf;
    size_t len;      /* bytes held */
    size_t cap;
    size_t pos;      /* first unconsumed byte */
    size_t scan;     /* where the CRLF search resumes (>= pos) */
    int state;       /* 0 = control line, 1 = awaiting payload, 2 = failed */
    mf_proto_op pending; /* the op whose payload is awaited, as offsets while state==1 */
    size_t pend_start;   /* offset of the payload start */
    size_t pend_subject, pend_reply, pend_queue, pend_sid; /* offsets into buf (SIZE_MAX = none) */
    mf_proto_error error;
    /* counters for whoever cares */
    uint64_t ops;
    uint64_t bytes;
} mf_proto_parser;

/* max_control 0 -> MF_PROTO_DEFAULT_MAX_CONTROL, max_payload 0 -> MF_PROTO_DEFAULT_MAX_PAYLOAD. */
void mf_proto_parser_init(mf_proto_parser *p, mf_proto_side side, size_t max_control, size_t max_payload);
void mf_proto_parser_free(mf_proto_parser *p);
/* Drops buffered bytes and the error state; keeps configuration and storage. */
void mf_proto_parser_reset(mf_proto_parser *p);
/* Appends bytes. MF_ERR_NOMEM, MF_ERR_INVALID_ARG (NULL with n > 0). */
mf_status mf_proto_feed(mf_proto_parser *p, const void *data, size_t n);
/* 1: *op holds the next operation; 0: need more bytes; -1: protocol violation (err filled if non-NULL). */
int mf_proto_next(mf_proto_parser *p, mf_proto_op *op, mf_error *err);
/* Bytes fed but not yet returned as operations. */
size_t mf_proto_buffered(const mf_proto_parser *p);

/*
 * Subjects. Tokens are separated by '.', none empty, no space/tab/CR/LF/FF/NUL.
 * With allow_wildcards, a token that is exactly "*" matches one token and a
 * last token that is exactly ">" matches one or more; '*' or '>' inside a longer
 * token are plain characters (as in nats-server). Without it, "*" and ">"
 * tokens are rejected (a publish subject).
 */
bool mf_subject_valid(const char *s, size_t len, bool allow_wildcards);
/* Does the literal subject match the (possibly wildcard) pattern? Both assumed valid. */
bool mf_subject_matches(const char *pattern, size_t plen, const char *subject, size_t slen);

/* ---- writers: each appends one complete operation (with CRLF) to b ---- */
/* reply may be NULL or "" (none). */
mf_status mf_proto_write_pub(mf_buf *b, const char *subject, const char *reply, const void *data, size_t len);
/* hdr is the complete header block, "NATS/1.0\r\n...\r\n\r\n". */
mf_status mf_proto_write_hpub(mf_buf *b, const char *subject, const char *reply, const void *hdr, size_t hdr_len,
                              const void *data, size_t len);
/* queue may be NULL or "". */
mf_status mf_proto_write_sub(mf_buf *b, const char *subject, const char *queue, uint64_t sid);
/* max_msgs 0 = unsubscribe now. */
mf_status mf_proto_write_unsub(mf_buf *b, uint64_t sid, uint64_t max_msgs);
/* Server side: sid is the client's sid text; reply may be NULL or "". Lengths are explicit (no strlen). */
mf_status mf_proto_write_msg(mf_buf *b, const char *subject, size_t subject_len, const char *sid, size_t sid_len,
                             const char *reply, size_t reply_len, const void *data, size_t len);
mf_status mf_proto_write_hmsg(mf_buf *b, const char *subject, size_t subject_len, const char *sid, size_t sid_len,
                              const char *reply, size_t reply_len, const void *hdr, size_t hdr_len,
                              const void *data, size_t len);
/* "INFO <json>\r\n" with caller-made JSON (not empty). */
mf_status mf_proto_write_info(mf_buf *b, const char *json);
mf_status mf_proto_write_ping(mf_buf *b);
mf_status mf_proto_write_pong(mf_buf *b);
mf_status mf_proto_write_ok(mf_buf *b);
/* "-ERR '<text>'\r\n" */
mf_status mf_proto_write_err(mf_buf *b, const char *text);

/* ---- CONNECT and INFO as records (flat JSON objects; unknown members ignored) ---- */
#define MF_PROTO_STR_MAX 256
#define MF_PROTO_TOKEN_MAX 1024
#define MF_PROTO_MAX_URLS 16

typedef struct mf_proto_connect {
    bool verbose;       /* default false */
    bool pedantic;      /* default false */
    bool tls_required;  /* default false */
    bool headers;       /* default false */
    bool no_responders; /* default false */
    bool echo;          /* default true */
    int protocol;       /* default 1 when written; 0 when absent on parse */
    char name[MF_PROTO_STR_MAX];
    char lang[MF_PROTO_STR_MAX];
    char version[MF_PROTO_STR_MAX];
    char auth_token[MF_PROTO_TOKEN_MAX];
    char user[MF_PROTO_STR_MAX];
    char pass[MF_PROTO_TOKEN_MAX];
    bool has_auth_token; /* present in the parsed JSON (even if empty) */
    bool has_verbose;    /* present in the parsed JSON: nats-server keeps its defaults */
    bool has_pedantic;   /* (verbose and pedantic true) for members a CONNECT leaves out */
} mf_proto_connect;

typedef struct mf_proto_info {
    char server_id[MF_PROTO_STR_MAX];
    char server_name[MF_PROTO_STR_MAX];
    char version[MF_PROTO_STR_MAX];
    char host[MF_PROTO_STR_MAX];
    int port;
    int proto;
    int64_t max_payload;  /* 0 when absent */
    bool headers;
    bool auth_required;
    bool tls_required;
    uint64_t client_id;
    char connect_urls[MF_PROTO_MAX_URLS][MF_PROTO_STR_MAX];
    size_t n_connect_urls; /* extra urls beyond MF_PROTO_MAX_URLS are dropped */
} mf_proto_info;

/* Sets the defaults listed above (echo true, protocol 1, everything else zero). */
void mf_proto_connect_init(mf_proto_connect *c);
/* Appends "CONNECT {...}\r\n": verbose, pedantic, protocol and echo always; strings when non-empty;
 * tls_required, headers, no_responders when true. Strings are JSON-escaped. */
mf_status mf_proto_write_connect(mf_buf *b, const mf_proto_connect *c);
/* Parses the JSON of a CONNECT / INFO op. Not a JSON object or a wrongly typed known
 * member: MF_ERR_PROTOCOL. CONNECT: name, lang and version longer than their field are
 * cut to fit (at a character boundary; nats-server accepts any length); an auth_token,
 * user or pass that does not fit is MF_ERR_LIMIT, with the rest of the record filled.
 * INFO: strings longer than the field are MF_ERR_LIMIT. */
mf_status mf_proto_parse_connect(const char *json, size_t len, mf_proto_connect *out, mf_error *err);
mf_status mf_proto_parse_info(const char *json, size_t len, mf_proto_info *out, mf_error *err);

/* Parses a decimal unsigned number (no sign, no spaces, <= UINT64_MAX). false on anything else. */
bool mf_proto_parse_u64(const char *s, size_t len, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif /* MF_PROTO_H */
