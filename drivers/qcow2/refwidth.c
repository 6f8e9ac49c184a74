/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* refwidth.c - changing the width of the refcounts (amend refcount_bits).
 *
 * A complete new refcount table and blocks of the new width are written
 * after everything the image uses, and one header write switches to them.
 * A crash before that write leaves the old structures in charge (the new
 * ones are unreferenced clusters past what the old blocks count); after
 * it, the old table and blocks are clusters with a refcount of 0. */
#include "qcow2.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

/* Clusters that carry a refcount: the file, and any counted past its end
 * (an external data file's clusters, or leaks). */
static int counted_clusters(struct qcow2_state *s, uint64_t *np, struct strata_error **errp)
{
    int64_t flen = strata_get_length(s->file);
    if (flen < 0)
        return strata_error_set(errp, (int)-flen, "%s: cannot get the file size", s->name);
    uint64_t n = qcow2_align_up((uint64_t)flen, s->cluster_size) >> s->cluster_bits;
    uint64_t per = 1ull << s->rb_bits;
    for (uint64_t i = s->rt_entries; i-- > 0 && (i + 1) * per > n;) {
        if (!s->rt[i])
            continue;
        for (uint64_t c = (i + 1) * per; c-- > i * per && c >= n;) {
            uint64_t rc;
            int r = qcow2_get_refcount(s, c, &rc, errp);
            if (r < 0)
                return r;
            if (rc) {
                n = c + 1;
                break;
            }
        }
    }
    *np = n;
    return 0;
}

/* Every cluster's refcount as it will be once the old structures are gone:
 * theirs dropped, the new ones' not yet added. */
static int read_counts(struct qcow2_state *s, uint64_t n, uint64_t *counts,
                       struct strata_error **errp)
{
    for (uint64_t c = 0; c < n; c++) {
        int r = qcow2_get_refcount(s, c, &counts[c], errp);
        if (r < 0)
            return r;
    }
    uint64_t rt_first = s->rt_offset >> s->cluster_bits;
    for (uint64_t c = rt_first; c < rt_first + s->rt_clusters && c < n; c++)
        if (counts[c])
            counts[c]--;
    for (uint64_t i = 0; i < s->rt_entries; i++) {
        uint64_t c = s->rt[i] >> s->cluster_bits;
        if (s->rt[i] && c < n && counts[c])
            counts[c]--;
    }
    return 0;
}

/* Writes nb blocks and a table of nt clusters from cluster `start` on,
 * counting counts[0..total); then makes them stable. */
static int write_structures(struct qcow2_state *s, uint32_t order, const uint64_t *counts,
                            uint64_t total, uint64_t start, uint64_t nb, uint64_t nt,
                            struct strata_error **errp)
{
    uint64_t csz = s->cluster_size;
    uint64_t per = 1ull << (s->cluster_bits + 3 - order);
    uint8_t *buf = calloc(1, csz);
    uint8_t *table = calloc(nt, csz);
    int r = 0;
    if (!buf || !table) {
        r = strata_error_set(errp, ENOMEM, "%s: out of memory", s->name);
        goto out;
    }
    for (uint64_t b = 0; b < nb && r == 0; b++) {
        memset(buf, 0, csz);
        for (uint64_t j = 0; j < per && b * per + j < total; j++)
            qcow2_rb_store(order, buf, j, counts[b * per + j]);
        store_be64(table + b * 8, (start + b) << s->cluster_bits);
        qcow2_event(s, STRATA_EV_REFBLOCK_ALLOC_WRITE);
        r = strata_pwrite(s->file, (start + b) << s->cluster_bits, csz, buf, 0, errp);
    }
    if (r == 0) {
        qcow2_event(s, STRATA_EV_REFTABLE_GROW);
        r = strata_pwrite(s->file, (start + nb) << s->cluster_bits, nt * csz, table, 0, errp);
    }
    if (r == 0)
        r = strata_flush(s->file, errp);
out:
    free(buf);
    free(table);
    return r;
}

int qcow2_change_refcount_order(struct qcow2_state *s, uint32_t order,
                                struct strata_error **errp)
{
    if (order == s->refcount_order)
        return 0;
    uint64_t n = 0;
    int r = counted_clusters(s, &n, errp);
    if (r < 0)
        return r;
    /* Where the new structures go, and how many clusters they take: the
     * blocks count themselves and the table, so grow both until they
     * cover everything including themselves. */
    uint64_t per = 1ull << (s->cluster_bits + 3 - order), nb = 0, nt = 0;
    for (;;) {
        uint64_t nb2 = (n + nb + nt + per - 1) / per;
        uint64_t nt2 = (nb2 * 8 + s->cluster_size - 1) / s->cluster_size;
        if (nb2 == nb && nt2 == nt)
            break;
        nb = nb2;
        nt = nt2;
    }
    if (nt * s->cluster_size > QCOW2_MAX_RT_BYTES)
        return strata_error_set(errp, EFBIG, "%s: a refcount table for %u-bit refcounts "
                                "would exceed " QCOW2_MAX_RT_TEXT, s->name, 1u << order);
    uint64_t total = n + nb + nt;
    uint64_t *counts = calloc(total, sizeof *counts);
    if (!counts)
        return strata_error_set(errp, ENOMEM, "%s: out of memory for %" PRIu64
                                " refcounts", s->name, total);
    r = read_counts(s, n, counts, errp);
    uint64_t max = qcow2_refcount_max(order);
    for (uint64_t c = 0; r == 0 && c < n; c++)
        if (counts[c] > max)
            r = strata_error_set(errp, ERANGE, "Cannot decrease refcount entry width to %u "
                                 "bits: Cluster at offset %#" PRIx64 " has a refcount of %"
                                 PRIu64, 1u << order, c << s->cluster_bits, counts[c]);
    for (uint64_t c = n; c < total; c++)
        counts[c] = 1;
    if (r == 0)
        r = write_structures(s, order, counts, total, n, nb, nt, errp);
    free(counts);
    if (r < 0)
        return r;

    uint32_t old_order = s->refcount_order, old_clusters = s->rt_clusters;
    uint64_t old_offset = s->rt_offset;
    s->refcount_order = order;
    s->rt_offset = (n + nb) << s->cluster_bits;
    s->rt_clusters = (uint32_t)nt;
    r = qcow2_write_header(s, errp);
    if (r == 0)
        r = strata_flush(s->file, errp);
    if (r < 0) {
        s->refcount_order = old_order;
        s->rt_offset = old_offset;
        s->rt_clusters = old_clusters;
        return r;
    }
    qcow2_set_refcount_fields(s);
    qcow2_cache_drop_all(s->rb_cache);
    s->free_hint = 0;
    s->file_len = total << s->cluster_bits;
    return qcow2_load_refcount_table(s, errp);
}
