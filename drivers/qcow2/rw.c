/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rw.c - guest reads and writes: mapping lookups, allocation with
 * copy-on-write of the parts of a (sub)cluster the request does not cover,
 * zero clusters, discard, compressed writes. */
#include "qcow2.h"

#include <errno.h>
#include <stdlib.h>

#define QCOW2_MAX_RUN (32ull << 20)     /* bytes merged into one host request */

static bool is_zero(const uint8_t *p, size_t n)
{
    for (; n && ((uintptr_t)p & 7); n--, p++)
        if (*p)
            return false;
    for (; n >= 8; n -= 8, p += 8)
        if (*(const uint64_t *)p)
            return false;
    for (; n; n--, p++)
        if (*p)
            return false;
    return true;
}

static uint32_t sc_mask(unsigned first, unsigned last)
{
    uint64_t m = ((2ull << last) - 1) & ~((1ull << first) - 1);
    return (uint32_t)m;
}

/* Subclusters of an entry that are allocated / read as zero at this layer. */
static void entry_masks(const struct qcow2_state *s, const struct qcow2_l2ref *e,
                        uint32_t *alloc, uint32_t *zero)
{
    *alloc = *zero = 0;
    for (unsigned i = 0; i < s->sc_per_cluster; i++) {
        enum qcow2_type t = qcow2_entry_type(s, e, i);
        if (t == QCOW2_NORMAL || t == QCOW2_COMPRESSED)
            *alloc |= 1u << i;
        else if (t == QCOW2_ZERO)
            *zero |= 1u << i;
    }
}

static bool entry_has_host(const struct qcow2_state *s, uint64_t entry)
{
    if (entry & QCOW2_OFLAG_COMPRESSED)
        return false;
    return (entry & QCOW2_OFFSET_MASK) || (s->data != s->file && (entry & QCOW2_OFLAG_COPIED));
}

static int read_backing(struct qcow2_state *s, uint64_t off, uint64_t len, uint8_t *buf,
                        struct strata_error **errp)
{
    if (!s->backing) {
        memset(buf, 0, len);
        return 0;
    }
    int64_t blen = strata_get_length(s->backing);
    if (blen < 0)
        return strata_error_set(errp, (int)-blen, "%s: cannot get the size of the backing "
                                "file", s->name);
    uint64_t n = 0;
    if (off < (uint64_t)blen)
        n = (uint64_t)blen - off < len ? (uint64_t)blen - off : len;
    if (n) {
        qcow2_event(s, "read_backing_aio");
        int r = strata_pread(s->backing, off, n, buf, 0, errp);
        if (r < 0)
            return r;
    }
    if (n < len)
        memset(buf + n, 0, len - n);
    return 0;
}

static int read_compressed(struct qcow2_state *s, uint64_t guest_cluster, uint64_t entry,
                           struct strata_error **errp)
{
    if (s->dc_valid && s->dc_entry == entry)
        return 0;
    uint64_t host, nbytes;
    qcow2_compressed_loc(s, entry, &host, &nbytes);
    if (nbytes > 2 * s->cluster_size)
        return strata_error_set(errp, EIO, "%s: compressed cluster at 0x%llx is larger than "
                                "two clusters", s->name, (unsigned long long)host);
    int64_t flen = strata_get_length(s->file);
    if (flen >= 0 && host >= (uint64_t)flen)
        return strata_error_set(errp, EIO, "%s: compressed cluster at 0x%llx (for guest "
                                "offset 0x%llx) points past end of file", s->name,
                                (unsigned long long)host, (unsigned long long)guest_cluster);
    qcow2_event(s, "read_compressed");
    int r = strata_pread(s->file, host, nbytes, s->cbuf, 0, errp);
    if (r < 0)
        return r;
    s->dc_valid = false;
    r = qcow2_decompress(&s->codec, s->compression_type, s->cbuf, nbytes, s->dcbuf,
                         s->cluster_size, errp);
    if (r < 0) {
        strata_error_prefix(errp, "%s: compressed cluster for guest offset 0x%llx", s->name,
                            (unsigned long long)guest_cluster);
        return r;
    }
    s->dc_valid = true;
    s->dc_entry = entry;
    return 0;
}

/* Reads data clusters, decrypting; `guest` is the guest offset of host. */
static int read_data(struct qcow2_state *s, uint64_t host, uint64_t guest, uint64_t len,
                     uint8_t *buf, struct strata_error **errp)
{
    uint64_t csz = s->cluster_size;
    uint64_t cl = host & ~(csz - 1);
    if (host + len > s->data_len) {
        int64_t dl = strata_get_length(s->data);
        if (dl >= 0)
            s->data_len = qcow2_align_up((uint64_t)dl, csz);
        if (host + len > s->data_len) {
            /* Name the first cluster of the run that lies past the end. */
            uint64_t bad = cl > s->data_len ? cl : s->data_len;
            uint64_t gbad = (guest & ~(csz - 1)) + (bad - cl);
            bool ext = s->data != s->file;
            return strata_error_set(errp, EIO, "%s: L2 entry for guest cluster 0x%llx "
                                    "points past end of %s%s (host offset 0x%llx)", s->name,
                                    (unsigned long long)gbad, ext ? "data file " : "file",
                                    ext ? strata_node_filename(s->data) : "",
                                    (unsigned long long)bad);
        }
    }
    qcow2_event(s, "read_aio");
    int r = strata_pread(s->data, host, len, buf, 0, errp);
    if (r == 0 && s->crypt_method)
        r = qcow2_crypt(s, false, host, guest, buf, len, errp);
    return r;
}

int qcow2_do_pread(struct qcow2_state *s, uint64_t off, uint64_t len, uint8_t *buf,
                   struct strata_error **errp)
{
    uint64_t csz = s->cluster_size, scsz = 1ull << s->sc_bits;
    while (len > 0) {
        struct qcow2_l2ref e;
        int r = qcow2_get_l2_entry(s, off, &e, errp);
        if (r < 0)
            return r;
        uint64_t cstart = off & ~(csz - 1), in = off - cstart;
        unsigned sc = (unsigned)(in >> s->sc_bits);
        enum qcow2_type t = qcow2_entry_type(s, &e, sc);
        /* Extend over following subclusters of the same type. */
        uint64_t end = (sc + 1) * scsz;
        while (end < csz && qcow2_entry_type(s, &e, (unsigned)(end >> s->sc_bits)) == t)
            end += scsz;
        uint64_t n = end - in < len ? end - in : len;
        uint64_t host = (e.entry & QCOW2_OFFSET_MASK) + in;

        /* Merge whole following clusters that continue the same run. */
        if (n == end - in && end == csz && n < len && t != QCOW2_COMPRESSED) {
            uint64_t next = cstart + csz;
            while (n < len && n < QCOW2_MAX_RUN) {
                struct qcow2_l2ref e2;
                r = qcow2_get_l2_entry(s, next, &e2, errp);
                if (r < 0)
                    return r;
                bool same = true;
                for (unsigned i = 0; i < s->sc_per_cluster && same; i++)
                    same = qcow2_entry_type(s, &e2, i) == t;
                if (!same || (t == QCOW2_NORMAL &&
                              (e2.entry & QCOW2_OFFSET_MASK) != host - in + (next - cstart)))
                    break;
                n += len - n < csz ? len - n : csz;
                next += csz;
            }
        }

        switch (t) {
        case QCOW2_UNALLOC:
            r = read_backing(s, off, n, buf, errp);
            break;
        case QCOW2_ZERO:
            memset(buf, 0, n);
            r = 0;
            break;
        case QCOW2_NORMAL:
            if ((e.entry & QCOW2_OFFSET_MASK) & (csz - 1)) {
                r = strata_error_set(errp, EIO, "%s: L2 entry for guest offset 0x%llx has "
                                     "an unaligned host offset 0x%llx", s->name,
                                     (unsigned long long)cstart,
                                     (unsigned long long)(e.entry & QCOW2_OFFSET_MASK));
                break;
            }
            r = read_data(s, host, off, n, buf, errp);
            break;
        case QCOW2_COMPRESSED:
            r = read_compressed(s, cstart, e.entry, errp);
            if (r == 0)
                memcpy(buf, s->dcbuf + in, n);
            break;
        }
        if (r < 0)
            return r;
        off += n;
        buf += n;
        len -= n;
    }
    return 0;
}

int qcow2_prepare_write(struct qcow2_state *s, struct strata_error **errp)
{
    if (s->incompat & QCOW2_INCOMPAT_CORRUPT)
        return strata_error_set(errp, EIO, "%s: image is marked corrupt; repair it with "
                                "'check -r all' before writing", s->name);
    int r;
    if (s->autoclear & QCOW2_AUTOCLEAR_BITMAPS) {
        /* Persistent dirty bitmaps are kept but not updated: the spec's
         * way to say so is to clear the bit before the first change, after
         * which QEMU takes every bitmap as inconsistent rather than trusting
         * one that misses these writes. */
        s->autoclear &= ~QCOW2_AUTOCLEAR_BITMAPS;
        s->header_dirty = true;
    }
    if (s->header_dirty) {
        r = qcow2_write_header(s, errp);
        if (r < 0)
            return r;
        r = strata_flush(s->file, errp);
        if (r < 0)
            return r;
        s->header_dirty = false;
    }
    if (s->lazy && !s->dirty_set) {
        r = qcow2_set_dirty(s, errp);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Is the host cluster past what the data file holds (reads as zeros)? */
static bool host_fresh(struct qcow2_state *s, uint64_t host)
{
    if (host < s->data_len)
        return false;
    int64_t dl = strata_get_length(s->data);
    if (dl < 0)
        return false;
    s->data_len = qcow2_align_up((uint64_t)dl, s->cluster_size);
    return host >= s->data_len;
}

static int write_data(struct qcow2_state *s, uint64_t host, uint64_t guest, uint64_t len,
                      const uint8_t *buf, const char *ev, struct strata_error **errp)
{
    if (s->crypt_method) {
        if (len > s->crypt_buf_len) {
            free(s->crypt_buf);
            s->crypt_buf = aligned_alloc(4096, qcow2_align_up(len, 4096));
            s->crypt_buf_len = s->crypt_buf ? qcow2_align_up(len, 4096) : 0;
            if (!s->crypt_buf)
                return strata_error_set(errp, ENOMEM, "out of memory");
        }
        memcpy(s->crypt_buf, buf, len);
        int r = qcow2_crypt(s, true, host, guest, s->crypt_buf, len, errp);
        if (r < 0)
            return r;
        buf = s->crypt_buf;
    }
    qcow2_event(s, ev);
    return strata_pwrite(s->data, host, len, buf, 0, errp);
}

/* New host clusters for n guest clusters (contiguous). */
static int alloc_data(struct qcow2_state *s, uint64_t guest, uint64_t n, uint64_t *host,
                      struct strata_error **errp)
{
    if (s->data != s->file) {
        *host = guest;
        return 0;
    }
    return qcow2_alloc_clusters(s, n, host, errp);
}

static uint64_t new_entry_for(const struct qcow2_state *s, uint64_t host)
{
    return (host & QCOW2_OFFSET_MASK) | QCOW2_OFLAG_COPIED;
}

/* Write within one cluster, with COW of what the request does not cover. */
static int write_one(struct qcow2_state *s, uint64_t off, uint64_t n, const uint8_t *data,
                     struct strata_error **errp)
{
    uint64_t csz = s->cluster_size, scsz = 1ull << s->sc_bits;
    uint64_t cstart = off & ~(csz - 1), in = off - cstart;
    struct qcow2_l2ref e;
    int r = qcow2_get_l2_entry(s, off, &e, errp);
    if (r < 0)
        return r;
    unsigned first = (unsigned)(in >> s->sc_bits), last = (unsigned)((in + n - 1) >> s->sc_bits);
    uint32_t touched = sc_mask(first, last);
    uint32_t old_alloc, old_zero;
    entry_masks(s, &e, &old_alloc, &old_zero);
    bool compressed = e.entry & QCOW2_OFLAG_COMPRESSED;
    bool usable = entry_has_host(s, e.entry) && (e.entry & QCOW2_OFLAG_COPIED);
    if (!s->extended && usable && (e.entry & QCOW2_OFLAG_ZERO))
        old_alloc = 0;  /* preallocated zero cluster: edges become zeros */

    uint64_t host, wlo, whi;
    uint32_t carry = 0;
    bool fresh = false;
    if (usable) {
        host = s->data != s->file ? cstart : e.entry & QCOW2_OFFSET_MASK;
        uint32_t fill = touched & ~old_alloc;
        wlo = (fill & (1u << first)) ? first * scsz : in;
        whi = (fill & (1u << last)) ? (last + 1) * scsz : in + n;
    } else {
        r = alloc_data(s, cstart, 1, &host, errp);
        if (r < 0)
            return r;
        fresh = host_fresh(s, host);
        carry = compressed ? ~0u >> (32 - s->sc_per_cluster) : old_alloc;
        uint32_t set = touched | carry;
        unsigned lo = (unsigned)__builtin_ctz(set), hi = 31u - (unsigned)__builtin_clz(set);
        wlo = lo * scsz;
        whi = (hi + 1) * scsz;
        if (!s->extended) {
            wlo = 0;
            whi = csz;
        }
    }

    const uint8_t *src = data;
    uint64_t wstart = in, wlen = n;
    if (wlo < in || whi > in + n) {
        uint8_t *b = s->buf;
        qcow2_event(s, "cow_read");
        if (wlo < in && (r = qcow2_do_pread(s, cstart + wlo, in - wlo, b, errp)) < 0)
            return r;
        if (whi > in + n &&
            (r = qcow2_do_pread(s, off + n, whi - (in + n), b + (in + n - wlo), errp)) < 0)
            return r;
        memcpy(b + (in - wlo), data, n);
        src = b;
        wstart = wlo;
        wlen = whi - wlo;
        if (fresh && !s->crypt_method) {
            /* Past the end of the file zeros need not be written. */
            while (wlen >= 512 && wstart < in && is_zero(src, 512)) {
                src += 512;
                wstart += 512;
                wlen -= 512;
            }
            while (wlen >= 512 && wstart + wlen > in + n && is_zero(src + wlen - 512, 512))
                wlen -= 512;
        }
    }
    r = write_data(s, host + wstart, cstart + wstart, wlen, src,
                   src == data ? "write_aio" : "cow_write", errp);
    if (r < 0)
        return r;

    struct qcow2_l2ref ne = { new_entry_for(s, host), 0 };
    if (s->extended) {
        uint32_t alloc = (usable ? old_alloc : carry) | touched;
        uint32_t zero = old_zero & ~alloc;
        ne.bitmap = ((uint64_t)zero << 32) | alloc;
    }
    if (ne.entry != e.entry || ne.bitmap != e.bitmap) {
        qcow2_event(s, "l2_update");
        r = qcow2_set_l2_entry(s, cstart, &ne, errp);
        if (r < 0)
            return r;
        if (!usable && (compressed || entry_has_host(s, e.entry)))
            r = qcow2_free_entry_later(s, e.entry, errp);
        if (compressed)
            s->dc_valid = false;
    }
    return r;
}

/* Whole clusters [off, off + k*csz) that all need new clusters: one
 * allocation and one write. */
static int write_fresh_run(struct qcow2_state *s, uint64_t off, uint64_t k,
                           const uint8_t *data, const struct qcow2_l2ref *old,
                           struct strata_error **errp)
{
    uint64_t host;
    int r = alloc_data(s, off, k, &host, errp);
    if (r < 0)
        return r;
    r = write_data(s, host, off, k * s->cluster_size, data, "write_aio", errp);
    if (r < 0)
        return r;
    for (uint64_t i = 0; i < k; i++) {
        struct qcow2_l2ref ne = { new_entry_for(s, host + i * s->cluster_size), 0 };
        if (s->data != s->file)
            ne.entry = new_entry_for(s, off + i * s->cluster_size);
        if (s->extended)
            ne.bitmap = 0xffffffffull;
        qcow2_event(s, "l2_update");
        r = qcow2_set_l2_entry(s, off + i * s->cluster_size, &ne, errp);
        if (r < 0)
            return r;
        if (old[i].entry & QCOW2_OFLAG_COMPRESSED)
            s->dc_valid = false;
        if ((old[i].entry & QCOW2_OFLAG_COMPRESSED) || entry_has_host(s, old[i].entry)) {
            r = qcow2_free_entry_later(s, old[i].entry, errp);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

#define QCOW2_RUN_MAX 64

int qcow2_do_pwrite(struct qcow2_state *s, uint64_t off, uint64_t len, const uint8_t *buf,
                    unsigned flags, struct strata_error **errp)
{
    uint64_t csz = s->cluster_size;
    int r = qcow2_prepare_write(s, errp);
    if (r < 0)
        return r;
    while (len > 0) {
        uint64_t in = off & (csz - 1);
        if (in == 0 && len >= csz) {
            /* Whole clusters: in place when contiguous and ours, else a batch
             * of new clusters. */
            struct qcow2_l2ref ents[QCOW2_RUN_MAX];
            r = qcow2_get_l2_entry(s, off, &ents[0], errp);
            if (r < 0)
                return r;
            uint32_t a0, z0;
            entry_masks(s, &ents[0], &a0, &z0);
            bool full = a0 == (~0u >> (32 - s->sc_per_cluster));
            bool inplace = entry_has_host(s, ents[0].entry) &&
                           (ents[0].entry & QCOW2_OFLAG_COPIED) && full &&
                           !(ents[0].entry & QCOW2_OFLAG_ZERO && !s->extended);
            uint64_t host0 = ents[0].entry & QCOW2_OFFSET_MASK;
            if (s->data != s->file)
                host0 = off;
            uint64_t k = 1;
            while (k < QCOW2_RUN_MAX && (k + 1) * csz <= len) {
                r = qcow2_get_l2_entry(s, off + k * csz, &ents[k], errp);
                if (r < 0)
                    return r;
                uint32_t a, z;
                entry_masks(s, &ents[k], &a, &z);
                bool f = a == (~0u >> (32 - s->sc_per_cluster));
                bool ip = entry_has_host(s, ents[k].entry) &&
                          (ents[k].entry & QCOW2_OFLAG_COPIED) && f &&
                          !(ents[k].entry & QCOW2_OFLAG_ZERO && !s->extended);
                uint64_t h = s->data != s->file ? off + k * csz
                                                : ents[k].entry & QCOW2_OFFSET_MASK;
                if (ip != inplace || (ip && h != host0 + k * csz))
                    break;
                k++;
            }
            if (inplace)
                r = write_data(s, host0, off, k * csz, buf, "write_aio", errp);
            else
                r = write_fresh_run(s, off, k, buf, ents, errp);
            if (r < 0)
                return r;
            off += k * csz;
            buf += k * csz;
            len -= k * csz;
            continue;
        }
        uint64_t n = csz - in < len ? csz - in : len;
        r = write_one(s, off, n, buf, errp);
        if (r < 0)
            return r;
        off += n;
        buf += n;
        len -= n;
    }
    r = qcow2_apply_pending_frees(s, errp);
    if (r == 0 && (flags & STRATA_REQ_FUA))
        r = qcow2_flush_all(s, errp);
    return r;
}

/* Does the whole cluster at `off` read as zeros now? */
static int reads_as_zero(struct qcow2_state *s, uint64_t off, uint64_t n, bool *zero,
                         struct strata_error **errp)
{
    struct qcow2_l2ref e;
    int r = qcow2_get_l2_entry(s, off, &e, errp);
    if (r < 0)
        return r;
    uint64_t in = off & (s->cluster_size - 1);
    unsigned first = (unsigned)(in >> s->sc_bits);
    unsigned last = (unsigned)((in + n - 1) >> s->sc_bits);
    *zero = true;
    for (unsigned i = first; i <= last && *zero; i++) {
        enum qcow2_type t = qcow2_entry_type(s, &e, i);
        if (t == QCOW2_ZERO)
            continue;
        if (t == QCOW2_UNALLOC && !s->backing)
            continue;
        if (t == QCOW2_UNALLOC) {
            int64_t bl = strata_get_length(s->backing);
            if (bl >= 0 && off >= (uint64_t)bl)
                continue;
        }
        *zero = false;
    }
    return 0;
}

int qcow2_do_zero(struct qcow2_state *s, uint64_t off, uint64_t len, unsigned flags,
                  bool discard, struct strata_error **errp)
{
    uint64_t csz = s->cluster_size, scsz = 1ull << s->sc_bits;
    int r = qcow2_prepare_write(s, errp);
    if (r < 0)
        return r;
    bool can_zero = s->version >= 3 && !(s->autoclear & QCOW2_AUTOCLEAR_DATA_RAW);
    while (len > 0) {
        uint64_t cstart = off & ~(csz - 1), in = off - cstart;
        uint64_t n = csz - in < len ? csz - in : len;
        struct qcow2_l2ref e;
        r = qcow2_get_l2_entry(s, off, &e, errp);
        if (r < 0)
            return r;
        bool whole = in == 0 && n == csz;
        /* Extended L2: whole subclusters can be zeroed in the bitmap. */
        bool whole_sc = s->extended && (in % scsz) == 0 && (n % scsz) == 0;
        if (discard && !whole && !whole_sc)
            goto next;   /* advisory: partial clusters are left alone */
        if (!discard && !whole && !whole_sc) {
            bool z;
            r = reads_as_zero(s, off, n, &z, errp);
            if (r < 0)
                return r;
            if (!z) {
                r = write_one(s, off, n, s->zero_buf, errp);
                if (r < 0)
                    return r;
            }
            goto next;
        }
        if (!can_zero && !discard) {
            bool z;
            r = reads_as_zero(s, off, n, &z, errp);
            if (r < 0)
                return r;
            if (!z && !whole) {
                r = write_one(s, off, n, s->zero_buf, errp);
            } else if (!z) {
                r = write_fresh_run(s, off, 1, s->zero_buf, &e, errp);
            }
            if (r < 0)
                return r;
            goto next;
        }
        {
            bool keep = !discard && !(flags & STRATA_REQ_MAY_UNMAP) &&
                        entry_has_host(s, e.entry) && (e.entry & QCOW2_OFLAG_COPIED);
            struct qcow2_l2ref ne = { 0, 0 };
            bool zero_flag = !discard || s->backing;
            if (!can_zero)
                zero_flag = false;
            if (s->extended) {
                unsigned first = (unsigned)(in >> s->sc_bits);
                unsigned last = (unsigned)((in + n - 1) >> s->sc_bits);
                uint32_t m = sc_mask(first, last);
                uint32_t alloc, zero;
                entry_masks(s, &e, &alloc, &zero);
                if (e.entry & QCOW2_OFLAG_COMPRESSED) {
                    if (!whole) {
                        /* Compressed clusters have no subclusters: go through
                         * the write path. */
                        r = write_one(s, off, n, s->zero_buf, errp);
                        if (r < 0)
                            return r;
                        goto next;
                    }
                    alloc = 0;
                }
                alloc &= ~m;
                if (zero_flag)
                    zero |= m;
                else
                    zero &= ~m;
                bool host_kept = alloc || keep;
                ne.entry = host_kept ? (e.entry & ~QCOW2_OFLAG_COMPRESSED) : 0;
                if (!host_kept && s->data != s->file)
                    ne.entry = 0;
                ne.bitmap = ((uint64_t)zero << 32) | alloc;
                keep = host_kept;
            } else {
                ne.entry = keep ? (e.entry | QCOW2_OFLAG_ZERO) : (zero_flag ? QCOW2_OFLAG_ZERO : 0);
            }
            if (ne.entry != e.entry || ne.bitmap != e.bitmap) {
                qcow2_event(s, "l2_update");
                r = qcow2_set_l2_entry(s, cstart, &ne, errp);
                if (r < 0)
                    return r;
                if (!keep && ((e.entry & QCOW2_OFLAG_COMPRESSED) || entry_has_host(s, e.entry))) {
                    if (e.entry & QCOW2_OFLAG_COMPRESSED)
                        s->dc_valid = false;
                    r = qcow2_free_entry_later(s, e.entry, errp);
                    if (r < 0)
                        return r;
                }
            }
            if (discard && !keep && s->data != s->file && entry_has_host(s, e.entry))
                strata_pdiscard(s->data, cstart + in, n, NULL);
        }
next:
        off += n;
        len -= n;
    }
    return qcow2_apply_pending_frees(s, errp);
}

/* Compresses whole clusters one by one; a cluster that does not get smaller,
 * one covered in part, and any cluster of an image with a data file or
 * encryption is written plainly. */
int qcow2_pwrite_compressed(struct qcow2_state *s, uint64_t off, uint64_t len,
                            const uint8_t *buf, struct strata_error **errp)
{
    uint64_t csz = s->cluster_size;
    if (s->data != s->file || s->crypt_method)
        return qcow2_do_pwrite(s, off, len, buf, 0, errp);
    int r = qcow2_prepare_write(s, errp);
    if (r < 0)
        return r;
    while (len > 0) {
        uint64_t in = off & (csz - 1);
        uint64_t n = csz - in < len ? csz - in : len;
        const uint8_t *src = buf;
        if (in || (n < csz && off + n != s->size)) {
            /* Clusters covered in part are stored plainly. */
            r = qcow2_do_pwrite(s, off, n, buf, 0, errp);
            if (r < 0)
                return r;
            goto next;
        }
        if (n < csz) {
            /* The last cluster of the image: pad with zeros. */
            memset(s->buf, 0, csz);
            memcpy(s->buf, buf, n);
            src = s->buf;
        }
        long clen = qcow2_compress(&s->codec, s->compression_type, src, csz, s->cbuf, csz,
                                   errp);
        if (clen == -ENOSPC) {
            r = qcow2_do_pwrite(s, off, n, buf, 0, errp);
            if (r < 0)
                return r;
            goto next;
        }
        if (clen < 0) {
            strata_error_prefix(errp, "%s", s->name);
            return (int)clen;
        }
        uint64_t host;
        r = qcow2_alloc_bytes(s, (uint64_t)clen, &host, errp);
        if (r < 0)
            return r;
        qcow2_event(s, "write_compressed");
        r = strata_pwrite(s->file, host, (uint64_t)clen, s->cbuf, 0, errp);
        if (r < 0)
            return r;
        struct qcow2_l2ref old;
        r = qcow2_get_l2_entry(s, off, &old, errp);
        if (r < 0)
            return r;
        struct qcow2_l2ref ne = { qcow2_compressed_entry(s, host, (uint64_t)clen), 0 };
        qcow2_event(s, "l2_update_compressed");
        r = qcow2_set_l2_entry(s, off, &ne, errp);
        if (r < 0)
            return r;
        s->dc_valid = false;
        if ((old.entry & QCOW2_OFLAG_COMPRESSED) ||
            (old.entry & QCOW2_OFFSET_MASK)) {
            r = qcow2_free_entry_later(s, old.entry, errp);
            if (r < 0)
                return r;
        }
next:
        off += n;
        buf += n;
        len -= n;
    }
    return qcow2_apply_pending_frees(s, errp);
}
