/*
 * payload.c - payloads in and out: reading FILE|-, checking against the
 * contract's messages, printing one message per line (plain or a JSON
 * envelope).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mf/buf.h"
#include "mf/codec.h"
#include "mfctl.h"

#define MFCTL_MAX_INPUT (64u << 20)

char *mfctl_read_input(const char *path, size_t *len)
{
    bool in = !path || !strcmp(path, "-");
    FILE *f = in ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "mfctl: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    if (in && isatty(STDIN_FILENO))
        fprintf(stderr, "mfctl: reading the payload from standard input (end with Ctrl-D)\n");
    mf_buf b = MF_BUF_INIT;
    b.limit = MFCTL_MAX_INPUT;
    char tmp[65536];
    size_t n;
    bool bad = false;
    while (!bad && (n = fread(tmp, 1, sizeof tmp, f)) > 0)
        bad = mf_buf_append(&b, tmp, n) != MF_OK;
    if (ferror(f) || bad)
        fprintf(stderr, "mfctl: cannot read %s%s\n", in ? "standard input" : path, bad ? " (over 64 MiB?)" : "");
    bad = bad || ferror(f);
    if (!in)
        fclose(f);
    if (bad) {
        mf_buf_free(&b);
        return NULL;
    }
    char *s = mf_buf_detach(&b, len);
    if (!s) {
        *len = 0;
        s = strdup("");
    }
    return s;
}

/* Whether m is one of the messages ch carries (its parameters' locations point into it). */
static bool carries(const mf_channel_desc *ch, const mf_message_desc *m)
{
    for (size_t i = 0; ch && i < ch->message_count; i++)
        if (ch->messages[i] == m)
            return true;
    return false;
}

/*
 * The parameters of `subject` on ch that take their value from the payload (a `location`, such as
 * notification.user.{user_id}.push and /user_id) must equal the decoded value's, as the typed
 * receivers require: they drop a message whose subject and payload disagree.
 */
static mf_status check_subject(const mf_channel_desc *ch, const char *subject, const mf_message_desc *m,
                               const void *value, mf_error *err)
{
    if (!subject || !ch->param_count || ch->param_count > MFCTL_MAX_PARAMS || !carries(ch, m))
        return MF_OK;
    char bufs[MFCTL_MAX_PARAMS][MFCTL_SUBJECT_MAX];
    char *values[MFCTL_MAX_PARAMS];
    for (size_t i = 0; i < ch->param_count; i++)
        values[i] = bufs[i];
    mf_status st = mf_channel_parse(ch, subject, values, MFCTL_SUBJECT_MAX, err);
    if (st == MF_OK)
        st = mf_channel_check_payload(ch, m, value, (const char *const *)values, err);
    return st;
}

static mf_status check_one(const mf_channel_desc *ch, const char *subject, const mf_message_desc *m,
                           const void *data, size_t len, mf_error *err)
{
    void *v = malloc(m->size ? m->size : 1);
    if (!v)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    mf_status st = mf_decode(m->type, data, len, v, err);
    if (st == MF_OK && ch)
        st = check_subject(ch, subject, m, v, err);
    mf_free(m->type, v);
    free(v);
    return st;
}

mf_status mfctl_check(const mf_channel_desc *ch, const char *subject, const mf_message_desc *msg, const void *data,
                      size_t len, const mf_message_desc **which, mf_error *err)
{
    *which = msg;
    if (msg)
        return check_one(ch, subject, msg, data, len, err);
    const mf_message_desc *msgs[16];
    size_t n = mfctl_channel_messages(ch, msgs, 16);
    if (n == 0)
        return mf_error_set(err, MF_ERR_NOT_FOUND, "", "no message to check against");
    mf_error first;
    mf_status first_st = MF_OK;
    for (size_t i = 0; i < n; i++) {
        mf_status st = check_one(ch, subject, msgs[i], data, len, i ? err : &first);
        if (st == MF_OK) {
            *which = msgs[i];
            return MF_OK;
        }
        if (i == 0)
            first_st = st;
    }
    *which = msgs[0];
    if (err)
        *err = first;
    return first_st;
}

void mfctl_judge(const mf_channel_desc *ch, const char *subject, const mf_message_desc *msg, const void *data,
                 size_t len, mfctl_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->applies = ch || msg;
    if (v->applies)
        v->valid = mfctl_check(ch, subject, msg, data, len, &v->msg, &v->err) == MF_OK;
}

void mfctl_print_invalid(const char *what, const mfctl_verdict *v)
{
    fprintf(stderr, "mfctl: %s is not a valid %s: %s: %s\n", what, v->msg ? v->msg->key : "message",
            v->err.pointer[0] ? v->err.pointer : "(document)", v->err.message);
}

/* ---- printing ------------------------------------------------------------------------------- */

/* A compact copy (malloc'd) when data is one JSON text, else NULL. */
static char *compact_json(const void *data, size_t len)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(data, len, &end, false);
    if (!j)
        return NULL;
    cJSON_Delete(j);
    const char *stop = (const char *)data + len;
    while (end < stop && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    char *s = end == stop ? malloc(len + 1) : NULL;
    if (s) {
        memcpy(s, data, len);
        s[len] = '\0';
        cJSON_Minify(s);
    }
    return s;
}

/* Text with control bytes (and, when not valid UTF-8, every byte >= 0x80) escaped. */
static void print_text(FILE *f, const unsigned char *p, size_t len)
{
    bool utf8 = mf_utf8_valid((const char *)p, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = p[i];
        if (ch == '\n')
            fputs("\\n", f);
        else if (ch == '\r')
            fputs("\\r", f);
        else if (ch == '\t')
            fputs("\\t", f);
        else if (ch == '\\')
            fputs("\\\\", f);
        else if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && !utf8))
            fprintf(f, "\\x%02x", ch);
        else
            fputc(ch, f);
    }
}

bool mfctl_flush_stdout(void)
{
    static bool failed; /* reported once */
    if (failed)
        return false;
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return true;
    failed = true;
    if (errno != EPIPE)
        fprintf(stderr, "mfctl: cannot write to standard output%s%s\n", errno ? ": " : "",
                errno ? strerror(errno) : "");
    return false;
}

void mfctl_print_payload(FILE *f, const void *data, size_t len, bool raw)
{
    char *c = raw ? NULL : compact_json(data, len);
    if (c)
        fputs(c, f);
    else if (raw)
        fwrite(data, 1, len, f);
    else
        print_text(f, data, len);
    free(c);
}

/* {"Name": ["v1", "v2"], ...} from the raw header block. */
static cJSON *headers_json(const mf_msg *m)
{
    cJSON *h = cJSON_CreateObject();
    if (!h || !m->headers)
        return h;
    const char *p = m->headers, *end = m->headers + m->headers_len;
    const char *eol = memchr(p, '\n', (size_t)(end - p)); /* skip "NATS/1.0[ status]" */
    for (p = eol ? eol + 1 : end; p < end; p = eol + 1) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        const char *le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (le == p || !colon)
            continue;
        const char *v = colon + 1;
        while (v < le && (*v == ' ' || *v == '\t'))
            v++;
        char name[256], value[1024];
        snprintf(name, sizeof name, "%.*s", (int)(colon - p), p);
        snprintf(value, sizeof value, "%.*s", (int)(le - v), v);
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(h, name);
        if (!arr)
            arr = cJSON_AddArrayToObject(h, name);
        if (arr)
            cJSON_AddItemToArray(arr, cJSON_CreateString(value));
    }
    return h;
}

/* "payload" (and "encoding" when the payload is not JSON). */
static void add_payload(cJSON *o, const mf_msg *m)
{
    char *c = compact_json(m->data, m->len);
    if (c) {
        cJSON_AddItemToObject(o, "payload", cJSON_CreateRaw(c));
        free(c);
        return;
    }
    if (mf_utf8_valid(m->data, m->len)) {
        cJSON_AddStringToObject(o, "payload", m->data);
        cJSON_AddStringToObject(o, "encoding", "text");
        return;
    }
    int cap = (int)(m->len / 3 * 4 + 8);
    char *b = malloc((size_t)cap);
    if (b && lws_b64_encode_string(m->data, (int)m->len, b, cap) >= 0)
        cJSON_AddStringToObject(o, "payload", b);
    cJSON_AddStringToObject(o, "encoding", "base64");
    free(b);
}

int mfctl_print_envelope(FILE *f, const mf_msg *m, const mfctl_verdict *v)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return -1;
    cJSON_AddStringToObject(o, "subject", m->subject);
    if (m->reply)
        cJSON_AddStringToObject(o, "reply", m->reply);
    else
        cJSON_AddNullToObject(o, "reply");
    cJSON_AddItemToObject(o, "headers", headers_json(m));
    if (m->status)
        cJSON_AddNumberToObject(o, "status", m->status);
    add_payload(o, m);
    if (v && v->applies) {
        cJSON_AddStringToObject(o, "message", v->msg ? v->msg->key : "");
        cJSON_AddBoolToObject(o, "valid", v->valid);
        if (!v->valid) {
            cJSON *e = cJSON_AddObjectToObject(o, "error");
            cJSON_AddStringToObject(e, "code", mf_status_str(v->err.code));
            cJSON_AddStringToObject(e, "pointer", v->err.pointer);
            cJSON_AddStringToObject(e, "message", v->err.message);
        }
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return -1;
    fprintf(f, "%s\n", s);
    cJSON_free(s);
    return 0;
}
