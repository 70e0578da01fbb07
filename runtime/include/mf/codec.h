/*
 * mf/codec.h - the descriptor-driven JSON codec.
 *
 * Design (after nanopb): the generator does not emit a decoder per message. It
 * emits, for every schema, a constant mf_type table that says where each member
 * lives in the C struct and which constraints apply. One generic, well-tested
 * and fuzzed walker in runtime/codec/ decodes, validates, encodes, initialises
 * and frees any value from those tables. Bugs have one place to hide, generated
 * code stays small, and speed is the walker's job.
 *
 * C representation of each kind (the value at `offset` inside the parent):
 *   MF_K_BOOL   bool
 *   MF_K_INT    int64_t            (JSON numbers, integral, |v| < 2^53: exactly representable)
 *   MF_K_NUM    double             (finite)
 *   MF_K_STR    char *             (owned, NUL-terminated, valid UTF-8, no embedded NUL)
 *   MF_K_ENUM   int                (a generated C enum; 1..n, 0 = unset/invalid)
 *   MF_K_OBJ    the generated struct, inline
 *   MF_K_ARR    mf_array layout:   { T *items; size_t count; }
 *   MF_K_MAP    mf_map layout:     { char **keys; T *values; size_t count; }
 *   MF_K_RAW    char *             (owned compact JSON text of any value; free-form objects.
 *                                   Re-printed compactly, so numbers pass through a double;
 *                                   a non-nullable raw member takes `null` as the text "null")
 *   MF_K_UNION  { int which; <pad>; union { ... } u; }: `which` is 1..branch_count,
 *               0 = unset; the branch value lives at `branch_offset`.
 *
 * Presence: a required member has no flag. An optional member has `bool has_<x>`
 * (has_offset). A nullable member also has `bool <x>_is_null` (null_offset), so
 * absent, null and a value stay three different states. When an optional member
 * with a default is absent, has_<x> stays false and the value holds the default
 * (mf_init sets scalar defaults; the decoder also fills string defaults), so
 * re-encoding reproduces the input exactly.
 *
 * Ownership: every decoded string, array, map and raw text is heap memory owned
 * by the value; mf_free releases all of it and is safe on a zeroed, initialised
 * or partly decoded value. Nothing returned points into the JSON input.
 *
 * Thread safety: descriptor tables are read-only apart from mf_pattern, whose
 * lazy compilation is guarded inside the runtime; all functions may run on many
 * threads at once. (cJSON 1.7 stores its last parse error position in a global
 * on every parse; mflow never reads it, but a thread checker will see the write.)
 *
 * Error codes of mf_decode, beyond the obvious ones: MF_ERR_UTF8 for invalid
 * UTF-8, a raw NUL byte, an escaped \u0000 and lone surrogate escapes;
 * MF_ERR_SYNTAX for anything that is not one RFC 8259 JSON text (raw control
 * characters in strings, a BOM, numbers like 01 or 1., trailing data) and for
 * nesting deeper than MF_MAX_DEPTH. A union with several object branches and no
 * discriminator tries each of them (see mf_type.branches). mf_equal ignores the
 * values of absent members and compares map entries in order.
 *
 * Strings are taken over from cJSON's tree rather than copied, which needs
 * cJSON's default allocator (cJSON_InitHooks not called with other functions);
 * build the runtime with -DMF_CODEC_COPY_STRINGS to copy them instead.
 */
#ifndef MF_CODEC_H
#define MF_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mf/buf.h"
#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mf_kind {
    MF_K_BOOL = 1,
    MF_K_INT,
    MF_K_NUM,
    MF_K_STR,
    MF_K_ENUM,
    MF_K_OBJ,
    MF_K_ARR,
    MF_K_MAP,
    MF_K_RAW,
    MF_K_UNION
} mf_kind;

/* String formats. Their exact definitions are in docs/formats.md and runtime/codec/format.c. */
typedef enum mf_format {
    MF_FMT_NONE = 0,
    MF_FMT_UUID,      /* 8-4-4-4-12 hex digits, either case */
    MF_FMT_DATE_TIME, /* RFC 3339 date-time: full-date "T" full-time, offset required */
    MF_FMT_DATE,      /* RFC 3339 full-date with calendar checks (leap years) */
    MF_FMT_TIME,      /* RFC 3339 full-time: HH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
    MF_FMT_TIME_HM,   /* local wall-clock time "HH:MM" or "HH:MM:SS[.frac]", no offset
                         (x-mflow-format: time-hm; used for quiet hours) */
    MF_FMT_EMAIL      /* addr-spec subset of RFC 5321: dot-atom local part, DNS domain */
} mf_format;

/*
 * A `pattern` constraint. `source` is the ECMA-262 text from the spec, `ere` its
 * POSIX extended translation made by the generator. The runtime compiles `ere`
 * on first use (once per process, thread-safe) and keeps it; the last two
 * members are the runtime's and must be zero-initialised.
 */
typedef struct mf_pattern {
    const char *source;
    const char *ere;
    int state;      /* runtime-private: 0 = not compiled, 1 = ready, -1 = failed */
    void *compiled; /* runtime-private: the compiled regex and, for simple patterns, a direct matcher */
} mf_pattern;

/* A scalar constant (default or const), interpreted by the owning type's kind. */
typedef union mf_scalar {
    bool b;
    int64_t i;
    double n;
    int e;         /* enum value, 1-based */
    const char *s; /* static string */
} mf_scalar;

/* mf_type.flags */
enum {
    MF_TF_HAS_MIN = 1u << 0,    /* INT/NUM: minimum present */
    MF_TF_HAS_MAX = 1u << 1,    /* INT/NUM: maximum present */
    MF_TF_EXCL_MIN = 1u << 2,   /* INT/NUM: minimum is exclusive */
    MF_TF_EXCL_MAX = 1u << 3,   /* INT/NUM: maximum is exclusive */
    MF_TF_HAS_CONST = 1u << 4,  /* BOOL/INT/NUM/STR: value must equal `constant` */
    MF_TF_CLOSED = 1u << 5,     /* OBJ: additionalProperties: false, unknown keys rejected */
    MF_TF_RAW_OBJECT = 1u << 6, /* RAW: the value must be a JSON object */
    MF_TF_ANY_OF = 1u << 7,     /* UNION: anyOf (the first alternative that matches), not oneOf */
    MF_TF_UNIQUE = 1u << 8,     /* ARR: uniqueItems, no two items equal (mf_equal) */
    MF_TF_NO_DEFAULTS = 1u << 9 /* OBJ: no member has a default, nor has any member object's
                                   (mf_init only zeroes); optional, set by the generator */
};

typedef struct mf_type mf_type;

/* One member of an object. */
typedef struct mf_field {
    const char *name;       /* JSON member name */
    const mf_type *type;    /* what the member holds */
    uint32_t offset;        /* offsetof the value in the parent struct */
    int32_t has_offset;     /* offsetof `bool has_<x>`, or -1 for a required member */
    int32_t null_offset;    /* offsetof `bool <x>_is_null`, or -1 when null is not allowed */
    bool required;          /* absent member is an error */
    bool has_default;       /* `def` holds the schema's default (scalars and strings only) */
    mf_scalar def;
    /* `,"name":` exactly as mf_encode writes the member's name (escaped per RFC 8259), key_len
     * bytes; the encoder leaves the comma out before the first member. Optional: NULL (hand-written
     * descriptors) makes the encoder escape `name` itself, with the same result. */
    const char *key_text;
    uint32_t key_len;
    uint32_t reserved_[3];  /* zero; sizeof(mf_field) is 64, a power of two: a field's index is a shift */
} mf_field;

struct mf_type {
    mf_kind kind;
    const char *name;       /* C type name, for diagnostics */
    uint32_t size;          /* sizeof the C value (array element size for items) */
    uint32_t flags;         /* MF_TF_* */

    /* INT */
    int64_t imin, imax;
    /* NUM */
    double nmin, nmax;
    /* STR: lengths in Unicode code points; max_len 0 = unlimited */
    uint32_t min_len, max_len;
    mf_format format;
    mf_pattern *pattern;    /* NULL = none */
    mf_scalar constant;     /* with MF_TF_HAS_CONST */

    /* ENUM: values[i] is the JSON string of C value i + 1 */
    const char *const *enum_values;
    uint32_t enum_count;

    /* OBJ: members in schema order (also the encoding order) */
    const mf_field *fields;
    uint32_t field_count;

    /* ARR items / MAP values; max_items 0 = unlimited */
    const mf_type *item;
    uint32_t min_items, max_items;

    /* UNION (oneOf, or anyOf with MF_TF_ANY_OF). Branches are told apart by JSON
     * type; object branches that share a JSON type are told apart by the string
     * member `discriminator`, whose value must equal disc_values[i] for branch i.
     * Without a discriminator, every object branch (OBJ or MAP) is tried on an
     * object: oneOf takes the one that matches and rejects a value that matches
     * none or several; anyOf takes the first that matches. */
    const mf_type *const *branches;
    uint32_t branch_count;
    uint32_t branch_offset; /* offsetof the branch value inside the union struct */
    const char *discriminator;
    const char *const *disc_values;

    /* INT/NUM: multipleOf (0 = none). An integer must divide exactly; a number
     * v is a multiple of m when v / m is within 1e-9 of an integer. */
    double multiple_of;
    /* INT: an enum of integers (int_value_count 0 = any integer). */
    const int64_t *int_values;
    uint32_t int_value_count;
    /* Any kind: `not`: a value that is also a valid not_type is rejected
     * (MF_ERR_UNION). NULL = none. */
    const mf_type *not_type;
};

/* Generic layouts of MF_K_ARR and MF_K_MAP values; generated structs use typed
 * members with exactly this layout. */
typedef struct mf_array {
    void *items;
    size_t count;
} mf_array;

typedef struct mf_map {
    char **keys;
    void *values;
    size_t count;
} mf_map;

/* Limits the decoder enforces before any schema check. */
#define MF_MAX_DEPTH 64                  /* nesting of arrays/objects */
#define MF_MAX_SAFE_INT 9007199254740992LL /* 2^53: integers must satisfy |v| < 2^53 */

/* Zeroes *value and sets the scalar defaults of every member (recursively into
 * inline objects). Never allocates, never fails. */
void mf_init(const mf_type *t, void *value);

/*
 * Parses `len` bytes of JSON (they need not be NUL-terminated) and decodes them
 * into *out, which must not hold owned memory (it is initialised first).
 * Fail-closed: syntax errors, trailing garbage, invalid UTF-8, wrong types,
 * missing required members, duplicate members, unknown members of closed
 * objects and every constraint violation are errors. On error *out is freed
 * and re-initialised (holds no memory), and err (may be NULL) names the first
 * offending value by JSON pointer.
 */
mf_status mf_decode(const mf_type *t, const char *json, size_t len, void *out, mf_error *err);

/* Checks every constraint of a value built in C (required pointers set, enums
 * in range, formats, bounds...). Does not modify the value. */
mf_status mf_validate(const mf_type *t, const void *value, mf_error *err);

/*
 * Validates, then appends compact JSON to `out` (members in schema order,
 * absent optional members omitted). On error nothing is appended (out->len is
 * restored). The result decodes back to an equal value.
 */
mf_status mf_encode(const mf_type *t, const void *value, mf_buf *out, mf_error *err);

/* Releases everything the value owns and re-initialises it. NULL-safe. */
void mf_free(const mf_type *t, void *value);

/* Deep copy: *dst must not hold owned memory. On failure *dst holds nothing. */
mf_status mf_copy(const mf_type *t, void *dst, const void *src, mf_error *err);

/* Deep equality (strings by content, raw JSON by text). */
bool mf_equal(const mf_type *t, const void *a, const void *b);

/* Enum helpers over a descriptor: string for value v (NULL when out of range),
 * value for string s of length n (0 when unknown). */
const char *mf_enum_to_string(const mf_type *t, int v);
int mf_enum_from_string(const mf_type *t, const char *s, size_t n);

/* Format checks, usable on their own. `s` need not be NUL-terminated. */
bool mf_format_check(mf_format f, const char *s, size_t n);
const char *mf_format_name(mf_format f);
/* true when s[0..n) is well-formed UTF-8 with no NUL byte and no surrogates/overlongs. */
bool mf_utf8_valid(const char *s, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* MF_CODEC_H */
