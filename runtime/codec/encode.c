/*
 * encode.c - C value -> compact JSON, driven by mf_type descriptors.
 *
 * mf_encode checks and writes in one walk: each value is checked by the rules
 * of mf_validate, in mf_validate's order (rules.c holds the rules; the
 * checks that need more than the value at hand - unions, `not`, raw text -
 * call the validator on that value), then written, straight into the
 * caller's mf_buf. A value that fails a check is never written: the buffer is
 * restored and err is what mf_validate reports. One generous reservation up
 * front; appends check the capacity inline and grow the buffer only when it
 * is full. No allocation per member, no intermediate tree.
 *
 * Strings are escaped per RFC 8259: '"' '\\' and the control characters
 * U+0000..U+001F (\b \f \n \r \t in short form, the others as \u00XX);
 * everything else, UTF-8 included, is copied as is, and checked to be
 * well-formed UTF-8 on the way (16 bytes at a time while they are plain
 * ASCII). Doubles use the shortest of %.15g/%.16g/%.17g that reads back to
 * the same value (report.c), integers a hand-written formatter, raw members
 * their text verbatim.
 */
#include <math.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "codec/rules.h"

typedef struct enc {
    mf_buf *b;
    size_t end;    /* usable capacity: min(cap, limit + 1) */
    mf_status st;  /* the first failure: of the buffer, or of a check (then failed_check) */
    bool check;    /* check values while writing them (mf_validate's rules) */
    bool failed_check;
    mfw w;         /* frames and the error of the checks */
} enc;

static inline void set_end(enc *e)
{
    const mf_buf *b = e->b;
    size_t end = b->cap;
    if (b->limit && b->limit < end - (end > 0)) /* never above cap (0 while data is NULL) */
        end = b->limit + 1;
    e->end = end;
}

static void enc_init(enc *e, mf_buf *b, bool check, mf_error *err)
{
    e->b = b;
    e->end = 0;
    e->st = MF_OK;
    e->check = check;
    e->failed_check = false;
    mfw_init(&e->w, err);
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

/* A check's verdict: false (and the walk stops) when it failed. */
static inline bool checked(enc *e, mf_status st)
{
    if (st && !e->st) {
        e->st = st;
        e->failed_check = true;
    }
    return st == MF_OK;
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

/* bytes that end a plain run: controls, '"', '\\' and >= 0x80 */
static const unsigned char special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Copies the plain run at s[*i..n) to o (16 or 8 bytes at a time while the
 * allocation, which ends at lim, has room for the whole store); returns the
 * new o. The last 1..16 (or 1..8) bytes of the string go in one overlapping
 * load and store when that window starts inside this run: the bytes loaded
 * twice are plain and already written at the same place (s[*i..] maps to o
 * byte for byte within this call). */
static inline char *copy_plain(char *o, const char *lim, const char *s, size_t n, size_t *i)
{
    const size_t k0 = *i;
    size_t k = k0;
#ifdef __SSE2__
    while (k + 16 <= n && lim - o >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + k));
        __m128i sp = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                               _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                                  _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
        unsigned m = (unsigned)_mm_movemask_epi8(sp);
        _mm_storeu_si128((__m128i *)(void *)o, x);
        if (m) {
            unsigned z = (unsigned)__builtin_ctz(m);
            *i = k + z;
            return o + z;
        }
        k += 16;
        o += 16;
    }
    if (k < n && n - k <= 16 && n >= 16 && n - 16 >= k0 && lim - o >= (ptrdiff_t)(n - k)) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));
        __m128i sp = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                               _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                                  _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
        if (!_mm_movemask_epi8(sp)) {
            o += n - k;
            _mm_storeu_si128((__m128i *)(void *)(o - 16), x);
            *i = n;
            return o;
        }
    }
#endif
    while (k + 8 <= n && lim - o >= 8) {
        uint64_t x;
        memcpy(&x, s + k, 8);
        memcpy(o, &x, 8);
        if (mfw_special8(x))
            break;
        k += 8;
        o += 8;
    }
    if (k < n && n - k <= 8 && n >= 8 && n - 8 >= k0 && lim - o >= (ptrdiff_t)(n - k)) {
        uint64_t x;
        memcpy(&x, s + n - 8, 8);
        if (!mfw_special8(x)) {
            o += n - k;
            memcpy(o - 8, &x, 8);
            *i = n;
            return o;
        }
    }
    while (k < n && !special[(unsigned char)s[k]])
        *o++ = s[k++];
    *i = k;
    return o;
}

/*
 * '"' + s[0..n) escaped + '"'. With `check`, s must be well-formed UTF-8
 * (mf_utf8_valid's rules; a failure is MF_ERR_UTF8 at the current pointer).
 * One reservation covers the common case of no escapes; each escape
 * reserves for itself and the rest.
 */
static void put_text(enc *e, const char *s, size_t n, bool check)
{
    static const char hex[] = "0123456789abcdef";
    mf_buf *b = e->b;
    const size_t slack = b->limit ? 0 : 16; /* room for whole 16-byte stores, where no limit is near */
    size_t i = 0;
    if (!room(e, n + 2 + slack))
        return;
    char *o = b->data + b->len;
    *o++ = '"';
    for (;;) {
        o = copy_plain(o, b->data + b->cap, s, n, &i);
        if (i >= n)
            break;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t k = check ? mf_utf8_seq((const unsigned char *)s + i, n - i) : 1;
            if (!k) {
                b->len = (size_t)(o - b->data);
                checked(e, mfw_fail(&e->w, MF_ERR_UTF8, "expected a string of valid UTF-8, found invalid bytes"));
                return;
            }
            memcpy(o, s + i, k);
            o += k;
            i += k;
            continue;
        }
        i++;
        char sh = c == '"' ? '"' : c == '\\' ? '\\' : c == '\b' ? 'b' : c == '\f' ? 'f'
                : c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : 0;
        b->len = (size_t)(o - b->data);
        /* exactly the escape, the rest and the closing quote (and the slack):
         * a buffer limit of exactly the output size must work */
        if (!room(e, (sh ? 2 : 6) + (n - i) + 1 + slack))
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

static inline void put_str(enc *e, const char *s, size_t n)
{
    put_text(e, s, n, false);
}

static void emit(enc *e, const mf_type *t, const char *v);
static void emit_str(enc *e, const mf_type *t, const char *s);

static mf_status enter(enc *e)
{
    if (++e->w.depth > MF_MAX_DEPTH)
        return mfw_fail(&e->w, MF_ERR_SYNTAX, "nesting deeper than %d", MF_MAX_DEPTH);
    return MF_OK;
}

static void emit_obj(enc *e, const mf_type *t, const char *v)
{
    bool first = true;
    put_c(e, '{');
    for (uint32_t i = 0; i < t->field_count && !e->st; i++) {
        const mf_field *f = &t->fields[i];
        if (f->has_offset >= 0 && !*(const bool *)(v + f->has_offset)) {
            if (e->check && f->required) /* a generated struct has no flag for these; be safe */
                checked(e, mfw_fail_member(&e->w, MF_ERR_REQUIRED, f->name, "missing required member \"%s\"",
                                           f->name));
            continue;
        }
        if (f->key_text) { /* `,"name":` written once by the generator */
            put(e, f->key_text + first, f->key_len - first);
        } else {
            if (!first)
                put_c(e, ',');
            put_str(e, f->name, strlen(f->name));
            put_c(e, ':');
        }
        first = false;
        if (f->null_offset >= 0 && *(const bool *)(v + f->null_offset)) {
            put(e, "null", 4);
        } else {
            mfw_push_key(&e->w, f->name);
            if (f->type->kind == MF_K_STR && !f->type->not_type) /* emit's own case, without its dispatch */
                emit_str(e, f->type, *(char *const *)(v + f->offset));
            else
                emit(e, f->type, v + f->offset);
            mfw_pop(&e->w);
        }
    }
    put_c(e, '}');
}

static void emit_arr(enc *e, const mf_type *t, const mf_array *a)
{
    if (e->check) {
        if (a->count && !a->items) {
            checked(e, mfw_fail(&e->w, MF_ERR_INVALID_ARG, "expected an array: count is %zu but items is NULL",
                                a->count));
            return;
        }
        if (!checked(e, mfw_check_count(&e->w, t, a->count)))
            return;
    }
    put_c(e, '[');
    for (size_t i = 0; i < a->count && !e->st; i++) {
        if (i)
            put_c(e, ',');
        mfw_push_idx(&e->w, i);
        emit(e, t->item, (const char *)a->items + i * t->item->size);
        mfw_pop(&e->w);
    }
    put_c(e, ']');
    if (e->check && !e->st && (t->flags & MF_TF_UNIQUE))
        checked(e, mfw_check_unique(&e->w, t, a));
}

/* A map's count and keys, checked before its values (mf_validate's order). */
static bool check_map_keys(enc *e, const mf_type *t, const mf_map *m)
{
    char ec[MFW_ECHO_CAP];
    mf_status st;
    if (m->count && (!m->keys || !m->values))
        return checked(e, mfw_fail(&e->w, MF_ERR_INVALID_ARG,
                                   "expected a map: count is %zu but keys or values is NULL", m->count));
    if (!checked(e, mfw_check_count(&e->w, t, m->count)))
        return false;
    for (size_t i = 0; i < m->count; i++) {
        const char *k = m->keys[i];
        if (!k)
            return checked(e, mfw_fail(&e->w, MF_ERR_REQUIRED, "map key %zu is a NULL pointer", i));
        if (!mf_utf8_valid(k, strlen(k)))
            return checked(e, mfw_fail(&e->w, MF_ERR_UTF8, "map key %zu is not valid UTF-8", i));
    }
    const char *d = mfw_dup_key((const char *const *)m->keys, m->count, &st);
    if (st)
        return checked(e, mfw_fail(&e->w, st, "out of memory"));
    if (d)
        return checked(e, mfw_fail_member(&e->w, MF_ERR_DUPLICATE, d, "duplicate member \"%s\"",
                                          mfw_echo(ec, sizeof ec, d, strlen(d))));
    return true;
}

static void emit_map(enc *e, const mf_type *t, const mf_map *m)
{
    if (e->check && !check_map_keys(e, t, m))
        return;
    put_c(e, '{');
    for (size_t i = 0; i < m->count && !e->st; i++) {
        if (i)
            put_c(e, ',');
        put_str(e, m->keys[i], strlen(m->keys[i]));
        put_c(e, ':');
        mfw_push_key(&e->w, m->keys[i]);
        emit(e, t->item, (const char *)m->values + i * t->item->size);
        mfw_pop(&e->w);
    }
    put_c(e, '}');
}

/* Formats whose valid strings are all printable ASCII without '"' or '\\' (format.c:
 * digits, hex digits, '-', ':', '.', '+', 'T', 'Z' and their lower case): once
 * mf_format_check accepts one, it needs neither escaping nor the UTF-8 check. */
static inline bool plain_format(mf_format f)
{
    return f == MF_FMT_UUID || f == MF_FMT_DATE_TIME || f == MF_FMT_DATE || f == MF_FMT_TIME ||
           f == MF_FMT_TIME_HM;
}

/* A string: checked (UTF-8, then mfw_check_str's rules: mf_validate's order) and written. A string
 * of a plain format that passes its format check is written without the escaping scan. */
static void emit_str(enc *e, const mf_type *t, const char *s)
{
    if (!s) {
        checked(e, mfw_fail(&e->w, MF_ERR_REQUIRED, "expected %s, found a NULL pointer", mfw_kind_name(t)));
        return;
    }
    size_t n = strlen(s);
    if (e->check && plain_format(t->format) && mf_format_check(t->format, s, n)) {
        /* printable ASCII with nothing to escape: copied as is, no UTF-8 check needed */
        if (room(e, n + 2)) {
            char *o = e->b->data + e->b->len;
            o[0] = '"';
            memcpy(o + 1, s, n);
            o[n + 1] = '"';
            e->b->len += n + 2;
        }
        if (!e->st && ((t->min_len | t->max_len | (t->flags & MF_TF_HAS_CONST)) || t->pattern))
            checked(e, mfw_check_str(&e->w, t, s, n)); /* checks the format again: rare */
        return;
    }
    put_text(e, s, n, e->check);
    if (e->check && !e->st &&
        ((t->min_len | t->max_len | (uint32_t)t->format | (t->flags & MF_TF_HAS_CONST)) || t->pattern))
        checked(e, mfw_check_str(&e->w, t, s, n));
}

/* Containers: one nesting level each. */
static void emit_container(enc *e, const mf_type *t, const char *v)
{
    if (e->check && !checked(e, enter(e))) {
        e->w.depth--;
        return;
    }
    if (t->kind == MF_K_OBJ)
        emit_obj(e, t, v);
    else if (t->kind == MF_K_ARR)
        emit_arr(e, t, (const mf_array *)v);
    else
        emit_map(e, t, (const mf_map *)v);
    if (e->check)
        e->w.depth--;
}

/* A value whose checks need more than the value at hand (a union: its
 * branch, the discriminator, the other branches; `not`; raw text): the
 * validator checks it, then it is written without checks. */
static void emit_validated(enc *e, const mf_type *t, const char *v)
{
    if (!checked(e, mfw_validate_at(&e->w, t, v)))
        return;
    e->check = false;
    emit(e, t, v);
    e->check = true;
}

static void emit(enc *e, const mf_type *t, const char *v)
{
    if (e->check && (t->not_type || t->kind == MF_K_UNION || t->kind == MF_K_RAW)) {
        emit_validated(e, t, v);
        return;
    }
    switch (t->kind) {
    case MF_K_BOOL:
        if (e->check && (t->flags & MF_TF_HAS_CONST) && !checked(e, mfw_check_bool(&e->w, t, *(const bool *)v)))
            return;
        if (*(const bool *)v)
            put(e, "true", 4);
        else
            put(e, "false", 5);
        return;
    case MF_K_INT:
        if (e->check && !checked(e, mfw_check_int(&e->w, t, *(const int64_t *)v)))
            return;
        put_int(e, *(const int64_t *)v);
        return;
    case MF_K_NUM: {
        char tmp[32];
        if (e->check && !checked(e, mfw_check_num(&e->w, t, *(const double *)v)))
            return;
        size_t n = mfw_fmt_double(tmp, *(const double *)v);
        put(e, tmp, n);
        return;
    }
    case MF_K_STR:
        emit_str(e, t, *(char *const *)v);
        return;
    case MF_K_ENUM: {
        int x = *(const int *)v;
        if (e->check && (x < 1 || (uint32_t)x > t->enum_count)) {
            checked(e, mfw_fail(&e->w, MF_ERR_ENUM, "expected an enum value of %s in 1..%u, found %d",
                                t->name ? t->name : "the enum", (unsigned)t->enum_count, x));
            return;
        }
        const char *s = t->enum_values[x - 1];
        put_str(e, s, strlen(s));
        return;
    }
    case MF_K_RAW: {
        const char *s = *(char *const *)v;
        put(e, s, strlen(s));
        return;
    }
    case MF_K_OBJ:
    case MF_K_ARR:
    case MF_K_MAP:
        emit_container(e, t, v);
        return;
    case MF_K_UNION:
        emit(e, t->branches[*(const int *)v - 1], v + t->branch_offset);
        return;
    }
    if (e->check)
        checked(e, mfw_fail(&e->w, MF_ERR_INVALID_ARG, "descriptor %s has an unknown kind %d",
                            t->name ? t->name : "?", (int)t->kind));
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
    enc e;
    enc_init(&e, &b, false, NULL);
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
    enc e;
    enc_init(&e, b, false, NULL);
    set_end(&e);
    put_str(&e, s, n);
    if (!e.st)
        b->data[b->len] = '\0';
    return e.st;
}

mf_status mfw_value_tree(const mf_type *t, const void *v, cJSON **out)
{
    mf_buf b = MF_BUF_INIT;
    enc e;
    enc_init(&e, &b, false, NULL);
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
    enc e;
    size_t old;

    mf_error_clear(err);
    if (!t || !value || !out)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "mf_encode: NULL descriptor, value or buffer");
    old = out->len;
    enc_init(&e, out, true, err);
    /* one generous reservation; a buffer with a small limit grows as needed */
    if (out->cap < old + 1024 && (!out->limit || out->limit >= old + 1024))
        e.st = mf_buf_reserve(out, 1024);
    if (!e.st) {
        set_end(&e);
        emit(&e, t, value);
    }
    if (!e.st) {
        out->data[out->len] = '\0';
        return MF_OK;
    }
    out->len = old;
    if (out->data)
        out->data[old] = '\0';
    if (e.failed_check)
        return e.st; /* err says which value */
    /* the buffer failed first: a value that does not validate is still the error to report */
    mf_status st = mf_validate(t, value, err);
    if (st)
        return st;
    return mf_error_set(err, e.st, "", "cannot encode: %s (needed more than %zu bytes)",
                        e.st == MF_ERR_LIMIT ? "the buffer's size limit was reached" : "out of memory",
                        out->limit ? out->limit : out->cap);
}
