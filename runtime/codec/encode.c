/*
 * encode.c - C value -> compact JSON, driven by mf_type descriptors.
 *
 * mf_encode validates first (mf_validate, so a value that would not decode
 * back is never written), then emits members in schema order straight into
 * the caller's mf_buf: one generous reservation up front, then appends that
 * check the capacity inline and grow the buffer only when it is full. No
 * allocation per member, no intermediate tree.
 *
 * Strings are escaped per RFC 8259: '"' '\\' and the control characters
 * U+0000..U+001F (\b \f \n \r \t in short form, the others as \u00XX);
 * everything else, UTF-8 included, is copied as is. Doubles use the shortest
 * of %.15g/%.16g/%.17g that reads back to the same value (check.c), integers
 * a hand-written formatter, raw members their text verbatim.
 */
#include <math.h>
#include <string.h>

#include "codec/walk.h"

typedef struct enc {
    mf_buf *b;
    size_t end; /* usable capacity: min(cap, limit + 1) */
    mf_status st;
} enc;

static inline void set_end(enc *e)
{
    const mf_buf *b = e->b;
    size_t end = b->cap;
    if (b->limit && b->limit < end - (end > 0)) /* never above cap (0 while data is NULL) */
        end = b->limit + 1;
    e->end = end;
}

/* room for n more bytes plus the NUL, within the buffer's limit */
static inline bool room(enc *e, size_t n)
{
    mf_buf *b = e->b;
    if (b->len + n < e->end)
        return true;
    if (e->st)
        return false;
    e->st = mf_buf_reserve(b, n);
    set_end(e);
    return e->st == MF_OK;
}

static inline void put(enc *e, const char *s, size_t n)
{
    if (!room(e, n))
        return;
    memcpy(e->b->data + e->b->len, s, n);
    e->b->len += n;
}

static inline void put_c(enc *e, char c)
{
    if (!room(e, 1))
        return;
    e->b->data[e->b->len++] = c;
}

static void put_int(enc *e, int64_t v)
{
    char tmp[24];
    size_t n = sizeof tmp;
    uint64_t u = v < 0 ? 0ull - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--n] = '-';
    put(e, tmp + n, sizeof tmp - n);
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* nonzero when some byte of x is < 0x20, '"' or '\\' */
static inline uint64_t esc8(uint64_t x)
{
    uint64_t lt20 = (x - ONES * 0x20) & ~x;
    uint64_t q = x ^ (ONES * '"');
    uint64_t b = x ^ (ONES * '\\');
    return (lt20 | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS;
}

/* bytes that need an escape: controls, '"' and '\\' */
static const unsigned char needs_esc[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

/*
 * '"' + s[0..n) escaped + '"'. Plain runs are copied while they are scanned:
 * 8 bytes at a time (one load, the esc8 test, one store), then byte by byte
 * up to the next byte that needs an escape. One reservation covers the
 * common case of no escapes; each escape reserves for itself and the rest.
 */
static void put_str(enc *e, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    mf_buf *b = e->b;
    size_t i = 0;
    if (!room(e, n + 2))
        return;
    char *o = b->data + b->len;
    *o++ = '"';
    for (;;) {
        while (i + 8 <= n) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            if (esc8(x))
                break;
            memcpy(o, &x, 8);
            o += 8;
            i += 8;
        }
        size_t k = n - i;
        if (k < 8 && k > 0) {
            /* the tail: two overlapping 4-byte loads, or the last 8 bytes of
             * a longer string (already written at the same places when they
             * needed no escape) */
            if (k >= 4) {
                uint32_t lo, hi;
                memcpy(&lo, s + i, 4);
                memcpy(&hi, s + n - 4, 4);
                if (!esc8((uint64_t)lo | (uint64_t)hi << 32)) {
                    memcpy(o, &lo, 4);
                    memcpy(o + k - 4, &hi, 4);
                    o += k;
                    break;
                }
            } else if (n >= 8) {
                uint64_t x;
                memcpy(&x, s + n - 8, 8);
                if (!esc8(x)) {
                    memcpy(o - (8 - k), &x, 8);
                    o += k;
                    break;
                }
            }
        }
        while (i < n && !needs_esc[(unsigned char)s[i]])
            *o++ = s[i++];
        if (i >= n)
            break;
        unsigned char c = (unsigned char)s[i++];
        char sh = c == '"' ? '"' : c == '\\' ? '\\' : c == '\b' ? 'b' : c == '\f' ? 'f'
                : c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : 0;
        b->len = (size_t)(o - b->data);
        /* exactly the escape, the rest and the closing quote: a buffer limit
         * of exactly the output size must work */
        if (!room(e, (sh ? 2 : 6) + (n - i) + 1))
            return;
        o = b->data + b->len;
        *o++ = '\\';
        if (sh) {
            *o++ = sh;
        } else {
            o[0] = 'u';
            o[1] = '0';
            o[2] = '0';
            o[3] = hex[c >> 4];
            o[4] = hex[c & 15];
            o += 5;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
}

static void emit(enc *e, const mf_type *t, const char *v);

static void emit_obj(enc *e, const mf_type *t, const char *v)
{
    bool first = true;
    put_c(e, '{');
    for (uint32_t i = 0; i < t->field_count && !e->st; i++) {
        const mf_field *f = &t->fields[i];
        if (f->has_offset >= 0 && !*(const bool *)(v + f->has_offset))
            continue;
        if (!first)
            put_c(e, ',');
        first = false;
        put_str(e, f->name, strlen(f->name));
        put_c(e, ':');
        if (f->null_offset >= 0 && *(const bool *)(v + f->null_offset))
            put(e, "null", 4);
        else
            emit(e, f->type, v + f->offset);
    }
    put_c(e, '}');
}

static void emit(enc *e, const mf_type *t, const char *v)
{
    switch (t->kind) {
    case MF_K_BOOL:
        if (*(const bool *)v)
            put(e, "true", 4);
        else
            put(e, "false", 5);
        return;
    case MF_K_INT:
        put_int(e, *(const int64_t *)v);
        return;
    case MF_K_NUM: {
        char tmp[32];
        size_t n = mfw_fmt_double(tmp, *(const double *)v);
        put(e, tmp, n);
        return;
    }
    case MF_K_STR: {
        const char *s = *(char *const *)v;
        put_str(e, s, strlen(s));
        return;
    }
    case MF_K_ENUM: {
        const char *s = t->enum_values[*(const int *)v - 1];
        put_str(e, s, strlen(s));
        return;
    }
    case MF_K_RAW: {
        const char *s = *(char *const *)v;
        put(e, s, strlen(s));
        return;
    }
    case MF_K_OBJ:
        emit_obj(e, t, v);
        return;
    case MF_K_ARR: {
        const mf_array *a = (const mf_array *)v;
        put_c(e, '[');
        for (size_t i = 0; i < a->count && !e->st; i++) {
            if (i)
                put_c(e, ',');
            emit(e, t->item, (const char *)a->items + i * t->item->size);
        }
        put_c(e, ']');
        return;
    }
    case MF_K_MAP: {
        const mf_map *m = (const mf_map *)v;
        put_c(e, '{');
        for (size_t i = 0; i < m->count && !e->st; i++) {
            if (i)
                put_c(e, ',');
            put_str(e, m->keys[i], strlen(m->keys[i]));
            put_c(e, ':');
            emit(e, t->item, (const char *)m->values + i * t->item->size);
        }
        put_c(e, '}');
        return;
    }
    case MF_K_UNION:
        emit(e, t->branches[*(const int *)v - 1], v + t->branch_offset);
        return;
    }
}

/* ------------------------------------------------ raw values for decode.c */

static void emit_node(enc *e, const cJSON *n)
{
    switch (n->type & 0xFF) {
    case cJSON_False: put(e, "false", 5); return;
    case cJSON_True: put(e, "true", 4); return;
    case cJSON_NULL: put(e, "null", 4); return;
    case cJSON_Number: {
        char tmp[32];
        if (!isfinite(n->valuedouble)) { /* decode.c rejects these first */
            e->st = MF_ERR_RANGE;
            return;
        }
        put(e, tmp, mfw_fmt_double(tmp, n->valuedouble));
        return;
    }
    case cJSON_String:
        put_str(e, n->valuestring, strlen(n->valuestring));
        return;
    case cJSON_Array:
    case cJSON_Object: {
        bool obj = (n->type & 0xFF) == cJSON_Object;
        put_c(e, obj ? '{' : '[');
        for (const cJSON *c = n->child; c && !e->st; c = c->next) {
            if (c != n->child)
                put_c(e, ',');
            if (obj) {
                put_str(e, c->string, strlen(c->string));
                put_c(e, ':');
            }
            emit_node(e, c);
        }
        put_c(e, obj ? '}' : ']');
        return;
    }
    }
    e->st = MF_ERR_INVALID_ARG;
}

mf_status mfw_print_raw(const cJSON *n, char **out)
{
    mf_buf b = MF_BUF_INIT;
    enc e = {&b, 0, MF_OK};
    *out = NULL;
    e.st = mf_buf_reserve(&b, 64);
    if (!e.st) {
        set_end(&e);
        emit_node(&e, n);
    }
    if (e.st) {
        mf_buf_free(&b);
        return e.st;
    }
    b.data[b.len] = '\0';
    *out = mf_buf_detach(&b, NULL);
    return MF_OK;
}

mf_status mfw_buf_put_string(mf_buf *b, const char *s, size_t n)
{
    enc e = {b, 0, MF_OK};
    set_end(&e);
    put_str(&e, s, n);
    if (!e.st)
        b->data[b->len] = '\0';
    return e.st;
}

mf_status mfw_value_tree(const mf_type *t, const void *v, cJSON **out)
{
    mf_buf b = MF_BUF_INIT;
    enc e = {&b, 0, MF_OK};
    *out = NULL;
    e.st = mf_buf_reserve(&b, 256);
    if (!e.st) {
        set_end(&e);
        emit(&e, t, v);
    }
    if (!e.st)
        e.st = mfw_parse(b.data, b.len, out, NULL);
    mf_buf_free(&b);
    return e.st;
}

mf_status mf_encode(const mf_type *t, const void *value, mf_buf *out, mf_error *err)
{
    mf_status st;
    enc e;
    size_t old;

    mf_error_clear(err);
    if (!t || !value || !out)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "mf_encode: NULL descriptor, value or buffer");
    if ((st = mf_validate(t, value, err)))
        return st;
    old = out->len;
    e.b = out;
    e.st = MF_OK;
    /* one generous reservation; a buffer with a small limit grows as needed */
    if (out->cap < old + 1024 && (!out->limit || out->limit >= old + 1024))
        e.st = mf_buf_reserve(out, 1024);
    if (!e.st) {
        set_end(&e);
        emit(&e, t, value);
    }
    if (e.st) {
        out->len = old;
        if (out->data)
            out->data[old] = '\0';
        return mf_error_set(err, e.st, "", "cannot encode: %s (needed more than %zu bytes)",
                            e.st == MF_ERR_LIMIT ? "the buffer's size limit was reached"
                                                 : "out of memory",
                            out->limit ? out->limit : out->cap);
    }
    out->data[out->len] = '\0';
    return MF_OK;
}
