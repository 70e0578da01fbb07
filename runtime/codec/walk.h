/*
 * walk.h - private state and constraint checks shared by the decoder, the
 * validator and the encoder (runtime/codec/check.c).
 *
 * Every constraint is written once, in check.c, and called from both the
 * decoder (on freshly decoded values) and the validator (on values built in C).
 *
 * JSON pointers are built lazily: the walkers push cheap frames (a member name
 * or an array index) and the pointer text is rendered only when an error is
 * reported.
 */
#ifndef MF_WALK_H
#define MF_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "mf/codec.h"

/* Frames: one per nesting level plus one spare for "missing member" errors. */
#define MFW_MAX_FRAMES (MF_MAX_DEPTH + 8)

typedef struct mfw_frame {
    const char *key; /* member name / map key, or NULL for an index */
    size_t idx;
} mfw_frame;

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
        w->fr[w->nfr].idx = 0;
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

/* --- unions without a discriminator, `not` (decode.c, used by validate.c) --- */

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

/* `not`: MF_OK when n is not a valid t->not_type. */
mf_status mfw_check_not(mfw *w, const mf_type *t, cJSON *n);

/* The JSON tree of a valid value of t (the encoder's output, parsed back). */
mf_status mfw_value_tree(const mf_type *t, const void *v, cJSON **out);

/* uniqueItems: MF_OK when no two of the array's items are equal. */
mf_status mfw_check_unique(mfw *w, const mf_type *t, const mf_array *a);

/* --- shared by decode.c and validate.c --- */

/* Lexical checks of the prescan, on p[0..len): a string body from *pi (just
 * after its opening quote) and a number from *pi. On success *pi is just past
 * the token; errors are reported with a byte offset and pointer "". */
mf_status mfw_scan_string(const unsigned char *p, size_t len, size_t *pi, mf_error *err);
mf_status mfw_scan_number(const unsigned char *p, size_t len, size_t *pi, mf_error *err);

/*
 * The decoder's front end: checks the raw bytes (UTF-8, NUL, control
 * characters, number grammar, \u0000 and lone surrogate escapes, nesting
 * depth), parses with cJSON and rejects trailing data. On success *root is the
 * tree (caller deletes it).
 */
mf_status mfw_parse(const char *json, size_t len, cJSON **root, mf_error *err);

#endif
