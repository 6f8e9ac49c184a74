/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* format.c - LUKS2 as a strata encryption format (family "luks", version
 * 2): open, unlock, payload geometry and the descriptor. */
#include "luks2-format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strata/plugin.h>

static const struct strata_opt_desc luks2_open_opts[] = {
    { .name = "key-secret", .type = STRATA_OPT_STRING,
      .help = "id of the secret holding the passphrase" },
    { .name = "keyslot", .type = STRATA_OPT_NUMBER,
      .help = "try the passphrase on this keyslot only (0-31; default: every one, by "
              "priority)" },
    { NULL },
};

static int luks2_open(const struct strata_crypto_hdr_io *io, const struct strata_opts *opts,
                      unsigned flags, struct strata_crypto_ctx **out,
                      struct strata_error **errp)
{
    *out = NULL;
    struct strata_crypto_ctx *ctx = luks2_ctx_new(io, errp);
    if (!ctx)
        return -ENOMEM;
    int r = luks2_hdr_read(&ctx->io, ctx->name, &ctx->h, ctx->state, sizeof ctx->state, NULL,
                           errp);
    const char *secret = opts ? strata_opts_get(opts, "key-secret") : NULL;
    if (r == 0 && !(flags & STRATA_O_NO_IO)) {
        if (!secret) {
            r = strata_error_set(errp, EINVAL, "%s: the LUKS volume is encrypted: "
                                 "option 'key-secret' is required to open it for I/O",
                                 ctx->name);
        } else {
            uint8_t *pass = NULL, vk[LUKS2_MAX_KEY];
            size_t passlen = 0;
            uint64_t slot = UINT64_MAX;
            if (strata_opts_get(opts, "keyslot") &&
                (r = strata_opts_get_u64(opts, "keyslot", &slot, errp)) == 0 &&
                (slot >= LUKS2_MAX_SLOTS || ctx->h.slots[slot].id < 0))
                r = strata_error_set(errp, EINVAL, "%s: keyslot %" PRIu64 " is not an "
                                     "active keyslot", ctx->name, slot);
            if (r == 0)
                r = luks2_get_pass(secret, "key-secret", &pass, &passlen, errp);
            if (r == 0)
                r = luks2_unlock(&ctx->io, ctx->name, &ctx->h,
                                 slot == UINT64_MAX ? -1 : (int)slot, pass, passlen, vk,
                                 errp);
            if (r >= 0)
                r = luks2_set_key(ctx, vk, errp);
            strata_wipe(vk, sizeof vk);
            if (pass)
                strata_secret_free(pass, passlen);
        }
    }
    if (r < 0) {
        luks2_ctx_free(ctx);
        return r;
    }
    *out = ctx;
    return 0;
}

static void luks2_close(struct strata_crypto_ctx *ctx)
{
    luks2_ctx_free(ctx);
}

static void luks2_get_cipher(struct strata_crypto_ctx *ctx, struct strata_cipher **cipher,
                             uint64_t *payload_offset, uint32_t *sector_size)
{
    if (cipher)
        *cipher = ctx->cipher;
    if (payload_offset)
        *payload_offset = ctx->h.seg_offset;
    if (sector_size)
        *sector_size = ctx->h.sector_size;
}

/* dm-crypt without iv_large_sectors, as cryptsetup sets up LUKS2: IVs count
 * 512-byte units whatever the sector size, from iv_tweak. */
static void luks2_get_payload(struct strata_crypto_ctx *ctx, struct strata_crypto_payload *p)
{
    p->size = ctx->h.seg_size;
    p->iv_offset = ctx->h.iv_tweak;
    p->iv_unit = LUKS2_SECTOR;
}

/* Both header copies and the keyslots area: what cryptsetup's
 * luksHeaderBackup saves. */
static uint64_t luks2_header_length(struct strata_crypto_ctx *ctx)
{
    return 2 * ctx->h.bin.hdr_size + ctx->h.keyslots_size;
}

static int luks2_probe(const uint8_t *buf, size_t len)
{
    static const uint8_t m[8] = { 'L', 'U', 'K', 'S', 0xba, 0xbe, 0, 2 };
    return len >= sizeof m && memcmp(buf, m, sizeof m) == 0 ? 100 : 0;
}

static int luks2_read_version(const struct strata_crypto_hdr_io *io, uint32_t *version,
                              struct strata_error **errp)
{
    uint8_t buf[8];
    *version = 0;
    if (io->size && io->size < sizeof buf)
        return 0;
    int r = io->read(io->opaque, 0, buf, sizeof buf, errp);
    if (r == 0 && luks2_probe(buf, sizeof buf))
        *version = 2;
    return r;
}

const struct strata_crypto_format luks2_format = {
    STRATA_CRYPTO_FORMAT_HEAD,
    .name = "luks2",
    .description = "LUKS2 (cryptsetup's default on-disk format)",
    .create_options = luks2_create_opts,
    .open_options = luks2_open_opts,
    .amend_options = luks2_amend_opts,
    .probe = luks2_probe,
    .header_size = luks2_header_size,
    .create = luks2_create,
    .open = luks2_open,
    .close = luks2_close,
    .get_cipher = luks2_get_cipher,
    .header_length = luks2_header_length,
    .get_info = luks2_get_info,
    .amend = luks2_amend,
    .erase = luks2_erase,
    .family = "luks",
    .version = 2,
    .get_payload = luks2_get_payload,
    .read_version = luks2_read_version,
    .check = luks2_check,
    .export_layout = luks2_export_layout,
    .import_layout = luks2_import_layout,
};

STRATA_PLUGIN("luks2", .crypto_formats = STRATA_CRYPTO_FORMATS(&luks2_format));
