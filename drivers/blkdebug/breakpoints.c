/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* breakpoints.c - qemu-io's break, resume, remove_break and wait_break: a
 * breakpoint holds the next request that raises its event, in that
 * request's own thread, until it is resumed by tag.  Writes to other blocks
 * go on meanwhile (the core serialises only requests that overlap), which
 * is what the tests built on this exercise. */
#include "blkdebug-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>

void blkdebug_hold_at(struct blkdebug_state *s, enum strata_event event)
{
    pthread_mutex_lock(&s->lock);
    struct blkdebug_break **p = &s->breaks;
    while (*p && (*p)->event != event)
        p = &(*p)->next;
    struct blkdebug_break *b = *p;
    if (!b) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    *p = b->next;
    struct blkdebug_waiter w = { .tag = b->tag, .next = s->waiters };
    s->waiters = &w;
    strata_debug("blkdebug: %s: request held at %s as '%s'",
                 strata_node_filename(s->image), strata_event_name(event), b->tag);
    while (!w.resumed)
        pthread_cond_wait(&s->resumed, &s->lock);
    struct blkdebug_waiter **q = &s->waiters;
    while (*q != &w)
        q = &(*q)->next;
    *q = w.next;
    pthread_mutex_unlock(&s->lock);
    strata_debug("blkdebug: request '%s' resumed", b->tag);
    free(b->tag);
    free(b);
}

int blkdebug_breakpoint(struct strata_node *node, enum strata_event ev, const char *tag,
                        struct strata_error **errp)
{
    struct blkdebug_state *s = strata_node_state(node);
    struct blkdebug_break *b = calloc(1, sizeof *b);
    if (!b || !(b->tag = strdup(tag ? tag : ""))) {
        free(b);
        return strata_error_set(errp, ENOMEM, "out of memory");
    }
    b->event = ev;
    pthread_mutex_lock(&s->lock);
    b->next = s->breaks;
    s->breaks = b;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* Resumes the requests held under tag; the count of them. */
static int resume_locked(struct blkdebug_state *s, const char *tag)
{
    int n = 0;
    for (struct blkdebug_waiter *w = s->waiters; w; w = w->next)
        if (!w->resumed && strcmp(w->tag, tag) == 0) {
            w->resumed = true;
            n++;
        }
    if (n)
        pthread_cond_broadcast(&s->resumed);
    return n;
}

/* As QEMU: the breakpoints go, and a request one of them holds goes on. */
int blkdebug_remove_breakpoint(struct strata_node *node, const char *tag,
                               struct strata_error **errp)
{
    struct blkdebug_state *s = strata_node_state(node);
    int found = 0;
    pthread_mutex_lock(&s->lock);
    for (struct blkdebug_break **p = &s->breaks; *p;) {
        struct blkdebug_break *b = *p;
        if (strcmp(b->tag, tag) == 0) {
            *p = b->next;
            free(b->tag);
            free(b);
            found++;
        } else {
            p = &b->next;
        }
    }
    found += resume_locked(s, tag);
    pthread_mutex_unlock(&s->lock);
    if (!found)
        return strata_error_set(errp, ENOENT, "blkdebug: no breakpoint '%s'", tag);
    return 0;
}

int blkdebug_resume(struct strata_node *node, const char *tag, struct strata_error **errp)
{
    struct blkdebug_state *s = strata_node_state(node);
    pthread_mutex_lock(&s->lock);
    int n = resume_locked(s, tag);
    pthread_mutex_unlock(&s->lock);
    if (!n)
        return strata_error_set(errp, ENOENT, "blkdebug: no request held as '%s'", tag);
    return 0;
}

bool blkdebug_is_suspended(struct strata_node *node, const char *tag)
{
    struct blkdebug_state *s = strata_node_state(node);
    bool held = false;
    pthread_mutex_lock(&s->lock);
    for (const struct blkdebug_waiter *w = s->waiters; w && !held; w = w->next)
        held = !w->resumed && strcmp(w->tag, tag) == 0;
    pthread_mutex_unlock(&s->lock);
    return held;
}

void blkdebug_free_breaks(struct blkdebug_state *s)
{
    while (s->breaks) {
        struct blkdebug_break *b = s->breaks;
        s->breaks = b->next;
        free(b->tag);
        free(b);
    }
}
