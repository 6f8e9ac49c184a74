/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serpent.c - Serpent with 128/192/256-bit keys, all four modes natively through libgcrypt. */
#include "gcrypt-cipher.h"

GCRYPT_CIPHER_SETKEY(serpent_setkey, GCRY_CIPHER_SERPENT256)

/* NESSIE Serpent test vectors (Serpent-{128,192,256}-128.verified.test-vectors), set 1 vector 0 for each key size */
static const struct gcc_kat serpent_kats[] = {
    { STRATA_MODE_ECB, "80000000000000000000000000000000", NULL,
      "00000000000000000000000000000000", "264e5481eff42a4606abda06c0bfda3d" },
    { STRATA_MODE_ECB, "800000000000000000000000000000000000000000000000", NULL,
      "00000000000000000000000000000000", "9e274ead9b737bb21efcfca548602689" },
    { STRATA_MODE_ECB, "8000000000000000000000000000000000000000000000000000000000000000",
      NULL, "00000000000000000000000000000000", "a223aa1288463c0e2be38ebd825616c0" },
    { 0 }
};

static int serpent_selftest(struct strata_error **errp);

static const uint16_t serpent_key_sizes[] = { 16, 24, 32, 0 };

static const struct strata_cipher_alg serpent_alg = {
    STRATA_CIPHER_HEAD,
    .name = "serpent",
    .impl_name = "serpent-gcrypt",
    .priority = 100,
    .block_size = 16,
    .key_sizes = serpent_key_sizes,
    .native_modes = GCC_NATIVE_MODES,
    .ctx_size = sizeof(struct gcc_ctx),
    .setkey = serpent_setkey,
    .destroy = gcc_destroy,
    .encrypt = gcc_encrypt,
    .decrypt = gcc_decrypt,
    .selftest = serpent_selftest,
};

static int serpent_selftest(struct strata_error **errp)
{
    return gcc_selftest_run(&serpent_alg, serpent_kats, errp);
}

STRATA_PLUGIN("cipher-serpent", .ciphers = STRATA_CIPHERS(&serpent_alg));
