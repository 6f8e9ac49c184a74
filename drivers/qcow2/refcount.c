/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* refcount.c - reference counts: the refcount table (kept in memory),
 * refcount blocks (through the cache), cluster allocation and freeing, and
 * the flush of all cached metadata in the order the refcounts need.
 *
 * New refcount blocks are placed, when possible, inside the range they
 * describe, so that they count themselves; the refcount table grows by
 * writing a complete new table (with any new blocks it needs right after
 * it) before the header is switched to it, so a crash leaves the old, valid
 * structure and at worst leaked clusters. */
#include "qcow2.h"

#include <errno.h>
#include <stdlib.h>

static int grow_refcount_table(struct qcow2_state *s, uint64_t min_entries,
                               struct strata_error **errp);

uint64_t qcow2_rb_get(const struct qcow2_state *s, const void *block, uint64_t idx)
{
    const uint8_t *b = block;
    switch (s->refcount_order) {
    case 0: case 1: case 2: {
        unsigned bits = s->refcount_bits;
        uint64_t bit = idx * bits;
        return (b[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
    }
    case 3: return b[idx];
    case 4: return load_be16(b + idx * 2);
    case 5: return load_be32(b + idx * 4);
    default: return load_be64(b + idx * 8);
    }
}

void qcow2_rb_store(uint32_t order, void *block, uint64_t idx, uint64_t v)
{
    uint8_t *b = block;
    switch (order) {
    case 0: case 1: case 2: {
        unsigned bits = 1u << order;
        uint64_t bit = idx * bits;
        uint8_t mask = (uint8_t)(((1u << bits) - 1) << (bit % 8));
        b[bit / 8] = (uint8_t)((b[bit / 8] & ~mask) | ((v << (bit % 8)) & mask));
        break;
    }
    case 3: b[idx] = (uint8_t)v; break;
    case 4: store_be16(b + idx * 2, (uint16_t)v); break;
    case 5: store_be32(b + idx * 4, (uint32_t)v); break;
    default: store_be64(b + idx * 8, v); break;
    }
}

void qcow2_rb_set(const struct qcow2_state *s, void *block, uint64_t idx, uint64_t v)
{
    qcow2_rb_store(s->refcount_order, block, idx, v);
}

int qcow2_load_refcount_table(struct qcow2_state *s, struct strata_error **errp)
{
    uint64_t bytes = (uint64_t)s->rt_clusters * s->cluster_size;
    s->rt_entries = bytes / 8;
    free(s->rt);
    s->rt = malloc(bytes);
    if (!s->rt)
        return strata_error_set(errp, ENOMEM, "out of memory");
    qcow2_event(s, STRATA_EV_REFTABLE_LOAD);
    int r = strata_pread(s->file, s->rt_offset, bytes, s->rt, 0, errp);
    if (r < 0)
        return r;
    for (uint64_t i = 0; i < s->rt_entries; i++)
        s->rt[i] = load_be64(&s->rt[i]);
    return 0;
}

const char *qcow2_refblock_problem(const struct qcow2_state *s, uint64_t off,
                                   uint64_t file_len)
{
    uint64_t csz = s->cluster_size;
    if (off & (csz - 1))
        return "is not cluster aligned";
    if ((off & ~QCOW2_OFFSET_MASK) || off >= qcow2_align_up(file_len, csz))
        return "points past the end of the file";
    if (off < csz)
        return "overlaps the header";
    if (off >= s->rt_offset && off - s->rt_offset < (uint64_t)s->rt_clusters * csz)
        return "overlaps the refcount table";
    if (s->l1_size && off < s->l1_offset + (uint64_t)s->l1_size * 8 && s->l1_offset < off + csz)
        return "overlaps the L1 table";
    return NULL;
}

/* The refcount block of `cluster`, or NULL (*block) when it has none.  A
 * block that cannot be one is an error: it would read as zeros (everything
 * free, so the header or the tables would be handed out as new clusters),
 * and writing it back would land on other metadata or far past the end. */
static int get_block(struct qcow2_state *s, uint64_t cluster, void **block,
                     struct strata_error **errp)
{
    uint64_t idx = cluster >> s->rb_bits;
    *block = NULL;
    if (idx >= s->rt_entries || s->rt[idx] == 0)
        return 0;
    uint64_t off = s->rt[idx];
    const char *why = qcow2_refblock_problem(s, off, s->file_len);
    if (why && off >= s->file_len) {
        /* The file may have grown since it was last measured. */
        int64_t flen = strata_get_length(s->file);
        if (flen >= 0)
            s->file_len = (uint64_t)flen;
        why = qcow2_refblock_problem(s, off, s->file_len);
    }
    if (why && (off & (s->cluster_size - 1)) && s->rw && !s->in_check)
        return qcow2_signal_corruption(s, errp, "Refblock offset %#llx unaligned (reftable "
                                       "index: %#llx)", (unsigned long long)off,
                                       (unsigned long long)idx);
    if (why)
        return strata_error_set(errp, EIO, "%s: refcount block %llu at 0x%llx %s", s->name,
                                (unsigned long long)idx, (unsigned long long)off, why);
    qcow2_event(s, STRATA_EV_REFBLOCK_LOAD);
    return qcow2_cache_get(s, s->rb_cache, off, block, errp);
}

int qcow2_get_refcount(struct qcow2_state *s, uint64_t cluster, uint64_t *rc,
                       struct strata_error **errp)
{
    void *b;
    int r = get_block(s, cluster, &b, errp);
    if (r < 0)
        return r;
    *rc = b ? qcow2_rb_get(s, b, cluster & ((1ull << s->rb_bits) - 1)) : 0;
    qcow2_cache_put(s->rb_cache, b);
    return 0;
}

int qcow2_get_refcounts(struct qcow2_state *s, uint64_t first, uint64_t n, uint64_t *rc,
                        struct strata_error **errp)
{
    void *b;
    int r = get_block(s, first, &b, errp);
    if (r < 0)
        return r;
    uint64_t mask = (1ull << s->rb_bits) - 1;
    for (uint64_t i = 0; i < n; i++)
        rc[i] = b ? qcow2_rb_get(s, b, (first + i) & mask) : 0;
    qcow2_cache_put(s->rb_cache, b);
    return 0;
}

/* First run of n free clusters at or after the hint. */
static int find_free(struct qcow2_state *s, uint64_t n, uint64_t *out,
                     struct strata_error **errp)
{
    uint64_t start = s->free_hint, run = 0;
    bool first_seen = false;
    for (uint64_t c = s->free_hint;; c++) {
        uint64_t rc;
        /* Whole missing refcount blocks are free without a lookup. */
        uint64_t idx = c >> s->rb_bits;
        if (idx >= s->rt_entries || s->rt[idx] == 0) {
            rc = 0;
        } else {
            int r = qcow2_get_refcount(s, c, &rc, errp);
            if (r < 0)
                return r;
        }
        if (rc == 0) {
            if (!first_seen) {
                s->free_hint = c;
                first_seen = true;
            }
            if (run == 0)
                start = c;
            if (++run == n) {
                *out = start;
                return 0;
            }
        } else {
            run = 0;
        }
        if (c > (QCOW2_OFFSET_MASK >> s->cluster_bits))
            return strata_error_set(errp, ENOSPC, "%s: no free clusters left", s->name);
    }
}

/* Creates refcount block number idx. */
static int alloc_refblock(struct qcow2_state *s, uint64_t idx, int depth,
                          struct strata_error **errp)
{
    int r;
    if (depth > 8)
        return strata_error_set(errp, EIO, "%s: cannot place a refcount block", s->name);
    if (idx >= s->rt_entries) {
        r = grow_refcount_table(s, idx + 1, errp);
        if (r < 0)
            return r;
        if (s->rt[idx])
            return 0;
    }
    qcow2_event(s, STRATA_EV_REFBLOCK_ALLOC);
    uint64_t c;
    r = find_free(s, 1, &c, errp);
    if (r < 0)
        return r;
    s->free_hint = c + 1;
    uint64_t off = c << s->cluster_bits;
    uint8_t *blk = calloc(1, s->cluster_size);
    if (!blk)
        return strata_error_set(errp, ENOMEM, "out of memory");
    bool self = (c >> s->rb_bits) == idx;
    if (self)
        qcow2_rb_set(s, blk, c & ((1ull << s->rb_bits) - 1), 1);
    r = qcow2_overlap_check(s, QCOW2_OL_REFCOUNT_BLOCK, off, s->cluster_size, errp);
    if (r < 0) {
        free(blk);
        return r;
    }
    qcow2_event(s, STRATA_EV_REFBLOCK_ALLOC_WRITE);
    r = strata_pwrite(s->file, off, s->cluster_size, blk, 0, errp);
    free(blk);
    if (r < 0)
        return r;
    if (!self) {
        /* Counted by another block, which may itself need creating. */
        uint64_t oidx = c >> s->rb_bits;
        if (oidx >= s->rt_entries || s->rt[oidx] == 0) {
            r = alloc_refblock(s, oidx, depth + 1, errp);
            if (r < 0)
                return r;
        }
        r = qcow2_update_refcount(s, off, 1, 1, errp);
        if (r < 0)
            return r;
        r = qcow2_cache_flush(s, s->rb_cache, errp);
        if (r < 0)
            return r;
    }
    if (idx >= s->rt_entries)
        return strata_error_set(errp, EIO, "%s: refcount table too small", s->name);
    /* The block is on disk before the table points at it. */
    qcow2_event(s, STRATA_EV_FLUSH_TO_DISK);
    r = strata_flush(s->file, errp);
    if (r < 0)
        return r;
    uint8_t be[8];
    store_be64(be, off);
    r = qcow2_overlap_check(s, QCOW2_OL_REFCOUNT_TABLE, s->rt_offset + idx * 8, 8, errp);
    if (r < 0)
        return r;
    qcow2_event(s, STRATA_EV_REFBLOCK_ALLOC_HOOKUP);
    r = strata_pwrite(s->file, s->rt_offset + idx * 8, 8, be, 0, errp);
    if (r < 0)
        return r;
    s->rt[idx] = off;
    return 0;
}

static int grow_refcount_table(struct qcow2_state *s, uint64_t min_entries,
                               struct strata_error **errp)
{
    uint64_t csz = s->cluster_size, per = csz / 8;
    uint64_t want = s->rt_entries + s->rt_entries / 2;
    if (want < min_entries)
        want = min_entries;
    uint64_t n = (want + per - 1) / per;            /* table clusters */
    if (n * csz > QCOW2_MAX_RT_BYTES)
        return strata_error_set(errp, EFBIG, "%s: refcount table would exceed %u bytes",
                                s->name, QCOW2_MAX_RT_BYTES);
    qcow2_event(s, STRATA_EV_REFTABLE_GROW);
    uint64_t start;
    int r = find_free(s, n, &start, errp);
    if (r < 0)
        return r;
    /* New blocks go right after the new table; find how many are needed to
     * cover the table and themselves. */
    uint64_t k = 0;
    for (;;) {
        uint64_t end = start + n + k, need = 0;
        for (uint64_t i = start >> s->rb_bits; i <= (end - 1) >> s->rb_bits; i++)
            if (i >= s->rt_entries || s->rt[i] == 0)
                need++;
        if (need == k)
            break;
        k = need;
    }
    uint64_t end = start + n + k;
    uint64_t entries = n * per;
    if (((end - 1) >> s->rb_bits) >= entries)
        return strata_error_set(errp, EFBIG, "%s: refcount table growth does not converge",
                                s->name);
    /* Every cluster of [start, end) must be free: the run after the table
     * was not checked by find_free. */
    for (uint64_t c = start + n; c < end; c++) {
        uint64_t rc;
        r = qcow2_get_refcount(s, c, &rc, errp);
        if (r < 0)
            return r;
        if (rc)
            return strata_error_set(errp, EIO, "%s: cannot place the new refcount table",
                                    s->name);
    }
    uint64_t *nt = calloc(entries, 8);
    uint8_t *blk = malloc(csz);
    if (!nt || !blk) {
        free(nt);
        free(blk);
        return strata_error_set(errp, ENOMEM, "out of memory");
    }
    memcpy(nt, s->rt, s->rt_entries * 8);
    uint64_t next_blk = start + n;
    for (uint64_t i = start >> s->rb_bits; i <= (end - 1) >> s->rb_bits; i++) {
        uint64_t first = i << s->rb_bits, last = first + (1ull << s->rb_bits);
        uint64_t lo = first > start ? first : start, hi = last < end ? last : end;
        if (i < s->rt_entries && s->rt[i]) {
            for (uint64_t c = lo; c < hi; c++) {
                r = qcow2_update_refcount(s, c << s->cluster_bits, 1, 1, errp);
                if (r < 0)
                    goto out;
            }
            continue;
        }
        memset(blk, 0, csz);
        for (uint64_t c = lo; c < hi; c++)
            qcow2_rb_set(s, blk, c - first, 1);
        nt[i] = next_blk << s->cluster_bits;
        qcow2_event(s, STRATA_EV_REFBLOCK_ALLOC_WRITE_BLOCKS);
        r = strata_pwrite(s->file, nt[i], csz, blk, 0, errp);
        if (r < 0)
            goto out;
        next_blk++;
    }
    r = qcow2_cache_flush(s, s->rb_cache, errp);
    if (r < 0)
        goto out;
    for (uint64_t i = 0; i < entries; i++)
        store_be64(&nt[i], nt[i]);
    qcow2_event(s, STRATA_EV_REFBLOCK_ALLOC_WRITE_TABLE);
    r = strata_pwrite(s->file, start << s->cluster_bits, n * csz, nt, 0, errp);
    if (r == 0)
        r = strata_flush(s->file, errp);
    if (r < 0)
        goto out;
    uint8_t hv[12];
    store_be64(hv, start << s->cluster_bits);
    store_be32(hv + 8, (uint32_t)n);
    qcow2_event(s, STRATA_EV_REFBLOCK_ALLOC_SWITCH_TABLE);
    r = strata_pwrite(s->file, 48, 12, hv, 0, errp);
    if (r == 0)
        r = strata_flush(s->file, errp);
    if (r < 0)
        goto out;
    uint64_t old_off = s->rt_offset, old_bytes = (uint64_t)s->rt_clusters * csz;
    for (uint64_t i = 0; i < entries; i++)
        nt[i] = load_be64(&nt[i]);
    free(s->rt);
    s->rt = nt;
    nt = NULL;
    s->rt_entries = entries;
    s->rt_offset = start << s->cluster_bits;
    s->rt_clusters = (uint32_t)n;
    if (s->free_hint < end)
        s->free_hint = end;
    r = qcow2_update_refcount(s, old_off, old_bytes, -1, errp);
out:
    free(nt);
    free(blk);
    return r;
}

int qcow2_update_refcount(struct qcow2_state *s, uint64_t offset, uint64_t len,
                          int64_t addend, struct strata_error **errp)
{
    if (len == 0)
        return 0;
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + len - 1) >> s->cluster_bits;
    uint64_t mask = (1ull << s->rb_bits) - 1;
    for (uint64_t c = first; c <= last;) {
        uint64_t idx = c >> s->rb_bits;
        int r;
        if (idx >= s->rt_entries || s->rt[idx] == 0) {
            if (addend < 0)
                return strata_error_set(errp, EIO, "%s: refcount of cluster %llu would "
                                        "drop below zero", s->name, (unsigned long long)c);
            r = alloc_refblock(s, idx, 0, errp);
            if (r < 0)
                return r;
        }
        void *b;
        r = get_block(s, c, &b, errp);
        if (r < 0)
            return r;
        uint64_t stop = ((idx + 1) << s->rb_bits) - 1;
        if (stop > last)
            stop = last;
        for (; c <= stop; c++) {
            uint64_t v = qcow2_rb_get(s, b, c & mask), nv = v + (uint64_t)addend;
            if (addend < 0 && v < (uint64_t)-addend) {
                qcow2_cache_put(s->rb_cache, b);
                return strata_error_set(errp, EIO, "%s: refcount of cluster %llu would "
                                        "drop below zero", s->name, (unsigned long long)c);
            }
            if (addend > 0 && (nv > s->refcount_max || nv < v)) {
                qcow2_cache_put(s->rb_cache, b);
                return strata_error_set(errp, ERANGE, "%s: refcount of cluster %llu would "
                                        "exceed %llu", s->name, (unsigned long long)c,
                                        (unsigned long long)s->refcount_max);
            }
            qcow2_rb_set(s, b, c & mask, nv);
            if (nv == 0) {
                qcow2_cache_discard(s->l2_cache, c << s->cluster_bits, s->cluster_size);
                if (c < s->free_hint)
                    s->free_hint = c;
                /* The cluster compressed data was being packed into is
                 * free now and may be allocated whole next: pack no more
                 * into it. */
                if ((s->free_byte & (s->cluster_size - 1)) &&
                    s->free_byte >> s->cluster_bits == c)
                    s->free_byte = 0;
            }
        }
        qcow2_cache_dirty(s->rb_cache, b);
        qcow2_cache_put(s->rb_cache, b);
    }
    return 0;
}

int qcow2_set_refcount(struct qcow2_state *s, uint64_t cluster, uint64_t v,
                       struct strata_error **errp)
{
    uint64_t idx = cluster >> s->rb_bits;
    int r;
    if (idx >= s->rt_entries || s->rt[idx] == 0) {
        if (v == 0)
            return 0;
        r = alloc_refblock(s, idx, 0, errp);
        if (r < 0)
            return r;
    }
    void *b;
    r = get_block(s, cluster, &b, errp);
    if (r < 0)
        return r;
    if (v > s->refcount_max)
        v = s->refcount_max;
    qcow2_rb_set(s, b, cluster & ((1ull << s->rb_bits) - 1), v);
    qcow2_cache_dirty(s->rb_cache, b);
    qcow2_cache_put(s->rb_cache, b);
    if (v == 0 && cluster < s->free_hint)
        s->free_hint = cluster;
    return 0;
}

int qcow2_alloc_clusters(struct qcow2_state *s, uint64_t n, uint64_t *offset,
                         struct strata_error **errp)
{
    uint64_t c;
    qcow2_event(s, STRATA_EV_CLUSTER_ALLOC);
    int r;
    for (;;) {
        r = find_free(s, n, &c, errp);
        if (r < 0)
            return r;
        /* Refcount blocks the range needs come first: placing one may take
         * the very clusters just found. */
        bool missing = false;
        for (uint64_t i = c >> s->rb_bits; i <= (c + n - 1) >> s->rb_bits && !missing; i++) {
            if (i >= s->rt_entries || s->rt[i] == 0) {
                /* As QEMU: the block goes after the range, which stays
                 * free for what it was found for. */
                uint64_t hint = s->free_hint;
                s->free_hint = c + n;
                r = alloc_refblock(s, i, 0, errp);
                s->free_hint = hint;
                if (r < 0)
                    return r;
                missing = true;
            }
        }
        if (!missing)
            break;
    }
    r = qcow2_update_refcount(s, c << s->cluster_bits, n << s->cluster_bits, 1, errp);
    if (r < 0)
        return r;
    if (s->free_hint == c)
        s->free_hint = c + n;
    *offset = c << s->cluster_bits;
    return 0;
}

int qcow2_alloc_bytes(struct qcow2_state *s, uint64_t bytes, uint64_t *offset,
                      struct strata_error **errp)
{
    uint64_t csz = s->cluster_size;
    uint64_t fb = s->free_byte;
    int r;
    if (fb && (fb & (csz - 1)) && (csz - (fb & (csz - 1))) >= bytes) {
        r = qcow2_update_refcount(s, fb, 1, 1, errp);
        if (r < 0)
            return r;
        *offset = fb;
    } else {
        uint64_t n = (bytes + csz - 1) / csz;
        r = qcow2_alloc_clusters(s, n, offset, errp);
        if (r < 0)
            return r;
    }
    s->free_byte = *offset + bytes;
    return 0;
}

int qcow2_free_later(struct qcow2_state *s, uint64_t offset, uint64_t len,
                     struct strata_error **errp)
{
    if (s->npending + 2 > s->cap_pending) {
        size_t cap = s->cap_pending ? s->cap_pending * 2 : 64;
        uint64_t *p = realloc(s->pending_free, cap * sizeof *p);
        if (!p)
            return strata_error_set(errp, ENOMEM, "out of memory");
        s->pending_free = p;
        s->cap_pending = cap;
    }
    s->pending_free[s->npending++] = offset;
    s->pending_free[s->npending++] =
        len | (s->pass_discard || s->discard_other ? QCOW2_FREE_DISCARD : 0);
    return 0;
}

/* Gives the file back the space of the clusters in [off, off+len) that
 * are free now (meta held, so none can be allocated again before). */
void qcow2_discard_freed(struct qcow2_state *s, uint64_t off, uint64_t len)
{
    uint64_t csz = s->cluster_size;
    uint64_t c = qcow2_align_up(off, csz) >> s->cluster_bits;
    uint64_t end = (off + len) >> s->cluster_bits, run = 0;
    for (; c <= end; c++) {
        uint64_t rc = 1;
        if (c < end && qcow2_get_refcount(s, c, &rc, NULL) < 0)
            rc = 1;
        if (rc == 0) {
            run++;
            continue;
        }
        if (run)
            strata_pdiscard(s->file, (c - run) << s->cluster_bits, run << s->cluster_bits, NULL);
        run = 0;
    }
}

int qcow2_free_entry_later(struct qcow2_state *s, uint64_t entry,
                           struct strata_error **errp)
{
    if (entry & QCOW2_OFLAG_COMPRESSED) {
        uint64_t host, nbytes;
        qcow2_compressed_loc(s, entry, &host, &nbytes);
        uint64_t start = host & ~511ull;
        return qcow2_free_later(s, start, qcow2_align_up(host + nbytes, 512) - start, errp);
    }
    uint64_t host = entry & QCOW2_OFFSET_MASK;
    if (!host || s->data != s->file)
        return 0;
    return qcow2_free_later(s, host, s->cluster_size, errp);
}

int qcow2_apply_pending_frees(struct qcow2_state *s, struct strata_error **errp)
{
    if (s->npending == 0)
        return 0;
    /* The pointers are gone on disk before the clusters can be reused. */
    int r = qcow2_cache_flush(s, s->l2_cache, errp);
    if (r < 0)
        return r;
    for (size_t i = 0; i < s->npending; i += 2) {
        uint64_t off = s->pending_free[i], len = s->pending_free[i + 1] & ~QCOW2_FREE_DISCARD;
        qcow2_event(s, STRATA_EV_CLUSTER_FREE);
        r = qcow2_update_refcount(s, off, len, -1, errp);
        if (r < 0) {
            /* What is left stays leaked; check reclaims it. */
            s->npending = 0;
            return r;
        }
        if (s->pending_free[i + 1] & QCOW2_FREE_DISCARD)
            qcow2_discard_freed(s, off, len);
    }
    s->npending = 0;
    return 0;
}

int qcow2_flush_all(struct qcow2_state *s, struct strata_error **errp)
{
    int r = qcow2_apply_pending_frees(s, errp);
    if (r == 0)
        r = qcow2_cache_flush(s, s->rb_cache, errp);
    if (r == 0)
        r = qcow2_cache_flush(s, s->l2_cache, errp);
    return r;
}

int qcow2_flush_guest(struct qcow2_state *s, struct strata_error **errp)
{
    /* The dirty bit on disk says the refcounts may lag; as in qemu, a
     * guest's flush then leaves them in the cache, which is what lazy
     * refcounts save.  Close, check and every metadata change still write
     * them through qcow2_flush_all. */
    if (!(s->lazy && s->dirty_set))
        return qcow2_flush_all(s, errp);
    int r = qcow2_apply_pending_frees(s, errp);
    if (r == 0)
        r = qcow2_cache_flush(s, s->l2_cache, errp);
    return r;
}
