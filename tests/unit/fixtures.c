/*
 * fixtures.c - descriptors for fixtures.h, written the way mfgen emits them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

#define FLD_REQ(S, m, T) \
    { .name = #m, .type = &(T), .offset = offsetof(S, m), .has_offset = -1, .null_offset = -1, .required = true }
#define FLD_OPT(S, m, T) \
    { .name = #m, .type = &(T), .offset = offsetof(S, m), .has_offset = (int32_t)offsetof(S, has_##m), \
      .null_offset = -1, .required = false }

/* ---- enum ---- */
static const char *const fx_color__values[] = {"red", "green", "blue"};
const mf_type fx_color_desc = {
    .kind = MF_K_ENUM, .name = "fx_color", .size = sizeof(fx_color),
    .enum_values = fx_color__values, .enum_count = 3,
};

/* ---- plain scalar types ---- */
static const mf_type fx_bool = {.kind = MF_K_BOOL, .name = "bool", .size = sizeof(bool)};
const mf_type fx_int_desc = {.kind = MF_K_INT, .name = "int64_t", .size = sizeof(int64_t)};
const mf_type fx_num_desc = {.kind = MF_K_NUM, .name = "double", .size = sizeof(double)};
const mf_type fx_str_desc = {.kind = MF_K_STR, .name = "char *", .size = sizeof(char *)};
const mf_type fx_raw_desc = {.kind = MF_K_RAW, .name = "raw", .size = sizeof(char *)};
const mf_type fx_raw_obj_desc = {.kind = MF_K_RAW, .name = "raw object", .size = sizeof(char *),
                                 .flags = MF_TF_RAW_OBJECT};
const mf_type fx_int_list_desc = {.kind = MF_K_ARR, .name = "int list", .size = sizeof(mf_array),
                                  .item = &fx_int_desc};

/* ---- fx_point: closed ---- */
static const mf_field fx_point__fields[] = {
    FLD_REQ(fx_point, x, fx_int_desc),
    FLD_REQ(fx_point, y, fx_int_desc),
};
const mf_type fx_point_desc = {
    .kind = MF_K_OBJ, .name = "fx_point", .size = sizeof(fx_point), .flags = MF_TF_CLOSED,
    .fields = fx_point__fields, .field_count = 2,
};

/* ---- fx_settings: defaults ---- */
static const mf_type fx_settings__retries = {
    .kind = MF_K_INT, .name = "fx_settings.retries", .size = sizeof(int64_t),
    .flags = MF_TF_HAS_MIN | MF_TF_HAS_MAX, .imin = 0, .imax = 10,
};
static const mf_type fx_settings__ratio = {
    .kind = MF_K_NUM, .name = "fx_settings.ratio", .size = sizeof(double),
    .flags = MF_TF_HAS_MIN | MF_TF_HAS_MAX | MF_TF_EXCL_MAX, .nmin = 0, .nmax = 1,
};
static const mf_field fx_settings__fields[] = {
    {.name = "enabled", .type = &fx_bool, .offset = offsetof(fx_settings, enabled),
     .has_offset = (int32_t)offsetof(fx_settings, has_enabled), .null_offset = -1,
     .has_default = true, .def = {.b = true}},
    {.name = "retries", .type = &fx_settings__retries, .offset = offsetof(fx_settings, retries),
     .has_offset = (int32_t)offsetof(fx_settings, has_retries), .null_offset = -1,
     .has_default = true, .def = {.i = 3}},
    {.name = "ratio", .type = &fx_settings__ratio, .offset = offsetof(fx_settings, ratio),
     .has_offset = (int32_t)offsetof(fx_settings, has_ratio), .null_offset = -1,
     .has_default = true, .def = {.n = 0.5}},
    {.name = "color", .type = &fx_color_desc, .offset = offsetof(fx_settings, color),
     .has_offset = (int32_t)offsetof(fx_settings, has_color), .null_offset = -1,
     .has_default = true, .def = {.e = FX_COLOR_GREEN}},
    {.name = "label", .type = &fx_str_desc, .offset = offsetof(fx_settings, label),
     .has_offset = (int32_t)offsetof(fx_settings, has_label), .null_offset = -1,
     .has_default = true, .def = {.s = "none"}},
};
const mf_type fx_settings_desc = {
    .kind = MF_K_OBJ, .name = "fx_settings", .size = sizeof(fx_settings),
    .fields = fx_settings__fields, .field_count = 5,
};

/* ---- fx_shape: union by discriminator ---- */
static const mf_type fx_circle__kind = {.kind = MF_K_STR, .name = "fx_circle.kind", .size = sizeof(char *),
                                        .flags = MF_TF_HAS_CONST, .constant = {.s = "circle"}};
static const mf_type fx_circle__radius = {.kind = MF_K_NUM, .name = "fx_circle.radius", .size = sizeof(double),
                                          .flags = MF_TF_HAS_MIN | MF_TF_EXCL_MIN, .nmin = 0};
static const mf_field fx_circle__fields[] = {
    FLD_REQ(fx_circle, kind, fx_circle__kind),
    FLD_REQ(fx_circle, radius, fx_circle__radius),
};
static const mf_type fx_circle_desc = {.kind = MF_K_OBJ, .name = "fx_circle", .size = sizeof(fx_circle),
                                       .fields = fx_circle__fields, .field_count = 2};
static const mf_type fx_rect__kind = {.kind = MF_K_STR, .name = "fx_rect.kind", .size = sizeof(char *),
                                      .flags = MF_TF_HAS_CONST, .constant = {.s = "rect"}};
static const mf_field fx_rect__fields[] = {
    FLD_REQ(fx_rect, kind, fx_rect__kind),
    FLD_REQ(fx_rect, w, fx_num_desc),
    FLD_REQ(fx_rect, h, fx_num_desc),
};
static const mf_type fx_rect_desc = {.kind = MF_K_OBJ, .name = "fx_rect", .size = sizeof(fx_rect),
                                     .fields = fx_rect__fields, .field_count = 3};
static const mf_type *const fx_shape__branches[] = {&fx_circle_desc, &fx_rect_desc};
static const char *const fx_shape__disc[] = {"circle", "rect"};
const mf_type fx_shape_desc = {
    .kind = MF_K_UNION, .name = "fx_shape", .size = sizeof(fx_shape),
    .branches = fx_shape__branches, .branch_count = 2, .branch_offset = offsetof(fx_shape, u),
    .discriminator = "kind", .disc_values = fx_shape__disc,
};

/* ---- fx_any: union by JSON type ---- */
static const mf_type fx_any__arr = {.kind = MF_K_ARR, .name = "fx_any.arr", .size = sizeof(mf_array),
                                    .item = &fx_int_desc};
static const mf_type *const fx_any__branches[] = {&fx_bool, &fx_int_desc, &fx_num_desc,
                                                  &fx_str_desc, &fx_any__arr, &fx_point_desc};
const mf_type fx_any_desc = {
    .kind = MF_K_UNION, .name = "fx_any", .size = sizeof(fx_any),
    .branches = fx_any__branches, .branch_count = 6, .branch_offset = offsetof(fx_any, u),
};

/* ---- fx_labels: map of strings ---- */
const mf_type fx_labels_desc = {.kind = MF_K_MAP, .name = "fx_labels", .size = sizeof(fx_labels),
                                .item = &fx_str_desc, .max_items = 4};

/* ---- fx_doc ---- */
static const mf_type fx_doc__id = {.kind = MF_K_STR, .name = "fx_doc.id", .size = sizeof(char *),
                                   .format = MF_FMT_UUID};
static const mf_type fx_doc__name = {.kind = MF_K_STR, .name = "fx_doc.name", .size = sizeof(char *),
                                     .min_len = 1, .max_len = 10};
static const mf_type fx_doc__count = {.kind = MF_K_INT, .name = "fx_doc.count", .size = sizeof(int64_t),
                                      .flags = MF_TF_HAS_MIN | MF_TF_HAS_MAX, .imin = 1, .imax = 100};
static const mf_type fx_doc__score = {.kind = MF_K_NUM, .name = "fx_doc.score", .size = sizeof(double),
                                      .flags = MF_TF_HAS_MIN | MF_TF_HAS_MAX | MF_TF_EXCL_MIN | MF_TF_EXCL_MAX,
                                      .nmin = 0, .nmax = 100};
static const mf_type fx_doc__level = {.kind = MF_K_INT, .name = "fx_doc.level", .size = sizeof(int64_t),
                                      .flags = MF_TF_HAS_MIN | MF_TF_HAS_MAX | MF_TF_EXCL_MIN | MF_TF_EXCL_MAX,
                                      .imin = 0, .imax = 10};
static const mf_type fx_doc__temp = {.kind = MF_K_NUM, .name = "fx_doc.temp", .size = sizeof(double),
                                     .flags = MF_TF_HAS_MIN | MF_TF_HAS_MAX, .nmin = -50, .nmax = 50};
static const mf_type fx_doc__created = {.kind = MF_K_STR, .name = "fx_doc.created", .size = sizeof(char *),
                                        .format = MF_FMT_DATE_TIME};
static const mf_type fx_doc__day = {.kind = MF_K_STR, .name = "fx_doc.day", .size = sizeof(char *),
                                    .format = MF_FMT_DATE};
static const mf_type fx_doc__at = {.kind = MF_K_STR, .name = "fx_doc.at", .size = sizeof(char *),
                                   .format = MF_FMT_TIME};
static const mf_type fx_doc__quiet = {.kind = MF_K_STR, .name = "fx_doc.quiet", .size = sizeof(char *),
                                      .format = MF_FMT_TIME_HM};
static const mf_type fx_doc__email = {.kind = MF_K_STR, .name = "fx_doc.email", .size = sizeof(char *),
                                      .format = MF_FMT_EMAIL};
static mf_pattern fx_doc__code_pattern = {"^[A-Z]{3}-\\d+$", "^[A-Z]{3}-[0-9]+$", 0, NULL};
static const mf_type fx_doc__code = {.kind = MF_K_STR, .name = "fx_doc.code", .size = sizeof(char *),
                                     .pattern = &fx_doc__code_pattern};
static const mf_type fx_doc__version = {.kind = MF_K_STR, .name = "fx_doc.version", .size = sizeof(char *),
                                        .flags = MF_TF_HAS_CONST, .constant = {.s = "v1"}};
static const mf_type fx_doc__answer = {.kind = MF_K_INT, .name = "fx_doc.answer", .size = sizeof(int64_t),
                                       .flags = MF_TF_HAS_CONST, .constant = {.i = 42}};
static const mf_type fx_doc__flag = {.kind = MF_K_BOOL, .name = "fx_doc.flag", .size = sizeof(bool),
                                     .flags = MF_TF_HAS_CONST, .constant = {.b = true}};
static const mf_type fx_doc__pi = {.kind = MF_K_NUM, .name = "fx_doc.pi", .size = sizeof(double),
                                   .flags = MF_TF_HAS_CONST, .constant = {.n = 3.5}};
static const mf_type fx_doc__tag = {.kind = MF_K_STR, .name = "fx_doc.tags.item", .size = sizeof(char *),
                                    .min_len = 1, .max_len = 5};
static const mf_type fx_doc__tags = {.kind = MF_K_ARR, .name = "fx_doc.tags", .size = sizeof(mf_array),
                                     .item = &fx_doc__tag, .min_items = 1, .max_items = 3};
static const mf_type fx_doc__points = {.kind = MF_K_ARR, .name = "fx_doc.points", .size = sizeof(mf_array),
                                       .item = &fx_point_desc};
static const mf_type fx_doc__colors = {.kind = MF_K_ARR, .name = "fx_doc.colors", .size = sizeof(mf_array),
                                       .item = &fx_color_desc};

static const mf_field fx_doc__fields[] = {
    FLD_REQ(fx_doc, id, fx_doc__id),
    FLD_REQ(fx_doc, name, fx_doc__name),
    FLD_REQ(fx_doc, count, fx_doc__count),
    FLD_OPT(fx_doc, score, fx_doc__score),
    FLD_OPT(fx_doc, level, fx_doc__level),
    FLD_OPT(fx_doc, temp, fx_doc__temp),
    FLD_REQ(fx_doc, color, fx_color_desc),
    FLD_OPT(fx_doc, created, fx_doc__created),
    FLD_OPT(fx_doc, day, fx_doc__day),
    FLD_OPT(fx_doc, at, fx_doc__at),
    FLD_OPT(fx_doc, quiet, fx_doc__quiet),
    FLD_OPT(fx_doc, email, fx_doc__email),
    FLD_OPT(fx_doc, code, fx_doc__code),
    FLD_OPT(fx_doc, version, fx_doc__version),
    FLD_OPT(fx_doc, answer, fx_doc__answer),
    FLD_OPT(fx_doc, flag, fx_doc__flag),
    FLD_OPT(fx_doc, pi, fx_doc__pi),
    {.name = "note", .type = &fx_str_desc, .offset = offsetof(fx_doc, note),
     .has_offset = (int32_t)offsetof(fx_doc, has_note), .null_offset = (int32_t)offsetof(fx_doc, note_is_null)},
    {.name = "owner", .type = &fx_str_desc, .offset = offsetof(fx_doc, owner), .has_offset = -1,
     .null_offset = (int32_t)offsetof(fx_doc, owner_is_null), .required = true},
    {.name = "lang", .type = &fx_str_desc, .offset = offsetof(fx_doc, lang),
     .has_offset = (int32_t)offsetof(fx_doc, has_lang), .null_offset = -1,
     .has_default = true, .def = {.s = "en"}},
    FLD_OPT(fx_doc, tags, fx_doc__tags),
    FLD_OPT(fx_doc, points, fx_doc__points),
    FLD_OPT(fx_doc, colors, fx_doc__colors),
    FLD_OPT(fx_doc, settings, fx_settings_desc),
    FLD_OPT(fx_doc, labels, fx_labels_desc),
    FLD_OPT(fx_doc, extra, fx_raw_desc),
    FLD_OPT(fx_doc, meta, fx_raw_obj_desc),
    FLD_OPT(fx_doc, shape, fx_shape_desc),
    FLD_OPT(fx_doc, any, fx_any_desc),
    {.name = "a/b~c", .type = &fx_str_desc, .offset = offsetof(fx_doc, weird),
     .has_offset = (int32_t)offsetof(fx_doc, has_weird), .null_offset = -1},
};
const mf_type fx_doc_desc = {
    .kind = MF_K_OBJ, .name = "fx_doc", .size = sizeof(fx_doc),
    .fields = fx_doc__fields, .field_count = sizeof fx_doc__fields / sizeof fx_doc__fields[0],
};

/* ---- fx_tree: recursive through an array ---- */
static const mf_type fx_tree__kids = {.kind = MF_K_ARR, .name = "fx_tree.kids", .size = sizeof(mf_array),
                                      .item = &fx_tree_desc};
static const mf_field fx_tree__fields[] = {FLD_OPT(fx_tree, kids, fx_tree__kids)};
const mf_type fx_tree_desc = {.kind = MF_K_OBJ, .name = "fx_tree", .size = sizeof(fx_tree),
                              .flags = MF_TF_CLOSED, .fields = fx_tree__fields, .field_count = 1};

/* ---- fx_wide: built at run time (names f0..f69) ---- */
static char fx_wide__names[FX_WIDE_N][8];
static mf_field fx_wide__fields[FX_WIDE_N];
static mf_type fx_wide__desc;

const mf_type *fx_wide_desc(void)
{
    if (fx_wide__desc.kind == 0) {
        for (int i = 0; i < FX_WIDE_N; i++) {
            snprintf(fx_wide__names[i], sizeof fx_wide__names[i], "f%d", i);
            fx_wide__fields[i] = (mf_field){
                .name = fx_wide__names[i], .type = &fx_int_desc,
                .offset = (uint32_t)(offsetof(fx_wide, f) + (size_t)i * sizeof(fx_wide_member) +
                                     offsetof(fx_wide_member, v)),
                .has_offset = (int32_t)(offsetof(fx_wide, f) + (size_t)i * sizeof(fx_wide_member) +
                                        offsetof(fx_wide_member, has)),
                .null_offset = -1,
                .required = i == FX_WIDE_N - 1, /* the last one, past bit 64, is required */
            };
        }
        fx_wide__desc = (mf_type){.kind = MF_K_OBJ, .name = "fx_wide", .size = sizeof(fx_wide),
                                  .flags = MF_TF_CLOSED, .fields = fx_wide__fields, .field_count = FX_WIDE_N};
    }
    return &fx_wide__desc;
}

/* ---- canonical documents ---- */
const char fx_doc_full_json[] =
    "{\"id\":\"123e4567-e89b-12d3-a456-426614174000\",\"name\":\"widget\",\"count\":7,"
    "\"score\":12.5,\"level\":3,\"temp\":-3.25,\"color\":\"blue\","
    "\"created\":\"2024-02-29T12:30:00Z\",\"day\":\"2024-02-29\",\"at\":\"12:30:00+02:00\","
    "\"quiet\":\"22:00\",\"email\":\"ops@example.com\",\"code\":\"ABC-123\",\"version\":\"v1\","
    "\"answer\":42,\"flag\":true,\"pi\":3.5,\"note\":null,\"owner\":\"ann\",\"lang\":\"de\","
    "\"tags\":[\"a\",\"\xc3\xa9t\xc3\xa9\"],\"points\":[{\"x\":1,\"y\":-2},{\"x\":0,\"y\":9007199254740991}],"
    "\"colors\":[\"red\",\"green\"],"
    "\"settings\":{\"enabled\":false,\"retries\":10,\"ratio\":0.25,\"color\":\"red\",\"label\":\"hi\"},"
    "\"labels\":{\"en\":\"Hello\",\"x/y~\":\"Bonjour\"},\"extra\":[1,\"two\",{\"three\":3.5}],"
    "\"meta\":{\"k\":\"v\"},\"shape\":{\"kind\":\"rect\",\"w\":2,\"h\":0.1},\"any\":[1,2,3],"
    "\"a/b~c\":\"\xc3\xa9\\n\\\"\\\\\\t\\u0001\"}";

const char fx_doc_min_json[] =
    "{\"id\":\"123e4567-e89b-12d3-a456-426614174000\",\"name\":\"w\",\"count\":1,\"color\":\"red\","
    "\"owner\":null}";

static char *dup(const char *s)
{
    char *p = malloc(strlen(s) + 1);
    if (p)
        strcpy(p, s);
    return p;
}

void fx_doc_build_full(fx_doc *d)
{
    mf_init(&fx_doc_desc, d);
    d->id = dup("123e4567-e89b-12d3-a456-426614174000");
    d->name = dup("widget");
    d->count = 7;
    d->has_score = true, d->score = 12.5;
    d->has_level = true, d->level = 3;
    d->has_temp = true, d->temp = -3.25;
    d->color = FX_COLOR_BLUE;
    d->has_created = true, d->created = dup("2024-02-29T12:30:00Z");
    d->has_day = true, d->day = dup("2024-02-29");
    d->has_at = true, d->at = dup("12:30:00+02:00");
    d->has_quiet = true, d->quiet = dup("22:00");
    d->has_email = true, d->email = dup("ops@example.com");
    d->has_code = true, d->code = dup("ABC-123");
    d->has_version = true, d->version = dup("v1");
    d->has_answer = true, d->answer = 42;
    d->has_flag = true, d->flag = true;
    d->has_pi = true, d->pi = 3.5;
    d->has_note = true, d->note_is_null = true;
    d->owner = dup("ann");
    d->has_lang = true, d->lang = dup("de");
    d->has_tags = true;
    d->tags.items = calloc(2, sizeof(char *));
    d->tags.count = 2;
    d->tags.items[0] = dup("a");
    d->tags.items[1] = dup("\xc3\xa9t\xc3\xa9");
    d->has_points = true;
    d->points.items = calloc(2, sizeof(fx_point));
    d->points.count = 2;
    d->points.items[0] = (fx_point){1, -2};
    d->points.items[1] = (fx_point){0, 9007199254740991LL};
    d->has_colors = true;
    d->colors.items = calloc(2, sizeof(fx_color));
    d->colors.count = 2;
    d->colors.items[0] = FX_COLOR_RED;
    d->colors.items[1] = FX_COLOR_GREEN;
    d->has_settings = true;
    d->settings = (fx_settings){true, false, true, 10, true, 0.25, true, FX_COLOR_RED, true, dup("hi")};
    d->has_labels = true;
    d->labels.keys = calloc(2, sizeof(char *));
    d->labels.values = calloc(2, sizeof(char *));
    d->labels.count = 2;
    d->labels.keys[0] = dup("en");
    d->labels.values[0] = dup("Hello");
    d->labels.keys[1] = dup("x/y~");
    d->labels.values[1] = dup("Bonjour");
    d->has_extra = true, d->extra = dup("[1,\"two\",{\"three\":3.5}]");
    d->has_meta = true, d->meta = dup("{\"k\":\"v\"}");
    d->has_shape = true;
    d->shape.which = FX_SHAPE_RECT;
    d->shape.u.rect = (fx_rect){dup("rect"), 2, 0.1};
    d->has_any = true;
    d->any.which = FX_ANY_ARR;
    d->any.u.arr.items = calloc(3, sizeof(int64_t));
    d->any.u.arr.count = 3;
    for (int i = 0; i < 3; i++)
        d->any.u.arr.items[i] = i + 1;
    d->has_weird = true, d->weird = dup("\xc3\xa9\n\"\\\t\x01");
}

mf_status fx_decode_str(const mf_type *t, const char *json, void *out, mf_error *err)
{
    return mf_decode(t, json, strlen(json), out, err);
}

char *fx_replace(const char *src, const char *from, const char *to)
{
    const char *at = strstr(src, from);
    if (!at) {
        fprintf(stderr, "fx_replace: \"%s\" not found\n", from);
        abort();
    }
    size_t a = (size_t)(at - src), f = strlen(from), t = strlen(to), n = strlen(src);
    char *r = malloc(n - f + t + 1);
    if (!r)
        abort();
    memcpy(r, src, a);
    memcpy(r + a, to, t);
    memcpy(r + a + t, at + f, n - a - f + 1);
    return r;
}

bool fx_is_init(const mf_type *t, const void *v)
{
    fx_out ref;
    mf_init(t, &ref);
    return memcmp(&ref, v, t->size) == 0;
}
