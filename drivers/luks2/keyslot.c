/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* keyslot.c - LUKS2 keyslots of type luks2: passphrase -> area key (the
 * keyslot's KDF), area -> AF-split volume key, checked by the pbkdf2 digest. */
#include "luks2-int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
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
    /* The header struct is copied around: the hash is taken from the
     * keyslot's own buffer here, not from a pointer set when it was read. */
    struct strata_kdf_params kp = ks->kp;
    kp.hash = ks->kdf_hash[0] ? ks->kdf_hash : NULL;
    int r = strata_kdf_check_cost(ks->kdf, &kp, errp);
    if (r == 0)
        r = strata_kdf_derive(ks->kdf, &kp, pass, passlen, ks->salt, ks->salt_len, key,
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

int luks2_kdf_choose(const char *kdf, const char *hash, uint32_t iter_time,
                     uint32_t memory_kib, uint32_t parallel, uint32_t force_iterations,
                     size_t keylen, struct strata_kdf_params *kp,
                     struct strata_error **errp)
{
    int r = strata_kdf_defaults(kdf, kp, errp);
    if (r < 0)
        return r;
    if (strcmp(kdf, "pbkdf2") == 0)
        kp->hash = hash;
    if (memory_kib && strcmp(kdf, "pbkdf2") != 0)
        kp->memory_kib = memory_kib;
    if (parallel && strcmp(kdf, "pbkdf2") != 0)
        kp->parallel = parallel;
    if (force_iterations) {
        kp->iterations = force_iterations;
        return strata_kdf_check_cost(kdf, kp, errp);
    }
    return strata_kdf_calibrate(kdf, kp, iter_time, keylen, errp);
}

static void add_str(json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v));
}

static void add_u64(json_object *o, const char *k, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    add_str(o, k, buf);
}

static void add_int(json_object *o, const char *k, int64_t v)
{
    json_object_object_add(o, k, json_object_new_int64(v));
}

static int add_b64(json_object *o, const char *k, const uint8_t *v, size_t len,
                   struct strata_error **errp)
{
    char *s = luks2_base64_encode(v, len);
    if (!s)
        return strata_error_set(errp, ENOMEM, "out of memory");
    add_str(o, k, s);
    free(s);
    return 0;
}

json_object *luks2_keyslot_json(const struct luks2_slot_params *sp, uint32_t stripes,
                                const uint8_t *salt, size_t salt_len)
{
    json_object *o = json_object_new_object();
    json_object *af = json_object_new_object(), *area = json_object_new_object(),
                *kdf = json_object_new_object();
    add_str(o, "type", "luks2");
    add_int(o, "key_size", sp->key_size);
    add_str(af, "type", "luks1");
    add_int(af, "stripes", stripes);
    add_str(af, "hash", sp->hash);
    json_object_object_add(o, "af", af);
    add_str(area, "type", "raw");
    add_u64(area, "offset", sp->area_offset);
    add_u64(area, "size", sp->area_size);
    add_str(area, "encryption", sp->enc);
    add_int(area, "key_size", sp->key_size);
    json_object_object_add(o, "area", area);
    add_str(kdf, "type", sp->kdf);
    if (strcmp(sp->kdf, "pbkdf2") == 0) {
        add_str(kdf, "hash", sp->kp.hash);
        add_int(kdf, "iterations", sp->kp.iterations);
    } else {
        add_int(kdf, "time", sp->kp.iterations);
        add_int(kdf, "memory", sp->kp.memory_kib);
        add_int(kdf, "cpus", sp->kp.parallel);
    }
    json_object_object_add(o, "kdf", kdf);
    if (sp->priority != 1)
        add_int(o, "priority", sp->priority);
    if (add_b64(kdf, "salt", salt, salt_len, NULL) < 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

int luks2_keyslot_store(const struct strata_crypto_hdr_io *io, const char *name,
                        const struct luks2_slot_params *sp, const uint8_t *vk,
                        const uint8_t *pass, size_t passlen, json_object **out,
                        struct strata_error **errp)
{
    struct luks2_keyslot ks = { .key_size = sp->key_size, .stripes = 4000,
                                .area_key_size = sp->key_size };
    uint8_t salt[32];
    json_object *o = NULL;
    struct strata_cipher *c = NULL;
    size_t mlen = luks2_material_len(&ks);
    uint8_t *material = strata_secure_alloc(mlen), *key = strata_secure_alloc(LUKS2_MAX_KEY);
    int r = 0;

    *out = NULL;
    if (!material || !key) {
        r = strata_error_set(errp, ENOMEM, "out of secure memory");
        goto out;
    }
    if (mlen > sp->area_size) {
        r = strata_error_set(errp, ENOSPC, "%s: a keyslot needs %zu bytes, its area has "
                             "%" PRIu64, name, mlen, sp->area_size);
        goto out;
    }
    memset(material, 0, mlen);
    if ((r = strata_cipher_spec_parse(sp->enc, NULL, &ks.area_spec, errp)) < 0 ||
        (r = strata_random_bytes(salt, sizeof salt, errp)) < 0 ||
        (r = strata_kdf_derive(sp->kdf, &sp->kp, pass, passlen, salt, sizeof salt, key,
                               sp->key_size, errp)) < 0 ||
        (r = strata_af_split(sp->hash, vk, sp->key_size, ks.stripes, material, errp)) < 0 ||
        (r = strata_cipher_open_spec(&ks.area_spec, key, sp->key_size, &c, errp)) < 0 ||
        (r = strata_cipher_encrypt_sectors(c, 0, LUKS2_SECTOR, material, material, mlen,
                                           errp)) < 0)
        goto out;
    if (!io->write) {
        r = strata_error_set(errp, EROFS, "%s: the LUKS2 header is read-only", name);
        goto out;
    }
    if ((r = io->write(io->opaque, sp->area_offset, material, mlen, errp)) < 0 ||
        (io->flush && (r = io->flush(io->opaque, errp)) < 0))
        goto out;

    if (!(o = luks2_keyslot_json(sp, ks.stripes, salt, sizeof salt)))
        r = strata_error_set(errp, ENOMEM, "out of memory");
    *out = o;
out:
    strata_cipher_free(c);
    if (material)
        strata_secure_free(material, mlen);
    if (key)
        strata_secure_free(key, LUKS2_MAX_KEY);
    return r;
}

json_object *luks2_digest_json(const char *hash, uint32_t iterations, const uint8_t *salt,
                               size_t salt_len, const uint8_t *dig, size_t dig_len)
{
    json_object *o = json_object_new_object();
    add_str(o, "type", "pbkdf2");
    json_object_object_add(o, "keyslots", json_object_new_array());
    json_object *segs = json_object_new_array();
    json_object_array_add(segs, json_object_new_string("0"));
    json_object_object_add(o, "segments", segs);
    add_str(o, "hash", hash);
    add_int(o, "iterations", iterations);
    if (add_b64(o, "salt", salt, salt_len, NULL) < 0 ||
        add_b64(o, "digest", dig, dig_len, NULL) < 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

int luks2_digest_new(const char *hash, uint32_t iterations, const uint8_t *vk,
                     size_t key_size, json_object **out, struct strata_error **errp)
{
    uint8_t salt[32], dig[LUKS2_MAX_DIGEST];
    int dlen = strata_hash_digest_size(hash, errp);
    *out = NULL;
    if (dlen < 0)
        return dlen;
    if (dlen > (int)sizeof dig)
        dlen = sizeof dig;
    int r = strata_random_bytes(salt, sizeof salt, errp);
    if (r == 0)
        r = strata_pbkdf2(hash, vk, key_size, salt, sizeof salt, iterations, dig,
                          (size_t)dlen, errp);
    if (r < 0)
        return r;
    json_object *o = luks2_digest_json(hash, iterations, salt, sizeof salt, dig,
                                       (size_t)dlen);
    if (!o)
        return strata_error_set(errp, ENOMEM, "out of memory");
    *out = o;
    return 0;
}
