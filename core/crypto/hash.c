/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hash.c - digests and HMAC over any registered hash plugin. */
#include "crypto-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct strata_hash {
    const struct strata_hash_alg *alg;
    void *ctx;
};

const struct strata_hash_alg *strata_crypto_hash_find(const char *name,
                                                     struct strata_error **errp)
{
    const struct strata_hash_alg *alg = strata_hash_alg_find(name, errp);
    if (!alg)
        strata_error_set(errp, ENOENT, "unknown hash '%s'", name ? name : "");
    else if (alg->digest_size == 0 || alg->digest_size > STRATA_CRYPTO_MAX_DIGEST ||
             alg->block_size == 0 || alg->block_size > STRATA_CRYPTO_MAX_HASH_BLOCK) {
        strata_error_set(errp, EINVAL, "%s: digest of %u bytes or block of %u bytes "
                         "not supported", alg->name, alg->digest_size, alg->block_size);
        return NULL;
    }
    return alg;
}

int strata_hash_digest_size(const char *name, struct strata_error **errp)
{
    const struct strata_hash_alg *alg = strata_crypto_hash_find(name, errp);
    return alg ? (int)alg->digest_size : -ENOENT;
}

static int ctx_start(const struct strata_hash_alg *alg, void **ctxp)
{
    void *ctx = strata_crypto_ctx_alloc(alg->ctx_size);
    if (!ctx)
        return -ENOMEM;
    int ret = alg->init(ctx);
    if (ret < 0) {
        strata_crypto_ctx_free(ctx, alg->ctx_size);
        return ret;
    }
    *ctxp = ctx;
    return 0;
}

/* final() releases what init() acquired; the memory is ours. */
static void ctx_finish(const struct strata_hash_alg *alg, void *ctx, uint8_t *digest)
{
    alg->final(ctx, digest);
    strata_crypto_ctx_free(ctx, alg->ctx_size);
}

static void ctx_drop(const struct strata_hash_alg *alg, void *ctx)
{
    if (ctx) {
        alg->destroy(ctx);
        strata_crypto_ctx_free(ctx, alg->ctx_size);
    }
}

int strata_hash_alg_digest(const struct strata_hash_alg *alg, const void *data, size_t len,
                           uint8_t *digest)
{
    void *ctx;
    int ret = ctx_start(alg, &ctx);
    if (ret < 0)
        return ret;
    alg->update(ctx, data, len);
    ctx_finish(alg, ctx, digest);
    return 0;
}

int strata_hash_open(const char *name, struct strata_hash **out, struct strata_error **errp)
{
    *out = NULL;
    const struct strata_hash_alg *alg = strata_crypto_hash_find(name, errp);
    if (!alg)
        return -ENOENT;
    struct strata_hash *h = calloc(1, sizeof(*h));
    if (!h)
        return strata_error_set(errp, ENOMEM, "%s: out of memory", name);
    h->alg = alg;
    int ret = ctx_start(alg, &h->ctx);
    if (ret < 0) {
        free(h);
        return strata_error_set(errp, -ret, "%s: starting a digest failed", name);
    }
    *out = h;
    return 0;
}

void strata_hash_update(struct strata_hash *h, const void *data, size_t len)
{
    h->alg->update(h->ctx, data, len);
}

int strata_hash_copy(const struct strata_hash *h, struct strata_hash **out,
                     struct strata_error **errp)
{
    *out = NULL;
    if (!h->alg->copy)
        return strata_error_set(errp, ENOTSUP, "%s: the plugin cannot copy a digest state",
                                h->alg->name);
    struct strata_hash *c = calloc(1, sizeof(*c));
    if (c)
        c->ctx = strata_crypto_ctx_alloc(h->alg->ctx_size);
    if (!c || !c->ctx) {
        free(c);
        return strata_error_set(errp, ENOMEM, "%s: out of memory", h->alg->name);
    }
    c->alg = h->alg;
    int ret = h->alg->copy(c->ctx, h->ctx);
    if (ret < 0) {
        strata_crypto_ctx_free(c->ctx, h->alg->ctx_size);
        free(c);
        return strata_error_set(errp, -ret, "%s: copying a digest state failed",
                                h->alg->name);
    }
    *out = c;
    return 0;
}

void strata_hash_final(struct strata_hash *h, uint8_t *digest)
{
    ctx_finish(h->alg, h->ctx, digest);
    free(h);
}

void strata_hash_abort(struct strata_hash *h)
{
    if (!h)
        return;
    ctx_drop(h->alg, h->ctx);
    free(h);
}

int strata_hash_buf(const char *name, const void *data, size_t len, uint8_t *digest,
                    struct strata_error **errp)
{
    const struct strata_hash_alg *alg = strata_crypto_hash_find(name, errp);
    if (!alg)
        return -ENOENT;
    int ret = strata_hash_alg_digest(alg, data, len, digest);
    if (ret < 0)
        return strata_error_set(errp, -ret, "%s: digest failed", name);
    return 0;
}

/* ------------------------------------------------------------ HMAC */
int strata_hmac_start(const struct strata_hash_alg *alg, const void *key, size_t keylen,
                      void **ictx, void **octx)
{
    uint8_t k0[STRATA_CRYPTO_MAX_HASH_BLOCK];
    uint8_t pad[STRATA_CRYPTO_MAX_HASH_BLOCK];
    size_t bs = alg->block_size;
    int ret = 0;

    *ictx = *octx = NULL;
    memset(k0, 0, bs);
    if (keylen > bs)
        ret = strata_hash_alg_digest(alg, key, keylen, k0);
    else if (keylen)
        memcpy(k0, key, keylen);
    if (ret == 0)
        ret = ctx_start(alg, ictx);
    if (ret == 0)
        ret = ctx_start(alg, octx);
    if (ret == 0) {
        for (size_t i = 0; i < bs; i++)
            pad[i] = k0[i] ^ 0x36;
        alg->update(*ictx, pad, bs);
        for (size_t i = 0; i < bs; i++)
            pad[i] = k0[i] ^ 0x5c;
        alg->update(*octx, pad, bs);
    } else {
        ctx_drop(alg, *ictx);
        ctx_drop(alg, *octx);
        *ictx = *octx = NULL;
    }
    strata_wipe(k0, sizeof(k0));
    strata_wipe(pad, sizeof(pad));
    return ret;
}

void strata_hmac_finish(const struct strata_hash_alg *alg, void *ictx, void *octx,
                        uint8_t *mac)
{
    uint8_t inner[STRATA_CRYPTO_MAX_DIGEST];
    ctx_finish(alg, ictx, inner);
    alg->update(octx, inner, alg->digest_size);
    ctx_finish(alg, octx, mac);
    strata_wipe(inner, sizeof(inner));
}

void strata_hmac_drop(const struct strata_hash_alg *alg, void *ctx)
{
    ctx_drop(alg, ctx);
}

int strata_hmac(const char *hash, const void *key, size_t keylen, const void *data,
                size_t len, uint8_t *mac, struct strata_error **errp)
{
    const struct strata_hash_alg *alg = strata_crypto_hash_find(hash, errp);
    if (!alg)
        return -ENOENT;
    void *ictx, *octx;
    int ret = strata_hmac_start(alg, key, keylen, &ictx, &octx);
    if (ret < 0)
        return strata_error_set(errp, -ret, "hmac(%s): starting failed", hash);
    alg->update(ictx, data, len);
    strata_hmac_finish(alg, ictx, octx, mac);
    return 0;
}
