/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* testmgr.c - the core's own known-answer tests of ciphers and hashes.
 *
 * A plugin's self-test proves only what its author chose to prove: an
 * "aes" whose encryption is the identity can carry a self-test that
 * passes.  So when a cipher or hash registers under a name the core has
 * published vectors for (testmgr-vectors.c), the core runs them itself,
 * through the descriptor's own callbacks, before accepting it; one vector
 * per algorithm and key size keeps start-up cheap. */
#include "crypto-int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Vectors are written in hex, as their sources print them. */
static size_t unhex(const char *s, uint8_t *out, size_t max)
{
    size_t n = 0;
    while (n < max && sscanf(s + 2 * n, "%2hhx", &out[n]) == 1)
        n++;
    return n;
}

static bool takes_key_size(const struct strata_cipher_alg *alg, size_t keylen)
{
    for (const uint16_t *k = alg->key_sizes; *k; k++)
        if (*k == keylen)
            return true;
    return false;
}

static int kat_failed(struct strata_error **errp, const char *vector, const char *why)
{
    return strata_error_set(errp, EIO, "core known-answer test %s failed%s%s", vector,
                            why ? ": " : "", why ? why : "");
}

/* One block each way in ECB. */
static int run_cipher_kat(const struct strata_cipher_alg *alg,
                          const struct strata_cipher_kat *v, size_t keylen,
                          const uint8_t *key, struct strata_error **errp)
{
    uint8_t pt[STRATA_CRYPTO_MAX_BLOCK], ct[STRATA_CRYPTO_MAX_BLOCK];
    uint8_t buf[STRATA_CRYPTO_MAX_BLOCK];
    size_t blk = unhex(v->pt, pt, sizeof pt);
    unhex(v->ct, ct, sizeof ct);
    if (alg->block_size != blk)
        return kat_failed(errp, v->name, "the block size is not the algorithm's");

    void *ctx = strata_crypto_ctx_alloc(alg->ctx_size);
    if (!ctx)
        return strata_error_set(errp, ENOMEM, "core known-answer test %s: out of memory",
                                v->name);
    struct strata_error *err = NULL;
    int ret = alg->setkey(ctx, STRATA_MODE_ECB, key, keylen, &err);
    if (ret < 0) {
        kat_failed(errp, v->name, err ? err->msg : "setkey failed");
        strata_error_free(err);
        strata_crypto_ctx_free(ctx, alg->ctx_size);
        return -EIO;
    }
    if (alg->encrypt(ctx, NULL, buf, pt, blk) < 0 || memcmp(buf, ct, blk) != 0)
        ret = kat_failed(errp, v->name, NULL);
    else if (alg->decrypt(ctx, NULL, buf, ct, blk) < 0 || memcmp(buf, pt, blk) != 0)
        ret = kat_failed(errp, v->name, "decryption");
    alg->destroy(ctx);
    strata_crypto_ctx_free(ctx, alg->ctx_size);
    return ret;
}

int strata_testmgr_cipher(const struct strata_cipher_alg *alg, struct strata_error **errp)
{
    bool known = false, tested = false;
    for (const struct strata_cipher_kat *v = strata_cipher_kats; v->alg; v++) {
        if (strcmp(v->alg, alg->name) != 0)
            continue;
        known = true;
        uint8_t key[64];
        size_t keylen = unhex(v->key, key, sizeof key);
        if (!takes_key_size(alg, keylen))
            continue;
        int ret = run_cipher_kat(alg, v, keylen, key, errp);
        strata_wipe(key, sizeof key);
        if (ret < 0)
            return ret;
        tested = true;
    }
    /* A cipher that takes the name of a known one must take one of its
     * key sizes, or it could not be checked at all. */
    if (known && !tested)
        return strata_error_set(errp, EINVAL,
                                "no key size it declares has a core known-answer test of "
                                "'%s'", alg->name);
    return 0;
}

int strata_testmgr_hash(const struct strata_hash_alg *alg, struct strata_error **errp)
{
    for (const struct strata_hash_kat *v = strata_hash_kats; v->alg; v++) {
        if (strcmp(v->alg, alg->name) != 0)
            continue;
        uint8_t want[STRATA_CRYPTO_MAX_DIGEST], got[STRATA_CRYPTO_MAX_DIGEST];
        size_t n = unhex(v->digest, want, sizeof want);
        if (alg->digest_size != n)
            return kat_failed(errp, v->name, "the digest size is not the algorithm's");
        void *ctx = strata_crypto_ctx_alloc(alg->ctx_size);
        if (!ctx)
            return strata_error_set(errp, ENOMEM,
                                    "core known-answer test %s: out of memory", v->name);
        int ret = alg->init(ctx);
        if (ret == 0) {
            alg->update(ctx, v->msg, strlen(v->msg));
            alg->final(ctx, got);
        }
        strata_crypto_ctx_free(ctx, alg->ctx_size);
        if (ret < 0 || memcmp(got, want, n) != 0)
            return kat_failed(errp, v->name, NULL);
    }
    return 0;
}
