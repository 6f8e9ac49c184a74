/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* header.c - qcow version 1 header: byte layout and sanity checks.  Every
 * value that later sizes an allocation or a read is bounded here, so a
 * corrupt or hostile header is refused with a message before anything else
 * trusts it. */
#include "qcow-int.h"

#include <errno.h>
#include <string.h>

void qcow_header_decode(const uint8_t *buf, struct qcow_header *h)
{
    h->magic = load_be32(buf);
    h->version = load_be32(buf + 4);
    h->backing_offset = load_be64(buf + 8);
    h->backing_size = load_be32(buf + 16);
    h->mtime = load_be32(buf + 20);
    h->size = load_be64(buf + 24);
    h->cluster_bits = buf[32];
    h->l2_bits = buf[33];
    h->crypt_method = load_be32(buf + 36);
    h->l1_offset = load_be64(buf + 40);
}

void qcow_header_encode(const struct qcow_header *h, uint8_t *buf)
{
    memset(buf, 0, QCOW_HEADER_SIZE);
    store_be32(buf, h->magic);
    store_be32(buf + 4, h->version);
    store_be64(buf + 8, h->backing_offset);
    store_be32(buf + 16, h->backing_size);
    store_be32(buf + 20, h->mtime);
    store_be64(buf + 24, h->size);
    buf[32] = h->cluster_bits;
    buf[33] = h->l2_bits;
    store_be32(buf + 36, h->crypt_method);
    store_be64(buf + 40, h->l1_offset);
}

uint64_t qcow_l1_entries(uint64_t size, unsigned cluster_bits, unsigned l2_bits)
{
    unsigned shift = cluster_bits + l2_bits;
    return (size >> shift) + ((size & ((1ull << shift) - 1)) != 0);
}

int qcow_header_check(const struct qcow_header *h, size_t got, uint64_t file_len,
                      const char *name, struct strata_error **errp)
{
    if (got < 4 || h->magic != QCOW_MAGIC)
        return strata_error_set(errp, EINVAL, "%s: not a qcow image (bad magic)", name);
    if (got < 8)
        return strata_error_set(errp, EINVAL, "%s: qcow header truncated: the file has "
                                "%zu bytes, the header needs %d", name, got,
                                QCOW_HEADER_SIZE);
    if (h->version == 2 || h->version == 3)
        return strata_error_set(errp, ENOTSUP, "%s: this is a qcow2 image (version %u), "
                                "not qcow version 1: open it with the qcow2 driver "
                                "(-f qcow2 or driver=qcow2)", name, h->version);
    if (h->version != QCOW_VERSION)
        return strata_error_set(errp, ENOTSUP, "%s: unsupported qcow version %u "
                                "(the qcow driver reads version 1)", name, h->version);
    if (got < QCOW_HEADER_SIZE)
        return strata_error_set(errp, EINVAL, "%s: qcow header truncated: the file has "
                                "%zu bytes, the header needs %d", name, got,
                                QCOW_HEADER_SIZE);
    /* Range errors in qemu's words, which scripts and its test suite match. */
    if (h->cluster_bits < 9 || h->cluster_bits > 16)
        return strata_error_set(errp, EINVAL, "%s: Cluster size must be between 512 and 64k",
                                name);
    if (h->l2_bits < 6 || h->l2_bits > 13)
        return strata_error_set(errp, EINVAL, "%s: L2 table size must be between 512 and 64k",
                                name);
    if (h->crypt_method > QCOW_CRYPT_AES)
        return strata_error_set(errp, EINVAL, "%s: corrupt qcow header: unknown encryption "
                                "method %u", name, h->crypt_method);
    unsigned shift = h->cluster_bits + h->l2_bits;
    if (h->size > UINT64_MAX - (1ull << shift) || h->size > (1ull << 62))
        return strata_error_set(errp, EINVAL, "%s: Image too large", name);
    uint64_t l1 = qcow_l1_entries(h->size, h->cluster_bits, h->l2_bits);
    if (l1 > QCOW_L1_MAX)
        return strata_error_set(errp, EFBIG, "%s: qcow L1 table of %llu entries is too "
                                "large", name, (unsigned long long)l1);
    uint64_t l1_bytes = l1 * 8;
    if (l1 > 0 && h->l1_offset < QCOW_HEADER_SIZE)
        return strata_error_set(errp, EINVAL, "%s: corrupt qcow header: L1 table at 0x%llx "
                                "overlaps the header", name,
                                (unsigned long long)h->l1_offset);
    if (l1 > 0 && (h->l1_offset > file_len || l1_bytes > file_len - h->l1_offset))
        return strata_error_set(errp, EINVAL, "%s: L1 table at 0x%llx (%llu bytes) runs "
                                "past the end of the file (%llu bytes)", name,
                                (unsigned long long)h->l1_offset,
                                (unsigned long long)l1_bytes, (unsigned long long)file_len);
    if (h->backing_offset != 0 && h->backing_size != 0) {
        if (h->backing_size > QCOW_BACKING_MAX)
            return strata_error_set(errp, EINVAL, "%s: Backing file name too long", name);
        if (h->backing_offset > file_len || h->backing_size > file_len - h->backing_offset)
            return strata_error_set(errp, EINVAL, "%s: backing file name at 0x%llx runs "
                                    "past the end of the file (%llu bytes)", name,
                                    (unsigned long long)h->backing_offset,
                                    (unsigned long long)file_len);
    }
    return 0;
}
