/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gcrypt-cipher.c - the cipher callbacks on one libgcrypt handle and the
 * known-answer self-test runner of the libgcrypt-backed cipher modules. */
#include "gcrypt-cipher.h"

#include <errno.h>
#include <string.h>

#include "hex.h"

int gcc_setkey(int algo, void *ctx, enum strata_cipher_mode mode, const uint8_t *key,
               size_t keylen, struct strata_error **errp)
{
    struct gcc_ctx *c = ctx;
    int gmode;
    switch (mode) {
    case STRATA_MODE_ECB: gmode = GCRY_CIPHER_MODE_ECB; break;
    case STRATA_MODE_CBC: gmode = GCRY_CIPHER_MODE_CBC; break;
    case STRATA_MODE_XTS: gmode = GCRY_CIPHER_MODE_XTS; break;
    case STRATA_MODE_CTR: gmode = GCRY_CIPHER_MODE_CTR; break;
    default:
        return strata_error_set(errp, EINVAL, "%s: mode %d not supported",
                                gcry_cipher_algo_name(algo), (int)mode);
    }
    gcry_error_t e = gcry_cipher_open(&c->hd, algo, gmode, GCRY_CIPHER_SECURE);
    if (e)
        return strata_error_set(errp, EINVAL, "libgcrypt %s: %s",
                                gcry_cipher_algo_name(algo), gcry_strerror(e));
    e = gcry_cipher_setkey(c->hd, key, keylen);
    if (e) {
        gcry_cipher_close(c->hd);
        c->hd = NULL;
        return strata_error_set(errp, EINVAL, "libgcrypt %s: key of %zu bytes: %s",
                                gcry_cipher_algo_name(algo), keylen, gcry_strerror(e));
    }
    c->mode = mode;
    c->blk = (unsigned)gcry_cipher_get_algo_blklen(algo);
    return 0;
}

void gcc_destroy(void *ctx)
{
    struct gcc_ctx *c = ctx;
    if (c->hd)
        gcry_cipher_close(c->hd);  /* libgcrypt wipes the key schedule */
    c->hd = NULL;
}

static int gcc_start(struct gcc_ctx *c, const uint8_t *iv)
{
    gcry_error_t e = 0;
    if (c->mode == STRATA_MODE_CTR)
        e = gcry_cipher_setctr(c->hd, iv, c->blk);
    else if (c->mode != STRATA_MODE_ECB)
        e = gcry_cipher_setiv(c->hd, iv, c->blk);
    return e ? -EINVAL : 0;
}

int gcc_encrypt(void *ctx, const uint8_t *iv, void *out, const void *in, size_t len)
{
    struct gcc_ctx *c = ctx;
    if (gcc_start(c, iv) < 0)
        return -EINVAL;
    gcry_error_t e = out == in ? gcry_cipher_encrypt(c->hd, out, len, NULL, 0)
                               : gcry_cipher_encrypt(c->hd, out, len, in, len);
    return e ? -EINVAL : 0;
}

int gcc_decrypt(void *ctx, const uint8_t *iv, void *out, const void *in, size_t len)
{
    struct gcc_ctx *c = ctx;
    if (gcc_start(c, iv) < 0)
        return -EINVAL;
    gcry_error_t e = out == in ? gcry_cipher_decrypt(c->hd, out, len, NULL, 0)
                               : gcry_cipher_decrypt(c->hd, out, len, in, len);
    return e ? -EINVAL : 0;
}

int gcc_selftest_run(const struct strata_cipher_alg *alg, const struct gcc_kat *kats,
                     struct strata_error **errp)
{
    uint8_t key[64], iv[32], pt[64], ct[64], buf[64];
    struct gcc_ctx ctx;
    for (unsigned i = 0; kats[i].key; i++) {
        const struct gcc_kat *k = &kats[i];
        size_t kl = hex_decode(k->key, key, sizeof(key));
        size_t len = hex_decode(k->pt, pt, sizeof(pt));
        hex_decode(k->ct, ct, sizeof(ct));
        memset(iv, 0, sizeof(iv));
        if (k->iv)
            hex_decode(k->iv, iv, sizeof(iv));
        memset(&ctx, 0, sizeof(ctx));
        int ret = alg->setkey(&ctx, k->mode, key, kl, errp);
        if (ret < 0)
            return ret;
        bool ok = alg->encrypt(&ctx, iv, buf, pt, len) == 0 && memcmp(buf, ct, len) == 0;
        ok = ok && alg->decrypt(&ctx, iv, buf, buf, len) == 0 && memcmp(buf, pt, len) == 0;
        alg->destroy(&ctx);
        if (!ok)
            return strata_error_set(errp, EIO, "%s: self-test vector %u (%zu-bit key) failed",
                                    alg->impl_name, i + 1, kl * 8);
    }
    return 0;
}
