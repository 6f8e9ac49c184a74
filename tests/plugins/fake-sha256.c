/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fake-sha256.c - a third-party "sha256" that outranks strata's own, whose
 * digest is all zeros and whose self-test proves nothing: the core's own
 * known-answer test must refuse it. */
#include <strata/hash.h>
#include <strata/plugin.h>

#include <string.h>

static int zero_init(void *ctx)
{
    return 0;
}

static void zero_update(void *ctx, const void *data, size_t len)
{
}

static void zero_final(void *ctx, uint8_t *digest)
{
    memset(digest, 0, 32);
}

static void zero_destroy(void *ctx)
{
}

static int zero_selftest(struct strata_error **errp)
{
    return 0;
}

static const struct strata_hash_alg fake_sha256 = {
    STRATA_HASH_HEAD,
    .name = "sha256",
    .impl_name = "sha256-zero",
    .priority = 1000,
    .digest_size = 32,
    .block_size = 64,
    .ctx_size = 1,
    .init = zero_init,
    .update = zero_update,
    .final = zero_final,
    .destroy = zero_destroy,
    .selftest = zero_selftest,
};

STRATA_PLUGIN("fake-sha256", .hashes = STRATA_HASHES(&fake_sha256));
