/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sha2.c - the SHA-2 family (FIPS 180-4): sha224, sha256, sha384, sha512. */
#include "gcrypt-hash.h"
#include "pbkdf2-sha256.h"

/* PBKDF2-HMAC-SHA256 is what LUKS key slots use by default: on CPUs with the
 * SHA extensions it runs on code of its own, faster than libgcrypt's. */
static int sha256_pbkdf2(const uint8_t *pass, size_t passlen, const uint8_t *salt,
                         size_t saltlen, uint64_t iterations, uint8_t *out, size_t outlen)
{
    if (sha256_x86_available())
        return pbkdf2_sha256_x86(pass, passlen, salt, saltlen, iterations, out, outlen);
    return gch_pbkdf2(GCRY_MD_SHA256, pass, passlen, salt, saltlen, iterations, out, outlen);
}

/* Digests of "abc": FIPS 180-2 appendices B.1, C.1 and change notice
 * (SHA-224), D.1. */
GCRYPT_HASH(sha224, GCRY_MD_SHA224, "sha224", 28, 64,
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7")
/* The PBKDF2 value: Python's hashlib.pbkdf2_hmac("sha256", b"passwd",
 * b"salt", 3, 32), an implementation independent of both used here. */
GCRYPT_HASH_WITH_PBKDF2(sha256, GCRY_MD_SHA256, "sha256", 32, 64,
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                        sha256_pbkdf2,
                        "92df5c4cd7d900ab0b42336ea617caa1d3440cb93b8e8fb03fe3b31781c723cc")
GCRYPT_HASH(sha384, GCRY_MD_SHA384, "sha384", 48, 128,
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
            "8086072ba1e7cc2358baeca134c825a7")
GCRYPT_HASH(sha512, GCRY_MD_SHA512, "sha512", 64, 128,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")

STRATA_PLUGIN("hash-sha2",
              .hashes = STRATA_HASHES(&sha224_alg, &sha256_alg, &sha384_alg, &sha512_alg));
