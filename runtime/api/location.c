/*
 * location.c - channel parameters whose value lives in the payload (mf/registry.h).
 *
 * AsyncAPI 3 lets a channel parameter say where its value comes from:
 * `location: $message.payload#/user_id`. The generator checks that the pointer
 * leads, in every message of the channel, through object members to a string,
 * enum or integer member, and stores the pointer in mf_param_desc.location.
 * Here a value is read back out of a C value by walking the message's type
 * descriptor, so a sender never passes it separately and a receiver can check
 * that the subject agrees with the payload.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/registry_int.h"
#include "mf/registry.h"

/* Channels have a handful of parameters; this bounds the local arrays. */
#define LOC_MAX_PARAMS 32
/* Decimal int64 with sign and NUL. */
#define INT_TEXT 24

/* The next reference token of pointer p (after its '/') unescaped into tok[cap]; returns the
 * position after it, or NULL when the token is malformed or too long. */
static const char *next_token(const char *p, char *tok, size_t cap)
{
    size_t n = 0;
    for (p++; *p && *p != '/'; p++) {
        char ch = *p;
        if (ch == '~') {
            if (p[1] != '0' && p[1] != '1')
                return NULL;
            ch = p[1] == '0' ? '~' : '/';
            p++;
        }
        if (n + 1 >= cap)
            return NULL;
        tok[n++] = ch;
    }
    tok[n] = '\0';
    return p;
}

/* The member called name[0..n) (name need not be NUL-terminated), or NULL. */
static const mf_field *field_named_n(const mf_type *t, const char *name, size_t n)
{
    for (uint32_t i = 0; i < t->field_count; i++) {
        const char *fn = t->fields[i].name;
        if ((n == 0 || fn[0] == name[0]) && strncmp(fn, name, n) == 0 && fn[n] == '\0')
            return &t->fields[i];
    }
    return NULL;
}

static const mf_field *field_named(const mf_type *t, const char *name)
{
    for (uint32_t i = 0; i < t->field_count; i++)
        if (strcmp(t->fields[i].name, name) == 0)
            return &t->fields[i];
    return NULL;
}

/*
 * The text of the member of `value` (of type t) at `pointer`: a string or enum member as is, an
 * integer in decimal (written to ibuf). *out points into the value or into ibuf.
 */
static mf_status value_at(const mf_type *t, const void *value, const char *pointer, char ibuf[INT_TEXT],
                          const char **out, mf_error *err)
{
    const char *base = value, *p = pointer;
    char tok[128];
    while (*p == '/') {
        const mf_field *f = NULL;
        const char *end = p + 1;
        while (*end && *end != '/' && *end != '~')
            end++;
        if (*end != '~') { /* the common token, without escapes: compared in place */
            f = t->kind == MF_K_OBJ ? field_named_n(t, p + 1, (size_t)(end - p - 1)) : NULL;
            p = end;
        } else {
            p = next_token(p, tok, sizeof tok);
            f = p && t->kind == MF_K_OBJ ? field_named(t, tok) : NULL;
        }
        if (!f)
            return mf_error_set(err, MF_ERR_INVALID_ARG, pointer, "the location %s is not a member of %s",
                                pointer, t->name ? t->name : "the payload");
        if ((f->has_offset >= 0 && !*(const bool *)(base + f->has_offset)) ||
            (f->null_offset >= 0 && *(const bool *)(base + f->null_offset)))
            return mf_error_set(err, MF_ERR_REQUIRED, pointer,
                                "the channel parameter's value %s is absent from the payload", pointer);
        base += f->offset;
        t = f->type;
    }
    if (*p)
        return mf_error_set(err, MF_ERR_INVALID_ARG, pointer, "the location %s is not a JSON pointer", pointer);
    if (t->kind == MF_K_STR) {
        *out = *(char *const *)base;
    } else if (t->kind == MF_K_ENUM) {
        *out = mf_enum_to_string(t, *(const int *)base);
    } else if (t->kind == MF_K_INT) {
        snprintf(ibuf, INT_TEXT, "%" PRId64, *(const int64_t *)base);
        *out = ibuf;
    } else {
        return mf_error_set(err, MF_ERR_INVALID_ARG, pointer,
                            "the location %s is not a string or integer member", pointer);
    }
    if (!*out)
        return mf_error_set(err, MF_ERR_REQUIRED, pointer,
                            "the channel parameter's value %s is absent from the payload", pointer);
    return MF_OK;
}

static mf_status check_args(const mf_channel_desc *c, const mf_message_desc *m, const void *msg, mf_error *err)
{
    if (!c || !m || !m->type || !msg)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "channel, message and value are required");
    if (c->param_count > LOC_MAX_PARAMS)
        return mf_error_set(err, MF_ERR_LIMIT, "", "channel %s has more than %d parameters",
                            c->address ? c->address : c->key, LOC_MAX_PARAMS);
    return MF_OK;
}

mf_status mf_channel_subject(const mf_channel_desc *c, const mf_message_desc *m, const void *msg,
                             const char *const *values, char *out, size_t cap, mf_error *err)
{
    mf_status st = check_args(c, m, msg, err);
    if (st)
        return st;
    const char *vals[LOC_MAX_PARAMS];
    char ibuf[LOC_MAX_PARAMS][INT_TEXT];
    uint64_t checked = 0; /* the payload's values, checked here: not again by the address */
    for (size_t i = 0; i < c->param_count; i++) {
        const mf_param_desc *p = &c->params[i];
        if (!p->location) {
            vals[i] = values ? values[i] : NULL;
            continue;
        }
        if ((st = value_at(m->type, msg, p->location, ibuf[i], &vals[i], err)) != MF_OK)
            return st;
        if ((st = mf_param_check(p, vals[i], err)) != MF_OK) {
            /* Name the payload member the caller has to fix. */
            if (err)
                snprintf(err->pointer, sizeof err->pointer, "%s", p->location);
            return st;
        }
        checked |= (uint64_t)1 << i;
    }
    return mf_channel_address_checked(c, c->param_count ? vals : NULL, checked, out, cap, err);
}

mf_status mf_channel_check_payload(const mf_channel_desc *c, const mf_message_desc *m, const void *msg,
                                   const char *const *values, mf_error *err)
{
    mf_status st = check_args(c, m, msg, err);
    if (st)
        return st;
    for (size_t i = 0; i < c->param_count; i++) {
        const mf_param_desc *p = &c->params[i];
        if (!p->location)
            continue;
        char ibuf[INT_TEXT];
        const char *v;
        if ((st = value_at(m->type, msg, p->location, ibuf, &v, err)) != MF_OK)
            return st;
        const char *got = values ? values[i] : NULL;
        if (!got || strcmp(got, v) != 0)
            return mf_error_set(err, MF_ERR_INVALID_ARG, p->location,
                                "\"%.80s\" differs from the subject's %s \"%.80s\"", v, p->name,
                                got ? got : "");
    }
    return MF_OK;
}
