/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create.c - new images and measure.  A new image starts minimal (header,
 * one refcount table cluster, one refcount block, no L1 table); it is then
 * opened and grown to its size through the ordinary resize path, so the
 * layout logic exists once. */
#include "qcow2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "prealloc.h"

static bool is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static unsigned log2_of(uint64_t v)
{
    unsigned n = 0;
    while (v > 1) {
        v >>= 1;
        n++;
    }
    return n;
}

int qcow2_parse_create_opts(const struct strata_opts *o, uint32_t *cluster_bits,
                            uint32_t *version, uint32_t *refcount_order, bool *extended,
                            struct strata_error **errp)
{
    uint64_t csz = 65536, rbits = 16;
    int r;
    if ((r = strata_opts_get_size(o, "cluster_size", &csz, errp)) < 0 ||
        (r = strata_opts_get_u64(o, "refcount_bits", &rbits, errp)) < 0 ||
        (r = strata_opts_get_bool(o, "extended_l2", extended, errp)) < 0)
        return r;
    if (!is_pow2(csz) || csz < 512 || csz > (2u << 20))
        return strata_error_set(errp, EINVAL, "Cluster size must be a power of two between "
                                "512 and 2048k");
    if (!is_pow2(rbits) || rbits > 64)
        return strata_error_set(errp, EINVAL, "Refcount width must be a power of two and "
                                "may not exceed 64 bits");
    const char *compat = strata_opts_get(o, "compat");
    *version = 3;
    if (compat && (!strcmp(compat, "0.10") || !strcmp(compat, "v2")))
        *version = 2;
    if (*version == 2 && rbits != 16)
        return strata_error_set(errp, EINVAL, "Different refcount widths than 16 bits "
                                "require compatibility level 1.1 or above (use version=v3 "
                                "or greater)");
    if (*extended && *version == 2)
        return strata_error_set(errp, EINVAL, "Extended L2 entries are only supported with "
                                "compatibility level 1.1 and above (use version=v3 or "
                                "greater)");
    if (*extended && csz < 16384)
        return strata_error_set(errp, EINVAL, "Extended L2 entries are only supported with "
                                "cluster sizes of at least 16 KiB");
    *cluster_bits = log2_of(csz);
    *refcount_order = log2_of(rbits);
    return 0;
}

static int parse_prealloc(const struct strata_opts *o, enum strata_prealloc *p,
                          struct strata_error **errp)
{
    const char *v = strata_opts_get(o, "preallocation");
    if (prealloc_parse(v, p) < 0) {
        *p = STRATA_PREALLOC_OFF;
        return strata_error_set(errp, EINVAL, "Invalid preallocation mode: '%s'", v);
    }
    return 0;
}

/* Writes the minimal image: header, refcount table, one refcount block. */
static int write_skeleton(struct strata_node *file, uint32_t cluster_bits, uint32_t version,
                          uint32_t refcount_order, uint64_t incompat, uint64_t compat,
                          uint8_t compression, const char *data_file,
                          struct strata_error **errp)
{
    struct qcow2_state s;
    memset(&s, 0, sizeof s);
    s.name = strata_node_filename(file);
    s.version = version;
    s.cluster_bits = cluster_bits;
    s.cluster_size = 1ull << cluster_bits;
    s.rt_offset = s.cluster_size;
    s.rt_clusters = 1;
    s.incompat = incompat;
    s.compat = compat;
    s.refcount_order = refcount_order;
    s.refcount_bits = 1u << refcount_order;
    s.compression_type = compression;
    s.data_file_name = (char *)data_file;
    uint64_t csz = s.cluster_size;
    uint8_t *buf = calloc(3, csz);
    if (!buf)
        return strata_error_set(errp, ENOMEM, "out of memory");
    int r = qcow2_build_header(&s, buf, csz, errp);
    if (r >= 0) {
        store_be64(buf + csz, 2 * csz);             /* refcount block 0 */
        for (int i = 0; i < 3; i++)
            qcow2_rb_set(&s, buf + 2 * csz, (uint64_t)i, 1);
        r = strata_pwrite(file, 0, 3 * csz, buf, 0, errp);
    }
    if (r >= 0)
        r = strata_flush(file, errp);
    free(buf);
    return r < 0 ? r : 0;
}

int qcow2_create(struct strata_create *c, struct strata_error **errp)
{
    const struct strata_opts *o = strata_create_opts(c);
    const char *fn = strata_create_filename(c);
    uint64_t size = strata_create_size(c);
    uint32_t cluster_bits, version, refcount_order;
    bool extended = false, lazy = false, data_raw = false;
    enum strata_prealloc prealloc;
    int r;
    if ((r = qcow2_parse_create_opts(o, &cluster_bits, &version, &refcount_order, &extended,
                                     errp)) < 0 ||
        (r = parse_prealloc(o, &prealloc, errp)) < 0 ||
        (r = strata_opts_get_bool(o, "lazy_refcounts", &lazy, errp)) < 0 ||
        (r = strata_opts_get_bool(o, "data_file_raw", &data_raw, errp)) < 0)
        return r;
    if (size % 512)
        return strata_error_set(errp, EINVAL, "Image size must be a multiple of 512 bytes");
    if (lazy && version < 3)
        return strata_error_set(errp, EINVAL, "Lazy refcounts only supported with "
                                "compatibility level 1.1 and above (use version=v3 or "
                                "greater)");
    const char *ct = strata_opts_get(o, "compression_type");
    uint8_t compression = ct && !strcmp(ct, "zstd") ? QCOW2_COMPRESS_ZSTD : 0;
    if (compression && version < 3)
        return strata_error_set(errp, EINVAL, "Non-zlib compression type is only supported "
                                "with compatibility level 1.1 and above (use version=v3 or "
                                "greater)");
    const char *backing = strata_opts_get(o, "backing_file");
    const char *backing_fmt = strata_opts_get(o, "backing_fmt");
    const char *data_file = strata_opts_get(o, "data_file");
    if (backing_fmt && !backing)
        return strata_error_set(errp, EINVAL, "Backing format cannot be used without "
                                "backing file");
    if (backing && strlen(backing) > QCOW2_MAX_BACKING_NAME)
        return strata_error_set(errp, EINVAL, "Backing file name too long");
    if (data_file && version < 3)
        return strata_error_set(errp, EINVAL, "External data files are only supported with "
                                "compatibility level 1.1 and above (use version=v3 or "
                                "greater)");
    if (data_raw && !data_file)
        return strata_error_set(errp, EINVAL, "data_file_raw can only be used with data_file");
    if (data_raw && backing)
        return strata_error_set(errp, EINVAL, "Backing file and data_file_raw cannot be "
                                "used together");
    if (backing && prealloc != STRATA_PREALLOC_OFF && !extended)
        return strata_error_set(errp, EINVAL, "Backing file and preallocation can only be "
                                "used at the same time if extended_l2 is on");
    const char *enc = strata_opts_get(o, "encrypt.format");
    bool legacy = false;
    if ((r = strata_opts_get_bool(o, "encryption", &legacy, errp)) < 0)
        return r;
    if (legacy && enc && strcmp(enc, "aes"))
        return strata_error_set(errp, EINVAL, "encryption=on conflicts with encrypt.format=%s",
                                enc);
    if (legacy)
        enc = "aes";
    if (enc && data_file)
        return strata_error_set(errp, EINVAL, "%s: encryption with an external data file is "
                                "not supported", fn);

    uint64_t incompat = 0, compat = 0;
    if (extended)
        incompat |= QCOW2_INCOMPAT_EXTL2;
    if (compression)
        incompat |= QCOW2_INCOMPAT_COMPRESSION;
    if (data_file)
        incompat |= QCOW2_INCOMPAT_DATA_FILE;
    if (lazy)
        compat |= QCOW2_COMPAT_LAZY;

    if (data_file) {
        r = strata_image_create("file", data_file, 0, NULL, errp);
        if (r < 0)
            return r;
    }
    struct strata_node *file;
    r = strata_create_child(c, "file", 0, false, &file, errp);
    if (r < 0)
        return r;
    r = write_skeleton(file, cluster_bits, version, refcount_order, incompat, compat,
                       compression, data_file, errp);
    strata_close(file);
    if (r < 0)
        return r;

    /* Open what we wrote and grow it to its size through the driver. */
    struct strata_opts *oo = strata_opts_subset(o, "file");
    struct strata_opts *open_opts = strata_opts_new();
    strata_opts_merge(open_opts, oo, "file");
    strata_opts_free(oo);
    strata_opts_set(open_opts, "driver", "qcow2");
    strata_opts_set(open_opts, "file.filename", fn);
    if (data_file)
        strata_opts_set(open_opts, "data-file.filename", data_file);
    struct strata_node *node;
    r = strata_open_opts(open_opts, STRATA_O_RDWR | STRATA_O_NO_BACKING, &node, errp);
    strata_opts_free(open_opts);
    if (r < 0)
        return r;
    struct qcow2_state *s = strata_node_state(node);
    if (enc) {
        r = qcow2_crypto_create(s, o, errp);
        if (r < 0)
            goto out;
    }
    if (data_raw)
        s->autoclear |= QCOW2_AUTOCLEAR_DATA_RAW;
    if (backing) {
        s->backing_file = strdup(backing);
        s->backing_fmt = backing_fmt ? strdup(backing_fmt) : NULL;
    }
    r = qcow2_write_header(s, errp);
    if (r < 0)
        goto out;
    r = strata_truncate(node, size, false, prealloc, errp);
    if (r == 0)
        r = strata_flush(node, errp);
out:
    strata_close(node);
    return r;
}

int qcow2_measure(const struct strata_opts *o, uint64_t size, struct strata_node *src,
                  struct strata_measure *out, struct strata_error **errp)
{
    uint32_t cluster_bits, version, refcount_order;
    bool extended = false;
    int r = qcow2_parse_create_opts(o, &cluster_bits, &version, &refcount_order, &extended,
                                    errp);
    if (r < 0)
        return r;
    uint64_t csz = 1ull << cluster_bits;
    uint64_t esz = extended ? 16 : 8;
    if (src) {
        int64_t l = strata_get_length(src);
        if (l < 0)
            return strata_error_set(errp, (int)-l, "cannot get the size of the source");
        size = (uint64_t)l;
    }
    size = qcow2_align_up(size, 512);
    uint64_t l2_tables = (qcow2_align_up(size, csz) / csz + csz / esz - 1) / (csz / esz);
    if (l2_tables * 8 > QCOW2_MAX_L1_BYTES)
        return strata_error_set(errp, EFBIG, "The image size is too large (try using a "
                                "larger cluster size)");
    uint64_t data = 0;
    /* With a backing file the new image may share nothing with it: every
     * cluster may need writing, as qemu-img measure assumes. */
    if (src && strata_opts_get(o, "backing_file"))
        data = qcow2_align_up(size, csz);
    else if (src) {
        for (uint64_t off = 0; off < size;) {
            struct strata_block_status bs;
            int depth;
            r = strata_block_status_above(src, off, size - off, &bs, &depth, errp);
            if (r < 0)
                return r;
            if ((bs.flags & STRATA_BS_DATA) && !(bs.flags & STRATA_BS_ZERO)) {
                uint64_t a = off & ~(csz - 1), b = qcow2_align_up(off + bs.pnum, csz);
                data += b - a;
            }
            off += bs.pnum;
        }
        if (data > qcow2_align_up(size, csz))
            data = qcow2_align_up(size, csz);
    }
    enum strata_prealloc pre;
    /* Metadata preallocation maps clusters but writes no data. */
    bool full_pre = prealloc_parse(strata_opts_get(o, "preallocation"), &pre) == 0 &&
                    (pre == STRATA_PREALLOC_FALLOC || pre == STRATA_PREALLOC_FULL);
    uint64_t virt = qcow2_align_up(size, csz);
    uint64_t l2_per = csz / esz;
    /* Metadata of the fully allocated image: header, L1, every L2 table, and
     * the refcount table and blocks covering all of it.  As qemu-img, the
     * required size counts all of it too, plus only the data that will be
     * written: an overestimate, but one both tools give. */
    uint64_t l2 = (virt / csz + l2_per - 1) / l2_per;
    uint64_t meta = csz + qcow2_align_up(l2 * 8, csz) + l2 * csz;
    uint64_t per_rb = csz * 8 >> refcount_order;
    uint64_t rbs = 0, rt = 0;
    for (int k = 0; k < 4; k++) {
        uint64_t n = (meta + virt + rbs * csz + rt) / csz;
        rbs = (n + per_rb - 1) / per_rb;
        rt = qcow2_align_up(rbs * 8, csz);
    }
    meta += rbs * csz + rt;
    uint64_t luks;
    if ((r = qcow2_crypto_measure(o, csz, &luks, errp)) < 0)
        return r;
    meta += luks;
    out->required = meta + (full_pre ? virt : data);
    out->fully_allocated = meta + virt;
    return 0;
}
