/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aes.c - AES (FIPS 197) with 128/192/256-bit keys, all four modes natively
 * through libgcrypt (which uses AES-NI/VAES where the CPU has them). */
#include "gcrypt-cipher.h"

GCRYPT_CIPHER_SETKEY(aes_setkey, GCRY_CIPHER_AES)

/* FIPS 197 appendix C; NIST SP 800-38A F.2.1 (first block); IEEE 1619-2007
 * XTS-AES vector 1. */
static const struct gcc_kat aes_kats[] = {
    { STRATA_MODE_ECB, "000102030405060708090a0b0c0d0e0f", NULL,
      "00112233445566778899aabbccddeeff", "69c4e0d86a7b0430d8cdb78070b4c55a" },
    { STRATA_MODE_ECB, "000102030405060708090a0b0c0d0e0f1011121314151617", NULL,
      "00112233445566778899aabbccddeeff", "dda97ca4864cdfe06eaf70a0ec0d7191" },
    { STRATA_MODE_ECB, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
      NULL, "00112233445566778899aabbccddeeff", "8ea2b7ca516745bfeafc49904b496089" },
    { STRATA_MODE_CBC, "2b7e151628aed2a6abf7158809cf4f3c", "000102030405060708090a0b0c0d0e0f",
      "6bc1bee22e409f96e93d7e117393172a", "7649abac8119b246cee98e9b12e9197d" },
    { STRATA_MODE_XTS, "0000000000000000000000000000000000000000000000000000000000000000",
      "00000000000000000000000000000000",
      "0000000000000000000000000000000000000000000000000000000000000000",
      "917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e" },
    { 0 }
};

static int aes_selftest(struct strata_error **errp);

static const uint16_t aes_key_sizes[] = { 16, 24, 32, 0 };

static const struct strata_cipher_alg aes_alg = {
    STRATA_CIPHER_HEAD,
    .name = "aes",
    .impl_name = "aes-gcrypt",
    .priority = 100,
    .block_size = 16,
    .key_sizes = aes_key_sizes,
    .native_modes = GCC_NATIVE_MODES,
    .ctx_size = sizeof(struct gcc_ctx),
    .setkey = aes_setkey,
    .destroy = gcc_destroy,
    .encrypt = gcc_encrypt,
    .decrypt = gcc_decrypt,
    .selftest = aes_selftest,
};

static int aes_selftest(struct strata_error **errp)
{
    return gcc_selftest_run(&aes_alg, aes_kats, errp);
}

STRATA_PLUGIN("cipher-aes", .ciphers = STRATA_CIPHERS(&aes_alg));
