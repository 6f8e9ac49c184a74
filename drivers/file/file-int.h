/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* file-int.h - state and helpers shared by the file protocol driver's files. */
#ifndef STRATA_DRIVER_FILE_INT_H
#define STRATA_DRIVER_FILE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <strata/driver.h>

#include "bounce.h"

/* Permission bits of the lock byte layout QEMU uses (file-posix.c since 2.10,
 * as of 7.2): byte 100+bit says "I hold this permission", byte 200+bit says
 * "I do not let others have it".  Every byte is taken with a shared OFD
 * lock; a conflict is found by testing whether an exclusive lock would be
 * refused. */
#define FILE_PERM_CONSISTENT_READ 0x1u
#define FILE_PERM_WRITE           0x2u
#define FILE_PERM_WRITE_UNCHANGED 0x4u
#define FILE_PERM_RESIZE          0x8u
#define FILE_PERM_ALL             0xfu

#define FILE_BOUNCE_SIZE  (1024u * 1024u)
#define FILE_BOUNCE_POOL  4

struct file_state {
    int fd;
    char *filename;            /* as the user wrote it, for messages */
    bool direct;               /* cache=none: O_DIRECT */
    bool is_bdev;
    bool locked;               /* lock bytes are held on fd */
    uint32_t align;            /* request alignment announced to the core */
    uint32_t mem_align;        /* buffer alignment O_DIRECT needs */
    atomic_bool no_zero_range; /* FALLOC_FL_ZERO_RANGE refused once */
    atomic_bool no_punch;      /* FALLOC_FL_PUNCH_HOLE refused once */

    /* Bounce buffers for O_DIRECT requests from unaligned memory. */
    struct bounce_pool bounce;

    /* The last data extent SEEK_HOLE found, [data_lo, data_hi): some file
     * systems (tmpfs) walk every page up to the next hole on each lseek, so a
     * sequential reader asking again would cost quadratic time.  Only data
     * is remembered, the answer that is right even when stale; hole punching
     * and truncation forget it. */
    pthread_mutex_t extent_lock;
    uint64_t data_lo, data_hi;
};

/* lock.c */
/* True when the kernel and file system take OFD locks on fd. */
bool file_lock_supported(int fd);
/* Takes the bytes for `perm` held and `~shared` refused, then checks that no
 * other open file holds a conflicting byte.  On conflict everything taken is
 * dropped and -EAGAIN returned with QEMU's wording. */
int file_lock_acquire(int fd, const char *filename, unsigned perm, unsigned shared,
                      struct strata_error **errp);
void file_lock_release(int fd);

/* prealloc.c */
/* Grows or shrinks the file open on fd from `old` to `size` with the given
 * preallocation. */
int file_resize_fd(int fd, const char *filename, uint64_t old, uint64_t size,
                   enum strata_prealloc prealloc, struct strata_error **errp);

#endif
