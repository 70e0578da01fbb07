/*
 * progress.c - see progress.h. The rate is measured on this side: delivered
 * (sent + failed) since the first update with progress, over the time since
 * then; the ETA is what remains at that rate.
 */
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "mfctl.h"
#include "progress.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mfctl_progress_init(mfctl_progress *p, FILE *out, bool tty)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->tty = tty;
}

static int columns(FILE *out)
{
    struct winsize ws;
    if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return ws.ws_col;
    return 80;
}

/* Messages per second since the base, or -1 when not known yet. */
static double rate(mfctl_progress *p, int64_t done)
{
    int64_t t = now_ms();
    if (!p->have_base) {
        p->have_base = true;
        p->t0_ms = t;
        p->done0 = done;
        return -1;
    }
    if (t <= p->t0_ms || done <= p->done0)
        return -1;
    return (double)(done - p->done0) * 1000.0 / (double)(t - p->t0_ms);
}

/* "1530/s, ETA 4s" or "rate --, ETA --". */
static void rate_text(double r, int64_t left, char *out, size_t cap)
{
    char d[32];
    if (r <= 0)
        snprintf(out, cap, "--/s, ETA --");
    else if (left == 0)
        snprintf(out, cap, "%.0f/s", r);
    else
        snprintf(out, cap, "%.0f/s, ETA %s", r, mfctl_fmt_duration((int64_t)((double)left * 1000.0 / r), d, sizeof d));
}

/* "running   [#####-----]  50.0%  50 sent  0 failed  of 100  12/s, ETA 4s" (rate only while running). */
static void draw_bar(mfctl_progress *p, const char *status, const mf_campaign_status_update_progress *g,
                     const char *rt)
{
    int64_t done = g->sent + g->failed;
    double frac = g->total_targets > 0 ? (double)done / (double)g->total_targets : 0;
    if (frac > 1)
        frac = 1;
    /* The bar keeps its width from one update to the next; the text after it takes ~60 columns. */
    int width = columns(p->out) - 70;
    width = width < 10 ? 10 : width > 40 ? 40 : width;
    int fill = (int)(frac * width + 0.5);
    fprintf(p->out, "\r\033[K%-9s [", status);
    for (int i = 0; i < width; i++)
        fputc(i < fill ? '#' : '-', p->out);
    fprintf(p->out, "] %5.1f%%  %lld sent  %lld failed  of %lld%s%s", frac * 100, (long long)g->sent,
            (long long)g->failed, (long long)g->total_targets, *rt ? "  " : "", rt);
    p->drawn = true;
}

static void plain_line(mfctl_progress *p, const mf_campaign_status_update *u, const char *status, const char *rt)
{
    const mf_campaign_status_update_progress *g = &u->progress;
    fprintf(p->out, "%s %s", u->updated_at, status);
    if (u->has_progress) {
        int64_t done = g->sent + g->failed;
        fprintf(p->out, ": %lld sent, %lld failed of %lld (%.1f%%)", (long long)g->sent, (long long)g->failed,
                (long long)g->total_targets, g->total_targets ? 100.0 * (double)done / (double)g->total_targets : 0.0);
        if (*rt)
            fprintf(p->out, ", %s", rt);
    }
    fputc('\n', p->out);
}

void mfctl_progress_show(mfctl_progress *p, const mf_campaign_status_update *u)
{
    const char *status = mf_enum_to_string(&mf_campaign_status_update_status_desc, (int)u->status);
    snprintf(p->last, sizeof p->last, "%s", status ? status : "?");
    char rt[64] = "";
    if (u->has_progress && u->status == MF_CAMPAIGN_STATUS_UPDATE_STATUS_RUNNING) {
        const mf_campaign_status_update_progress *g = &u->progress;
        int64_t left = g->total_targets - g->sent - g->failed;
        rate_text(rate(p, g->sent + g->failed), left > 0 ? left : 0, rt, sizeof rt);
    }
    if (p->tty && u->has_progress) {
        draw_bar(p, p->last, &u->progress, rt);
    } else if (p->tty) {
        fprintf(p->out, "\r\033[K%s", p->last);
        p->drawn = true;
    } else {
        plain_line(p, u, p->last, rt);
    }
    if (u->has_error) {
        mfctl_progress_end(p);
        fprintf(p->out, "error %s: %s\n", u->error.code, u->error.message);
    }
}

void mfctl_progress_clear(mfctl_progress *p)
{
    if (p->tty && p->drawn) {
        fputs("\r\033[K", p->out);
        fflush(p->out);
        p->drawn = false;
    }
}

void mfctl_progress_end(mfctl_progress *p)
{
    if (p->tty && p->drawn) {
        fputc('\n', p->out);
        fflush(p->out);
        p->drawn = false;
    }
}
