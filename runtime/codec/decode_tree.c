/*
 * decode_tree.c - the reference decoder: JSON text -> cJSON tree -> C value.
 *
 * mf_decode (decode.c) reads the bytes once, straight into the value. This
 * older decoder is kept as its reference: the differential tests
 * (tests/unit/test_decode_diff.c, tests/fuzz/fuzz_decode_diff.c) run both on
 * every input and require the same verdict, error code, pointer and value.
 * Its tree also serves the validator's checks of `not` and of unions whose
 * branches are tried (mfw_try, mfw_check_not, mfw_union_recheck).
 *
 * Three steps:
 *  1. prescan() (prescan.c; its scanners are shared with the validator's raw
 *     check): one pass over the raw bytes that enforces what cJSON does not:
 *     well-formed UTF-8 (no overlongs, no surrogates, max U+10FFFF; the same
 *     rules as mf_utf8_valid), no raw NUL or other control bytes, JSON
 *     white space only between tokens, the strict JSON number grammar (cJSON
 *     reads numbers with strtod and would take "01", "1." or "-.5"), no
 *     \u0000 escape and no lone surrogate escape in strings, no byte order
 *     mark, and nesting of at most MF_MAX_DEPTH. String bodies, the bulk of
 *     most documents, are skipped 8 bytes at a time when they are plain ASCII.
 *  2. cJSON_ParseWithLengthOpts() builds the tree; only JSON white space may
 *     follow the value. The parse end pointer gives the byte offset of a
 *     syntax error (cJSON_GetErrorPtr, a global, is never used).
 *  3. dec() walks tree and descriptor together, checking types, presence and
 *     constraints (rules.c) and filling the C value.
 *
 * Ownership: decoded strings and map keys are taken over from the cJSON tree
 * (the node's pointer is set to NULL so cJSON_Delete skips it) instead of
 * being copied. This relies on cJSON allocating with malloc, its default; an
 * application that installs other cJSON_InitHooks must build the runtime with
 * -DMF_CODEC_COPY_STRINGS.
 *
 * Integers: a JSON number is an integer when its double value is integral
 * (so 1.0 and 1e2 are integers, 1.5 is not) and its magnitude is below 2^53
 * (MF_MAX_SAFE_INT). 2^53 itself is rejected too, because 2^53 + 1 reads as
 * the same double; below 2^53 every integer is exact. Integrality is judged
 * on the double, as in JavaScript: 1.00000000000000001 reads as 1.
 *
 * Raw members are re-printed compactly from the tree by the encoder's writer
 * (mfw_print_raw): numbers come out as the shortest of %.15g/%.16g/%.17g of
 * their double (so 1.0 becomes 1 and digits beyond a double's precision are
 * lost, as everywhere in the SDK); numbers that overflow a double are
 * MF_ERR_RANGE (cJSON_PrintUnformatted would print them as null).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec_int.h"
#include "codec/rules.h"

/* -------------------------------------------------------------- the walker */

static mfw_jtype jtype(const cJSON *n)
{
    switch (n->type & 0xFF) {
    case cJSON_False:
    case cJSON_True: return MFW_J_BOOL;
    case cJSON_Number: return MFW_J_NUM;
    case cJSON_String: return MFW_J_STR;
    case cJSON_Array: return MFW_J_ARR;
    case cJSON_Object: return MFW_J_OBJ;
    }
    return MFW_J_NULL;
}

static const char *json_type_name(const cJSON *n)
{
    return mfw_jtype_name(jtype(n));
}

static mf_status type_error(mfw *w, const mf_type *t, const cJSON *n)
{
    return mfw_fail(w, MF_ERR_TYPE, "expected %s, found %s", mfw_kind_name(t), json_type_name(n));
}

/* Takes the string out of the node (see the ownership note at the top); a
 * trial decode (w->copy) copies it instead, leaving the tree as it was. */
static char *take_string(const mfw *w, char **slot)
{
#ifdef MF_CODEC_COPY_STRINGS
    (void)w;
    return strdup(*slot);
#else
    if (w->copy)
        return strdup(*slot);
    char *s = *slot;
    *slot = NULL;
    return s;
#endif
}

static mf_status dec(mfw *w, const mf_type *t, cJSON *n, void *dst);

static mf_status enter(mfw *w)
{
    if (++w->depth > MF_MAX_DEPTH)
        return mfw_fail(w, MF_ERR_SYNTAX, "nesting deeper than %d", MF_MAX_DEPTH);
    return MF_OK;
}

static inline bool same_name(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

/* Members usually come in schema order: the one after the previous match is
 * tried first (a first-byte compare, then strcmp), then the rest. */
static inline uint32_t find_field(const mf_type *t, const char *k, uint32_t hint)
{
    const mf_field *f = t->fields;
    const uint32_t nf = t->field_count;
    for (uint32_t j = hint; j < nf; j++)
        if (f[j].name[0] == k[0] && same_name(f[j].name, k))
            return j;
    for (uint32_t j = 0; j < hint && j < nf; j++)
        if (f[j].name[0] == k[0] && same_name(f[j].name, k))
            return j;
    return UINT32_MAX;
}

/* The member errors of dec_obj, out of its hot loop. */
static mf_status member_error(mfw *w, const mf_type *t, mf_status code, const char *k)
{
    char e[MFW_ECHO_CAP];
    if (code == MF_ERR_UNKNOWN_FIELD)
        return mfw_fail_member(w, MF_ERR_UNKNOWN_FIELD, k,
                               "unexpected member \"%s\": %s allows no other members",
                               mfw_echo(e, sizeof e, k, strlen(k)), t->name ? t->name : "the object");
    return mfw_fail_member(w, MF_ERR_DUPLICATE, k, "duplicate member \"%s\"",
                           mfw_echo(e, sizeof e, k, strlen(k)));
}

static mf_status dec_obj(mfw *w, const mf_type *t, cJSON *n, char *base)
{
    uint64_t small[4] = {0, 0, 0, 0};
    uint64_t *seen = small;
    const uint32_t nf = t->field_count;
    uint32_t hint = 0, nseen = 0;
    mf_status st = MF_OK;

    if (nf > 256) {
        seen = calloc((nf + 63) / 64, sizeof *seen);
        if (!seen)
            return mfw_fail(w, MF_ERR_NOMEM, "out of memory");
    }
    for (cJSON *c = n->child; c; c = c->next) {
        const char *k = c->string ? c->string : "";
        uint32_t j = find_field(t, k, hint);
        if (j == UINT32_MAX) {
            if (t->flags & MF_TF_CLOSED) {
                st = member_error(w, t, MF_ERR_UNKNOWN_FIELD, k);
                goto out;
            }
            continue;
        }
        uint64_t bit = 1ull << (j % 64);
        if (seen[j / 64] & bit) {
            st = member_error(w, t, MF_ERR_DUPLICATE, k);
            goto out;
        }
        seen[j / 64] |= bit;
        nseen++;
        hint = j + 1;

        const mf_field *f = &t->fields[j];
        mfw_push_key(w, f->name);
        if ((c->type & 0xFF) == cJSON_NULL &&
            (f->null_offset >= 0 || f->type->kind != MF_K_RAW)) {
            if (f->null_offset >= 0)
                *(bool *)(base + f->null_offset) = true;
            else
                st = type_error(w, f->type, c);
        } else {
            st = dec(w, f->type, c, base + f->offset);
        }
        mfw_pop(w);
        if (st)
            goto out;
        if (f->has_offset >= 0)
            *(bool *)(base + f->has_offset) = true;
    }
    for (uint32_t j = 0; j < nf && nseen < nf; j++) {
        if (seen[j / 64] & (1ull << (j % 64)))
            continue;
        const mf_field *f = &t->fields[j];
        if (f->required) {
            st = mfw_fail_member(w, MF_ERR_REQUIRED, f->name, "missing required member \"%s\"",
                                 f->name);
            goto out;
        }
        if (f->has_default && f->type->kind == MF_K_STR && f->def.s) {
            char **slot = (char **)(base + f->offset);
            if (!*slot && !(*slot = strdup(f->def.s))) {
                st = mfw_fail(w, MF_ERR_NOMEM, "out of memory");
                goto out;
            }
        }
    }
out:
    if (seen != small)
        free(seen);
    return st;
}

static mf_status dec_arr(mfw *w, const mf_type *t, cJSON *n, mf_array *a)
{
    size_t i = 0, isz = t->item->size;
    mf_status st;
    size_t cnt = (size_t)cJSON_GetArraySize(n);
    if ((st = mfw_check_count(w, t, cnt)))
        return st;
    if (cnt == 0)
        return MF_OK;
    char *items = calloc(cnt, isz);
    if (!items)
        return mfw_fail(w, MF_ERR_NOMEM, "out of memory");
    if (t->item->kind == MF_K_OBJ)
        for (size_t k = 0; k < cnt; k++)
            mf_init(t->item, items + k * isz);
    a->items = items; /* items and count always together: freeable from here on */
    a->count = cnt;
    for (cJSON *c = n->child; c; c = c->next, i++) {
        mfw_push_idx(w, i);
        st = dec(w, t->item, c, items + i * isz);
        mfw_pop(w);
        if (st)
            return st;
    }
    return (t->flags & MF_TF_UNIQUE) ? mfw_check_unique(w, t, a) : MF_OK;
}

static mf_status dec_map(mfw *w, const mf_type *t, cJSON *n, mf_map *m)
{
    size_t i = 0, isz = t->item->size;
    mf_status st;
    char e[MFW_ECHO_CAP];
    size_t cnt = (size_t)cJSON_GetArraySize(n); /* the members */
    if ((st = mfw_check_count(w, t, cnt)))
        return st;
    if (cnt == 0)
        return MF_OK;
    char **keys = calloc(cnt, sizeof *keys);
    char *values = calloc(cnt, isz);
    if (!keys || !values) {
        free(keys);
        free(values);
        return mfw_fail(w, MF_ERR_NOMEM, "out of memory");
    }
    if (t->item->kind == MF_K_OBJ)
        for (size_t k = 0; k < cnt; k++)
            mf_init(t->item, values + k * isz);
    m->keys = keys;
    m->values = values;
    m->count = cnt;
    for (cJSON *c = n->child; c; c = c->next, i++) {
        if (!c->string)
            return mfw_fail(w, MF_ERR_SYNTAX, "object member without a name");
        if (!(keys[i] = take_string(w, &c->string)))
            return mfw_fail(w, MF_ERR_NOMEM, "out of memory");
    }
    const char *d = mfw_dup_key((const char *const *)keys, cnt, &st);
    if (st)
        return mfw_fail(w, st, "out of memory");
    if (d)
        return mfw_fail_member(w, MF_ERR_DUPLICATE, d, "duplicate member \"%s\"",
                               mfw_echo(e, sizeof e, d, strlen(d)));
    i = 0;
    for (cJSON *c = n->child; c; c = c->next, i++) {
        mfw_push_key(w, keys[i]);
        st = dec(w, t->item, c, values + i * isz);
        mfw_pop(w);
        if (st)
            return st;
    }
    return MF_OK;
}

/* ---------------------------------------------- trying branches, `not` */

mf_status mfw_try(const mfw *w, const mf_type *t, cJSON *n, mf_error *e)
{
    mfw tw = *w;
    tw.err = e;
    tw.copy = true;
    void *v = malloc(t->size ? t->size : 1);
    if (!v)
        return mfw_fail(&tw, MF_ERR_NOMEM, "out of memory");
    mf_init(t, v);
    mf_status st = dec(&tw, t, n, v);
    mf_free(t, v);
    free(v);
    return st;
}

typedef struct tree_trial {
    const mfw *w;
    cJSON *n;
} tree_trial;

/* mfw_trial_fn over a subtree: mfw_try. */
static mf_status try_subtree(void *ctx, const mf_type *b, mf_error *e, bool *stop)
{
    const tree_trial *tt = ctx;
    (void)stop;
    return mfw_try(tt->w, b, tt->n, e);
}

/* An object for a union whose object branches are told apart by trying
 * them (mfw_union_tries). The branch is decoded a second time into the
 * value for real. */
static mf_status dec_union_try(mfw *w, const mf_type *t, cJSON *n, char *base)
{
    tree_trial tt = {w, n};
    int pick;
    mf_status st = mfw_union_try(w, t, try_subtree, &tt, &pick);
    if (st)
        return st;
    const mf_type *b = t->branches[pick];
    mf_init(b, base + t->branch_offset);
    *(int *)base = pick + 1;
    return dec(w, b, n, base + t->branch_offset);
}

mf_status mfw_check_not(mfw *w, const mf_type *t, cJSON *n)
{
    tree_trial tt = {w, n};
    return mfw_not_rule(w, t, try_subtree, &tt);
}

mf_status mfw_union_recheck(mfw *w, const mf_type *t, uint32_t bi, const void *bv)
{
    cJSON *tree = NULL;
    mf_status st;
    if (!mfw_union_tries(t) || (t->branches[bi]->kind != MF_K_OBJ && t->branches[bi]->kind != MF_K_MAP))
        return MF_OK;
    if ((st = mfw_value_tree(t->branches[bi], bv, &tree)))
        return mfw_fail(w, st, "cannot check the alternative: %s", mf_status_str(st));
    for (uint32_t i = 0; i < t->branch_count && !st; i++) {
        const mf_type *o = t->branches[i];
        mf_error e;
        if (i == bi || (o->kind != MF_K_OBJ && o->kind != MF_K_MAP))
            continue;
        if ((t->flags & MF_TF_ANY_OF) && i > bi)
            break;
        mf_status r = mfw_try(w, o, tree, &e);
        if (r == MF_ERR_NOMEM)
            st = mfw_fail(w, MF_ERR_NOMEM, "out of memory");
        else if (r == MF_OK)
            st = mfw_fail(w, MF_ERR_UNION, (t->flags & MF_TF_ANY_OF)
                              ? "alternative %u (%s) also matches the value, and comes first (anyOf)"
                              : "alternative %u (%s) also matches the value (oneOf allows exactly one)",
                          (unsigned)i + 1, o->name ? o->name : "?");
    }
    cJSON_Delete(tree);
    return st;
}

/* The branch of an object chosen by the discriminator member. */
static mf_status pick_by_disc(mfw *w, const mf_type *t, const cJSON *n, int *pick)
{
    const cJSON *dm = cJSON_GetObjectItemCaseSensitive(n, t->discriminator);
    if (!dm)
        return mfw_fail_member(w, MF_ERR_REQUIRED, t->discriminator,
                               "missing required member \"%s\" (it selects the alternative)", t->discriminator);
    if ((dm->type & 0xFF) != cJSON_String) {
        mfw_push_key(w, t->discriminator);
        mf_status st = mfw_fail(w, MF_ERR_TYPE, "expected a string, found %s", json_type_name(dm));
        mfw_pop(w);
        return st;
    }
    if ((*pick = mfw_union_pick_disc(t, dm->valuestring)) < 0)
        return mfw_disc_error(w, t, dm->valuestring);
    return MF_OK;
}

static mf_status dec_union(mfw *w, const mf_type *t, cJSON *n, char *base)
{
    const mfw_jtype jt = jtype(n);
    int pick;
    if (jt == MFW_J_OBJ) {
        uint32_t cnt;
        if (mfw_union_tries(t))
            return dec_union_try(w, t, n, base);
        pick = mfw_union_pick_object(t, &cnt);
        if (cnt > 1 && t->discriminator && t->disc_values) {
            mf_status st = pick_by_disc(w, t, n, &pick);
            if (st)
                return st;
        }
    } else {
        pick = mfw_union_pick(t, jt, jt == MFW_J_NUM ? n->valuedouble : 0,
                              jt == MFW_J_STR ? n->valuestring : NULL);
    }
    if (pick < 0)
        return mfw_union_error(w, t, json_type_name(n));
    const mf_type *b = t->branches[pick];
    mf_init(b, base + t->branch_offset);
    *(int *)base = pick + 1;
    return dec(w, b, n, base + t->branch_offset);
}

/* A raw value must not change silently: no infinities (cJSON reads 1e400 as inf). */
static mf_status raw_check(mfw *w, const cJSON *n)
{
    size_t i = 0;
    if ((n->type & 0xFF) == cJSON_Number && !isfinite(n->valuedouble))
        return mfw_fail(w, MF_ERR_RANGE, "expected a finite number, found one too large for a double");
    for (const cJSON *c = n->child; c; c = c->next, i++) {
        mf_status st;
        if ((n->type & 0xFF) == cJSON_Object)
            mfw_push_key(w, c->string ? c->string : "");
        else
            mfw_push_idx(w, i);
        st = raw_check(w, c);
        mfw_pop(w);
        if (st)
            return st;
    }
    return MF_OK;
}

static mf_status dec_value(mfw *w, const mf_type *t, cJSON *n, void *dst);

/* `not` is checked first: decoding takes strings out of the tree. */
static mf_status dec(mfw *w, const mf_type *t, cJSON *n, void *dst)
{
    if (t->not_type) {
        mf_status st = mfw_check_not(w, t, n);
        if (st)
            return st;
    }
    return dec_value(w, t, n, dst);
}

static mf_status dec_value(mfw *w, const mf_type *t, cJSON *n, void *dst)
{
    const int jt = n->type & 0xFF;
    mf_status st;
    char tmp[32];

    switch (t->kind) {
    case MF_K_BOOL:
        if (jt != cJSON_True && jt != cJSON_False)
            return type_error(w, t, n);
        *(bool *)dst = jt == cJSON_True;
        return mfw_check_bool(w, t, jt == cJSON_True);
    case MF_K_INT: {
        if (jt != cJSON_Number)
            return type_error(w, t, n);
        double d = n->valuedouble;
        if (!isfinite(d))
            return mfw_fail(w, MF_ERR_RANGE, "expected an integer, found a number too large for a double");
        if (d != trunc(d)) {
            mfw_fmt_double(tmp, d);
            return mfw_fail(w, MF_ERR_RANGE, "expected an integer, found %s", tmp);
        }
        if (fabs(d) >= (double)MF_MAX_SAFE_INT) {
            mfw_fmt_double(tmp, d);
            return mfw_fail(w, MF_ERR_RANGE,
                            "expected an integer of magnitude below 2^53, found %s", tmp);
        }
        int64_t v = (int64_t)d;
        *(int64_t *)dst = v;
        return mfw_check_int(w, t, v);
    }
    case MF_K_NUM:
        if (jt != cJSON_Number)
            return type_error(w, t, n);
        *(double *)dst = n->valuedouble;
        return mfw_check_num(w, t, n->valuedouble);
    case MF_K_STR: {
        if (jt != cJSON_String || !n->valuestring)
            return type_error(w, t, n);
        if ((t->min_len | t->max_len | (uint32_t)t->format | (t->flags & MF_TF_HAS_CONST)) || t->pattern)
            if ((st = mfw_check_str(w, t, n->valuestring, strlen(n->valuestring))))
                return st;
        if (!(*(char **)dst = take_string(w, &n->valuestring)))
            return mfw_fail(w, MF_ERR_NOMEM, "out of memory");
        return MF_OK;
    }
    case MF_K_ENUM: {
        if (jt != cJSON_String || !n->valuestring)
            return type_error(w, t, n);
        int v = mfw_enum_lookup(w, t, n->valuestring, strlen(n->valuestring), &st);
        *(int *)dst = v;
        return st;
    }
    case MF_K_OBJ:
    case MF_K_ARR:
    case MF_K_MAP: /* containers: one nesting level each */
        if (jt != (t->kind == MF_K_ARR ? cJSON_Array : cJSON_Object))
            return type_error(w, t, n);
        if ((st = enter(w)) == MF_OK)
            st = t->kind == MF_K_OBJ   ? dec_obj(w, t, n, dst)
                 : t->kind == MF_K_ARR ? dec_arr(w, t, n, dst)
                                       : dec_map(w, t, n, dst);
        w->depth--;
        return st;
    case MF_K_RAW: {
        /* any JSON value, null included (a nullable member's null sets
         * <x>_is_null instead, see dec_obj) */
        if ((t->flags & MF_TF_RAW_OBJECT) && jt != cJSON_Object)
            return type_error(w, t, n);
        if ((st = raw_check(w, n)))
            return st;
        if ((st = mfw_print_raw(n, (char **)dst)))
            return mfw_fail(w, st, "cannot print the raw value");
        return MF_OK;
    }
    case MF_K_UNION: /* adds no JSON nesting */
        return dec_union(w, t, n, dst);
    }
    return mfw_fail(w, MF_ERR_INVALID_ARG, "descriptor %s has an unknown kind %d",
                    t->name ? t->name : "?", (int)t->kind);
}

mf_status mf_decode_tree(const mf_type *t, const char *json, size_t len, void *out, mf_error *err)
{
    cJSON *root;
    mfw w;
    mf_status st;

    mf_error_clear(err);
    if (!t || !out)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "mf_decode_tree: NULL descriptor or output");
    mf_init(t, out);
    if ((st = mfw_parse(json, len, &root, err)))
        return st;
    mfw_init(&w, err);
    st = dec(&w, t, root, out);
    cJSON_Delete(root);
    if (st)
        mf_free(t, out);
    return st;
}
