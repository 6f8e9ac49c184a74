/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cast5.c - CAST-128 (RFC 2144) with a 128-bit key, an 8-byte block, all four modes natively through libgcrypt. */
#include "gcrypt-cipher.h"

GCRYPT_CIPHER_SETKEY(cast5_setkey, GCRY_CIPHER_CAST5)

/* RFC 2144 appendix B.1, 128-bit key */
static const struct gcc_kat cast5_kats[] = {
    { STRATA_MODE_ECB, "0123456712345678234567893456789a", NULL,
      "0123456789abcdef", "238b4fe5847e44b2" },
    { 0 }
};

static int cast5_selftest(struct strata_error **errp);

static const uint16_t cast5_key_sizes[] = { 16, 0 };

static const struct strata_cipher_alg cast5_alg = {
    STRATA_CIPHER_HEAD,
    .name = "cast5",
    .impl_name = "cast5-gcrypt",
    .priority = 100,
    .block_size = 8,
    .key_sizes = cast5_key_sizes,
    .native_modes = GCC_NATIVE_MODES,
    .ctx_size = sizeof(struct gcc_ctx),
    .setkey = cast5_setkey,
    .destroy = gcc_destroy,
    .encrypt = gcc_encrypt,
    .decrypt = gcc_decrypt,
    .selftest = cast5_selftest,
};

static int cast5_selftest(struct strata_error **errp)
{
    return gcc_selftest_run(&cast5_alg, cast5_kats, errp);
}

STRATA_PLUGIN("cipher-cast5", .ciphers = STRATA_CIPHERS(&cast5_alg));
