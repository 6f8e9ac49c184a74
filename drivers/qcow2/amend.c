/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* amend.c - changing an existing image: compat level, lazy refcounts,
 * refcount width, size, backing file, data file name, LUKS key slots. */
#include "qcow2.h"

#include <errno.h>
#include <stdlib.h>

/* Does any active L2 entry use a zero flag (which version 2 lacks)? */
/* Turns zero clusters into what a v2 image can say, as qemu does on a
 * downgrade: without a backing file an unallocated cluster reads as zeros;
 * otherwise the cluster gets zeros written (in its own preallocated host
 * cluster, or a new one).  Raw zeros are no ciphertext, so an encrypted
 * image with zero clusters stays refused. */
static int expand_zero_clusters(struct qcow2_state *s, struct strata_error **errp)
{
    uint64_t csz = s->cluster_size;
    for (uint64_t off = 0; off < s->size; off += csz) {
        struct qcow2_l2ref e;
        int r = qcow2_get_l2_entry(s, off, &e, errp);
        if (r < 0)
            return r;
        if ((e.entry & QCOW2_OFLAG_COMPRESSED) || !(e.entry & QCOW2_OFLAG_ZERO))
            continue;
        if (s->crypt_method)
            return strata_error_set(errp, ENOTSUP, "%s: cannot downgrade: the encrypted "
                                    "image has zero clusters", s->name);
        uint64_t host = e.entry & QCOW2_OFFSET_MASK;
        struct qcow2_l2ref ne = { 0, 0 };
        if (host || s->backing_file) {
            if (!host && (r = qcow2_alloc_clusters(s, 1, &host, errp)) < 0)
                return r;
            if ((r = strata_pwrite(s->file, host, csz, s->zero_buf, 0, errp)) < 0)
                return r;
            ne.entry = host | QCOW2_OFLAG_COPIED;
        }
        if ((r = qcow2_set_l2_entry(s, off, &ne, errp)) < 0)
            return r;
    }
    return qcow2_flush_all(s, errp);
}

int qcow2_amend(struct qcow2_state *s, const struct strata_opts *opts, bool force,
                struct strata_error **errp)
{
    int r;
    bool header = false;
    const char *k, *v;
    bool crypto = false;
    for (size_t i = 0; strata_opts_entry(opts, i, &k, &v); i++)
        if (!strncmp(k, "encrypt.", 8) && strcmp(k, "encrypt.format"))
            crypto = true;
    const char *ef = strata_opts_get(opts, "encrypt.format");
    if (ef && strcmp(ef, s->crypt_method == QCOW2_CRYPT_LUKS ? "luks"
                         : s->crypt_method == QCOW2_CRYPT_AES ? "aes" : ""))
        return strata_error_set(errp, ENOTSUP, "%s: changing the encryption format is not "
                                "supported", s->name);

    uint64_t u;
    if (strata_opts_get(opts, "cluster_size")) {
        if ((r = strata_opts_get_size(opts, "cluster_size", &u, errp)) < 0)
            return r;
        if (u != s->cluster_size)
            return strata_error_set(errp, ENOTSUP, "%s: changing the cluster size is not "
                                    "supported", s->name);
    }
    const char *compat = strata_opts_get(opts, "compat");
    uint32_t want = !compat ? s->version
                    : (!strcmp(compat, "0.10") || !strcmp(compat, "v2")) ? 2 : 3;
    uint32_t order = s->refcount_order;
    if (strata_opts_get(opts, "refcount_bits")) {
        if ((r = strata_opts_get_u64(opts, "refcount_bits", &u, errp)) < 0)
            return r;
        if (u == 0 || u > 64 || (u & (u - 1)))
            return strata_error_set(errp, EINVAL, "Refcount width must be a power of two "
                                    "and may not exceed 64 bits");
        for (order = 0; (1ull << order) < u; order++)
            ;
        if (want < 3 && u != 16)
            return strata_error_set(errp, EINVAL, "Refcount widths other than 16 bits "
                                    "require compatibility level 1.1 or above (use "
                                    "compat=1.1 or greater)");
    }
    if (want < 3 && order != 4)
        return strata_error_set(errp, EINVAL, "compat=0.10 requires refcount_bits=16");
    bool lazy = s->compat & QCOW2_COMPAT_LAZY;
    if ((r = strata_opts_get_bool(opts, "lazy_refcounts", &lazy, errp)) < 0)
        return r;
    /* Checked against the level asked for, before anything changes. */
    if (strata_opts_get(opts, "lazy_refcounts") && lazy && want < 3)
        return strata_error_set(errp, EINVAL, "Lazy refcounts only supported with "
                                "compatibility level 1.1 and above (use compat=1.1 or "
                                "greater)");
    r = qcow2_flush_all(s, errp);
    if (r < 0)
        return r;
    if (order != s->refcount_order) {
        if (s->incompat & QCOW2_INCOMPAT_DIRTY)
            return strata_error_set(errp, EINVAL, "%s: the refcounts are not up to date "
                                    "(lazy refcounts): repair them with check -r all first",
                                    s->name);
        r = qcow2_change_refcount_order(s, order, errp);
        if (r < 0)
            return r;
    }
    if (strata_opts_get(opts, "size")) {
        if ((r = strata_opts_get_size(opts, "size", &u, errp)) < 0 ||
            (r = qcow2_truncate(s, u, false, STRATA_PREALLOC_OFF, errp)) < 0)
            return r;
    }

    if (compat) {
        if (want == 2 && s->version == 3) {
            if (s->incompat & ~(QCOW2_INCOMPAT_DIRTY))
                return strata_error_set(errp, ENOTSUP, "%s: cannot downgrade: the image uses "
                                        "features of compat=1.1", s->name);
            if (s->nb_snapshots)
                return strata_error_set(errp, ENOTSUP, "%s: cannot downgrade an image with "
                                        "internal snapshots", s->name);
            if ((r = expand_zero_clusters(s, errp)) < 0)
                return r;
            s->version = 2;
            /* Lazy refcounts go with the other compatible features; the
             * refcounts were flushed above. */
            s->compat = s->autoclear = 0;
            s->header_tail_len = 0;
            header = true;
        } else if (want == 3 && s->version == 2) {
            /* Version 3 snapshot entries carry the 64-bit VM state size
             * and the disk size: entries without them are rewritten. */
            for (uint32_t i = 0; i < s->nb_snapshots; i++) {
                if (s->snaps[i].extra_size < QCOW2_SNAPSHOT_EXTRA_V3) {
                    if ((r = qcow2_write_snapshots(s, errp)) < 0)
                        return r;
                    break;
                }
            }
            s->version = 3;
            s->refcount_order = 4;
            header = true;
        }
    }
    if (strata_opts_get(opts, "lazy_refcounts") && s->version >= 3) {
        if (lazy != !!(s->compat & QCOW2_COMPAT_LAZY)) {
            s->compat = lazy ? (s->compat | QCOW2_COMPAT_LAZY) : (s->compat & ~QCOW2_COMPAT_LAZY);
            header = true;
        }
    }
    const char *bf = strata_opts_get(opts, "backing_file");
    const char *bfmt = strata_opts_get(opts, "backing_fmt");
    if (bf) {
        if (strlen(bf) > QCOW2_MAX_BACKING_NAME)
            return strata_error_set(errp, EINVAL, "Backing file name too long");
        free(s->backing_file);
        s->backing_file = *bf ? strdup(bf) : NULL;
        if (!*bf) {
            free(s->backing_fmt);
            s->backing_fmt = NULL;
        }
        header = true;
    }
    if (bfmt) {
        if (!s->backing_file)
            return strata_error_set(errp, EINVAL, "Backing format cannot be used without "
                                    "backing file");
        free(s->backing_fmt);
        s->backing_fmt = *bfmt ? strdup(bfmt) : NULL;
        header = true;
    }
    const char *df = strata_opts_get(opts, "data_file");
    if (df) {
        if (!(s->incompat & QCOW2_INCOMPAT_DATA_FILE))
            return strata_error_set(errp, EINVAL, "%s: data-file can only be set for images "
                                    "that use an external data file", s->name);
        free(s->data_file_name);
        s->data_file_name = strdup(df);
        header = true;
    }
    if (strata_opts_get(opts, "data_file_raw")) {
        bool raw;
        if ((r = strata_opts_get_bool(opts, "data_file_raw", &raw, errp)) < 0)
            return r;
        if (raw && !(s->incompat & QCOW2_INCOMPAT_DATA_FILE))
            return strata_error_set(errp, EINVAL, "%s: data_file_raw needs a data file",
                                    s->name);
        if (!raw && (s->autoclear & QCOW2_AUTOCLEAR_DATA_RAW)) {
            s->autoclear &= ~QCOW2_AUTOCLEAR_DATA_RAW;
            header = true;
        } else if (raw && !(s->autoclear & QCOW2_AUTOCLEAR_DATA_RAW)) {
            return strata_error_set(errp, ENOTSUP, "%s: data_file_raw cannot be turned on "
                                    "for an existing image", s->name);
        }
    }
    if (header) {
        r = qcow2_write_header(s, errp);
        if (r == 0)
            r = strata_flush(s->file, errp);
        if (r < 0)
            return r;
        s->lazy = s->compat & QCOW2_COMPAT_LAZY;
        qcow2_cache_set_dependency(s->l2_cache, s->lazy ? NULL : s->rb_cache);
    }
    if (crypto) {
        r = qcow2_crypto_amend(s, opts, force, errp);
        if (r < 0)
            return r;
    }
    return 0;
}
