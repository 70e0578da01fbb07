/*
 * fixtures.h - hand-written C types and mf_type descriptors for the codec's
 * unit tests, laid out exactly as mfgen emits them (has_<x> before <x>,
 * <x>_is_null for nullable members, { T *items; size_t count; } arrays,
 * { char **keys; T *values; size_t count; } maps, { int which; union u; } unions).
 *
 * fx_doc covers every kind and constraint; see fixtures.c for the schema.
 */
#ifndef MF_TEST_FIXTURES_H
#define MF_TEST_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mf/codec.h"

typedef enum fx_color { FX_COLOR_RED = 1, FX_COLOR_GREEN, FX_COLOR_BLUE } fx_color;

/* closed object: {"x": int, "y": int}, both required */
typedef struct fx_point {
    int64_t x;
    int64_t y;
} fx_point;

/* every member optional with a default */
typedef struct fx_settings {
    bool has_enabled;
    bool enabled;    /* default true */
    bool has_retries;
    int64_t retries; /* default 3, 0 <= v <= 10 */
    bool has_ratio;
    double ratio;    /* default 0.5, 0 <= v < 1 */
    bool has_color;
    fx_color color;  /* default "green" */
    bool has_label;
    char *label;     /* default "none" */
} fx_settings;

/* union by discriminator "kind" */
typedef struct fx_circle {
    char *kind; /* const "circle" */
    double radius; /* > 0 */
} fx_circle;
typedef struct fx_rect {
    char *kind; /* const "rect" */
    double w;
    double h;
} fx_rect;
enum { FX_SHAPE_CIRCLE = 1, FX_SHAPE_RECT = 2 };
typedef struct fx_shape {
    int which;
    union {
        fx_circle circle;
        fx_rect rect;
    } u;
} fx_shape;

/* union by JSON type */
enum { FX_ANY_BOOL = 1, FX_ANY_INT, FX_ANY_NUM, FX_ANY_STR, FX_ANY_ARR, FX_ANY_OBJ };
typedef struct fx_any {
    int which;
    union {
        bool b;
        int64_t i;
        double n;
        char *s;
        struct {
            int64_t *items;
            size_t count;
        } arr;
        fx_point pt;
    } u;
} fx_any;

typedef struct fx_labels {
    char **keys;
    char **values;
    size_t count;
} fx_labels;

typedef struct fx_doc {
    char *id;       /* required, uuid */
    char *name;     /* required, 1..10 code points */
    int64_t count;  /* required, 1 <= v <= 100 */
    bool has_score;
    double score;   /* 0 < v < 100 */
    bool has_level;
    int64_t level;  /* 0 < v < 10 */
    bool has_temp;
    double temp;    /* -50 <= v <= 50 */
    fx_color color; /* required */
    bool has_created;
    char *created;  /* date-time */
    bool has_day;
    char *day;      /* date */
    bool has_at;
    char *at;       /* time */
    bool has_quiet;
    char *quiet;    /* time-hm */
    bool has_email;
    char *email;    /* email */
    bool has_code;
    char *code;     /* pattern ^[A-Z]{3}-[0-9]+$ */
    bool has_version;
    char *version;  /* const "v1" */
    bool has_answer;
    int64_t answer; /* const 42 */
    bool has_flag;
    bool flag;      /* const true */
    bool has_pi;
    double pi;      /* const 3.5 */
    bool has_note;
    bool note_is_null;
    char *note;     /* optional, nullable */
    bool owner_is_null;
    char *owner;    /* required, nullable */
    bool has_lang;
    char *lang;     /* default "en" */
    bool has_tags;
    struct {
        char **items;
        size_t count;
    } tags;         /* 1..3 items, each 1..5 code points */
    bool has_points;
    struct {
        fx_point *items;
        size_t count;
    } points;
    bool has_colors;
    struct {
        fx_color *items;
        size_t count;
    } colors;
    bool has_settings;
    fx_settings settings;
    bool has_labels;
    fx_labels labels; /* at most 4 members */
    bool has_extra;
    char *extra;    /* raw, any value */
    bool has_meta;
    char *meta;     /* raw, object only */
    bool has_shape;
    fx_shape shape;
    bool has_any;
    fx_any any;
    bool has_weird;
    char *weird;    /* JSON member "a/b~c" (pointer escaping) */
} fx_doc;

/* A recursive tree (via an array) for nesting tests: {"kids":[{"kids":[]}]} */
typedef struct fx_tree fx_tree;
struct fx_tree {
    bool has_kids;
    struct {
        fx_tree *items;
        size_t count;
    } kids;
};

/* An object with FX_WIDE_N optional integer members "f0".."f69" (> 64 fields). */
#define FX_WIDE_N 70
typedef struct fx_wide_member {
    bool has;
    int64_t v;
} fx_wide_member;
typedef struct fx_wide {
    fx_wide_member f[FX_WIDE_N];
} fx_wide;

extern const mf_type fx_color_desc;
extern const mf_type fx_point_desc;
extern const mf_type fx_settings_desc;
extern const mf_type fx_shape_desc;
extern const mf_type fx_any_desc;
extern const mf_type fx_labels_desc;
extern const mf_type fx_doc_desc;
extern const mf_type fx_tree_desc;
/* top-level scalars and containers */
extern const mf_type fx_raw_desc;      /* char *: any JSON value */
extern const mf_type fx_raw_obj_desc;  /* char *: a JSON object */
extern const mf_type fx_int_desc;      /* int64_t, no bounds */
extern const mf_type fx_num_desc;      /* double, no bounds */
extern const mf_type fx_str_desc;      /* char *, no constraints */
extern const mf_type fx_int_list_desc; /* { int64_t *items; size_t count; } */
const mf_type *fx_wide_desc(void);

/* Canonical compact JSON of a full fx_doc (every member present) and a
 * minimal one (required members only): encode(decode(x)) == x byte for byte. */
extern const char fx_doc_full_json[];
extern const char fx_doc_min_json[];

/* Fills *d (initialised first) with the value of fx_doc_full_json, built in C. */
void fx_doc_build_full(fx_doc *d);

/* Storage for a decoded value of any fixture type. */
typedef union fx_out {
    fx_doc doc;
    fx_wide wide;
    fx_tree tree;
    fx_point point;
    fx_any any;
    char *str;
    int64_t i;
    double n;
    mf_array arr;
    long double align_;
} fx_out;

/* Returns a malloc'd copy of src with the first occurrence of `from` replaced
 * by `to` (aborts when `from` is absent, so a typo in a test cannot pass). */
char *fx_replace(const char *src, const char *from, const char *to);

/* true when the bytes of v equal those of a freshly mf_init'ed value of t. */
bool fx_is_init(const mf_type *t, const void *v);

/* Test helpers: decode `json` (NUL-terminated) as type t and return the status;
 * err receives the error. */
mf_status fx_decode_str(const mf_type *t, const char *json, void *out, mf_error *err);

#endif
