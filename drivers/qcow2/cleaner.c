/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cleaner.c - cache-clean-interval: a thread per open image wakes every
 * interval and drops the L2 and refcount cache entries nobody used for that
 * long (dirty ones written back first), so an idle image gives its cache
 * memory's contents up as in QEMU.  It stops when the image is closed. */
#include "qcow2.h"

#include <errno.h>
#include <time.h>

static void clean_once(struct qcow2_state *s)
{
    struct strata_error *err = NULL;
    /* As a request: the wide lock shared keeps whole-image operations
     * (which use the caches without meta) out. */
    pthread_rwlock_rdlock(&s->wide);
    pthread_mutex_lock(&s->meta);
    int r = qcow2_cache_clean(s, s->l2_cache, s->clean_interval, &err);
    if (r == 0)
        r = qcow2_cache_clean(s, s->rb_cache, s->clean_interval, &err);
    pthread_mutex_unlock(&s->meta);
    pthread_rwlock_unlock(&s->wide);
    if (r < 0)
        strata_warn("%s: cache clean-up: %s", s->name, err && err->msg ? err->msg : "I/O error");
    strata_error_free(err);
}

static void *cleaner(void *arg)
{
    struct qcow2_state *s = arg;
    pthread_mutex_lock(&s->clean_mu);
    while (!s->clean_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)s->clean_interval;
        int r = 0;
        while (!s->clean_stop && r != ETIMEDOUT)
            r = pthread_cond_timedwait(&s->clean_cv, &s->clean_mu, &ts);
        if (s->clean_stop)
            break;
        pthread_mutex_unlock(&s->clean_mu);
        clean_once(s);
        pthread_mutex_lock(&s->clean_mu);
    }
    pthread_mutex_unlock(&s->clean_mu);
    return NULL;
}

int qcow2_cleaner_start(struct qcow2_state *s, struct strata_error **errp)
{
    if (!s->clean_interval)
        return 0;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->clean_mu, NULL);
    pthread_cond_init(&s->clean_cv, &ca);
    pthread_condattr_destroy(&ca);
    s->clean_stop = false;
    int r = pthread_create(&s->clean_thread, NULL, cleaner, s);
    if (r) {
        pthread_cond_destroy(&s->clean_cv);
        pthread_mutex_destroy(&s->clean_mu);
        return strata_error_set(errp, r, "%s: cannot start the cache cleaner", s->name);
    }
    s->clean_running = true;
    return 0;
}

void qcow2_cleaner_stop(struct qcow2_state *s)
{
    if (!s->clean_running)
        return;
    pthread_mutex_lock(&s->clean_mu);
    s->clean_stop = true;
    pthread_cond_signal(&s->clean_cv);
    pthread_mutex_unlock(&s->clean_mu);
    pthread_join(s->clean_thread, NULL);
    pthread_cond_destroy(&s->clean_cv);
    pthread_mutex_destroy(&s->clean_mu);
    s->clean_running = false;
}
