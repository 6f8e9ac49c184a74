/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock.c - image locking compatible with QEMU's file-posix driver.
 *
 * QEMU (2.10 and later, layout unchanged up to 7.2) represents each block
 * permission by two bytes of the image file, locked with shared OFD locks:
 *   100 + bit   the opener holds that permission;
 *   200 + bit   the opener does not share that permission with others.
 * Bits: consistent read 0, write 1, write unchanged 2, resize 3.
 * Opening takes its bytes first and then tests, for each permission it
 * wants, whether byte 200+bit is locked by another open file (somebody
 * refuses to share it), and for each permission it refuses to share,
 * whether byte 100+bit is locked by another (somebody already holds it).
 * Taking before testing means two racing openers may both fail, but never
 * both succeed.  Because strata uses the same bytes and the same rules,
 * strata and qemu-img/qemu-io see each other's locks.
 */
#include "file-int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define FILE_LOCK_PERM_BASE   100
#define FILE_LOCK_SHARED_BASE 200
#define FILE_LOCK_NPERMS      4

static const char *const file_perm_names[FILE_LOCK_NPERMS] = {
    "consistent read", "write", "write unchanged", "resize",
};

static int file_ofd_lock(int fd, off_t start, off_t len, short type)
{
    struct flock fl = {
        .l_whence = SEEK_SET,
        .l_start = start,
        .l_len = len,
        .l_type = type,
    };
    return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

/* 0 if no other open file holds a lock on the byte, -EAGAIN if one does. */
static int file_ofd_test(int fd, off_t byte)
{
    struct flock fl = {
        .l_whence = SEEK_SET,
        .l_start = byte,
        .l_len = 1,
        .l_type = F_WRLCK,
    };
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
        return -errno;
    return fl.l_type == F_UNLCK ? 0 : -EAGAIN;
}

bool file_lock_supported(int fd)
{
    struct flock fl = {
        .l_whence = SEEK_SET,
        .l_start = 0,
        .l_len = 0,
        .l_type = F_WRLCK,
    };
    return fcntl(fd, F_OFD_GETLK, &fl) == 0;
}

void file_lock_release(int fd)
{
    file_ofd_lock(fd, FILE_LOCK_PERM_BASE,
                  FILE_LOCK_SHARED_BASE + FILE_LOCK_NPERMS - FILE_LOCK_PERM_BASE,
                  F_UNLCK);
}

int file_lock_acquire(int fd, const char *filename, unsigned perm, unsigned shared,
                      struct strata_error **errp)
{
    int r;

    for (int i = 0; i < FILE_LOCK_NPERMS; i++) {
        unsigned bit = 1u << i;
        if ((perm & bit) &&
            (r = file_ofd_lock(fd, FILE_LOCK_PERM_BASE + i, 1, F_RDLCK)) < 0) {
            file_lock_release(fd);
            return strata_error_set(errp, -r, "Failed to lock byte %d\n"
                                    "Is another process using the image [%s]?",
                                    FILE_LOCK_PERM_BASE + i, filename);
        }
        if (!(shared & bit) &&
            (r = file_ofd_lock(fd, FILE_LOCK_SHARED_BASE + i, 1, F_RDLCK)) < 0) {
            file_lock_release(fd);
            return strata_error_set(errp, -r, "Failed to lock byte %d\n"
                                    "Is another process using the image [%s]?",
                                    FILE_LOCK_SHARED_BASE + i, filename);
        }
    }

    for (int i = 0; i < FILE_LOCK_NPERMS; i++) {
        unsigned bit = 1u << i;
        if ((perm & bit) && (r = file_ofd_test(fd, FILE_LOCK_SHARED_BASE + i)) < 0) {
            file_lock_release(fd);
            if (r != -EAGAIN)
                return strata_error_set(errp, -r, "%s: cannot test lock byte %d: %s",
                                        filename, FILE_LOCK_SHARED_BASE + i,
                                        strerror(-r));
            return strata_error_set(errp, EAGAIN, "Failed to get \"%s\" lock\n"
                                    "Is another process using the image [%s]?",
                                    file_perm_names[i], filename);
        }
    }
    for (int i = 0; i < FILE_LOCK_NPERMS; i++) {
        unsigned bit = 1u << i;
        if (!(shared & bit) && (r = file_ofd_test(fd, FILE_LOCK_PERM_BASE + i)) < 0) {
            file_lock_release(fd);
            if (r != -EAGAIN)
                return strata_error_set(errp, -r, "%s: cannot test lock byte %d: %s",
                                        filename, FILE_LOCK_PERM_BASE + i,
                                        strerror(-r));
            return strata_error_set(errp, EAGAIN, "Failed to get shared \"%s\" lock\n"
                                    "Is another process using the image [%s]?",
                                    file_perm_names[i], filename);
        }
    }
    return 0;
}
