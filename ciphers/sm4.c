/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sm4.c - SM4 (GB/T 32907-2016) with a 128-bit key, all four modes natively through libgcrypt. */
#include "gcrypt-cipher.h"

GCRYPT_CIPHER_SETKEY(sm4_setkey, GCRY_CIPHER_SM4)

/* GB/T 32907-2016 appendix A example 1 (also draft-ribose-cfrg-sm4) */
static const struct gcc_kat sm4_kats[] = {
    { STRATA_MODE_ECB, "0123456789abcdeffedcba9876543210", NULL,
      "0123456789abcdeffedcba9876543210", "681edf34d206965e86b3e94f536e4246" },
    { 0 }
};

static int sm4_selftest(struct strata_error **errp);

static const uint16_t sm4_key_sizes[] = { 16, 0 };

static const struct strata_cipher_alg sm4_alg = {
    STRATA_CIPHER_HEAD,
    .name = "sm4",
    .impl_name = "sm4-gcrypt",
    .priority = 100,
    .block_size = 16,
    .key_sizes = sm4_key_sizes,
    .native_modes = GCC_NATIVE_MODES,
    .ctx_size = sizeof(struct gcc_ctx),
    .setkey = sm4_setkey,
    .destroy = gcc_destroy,
    .encrypt = gcc_encrypt,
    .decrypt = gcc_decrypt,
    .selftest = sm4_selftest,
};

static int sm4_selftest(struct strata_error **errp)
{
    return gcc_selftest_run(&sm4_alg, sm4_kats, errp);
}

STRATA_PLUGIN("cipher-sm4", .ciphers = STRATA_CIPHERS(&sm4_alg));
