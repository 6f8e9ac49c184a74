/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* abi-untagged.c - a hash descriptor as plugins built before kind tags wrote
 * it: a plain 1.0 version with no tag.  It must still load. */
#include <strata/hash.h>
#include <strata/plugin.h>

#include <string.h>

struct ut_ctx {
    uint32_t sum;
};

static int ut_init(void *ctx)
{
    ((struct ut_ctx *)ctx)->sum = 0;
    return 0;
}

static void ut_update(void *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++)
        ((struct ut_ctx *)ctx)->sum += p[i];
}

static void ut_final(void *ctx, uint8_t *digest)
{
    memcpy(digest, &((struct ut_ctx *)ctx)->sum, 4);
}

static void ut_destroy(void *ctx)
{
}

static int ut_selftest(struct strata_error **errp)
{
    return 0;
}

static const struct strata_hash_alg untagged_hash = {
    .abi_version = 1 << 16 | 0,
    .struct_size = sizeof(struct strata_hash_alg),
    .name = "untagged",
    .impl_name = "untagged-sum",
    .digest_size = 4,
    .block_size = 64,
    .ctx_size = sizeof(struct ut_ctx),
    .init = ut_init,
    .update = ut_update,
    .final = ut_final,
    .destroy = ut_destroy,
    .selftest = ut_selftest,
};

STRATA_PLUGIN("abi-untagged", .hashes = STRATA_HASHES(&untagged_hash));
