/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cluster.c - qcow metadata: the L2 table cache, cluster allocation at the
 * end of the file and compressed clusters.
 *
 * Updates are ordered so that a crash leaves at worst leaked space, never a
 * pointer to garbage: a new L2 table is written (zeroed) before the L1 entry
 * that points to it, and data before the L2 entry that maps it. */
#include "qcow-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>

static uint64_t l2_bytes(const struct qcow_state *s)
{
    return (uint64_t)s->l2_size * 8;
}

/* True when [off, off+len) touches the header or the L1 table, which would
 * let a write through a corrupt pointer destroy the image's metadata. */
static bool overlaps_metadata(const struct qcow_state *s, uint64_t off, uint64_t len)
{
    if (off < QCOW_HEADER_SIZE)
        return true;
    uint64_t l1_end = s->h.l1_offset + (uint64_t)s->l1_size * 8;
    return s->l1_size > 0 && off < l1_end && off + len > s->h.l1_offset;
}

void qcow_map_entry(const struct qcow_state *s, uint64_t entry, struct qcow_map *m)
{
    m->entry = entry;
    m->host = 0;
    if (entry == 0) {
        m->kind = QCOW_UNALLOC;
    } else if (entry & QCOW_OFLAG_COMPRESSED) {
        m->kind = QCOW_COMPRESSED;
        m->host = entry & s->offset_mask;
    } else {
        m->kind = QCOW_NORMAL;
        m->host = entry;
    }
}

int qcow_check_data(struct qcow_state *s, uint64_t host, uint64_t len, uint64_t guest,
                    struct strata_error **errp)
{
    if (host > s->file_end || len > s->file_end - host)
        return strata_error_set(errp, EIO, "%s: data cluster at 0x%llx for guest offset "
                                "%llu points past end of file (%llu bytes)", s->name,
                                (unsigned long long)host, (unsigned long long)guest,
                                (unsigned long long)s->file_end);
    if (overlaps_metadata(s, host, len))
        return strata_error_set(errp, EIO, "%s: data cluster at 0x%llx for guest offset "
                                "%llu overlaps the header or the L1 table", s->name,
                                (unsigned long long)host, (unsigned long long)guest);
    return 0;
}

static struct qcow_l2_slot *l2_victim(struct qcow_state *s)
{
    struct qcow_l2_slot *v = &s->l2c[0];
    for (int i = 0; i < QCOW_L2_CACHE_SIZE; i++) {
        if (s->l2c[i].offset == 0)
            return &s->l2c[i];
        if (s->l2c[i].used < v->used)
            v = &s->l2c[i];
    }
    return v;
}

static uint64_t *l2_fill_slot(struct qcow_state *s, struct qcow_l2_slot *slot,
                              uint64_t offset, const uint8_t *raw)
{
    if (!slot->table) {
        slot->table = malloc(l2_bytes(s));
        if (!slot->table)
            return NULL;
    }
    for (uint32_t i = 0; i < s->l2_size; i++)
        slot->table[i] = raw ? load_be64(raw + 8 * (size_t)i) : 0;
    slot->offset = offset;
    slot->used = ++s->l2c_clock;
    return slot->table;
}

static int l2_alloc(struct qcow_state *s, uint32_t l1_index, uint64_t **tablep,
                    uint64_t *l2_offset, struct strata_error **errp)
{
    uint64_t bytes = l2_bytes(s);
    struct qcow_l2_slot *slot = l2_victim(s);
    slot->offset = 0;
    uint64_t *table = l2_fill_slot(s, slot, 0, NULL);
    if (!table)
        return strata_error_set(errp, ENOMEM, "out of memory");
    slot->offset = 0;   /* not a valid table until the L1 entry points to it */
    uint64_t off = qcow_alloc(s, bytes, s->cluster_size);

    /* The table is zeros in memory: write them as the new table. */
    strata_node_event(s->file, "l2_alloc");
    int r = strata_pwrite(s->file, off, bytes, table, 0, errp);
    if (r < 0) {
        strata_error_prefix(errp, "%s: writing a new L2 table at 0x%llx", s->name,
                            (unsigned long long)off);
        return r;
    }
    uint8_t be[8];
    store_be64(be, off);
    strata_node_event(s->file, "l1_update");
    r = strata_pwrite(s->file, s->h.l1_offset + 8ull * l1_index, 8, be, 0, errp);
    if (r < 0) {
        strata_error_prefix(errp, "%s: updating L1 entry %u", s->name, l1_index);
        return r;
    }
    s->l1[l1_index] = off;
    slot->offset = off;
    *l2_offset = off;
    *tablep = table;
    return 0;
}

int qcow_l2_get(struct qcow_state *s, uint32_t l1_index, bool alloc, uint64_t **tablep,
                uint64_t *l2_offset, struct strata_error **errp)
{
    *tablep = NULL;
    *l2_offset = 0;
    if (l1_index >= s->l1_size)
        return strata_error_set(errp, EIO, "%s: L1 index %u is past the L1 table (%u "
                                "entries)", s->name, l1_index, s->l1_size);
    uint64_t off = s->l1[l1_index];
    if (off == 0)
        return alloc ? l2_alloc(s, l1_index, tablep, l2_offset, errp) : 0;

    for (int i = 0; i < QCOW_L2_CACHE_SIZE; i++) {
        if (s->l2c[i].offset == off) {
            s->l2c[i].used = ++s->l2c_clock;
            *l2_offset = off;
            *tablep = s->l2c[i].table;
            return 0;
        }
    }
    uint64_t bytes = l2_bytes(s);
    if (off > s->file_end || bytes > s->file_end - off)
        return strata_error_set(errp, EIO, "%s: L2 table at 0x%llx (L1 entry %u) points "
                                "past end of file (%llu bytes)", s->name,
                                (unsigned long long)off, l1_index,
                                (unsigned long long)s->file_end);
    if (overlaps_metadata(s, off, bytes))
        return strata_error_set(errp, EIO, "%s: L2 table at 0x%llx (L1 entry %u) overlaps "
                                "the header or the L1 table", s->name,
                                (unsigned long long)off, l1_index);
    /* Read into the bounce buffer (at least 64 KiB, the largest table),
     * then convert into the slot. */
    int r = strata_pread(s->file, off, bytes, s->bounce, 0, errp);
    if (r < 0) {
        strata_error_prefix(errp, "%s: reading the L2 table at 0x%llx", s->name,
                            (unsigned long long)off);
        return r;
    }
    uint64_t *table = l2_fill_slot(s, l2_victim(s), off, s->bounce);
    if (!table)
        return strata_error_set(errp, ENOMEM, "out of memory");
    *l2_offset = off;
    *tablep = table;
    return 0;
}

int qcow_l2_set(struct qcow_state *s, uint64_t l2_offset, uint64_t *table, uint32_t first,
                uint32_t n, struct strata_error **errp)
{
    uint8_t be[512];
    uint32_t done = 0;
    /* Entries are written only after the data they map is on disk. */
    strata_node_event(s->file, "l2_update");
    while (done < n) {
        uint32_t k = n - done < 64 ? n - done : 64;
        for (uint32_t i = 0; i < k; i++)
            store_be64(be + 8 * i, table[first + done + i]);
        int r = strata_pwrite(s->file, l2_offset + 8ull * (first + done), 8ull * k, be, 0,
                              errp);
        if (r < 0) {
            strata_error_prefix(errp, "%s: updating the L2 table at 0x%llx", s->name,
                                (unsigned long long)l2_offset);
            return r;
        }
        done += k;
    }
    return 0;
}

uint64_t qcow_alloc(struct qcow_state *s, uint64_t len, uint32_t align)
{
    uint64_t off = (s->file_end + align - 1) / align * align;
    s->file_end = off + len;
    return off;
}

int qcow_read_compressed(struct qcow_state *s, uint64_t entry, struct strata_error **errp)
{
    if (s->ccache_entry == entry)
        return 0;
    uint64_t host = entry & s->offset_mask;
    uint64_t clen = (entry >> s->csize_shift) & s->csize_mask;
    if (clen == 0 || host > s->file_end || clen > s->file_end - host)
        return strata_error_set(errp, EIO, "%s: compressed cluster at 0x%llx (%llu bytes) "
                                "points past end of file (%llu bytes)", s->name,
                                (unsigned long long)host, (unsigned long long)clen,
                                (unsigned long long)s->file_end);
    int r = strata_pread(s->file, host, clen, s->cbuf, 0, errp);
    if (r < 0) {
        strata_error_prefix(errp, "%s: reading the compressed cluster at 0x%llx", s->name,
                            (unsigned long long)host);
        return r;
    }
    if (!s->inflater_ready) {
        memset(&s->inflater, 0, sizeof s->inflater);
        /* A window of 32 KiB accepts what any deflate writer produced. */
        if (inflateInit2(&s->inflater, -15) != Z_OK)
            return strata_error_set(errp, ENOMEM, "%s: cannot set up zlib", s->name);
        s->inflater_ready = true;
    } else {
        inflateReset(&s->inflater);
    }
    s->ccache_entry = 0;
    s->inflater.next_in = s->cbuf;
    s->inflater.avail_in = (uInt)clen;
    s->inflater.next_out = s->ccache;
    s->inflater.avail_out = s->cluster_size;
    int zr = inflate(&s->inflater, Z_FINISH);
    if ((zr != Z_STREAM_END && zr != Z_BUF_ERROR) || s->inflater.avail_out != 0)
        return strata_error_set(errp, EIO, "%s: compressed cluster at 0x%llx is corrupt "
                                "(it does not inflate to %u bytes)", s->name,
                                (unsigned long long)host, s->cluster_size);
    s->ccache_entry = entry;
    return 0;
}

void qcow_cache_free(struct qcow_state *s)
{
    for (int i = 0; i < QCOW_L2_CACHE_SIZE; i++) {
        free(s->l2c[i].table);
        s->l2c[i].table = NULL;
        s->l2c[i].offset = 0;
    }
    if (s->inflater_ready)
        inflateEnd(&s->inflater);
    if (s->deflater_ready)
        deflateEnd(&s->deflater);
    s->inflater_ready = s->deflater_ready = false;
}
