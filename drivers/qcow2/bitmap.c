/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bitmap.c - the persistent dirty bitmap directory (qcow2 bitmaps extension).
 *
 * Bitmaps are read for reporting only; keeping them in step with writes is
 * not implemented (docs/qcow2.md), so the first write still clears the
 * autoclear bit and QEMU then treats them as inconsistent.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "qcow2.h"

/* The directory is read whole; the cap keeps a hostile header cheap and
 * matches what check accepts. */
#define QCOW2_MAX_BITMAP_DIR_BYTES (64ull << 20)
#define QCOW2_BITMAP_ENTRY_HDR 24u
#define QCOW2_BITMAP_MAX_NAME 1023u
#define QCOW2_MAX_BITMAPS 65535u
#define QCOW2_BITMAP_MIN_GRAN_BITS 9
#define QCOW2_BITMAP_MAX_GRAN_BITS 31
#define QCOW2_BITMAP_TYPE_DIRTY 1
#define QCOW2_BME_IN_USE (1u << 0)
#define QCOW2_BME_AUTO   (1u << 1)

void qcow2_bitmap_dir_free(struct qcow2_bitmap *bm, uint32_t n)
{
    if (!bm)
        return;
    for (uint32_t i = 0; i < n; i++)
        free(bm[i].name);
    free(bm);
}

int qcow2_bitmap_dir_read(struct qcow2_state *s, struct qcow2_bitmap **out, uint32_t *nout,
                          struct strata_error **errp)
{
    *out = NULL;
    *nout = 0;
    if (!s->has_bitmaps_ext || !(s->autoclear & QCOW2_AUTOCLEAR_BITMAPS))
        return 0;
    uint32_t nb = load_be32(s->bitmaps_ext);
    uint64_t dsize = load_be64(s->bitmaps_ext + 8), doff = load_be64(s->bitmaps_ext + 16);
    if (!nb)
        return 0;
    if (nb > QCOW2_MAX_BITMAPS)
        return strata_error_set(errp, EINVAL, "%s: %" PRIu32 " bitmaps in the bitmaps "
                                "extension, at most %u are allowed", s->name, nb,
                                QCOW2_MAX_BITMAPS);
    if (dsize > QCOW2_MAX_BITMAP_DIR_BYTES || dsize < (uint64_t)nb * QCOW2_BITMAP_ENTRY_HDR)
        return strata_error_set(errp, EINVAL, "%s: bitmap directory size %" PRIu64
                                " is invalid for %" PRIu32 " bitmaps (at most %llu bytes)",
                                s->name, dsize, nb, QCOW2_MAX_BITMAP_DIR_BYTES);
    if (doff & (s->cluster_size - 1))
        return strata_error_set(errp, EINVAL, "%s: bitmap directory offset 0x%" PRIx64
                                " is not cluster aligned", s->name, doff);
    uint8_t *dir = malloc(dsize);
    struct qcow2_bitmap *bm = calloc(nb, sizeof *bm);
    if (!dir || !bm) {
        free(dir);
        free(bm);
        return strata_error_set(errp, ENOMEM, "%s: out of memory for the bitmap directory",
                                s->name);
    }
    int r = strata_pread(s->file, doff, dsize, dir, 0, errp);
    if (r < 0) {
        strata_error_prefix(errp, "%s: bitmap directory", s->name);
        goto fail;
    }
    uint64_t o = 0;
    for (uint32_t i = 0; i < nb; i++) {
        if (o + QCOW2_BITMAP_ENTRY_HDR > dsize) {
            r = strata_error_set(errp, EINVAL, "%s: bitmap directory entry %" PRIu32
                                 " lies past the directory's end", s->name, i);
            goto fail;
        }
        const uint8_t *e = dir + o;
        struct qcow2_bitmap *b = &bm[i];
        b->table_offset = load_be64(e);
        b->table_size = load_be32(e + 8);
        b->flags = load_be32(e + 12);
        b->type = e[16];
        b->granularity_bits = e[17];
        uint16_t nlen = load_be16(e + 18);
        uint32_t xlen = load_be32(e + 20);
        uint64_t len = qcow2_align_up((uint64_t)QCOW2_BITMAP_ENTRY_HDR + xlen + nlen, 8);
        if (!nlen || nlen > QCOW2_BITMAP_MAX_NAME || o + len > dsize) {
            r = strata_error_set(errp, EINVAL, "%s: bitmap directory entry %" PRIu32
                                 " has an invalid name length %u", s->name, i, nlen);
            goto fail;
        }
        if (b->type != QCOW2_BITMAP_TYPE_DIRTY ||
            b->granularity_bits < QCOW2_BITMAP_MIN_GRAN_BITS ||
            b->granularity_bits > QCOW2_BITMAP_MAX_GRAN_BITS) {
            r = strata_error_set(errp, EINVAL, "%s: bitmap directory entry %" PRIu32
                                 " has type %u and granularity bits %u (type 1 and "
                                 "9 to 31 are valid)", s->name, i, b->type,
                                 b->granularity_bits);
            goto fail;
        }
        b->name = strndup((const char *)e + QCOW2_BITMAP_ENTRY_HDR + xlen, nlen);
        if (!b->name) {
            r = strata_error_set(errp, ENOMEM, "%s: out of memory", s->name);
            goto fail;
        }
        o += len;
    }
    free(dir);
    *out = bm;
    *nout = nb;
    return 0;
fail:
    free(dir);
    qcow2_bitmap_dir_free(bm, nb);
    return r < 0 ? r : -EINVAL;
}

/* The list qemu-img info shows: flags (in-use before auto), name and
 * granularity for each bitmap. */
int qcow2_bitmap_info(struct qcow2_state *s, struct strata_info *obj,
                      struct strata_error **errp)
{
    if (!s->has_bitmaps_ext || !(s->autoclear & QCOW2_AUTOCLEAR_BITMAPS))
        return 0;
    struct qcow2_bitmap *bm;
    uint32_t n;
    int r = qcow2_bitmap_dir_read(s, &bm, &n, errp);
    if (r < 0)
        return r;
    struct strata_info *list = strata_info_add_list(obj, "bitmaps");
    for (uint32_t i = 0; i < n; i++) {
        struct strata_info *o = strata_info_add_object(list, NULL);
        struct strata_info *fl = strata_info_add_list(o, "flags");
        if (bm[i].flags & QCOW2_BME_IN_USE)
            strata_info_add_str(fl, NULL, "in-use");
        if (bm[i].flags & QCOW2_BME_AUTO)
            strata_info_add_str(fl, NULL, "auto");
        strata_info_add_str(o, "name", bm[i].name);
        strata_info_add_uint(o, "granularity", 1ull << bm[i].granularity_bits);
    }
    qcow2_bitmap_dir_free(bm, n);
    return 0;
}
