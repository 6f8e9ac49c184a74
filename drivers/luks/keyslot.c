/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* keyslot.c - LUKS1 key slots: passphrase -> slot key (PBKDF2), slot key
 * -> AF-split volume key (the slot's key material), and back. */
#include "luks-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int luks_mk_digest(const struct luks_header *h, const uint8_t *mk, uint8_t *digest,
                   struct strata_error **errp)
{
    return strata_pbkdf2(h->hash_spec, mk, h->key_bytes, h->mk_digest_salt,
                         LUKS_SALT_SIZE, h->mk_digest_iter, digest, LUKS_DIGEST_SIZE,
                         errp);
}

static bool equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

static int io_read(const struct luks_io *io, uint64_t off, void *buf, size_t len,
                   struct strata_error **errp)
{
    return io->io->read(io->io->opaque, off, buf, len, errp);
}

static int io_write(const struct luks_io *io, uint64_t off, const void *buf, size_t len,
                    struct strata_error **errp)
{
    if (!io->io->write)
        return strata_error_set(errp, EROFS, "%s: the LUKS header is read-only", io->name);
    return io->io->write(io->io->opaque, off, buf, len, errp);
}

int luks_write_header(const struct luks_io *io, const struct luks_header *h,
                      struct strata_error **errp)
{
    uint8_t raw[LUKS_HDR_SIZE];
    luks_header_encode(h, raw);
    int r = io_write(io, 0, raw, sizeof raw, errp);
    if (r == 0 && io->io->flush)
        r = io->io->flush(io->io->opaque, errp);
    return r;
}

/* Slot key for a passphrase, and the cipher it drives over the material. */
static int slot_cipher(const struct luks_header *h, unsigned slot,
                       const struct strata_cipher_spec *spec, const uint8_t *pass,
                       size_t passlen, struct strata_cipher **c,
                       struct strata_error **errp)
{
    uint8_t *key = strata_secure_alloc(h->key_bytes);
    if (!key)
        return strata_error_set(errp, ENOMEM, "out of secure memory");
    int r = strata_pbkdf2(h->hash_spec, pass, passlen, h->slots[slot].salt,
                          LUKS_SALT_SIZE, h->slots[slot].iterations, key, h->key_bytes,
                          errp);
    if (r == 0)
        r = strata_cipher_open_spec(spec, key, h->key_bytes, c, errp);
    strata_secure_free(key, h->key_bytes);
    return r;
}

int luks_slot_try(const struct luks_io *io, const struct luks_header *h, unsigned slot,
                  const struct strata_cipher_spec *spec, const uint8_t *pass,
                  size_t passlen, uint8_t *mk, struct strata_error **errp)
{
    size_t mlen = luks_material_len(h, slot);
    uint8_t *material = strata_secure_alloc(mlen);
    uint8_t digest[LUKS_DIGEST_SIZE];
    struct strata_cipher *c = NULL;
    int r;

    if (!material)
        return strata_error_set(errp, ENOMEM, "out of secure memory");
    r = io_read(io, (uint64_t)h->slots[slot].key_offset * LUKS_SECTOR, material, mlen,
                errp);
    if (r == 0)
        r = slot_cipher(h, slot, spec, pass, passlen, &c, errp);
    /* Key material IVs count from the start of the slot's area. */
    if (r == 0)
        r = strata_cipher_decrypt_sectors(c, 0, LUKS_SECTOR, material, material, mlen,
                                          errp);
    if (r == 0)
        r = strata_af_merge(h->hash_spec, material, h->key_bytes, h->slots[slot].stripes,
                            mk, errp);
    if (r == 0)
        r = luks_mk_digest(h, mk, digest, errp);
    if (r == 0)
        r = equal_ct(digest, h->mk_digest, LUKS_DIGEST_SIZE) ? 1 : 0;
    if (r <= 0)
        strata_wipe(mk, h->key_bytes);
    strata_cipher_free(c);
    strata_secure_free(material, mlen);
    return r;
}

int luks_unlock(const struct luks_io *io, const struct luks_header *h,
                const struct strata_cipher_spec *spec, const uint8_t *pass,
                size_t passlen, int only_slot, uint8_t *mk,
                struct strata_error **errp)
{
    bool any = false;
    for (unsigned i = 0; i < LUKS_NUM_SLOTS; i++) {
        if (h->slots[i].active != LUKS_SLOT_ACTIVE)
            continue;
        if (only_slot >= 0 && (unsigned)only_slot != i)
            continue;
        any = true;
        int r = luks_slot_try(io, h, i, spec, pass, passlen, mk, errp);
        if (r < 0)
            return r;
        if (r == 1)
            return (int)i;
    }
    /* QEMU's words when no slot is active as well, as no password can
     * open such a volume. */
    if (!any && only_slot < 0)
        return strata_error_set(errp, EACCES, "%s: Invalid password, cannot unlock any "
                                "keyslot", io->name);
    if (!any)
        return strata_error_set(errp, EACCES, "%s: LUKS key slot %d is not active",
                                io->name, only_slot);
    return strata_error_set(errp, EACCES, "%s: Invalid password, cannot unlock any "
                            "keyslot", io->name);
}

int luks_slot_store(const struct luks_io *io, struct luks_header *h, unsigned slot,
                    const struct strata_cipher_spec *spec, const uint8_t *mk,
                    const uint8_t *pass, size_t passlen, uint64_t iterations,
                    struct strata_error **errp)
{
    struct luks_slot *s = &h->slots[slot];
    if (iterations > UINT32_MAX)
        iterations = UINT32_MAX;
    s->iterations = (uint32_t)iterations;
    s->stripes = LUKS_STRIPES;
    int r = strata_random_bytes(s->salt, LUKS_SALT_SIZE, errp);
    if (r < 0)
        return r;

    size_t mlen = luks_material_len(h, slot);
    uint8_t *material = strata_secure_alloc(mlen);
    struct strata_cipher *c = NULL;
    if (!material)
        return strata_error_set(errp, ENOMEM, "out of secure memory");
    memset(material, 0, mlen);
    r = strata_af_split(h->hash_spec, mk, h->key_bytes, LUKS_STRIPES, material, errp);
    if (r == 0)
        r = slot_cipher(h, slot, spec, pass, passlen, &c, errp);
    if (r == 0)
        r = strata_cipher_encrypt_sectors(c, 0, LUKS_SECTOR, material, material, mlen,
                                          errp);
    if (r == 0)
        r = io_write(io, (uint64_t)s->key_offset * LUKS_SECTOR, material, mlen, errp);
    if (r == 0 && io->io->flush)
        r = io->io->flush(io->io->opaque, errp);
    strata_cipher_free(c);
    strata_secure_free(material, mlen);
    return r;
}

int luks_slot_wipe(const struct luks_io *io, struct luks_header *h, unsigned slot,
                   struct strata_error **errp)
{
    size_t mlen = luks_material_len(h, slot);
    uint64_t off = (uint64_t)h->slots[slot].key_offset * LUKS_SECTOR;
    uint8_t *buf = malloc(mlen);
    int r = 0;
    if (!buf)
        return strata_error_set(errp, ENOMEM, "out of memory");
    /* Random, zeros, random: no pattern of the old material survives on
     * storage that writes in place, and the final state looks like any
     * unused slot. */
    for (int pass = 0; pass < 3 && r == 0; pass++) {
        if (pass == 1)
            memset(buf, 0, mlen);
        else
            r = strata_random_bytes(buf, mlen, errp);
        if (r == 0)
            r = io_write(io, off, buf, mlen, errp);
        if (r == 0 && io->io->flush)
            r = io->io->flush(io->io->opaque, errp);
    }
    free(buf);
    if (r == 0) {
        h->slots[slot].active = LUKS_SLOT_INACTIVE;
        h->slots[slot].iterations = 0;
        memset(h->slots[slot].salt, 0, LUKS_SALT_SIZE);
    }
    return r;
}
