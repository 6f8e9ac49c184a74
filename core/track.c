/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* track.c - the writes in flight on a node, by aligned range.
 *
 * A read-modify-write reads whole blocks around its edges and writes them
 * back, so it must not overlap any other write: it is *serialising*.  It
 * waits for every write it overlaps, and every write waits for the
 * serialising ones it overlaps (QEMU's serialising requests).  Writes to
 * other blocks run in parallel, and a request held up in a lower layer (a
 * blkdebug breakpoint, a slow device) holds up only those that share its
 * blocks.  A request waits only for requests registered before it, so
 * waiting cannot go round in a circle.
 */
#include "node.h"

static bool conflicts(const struct strata_track *a, const struct strata_track *b)
{
    return a->start < b->end && b->start < a->end && (a->serialising || b->serialising);
}

void strata_track_begin(struct strata_node *n, struct strata_track *t, uint64_t start,
                        uint64_t end, bool serialising)
{
    t->start = start;
    t->end = end;
    t->serialising = serialising;
    pthread_mutex_lock(&n->track_lock);
    for (;;) {
        const struct strata_track *o = n->tracks;
        while (o && !conflicts(o, t))
            o = o->next;
        if (!o)
            break;
        pthread_cond_wait(&n->track_done, &n->track_lock);
    }
    t->next = n->tracks;
    n->tracks = t;
    pthread_mutex_unlock(&n->track_lock);
}

void strata_track_end(struct strata_node *n, struct strata_track *t)
{
    pthread_mutex_lock(&n->track_lock);
    struct strata_track **p = &n->tracks;
    while (*p && *p != t)
        p = &(*p)->next;
    if (*p)
        *p = t->next;
    pthread_cond_broadcast(&n->track_done);
    pthread_mutex_unlock(&n->track_lock);
}
