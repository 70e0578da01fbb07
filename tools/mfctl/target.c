/*
 * target.c - what a CHANNEL argument names: a channel key ("userInfoRequest"),
 * a channel address ("notification.user.{user_id}.push") whose parameters come
 * from --param, or a subject ("notification.user.<uuid>.push", "campaign.>").
 * Parameter values are checked with the registry, as the typed API checks them.
 */
#include <ctype.h>
#include <string.h>

#include "mfctl.h"

/* The --param value for parameter p, or NULL. */
static const char *param_value(const mfctl_opts *o, const mf_param_desc *p)
{
    for (size_t i = 0; i < o->n_params; i++)
        if (strlen(p->name) == o->params[i].name_len && !strncmp(p->name, o->params[i].name, o->params[i].name_len))
            return o->params[i].value;
    return NULL;
}

static void param_names(const mf_channel_desc *ch, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ch->param_count && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "", ch->params[i].name);
    if (!ch->param_count)
        snprintf(out, cap, "none");
}

/* Every --param must name a parameter of ch. */
static int check_param_names(const mfctl_opts *o, const mf_channel_desc *ch)
{
    for (size_t i = 0; i < o->n_params; i++) {
        bool found = false;
        for (size_t j = 0; j < ch->param_count && !found; j++)
            found = strlen(ch->params[j].name) == o->params[i].name_len &&
                    !strncmp(ch->params[j].name, o->params[i].name, o->params[i].name_len);
        if (!found) {
            char names[256];
            param_names(ch, names, sizeof names);
            return mfctl_usage_error(o->cmd, "channel %s has no parameter %.*s (its parameters: %s)", ch->address,
                                     (int)o->params[i].name_len, o->params[i].name, names);
        }
    }
    return MFCTL_OK;
}

/* Writes ch's address with values[i] for {params[i]} into out. */
static int substitute(const mf_channel_desc *ch, const char *const *values, char *out, size_t cap)
{
    size_t len = 0;
    for (const char *t = ch->address; *t;) {
        const char *piece = t;
        size_t n = 1;
        const char *close = *t == '{' ? strchr(t, '}') : NULL;
        if (close) {
            for (size_t i = 0; i < ch->param_count; i++)
                if (strlen(ch->params[i].name) == (size_t)(close - t - 1) &&
                    !strncmp(ch->params[i].name, t + 1, (size_t)(close - t - 1))) {
                    piece = values[i];
                    n = strlen(piece);
                }
            t = close + 1;
        } else {
            t++;
        }
        if (len + n >= cap)
            return -1;
        memcpy(out + len, piece, n);
        len += n;
    }
    out[len] = '\0';
    return 0;
}

static int resolve_channel(const mfctl_opts *o, const mf_channel_desc *ch, int mode, mfctl_target *t)
{
    if (check_param_names(o, ch))
        return MFCTL_USAGE;
    const char *values[MFCTL_MAX_PARAMS];
    for (size_t i = 0; i < ch->param_count && i < MFCTL_MAX_PARAMS; i++) {
        const mf_param_desc *p = &ch->params[i];
        values[i] = param_value(o, p);
        mf_error err;
        if (values[i] && mf_param_check(p, values[i], &err))
            return mfctl_usage_error(o->cmd, "--param %s=%s: %s", p->name, values[i], err.message);
        if (!values[i] && mode == MFCTL_LITERAL)
            return mfctl_usage_error(o->cmd, "channel %s needs --param %s=VALUE%s%s%s", ch->address, p->name,
                                     p->type && p->type->format ? " (a " : "",
                                     p->type && p->type->format ? mf_format_name(p->type->format) : "",
                                     p->type && p->type->format ? ")" : "");
        if (!values[i])
            values[i] = "*";
    }
    if (ch->param_count > MFCTL_MAX_PARAMS || substitute(ch, values, t->subject, sizeof t->subject))
        return mfctl_usage_error(o->cmd, "the subject of %s is too long", ch->address);
    t->ch = ch;
    return MFCTL_OK;
}

/* A subject's shape: tokens non-empty, no blanks; with wildcards, '*' and '>' whole tokens, '>' last. */
static bool subject_ok(const char *s, bool wildcards)
{
    if (!*s || strlen(s) >= MFCTL_SUBJECT_MAX)
        return false;
    const char *tok = s;
    for (const char *p = s;; p++) {
        if (*p == '.' || !*p) {
            size_t n = (size_t)(p - tok);
            if (n == 0)
                return false;
            if ((n == 1 && *tok == '>') && *p)
                return false;
            if (!*p)
                return true;
            tok = p + 1;
        } else if (isspace((unsigned char)*p) || (unsigned char)*p < 0x20) {
            return false;
        } else if (*p == '*' || *p == '>') {
            if (!wildcards || p != tok || (p[1] && p[1] != '.'))
                return false;
        }
    }
}

static int resolve_subject(const mfctl_opts *o, const char *name, int mode, mfctl_target *t)
{
    bool wild = mode == MFCTL_PATTERN;
    if (!subject_ok(name, wild))
        return mfctl_usage_error(o->cmd, "'%s' is neither a channel of the contract nor a valid subject%s", name,
                                 wild ? "" : " (no wildcards)");
    if (o->n_params)
        return mfctl_usage_error(o->cmd, "--param needs a channel name or address; '%s' is a subject", name);
    snprintf(t->subject, sizeof t->subject, "%s", name);
    if (strpbrk(name, "*>"))
        return MFCTL_OK;
    t->ch = mf_registry_channel_for_subject(mfctl_reg, name);
    mf_error err;
    if (t->ch && mf_channel_parse(t->ch, name, NULL, 0, &err) != MF_OK)
        return mfctl_usage_error(o->cmd, "subject %s (channel %s): %s", name, t->ch->address, err.message);
    return MFCTL_OK;
}

size_t mfctl_channel_messages(const mf_channel_desc *ch, const mf_message_desc **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; ch && i < mfctl_reg->operation_count; i++) {
        const mf_operation_desc *op = mfctl_reg->operations[i];
        bool dup = false;
        for (size_t j = 0; j < n && !dup; j++)
            dup = out[j] == op->message;
        if (op->channel == ch && !dup && n < cap)
            out[n++] = op->message;
    }
    if (n > 0 || !ch)
        return n;
    for (; n < ch->message_count && n < cap; n++)
        out[n] = ch->messages[n];
    return n;
}

const mf_message_desc *mfctl_channel_reply(const mf_channel_desc *ch)
{
    for (size_t i = 0; ch && i < mfctl_reg->operation_count; i++) {
        const mf_operation_desc *op = mfctl_reg->operations[i];
        if (op->channel == ch && op->reply)
            return op->reply;
    }
    return NULL;
}

int mfctl_target_resolve(const mfctl_opts *o, const char *name, int mode, mfctl_target *t)
{
    memset(t, 0, sizeof *t);
    if (o->message && !(t->msg = mf_registry_message(mfctl_reg, o->message)))
        return mfctl_usage_error(o->cmd, "unknown message %s (see mfctl channels)", o->message);
    const mf_channel_desc *ch = mf_registry_channel(mfctl_reg, name);
    int rc = ch ? resolve_channel(o, ch, mode, t) : resolve_subject(o, name, mode, t);
    if (rc)
        return rc;
    t->reply = mfctl_channel_reply(t->ch);
    return MFCTL_OK;
}
