/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* header.c - the qcow2 header and its extensions: parsing with the checks
 * that keep a bad image from being trusted, and rewriting it with unknown
 * extensions and additional fields preserved. */
#include "qcow2.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

struct qcow2_feature_name {
    uint8_t type, bit;
    const char *name;
};

static const struct qcow2_feature_name qcow2_known_features[] = {
    { 0, 0, "dirty bit" },
    { 0, 1, "corrupt bit" },
    { 0, 2, "external data file" },
    { 0, 3, "compression type" },
    { 0, 4, "extended L2 entries" },
    { 1, 0, "lazy refcounts" },
    { 2, 0, "bitmaps" },
    { 2, 1, "raw external data" },
};

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

/* Names unknown incompatible bits as qemu-img does: by the image's own
 * feature table (that is what the table is for), in table order, up to its
 * first unnamed entry; the bits it leaves unnamed as one hex mask.  An entry
 * cut short by the extension's end reads as zero-padded. */
static int qcow2_refuse_features(const struct qcow2_state *s, uint64_t unknown,
                                 const uint8_t *table, uint32_t tlen,
                                 struct strata_error **errp)
{
    char msg[1024] = "";
    size_t o = 0;
    for (uint32_t i = 0; table && i + 2 < tlen; i += 48) {
        char name[47] = "";
        uint32_t n = tlen - (i + 2) < 46 ? tlen - (i + 2) : 46;
        memcpy(name, table + i + 2, n);
        if (!name[0])
            break;
        uint8_t bit = table[i + 1];
        if (table[i] != 0 || bit >= 64 || !(unknown & (1ull << bit)))
            continue;
        unknown &= ~(1ull << bit);
        int w = snprintf(msg + o, sizeof msg - o, "%s%s", o ? ", " : "", name);
        if (w < 0 || (size_t)w >= sizeof msg - o)
            break;
        o += (size_t)w;
    }
    if (unknown && o < sizeof msg)
        snprintf(msg + o, sizeof msg - o, "%sUnknown incompatible feature: %" PRIx64,
                 o ? ", " : "", unknown);
    return strata_error_set(errp, ENOTSUP, "%s: Unsupported qcow2 feature(s): %s", s->name,
                            msg);
}

static char *qcow2_strndup(const uint8_t *p, size_t n)
{
    char *r = malloc(n + 1);
    if (r) {
        memcpy(r, p, n);
        r[n] = 0;
    }
    return r;
}

int qcow2_read_header(struct qcow2_state *s, bool probe_only, struct strata_error **errp)
{
    uint8_t h[112];
    int64_t flen = strata_get_length(s->file);
    if (flen < 0)
        return strata_error_set(errp, (int)-flen, "%s: cannot get the file size", s->name);
    if (flen < 72)
        return strata_error_set(errp, EINVAL, "%s: file is too short (%lld bytes) for a "
                                "qcow2 header", s->name, (long long)flen);
    memset(h, 0, sizeof h);
    int r = strata_pread(s->file, 0, (uint64_t)flen < sizeof h ? (uint64_t)flen : sizeof h,
                         h, 0, errp);
    if (r < 0)
        return r;
    if (load_be32(h) != QCOW2_MAGIC)
        return strata_error_set(errp, EINVAL, "%s: not a qcow2 image (bad magic)", s->name);
    s->version = load_be32(h + 4);
    if (s->version != 2 && s->version != 3)
        return strata_error_set(errp, ENOTSUP, "%s: unsupported qcow2 version %u", s->name,
                                s->version);
    uint64_t bf_off = load_be64(h + 8);
    uint32_t bf_size = load_be32(h + 16);
    s->cluster_bits = load_be32(h + 20);
    if (s->cluster_bits < QCOW2_MIN_CLUSTER_BITS || s->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
        return strata_error_set(errp, EINVAL, "%s: cluster size 2^%u is out of the range "
                                "512 B to 2 MiB", s->name, s->cluster_bits);
    s->cluster_size = 1ull << s->cluster_bits;
    s->size = load_be64(h + 24);
    s->crypt_method = load_be32(h + 32);
    s->l1_size = load_be32(h + 36);
    s->l1_offset = load_be64(h + 40);
    s->rt_offset = load_be64(h + 48);
    s->rt_clusters = load_be32(h + 56);
    s->nb_snapshots = load_be32(h + 60);
    s->snapshots_offset = load_be64(h + 64);
    if (s->version == 2) {
        s->incompat = s->compat = s->autoclear = 0;
        s->refcount_order = 4;
        s->header_length = 72;
    } else {
        s->incompat = load_be64(h + 72);
        s->compat = load_be64(h + 80);
        s->autoclear = load_be64(h + 88);
        s->refcount_order = load_be32(h + 96);
        s->header_length = load_be32(h + 100);
        if (s->header_length < 104 || s->header_length % 8 ||
            s->header_length > s->cluster_size || s->header_length > (uint64_t)flen)
            return strata_error_set(errp, EINVAL, "%s: invalid header length %u", s->name,
                                    s->header_length);
    }
    if (s->refcount_order > 6)
        return strata_error_set(errp, EINVAL, "%s: refcount order %u is larger than 6",
                                s->name, s->refcount_order);

    /* The whole header cluster: extensions and backing file name. */
    uint64_t hlen = s->cluster_size < (uint64_t)flen ? s->cluster_size : (uint64_t)flen;
    uint8_t *hc = calloc(1, s->cluster_size);
    if (!hc)
        return strata_error_set(errp, ENOMEM, "out of memory");
    r = strata_pread(s->file, 0, hlen, hc, 0, errp);
    if (r < 0)
        goto out;

    s->compression_type = 0;
    if (s->header_length > 104)
        s->compression_type = hc[104];
    s->header_tail_len = 0;
    if (s->header_length > 112) {
        s->header_tail_len = s->header_length - 112;
        if (s->header_tail_len > sizeof s->header_tail)
            s->header_tail_len = sizeof s->header_tail;
        memcpy(s->header_tail, hc + 112, s->header_tail_len);
    }

    /* Extensions */
    const uint8_t *ftable = NULL;
    uint32_t ftlen = 0;
    uint64_t eo = s->header_length;
    uint64_t ext_end = bf_off && bf_off < hlen ? bf_off : hlen;
    struct qcow2_ext **tailp = &s->unknown_exts;
    while (eo + 8 <= ext_end) {
        uint32_t type = load_be32(hc + eo), len = load_be32(hc + eo + 4);
        if (type == QCOW2_EXT_END)
            break;
        if (len > ext_end - eo - 8) {
            r = strata_error_set(errp, EINVAL, "%s: header extension 0x%08x at offset %llu "
                                 "runs past the end of the header", s->name, type,
                                 (unsigned long long)eo);
            goto out;
        }
        const uint8_t *d = hc + eo + 8;
        switch (type) {
        case QCOW2_EXT_BACKING_FMT:
            free(s->backing_fmt);
            s->backing_fmt = qcow2_strndup(d, len);
            break;
        case QCOW2_EXT_DATA_FILE:
            free(s->data_file_name);
            s->data_file_name = qcow2_strndup(d, len);
            break;
        case QCOW2_EXT_FEATURES:
            ftable = d;
            ftlen = len;
            break;
        case QCOW2_EXT_BITMAPS:
            if (len != sizeof s->bitmaps_ext) {
                r = strata_error_set(errp, EINVAL, "%s: bitmaps extension has length %u, "
                                     "expected 24", s->name, len);
                goto out;
            }
            s->has_bitmaps_ext = true;
            memcpy(s->bitmaps_ext, d, len);
            break;
        case QCOW2_EXT_CRYPTO:
            if (len != 16) {
                r = strata_error_set(errp, EINVAL, "%s: encryption header extension has "
                                     "length %u, expected 16", s->name, len);
                goto out;
            }
            s->has_crypto_ext = true;
            s->crypto_offset = load_be64(d);
            s->crypto_length = load_be64(d + 8);
            break;
        default: {
            struct qcow2_ext *x = calloc(1, sizeof *x);
            if (!x || !(x->data = malloc(len ? len : 1))) {
                free(x);
                r = strata_error_set(errp, ENOMEM, "out of memory");
                goto out;
            }
            x->type = type;
            x->len = len;
            memcpy(x->data, d, len);
            *tailp = x;
            tailp = &x->next;
        }
        }
        eo += 8 + qcow2_align_up(len, 8);
    }

    uint64_t unknown = s->incompat & ~QCOW2_INCOMPAT_KNOWN;
    if (unknown) {
        r = qcow2_refuse_features(s, unknown, ftable, ftlen, errp);
        goto out;
    }

    if (bf_off) {
        if (bf_size > QCOW2_MAX_BACKING_NAME || bf_off > hlen || bf_size > hlen - bf_off) {
            r = strata_error_set(errp, EINVAL, "%s: backing file name (offset %llu, %u "
                                 "bytes) is not inside the header cluster", s->name,
                                 (unsigned long long)bf_off, bf_size);
            goto out;
        }
        s->backing_file = qcow2_strndup(hc + bf_off, bf_size);
    }
    r = 0;
out:
    free(hc);
    if (r < 0 || probe_only)
        return r;

    /* Derived values and the consistency of the layout. */
    s->extended = s->incompat & QCOW2_INCOMPAT_EXTL2;
    s->l2_entry_size = s->extended ? 16 : 8;
    s->l2_entries = s->cluster_size / s->l2_entry_size;
    s->l2_bits = s->cluster_bits - (s->extended ? 4 : 3);
    s->sc_per_cluster = s->extended ? 32 : 1;
    s->sc_bits = s->cluster_bits - (s->extended ? 5 : 0);
    qcow2_set_refcount_fields(s);

    if (s->extended && s->cluster_bits < 14)
        return strata_error_set(errp, EINVAL, "%s: extended L2 entries need clusters of "
                                "at least 16 KiB (cluster size is %llu)", s->name,
                                (unsigned long long)s->cluster_size);
    if (s->incompat & QCOW2_INCOMPAT_COMPRESSION) {
        if (s->header_length <= 104 || s->compression_type == 0)
            return strata_error_set(errp, EINVAL, "%s: compression type bit is set but the "
                                    "compression type field is missing or zero", s->name);
    } else if (s->compression_type != 0) {
        return strata_error_set(errp, EINVAL, "%s: compression type %u without the "
                                "compression type bit", s->name, s->compression_type);
    }
    if (s->compression_type > QCOW2_COMPRESS_ZSTD)
        return strata_error_set(errp, ENOTSUP, "%s: unknown compression type %u", s->name,
                                s->compression_type);
    if (s->crypt_method > QCOW2_CRYPT_LUKS)
        return strata_error_set(errp, EINVAL, "%s: unknown encryption method %u", s->name,
                                s->crypt_method);
    if ((s->crypt_method == QCOW2_CRYPT_LUKS) != s->has_crypto_ext)
        return strata_error_set(errp, EINVAL, "%s: encryption header extension %s",
                                s->name, s->has_crypto_ext ? "present without LUKS encryption"
                                : "missing for LUKS encryption");
    if ((s->autoclear & QCOW2_AUTOCLEAR_DATA_RAW) && !(s->incompat & QCOW2_INCOMPAT_DATA_FILE))
        return strata_error_set(errp, EINVAL, "%s: raw external data bit set without an "
                                "external data file", s->name);

    uint64_t csz = s->cluster_size;
    if (s->l1_offset % csz || s->rt_offset % csz || (s->nb_snapshots && s->snapshots_offset % csz))
        return strata_error_set(errp, EINVAL, "%s: L1 table (0x%llx), refcount table "
                                "(0x%llx) or snapshot table (0x%llx) is not cluster aligned",
                                s->name, (unsigned long long)s->l1_offset,
                                (unsigned long long)s->rt_offset,
                                (unsigned long long)s->snapshots_offset);
    if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES)
        return strata_error_set(errp, EFBIG, "%s: L1 table of %u entries (l1_size) exceeds "
                                "the limit of %u entries (%u MiB)", s->name, s->l1_size,
                                QCOW2_MAX_L1_BYTES / 8, QCOW2_MAX_L1_BYTES >> 20);
    /* check reports and repairs that one. */
    if (s->nb_snapshots > QCOW2_MAX_SNAPSHOTS && !s->check_mode)
        return strata_error_set(errp, EFBIG, "%s: Snapshot table too large", s->name);
    if (s->rt_clusters == 0 || (uint64_t)s->rt_clusters * csz > QCOW2_MAX_RT_BYTES)
        return strata_error_set(errp, EINVAL, "%s: refcount table of %u clusters "
                                "(refcount_table_clusters) is %s", s->name, s->rt_clusters,
                                s->rt_clusters ? "larger than the limit of "
                                QCOW2_MAX_RT_TEXT : "empty");
    uint64_t need_l1 = qcow2_l1_size_for(s, s->size);
    if (need_l1 > INT32_MAX)    /* qemu-img's limit and words */
        return strata_error_set(errp, EFBIG, "%s: Image is too big", s->name);
    if (need_l1 > s->l1_size)
        return strata_error_set(errp, EINVAL, "%s: L1 table of %u entries is too small for "
                                "a virtual size of %llu bytes", s->name, s->l1_size,
                                (unsigned long long)s->size);
    uint64_t l1_bytes = (uint64_t)s->l1_size * 8, rt_bytes = (uint64_t)s->rt_clusters * csz;
    if (s->l1_size && s->l1_offset + l1_bytes > (uint64_t)flen)
        return strata_error_set(errp, EINVAL, "%s: L1 table at 0x%llx points past end of "
                                "file (%lld bytes)", s->name,
                                (unsigned long long)s->l1_offset, (long long)flen);
    if (s->rt_offset + rt_bytes > (uint64_t)flen)
        return strata_error_set(errp, EINVAL, "%s: refcount table at 0x%llx points past "
                                "end of file (%lld bytes)", s->name,
                                (unsigned long long)s->rt_offset, (long long)flen);
    uint64_t snap_bytes = s->nb_snapshots ? 40ull * s->nb_snapshots : 0;
    if (s->l1_size && (s->l1_offset == 0 || ranges_overlap(0, csz, s->l1_offset, l1_bytes)))
        return strata_error_set(errp, EINVAL, "%s: L1 table at 0x%llx overlaps the header",
                                s->name, (unsigned long long)s->l1_offset);
    if (ranges_overlap(0, csz, s->rt_offset, rt_bytes))
        return strata_error_set(errp, EINVAL, "%s: refcount table at 0x%llx overlaps the "
                                "header", s->name, (unsigned long long)s->rt_offset);
    if (ranges_overlap(s->l1_offset, s->l1_size ? l1_bytes : 0, s->rt_offset, rt_bytes))
        return strata_error_set(errp, EINVAL, "%s: L1 table at 0x%llx overlaps the refcount "
                                "table at 0x%llx (overlapping metadata)", s->name,
                                (unsigned long long)s->l1_offset,
                                (unsigned long long)s->rt_offset);
    if (snap_bytes && (ranges_overlap(s->snapshots_offset, snap_bytes, s->rt_offset, rt_bytes) ||
                       ranges_overlap(s->snapshots_offset, snap_bytes, s->l1_offset, l1_bytes) ||
                       s->snapshots_offset < csz))
        return strata_error_set(errp, EINVAL, "%s: snapshot table at 0x%llx overlaps other "
                                "metadata", s->name, (unsigned long long)s->snapshots_offset);
    if (s->has_crypto_ext && (s->crypto_offset % csz || s->crypto_offset < csz ||
                              s->crypto_offset + s->crypto_length > (uint64_t)flen))
        return strata_error_set(errp, EINVAL, "%s: encryption header at 0x%llx (%llu bytes) "
                                "is misplaced", s->name, (unsigned long long)s->crypto_offset,
                                (unsigned long long)s->crypto_length);
    return 0;
}

static size_t put_ext(uint8_t *buf, size_t o, size_t cap, uint32_t type, const void *d,
                      uint32_t len)
{
    size_t need = 8 + qcow2_align_up(len, 8);
    if (o + need > cap)
        return SIZE_MAX;
    store_be32(buf + o, type);
    store_be32(buf + o + 4, len);
    memset(buf + o + 8, 0, need - 8);
    if (len)
        memcpy(buf + o + 8, d, len);
    return o + need;
}

int qcow2_build_header(struct qcow2_state *s, uint8_t *buf, size_t cap,
                       struct strata_error **errp)
{
    memset(buf, 0, cap);
    if (s->version == 3) {
        uint32_t hl = 112 + s->header_tail_len;
        s->header_length = hl;
    } else {
        s->header_length = 72;
    }
    store_be32(buf, QCOW2_MAGIC);
    store_be32(buf + 4, s->version);
    store_be32(buf + 20, s->cluster_bits);
    store_be64(buf + 24, s->size);
    store_be32(buf + 32, s->crypt_method);
    store_be32(buf + 36, s->l1_size);
    store_be64(buf + 40, s->l1_offset);
    store_be64(buf + 48, s->rt_offset);
    store_be32(buf + 56, s->rt_clusters);
    store_be32(buf + 60, s->nb_snapshots);
    store_be64(buf + 64, s->snapshots_offset);
    if (s->version == 3) {
        store_be64(buf + 72, s->incompat);
        store_be64(buf + 80, s->compat);
        store_be64(buf + 88, s->autoclear);
        store_be32(buf + 96, s->refcount_order);
        store_be32(buf + 100, s->header_length);
        buf[104] = s->compression_type;
        memcpy(buf + 112, s->header_tail, s->header_tail_len);
    }
    size_t o = s->header_length;
    if (s->has_crypto_ext) {
        uint8_t d[16];
        store_be64(d, s->crypto_offset);
        store_be64(d + 8, s->crypto_length);
        o = put_ext(buf, o, cap, QCOW2_EXT_CRYPTO, d, 16);
    }
    if (o != SIZE_MAX && s->backing_fmt && s->backing_file)
        o = put_ext(buf, o, cap, QCOW2_EXT_BACKING_FMT, s->backing_fmt,
                    (uint32_t)strlen(s->backing_fmt));
    if (o != SIZE_MAX && s->data_file_name)
        o = put_ext(buf, o, cap, QCOW2_EXT_DATA_FILE, s->data_file_name,
                    (uint32_t)strlen(s->data_file_name));
    /* The feature table (392 bytes) would leave a 512-byte cluster almost
     * no room for a backing file name; like qemu, clusters of 4 KiB and
     * less go without it. */
    if (o != SIZE_MAX && s->version == 3 && s->cluster_size > 4096) {
        uint8_t ft[sizeof qcow2_known_features / sizeof qcow2_known_features[0] * 48];
        memset(ft, 0, sizeof ft);
        size_t n = sizeof qcow2_known_features / sizeof qcow2_known_features[0];
        for (size_t i = 0; i < n; i++) {
            ft[i * 48] = qcow2_known_features[i].type;
            ft[i * 48 + 1] = qcow2_known_features[i].bit;
            memcpy(ft + i * 48 + 2, qcow2_known_features[i].name,
                   strlen(qcow2_known_features[i].name));
        }
        o = put_ext(buf, o, cap, QCOW2_EXT_FEATURES, ft, (uint32_t)sizeof ft);
    }
    if (o != SIZE_MAX && s->has_bitmaps_ext)
        o = put_ext(buf, o, cap, QCOW2_EXT_BITMAPS, s->bitmaps_ext, sizeof s->bitmaps_ext);
    for (struct qcow2_ext *x = s->unknown_exts; x && o != SIZE_MAX; x = x->next)
        o = put_ext(buf, o, cap, x->type, x->data, x->len);
    if (o != SIZE_MAX)
        o = put_ext(buf, o, cap, QCOW2_EXT_END, NULL, 0);
    if (o != SIZE_MAX && s->backing_file) {
        size_t bl = strlen(s->backing_file);
        if (o + bl > cap) {
            o = SIZE_MAX;
        } else {
            store_be64(buf + 8, o);
            store_be32(buf + 16, (uint32_t)bl);
            memcpy(buf + o, s->backing_file, bl);
            o += bl;
        }
    }
    if (o == SIZE_MAX)
        return strata_error_set(errp, ENOSPC, "%s: header, extensions and backing file "
                                "name do not fit in one cluster (%llu bytes)", s->name,
                                (unsigned long long)s->cluster_size);
    return (int)o;
}

void qcow2_set_refcount_fields(struct qcow2_state *s)
{
    s->refcount_bits = 1u << s->refcount_order;
    s->rb_bits = s->cluster_bits + 3 - s->refcount_order;
    s->refcount_max = qcow2_refcount_max(s->refcount_order);
}

int qcow2_write_header(struct qcow2_state *s, struct strata_error **errp)
{
    uint8_t *buf = calloc(1, s->cluster_size);
    if (!buf)
        return strata_error_set(errp, ENOMEM, "out of memory");
    int n = qcow2_build_header(s, buf, s->cluster_size, errp);
    int r = n;
    if (n >= 0) {
        uint64_t len = qcow2_align_up((uint64_t)n, 512);
        if (len > s->cluster_size)
            len = s->cluster_size;
        r = strata_pwrite(s->file, 0, len, buf, 0, errp);
    }
    free(buf);
    return r < 0 ? r : 0;
}

int qcow2_set_dirty(struct qcow2_state *s, struct strata_error **errp)
{
    if (s->dirty_set || s->version < 3)
        return 0;
    /* Everything written so far must be on disk before the image says its
     * refcounts may lag behind. */
    int r = strata_flush(s->file, errp);
    if (r < 0)
        return r;
    uint8_t v[8];
    store_be64(v, s->incompat | QCOW2_INCOMPAT_DIRTY);
    r = strata_pwrite(s->file, 72, 8, v, 0, errp);
    if (r == 0)
        r = strata_flush(s->file, errp);
    if (r < 0)
        return r;
    s->incompat |= QCOW2_INCOMPAT_DIRTY;
    s->dirty_set = true;
    return 0;
}

int qcow2_clear_dirty(struct qcow2_state *s, struct strata_error **errp)
{
    if (!(s->incompat & QCOW2_INCOMPAT_DIRTY))
        return 0;
    int r = strata_flush(s->file, errp);
    if (r < 0)
        return r;
    uint8_t v[8];
    store_be64(v, s->incompat & ~QCOW2_INCOMPAT_DIRTY);
    r = strata_pwrite(s->file, 72, 8, v, 0, errp);
    if (r == 0)
        r = strata_flush(s->file, errp);
    if (r < 0)
        return r;
    s->incompat &= ~QCOW2_INCOMPAT_DIRTY;
    s->dirty_set = false;
    return 0;
}

void qcow2_free_header(struct qcow2_state *s)
{
    free(s->backing_file);
    free(s->backing_fmt);
    free(s->data_file_name);
    s->backing_file = s->backing_fmt = s->data_file_name = NULL;
    while (s->unknown_exts) {
        struct qcow2_ext *x = s->unknown_exts;
        s->unknown_exts = x->next;
        free(x->data);
        free(x);
    }
}
