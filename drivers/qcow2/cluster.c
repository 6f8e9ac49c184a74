/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cluster.c - guest-to-host mapping: the L1 table (in memory) and L2 tables
 * (through the cache, a slice of l2-cache-entry-size bytes at a time), with
 * copy-on-write of L2 tables shared with snapshots. */
#include "qcow2.h"

#include <errno.h>
#include <stdlib.h>

/* The L2 table offset for guest offset `off`, validated; 0 when none. */
static int l2_table_of(struct qcow2_state *s, uint64_t off, uint64_t *l2_off,
                       struct strata_error **errp)
{
    uint64_t l1_idx = off >> (s->cluster_bits + s->l2_bits);
    *l2_off = 0;
    if (l1_idx >= s->l1_size)
        return 0;
    uint64_t t = s->l1[l1_idx] & QCOW2_OFFSET_MASK;
    if (!t)
        return 0;
    if (t & (s->cluster_size - 1))
        return strata_error_set(errp, EIO, "%s: L2 table at 0x%llx (L1 index %llu) is not "
                                "cluster aligned", s->name, (unsigned long long)t,
                                (unsigned long long)l1_idx);
    *l2_off = t;
    return 0;
}

int qcow2_l2_slice(struct qcow2_state *s, uint64_t l2_off, uint64_t k, void **slice,
                   struct strata_error **errp)
{
    return qcow2_cache_get(s, s->l2_cache, l2_off + k * s->l2_slice_size, slice, errp);
}

/* Slice k of the L2 table at l2_off, checked to lie in the file. */
static int load_l2(struct qcow2_state *s, uint64_t l2_off, uint64_t k, uint64_t guest,
                   void **table, struct strata_error **errp)
{
    if (l2_off + s->cluster_size > s->file_len) {
        int64_t flen = strata_get_length(s->file);
        if (flen >= 0)
            s->file_len = (uint64_t)flen;
        if (l2_off + s->cluster_size > s->file_len)
            return strata_error_set(errp, EIO, "%s: L2 table at 0x%llx (for guest offset "
                                    "0x%llx) points past end of file", s->name,
                                    (unsigned long long)l2_off, (unsigned long long)guest);
    }
    return qcow2_l2_slice(s, l2_off, k, table, errp);
}

/* Where guest offset `off` has its entry: the slice and the entry's byte
 * offset in it. */
static void slice_pos(const struct qcow2_state *s, uint64_t off, uint64_t *k, uint64_t *pos)
{
    uint64_t byte = ((off >> s->cluster_bits) & (s->l2_entries - 1)) * s->l2_entry_size;
    *k = byte / s->l2_slice_size;
    *pos = byte % s->l2_slice_size;
}

int qcow2_get_l2_entry(struct qcow2_state *s, uint64_t off, struct qcow2_l2ref *e,
                       struct strata_error **errp)
{
    uint64_t l2_off;
    e->entry = e->bitmap = 0;
    int r = l2_table_of(s, off, &l2_off, errp);
    if (r < 0 || !l2_off)
        return r;
    void *t;
    uint64_t k, pos;
    slice_pos(s, off, &k, &pos);
    r = load_l2(s, l2_off, k, off, &t, errp);
    if (r < 0)
        return r;
    const uint8_t *p = (const uint8_t *)t + pos;
    e->entry = load_be64(p);
    if (s->extended)
        e->bitmap = load_be64(p + 8);
    qcow2_cache_put(s->l2_cache, t);
    return 0;
}

enum qcow2_type qcow2_entry_type(const struct qcow2_state *s, const struct qcow2_l2ref *e,
                                 unsigned sc)
{
    if (e->entry & QCOW2_OFLAG_COMPRESSED)
        return QCOW2_COMPRESSED;
    if (s->extended) {
        if (e->bitmap & (1ull << (32 + sc)))
            return QCOW2_ZERO;
        if (e->bitmap & (1ull << sc))
            return QCOW2_NORMAL;
        return QCOW2_UNALLOC;
    }
    if ((e->entry & QCOW2_OFLAG_ZERO) && s->version >= 3)
        return QCOW2_ZERO;
    if ((e->entry & QCOW2_OFFSET_MASK) == 0 &&
        !(s->data != s->file && (e->entry & QCOW2_OFLAG_COPIED)))
        return QCOW2_UNALLOC;
    return QCOW2_NORMAL;
}

int qcow2_write_l1_entry(struct qcow2_state *s, uint64_t idx, struct strata_error **errp)
{
    uint8_t be[8];
    store_be64(be, s->l1[idx]);
    int r = qcow2_overlap_check(s, QCOW2_OL_ACTIVE_L1, s->l1_offset + idx * 8, 8, errp);
    if (r < 0)
        return r;
    qcow2_event(s, STRATA_EV_L1_UPDATE);
    return strata_pwrite(s->file, s->l1_offset + idx * 8, 8, be, 0, errp);
}

/* Gives guest offset `off` an L2 table of its own (refcount 1): a new one,
 * or a copy of a table shared with a snapshot. */
static int l2_allocate(struct qcow2_state *s, uint64_t off, uint64_t *l2_off,
                       struct strata_error **errp)
{
    uint64_t l1_idx = off >> (s->cluster_bits + s->l2_bits);
    uint64_t old = s->l1[l1_idx] & QCOW2_OFFSET_MASK;
    uint64_t neu;
    int r = qcow2_alloc_clusters(s, 1, &neu, errp);
    if (r < 0)
        return r;
    if (neu == 0)
        return qcow2_signal_corruption(s, errp, "Preventing invalid allocation of L2 table "
                                       "at offset 0");
    /* Refcount of the new table first, then the table, then the L1 entry;
     * with lazy refcounts too, as qemu, so that only data clusters can
     * lack their refcount after a crash. */
    r = qcow2_cache_flush(s, s->rb_cache, errp);
    if (r < 0)
        goto fail;
    r = qcow2_overlap_check(s, QCOW2_OL_ACTIVE_L2, neu, s->cluster_size, errp);
    if (r < 0)
        goto fail;
    uint64_t ss = s->l2_slice_size;
    for (uint64_t k = 0; k < s->cluster_size / ss; k++) {
        void *t;
        r = qcow2_cache_get_empty(s, s->l2_cache, neu + k * ss, &t, errp);
        if (r < 0)
            goto fail;
        if (old) {
            void *o;
            r = load_l2(s, old, k, off, &o, errp);
            if (r < 0) {
                qcow2_cache_put(s->l2_cache, t);
                goto fail;
            }
            memcpy(t, o, ss);
            qcow2_cache_put(s->l2_cache, o);
        } else {
            memset(t, 0, ss);
        }
        qcow2_event(s, STRATA_EV_L2_ALLOC_WRITE);
        r = strata_pwrite(s->file, neu + k * ss, ss, t, 0, errp);
        qcow2_cache_put(s->l2_cache, t);
        if (r < 0)
            goto fail;
    }
    qcow2_event(s, STRATA_EV_FLUSH_TO_DISK);
    r = strata_flush(s->file, errp);
    if (r < 0)
        goto fail;
    uint64_t saved = s->l1[l1_idx];
    s->l1[l1_idx] = neu | QCOW2_OFLAG_COPIED;
    r = qcow2_write_l1_entry(s, l1_idx, errp);
    if (r < 0) {
        s->l1[l1_idx] = saved;
        qcow2_cache_discard(s->l2_cache, neu, s->cluster_size);
        return r;
    }
    if (old) {
        r = qcow2_free_later(s, old, s->cluster_size, errp);
        if (r < 0)
            return r;
    }
    *l2_off = neu;
    return 0;
fail:
    qcow2_cache_discard(s->l2_cache, neu, s->cluster_size);
    return r;
}

int qcow2_own_l2(struct qcow2_state *s, uint64_t off, uint64_t *l2_off,
                 struct strata_error **errp)
{
    uint64_t l1_idx = off >> (s->cluster_bits + s->l2_bits);
    if (l1_idx >= s->l1_size) {
        int r = qcow2_grow_l1(s, l1_idx + 1, errp);
        if (r < 0)
            return r;
    }
    int r = l2_table_of(s, off, l2_off, errp);
    if (r == 0 && (!*l2_off || !(s->l1[l1_idx] & QCOW2_OFLAG_COPIED)))
        r = l2_allocate(s, off, l2_off, errp);
    return r;
}

int qcow2_prepare_l2(struct qcow2_state *s, uint64_t off, uint64_t n,
                     struct strata_error **errp)
{
    uint64_t span = 1ull << (s->cluster_bits + s->l2_bits), l2_off;
    for (uint64_t o = off; o < off + n; o = (o | (span - 1)) + 1) {
        int r = qcow2_own_l2(s, o, &l2_off, errp);
        if (r < 0)
            return r;
    }
    return 0;
}

int qcow2_set_l2_entry(struct qcow2_state *s, uint64_t off, const struct qcow2_l2ref *e,
                       struct strata_error **errp)
{
    uint64_t l2_off;
    int r = qcow2_own_l2(s, off, &l2_off, errp);
    if (r < 0)
        return r;
    void *t;
    uint64_t k, pos;
    slice_pos(s, off, &k, &pos);
    r = load_l2(s, l2_off, k, off, &t, errp);
    if (r < 0)
        return r;
    uint8_t *p = (uint8_t *)t + pos;
    store_be64(p, e->entry);
    if (s->extended)
        store_be64(p + 8, e->bitmap);
    qcow2_cache_dirty(s->l2_cache, t);
    qcow2_cache_put(s->l2_cache, t);
    return 0;
}

int qcow2_grow_l1(struct qcow2_state *s, uint64_t min_size, struct strata_error **errp)
{
    if (min_size <= s->l1_size)
        return 0;
    if (min_size * 8 > QCOW2_MAX_L1_BYTES)
        return strata_error_set(errp, EFBIG, "%s: L1 table would exceed %u bytes", s->name,
                                QCOW2_MAX_L1_BYTES);
    uint64_t bytes = qcow2_align_up(min_size * 8, s->cluster_size);
    uint64_t *nl1 = calloc(1, bytes);
    if (!nl1)
        return strata_error_set(errp, ENOMEM, "out of memory");
    uint64_t off;
    qcow2_event(s, STRATA_EV_L1_GROW_ALLOC_TABLE);
    int r = qcow2_alloc_clusters(s, bytes >> s->cluster_bits, &off, errp);
    if (r < 0)
        goto out;
    for (uint64_t i = 0; i < s->l1_size; i++)
        store_be64(&nl1[i], s->l1[i]);
    r = qcow2_cache_flush(s, s->rb_cache, errp);
    if (r < 0)
        goto out;
    r = qcow2_overlap_check(s, 0, off, min_size * 8, errp);
    if (r < 0)
        goto out;
    /* The entries only, as QEMU writes them: a new image's file then ends
     * where qemu-img's does. */
    qcow2_event(s, STRATA_EV_L1_GROW_WRITE_TABLE);
    r = strata_pwrite(s->file, off, min_size * 8, nl1, 0, errp);
    if (r == 0)
        r = strata_flush(s->file, errp);
    if (r < 0)
        goto out;
    uint8_t hv[12];
    store_be32(hv, (uint32_t)min_size);
    store_be64(hv + 4, off);
    qcow2_event(s, STRATA_EV_L1_GROW_ACTIVATE_TABLE);
    r = strata_pwrite(s->file, 36, 12, hv, 0, errp);
    if (r == 0)
        r = strata_flush(s->file, errp);
    if (r < 0)
        goto out;
    uint64_t old = s->l1_offset, old_bytes = qcow2_align_up((uint64_t)s->l1_size * 8,
                                                            s->cluster_size);
    for (uint64_t i = 0; i < bytes / 8; i++)
        nl1[i] = load_be64(&nl1[i]);
    free(s->l1);
    s->l1 = nl1;
    nl1 = NULL;
    bool had = s->l1_size > 0;
    s->l1_offset = off;
    s->l1_size = (uint32_t)min_size;
    if (had)
        r = qcow2_update_refcount(s, old, old_bytes, -1, errp);
out:
    free(nl1);
    return r;
}
