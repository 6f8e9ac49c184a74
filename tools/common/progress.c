/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* progress.c - the -p progress indicator, drawn like qemu-img's: the
 * percentage is rewritten in place with a carriage return. */
#include "tool.h"

#include <stdio.h>

void tool_progress_start(struct tool_progress *p, bool enabled)
{
    p->enabled = enabled;
    p->shown = 0.0f;
    if (enabled)
        tool_progress_update(p, 0, 1);
}

void tool_progress_update(struct tool_progress *p, uint64_t done, uint64_t total)
{
    if (!p->enabled)
        return;
    /* qemu-img's rule, in its single precision so that the same steps
     * print the same digits: a move of more than one point either way,
     * and 0 and 100 every time they come. */
    float pct = total ? (float)(100.0 * (double)done / (double)total) : 100.0f;
    if (pct > 100.0f)
        pct = 100.0f;
    if (!(pct > p->shown + 1.0f || pct < p->shown - 1.0f || pct == 100.0f || pct == 0.0f))
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
