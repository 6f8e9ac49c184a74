/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* resize.c - growing (with optional preallocation of the new part) and
 * shrinking an image whose tail is unused. */
#include "qcow2.h"

#include <errno.h>
#include <stdlib.h>

static int write_size(struct qcow2_state *s, uint64_t size, struct strata_error **errp)
{
    uint8_t v[8];
    store_be64(v, size);
    int r = strata_pwrite(s->file, 24, 8, v, 0, errp);
    if (r == 0)
        r = strata_flush(s->file, errp);
    if (r == 0)
        __atomic_store_n(&s->size, size, __ATOMIC_RELAXED);
    return r;
}

/* Host runs allocated by one preallocation: only these get zeros written,
 * never a cluster that was mapped before (the old last cluster holds guest
 * data below the old size). */
struct qcow2_prealloc_runs {
    uint64_t (*run)[2];         /* host offset, clusters */
    size_t n, cap;
};

static int qcow2_prealloc_note(struct qcow2_prealloc_runs *pr, uint64_t host, uint64_t n,
                               struct strata_error **errp)
{
    if (pr->n == pr->cap) {
        size_t cap = pr->cap ? 2 * pr->cap : 16;
        void *p = realloc(pr->run, cap * sizeof(*pr->run));
        if (!p)
            return strata_error_set(errp, ENOMEM, "out of memory");
        pr->run = p;
        pr->cap = cap;
    }
    pr->run[pr->n][0] = host;
    pr->run[pr->n][1] = n;
    pr->n++;
    return 0;
}

static int qcow2_preallocate_runs(struct qcow2_state *s, uint64_t from, uint64_t to,
                                  enum strata_prealloc prealloc,
                                  struct qcow2_prealloc_runs *pr, struct strata_error **errp)
{
    uint64_t csz = s->cluster_size;
    uint64_t start = from & ~(csz - 1);
    uint64_t max_end = 0;
    int r;
    for (uint64_t off = start; off < to;) {
        /* Runs of unallocated clusters get one contiguous allocation. */
        struct qcow2_l2ref e;
        r = qcow2_get_l2_entry(s, off, &e, errp);
        if (r < 0)
            return r;
        if (e.entry & (QCOW2_OFFSET_MASK | QCOW2_OFLAG_COMPRESSED)) {
            off += csz;
            continue;
        }
        /* One L2 table's clusters at a time, the table made first, as QEMU
         * lays them out. */
        uint64_t l2_span_bits = s->cluster_bits + s->l2_bits, l2_off;
        uint64_t n = 1;
        while (off + n * csz < to && n < 4096 &&
               ((off + n * csz) >> l2_span_bits) == (off >> l2_span_bits)) {
            struct qcow2_l2ref e2;
            r = qcow2_get_l2_entry(s, off + n * csz, &e2, errp);
            if (r < 0)
                return r;
            if (e2.entry & (QCOW2_OFFSET_MASK | QCOW2_OFLAG_COMPRESSED))
                break;
            n++;
        }
        uint64_t host = off;
        if (s->data == s->file) {
            r = qcow2_own_l2(s, off, &l2_off, errp);
            if (r == 0)
                r = qcow2_alloc_clusters(s, n, &host, errp);
            if (r < 0)
                return r;
            r = qcow2_prealloc_note(pr, host, n, errp);
            if (r < 0)
                return r;
            if (host + n * csz > max_end)
                max_end = host + n * csz;
        }
        for (uint64_t i = 0; i < n; i++) {
            struct qcow2_l2ref ne = { ((host + i * csz) & QCOW2_OFFSET_MASK) | QCOW2_OFLAG_COPIED,
                                      0 };
            struct qcow2_l2ref old;
            r = qcow2_get_l2_entry(s, off + i * csz, &old, errp);
            if (r < 0)
                return r;
            if (s->extended) {
                /* Subclusters keep reading as before: from the backing file
                 * or as zeros. */
                ne.bitmap = old.bitmap & 0xffffffff00000000ull;
                if (!s->backing_file)
                    ne.bitmap = 0xffffffff00000000ull;
            } else if (s->version >= 3 && (old.entry & QCOW2_OFLAG_ZERO)) {
                ne.entry |= QCOW2_OFLAG_ZERO;
            }
            r = qcow2_set_l2_entry(s, off + i * csz, &ne, errp);
            if (r < 0)
                return r;
        }
        off += n * csz;
    }
    r = qcow2_flush_all(s, errp);
    if (r < 0)
        return r;
    /* Extend the data file over the last data cluster, allocating it on
     * disk for falloc/full. */
    int64_t dl = strata_get_length(s->data);
    if (dl < 0)
        return strata_error_set(errp, (int)-dl, "%s: cannot get the file size", s->name);
    uint64_t end = (uint64_t)dl;
    if (s->data != s->file)
        end = to > end ? to : end;
    else if (max_end > end)
        end = max_end;
    if (end > (uint64_t)dl || prealloc != STRATA_PREALLOC_METADATA) {
        enum strata_prealloc fp = prealloc == STRATA_PREALLOC_METADATA ? STRATA_PREALLOC_OFF
                                                                       : prealloc;
        if (end > (uint64_t)dl) {
            r = strata_truncate(s->data, end, false, fp, errp);
            if (r < 0)
                return r;
        }
        if (fp != STRATA_PREALLOC_OFF && s->data == s->file) {
            /* New clusters inside the old file end are allocated by
             * writing zeros through the protocol. */
            for (size_t i = 0; i < pr->n; i++) {
                uint64_t h = pr->run[i][0], hend = h + pr->run[i][1] * csz;
                if (hend > (uint64_t)dl)
                    hend = (uint64_t)dl;
                if (h < hend) {
                    r = strata_pwrite_zeroes(s->data, h, hend - h, 0, errp);
                    if (r < 0)
                        return r;
                }
            }
        }
    }
    int64_t fl = strata_get_length(s->data);
    if (fl > 0)
        s->data_len = qcow2_align_up((uint64_t)fl, csz);
    return 0;
}

int qcow2_preallocate(struct qcow2_state *s, uint64_t from, uint64_t to,
                      enum strata_prealloc prealloc, struct strata_error **errp)
{
    struct qcow2_prealloc_runs pr = { 0 };
    int r = qcow2_preallocate_runs(s, from, to, prealloc, &pr, errp);
    free(pr.run);
    return r;
}

/* The grown area [old, size) must read as zeros.  Two things could show
 * through instead: data in the tail of the old last cluster, cut off by an
 * earlier shrink, and the backing file where it is longer than the old size
 * (its data there was never part of this image; QEMU zeroes it too).  Done
 * before the new size is written, so a failure leaves nothing visible.
 * Whole clusters become zero clusters on version 3; version 2 has none, so
 * qcow2_do_zero allocates them and writes zeros. */
static int qcow2_zero_grown(struct qcow2_state *s, uint64_t old, uint64_t size,
                            struct strata_error **errp)
{
    uint64_t csz = s->cluster_size;
    uint64_t zend = qcow2_align_up(old, csz);
    if (s->backing) {
        int64_t bl = strata_get_length(s->backing);
        if (bl < 0)
            return strata_error_set(errp, (int)-bl, "%s: cannot get the size of the backing "
                                    "file", s->name);
        /* Whole clusters: what lies past the backing file's end or past
         * the new size within the last cluster reads as zeros either way. */
        uint64_t bend = qcow2_align_up((uint64_t)bl, csz);
        uint64_t send = qcow2_align_up(size, csz);
        uint64_t e = bend < send ? bend : send;
        if (e > zend)
            zend = e;
    }
    if (zend <= old)
        return 0;
    return qcow2_do_zero(s, old, zend - old, 0, false, errp);
}

/* After a shrink, the file ends after its last cluster in use, as QEMU
 * leaves it; a failure only costs disk space and is a warning. */
static void trim_file(struct qcow2_state *s)
{
    int64_t flen = strata_get_length(s->file);
    if (flen <= 0)
        return;
    uint64_t c = qcow2_align_up((uint64_t)flen, s->cluster_size) >> s->cluster_bits;
    struct strata_error *err = NULL;
    while (c > 0) {
        uint64_t rc;
        if (qcow2_get_refcount(s, c - 1, &rc, &err) < 0)
            goto warn;
        if (rc)
            break;
        c--;
    }
    if ((c << s->cluster_bits) < (uint64_t)flen &&
        strata_truncate(s->file, c << s->cluster_bits, false, STRATA_PREALLOC_OFF, &err) == 0) {
        s->file_len = c << s->cluster_bits;
        s->free_hint = 0;
    }
warn:
    if (err)
        strata_warn("%s: Failed to truncate the tail of the image: %s", s->name, err->msg);
    strata_error_free(err);
}

int qcow2_truncate(struct qcow2_state *s, uint64_t size, bool exact,
                   enum strata_prealloc prealloc, struct strata_error **errp)
{
    int r;
    if (size % 512)
        return strata_error_set(errp, EINVAL, "%s: image size must be a multiple of 512 "
                                "bytes", s->name);
    if (s->incompat & QCOW2_INCOMPAT_CORRUPT)
        return strata_error_set(errp, EIO, "%s: image is marked corrupt", s->name);
    if (size == s->size)
        return 0;
    if (size < s->size) {
        if (s->nb_snapshots)
            return strata_error_set(errp, ENOTSUP, "%s: cannot shrink an image with "
                                    "internal snapshots", s->name);
        if (prealloc != STRATA_PREALLOC_OFF)
            return strata_error_set(errp, EINVAL, "%s: preallocation makes no sense when "
                                    "shrinking", s->name);
        /* Clusters wholly past the new end are dropped, as qemu-img resize
         * --shrink does; the caller asked for it explicitly. */
        uint64_t cut = qcow2_align_up(size, s->cluster_size);
        if (cut < s->size) {
            r = qcow2_do_zero(s, cut, qcow2_align_up(s->size, s->cluster_size) - cut,
                              STRATA_REQ_MAY_UNMAP, true, errp);
            if (r < 0)
                return r;
        }
        r = qcow2_prepare_write(s, errp);
        if (r == 0)
            r = qcow2_flush_all(s, errp);
        if (r == 0)
            r = write_size(s, size, errp);
        if (r == 0)
            trim_file(s);
        return r;
    }
    r = qcow2_prepare_write(s, errp);
    if (r < 0)
        return r;
    uint64_t need = qcow2_l1_size_for(s, size);
    if (need > s->l1_size) {
        r = qcow2_grow_l1(s, need, errp);
        if (r < 0)
            return r;
    }
    r = qcow2_flush_all(s, errp);
    if (r < 0)
        return r;
    uint64_t old = s->size;
    r = qcow2_zero_grown(s, old, size, errp);
    if (r < 0)
        return r;
    r = write_size(s, size, errp);
    if (r < 0)
        return r;
    /* An external data file holds each cluster at its guest offset; it
     * grows with the image, as in QEMU (preallocation grows it itself). */
    if (s->data != s->file && ((s->autoclear & QCOW2_AUTOCLEAR_DATA_RAW) ||
                               prealloc == STRATA_PREALLOC_OFF)) {
        int64_t dl = strata_get_length(s->data);
        if ((s->autoclear & QCOW2_AUTOCLEAR_DATA_RAW) || (dl >= 0 && (uint64_t)dl < size))
            r = strata_truncate(s->data, size, false, STRATA_PREALLOC_OFF, errp);
        if (r < 0)
            return r;
    }
    if (prealloc != STRATA_PREALLOC_OFF)
        r = qcow2_preallocate(s, old, size, prealloc, errp);
    return r;
}
