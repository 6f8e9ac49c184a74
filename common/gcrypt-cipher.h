/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gcrypt-cipher.h - what the libgcrypt-backed cipher modules share: a
 * context holding one libgcrypt handle (in its secure memory), the four
 * modes done natively, and a known-answer self-test runner (gcrypt-cipher.c).
 *
 * Each module includes this once and defines its setkey with
 * GCRYPT_CIPHER_SETKEY(name_setkey, GCRY_CIPHER_...).  libgcrypt has been
 * initialised by the core before any module is loaded. */
#ifndef STRATA_COMMON_GCRYPT_CIPHER_H
#define STRATA_COMMON_GCRYPT_CIPHER_H

#include <strata/cipher.h>
#include <strata/plugin.h>

#include <gcrypt.h>

struct gcc_ctx {
    gcry_cipher_hd_t hd;
    enum strata_cipher_mode mode;
    unsigned blk;
};

#define GCC_NATIVE_MODES                                                  \
    (STRATA_MODE_BIT(STRATA_MODE_ECB) | STRATA_MODE_BIT(STRATA_MODE_CBC) | \
     STRATA_MODE_BIT(STRATA_MODE_XTS) | STRATA_MODE_BIT(STRATA_MODE_CTR))

int gcc_setkey(int algo, void *ctx, enum strata_cipher_mode mode, const uint8_t *key,
               size_t keylen, struct strata_error **errp);
void gcc_destroy(void *ctx);
int gcc_encrypt(void *ctx, const uint8_t *iv, void *out, const void *in, size_t len);
int gcc_decrypt(void *ctx, const uint8_t *iv, void *out, const void *in, size_t len);

#define GCRYPT_CIPHER_SETKEY(fn, algo)                                        \
    static int fn(void *ctx, enum strata_cipher_mode mode, const uint8_t *key, \
                  size_t keylen, struct strata_error **errp)                  \
    {                                                                         \
        return gcc_setkey(algo, ctx, mode, key, keylen, errp);                \
    }

/* ------------------------------------------------------------ self-test */
struct gcc_kat {
    enum strata_cipher_mode mode;
    const char *key, *iv, *pt, *ct;     /* hex; iv NULL for ECB */
};

/* Runs every vector through the descriptor's own callbacks, both ways. */
int gcc_selftest_run(const struct strata_cipher_alg *alg, const struct gcc_kat *kats,
                     struct strata_error **errp);

#endif
