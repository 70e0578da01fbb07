/*
 * cs_template.h - notification text: picking the localization for a user's language and
 * interpolating placeholders.
 *
 * Syntax of a template (title or body):
 *   {{name}}           a placeholder; spaces inside the braces are allowed ("{{ name }}").
 *                      A name is [A-Za-z_][A-Za-z0-9_.-]*.
 *   \{{                a literal "{{" (the backslash is dropped). A backslash anywhere else is
 *                      itself, and so is a "}}" outside a placeholder.
 *   "{{" that does not start a well-formed placeholder is a syntax error (MF_ERR_SYNTAX, the
 *   message gives the byte offset), found when the campaign is created.
 * Values:
 *   {{name}} {{email}} {{language}} {{timezone}}  the user's profile fields. These four names
 *                      are the user's even when `data` has the same key.
 *   any other name     the template's data[name] (see cs_data.h for what a value gives).
 * A placeholder whose value is missing (the user has no name, data has no such key, the value
 * is null or not a scalar) is an error for that user (MF_ERR_NOT_FOUND naming the key) - never
 * an empty string. Values are inserted as they are: the result is plain text, and the codec
 * escapes it when the notification is encoded as JSON; no HTML or other escaping is applied.
 *
 * Localization: for language "de-DE" the template's localization entry "de-DE" is used, else
 * "de", else the template's own title_template/body_template. Keys compare case-insensitively
 * (BCP 47 tags are case-insensitive).
 *
 * Threads: no shared state.
 */
#ifndef CS_TEMPLATE_H
#define CS_TEMPLATE_H

#include <stdbool.h>
#include "cs_data.h"
#include "mf/buf.h"
#include "mf/status.h"
#include "mf_sdk/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The profile fields a template can use; NULL = the user has none. */
typedef struct cs_user_fields {
    const char *name;
    const char *email;
    const char *language;
    const char *timezone;
} cs_user_fields;

/*
 * Checks a template when its campaign is created: the syntax, and that every placeholder is a
 * user field or a key of `data` with an interpolable value. MF_ERR_SYNTAX or MF_ERR_NOT_FOUND;
 * the caller sets the JSON pointer.
 */
mf_status cs_template_check(const char *tmpl, const cs_data *data, mf_error *err);

/*
 * Appends the interpolated template to `out`. On error nothing is appended (out->len is
 * restored) and err names the placeholder (MF_ERR_NOT_FOUND) or the syntax error.
 */
mf_status cs_template_render(const char *tmpl, const cs_user_fields *user, const cs_data *data, mf_buf *out,
                             mf_error *err);

/*
 * The title and body templates of `t` for `language` (NULL = the default). Returns the
 * localization key used, or NULL when the default title_template/body_template are used.
 */
const char *cs_template_localize(const mf_notification_template *t, const char *language, const char **title,
                                 const char **body);

#ifdef __cplusplus
}
#endif
#endif /* CS_TEMPLATE_H */
