/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sm3.c - SM3 (GB/T 32905-2016). */
#include "gcrypt-hash.h"

/* Digest of "abc": GB/T 32905-2016 appendix A.1 (draft-sca-cfrg-sm3). */
GCRYPT_HASH(sm3, GCRY_MD_SM3, "sm3", 32, 64,
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")

STRATA_PLUGIN("hash-sm3", .hashes = STRATA_HASHES(&sm3_alg));
