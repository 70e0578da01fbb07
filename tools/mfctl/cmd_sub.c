/*
 * cmd_sub.c - `mfctl sub PATTERN`: one line per message on stdout, checked
 * against the contract when its subject belongs to a channel.
 */
#include <string.h>

#include "mfctl.h"

void mfctl_help_sub(FILE *f)
{
    fprintf(f,
            "usage: mfctl sub PATTERN [--count N] [--timeout D] [--queue Q] [--param NAME=VALUE]...\n"
            "                 [--json] [--raw] [--message NAME]\n\n"
            "Prints every message on PATTERN: a subject (wildcards * and > allowed), or a channel's\n"
            "address or key (see mfctl channels), whose parameters not given with --param match\n"
            "any value. Each message is one line on stdout: the subject, a space, the payload as\n"
            "compact JSON (text that is not JSON is printed with \\n, \\xNN escapes). A message on a\n"
            "channel of the contract that breaks it is still printed, and reported on stderr.\n"
            "Ends after N messages, at the timeout, or on Ctrl-C.\n\n"
            "  --count N           exit 0 after N messages (0: no limit, the default)\n"
            "  --timeout D         stop after D: exit 0, or 3 when --count N was given and fewer\n"
            "                      than N arrived (default: no timeout)\n"
            "  --queue Q           join queue group Q: each message goes to one member of the group\n"
            "  -p, --param N=V     a parameter of the channel PATTERN names (repeatable)\n"
            "  --json              one JSON object per line: {\"subject\", \"reply\", \"headers\",\n"
            "                      \"payload\"} (+ \"encoding\" when the payload is not JSON, \"status\"\n"
            "                      for a status message), and \"message\", \"valid\", \"error\" when\n"
            "                      the subject belongs to a channel\n"
            "  --raw               print payloads byte for byte; no checks\n"
            "  --message NAME      check every message against NAME instead of its channel's\n\n"
            "%s\n%s",
            mfctl_help_connection, mfctl_help_exit);
}

typedef struct sub_state {
    const mfctl_opts *o;
    const mfctl_target *t;
    long seen;
} sub_state;

/* Checks a received message: its subject's parameters, then its payload. */
static void judge(const sub_state *s, const mf_msg *m, mfctl_verdict *v)
{
    memset(v, 0, sizeof *v);
    if (s->o->raw)
        return;
    const mf_channel_desc *ch = s->t->msg ? NULL : mf_registry_channel_for_subject(mfctl_reg, m->subject);
    if (ch && mf_channel_parse(ch, m->subject, NULL, 0, &v->err) != MF_OK) {
        v->applies = true;
        v->msg = ch->messages[0];
        return;
    }
    mfctl_judge(ch, m->subject, s->t->msg, m->data, m->len, v);
}

static void on_msg(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)c;
    sub_state *s = ctx;
    if (s->o->count && s->seen >= s->o->count)
        return;
    s->seen++;
    mfctl_verdict v;
    judge(s, m, &v);
    if (s->o->json) {
        mfctl_print_envelope(stdout, m, &v);
    } else {
        printf("%s ", m->subject);
        mfctl_print_payload(stdout, m->data, m->len, s->o->raw);
        putchar('\n');
    }
    if (!mfctl_flush_stdout()) {
        mfctl_wait_post(MFCTL_FAIL);
        return;
    }
    if (v.applies && !v.valid) {
        char what[MFCTL_SUBJECT_MAX + 32];
        snprintf(what, sizeof what, "the message on %s", m->subject);
        mfctl_print_invalid(what, &v);
    }
    if (s->o->count && s->seen == s->o->count)
        mfctl_wait_post(MFCTL_OK);
}

/* Waits for the end; the exit status. */
static int await_end(const mfctl_opts *o, mf_client *c, uint64_t sid, sub_state *s)
{
    bool timed = (o->seen & MFCTL_O_TIMEOUT) != 0;
    int code;
    bool posted = mfctl_wait(timed ? o->timeout_ms : -1, &code);
    mf_client_unsubscribe(c, sid, 0); /* the handler has returned for good */
    if (posted)
        return code == MFCTL_INTERRUPTED ? MFCTL_OK : code;
    if (o->count && s->seen < o->count) {
        char d[32];
        fprintf(stderr, "mfctl: timeout after %s: %ld of %ld messages\n",
                mfctl_fmt_duration(o->timeout_ms, d, sizeof d), s->seen, o->count);
        return MFCTL_TIMEOUT;
    }
    return MFCTL_OK;
}

int mfctl_cmd_sub(const mfctl_opts *o)
{
    unsigned ok = MFCTL_O_COUNT | MFCTL_O_TIMEOUT | MFCTL_O_QUEUE | MFCTL_O_PARAM | MFCTL_O_JSON | MFCTL_O_RAW |
                  MFCTL_O_MESSAGE;
    if (mfctl_check_options(o, ok))
        return MFCTL_USAGE;
    if (o->n_args != 1)
        return mfctl_usage_error(o->cmd, o->n_args ? "too many arguments" : "which subject or channel?");
    mfctl_target t;
    int rc = mfctl_target_resolve(o, o->args[0], MFCTL_PATTERN, &t);
    if (rc || (rc = mfctl_wait_init()))
        return rc;
    mf_client *c = mfctl_connect(o, &rc);
    if (!c)
        return rc;
    sub_state s = {o, &t, 0};
    uint64_t sid = 0;
    mf_status st = mf_client_subscribe(c, t.subject, o->queue, on_msg, &s, &sid);
    if (st == MF_OK && o->count)
        st = mf_client_unsubscribe(c, sid, (uint64_t)o->count);
    if (st == MF_OK)
        st = mf_client_flush(c, o->connect_timeout_ms);
    if (st || mfctl_server_error()) {
        fprintf(stderr, "mfctl: cannot subscribe to %s%s%s: %s\n", t.subject, o->queue ? " in queue group " : "",
                o->queue ? o->queue : "", st ? mf_status_str(st) : mfctl_server_error());
        mf_client_destroy(c);
        return st == MF_ERR_INVALID_ARG ? MFCTL_USAGE : MFCTL_FAIL;
    }
    fprintf(stderr, "mfctl: subscribed to %s%s%s\n", t.subject, o->queue ? " in queue group " : "",
            o->queue ? o->queue : "");
    rc = await_end(o, c, sid, &s);
    mf_client_destroy(c);
    return rc;
}
