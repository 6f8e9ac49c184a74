/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io.c - qcow data path: reads, writes with copy-on-write from the backing
 * file, compressed writes and block status.
 *
 * Requests arrive 512-byte aligned (the driver announces that alignment) and
 * serialised (the driver is not thread-safe).  A request is walked in
 * extents: runs of clusters inside one L2 table that are handled alike
 * (unallocated, host-contiguous data, or one compressed cluster). */
#include "qcow-int.h"

#include <errno.h>
#include <string.h>

#include <strata/strata.h>

struct qcow_extent {
    enum qcow_kind kind;
    uint64_t len;       /* guest bytes from the request offset */
    uint64_t host;      /* NORMAL: host offset of the request offset */
    uint64_t entry;     /* COMPRESSED: the L2 entry */
};

static const uint8_t qcow_zeros[QCOW_BATCH];

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static unsigned span_shift(const struct qcow_state *s)
{
    return s->h.cluster_bits + s->h.l2_bits;
}

static bool has_backing(const struct qcow_state *s)
{
    return s->backing != NULL || s->backing_name != NULL;
}

/* The extent at off, at most len bytes, never crossing an L2 table. */
static int qcow_extent_at(struct qcow_state *s, uint64_t off, uint64_t len,
                          struct qcow_extent *e, struct strata_error **errp)
{
    unsigned shift = span_shift(s);
    uint64_t cs = s->cluster_size;
    uint64_t span_end = ((off >> shift) + 1) << shift;
    uint64_t max = min_u64(len, span_end - off);
    uint64_t *t, l2off;
    int r = qcow_l2_get(s, (uint32_t)(off >> shift), false, &t, &l2off, errp);
    if (r < 0)
        return r;
    uint32_t i = (uint32_t)((off >> s->h.cluster_bits) & (s->l2_size - 1));
    uint64_t in = off & (cs - 1);
    struct qcow_map m;
    qcow_map_entry(s, t ? t[i] : 0, &m);
    e->kind = m.kind;
    e->entry = m.entry;
    e->host = 0;
    uint64_t n = min_u64(max, cs - in);
    switch (m.kind) {
    case QCOW_UNALLOC:
        if (!t) {
            n = max;
            break;
        }
        for (uint32_t j = i + 1; n < max && t[j] == 0; j++)
            n = min_u64(max, n + cs);
        break;
    case QCOW_NORMAL:
        e->host = m.host + in;
        for (uint32_t j = i + 1; n < max && t[j] == m.host + (uint64_t)(j - i) * cs; j++)
            n = min_u64(max, n + cs);
        break;
    case QCOW_COMPRESSED:
        break;
    }
    e->len = n;
    return 0;
}

/* Guest bytes the backing file provides; zeros past its end or without one. */
static int read_backing(struct qcow_state *s, uint64_t off, uint64_t len, uint8_t *buf,
                        struct strata_error **errp)
{
    uint64_t n = 0;
    if (s->backing) {
        int64_t blen = strata_get_length(s->backing);
        if (blen < 0)
            return strata_error_set(errp, (int)-blen, "%s: cannot get the size of the "
                                    "backing file", s->name);
        if (off < (uint64_t)blen)
            n = min_u64(len, (uint64_t)blen - off);
        if (n > 0) {
            int r = strata_pread(s->backing, off, n, buf, 0, errp);
            if (r < 0)
                return r;
        }
    }
    memset(buf + n, 0, len - n);
    return 0;
}

static int need_key(struct qcow_state *s, struct strata_error **errp)
{
    return strata_error_set(errp, EACCES, "%s: the image is encrypted (legacy qcow AES): "
                            "give its passphrase with encrypt.key-secret=ID", s->name);
}

int qcow_pread(struct strata_node *node, uint64_t off, uint64_t len, void *buf,
               unsigned flags, struct strata_error **errp)
{
    struct qcow_state *s = strata_node_state(node);
    uint8_t *p = buf;
    while (len > 0) {
        struct qcow_extent e;
        int r = qcow_extent_at(s, off, len, &e, errp);
        if (r < 0)
            return r;
        switch (e.kind) {
        case QCOW_UNALLOC:
            r = read_backing(s, off, e.len, p, errp);
            break;
        case QCOW_NORMAL:
            if (s->h.crypt_method && !s->cipher)
                return need_key(s, errp);
            r = qcow_check_data(s, e.host, e.len, off, errp);
            if (r == 0)
                r = strata_pread(s->file, e.host, e.len, p, 0, errp);
            if (r == 0 && s->cipher)
                r = strata_cipher_decrypt_sectors(s->cipher, off / QCOW_SECTOR, QCOW_SECTOR,
                                                  p, p, e.len, errp);
            break;
        case QCOW_COMPRESSED:
            /* Compressed clusters are stored in the clear, even in
             * encrypted images. */
            r = qcow_read_compressed(s, e.entry, errp);
            if (r == 0)
                memcpy(p, s->ccache + (off & (s->cluster_size - 1)), e.len);
            break;
        }
        if (r < 0)
            return r;
        off += e.len;
        len -= e.len;
        p += e.len;
    }
    return 0;
}

/* Fills dst with the current content of the cluster starting at guest
 * offset cstart, whose L2 entry is `entry` (not a normal cluster). */
static int cow_fill(struct qcow_state *s, uint64_t entry, uint64_t cstart, uint8_t *dst,
                    struct strata_error **errp)
{
    struct qcow_map m;
    qcow_map_entry(s, entry, &m);
    if (m.kind == QCOW_COMPRESSED) {
        strata_node_event(s->file, STRATA_EV_COW_READ);
        int r = qcow_read_compressed(s, entry, errp);
        if (r == 0)
            memcpy(dst, s->ccache, s->cluster_size);
        return r;
    }
    if (s->backing)
        strata_node_event(s->file, STRATA_EV_COW_READ);
    return read_backing(s, cstart, s->cluster_size, dst, errp);
}

/* Writes [off, off+len), which lies inside one L2 table's span. */
static int write_span(struct qcow_state *s, uint64_t off, uint64_t len, const uint8_t *buf,
                      struct strata_error **errp)
{
    uint64_t cs = s->cluster_size;
    uint64_t *t, l2off;
    int r = qcow_l2_get(s, (uint32_t)(off >> span_shift(s)), true, &t, &l2off, errp);
    if (r < 0)
        return r;
    uint32_t i = (uint32_t)((off >> s->h.cluster_bits) & (s->l2_size - 1));

    while (len > 0) {
        uint64_t in = off & (cs - 1);
        struct qcow_map m;
        qcow_map_entry(s, t[i], &m);
        if (m.kind == QCOW_NORMAL) {
            /* Overwrite in place, over a run of host-contiguous clusters. */
            uint64_t n = min_u64(len, cs - in);
            uint32_t k = 1;
            while (n < len && n + cs <= QCOW_BATCH && t[i + k] == m.host + k * cs) {
                n = min_u64(len, n + cs);
                k++;
            }
            if (s->cipher && n > QCOW_BATCH)
                n = QCOW_BATCH;
            r = qcow_check_data(s, m.host + in, n, off, errp);
            if (r < 0)
                return r;
            const uint8_t *src = buf;
            if (s->cipher) {
                r = strata_cipher_encrypt_sectors(s->cipher, off / QCOW_SECTOR, QCOW_SECTOR,
                                                  s->bounce, buf, n, errp);
                if (r < 0)
                    return r;
                src = s->bounce;
            }
            r = strata_pwrite(s->file, m.host + in, n, src, 0, errp);
            if (r < 0)
                return r;
            off += n;
            len -= n;
            buf += n;
            i += (uint32_t)((in + n) / cs);
            continue;
        }

        /* New clusters: a run of entries that are not normal clusters. */
        uint32_t k = 1;
        while ((uint64_t)k * cs - in < len && (uint64_t)(k + 1) * cs <= QCOW_BATCH &&
               i + k < s->l2_size && (t[i + k] == 0 || (t[i + k] & QCOW_OFLAG_COMPRESSED)))
            k++;
        uint64_t run = (uint64_t)k * cs;
        uint64_t n = min_u64(len, run - in);
        uint64_t cstart = off - in;
        bool head = in != 0, tail = in + n < run;
        const uint8_t *src = buf;
        if (head || tail || s->cipher) {
            if (head && (r = cow_fill(s, t[i], cstart, s->bounce, errp)) < 0)
                return r;
            if (tail && (k > 1 || !head) &&
                (r = cow_fill(s, t[i + k - 1], cstart + run - cs, s->bounce + run - cs,
                              errp)) < 0)
                return r;
            memcpy(s->bounce + in, buf, n);
            if (s->cipher &&
                (r = strata_cipher_encrypt_sectors(s->cipher, cstart / QCOW_SECTOR,
                                                   QCOW_SECTOR, s->bounce, s->bounce, run,
                                                   errp)) < 0)
                return r;
            src = s->bounce;
        } else {
            src = buf;
        }
        uint64_t host = qcow_alloc(s, run, s->cluster_size);
        strata_node_event(s->file, STRATA_EV_CLUSTER_ALLOC);
        if (head || tail)
            strata_node_event(s->file, STRATA_EV_COW_WRITE);
        r = strata_pwrite(s->file, host, run, src, 0, errp);
        if (r < 0) {
            strata_error_prefix(errp, "%s: writing new clusters at 0x%llx", s->name,
                                (unsigned long long)host);
            return r;
        }
        for (uint32_t j = 0; j < k; j++) {
            if (t[i + j] == s->ccache_entry)
                s->ccache_entry = 0;
            t[i + j] = host + (uint64_t)j * cs;
        }
        r = qcow_l2_set(s, l2off, t, i, k, errp);
        if (r < 0)
            return r;
        off += n;
        len -= n;
        buf += n;
        i += k;
    }
    return 0;
}

static int check_writable(struct qcow_state *s, struct strata_error **errp)
{
    if (s->h.crypt_method && !s->cipher)
        return need_key(s, errp);
    return 0;
}

int qcow_pwrite(struct strata_node *node, uint64_t off, uint64_t len, const void *buf,
                unsigned flags, struct strata_error **errp)
{
    struct qcow_state *s = strata_node_state(node);
    const uint8_t *p = buf;
    int r = check_writable(s, errp);
    if (r < 0)
        return r;
    uint64_t span = 1ull << span_shift(s);
    while (len > 0) {
        uint64_t n = min_u64(len, span - (off & (span - 1)));
        r = write_span(s, off, n, p, errp);
        if (r < 0)
            return r;
        off += n;
        len -= n;
        p += n;
    }
    if (flags & STRATA_REQ_FUA)
        return strata_flush(s->file, errp);
    return 0;
}

int qcow_pwrite_zeroes(struct strata_node *node, uint64_t off, uint64_t len,
                       unsigned flags, struct strata_error **errp)
{
    struct qcow_state *s = strata_node_state(node);
    int r = check_writable(s, errp);
    if (r < 0)
        return r;
    /* Unallocated clusters without a backing file already read as zeros;
     * the format has no other way to store zeros than writing them. */
    if (flags & STRATA_REQ_NO_FALLBACK) {
        for (uint64_t o = off, l = len; l > 0;) {
            struct qcow_extent e;
            if ((r = qcow_extent_at(s, o, l, &e, errp)) < 0)
                return r;
            if (e.kind != QCOW_UNALLOC || has_backing(s))
                return strata_error_set(errp, ENOTSUP, "%s: qcow cannot store zeros "
                                        "without writing them", s->name);
            o += e.len;
            l -= e.len;
        }
        return 0;
    }
    while (len > 0) {
        struct qcow_extent e;
        if ((r = qcow_extent_at(s, off, len, &e, errp)) < 0)
            return r;
        uint64_t n = e.len;
        if (e.kind != QCOW_UNALLOC || has_backing(s)) {
            n = min_u64(n, QCOW_BATCH);
            if ((r = qcow_pwrite(node, off, n, qcow_zeros, flags, errp)) < 0)
                return r;
        }
        off += n;
        len -= n;
    }
    return 0;
}

/* Stores one whole cluster compressed, or returns 1 when it does not shrink
 * (the caller writes it normally). */
static int write_compressed_cluster(struct qcow_state *s, uint64_t off, const uint8_t *data,
                                    struct strata_error **errp)
{
    uint64_t cs = s->cluster_size;
    if (!s->deflater_ready) {
        memset(&s->deflater, 0, sizeof s->deflater);
        /* Raw deflate with a 4 KiB window: what qcow readers expect. */
        if (deflateInit2(&s->deflater, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return strata_error_set(errp, ENOMEM, "%s: cannot set up zlib", s->name);
        s->deflater_ready = true;
    } else {
        deflateReset(&s->deflater);
    }
    s->deflater.next_in = (Bytef *)data;
    s->deflater.avail_in = (uInt)cs;
    s->deflater.next_out = s->cbuf;
    s->deflater.avail_out = (uInt)(cs - 1);
    if (deflate(&s->deflater, Z_FINISH) != Z_STREAM_END)
        return 1;
    uint64_t clen = cs - 1 - s->deflater.avail_out;

    uint64_t *t, l2off;
    int r = qcow_l2_get(s, (uint32_t)(off >> span_shift(s)), true, &t, &l2off, errp);
    if (r < 0)
        return r;
    uint32_t i = (uint32_t)((off >> s->h.cluster_bits) & (s->l2_size - 1));
    if (t[i] != 0 && !(t[i] & QCOW_OFLAG_COMPRESSED))
        return 1;   /* a normal cluster is rewritten in place */
    /* Compressed data goes at the next 512-byte boundary, as qemu puts it. */
    uint64_t host = qcow_alloc(s, clen, QCOW_SECTOR);
    if (host > s->offset_mask)
        return strata_error_set(errp, EFBIG, "%s: the file is too large for a compressed "
                                "cluster at 0x%llx", s->name, (unsigned long long)host);
    strata_node_event(s->file, STRATA_EV_CLUSTER_ALLOC);
    r = strata_pwrite(s->file, host, clen, s->cbuf, 0, errp);
    if (r < 0)
        return r;
    if (t[i] == s->ccache_entry)
        s->ccache_entry = 0;
    t[i] = QCOW_OFLAG_COMPRESSED | clen << s->csize_shift | host;
    return qcow_l2_set(s, l2off, t, i, 1, errp);
}

int qcow_pwrite_compressed(struct strata_node *node, uint64_t off, uint64_t len,
                           const void *buf, struct strata_error **errp)
{
    struct qcow_state *s = strata_node_state(node);
    const uint8_t *p = buf;
    uint64_t cs = s->cluster_size;
    int r = check_writable(s, errp);
    if (r < 0)
        return r;
    if (s->h.crypt_method)
        return strata_error_set(errp, ENOTSUP, "%s: an encrypted qcow image cannot hold "
                                "compressed clusters (they would be stored in the clear)",
                                s->name);
    while (len > 0) {
        uint64_t in = off & (cs - 1);
        uint64_t n = min_u64(len, cs - in);
        const uint8_t *data = NULL;
        if (in == 0 && n == cs) {
            data = p;
        } else if (in == 0 && off + n >= s->h.size) {
            /* The last cluster of the image, padded with zeros. */
            memcpy(s->bounce, p, n);
            memset(s->bounce + n, 0, cs - n);
            data = s->bounce;
        }
        r = data ? write_compressed_cluster(s, off, data, errp) : 1;
        if (r < 0)
            return r;
        if (r > 0 && (r = qcow_pwrite(node, off, n, p, 0, errp)) < 0)
            return r;
        off += n;
        len -= n;
        p += n;
    }
    return 0;
}

int qcow_block_status(struct strata_node *node, uint64_t off, uint64_t len,
                      struct strata_block_status *bs, struct strata_error **errp)
{
    struct qcow_state *s = strata_node_state(node);
    struct qcow_extent e;
    int r = qcow_extent_at(s, off, len, &e, errp);
    if (r < 0)
        return r;
    bs->pnum = e.len;
    switch (e.kind) {
    case QCOW_UNALLOC:
        bs->flags = has_backing(s) ? 0 : STRATA_BS_ZERO;
        break;
    case QCOW_NORMAL:
        bs->flags = STRATA_BS_ALLOCATED | STRATA_BS_DATA;
        /* Encrypted data is not the guest's bytes: no host offset then. */
        if (!s->h.crypt_method) {
            bs->flags |= STRATA_BS_OFFSET_VALID;
            bs->offset = e.host;
            bs->file = s->file;
        }
        break;
    case QCOW_COMPRESSED:
        bs->flags = STRATA_BS_ALLOCATED | STRATA_BS_DATA | STRATA_BS_COMPRESSED;
        /* Merge neighbouring compressed clusters into one answer. */
        while (bs->pnum < len) {
            struct qcow_extent n2;
            if (qcow_extent_at(s, off + bs->pnum, len - bs->pnum, &n2, NULL) < 0 ||
                n2.kind != QCOW_COMPRESSED)
                break;
            bs->pnum += n2.len;
        }
        break;
    }
    return 0;
}

/* Cuts the image back to its header and an empty L1 table, as qemu-img
 * commit leaves a qcow image it has emptied.  The zeroed L1 table is on
 * disk before the file shrinks, so a crash in between leaks space only. */
static int make_empty(struct qcow_state *s, struct strata_error **errp)
{
    uint64_t l1_bytes = (uint64_t)s->l1_size * 8;
    for (uint64_t done = 0; done < l1_bytes;) {
        uint64_t n = min_u64(l1_bytes - done, QCOW_BATCH);
        strata_node_event(s->file, STRATA_EV_L1_UPDATE);
        int r = strata_pwrite(s->file, s->h.l1_offset + done, n, qcow_zeros, 0, errp);
        if (r < 0) {
            strata_error_prefix(errp, "%s: clearing the L1 table", s->name);
            return r;
        }
        done += n;
    }
    memset(s->l1, 0, l1_bytes);
    for (int i = 0; i < QCOW_L2_CACHE_SIZE; i++)
        s->l2c[i].offset = 0;
    s->ccache_entry = 0;
    int r = strata_flush(s->file, errp);
    if (r < 0)
        return r;
    uint64_t end = s->h.l1_offset + l1_bytes;
    r = strata_truncate(s->file, end, false, STRATA_PREALLOC_OFF, errp);
    if (r < 0) {
        strata_error_prefix(errp, "%s: shrinking the emptied image", s->name);
        return r;
    }
    s->file_end = end;
    return 0;
}

/* Discard unmaps whole clusters, which then read from the backing file (or
 * as zeros).  Without refcounts the format cannot reuse their space; only
 * discarding the whole image gives it back, by emptying the file. */
int qcow_pdiscard(struct strata_node *node, uint64_t off, uint64_t len,
                  struct strata_error **errp)
{
    struct qcow_state *s = strata_node_state(node);
    int r = check_writable(s, errp);
    if (r < 0)
        return r;
    if (off == 0 && len >= s->h.size)
        return make_empty(s, errp);

    uint64_t cs = s->cluster_size;
    uint64_t start = (off + cs - 1) / cs * cs;
    /* The last cluster counts as whole when the range reaches the end. */
    uint64_t end = off + len >= s->h.size ? s->h.size : (off + len) / cs * cs;
    unsigned span_bits = s->h.cluster_bits + s->h.l2_bits;
    while (start < end) {
        uint32_t l1_index = (uint32_t)(start >> span_bits);
        uint64_t span_end = ((uint64_t)l1_index + 1) << span_bits;
        uint64_t stop = min_u64(end, span_end);
        uint64_t *table, l2_off;
        if ((r = qcow_l2_get(s, l1_index, false, &table, &l2_off, errp)) < 0)
            return r;
        if (table) {
            uint32_t first = (uint32_t)((start >> s->h.cluster_bits) & (s->l2_size - 1));
            uint32_t n = (uint32_t)((stop - start + cs - 1) / cs);
            bool changed = false;
            for (uint32_t i = first; i < first + n; i++) {
                changed |= table[i] != 0;
                table[i] = 0;
            }
            if (changed && (r = qcow_l2_set(s, l2_off, table, first, n, errp)) < 0)
                return r;
        }
        start = stop;
    }
    return 0;
}
