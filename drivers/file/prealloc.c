/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* prealloc.c - resizing a file with preallocation off, falloc or full. */
#include "file-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prealloc.h"

static const uint8_t file_zero_chunk[64 * 1024];

/* Full preallocation writes zeros, which O_DIRECT would refuse for the
 * unaligned start of the new area; a second, buffered descriptor for the same
 * file avoids that without touching the flags of the one in use. */
static int file_buffered_fd(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || !(fl & O_DIRECT))
        return fd;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int fd2 = open(path, O_WRONLY | O_CLOEXEC);
    return fd2 < 0 ? -errno : fd2;
}

static int file_write_zeros(int fd, const char *filename, uint64_t off, uint64_t len,
                            struct strata_error **errp)
{
    int wfd = file_buffered_fd(fd);
    if (wfd < 0)
        return strata_error_set(errp, -wfd, "%s: cannot reopen for preallocation: %s",
                                filename, strerror(-wfd));
    int r = 0;
    while (len > 0) {
        size_t n = len < sizeof file_zero_chunk ? (size_t)len : sizeof file_zero_chunk;
        ssize_t w = pwrite(wfd, file_zero_chunk, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            r = w < 0 ? -errno : -EIO;
            strata_error_set(errp, -r, "%s: preallocation write at offset %llu failed: %s",
                             filename, (unsigned long long)off, strerror(-r));
            break;
        }
        off += (uint64_t)w;
        len -= (uint64_t)w;
    }
    if (r == 0 && fdatasync(wfd) < 0) {
        r = -errno;
        strata_error_set(errp, -r, "%s: flush after preallocation failed: %s",
                         filename, strerror(-r));
    }
    if (wfd != fd)
        close(wfd);
    return r;
}

/* A new, empty file gets its first block written, as QEMU's file driver
 * does: O_DIRECT alignment probing needs a block that holds data, and
 * `map` then shows the same first extent as qemu-img's.  Best effort: the
 * image is usable without it, so a failure is not reported. */
static void allocate_first_block(int fd, uint64_t size)
{
    static const uint8_t zeros[4096] __attribute__((aligned(4096)));
    uint64_t n = size < sizeof zeros ? 512 : sizeof zeros;
    if (n > size)
        n = size;
    ssize_t w;
    do
        w = pwrite(fd, zeros, (size_t)n, 0);
    while (w < 0 && errno == EINTR);
}

int file_resize_fd(int fd, const char *filename, uint64_t old, uint64_t size,
                   enum strata_prealloc prealloc, struct strata_error **errp)
{
    int r;

    if (size > (uint64_t)INT64_MAX)
        return strata_error_set(errp, EFBIG, "%s: size %llu is too large",
                                filename, (unsigned long long)size);

    switch (prealloc) {
    case STRATA_PREALLOC_OFF:
        break;
    case STRATA_PREALLOC_FALLOC:
        if (size > old) {
            if (fallocate(fd, 0, (off_t)old, (off_t)(size - old)) < 0) {
                r = -errno;
                if (r == -EOPNOTSUPP || r == -ENOSYS)
                    return strata_error_set(errp, ENOTSUP,
                                            "%s: preallocation=falloc is not supported "
                                            "by this file system", filename);
                return strata_error_set(errp, -r, "%s: could not preallocate %llu bytes "
                                        "at offset %llu: %s", filename,
                                        (unsigned long long)(size - old),
                                        (unsigned long long)old, strerror(-r));
            }
            return 0;
        }
        break;
    case STRATA_PREALLOC_FULL:
        if (size > old) {
            if (ftruncate(fd, (off_t)size) < 0) {
                r = -errno;
                return strata_error_set(errp, -r, "%s: could not resize to %llu bytes: %s",
                                        filename, (unsigned long long)size, strerror(-r));
            }
            r = file_write_zeros(fd, filename, old, size - old, errp);
            if (r < 0 && ftruncate(fd, (off_t)old) < 0) {
                /* The error already reported is the one that matters. */
            }
            return r;
        }
        break;
    default:
        if (!prealloc_name(prealloc))
            return strata_error_set(errp, EINVAL, "%s: unknown preallocation mode %d",
                                    filename, (int)prealloc);
        return strata_error_set(errp, ENOTSUP,
                                "%s: preallocation '%s' is not supported by the file "
                                "driver (use off, falloc or full)", filename,
                                prealloc_name(prealloc));
    }

    if (ftruncate(fd, (off_t)size) < 0) {
        r = -errno;
        return strata_error_set(errp, -r, "%s: could not resize to %llu bytes: %s",
                                filename, (unsigned long long)size, strerror(-r));
    }
    if (old == 0 && prealloc == STRATA_PREALLOC_OFF)
        allocate_first_block(fd, size);
    return 0;
}
