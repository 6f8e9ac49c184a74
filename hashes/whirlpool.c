/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* whirlpool.c - Whirlpool (ISO/IEC 10118-3:2004), as cryptsetup offers it. */
#include "gcrypt-hash.h"

/* Digest of "abc": ISO/IEC 10118-3 / NESSIE Whirlpool test vectors. */
GCRYPT_HASH(whirlpool, GCRY_MD_WHIRLPOOL, "whirlpool", 64, 64,
            "4e2448a4c6f486bb16b6562c73b4020bf3043e3a731bce721ae1b303d97e6d4c"
            "7181eebdb6c57e277d0e34957114cbd6c797fc9d95d8b582d225292076d4eef5")

STRATA_PLUGIN("hash-whirlpool", .hashes = STRATA_HASHES(&whirlpool_alg));
