/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check.c - consistency check and repair, modelled on qemu-img check:
 * every reference the metadata makes is counted into an in-memory table
 * and compared with the stored refcounts; leaks (stored > counted) and
 * errors (stored < counted, i.e. a cluster in use that could be reused)
 * are reported and, when asked, repaired.  Repairs never allocate below the
 * end of what is referenced, so a wrongly free cluster is never handed out
 * while fixing. */
#include "qcow2.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

struct ck {
    struct qcow2_state *s;
    struct strata_check_result *res;
    unsigned fix;
    uint64_t *refs;
    uint64_t nclusters;     /* clusters covered by refs */
    uint64_t file_len;
    uint8_t *l2;            /* one table */
    const char **bad_rb;    /* per refcount table entry: why it cannot be a block */
    uint64_t nbad_rb;
};

static void ck_inc(struct ck *k, uint64_t off, uint64_t len)
{
    if (len == 0)
        return;
    uint64_t first = off >> k->s->cluster_bits;
    uint64_t last = (off + len - 1) >> k->s->cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        if (c >= k->nclusters) {
            strata_check_report(k->res, "ERROR: counting reference for region exceeding "
                                "the end of the file by one cluster or more: offset "
                                "0x%" PRIx64 " size 0x%" PRIx64, off, len);
            k->res->corruptions++;
            return;
        }
        k->refs[c]++;
    }
}

/* Counts an L2 table's references; for the active tree also statistics,
 * entries past the end of the file (fixed by dropping them) and flags. */
static int ck_l2(struct ck *k, uint64_t l2_off, uint64_t l1_idx, bool active,
                 uint64_t *prev_host, struct strata_error **errp)
{
    struct qcow2_state *s = k->s;
    uint64_t csz = s->cluster_size;
    int r = strata_pread(s->file, l2_off, csz, k->l2, 0, errp);
    if (r < 0) {
        k->res->check_errors++;
        return r;
    }
    bool dirty = false;
    for (uint64_t j = 0; j < s->l2_entries; j++) {
        uint8_t *p = k->l2 + j * s->l2_entry_size;
        uint64_t e = load_be64(p);
        uint64_t bitmap = s->extended ? load_be64(p + 8) : 0;
        uint64_t guest = ((l1_idx << s->l2_bits) + j) << s->cluster_bits;
        if (e & QCOW2_OFLAG_COMPRESSED) {
            uint64_t host, nb;
            qcow2_compressed_loc(s, e, &host, &nb);
            if (s->data != s->file) {
                strata_check_report(k->res, "ERROR compressed cluster %" PRIu64 " with an "
                                    "external data file", guest >> s->cluster_bits);
                k->res->corruptions++;
                continue;
            }
            if (e & QCOW2_OFLAG_COPIED) {
                strata_check_report(k->res, "ERROR: compressed cluster %" PRIu64 " has the "
                                    "copied flag set", guest >> s->cluster_bits);
                k->res->corruptions++;
            }
            if (s->extended && bitmap) {
                strata_check_report(k->res, "ERROR compressed cluster %" PRIu64 " with "
                                    "non-zero subcluster allocation bitmap, entry=0x%"
                                    PRIx64, guest >> s->cluster_bits, bitmap);
                k->res->corruptions++;
            }
            uint64_t a = host & ~511ull;
            ck_inc(k, a, qcow2_align_up(host + nb, 512) - a);
            if (active) {
                k->res->allocated_clusters++;
                k->res->compressed_clusters++;
                /* Compressed data shares sectors: fragmented by nature. */
                k->res->fragmented_clusters++;
            }
            continue;
        }
        if (s->extended && ((bitmap >> 32) & bitmap)) {
            strata_check_report(k->res, "ERROR invalid subcluster allocation bitmap for "
                                "cluster %" PRIu64 ": 0x%" PRIx64, guest >> s->cluster_bits,
                                bitmap);
            k->res->corruptions++;
        }
        uint64_t host = e & QCOW2_OFFSET_MASK;
        if (!host)
            continue;
        if (host & (csz - 1)) {
            strata_check_report(k->res, "ERROR offset=%" PRIx64 ": Cluster is not properly "
                                "aligned; L2 entry corrupted.", host);
            k->res->corruptions++;
            continue;
        }
        if (s->data != s->file)
            continue;
        if (host >= qcow2_align_up(k->file_len, csz)) {
            strata_check_report(k->res, "ERROR: counting reference for region exceeding "
                                "the end of the file by one cluster or more: offset 0x%"
                                PRIx64 " size 0x%" PRIx64, host, csz);
            if (active && (k->fix & STRATA_CHECK_FIX_ERRORS)) {
                /* The data is gone; reading it as zeros is all that is left. */
                uint64_t ne = s->version >= 3 && !s->extended ? QCOW2_OFLAG_ZERO : 0;
                store_be64(p, ne);
                if (s->extended)
                    store_be64(p + 8, 0xffffffff00000000ull);
                dirty = true;
                k->res->corruptions_fixed++;
            } else {
                k->res->corruptions++;
            }
            continue;
        }
        ck_inc(k, host, csz);
        if (active) {
            k->res->allocated_clusters++;
            if (*prev_host && host != *prev_host + csz)
                k->res->fragmented_clusters++;
            *prev_host = host;
        }
    }
    if (dirty) {
        r = strata_pwrite(s->file, l2_off, csz, k->l2, 0, errp);
        if (r < 0) {
            k->res->check_errors++;
            return r;
        }
        qcow2_cache_discard(s->l2_cache, l2_off, csz);
    }
    return 0;
}

static int ck_tree(struct ck *k, const uint64_t *l1, uint64_t l1_off, uint32_t n, bool active,
                   struct strata_error **errp)
{
    struct qcow2_state *s = k->s;
    ck_inc(k, l1_off, (uint64_t)n * 8);
    uint64_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t = l1[i] & QCOW2_OFFSET_MASK;
        if (!t)
            continue;
        if (t & (s->cluster_size - 1)) {
            strata_check_report(k->res, "ERROR l2_offset=%" PRIx64 ": Table is not cluster "
                                "aligned; L1 entry corrupted", t);
            k->res->corruptions++;
            continue;
        }
        if (t >= qcow2_align_up(k->file_len, s->cluster_size)) {
            strata_check_report(k->res, "ERROR: counting reference for region exceeding "
                                "the end of the file by one cluster or more: offset 0x%"
                                PRIx64 " size 0x%" PRIx64, t, s->cluster_size);
            k->res->corruptions++;
            continue;
        }
        ck_inc(k, t, s->cluster_size);
        /* Contiguity is judged within one L2 table, as qemu-img does. */
        prev = 0;
        int r = ck_l2(k, t, i, active, &prev, errp);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Bitmap directory, tables and data clusters belong to the image too. */
static int ck_bitmaps(struct ck *k, struct strata_error **errp)
{
    struct qcow2_state *s = k->s;
    if (!s->has_bitmaps_ext)
        return 0;
    uint32_t nb = load_be32(s->bitmaps_ext);
    uint64_t dsize = load_be64(s->bitmaps_ext + 8), doff = load_be64(s->bitmaps_ext + 16);
    if (!nb || dsize > (64ull << 20) || doff + dsize > k->file_len) {
        strata_check_report(k->res, "ERROR bitmap directory at 0x%" PRIx64 " is invalid",
                            doff);
        k->res->corruptions++;
        return 0;
    }
    uint8_t *dir = malloc(dsize ? dsize : 1);
    if (!dir)
        return strata_error_set(errp, ENOMEM, "out of memory");
    int r = strata_pread(s->file, doff, dsize, dir, 0, errp);
    if (r < 0) {
        free(dir);
        k->res->check_errors++;
        return r;
    }
    ck_inc(k, doff, dsize);
    uint64_t o = 0;
    for (uint32_t i = 0; i < nb && o + 24 <= dsize; i++) {
        uint64_t toff = load_be64(dir + o);
        uint32_t tsize = load_be32(dir + o + 8);
        uint16_t nlen = load_be16(dir + o + 18);
        uint32_t xlen = load_be32(dir + o + 20);
        if ((uint64_t)tsize * 8 > (64ull << 20) || toff + (uint64_t)tsize * 8 > k->file_len) {
            k->res->corruptions++;
            break;
        }
        ck_inc(k, toff, (uint64_t)tsize * 8);
        uint64_t *t = malloc((uint64_t)tsize * 8 + 8);
        if (!t || strata_pread(s->file, toff, (uint64_t)tsize * 8, t, 0, NULL) < 0) {
            free(t);
            k->res->check_errors++;
            break;
        }
        for (uint32_t j = 0; j < tsize; j++) {
            uint64_t c = load_be64(&t[j]) & QCOW2_OFFSET_MASK;
            if (c)
                ck_inc(k, c, s->cluster_size);
        }
        free(t);
        o += qcow2_align_up(24 + (uint64_t)xlen + nlen, 8);
    }
    free(dir);
    return 0;
}

/* Refcount blocks come last, so that one sharing a cluster with anything
 * else the image uses (or with another block) is seen as misplaced. */
static int ck_refblocks(struct ck *k, struct strata_error **errp)
{
    struct qcow2_state *s = k->s;
    k->bad_rb = calloc(s->rt_entries ? s->rt_entries : 1, sizeof *k->bad_rb);
    if (!k->bad_rb)
        return strata_error_set(errp, ENOMEM, "%s: out of memory for the check", s->name);
    k->nbad_rb = s->rt_entries;
    for (uint64_t i = 0; i < s->rt_entries; i++) {
        uint64_t b = s->rt[i];
        if (!b)
            continue;
        const char *why = qcow2_refblock_problem(s, b, k->file_len);
        if (!why && k->refs[b >> s->cluster_bits])
            why = "overlaps a cluster already in use";
        if (why) {
            k->bad_rb[i] = why;
            /* Reported by the repair when there is one. */
            if (!(k->fix & STRATA_CHECK_FIX_ERRORS)) {
                strata_check_report(k->res, "ERROR refcount block %" PRIu64 " at 0x%" PRIx64
                                    " %s", i, b, why);
                k->res->corruptions++;
            }
            continue;
        }
        ck_inc(k, b, s->cluster_size);
    }
    return 0;
}

/* Misplaced refcount blocks are never read or written where they point: the
 * offset may be far past the end of the file or belong to other data.  An
 * entry whose range the image uses gets a new block placed after the file
 * and after everything referenced (so that it takes nothing in use), filled
 * with the counted references; the other entries are cleared. */
static int ck_replace_refblocks(struct ck *k, struct strata_error **errp)
{
    struct qcow2_state *s = k->s;
    uint64_t csz = s->cluster_size, per = 1ull << s->rb_bits;
    uint64_t next = qcow2_align_up(k->file_len, csz) >> s->cluster_bits;
    for (uint64_t c = k->nclusters; c > next; c--) {
        if (k->refs[c - 1]) {
            next = c;
            break;
        }
    }
    uint64_t need = 0;
    uint64_t *place = calloc(k->nbad_rb ? k->nbad_rb : 1, sizeof *place);
    uint8_t *blk = malloc(csz);
    int r = 0;
    if (!place || !blk) {
        r = strata_error_set(errp, ENOMEM, "%s: out of memory for the check", s->name);
        goto out;
    }
    /* Marks the entries that need a block (place 1 until it is known). */
    for (uint64_t i = 0; i < k->nbad_rb; i++) {
        if (!k->bad_rb[i])
            continue;
        for (uint64_t c = i * per; c < (i + 1) * per && c < k->nclusters; c++) {
            if (k->refs[c]) {
                place[i] = 1;
                need++;
                break;
            }
        }
    }
    if (next + need > k->nclusters) {
        uint64_t *n = realloc(k->refs, (next + need) * sizeof *n);
        if (!n) {
            r = strata_error_set(errp, ENOMEM, "%s: out of memory for the check", s->name);
            goto out;
        }
        memset(n + k->nclusters, 0, (next + need - k->nclusters) * sizeof *n);
        k->refs = n;
        k->nclusters = next + need;
    }
    /* All new blocks are counted before any is filled: they may count
     * each other. */
    for (uint64_t i = 0; i < k->nbad_rb; i++) {
        if (place[i]) {
            place[i] = next << s->cluster_bits;
            k->refs[next++] = 1;
        }
    }
    for (uint64_t i = 0; i < k->nbad_rb; i++) {
        if (!place[i])
            continue;
        memset(blk, 0, csz);
        for (uint64_t j = 0; j < per && i * per + j < k->nclusters; j++) {
            uint64_t v = k->refs[i * per + j];
            qcow2_rb_set(s, blk, j, v > s->refcount_max ? s->refcount_max : v);
        }
        qcow2_event(s, STRATA_EV_REFBLOCK_ALLOC_WRITE);
        r = strata_pwrite(s->file, place[i], csz, blk, 0, errp);
        if (r < 0)
            goto out;
    }
    /* The blocks are on disk before the table points at them. */
    r = strata_flush(s->file, errp);
    if (r < 0)
        goto out;
    for (uint64_t i = 0; i < k->nbad_rb; i++) {
        if (!k->bad_rb[i])
            continue;
        uint64_t old = s->rt[i];
        uint8_t be[8];
        store_be64(be, place[i]);
        qcow2_event(s, STRATA_EV_REFBLOCK_ALLOC_HOOKUP);
        r = strata_pwrite(s->file, s->rt_offset + i * 8, 8, be, 0, errp);
        if (r < 0)
            goto out;
        qcow2_cache_discard(s->rb_cache, old, s->cluster_size);
        s->rt[i] = place[i];
        if (place[i])
            strata_check_report(k->res, "Repairing refcount block %" PRIu64 " at 0x%" PRIx64
                                " %s: rebuilt at 0x%" PRIx64, i, old, k->bad_rb[i],
                                place[i]);
        else
            strata_check_report(k->res, "Repairing refcount block %" PRIu64 " at 0x%" PRIx64
                                " %s: entry cleared, no cluster it covers is in use", i,
                                old, k->bad_rb[i]);
        k->bad_rb[i] = NULL;
        k->res->corruptions_fixed++;
    }
    r = strata_flush(s->file, errp);
out:
    if (r < 0)
        k->res->check_errors++;
    free(place);
    free(blk);
    return r;
}

static int ck_count(struct ck *k, struct strata_error **errp)
{
    struct qcow2_state *s = k->s;
    int r;
    ck_inc(k, 0, s->cluster_size);
    r = ck_tree(k, s->l1, s->l1_offset, s->l1_size, true, errp);
    if (r < 0)
        return r;
    if (s->nb_snapshots) {
        for (uint32_t i = 0; i < s->nb_snapshots; i++) {
            struct qcow2_snapshot *sn = &s->snaps[i];
            /* The table is checked before any memory is taken for it: the
             * image says how large it is (the same cap as the active L1). */
            if ((uint64_t)sn->l1_size * 8 > QCOW2_MAX_L1_BYTES ||
                sn->l1_offset + (uint64_t)sn->l1_size * 8 > k->file_len) {
                strata_check_report(k->res, "ERROR snapshot %s (%s) L1 table at 0x%" PRIx64
                                    " points past end of file", sn->id, sn->name,
                                    sn->l1_offset);
                k->res->corruptions++;
                continue;
            }
            uint64_t *l1 = calloc(sn->l1_size ? sn->l1_size : 1, 8);
            if (!l1)
                return strata_error_set(errp, ENOMEM, "out of memory");
            r = sn->l1_size ? strata_pread(s->file, sn->l1_offset, (uint64_t)sn->l1_size * 8,
                                           l1, 0, errp) : 0;
            if (r < 0) {
                free(l1);
                k->res->check_errors++;
                return r;
            }
            for (uint32_t j = 0; j < sn->l1_size; j++)
                l1[j] = load_be64(&l1[j]);
            r = ck_tree(k, l1, sn->l1_offset, sn->l1_size, false, errp);
            free(l1);
            if (r < 0)
                return r;
        }
        ck_inc(k, s->snapshots_offset, s->snapshots_size);
    }
    ck_inc(k, s->rt_offset, (uint64_t)s->rt_clusters * s->cluster_size);
    if (s->has_crypto_ext)
        ck_inc(k, s->crypto_offset, s->crypto_length);
    r = ck_bitmaps(k, errp);
    if (r < 0)
        return r;
    return ck_refblocks(k, errp);
}

/* The refcount of cluster c as stored, after the repairs this check has
 * made: what COPIED is judged against, as qemu-img does.  A cut during
 * snapshot creation leaves refcounts raised for a snapshot that was never
 * written; until the leak is repaired, the COPIED flags disagree with them
 * and qemu-img reports corruptions, so strata-img does too. */
static int ck_stored(struct ck *k, uint64_t c, uint64_t *rc, struct strata_error **errp)
{
    struct qcow2_state *s = k->s;
    uint64_t idx = c >> s->rb_bits;
    *rc = 0;
    if (idx >= s->rt_entries || !s->rt[idx] || (idx < k->nbad_rb && k->bad_rb[idx]))
        return 0;
    int r = qcow2_get_refcount(s, c, rc, errp);
    if (r < 0)
        k->res->check_errors++;
    return r;
}

/* COPIED must be set exactly where the refcount is one (active tree). */
static int ck_copied(struct ck *k, struct strata_error **errp)
{
    struct qcow2_state *s = k->s;
    bool l1_dirty = false;
    int r;
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t t = s->l1[i] & QCOW2_OFFSET_MASK;
        if (!t || (t & (s->cluster_size - 1)) || (t >> s->cluster_bits) >= k->nclusters)
            continue;
        uint64_t rc;
        if ((r = ck_stored(k, t >> s->cluster_bits, &rc, errp)) < 0)
            return r;
        bool want = rc == 1, has = s->l1[i] & QCOW2_OFLAG_COPIED;
        if (want != has) {
            strata_check_report(k->res, "%s OFLAG_COPIED L2 cluster: l1_index=%u "
                                "l1_entry=%" PRIx64 " refcount=%" PRIu64,
                                (k->fix & STRATA_CHECK_FIX_ERRORS) ? "Repairing" : "ERROR",
                                i, s->l1[i], rc);
            if (k->fix & STRATA_CHECK_FIX_ERRORS) {
                s->l1[i] = want ? (s->l1[i] | QCOW2_OFLAG_COPIED)
                                : (s->l1[i] & ~QCOW2_OFLAG_COPIED);
                l1_dirty = true;
                k->res->corruptions_fixed++;
            } else {
                k->res->corruptions++;
            }
        }
        if (s->data != s->file)
            continue;
        r = strata_pread(s->file, t, s->cluster_size, k->l2, 0, errp);
        if (r < 0) {
            k->res->check_errors++;
            return r;
        }
        bool dirty = false;
        for (uint64_t j = 0; j < s->l2_entries; j++) {
            uint8_t *p = k->l2 + j * s->l2_entry_size;
            uint64_t e = load_be64(p), h = e & QCOW2_OFFSET_MASK;
            if ((e & QCOW2_OFLAG_COMPRESSED) || !h || (h & (s->cluster_size - 1)) ||
                (h >> s->cluster_bits) >= k->nclusters)
                continue;
            uint64_t hrc;
            if ((r = ck_stored(k, h >> s->cluster_bits, &hrc, errp)) < 0)
                return r;
            bool w = hrc == 1, hs = e & QCOW2_OFLAG_COPIED;
            if (w == hs)
                continue;
            strata_check_report(k->res, "%s OFLAG_COPIED data cluster: l2_entry=%" PRIx64
                                " refcount=%" PRIu64,
                                (k->fix & STRATA_CHECK_FIX_ERRORS) ? "Repairing" : "ERROR",
                                e, hrc);
            if (k->fix & STRATA_CHECK_FIX_ERRORS) {
                store_be64(p, w ? (e | QCOW2_OFLAG_COPIED) : (e & ~QCOW2_OFLAG_COPIED));
                dirty = true;
                k->res->corruptions_fixed++;
            } else {
                k->res->corruptions++;
            }
        }
        if (dirty) {
            r = strata_pwrite(s->file, t, s->cluster_size, k->l2, 0, errp);
            if (r < 0)
                return r;
            qcow2_cache_discard(s->l2_cache, t, s->cluster_size);
        }
    }
    if (l1_dirty) {
        for (uint32_t i = 0; i < s->l1_size; i++) {
            r = qcow2_write_l1_entry(s, i, errp);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/* The snapshot table of an image opened for check, read here so that a
 * damaged one is reported, or with FIX_ERRORS repaired as qemu's check -r
 * all does: snapshots past the count or size limits dropped at once (the
 * refcount check then finds their clusters leaked), extra data past its
 * limit cut (*cut, for the table rewrite after the refcount check). */
static int ck_snapshot_table(struct qcow2_state *s, struct strata_check_result *res,
                             unsigned fix, uint32_t *cut, struct strata_error **errp)
{
    bool repair = fix & STRATA_CHECK_FIX_ERRORS;
    uint32_t dropped = 0;
    s->snaps_pending = false;
    if (s->nb_snapshots > QCOW2_MAX_SNAPSHOTS) {
        uint32_t over = s->nb_snapshots - QCOW2_MAX_SNAPSHOTS;
        if (!repair) {
            res->check_errors++;
            s->nb_snapshots = 0;
            s->snapshots_offset = 0;
            return strata_error_set(errp, EFBIG, "ERROR snapshot table too large\nYou can "
                                    "force-remove all %u overhanging snapshots with "
                                    "qemu-img check -r all", over);
        }
        strata_check_report(res, "Discarding %u overhanging snapshots", over);
        dropped += over;
        s->nb_snapshots = QCOW2_MAX_SNAPSHOTS;
    }
    int r = qcow2_read_snapshots_repair(s, repair ? res : NULL, &dropped, cut, errp);
    if (r < 0) {
        /* Nothing else may use a table that could not be read. */
        qcow2_free_snapshots(s);
        s->nb_snapshots = 0;
        s->snapshots_offset = 0;
        res->check_errors++;
        strata_error_prefix(errp, "ERROR failed to read the snapshot table");
        return r;
    }
    if (dropped) {
        /* The count goes to disk now: the refcount check that follows
         * must see the table the header describes. */
        uint8_t v[4];
        store_be32(v, s->nb_snapshots);
        r = strata_pwrite(s->file, 60, 4, v, 0, errp);
        if (r == 0)
            r = strata_flush(s->file, errp);
        if (r < 0) {
            res->check_errors++;
            return r;
        }
        res->corruptions_fixed += dropped;
    }
    return 0;
}

/* Stored refcounts the comparison reads at once (4 KiB of stack). */
#define CK_RUN 512

/* ck_compare's mode when nothing is repaired but everything is counted. */
#define CK_REPORT 0x100u

/* Compares the counted references with the stored refcounts, over the file
 * and every refcount block.  mode 0 only lists the mismatches (the first
 * half of a repair's report), counting them in *corr and *leaks and setting
 * *rebuild when a cluster in use has a stored count of zero; CK_REPORT
 * lists and counts them in the result; fix bits repair what they allow.
 * *last_used becomes the end of the image as qemu-img reports it. */
static int ck_compare(struct ck *k, unsigned mode, uint64_t *last_used, bool *rebuild,
                      int64_t *corr, int64_t *leaks, struct strata_error **errp)
{
    struct qcow2_state *s = k->s;
    struct strata_check_result *res = k->res;
    unsigned fix = mode & (STRATA_CHECK_FIX_LEAKS | STRATA_CHECK_FIX_ERRORS);
    int r = 0;
    uint64_t covered = s->rt_entries << s->rb_bits;
    uint64_t hi = 0;
    for (uint64_t i = 0; i < s->rt_entries; i++)
        if (s->rt[i])
            hi = (i + 1) << s->rb_bits;
    if (hi > covered)
        hi = covered;
    uint64_t end = hi > k->nclusters ? hi : k->nclusters;
    *last_used = 0;
    for (uint64_t c = 0; c < k->nclusters; c++)
        if (k->refs[c])
            *last_used = c + 1;
    if (fix) {
        /* Anything the repair allocates goes after what is referenced. */
        s->free_hint = end > *last_used ? end : *last_used;
    }
    /* Without repairs nothing changes under the loop: the stored counts are
     * read a run at a time, not looked up cluster by cluster. */
    uint64_t run[CK_RUN], run_first = 0, run_n = 0;
    for (uint64_t c = 0; c < end; c++) {
        uint64_t stored = 0, want = c < k->nclusters ? k->refs[c] : 0;
        uint64_t idx = c >> s->rb_bits;
        if (idx < s->rt_entries && s->rt[idx] && !(idx < k->nbad_rb && k->bad_rb[idx])) {
            if (fix) {
                r = qcow2_get_refcount(s, c, &stored, errp);
            } else if (c - run_first < run_n) {
                stored = run[c - run_first];
            } else {
                uint64_t block_end = (idx + 1) << s->rb_bits;
                run_first = c;
                run_n = (block_end < end ? block_end : end) - c;
                if (run_n > CK_RUN)
                    run_n = CK_RUN;
                r = qcow2_get_refcounts(s, c, run_n, run, errp);
                if (r == 0)
                    stored = run[0];
                else
                    run_n = 0;
            }
            if (r < 0) {
                res->check_errors++;
                return r;
            }
        } else if (want == 0) {
            /* Skip the rest of a missing block quickly. */
            uint64_t next = (idx + 1) << s->rb_bits;
            bool any = false;
            for (uint64_t d = c; d < next && d < k->nclusters; d++)
                if (k->refs[d])
                    any = true;
            if (!any) {
                c = next - 1;
                continue;
            }
        }
        if (want > s->refcount_max)
            want = s->refcount_max;
        if (stored == want)
            continue;
        bool leak = stored > want;
        if (!mode) {
            strata_check_report(res, "%s cluster %" PRIu64 " refcount=%" PRIu64
                                " reference=%" PRIu64, leak ? "Leaked" : "ERROR", c, stored,
                                want);
            if (stored == 0)
                *rebuild = true;
            if (leak)
                (*leaks)++;
            else
                (*corr)++;
            continue;
        }
        bool fixing = fix & (leak ? STRATA_CHECK_FIX_LEAKS : STRATA_CHECK_FIX_ERRORS);
        /* A cluster the refcounts still hold ends the image as qemu-img
         * reports it, leaked or not. */
        if (!fixing && stored && c + 1 > *last_used)
            *last_used = c + 1;
        strata_check_report(res, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%"
                            PRIu64, fixing ? "Repairing" : (leak ? "Leaked" : "ERROR"), c,
                            stored, want);
        if (fixing) {
            r = qcow2_set_refcount(s, c, want, errp);
            if (r < 0) {
                res->check_errors++;
                return r;
            }
            if (leak)
                res->leaks_fixed++;
            else
                res->corruptions_fixed++;
        } else if (leak) {
            res->leaks++;
        } else {
            res->corruptions++;
        }
    }
    return 0;
}

/* A cluster in use with a stored count of zero: the stored refcounts
 * cannot say what is free, so a new structure is made from the counted
 * references (rebuild.c) and the image counted again; the old structure,
 * now leaked, is freed.  What the first comparison found counts as
 * repaired; only what is still wrong after the rebuild stays counted. */
static int ck_rebuild(struct ck *k, int64_t found_corr, int64_t found_leaks,
                      uint64_t *last_used, struct strata_error **errp)
{
    struct qcow2_state *s = k->s;
    struct strata_check_result *res = k->res;
    strata_check_report(res, "Rebuilding refcount structure");
    int r = qcow2_rebuild_refcounts(s, &k->refs, &k->nclusters, errp);
    if (r < 0) {
        res->check_errors++;
        return r;
    }
    int64_t flen = strata_get_length(s->file);
    if (flen < 0) {
        res->check_errors++;
        return strata_error_set(errp, (int)-flen, "%s: cannot get the file size", s->name);
    }
    k->file_len = (uint64_t)flen;
    uint64_t n = (qcow2_align_up(k->file_len, s->cluster_size) >> s->cluster_bits) + 1;
    uint64_t *refs = calloc(n, sizeof *refs);
    if (!refs)
        return strata_error_set(errp, ENOMEM, "%s: out of memory for the check", s->name);
    free(k->refs);
    k->refs = refs;
    k->nclusters = n;
    free(k->bad_rb);
    k->bad_rb = NULL;
    k->nbad_rb = 0;
    /* Counted again without repairs, as a plain check would. */
    int64_t old_corr = res->corruptions + found_corr, old_leaks = res->leaks + found_leaks;
    unsigned fix = k->fix;
    k->fix = 0;
    res->corruptions = res->leaks = 0;
    r = ck_count(k, errp);
    k->fix = fix;
    if (r < 0)
        return r;
    struct strata_check_result saved = *res;
    res->corruptions = res->leaks = 0;
    /* The old blocks and table are the leaks freed here; they were never
     * part of what was found, so they are not counted as repaired. */
    unsigned mode = (fix & STRATA_CHECK_FIX_LEAKS) ? STRATA_CHECK_FIX_LEAKS : CK_REPORT;
    r = ck_compare(k, mode, last_used, NULL, NULL, NULL, errp);
    if (r < 0)
        return r;
    int64_t fresh_leaks = res->leaks;
    saved.messages = res->messages;
    saved.nmessages = res->nmessages;
    saved.check_errors = res->check_errors;
    *res = saved;
    if (res->corruptions < old_corr)
        res->corruptions_fixed += old_corr - res->corruptions;
    if (res->leaks < old_leaks)
        res->leaks_fixed += old_leaks - res->leaks;
    res->leaks += fresh_leaks;
    return 0;
}

static int check_image(struct qcow2_state *s, struct strata_check_result *res, unsigned fix,
                       struct strata_error **errp);

/* Problems check meets are its report, not corruption events. */
int qcow2_check(struct qcow2_state *s, struct strata_check_result *res, unsigned fix,
                struct strata_error **errp)
{
    bool was = s->in_check;
    s->in_check = true;
    int r = check_image(s, res, fix, errp);
    s->in_check = was;
    return r;
}

static int check_image(struct qcow2_state *s, struct strata_check_result *res, unsigned fix,
                       struct strata_error **errp)
{
    int r;
    if (fix && !s->rw)
        return strata_error_set(errp, EROFS, "%s: repairing needs the image opened "
                                "read-write", s->name);
    if (s->rw) {
        r = qcow2_flush_all(s, errp);
        if (r < 0)
            return r;
    }
    int64_t flen = strata_get_length(s->file);
    if (flen < 0)
        return strata_error_set(errp, (int)-flen, "%s: cannot get the file size", s->name);
    struct ck k = { .s = s, .res = res, .fix = fix, .file_len = (uint64_t)flen };
    k.nclusters = qcow2_align_up((uint64_t)flen, s->cluster_size) >> s->cluster_bits;
    /* A partial cluster at the end is fine (qemu-img allows one cluster). */
    k.nclusters += 1;
    k.refs = calloc(k.nclusters, sizeof *k.refs);
    k.l2 = malloc(s->cluster_size);
    if (!k.refs || !k.l2) {
        free(k.refs);
        free(k.l2);
        return strata_error_set(errp, ENOMEM, "%s: out of memory for the check", s->name);
    }
    res->total_clusters = (int64_t)(qcow2_align_up(s->size, s->cluster_size) >> s->cluster_bits);
    uint32_t cut = 0;
    if (s->snaps_pending && (r = ck_snapshot_table(s, res, fix, &cut, errp)) < 0) {
        free(k.refs);
        free(k.l2);
        return r;
    }
    /* Version 3 entries must carry the VM state and disk sizes; a repair
     * rewrites the table with them once the refcounts are right. */
    uint32_t incomplete = 0;
    for (uint32_t i = 0; s->version >= 3 && i < s->nb_snapshots; i++) {
        if (s->snaps[i].extra_size < QCOW2_SNAPSHOT_EXTRA_V3) {
            strata_check_report(res, "%s snapshot table entry %u is incomplete",
                                (fix & STRATA_CHECK_FIX_ERRORS) ? "Repairing" : "ERROR", i);
            incomplete++;
        }
    }
    r = ck_count(&k, errp);
    if (r < 0)
        goto out;
    if (fix & STRATA_CHECK_FIX_ERRORS) {
        r = ck_replace_refblocks(&k, errp);
        if (r < 0)
            goto out;
    }

    bool rebuild = false;
    uint64_t last_used = 0;
    int64_t found_corr = 0, found_leaks = 0;
    if (fix) {
        /* A repair reports as qemu-img does: every mismatch as found
         * first, then again as it is repaired. */
        r = ck_compare(&k, 0, &last_used, &rebuild, &found_corr, &found_leaks, errp);
        if (r < 0)
            goto out;
    }
    if (rebuild && (fix & STRATA_CHECK_FIX_ERRORS)) {
        r = ck_rebuild(&k, found_corr, found_leaks, &last_used, errp);
        if (r < 0)
            goto out;
    } else if (rebuild) {
        strata_check_report(res, "ERROR need to rebuild refcount structures");
        res->check_errors++;
        /* The finding says why, as in qemu-img's report. */
        r = -EIO;
        goto out;
    } else {
        r = ck_compare(&k, fix ? fix : CK_REPORT, &last_used, NULL, NULL, NULL, errp);
        if (r < 0)
            goto out;
    }
    if ((incomplete || cut) && (fix & STRATA_CHECK_FIX_ERRORS)) {
        /* The refcounts are right by now: the new table goes where any
         * allocation would. */
        s->free_hint = 0;
        r = qcow2_write_snapshots(s, errp);
        if (r < 0) {
            res->check_errors++;
            goto out;
        }
        res->corruptions_fixed += incomplete + cut;
    } else {
        res->corruptions += incomplete + cut;
    }
    if (fix) {
        r = qcow2_flush_all(s, errp);
        if (r < 0)
            goto out;
    }
    r = ck_copied(&k, errp);
    if (r < 0)
        goto out;
    res->image_end_offset = (int64_t)(last_used << s->cluster_bits);
    if (fix) {
        r = qcow2_flush_all(s, errp);
        if (r == 0)
            r = strata_flush(s->file, errp);
        if (r == 0 && res->corruptions == 0 && (s->incompat & QCOW2_INCOMPAT_CORRUPT)) {
            s->incompat &= ~QCOW2_INCOMPAT_CORRUPT;
            r = qcow2_write_header(s, errp);
        }
        if (r == 0 && (s->incompat & QCOW2_INCOMPAT_DIRTY) && res->corruptions == 0 &&
            res->check_errors == 0)
            r = qcow2_clear_dirty(s, errp);
        s->free_hint = 0;
    }
out:
    free(k.refs);
    free(k.l2);
    free(k.bad_rb);
    return r;
}
