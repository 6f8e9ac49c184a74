/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* afsplit.c - the anti-forensic information splitter of the LUKS1
 * on-disk format specification (version 1.2.3, section 2.4):
 *
 *   split:  d = 0; for i < stripes-1: s_i random, d = H(d ^ s_i);
 *           s_last = d ^ D
 *   merge:  d = 0; for i < stripes-1: d = H(d ^ s_i); D = d ^ s_last
 *
 * where H hashes the block in digest-sized pieces, piece j replaced by
 * hash(be32(j) || piece_j), the last piece truncated to its length. */
#include "crypto-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One hash context for the whole block (init starts each piece afresh): a
 * merge diffuses thousands of stripes. */
static int af_diffuse(const struct strata_hash_alg *alg, uint8_t *block, size_t size)
{
    size_t ds = alg->digest_size;
    uint8_t digest[STRATA_CRYPTO_MAX_DIGEST];
    void *ctx = strata_crypto_ctx_alloc(alg->ctx_size);
    if (!ctx)
        return -ENOMEM;
    int ret = 0;
    uint32_t j = 0;
    for (size_t off = 0; off < size; off += ds, j++) {
        size_t n = size - off < ds ? size - off : ds;
        uint8_t be[4] = { (uint8_t)(j >> 24), (uint8_t)(j >> 16), (uint8_t)(j >> 8),
                          (uint8_t)j };
        ret = alg->init(ctx);
        if (ret < 0)
            break;
        alg->update(ctx, be, 4);
        alg->update(ctx, block + off, n);
        alg->final(ctx, digest);
        memcpy(block + off, digest, n);
    }
    strata_crypto_ctx_free(ctx, alg->ctx_size);
    strata_wipe(digest, sizeof(digest));
    return ret;
}

static int af_check(const char *hash, size_t blocksize, unsigned stripes,
                    const struct strata_hash_alg **algp, struct strata_error **errp)
{
    if (blocksize == 0 || stripes == 0)
        return strata_error_set(errp, EINVAL, "AF splitter: %s of zero",
                                blocksize ? "stripe count" : "block size");
    if (stripes > SIZE_MAX / blocksize)
        return strata_error_set(errp, EINVAL, "AF splitter: %u stripes of %zu bytes too large",
                                stripes, blocksize);
    *algp = strata_crypto_hash_find(hash, errp);
    return *algp ? 0 : -ENOENT;
}

/* A word at a time where it can: an instrumented build pays for every
 * turn of the loop. */
static void xor_block(uint8_t *d, const uint8_t *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t a, b;
        memcpy(&a, d + i, 8);
        memcpy(&b, s + i, 8);
        a ^= b;
        memcpy(d + i, &a, 8);
    }
    for (; i < n; i++)
        d[i] ^= s[i];
}

int strata_af_split(const char *hash, const uint8_t *src, size_t blocksize,
                    unsigned stripes, uint8_t *dst, struct strata_error **errp)
{
    const struct strata_hash_alg *alg;
    int ret = af_check(hash, blocksize, stripes, &alg, errp);
    if (ret < 0)
        return ret;
    uint8_t *d = strata_crypto_ctx_alloc(blocksize);
    if (!d)
        return strata_error_set(errp, ENOMEM, "AF splitter: out of secure memory");
    for (unsigned i = 0; i + 1 < stripes && ret == 0; i++) {
        uint8_t *s = dst + (size_t)i * blocksize;
        ret = strata_random_bytes(s, blocksize, errp);
        if (ret == 0) {
            xor_block(d, s, blocksize);
            ret = af_diffuse(alg, d, blocksize);
        }
    }
    if (ret == 0) {
        uint8_t *last = dst + (size_t)(stripes - 1) * blocksize;
        for (size_t k = 0; k < blocksize; k++)
            last[k] = d[k] ^ src[k];
    }
    strata_crypto_ctx_free(d, blocksize);
    if (ret < 0)
        strata_error_set(errp, -ret, "AF splitter (%s): split failed", hash);
    return ret;
}

int strata_af_merge(const char *hash, const uint8_t *src, size_t blocksize,
                    unsigned stripes, uint8_t *dst, struct strata_error **errp)
{
    const struct strata_hash_alg *alg;
    int ret = af_check(hash, blocksize, stripes, &alg, errp);
    if (ret < 0)
        return ret;
    uint8_t *d = strata_crypto_ctx_alloc(blocksize);
    if (!d)
        return strata_error_set(errp, ENOMEM, "AF splitter: out of secure memory");
    for (unsigned i = 0; i + 1 < stripes && ret == 0; i++) {
        xor_block(d, src + (size_t)i * blocksize, blocksize);
        ret = af_diffuse(alg, d, blocksize);
    }
    if (ret == 0) {
        const uint8_t *last = src + (size_t)(stripes - 1) * blocksize;
        for (size_t k = 0; k < blocksize; k++)
            dst[k] = d[k] ^ last[k];
    }
    strata_crypto_ctx_free(d, blocksize);
    if (ret < 0)
        return strata_error_set(errp, -ret, "AF splitter (%s): merge failed", hash);
    return 0;
}
