/*
 * proto.c - the incremental NATS protocol parser (see mf/proto.h).
 *
 * The parser keeps the bytes fed to it in one buffer: [pos, len) is what has
 * not been returned yet. A control line is found with memchr from `scan` (so a
 * line arriving one byte at a time is still scanned once); once an op that
 * carries a payload has its control line, the parser waits until
 * <size> + 2 bytes follow it and only then returns the op. Until then every
 * position is kept relative to `pos`, so feeding (which may move or grow the
 * buffer) never invalidates the pending op.
 */
#include "mf/proto.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ST_LINE = 0, ST_PAYLOAD = 1, ST_FAILED = 2 };

/* A buffer this big is released instead of kept when it runs empty. */
#define MF_PROTO_KEEP_CAP (64u * 1024u)
#define NO_OFF SIZE_MAX

const char *mf_proto_kind_str(mf_proto_kind k)
{
    switch (k) {
    case MF_OP_INFO: return "INFO";
    case MF_OP_CONNECT: return "CONNECT";
    case MF_OP_PUB: return "PUB";
    case MF_OP_HPUB: return "HPUB";
    case MF_OP_SUB: return "SUB";
    case MF_OP_UNSUB: return "UNSUB";
    case MF_OP_MSG: return "MSG";
    case MF_OP_HMSG: return "HMSG";
    case MF_OP_PING: return "PING";
    case MF_OP_PONG: return "PONG";
    case MF_OP_OK: return "+OK";
    case MF_OP_ERR: return "-ERR";
    case MF_OP_NONE: break;
    }
    return "NONE";
}

void mf_proto_parser_init(mf_proto_parser *p, mf_proto_side side, size_t max_control, size_t max_payload)
{
    memset(p, 0, sizeof *p);
    p->side = side;
    p->max_control = max_control ? max_control : MF_PROTO_DEFAULT_MAX_CONTROL;
    p->max_payload = max_payload ? max_payload : MF_PROTO_DEFAULT_MAX_PAYLOAD;
    p->state = ST_LINE;
}

void mf_proto_parser_free(mf_proto_parser *p)
{
    if (!p)
        return;
    free(p->buf);
    p->buf = NULL;
    p->len = p->cap = p->pos = p->scan = 0;
    p->state = ST_LINE;
    p->error = MF_PROTO_E_NONE;
}

void mf_proto_parser_reset(mf_proto_parser *p)
{
    p->len = p->pos = p->scan = 0;
    p->state = ST_LINE;
    p->error = MF_PROTO_E_NONE;
    memset(&p->pending, 0, sizeof p->pending);
}

size_t mf_proto_buffered(const mf_proto_parser *p)
{
    return p->len - p->pos;
}

mf_status mf_proto_feed(mf_proto_parser *p, const void *data, size_t n)
{
    if (n == 0)
        return MF_OK;
    if (!p || !data)
        return MF_ERR_INVALID_ARG;
    if (p->pos == p->len) {
        /* everything consumed: start over at 0, and give back a big buffer */
        p->len = p->pos = p->scan = 0;
        if (p->cap > MF_PROTO_KEEP_CAP && n <= MF_PROTO_KEEP_CAP) {
            free(p->buf);
            p->buf = NULL;
            p->cap = 0;
        }
    }
    if (p->cap - p->len < n) {
        size_t live = p->len - p->pos;
        /* Move the live tail to the front when that makes room or when at least
         * half of the buffer is dead: each byte is moved at most a constant
         * number of times on average. */
        if (p->pos > 0 && (p->cap - live >= n || p->pos >= p->cap / 2)) {
            memmove(p->buf, p->buf + p->pos, live);
            p->scan -= p->pos;
            p->len = live;
            p->pos = 0;
        }
        if (p->cap - p->len < n) {
            size_t want = p->len + n;
            size_t ncap = p->cap ? p->cap : 256;
            while (ncap < want) {
                if (ncap > SIZE_MAX / 2)
                    return MF_ERR_NOMEM;
                ncap *= 2;
            }
            char *nb = realloc(p->buf, ncap + 1);
            if (!nb)
                return MF_ERR_NOMEM;
            p->buf = nb;
            p->cap = ncap;
        }
    }
    memcpy(p->buf + p->len, data, n);
    p->len += n;
    p->bytes += n;
    return MF_OK;
}

bool mf_proto_parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (!s || len == 0 || len > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9)
            return false;
        /* 19 digits never overflow (< 10^19 < 2^64): only the 20th is checked, without a
         * division per digit (every MSG's sid and size go through here) */
        if (i == 19 && v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* A printable snippet of a bad line for error messages. */
static void snippet(const char *s, size_t n, char *out, size_t outsz)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < outsz && i < 40; i++) {
        unsigned char c = (unsigned char)s[i];
        out[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[k] = '\0';
}

static int fail(mf_proto_parser *p, mf_error *err, mf_proto_error why, mf_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static int fail(mf_proto_parser *p, mf_error *err, mf_proto_error why, mf_status code, const char *fmt, ...)
{
    p->state = ST_FAILED;
    p->error = why;
    if (err) {
        char msg[MF_ERROR_MESSAGE_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        mf_error_set(err, code, "", "%s", msg);
    }
    return -1;
}

static int refail(mf_proto_parser *p, mf_error *err)
{
    if (err) {
        static const char *const why[] = {
            "no error", "unknown protocol operation", "wrong number of arguments", "bad size",
            "payload too large", "missing CRLF after payload", "control line too long", "bad control line"};
        mf_status code = p->error == MF_PROTO_E_PAYLOAD_TOO_BIG ? MF_ERR_PAYLOAD_TOO_BIG
                         : p->error == MF_PROTO_E_LINE_TOO_LONG ? MF_ERR_LIMIT
                                                                : MF_ERR_PROTOCOL;
        mf_error_set(err, code, "", "parser failed earlier: %s", why[p->error <= 7 ? p->error : 0]);
    }
    return -1;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * Eight bytes at a time (SWAR): the control lines and subjects of a busy
 * broker are scanned for blanks and dots at every message. ONES * b is b in
 * every byte; has_less(w, b) has the high bit of the lowest byte of w that is
 * below b (b <= 0x80) set, and possibly of bytes above it, never of bytes
 * below it; has_byte(w, b) the same for a byte equal to b. So the lowest bit
 * set in either, or in their OR, marks the first such byte (little-endian;
 * elsewhere the byte loops alone are used).
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define MF_SWAR 1
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static inline uint64_t has_less(uint64_t w, unsigned char b)
{
    return (w - ONES * b) & ~w & HIGHS;
}
static inline uint64_t has_byte(uint64_t w, unsigned char b)
{
    return has_less(w ^ (ONES * b), 1);
}
static inline uint64_t load8(const void *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}
static inline size_t first_marked(uint64_t m)
{
    return (size_t)__builtin_ctzll(m) >> 3;
}
#else
#define MF_SWAR 0
#endif

/* The first index in [i, n) of s holding a blank, or n. */
static size_t find_blank(const char *s, size_t i, size_t n)
{
#if MF_SWAR
    for (; i + 8 <= n; i += 8) {
        uint64_t w = load8(s + i);
        uint64_t m = has_byte(w, ' ') | has_byte(w, '\t');
        if (m)
            return i + first_marked(m);
    }
#endif
    while (i < n && !is_ws(s[i]))
        i++;
    return i;
}

/* Case-insensitive compare of an op name against an upper-case literal. */
static bool op_is(const char *s, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n && lit[i]; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c != lit[i])
            return false;
    }
    return i == n && lit[i] == '\0';
}

#define MAX_ARGS 6

typedef struct {
    size_t off[MAX_ARGS]; /* relative to the line start */
    size_t len[MAX_ARGS];
    int n;                /* MAX_ARGS + 1 when there were too many */
} args_t;

/* Splits line[from, n) at runs of blanks; NUL-terminates each argument in place. */
static void split_args(char *line, size_t from, size_t n, args_t *a)
{
    a->n = 0;
    size_t i = from;
    while (i < n) {
        while (i < n && is_ws(line[i]))
            i++;
        if (i >= n)
            break;
        size_t start = i;
        i = find_blank(line, i, n);
        if (a->n == MAX_ARGS) {
            a->n = MAX_ARGS + 1;
            return;
        }
        a->off[a->n] = start;
        a->len[a->n] = i - start;
        a->n++;
        line[i] = '\0'; /* a blank, the CR or the LF */
        i++;
    }
}

static mf_proto_str arg_str(const char *line, const args_t *a, int i)
{
    mf_proto_str s = {line + a->off[i], a->len[i]};
    return s;
}

/* Rest of the line after the op name, blanks trimmed both sides, NUL-terminated. */
static mf_proto_str rest_of_line(char *line, size_t from, size_t n)
{
    while (from < n && is_ws(line[from]))
        from++;
    size_t end = n;
    while (end > from && is_ws(line[end - 1]))
        end--;
    line[end] = '\0';
    mf_proto_str s = {line + from, end - from};
    return s;
}

/* Fills the payload part of op from the buffer, checking the trailing CRLF. */
static int finish_payload(mf_proto_parser *p, mf_proto_op *op, mf_error *err)
{
    mf_proto_op *pend = &p->pending;
    size_t total = pend->total_len;
    size_t start = p->pos + p->pend_start;
    size_t have = p->len - start;
    if (have > total && p->buf[start + total] != '\r')
        return fail(p, err, MF_PROTO_E_MISSING_CRLF, MF_ERR_PROTOCOL,
                    "%s: payload of %zu bytes not followed by CRLF", mf_proto_kind_str(pend->kind), total);
    if (have > total + 1 && p->buf[start + total + 1] != '\n')
        return fail(p, err, MF_PROTO_E_MISSING_CRLF, MF_ERR_PROTOCOL,
                    "%s: payload of %zu bytes not followed by CRLF", mf_proto_kind_str(pend->kind), total);
    if (have < total + 2)
        return 0;
    char *base = p->buf + p->pos;
    *op = *pend;
#define REBASE(f, o) op->f.ptr = (p->o == NO_OFF) ? NULL : base + p->o
    REBASE(subject, pend_subject);
    REBASE(reply, pend_reply);
    REBASE(queue, pend_queue);
    REBASE(sid, pend_sid);
#undef REBASE
    if (op->kind == MF_OP_HPUB || op->kind == MF_OP_HMSG) {
        op->hdr = p->buf + start;
        op->payload.ptr = p->buf + start + op->hdr_len;
        op->payload.len = total - op->hdr_len;
    } else {
        op->hdr = NULL;
        op->payload.ptr = p->buf + start;
        op->payload.len = total;
    }
    p->buf[start + total] = '\0'; /* the CR */
    p->pos = start + total + 2;
    p->scan = p->pos;
    p->state = ST_LINE;
    p->ops++;
    return 1;
}

static int parse_size(mf_proto_parser *p, mf_error *err, const char *opname, const char *s, size_t n, size_t *out)
{
    uint64_t v;
    if (!mf_proto_parse_u64(s, n, &v)) {
        char snip[48];
        snippet(s, n, snip, sizeof snip);
        return fail(p, err, MF_PROTO_E_SIZE, MF_ERR_PROTOCOL, "%s: bad size '%s'", opname, snip);
    }
    if (v > SIZE_MAX - 8) {
        *out = SIZE_MAX - 8;
        return 1;
    }
    *out = (size_t)v;
    return 1;
}

/* ------------------------------------------------------------ control lines */

/* What an op's handler made of its control line. */
enum { LINE_DONE = 0, LINE_PAYLOAD = 1 };

/* Which side reads an op (a bit set: PING and PONG go both ways). */
enum { READ_BY_SERVER = 1u, READ_BY_CLIENT = 2u };

typedef struct op_spec op_spec;

/* One control line being parsed: [text, text + n) in the parser's buffer, line end excluded. */
typedef struct {
    char *text;
    size_t n;
    size_t oplen; /* bytes of the op name */
    args_t a;     /* blank-separated arguments, for ops with args_max > 0 */
    const op_spec *spec;
} line_t;

/* Fills op from the line. LINE_DONE, LINE_PAYLOAD (op->total_len bytes and CRLF follow), or -1 (failed). */
typedef int (*op_handler)(mf_proto_parser *p, line_t *l, mf_proto_op *op, mf_error *err);

struct op_spec {
    const char *name; /* upper case, as mf_proto_kind_str; matched case-insensitively */
    mf_proto_kind kind;
    unsigned readers;     /* READ_BY_SERVER | READ_BY_CLIENT */
    int args_min, args_max; /* 0, 0: no split arguments (nothing, or the rest of the line) */
    op_handler parse;
};

static int parse_bare(mf_proto_parser *p, line_t *l, mf_proto_op *op, mf_error *err);
static int parse_json(mf_proto_parser *p, line_t *l, mf_proto_op *op, mf_error *err);
static int parse_err(mf_proto_parser *p, line_t *l, mf_proto_op *op, mf_error *err);
static int parse_sub(mf_proto_parser *p, line_t *l, mf_proto_op *op, mf_error *err);
static int parse_unsub(mf_proto_parser *p, line_t *l, mf_proto_op *op, mf_error *err);
static int parse_data(mf_proto_parser *p, line_t *l, mf_proto_op *op, mf_error *err);

/* Every operation of the protocol:
 *   PUB     <subject> [reply] <#bytes>                 HPUB <subject> [reply] <#hdr> <#total>
 *   MSG     <subject> <sid> [reply] <#bytes>           HMSG <subject> <sid> [reply] <#hdr> <#total>
 *   SUB     <subject> [queue] <sid>                    UNSUB <sid> [max_msgs]
 *   CONNECT <json>   INFO <json>   -ERR '<text>'       PING  PONG  +OK */
/* The data ops first: nearly every line is one of them. */
static const op_spec OPS[] = {
    {"PUB", MF_OP_PUB, READ_BY_SERVER, 2, 3, parse_data},
    {"MSG", MF_OP_MSG, READ_BY_CLIENT, 3, 4, parse_data},
    {"HPUB", MF_OP_HPUB, READ_BY_SERVER, 3, 4, parse_data},
    {"HMSG", MF_OP_HMSG, READ_BY_CLIENT, 4, 5, parse_data},
    {"PING", MF_OP_PING, READ_BY_SERVER | READ_BY_CLIENT, 0, 0, parse_bare},
    {"PONG", MF_OP_PONG, READ_BY_SERVER | READ_BY_CLIENT, 0, 0, parse_bare},
    {"SUB", MF_OP_SUB, READ_BY_SERVER, 2, 3, parse_sub},
    {"UNSUB", MF_OP_UNSUB, READ_BY_SERVER, 1, 2, parse_unsub},
    {"CONNECT", MF_OP_CONNECT, READ_BY_SERVER, 0, 0, parse_json},
    {"INFO", MF_OP_INFO, READ_BY_CLIENT, 0, 0, parse_json},
    {"+OK", MF_OP_OK, READ_BY_CLIENT, 0, 0, parse_bare},
    {"-ERR", MF_OP_ERR, READ_BY_CLIENT, 0, 0, parse_err},
};

/* The op named s[0, n) that this side reads, or NULL. */
static const op_spec *find_op(mf_proto_side side, const char *s, size_t n)
{
    unsigned reader = side == MF_PROTO_SERVER_SIDE ? READ_BY_SERVER : READ_BY_CLIENT;
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if ((OPS[i].readers & reader) && op_is(s, n, OPS[i].name))
            return &OPS[i];
    return NULL;
}

/* PING PONG +OK: nothing to read; nats-server ignores whatever follows (the op name must end). */
static int parse_bare(mf_proto_parser *p, line_t *l, mf_proto_op *op, mf_error *err)
{
    (void)p, (void)l, (void)op, (void)err;
    return LINE_DONE;
}

/* CONNECT INFO: the rest of the line is the JSON object. */
static int parse_json(mf_proto_parser *p, line_t *l, mf_proto_op *op, mf_error *err)
{
    mf_proto_str rest = rest_of_line(l->text, l->oplen, l->n);
    if (rest.len == 0)
        return fail(p, err, MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "%s needs a JSON argument", l->spec->name);
    op->json = rest;
    op->text = rest;
    return LINE_DONE;
}

/* -ERR: the rest of the line, without its single quotes. */
static int parse_err(mf_proto_parser *p, line_t *l, mf_proto_op *op, mf_error *err)
{
    (void)p, (void)err;
    mf_proto_str rest = rest_of_line(l->text, l->oplen, l->n);
    if (rest.len >= 2 && rest.ptr[0] == '\'' && rest.ptr[rest.len - 1] == '\'') {
        rest.ptr++;
        rest.len -= 2;
        ((char *)rest.ptr)[rest.len] = '\0';
    }
    op->text = rest;
    return LINE_DONE;
}

static int parse_sub(mf_proto_parser *p, line_t *l, mf_proto_op *op, mf_error *err)
{
    (void)p, (void)err;
    op->subject = arg_str(l->text, &l->a, 0);
    if (l->a.n == 3)
        op->queue = arg_str(l->text, &l->a, 1);
    op->sid = arg_str(l->text, &l->a, l->a.n - 1);
    return LINE_DONE;
}

static int parse_unsub(mf_proto_parser *p, line_t *l, mf_proto_op *op, mf_error *err)
{
    op->sid = arg_str(l->text, &l->a, 0);
    if (l->a.n == 2) {
        mf_proto_str max = arg_str(l->text, &l->a, 1);
        if (!mf_proto_parse_u64(max.ptr, max.len, &op->max_msgs)) {
            char snip[48];
            snippet(max.ptr, max.len, snip, sizeof snip);
            return fail(p, err, MF_PROTO_E_SIZE, MF_ERR_PROTOCOL, "UNSUB: bad max_msgs '%s'", snip);
        }
        op->has_max_msgs = true;
    }
    return LINE_DONE;
}

/* PUB HPUB MSG HMSG: subject, the sid (MSG, HMSG), the optional reply, the sizes last. */
static int parse_data(mf_proto_parser *p, line_t *l, mf_proto_op *op, mf_error *err)
{
    const args_t *a = &l->a;
    const char *name = l->spec->name;
    bool has_sid = op->kind == MF_OP_MSG || op->kind == MF_OP_HMSG;
    bool has_hdr = op->kind == MF_OP_HPUB || op->kind == MF_OP_HMSG;
    size_t hdr = 0, total = 0;
    op->subject = arg_str(l->text, a, 0);
    if (has_sid)
        op->sid = arg_str(l->text, a, 1);
    if (a->n == l->spec->args_max)
        op->reply = arg_str(l->text, a, has_sid ? 2 : 1);
    if (has_hdr && parse_size(p, err, name, l->text + a->off[a->n - 2], a->len[a->n - 2], &hdr) < 0)
        return -1;
    if (parse_size(p, err, name, l->text + a->off[a->n - 1], a->len[a->n - 1], &total) < 0)
        return -1;
    if (hdr > total)
        return fail(p, err, MF_PROTO_E_SIZE, MF_ERR_PROTOCOL, "%s: header size %zu larger than total size %zu", name,
                    hdr, total);
    if (total > p->max_payload)
        return fail(p, err, MF_PROTO_E_PAYLOAD_TOO_BIG, MF_ERR_PAYLOAD_TOO_BIG,
                    "%s: payload of %zu bytes exceeds the maximum of %zu", name, total, p->max_payload);
    op->hdr_len = hdr;
    op->total_len = total;
    return LINE_PAYLOAD;
}

/* Splits the arguments of l and checks their number against its op. 0, or -1 (failed). */
static int split_checked(mf_proto_parser *p, line_t *l, mf_error *err)
{
    const op_spec *s = l->spec;
    split_args(l->text, l->oplen, l->n, &l->a);
    if (l->a.n >= s->args_min && l->a.n <= s->args_max)
        return 0;
    if (l->a.n > MAX_ARGS)
        return fail(p, err, MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "%s: too many arguments", s->name);
    return fail(p, err, MF_PROTO_E_ARGS, MF_ERR_PROTOCOL, "%s: wrong number of arguments (%d, expected %d to %d)",
                s->name, l->a.n, s->args_min, s->args_max);
}

/* Keeps op with offsets relative to pos (feeding may move the buffer) until its payload is in. */
static int await_payload(mf_proto_parser *p, const line_t *l, size_t line_total, mf_proto_op *op, mf_error *err)
{
    p->pending = *op;
    p->pend_subject = op->subject.ptr ? (size_t)(op->subject.ptr - l->text) : NO_OFF;
    p->pend_reply = op->reply.ptr ? (size_t)(op->reply.ptr - l->text) : NO_OFF;
    p->pend_queue = op->queue.ptr ? (size_t)(op->queue.ptr - l->text) : NO_OFF;
    p->pend_sid = op->sid.ptr ? (size_t)(op->sid.ptr - l->text) : NO_OFF;
    p->pend_start = line_total;
    p->state = ST_PAYLOAD;
    return finish_payload(p, op, err);
}

/* Parses the control line [pos, pos+n); line_total counts its line end too. As mf_proto_next. */
static int parse_line(mf_proto_parser *p, size_t n, size_t line_total, mf_proto_op *op, mf_error *err)
{
    line_t l = {.text = p->buf + p->pos, .n = n};
    if (memchr(l.text, '\r', n) || memchr(l.text, '\n', n) || memchr(l.text, '\0', n)) {
        char snip[48];
        snippet(l.text, n, snip, sizeof snip);
        return fail(p, err, MF_PROTO_E_BAD_LINE, MF_ERR_PROTOCOL, "bad control line '%s'", snip);
    }
    while (l.oplen < n && !is_ws(l.text[l.oplen]))
        l.oplen++;
    l.spec = find_op(p->side, l.text, l.oplen);
    if (!l.spec) {
        char snip[48];
        snippet(l.text, l.oplen, snip, sizeof snip);
        return fail(p, err, MF_PROTO_E_UNKNOWN_OP, MF_ERR_PROTOCOL, "unknown protocol operation '%s'", snip);
    }
    memset(op, 0, sizeof *op);
    op->kind = l.spec->kind;
    if (l.spec->args_max > 0 && split_checked(p, &l, err) < 0)
        return -1;
    int r = l.spec->parse(p, &l, op, err);
    if (r == LINE_PAYLOAD)
        return await_payload(p, &l, line_total, op, err);
    if (r < 0)
        return -1;
    p->pos += line_total;
    p->scan = p->pos;
    p->ops++;
    return 1;
}

int mf_proto_next(mf_proto_parser *p, mf_proto_op *op, mf_error *err)
{
    if (p->state == ST_FAILED)
        return refail(p, err);
    if (p->state == ST_PAYLOAD)
        return finish_payload(p, op, err);
    if (p->scan < p->pos)
        p->scan = p->pos;
    char *nl = p->len > p->scan ? memchr(p->buf + p->scan, '\n', p->len - p->scan) : NULL;
    if (!nl) {
        p->scan = p->len;
        /* +1: the CR of a full-length line may already be here */
        if (p->len - p->pos > p->max_control + 1)
            return fail(p, err, MF_PROTO_E_LINE_TOO_LONG, MF_ERR_LIMIT,
                        "control line longer than %zu bytes", p->max_control);
        return 0;
    }
    size_t nlpos = (size_t)(nl - p->buf);
    size_t n = nlpos - p->pos; /* bytes before the LF */
    size_t line_total = n + 1;
    if (n > 0 && p->buf[nlpos - 1] == '\r')
        n--;
    if (n > p->max_control)
        return fail(p, err, MF_PROTO_E_LINE_TOO_LONG, MF_ERR_LIMIT, "control line longer than %zu bytes",
                    p->max_control);
    return parse_line(p, n, line_total, op, err);
}

/* ---------------------------------------------------------------- subjects */

/*
 * Byte classes of a subject: 0 inside a token, SC_DOT between tokens, SC_BAD
 * never (blanks, CR, LF, FF, NUL). The broker checks every publish subject, so
 * a token is skipped eight bytes at a time where it can be (a word without a
 * dot and without a byte below 0x21, which every SC_BAD byte is), else one
 * table load per byte.
 */
enum { SC_DOT = 1, SC_BAD = 2 };
static const unsigned char SUBJECT_CLASS[256] = {
    [0] = SC_BAD, ['\t'] = SC_BAD, ['\n'] = SC_BAD, ['\f'] = SC_BAD,
    ['\r'] = SC_BAD, [' '] = SC_BAD, ['.'] = SC_DOT,
};

/* The first byte of [p, end) that is not inside a token (a dot or a bad byte), or end. */
static const unsigned char *token_end(const unsigned char *p, const unsigned char *end)
{
#if MF_SWAR
    while (end - p >= 8) {
        uint64_t w = load8(p);
        uint64_t m = has_less(w, 0x21) | has_byte(w, '.');
        if (!m) {
            p += 8;
            continue;
        }
        p += first_marked(m);
        if (SUBJECT_CLASS[*p])
            return p;
        p++; /* another control byte: part of the token */
    }
#endif
    while (p < end && !SUBJECT_CLASS[*p])
        p++;
    return p;
}

bool mf_subject_valid(const char *s, size_t len, bool allow_wildcards)
{
    if (!s || len == 0)
        return false;
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    for (;;) {
        const unsigned char *tok = p;
        p = token_end(p, end);
        if (p < end && SUBJECT_CLASS[*p] == SC_BAD)
            return false;
        size_t tl = (size_t)(p - tok);
        if (tl == 0)
            return false;
        if (tl == 1 && (*tok == '*' || *tok == '>') && (!allow_wildcards || (*tok == '>' && p != end)))
            return false;
        if (p == end)
            return true;
        p++; /* the dot; a subject ending in one has an empty last token */
        if (p == end)
            return false;
    }
}

bool mf_subject_matches(const char *pat, size_t plen, const char *subj, size_t slen)
{
    size_t pi = 0, si = 0;
    bool pdone = plen == 0, sdone = slen == 0;
    while (!pdone) {
        size_t pe = pi;
        while (pe < plen && pat[pe] != '.')
            pe++;
        if (sdone)
            return false;
        if (pe - pi == 1 && pat[pi] == '>')
            return true; /* at least one subject token is left */
        size_t se = si;
        while (se < slen && subj[se] != '.')
            se++;
        if (!(pe - pi == 1 && pat[pi] == '*') && (pe - pi != se - si || memcmp(pat + pi, subj + si, pe - pi) != 0))
            return false;
        pdone = pe >= plen;
        sdone = se >= slen;
        pi = pe + 1;
        si = se + 1;
    }
    return sdone;
}

/* ---------------------------------------------------------------- writers */

static char *put_u64(char *d, uint64_t v)
{
    char tmp[24];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        *d++ = tmp[--k];
    return d;
}

static char *put(char *d, const void *s, size_t n)
{
    if (n)
        memcpy(d, s, n);
    return d + n;
}

/* Appends "<verb> a1 [a2] [a3] [n1] [n2]\r\n<hdr><data>\r\n" in one reservation. */
typedef struct {
    const char *s;
    size_t n;
} piece;

static mf_status write_op(mf_buf *b, const char *verb, const piece *args, int nargs, const uint64_t *nums,
                          int nnums, const void *hdr, size_t hdr_len, const void *data, size_t len, bool payload)
{
    size_t vlen = strlen(verb);
    size_t need = vlen + 2 + (payload ? hdr_len + len + 2 : 0);
    for (int i = 0; i < nargs; i++) {
        if (args[i].n == 0)
            continue;
        if (args[i].n > SIZE_MAX / 4)
            return MF_ERR_INVALID_ARG;
        need += args[i].n + 1;
    }
    need += (size_t)nnums * 21;
    mf_status st = mf_buf_reserve(b, need);
    if (st)
        return st;
    char *d = b->data + b->len;
    char *start = d;
    d = put(d, verb, vlen);
    for (int i = 0; i < nargs; i++) {
        if (args[i].n == 0)
            continue;
        *d++ = ' ';
        d = put(d, args[i].s, args[i].n);
    }
    for (int i = 0; i < nnums; i++) {
        *d++ = ' ';
        d = put_u64(d, nums[i]);
    }
    *d++ = '\r';
    *d++ = '\n';
    if (payload) {
        d = put(d, hdr, hdr_len);
        d = put(d, data, len);
        *d++ = '\r';
        *d++ = '\n';
    }
    b->len += (size_t)(d - start);
    b->data[b->len] = '\0';
    return MF_OK;
}

static size_t slen0(const char *s)
{
    return s ? strlen(s) : 0;
}

mf_status mf_proto_write_pub(mf_buf *b, const char *subject, const char *reply, const void *data, size_t len)
{
    if (!b || !subject || !*subject || (len && !data))
        return MF_ERR_INVALID_ARG;
    piece a[2] = {{subject, strlen(subject)}, {reply, slen0(reply)}};
    uint64_t nums[1] = {len};
    return write_op(b, "PUB", a, 2, nums, 1, NULL, 0, data, len, true);
}

mf_status mf_proto_write_hpub(mf_buf *b, const char *subject, const char *reply, const void *hdr, size_t hdr_len,
                              const void *data, size_t len)
{
    if (!b || !subject || !*subject || (len && !data) || (hdr_len && !hdr))
        return MF_ERR_INVALID_ARG;
    piece a[2] = {{subject, strlen(subject)}, {reply, slen0(reply)}};
    uint64_t nums[2] = {hdr_len, (uint64_t)hdr_len + len};
    return write_op(b, "HPUB", a, 2, nums, 2, hdr, hdr_len, data, len, true);
}

mf_status mf_proto_write_sub(mf_buf *b, const char *subject, const char *queue, uint64_t sid)
{
    if (!b || !subject || !*subject)
        return MF_ERR_INVALID_ARG;
    piece a[2] = {{subject, strlen(subject)}, {queue, slen0(queue)}};
    uint64_t nums[1] = {sid};
    return write_op(b, "SUB", a, 2, nums, 1, NULL, 0, NULL, 0, false);
}

mf_status mf_proto_write_unsub(mf_buf *b, uint64_t sid, uint64_t max_msgs)
{
    if (!b)
        return MF_ERR_INVALID_ARG;
    uint64_t nums[2] = {sid, max_msgs};
    return write_op(b, "UNSUB", NULL, 0, nums, max_msgs ? 2 : 1, NULL, 0, NULL, 0, false);
}

mf_status mf_proto_write_msg(mf_buf *b, const char *subject, size_t subject_len, const char *sid, size_t sid_len,
                             const char *reply, size_t reply_len, const void *data, size_t len)
{
    if (!b || !subject || !subject_len || !sid || !sid_len || (len && !data) || (reply_len && !reply))
        return MF_ERR_INVALID_ARG;
    piece a[3] = {{subject, subject_len}, {sid, sid_len}, {reply, reply_len}};
    uint64_t nums[1] = {len};
    return write_op(b, "MSG", a, 3, nums, 1, NULL, 0, data, len, true);
}

mf_status mf_proto_write_hmsg(mf_buf *b, const char *subject, size_t subject_len, const char *sid, size_t sid_len,
                              const char *reply, size_t reply_len, const void *hdr, size_t hdr_len,
                              const void *data, size_t len)
{
    if (!b || !subject || !subject_len || !sid || !sid_len || (len && !data) || (reply_len && !reply) ||
        (hdr_len && !hdr))
        return MF_ERR_INVALID_ARG;
    piece a[3] = {{subject, subject_len}, {sid, sid_len}, {reply, reply_len}};
    uint64_t nums[2] = {hdr_len, (uint64_t)hdr_len + len};
    return write_op(b, "HMSG", a, 3, nums, 2, hdr, hdr_len, data, len, true);
}

mf_status mf_proto_write_info(mf_buf *b, const char *json)
{
    if (!b || !json || !*json)
        return MF_ERR_INVALID_ARG;
    piece a[1] = {{json, strlen(json)}};
    return write_op(b, "INFO", a, 1, NULL, 0, NULL, 0, NULL, 0, false);
}

mf_status mf_proto_write_ping(mf_buf *b)
{
    return b ? mf_buf_append(b, "PING\r\n", 6) : MF_ERR_INVALID_ARG;
}

mf_status mf_proto_write_pong(mf_buf *b)
{
    return b ? mf_buf_append(b, "PONG\r\n", 6) : MF_ERR_INVALID_ARG;
}

mf_status mf_proto_write_ok(mf_buf *b)
{
    return b ? mf_buf_append(b, "+OK\r\n", 5) : MF_ERR_INVALID_ARG;
}

mf_status mf_proto_write_err(mf_buf *b, const char *text)
{
    if (!b || !text)
        return MF_ERR_INVALID_ARG;
    /* the text must stay on one line */
    for (const char *c = text; *c; c++)
        if (*c == '\r' || *c == '\n')
            return MF_ERR_INVALID_ARG;
    size_t n = strlen(text);
    mf_status st = mf_buf_reserve(b, n + 9);
    if (st)
        return st;
    char *d = b->data + b->len;
    char *s = d;
    d = put(d, "-ERR '", 6);
    d = put(d, text, n);
    d = put(d, "'\r\n", 3);
    b->len += (size_t)(d - s);
    b->data[b->len] = '\0';
    return MF_OK;
}
