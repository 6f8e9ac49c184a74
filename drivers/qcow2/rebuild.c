/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rebuild.c - a new refcount structure made from the counted references
 * alone, for check -r all when a cluster in use has a stored refcount of
 * zero: the stored blocks cannot be trusted to say what is free, so none of
 * them is updated in place.  New blocks and a new table take clusters that
 * nothing references (placed as qemu-img places them, so that the header
 * reads the same after either tool's repair), are written and flushed, and
 * only then does the header point at the new table.  The old structure is
 * left leaked for the check that follows to free. */
#include "qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct rb {
    struct qcow2_state *s;
    uint64_t **refs;        /* counted references, one per cluster */
    uint64_t *n;            /* clusters in *refs */
    uint64_t *rt;           /* the new table, host order */
    uint64_t rt_entries;
    uint8_t *blk;
};

static int rb_grow(struct rb *b, uint64_t n, struct strata_error **errp)
{
    if (n <= *b->n)
        return 0;
    uint64_t *p = realloc(*b->refs, n * sizeof *p);
    if (!p)
        return strata_error_set(errp, ENOMEM, "%s: out of memory for the check", b->s->name);
    memset(p + *b->n, 0, (n - *b->n) * sizeof *p);
    *b->refs = p;
    *b->n = n;
    return 0;
}

/* The first run of count clusters nothing references, at or after *first
 * (which moves to the first free cluster seen); the run is counted as used. */
static int rb_alloc(struct rb *b, uint64_t count, uint64_t *first, uint64_t *out,
                    struct strata_error **errp)
{
    uint64_t c = *first, run = 0;
    bool seen = false;
    for (; c < *b->n && run < count; c++) {
        if ((*b->refs)[c]) {
            run = 0;
            continue;
        }
        if (!seen) {
            *first = c;
            seen = true;
        }
        run++;
    }
    /* Free clusters at the end of the table continue past it. */
    if (run < count) {
        int r = rb_grow(b, c + count - run, errp);
        if (r < 0)
            return r;
    }
    c -= run;
    for (uint64_t i = 0; i < count; i++)
        (*b->refs)[c + i] = 1;
    *out = c;
    return 0;
}

/* Writes a block for every block-sized range of [first, end) with a
 * cluster in use, allocating those not placed yet.  Returns 1 when the
 * table had to grow, 0 when not. */
static int rb_write_blocks(struct rb *b, uint64_t first, uint64_t end,
                           struct strata_error **errp)
{
    struct qcow2_state *s = b->s;
    uint64_t per = 1ull << s->rb_bits, ffree = 0;
    int grown = 0, r;
    for (uint64_t c = first; c < end && c < *b->n; c++) {
        if (!(*b->refs)[c])
            continue;
        uint64_t idx = c >> s->rb_bits, start = idx << s->rb_bits;
        if (idx >= b->rt_entries || !b->rt[idx]) {
            /* A block already written must not gain a count it lacks. */
            if (ffree < start)
                ffree = start;
            uint64_t at;
            if ((r = rb_alloc(b, 1, &ffree, &at, errp)) < 0)
                return r;
            if (at >= end)
                end = at + 1;
            if (idx >= b->rt_entries) {
                uint64_t per_cl = s->cluster_size / 8;
                uint64_t n = (idx + 1 + per_cl - 1) / per_cl * per_cl;
                uint64_t *t = realloc(b->rt, n * 8);
                if (!t)
                    return strata_error_set(errp, ENOMEM, "%s: out of memory for the "
                                            "check", s->name);
                memset(t + b->rt_entries, 0, (n - b->rt_entries) * 8);
                b->rt = t;
                b->rt_entries = n;
                grown = 1;
            }
            b->rt[idx] = at << s->cluster_bits;
        }
        memset(b->blk, 0, s->cluster_size);
        for (uint64_t j = 0; j < per && start + j < *b->n; j++) {
            uint64_t v = (*b->refs)[start + j];
            qcow2_rb_set(s, b->blk, j, v > s->refcount_max ? s->refcount_max : v);
        }
        qcow2_event(s, STRATA_EV_REFBLOCK_ALLOC_WRITE);
        r = strata_pwrite(s->file, b->rt[idx], s->cluster_size, b->blk, 0, errp);
        if (r < 0) {
            strata_error_prefix(errp, "ERROR writing refblock");
            return r;
        }
        c = start + per - 1;
    }
    return grown;
}

int qcow2_rebuild_refcounts(struct qcow2_state *s, uint64_t **refs, uint64_t *nclusters,
                            struct strata_error **errp)
{
    struct rb b = { .s = s, .refs = refs, .n = nclusters };
    uint64_t csz = s->cluster_size, table = 0, tclusters = 0;
    uint8_t *be = NULL;
    int r;

    /* Nothing cached may be written over the new structure later. */
    if ((r = qcow2_cache_flush(s, s->rb_cache, errp)) < 0)
        return r;
    qcow2_cache_drop_all(s->rb_cache);
    b.blk = malloc(csz);
    if (!b.blk)
        return strata_error_set(errp, ENOMEM, "%s: out of memory for the check", s->name);
    r = rb_write_blocks(&b, 0, *nclusters, errp);
    /* Placing the table changes counts in blocks written already, and may
     * need more table: repeat until the table stops growing. */
    while (r > 0) {
        uint64_t ffree = 0;
        tclusters = (b.rt_entries * 8 + csz - 1) / csz;
        if ((r = rb_alloc(&b, tclusters, &ffree, &table, errp)) < 0)
            break;
        r = rb_write_blocks(&b, table, table + tclusters, errp);
    }
    if (r < 0)
        goto out;
    if (tclusters * csz > QCOW2_MAX_RT_BYTES) {
        r = strata_error_set(errp, EFBIG, "ERROR allocating reftable: %s: refcount table "
                             "would exceed %u bytes", s->name, QCOW2_MAX_RT_BYTES);
        goto out;
    }
    /* The whole table is usable, as when it is loaded. */
    uint64_t entries = tclusters * csz / 8;
    uint64_t *t = realloc(b.rt, entries * 8);
    be = calloc(tclusters, csz);
    if (t) {
        memset(t + b.rt_entries, 0, (entries - b.rt_entries) * 8);
        b.rt = t;
        b.rt_entries = entries;
    }
    if (!t || !be) {
        r = strata_error_set(errp, ENOMEM, "%s: out of memory for the check", s->name);
        goto out;
    }
    for (uint64_t i = 0; i < b.rt_entries; i++)
        store_be64(be + i * 8, b.rt[i]);
    qcow2_event(s, STRATA_EV_REFBLOCK_ALLOC_WRITE_TABLE);
    r = strata_pwrite(s->file, table << s->cluster_bits, tclusters * csz, be, 0, errp);
    if (r == 0)
        r = strata_flush(s->file, errp);
    if (r < 0) {
        strata_error_prefix(errp, "ERROR writing reftable");
        goto out;
    }
    uint8_t hv[12];
    store_be64(hv, table << s->cluster_bits);
    store_be32(hv + 8, (uint32_t)tclusters);
    qcow2_event(s, STRATA_EV_REFBLOCK_ALLOC_SWITCH_TABLE);
    r = strata_pwrite(s->file, 48, 12, hv, 0, errp);
    if (r == 0)
        r = strata_flush(s->file, errp);
    if (r < 0) {
        strata_error_prefix(errp, "ERROR setting reftable");
        goto out;
    }
    free(s->rt);
    s->rt = b.rt;
    b.rt = NULL;
    s->rt_entries = entries;
    s->rt_offset = table << s->cluster_bits;
    s->rt_clusters = (uint32_t)tclusters;
out:
    free(b.rt);
    free(b.blk);
    free(be);
    return r;
}
