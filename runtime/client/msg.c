/*
 * msg.c - received-message helpers: header lookup, status line, owned copies,
 * and building the header block of an HPUB.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_int.h"

int mf_msg_parse_status(const char *hdr, size_t len)
{
    /* "NATS/1.0 503[ text]\r\n" */
    if (!hdr || len < 12 || memcmp(hdr, "NATS/1.0", 8))
        return 0;
    size_t i = 8;
    while (i < len && (hdr[i] == ' ' || hdr[i] == '\t'))
        i++;
    int code = 0, digits = 0;
    while (i < len && hdr[i] >= '0' && hdr[i] <= '9' && digits < 3) {
        code = code * 10 + (hdr[i] - '0');
        i++;
        digits++;
    }
    return digits == 3 ? code : 0;
}

const char *mf_msg_header(const mf_msg *msg, const char *name, size_t *len)
{
    if (!msg || !name || !msg->headers)
        return NULL;
    size_t nlen = strlen(name);
    const char *p = msg->headers, *end = msg->headers + msg->headers_len;
    /* skip the status line */
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return NULL;
    p = nl + 1;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *lend = (le > p && le[-1] == '\r') ? le - 1 : le;
        if (lend == p)
            break; /* empty line: end of headers */
        const char *colon = memchr(p, ':', (size_t)(lend - p));
        if (colon && (size_t)(colon - p) == nlen && !strncasecmp(p, name, nlen)) {
            const char *v = colon + 1;
            while (v < lend && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = lend;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if (len)
                *len = (size_t)(ve - v);
            return v;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return NULL;
}

mf_status mf_msg_copy(const mf_msg *m, mf_msg_owned **out)
{
    if (!m || !out)
        return MF_ERR_INVALID_ARG;
    *out = NULL;
    size_t need = sizeof(mf_msg_owned) + m->subject_len + 1 + (m->reply ? m->reply_len + 1 : 0) + m->headers_len +
                  m->len + 1;
    mf_msg_owned *o = malloc(need);
    if (!o)
        return MF_ERR_NOMEM;
    char *p = (char *)(o + 1);
    o->msg = *m;
    o->msg.sid = 0;
    memcpy(p, m->subject ? m->subject : "", m->subject_len);
    p[m->subject_len] = '\0';
    o->msg.subject = p;
    p += m->subject_len + 1;
    if (m->reply) {
        memcpy(p, m->reply, m->reply_len);
        p[m->reply_len] = '\0';
        o->msg.reply = p;
        p += m->reply_len + 1;
    }
    if (m->headers) {
        memcpy(p, m->headers, m->headers_len);
        o->msg.headers = p;
        p += m->headers_len;
    }
    if (m->len)
        memcpy(p, m->data, m->len);
    p[m->len] = '\0';
    o->msg.data = p;
    *out = o;
    return MF_OK;
}

void mf_msg_owned_free(mf_msg_owned *m)
{
    free(m);
}

mf_status mf_msg_build_headers(mf_buf *b, const mf_header *h, size_t n)
{
    mf_status st = mf_buf_append_str(b, "NATS/1.0\r\n");
    for (size_t i = 0; !st && i < n; i++) {
        const char *k = h[i].name, *v = h[i].value ? h[i].value : "";
        if (!k || !*k)
            return MF_ERR_INVALID_ARG;
        for (const char *s = k; *s; s++)
            if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || *s == ':')
                return MF_ERR_INVALID_ARG;
        for (const char *s = v; *s; s++)
            if (*s == '\r' || *s == '\n')
                return MF_ERR_INVALID_ARG;
        st = mf_buf_append_str(b, k);
        if (!st)
            st = mf_buf_append(b, ": ", 2);
        if (!st)
            st = mf_buf_append_str(b, v);
        if (!st)
            st = mf_buf_append(b, "\r\n", 2);
    }
    if (!st)
        st = mf_buf_append(b, "\r\n", 2);
    return st;
}
