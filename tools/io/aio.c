/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio.c - aio_read and aio_write requests in flight, and the breakpoints
 * that can hold them.
 *
 * Each request runs on a thread of its own, so several are in flight at
 * once and one held at a blkdebug breakpoint leaves the others going, as
 * in qemu-io.  Reports come in the order the requests were made, at fixed
 * points: after each command (which first waits for every request unless
 * one is held), while sleeping, in aio_flush and wait_break.  That makes
 * the output the same from run to run, whatever the threads' timing. */
#include "io.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct aio_job {
    struct io_ctx *ctx;
    struct io_request rq;
    uint8_t *buf;
    bool write;
    struct io_result res;
    pthread_t thread;
    bool done;                  /* under jobs_lock */
    struct aio_job *next;
};

static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_done = PTHREAD_COND_INITIALIZER;
static struct aio_job *jobs, **jobs_tail = &jobs;   /* in submission order */

static void *run_job(void *arg)
{
    struct aio_job *j = arg;
    if (j->write)
        io_exec_write(j->ctx, &j->rq, j->buf, &j->res);
    else
        io_exec_read(j->ctx, &j->rq, j->buf, &j->res);
    pthread_mutex_lock(&jobs_lock);
    j->done = true;
    pthread_cond_broadcast(&job_done);
    pthread_mutex_unlock(&jobs_lock);
    return NULL;
}

bool io_aio_submit(struct io_ctx *ctx, const struct io_request *rq, uint8_t *buf,
                   bool write)
{
    struct aio_job *j = calloc(1, sizeof *j);
    if (!j) {
        io_free(ctx, buf);
        printf("cannot allocate a request\n");
        return false;
    }
    *j = (struct aio_job){ .ctx = ctx, .rq = *rq, .buf = buf, .write = write };
    pthread_mutex_lock(&jobs_lock);
    *jobs_tail = j;
    jobs_tail = &j->next;
    int r = pthread_create(&j->thread, NULL, run_job, j);
    if (r != 0) {
        /* Run it here instead: the same result, only not in parallel. */
        pthread_mutex_unlock(&jobs_lock);
        run_job(j);
        pthread_mutex_lock(&jobs_lock);
        j->thread = pthread_self();
    }
    pthread_mutex_unlock(&jobs_lock);
    return true;
}

/* Reports the finished requests at the head of the list. */
static void report_done(void)
{
    for (;;) {
        pthread_mutex_lock(&jobs_lock);
        struct aio_job *j = jobs;
        if (!j || !j->done) {
            pthread_mutex_unlock(&jobs_lock);
            return;
        }
        jobs = j->next;
        if (!jobs)
            jobs_tail = &jobs;
        pthread_mutex_unlock(&jobs_lock);
        if (!pthread_equal(j->thread, pthread_self()))
            pthread_join(j->thread, NULL);
        if (j->write)
            io_report_write(j->ctx, &j->rq, j->buf, &j->res);
        else
            io_report_read(j->ctx, &j->rq, j->buf, &j->res);
        free(j);
    }
}

static bool all_done(void)
{
    bool done = true;
    for (struct aio_job *j = jobs; j && done; j = j->next)
        done = j->done;
    return done;
}

bool io_aio_pending(void)
{
    pthread_mutex_lock(&jobs_lock);
    bool pending = !all_done();
    pthread_mutex_unlock(&jobs_lock);
    return pending;
}

/* Waits up to a millisecond for a request to finish. */
static void wait_a_little(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 1000000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&job_done, &jobs_lock, &ts);
}

/* ------------------------------------------------------------ breakpoints */

struct known_break {
    char *tag;
    bool announced;             /* its request has been seen held */
    struct known_break *next;
};
static struct known_break *breaks;

bool io_break_add(const char *tag)
{
    for (struct known_break *b = breaks; b; b = b->next)
        if (strcmp(b->tag, tag) == 0) {
            b->announced = false;
            return true;
        }
    struct known_break *b = calloc(1, sizeof *b);
    if (!b || !(b->tag = strdup(tag))) {
        free(b);
        return false;
    }
    b->next = breaks;
    breaks = b;
    return true;
}

void io_break_forget(const char *tag)
{
    for (struct known_break **p = &breaks; *p; p = &(*p)->next)
        if (strcmp((*p)->tag, tag) == 0) {
            struct known_break *b = *p;
            *p = b->next;
            free(b->tag);
            free(b);
            return;
        }
}

bool io_break_any_held(struct io_ctx *ctx)
{
    bool any = false;
    for (struct known_break *b = breaks; b; b = b->next) {
        if (!ctx->node || !strata_debug_is_suspended(ctx->node, b->tag))
            continue;
        any = true;
        if (!b->announced) {
            /* qemu-io's words, which blkdebug prints there */
            printf("blkdebug: Suspended request '%s'\n", b->tag);
            b->announced = true;
        }
    }
    return any;
}

void io_aio_poll(struct io_ctx *ctx, enum io_aio_wait how)
{
    for (;;) {
        bool held = io_break_any_held(ctx);
        report_done();
        pthread_mutex_lock(&jobs_lock);
        bool done = all_done();
        if (done || how == IO_AIO_REPORT || (how == IO_AIO_SETTLE && held)) {
            pthread_mutex_unlock(&jobs_lock);
            return;
        }
        wait_a_little();
        pthread_mutex_unlock(&jobs_lock);
        if (how == IO_AIO_ALL && held)
            /* Closing: nothing may stay held. */
            for (struct known_break *b = breaks; b; b = b->next)
                strata_debug_resume(ctx->node, b->tag, NULL);
    }
}
