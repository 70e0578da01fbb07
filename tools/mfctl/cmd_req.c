/*
 * cmd_req.c - `mfctl req CHANNEL [FILE|-]`: send a request, print the reply.
 * Timeout, no responders and a refusal by the responder (NATS service-error
 * headers) end with distinct exit statuses.
 */
#include <stdlib.h>
#include <string.h>

#include "mfctl.h"

#define DEFAULT_TIMEOUT_MS 2000

void mfctl_help_req(FILE *f)
{
    fprintf(f,
            "usage: mfctl req CHANNEL [FILE|-] [--timeout D] [--param NAME=VALUE]... [--message NAME]\n"
            "                 [--raw] [--json]\n\n"
            "Sends the JSON document in FILE (standard input when FILE is - or absent) as a request\n"
            "on CHANNEL and prints the reply on one line (compact JSON). The request is checked\n"
            "against the channel's message and the reply against the contract's reply message.\n"
            "CHANNEL is a channel's address or key, or a subject, as for pub.\n\n"
            "  --timeout D         wait up to D for the reply (default 2s)\n"
            "  -p, --param N=V     a channel parameter (repeatable)\n"
            "  --message NAME      check the request against this message instead\n"
            "  --raw               no checks (also on subjects outside the contract)\n"
            "  --json              print the reply as a JSON envelope (see mfctl sub --help)\n\n"
            "A responder refuses a request by replying with the headers\n"
            "  Nats-Service-Error: <text>   and   Nats-Service-Error-Code: <code>\n"
            "(as NATS services do); mfctl reports them on stderr and exits 5.\n\n"
            "%s\n%s",
            mfctl_help_connection, mfctl_help_exit);
}

/* Exit status for a refusal (service-error headers) or an error status; -1 when the reply is a reply. */
static int refused(const char *subject, const mf_msg *r)
{
    size_t tn = 0, cn = 0;
    const char *text = mf_msg_header(r, "Nats-Service-Error", &tn);
    const char *code = mf_msg_header(r, "Nats-Service-Error-Code", &cn);
    if (text || code) {
        fprintf(stderr, "mfctl: the responder refused the request on %s: %.*s%s%.*s\n", subject, (int)cn,
                code ? code : "", code && text ? " " : "", (int)tn, text ? text : "");
        if (r->len) {
            mfctl_print_payload(stdout, r->data, r->len, false);
            putchar('\n');
        }
        return MFCTL_REFUSED;
    }
    if (r->status >= 400) {
        fprintf(stderr, "mfctl: the reply on %s carries status %d\n", subject, r->status);
        return MFCTL_FAIL;
    }
    return -1;
}

/* Prints the reply and checks it against the contract's reply message. */
static int show_reply(const mfctl_opts *o, const mfctl_target *t, const mf_msg *r)
{
    int rc = refused(t->subject, r);
    if (rc >= 0)
        return rc;
    mfctl_verdict v;
    mfctl_judge(NULL, NULL, o->raw ? NULL : t->reply, r->data, r->len, &v);
    if (o->json) {
        mfctl_print_envelope(stdout, r, &v);
    } else {
        mfctl_print_payload(stdout, r->data, r->len, o->raw);
        putchar('\n');
    }
    if (v.applies && !v.valid) {
        mfctl_print_invalid("the reply", &v);
        return MFCTL_FAIL;
    }
    return MFCTL_OK;
}

typedef struct req_state {
    mf_status st;
    mf_msg_owned *rep;
} req_state;

/* On the service thread, exactly once (also from mf_client_destroy after an interruption). */
static void on_reply(mf_client *c, mf_status st, const mf_msg *reply, void *ctx)
{
    (void)c;
    req_state *r = ctx;
    r->st = st;
    if (st == MF_OK && mf_msg_copy(reply, &r->rep) != MF_OK)
        r->st = MF_ERR_NOMEM;
    mfctl_wait_post(MFCTL_OK);
}

/* Sends the request and waits (Ctrl-C ends the wait); the exit status. */
static int request(const mfctl_opts *o, mf_client *c, const mfctl_target *t, const char *data, size_t len)
{
    int timeout = (o->seen & MFCTL_O_TIMEOUT) ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
    req_state r = {MF_OK, NULL};
    mf_status st = mf_client_request_async(c, t->subject, data, len, timeout, on_reply, &r);
    int code = MFCTL_OK;
    if (st == MF_OK)
        mfctl_wait(-1, &code); /* the client ends the request at its timeout */
    if (code == MFCTL_INTERRUPTED) {
        mf_client_destroy(c); /* the callback runs now, with MF_ERR_CLOSED */
        mf_msg_owned_free(r.rep);
        return MFCTL_INTERRUPTED;
    }
    if (st == MF_OK)
        st = r.st;
    char d[32];
    int rc;
    if (st == MF_OK) {
        rc = show_reply(o, t, &r.rep->msg);
    } else if (mfctl_server_error()) { /* the request or the inbox's subscription was not allowed */
        fprintf(stderr, "mfctl: the server refused the request on %s: %s\n", t->subject, mfctl_server_error());
        rc = MFCTL_FAIL;
    } else if (st == MF_ERR_TIMEOUT) {
        fprintf(stderr, "mfctl: no reply on %s within %s\n", t->subject, mfctl_fmt_duration(timeout, d, sizeof d));
        rc = MFCTL_TIMEOUT;
    } else if (st == MF_ERR_NO_RESPONDERS) {
        fprintf(stderr, "mfctl: no responders on %s\n", t->subject);
        rc = MFCTL_NO_RESPONDERS;
    } else {
        fprintf(stderr, "mfctl: request on %s failed: %s\n", t->subject, mf_status_str(st));
        rc = MFCTL_FAIL;
    }
    mf_client_destroy(c);
    mf_msg_owned_free(r.rep);
    return rc;
}

int mfctl_cmd_req(const mfctl_opts *o)
{
    unsigned ok = MFCTL_O_TIMEOUT | MFCTL_O_PARAM | MFCTL_O_MESSAGE | MFCTL_O_RAW | MFCTL_O_JSON;
    if (mfctl_check_options(o, ok))
        return MFCTL_USAGE;
    if (o->n_args < 1 || o->n_args > 2)
        return mfctl_usage_error(o->cmd, o->n_args ? "too many arguments" : "which channel?");
    mfctl_target t;
    int rc = mfctl_target_resolve(o, o->args[0], MFCTL_LITERAL, &t);
    if (rc)
        return rc;
    if (!o->raw && !t.ch && !t.msg)
        return mfctl_usage_error(o->cmd, "no channel of the contract matches %s (--raw sends anyway)", t.subject);
    size_t len;
    char *data = mfctl_read_input(o->n_args > 1 ? o->args[1] : "-", &len);
    if (!data)
        return MFCTL_FAIL;
    mfctl_verdict v;
    mfctl_judge(o->raw ? NULL : t.ch, t.subject, o->raw ? NULL : t.msg, data, len, &v);
    if (v.applies && !v.valid) {
        mfctl_print_invalid("the request", &v);
        free(data);
        return MFCTL_FAIL;
    }
    mf_client *c = (rc = mfctl_wait_init()) ? NULL : mfctl_connect(o, &rc);
    if (c)
        rc = request(o, c, &t, data, len); /* destroys c */
    free(data);
    return rc;
}
