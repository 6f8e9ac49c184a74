/* SPDX-License-Identifier: MIT */
/* strata/workers.h - the core's worker pool: a driver (or an application)
 * runs the independent pieces of one job on every core and waits for them.
 *
 * The pool is shared by the whole process.  Its size is the number of CPUs
 * the process may run on, or STRATA_THREADS (1..256) when that is set, or
 * what strata_workers_set_threads() last asked for; it counts the calling
 * thread, which always works on its own job too, so a size of 1 runs every
 * piece inline and no thread is ever created.  Threads start on the first
 * job that needs them and are joined when libstrata is unloaded or the
 * process exits.
 *
 * A job is never queued behind another one: the caller takes unclaimed
 * pieces of its own job itself, so a job completes even when every pool
 * thread is busy elsewhere.  A piece that calls strata_workers_run() again
 * (from a pool thread) runs that inner job inline.  Pieces must not depend
 * on each other: they may run in any order and at the same time. */
#ifndef STRATA_WORKERS_H
#define STRATA_WORKERS_H

#include <strata/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One piece of a job: index is 0..n-1.  Returns 0 or -errno with *errp set. */
typedef int (*strata_piece_fn)(void *opaque, size_t index, struct strata_error **errp);

/* Runs fn(opaque, i) for every i in [0, n) on the pool and the calling
 * thread, and returns when all have returned.  The result is that of the
 * first piece that failed (its error goes to *errp; pieces not yet started
 * then are skipped), or 0.  Allocates nothing. */
STRATA_EXPORT int strata_workers_run(size_t n, strata_piece_fn fn, void *opaque,
                                     struct strata_error **errp);

/* A byte range [0, len) cut into pieces for the pool.  Each piece starts on
 * a multiple of `align` and holds at least `min_piece` bytes (the last may
 * hold more); there are at most as many pieces as the pool's size, and a
 * range too small for two pieces runs inline as one call. */
typedef int (*strata_range_fn)(void *opaque, uint64_t off, uint64_t len,
                               struct strata_error **errp);
STRATA_EXPORT int strata_workers_split(uint64_t len, uint64_t align, uint64_t min_piece,
                                       strata_range_fn fn, void *opaque,
                                       struct strata_error **errp);

/* The pool's size, the calling thread included (>= 1). */
STRATA_EXPORT unsigned strata_workers_threads(void);

/* Sets the pool's size (1..256; 0: back to STRATA_THREADS or the CPU
 * count).  Threads beyond it finish their piece and are joined.  Not from
 * a piece: -EDEADLK. */
STRATA_EXPORT int strata_workers_set_threads(unsigned n, struct strata_error **errp);

#ifdef __cplusplus
}
#endif

#endif
