/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bounce.h - a pool of equal bounce buffers shared by the requests of one
 * node that run at once: a request borrows a buffer and gives it back, so
 * the steady state allocates nothing. */
#ifndef STRATA_COMMON_BOUNCE_H
#define STRATA_COMMON_BOUNCE_H

#include <pthread.h>
#include <stddef.h>

struct bounce_free;

struct bounce_pool {
    pthread_mutex_t lock;
    size_t size;                /* bytes per buffer */
    size_t align;               /* alignment of new buffers; 0: malloc's */
    unsigned keep;              /* free buffers kept at most; 0: all */
    unsigned nfree;
    struct bounce_free *free;
};

void bounce_pool_init(struct bounce_pool *p, size_t size, size_t align, unsigned keep);
/* Frees the buffers in the pool; every borrowed one must be back. */
void bounce_pool_destroy(struct bounce_pool *p);
/* A buffer of p->size bytes, or NULL when out of memory. */
void *bounce_get(struct bounce_pool *p);
void bounce_put(struct bounce_pool *p, void *buf);

#endif
