/*
 * proto_json.c - CONNECT and INFO records <-> their JSON text.
 *
 * No JSON code of its own: the two objects are described with the codec's
 * descriptor tables (mf/codec.h), exactly as the generator describes message
 * payloads, and decoded / encoded by the same fuzzed walker. A wire struct with
 * owned strings and has_ flags sits between the JSON and the fixed-size records
 * of mf/proto.h; copying into the records is where length limits are enforced.
 */
#include "mf/proto.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mf/codec.h"

/* ---- scalar types ---- */

static const mf_type t_bool = {.kind = MF_K_BOOL, .name = "bool", .size = sizeof(bool)};
static const mf_type t_str = {.kind = MF_K_STR, .name = "string", .size = sizeof(char *)};
static const mf_type t_protocol = {.kind = MF_K_INT, .name = "protocol", .size = sizeof(int64_t),
                                   .flags = MF_TF_HAS_MIN | MF_TF_HAS_MAX, .imin = 0, .imax = 1000};
static const mf_type t_port = {.kind = MF_K_INT, .name = "port", .size = sizeof(int64_t),
                               .flags = MF_TF_HAS_MIN | MF_TF_HAS_MAX, .imin = 0, .imax = 65535};
static const mf_type t_int32 = {.kind = MF_K_INT, .name = "int32", .size = sizeof(int64_t),
                                .flags = MF_TF_HAS_MIN | MF_TF_HAS_MAX, .imin = INT32_MIN, .imax = INT32_MAX};
static const mf_type t_int = {.kind = MF_K_INT, .name = "integer", .size = sizeof(int64_t)};
static const mf_type t_uint = {.kind = MF_K_INT, .name = "unsigned", .size = sizeof(int64_t),
                               .flags = MF_TF_HAS_MIN, .imin = 0};
static const mf_type t_urls = {.kind = MF_K_ARR, .name = "connect_urls", .size = sizeof(mf_array), .item = &t_str};

/* An optional member: value at offsetof(S, m), `bool has_m` after it, null allowed
 * (nats-server sends e.g. "connect_urls": null; a null leaves the default). */
#define OPT(S, json, m, ty)                                                                                    \
    {                                                                                                          \
        .name = json, .type = ty, .offset = offsetof(S, m), .has_offset = offsetof(S, has_##m),             \
        .null_offset = offsetof(S, null_##m)                                                                   \
    }

/* ---- CONNECT ---- */

typedef struct wire_connect {
#define M(ctype, m) ctype m; bool has_##m, null_##m;
    M(bool, verbose) M(bool, pedantic) M(bool, tls_required) M(char *, name) M(char *, lang) M(char *, version)
    M(char *, auth_token) M(char *, user) M(char *, pass) M(int64_t, protocol) M(bool, echo) M(bool, headers)
    M(bool, no_responders)
#undef M
} wire_connect;

/* Member order is the order mf_proto_write_connect writes them in. */
static const mf_field connect_fields[] = {
    OPT(wire_connect, "verbose", verbose, &t_bool),
    OPT(wire_connect, "pedantic", pedantic, &t_bool),
    OPT(wire_connect, "tls_required", tls_required, &t_bool),
    OPT(wire_connect, "name", name, &t_str),
    OPT(wire_connect, "lang", lang, &t_str),
    OPT(wire_connect, "version", version, &t_str),
    OPT(wire_connect, "auth_token", auth_token, &t_str),
    OPT(wire_connect, "user", user, &t_str),
    OPT(wire_connect, "pass", pass, &t_str),
    OPT(wire_connect, "protocol", protocol, &t_protocol),
    OPT(wire_connect, "echo", echo, &t_bool),
    OPT(wire_connect, "headers", headers, &t_bool),
    OPT(wire_connect, "no_responders", no_responders, &t_bool),
};

static const mf_type connect_type = {.kind = MF_K_OBJ, .name = "CONNECT", .size = sizeof(wire_connect),
                                     .fields = connect_fields,
                                     .field_count = sizeof connect_fields / sizeof connect_fields[0]};

/* ---- INFO ---- */

typedef struct wire_info {
#define M(ctype, m) ctype m; bool has_##m, null_##m;
    M(char *, server_id) M(char *, server_name) M(char *, version) M(char *, host) M(int64_t, port)
    M(int64_t, proto) M(int64_t, max_payload) M(bool, headers) M(bool, auth_required) M(bool, tls_required)
    M(int64_t, client_id)
#undef M
    struct { char **items; size_t count; } connect_urls;
    bool has_connect_urls, null_connect_urls;
} wire_info;

static const mf_field info_fields[] = {
    OPT(wire_info, "server_id", server_id, &t_str),
    OPT(wire_info, "server_name", server_name, &t_str),
    OPT(wire_info, "version", version, &t_str),
    OPT(wire_info, "host", host, &t_str),
    OPT(wire_info, "port", port, &t_port),
    OPT(wire_info, "proto", proto, &t_int32),
    OPT(wire_info, "max_payload", max_payload, &t_int),
    OPT(wire_info, "headers", headers, &t_bool),
    OPT(wire_info, "auth_required", auth_required, &t_bool),
    OPT(wire_info, "tls_required", tls_required, &t_bool),
    OPT(wire_info, "client_id", client_id, &t_uint),
    OPT(wire_info, "connect_urls", connect_urls, &t_urls),
};

static const mf_type info_type = {.kind = MF_K_OBJ, .name = "INFO", .size = sizeof(wire_info),
                                  .fields = info_fields, .field_count = sizeof info_fields / sizeof info_fields[0]};

/* ---- helpers ---- */

/* Decodes; any codec error becomes a protocol error with the codec's pointer and text. */
static mf_status decode(const mf_type *t, const char *json, size_t len, void *out, mf_error *err)
{
    if (!json)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "no JSON");
    mf_error e;
    if (mf_decode(t, json, len, out, &e) == MF_OK)
        return MF_OK;
    return mf_error_set(err, e.code == MF_ERR_NOMEM ? MF_ERR_NOMEM : MF_ERR_PROTOCOL, e.pointer, "%s: %s", t->name,
                        e.message);
}

/* Copies an owned string into a record field; MF_ERR_LIMIT when it does not fit. */
static mf_status put(char *dst, size_t cap, const char *src, const char *member, mf_error *err)
{
    if (!src)
        return MF_OK;
    size_t n = strlen(src);
    if (n >= cap)
        return mf_error_set(err, MF_ERR_LIMIT, "", "%s: string too long (%zu bytes, at most %zu)", member, n,
                            cap - 1);
    memcpy(dst, src, n + 1);
    return MF_OK;
}

/* Copies an owned string into a record field, cut to fit at a character boundary (the
 * codec has checked the UTF-8): names and versions of any length are accepted, as
 * nats-server accepts them. */
static void put_cut(char *dst, size_t cap, const char *src)
{
    if (!src)
        return;
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        while (n && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--; /* src[n] would start the next character: cut before a continuation byte */
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

#define PUT_E(rec, w, m, e) put((rec)->m, sizeof (rec)->m, (w).has_##m && !(w).null_##m ? (w).m : NULL, #m, e)
#define PUT(rec, w, m) PUT_E(rec, w, m, err)
#define PUT_CUT(rec, w, m) put_cut((rec)->m, sizeof (rec)->m, (w).has_##m && !(w).null_##m ? (w).m : NULL)
#define FLAG(rec, w, m)                       \
    do {                                      \
        if ((w).has_##m && !(w).null_##m)     \
            (rec)->m = (w).m;                 \
    } while (0)

/* ---- CONNECT ---- */

void mf_proto_connect_init(mf_proto_connect *c)
{
    memset(c, 0, sizeof *c);
    c->echo = true;
    c->protocol = 1;
}

mf_status mf_proto_parse_connect(const char *json, size_t len, mf_proto_connect *out, mf_error *err)
{
    mf_proto_connect_init(out);
    out->protocol = 0;
    wire_connect w;
    mf_status st = decode(&connect_type, json, len, &w, err);
    if (st)
        return st;
    FLAG(out, w, verbose);
    FLAG(out, w, pedantic);
    FLAG(out, w, tls_required);
    FLAG(out, w, echo);
    FLAG(out, w, headers);
    FLAG(out, w, no_responders);
    out->has_verbose = w.has_verbose && !w.null_verbose;
    out->has_pedantic = w.has_pedantic && !w.null_pedantic;
    out->has_auth_token = w.has_auth_token && !w.null_auth_token;
    if (w.has_protocol && !w.null_protocol)
        out->protocol = (int)w.protocol;
    PUT_CUT(out, w, name);
    PUT_CUT(out, w, lang);
    PUT_CUT(out, w, version);
    /* credentials that do not fit are an error, but the rest of the record is filled;
     * err describes the first one (a later one goes to `later`) */
    mf_error later;
    st = PUT(out, w, auth_token);
    mf_status s = PUT_E(out, w, user, st ? &later : err);
    st = st ? st : s;
    s = PUT_E(out, w, pass, st ? &later : err);
    st = st ? st : s;
    mf_free(&connect_type, &w);
    return st;
}

mf_status mf_proto_write_connect(mf_buf *b, const mf_proto_connect *c)
{
    if (!b || !c)
        return MF_ERR_INVALID_ARG;
    /* The wire struct borrows the record's strings; nothing is freed. */
    wire_connect w;
    memset(&w, 0, sizeof w);
    w.has_verbose = w.has_pedantic = w.has_protocol = w.has_echo = true;
    w.verbose = c->verbose;
    w.pedantic = c->pedantic;
    w.protocol = c->protocol;
    w.echo = c->echo;
    w.tls_required = w.has_tls_required = c->tls_required;
    w.headers = w.has_headers = c->headers;
    w.no_responders = w.has_no_responders = c->no_responders;
#define STR(m) \
    w.m = (char *)c->m; \
    w.has_##m = c->m[0] != '\0';
    STR(name) STR(lang) STR(version) STR(auth_token) STR(user) STR(pass)
#undef STR
    size_t mark = b->len;
    mf_status st = mf_buf_append(b, "CONNECT ", 8);
    if (!st)
        st = mf_encode(&connect_type, &w, b, NULL);
    if (!st)
        st = mf_buf_append(b, "\r\n", 2);
    if (st) {
        b->len = mark; /* all or nothing */
        if (b->data)
            b->data[mark] = '\0';
    }
    return st;
}

/* ---- INFO ---- */

mf_status mf_proto_parse_info(const char *json, size_t len, mf_proto_info *out, mf_error *err)
{
    memset(out, 0, sizeof *out);
    wire_info w;
    mf_status st = decode(&info_type, json, len, &w, err);
    if (st)
        return st;
    FLAG(out, w, headers);
    FLAG(out, w, auth_required);
    FLAG(out, w, tls_required);
    FLAG(out, w, max_payload);
    if (w.has_port && !w.null_port)
        out->port = (int)w.port;
    if (w.has_proto && !w.null_proto)
        out->proto = (int)w.proto;
    if (w.has_client_id && !w.null_client_id)
        out->client_id = (uint64_t)w.client_id;
    /* URLs that do not fit a record slot, or beyond MF_PROTO_MAX_URLS, are dropped. */
    for (size_t i = 0; i < w.connect_urls.count && out->n_connect_urls < MF_PROTO_MAX_URLS; i++) {
        size_t n = strlen(w.connect_urls.items[i]);
        if (n < sizeof out->connect_urls[0])
            memcpy(out->connect_urls[out->n_connect_urls++], w.connect_urls.items[i], n + 1);
    }
    if (!(st = PUT(out, w, server_id)) && !(st = PUT(out, w, server_name)) && !(st = PUT(out, w, version)))
        st = PUT(out, w, host);
    mf_free(&info_type, &w);
    return st;
}
