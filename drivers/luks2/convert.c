/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* convert.c - LUKS2 to and from the layout another LUKS version shares
 * (cryptsetup's `convert`): key material is copied as it is, so neither
 * direction needs a passphrase. */
#include "luks2-format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AREA_ALIGN 4096u

static uint64_t align_up(uint64_t v)
{
    return (v + AREA_ALIGN - 1) / AREA_ALIGN * AREA_ALIGN;
}

/* Appends ", what" (or "what") to extra. */
static void note(char *extra, size_t len, const char *what)
{
    size_t used = strlen(extra);
    snprintf(extra + used, len - used, "%s%s", used ? ", " : "", what);
}

int luks2_export_layout(struct strata_crypto_ctx *ctx, struct strata_crypto_layout *l,
                        struct strata_error **errp)
{
    const struct luks2_hdr *h = &ctx->h;
    const struct luks2_digest *d = &h->digests[h->seg_digest];
    memset(l, 0, sizeof *l);
    snprintf(l->cipher, sizeof l->cipher, "%s", h->seg_enc);
    l->key_size = h->key_size;
    l->sector_size = h->sector_size;
    l->iv_tweak = h->iv_tweak;
    l->payload_offset = h->seg_offset;
    l->payload_size = h->seg_size;
    snprintf(l->uuid, sizeof l->uuid, "%s", h->bin.uuid);
    snprintf(l->digest_hash, sizeof l->digest_hash, "%s", d->hash);
    l->digest_iterations = d->iterations;
    memcpy(l->digest_salt, d->salt, d->salt_len);
    l->digest_salt_len = (uint32_t)d->salt_len;
    memcpy(l->digest, d->digest, d->digest_len);
    l->digest_len = (uint32_t)d->digest_len;
    for (unsigned i = 0; i < LUKS2_MAX_SLOTS; i++) {
        const struct luks2_keyslot *ks = &h->slots[i];
        if (ks->id < 0)
            continue;
        if (!(d->keyslots & (1u << i)))
            return strata_error_set(errp, ENOTSUP, "%s: keyslot %u is not bound to the "
                                    "data segment's digest", ctx->name, i);
        struct strata_crypto_slot_layout *s = &l->slots[l->nslots++];
        s->id = i;
        s->priority = ks->priority;
        snprintf(s->kdf, sizeof s->kdf, "%s", ks->kdf);
        snprintf(s->kdf_hash, sizeof s->kdf_hash, "%s", ks->kdf_hash);
        s->iterations = ks->kp.iterations;
        s->memory_kib = ks->kp.memory_kib;
        s->parallel = ks->kp.parallel;
        memcpy(s->salt, ks->salt, ks->salt_len);
        s->salt_len = (uint32_t)ks->salt_len;
        snprintf(s->af_hash, sizeof s->af_hash, "%s", ks->af_hash);
        s->stripes = ks->stripes;
        s->area_offset = ks->area_offset;
        s->area_size = luks2_material_len(ks);
        snprintf(s->area_cipher, sizeof s->area_cipher, "%s", ks->area_enc);
        s->area_key_size = ks->area_key_size;
    }
    char buf[64];
    size_t n = json_object_object_length(luks2_json_section(h->root, "tokens"));
    if (n) {
        snprintf(buf, sizeof buf, "%zu token%s", n, n == 1 ? "" : "s");
        note(l->extra, sizeof l->extra, buf);
    }
    n = json_object_object_length(luks2_json_section(h->root, "keyslots")) - l->nslots;
    if (n) {
        snprintf(buf, sizeof buf, "%zu keyslot%s of another type", n, n == 1 ? "" : "s");
        note(l->extra, sizeof l->extra, buf);
    }
    if (h->ndigests > 1)
        note(l->extra, sizeof l->extra, "more than one digest");
    if (h->bin.label[0])
        note(l->extra, sizeof l->extra, "a label");
    if (h->bin.subsystem[0])
        note(l->extra, sizeof l->extra, "a subsystem");
    return 0;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* Where key material goes.  final[] is where each slot ends up; a slot
 * whose final place overlaps material still in use (its own included) goes
 * to a temporary place tmp[] first, and moves on once the header no longer
 * names the old places.  No place overlaps material in use, so the old
 * header keeps working until the new one is written. */
struct places {
    uint64_t final[STRATA_CRYPTO_LAYOUT_SLOTS], tmp[STRATA_CRYPTO_LAYOUT_SLOTS];
    bool moves_twice;
};

static bool clear_of_old(const struct strata_crypto_layout *l, uint64_t off, uint64_t len)
{
    for (uint32_t k = 0; k < l->nslots; k++)
        if (overlaps(off, len, l->slots[k].area_offset, l->slots[k].area_size))
            return false;
    return true;
}

/* The lowest 4 KiB-aligned place in [start, end) clear of the old material,
 * and of the n places in `taken` (sizes from the slots); 0 when none. */
static uint64_t free_place(const struct strata_crypto_layout *l, uint64_t start,
                           uint64_t end, uint64_t len, const uint64_t *const taken[2],
                           uint32_t n)
{
    for (uint64_t off = start; off + len <= end; off += AREA_ALIGN) {
        bool ok = clear_of_old(l, off, len);
        for (int t = 0; t < 2 && ok; t++)
            for (uint32_t k = 0; taken[t] && k < n && ok; k++)
                ok = !taken[t][k] || !overlaps(off, len, taken[t][k],
                                                align_up(l->slots[k].area_size));
        if (ok)
            return off;
    }
    return 0;
}

/* Slot N at start + N * stride, as cryptsetup's own conversion leaves a
 * LUKS1 volume it made: every LUKS1 slot then has its place, and cryptsetup
 * can convert the volume back. */
static bool place_packed(const struct strata_crypto_layout *l, uint64_t start, uint64_t end,
                         struct places *p)
{
    uint64_t stride = 0;
    for (uint32_t i = 0; i < l->nslots; i++)
        if (align_up(l->slots[i].area_size) > stride)
            stride = align_up(l->slots[i].area_size);
    memset(p, 0, sizeof *p);
    for (uint32_t i = 0; i < l->nslots; i++) {
        p->final[i] = start + l->slots[i].id * stride;
        if (p->final[i] + stride > end)
            return false;
    }
    const uint64_t *const taken[2] = { p->final, p->tmp };
    for (uint32_t i = 0; i < l->nslots; i++) {
        const struct strata_crypto_slot_layout *s = &l->slots[i];
        uint64_t len = align_up(s->area_size);
        if (p->final[i] == s->area_offset || clear_of_old(l, p->final[i], len))
            continue;
        /* tmp[] of later slots is still 0; finals are all set. */
        if (!(p->tmp[i] = free_place(l, start, end, len, taken, l->nslots)))
            return false;
        p->moves_twice = true;
    }
    return true;
}

/* Otherwise each slot stays where it is when that suits LUKS2, or takes
 * the lowest free place. */
static int place_free(const struct strata_crypto_layout *l, uint64_t start, uint64_t end,
                      struct places *p, const char *name, struct strata_error **errp)
{
    memset(p, 0, sizeof *p);
    const uint64_t *const taken[2] = { p->final, NULL };
    for (uint32_t i = 0; i < l->nslots; i++) {
        const struct strata_crypto_slot_layout *s = &l->slots[i];
        uint64_t need = align_up(s->area_size);
        bool ok = s->area_offset >= start && s->area_offset % AREA_ALIGN == 0 &&
                  s->area_offset + need <= end;
        for (uint32_t k = 0; ok && k < i; k++)
            ok = !overlaps(s->area_offset, need, p->final[k],
                           align_up(l->slots[k].area_size));
        if (ok)
            p->final[i] = s->area_offset;
        else if (!(p->final[i] = free_place(l, start, end, need, taken, i)))
            return strata_error_set(errp, ENOSPC, "%s: no room for keyslot %" PRIu32 "'s key "
                                    "material (%" PRIu64 " bytes) between LUKS2's header "
                                    "copies and the payload at %" PRIu64 " without "
                                    "overwriting key material in use; remove a keyslot "
                                    "first", name, s->id, need, end);
    }
    return 0;
}

static int copy_area(const struct strata_crypto_hdr_io *io, uint64_t from, uint64_t to,
                     uint64_t len, struct strata_error **errp)
{
    if (from == to)
        return 0;
    uint8_t *buf = strata_secure_alloc(len);
    if (!buf)
        return strata_error_set(errp, ENOMEM, "out of secure memory");
    int r = io->read(io->opaque, from, buf, len, errp);
    if (r == 0)
        r = io->write(io->opaque, to, buf, len, errp);
    strata_secure_free(buf, len);
    return r;
}

static json_object *slot_json(const struct strata_crypto_slot_layout *s, uint32_t key_size,
                              uint64_t area_offset)
{
    struct luks2_slot_params sp = {
        .key_size = key_size, .enc = s->area_cipher, .hash = s->af_hash, .kdf = s->kdf,
        .kp = { .hash = s->kdf_hash, .iterations = s->iterations,
                .memory_kib = s->memory_kib, .parallel = s->parallel },
        .area_offset = area_offset, .area_size = align_up(s->area_size),
        .priority = s->priority,
    };
    return luks2_keyslot_json(&sp, s->stripes, s->salt, s->salt_len);
}

/* The JSON tree for l with the slots' material at at[], checked. */
static int build(const struct strata_crypto_layout *l, const uint64_t *at, uint64_t hdr,
                 uint64_t keyslots_size, struct luks2_hdr *h, const char *name,
                 struct strata_error **errp)
{
    json_object_put(h->root);
    h->root = luks2_root_new(l->cipher, l->payload_offset, LUKS2_SECTOR, hdr, keyslots_size);
    json_object *dig = luks2_digest_json(l->digest_hash, l->digest_iterations,
                                         l->digest_salt, l->digest_salt_len, l->digest,
                                         l->digest_len);
    if (!dig)
        return strata_error_set(errp, ENOMEM, "out of memory");
    json_object_object_add(luks2_json_section(h->root, "digests"), "0", dig);
    json_object *dks = NULL;
    json_object_object_get_ex(dig, "keyslots", &dks);
    for (uint32_t i = 0; i < l->nslots; i++) {
        char id[12];
        snprintf(id, sizeof id, "%" PRIu32, l->slots[i].id);
        json_object *o = slot_json(&l->slots[i], l->key_size, at[i]);
        if (!o)
            return strata_error_set(errp, ENOMEM, "out of memory");
        json_object_object_add(luks2_json_section(h->root, "keyslots"), id, o);
        json_object_array_add(dks, json_object_new_string(id));
    }
    return luks2_json_validate(h, name, errp);
}

int luks2_import_layout(const struct strata_crypto_hdr_io *io,
                        const struct strata_crypto_layout *l, struct strata_error **errp)
{
    const char *name = io->name ? io->name : "LUKS header";
    uint64_t hdr = LUKS2_MIN_HDR, start = 2 * hdr;
    if (!io->write)
        return strata_error_set(errp, EROFS, "%s: the header is read-only", name);
    if (l->payload_size || l->iv_tweak || l->sector_size != LUKS2_SECTOR)
        return strata_error_set(errp, ENOTSUP, "%s: only a payload of 512-byte sectors "
                                "up to the end of the device converts to LUKS2", name);
    /* The keyslots area ends where the payload starts, or, in a detached
     * header, where the header file does. */
    uint64_t end = l->payload_offset;
    if (io->size && (end == 0 || io->size < end))
        end = io->size;
    end = end / AREA_ALIGN * AREA_ALIGN;
    if (end <= start)
        return strata_error_set(errp, ENOSPC, "%s: the payload starts at %" PRIu64 ": no "
                                "room for LUKS2's two %" PRIu64 "-byte header copies and "
                                "the key material before it", name, l->payload_offset, hdr);
    struct places p;
    int r = 0;
    if (!place_packed(l, start, end, &p) && (r = place_free(l, start, end, &p, name, errp)) < 0)
        return r;
    uint64_t first[STRATA_CRYPTO_LAYOUT_SLOTS];
    for (uint32_t i = 0; i < l->nslots; i++)
        first[i] = p.tmp[i] ? p.tmp[i] : p.final[i];

    struct luks2_hdr *h = calloc(1, sizeof *h);
    if (!h)
        return strata_error_set(errp, ENOMEM, "out of memory");
    h->bin.version = 2;
    h->bin.hdr_size = hdr;
    h->bin.seqid = 1;
    snprintf(h->bin.csum_alg, sizeof h->bin.csum_alg, "sha256");
    snprintf(h->bin.uuid, sizeof h->bin.uuid, "%.*s", LUKS2_UUID_LEN, l->uuid);
    /* Both trees are checked before the first write. */
    if ((r = strata_random_bytes(h->bin.salt, sizeof h->bin.salt, errp)) < 0 ||
        (r = build(l, p.final, hdr, end - start, h, name, errp)) < 0 ||
        (r = build(l, first, hdr, end - start, h, name, errp)) < 0)
        goto out;
    /* Material first, made stable; then the primary copy, which replaces
     * the old header; then the secondary, over what may be old material. */
    for (uint32_t i = 0; i < l->nslots && r == 0; i++)
        r = copy_area(io, l->slots[i].area_offset, first[i], l->slots[i].area_size, errp);
    if (r == 0 && io->flush)
        r = io->flush(io->opaque, errp);
    if (r == 0)
        r = luks2_hdr_write(io, name, h, true, errp);
    if (r < 0 || !p.moves_twice)
        goto out;
    /* The old places are free now: the second move is an ordinary LUKS2
     * update (new material stable first, then both copies). */
    for (uint32_t i = 0; i < l->nslots && r == 0; i++)
        r = copy_area(io, first[i], p.final[i], l->slots[i].area_size, errp);
    if (r == 0 && io->flush)
        r = io->flush(io->opaque, errp);
    h->bin.seqid++;
    if (r == 0 && (r = build(l, p.final, hdr, end - start, h, name, errp)) == 0)
        r = luks2_hdr_write(io, name, h, false, errp);
out:
    luks2_hdr_free(h);
    free(h);
    return r;
}
