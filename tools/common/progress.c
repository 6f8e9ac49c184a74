/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* progress.c - the -p progress indicator, drawn like qemu-img's: the
 * percentage is rewritten in place with a carriage return. */
#include "tool.h"

#include <stdio.h>

void tool_progress_start(struct tool_progress *p, bool enabled)
{
    p->enabled = enabled;
    p->shown = -1.0;
    if (enabled)
        tool_progress_update(p, 0, 1);
}

void tool_progress_update(struct tool_progress *p, uint64_t done, uint64_t total)
{
    if (!p->enabled)
        return;
    double pct = total ? (double)done * 100.0 / (double)total : 100.0;
    if (pct > 100.0)
        pct = 100.0;
    /* Whole-percent steps keep a pipe or log file small. */
    if (p->shown >= 0 && pct < 100.0 && pct - p->shown < 1.0)
        return;
    if (pct == p->shown)
        return;
    p->shown = pct;
    printf("    (%3.2f/100%%)\r", pct);
    fflush(stdout);
}

void tool_progress_end(struct tool_progress *p)
{
    if (!p->enabled)
        return;
    tool_progress_update(p, 1, 1);
    putchar('\n');
    fflush(stdout);
    p->enabled = false;
}
