/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* blkdebug-int.h - rules of the blkdebug filter, shared by its files. */
#ifndef STRATA_DRIVER_BLKDEBUG_INT_H
#define STRATA_DRIVER_BLKDEBUG_INT_H

#include <pthread.h>
#include <strata/driver.h>

/* Request types a rule applies to (iotype=). */
#define BLKDEBUG_IO_READ    0x01u
#define BLKDEBUG_IO_WRITE   0x02u
#define BLKDEBUG_IO_FLUSH   0x04u
#define BLKDEBUG_IO_DISCARD 0x08u
#define BLKDEBUG_IO_ZERO    0x10u
/* The default: every type but block status, as in QEMU. */
#define BLKDEBUG_IO_ALL     0x1fu
#define BLKDEBUG_IO_BLOCK_STATUS 0x20u

enum blkdebug_action {
    BLKDEBUG_INJECT_ERROR,
    BLKDEBUG_SET_STATE,
};

struct blkdebug_rule {
    enum blkdebug_action action;
    enum strata_event event;
    int state;              /* fires only in this state; 0 = any */
    /* inject-error */
    int error;              /* positive errno */
    int64_t offset;         /* byte the request must cover; -1 = any */
    unsigned iotypes;       /* BLKDEBUG_IO_* */
    uint64_t skip;          /* matching requests let through before failing */
    uint64_t count;         /* failures before the rule retires; 0 = no limit */
    bool immediately;
    /* set-state */
    int new_state;
    /* run time, under the state's lock */
    bool active;            /* its event has happened (event none: from the start) */
    bool retired;           /* used up (once/count) */
    uint64_t skipped;
    uint64_t fired;
    char where[64];         /* "rules.conf:12" or "option", for messages */
};

struct blkdebug_state {
    struct strata_node *image;
    pthread_mutex_t lock;
    struct blkdebug_rule *rules;
    size_t nrules;
    int state;
    /* max-transfer: reads and writes only, so the filter splits them
     * itself (the core would split write-zeroes too) */
    uint64_t max_transfer;
    /* opt-write-zero, max-write-zero, opt-discard, max-discard (0: none) */
    uint64_t opt_write_zero, max_write_zero, opt_discard, max_discard;
};

/* rules.c */
int blkdebug_read_config(struct blkdebug_state *s, const char *path,
                         struct strata_error **errp);
int blkdebug_inline_rules(struct blkdebug_state *s, const struct strata_opts *opts,
                          struct strata_error **errp);
void blkdebug_free_rules(struct blkdebug_state *s);

#endif
