/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ripemd160.c - RIPEMD-160 (Dobbertin, Bosselaers, Preneel 1996). */
#include "gcrypt-hash.h"

/* Digest of "abc": the RIPEMD-160 paper's test vectors. */
GCRYPT_HASH(ripemd160, GCRY_MD_RMD160, "ripemd160", 20, 64,
            "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc")

STRATA_PLUGIN("hash-ripemd160", .hashes = STRATA_HASHES(&ripemd160_alg));
