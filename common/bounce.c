/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bounce.c - the bounce buffer pool. */
#include "bounce.h"

#include <stdlib.h>

/* A free buffer's first bytes link it into the pool. */
struct bounce_free {
    struct bounce_free *next;
};

void bounce_pool_init(struct bounce_pool *p, size_t size, size_t align, unsigned keep)
{
    pthread_mutex_init(&p->lock, NULL);
    p->size = size;
    p->align = align;
    p->keep = keep;
    p->nfree = 0;
    p->free = NULL;
}

void bounce_pool_destroy(struct bounce_pool *p)
{
    while (p->free) {
        struct bounce_free *b = p->free;
        p->free = b->next;
        free(b);
    }
    p->nfree = 0;
    pthread_mutex_destroy(&p->lock);
}

void *bounce_get(struct bounce_pool *p)
{
    pthread_mutex_lock(&p->lock);
    struct bounce_free *b = p->free;
    if (b) {
        p->free = b->next;
        p->nfree--;
    }
    pthread_mutex_unlock(&p->lock);
    if (b)
        return b;
    if (!p->align)
        return malloc(p->size);
    void *buf;
    return posix_memalign(&buf, p->align, p->size) == 0 ? buf : NULL;
}

void bounce_put(struct bounce_pool *p, void *buf)
{
    struct bounce_free *b = buf;
    pthread_mutex_lock(&p->lock);
    if (!p->keep || p->nfree < p->keep) {
        b->next = p->free;
        p->free = b;
        p->nfree++;
        b = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    free(b);
}
