/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io.c - the request path every read and write takes through a node.
 *
 * Callers may use any offset and length; a driver sees only requests that
 * respect the alignment and maximum size it announced.  Unaligned edges are
 * handled by read-modify-write, which track.c keeps from overlapping any
 * other write, so that two writers sharing an aligned block cannot lose
 * each other's bytes; writes to other blocks run in parallel.
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

/* Raises a point of the request path (pwritev, pwritev_rmw_head, ...) where
 * QEMU's block layer does: on the first node at or below n, along primary
 * children, that listens for events (blkdebug). */
static void io_event(struct strata_node *n, enum strata_event ev)
{
    for (struct strata_node *m = n; m; m = strata_node_primary_child(m))
        if (m->drv->on_event || m->drv->event) {
            strata_node_raise_event(m, ev);
            return;
        }
}

/* The part of the aligned block at blk that the node holds: the last block
 * of a format node whose size is not a multiple of the alignment ends at
 * the node's end, and nothing is read or written past it. */
static uint64_t block_span(struct strata_node *n, uint64_t blk)
{
    uint64_t a = n->limits.request_alignment;
    if (n->drv->kind != STRATA_DRIVER_PROTOCOL) {
        int64_t size = strata_get_length(n);
        if (size > 0 && blk < (uint64_t)size && blk + a > (uint64_t)size)
            return (uint64_t)size - blk;
    }
    return a;
}

/* A buffer for one aligned block: on the stack for common alignments,
 * keeping the path allocation-free. */
struct block_buf {
    _Alignas(4096) uint8_t stack[4096];
    uint8_t *p;
};

static int block_buf_init(struct strata_node *n, struct block_buf *b,
                          struct strata_error **errp)
{
    uint32_t a = n->limits.request_alignment;
    size_t memalign = n->limits.min_mem_alignment > 16 ? n->limits.min_mem_alignment : 16;
    b->p = b->stack;
    if (a > sizeof b->stack || memalign > sizeof b->stack) {
        b->p = aligned_alloc(memalign, (a + memalign - 1) / memalign * memalign);
        if (!b->p)
            return strata_error_set(errp, ENOMEM, "out of memory");
    }
    return 0;
}

static void block_buf_free(struct block_buf *b)
{
    if (b->p != b->stack)
        free(b->p);
}

/* Reads the aligned block at blk whole into b (zeros past the node's end). */
static int read_block(struct strata_node *n, uint64_t blk, struct block_buf *b,
                      struct strata_error **errp)
{
    uint64_t span = block_span(n, blk);
    memset(b->p + span, 0, n->limits.request_alignment - span);
    return drv_io(n, IO_READ, blk, span, b->p, 0, errp);
}

/* A read whose edges are not aligned: each partial block is read whole. */
static int unaligned_read(struct strata_node *n, uint64_t off, uint64_t len, uint8_t *buf,
                          unsigned flags, struct strata_error **errp)
{
    uint32_t a = n->limits.request_alignment;
    struct block_buf b;
    int r = block_buf_init(n, &b, errp);
    while (r == 0 && len > 0) {
        uint64_t blk = off - off % a;
        if (off == blk && len >= a) {
            uint64_t mid = len - len % a;
            r = split_io(n, IO_READ, off, mid, buf, flags, errp);
            off += mid, len -= mid, buf += mid;
            continue;
        }
        uint64_t n1 = blk + a - off < len ? blk + a - off : len;
        r = read_block(n, blk, &b, errp);
        if (r == 0)
            memcpy(buf, b.p + (off - blk), n1);
        off += n1, len -= n1, buf += n1;
    }
    block_buf_free(&b);
    return r;
}

/* A write or zero write whose edges are not aligned, under a serialising
 * track: the partial blocks are read first, then the request goes out as
 * QEMU's padded one does, with its events: pwritev_rmw_head/_tail around
 * the reads, pwritev and pwritev_done around the writes. */
static int rmw_write(struct strata_node *n, enum io_op op, uint64_t off, uint64_t len,
                     const uint8_t *buf, unsigned flags, struct strata_error **errp)
{
    uint32_t a = n->limits.request_alignment;
    uint64_t end = off + len, head = off % a, tail = end % a;
    uint64_t first = off - head, last = end - tail;
    /* The padded request is one block: read once, for both edges. */
    bool merged = (tail ? last + a : end) - first == a;
    struct block_buf hb, tb;
    int r = block_buf_init(n, &hb, errp);
    if (r < 0)
        return r;
    if ((r = block_buf_init(n, &tb, errp)) < 0) {
        block_buf_free(&hb);
        return r;
    }

    if (head || merged) {
        if (head)
            io_event(n, STRATA_EV_PWRITEV_RMW_HEAD);
        if (merged && tail)
            io_event(n, STRATA_EV_PWRITEV_RMW_TAIL);
        r = read_block(n, first, &hb, errp);
        if (r < 0)
            goto out;
        if (head)
            io_event(n, STRATA_EV_PWRITEV_RMW_AFTER_HEAD);
        if (merged && tail)
            io_event(n, STRATA_EV_PWRITEV_RMW_AFTER_TAIL);
    }
    if (tail && !merged) {
        io_event(n, STRATA_EV_PWRITEV_RMW_TAIL);
        if ((r = read_block(n, last, &tb, errp)) < 0)
            goto out;
        io_event(n, STRATA_EV_PWRITEV_RMW_AFTER_TAIL);
    }

    io_event(n, STRATA_EV_PWRITEV);
    unsigned eflags = flags & STRATA_REQ_FUA;
    uint64_t mid_start = off, mid_end = end;
    if (head || merged) {
        uint64_t n1 = (merged ? end : first + a) - off;
        if (op == IO_WRITE)
            memcpy(hb.p + head, buf, n1);
        else
            memset(hb.p + head, 0, n1);
        if ((r = drv_io(n, IO_WRITE, first, block_span(n, first), hb.p, eflags, errp)) < 0)
            goto out;
        mid_start = off + n1;
    }
    if (tail && !merged)
        mid_end = last;
    if (mid_end > mid_start) {
        r = split_io(n, op, mid_start, mid_end - mid_start,
                     op == IO_WRITE ? (void *)(buf + (mid_start - off)) : NULL, flags, errp);
        if (r < 0)
            goto out;
    }
    if (tail && !merged) {
        if (op == IO_WRITE)
            memcpy(tb.p, buf + (last - off), tail);
        else
            memset(tb.p, 0, tail);
        if ((r = drv_io(n, IO_WRITE, last, block_span(n, last), tb.p, eflags, errp)) < 0)
            goto out;
    }
    io_event(n, STRATA_EV_PWRITEV_DONE);
out:
    block_buf_free(&hb);
    block_buf_free(&tb);
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
    if (op == IO_READ)
        return aligned ? split_io(n, op, off, len, buf, flags, errp)
                       : unaligned_read(n, off, len, buf, flags, errp);

    /* Byte-granular nodes have no read-modify-write to keep apart. */
    struct strata_track t;
    if (a > 1) {
        pthread_rwlock_rdlock(&n->rmw_lock);
        strata_track_begin(n, &t, off - head, tail ? end - tail + a : end, !aligned);
    }
    if (aligned) {
        io_event(n, op == IO_ZERO ? STRATA_EV_PWRITEV_ZERO : STRATA_EV_PWRITEV);
        r = split_io(n, op, off, len, buf, flags, errp);
        if (r == 0)
            io_event(n, STRATA_EV_PWRITEV_DONE);
    } else {
        r = rmw_write(n, op, off, len, buf, flags, errp);
    }
    if (a > 1) {
        strata_track_end(n, &t);
        pthread_rwlock_unlock(&n->rmw_lock);
    }
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
    struct strata_track t;
    if (a > 1) {
        pthread_rwlock_rdlock(&node->rmw_lock);
        strata_track_begin(node, &t, off, off + len, false);
    }
    drv_lock(node);
    r = d->pwrite_compressed(node, off, len, buf, errp);
    drv_unlock(node);
    if (a > 1) {
        strata_track_end(node, &t);
        pthread_rwlock_unlock(&node->rmw_lock);
    }
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
        /* Filters pass the question on and are no layer of the chain; one
         * with an answer of its own may fail the query. */
        while (forwards(n)) {
            if (n->drv->block_status) {
                int r = strata_block_status(n, off, len, bs, errp);
                if (r < 0)
                    return r;
            }
            n = strata_node_primary_child(n);
        }
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
