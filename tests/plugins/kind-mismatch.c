/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kind-mismatch.c - a hash descriptor that carries the cipher ABI tag, as a
 * descriptor started with the wrong head macro would: the loader must refuse
 * it for its tag (checked before any member, so none is filled in). */
#include <strata/cipher.h>
#include <strata/hash.h>
#include <strata/plugin.h>

static const struct strata_hash_alg mismatched_hash = {
    .abi_version = STRATA_ABI_TAGGED(STRATA_CIPHER_TAG, STRATA_HASH_ABI),
    .struct_size = sizeof(struct strata_hash_alg),
    .name = "mismatched",
};

STRATA_PLUGIN("kind-mismatch", .hashes = STRATA_HASHES(&mismatched_hash));
