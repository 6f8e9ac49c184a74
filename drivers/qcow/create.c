/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create.c - new qcow images laid out as qemu-img lays them out: header,
 * backing file name, L1 table at the next 8-byte boundary, the L1 table
 * zeroed up to a whole number of 512-byte sectors; 4 KiB clusters with 4 KiB
 * L2 tables, or 512-byte clusters with 32 KiB L2 tables when there is a
 * backing file (so that guest writes never need a partial-cluster copy). */
#include "qcow-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>

static int qcow_create_crypt(const struct strata_opts *o, const char *name, bool *enc,
                             struct strata_error **errp)
{
    bool legacy = false, allow = false;
    int r;
    if ((r = strata_opts_get_bool(o, "encryption", &legacy, errp)) < 0 ||
        (r = strata_opts_get_bool(o, QCOW_OPT_ALLOW_AES, &allow, errp)) < 0)
        return r;
    const char *fmt = strata_opts_get(o, "encrypt.format");
    const char *secret = strata_opts_get(o, "encrypt.key-secret");
    if (fmt && strcmp(fmt, "aes") != 0)
        return strata_error_set(errp, EINVAL, "%s: qcow supports only encrypt.format=aes",
                                name);
    *enc = legacy || fmt != NULL;
    if (!*enc) {
        if (secret)
            return strata_error_set(errp, EINVAL, "%s: encrypt.key-secret given without "
                                    "encrypt.format=aes", name);
        return 0;
    }
    if (!allow)
        return strata_error_set(errp, EPERM, "%s: refusing to create an image with the "
                                "broken legacy qcow AES encryption; use qcow2 with "
                                "encrypt.format=luks, or give " QCOW_OPT_ALLOW_AES "=on "
                                "if an old reader really needs this format", name);
    if (!secret)
        return strata_error_set(errp, EINVAL, "%s: encrypt.format=aes needs "
                                "encrypt.key-secret=ID", name);
    uint8_t *pass = NULL;
    size_t plen = 0;
    if ((r = strata_secret_get(secret, &pass, &plen, errp)) < 0) {
        strata_error_prefix(errp, "%s", name);
        return r;
    }
    strata_secret_free(pass, plen);
    strata_warn("%s: creating an encrypted image: %s", name, qcow_aes_warning());
    return 0;
}

int qcow_create(struct strata_create *c, struct strata_error **errp)
{
    const struct strata_opts *o = strata_create_opts(c);
    const char *name = strata_create_filename(c);
    uint64_t size = strata_create_size(c);
    const char *backing = strata_opts_get(o, "backing_file");
    bool enc = false;
    int r = qcow_create_crypt(o, name, &enc, errp);
    if (r < 0)
        return r;
    if (size == 0)
        return strata_error_set(errp, EINVAL, "%s: a qcow image cannot have a size of 0",
                                name);
    if (size > (1ull << 62))
        return strata_error_set(errp, EFBIG, "%s: size %llu is too large for qcow", name,
                                (unsigned long long)size);
    size = (size + QCOW_SECTOR - 1) / QCOW_SECTOR * QCOW_SECTOR;
    size_t blen = backing ? strlen(backing) : 0;
    if (backing && blen == 0)
        backing = NULL;
    if (blen > QCOW_BACKING_MAX)
        return strata_error_set(errp, EINVAL, "%s: backing file name of %zu bytes is too "
                                "long for qcow (at most %d)", name, blen, QCOW_BACKING_MAX);

    struct qcow_header h = {
        .magic = QCOW_MAGIC,
        .version = QCOW_VERSION,
        .size = size,
        .cluster_bits = backing ? 9 : 12,
        .l2_bits = backing ? 12 : 9,
        .crypt_method = enc ? QCOW_CRYPT_AES : QCOW_CRYPT_NONE,
    };
    uint64_t hsize = QCOW_HEADER_SIZE;
    if (backing) {
        h.backing_offset = hsize;
        h.backing_size = (uint32_t)blen;
        hsize += blen;
    }
    hsize = (hsize + 7) & ~7ull;
    h.l1_offset = hsize;
    uint64_t l1 = qcow_l1_entries(size, h.cluster_bits, h.l2_bits);
    if (l1 > QCOW_L1_MAX)
        return strata_error_set(errp, EFBIG, "%s: size %llu needs an L1 table of %llu "
                                "entries, too large for qcow", name,
                                (unsigned long long)size, (unsigned long long)l1);
    uint64_t l1_bytes = (l1 * 8 + QCOW_SECTOR - 1) / QCOW_SECTOR * QCOW_SECTOR;

    struct strata_node *file;
    r = strata_create_child(c, "file", 0, false, &file, errp);
    if (r < 0)
        return r;
    uint8_t *buf = calloc(1, 65536);
    if (!buf) {
        strata_close(file);
        return strata_error_set(errp, ENOMEM, "out of memory");
    }
    uint8_t head[QCOW_HEADER_SIZE + QCOW_BACKING_MAX + 8] = { 0 };
    qcow_header_encode(&h, head);
    if (backing)
        memcpy(head + QCOW_HEADER_SIZE, backing, blen);
    r = strata_pwrite(file, 0, hsize, head, 0, errp);
    for (uint64_t done = 0; r == 0 && done < l1_bytes;) {
        uint64_t n = l1_bytes - done < 65536 ? l1_bytes - done : 65536;
        r = strata_pwrite(file, hsize + done, n, buf, 0, errp);
        done += n;
    }
    if (r == 0)
        r = strata_flush(file, errp);
    if (r < 0)
        strata_error_prefix(errp, "%s: writing the qcow header", name);
    free(buf);
    strata_close(file);
    return r;
}
