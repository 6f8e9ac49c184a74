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

/* A breakpoint (qemu-io's `break EVENT TAG`): holds the next request that
 * raises the event. */
struct blkdebug_break {
    enum strata_event event;
    char *tag;
    struct blkdebug_break *next;
};

/* A request held at a breakpoint, until resumed. */
struct blkdebug_waiter {
    const char *tag;
    bool resumed;
    struct blkdebug_waiter *next;
};

struct blkdebug_state {
    struct strata_node *image;
    pthread_mutex_t lock;
    /* breakpoints and the requests they hold, under lock */
    struct blkdebug_break *breaks;
    struct blkdebug_waiter *waiters;
    pthread_cond_t resumed;
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

/* breakpoints.c */
/* Holds the calling request if a breakpoint waits for `event`. */
void blkdebug_hold_at(struct blkdebug_state *s, enum strata_event event);
int blkdebug_breakpoint(struct strata_node *node, enum strata_event ev, const char *tag,
                        struct strata_error **errp);
int blkdebug_remove_breakpoint(struct strata_node *node, const char *tag,
                               struct strata_error **errp);
int blkdebug_resume(struct strata_node *node, const char *tag, struct strata_error **errp);
bool blkdebug_is_suspended(struct strata_node *node, const char *tag);
void blkdebug_free_breaks(struct blkdebug_state *s);

#endif
