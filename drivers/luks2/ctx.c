/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ctx.c - an opened LUKS2 header's context: made, keyed and freed here, so
 * that opening, creating and amending share it without depending on each
 * other. */
#include "luks2-format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void luks2_ctx_free(struct strata_crypto_ctx *ctx)
{
    if (!ctx)
        return;
    strata_cipher_free(ctx->cipher);
    if (ctx->vk)
        strata_secure_free(ctx->vk, LUKS2_MAX_KEY);
    luks2_hdr_free(&ctx->h);
    free(ctx->name);
    strata_wipe(ctx, sizeof *ctx);
    free(ctx);
}

struct strata_crypto_ctx *luks2_ctx_new(const struct strata_crypto_hdr_io *io,
                                        struct strata_error **errp)
{
    struct strata_crypto_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx || !(ctx->name = strdup(io->name ? io->name : "LUKS2 header"))) {
        free(ctx);
        strata_error_set(errp, ENOMEM, "out of memory");
        return NULL;
    }
    ctx->io = *io;
    return ctx;
}

int luks2_get_pass(const char *id, const char *opt, uint8_t **pass, size_t *len,
                   struct strata_error **errp)
{
    int r = strata_secret_get(id, pass, len, errp);
    if (r < 0)
        strata_error_prefix(errp, "luks2: %s", opt);
    return r;
}

int luks2_set_key(struct strata_crypto_ctx *ctx, const uint8_t *vk,
                  struct strata_error **errp)
{
    if (!ctx->vk && !(ctx->vk = strata_secure_alloc(LUKS2_MAX_KEY)))
        return strata_error_set(errp, ENOMEM, "out of secure memory");
    memcpy(ctx->vk, vk, ctx->h.key_size);
    strata_cipher_free(ctx->cipher);
    ctx->cipher = NULL;
    int r = strata_cipher_open_spec(&ctx->h.spec, ctx->vk, ctx->h.key_size, &ctx->cipher,
                                    errp);
    if (r < 0)
        strata_error_prefix(errp, "%s", ctx->name);
    return r;
}
