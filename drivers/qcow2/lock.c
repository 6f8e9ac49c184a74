/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock.c - the driver's locks: the image-wide lock, the metadata lock and
 * the guest cluster ranges requests hold while they run.
 *
 * A request owns the guest clusters it touches for its whole duration:
 * shared for reads and writes in place, exclusive for anything that may
 * change a mapping.  So a
 * cluster being allocated, copied on write or freed is never seen half done:
 * a second writer waits for the first (and then finds the cluster
 * allocated), a reader sees the mapping before or after the change, and a
 * host cluster is freed only when nobody can be reading it.  Each request
 * holds one range at a time, so ranges cannot deadlock with each other. */
#include "qcow2.h"

#include <errno.h>
#include <stdlib.h>

int qcow2_locks_init(struct qcow2_state *s)
{
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    /* Snapshot, resize and check must not starve behind a stream of
     * requests that keep the lock shared. */
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int r = pthread_rwlock_init(&s->wide, &a);
    pthread_rwlockattr_destroy(&a);
    if (r)
        return -r;
    pthread_mutex_init(&s->meta, NULL);
    pthread_mutex_init(&s->range_mu, NULL);
    pthread_cond_init(&s->range_cv, NULL);
    pthread_mutex_init(&s->dc_mu, NULL);
    s->locks_ready = true;
    return 0;
}

void qcow2_locks_destroy(struct qcow2_state *s)
{
    if (!s->locks_ready)
        return;
    pthread_rwlock_destroy(&s->wide);
    pthread_mutex_destroy(&s->meta);
    pthread_mutex_destroy(&s->range_mu);
    pthread_cond_destroy(&s->range_cv);
    pthread_mutex_destroy(&s->dc_mu);
    s->locks_ready = false;
}

static bool conflicts(const struct qcow2_range *held, const struct qcow2_range *want)
{
    if (held->last < want->first || want->last < held->first)
        return false;
    return held->excl || want->excl;
}

static const struct qcow2_range *first_conflict(const struct qcow2_range *list,
                                                const struct qcow2_range *want)
{
    while (list && !conflicts(list, want))
        list = list->next;
    return list;
}

static void unlink_range(struct qcow2_range **p, struct qcow2_range *rg)
{
    while (*p && *p != rg)
        p = &(*p)->next;
    if (*p)
        *p = rg->next;
}

void qcow2_range_lock(struct qcow2_state *s, struct qcow2_range *rg, uint64_t off,
                      uint64_t len, bool excl)
{
    rg->first = off >> s->cluster_bits;
    rg->last = (off + (len ? len : 1) - 1) >> s->cluster_bits;
    rg->excl = excl;
    pthread_mutex_lock(&s->range_mu);
    /* A reader also waits for a writer that waits, so that a stream of
     * readers of one cluster cannot keep its writer out for ever.  Waiters
     * hold nothing, so this adds no cycle. */
    bool queued = false;
    while (first_conflict(s->ranges, rg) || (!excl && first_conflict(s->waiting, rg))) {
        if (excl && !queued) {
            rg->next = s->waiting;
            s->waiting = rg;
            queued = true;
        }
        pthread_cond_wait(&s->range_cv, &s->range_mu);
    }
    if (queued) {
        unlink_range(&s->waiting, rg);
        pthread_cond_broadcast(&s->range_cv);
    }
    rg->next = s->ranges;
    s->ranges = rg;
    pthread_mutex_unlock(&s->range_mu);
}

void qcow2_range_unlock(struct qcow2_state *s, struct qcow2_range *rg)
{
    pthread_mutex_lock(&s->range_mu);
    unlink_range(&s->ranges, rg);
    pthread_cond_broadcast(&s->range_cv);
    pthread_mutex_unlock(&s->range_mu);
}
