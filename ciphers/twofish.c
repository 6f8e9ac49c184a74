/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* twofish.c - Twofish with 128 and 256-bit keys (libgcrypt has no 192-bit key schedule), all four modes natively through libgcrypt. */
#include "gcrypt-cipher.h"

GCRYPT_CIPHER_SETKEY(twofish_setkey, GCRY_CIPHER_TWOFISH)

/* Twofish paper (Schneier et al. 1998), appendix test vectors */
static const struct gcc_kat twofish_kats[] = {
    { STRATA_MODE_ECB, "00000000000000000000000000000000", NULL,
      "00000000000000000000000000000000", "9f589f5cf6122c32b6bfec2f2ae8c35a" },
    { STRATA_MODE_ECB, "0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff",
      NULL, "00000000000000000000000000000000", "37527be0052334b89f0cfccae87cfa20" },
    { 0 }
};

static int twofish_selftest(struct strata_error **errp);

static const uint16_t twofish_key_sizes[] = { 16, 32, 0 };

static const struct strata_cipher_alg twofish_alg = {
    STRATA_CIPHER_HEAD,
    .name = "twofish",
    .impl_name = "twofish-gcrypt",
    .priority = 100,
    .block_size = 16,
    .key_sizes = twofish_key_sizes,
    .native_modes = GCC_NATIVE_MODES,
    .ctx_size = sizeof(struct gcc_ctx),
    .setkey = twofish_setkey,
    .destroy = gcc_destroy,
    .encrypt = gcc_encrypt,
    .decrypt = gcc_decrypt,
    .selftest = twofish_selftest,
};

static int twofish_selftest(struct strata_error **errp)
{
    return gcc_selftest_run(&twofish_alg, twofish_kats, errp);
}

STRATA_PLUGIN("cipher-twofish", .ciphers = STRATA_CIPHERS(&twofish_alg));
