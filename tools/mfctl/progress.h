/*
 * progress.h - how `mfctl campaign watch` shows an execution: a bar redrawn in
 * place on a terminal, one plain line per update otherwise. Used from one
 * thread at a time (the client's service thread, then the main thread after
 * the subscription has ended).
 */
#ifndef MFCTL_PROGRESS_H
#define MFCTL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mf_sdk/types.h"

typedef struct mfctl_progress {
    FILE *out;
    bool tty;          /* redraw in place */
    bool drawn;        /* a bar is on the current line */
    bool have_base;    /* t0/done0 hold the first update with progress */
    int64_t t0_ms;
    int64_t done0;
    char last[16];     /* last status seen, "" before the first */
} mfctl_progress;

void mfctl_progress_init(mfctl_progress *p, FILE *out, bool tty);
/* Shows one update of the watched execution. */
void mfctl_progress_show(mfctl_progress *p, const mf_campaign_status_update *u);
/* Clears a bar from the line (before a diagnostic on stderr); the next update redraws it. */
void mfctl_progress_clear(mfctl_progress *p);
/* Ends the bar's line with a newline when one is drawn. */
void mfctl_progress_end(mfctl_progress *p);

#endif /* MFCTL_PROGRESS_H */
