/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* convert.c - LUKS1 to and from the layout it shares with LUKS2 (see
 * strata/encryption.h): what a LUKS1 header holds is a subset of LUKS2's,
 * so export always works, and import refuses what LUKS1 cannot hold. */
#include "luks-int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int luks_export_layout(struct strata_crypto_ctx *ctx, struct strata_crypto_layout *l,
                       struct strata_error **errp)
{
    const struct luks_header *h = &ctx->h;
    memset(l, 0, sizeof *l);
    snprintf(l->cipher, sizeof l->cipher, "%s-%s", h->cipher_name, h->cipher_mode);
    l->key_size = h->key_bytes;
    l->sector_size = LUKS_SECTOR;
    l->payload_offset = (uint64_t)h->payload_offset * LUKS_SECTOR;
    snprintf(l->uuid, sizeof l->uuid, "%s", h->uuid);
    snprintf(l->digest_hash, sizeof l->digest_hash, "%s", h->hash_spec);
    l->digest_iterations = h->mk_digest_iter;
    memcpy(l->digest_salt, h->mk_digest_salt, LUKS_SALT_SIZE);
    l->digest_salt_len = LUKS_SALT_SIZE;
    memcpy(l->digest, h->mk_digest, LUKS_DIGEST_SIZE);
    l->digest_len = LUKS_DIGEST_SIZE;
    for (unsigned i = 0; i < LUKS_NUM_SLOTS; i++) {
        const struct luks_slot *ks = &h->slots[i];
        if (ks->active != LUKS_SLOT_ACTIVE)
            continue;
        struct strata_crypto_slot_layout *s = &l->slots[l->nslots++];
        s->id = i;
        s->priority = 1;
        snprintf(s->kdf, sizeof s->kdf, "pbkdf2");
        snprintf(s->kdf_hash, sizeof s->kdf_hash, "%s", h->hash_spec);
        s->iterations = ks->iterations;
        memcpy(s->salt, ks->salt, LUKS_SALT_SIZE);
        s->salt_len = LUKS_SALT_SIZE;
        snprintf(s->af_hash, sizeof s->af_hash, "%s", h->hash_spec);
        s->stripes = ks->stripes;
        s->area_offset = (uint64_t)ks->key_offset * LUKS_SECTOR;
        s->area_size = luks_material_len(h, i);
        snprintf(s->area_cipher, sizeof s->area_cipher, "%s-%s", h->cipher_name,
                 h->cipher_mode);
        s->area_key_size = h->key_bytes;
    }
    (void)errp;
    return 0;
}

/* Why LUKS1 cannot hold l, or NULL. */
static const char *unsupported(const struct strata_crypto_layout *l, char *buf, size_t len)
{
    if (l->extra[0]) {
        snprintf(buf, len, "the header holds %s", l->extra);
        return buf;
    }
    if (l->sector_size != LUKS_SECTOR)
        return "LUKS1 encrypts 512-byte sectors only (sector_size is larger)";
    if (l->iv_tweak || l->payload_size)
        return "the data segment has an IV tweak or a fixed size";
    if (l->payload_offset % LUKS_SECTOR || l->payload_offset / LUKS_SECTOR > UINT32_MAX)
        return "the data offset is not a whole number of sectors LUKS1 can record";
    if (strchr(l->cipher, '-') == NULL)
        return "the cipher has no mode";
    for (uint32_t i = 0; i < l->nslots; i++) {
        const struct strata_crypto_slot_layout *s = &l->slots[i];
        snprintf(buf, len, "keyslot %" PRIu32 " ", s->id);
        size_t n = strlen(buf);
        if (s->id >= LUKS_NUM_SLOTS)
            snprintf(buf + n, len - n, "is beyond LUKS1's 8 key slots");
        else if (strcmp(s->kdf, "pbkdf2") != 0)
            snprintf(buf + n, len - n, "uses %s; LUKS1 has only pbkdf2 (add a pbkdf2 "
                     "passphrase and remove this keyslot first)", s->kdf);
        else if (strcmp(s->kdf_hash, l->digest_hash) || strcmp(s->af_hash, l->digest_hash))
            snprintf(buf + n, len - n, "hashes with %s/%s, the digest with %s; LUKS1 has "
                     "one hash", s->kdf_hash, s->af_hash, l->digest_hash);
        else if (s->stripes != LUKS_STRIPES || s->salt_len != LUKS_SALT_SIZE)
            snprintf(buf + n, len - n, "has %" PRIu32 " stripes or a %" PRIu32 "-byte salt",
                     s->stripes, s->salt_len);
        else if (strcmp(s->area_cipher, l->cipher) || s->area_key_size != l->key_size)
            snprintf(buf + n, len - n, "encrypts its material with %s, not the volume's %s",
                     s->area_cipher, l->cipher);
        else if (s->area_offset % LUKS_SECTOR || s->area_offset / LUKS_SECTOR > UINT32_MAX)
            snprintf(buf + n, len - n, "has its material at an offset LUKS1 cannot record");
        else
            continue;
        return buf;
    }
    /* Only a LUKS2 volume converted from LUKS1 has one (cryptsetup's rule
     * too). */
    if (l->digest_len != LUKS_DIGEST_SIZE || l->digest_salt_len != LUKS_SALT_SIZE)
        return "the volume key digest is not LUKS1's 20-byte PBKDF2 digest (only a "
               "volume that was LUKS1 has one)";
    return NULL;
}

int luks_import_layout(const struct strata_crypto_hdr_io *io,
                       const struct strata_crypto_layout *l, struct strata_error **errp)
{
    const char *name = io->name ? io->name : "LUKS header";
    char why[256];
    const char *no = unsupported(l, why, sizeof why);
    if (no)
        return strata_error_set(errp, ENOTSUP, "%s: cannot convert to LUKS1: %s", name, no);
    if (!io->write)
        return strata_error_set(errp, EROFS, "%s: the header is read-only", name);

    struct luks_header h = { .version = 1, .key_bytes = l->key_size,
                             .payload_offset = (uint32_t)(l->payload_offset / LUKS_SECTOR),
                             .mk_digest_iter = l->digest_iterations };
    size_t cn = (size_t)(strchr(l->cipher, '-') - l->cipher);
    if (cn > LUKS_CIPHERNAME_LEN || strlen(l->cipher + cn + 1) > LUKS_CIPHERMODE_LEN ||
        strlen(l->digest_hash) > LUKS_HASHSPEC_LEN)
        return strata_error_set(errp, ENOTSUP, "%s: cannot convert to LUKS1: the cipher "
                                "'%s' or hash '%s' is too long for its fields", name,
                                l->cipher, l->digest_hash);
    memcpy(h.cipher_name, l->cipher, cn);
    snprintf(h.cipher_mode, sizeof h.cipher_mode, "%.*s", LUKS_CIPHERMODE_LEN, l->cipher + cn + 1);
    snprintf(h.hash_spec, sizeof h.hash_spec, "%.*s", LUKS_HASHSPEC_LEN, l->digest_hash);
    snprintf(h.uuid, sizeof h.uuid, "%.*s", LUKS_UUID_LEN, l->uuid);
    memcpy(h.mk_digest, l->digest, LUKS_DIGEST_SIZE);
    memcpy(h.mk_digest_salt, l->digest_salt, LUKS_SALT_SIZE);

    /* Active slots keep their material where it is (past both LUKS2 copies,
     * so clear of the LUKS1 header); LUKS1 gives every inactive slot an
     * area too: free space of the old keyslots area. */
    uint64_t used_from = UINT64_MAX;
    bool active[LUKS_NUM_SLOTS] = { false };
    for (uint32_t i = 0; i < l->nslots; i++) {
        const struct strata_crypto_slot_layout *s = &l->slots[i];
        struct luks_slot *ks = &h.slots[s->id];
        ks->active = LUKS_SLOT_ACTIVE;
        ks->iterations = s->iterations;
        memcpy(ks->salt, s->salt, LUKS_SALT_SIZE);
        ks->key_offset = (uint32_t)(s->area_offset / LUKS_SECTOR);
        ks->stripes = s->stripes;
        active[s->id] = true;
        if (s->area_offset < used_from)
            used_from = s->area_offset;
    }
    uint64_t end = l->payload_offset;
    if (io->size && (end == 0 || io->size < end))
        end = io->size;
    uint64_t mlen = ((uint64_t)l->key_size * LUKS_STRIPES + LUKS_SECTOR - 1) / LUKS_SECTOR *
                    LUKS_SECTOR;
    for (unsigned i = 0; i < LUKS_NUM_SLOTS; i++) {
        if (active[i])
            continue;
        h.slots[i].active = LUKS_SLOT_INACTIVE;
        h.slots[i].stripes = LUKS_STRIPES;
        uint64_t at = 0;
        for (uint64_t off = LUKS_SLOT_ALIGN; off + mlen <= end && !at; off += LUKS_SLOT_ALIGN) {
            bool free = true;
            for (unsigned k = 0; free && k < LUKS_NUM_SLOTS; k++) {
                if (k == i || (!active[k] && k > i))
                    continue;
                uint64_t s2 = (uint64_t)h.slots[k].key_offset * LUKS_SECTOR;
                free = off + mlen <= s2 || s2 + mlen <= off;
            }
            if (free)
                at = off;
        }
        if (!at)
            return strata_error_set(errp, ENOSPC, "%s: cannot convert to LUKS1: no room "
                                    "for key slot %u's area before the payload", name, i);
        h.slots[i].key_offset = (uint32_t)(at / LUKS_SECTOR);
    }
    int r = luks_header_check(&h, io->size, name, NULL, errp);
    if (r < 0)
        return r;

    /* The LUKS1 header replaces the start of the primary LUKS2 copy in one
     * write: from then on the volume reads as LUKS1.  What is left of both
     * LUKS2 copies is wiped after, so no stale LUKS2 header is found. */
    struct luks_io lio = { .io = io, .name = name };
    if ((r = luks_write_header(&lio, &h, errp)) < 0)
        return r;
    if (used_from == UINT64_MAX)
        used_from = end;
    size_t chunk = 1u << 20;
    uint8_t *zero = calloc(1, chunk);
    if (!zero)
        return strata_error_set(errp, ENOMEM, "out of memory");
    for (uint64_t off = LUKS_HDR_SIZE; off < used_from && r == 0; off += chunk) {
        uint64_t n = used_from - off < chunk ? used_from - off : chunk;
        r = io->write(io->opaque, off, zero, n, errp);
    }
    free(zero);
    if (r == 0 && io->flush)
        r = io->flush(io->opaque, errp);
    return r;
}
