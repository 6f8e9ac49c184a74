/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapshot.c - internal snapshots: the snapshot table, and create, apply
 * and delete with the refcount changes they imply.  Every operation raises
 * refcounts before the new structure is made visible and lowers them only
 * after the old one is gone from disk, so a crash leaks and never
 * corrupts. */
#include "qcow2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void qcow2_free_snapshots(struct qcow2_state *s)
{
    for (uint32_t i = 0; s->snaps && i < s->nb_snapshots; i++) {
        free(s->snaps[i].id);
        free(s->snaps[i].name);
        free(s->snaps[i].extra);
    }
    free(s->snaps);
    s->snaps = NULL;
}

/* The bytes of one entry: fixed part, extra data, id and name (without
 * the padding that aligns the next to 8). */
static uint64_t entry_size(const struct qcow2_snapshot *sn, uint32_t extra_size)
{
    return 40 + (uint64_t)extra_size + strlen(sn->id) + strlen(sn->name);
}

/* Reads one entry at `off` (8-aligned) into sn; *next is where it ends.
 * An entry with more extra data than QCOW2_MAX_SNAPSHOT_EXTRA is refused,
 * or with `repair` cut down to that much (*cut set), as qemu's check
 * -r all does. */
static int read_entry(struct qcow2_state *s, uint32_t i, uint64_t off,
                      struct strata_check_result *repair,
                      struct qcow2_snapshot *sn, uint64_t *next, uint64_t *kept, bool *cut,
                      struct strata_error **errp)
{
    uint8_t h[40 + QCOW2_SNAPSHOT_EXTRA_KNOWN];
    int r = strata_pread(s->file, off, 40, h, 0, errp);
    if (r < 0)
        return r;
    sn->l1_offset = load_be64(h);
    sn->l1_size = load_be32(h + 8);
    uint16_t idlen = load_be16(h + 12), namelen = load_be16(h + 14);
    sn->date_sec = load_be32(h + 16);
    sn->date_nsec = load_be32(h + 20);
    sn->vm_clock_nsec = load_be64(h + 24);
    sn->vm_state_size = load_be32(h + 32);
    uint32_t extra = load_be32(h + 36);
    *cut = false;
    if (extra > QCOW2_MAX_SNAPSHOT_EXTRA) {
        if (!repair)
            return strata_error_set(errp, EFBIG, "Too much extra metadata in snapshot "
                                    "table entry %u\nYou can force-remove this extra "
                                    "metadata with qemu-img check -r all", i);
        strata_check_report(repair, "Discarding too much extra metadata in snapshot table "
                            "entry %u (%u > %u)", i, extra, QCOW2_MAX_SNAPSHOT_EXTRA);
        *cut = true;
    }
    uint32_t known = extra < QCOW2_SNAPSHOT_EXTRA_KNOWN ? extra : QCOW2_SNAPSHOT_EXTRA_KNOWN;
    if (known && (r = strata_pread(s->file, off + 40, known, h + 40, 0, errp)) < 0)
        return r;
    sn->vm_state_size = extra >= 8 ? load_be64(h + 40) : sn->vm_state_size;
    sn->disk_size = extra >= 16 ? load_be64(h + 48) : s->size;
    sn->icount = extra >= 24 ? load_be64(h + 56) : UINT64_MAX;
    /* Unknown extra data is kept and written back; past the limit only
     * its first part is, and the entry ends where it did. */
    sn->extra_size = *cut ? QCOW2_MAX_SNAPSHOT_EXTRA : extra;
    uint64_t tail_off = off + 40 + extra;
    if (sn->extra_size > QCOW2_SNAPSHOT_EXTRA_KNOWN) {
        sn->extra_unknown = sn->extra_size - QCOW2_SNAPSHOT_EXTRA_KNOWN;
        if (!(sn->extra = malloc(sn->extra_unknown)))
            return strata_error_set(errp, ENOMEM, "out of memory");
        r = strata_pread(s->file, off + 40 + QCOW2_SNAPSHOT_EXTRA_KNOWN, sn->extra_unknown,
                         sn->extra, 0, errp);
        if (r < 0)
            return r;
    }
    char *t = malloc((size_t)idlen + namelen + 1);
    if (!t)
        return strata_error_set(errp, ENOMEM, "out of memory");
    if ((r = strata_pread(s->file, tail_off, (uint64_t)idlen + namelen, t, 0, errp)) < 0) {
        free(t);
        return r;
    }
    sn->id = strndup(t, idlen);
    sn->name = strndup(t + idlen, namelen);
    free(t);
    if (!sn->id || !sn->name)
        return strata_error_set(errp, ENOMEM, "out of memory");
    *next = tail_off + idlen + namelen;
    /* The id and name as stored: NUL bytes in them count too. */
    *kept = 40 + (uint64_t)sn->extra_size + idlen + namelen;
    return 0;
}

int qcow2_read_snapshots_repair(struct qcow2_state *s, struct strata_check_result *repair,
                                uint32_t *dropped, uint32_t *cut_extra,
                                struct strata_error **errp)
{
    s->snapshots_size = 0;
    if (s->nb_snapshots == 0)
        return 0;
    /* The header check has capped nb_snapshots (QCOW2_MAX_SNAPSHOTS). */
    s->snaps = calloc(s->nb_snapshots, sizeof *s->snaps);
    if (!s->snaps)
        return strata_error_set(errp, ENOMEM, "out of memory");
    uint64_t off = s->snapshots_offset, table_len = 0;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        struct qcow2_snapshot *sn = &s->snaps[i];
        uint64_t start = off, next = off, kept = 0;
        bool cut;
        int r = read_entry(s, i, qcow2_align_up(off, 8), repair, sn, &next, &kept, &cut,
                           errp);
        if (r < 0)
            return r;
        if (cut)
            ++*cut_extra;
        /* qemu's limit counts the entry with the extra data it keeps. */
        table_len = qcow2_align_up(table_len, 8) + kept;
        if (table_len > QCOW2_MAX_SNAPSHOTS_BYTES || next - s->snapshots_offset > INT32_MAX) {
            uint32_t over = s->nb_snapshots - i;
            if (!repair)
                return strata_error_set(errp, EFBIG, "Snapshot table is too big\nYou can "
                                        "force-remove all %u overhanging snapshots with "
                                        "qemu-img check -r all", over);
            strata_check_report(repair, "Discarding %u overhanging snapshots (snapshot table "
                                "is too big)", over);
            *dropped += over;
            free(sn->id);
            free(sn->name);
            free(sn->extra);
            memset(sn, 0, sizeof *sn);
            s->nb_snapshots = i;
            off = start;
            break;
        }
        off = next;
    }
    s->snapshots_size = off - s->snapshots_offset;
    return 0;
}

int qcow2_read_snapshots(struct qcow2_state *s, struct strata_error **errp)
{
    uint32_t dropped = 0, cut = 0;
    int r = qcow2_read_snapshots_repair(s, NULL, &dropped, &cut, errp);
    if (r < 0)
        strata_error_prefix(errp, "%s", s->name);
    return r;
}

static uint64_t table_size(const struct qcow2_snapshot *v, uint32_t n)
{
    uint64_t sz = 0;
    for (uint32_t i = 0; i < n; i++)
        sz = qcow2_align_up(sz, 8) +
             entry_size(&v[i], v[i].extra_size > QCOW2_SNAPSHOT_EXTRA_KNOWN
                                   ? v[i].extra_size : QCOW2_SNAPSHOT_EXTRA_KNOWN);
    return sz;
}

/* Writes `v` as the new snapshot table and switches the header to it.
 * Every entry gets all the known extra data, whatever the version. */
static int write_table(struct qcow2_state *s, struct qcow2_snapshot *v, uint32_t n,
                       struct strata_error **errp)
{
    uint64_t sz = table_size(v, n), off = 0;
    if (sz > QCOW2_MAX_SNAPSHOTS_BYTES)
        return strata_error_set(errp, EFBIG, "%s: the snapshot table would exceed %u bytes",
                                s->name, QCOW2_MAX_SNAPSHOTS_BYTES);
    int r;
    if (n) {
        uint8_t *buf = calloc(1, qcow2_align_up(sz, s->cluster_size));
        if (!buf)
            return strata_error_set(errp, ENOMEM, "out of memory");
        uint8_t *p = buf;
        for (uint32_t i = 0; i < n; i++) {
            size_t il = strlen(v[i].id), nl = strlen(v[i].name);
            uint32_t extra = QCOW2_SNAPSHOT_EXTRA_KNOWN + v[i].extra_unknown;
            store_be64(p, v[i].l1_offset);
            store_be32(p + 8, v[i].l1_size);
            store_be16(p + 12, (uint16_t)il);
            store_be16(p + 14, (uint16_t)nl);
            store_be32(p + 16, v[i].date_sec);
            store_be32(p + 20, v[i].date_nsec);
            store_be64(p + 24, v[i].vm_clock_nsec);
            /* A VM state too large for the old field reads as none there,
             * rather than as a truncated one. */
            store_be32(p + 32, v[i].vm_state_size > UINT32_MAX ? 0
                                                                 : (uint32_t)v[i].vm_state_size);
            store_be32(p + 36, extra);
            store_be64(p + 40, v[i].vm_state_size);
            store_be64(p + 48, v[i].disk_size);
            store_be64(p + 56, v[i].icount);
            uint8_t *q = p + 40 + QCOW2_SNAPSHOT_EXTRA_KNOWN;
            if (v[i].extra_unknown)
                memcpy(q, v[i].extra, v[i].extra_unknown);
            memcpy(q + v[i].extra_unknown, v[i].id, il);
            memcpy(q + v[i].extra_unknown + il, v[i].name, nl);
            p += qcow2_align_up(40 + extra + il + nl, 8);
        }
        r = qcow2_alloc_clusters(s, qcow2_align_up(sz, s->cluster_size) >> s->cluster_bits,
                                 &off, errp);
        if (r == 0)
            r = qcow2_cache_flush(s, s->rb_cache, errp);
        if (r == 0)
            r = strata_pwrite(s->file, off, qcow2_align_up(sz, 512), buf, 0, errp);
        free(buf);
        if (r == 0)
            r = strata_flush(s->file, errp);
        if (r < 0)
            return r;
    }
    uint8_t hv[12];
    store_be32(hv, n);
    store_be64(hv + 4, off);
    r = strata_pwrite(s->file, 60, 12, hv, 0, errp);
    if (r == 0)
        r = strata_flush(s->file, errp);
    if (r < 0)
        return r;
    for (uint32_t i = 0; i < n; i++)
        if (v[i].extra_size < QCOW2_SNAPSHOT_EXTRA_KNOWN)
            v[i].extra_size = QCOW2_SNAPSHOT_EXTRA_KNOWN;
    uint64_t old = s->snapshots_offset, old_sz = s->snapshots_size;
    s->snapshots_offset = off;
    s->snapshots_size = sz;
    s->nb_snapshots = n;
    if (old && old_sz)
        r = qcow2_update_refcount(s, old, old_sz, -1, errp);
    return r;
}

int qcow2_write_snapshots(struct qcow2_state *s, struct strata_error **errp)
{
    return write_table(s, s->snaps, s->nb_snapshots, errp);
}

static int read_l1(struct qcow2_state *s, uint64_t off, uint32_t n, uint64_t **out,
                   struct strata_error **errp)
{
    uint64_t *t = calloc(n ? n : 1, 8);
    if (!t)
        return strata_error_set(errp, ENOMEM, "out of memory");
    int r = n ? strata_pread(s->file, off, (uint64_t)n * 8, t, 0, errp) : 0;
    if (r < 0) {
        free(t);
        return r;
    }
    for (uint32_t i = 0; i < n; i++)
        t[i] = load_be64(&t[i]);
    *out = t;
    return 0;
}

/* Adds addend to the refcount of every L2 table and data cluster the L1
 * table references. */
static int tree_refcount(struct qcow2_state *s, const uint64_t *l1, uint32_t n,
                         int64_t addend, struct strata_error **errp)
{
    uint8_t *l2 = malloc(s->cluster_size);
    if (!l2)
        return strata_error_set(errp, ENOMEM, "out of memory");
    int r = 0;
    for (uint32_t i = 0; i < n && r == 0; i++) {
        uint64_t t = l1[i] & QCOW2_OFFSET_MASK;
        if (!t)
            continue;
        void *c;
        r = qcow2_cache_get(s, s->l2_cache, t, &c, errp);
        if (r < 0)
            break;
        memcpy(l2, c, s->cluster_size);
        qcow2_cache_put(s->l2_cache, c);
        for (uint64_t j = 0; j < s->l2_entries && r == 0; j++) {
            uint64_t e = load_be64(l2 + j * s->l2_entry_size);
            if (e & QCOW2_OFLAG_COMPRESSED) {
                uint64_t host, nb;
                qcow2_compressed_loc(s, e, &host, &nb);
                uint64_t a = host & ~511ull;
                r = qcow2_update_refcount(s, a, qcow2_align_up(host + nb, 512) - a, addend,
                                          errp);
            } else if ((e & QCOW2_OFFSET_MASK) && s->data == s->file) {
                r = qcow2_update_refcount(s, e & QCOW2_OFFSET_MASK, s->cluster_size, addend,
                                          errp);
            }
        }
        if (r == 0)
            r = qcow2_update_refcount(s, t, s->cluster_size, addend, errp);
    }
    free(l2);
    return r;
}

/* Makes the COPIED flags of the active tree say whether refcount == 1. */
static int fix_copied(struct qcow2_state *s, struct strata_error **errp)
{
    bool l1_changed = false;
    int r;
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t t = s->l1[i] & QCOW2_OFFSET_MASK;
        if (!t)
            continue;
        uint64_t rc;
        if ((r = qcow2_get_refcount(s, t >> s->cluster_bits, &rc, errp)) < 0)
            return r;
        uint64_t want = rc == 1 ? (t | QCOW2_OFLAG_COPIED) : t;
        if (want != s->l1[i]) {
            s->l1[i] = want;
            l1_changed = true;
        }
        /* Shared tables too: the flags of the active tree must be right,
         * and other trees ignore them. */
        void *c;
        if ((r = qcow2_cache_get(s, s->l2_cache, t, &c, errp)) < 0)
            return r;
        bool dirty = false;
        for (uint64_t j = 0; j < s->l2_entries; j++) {
            uint8_t *p = (uint8_t *)c + j * s->l2_entry_size;
            uint64_t e = load_be64(p);
            if ((e & QCOW2_OFLAG_COMPRESSED) || !(e & QCOW2_OFFSET_MASK) || s->data != s->file)
                continue;
            uint64_t erc;
            if ((r = qcow2_get_refcount(s, (e & QCOW2_OFFSET_MASK) >> s->cluster_bits, &erc,
                                        errp)) < 0) {
                qcow2_cache_put(s->l2_cache, c);
                return r;
            }
            uint64_t ne = erc == 1 ? (e | QCOW2_OFLAG_COPIED) : (e & ~QCOW2_OFLAG_COPIED);
            if (ne != e) {
                store_be64(p, ne);
                dirty = true;
            }
        }
        if (dirty)
            qcow2_cache_dirty(s->l2_cache, c);
        qcow2_cache_put(s->l2_cache, c);
    }
    if (l1_changed) {
        uint64_t *be = malloc((uint64_t)s->l1_size * 8);
        if (!be)
            return strata_error_set(errp, ENOMEM, "out of memory");
        for (uint32_t i = 0; i < s->l1_size; i++)
            store_be64(&be[i], s->l1[i]);
        r = qcow2_cache_flush(s, s->l2_cache, errp);
        qcow2_event(s, STRATA_EV_L1_UPDATE);
        if (r == 0)
            r = strata_pwrite(s->file, s->l1_offset, (uint64_t)s->l1_size * 8, be, 0, errp);
        free(be);
        if (r < 0)
            return r;
    }
    return qcow2_flush_all(s, errp);
}

static int find(struct qcow2_state *s, const char *name)
{
    for (uint32_t i = 0; i < s->nb_snapshots; i++)
        if (!strcmp(s->snaps[i].id, name))
            return (int)i;
    for (uint32_t i = 0; i < s->nb_snapshots; i++)
        if (!strcmp(s->snaps[i].name, name))
            return (int)i;
    return -1;
}

static int snapshot_prepare(struct qcow2_state *s, struct strata_error **errp)
{
    if (s->data != s->file)
        return strata_error_set(errp, ENOTSUP, "%s: internal snapshots are not supported "
                                "with an external data file", s->name);
    int r = qcow2_prepare_write(s, errp);
    if (r == 0)
        r = qcow2_flush_all(s, errp);
    return r;
}

/* The index of an existing snapshot (by id or name), with the image ready
 * for the snapshot to be changed; or -errno. */
static int find_existing(struct qcow2_state *s, const char *name, struct strata_error **errp)
{
    int i = find(s, name);
    if (i < 0)
        return strata_error_set(errp, ENOENT, "%s: no snapshot '%s'", s->name, name);
    int r = snapshot_prepare(s, errp);
    return r < 0 ? r : i;
}

int qcow2_snapshot_create(struct qcow2_state *s, const char *name,
                          struct strata_error **errp)
{
    if (!name || !*name)
        return strata_error_set(errp, EINVAL, "%s: a snapshot needs a name", s->name);
    if (strlen(name) > 65535)
        return strata_error_set(errp, EINVAL, "%s: snapshot name is too long", s->name);
    if (find(s, name) >= 0)
        return strata_error_set(errp, EEXIST, "%s: a snapshot named '%s' already exists",
                                s->name, name);
    int r = snapshot_prepare(s, errp);
    if (r < 0)
        return r;
    unsigned long max_id = 0;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        unsigned long v = strtoul(s->snaps[i].id, NULL, 10);
        if (v > max_id)
            max_id = v;
    }
    char id[24];
    snprintf(id, sizeof id, "%lu", max_id + 1);

    /* References from the snapshot first, then its L1 copy. */
    r = tree_refcount(s, s->l1, s->l1_size, 1, errp);
    if (r < 0)
        return r;
    uint64_t l1_bytes = qcow2_align_up((uint64_t)s->l1_size * 8, s->cluster_size), l1_off = 0;
    if (s->l1_size) {
        r = qcow2_alloc_clusters(s, l1_bytes >> s->cluster_bits, &l1_off, errp);
        if (r < 0)
            return r;
        uint64_t *be = calloc(1, l1_bytes);
        if (!be)
            return strata_error_set(errp, ENOMEM, "out of memory");
        for (uint32_t i = 0; i < s->l1_size; i++)
            store_be64(&be[i], s->l1[i] & ~QCOW2_OFLAG_COPIED);
        r = qcow2_cache_flush(s, s->rb_cache, errp);
        if (r == 0)
            r = strata_pwrite(s->file, l1_off, (uint64_t)s->l1_size * 8, be, 0, errp);
        free(be);
        if (r < 0)
            return r;
    }
    struct qcow2_snapshot *v = calloc(s->nb_snapshots + 1, sizeof *v);
    if (!v)
        return strata_error_set(errp, ENOMEM, "out of memory");
    if (s->nb_snapshots)
        memcpy(v, s->snaps, s->nb_snapshots * sizeof *v);
    struct qcow2_snapshot *sn = &v[s->nb_snapshots];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    sn->l1_offset = l1_off;
    sn->l1_size = s->l1_size;
    sn->id = strdup(id);
    sn->name = strdup(name);
    sn->date_sec = (uint32_t)ts.tv_sec;
    sn->date_nsec = (uint32_t)ts.tv_nsec;
    sn->disk_size = s->size;
    /* qemu-img records no VM state and an instruction count of 0 */
    sn->extra_size = QCOW2_SNAPSHOT_EXTRA_KNOWN;
    uint32_t n = s->nb_snapshots + 1;
    r = write_table(s, v, n, errp);
    if (r < 0) {
        free(sn->id);
        free(sn->name);
        free(v);
        return r;
    }
    free(s->snaps);
    s->snaps = v;
    return fix_copied(s, errp);
}

int qcow2_snapshot_goto(struct qcow2_state *s, const char *name, struct strata_error **errp)
{
    int i = find_existing(s, name, errp);
    if (i < 0)
        return i;
    struct qcow2_snapshot *sn = &s->snaps[i];
    uint64_t *sl1;
    int r = read_l1(s, sn->l1_offset, sn->l1_size, &sl1, errp);
    if (r < 0)
        return r;
    if (sn->l1_size > s->l1_size) {
        r = qcow2_grow_l1(s, sn->l1_size, errp);
        if (r < 0)
            goto out;
    }
    r = tree_refcount(s, sl1, sn->l1_size, 1, errp);
    if (r == 0)
        r = qcow2_flush_all(s, errp);
    if (r < 0)
        goto out;
    uint64_t *old = malloc((uint64_t)s->l1_size * 8 + 8);
    if (!old) {
        r = strata_error_set(errp, ENOMEM, "out of memory");
        goto out;
    }
    memcpy(old, s->l1, (uint64_t)s->l1_size * 8);
    uint32_t old_n = s->l1_size;
    uint64_t *be = calloc(s->l1_size ? s->l1_size : 1, 8);
    for (uint32_t k = 0; be && k < s->l1_size; k++)
        store_be64(&be[k], k < sn->l1_size ? sl1[k] & ~QCOW2_OFLAG_COPIED : 0);
    qcow2_event(s, STRATA_EV_L1_UPDATE);
    r = be ? strata_pwrite(s->file, s->l1_offset, (uint64_t)s->l1_size * 8, be, 0, errp)
           : strata_error_set(errp, ENOMEM, "out of memory");
    if (r == 0)
        r = strata_flush(s->file, errp);
    free(be);
    if (r == 0) {
        for (uint32_t k = 0; k < s->l1_size; k++)
            s->l1[k] = k < sn->l1_size ? sl1[k] & ~QCOW2_OFLAG_COPIED : 0;
        if (sn->disk_size != s->size) {
            uint8_t v[8];
            store_be64(v, sn->disk_size);
            r = strata_pwrite(s->file, 24, 8, v, 0, errp);
            if (r == 0)
                __atomic_store_n(&s->size, sn->disk_size, __ATOMIC_RELAXED);
        }
    }
    if (r == 0)
        r = tree_refcount(s, old, old_n, -1, errp);
    free(old);
    s->dc_valid = false;
    if (r == 0)
        r = fix_copied(s, errp);
out:
    free(sl1);
    return r;
}

int qcow2_snapshot_load_tmp(struct qcow2_state *s, const char *name,
                            struct strata_error **errp)
{
    int i = find(s, name);
    if (i < 0)
        return strata_error_set(errp, ENOENT, "Can't find snapshot");
    struct qcow2_snapshot *sn = &s->snaps[i];
    uint64_t *sl1;
    int r = read_l1(s, sn->l1_offset, sn->l1_size, &sl1, errp);
    if (r < 0)
        return r;
    for (uint32_t k = 0; k < sn->l1_size; k++)
        sl1[k] &= ~QCOW2_OFLAG_COPIED;
    free(s->l1);
    s->l1 = sl1;
    s->l1_size = sn->l1_size;
    /* The image keeps its size, as in QEMU: past the snapshot's L1 table
     * it reads as unallocated. */
    s->dc_valid = false;
    return 0;
}

int qcow2_snapshot_delete(struct qcow2_state *s, const char *name,
                          struct strata_error **errp)
{
    int i = find_existing(s, name, errp);
    if (i < 0)
        return i;
    struct qcow2_snapshot gone = s->snaps[i];
    uint64_t *sl1;
    int r = read_l1(s, gone.l1_offset, gone.l1_size, &sl1, errp);
    if (r < 0)
        return r;
    uint32_t n = s->nb_snapshots - 1;
    struct qcow2_snapshot *v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        free(sl1);
        return strata_error_set(errp, ENOMEM, "out of memory");
    }
    for (uint32_t k = 0, j = 0; k < s->nb_snapshots; k++)
        if ((int)k != i)
            v[j++] = s->snaps[k];
    r = write_table(s, v, n, errp);
    if (r < 0) {
        free(v);
        free(sl1);
        return r;
    }
    free(s->snaps);
    s->snaps = v;
    r = tree_refcount(s, sl1, gone.l1_size, -1, errp);
    if (r == 0 && gone.l1_size)
        r = qcow2_update_refcount(s, gone.l1_offset,
                                  qcow2_align_up((uint64_t)gone.l1_size * 8, s->cluster_size),
                                  -1, errp);
    free(gone.id);
    free(gone.name);
    free(gone.extra);
    free(sl1);
    if (r == 0)
        r = fix_copied(s, errp);
    return r;
}

int qcow2_snapshot_list(struct qcow2_state *s, struct strata_info *list,
                        struct strata_error **errp)
{
    /* A table left for check to read lists nothing. */
    for (uint32_t i = 0; s->snaps && i < s->nb_snapshots; i++) {
        struct qcow2_snapshot *sn = &s->snaps[i];
        struct strata_info *o = strata_info_add_object(list, NULL);
        strata_info_add_str(o, "id", sn->id);
        strata_info_add_str(o, "name", sn->name);
        strata_info_add_uint(o, "vm-state-size", sn->vm_state_size);
        strata_info_add_int(o, "date-sec", sn->date_sec);
        strata_info_add_int(o, "date-nsec", sn->date_nsec);
        strata_info_add_uint(o, "vm-clock-sec", sn->vm_clock_nsec / 1000000000ull);
        strata_info_add_uint(o, "vm-clock-nsec", sn->vm_clock_nsec % 1000000000ull);
        /* All ones: not recorded. */
        if (sn->icount != UINT64_MAX)
            strata_info_add_uint(o, "icount", sn->icount);
    }
    return 0;
}
