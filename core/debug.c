/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* debug.c - qemu-io's breakpoints: passed down the primary children to the
 * first driver that keeps them (blkdebug), as QEMU's block layer does. */
#include "node.h"

#include <errno.h>

static struct strata_node *debug_node(struct strata_node *node)
{
    while (node && !node->drv->debug_breakpoint)
        node = strata_node_primary_child(node);
    return node;
}

static int no_breakpoints(struct strata_node *node, struct strata_error **errp)
{
    return strata_error_set(errp, ENOTSUP, "%s: no node below takes breakpoints (use "
                            "blkdebug)", node ? strata_node_filename(node) : "(none)");
}

int strata_debug_breakpoint(struct strata_node *node, const char *event, const char *tag,
                            struct strata_error **errp)
{
    struct strata_node *d = debug_node(node);
    if (!d)
        return no_breakpoints(node, errp);
    enum strata_event ev;
    if (strata_event_lookup(event, &ev) < 0)
        return strata_error_set(errp, EINVAL, "unknown event '%s'", event ? event : "");
    return d->drv->debug_breakpoint(d, ev, tag, errp);
}

int strata_debug_remove_breakpoint(struct strata_node *node, const char *tag,
                                   struct strata_error **errp)
{
    struct strata_node *d = debug_node(node);
    if (!d || !d->drv->debug_remove_breakpoint)
        return no_breakpoints(node, errp);
    return d->drv->debug_remove_breakpoint(d, tag, errp);
}

int strata_debug_resume(struct strata_node *node, const char *tag,
                        struct strata_error **errp)
{
    struct strata_node *d = debug_node(node);
    if (!d || !d->drv->debug_resume)
        return no_breakpoints(node, errp);
    return d->drv->debug_resume(d, tag, errp);
}

bool strata_debug_is_suspended(struct strata_node *node, const char *tag)
{
    struct strata_node *d = debug_node(node);
    return d && d->drv->debug_is_suspended && d->drv->debug_is_suspended(d, tag);
}
