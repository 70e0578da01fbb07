/* cs_template.c - see cs_template.h. */
#include "cs_template.h"

#include <string.h>
#include <strings.h>

#define NAME_MAX_LEN 128

static bool name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

/*
 * Reads a placeholder at s (which starts with "{{"). On success returns the bytes it spans and
 * copies its name into name; returns 0 when it is not well formed.
 */
static size_t placeholder(const char *s, char name[NAME_MAX_LEN + 1])
{
    size_t i = 2, n = 0;
    while (s[i] == ' ')
        i++;
    if (!name_start(s[i]))
        return 0;
    while (name_char(s[i])) {
        if (n == NAME_MAX_LEN)
            return 0;
        name[n++] = s[i++];
    }
    name[n] = '\0';
    while (s[i] == ' ')
        i++;
    return s[i] == '}' && s[i + 1] == '}' ? i + 2 : 0;
}

/* The value of placeholder `name`: *found false when it has none. */
static const char *value_of(const char *name, const cs_user_fields *u, const cs_data *d, bool *user_field)
{
    static const char *const fields[] = {"name", "email", "language", "timezone"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, fields[i]) == 0) {
            *user_field = true;
            if (!u)
                return NULL;
            const char *v[] = {u->name, u->email, u->language, u->timezone};
            return v[i];
        }
    }
    *user_field = false;
    return cs_data_get(d, name, NULL);
}

/*
 * Walks the template; with out == NULL only checks (user fields always count as present).
 * Returns MF_OK or the first error.
 */
static mf_status walk(const char *t, const cs_user_fields *u, const cs_data *d, mf_buf *out, mf_error *err)
{
    mf_status st = MF_OK;
    size_t lit = 0; /* start of the pending literal run */
    size_t i = 0;
    for (; st == MF_OK; i++) {
        i += strcspn(t + i, "{\\"); /* only '{' and '\\' can start anything: skip the text between */
        if (!t[i])
            break;
        if (t[i] == '\\' && t[i + 1] == '{' && t[i + 2] == '{') {
            if (out && (st = mf_buf_append(out, t + lit, i - lit)) == MF_OK)
                st = mf_buf_append(out, "{{", 2);
            i += 2;
            lit = i + 1;
            continue;
        }
        if (t[i] != '{' || t[i + 1] != '{')
            continue;
        char name[NAME_MAX_LEN + 1];
        size_t span = placeholder(t + i, name);
        if (!span)
            return mf_error_set(err, MF_ERR_SYNTAX, "", "\"{{\" at byte %zu does not start a placeholder {{name}} "
                                "(write \\{{ for a literal \"{{\")", i);
        bool user_field;
        const char *v = value_of(name, u, d, &user_field);
        if (!v && (out || !user_field))
            return mf_error_set(err, MF_ERR_NOT_FOUND, "", "no value for {{%s}}%s", name,
                                user_field ? " (the user has none)" : " (not a user field, not a scalar in data)");
        if (out && (st = mf_buf_append(out, t + lit, i - lit)) == MF_OK)
            st = mf_buf_append_str(out, v);
        i += span - 1;
        lit = i + 1;
    }
    if (out && st == MF_OK)
        st = mf_buf_append(out, t + lit, i - lit);
    return st == MF_OK ? MF_OK : mf_error_set(err, st, "", "out of memory");
}

mf_status cs_template_check(const char *tmpl, const cs_data *data, mf_error *err)
{
    return walk(tmpl ? tmpl : "", NULL, data, NULL, err);
}

mf_status cs_template_render(const char *tmpl, const cs_user_fields *user, const cs_data *data, mf_buf *out,
                             mf_error *err)
{
    size_t mark = out->len;
    mf_status st = walk(tmpl ? tmpl : "", user, data, out, err);
    if (st != MF_OK) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
    }
    return st;
}

static const mf_localized_text *find(const mf_localization *l, const char *key, size_t n, const char **matched)
{
    for (size_t i = 0; i < l->count; i++) {
        if (strlen(l->keys[i]) == n && strncasecmp(l->keys[i], key, n) == 0) {
            *matched = l->keys[i];
            return &l->values[i];
        }
    }
    return NULL;
}

const char *cs_template_localize(const mf_notification_template *t, const char *language, const char **title,
                                 const char **body)
{
    const char *matched = NULL;
    const mf_localized_text *lt = NULL;
    if (language && *language && t->has_localization) {
        lt = find(&t->localization, language, strlen(language), &matched);
        const char *dash = strchr(language, '-');
        if (!lt && dash)
            lt = find(&t->localization, language, (size_t)(dash - language), &matched);
    }
    *title = lt ? lt->title : t->title_template;
    *body = lt ? lt->body : t->body_template;
    return lt ? matched : NULL;
}
