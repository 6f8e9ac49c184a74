/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gcrypt-cipher.h - what the libgcrypt-backed cipher modules share: a
 * context holding one libgcrypt handle (in its secure memory), the four
 * modes done natively, and a known-answer self-test runner.
 *
 * Each module includes this once and defines its setkey with
 * GCRYPT_CIPHER_SETKEY(name_setkey, GCRY_CIPHER_...).  libgcrypt has been
 * initialised by the core before any module is loaded. */
#ifndef STRATA_CIPHERS_GCRYPT_CIPHER_H
#define STRATA_CIPHERS_GCRYPT_CIPHER_H

#include <strata/cipher.h>
#include <strata/plugin.h>

#include <errno.h>
#include <gcrypt.h>
#include <string.h>

struct gcc_ctx {
    gcry_cipher_hd_t hd;
    enum strata_cipher_mode mode;
    unsigned blk;
};

#define GCC_NATIVE_MODES                                                  \
    (STRATA_MODE_BIT(STRATA_MODE_ECB) | STRATA_MODE_BIT(STRATA_MODE_CBC) | \
     STRATA_MODE_BIT(STRATA_MODE_XTS) | STRATA_MODE_BIT(STRATA_MODE_CTR))

static int gcc_setkey(int algo, void *ctx, enum strata_cipher_mode mode,
                      const uint8_t *key, size_t keylen, struct strata_error **errp)
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

#define GCRYPT_CIPHER_SETKEY(fn, algo)                                        \
    static int fn(void *ctx, enum strata_cipher_mode mode, const uint8_t *key, \
                  size_t keylen, struct strata_error **errp)                  \
    {                                                                         \
        return gcc_setkey(algo, ctx, mode, key, keylen, errp);                \
    }

static void gcc_destroy(void *ctx)
{
    struct gcc_ctx *c = ctx;
    if (c->hd)
        gcry_cipher_close(c->hd);  /* libgcrypt wipes the key schedule */
    c->hd = NULL;
}

static inline int gcc_start(struct gcc_ctx *c, const uint8_t *iv)
{
    gcry_error_t e = 0;
    if (c->mode == STRATA_MODE_CTR)
        e = gcry_cipher_setctr(c->hd, iv, c->blk);
    else if (c->mode != STRATA_MODE_ECB)
        e = gcry_cipher_setiv(c->hd, iv, c->blk);
    return e ? -EINVAL : 0;
}

static int gcc_encrypt(void *ctx, const uint8_t *iv, void *out, const void *in, size_t len)
{
    struct gcc_ctx *c = ctx;
    if (gcc_start(c, iv) < 0)
        return -EINVAL;
    gcry_error_t e = out == in ? gcry_cipher_encrypt(c->hd, out, len, NULL, 0)
                               : gcry_cipher_encrypt(c->hd, out, len, in, len);
    return e ? -EINVAL : 0;
}

static int gcc_decrypt(void *ctx, const uint8_t *iv, void *out, const void *in, size_t len)
{
    struct gcc_ctx *c = ctx;
    if (gcc_start(c, iv) < 0)
        return -EINVAL;
    gcry_error_t e = out == in ? gcry_cipher_decrypt(c->hd, out, len, NULL, 0)
                               : gcry_cipher_decrypt(c->hd, out, len, in, len);
    return e ? -EINVAL : 0;
}

/* ------------------------------------------------------------ self-test */
struct gcc_kat {
    enum strata_cipher_mode mode;
    const char *key, *iv, *pt, *ct;     /* hex; iv NULL for ECB */
};

static size_t gcc_unhex(const char *s, uint8_t *out, size_t max)
{
    size_t n = 0;
    for (; s[0] && s[1] && n < max; s += 2) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = s[k];
            v = v * 16 + (unsigned)(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
        }
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* Runs every vector through the descriptor's own callbacks, both ways. */
static int gcc_selftest_run(const struct strata_cipher_alg *alg, const struct gcc_kat *kats,
                            struct strata_error **errp)
{
    uint8_t key[64], iv[32], pt[64], ct[64], buf[64];
    struct gcc_ctx ctx;
    for (unsigned i = 0; kats[i].key; i++) {
        const struct gcc_kat *k = &kats[i];
        size_t kl = gcc_unhex(k->key, key, sizeof(key));
        size_t len = gcc_unhex(k->pt, pt, sizeof(pt));
        gcc_unhex(k->ct, ct, sizeof(ct));
        memset(iv, 0, sizeof(iv));
        if (k->iv)
            gcc_unhex(k->iv, iv, sizeof(iv));
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

#endif
