/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* keyslot.c - LUKS2 keyslots of type luks2: passphrase -> area key (the
 * keyslot's KDF), area -> AF-split volume key, checked by the pbkdf2 digest. */
#include "luks2-int.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static bool equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

int luks2_digest_check(const struct luks2_digest *d, const uint8_t *vk, size_t vklen,
                       struct strata_error **errp)
{
    uint8_t out[LUKS2_MAX_DIGEST];
    int r = strata_pbkdf2(d->hash, vk, vklen, d->salt, d->salt_len, d->iterations, out,
                          d->digest_len, errp);
    if (r == 0)
        r = equal_ct(out, d->digest, d->digest_len) ? 1 : 0;
    strata_wipe(out, sizeof out);
    return r;
}

/* The keyslot's KDF.  Its costs come from the header: they are checked
 * before any memory is taken or work starts. */
static int derive(const struct luks2_keyslot *ks, const uint8_t *pass, size_t passlen,
                  uint8_t *key, struct strata_error **errp)
{
    int r = strata_kdf_check_cost(ks->kdf, &ks->kp, errp);
    if (r == 0)
        r = strata_kdf_derive(ks->kdf, &ks->kp, pass, passlen, ks->salt, ks->salt_len, key,
                              ks->area_key_size, errp);
    return r;
}

size_t luks2_material_len(const struct luks2_keyslot *ks)
{
    uint64_t n = (uint64_t)ks->key_size * ks->stripes;
    return (size_t)((n + LUKS2_SECTOR - 1) / LUKS2_SECTOR * LUKS2_SECTOR);
}

int luks2_keyslot_try(const struct strata_crypto_hdr_io *io, const char *name,
                      const struct luks2_hdr *h, unsigned slot, const uint8_t *pass,
                      size_t passlen, uint8_t *vk, struct strata_error **errp)
{
    const struct luks2_keyslot *ks = &h->slots[slot];
    size_t mlen = luks2_material_len(ks);
    uint8_t *material = strata_secure_alloc(mlen);
    uint8_t *key = strata_secure_alloc(LUKS2_MAX_KEY);
    struct strata_cipher *c = NULL;
    int r = 0;

    if (!material || !key) {
        r = strata_error_set(errp, ENOMEM, "out of secure memory");
        goto out;
    }
    r = io->read(io->opaque, ks->area_offset, material, mlen, errp);
    if (r == 0)
        r = derive(ks, pass, passlen, key, errp);
    if (r == 0)
        r = strata_cipher_open_spec(&ks->area_spec, key, ks->area_key_size, &c, errp);
    /* Area IVs count 512-byte sectors from the start of the area. */
    if (r == 0)
        r = strata_cipher_decrypt_sectors(c, 0, LUKS2_SECTOR, material, material, mlen,
                                          errp);
    if (r == 0)
        r = strata_af_merge(ks->af_hash, material, ks->key_size, ks->stripes, vk, errp);
    if (r == 0)
        r = luks2_digest_check(&h->digests[h->seg_digest], vk, ks->key_size, errp);
    if (r < 0)
        strata_error_prefix(errp, "%s: keyslot %u", name, slot);
    if (r <= 0)
        strata_wipe(vk, ks->key_size);
out:
    strata_cipher_free(c);
    if (material)
        strata_secure_free(material, mlen);
    if (key)
        strata_secure_free(key, LUKS2_MAX_KEY);
    return r;
}

/* Keyslots of the data segment's digest, high priority first; priority 0
 * ("ignore") is only tried when asked for by number. */
int luks2_unlock(const struct strata_crypto_hdr_io *io, const char *name,
                 const struct luks2_hdr *h, int only_slot, const uint8_t *pass,
                 size_t passlen, uint8_t *vk, struct strata_error **errp)
{
    const struct luks2_digest *d = &h->digests[h->seg_digest];
    bool any = false;
    for (int prio = 2; prio >= 0; prio--) {
        for (unsigned i = 0; i < LUKS2_MAX_SLOTS; i++) {
            const struct luks2_keyslot *ks = &h->slots[i];
            if (ks->id < 0 || !(d->keyslots & (1u << i)))
                continue;
            if (only_slot >= 0 ? (unsigned)only_slot != i || prio != ks->priority
                               : ks->priority != prio || prio == 0)
                continue;
            any = true;
            int r = luks2_keyslot_try(io, name, h, i, pass, passlen, vk, errp);
            if (r < 0)
                return r;
            if (r == 1)
                return (int)i;
        }
    }
    if (!any && only_slot >= 0)
        return strata_error_set(errp, EACCES, "%s: LUKS2 keyslot %d is not active",
                                name, only_slot);
    if (!any)
        return strata_error_set(errp, EACCES, "%s: no active LUKS2 keyslot: the volume "
                                "cannot be unlocked", name);
    return strata_error_set(errp, EACCES, "%s: Invalid password, cannot unlock any "
                            "keyslot", name);
}
