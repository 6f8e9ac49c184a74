/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* file.c - the file protocol driver: an image in a host file or block device.
 *
 * Options: filename (required), cache=none|writeback (none = O_DIRECT),
 * locking=on|off|auto (QEMU-compatible lock bytes, see lock.c).
 * Open flags: STRATA_O_DIRECT is cache=none for a node without its own
 * cache= option; STRATA_O_NO_FLUSH makes flushes and FUA stop at the page
 * cache; STRATA_O_WRITETHROUGH reaches this driver as FUA on each write.
 */
#include "file-int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/cdrom.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <strata/plugin.h>

#include "prealloc.h"

static const char *const file_cache_modes[] = { "none", "writeback", NULL };
static const char *const file_locking_modes[] = { "on", "off", "auto", NULL };
static const char *const file_prealloc_modes[] = { "off", "falloc", "full", NULL };

static const struct strata_opt_desc file_open_options[] = {
    { .name = "filename", .type = STRATA_OPT_STRING,
      .help = "host file or block device holding the image" },
    { .name = "cache", .type = STRATA_OPT_ENUM, .def = "writeback",
      .help = "host page cache use: writeback, or none for O_DIRECT",
      .choices = file_cache_modes },
    { .name = "locking", .type = STRATA_OPT_ENUM, .def = "auto",
      .help = "image locking shared with QEMU: on, off, or auto (on when the "
              "host supports OFD locks)",
      .choices = file_locking_modes },
    { NULL },
};

static const struct strata_opt_desc file_create_options[] = {
    { .name = "preallocation", .type = STRATA_OPT_ENUM, .def = "off",
      .help = "off, falloc (allocate blocks) or full (write zeros)",
      .choices = file_prealloc_modes },
    { .name = "extent_size_hint", .type = STRATA_OPT_SIZE, .def = "1M",
      .help = "Extent size hint for the image file, 0 to disable" },
    { NULL },
};

/* ------------------------------------------------------------ helpers */

static int64_t file_size_fd(int fd, bool is_bdev)
{
    if (is_bdev) {
        uint64_t sz;
        if (ioctl(fd, BLKGETSIZE64, &sz) < 0)
            return -errno;
        return (int64_t)sz;
    }
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    return st.st_size;
}

static bool file_aligned(const struct file_state *s, uint64_t v)
{
    return s->align <= 1 || v % s->align == 0;
}

/* Finds the alignment O_DIRECT needs: the device's logical block size, the
 * file system's answer through statx, or by trying reads; 4096 when nothing
 * gives a reliable answer, which is always safe. */
static void file_probe_alignment(struct file_state *s)
{
    s->align = 4096;
    s->mem_align = 4096;

    if (s->is_bdev) {
        int ssz;
        if (ioctl(s->fd, BLKSSZGET, &ssz) == 0 && ssz >= 512) {
            s->align = (uint32_t)ssz;
            s->mem_align = (uint32_t)ssz;
        }
        return;
    }

#ifdef STATX_DIOALIGN
    struct statx stx;
    if (statx(s->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
        (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align &&
        stx.stx_dio_mem_align) {
        s->align = stx.stx_dio_offset_align;
        s->mem_align = stx.stx_dio_mem_align;
        return;
    }
#endif

    /* A read that stops at end of file proves nothing about alignment. */
    int64_t size = file_size_fd(s->fd, false);
    if (size < 4096)
        return;
    void *buf;
    if (posix_memalign(&buf, 4096, 2 * 4096) != 0)
        return;
    static const uint32_t cand[] = { 512, 1024, 2048, 4096 };
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
        ssize_t r = pread(s->fd, buf, cand[i], 0);
        if (r >= 0 || errno != EINVAL) {
            s->align = cand[i];
            break;
        }
    }
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
        ssize_t r = pread(s->fd, (uint8_t *)buf + cand[i], s->align, 0);
        if (r >= 0 || errno != EINVAL) {
            s->mem_align = cand[i];
            break;
        }
    }
    free(buf);
}

/* Reads [off, off+len) into buf; the part past end of file reads as zeros. */
static int file_read_fd(struct file_state *s, uint64_t off, uint64_t len, uint8_t *buf)
{
    uint64_t done = 0;
    while (done < len) {
        size_t n = len - done > 0x7ffff000u ? 0x7ffff000u : (size_t)(len - done);
        ssize_t r = pread(s->fd, buf + done, n, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        done += (uint64_t)r;
        /* With O_DIRECT a read can only end off-alignment at end of file,
         * and reading on from there would be refused. */
        if (!file_aligned(s, done))
            break;
    }
    if (done < len)
        memset(buf + done, 0, len - done);
    return 0;
}

static int file_write_fd(struct file_state *s, uint64_t off, uint64_t len,
                         const uint8_t *buf)
{
    uint64_t done = 0;
    while (done < len) {
        size_t n = len - done > 0x7ffff000u ? 0x7ffff000u : (size_t)(len - done);
        ssize_t r = pwrite(s->fd, buf + done, n, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return -EIO;
        done += (uint64_t)r;
    }
    return 0;
}

static bool file_needs_bounce(const struct file_state *s, const void *buf)
{
    return s->direct && ((uintptr_t)buf % s->mem_align) != 0;
}

/* ------------------------------------------------------------ open/close */

static int file_do_open(struct strata_node *node, const struct strata_opts *opts,
                        unsigned flags, struct strata_error **errp)
{
    struct file_state *s = strata_node_state(node);
    const char *filename = strata_opts_get(opts, "filename");
    const char *cache = strata_opts_get(opts, "cache");
    const char *locking = strata_opts_get(opts, "locking");
    bool rdwr = flags & STRATA_O_RDWR;
    int r;

    if (!filename || !*filename)
        return strata_error_set(errp, EINVAL, "file: missing 'filename'");
    s->filename = strdup(filename);
    if (!s->filename)
        return strata_error_set(errp, ENOMEM, "%s: out of memory", filename);
    /* The node's own option wins over the flag its stack was opened with. */
    s->direct = cache ? strcmp(cache, "none") == 0 : (flags & STRATA_O_DIRECT) != 0;
    if (!locking)
        locking = "auto";

    if ((flags & STRATA_O_FORCE_SHARE) && rdwr)
        return strata_error_set(errp, EINVAL,
                                "%s: force-share (-U) can only be used with read-only "
                                "images", filename);

    int oflags = (rdwr ? O_RDWR : O_RDONLY) | O_CLOEXEC;
    if (s->direct)
        oflags |= O_DIRECT;
    s->fd = open(filename, oflags);
    if (s->fd < 0) {
        r = -errno;
        if (r == -EINVAL && s->direct)
            return strata_error_set(errp, EINVAL, "%s: cache mode none (direct I/O) needs "
                                    "O_DIRECT, which this file system does not support",
                                    filename);
        return strata_error_set(errp, -r, "Could not open '%s': %s", filename,
                                strerror(-r));
    }

    struct stat st;
    if (fstat(s->fd, &st) < 0) {
        r = -errno;
        return strata_error_set(errp, -r, "%s: cannot stat: %s", filename, strerror(-r));
    }
    /* QEMU's messages; its host_device and host_cdrom take devices only,
     * and file here takes block devices too. */
    const char *drv = strata_node_driver(node)->name;
    if (strcmp(drv, "file") != 0) {
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
            return strata_error_set(errp, EINVAL, "'%s' driver requires '%s' to be either "
                                    "a character or block device", drv, filename);
    } else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        return strata_error_set(errp, EINVAL, "'%s' driver requires '%s' to be a regular "
                                "file", drv, filename);
    }
    s->is_bdev = S_ISBLK(st.st_mode);

    if (!(flags & STRATA_O_FORCE_SHARE) && strcmp(locking, "off") != 0) {
        if (file_lock_supported(s->fd)) {
            /* What qemu-img/qemu-io hold for the same open: a reader lets
             * others read but refuses writers and resizers. */
            unsigned perm = FILE_PERM_CONSISTENT_READ;
            if (rdwr)
                perm |= FILE_PERM_WRITE | FILE_PERM_RESIZE;
            unsigned shared = FILE_PERM_CONSISTENT_READ | FILE_PERM_WRITE_UNCHANGED;
            r = file_lock_acquire(s->fd, filename, perm, shared, errp);
            if (r < 0)
                return r;
            s->locked = true;
        } else if (strcmp(locking, "on") == 0) {
            return strata_error_set(errp, ENOTSUP, "%s: locking=on, but the host does not "
                                    "support OFD locks on this file", filename);
        }
    }

    s->align = 1;
    s->mem_align = 1;
    if (s->direct)
        file_probe_alignment(s);
    if (s->mem_align > s->bounce.align)
        s->bounce.align = s->mem_align;

    struct strata_limits lim = {
        .request_alignment = s->align,
        .min_mem_alignment = s->mem_align,
        .opt_transfer = st.st_blksize > 0 ? (uint64_t)st.st_blksize : 0,
    };
    strata_node_set_limits(node, &lim);
    return 0;
}

static void file_close(struct strata_node *node)
{
    struct file_state *s = strata_node_state(node);
    if (s->fd >= 0) {
        if (s->locked)
            file_lock_release(s->fd);
        close(s->fd);
        s->fd = -1;
    }
    bounce_pool_destroy(&s->bounce);
    pthread_mutex_destroy(&s->extent_lock);
    free(s->filename);
    s->filename = NULL;
}

/* The core calls nothing after a failed open, so undo it here. */
static int file_open(struct strata_node *node, const struct strata_opts *opts,
                     unsigned flags, struct strata_error **errp)
{
    struct file_state *s = strata_node_state(node);
    s->fd = -1;
    bounce_pool_init(&s->bounce, FILE_BOUNCE_SIZE, 4096, FILE_BOUNCE_POOL);
    pthread_mutex_init(&s->extent_lock, NULL);
    int r = file_do_open(node, opts, flags, errp);
    if (r < 0)
        file_close(node);
    return r;
}

/* ------------------------------------------------------------ I/O */

/* FUA after a completed write: its data reaches stable storage now. */
static int file_fua(struct strata_node *node, struct file_state *s, unsigned flags)
{
    if (!(flags & STRATA_REQ_FUA) || (strata_node_flags(node) & STRATA_O_NO_FLUSH))
        return 0;
    return fdatasync(s->fd) < 0 ? -errno : 0;
}

static int file_pread(struct strata_node *node, uint64_t off, uint64_t len, void *buf,
                      unsigned flags, struct strata_error **errp)
{
    struct file_state *s = strata_node_state(node);
    int r = 0;

    if (!file_needs_bounce(s, buf)) {
        r = file_read_fd(s, off, len, buf);
    } else {
        uint8_t *b = bounce_get(&s->bounce);
        if (!b)
            return strata_error_set(errp, ENOMEM, "%s: out of memory", s->filename);
        for (uint64_t done = 0; done < len && r == 0;) {
            uint64_t n = len - done < FILE_BOUNCE_SIZE ? len - done : FILE_BOUNCE_SIZE;
            r = file_read_fd(s, off + done, n, b);
            if (r == 0)
                memcpy((uint8_t *)buf + done, b, n);
            done += n;
        }
        bounce_put(&s->bounce, b);
    }
    if (r < 0)
        return strata_error_set(errp, -r, "%s: read of %llu bytes at offset %llu "
                                "failed: %s", s->filename, (unsigned long long)len,
                                (unsigned long long)off, strerror(-r));
    return 0;
}

static int file_pwrite(struct strata_node *node, uint64_t off, uint64_t len,
                       const void *buf, unsigned flags, struct strata_error **errp)
{
    struct file_state *s = strata_node_state(node);
    int r = 0;

    if (!file_needs_bounce(s, buf)) {
        r = file_write_fd(s, off, len, buf);
    } else {
        uint8_t *b = bounce_get(&s->bounce);
        if (!b)
            return strata_error_set(errp, ENOMEM, "%s: out of memory", s->filename);
        for (uint64_t done = 0; done < len && r == 0;) {
            uint64_t n = len - done < FILE_BOUNCE_SIZE ? len - done : FILE_BOUNCE_SIZE;
            memcpy(b, (const uint8_t *)buf + done, n);
            r = file_write_fd(s, off + done, n, b);
            done += n;
        }
        bounce_put(&s->bounce, b);
    }
    if (r == 0)
        r = file_fua(node, s, flags);
    if (r < 0)
        return strata_error_set(errp, -r, "%s: write of %llu bytes at offset %llu "
                                "failed: %s", s->filename, (unsigned long long)len,
                                (unsigned long long)off, strerror(-r));
    return 0;
}

static int file_flush(struct strata_node *node, struct strata_error **errp)
{
    struct file_state *s = strata_node_state(node);
    if (strata_node_flags(node) & STRATA_O_NO_FLUSH)
        return 0;
    if (fdatasync(s->fd) < 0) {
        int e = errno;
        return strata_error_set(errp, e, "%s: flush failed: %s", s->filename, strerror(e));
    }
    return 0;
}

static bool file_unsupported(int err)
{
    return err == EOPNOTSUPP || err == ENOSYS || err == ENOTTY;
}

static void file_forget_extent(struct file_state *s)
{
    pthread_mutex_lock(&s->extent_lock);
    s->data_lo = s->data_hi = 0;
    pthread_mutex_unlock(&s->extent_lock);
}

static int file_punch(struct file_state *s, uint64_t off, uint64_t len)
{
    file_forget_extent(s);
    if (atomic_load(&s->no_punch))
        return -ENOTSUP;
    if (fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)off, (off_t)len) == 0)
        return 0;
    int e = errno;
    if (file_unsupported(e)) {
        atomic_store(&s->no_punch, true);
        return -ENOTSUP;
    }
    return -e;
}

/* Zeroes [off, off+len) keeping it allocated; grows the file when the range
 * passes its end.  The fallbacks are QEMU's: ZERO_RANGE, else punch a hole
 * and allocate it again, else (past end of file only) plain allocation. */
static int file_zero_alloc(struct file_state *s, uint64_t off, uint64_t len)
{
    /* ZERO_RANGE may leave unwritten extents, which read back as holes. */
    file_forget_extent(s);
    if (!atomic_load(&s->no_zero_range)) {
        if (fallocate(s->fd, FALLOC_FL_ZERO_RANGE, (off_t)off, (off_t)len) == 0)
            return 0;
        int e = errno;
        if (!file_unsupported(e))
            return -e;
        atomic_store(&s->no_zero_range, true);
    }
    int64_t size = file_size_fd(s->fd, s->is_bdev);
    if (size < 0)
        return (int)size;
    if (off < (uint64_t)size) {
        uint64_t n = (uint64_t)size - off < len ? (uint64_t)size - off : len;
        int r = file_punch(s, off, n);
        if (r < 0)
            return r;
    }
    if (s->is_bdev)
        return 0;
    if (fallocate(s->fd, 0, (off_t)off, (off_t)len) == 0)
        return 0;
    int e = errno;
    return file_unsupported(e) ? -ENOTSUP : -e;
}

static int file_pwrite_zeroes(struct strata_node *node, uint64_t off, uint64_t len,
                              unsigned flags, struct strata_error **errp)
{
    struct file_state *s = strata_node_state(node);
    int r = -ENOTSUP;

    if (flags & STRATA_REQ_MAY_UNMAP) {
        int64_t size = file_size_fd(s->fd, s->is_bdev);
        if (size < 0)
            return strata_error_set(errp, (int)-size, "%s: cannot get size: %s",
                                    s->filename, strerror((int)-size));
        uint64_t inside = off >= (uint64_t)size ? 0
                        : ((uint64_t)size - off < len ? (uint64_t)size - off : len);
        r = inside ? file_punch(s, off, inside) : 0;
        if (r == 0 && inside < len)
            r = file_zero_alloc(s, off + inside, len - inside);
        if (r == -ENOTSUP)
            r = file_zero_alloc(s, off, len);
    } else {
        r = file_zero_alloc(s, off, len);
    }
    if (r == 0)
        r = file_fua(node, s, flags);

    if (r == -ENOTSUP)
        return strata_error_set(errp, ENOTSUP, "%s: writing zeros by fallocate is not "
                                "supported here", s->filename);
    if (r < 0)
        return strata_error_set(errp, -r, "%s: write zeroes of %llu bytes at offset "
                                "%llu failed: %s", s->filename, (unsigned long long)len,
                                (unsigned long long)off, strerror(-r));
    return 0;
}

static int file_pdiscard(struct strata_node *node, uint64_t off, uint64_t len,
                         struct strata_error **errp)
{
    struct file_state *s = strata_node_state(node);
    int r = file_punch(s, off, len);
    /* Discard is advisory: a file system without hole punching keeps the data. */
    if (r == -ENOTSUP)
        return 0;
    if (r < 0)
        return strata_error_set(errp, -r, "%s: discard of %llu bytes at offset %llu "
                                "failed: %s", s->filename, (unsigned long long)len,
                                (unsigned long long)off, strerror(-r));
    return 0;
}

static int64_t file_length(struct strata_node *node, struct strata_error **errp)
{
    struct file_state *s = strata_node_state(node);
    int64_t size = file_size_fd(s->fd, s->is_bdev);
    if (size < 0)
        return strata_error_set(errp, (int)-size, "%s: cannot get size: %s", s->filename,
                                strerror((int)-size));
    return size;
}

/* As QEMU's host_cdrom: a drive without a disc has no length. */
static int64_t cdrom_length(struct strata_node *node, struct strata_error **errp)
{
    struct file_state *s = strata_node_state(node);
    if (ioctl(s->fd, CDROM_DRIVE_STATUS, CDSL_CURRENT) != CDS_DISC_OK)
        return strata_error_set(errp, ENOMEDIUM, "%s: no medium found", s->filename);
    return file_length(node, errp);
}

static int64_t file_allocated_size(struct strata_node *node, struct strata_error **errp)
{
    struct file_state *s = strata_node_state(node);
    struct stat st;
    if (fstat(s->fd, &st) < 0)
        return strata_error_set(errp, errno, "%s: cannot get the allocated size: %s",
                                s->filename, strerror(errno));
    return (int64_t)st.st_blocks * 512;
}

static int file_truncate(struct strata_node *node, uint64_t size, bool exact,
                         enum strata_prealloc prealloc, struct strata_error **errp)
{
    struct file_state *s = strata_node_state(node);
    int64_t cur = file_size_fd(s->fd, s->is_bdev);
    if (cur < 0)
        return strata_error_set(errp, (int)-cur, "%s: cannot get size: %s",
                                s->filename, strerror((int)-cur));
    file_forget_extent(s);

    if (s->is_bdev) {
        if (prealloc != STRATA_PREALLOC_OFF)
            return strata_error_set(errp, ENOTSUP, "%s: preallocation is not supported "
                                    "on block devices", s->filename);
        if (size > (uint64_t)cur)
            return strata_error_set(errp, EINVAL, "%s: cannot grow a block device "
                                    "(%lld bytes) to %llu bytes", s->filename,
                                    (long long)cur, (unsigned long long)size);
        if (exact && size != (uint64_t)cur)
            return strata_error_set(errp, ENOTSUP, "%s: cannot resize a block device "
                                    "(%lld bytes) to exactly %llu bytes", s->filename,
                                    (long long)cur, (unsigned long long)size);
        return 0;
    }
    return file_resize_fd(s->fd, s->filename, (uint64_t)cur, size, prealloc, errp);
}

static int file_block_status(struct strata_node *node, uint64_t off, uint64_t len,
                             struct strata_block_status *bs, struct strata_error **errp)
{
    struct file_state *s = strata_node_state(node);
    int64_t size = file_size_fd(s->fd, s->is_bdev);
    if (size < 0)
        return strata_error_set(errp, (int)-size, "%s: cannot get size: %s",
                                s->filename, strerror((int)-size));

    bs->file = node;
    bs->offset = off;
    bs->pnum = len;
    bs->flags = STRATA_BS_OFFSET_VALID | STRATA_BS_ALLOCATED;

    if (off >= (uint64_t)size) {
        bs->flags |= STRATA_BS_ZERO;
        return 0;
    }
    if (s->is_bdev) {
        bs->flags |= STRATA_BS_DATA;
        return 0;
    }

    pthread_mutex_lock(&s->extent_lock);
    uint64_t lo = s->data_lo, hi = s->data_hi;
    pthread_mutex_unlock(&s->extent_lock);
    if (off >= lo && off < hi) {
        bs->flags |= STRATA_BS_DATA;
        bs->pnum = hi - off < len ? hi - off : len;
        return 0;
    }

    off_t data = lseek(s->fd, (off_t)off, SEEK_DATA);
    if (data < 0) {
        /* ENXIO: nothing but hole from off to the end.  Anything else means
         * the file system cannot tell, so everything is data. */
        bs->flags |= errno == ENXIO ? STRATA_BS_ZERO : STRATA_BS_DATA;
        return 0;
    }
    if ((uint64_t)data > off) {
        uint64_t n = (uint64_t)data - off;
        /* A hole shorter than the alignment is inside a block that holds data. */
        if (!file_aligned(s, (uint64_t)data)) {
            uint64_t down = (uint64_t)data / s->align * s->align;
            if (down <= off) {
                bs->flags |= STRATA_BS_DATA;
                bs->pnum = s->align < len ? s->align : len;
                return 0;
            }
            n = down - off;
        }
        bs->flags |= STRATA_BS_ZERO;
        bs->pnum = n < len ? n : len;
        return 0;
    }

    off_t hole = lseek(s->fd, (off_t)off, SEEK_HOLE);
    bs->flags |= STRATA_BS_DATA;
    if (hole < 0 || (uint64_t)hole <= off)
        return 0;  /* changed under us: data is the safe answer */
    uint64_t n = (uint64_t)hole - off;
    if (!file_aligned(s, n))
        n = (n + s->align - 1) / s->align * s->align;
    bs->pnum = n < len ? n : len;
    pthread_mutex_lock(&s->extent_lock);
    s->data_lo = off;
    s->data_hi = off + n;
    pthread_mutex_unlock(&s->extent_lock);
    return 0;
}

/* ------------------------------------------------------------ create */

static int file_parse_prealloc(const char *text, const char *filename,
                               enum strata_prealloc *out, struct strata_error **errp)
{
    if (prealloc_parse(text, out) < 0 || *out == STRATA_PREALLOC_METADATA)
        return strata_error_set(errp, EINVAL, "%s: preallocation '%s' is not supported "
                                "by the file driver (use off, falloc or full)",
                                filename, text);
    return 0;
}

/* The extent size hint (XFS) makes the file system allocate in units of
 * that size, which keeps an image that fills in small writes from
 * fragmenting.  As in QEMU it is best effort: a file system without it
 * costs a warning only when the option was asked for (and not 0). */
static void file_set_extent_size_hint(int fd, uint64_t hint, bool given)
{
    struct fsxattr attr;
    int r = ioctl(fd, FS_IOC_FSGETXATTR, &attr);
    if (r == 0) {
        attr.fsx_xflags |= FS_XFLAG_EXTSIZE;
        attr.fsx_extsize = (uint32_t)hint;
        r = ioctl(fd, FS_IOC_FSSETXATTR, &attr);
    }
    if (r < 0 && given && hint)
        strata_warn("Failed to set extent size hint: %s", strerror(errno));
}

static int file_create(struct strata_create *c, struct strata_error **errp)
{
    const char *filename = strata_create_filename(c);
    const struct strata_opts *opts = strata_create_opts(c);
    uint64_t size = strata_create_size(c);
    enum strata_prealloc prealloc;
    int r;

    if (!filename || !*filename)
        return strata_error_set(errp, EINVAL, "file: missing 'filename' for create");
    r = file_parse_prealloc(opts ? strata_opts_get(opts, "preallocation") : NULL,
                            filename, &prealloc, errp);
    if (r < 0)
        return r;

    uint64_t hint = 1u << 20;
    bool hint_given = opts && strata_opts_get(opts, "extent_size_hint");
    if (hint_given && (r = strata_opts_get_size(opts, "extent_size_hint", &hint, errp)) < 0)
        return r;
    if (hint > UINT32_MAX)
        return strata_error_set(errp, EINVAL, "Extent size hint is too large");

    int fd = open(filename, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        r = -errno;
        return strata_error_set(errp, -r, "Could not create '%s': %s", filename,
                                strerror(-r));
    }

    struct stat st;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        strata_error_set(errp, -r, "%s: cannot stat: %s", filename, strerror(-r));
        goto out;
    }

    /* As QEMU does: refuse to truncate an image somebody has open. */
    if (file_lock_supported(fd)) {
        r = file_lock_acquire(fd, filename, FILE_PERM_WRITE | FILE_PERM_RESIZE,
                              FILE_PERM_ALL & ~FILE_PERM_RESIZE, errp);
        if (r < 0)
            goto out;
    }

    if (S_ISBLK(st.st_mode)) {
        int64_t dev = file_size_fd(fd, true);
        if (dev >= 0 && size > (uint64_t)dev)
            r = strata_error_set(errp, ENOSPC, "%s: device is %lld bytes, too small "
                                 "for %llu", filename, (long long)dev,
                                 (unsigned long long)size);
        else if (prealloc != STRATA_PREALLOC_OFF)
            r = strata_error_set(errp, ENOTSUP, "%s: preallocation is not supported "
                                 "on block devices", filename);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        r = strata_error_set(errp, EINVAL, "'file' driver requires '%s' to be a regular "
                             "file", filename);
        goto out;
    }

    if (ftruncate(fd, 0) < 0) {
        r = -errno;
        strata_error_set(errp, -r, "%s: could not truncate: %s", filename, strerror(-r));
        goto out;
    }
    file_set_extent_size_hint(fd, hint, hint_given);
    r = file_resize_fd(fd, filename, 0, size, prealloc, errp);

out:
    close(fd);
    return r;
}

#define FILE_DRIVER_OPS \
    STRATA_DRIVER_HEAD, \
    .kind = STRATA_DRIVER_PROTOCOL, \
    .flags = STRATA_DRIVER_THREAD_SAFE, \
    .state_size = sizeof(struct file_state), \
    .open_options = file_open_options, \
    .open = file_open, \
    .close = file_close, \
    .pread = file_pread, \
    .pwrite = file_pwrite, \
    .flush = file_flush, \
    .pwrite_zeroes = file_pwrite_zeroes, \
    .pdiscard = file_pdiscard, \
    .allocated_size = file_allocated_size, \
    .truncate = file_truncate, \
    .block_status = file_block_status

static const struct strata_driver file_driver = {
    FILE_DRIVER_OPS,
    .length = file_length,
    .name = "file",
    .description = "host file or block device",
    .create_options = file_create_options,
    .create = file_create,
};

/* QEMU's names for a host device; the same I/O, but only a character or
 * block device opens.  Of a CD-ROM's media handling only the check for a
 * disc is had (no eject, no locking of the tray). */
static const struct strata_driver host_device_driver = {
    FILE_DRIVER_OPS,
    .length = file_length,
    .name = "host_device",
    .description = "host character or block device",
};

static const struct strata_driver host_cdrom_driver = {
    FILE_DRIVER_OPS,
    .length = cdrom_length,
    .name = "host_cdrom",
    .description = "host CD-ROM drive",
};

STRATA_PLUGIN("file", .drivers = STRATA_DRIVERS(&file_driver, &host_device_driver,
                                                &host_cdrom_driver));
