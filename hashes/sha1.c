/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sha1.c - SHA-1 (FIPS 180-4), the LUKS1 default hash of old volumes. */
#include "gcrypt-hash.h"

/* Digest of "abc": FIPS 180-2 appendix A.1. */
GCRYPT_HASH(sha1, GCRY_MD_SHA1, "sha1", 20, 64, "a9993e364706816aba3e25717850c26c9cd0d89d")

STRATA_PLUGIN("hash-sha1", .hashes = STRATA_HASHES(&sha1_alg));
