/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* status.c - block status for map and convert, and the format-specific
 * fields of info, named as qemu-img names them. */
#include "qcow2.h"

#include <errno.h>
#include <stdlib.h>

/* Does an entry of type t give its data a host offset? */
static bool entry_host(const struct qcow2_state *s, const struct qcow2_l2ref *e,
                       enum qcow2_type t)
{
    return t == QCOW2_NORMAL ||
           (t == QCOW2_ZERO && !s->extended && (e->entry & QCOW2_OFFSET_MASK));
}

/* Was the image made with metadata preallocation (clusters mapped but never
 * written)?  Then far more clusters are in use than the file has space
 * for, and whether a data cluster reads as zeros is the file's to say, as
 * QEMU judges it.  Decided once, on the first block status (meta held). */
static bool meta_preallocated(struct qcow2_state *s)
{
    if (s->meta_prealloc >= 0)
        return s->meta_prealloc;
    s->meta_prealloc = 0;
    int64_t flen = strata_get_length(s->file);
    int64_t used = strata_get_allocated_size(s->file);
    if (flen < 0 || used < 0)
        return false;
    uint64_t real = (uint64_t)used >> s->cluster_bits;
    uint64_t threshold = real * 10 / 9 > real + 2 ? real * 10 / 9 : real + 2;
    uint64_t end = qcow2_align_up((uint64_t)flen, s->cluster_size) >> s->cluster_bits;
    uint64_t count = 0;
    for (uint64_t c = 0; c < end && count <= threshold; c++) {
        uint64_t rc;
        if (qcow2_get_refcount(s, c, &rc, NULL) < 0)
            return false;
        count += rc != 0;
    }
    s->meta_prealloc = count > threshold;
    return s->meta_prealloc;
}

int qcow2_block_status(struct qcow2_state *s, uint64_t off, uint64_t len,
                       struct strata_block_status *bs, struct strata_error **errp)
{
    uint64_t csz = s->cluster_size, scsz = 1ull << s->sc_bits;
    struct qcow2_l2ref e;
    int r = qcow2_get_l2_entry(s, off, &e, errp);
    if (r < 0)
        return r;
    uint64_t cstart = off & ~(csz - 1), in = off - cstart;
    enum qcow2_type t = qcow2_entry_type(s, &e, (unsigned)(in >> s->sc_bits));
    uint64_t host = (s->data != s->file ? cstart : e.entry & QCOW2_OFFSET_MASK);
    bool has_host = entry_host(s, &e, t);
    uint64_t base = host - cstart;      /* host = guest + base within the run */
    uint64_t n = 0;
    uint64_t cur = off;
    while (n < len) {
        uint64_t cs = cur & ~(csz - 1);
        if (cs != cstart) {
            if (t == QCOW2_COMPRESSED)
                break;
            r = qcow2_get_l2_entry(s, cs, &e, errp);
            if (r < 0)
                return r;
            cstart = cs;
        }
        unsigned sc = (unsigned)((cur - cstart) >> s->sc_bits);
        /* A zero cluster that keeps its host cluster is another run than
         * one that does not (map shows the offset of the first). */
        if (qcow2_entry_type(s, &e, sc) != t || entry_host(s, &e, t) != has_host)
            break;
        if (has_host) {
            uint64_t h = s->data != s->file ? cstart : e.entry & QCOW2_OFFSET_MASK;
            if (h - cstart != base)
                break;
        }
        uint64_t step = ((cur & ~(scsz - 1)) + scsz) - cur;
        cur += step;
        n += step;
        if (n >= (64ull << 20) && t != QCOW2_UNALLOC)
            break;
    }
    if (n > len)
        n = len;
    bs->pnum = n;
    switch (t) {
    case QCOW2_UNALLOC:
        bs->flags = 0;
        break;
    case QCOW2_ZERO:
        bs->flags = STRATA_BS_ALLOCATED | STRATA_BS_ZERO;
        break;
    case QCOW2_NORMAL:
        bs->flags = STRATA_BS_ALLOCATED | STRATA_BS_DATA;
        break;
    case QCOW2_COMPRESSED:
        bs->flags = STRATA_BS_ALLOCATED | STRATA_BS_DATA | STRATA_BS_COMPRESSED;
        break;
    }
    if (has_host && !s->crypt_method) {
        bs->flags |= STRATA_BS_OFFSET_VALID;
        bs->offset = off + base;
        bs->file = s->data;
        if (t == QCOW2_NORMAL && meta_preallocated(s))
            bs->flags |= STRATA_BS_RECURSE;
    }
    return 0;
}

int qcow2_get_info(struct qcow2_state *s, struct strata_info *obj, struct strata_error **errp)
{
    /* Image-level facts under driver.h's reserved keys; the tools lift them
     * out of the format-specific data. */
    strata_info_add_int(obj, "cluster-size", (int64_t)s->cluster_size);
    strata_info_add_int(obj, "vm-state-offset", (int64_t)qcow2_vm_state_offset(s));
    strata_info_add_bool(obj, "encrypted", s->crypt_method != QCOW2_CRYPT_NONE);
    strata_info_add_bool(obj, "dirty-flag", s->incompat & QCOW2_INCOMPAT_DIRTY);
    if (s->backing_file) {
        strata_info_add_str(obj, "backing-filename", s->backing_file);
        if (s->backing_fmt)
            strata_info_add_str(obj, "backing-filename-format", s->backing_fmt);
    }
    if (s->nb_snapshots) {
        int r = qcow2_snapshot_list(s, strata_info_add_list(obj, "snapshots"), errp);
        if (r < 0)
            return r;
    }
    strata_info_add_str(obj, "compat", s->version == 2 ? "0.10" : "1.1");
    strata_info_add_str(obj, "compression-type",
                        s->compression_type == QCOW2_COMPRESS_ZSTD ? "zstd" : "zlib");
    if (s->version >= 3)
        strata_info_add_bool(obj, "lazy-refcounts", s->compat & QCOW2_COMPAT_LAZY);
    if (s->has_bitmaps_ext && (s->autoclear & QCOW2_AUTOCLEAR_BITMAPS))
        strata_info_add_list(obj, "bitmaps");
    strata_info_add_int(obj, "refcount-bits", s->refcount_bits);
    if (s->crypt_method) {
        struct strata_info *enc = strata_info_add_object(obj, "encrypt");
        if (s->crypt_method == QCOW2_CRYPT_AES) {
            strata_info_add_str(enc, "format", "aes");
        } else {
            strata_info_add_str(enc, "format", "luks");
            int r = qcow2_crypto_info(s, enc, errp);
            if (r < 0)
                return r;
        }
    }
    if (s->version >= 3) {
        strata_info_add_bool(obj, "corrupt", s->incompat & QCOW2_INCOMPAT_CORRUPT);
        strata_info_add_bool(obj, "extended-l2", s->extended);
    }
    if (s->data_file_name || s->data != s->file) {
        strata_info_add_str(obj, "data-file", s->data_file_name ? s->data_file_name
                                              : strata_node_filename(s->data));
        strata_info_add_bool(obj, "data-file-raw", s->autoclear & QCOW2_AUTOCLEAR_DATA_RAW);
    }
    return 0;
}
