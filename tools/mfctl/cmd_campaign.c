/*
 * cmd_campaign.c - `mfctl campaign watch EXECUTION_ID | --campaign ID`: follow
 * one execution on campaign.status (decoded and validated with the generated
 * codec) until it ends.
 */
#include <string.h>
#include <unistd.h>

#include "mf/codec.h"
#include "mf_sdk/channels.h"
#include "mf_sdk/types.h"
#include "mfctl.h"
#include "progress.h"

#define ID_MAX 64

void mfctl_help_campaign(FILE *f)
{
    fprintf(f,
            "usage: mfctl campaign watch EXECUTION_ID [--timeout D]\n"
            "       mfctl campaign watch --campaign CAMPAIGN_ID [--timeout D]\n\n"
            "Follows one campaign execution on " MF_CAMPAIGN_STATUS_ADDRESS " until it ends. On a terminal: a\n"
            "progress bar redrawn in place (status, sent/failed/total, rate, ETA); otherwise one\n"
            "line per update: \"<updated_at> <status>: <sent> sent, <failed> failed of <total> (<%%>)\".\n"
            "Updates that break the contract are reported on stderr and skipped. With --campaign,\n"
            "mfctl follows the first execution of that campaign it sees.\n\n"
            "  --campaign ID   follow the campaign's execution instead of naming it\n"
            "  --timeout D     give up after D (default: wait until the execution ends)\n\n"
            "Exit status: 0 completed, 1 failed or cancelled, 3 timeout, 130 interrupted; a paused\n"
            "execution is watched on. 2 usage, 1 also when mfctl cannot connect.\n\n%s",
            mfctl_help_connection);
}

typedef struct watch {
    char execution[ID_MAX];  /* "" until known (--campaign) */
    const char *campaign;    /* --campaign or NULL */
    mfctl_progress bar;
    bool ended;              /* a final status was shown: later updates are ignored */
} watch;

/* 0 when id is a uuid, as CampaignStatusUpdate requires of `field`. */
static int check_id(const mfctl_opts *o, const char *field, const char *id)
{
    const mf_type *t = &mf_campaign_status_update_desc;
    for (uint32_t i = 0; i < t->field_count; i++) {
        const mf_field *fd = &t->fields[i];
        if (!strcmp(fd->name, field) && fd->type->format && !mf_format_check(fd->type->format, id, strlen(id)))
            return mfctl_usage_error(o->cmd, "%s: the %s must be a %s", id, field, mf_format_name(fd->type->format));
    }
    return strlen(id) < ID_MAX ? MFCTL_OK : mfctl_usage_error(o->cmd, "%s: too long", id);
}

/* The exit status a final status means; -1 while the execution goes on. */
static int final_code(mf_campaign_status_update_status s)
{
    switch (s) {
    case MF_CAMPAIGN_STATUS_UPDATE_STATUS_COMPLETED:
        return MFCTL_OK;
    case MF_CAMPAIGN_STATUS_UPDATE_STATUS_FAILED:
    case MF_CAMPAIGN_STATUS_UPDATE_STATUS_CANCELLED:
        return MFCTL_FAIL;
    default:
        return -1;
    }
}

/* True when u is about the watched execution (locks onto the first of --campaign). */
static bool watched(watch *w, const mf_campaign_status_update *u)
{
    if (w->execution[0])
        return !strcmp(u->execution_id, w->execution);
    if (strcmp(u->campaign_id, w->campaign))
        return false;
    snprintf(w->execution, sizeof w->execution, "%s", u->execution_id);
    mfctl_progress_clear(&w->bar);
    fprintf(stderr, "mfctl: following execution %s of campaign %s\n", w->execution, w->campaign);
    return true;
}

static void on_status(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)c;
    watch *w = ctx;
    if (w->ended)
        return;
    mf_campaign_status_update u;
    mf_error err;
    if (mf_campaign_status_update_decode(m->data, m->len, &u, &err) != MF_OK) {
        mfctl_progress_clear(&w->bar);
        fprintf(stderr, "mfctl: skipped an invalid CampaignStatusUpdate on %s: %s: %s\n", m->subject,
                err.pointer[0] ? err.pointer : "(document)", err.message);
        return;
    }
    if (watched(w, &u)) {
        mfctl_progress_show(&w->bar, &u);
        int code = mfctl_flush_stdout() ? final_code(u.status) : MFCTL_FAIL;
        if (code >= 0) {
            w->ended = true;
            mfctl_wait_post(code);
        }
    }
    mf_campaign_status_update_free(&u);
}

/* Arguments: 0, or MFCTL_USAGE after printing why. */
static int parse_watch(const mfctl_opts *o, watch *w)
{
    if (mfctl_check_options(o, MFCTL_O_TIMEOUT | MFCTL_O_CAMPAIGN))
        return MFCTL_USAGE;
    if (o->n_args == 0 || strcmp(o->args[0], "watch"))
        return mfctl_usage_error(o->cmd, o->n_args ? "unknown campaign command %s (there is: watch)"
                                                   : "which campaign command? (there is: watch)",
                                 o->n_args ? o->args[0] : "");
    if (o->n_args > 2 || (o->n_args == 2) == (o->campaign != NULL))
        return mfctl_usage_error(o->cmd, "give one EXECUTION_ID or --campaign ID");
    if (o->campaign)
        return check_id(o, "campaign_id", o->campaign);
    if (check_id(o, "execution_id", o->args[1]))
        return MFCTL_USAGE;
    snprintf(w->execution, sizeof w->execution, "%s", o->args[1]);
    return MFCTL_OK;
}

static int await_end(const mfctl_opts *o, mf_client *c, uint64_t sid, watch *w)
{
    int code;
    bool posted = mfctl_wait((o->seen & MFCTL_O_TIMEOUT) ? o->timeout_ms : -1, &code);
    mf_client_unsubscribe(c, sid, 0); /* on_status has returned for good */
    mfctl_progress_end(&w->bar);
    const char *what = w->execution[0] ? w->execution : o->campaign;
    if (posted && code == MFCTL_INTERRUPTED)
        fprintf(stderr, "mfctl: interrupted while %s was %s\n", what, w->bar.last[0] ? w->bar.last : "not seen");
    else if (posted && code != MFCTL_OK)
        fprintf(stderr, "mfctl: execution %s %s\n", what, w->bar.last);
    if (posted)
        return code;
    char d[32];
    fprintf(stderr, "mfctl: no final status for %s within %s (last seen: %s)\n", what,
            mfctl_fmt_duration(o->timeout_ms, d, sizeof d), w->bar.last[0] ? w->bar.last : "nothing");
    return MFCTL_TIMEOUT;
}

int mfctl_cmd_campaign(const mfctl_opts *o)
{
    watch w;
    memset(&w, 0, sizeof w);
    w.campaign = o->campaign;
    int rc = parse_watch(o, &w);
    if (rc || (rc = mfctl_wait_init()))
        return rc;
    mfctl_progress_init(&w.bar, stdout, isatty(STDOUT_FILENO));
    mf_client *c = mfctl_connect(o, &rc);
    if (!c)
        return rc;
    uint64_t sid = 0;
    mf_status st = mf_client_subscribe(c, MF_CAMPAIGN_STATUS_ADDRESS, NULL, on_status, &w, &sid);
    if (st == MF_OK)
        st = mf_client_flush(c, o->connect_timeout_ms);
    if (st || mfctl_server_error()) {
        fprintf(stderr, "mfctl: cannot subscribe to %s: %s\n", MF_CAMPAIGN_STATUS_ADDRESS,
                st ? mf_status_str(st) : mfctl_server_error());
        mf_client_destroy(c);
        return MFCTL_FAIL;
    }
    fprintf(stderr, "mfctl: watching %s %s on %s\n", o->campaign ? "campaign" : "execution",
            o->campaign ? o->campaign : w.execution, MF_CAMPAIGN_STATUS_ADDRESS);
    rc = await_end(o, c, sid, &w);
    mf_client_destroy(c);
    return rc;
}
