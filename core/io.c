/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io.c - the request path every read and write takes through a node.
 *
 * Callers may use any offset and length; a driver sees only requests that
 * respect the alignment and maximum size it announced.  Unaligned edges are
 * handled by read-modify-write under the node's rmw lock taken exclusively,
 * so that two writers sharing an aligned block cannot lose each other's
 * bytes; aligned writes take it shared and run in parallel.
 */
#include "node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum io_op { IO_READ, IO_WRITE, IO_ZERO, IO_DISCARD };

static const char *const op_names[] = { "read", "write", "write-zeroes", "discard" };

/* Zeros for drivers without write_zeroes; never written. */
static uint8_t zero_buf[1 << 20];

static void drv_lock(struct strata_node *n)
{
    if (!(n->drv->flags & STRATA_DRIVER_THREAD_SAFE))
        pthread_mutex_lock(&n->drv_lock);
}

static void drv_unlock(struct strata_node *n)
{
    if (!(n->drv->flags & STRATA_DRIVER_THREAD_SAFE))
        pthread_mutex_unlock(&n->drv_lock);
}

static bool forwards(const struct strata_node *n)
{
    return n->drv->kind == STRATA_DRIVER_FILTER && strata_node_primary_child(n);
}

/* One request that already satisfies the driver's alignment and size limits. */
static int drv_io(struct strata_node *n, enum io_op op, uint64_t off, uint64_t len,
                  void *buf, unsigned flags, struct strata_error **errp)
{
    const struct strata_driver *d = n->drv;
    int r;
    switch (op) {
    case IO_READ:
        if (!d->pread)
            return strata_pread(strata_node_primary_child(n), off, len, buf, flags, errp);
        drv_lock(n);
        r = d->pread(n, off, len, buf, flags, errp);
        drv_unlock(n);
        return r;
    case IO_WRITE:
        if (!d->pwrite) {
            if (forwards(n))
                return strata_pwrite(strata_node_primary_child(n), off, len, buf, flags,
                                     errp);
            return strata_error_set(errp, ENOTSUP, "%s: driver '%s' cannot write",
                                    strata_node_filename(n), d->name);
        }
        drv_lock(n);
        r = d->pwrite(n, off, len, buf, flags, errp);
        drv_unlock(n);
        return r;
    case IO_ZERO:
        if (d->pwrite_zeroes) {
            drv_lock(n);
            r = d->pwrite_zeroes(n, off, len, flags, errp);
            drv_unlock(n);
            if (r != -ENOTSUP || (flags & STRATA_REQ_NO_FALLBACK))
                return r;
            if (errp && *errp) {
                strata_error_free(*errp);
                *errp = NULL;
            }
        } else if (forwards(n)) {
            return strata_pwrite_zeroes(strata_node_primary_child(n), off, len, flags, errp);
        } else if (flags & STRATA_REQ_NO_FALLBACK) {
            return -ENOTSUP;
        }
        while (len > 0) {
            uint64_t chunk = len < sizeof zero_buf ? len : sizeof zero_buf;
            r = drv_io(n, IO_WRITE, off, chunk, zero_buf, flags & STRATA_REQ_FUA, errp);
            if (r < 0)
                return r;
            off += chunk;
            len -= chunk;
        }
        return 0;
    case IO_DISCARD:
        if (d->pdiscard) {
            drv_lock(n);
            r = d->pdiscard(n, off, len, errp);
            drv_unlock(n);
            return r;
        }
        if (forwards(n))
            return strata_pdiscard(strata_node_primary_child(n), off, len, errp);
        return 0;
    }
    return -EINVAL;
}

/* Splits an aligned request at max_transfer. */
static int split_io(struct strata_node *n, enum io_op op, uint64_t off, uint64_t len,
                    void *buf, unsigned flags, struct strata_error **errp)
{
    uint64_t max = n->limits.max_transfer;
    if (max && op != IO_READ && op != IO_WRITE && op != IO_ZERO)
        max = 0;
    if (max) {
        uint32_t a = n->limits.request_alignment;
        max -= max % a;
        if (max == 0)
            max = a;
    }
    while (len > 0) {
        uint64_t chunk = (max && len > max) ? max : len;
        int r = drv_io(n, op, off, chunk, buf, flags, errp);
        if (r < 0)
            return r;
        off += chunk;
        len -= chunk;
        if (buf)
            buf = (uint8_t *)buf + chunk;
    }
    return 0;
}

/* Reads or rewrites the partial aligned block [blk, blk+align) around
 * [off, off+len).  For writes the caller holds the rmw lock exclusively. */
static int edge_io(struct strata_node *n, enum io_op op, uint64_t blk, uint64_t off,
                   uint64_t len, void *buf, unsigned flags, struct strata_error **errp)
{
    uint32_t a = n->limits.request_alignment;
    size_t memalign = n->limits.min_mem_alignment > 16 ? n->limits.min_mem_alignment : 16;
    /* Common alignments fit on the stack, keeping the path allocation-free. */
    _Alignas(4096) uint8_t stackbuf[4096];
    uint8_t *bounce = stackbuf;
    if (a > sizeof stackbuf || memalign > 4096) {
        bounce = aligned_alloc(memalign, (a + memalign - 1) / memalign * memalign);
        if (!bounce)
            return strata_error_set(errp, ENOMEM, "out of memory");
    }
    /* The last block of a node whose size is not a multiple of the
     * alignment ends at the node's end: nothing is read or written past it. */
    uint64_t span = a;
    if (n->drv->kind != STRATA_DRIVER_PROTOCOL) {
        int64_t size = strata_get_length(n);
        if (size > 0 && blk < (uint64_t)size && blk + span > (uint64_t)size)
            span = (uint64_t)size - blk;
    }
    memset(bounce + span, 0, a - span);
    int r = drv_io(n, IO_READ, blk, span, bounce, 0, errp);
    if (r == 0) {
        if (op == IO_READ) {
            memcpy(buf, bounce + (off - blk), len);
        } else {
            if (op == IO_WRITE)
                memcpy(bounce + (off - blk), buf, len);
            else
                memset(bounce + (off - blk), 0, len);
            r = drv_io(n, IO_WRITE, blk, span, bounce, flags & STRATA_REQ_FUA, errp);
        }
    }
    if (bounce != stackbuf)
        free(bounce);
    return r;
}

static int check_request(struct strata_node *n, enum io_op op, uint64_t off, uint64_t len,
                         struct strata_error **errp)
{
    if (!n)
        return strata_error_set(errp, EINVAL, "no node");
    if (op != IO_READ && !(n->flags & STRATA_O_RDWR))
        return strata_error_set(errp, EROFS, "%s: cannot %s: image is opened read-only",
                                strata_node_filename(n), op_names[op]);
    if ((n->flags & STRATA_O_NO_IO) && n->parent == NULL)
        return strata_error_set(errp, EPERM, "%s: opened for metadata only, no data I/O",
                                strata_node_filename(n));
    if (off + len < off)
        return strata_error_set(errp, EINVAL, "%s: %s at offset %llu: length overflows",
                                strata_node_filename(n), op_names[op],
                                (unsigned long long)off);
    /* Protocols grow when written past their end; a filter leaves the
     * check to the node below it, so that a filter over a protocol (a
     * format's file under blkdebug) can grow it too. */
    if (n->drv->kind == STRATA_DRIVER_FORMAT) {
        int64_t size = strata_node_length(n, errp);
        if (size < 0)
            return (int)size;
        if (off + len > (uint64_t)size)
            return strata_error_set(errp, EINVAL,
                                    "%s: %s of %llu bytes at offset %llu is past the end "
                                    "of the image (%lld bytes)",
                                    strata_node_filename(n), op_names[op],
                                    (unsigned long long)len, (unsigned long long)off,
                                    (long long)size);
    }
    return 0;
}

static int do_io(struct strata_node *n, enum io_op op, uint64_t off, uint64_t len,
                 void *buf, unsigned flags, struct strata_error **errp)
{
    int r = check_request(n, op, off, len, errp);
    if (r < 0 || len == 0)
        return r;
    uint32_t a = n->limits.request_alignment;
    uint64_t head = off % a, end = off + len, tail = end % a;
    bool aligned = head == 0 && tail == 0;

    if (op == IO_DISCARD) {
        /* Discard is advisory: drop the unaligned edges. */
        uint64_t s = off + (head ? a - head : 0), e = end - tail;
        return e > s ? split_io(n, op, s, e - s, NULL, 0, errp) : 0;
    }
    bool writes = op != IO_READ;
    if (a == 1 || aligned) {
        if (writes && a > 1)
            pthread_rwlock_rdlock(&n->rmw_lock);
        r = split_io(n, op, off, len, buf, flags, errp);
        if (writes && a > 1)
            pthread_rwlock_unlock(&n->rmw_lock);
        return r;
    }

    if (writes)
        pthread_rwlock_wrlock(&n->rmw_lock);
    uint8_t *p = buf;
    uint64_t first_blk = off - head;
    if (head || (end - first_blk) < a) {
        uint64_t n1 = (end - first_blk) < a ? len : a - head;
        r = edge_io(n, op, first_blk, off, n1, p, flags, errp);
        if (r < 0)
            goto out;
        off += n1;
        len -= n1;
        if (p)
            p += n1;
    }
    if (len >= a) {
        uint64_t mid = len - len % a;
        r = split_io(n, op, off, mid, p, flags, errp);
        if (r < 0)
            goto out;
        off += mid;
        len -= mid;
        if (p)
            p += mid;
    }
    if (len > 0)
        r = edge_io(n, op, off, off, len, p, flags, errp);
out:
    if (writes)
        pthread_rwlock_unlock(&n->rmw_lock);
    return r;
}

int strata_pread(struct strata_node *node, uint64_t off, uint64_t len, void *buf,
                 unsigned flags, struct strata_error **errp)
{
    return do_io(node, IO_READ, off, len, buf, flags, errp);
}

/* STRATA_O_WRITETHROUGH: requests made on the node the application holds
 * go out as FUA, and each driver below keeps FUA's promise its own way
 * (qcow2 flushes its metadata caches, file calls fdatasync, nbd sends FUA
 * or a flush).  Only there: FUA on every child request would also sync
 * each metadata write a format makes on the way. */
static unsigned writethrough_flags(const struct strata_node *node, unsigned flags)
{
    if (node && !node->parent && (node->flags & STRATA_O_WRITETHROUGH))
        flags |= STRATA_REQ_FUA;
    return flags;
}

int strata_pwrite(struct strata_node *node, uint64_t off, uint64_t len, const void *buf,
                  unsigned flags, struct strata_error **errp)
{
    flags = writethrough_flags(node, flags);
    /* The buffer is only read on this path; the cast keeps one do_io. */
    return do_io(node, IO_WRITE, off, len, (void *)buf, flags, errp);
}

int strata_pwrite_compressed(struct strata_node *node, uint64_t off, uint64_t len,
                             const void *buf, struct strata_error **errp)
{
    int r = check_request(node, IO_WRITE, off, len, errp);
    if (r < 0 || len == 0)
        return r;
    const struct strata_driver *d = node->drv;
    if (!d->pwrite_compressed) {
        if (forwards(node))
            return strata_pwrite_compressed(strata_node_primary_child(node), off, len, buf,
                                            errp);
        return strata_error_set(errp, ENOTSUP, "%s: format '%s' does not support "
                                "compressed writes", strata_node_filename(node), d->name);
    }
    uint32_t a = node->limits.request_alignment;
    if (off % a || len % a)
        /* Unaligned edges need read-modify-write: store them plainly. */
        return do_io(node, IO_WRITE, off, len, (void *)buf, writethrough_flags(node, 0),
                     errp);
    if (a > 1)
        pthread_rwlock_rdlock(&node->rmw_lock);
    drv_lock(node);
    r = d->pwrite_compressed(node, off, len, buf, errp);
    drv_unlock(node);
    if (a > 1)
        pthread_rwlock_unlock(&node->rmw_lock);
    /* Compressed writes take no request flags: write through by a flush. */
    if (r == 0 && (writethrough_flags(node, 0) & STRATA_REQ_FUA))
        r = strata_flush(node, errp);
    return r;
}

int strata_pwrite_zeroes(struct strata_node *node, uint64_t off, uint64_t len,
                         unsigned flags, struct strata_error **errp)
{
    flags = writethrough_flags(node, flags);
    return do_io(node, IO_ZERO, off, len, NULL, flags, errp);
}

int strata_pdiscard(struct strata_node *node, uint64_t off, uint64_t len,
                    struct strata_error **errp)
{
    return do_io(node, IO_DISCARD, off, len, NULL, 0, errp);
}

int strata_flush(struct strata_node *node, struct strata_error **errp)
{
    int r = 0;
    if (node->drv->flush) {
        drv_lock(node);
        r = node->drv->flush(node, errp);
        drv_unlock(node);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < node->nchildren; i++) {
        r = strata_flush(node->children[i].node, errp);
        if (r < 0)
            return r;
    }
    return 0;
}

/* The VM state area lies outside the guest disk, so the disk's bounds do
 * not apply; the node below a driver without it is asked, as qemu asks the
 * primary child. */
static int vmstate_io(struct strata_node *n, bool write, uint64_t pos, uint64_t len,
                      void *buf, struct strata_error **errp)
{
    if (!n)
        return strata_error_set(errp, EINVAL, "no node");
    if (write && !(n->flags & STRATA_O_RDWR))
        return strata_error_set(errp, EROFS, "%s: cannot write the VM state: image is "
                                "opened read-only", strata_node_filename(n));
    if (pos + len < pos)
        return strata_error_set(errp, EINVAL, "%s: VM state %s at offset %llu: length "
                                "overflows", strata_node_filename(n),
                                write ? "write" : "read", (unsigned long long)pos);
    const struct strata_driver *d = n->drv;
    if (!(write ? d->vmstate_write != NULL : d->vmstate_read != NULL)) {
        struct strata_node *c = strata_node_primary_child(n);
        if (c)
            return vmstate_io(c, write, pos, len, buf, errp);
        return strata_error_set(errp, ENOTSUP, "%s: no format in this image keeps a VM "
                                "state", strata_node_filename(n));
    }
    uint32_t a = n->limits.request_alignment;
    if (pos % a || len % a)
        return strata_error_set(errp, EINVAL, "%s: VM state %s of %llu bytes at offset "
                                "%llu is not aligned to %u bytes", strata_node_filename(n),
                                write ? "write" : "read", (unsigned long long)len,
                                (unsigned long long)pos, a);
    if (len == 0)
        return 0;
    drv_lock(n);
    int r = write ? d->vmstate_write(n, pos, len, buf, errp)
                  : d->vmstate_read(n, pos, len, buf, errp);
    drv_unlock(n);
    return r;
}

int strata_vmstate_read(struct strata_node *node, uint64_t pos, uint64_t len, void *buf,
                        struct strata_error **errp)
{
    return vmstate_io(node, false, pos, len, buf, errp);
}

int strata_vmstate_write(struct strata_node *node, uint64_t pos, uint64_t len,
                         const void *buf, struct strata_error **errp)
{
    int r = vmstate_io(node, true, pos, len, (void *)buf, errp);
    /* As compressed writes, the VM state takes no request flags: a node
     * opened write-through gets the write to disk by a flush. */
    if (r == 0 && len && (writethrough_flags(node, 0) & STRATA_REQ_FUA))
        r = strata_flush(node, errp);
    return r;
}

/* A 1.3 driver's size callbacks give -errno only: the message is built here,
 * as is one for a 1.4 driver that failed without setting it. */
static int64_t size_failed(struct strata_node *node, int64_t r, const char *what,
                           struct strata_error **errp)
{
    if (errp && !*errp)
        strata_error_set(errp, (int)-r, "%s: driver '%s' cannot tell the %s: %s",
                         strata_node_filename(node), node->drv->name, what,
                         strerror((int)-r));
    return r;
}

int64_t strata_node_length(struct strata_node *node, struct strata_error **errp)
{
    const struct strata_driver *d = node->drv;
    if (d->length || d->get_length) {
        drv_lock(node);
        int64_t l = d->length ? d->length(node, errp) : d->get_length(node);
        drv_unlock(node);
        return l < 0 ? size_failed(node, l, "size", errp) : l;
    }
    struct strata_node *c = strata_node_primary_child(node);
    if (!c)
        return strata_error_set(errp, ENOTSUP, "%s: driver '%s' has no size",
                                strata_node_filename(node), d->name);
    return strata_node_length(c, errp);
}

int64_t strata_get_length(struct strata_node *node)
{
    return strata_node_length(node, NULL);
}

int64_t strata_node_allocated_size(struct strata_node *node, struct strata_error **errp)
{
    const struct strata_driver *d = node->drv;
    if (d->allocated_size || d->get_allocated_size) {
        drv_lock(node);
        int64_t l = d->allocated_size ? d->allocated_size(node, errp)
                                      : d->get_allocated_size(node);
        drv_unlock(node);
        return l < 0 ? size_failed(node, l, "allocated size", errp) : l;
    }
    /* A format without its own answer uses what its children use. */
    int64_t sum = 0;
    bool any = false;
    for (size_t i = 0; i < node->nchildren; i++) {
        if (node->children[i].flags & STRATA_CHILD_COW)
            continue;
        int64_t s = strata_node_allocated_size(node->children[i].node, NULL);
        if (s >= 0) {
            sum += s;
            any = true;
        }
    }
    if (!any)
        return strata_error_set(errp, ENOTSUP, "%s: the allocated size is not known",
                                strata_node_filename(node));
    return sum;
}

int64_t strata_get_allocated_size(struct strata_node *node)
{
    return strata_node_allocated_size(node, NULL);
}

int strata_truncate(struct strata_node *node, uint64_t size, bool exact,
                    enum strata_prealloc prealloc, struct strata_error **errp)
{
    if (!(node->flags & STRATA_O_RDWR))
        return strata_error_set(errp, EROFS, "%s: cannot resize: image is opened read-only",
                                strata_node_filename(node));
    if (node->drv->truncate) {
        /* Resizing races with every request: exclude them all. */
        pthread_rwlock_wrlock(&node->rmw_lock);
        drv_lock(node);
        int r = node->drv->truncate(node, size, exact, prealloc, errp);
        drv_unlock(node);
        pthread_rwlock_unlock(&node->rmw_lock);
        return r;
    }
    if (forwards(node))
        return strata_truncate(strata_node_primary_child(node), size, exact, prealloc, errp);
    return strata_error_set(errp, ENOTSUP, "%s: resizing is not supported by driver '%s'",
                            strata_node_filename(node), node->drv->name);
}

/* STRATA_BS_RECURSE: the file below says whether the mapped data reads as
 * zeros (a hole, or past its end), and the extent ends where its answer
 * does.  Only information: a failure leaves the driver's answer. */
static void recurse_status(struct strata_block_status *bs)
{
    unsigned want = STRATA_BS_DATA | STRATA_BS_OFFSET_VALID;
    bs->flags &= ~STRATA_BS_RECURSE;
    if ((bs->flags & (want | STRATA_BS_ZERO)) != want || !bs->file)
        return;
    int64_t flen = strata_node_length(bs->file, NULL);
    if (flen < 0)
        return;
    if (bs->offset >= (uint64_t)flen) {
        bs->flags |= STRATA_BS_ZERO;
        return;
    }
    struct strata_block_status fs;
    if (strata_block_status(bs->file, bs->offset, bs->pnum, &fs, NULL) < 0)
        return;
    bool to_eof = bs->offset + fs.pnum >= (uint64_t)flen;
    if (to_eof && (fs.flags & STRATA_BS_ZERO)) {
        bs->flags |= STRATA_BS_ZERO;
        return;
    }
    if (fs.pnum < bs->pnum)
        bs->pnum = fs.pnum;
    bs->flags |= fs.flags & STRATA_BS_ZERO;
}

int strata_block_status(struct strata_node *node, uint64_t off, uint64_t len,
                        struct strata_block_status *bs, struct strata_error **errp)
{
    memset(bs, 0, sizeof *bs);
    int64_t size = strata_node_length(node, errp);
    if (size < 0)
        return (int)size;
    if (off >= (uint64_t)size || len == 0)
        return strata_error_set(errp, EINVAL, "%s: block status at offset %llu is past "
                                "the end of the image", strata_node_filename(node),
                                (unsigned long long)off);
    if (len > (uint64_t)size - off)
        len = (uint64_t)size - off;
    int r;
    if (node->drv->block_status) {
        drv_lock(node);
        r = node->drv->block_status(node, off, len, bs, errp);
        drv_unlock(node);
    } else if (forwards(node)) {
        r = strata_block_status(strata_node_primary_child(node), off, len, bs, errp);
    } else {
        bs->pnum = len;
        bs->flags = STRATA_BS_DATA | STRATA_BS_ALLOCATED;
        r = 0;
    }
    if (r < 0)
        return r;
    if (bs->pnum == 0 || bs->pnum > len)
        return strata_error_set(errp, EIO, "%s: driver '%s' reported a block status of "
                                "%llu bytes for a request of %llu",
                                strata_node_filename(node), node->drv->name,
                                (unsigned long long)bs->pnum, (unsigned long long)len);
    if (bs->flags & STRATA_BS_RECURSE)
        recurse_status(bs);
    return 0;
}

int strata_block_status_above(struct strata_node *node, uint64_t off, uint64_t len,
                              struct strata_block_status *bs, int *depth,
                              struct strata_error **errp)
{
    int d = 0;
    struct strata_node *n = node;
    for (;;) {
        /* Filters pass the question on and are no layer of the chain. */
        while (forwards(n) && !n->drv->block_status)
            n = strata_node_primary_child(n);
        int r = strata_block_status(n, off, len, bs, errp);
        if (r < 0)
            return r;
        if (bs->flags & STRATA_BS_ALLOCATED) {
            *depth = d;
            return 0;
        }
        struct strata_node *b = strata_node_cow_child(n);
        /* A driver that cannot have a backing file says what it knows of
         * unallocated ranges itself (null-co without read-zeroes: nothing),
         * as in QEMU. */
        if (!b && !strata_role_with(n->drv, STRATA_CHILD_COW)) {
            *depth = d;
            return 0;
        }
        int64_t bsize = b ? strata_get_length(b) : -1;
        if (!b || bsize <= 0 || off >= (uint64_t)bsize) {
            /* Nothing below defines it: it reads as zeros. */
            bs->flags = (bs->flags & ~STRATA_BS_DATA) | STRATA_BS_ZERO;
            *depth = d;
            return 0;
        }
        len = bs->pnum;
        if (len > (uint64_t)bsize - off)
            len = (uint64_t)bsize - off;
        n = b;
        d++;
    }
}
