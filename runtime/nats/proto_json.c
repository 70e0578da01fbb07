/*
 * proto_json.c - CONNECT and INFO records <-> their JSON text.
 *
 * Both are flat JSON objects with a handful of scalar members (plus the
 * connect_urls string array in INFO). A small strict reader is enough here and
 * keeps the transport free of the codec layer's JSON library: it walks the
 * object once, unescapes the strings it keeps, checks the type of the members
 * it knows and skips (but still syntax-checks) everything else.
 */
#include "mf/proto.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 32

typedef struct {
    const char *s;
    size_t n;
    size_t i;
} jcur;

static void jws(jcur *c)
{
    while (c->i < c->n) {
        char ch = c->s[c->i];
        if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n')
            break;
        c->i++;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool read_hex4(jcur *c, unsigned *out)
{
    if (c->n - c->i < 4)
        return false;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(c->s[c->i + (size_t)k]);
        if (h < 0)
            return false;
        v = v * 16 + (unsigned)h;
    }
    c->i += 4;
    *out = v;
    return true;
}

/* Outputs a byte if there is room; counts it either way. */
static void emit(char *out, size_t outsz, size_t *k, char ch)
{
    if (out && *k + 1 < outsz)
        out[*k] = ch;
    (*k)++;
}

/*
 * Reads a JSON string at the cursor (which must be at the opening quote).
 * Writes the unescaped UTF-8 into out (when non-NULL, NUL-terminated, truncated
 * to outsz-1) and its full length into *outlen. 0 ok, -1 syntax error.
 */
static int jstring(jcur *c, char *out, size_t outsz, size_t *outlen)
{
    if (c->i >= c->n || c->s[c->i] != '"')
        return -1;
    c->i++;
    size_t k = 0;
    while (c->i < c->n) {
        unsigned char ch = (unsigned char)c->s[c->i++];
        if (ch == '"') {
            if (out && outsz)
                out[k < outsz ? k : outsz - 1] = '\0';
            if (outlen)
                *outlen = k;
            return 0;
        }
        if (ch < 0x20)
            return -1;
        if (ch != '\\') {
            emit(out, outsz, &k, (char)ch);
            continue;
        }
        if (c->i >= c->n)
            return -1;
        char e = c->s[c->i++];
        switch (e) {
        case '"': emit(out, outsz, &k, '"'); break;
        case '\\': emit(out, outsz, &k, '\\'); break;
        case '/': emit(out, outsz, &k, '/'); break;
        case 'b': emit(out, outsz, &k, '\b'); break;
        case 'f': emit(out, outsz, &k, '\f'); break;
        case 'n': emit(out, outsz, &k, '\n'); break;
        case 'r': emit(out, outsz, &k, '\r'); break;
        case 't': emit(out, outsz, &k, '\t'); break;
        case 'u': {
            unsigned cp;
            if (!read_hex4(c, &cp))
                return -1;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (c->n - c->i < 2 || c->s[c->i] != '\\' || c->s[c->i + 1] != 'u')
                    return -1;
                c->i += 2;
                if (!read_hex4(c, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return -1;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return -1;
            }
            if (cp == 0)
                return -1; /* no embedded NULs in C strings */
            if (cp < 0x80) {
                emit(out, outsz, &k, (char)cp);
            } else if (cp < 0x800) {
                emit(out, outsz, &k, (char)(0xC0 | (cp >> 6)));
                emit(out, outsz, &k, (char)(0x80 | (cp & 0x3F)));
            } else if (cp < 0x10000) {
                emit(out, outsz, &k, (char)(0xE0 | (cp >> 12)));
                emit(out, outsz, &k, (char)(0x80 | ((cp >> 6) & 0x3F)));
                emit(out, outsz, &k, (char)(0x80 | (cp & 0x3F)));
            } else {
                emit(out, outsz, &k, (char)(0xF0 | (cp >> 18)));
                emit(out, outsz, &k, (char)(0x80 | ((cp >> 12) & 0x3F)));
                emit(out, outsz, &k, (char)(0x80 | ((cp >> 6) & 0x3F)));
                emit(out, outsz, &k, (char)(0x80 | (cp & 0x3F)));
            }
            break;
        }
        default:
            return -1;
        }
    }
    return -1;
}

/* Checks a JSON number at the cursor; returns its extent. integral: only [-]digits. */
static int jnumber(jcur *c, size_t *start, size_t *end, bool *integral)
{
    size_t i = c->i;
    *start = i;
    *integral = true;
    if (i < c->n && c->s[i] == '-')
        i++;
    if (i >= c->n || c->s[i] < '0' || c->s[i] > '9')
        return -1;
    if (c->s[i] == '0')
        i++;
    else
        while (i < c->n && c->s[i] >= '0' && c->s[i] <= '9')
            i++;
    if (i < c->n && c->s[i] == '.') {
        *integral = false;
        i++;
        if (i >= c->n || c->s[i] < '0' || c->s[i] > '9')
            return -1;
        while (i < c->n && c->s[i] >= '0' && c->s[i] <= '9')
            i++;
    }
    if (i < c->n && (c->s[i] == 'e' || c->s[i] == 'E')) {
        *integral = false;
        i++;
        if (i < c->n && (c->s[i] == '+' || c->s[i] == '-'))
            i++;
        if (i >= c->n || c->s[i] < '0' || c->s[i] > '9')
            return -1;
        while (i < c->n && c->s[i] >= '0' && c->s[i] <= '9')
            i++;
    }
    *end = i;
    c->i = i;
    return 0;
}

static bool jlit(jcur *c, const char *lit)
{
    size_t l = strlen(lit);
    if (c->n - c->i < l || memcmp(c->s + c->i, lit, l) != 0)
        return false;
    c->i += l;
    return true;
}

static int jskip(jcur *c, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return -1;
    jws(c);
    if (c->i >= c->n)
        return -1;
    char ch = c->s[c->i];
    if (ch == '"')
        return jstring(c, NULL, 0, NULL);
    if (ch == 't')
        return jlit(c, "true") ? 0 : -1;
    if (ch == 'f')
        return jlit(c, "false") ? 0 : -1;
    if (ch == 'n')
        return jlit(c, "null") ? 0 : -1;
    if (ch == '{' || ch == '[') {
        char close = ch == '{' ? '}' : ']';
        c->i++;
        jws(c);
        if (c->i < c->n && c->s[c->i] == close) {
            c->i++;
            return 0;
        }
        for (;;) {
            if (ch == '{') {
                jws(c);
                if (jstring(c, NULL, 0, NULL))
                    return -1;
                jws(c);
                if (c->i >= c->n || c->s[c->i] != ':')
                    return -1;
                c->i++;
            }
            if (jskip(c, depth + 1))
                return -1;
            jws(c);
            if (c->i >= c->n)
                return -1;
            if (c->s[c->i] == ',') {
                c->i++;
                continue;
            }
            if (c->s[c->i] == close) {
                c->i++;
                return 0;
            }
            return -1;
        }
    }
    size_t a, b;
    bool integral;
    return jnumber(c, &a, &b, &integral);
}

/* Member value readers. Each returns 0, or an mf_status-ish negative code via err. */
typedef struct {
    mf_error *err;
    mf_status st;
} jctx;

static bool set_err(jctx *x, mf_status code, const char *key, const char *what)
{
    if (x->st == MF_OK) {
        x->st = code;
        char ptr[80];
        snprintf(ptr, sizeof ptr, "/%s", key);
        mf_error_set(x->err, code, ptr, "%s: %s", key, what);
    }
    return false;
}

static bool get_bool(jcur *c, jctx *x, const char *key, bool *out)
{
    if (jlit(c, "true")) {
        *out = true;
        return true;
    }
    if (jlit(c, "false")) {
        *out = false;
        return true;
    }
    if (jlit(c, "null"))
        return true;
    return set_err(x, MF_ERR_PROTOCOL, key, "expected a boolean");
}

static bool get_str(jcur *c, jctx *x, const char *key, char *out, size_t outsz)
{
    if (jlit(c, "null"))
        return true;
    if (c->i >= c->n || c->s[c->i] != '"')
        return set_err(x, MF_ERR_PROTOCOL, key, "expected a string");
    size_t len;
    if (jstring(c, out, outsz, &len))
        return set_err(x, MF_ERR_PROTOCOL, key, "bad string");
    if (len >= outsz) {
        out[0] = '\0';
        return set_err(x, MF_ERR_LIMIT, key, "string too long");
    }
    return true;
}

static bool get_int(jcur *c, jctx *x, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    if (jlit(c, "null"))
        return true;
    size_t a, b;
    bool integral;
    if (jnumber(c, &a, &b, &integral))
        return set_err(x, MF_ERR_PROTOCOL, key, "expected a number");
    char tmp[32];
    if (!integral || b - a >= sizeof tmp)
        return set_err(x, MF_ERR_PROTOCOL, key, "expected an integer");
    memcpy(tmp, c->s + a, b - a);
    tmp[b - a] = '\0';
    char *endp;
    long long v = strtoll(tmp, &endp, 10);
    if (*endp || v < lo || v > hi)
        return set_err(x, MF_ERR_PROTOCOL, key, "integer out of range");
    *out = v;
    return true;
}

static bool get_u64(jcur *c, jctx *x, const char *key, uint64_t *out)
{
    if (jlit(c, "null"))
        return true;
    size_t a, b;
    bool integral;
    if (jnumber(c, &a, &b, &integral))
        return set_err(x, MF_ERR_PROTOCOL, key, "expected a number");
    if (!integral || !mf_proto_parse_u64(c->s + a, b - a, out))
        return set_err(x, MF_ERR_PROTOCOL, key, "expected a non-negative integer");
    return true;
}

typedef bool (*member_fn)(jcur *c, jctx *x, const char *key, void *rec);

static mf_status walk_object(const char *json, size_t len, member_fn fn, void *rec, mf_error *err)
{
    jctx x = {err, MF_OK};
    jcur c = {json, len, 0};
    if (!json)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "no JSON");
    jws(&c);
    if (c.i >= c.n || c.s[c.i] != '{')
        return mf_error_set(err, MF_ERR_PROTOCOL, "", "not a JSON object");
    c.i++;
    jws(&c);
    if (c.i < c.n && c.s[c.i] == '}') {
        c.i++;
    } else {
        for (;;) {
            char key[64];
            size_t klen;
            jws(&c);
            if (jstring(&c, key, sizeof key, &klen))
                return mf_error_set(err, MF_ERR_PROTOCOL, "", "bad JSON object key at offset %zu", c.i);
            if (klen >= sizeof key)
                key[0] = '\0'; /* unknown: too long to be one of ours */
            jws(&c);
            if (c.i >= c.n || c.s[c.i] != ':')
                return mf_error_set(err, MF_ERR_PROTOCOL, "", "expected ':' at offset %zu", c.i);
            c.i++;
            jws(&c);
            bool consumed = fn(&c, &x, key, rec);
            if (x.st)
                return x.st;
            if (!consumed && jskip(&c, 1))
                return mf_error_set(err, MF_ERR_PROTOCOL, "", "bad JSON value at offset %zu", c.i);
            jws(&c);
            if (c.i >= c.n)
                return mf_error_set(err, MF_ERR_PROTOCOL, "", "unterminated JSON object");
            if (c.s[c.i] == ',') {
                c.i++;
                continue;
            }
            if (c.s[c.i] == '}') {
                c.i++;
                break;
            }
            return mf_error_set(err, MF_ERR_PROTOCOL, "", "expected ',' or '}' at offset %zu", c.i);
        }
    }
    jws(&c);
    if (c.i != c.n)
        return mf_error_set(err, MF_ERR_PROTOCOL, "", "trailing bytes after the JSON object");
    return MF_OK;
}

/* ---- CONNECT ---- */

void mf_proto_connect_init(mf_proto_connect *c)
{
    memset(c, 0, sizeof *c);
    c->echo = true;
    c->protocol = 1;
}

/* Returns true when it consumed the value (or failed: x->st set), false to let the walker skip it. */
static bool connect_member(jcur *c, jctx *x, const char *key, void *rec)
{
    mf_proto_connect *o = rec;
    int64_t v;
#define B(name)                                 \
    if (strcmp(key, #name) == 0)                \
        return get_bool(c, x, key, &o->name) || x->st;
#define S(name)                                 \
    if (strcmp(key, #name) == 0)                \
        return get_str(c, x, key, o->name, sizeof o->name) || x->st;
    if (strcmp(key, "verbose") == 0) {
        o->has_verbose = true;
        return get_bool(c, x, key, &o->verbose) || x->st;
    }
    if (strcmp(key, "pedantic") == 0) {
        o->has_pedantic = true;
        return get_bool(c, x, key, &o->pedantic) || x->st;
    }
    B(tls_required)
    B(headers)
    B(no_responders)
    B(echo)
    S(name)
    S(lang)
    S(version)
    S(user)
    S(pass)
    if (strcmp(key, "auth_token") == 0) {
        o->has_auth_token = true;
        return get_str(c, x, key, o->auth_token, sizeof o->auth_token) || x->st;
    }
    if (strcmp(key, "protocol") == 0) {
        v = o->protocol;
        bool ok = get_int(c, x, key, 0, 1000, &v);
        o->protocol = (int)v;
        return ok || x->st;
    }
#undef B
#undef S
    return false;
}

mf_status mf_proto_parse_connect(const char *json, size_t len, mf_proto_connect *out, mf_error *err)
{
    mf_proto_connect_init(out);
    out->protocol = 0;
    return walk_object(json, len, connect_member, out, err);
}

/* ---- INFO ---- */

static bool info_member(jcur *c, jctx *x, const char *key, void *rec)
{
    mf_proto_info *o = rec;
    int64_t v;
    if (strcmp(key, "server_id") == 0)
        return get_str(c, x, key, o->server_id, sizeof o->server_id) || x->st;
    if (strcmp(key, "server_name") == 0)
        return get_str(c, x, key, o->server_name, sizeof o->server_name) || x->st;
    if (strcmp(key, "version") == 0)
        return get_str(c, x, key, o->version, sizeof o->version) || x->st;
    if (strcmp(key, "host") == 0)
        return get_str(c, x, key, o->host, sizeof o->host) || x->st;
    if (strcmp(key, "headers") == 0)
        return get_bool(c, x, key, &o->headers) || x->st;
    if (strcmp(key, "auth_required") == 0)
        return get_bool(c, x, key, &o->auth_required) || x->st;
    if (strcmp(key, "tls_required") == 0)
        return get_bool(c, x, key, &o->tls_required) || x->st;
    if (strcmp(key, "client_id") == 0)
        return get_u64(c, x, key, &o->client_id) || x->st;
    if (strcmp(key, "port") == 0) {
        v = o->port;
        bool ok = get_int(c, x, key, 0, 65535, &v);
        o->port = (int)v;
        return ok || x->st;
    }
    if (strcmp(key, "proto") == 0) {
        v = o->proto;
        bool ok = get_int(c, x, key, INT32_MIN, INT32_MAX, &v);
        o->proto = (int)v;
        return ok || x->st;
    }
    if (strcmp(key, "max_payload") == 0) {
        v = o->max_payload;
        bool ok = get_int(c, x, key, INT64_MIN, INT64_MAX, &v);
        o->max_payload = v;
        return ok || x->st;
    }
    if (strcmp(key, "connect_urls") == 0) {
        if (jlit(c, "null"))
            return true;
        if (c->i >= c->n || c->s[c->i] != '[')
            return set_err(x, MF_ERR_PROTOCOL, key, "expected an array");
        c->i++;
        jws(c);
        if (c->i < c->n && c->s[c->i] == ']') {
            c->i++;
            return true;
        }
        for (;;) {
            jws(c);
            char url[MF_PROTO_STR_MAX];
            size_t ulen;
            if (c->i >= c->n || c->s[c->i] != '"' || jstring(c, url, sizeof url, &ulen))
                return set_err(x, MF_ERR_PROTOCOL, key, "expected an array of strings");
            if (ulen < sizeof url && o->n_connect_urls < MF_PROTO_MAX_URLS)
                memcpy(o->connect_urls[o->n_connect_urls++], url, ulen + 1);
            jws(c);
            if (c->i < c->n && c->s[c->i] == ',') {
                c->i++;
                continue;
            }
            if (c->i < c->n && c->s[c->i] == ']') {
                c->i++;
                return true;
            }
            return set_err(x, MF_ERR_PROTOCOL, key, "bad array");
        }
    }
    return false;
}

mf_status mf_proto_parse_info(const char *json, size_t len, mf_proto_info *out, mf_error *err)
{
    memset(out, 0, sizeof *out);
    return walk_object(json, len, info_member, out, err);
}

/* ---- CONNECT writer ---- */

static mf_status json_str(mf_buf *b, const char *s)
{
    mf_status st = mf_buf_append_char(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; !st && *p; p++) {
        switch (*p) {
        case '"': st = mf_buf_append(b, "\\\"", 2); break;
        case '\\': st = mf_buf_append(b, "\\\\", 2); break;
        case '\n': st = mf_buf_append(b, "\\n", 2); break;
        case '\r': st = mf_buf_append(b, "\\r", 2); break;
        case '\t': st = mf_buf_append(b, "\\t", 2); break;
        default:
            if (*p < 0x20)
                st = mf_buf_printf(b, "\\u%04x", *p);
            else
                st = mf_buf_append_char(b, (char)*p);
        }
    }
    return st ? st : mf_buf_append_char(b, '"');
}

mf_status mf_proto_write_connect(mf_buf *b, const mf_proto_connect *c)
{
    if (!b || !c)
        return MF_ERR_INVALID_ARG;
    size_t mark = b->len;
    mf_status st = mf_buf_printf(b, "CONNECT {\"verbose\":%s,\"pedantic\":%s", c->verbose ? "true" : "false",
                                 c->pedantic ? "true" : "false");
    if (!st && c->tls_required)
        st = mf_buf_append_str(b, ",\"tls_required\":true");
#define STRF(field)                                           \
    if (!st && c->field[0]) {                                 \
        st = mf_buf_append_str(b, ",\"" #field "\":");        \
        if (!st)                                              \
            st = json_str(b, c->field);                       \
    }
    STRF(name)
    STRF(lang)
    STRF(version)
    STRF(auth_token)
    STRF(user)
    STRF(pass)
#undef STRF
    if (!st)
        st = mf_buf_printf(b, ",\"protocol\":%d,\"echo\":%s", c->protocol, c->echo ? "true" : "false");
    if (!st && c->headers)
        st = mf_buf_append_str(b, ",\"headers\":true");
    if (!st && c->no_responders)
        st = mf_buf_append_str(b, ",\"no_responders\":true");
    if (!st)
        st = mf_buf_append(b, "}\r\n", 3);
    if (st) {
        b->len = mark; /* all or nothing */
        if (b->data)
            b->data[mark] = '\0';
    }
    return st;
}
