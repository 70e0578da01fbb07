/*
 * rules.h - the rule walker's private header: the walk state (pointer
 * frames, the error), the constraint and union rules, the error reports and
 * the lexical scanners, shared by the decoders, the validator (mf_validate)
 * and the encoder.
 *
 * Every constraint is written once, in rules.c, and called from both the
 * decoder (on freshly decoded values) and the validator (on values built in
 * C, check_value.c). Error reports are in report.c, the lexical rules of JSON
 * text in prescan.c. Names: mfw_ (the walker).
 *
 * JSON pointers are built lazily: the walkers push cheap frames (a member name
 * or an array index) and the pointer text is rendered only when an error is
 * reported.
 */
#ifndef MF_CODEC_RULES_H
#define MF_CODEC_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cJSON.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "mf/codec.h"
#include "codec/utf8.h"

/* Frames: one per nesting level plus one spare for "missing member" errors. */
#define MFW_MAX_FRAMES (MF_MAX_DEPTH + 8)

typedef struct mfw_frame {
    const char *key; /* member name / map key, or NULL for an index */
    size_t idx;      /* the index; for a key, its length in bytes, or MFW_NUL:
                        up to its NUL (a key need not be NUL-terminated) */
} mfw_frame;

#define MFW_NUL ((size_t)-1)

typedef struct mfw {
    mf_error *err;   /* may be NULL */
    unsigned depth;  /* nesting of objects/arrays/maps being walked */
    unsigned nfr;    /* frames in use */
    bool copy;       /* decoder: copy strings out of the tree instead of taking them
                        (a trial decode leaves the tree as it was) */
    mfw_frame fr[MFW_MAX_FRAMES];
} mfw;

static inline void mfw_init(mfw *w, mf_error *err)
{
    w->err = err;
    w->depth = 0;
    w->nfr = 0;
    w->copy = false;
}

/* Frames past the array are dropped (the pointer is then truncated, never overflowed). */
static inline void mfw_push_key(mfw *w, const char *key)
{
    if (w->nfr < MFW_MAX_FRAMES) {
        w->fr[w->nfr].key = key;
        w->fr[w->nfr].idx = MFW_NUL;
    }
    w->nfr++;
}

/* A key of n bytes (no NUL among them), which must stay readable while pushed. */
static inline void mfw_push_keyn(mfw *w, const char *key, size_t n)
{
    if (w->nfr < MFW_MAX_FRAMES) {
        w->fr[w->nfr].key = key;
        w->fr[w->nfr].idx = n;
    }
    w->nfr++;
}

static inline void mfw_push_idx(mfw *w, size_t idx)
{
    if (w->nfr < MFW_MAX_FRAMES) {
        w->fr[w->nfr].key = NULL;
        w->fr[w->nfr].idx = idx;
    }
    w->nfr++;
}

static inline void mfw_pop(mfw *w)
{
    w->nfr--;
}

/* Renders the current pointer (plus `extra` as one more member when not NULL). */
void mfw_pointer(const mfw *w, const char *extra, char *out, size_t cap);

/* Reports an error at the current pointer; returns code. */
mf_status mfw_fail(mfw *w, mf_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Reports an error at the current pointer plus member `extra`. */
mf_status mfw_fail_member(mfw *w, mf_status code, const char *extra, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Copies s[0..n) into out (cap bytes) for quoting in a message: at most ~40
 * bytes cut on a code point boundary, control characters shown as '?', "..."
 * appended when cut. Returns out. */
const char *mfw_echo(char *out, size_t cap, const char *s, size_t n);
#define MFW_ECHO_CAP 48

/* Shortest of %.15g/%.16g/%.17g that reads back to v (locale-independent,
 * '.' as decimal point). v must be finite. Writes at most 31 bytes + NUL into
 * out[32]; returns the length. */
size_t mfw_fmt_double(char out[32], double v);

/* "a string", "an integer", ... for messages. */
const char *mfw_kind_name(const mf_type *t);

/* --- constraint checks (the one place each rule is written) --- */

/* Integer: |v| < 2^53 (MF_MAX_SAFE_INT), then minimum/maximum/const. */
mf_status mfw_check_int(mfw *w, const mf_type *t, int64_t v);
/* Number: finite, then minimum/maximum/const. */
mf_status mfw_check_num(mfw *w, const mf_type *t, double v);
mf_status mfw_check_bool(mfw *w, const mf_type *t, bool v);
/* String already known to be valid UTF-8 without NUL, s[n] == '\0':
 * minLength/maxLength (code points), format, pattern, const. */
mf_status mfw_check_str(mfw *w, const mf_type *t, const char *s, size_t n);
/* minItems/maxItems of an array or map with `count` entries. */
mf_status mfw_check_count(mfw *w, const mf_type *t, size_t count);
/* Enum lookup by text; returns 1..n or 0 (and reports MF_ERR_ENUM listing the values). */
int mfw_enum_lookup(mfw *w, const mf_type *t, const char *s, size_t n, mf_status *st);

/* First key that occurs twice among keys[0..cnt) (none may be NULL), or NULL.
 * *st is MF_ERR_NOMEM when the check could not run. */
const char *mfw_dup_key(const char *const *keys, size_t cnt, mf_status *st);

/* Compact JSON text of a cJSON subtree (encode.c's writer: strings escaped as
 * mf_encode does, numbers by mfw_fmt_double). *out is malloc'd. Non-finite
 * numbers give MF_ERR_RANGE. */
mf_status mfw_print_raw(const cJSON *n, char **out);

/* --- unions without a discriminator, `not` (decoders; check_value.c) --- */

/* True when t (a union) picks among several object branches by trying them. */
static inline bool mfw_union_tries(const mf_type *t)
{
    uint32_t objs = 0;
    if (t->discriminator)
        return false;
    for (uint32_t i = 0; i < t->branch_count; i++)
        objs += t->branches[i]->kind == MF_K_OBJ || t->branches[i]->kind == MF_K_MAP;
    return objs > 1;
}

/* Decodes n as t into a scratch value that is freed again, leaving the tree as
 * it was: MF_OK when n is a valid t, else the reason in *e (MF_ERR_NOMEM: the
 * check itself could not run). w gives the pointer frames and the depth. */
mf_status mfw_try(const mfw *w, const mf_type *t, cJSON *n, mf_error *e);

/* Checks the JSON of a value of union t that holds branch bi (already valid):
 * oneOf: no other object branch matches it; anyOf: no earlier one does. So
 * the value decodes back to the same branch. */
mf_status mfw_union_recheck(mfw *w, const mf_type *t, uint32_t bi, const void *bv);

/* JSON types, as the union rules see them. */
typedef enum mfw_jtype { MFW_J_BOOL, MFW_J_NUM, MFW_J_STR, MFW_J_ARR, MFW_J_OBJ, MFW_J_NULL } mfw_jtype;

/* "a boolean", "a number", ... "null". */
const char *mfw_jtype_name(mfw_jtype jt);

/*
 * The branch of union t for a value of JSON type jt that is not an object:
 * a boolean goes to the first BOOL branch; a number (its double in `num`)
 * to the first INT branch when it is integral and below 2^53, else the
 * first NUM branch, else the other numeric kind (which reports why); a
 * string (its value in `str`) to the first ENUM branch that lists it, else
 * the first STR branch, else the first ENUM branch (which reports the
 * values); an array to the first ARR branch. -1: none (and for objects and
 * null).
 */
int mfw_union_pick(const mf_type *t, mfw_jtype jt, double num, const char *str);

/* An object for union t, when its branches are not tried: the first branch
 * that takes objects (OBJ, MAP, RAW); *count says how many do. */
int mfw_union_pick_object(const mf_type *t, uint32_t *count);

/* The branch whose disc_values entry is `value` (-1: none). */
int mfw_union_pick_disc(const mf_type *t, const char *value);

/* MF_ERR_UNION "expected one of: <kinds>; found <found>". */
mf_status mfw_union_error(mfw *w, const mf_type *t, const char *found);

/* MF_ERR_UNION at the discriminator member: `value` selects no branch. */
mf_status mfw_disc_error(mfw *w, const mf_type *t, const char *value);

/*
 * One trial decode of a value as b, for the union and `not` rules of both
 * decoders (the reference tries a cJSON subtree, the direct decoder the text
 * at its position): MF_OK when the value is a valid b, else the reason in
 * *e. Setting *stop ends the rule at once with the returned status (the
 * direct decoder's syntax errors).
 */
typedef mf_status (*mfw_trial_fn)(void *ctx, const mf_type *b, mf_error *e, bool *stop);

/* An object for union t whose object branches are told apart by trying
 * them (mfw_union_tries): oneOf needs exactly one to match, anyOf takes the
 * first; *pick is that branch. Otherwise MF_ERR_UNION with the closest
 * branch's error (the longest pointer), or MF_ERR_NOMEM. */
mf_status mfw_union_try(mfw *w, const mf_type *t, mfw_trial_fn trial, void *ctx, int *pick);

/* `not`: MF_OK when the value is not a valid t->not_type (tried with trial). */
mf_status mfw_not_rule(mfw *w, const mf_type *t, mfw_trial_fn trial, void *ctx);

/* `not`: MF_OK when n is not a valid t->not_type. */
mf_status mfw_check_not(mfw *w, const mf_type *t, cJSON *n);

/* mf_validate of the value v of t, under w's frames and depth (check_value.c;
 * the encoder checks unions, `not` and raw text with it). */
mf_status mfw_validate_at(mfw *w, const mf_type *t, const void *v);

/* The JSON tree of a valid value of t (the encoder's output, parsed back). */
mf_status mfw_value_tree(const mf_type *t, const void *v, cJSON **out);

/* uniqueItems: MF_OK when no two of the array's items are equal. */
mf_status mfw_check_unique(mfw *w, const mf_type *t, const mf_array *a);

/* --- shared by the decoders, the encoder and check_value.c --- */

/* The same for the 8 bytes of x (as loaded from memory, by memcpy): nonzero
 * when one of them is >= 0x80, < 0x20, '"' or '\\'. The lowest flagged byte
 * is always a true match (borrows only propagate upwards). */
static inline uint64_t mfw_special8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t lt20 = (x - ones * 0x20) & ~x;
    uint64_t q = x ^ (ones * '"');
    uint64_t b = x ^ (ones * '\\');
    return (x | lt20 | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
}

/* The mask of bytes that end a plain run of a JSON string in the 16 bytes
 * at q (bit k: q[k]): '"', '\\', controls and bytes >= 0x80 (which need the
 * UTF-8 check). With SSE2, a signed compare flags both of the last two. */
static inline unsigned mfw_special16(const unsigned char *q)
{
#ifdef __SSE2__
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
    __m128i sp = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                           _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                              _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
    return (unsigned)_mm_movemask_epi8(sp);
#else
    unsigned m = 0;
    for (int k = 0; k < 16; k++)
        m |= (unsigned)(q[k] == '"' || q[k] == '\\' || q[k] < 0x20 || q[k] >= 0x80) << k;
    return m;
#endif
}

/* Value of the 4 hex digits at p[0..4) (avail bytes readable), or -1. */
long mfw_hex4(const unsigned char *p, size_t avail);

/* Lexical checks of the prescan, on p[0..len): a string body from *pi (just
 * after its opening quote) and a number from *pi. On success *pi is just past
 * the token; errors are reported with a byte offset and pointer "". */
mf_status mfw_scan_string(const unsigned char *p, size_t len, size_t *pi, mf_error *err);
mf_status mfw_scan_number(const unsigned char *p, size_t len, size_t *pi, mf_error *err);

/*
 * The lexical checks of the whole text, in byte order (the reference's first
 * step, see decode_tree.c): UTF-8, NUL, control characters, the number
 * grammar, \u0000 and lone surrogate escapes, nesting depth. Says nothing
 * about the grammar beyond tokens. Errors: MF_ERR_UTF8 or MF_ERR_SYNTAX,
 * pointer "".
 */
mf_status mfw_prescan(const unsigned char *p, size_t len, mf_error *err);

/*
 * Whether json[0..len) is one JSON text as the reference decoder sees it:
 * mfw_prescan, then the grammar (what cJSON accepts after the prescan), then
 * nothing but white space after the value. MF_OK, or the error the
 * reference would report (pointer ""). decode.c: the direct decoder calls it
 * on any error, so that a syntax error anywhere wins over a schema error,
 * and a lexical error over a grammar error, as in the reference.
 */
mf_status mfw_json_check(const char *json, size_t len, mf_error *err);

/* Appends the JSON string of s[0..n) (quotes, escapes as mf_encode writes
 * them) to b (encode.c). */
mf_status mfw_buf_put_string(mf_buf *b, const char *s, size_t n);

/*
 * The decoder's front end: checks the raw bytes (UTF-8, NUL, control
 * characters, number grammar, \u0000 and lone surrogate escapes, nesting
 * depth), parses with cJSON and rejects trailing data. On success *root is the
 * tree (caller deletes it).
 */
mf_status mfw_parse(const char *json, size_t len, cJSON **root, mf_error *err);

#endif
