/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* node.h - the node structure, shared by the core's graph, I/O and image
 * files. */
#ifndef STRATA_CORE_NODE_H
#define STRATA_CORE_NODE_H

#include "internal.h"

#include <pthread.h>

#define STRATA_MAX_CHILDREN 8
/* Images in one backing chain at most: deeper is taken for a loop the
 * file identity check could not see (a chain through several names of
 * network exports) rather than recursed into without end. */
#define STRATA_MAX_BACKING_DEPTH 1000

struct strata_child {
    char *role;
    unsigned flags;              /* STRATA_CHILD_* of the role */
    struct strata_node *node;
};

struct strata_node {
    const struct strata_driver *drv;
    void *state;
    struct strata_opts *opts;    /* everything given for this node, children too */
    struct strata_opts *own;     /* the node's own options (validated) */
    char *filename;              /* set once open: for messages */
    char *node_name;             /* node-name=, or NULL */
    unsigned flags;              /* STRATA_O_* */
    struct strata_limits limits;
    struct strata_node *parent;
    const char *role;            /* role under the parent, NULL at the top */
    struct strata_child children[STRATA_MAX_CHILDREN];
    size_t nchildren;
    /* Serialises the callbacks of drivers that are not thread-safe. */
    pthread_mutex_t drv_lock;
    /* Writes take it shared; resizing and whole-image operations take it
     * exclusively, to run with no request in flight. */
    pthread_rwlock_t rmw_lock;
    /* Writes in flight, for read-modify-write (track.c). */
    pthread_mutex_t track_lock;
    pthread_cond_t track_done;
    struct strata_track *tracks;
};

/* track.c: a write in flight over [start, end) of a node's aligned blocks. */
struct strata_track {
    uint64_t start, end;
    bool serialising;            /* read-modify-write: overlaps nothing */
    struct strata_track *next;
};
/* Waits until the range conflicts with no write in flight, then registers
 * it; strata_track_end takes it off and wakes the waiters. */
STRATA_INTERNAL void strata_track_begin(struct strata_node *n, struct strata_track *t,
                                        uint64_t start, uint64_t end, bool serialising);
STRATA_INTERNAL void strata_track_end(struct strata_node *n, struct strata_track *t);

/* Opens one node from its options; parent/role place it in the graph. */
STRATA_INTERNAL int strata_node_open_opts(const struct strata_opts *opts, unsigned flags,
                                          struct strata_node *parent, const char *role,
                                          struct strata_node **nodep,
                                          struct strata_error **errp);
/* The child of the role with STRATA_CHILD_PRIMARY: where a filter forwards. */
STRATA_INTERNAL struct strata_node *strata_node_primary_child(const struct strata_node *n);
/* The child of the role with STRATA_CHILD_COW (the backing file), or NULL. */
STRATA_INTERNAL struct strata_node *strata_node_cow_child(const struct strata_node *n);
/* Picks the best format for the data at the start of `file` (probe.c). */
/* The protocol driver for a file name given without a driver: the one that
 * declares the name's URI scheme ("nbd://..."), else "file". */
STRATA_INTERNAL const char *strata_protocol_for(const char *filename);
/* The path a file-protocol name stands for: QEMU's explicit "file:" prefix
 * taken off (a new string; NULL when out of memory). */
STRATA_INTERNAL char *strata_file_name(const char *filename);
/* opts_json.c: "json:{...}" file names. */
STRATA_INTERNAL bool strata_is_json_filename(const char *filename);
/* Adds the options of a json: file name to o, keeping those o has. */
STRATA_INTERNAL int strata_opts_merge_json(struct strata_opts *o, const char *filename,
                                           struct strata_error **errp);
STRATA_INTERNAL int strata_probe_format(struct strata_node *file, const char **fmt,
                                        struct strata_error **errp);

#endif
