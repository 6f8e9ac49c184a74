/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* overlap.c - QEMU's overlap-check: before the driver writes to a range of
 * the image file it makes sure the range holds none of the metadata
 * structures the option enables, and a write that would is refused and the
 * image marked corrupt.  Such a write can only come from metadata that
 * points where it must not (a refcount block saying the header is free, an
 * L2 entry pointing into the L1 table): stopping there keeps one broken
 * pointer from becoming a broken image. */
#include "qcow2.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const ol_names[] = {
    "main-header", "active-l1", "active-l2", "refcount-table", "refcount-block",
    "snapshot-table", "inactive-l1", "inactive-l2", "bitmap-directory",
};

/* QEMU's names of the structures in its corruption messages. */
static const char *const ol_text[] = {
    "qcow2_header", "active L1 table", "active L2 table", "refcount table",
    "refcount block", "snapshot table", "inactive L1 table", "inactive L2 table",
    "bitmap directory",
};

#define OL_COUNT (sizeof ol_names / sizeof ol_names[0])

/* The snapshot table's clusters (nothing else shares them). */
static uint64_t snapshot_table_bytes(const struct qcow2_state *s)
{
    uint64_t n = 0;
    for (uint32_t k = 0; k < s->nb_snapshots; k++)
        n += qcow2_align_up(40 + (uint64_t)s->snaps[k].extra_size + strlen(s->snaps[k].id) +
                            strlen(s->snaps[k].name), 8);
    return qcow2_align_up(n, s->cluster_size);
}

int qcow2_overlap_opts(struct qcow2_state *s, const struct strata_opts *opts,
                       struct strata_error **errp)
{
    const char *mode = strata_opts_get(opts, "overlap-check");
    const char *tmpl = strata_opts_get(opts, "overlap-check.template");
    if (mode && tmpl && strcmp(mode, tmpl) != 0)
        return strata_error_set(errp, EINVAL, "Conflicting values for qcow2 options "
                                "'overlap-check' ('%s') and 'overlap-check.template' ('%s')",
                                mode, tmpl);
    if (!mode)
        mode = tmpl ? tmpl : "cached";
    unsigned mask;
    if (strcmp(mode, "none") == 0)
        mask = 0;
    else if (strcmp(mode, "constant") == 0)
        mask = QCOW2_OL_CONSTANT;
    else if (strcmp(mode, "cached") == 0)
        mask = QCOW2_OL_CACHED;
    else if (strcmp(mode, "all") == 0)
        mask = QCOW2_OL_ALL;
    else
        return strata_error_set(errp, EINVAL, "Unsupported value '%s' for qcow2 option "
                                "'overlap-check'. Allowed are any of the following: none, "
                                "constant, cached, all", mode);
    for (unsigned i = 0; i < OL_COUNT; i++) {
        char key[64];
        snprintf(key, sizeof key, "overlap-check.%s", ol_names[i]);
        bool on = mask & (1u << i);
        int r = strata_opts_get_bool(opts, key, &on, errp);
        if (r < 0)
            return r;
        mask = on ? mask | (1u << i) : mask & ~(1u << i);
    }
    s->overlap_mask = mask;
    return 0;
}

static bool hits(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

/* Whether [off, off+len) meets one of the L2 tables of `l1` (n entries). */
static bool hits_l2(const struct qcow2_state *s, const uint64_t *l1, uint64_t n, uint64_t off,
                    uint64_t len)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t t = l1[i] & QCOW2_OFFSET_MASK;
        if (t && hits(off, len, t, s->cluster_size))
            return true;
    }
    return false;
}

/* The inactive L2 tables: the snapshots' L1 tables are read from the file,
 * which is why only "all" checks them, as in QEMU. */
static int hits_inactive_l2(struct qcow2_state *s, uint64_t off, uint64_t len, bool *hit)
{
    *hit = false;
    for (uint32_t k = 0; k < s->nb_snapshots && !*hit; k++) {
        uint32_t n = s->snaps[k].l1_size;
        if (!n)
            continue;
        uint64_t *l1 = malloc((uint64_t)n * 8);
        if (!l1)
            return -ENOMEM;
        int r = strata_pread(s->file, s->snaps[k].l1_offset, (uint64_t)n * 8, l1, 0, NULL);
        if (r == 0) {
            for (uint32_t i = 0; i < n; i++)
                l1[i] = load_be64(&l1[i]);
            *hit = hits_l2(s, l1, n, off, len);
        }
        free(l1);
        if (r < 0)
            return r;
    }
    return 0;
}

/* The first enabled structure [off, off+len) meets, as a bit; 0 for none. */
static unsigned overlap(struct qcow2_state *s, unsigned chk, uint64_t off, uint64_t len)
{
    uint64_t csz = s->cluster_size;
    if ((chk & QCOW2_OL_MAIN_HEADER) && off < csz && len)
        return QCOW2_OL_MAIN_HEADER;
    if ((chk & QCOW2_OL_ACTIVE_L1) && s->l1_size &&
        hits(off, len, s->l1_offset, qcow2_align_up((uint64_t)s->l1_size * 8, csz)))
        return QCOW2_OL_ACTIVE_L1;
    if ((chk & QCOW2_OL_REFCOUNT_TABLE) &&
        hits(off, len, s->rt_offset, (uint64_t)s->rt_clusters * csz))
        return QCOW2_OL_REFCOUNT_TABLE;
    if ((chk & QCOW2_OL_SNAPSHOT_TABLE) && s->nb_snapshots &&
        hits(off, len, s->snapshots_offset, snapshot_table_bytes(s)))
        return QCOW2_OL_SNAPSHOT_TABLE;
    if (chk & QCOW2_OL_INACTIVE_L1) {
        for (uint32_t k = 0; k < s->nb_snapshots; k++)
            if (s->snaps[k].l1_size &&
                hits(off, len, s->snaps[k].l1_offset,
                     qcow2_align_up((uint64_t)s->snaps[k].l1_size * 8, csz)))
                return QCOW2_OL_INACTIVE_L1;
    }
    if ((chk & QCOW2_OL_ACTIVE_L2) && hits_l2(s, s->l1, s->l1_size, off, len))
        return QCOW2_OL_ACTIVE_L2;
    if (chk & QCOW2_OL_REFCOUNT_BLOCK) {
        for (uint64_t i = 0; i < s->rt_entries; i++) {
            uint64_t b = s->rt[i] & QCOW2_OFFSET_MASK;
            if (b && hits(off, len, b, csz))
                return QCOW2_OL_REFCOUNT_BLOCK;
        }
    }
    if ((chk & QCOW2_OL_BITMAP_DIRECTORY) && s->has_bitmaps_ext) {
        uint64_t dsz = load_be64(s->bitmaps_ext + 8), doff = load_be64(s->bitmaps_ext + 16);
        if (hits(off, len, doff, dsz))
            return QCOW2_OL_BITMAP_DIRECTORY;
    }
    if (chk & QCOW2_OL_INACTIVE_L2) {
        bool hit = false;
        /* A snapshot table that cannot be read is no reason to stop a
         * write; the other checks still ran. */
        if (hits_inactive_l2(s, off, len, &hit) == 0 && hit)
            return QCOW2_OL_INACTIVE_L2;
    }
    return 0;
}

int qcow2_overlap_check(struct qcow2_state *s, unsigned ignore, uint64_t off, uint64_t len,
                        struct strata_error **errp)
{
    unsigned chk = s->overlap_mask & ~ignore;
    if (!chk || !len)
        return 0;
    unsigned hit = overlap(s, chk, off, len);
    if (!hit)
        return 0;
    unsigned i = 0;
    while (!(hit & (1u << i)))
        i++;
    return qcow2_signal_corruption(s, errp, "Preventing invalid write on metadata "
                                   "(overlaps with %s)", ol_text[i]);
}

int qcow2_overlap_check_data(struct qcow2_state *s, uint64_t host, uint64_t len,
                             struct strata_error **errp)
{
    if (s->data != s->file || !s->overlap_mask)
        return 0;
    pthread_mutex_lock(&s->meta);
    int r = qcow2_overlap_check(s, 0, host, len, errp);
    pthread_mutex_unlock(&s->meta);
    return r;
}

int qcow2_signal_corruption(struct qcow2_state *s, struct strata_error **errp,
                            const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!s->corruption_signaled) {
        /* QEMU's words, on stderr as QEMU prints them: tests and users
         * look for this line. */
        fprintf(stderr, "qcow2: Marking image as corrupt: %s; further corruption events "
                "will be suppressed\n", msg);
        fflush(stderr);
        s->corruption_signaled = true;
    }
    if (!(s->incompat & QCOW2_INCOMPAT_CORRUPT)) {
        s->incompat |= QCOW2_INCOMPAT_CORRUPT;
        if (s->version >= 3) {
            uint8_t v[8];
            store_be64(v, s->incompat);
            if (strata_pwrite(s->file, 72, 8, v, 0, NULL) == 0)
                strata_flush(s->file, NULL);
        }
    }
    return strata_error_set(errp, EIO, "%s: %s", s->name, msg);
}
