/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* workers.c - the process-wide worker pool (strata/workers.h): jobs of
 * independent pieces, threads started on demand and joined at unload. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <strata/workers.h>

#define WORKERS_MAX 256u

struct job {
    struct job *next;
    strata_piece_fn fn;
    void *opaque;
    size_t n, claimed, finished;
    int ret;
    struct strata_error *err;
};

/* One lock for everything: a piece is at least tens of microseconds of
 * work, so claiming it under a lock costs nothing that shows. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t work;        /* a job was queued, or threads must leave */
    pthread_cond_t done;        /* a piece finished */
    unsigned size;              /* 0 until first asked for */
    unsigned started;           /* threads of the current generation */
    unsigned gen;               /* bumped to send every thread away */
    bool closing;               /* library unload: no new threads */
    struct job *queue;          /* jobs with unclaimed pieces */
    pthread_t tids[WORKERS_MAX];
} pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
};

/* Set while this thread runs a piece (pool threads: always), so that a job
 * started from a piece runs inline instead of waiting on the pool it is
 * part of. */
static _Thread_local bool in_piece;

static unsigned cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

static unsigned default_size(void)
{
    unsigned cpus = cpu_count();
    if (cpus > WORKERS_MAX)
        cpus = WORKERS_MAX;
    const char *env = getenv("STRATA_THREADS");
    if (!env || !*env)
        return cpus;
    char *end;
    errno = 0;
    unsigned long v = strtoul(env, &end, 10);
    if (errno || *end || v < 1 || v > WORKERS_MAX || *env == '-') {
        strata_warn("STRATA_THREADS=%s is not a number of threads from 1 to %u; "
                    "using %u, the number of CPUs", env, WORKERS_MAX, cpus);
        return cpus;
    }
    return (unsigned)v;
}

/* Callers hold pool.lock. */
static unsigned size_locked(void)
{
    if (!pool.size)
        pool.size = default_size();
    return pool.size;
}

static void dequeue(struct job *j)
{
    for (struct job **p = &pool.queue; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            return;
        }
}

/* The next piece of j to run, or SIZE_MAX when none is left: after a
 * failure the pieces nobody started are dropped as finished. */
static size_t claim(struct job *j)
{
    if (j->ret < 0 && j->claimed < j->n) {
        j->finished += j->n - j->claimed;
        j->claimed = j->n;
        dequeue(j);
        if (j->finished == j->n)
            pthread_cond_broadcast(&pool.done);
        return SIZE_MAX;
    }
    if (j->claimed == j->n)
        return SIZE_MAX;
    size_t i = j->claimed++;
    if (j->claimed == j->n)
        dequeue(j);
    return i;
}

/* Runs piece i of j without the lock; called and returns with it held. */
static void run_piece(struct job *j, size_t i)
{
    pthread_mutex_unlock(&pool.lock);
    bool was = in_piece;
    in_piece = true;
    struct strata_error *err = NULL;
    int r = j->fn(j->opaque, i, &err);
    in_piece = was;
    pthread_mutex_lock(&pool.lock);
    if (r < 0 && j->ret == 0) {
        j->ret = r;
        j->err = err;
    } else {
        strata_error_free(err);
    }
    if (++j->finished == j->n)
        pthread_cond_broadcast(&pool.done);
}

static void *worker_main(void *arg)
{
    unsigned gen = (unsigned)(uintptr_t)arg;
    in_piece = true;
    pthread_mutex_lock(&pool.lock);
    while (gen == pool.gen) {
        struct job *j = pool.queue;
        if (!j) {
            pthread_cond_wait(&pool.work, &pool.lock);
            continue;
        }
        size_t i = claim(j);
        if (i != SIZE_MAX)
            run_piece(j, i);
    }
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

/* A forked child has none of the parent's threads; the lock is taken
 * around fork so that the child's copy of the pool is consistent. */
static void fork_prepare(void)
{
    pthread_mutex_lock(&pool.lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&pool.lock);
}

static void fork_child(void)
{
    pool.started = 0;
    pool.gen++;
    pool.queue = NULL;
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.work, NULL);
    pthread_cond_init(&pool.done, NULL);
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void register_atfork(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Starts threads up to `want` (with pool.lock held).  A thread that cannot
 * be created is not an error: the callers do the work themselves. */
static void grow_locked(unsigned want)
{
    if (pool.closing || pool.started >= want)
        return;
    pthread_once(&atfork_once, register_atfork);
    /* Signals go to the application's threads, never to the pool's. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    while (pool.started < want) {
        if (pthread_create(&pool.tids[pool.started], NULL, worker_main,
                           (void *)(uintptr_t)pool.gen) != 0)
            break;
        pool.started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Sends every thread away and joins it (without pool.lock held). */
static void stop_all(bool closing)
{
    pthread_t tids[WORKERS_MAX];
    pthread_mutex_lock(&pool.lock);
    if (closing)
        pool.closing = true;
    unsigned n = pool.started;
    memcpy(tids, pool.tids, n * sizeof(tids[0]));
    pool.started = 0;
    pool.gen++;
    pthread_cond_broadcast(&pool.work);
    pthread_mutex_unlock(&pool.lock);
    for (unsigned i = 0; i < n; i++)
        if (!pthread_equal(tids[i], pthread_self()))
            pthread_join(tids[i], NULL);
}

__attribute__((destructor)) static void workers_fini(void)
{
    stop_all(true);
}

static int run_inline(size_t n, strata_piece_fn fn, void *opaque, struct strata_error **errp)
{
    for (size_t i = 0; i < n; i++) {
        int r = fn(opaque, i, errp);
        if (r < 0)
            return r;
    }
    return 0;
}

int strata_workers_run(size_t n, strata_piece_fn fn, void *opaque,
                                     struct strata_error **errp)
{
    if (n < 2 || in_piece)
        return run_inline(n, fn, opaque, errp);
    pthread_mutex_lock(&pool.lock);
    unsigned size = size_locked();
    grow_locked(n - 1 < size - 1 ? (unsigned)(n - 1) : size - 1);
    if (pool.started == 0) {
        pthread_mutex_unlock(&pool.lock);
        return run_inline(n, fn, opaque, errp);
    }
    struct job job = { .fn = fn, .opaque = opaque, .n = n };
    job.next = pool.queue;
    pool.queue = &job;
    pthread_cond_broadcast(&pool.work);
    /* The caller works on its own job until every piece is taken, then
     * waits for the pieces the pool took. */
    for (size_t i; (i = claim(&job)) != SIZE_MAX;)
        run_piece(&job, i);
    while (job.finished < job.n)
        pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    if (job.ret < 0) {
        if (errp && !*errp)
            *errp = job.err;
        else
            strata_error_free(job.err);
    }
    return job.ret;
}

struct split {
    strata_range_fn fn;
    void *opaque;
    uint64_t len, piece;
};

static int split_piece(void *opaque, size_t i, struct strata_error **errp)
{
    const struct split *sp = opaque;
    uint64_t off = (uint64_t)i * sp->piece;
    uint64_t len = sp->len - off < sp->piece ? sp->len - off : sp->piece;
    return sp->fn(sp->opaque, off, len, errp);
}

int strata_workers_split(uint64_t len, uint64_t align, uint64_t min_piece,
                                       strata_range_fn fn, void *opaque,
                                       struct strata_error **errp)
{
    if (align == 0)
        align = 1;
    if (min_piece < align)
        min_piece = align;
    uint64_t n = in_piece ? 1 : len / min_piece;
    if (n >= 2) {
        unsigned size = strata_workers_threads();
        if (n > size)
            n = size;
    }
    if (n < 2)
        return len ? fn(opaque, 0, len, errp) : 0;
    /* Equal shares rounded up to the alignment; rounding may leave fewer
     * pieces than asked for, never more. */
    uint64_t piece = (len + n - 1) / n;
    piece = (piece + align - 1) / align * align;
    struct split sp = { .fn = fn, .opaque = opaque, .len = len, .piece = piece };
    return strata_workers_run((size_t)((len + piece - 1) / piece), split_piece, &sp, errp);
}

unsigned strata_workers_threads(void)
{
    pthread_mutex_lock(&pool.lock);
    unsigned n = size_locked();
    pthread_mutex_unlock(&pool.lock);
    return n;
}

int strata_workers_set_threads(unsigned n, struct strata_error **errp)
{
    if (n > WORKERS_MAX)
        return strata_error_set(errp, EINVAL, "worker pool: %u threads asked for; "
                                "the most is %u", n, WORKERS_MAX);
    if (in_piece)
        return strata_error_set(errp, EDEADLK, "worker pool: its size cannot change "
                                "from inside one of its pieces");
    unsigned size = n ? n : default_size();
    pthread_mutex_lock(&pool.lock);
    bool shrink = pool.started > size - 1;
    pool.size = size;
    pthread_mutex_unlock(&pool.lock);
    /* Fewer threads: all leave, and as many as jobs need come back. */
    if (shrink)
        stop_all(false);
    return 0;
}
