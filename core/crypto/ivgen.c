/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ivgen.c - IV generators by name: plain, plain64, essiv:HASH, benbi,
 * null (see crypto.h for their definitions). */
#include "crypto-int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int essiv_setup(struct strata_ivgen *g, const char *hashname,
                       const struct strata_cipher_alg *alg, const uint8_t *key,
                       size_t keylen, struct strata_error **errp)
{
    if (!*hashname)
        return strata_error_set(errp, EINVAL, "essiv: needs a hash, as in essiv:sha256");
    const struct strata_hash_alg *h = strata_crypto_hash_find(hashname, errp);
    if (!h)
        return -ENOENT;
    if (h->digest_size > STRATA_CRYPTO_MAX_DIGEST)
        return strata_error_set(errp, EINVAL, "essiv:%s: digest of %u bytes too large",
                                hashname, h->digest_size);
    /* The salt keys the same block cipher, so the digest must be one of its
     * key sizes (sha256 -> aes-256, as dm-crypt). */
    int ret = strata_mode_check(alg, STRATA_MODE_ECB, h->digest_size, NULL);
    if (ret < 0)
        return strata_error_set(errp, EINVAL,
                                "essiv:%s: %s takes no key of %u bytes (the digest size)",
                                hashname, alg->name, h->digest_size);
    if (!key)
        return 0;
    g->salt = strata_crypto_ctx_alloc(h->digest_size);
    if (!g->salt)
        return strata_error_set(errp, ENOMEM, "essiv:%s: out of secure memory", hashname);
    g->saltlen = h->digest_size;
    ret = strata_hash_alg_digest(h, key, keylen, g->salt);
    if (ret < 0)
        return strata_error_set(errp, -ret, "essiv:%s: hashing the key failed", hashname);
    return 0;
}

int strata_ivgen_setup(struct strata_ivgen *g, const char *name,
                       const struct strata_cipher_alg *alg, enum strata_cipher_mode mode,
                       const uint8_t *key, size_t keylen, struct strata_error **errp)
{
    memset(g, 0, sizeof(*g));
    if (!name)
        name = "";
    if (strlen(name) >= sizeof(g->name))
        return strata_error_set(errp, EINVAL, "IV generator name '%s' too long", name);
    snprintf(g->name, sizeof(g->name), "%s", name);

    if (mode == STRATA_MODE_ECB) {
        if (*name && strcmp(name, "null") != 0)
            return strata_error_set(errp, EINVAL,
                                    "ecb(%s): ECB takes no IV generator, got '%s'",
                                    alg->name, name);
        g->kind = STRATA_IVGEN_NONE;
        return 0;
    }
    if (strcmp(name, "plain") == 0)
        g->kind = STRATA_IVGEN_PLAIN;
    else if (strcmp(name, "plain64") == 0)
        g->kind = STRATA_IVGEN_PLAIN64;
    else if (strcmp(name, "benbi") == 0)
        g->kind = STRATA_IVGEN_BENBI;
    else if (strcmp(name, "null") == 0)
        g->kind = STRATA_IVGEN_NULL;
    else if (strncmp(name, "essiv:", 6) == 0) {
        g->kind = STRATA_IVGEN_ESSIV;
        int ret = essiv_setup(g, name + 6, alg, key, keylen, errp);
        if (ret < 0)
            strata_ivgen_cleanup(g);
        return ret;
    } else if (!*name) {
        return strata_error_set(errp, EINVAL, "%s(%s): mode needs an IV generator",
                                strata_mode_name(mode), alg->name);
    } else {
        return strata_error_set(errp, ENOENT,
                                "unknown IV generator '%s' (known: plain, plain64, "
                                "essiv:HASH, benbi, null)", name);
    }
    if (g->kind == STRATA_IVGEN_BENBI && mode == STRATA_MODE_XTS)
        return strata_error_set(errp, EINVAL, "xts(%s): benbi is for narrow-block modes",
                                alg->name);
    return 0;
}

void strata_ivgen_cleanup(struct strata_ivgen *g)
{
    if (g->salt)
        strata_crypto_ctx_free(g->salt, g->saltlen);
    g->salt = NULL;
    g->saltlen = 0;
}
