/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* format.c - LUKS1 as a strata encryption format: create, unlock, info,
 * key management and erase over a header region reached through the
 * caller's callbacks (see strata/encryption.h). */
#include "luks-int.h"
#include "luks.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Key material is about to be decrypted or written: the header's
 * algorithms must be usable. */
static int luks_need_algs(const struct strata_crypto_ctx *ctx, struct strata_error **errp)
{
    if (!ctx->alg_err)
        return 0;
    return strata_error_set(errp, ctx->alg_err->code > 0 ? ctx->alg_err->code : EINVAL,
                            "%s", ctx->alg_err->msg);
}

const char *const luks_cipher_mode_choices[] = { "ecb", "cbc", "xts", "ctr", NULL };
const char *const luks_ivgen_choices[] = { "plain", "plain64", "essiv", NULL };
const char *const luks_state_choices[] = { "active", "inactive", NULL };

static const struct strata_opt_desc luks_create_opts[] = {
    LUKS_CREATE_OPTION_DESCS
    { NULL },
};

static const struct strata_opt_desc luks_open_opts[] = {
    { .name = "key-secret", .type = STRATA_OPT_STRING,
      .help = "id of the secret holding the passphrase" },
    { .name = "keyslot", .type = STRATA_OPT_NUMBER,
      .help = "try the passphrase on this key slot only (0-7; default: every active one)" },
    { NULL },
};

const struct strata_opt_desc luks_amend_options[] = {
    LUKS_AMEND_OPTION_DESCS
    { NULL },
};

/* ------------------------------------------------------------ options */

struct luks_params {
    uint32_t key_bytes;
    struct strata_cipher_spec spec;
    char hash[LUKS_HASHSPEC_LEN + 1];
    uint32_t iter_time;
};

static int luks_parse_create(const struct strata_opts *o, struct luks_params *p,
                             struct strata_error **errp)
{
    const char *hash = strata_opts_get(o, "hash-alg");
    uint64_t iter_time = STRATA_PBKDF2_DEFAULT_ITER_TIME_MS;
    int r;

    memset(p, 0, sizeof *p);
    hash = hash ? hash : "sha256";
    if ((r = strata_opts_get_u64(o, "iter-time", &iter_time, errp)) < 0)
        return r;
    if (iter_time == 0 || iter_time > 3600 * 1000)
        return strata_error_set(errp, EINVAL, "luks: iter-time %" PRIu64 " is out of "
                                "range (1 to 3600000 ms)", iter_time);
    p->iter_time = (uint32_t)iter_time;

    struct luks_cipher_choice cc;
    if ((r = luks_cipher_choose(o, "luks", &cc, errp)) < 0)
        return r;
    p->spec = cc.spec;
    p->key_bytes = cc.key_bytes;
    if (strlen(hash) > LUKS_HASHSPEC_LEN - 1)
        return strata_error_set(errp, EINVAL, "luks: hash-alg '%s' is too long", hash);
    snprintf(p->hash, sizeof p->hash, "%s", hash);
    r = strata_hash_digest_size(hash, errp);
    return r < 0 ? r : 0;
}

/* Payload start in sectors for a new header: key material after the 4 KiB
 * phdr area, 4 KiB aligned per slot, then the payload aligned as asked. */
static uint64_t luks_layout_end(uint32_t key_bytes)
{
    return LUKS_SLOT_ALIGN / LUKS_SECTOR + (uint64_t)LUKS_NUM_SLOTS *
                                               luks_slot_stride(key_bytes);
}

static int luks_payload_sectors(uint32_t key_bytes,
                                const struct strata_crypto_create_params *cp,
                                uint64_t *payload, uint64_t *header_len,
                                struct strata_error **errp)
{
    uint64_t end = luks_layout_end(key_bytes);
    uint64_t align = cp && cp->payload_align ? cp->payload_align : LUKS_DEFAULT_ALIGN;
    if (align % LUKS_SECTOR)
        return strata_error_set(errp, EINVAL, "luks: payload alignment %" PRIu64
                                " is not a multiple of 512", align);
    align /= LUKS_SECTOR;
    if (cp && cp->detached) {
        if (cp->payload_offset % LUKS_SECTOR)
            return strata_error_set(errp, EINVAL, "luks: payload offset %" PRIu64
                                    " is not a multiple of 512", cp->payload_offset);
        *payload = cp->payload_offset / LUKS_SECTOR;
        *header_len = end * LUKS_SECTOR;
    } else {
        *payload = (end + align - 1) / align * align;
        *header_len = *payload * LUKS_SECTOR;
    }
    if (*payload > UINT32_MAX)
        return strata_error_set(errp, EINVAL, "luks: payload offset is too large");
    return 0;
}

static int luks_header_size(const struct strata_opts *opts,
                            const struct strata_crypto_create_params *cp, uint64_t *size,
                            struct strata_error **errp)
{
    struct luks_params p;
    uint64_t payload;
    int r = luks_parse_create(opts, &p, errp);
    if (r == 0)
        r = luks_payload_sectors(p.key_bytes, cp, &payload, size, errp);
    return r;
}

/* ------------------------------------------------------------ context */

static void luks_close(struct strata_crypto_ctx *ctx)
{
    if (!ctx)
        return;
    strata_cipher_free(ctx->cipher);
    if (ctx->mk)
        strata_secure_free(ctx->mk, LUKS_MAX_KEY);
    strata_error_free(ctx->alg_err);
    free(ctx->name);
    strata_wipe(ctx, sizeof *ctx);
    free(ctx);
}

static struct strata_crypto_ctx *luks_ctx_new(const struct strata_crypto_hdr_io *io,
                                              struct strata_error **errp)
{
    struct strata_crypto_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx || !(ctx->name = strdup(io->name ? io->name : "LUKS header"))) {
        free(ctx);
        strata_error_set(errp, ENOMEM, "out of memory");
        return NULL;
    }
    ctx->io = *io;
    ctx->lio.io = &ctx->io;
    ctx->lio.name = ctx->name;
    return ctx;
}

static int luks_get_pass(const char *id, const char *opt, uint8_t **pass, size_t *len,
                         struct strata_error **errp)
{
    int r = strata_secret_get(id, pass, len, errp);
    /* A missing secret is named alone, as QEMU does. */
    if (r < 0 && r != -ENOENT)
        strata_error_prefix(errp, "luks: %s", opt);
    return r;
}

/* Keeps the volume key and opens the payload cipher with it. */
static int luks_set_key(struct strata_crypto_ctx *ctx, const uint8_t *mk,
                        struct strata_error **errp)
{
    if (!ctx->mk && !(ctx->mk = strata_secure_alloc(LUKS_MAX_KEY)))
        return strata_error_set(errp, ENOMEM, "out of secure memory");
    memcpy(ctx->mk, mk, ctx->h.key_bytes);
    strata_cipher_free(ctx->cipher);
    ctx->cipher = NULL;
    int r = strata_cipher_open_spec(&ctx->spec, ctx->mk, ctx->h.key_bytes, &ctx->cipher,
                                    errp);
    if (r < 0)
        strata_error_prefix(errp, "%s", ctx->name);
    return r;
}

/* header_only: an unusable cipher or hash is kept in ctx->alg_err rather
 * than refused, since only the header is needed. */
static int luks_read_header(struct strata_crypto_ctx *ctx, bool header_only,
                            struct strata_error **errp)
{
    uint8_t raw[LUKS_HDR_SIZE];
    if (ctx->io.size && ctx->io.size < LUKS_HDR_SIZE)
        return strata_error_set(errp, EINVAL, "%s: too small for a LUKS header "
                                "(%" PRIu64 " bytes)", ctx->name, ctx->io.size);
    int r = ctx->io.read(ctx->io.opaque, 0, raw, sizeof raw, errp);
    if (r < 0)
        return r;
    if ((r = luks_header_decode(raw, &ctx->h, ctx->name, errp)) < 0)
        return r;
    if ((r = luks_header_check(&ctx->h, ctx->io.size, ctx->name,
                               header_only ? &ctx->alg_err : NULL, errp)) < 0)
        return r;

    return luks_header_spec(&ctx->h, &ctx->spec, ctx->name, errp);
}

static int luks_open(const struct strata_crypto_hdr_io *io, const struct strata_opts *opts,
                     unsigned flags, struct strata_crypto_ctx **out,
                     struct strata_error **errp)
{
    *out = NULL;
    struct strata_crypto_ctx *ctx = luks_ctx_new(io, errp);
    if (!ctx)
        return -ENOMEM;
    int r = luks_read_header(ctx, flags & STRATA_O_NO_IO, errp);
    const char *secret = opts ? strata_opts_get(opts, "key-secret") : NULL;
    if (r == 0 && !(flags & STRATA_O_NO_IO)) {
        if (!secret) {
            r = strata_error_set(errp, ENOKEY, "%s: the LUKS volume is encrypted: "
                                 "option 'key-secret' is required to open it for I/O",
                                 ctx->name);
        } else {
            uint8_t *pass = NULL, mk[LUKS_MAX_KEY];
            size_t passlen = 0;
            int64_t slot = -1;
            if (strata_opts_get(opts, "keyslot") &&
                (r = strata_opts_get_i64(opts, "keyslot", &slot, errp)) == 0 &&
                (slot < 0 || slot >= LUKS_NUM_SLOTS))
                r = strata_error_set(errp, EINVAL, "%s: keyslot %" PRId64 " is out of "
                                     "range (0-%d)", ctx->name, slot, LUKS_NUM_SLOTS - 1);
            if (r == 0)
                r = luks_get_pass(secret, "key-secret", &pass, &passlen, errp);
            if (r == 0)
                r = luks_unlock(&ctx->lio, &ctx->h, &ctx->spec, pass, passlen, (int)slot,
                                mk, errp);
            if (r >= 0)
                r = luks_set_key(ctx, mk, errp);
            if (r >= 0 && luks_ecb_ivgen(&ctx->h))
                strata_warn("%s: the volume is encrypted in ECB mode, which is unsafe "
                            "(equal blocks encrypt alike); its IV generator '%s' is "
                            "ignored, as QEMU does", ctx->name, luks_ecb_ivgen(&ctx->h));
            strata_wipe(mk, sizeof mk);
            if (pass)
                strata_secret_free(pass, passlen);
        }
    }
    if (r < 0) {
        luks_close(ctx);
        return r;
    }
    *out = ctx;
    return 0;
}

static uint64_t clamp_iters(uint64_t it)
{
    if (it < LUKS_MIN_ITERS)
        return LUKS_MIN_ITERS;
    return it > UINT32_MAX ? UINT32_MAX : it;
}

static int luks_create(const struct strata_crypto_hdr_io *io, const struct strata_opts *opts,
                       const struct strata_crypto_create_params *cp,
                       struct strata_crypto_ctx **out, struct strata_error **errp)
{
    struct luks_params p;
    uint64_t payload, header_len, iters;
    uint8_t *pass = NULL;
    size_t passlen = 0;
    uint8_t mk[LUKS_MAX_KEY], rnd[16];
    int r;

    *out = NULL;
    if ((r = luks_parse_create(opts, &p, errp)) < 0)
        return r;
    if ((r = luks_payload_sectors(p.key_bytes, cp, &payload, &header_len, errp)) < 0)
        return r;
    const char *secret = strata_opts_get(opts, "key-secret");
    if (!secret)
        return strata_error_set(errp, EINVAL, "luks: Parameter 'key-secret' is required "
                                "to create an encrypted volume");
    if (!io->write)
        return strata_error_set(errp, EROFS, "%s: the header area is read-only",
                                io->name ? io->name : "LUKS header");
    if ((r = luks_get_pass(secret, "key-secret", &pass, &passlen, errp)) < 0)
        return r;

    struct strata_crypto_ctx *ctx = luks_ctx_new(io, errp);
    if (!ctx) {
        strata_secret_free(pass, passlen);
        return -ENOMEM;
    }
    struct luks_header *h = &ctx->h;
    ctx->spec = p.spec;
    h->version = 1;
    snprintf(h->cipher_name, sizeof h->cipher_name, "%s", p.spec.alg);
    /* mode and ivgen are short known names ("cbc", "essiv:sha256") */
    size_t ml = strlen(p.spec.mode), il = strlen(p.spec.ivgen);
    if (ml + 1 + il > LUKS_CIPHERMODE_LEN - 1) {
        r = strata_error_set(errp, EINVAL, "luks: cipher mode '%s-%s' is too long",
                             p.spec.mode, p.spec.ivgen);
        goto out;
    }
    memcpy(h->cipher_mode, p.spec.mode, ml);
    if (il) {
        h->cipher_mode[ml] = '-';
        memcpy(h->cipher_mode + ml + 1, p.spec.ivgen, il + 1);
    }
    snprintf(h->hash_spec, sizeof h->hash_spec, "%s", p.hash);
    h->payload_offset = (uint32_t)payload;
    h->key_bytes = p.key_bytes;

    r = strata_pbkdf2_calibrate(p.hash, p.key_bytes, p.iter_time, &iters, errp);
    if (r == 0)
        r = strata_random_bytes(mk, p.key_bytes, errp);
    if (r == 0)
        r = strata_random_bytes(h->mk_digest_salt, LUKS_SALT_SIZE, errp);
    if (r == 0)
        r = strata_random_bytes(rnd, sizeof rnd, errp);
    if (r < 0)
        goto out;
    luks_uuid_format(h->uuid, LUKS_UUID_LEN, rnd);
    /* As QEMU: the digest costs an eighth of a slot. */
    h->mk_digest_iter = (uint32_t)clamp_iters(iters / 8);
    if ((r = luks_mk_digest(h, mk, h->mk_digest, errp)) < 0)
        goto out;
    uint32_t stride = luks_slot_stride(p.key_bytes);
    for (unsigned i = 0; i < LUKS_NUM_SLOTS; i++) {
        h->slots[i].active = LUKS_SLOT_INACTIVE;
        h->slots[i].stripes = LUKS_STRIPES;
        h->slots[i].key_offset = LUKS_SLOT_ALIGN / LUKS_SECTOR + i * stride;
    }
    if (io->init && (r = io->init(io->opaque, header_len, errp)) < 0)
        goto out;
    r = luks_slot_store(&ctx->lio, h, 0, &ctx->spec, mk, pass, passlen,
                        clamp_iters(iters), errp);
    if (r == 0) {
        h->slots[0].active = LUKS_SLOT_ACTIVE;
        r = luks_write_header(&ctx->lio, h, errp);
    }
    if (r == 0)
        r = luks_set_key(ctx, mk, errp);
out:
    strata_wipe(mk, sizeof mk);
    strata_secret_free(pass, passlen);
    if (r < 0) {
        luks_close(ctx);
        return r;
    }
    *out = ctx;
    return 0;
}

static void luks_get_cipher(struct strata_crypto_ctx *ctx, struct strata_cipher **cipher,
                            uint64_t *payload_offset, uint32_t *sector_size)
{
    if (cipher)
        *cipher = ctx->cipher;
    if (payload_offset)
        *payload_offset = (uint64_t)ctx->h.payload_offset * LUKS_SECTOR;
    if (sector_size)
        *sector_size = LUKS_SECTOR;
}

uint64_t luks_material_end(struct strata_crypto_ctx *ctx)
{
    return luks_header_end(&ctx->h);
}

/* What cryptsetup's luksHeaderBackup saves: the header and key material up
 * to the 4 KiB boundary after the last slot, not the padding before the
 * payload. */
static uint64_t luks_header_length(struct strata_crypto_ctx *ctx)
{
    uint64_t end = luks_header_end(&ctx->h);
    return (end + LUKS_SLOT_ALIGN - 1) / LUKS_SLOT_ALIGN * LUKS_SLOT_ALIGN;
}

/* ------------------------------------------------------------ info */

static int luks_get_info(struct strata_crypto_ctx *ctx, struct strata_info *obj,
                         struct strata_error **errp)
{
    const struct luks_header *h = &ctx->h;
    char buf[64];
    unsigned bits = h->key_bytes * 8 / (strcmp(ctx->spec.mode, "xts") == 0 ? 2 : 1);
    if (strcmp(ctx->spec.alg, "sm4") == 0)
        snprintf(buf, sizeof buf, "sm4");
    else
        snprintf(buf, sizeof buf, "%s-%u", ctx->spec.alg, bits);
    strata_info_add_str(obj, "cipher-alg", buf);
    strata_info_add_str(obj, "cipher-mode", ctx->spec.mode);
    const char *iv = luks_ecb_ivgen(h) ? luks_ecb_ivgen(h) : ctx->spec.ivgen;
    if (strncmp(iv, "essiv:", 6) == 0) {
        strata_info_add_str(obj, "ivgen-alg", "essiv");
        strata_info_add_str(obj, "ivgen-hash-alg", iv + 6);
    } else if (*iv) {
        strata_info_add_str(obj, "ivgen-alg", iv);
    }
    strata_info_add_str(obj, "hash-alg", h->hash_spec);
    strata_info_add_int(obj, "payload-offset", (int64_t)h->payload_offset * LUKS_SECTOR);
    strata_info_add_int(obj, "master-key-iters", h->mk_digest_iter);
    strata_info_add_str(obj, "uuid", h->uuid);
    struct strata_info *slots = strata_info_add_list(obj, "slots");
    for (unsigned i = 0; i < LUKS_NUM_SLOTS; i++) {
        struct strata_info *s = strata_info_add_object(slots, NULL);
        bool active = h->slots[i].active == LUKS_SLOT_ACTIVE;
        strata_info_add_bool(s, "active", active);
        if (active) {
            strata_info_add_int(s, "iters", h->slots[i].iterations);
            strata_info_add_int(s, "stripes", h->slots[i].stripes);
        }
        strata_info_add_int(s, "key-offset", (int64_t)h->slots[i].key_offset * LUKS_SECTOR);
    }
    return 0;
}

/* ------------------------------------------------------------ amend */

/* Marks the slots in mask inactive on disk, then destroys their material:
 * the header never points at half-wiped material. */
static int luks_erase_slots(struct strata_crypto_ctx *ctx, unsigned mask,
                            struct strata_error **errp)
{
    struct luks_header nh = ctx->h;
    for (unsigned i = 0; i < LUKS_NUM_SLOTS; i++) {
        if (mask & (1u << i)) {
            nh.slots[i].active = LUKS_SLOT_INACTIVE;
            nh.slots[i].iterations = 0;
            memset(nh.slots[i].salt, 0, LUKS_SALT_SIZE);
        }
    }
    int r = luks_write_header(&ctx->lio, &nh, errp);
    if (r < 0)
        return r;
    ctx->h = nh;
    for (unsigned i = 0; i < LUKS_NUM_SLOTS && r == 0; i++)
        if (mask & (1u << i))
            r = luks_slot_wipe(&ctx->lio, &ctx->h, i, errp);
    return r;
}

static int luks_try_cb(void *opaque, unsigned slot, const uint8_t *pass, size_t len,
                       uint8_t *key, struct strata_error **errp)
{
    struct strata_crypto_ctx *ctx = opaque;
    return luks_slot_try(&ctx->lio, &ctx->h, slot, &ctx->spec, pass, len, key, errp);
}

/* Slots that pass opens, as a bit mask. */
static int luks_matching_slots(struct strata_crypto_ctx *ctx, const uint8_t *pass,
                               size_t passlen, uint32_t *mask, uint8_t *mk,
                               struct strata_error **errp)
{
    int r = luks_need_algs(ctx, errp);
    if (r < 0)
        return r;
    uint32_t cand = 0;
    for (unsigned i = 0; i < LUKS_NUM_SLOTS; i++)
        if (ctx->h.slots[i].active == LUKS_SLOT_ACTIVE)
            cand |= 1u << i;
    return luks_match_slots(cand, luks_try_cb, ctx, pass, passlen, mask, mk,
                            ctx->h.key_bytes, errp);
}

static int luks_match_cb(void *opaque, const uint8_t *pass, size_t len, uint32_t *mask,
                         uint8_t *key, struct strata_error **errp)
{
    return luks_matching_slots(opaque, pass, len, mask, key, errp);
}

static int luks_amend_add(struct strata_crypto_ctx *ctx, const struct strata_opts *opts,
                          bool force, bool has_slot, unsigned slot,
                          struct strata_error **errp)
{
    const char *old_id = strata_opts_get(opts, "old-secret");
    const char *new_id = strata_opts_get(opts, "new-secret");
    uint64_t iter_time = STRATA_PBKDF2_DEFAULT_ITER_TIME_MS, iters;
    bool replace = false;
    uint8_t *newp = NULL, mk[LUKS_MAX_KEY];
    size_t newlen = 0;
    uint32_t old_mask = 0;
    int r;

    if (!new_id)
        return strata_error_set(errp, EINVAL, "%s: 'new-secret' is required to activate "
                                "a keyslot", ctx->name);
    if ((r = luks_need_algs(ctx, errp)) < 0 ||
        (r = strata_opts_get_u64(opts, "iter-time", &iter_time, errp)) < 0 ||
        (r = strata_opts_get_bool(opts, "replace", &replace, errp)) < 0)
        return r;
    if (iter_time == 0 || iter_time > 3600 * 1000)
        return strata_error_set(errp, EINVAL, "%s: iter-time %" PRIu64 " is out of range "
                                "(1 to 3600000 ms)", ctx->name, iter_time);
    if (replace && !old_id)
        return strata_error_set(errp, EINVAL, "%s: 'replace' needs 'old-secret' (the "
                                "passphrase to replace)", ctx->name);
    if (!has_slot) {
        for (slot = 0; slot < LUKS_NUM_SLOTS; slot++)
            if (ctx->h.slots[slot].active != LUKS_SLOT_ACTIVE)
                break;
        if (slot == LUKS_NUM_SLOTS)
            return strata_error_set(errp, ENOSPC, "%s: Can't add a keyslot - all keyslots "
                                    "are in use", ctx->name);
    } else if (ctx->h.slots[slot].active == LUKS_SLOT_ACTIVE && !force) {
        return strata_error_set(errp, EBUSY, "%s: Refusing to overwrite active keyslot %u "
                                "- please erase it first", ctx->name, slot);
    }

    if ((r = luks_add_key_source(opts, ctx->name, "luks", ctx->mk, ctx->h.key_bytes,
                                 luks_match_cb, ctx, mk, &old_mask, errp)) < 0)
        goto out;
    if ((r = luks_get_pass(new_id, "new-secret", &newp, &newlen, errp)) < 0)
        goto out;
    if ((r = strata_pbkdf2_calibrate(ctx->h.hash_spec, ctx->h.key_bytes,
                                     (uint32_t)iter_time, &iters, errp)) < 0)
        goto out;

    /* Never rewrite a slot in place under a live header entry: when forced
     * over an active slot, retire it first. */
    if (ctx->h.slots[slot].active == LUKS_SLOT_ACTIVE &&
        (r = luks_erase_slots(ctx, 1u << slot, errp)) < 0)
        goto out;
    struct luks_header nh = ctx->h;
    r = luks_slot_store(&ctx->lio, &nh, slot, &ctx->spec, mk, newp, newlen,
                        clamp_iters(iters), errp);
    if (r == 0) {
        nh.slots[slot].active = LUKS_SLOT_ACTIVE;
        uint8_t check[LUKS_MAX_KEY];
        r = luks_slot_try(&ctx->lio, &nh, slot, &ctx->spec, newp, newlen, check, errp);
        strata_wipe(check, sizeof check);
        if (r == 0)
            r = strata_error_set(errp, EIO, "%s: key slot %u does not read back: the new "
                                 "passphrase was not stored", ctx->name, slot);
        if (r == 1)
            r = luks_write_header(&ctx->lio, &nh, errp);
    }
    if (r < 0) {
        struct luks_header tmp = ctx->h;
        luks_slot_wipe(&ctx->lio, &tmp, slot, NULL);
        goto out;
    }
    ctx->h = nh;
    if (!ctx->mk)
        r = luks_set_key(ctx, mk, errp);
    old_mask &= ~(1u << slot);
    if (r == 0 && replace && old_mask)
        r = luks_erase_slots(ctx, old_mask, errp);
out:
    strata_wipe(mk, sizeof mk);
    if (newp)
        strata_secret_free(newp, newlen);
    return r < 0 ? r : 0;
}

static int luks_amend_erase(struct strata_crypto_ctx *ctx, const struct strata_opts *opts,
                            bool force, bool has_slot, unsigned slot,
                            struct strata_error **errp)
{
    static const char *const add_only[] = { "new-secret", "iter-time", NULL };
    struct luks_erase_sel sel = {
        .name = ctx->name, .who = "luks", .has_slot = has_slot, .slot = slot,
        .slot_in_use = has_slot && (force || ctx->h.slots[slot].active == LUKS_SLOT_ACTIVE),
        .match = luks_match_cb, .opaque = ctx,
    };
    uint32_t mask, active = 0;
    int r = luks_erase_select(opts, add_only, &sel, &mask, errp);
    if (r < 0)
        return r;
    for (unsigned i = 0; i < LUKS_NUM_SLOTS; i++)
        if (ctx->h.slots[i].active == LUKS_SLOT_ACTIVE)
            active |= 1u << i;
    if ((r = luks_erase_keeps_one(&sel, mask, active, force, errp)) < 0)
        return r;
    return luks_erase_slots(ctx, mask, errp);
}

static int luks_amend(struct strata_crypto_ctx *ctx, const struct strata_opts *opts,
                      bool force, struct strata_error **errp)
{
    const char *state = strata_opts_get(opts, "state");
    uint64_t slot = 0;
    bool has_slot = strata_opts_get(opts, "keyslot") != NULL;
    int r;

    if (!ctx->io.write)
        return strata_error_set(errp, EROFS, "%s: the LUKS header is read-only",
                                ctx->name);
    if (!state)
        return strata_error_set(errp, EINVAL, "%s: amend needs 'state' (active or "
                                "inactive)", ctx->name);
    if ((r = strata_opts_get_u64(opts, "keyslot", &slot, errp)) < 0)
        return r;
    if (has_slot && slot >= LUKS_NUM_SLOTS)
        return strata_error_set(errp, EINVAL, "%s: Invalid keyslot %" PRIu64 " specified, "
                                "must be between 0 and %d", ctx->name, slot,
                                LUKS_NUM_SLOTS - 1);
    if (strcmp(state, "active") == 0)
        return luks_amend_add(ctx, opts, force, has_slot, (unsigned)slot, errp);
    if (strcmp(state, "inactive") == 0) {
        if (strata_opts_get(opts, "replace"))
            return strata_error_set(errp, EINVAL, "%s: 'replace' only goes with "
                                    "state=active", ctx->name);
        return luks_amend_erase(ctx, opts, force, has_slot, (unsigned)slot, errp);
    }
    return strata_error_set(errp, EINVAL, "%s: invalid state '%s'", ctx->name, state);
}

/* ------------------------------------------------------------ erase */

static int luks_erase(struct strata_crypto_ctx *ctx, struct strata_info *report,
                      struct strata_error **errp)
{
    struct strata_info *list = report ? strata_info_add_list(report, "wiped") : NULL;
    char what[32];
    int r = 0;

    if (!ctx->io.write)
        return strata_error_set(errp, EROFS, "%s: the LUKS header is read-only",
                                ctx->name);
    /* Key material first: once it is gone nothing can recover the volume
     * key, even from a copy of the header. */
    for (unsigned i = 0; i < LUKS_NUM_SLOTS && r == 0; i++) {
        uint64_t off = (uint64_t)ctx->h.slots[i].key_offset * LUKS_SECTOR;
        size_t len = luks_material_len(&ctx->h, i);
        bool was = ctx->h.slots[i].active == LUKS_SLOT_ACTIVE;
        r = luks_slot_wipe(&ctx->lio, &ctx->h, i, errp);
        snprintf(what, sizeof what, "key slot %u%s", i, was ? " (active)" : "");
        if (r == 0)
            luks_report_wipe(list, what, off, len);
    }
    if (r < 0)
        return r;
    /* Then the phdr and the padding up to the first key slot: no signature,
     * uuid or digest survives. */
    uint64_t hdr_len = LUKS_SLOT_ALIGN;
    for (unsigned i = 0; i < LUKS_NUM_SLOTS; i++) {
        uint64_t off = (uint64_t)ctx->h.slots[i].key_offset * LUKS_SECTOR;
        if (off < hdr_len)
            hdr_len = off;
    }
    r = luks_wipe_header(&ctx->io, hdr_len, "header", list, errp);
    strata_cipher_free(ctx->cipher);
    ctx->cipher = NULL;
    return r;
}

/* Any LUKS version: the magic, then a big-endian version.  A LUKS2 volume
 * whose primary header is damaged is known by the magic of its secondary
 * copy, which sits at one of the offsets LUKS2 allows for it. */
static int luks_read_version(const struct strata_crypto_hdr_io *io, uint32_t *version,
                             struct strata_error **errp)
{
    uint8_t buf[8];
    *version = 0;
    if (io->size && io->size < sizeof buf)
        return 0;
    int r = io->read(io->opaque, 0, buf, sizeof buf, errp);
    if (r < 0)
        return r;
    if (luks_any_magic(buf, sizeof buf)) {
        *version = (uint32_t)buf[6] << 8 | buf[7];
        return 0;
    }
    for (uint64_t off = 16384; off <= 4194304; off *= 2) {
        if (io->size && off + sizeof buf > io->size)
            break;
        if (io->read(io->opaque, off, buf, sizeof buf, NULL) == 0 &&
            luks_secondary_magic(buf, sizeof buf)) {
            *version = 2;
            break;
        }
    }
    return 0;
}

static int luks_probe(const uint8_t *buf, size_t len)
{
    return luks_has_magic(buf, len) ? 100 : 0;
}

const struct strata_crypto_format luks_format = {
    STRATA_CRYPTO_FORMAT_HEAD,
    .name = "luks",
    .description = "LUKS1 (cryptsetup on-disk format 1.2)",
    .create_options = luks_create_opts,
    .open_options = luks_open_opts,
    .amend_options = luks_amend_options,
    .probe = luks_probe,
    .header_size = luks_header_size,
    .create = luks_create,
    .open = luks_open,
    .close = luks_close,
    .get_cipher = luks_get_cipher,
    .header_length = luks_header_length,
    .get_info = luks_get_info,
    .amend = luks_amend,
    .erase = luks_erase,
    .family = "luks",
    .version = 1,
    .read_version = luks_read_version,
    .export_layout = luks_export_layout,
    .import_layout = luks_import_layout,
};
