/*
 * registry.c - lookups in a generated mf_registry and the subject helpers
 * (mf/registry.h).
 *
 * Address templates are NATS subjects whose tokens may hold `{name}`
 * placeholders. A placeholder normally is a whole token; one embedded in a
 * token ("user-{id}") also works: it takes the bytes up to the next literal
 * byte of the template (or up to the end of the token). A parameter value is
 * never empty and never contains '.', '*', '>', white space or control
 * characters, so one value is always exactly one subject token (or part of one).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "api/registry_int.h"
#include "codec/codec_int.h"
#include "mf/registry.h"

/* ---- lookups ------------------------------------------------------------- */

/* Binary search over an array of pointers to structs whose first member is
 * `const char *key`, sorted by strcmp of the key. */
#define BSEARCH_KEY(arr, count, k)                                      \
    do {                                                                \
        size_t lo_ = 0, hi_ = (count);                                  \
        while (lo_ < hi_) {                                             \
            size_t mid_ = lo_ + (hi_ - lo_) / 2;                        \
            int c_ = strcmp((k), (arr)[mid_]->key);                     \
            if (c_ == 0)                                                \
                return (arr)[mid_];                                     \
            if (c_ < 0)                                                 \
                hi_ = mid_;                                             \
            else                                                        \
                lo_ = mid_ + 1;                                         \
        }                                                               \
    } while (0)

const mf_message_desc *mf_registry_message(const mf_registry *r, const char *name)
{
    if (!r || !name || !r->messages)
        return NULL;
    BSEARCH_KEY(r->messages, r->message_count, name);
    for (size_t i = 0; i < r->message_count; i++)
        if (r->messages[i]->name && strcmp(r->messages[i]->name, name) == 0)
            return r->messages[i];
    return NULL;
}

const mf_channel_desc *mf_registry_channel(const mf_registry *r, const char *key_or_address)
{
    if (!r || !key_or_address || !r->channels)
        return NULL;
    BSEARCH_KEY(r->channels, r->channel_count, key_or_address);
    for (size_t i = 0; i < r->channel_count; i++)
        if (r->channels[i]->address && strcmp(r->channels[i]->address, key_or_address) == 0)
            return r->channels[i];
    return NULL;
}

const mf_operation_desc *mf_registry_operation(const mf_registry *r, const char *key)
{
    if (!r || !key || !r->operations)
        return NULL;
    BSEARCH_KEY(r->operations, r->operation_count, key);
    return NULL;
}

/* ---- parameter values ---------------------------------------------------- */

/* What each byte is to a parameter value, one table lookup a byte (values are checked on every
 * typed send): TOK_STOP for '.', '*' and '>' (subject syntax), TOK_CTL for white space and control
 * characters (<= 0x20 and 0x7f), TOK_HIGH for bytes of multi-byte UTF-8 (checked as UTF-8 after
 * the scan), 0 for the rest. */
enum { TOK_STOP = 1, TOK_CTL = 2, TOK_HIGH = 4 };
#define _ 0
#define S TOK_STOP
#define C TOK_CTL
#define H TOK_HIGH
static const uint8_t token_class[256] = {
    C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, /* 0x00 */
    C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, /* 0x10 */
    C, _, _, _, _, _, _, _, _, _, S, _, _, _, S, _, /* 0x20 */
    _, _, _, _, _, _, _, _, _, _, _, _, _, _, S, _, /* 0x30 */
    _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, /* 0x40 */
    _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, /* 0x50 */
    _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, /* 0x60 */
    _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, C, /* 0x70 */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0x80 */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0x90 */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0xa0 */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0xb0 */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0xc0 */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0xd0 */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0xe0 */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0xf0 */
};
#undef _
#undef S
#undef C
#undef H

/* "/<name>", the error pointer of a parameter, written into ptr only when there is an error. */
static const char *param_pointer(char ptr[MF_ERROR_POINTER_MAX], const char *name)
{
    snprintf(ptr, MF_ERROR_POINTER_MAX, "/%s", name);
    return ptr;
}

/* Index of the parameter called name[0..n) in c->params, or -1. */
static long param_index(const mf_channel_desc *c, const char *name, size_t n)
{
    for (size_t i = 0; i < c->param_count; i++) {
        const char *pn = c->params[i].name;
        if (pn && strlen(pn) == n && memcmp(pn, name, n) == 0)
            return (long)i;
    }
    return -1;
}

/* The subject-safety rules, without the parameter's type: not empty; no '.', '*', '>', white space
 * or control characters (the first such byte is reported); valid UTF-8. *ascii tells whether every
 * byte is below 0x80 (then the value has n code points). */
static mf_status check_token_value(const char *name, const char *v, size_t n, bool *ascii, mf_error *err)
{
    char ptr[MF_ERROR_POINTER_MAX];
    if (n == 0)
        return mf_error_set(err, MF_ERR_INVALID_ARG, param_pointer(ptr, name), "parameter %s must not be empty",
                            name);
    const unsigned char *u = (const unsigned char *)v;
    unsigned seen = 0; /* the classes of all bytes: one pass without a branch per byte */
    size_t i = 0;
#ifdef __SSE2__
    /* 16 plain bytes at a time (none of class != 0: a signed compare with 0x21 flags controls, space
     * and bytes >= 0x80 at once); the table takes over at the first chunk with one */
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
        __m128i bad = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')), _mm_cmpeq_epi8(x, _mm_set1_epi8('*'))),
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('>')), _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f))),
                         _mm_cmplt_epi8(x, _mm_set1_epi8(0x21))));
        if (_mm_movemask_epi8(bad))
            break;
    }
#endif
    for (; i < n; i++)
        seen |= token_class[u[i]];
    for (size_t i = 0; (seen & (TOK_STOP | TOK_CTL)) && i < n; i++) { /* a bad byte: the first one */
        unsigned k = token_class[u[i]];
        if (k & TOK_STOP)
            return mf_error_set(err, MF_ERR_INVALID_ARG, param_pointer(ptr, name),
                                "parameter %s must not contain '%c'", name, u[i]);
        if (k & TOK_CTL)
            return mf_error_set(err, MF_ERR_INVALID_ARG, param_pointer(ptr, name),
                                "parameter %s must not contain white space or control characters", name);
    }
    if ((seen & TOK_HIGH) && !mf_utf8_valid(v, n))
        return mf_error_set(err, MF_ERR_INVALID_ARG, param_pointer(ptr, name), "parameter %s is not valid UTF-8",
                            name);
    if (ascii)
        *ascii = !(seen & TOK_HIGH);
    return MF_OK;
}

/* The string constraints of the parameter's type. v[n] need not be NUL: the
 * pattern check gets a NUL-terminated copy. ascii: v has no byte >= 0x80. */
static mf_status check_typed_value(const mf_param_desc *p, const char *v, size_t n, bool ascii, mf_error *err)
{
    const mf_type *t = p->type;
    const char *name = p->name ? p->name : "";
    char ptr[MF_ERROR_POINTER_MAX];
    if (t->kind == MF_K_ENUM) {
        for (uint32_t i = 0; i < t->enum_count; i++) {
            const char *e = t->enum_values[i];
            if (e && strlen(e) == n && memcmp(e, v, n) == 0)
                return MF_OK;
        }
        return mf_error_set(err, MF_ERR_INVALID_ARG, param_pointer(ptr, name),
                            "parameter %s: \"%.*s\" is not one of the allowed values", name, n > 40 ? 40 : (int)n, v);
    }
    if (t->kind != MF_K_STR)
        return MF_OK; /* parameters are strings; other kinds carry no string constraints */
    if (t->format != MF_FMT_NONE && !mf_format_check(t->format, v, n))
        return mf_error_set(err, MF_ERR_INVALID_ARG, param_pointer(ptr, name), "parameter %s must be a valid %s",
                            name, mf_format_name(t->format));
    if (t->min_len || t->max_len) {
        size_t cps = ascii ? n : mf_utf8_count(v, n);
        if (cps < t->min_len)
            return mf_error_set(err, MF_ERR_INVALID_ARG, param_pointer(ptr, name),
                                "parameter %s must be at least %u characters long", name, (unsigned)t->min_len);
        if (t->max_len && cps > t->max_len)
            return mf_error_set(err, MF_ERR_INVALID_ARG, param_pointer(ptr, name),
                                "parameter %s must be at most %u characters long", name, (unsigned)t->max_len);
    }
    if ((t->flags & MF_TF_HAS_CONST) && t->constant.s &&
        (strlen(t->constant.s) != n || memcmp(t->constant.s, v, n) != 0))
        return mf_error_set(err, MF_ERR_INVALID_ARG, param_pointer(ptr, name), "parameter %s must be \"%s\"", name,
                            t->constant.s);
    if (t->pattern) {
        char buf[256];
        param_pointer(ptr, name);
        if (n >= sizeof buf)
            return mf_error_set(err, MF_ERR_INVALID_ARG, ptr, "parameter %s is too long", name);
        memcpy(buf, v, n);
        buf[n] = '\0';
        mf_error perr;
        if (mf_pattern_check(t->pattern, buf, n, ptr, &perr) != MF_OK)
            return mf_error_set(err, MF_ERR_INVALID_ARG, ptr, "parameter %s: %s", name, perr.message);
    }
    return MF_OK;
}

static mf_status check_value(const mf_param_desc *p, const char *v, size_t n, mf_error *err)
{
    bool ascii = false;
    mf_status st = check_token_value(p->name ? p->name : "", v, n, &ascii, err);
    if (st == MF_OK && p->type)
        st = check_typed_value(p, v, n, ascii, err);
    return st;
}

mf_status mf_param_check(const mf_param_desc *p, const char *value, mf_error *err)
{
    if (!p)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "no parameter descriptor");
    if (!value) {
        char ptr[MF_ERROR_POINTER_MAX];
        snprintf(ptr, sizeof ptr, "/%s", p->name ? p->name : "");
        return mf_error_set(err, MF_ERR_INVALID_ARG, ptr, "parameter %s is missing",
                            p->name ? p->name : "");
    }
    return check_value(p, value, strlen(value), err);
}

/* ---- matching templates -------------------------------------------------- */

/* One `{name}` found in a template at t: its name and the byte after '}'. */
static bool placeholder(const char *t, const char **name, size_t *name_len, const char **after)
{
    if (*t != '{')
        return false;
    const char *close = strchr(t, '}');
    if (!close)
        return false;
    *name = t + 1;
    *name_len = (size_t)(close - t - 1);
    *after = close + 1;
    return true;
}

typedef struct match_value {
    long index;          /* into c->params, -1 when unknown */
    const char *name;
    size_t name_len;
    const char *v;       /* into the subject */
    size_t n;
} match_value;

#define MATCH_MAX 32

/*
 * Matches subject against address. On success returns the number of
 * placeholders found (values in vals, up to MATCH_MAX), else -1. A placeholder
 * takes a non-empty run of bytes up to the template's next literal byte, which
 * is '.' or the end for a whole-token placeholder.
 */
static int match_template(const char *address, const char *subject, match_value *vals)
{
    const char *t = address, *s = subject;
    int count = 0;
    while (*t) {
        const char *name, *after;
        size_t name_len;
        if (placeholder(t, &name, &name_len, &after)) {
            char stop = *after; /* '\0' means: up to the end of the token */
            const char *start = s;
            while (*s && *s != '.' && *s != stop)
                s++;
            if (s == start || count >= MATCH_MAX)
                return -1;
            vals[count].index = -1;
            vals[count].name = name;
            vals[count].name_len = name_len;
            vals[count].v = start;
            vals[count].n = (size_t)(s - start);
            count++;
            t = after;
            continue;
        }
        if (*s != *t)
            return -1;
        s++;
        t++;
    }
    return *s ? -1 : count;
}

const mf_channel_desc *mf_registry_channel_for_subject(const mf_registry *r, const char *subject)
{
    if (!r || !subject || !r->channels)
        return NULL;
    const mf_channel_desc *best = NULL;
    int best_params = 0;
    match_value vals[MATCH_MAX];
    for (size_t i = 0; i < r->channel_count; i++) {
        const mf_channel_desc *c = r->channels[i];
        if (!c->address)
            continue;
        int k = match_template(c->address, subject, vals);
        if (k < 0)
            continue;
        bool ok = true;
        for (int j = 0; j < k && ok; j++)
            ok = check_token_value("", vals[j].v, vals[j].n, NULL, NULL) == MF_OK;
        /* The most literal match wins: "a.c.b" before "a.{x}.b". */
        if (ok && (!best || k < best_params)) {
            best = c;
            best_params = k;
        }
    }
    return best;
}

/* ---- building and parsing subjects --------------------------------------- */

/* Writes the subject of c for values (checked, except those whose bit is set in `checked`; NULL =
 * '*' when any_ok) into out[cap]. */
static mf_status build_subject(const mf_channel_desc *c, const char *const *values, bool any_ok, uint64_t checked,
                               char *out, size_t cap, mf_error *err)
{
    if (!c || !c->address)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "no channel");
    if (c->param_count && !values && !any_ok)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "channel %s needs %zu parameter values",
                            c->address, c->param_count);
    for (size_t i = 0; i < c->param_count; i++) {
        if (i < 64 && (checked >> i & 1))
            continue;
        const char *v = values ? values[i] : NULL;
        mf_status st = v || !any_ok ? mf_param_check(&c->params[i], v, err) : MF_OK;
        if (st)
            return st;
    }
    size_t len = 0; /* bytes the subject needs, without the NUL */
    const char *t = c->address;
    while (*t) {
        const char *name, *after;
        size_t name_len;
        const char *piece = t;
        size_t piece_len;
        if (placeholder(t, &name, &name_len, &after)) {
            long idx = param_index(c, name, name_len);
            if (idx < 0)
                return mf_error_set(err, MF_ERR_INVALID_ARG, "",
                                    "address %s names an undeclared parameter %.*s", c->address,
                                    (int)name_len, name);
            piece = values && values[idx] ? values[idx] : "*";
            piece_len = strlen(piece);
            t = after;
        } else {
            /* literal bytes up to the next '{' (one that opens no placeholder is a literal) */
            const char *brace = strchr(t + 1, '{');
            piece_len = brace ? (size_t)(brace - t) : strlen(t);
            t += piece_len;
        }
        if (out && len + piece_len < cap)
            memcpy(out + len, piece, piece_len);
        len += piece_len;
    }
    if (!out || len >= cap) {
        if (out && cap)
            out[0] = '\0';
        return mf_error_set(err, MF_ERR_LIMIT, "",
                            "subject needs %zu bytes, the buffer holds %zu", len + 1, cap);
    }
    out[len] = '\0';
    return MF_OK;
}

mf_status mf_channel_address(const mf_channel_desc *c, const char *const *values, char *out,
                             size_t cap, mf_error *err)
{
    return build_subject(c, values, false, 0, out, cap, err);
}

mf_status mf_channel_address_checked(const mf_channel_desc *c, const char *const *values, uint64_t checked,
                                     char *out, size_t cap, mf_error *err)
{
    return build_subject(c, values, false, checked, out, cap, err);
}

mf_status mf_channel_filter(const mf_channel_desc *c, const char *const *values, char *out, size_t cap,
                            mf_error *err)
{
    return build_subject(c, values, true, 0, out, cap, err);
}

mf_status mf_channel_parse(const mf_channel_desc *c, const char *subject, char **out_values,
                           size_t value_cap, mf_error *err)
{
    if (!c || !c->address || !subject)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "no channel or subject");
    match_value vals[MATCH_MAX];
    int k = match_template(c->address, subject, vals);
    if (k < 0)
        return mf_error_set(err, MF_ERR_NOT_FOUND, "", "subject %s does not match %s", subject,
                            c->address);
    /* Resolve names; a parameter used twice must have the same value twice. */
    for (int j = 0; j < k; j++) {
        vals[j].index = param_index(c, vals[j].name, vals[j].name_len);
        if (vals[j].index < 0)
            return mf_error_set(err, MF_ERR_INVALID_ARG, "",
                                "address %s names an undeclared parameter %.*s", c->address,
                                (int)vals[j].name_len, vals[j].name);
        for (int i = 0; i < j; i++)
            if (vals[i].index == vals[j].index &&
                (vals[i].n != vals[j].n || memcmp(vals[i].v, vals[j].v, vals[j].n) != 0))
                return mf_error_set(err, MF_ERR_NOT_FOUND, "", "subject %s does not match %s",
                                    subject, c->address);
    }
    for (int j = 0; j < k; j++) {
        const mf_param_desc *p = &c->params[vals[j].index];
        mf_status st = check_value(p, vals[j].v, vals[j].n, err);
        if (st)
            return st;
    }
    if (c->param_count && !out_values)
        return MF_OK; /* only a check was wanted */
    for (int j = 0; j < k; j++) {
        const mf_param_desc *p = &c->params[vals[j].index];
        char *dst = out_values[vals[j].index];
        if (!dst || vals[j].n >= value_cap) {
            char ptr[MF_ERROR_POINTER_MAX];
            snprintf(ptr, sizeof ptr, "/%s", p->name ? p->name : "");
            return mf_error_set(err, MF_ERR_LIMIT, ptr,
                                "parameter %s needs %zu bytes, the buffer holds %zu",
                                p->name ? p->name : "", vals[j].n + 1, dst ? value_cap : 0);
        }
        memcpy(dst, vals[j].v, vals[j].n);
        dst[vals[j].n] = '\0';
    }
    return MF_OK;
}
