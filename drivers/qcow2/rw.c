/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rw.c - guest reads and writes: mapping lookups, allocation with
 * copy-on-write of the parts of a (sub)cluster the request does not cover,
 * zero clusters, discard, compressed writes.
 *
 * Each request holds its guest cluster range (lock.c) from start to end,
 * shared to read or to overwrite allocated clusters in place, exclusive for
 * any other write; the *_locked functions expect it held.  Within it, metadata is looked up and changed in short sections
 * under s->meta, and the data I/O, encryption and compression between them
 * run unlocked: a new cluster is allocated under meta, filled outside it,
 * and linked into the L2 table under meta again. */
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
        qcow2_event(s, STRATA_EV_READ_BACKING_AIO);
        int r = strata_pread(s->backing, off, n, buf, 0, errp);
        if (r < 0)
            return r;
    }
    if (n < len)
        memset(buf + n, 0, len - n);
    return 0;
}

/* Forgets the decompressed cluster: a compressed cluster was replaced, and
 * its bytes may come back under the same L2 entry with other data. */
static void dc_forget(struct qcow2_state *s)
{
    pthread_mutex_lock(&s->dc_mu);
    s->dc_valid = false;
    pthread_mutex_unlock(&s->dc_mu);
}

/* Copies [in, in+n) of the compressed cluster `entry` into buf.  The last
 * cluster decompressed is kept (sequential small reads hit it); the
 * decompression itself runs in buffers of this request, unlocked. */
static int read_compressed(struct qcow2_state *s, uint64_t guest_cluster, uint64_t entry,
                           uint64_t in, uint64_t n, uint8_t *buf, struct strata_error **errp)
{
    pthread_mutex_lock(&s->dc_mu);
    bool hit = s->dc_valid && s->dc_entry == entry;
    if (hit)
        memcpy(buf, s->dcbuf + in, n);
    pthread_mutex_unlock(&s->dc_mu);
    if (hit)
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
    uint8_t *cbuf = aligned_alloc(4096, qcow2_align_up(nbytes, 4096));
    uint8_t *out = malloc(s->cluster_size);
    struct qcow2_codec *codec = qcow2_codec_get(s);
    int r;
    if (!cbuf || !out || !codec) {
        r = strata_error_set(errp, ENOMEM, "out of memory");
        goto out;
    }
    qcow2_event(s, STRATA_EV_READ_COMPRESSED);
    r = strata_pread(s->file, host, nbytes, cbuf, 0, errp);
    if (r < 0)
        goto out;
    r = qcow2_decompress(codec, s->compression_type, cbuf, nbytes, out, s->cluster_size,
                         errp);
    if (r < 0) {
        strata_error_prefix(errp, "%s: compressed cluster for guest offset 0x%llx", s->name,
                            (unsigned long long)guest_cluster);
        goto out;
    }
    memcpy(buf, out + in, n);
    pthread_mutex_lock(&s->dc_mu);
    memcpy(s->dcbuf, out, s->cluster_size);
    s->dc_entry = entry;
    s->dc_valid = true;
    pthread_mutex_unlock(&s->dc_mu);
out:
    qcow2_codec_put(s, codec);
    free(out);
    free(cbuf);
    return r;
}

/* Reads data clusters, decrypting; `guest` is the guest offset of host.
 * A cluster past the end of the data file reads as the file protocol reads
 * it, as zeros: a power cut can keep an L2 entry and lose the write that
 * grew the file, and such an image must still read (check reports it). */
static int read_data(struct qcow2_state *s, uint64_t host, uint64_t guest, uint64_t len,
                     uint8_t *buf, struct strata_error **errp)
{
    qcow2_event(s, STRATA_EV_READ_AIO);
    int r = strata_pread(s->data, host, len, buf, 0, errp);
    if (r == 0 && s->crypt_method)
        r = qcow2_crypt(s, false, host, guest, buf, len, errp);
    return r;
}

/* The mapping of a run starting at `off` (meta held): its type, length,
 * host offset and L2 entry. */
static int map_run(struct qcow2_state *s, uint64_t off, uint64_t len, enum qcow2_type *type,
                   uint64_t *runlen, uint64_t *hostp, struct qcow2_l2ref *ep,
                   struct strata_error **errp)
{
    uint64_t csz = s->cluster_size, scsz = 1ull << s->sc_bits;
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
    if (t == QCOW2_NORMAL) {
        if ((e.entry & QCOW2_OFFSET_MASK) & (csz - 1))
            return strata_error_set(errp, EIO, "%s: L2 entry for guest offset 0x%llx has "
                                    "an unaligned host offset 0x%llx", s->name,
                                    (unsigned long long)cstart,
                                    (unsigned long long)(e.entry & QCOW2_OFFSET_MASK));
    }
    *type = t;
    *runlen = n;
    *hostp = host;
    *ep = e;
    return 0;
}

static int pread_locked(struct qcow2_state *s, uint64_t off, uint64_t len, uint8_t *buf,
                        struct strata_error **errp)
{
    uint64_t csz = s->cluster_size;
    while (len > 0) {
        enum qcow2_type t = QCOW2_UNALLOC;
        uint64_t n = 0, host = 0;
        struct qcow2_l2ref e;
        pthread_mutex_lock(&s->meta);
        int r = map_run(s, off, len, &t, &n, &host, &e, errp);
        pthread_mutex_unlock(&s->meta);
        if (r < 0)
            return r;
        switch (t) {
        case QCOW2_UNALLOC:
            r = read_backing(s, off, n, buf, errp);
            break;
        case QCOW2_ZERO:
            memset(buf, 0, n);
            r = 0;
            break;
        case QCOW2_NORMAL:
            r = read_data(s, host, off, n, buf, errp);
            break;
        case QCOW2_COMPRESSED:
            r = read_compressed(s, off & ~(csz - 1), e.entry, off & (csz - 1), n, buf, errp);
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

int qcow2_do_pread(struct qcow2_state *s, uint64_t off, uint64_t len, uint8_t *buf,
                   struct strata_error **errp)
{
    struct qcow2_range rg;
    qcow2_range_lock(s, &rg, off, len, false);
    int r = pread_locked(s, off, len, buf, errp);
    qcow2_range_unlock(s, &rg);
    return r;
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

/* Is the host cluster past what the data file holds (reads as zeros)?
 * (meta held) */
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

/* Writes guest data at `host`; encrypted data goes out a batch at a time
 * through a pooled buffer, leaving the caller's buffer as it was. */
static int write_data(struct qcow2_state *s, uint64_t host, uint64_t guest, uint64_t len,
                      const uint8_t *buf, enum strata_event ev, struct strata_error **errp)
{
    qcow2_event(s, ev);
    int r = qcow2_overlap_check_data(s, host, len, errp);
    if (r < 0)
        return r;
    if (!s->crypt_method)
        return strata_pwrite(s->data, host, len, buf, 0, errp);
    uint8_t *enc = bounce_get(&s->crypt_pool);
    if (!enc)
        return strata_error_set(errp, ENOMEM, "out of memory");
    while (r == 0 && len > 0) {
        uint64_t n = len > QCOW2_CRYPT_BATCH ? QCOW2_CRYPT_BATCH : len;
        memcpy(enc, buf, n);
        r = qcow2_crypt(s, true, host, guest, enc, n, errp);
        if (r == 0)
            r = strata_pwrite(s->data, host, n, enc, 0, errp);
        host += n;
        guest += n;
        buf += n;
        len -= n;
    }
    bounce_put(&s->crypt_pool, enc);
    return r;
}

/* New host clusters for n guest clusters (contiguous; meta held).  The L2
 * table that will point at them is made first, as QEMU does, so that both
 * lay out a new image's clusters in the same order (map offsets, disk use). */
static int alloc_data(struct qcow2_state *s, uint64_t guest, uint64_t n, uint64_t *host,
                      struct strata_error **errp)
{
    int r = qcow2_prepare_l2(s, guest, n << s->cluster_bits, errp);
    if (r < 0)
        return r;
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

/* Points the guest cluster at `cstart` to `ne` instead of `old` and queues
 * what `old` held for freeing unless `keep` (meta held). */
static int relink(struct qcow2_state *s, uint64_t cstart, const struct qcow2_l2ref *old,
                  const struct qcow2_l2ref *ne, bool keep, enum strata_event ev,
                  struct strata_error **errp)
{
    qcow2_event(s, ev);
    int r = qcow2_set_l2_entry(s, cstart, ne, errp);
    if (r == 0 && !keep && ((old->entry & QCOW2_OFLAG_COMPRESSED) ||
                            entry_has_host(s, old->entry)))
        r = qcow2_free_entry_later(s, old->entry, errp);
    return r;
}

/* Write within one cluster, with COW of what the request does not cover. */
static int write_one(struct qcow2_state *s, uint64_t off, uint64_t n, const uint8_t *data,
                     struct strata_error **errp)
{
    uint64_t csz = s->cluster_size, scsz = 1ull << s->sc_bits;
    uint64_t cstart = off & ~(csz - 1), in = off - cstart;
    unsigned first = (unsigned)(in >> s->sc_bits), last = (unsigned)((in + n - 1) >> s->sc_bits);
    uint32_t touched = sc_mask(first, last);
    uint32_t old_alloc, old_zero;
    struct qcow2_l2ref e;
    uint64_t host, wlo, whi;
    uint32_t carry = 0;
    bool fresh = false, compressed, usable;

    pthread_mutex_lock(&s->meta);
    int r = qcow2_get_l2_entry(s, off, &e, errp);
    if (r < 0)
        goto unlock;
    entry_masks(s, &e, &old_alloc, &old_zero);
    compressed = e.entry & QCOW2_OFLAG_COMPRESSED;
    usable = entry_has_host(s, e.entry) && (e.entry & QCOW2_OFLAG_COPIED);
    if (!s->extended && usable && (e.entry & QCOW2_OFLAG_ZERO))
        old_alloc = 0;  /* preallocated zero cluster: edges become zeros */
    if (usable) {
        host = s->data != s->file ? cstart : e.entry & QCOW2_OFFSET_MASK;
        uint32_t fill = touched & ~old_alloc;
        wlo = (fill & (1u << first)) ? first * scsz : in;
        whi = (fill & (1u << last)) ? (last + 1) * scsz : in + n;
    } else {
        r = alloc_data(s, cstart, 1, &host, errp);
        if (r < 0)
            goto unlock;
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
unlock:
    pthread_mutex_unlock(&s->meta);
    if (r < 0)
        return r;

    /* The new cluster is ours alone (refcount 1, nothing points at it yet)
     * and the guest cluster is held exclusively: fill it unlocked. */
    const uint8_t *src = data;
    uint8_t *b = NULL;
    uint64_t wstart = in, wlen = n;
    if (wlo < in || whi > in + n) {
        b = aligned_alloc(4096, qcow2_align_up(csz, 4096));
        if (!b)
            return strata_error_set(errp, ENOMEM, "out of memory");
        qcow2_event(s, STRATA_EV_COW_READ);
        if ((wlo < in && (r = pread_locked(s, cstart + wlo, in - wlo, b, errp)) < 0) ||
            (whi > in + n &&
             (r = pread_locked(s, off + n, whi - (in + n), b + (in + n - wlo), errp)) < 0)) {
            free(b);
            return r;
        }
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
                   src == data ? STRATA_EV_WRITE_AIO : STRATA_EV_COW_WRITE, errp);
    free(b);
    if (r < 0)
        return r;

    struct qcow2_l2ref ne = { new_entry_for(s, host), 0 };
    if (s->extended) {
        uint32_t alloc = (usable ? old_alloc : carry) | touched;
        uint32_t zero = old_zero & ~alloc;
        ne.bitmap = ((uint64_t)zero << 32) | alloc;
    }
    if (ne.entry != e.entry || ne.bitmap != e.bitmap) {
        pthread_mutex_lock(&s->meta);
        r = relink(s, cstart, &e, &ne, usable, STRATA_EV_L2_UPDATE, errp);
        pthread_mutex_unlock(&s->meta);
        if (compressed)
            dc_forget(s);
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
    pthread_mutex_lock(&s->meta);
    int r = alloc_data(s, off, k, &host, errp);
    pthread_mutex_unlock(&s->meta);
    if (r < 0)
        return r;
    r = write_data(s, host, off, k * s->cluster_size, data, STRATA_EV_WRITE_AIO, errp);
    if (r < 0)
        return r;
    bool compressed = false;
    pthread_mutex_lock(&s->meta);
    for (uint64_t i = 0; i < k && r == 0; i++) {
        struct qcow2_l2ref ne = { new_entry_for(s, host + i * s->cluster_size), 0 };
        if (s->data != s->file)
            ne.entry = new_entry_for(s, off + i * s->cluster_size);
        if (s->extended)
            ne.bitmap = 0xffffffffull;
        compressed |= old[i].entry & QCOW2_OFLAG_COMPRESSED;
        r = relink(s, off + i * s->cluster_size, &old[i], &ne, false, STRATA_EV_L2_UPDATE,
                   errp);
    }
    pthread_mutex_unlock(&s->meta);
    if (compressed)
        dc_forget(s);
    return r;
}

/* qcow2_prepare_write under meta; *can_zero (when not NULL): whether zero
 * clusters can be used. */
static int prepare_and_lock(struct qcow2_state *s, bool *can_zero, struct strata_error **errp)
{
    pthread_mutex_lock(&s->meta);
    int r = qcow2_prepare_write(s, errp);
    if (can_zero)
        *can_zero = s->version >= 3 && !(s->autoclear & QCOW2_AUTOCLEAR_DATA_RAW);
    pthread_mutex_unlock(&s->meta);
    return r;
}

/* The end of a writing request: frees it queued, and with FUA everything
 * stable. */
static int finish_write(struct qcow2_state *s, bool fua, struct strata_error **errp)
{
    pthread_mutex_lock(&s->meta);
    int r = qcow2_apply_pending_frees(s, errp);
    if (r == 0 && fua)
        r = qcow2_flush_guest(s, errp);
    pthread_mutex_unlock(&s->meta);
    return r;
}

/* Can the whole cluster of entry e be overwritten in place? */
/* Whether a write of the whole cluster goes to the host cluster it has: one
 * of ours with data, or, as in QEMU, a preallocated zero cluster (its zero
 * flag is cleared once the data is written). */
static bool in_place(const struct qcow2_state *s, const struct qcow2_l2ref *e)
{
    uint32_t a, z;
    entry_masks(s, e, &a, &z);
    if (!entry_has_host(s, e->entry) || !(e->entry & QCOW2_OFLAG_COPIED))
        return false;
    return s->extended ? a == (~0u >> (32 - s->sc_per_cluster)) : true;
}

/* After an in-place write of whole clusters: those that were preallocated
 * zero clusters now hold the data (meta not held). */
static int clear_zero_flags(struct qcow2_state *s, uint64_t off, const struct qcow2_l2ref *ents,
                            uint64_t k, struct strata_error **errp)
{
    int r = 0;
    for (uint64_t i = 0; i < k && r == 0; i++) {
        if (s->extended || !(ents[i].entry & QCOW2_OFLAG_ZERO))
            continue;
        struct qcow2_l2ref ne = { ents[i].entry & ~QCOW2_OFLAG_ZERO, ents[i].bitmap };
        pthread_mutex_lock(&s->meta);
        r = relink(s, off + i * s->cluster_size, &ents[i], &ne, true, STRATA_EV_L2_UPDATE,
                   errp);
        pthread_mutex_unlock(&s->meta);
    }
    return r;
}

#define QCOW2_RUN_MAX 64

/* Whole clusters from `off`: how many (k, at most len / csz) are either all
 * in place and contiguous on the host, or all to be allocated (meta held). */
static int plan_run(struct qcow2_state *s, uint64_t off, uint64_t len,
                    struct qcow2_l2ref *ents, uint64_t *kp, bool *inplace, uint64_t *host0,
                    struct strata_error **errp)
{
    uint64_t csz = s->cluster_size;
    int r = qcow2_get_l2_entry(s, off, &ents[0], errp);
    if (r < 0)
        return r;
    *inplace = in_place(s, &ents[0]);
    *host0 = s->data != s->file ? off : ents[0].entry & QCOW2_OFFSET_MASK;
    uint64_t k = 1;
    while (k < QCOW2_RUN_MAX && (k + 1) * csz <= len) {
        r = qcow2_get_l2_entry(s, off + k * csz, &ents[k], errp);
        if (r < 0)
            return r;
        bool ip = in_place(s, &ents[k]);
        uint64_t h = s->data != s->file ? off + k * csz : ents[k].entry & QCOW2_OFFSET_MASK;
        if (ip != *inplace || (ip && h != *host0 + k * csz))
            break;
        k++;
    }
    *kp = k;
    return 0;
}

static int pwrite_locked(struct qcow2_state *s, uint64_t off, uint64_t len,
                         const uint8_t *buf, unsigned flags, struct strata_error **errp)
{
    uint64_t csz = s->cluster_size;
    int r = prepare_and_lock(s, NULL, errp);
    if (r < 0)
        return r;
    while (len > 0) {
        uint64_t in = off & (csz - 1);
        if (in == 0 && len >= csz) {
            /* Whole clusters: in place when contiguous and ours, else a batch
             * of new clusters. */
            struct qcow2_l2ref ents[QCOW2_RUN_MAX];
            uint64_t k, host0;
            bool inplace;
            pthread_mutex_lock(&s->meta);
            r = plan_run(s, off, len, ents, &k, &inplace, &host0, errp);
            pthread_mutex_unlock(&s->meta);
            if (r < 0)
                return r;
            if (inplace) {
                r = write_data(s, host0, off, k * csz, buf, STRATA_EV_WRITE_AIO, errp);
                if (r == 0)
                    r = clear_zero_flags(s, off, ents, k, errp);
            } else
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
    return finish_write(s, flags & STRATA_REQ_FUA, errp);
}

/* Where [off, off+n) of one cluster is written in place (meta held): the
 * host offset, or 0 when the write would change the mapping (allocation,
 * copy-on-write, a zero flag or subcluster bits to clear). */
static uint64_t in_place_host(struct qcow2_state *s, uint64_t off, uint64_t n,
                              struct strata_error **errp)
{
    struct qcow2_l2ref e;
    if (qcow2_get_l2_entry(s, off, &e, errp) < 0)
        return 0;
    if (!entry_has_host(s, e.entry) || !(e.entry & QCOW2_OFLAG_COPIED))
        return 0;
    uint64_t cstart = off & ~(s->cluster_size - 1), in = off - cstart;
    for (uint64_t sc = in >> s->sc_bits; sc <= (in + n - 1) >> s->sc_bits; sc++)
        if (qcow2_entry_type(s, &e, (unsigned)sc) != QCOW2_NORMAL)
            return 0;
    if (!s->extended && (e.entry & QCOW2_OFLAG_ZERO))
        return 0;
    uint64_t host = s->data != s->file ? cstart : e.entry & QCOW2_OFFSET_MASK;
    return host + in;
}

/* A write that only overwrites allocated clusters changes no metadata, so
 * it needs its clusters only shared: writers of different bytes of one
 * cluster then run at once.  Returns 1 (nothing written) when some cluster
 * needs more; a request of more than QCOW2_RUN_MAX clusters is not tried. */
static int pwrite_in_place(struct qcow2_state *s, uint64_t off, uint64_t len,
                           const uint8_t *buf, unsigned flags, struct strata_error **errp)
{
    uint64_t csz = s->cluster_size;
    uint64_t hosts[QCOW2_RUN_MAX], lens[QCOW2_RUN_MAX];
    size_t k = 0;
    int r = 0;
    /* A lookup that fails here fails again on the full path, which
     * reports it with its context. */
    struct strata_error *lookup_err = NULL;
    pthread_mutex_lock(&s->meta);
    if (s->header_dirty || (s->lazy && !s->dirty_set) ||
        (s->autoclear & QCOW2_AUTOCLEAR_BITMAPS) || (s->incompat & QCOW2_INCOMPAT_CORRUPT))
        r = 1;      /* qcow2_prepare_write has work: the full path does it */
    for (uint64_t o = off; r == 0 && o < off + len; k++) {
        uint64_t n = csz - (o & (csz - 1));
        if (n > off + len - o)
            n = off + len - o;
        if (k == QCOW2_RUN_MAX || !(hosts[k] = in_place_host(s, o, n, &lookup_err)))
            r = 1;
        lens[k] = n;
        o += n;
    }
    pthread_mutex_unlock(&s->meta);
    strata_error_free(lookup_err);
    if (r)
        return r;
    uint64_t guest = off;
    for (size_t i = 0; i < k && r == 0;) {
        /* Clusters that follow each other on the host: one write. */
        size_t j = i + 1;
        uint64_t n = lens[i];
        while (j < k && hosts[j] == hosts[i] + n) {
            n += lens[j];
            j++;
        }
        r = write_data(s, hosts[i], guest, n, buf + (guest - off), STRATA_EV_WRITE_AIO, errp);
        guest += n;
        i = j;
    }
    if (r == 0 && (flags & STRATA_REQ_FUA))
        r = finish_write(s, true, errp);
    return r;
}

int qcow2_do_pwrite(struct qcow2_state *s, uint64_t off, uint64_t len, const uint8_t *buf,
                    unsigned flags, struct strata_error **errp)
{
    struct qcow2_range rg;
    qcow2_range_lock(s, &rg, off, len, false);
    int r = pwrite_in_place(s, off, len, buf, flags, errp);
    qcow2_range_unlock(s, &rg);
    if (r != 1)
        return r;
    qcow2_range_lock(s, &rg, off, len, true);
    r = pwrite_locked(s, off, len, buf, flags, errp);
    qcow2_range_unlock(s, &rg);
    return r;
}

/* Does the backing chain read [off, off+n) as zeros, by its block status
 * (no data is read)?  What lies past its end does. */
static bool backing_reads_zero(struct qcow2_state *s, uint64_t off, uint64_t n)
{
    int64_t bl = strata_get_length(s->backing);
    if (bl < 0)
        return false;
    if (off >= (uint64_t)bl)
        return true;
    if (n > (uint64_t)bl - off)
        n = (uint64_t)bl - off;
    while (n > 0) {
        struct strata_block_status bs;
        int depth;
        if (strata_block_status_above(s->backing, off, n, &bs, &depth, NULL) < 0 ||
            bs.pnum == 0 ||
            ((bs.flags & STRATA_BS_ALLOCATED) && !(bs.flags & STRATA_BS_ZERO)))
            return false;
        uint64_t step = bs.pnum < n ? bs.pnum : n;
        off += step;
        n -= step;
    }
    return true;
}

/* Does the part [off, off+n) of one cluster read as zeros now? */
static int reads_as_zero(struct qcow2_state *s, uint64_t off, uint64_t n, bool *zero,
                         struct strata_error **errp)
{
    struct qcow2_l2ref e;
    pthread_mutex_lock(&s->meta);
    int r = qcow2_get_l2_entry(s, off, &e, errp);
    pthread_mutex_unlock(&s->meta);
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
            uint64_t sc_start = (off & ~(s->cluster_size - 1)) + ((uint64_t)i << s->sc_bits);
            uint64_t a = off > sc_start ? off : sc_start;
            uint64_t b = sc_start + (1ull << s->sc_bits) < off + n ? sc_start + (1ull << s->sc_bits)
                                                                    : off + n;
            if (backing_reads_zero(s, a, b - a))
                continue;
        }
        *zero = false;
    }
    return 0;
}

/* Zeroes or discards the part [off, off+n) of the cluster at cstart whose
 * entry is e by changing its L2 entry (whole clusters, or whole subclusters
 * with extended L2).  *done is false when it must be written instead. */
static int zero_entry(struct qcow2_state *s, uint64_t cstart, uint64_t in, uint64_t n,
                      const struct qcow2_l2ref *e, unsigned flags, bool discard, bool can_zero,
                      bool *done, struct strata_error **errp)
{
    bool whole = in == 0 && (n == s->cluster_size || cstart + n == s->size);
    bool keep = !discard && !(flags & STRATA_REQ_MAY_UNMAP) &&
                entry_has_host(s, e->entry) && (e->entry & QCOW2_OFLAG_COPIED);
    struct qcow2_l2ref ne = { 0, 0 };
    /* A discarded cluster that held data reads back as zeros, as in qemu,
     * where nothing lies beneath it.  An image opened without its backing
     * file (commit emptying it) lets the backing file show through. */
    bool zero_flag = !discard || s->backing ||
                     (!s->backing_file && ((e->entry & QCOW2_OFLAG_COMPRESSED) ||
                                           entry_has_host(s, e->entry)));
    if (!can_zero)
        zero_flag = false;
    *done = true;
    if (s->extended) {
        unsigned first = (unsigned)(in >> s->sc_bits);
        unsigned last = (unsigned)((in + n - 1) >> s->sc_bits);
        uint32_t m = sc_mask(first, last);
        uint32_t alloc, zero;
        entry_masks(s, e, &alloc, &zero);
        if (e->entry & QCOW2_OFLAG_COMPRESSED) {
            if (!whole) {
                /* Compressed clusters have no subclusters: go through the
                 * write path. */
                *done = false;
                return 0;
            }
            alloc = 0;
        }
        alloc &= ~m;
        if (zero_flag)
            zero |= m;
        else
            zero &= ~m;
        bool host_kept = alloc || keep;
        ne.entry = host_kept ? (e->entry & ~QCOW2_OFLAG_COMPRESSED) : 0;
        if (!host_kept && s->data != s->file)
            ne.entry = 0;
        ne.bitmap = ((uint64_t)zero << 32) | alloc;
        keep = host_kept;
    } else {
        ne.entry = keep ? (e->entry | QCOW2_OFLAG_ZERO) : (zero_flag ? QCOW2_OFLAG_ZERO : 0);
    }
    int r = 0;
    if (ne.entry != e->entry || ne.bitmap != e->bitmap) {
        pthread_mutex_lock(&s->meta);
        /* A discard or a zero write allowed to unmap gives the space back
         * to the file (pass-discard-request, on by default as in QEMU). */
        s->pass_discard = s->discard_request && (discard || (flags & STRATA_REQ_MAY_UNMAP));
        r = relink(s, cstart, e, &ne, keep, STRATA_EV_L2_UPDATE, errp);
        s->pass_discard = false;
        pthread_mutex_unlock(&s->meta);
        if (!keep && (e->entry & QCOW2_OFLAG_COMPRESSED))
            dc_forget(s);
        if (r < 0)
            return r;
    }
    if (discard && !keep && s->data != s->file && entry_has_host(s, e->entry))
        strata_pdiscard(s->data, cstart + in, n, NULL);
    return 0;
}

/* Zeroing part [off, off+n) of one unit (a cluster, or a subcluster with
 * extended L2), QEMU's way: when the rest of the unit reads as zeros and it
 * holds no data of its own, the whole unit gets the zero flag (*done);
 * otherwise the caller writes the zeros. */
static int zero_whole_unit(struct qcow2_state *s, uint64_t off, uint64_t n, uint64_t unit,
                           unsigned flags, bool *done, struct strata_error **errp)
{
    uint64_t ustart = off & ~(unit - 1), cstart = off & ~(s->cluster_size - 1);
    bool head = true, tail = true;
    int r = 0;
    *done = false;
    if (off > ustart)
        r = reads_as_zero(s, ustart, off - ustart, &head, errp);
    if (r == 0 && head && off + n < ustart + unit)
        r = reads_as_zero(s, off + n, ustart + unit - off - n, &tail, errp);
    if (r < 0 || !head || !tail)
        return r;
    struct qcow2_l2ref e;
    pthread_mutex_lock(&s->meta);
    r = qcow2_get_l2_entry(s, off, &e, errp);
    pthread_mutex_unlock(&s->meta);
    if (r < 0)
        return r;
    enum qcow2_type t = qcow2_entry_type(s, &e, (unsigned)((off - cstart) >> s->sc_bits));
    if (t != QCOW2_UNALLOC && t != QCOW2_ZERO)
        return 0;
    return zero_entry(s, cstart, ustart - cstart, unit, &e, flags, false, true, done, errp);
}

static int zero_locked(struct qcow2_state *s, uint64_t off, uint64_t len, unsigned flags,
                       bool discard, struct strata_error **errp)
{
    uint64_t csz = s->cluster_size, scsz = 1ull << s->sc_bits;
    uint64_t unit = s->extended ? scsz : csz;
    /* Without zero clusters a discard would show the backing file: qemu
     * leaves the clusters as they are. */
    if (discard && s->version < 3 && s->backing)
        return 0;
    bool can_zero;
    int r = prepare_and_lock(s, &can_zero, errp);
    if (r < 0)
        return r;
    while (len > 0) {
        uint64_t cstart = off & ~(csz - 1), in = off - cstart;
        uint64_t n = csz - in < len ? csz - in : len;
        /* A partial unit on its own, as QEMU splits requests: the head up to
         * its unit's end, whole units, then the tail. */
        if (off % unit)
            n = unit - off % unit < n ? unit - off % unit : n;
        else if (n > unit && n % unit)
            n -= n % unit;
        /* As QEMU: a cluster that the image's end cuts short is whole. */
        bool whole = in == 0 && (n == csz || off + n == __atomic_load_n(&s->size,
                                                                        __ATOMIC_RELAXED));
        /* Extended L2: whole subclusters can be zeroed in the bitmap. */
        bool whole_sc = s->extended && (in % scsz) == 0 && (n % scsz) == 0;
        bool z, done;
        struct qcow2_l2ref e;
        if (discard && !whole && !whole_sc)
            goto next;   /* advisory: partial clusters are left alone */
        if (!discard && !(whole || whole_sc) && can_zero) {
            r = zero_whole_unit(s, off, n, unit, flags, &done, errp);
            if (r < 0)
                return r;
            if (!done)
                r = write_one(s, off, n, s->zero_buf, errp);
            if (r < 0)
                return r;
            goto next;
        }
        if (!discard && (!(whole || whole_sc) || !can_zero)) {
            r = reads_as_zero(s, off, n, &z, errp);
            if (r < 0)
                return r;
            if (z)
                goto next;
            if (whole && !can_zero) {
                pthread_mutex_lock(&s->meta);
                r = qcow2_get_l2_entry(s, off, &e, errp);
                pthread_mutex_unlock(&s->meta);
                if (r == 0)
                    r = write_fresh_run(s, off, 1, s->zero_buf, &e, errp);
            } else {
                r = write_one(s, off, n, s->zero_buf, errp);
            }
            if (r < 0)
                return r;
            goto next;
        }
        pthread_mutex_lock(&s->meta);
        r = qcow2_get_l2_entry(s, off, &e, errp);
        pthread_mutex_unlock(&s->meta);
        if (r < 0)
            return r;
        r = zero_entry(s, cstart, in, n, &e, flags, discard, can_zero, &done, errp);
        if (r == 0 && !done)
            r = write_one(s, off, n, s->zero_buf, errp);
        if (r < 0)
            return r;
next:
        off += n;
        len -= n;
    }
    return finish_write(s, false, errp);
}

int qcow2_do_zero(struct qcow2_state *s, uint64_t off, uint64_t len, unsigned flags,
                  bool discard, struct strata_error **errp)
{
    /* Whole clusters: a partial one may be zeroed whole (zero_whole_unit),
     * which must not cross a write to the rest of it. */
    uint64_t first = off & ~(s->cluster_size - 1);
    struct qcow2_range rg;
    qcow2_range_lock(s, &rg, first, qcow2_align_up(off + len, s->cluster_size) - first, true);
    int r = zero_locked(s, off, len, flags, discard, errp);
    qcow2_range_unlock(s, &rg);
    return r;
}

/* One whole cluster compressed into a buffer of this request: *clen is its
 * length, or 0 when it does not get smaller. */
static int compress_cluster(struct qcow2_state *s, const uint8_t *src, uint8_t *out,
                            uint64_t *clen, struct strata_error **errp)
{
    struct qcow2_codec *codec = qcow2_codec_get(s);
    if (!codec)
        return strata_error_set(errp, ENOMEM, "out of memory");
    long n = qcow2_compress(codec, s->compression_type, src, s->cluster_size, out,
                           s->cluster_size, errp);
    qcow2_codec_put(s, codec);
    *clen = n > 0 ? (uint64_t)n : 0;
    if (n == -ENOSPC)
        return 0;
    if (n < 0)
        strata_error_prefix(errp, "%s", s->name);
    return n < 0 ? (int)n : 0;
}

/* Stores one whole cluster's compressed data (clen bytes in cbuf). */
static int store_compressed(struct qcow2_state *s, uint64_t off, const uint8_t *cbuf,
                            uint64_t clen, struct strata_error **errp)
{
    uint64_t host;
    pthread_mutex_lock(&s->meta);
    int r = qcow2_alloc_bytes(s, clen, &host, errp);
    if (r == 0)
        r = qcow2_overlap_check(s, 0, host, clen, errp);
    pthread_mutex_unlock(&s->meta);
    if (r < 0)
        return r;
    qcow2_event(s, STRATA_EV_WRITE_COMPRESSED);
    r = strata_pwrite(s->file, host, clen, cbuf, 0, errp);
    if (r < 0)
        return r;
    struct qcow2_l2ref old;
    struct qcow2_l2ref ne = { qcow2_compressed_entry(s, host, clen), 0 };
    pthread_mutex_lock(&s->meta);
    r = qcow2_get_l2_entry(s, off, &old, errp);
    if (r == 0)
        r = relink(s, off, &old, &ne, false, STRATA_EV_L2_UPDATE_COMPRESSED, errp);
    pthread_mutex_unlock(&s->meta);
    dc_forget(s);
    return r;
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
    struct qcow2_range rg;
    qcow2_range_lock(s, &rg, off, len, true);
    uint8_t *pad = NULL, *cbuf = aligned_alloc(4096, qcow2_align_up(csz, 4096));
    int r = cbuf ? prepare_and_lock(s, NULL, errp)
                 : strata_error_set(errp, ENOMEM, "out of memory");
    while (r == 0 && len > 0) {
        uint64_t in = off & (csz - 1);
        uint64_t n = csz - in < len ? csz - in : len;
        const uint8_t *src = buf;
        uint64_t clen = 0;
        if (!in && n < csz && off + n == s->size) {
            /* The last cluster of the image: pad with zeros. */
            if (!pad && !(pad = calloc(1, csz))) {
                r = strata_error_set(errp, ENOMEM, "out of memory");
                break;
            }
            memcpy(pad, buf, n);
            src = pad;
        }
        /* Clusters covered in part are stored plainly, and so are those
         * that do not get smaller. */
        if (!in && (n == csz || src == pad))
            r = compress_cluster(s, src, cbuf, &clen, errp);
        if (r == 0)
            r = clen ? store_compressed(s, off, cbuf, clen, errp)
                     : pwrite_locked(s, off, n, buf, 0, errp);
        off += n;
        buf += n;
        len -= n;
    }
    if (r == 0)
        r = finish_write(s, false, errp);
    free(pad);
    free(cbuf);
    qcow2_range_unlock(s, &rg);
    return r;
}
