/*
 * cmd_pub.c - `mfctl pub CHANNEL [FILE|-]`: validate, publish, wait until the
 * server has it.
 */
#include <stdlib.h>

#include "mfctl.h"

#define DEFAULT_FLUSH_MS 5000

void mfctl_help_pub(FILE *f)
{
    fprintf(f,
            "usage: mfctl pub CHANNEL [FILE|-] [--param NAME=VALUE]... [--message NAME] [--raw]\n"
            "                 [--timeout D]\n\n"
            "Publishes the JSON document in FILE (standard input when FILE is - or absent) on\n"
            "CHANNEL, after checking it against the channel's message. CHANNEL is a channel's\n"
            "address or key (see mfctl channels), whose parameters come from --param, or a\n"
            "subject (\"notification.user.<uuid>.push\"); parameter values are checked like the\n"
            "typed API checks them.\n\n"
            "  -p, --param NAME=VALUE  a channel parameter (repeatable)\n"
            "      --message NAME      check against this message instead of the channel's\n"
            "      --raw               publish as is: no check (also on subjects outside the contract)\n"
            "      --timeout D         wait up to D for the server to confirm (default 5s)\n\n"
            "%s\n%s",
            mfctl_help_connection, mfctl_help_exit);
}

/* Validation before anything is sent: 0, or an exit status after printing why. */
static int check_first(const mfctl_opts *o, const mfctl_target *t, const char *data, size_t len)
{
    if (o->raw)
        return MFCTL_OK;
    if (!t->ch && !t->msg)
        return mfctl_usage_error(o->cmd, "no channel of the contract matches %s (--raw publishes anyway, "
                                         "--message NAME checks against a message)", t->subject);
    mfctl_verdict v;
    mfctl_judge(t->ch, t->subject, t->msg, data, len, &v);
    if (v.valid)
        return MFCTL_OK;
    mfctl_print_invalid("the payload", &v);
    return MFCTL_FAIL;
}

int mfctl_cmd_pub(const mfctl_opts *o)
{
    if (mfctl_check_options(o, MFCTL_O_TIMEOUT | MFCTL_O_MESSAGE | MFCTL_O_PARAM | MFCTL_O_RAW))
        return MFCTL_USAGE;
    if (o->n_args < 1 || o->n_args > 2)
        return mfctl_usage_error(o->cmd, o->n_args ? "too many arguments" : "which channel?");
    mfctl_target t;
    int rc = mfctl_target_resolve(o, o->args[0], MFCTL_LITERAL, &t);
    if (rc)
        return rc;
    size_t len;
    char *data = mfctl_read_input(o->n_args > 1 ? o->args[1] : "-", &len);
    if (!data)
        return MFCTL_FAIL;
    rc = check_first(o, &t, data, len);
    mf_client *c = rc ? NULL : mfctl_connect(o, &rc);
    if (c) {
        mf_status st = mf_client_publish(c, t.subject, NULL, data, len);
        if (st == MF_OK)
            st = mf_client_flush(c, (o->seen & MFCTL_O_TIMEOUT) ? o->timeout_ms : DEFAULT_FLUSH_MS);
        if (st == MF_OK && mfctl_server_error()) {
            fprintf(stderr, "mfctl: the server refused the publish on %s: %s\n", t.subject, mfctl_server_error());
            rc = MFCTL_FAIL;
        } else if (st) {
            fprintf(stderr, "mfctl: publish on %s failed: %s\n", t.subject, mf_status_str(st));
            rc = MFCTL_FAIL;
        } else {
            fprintf(stderr, "mfctl: published %zu bytes on %s\n", len, t.subject);
        }
        mf_client_destroy(c);
    }
    free(data);
    return rc;
}
