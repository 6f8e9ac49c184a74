/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* md5.c - MD5 (RFC 1321), for reading old LUKS volumes and HMAC-MD5. */
#include "gcrypt-hash.h"

/* Digest of "abc": RFC 1321 appendix A.5. */
GCRYPT_HASH(md5, GCRY_MD_MD5, "md5", 16, 64, "900150983cd24fb0d6963f7d28e17f72")

STRATA_PLUGIN("hash-md5", .hashes = STRATA_HASHES(&md5_alg));
