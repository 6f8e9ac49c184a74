/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gcrypt-hash.c - the hash callbacks on one libgcrypt handle and the
 * self-test of the libgcrypt-backed hash modules. */
#include "gcrypt-hash.h"

#include <errno.h>
#include <string.h>

#include "hex.h"

int gch_init(int algo, void *ctx)
{
    struct gch_ctx *c = ctx;
    return gcry_md_open(&c->hd, algo, GCRY_MD_FLAG_SECURE) ? -ENOMEM : 0;
}

void gch_update(void *ctx, const void *data, size_t len)
{
    gcry_md_write(((struct gch_ctx *)ctx)->hd, data, len);
}

void gch_final(void *ctx, uint8_t *digest)
{
    struct gch_ctx *c = ctx;
    int algo = gcry_md_get_algo(c->hd);
    memcpy(digest, gcry_md_read(c->hd, algo), gcry_md_get_algo_dlen(algo));
    gcry_md_close(c->hd);
    c->hd = NULL;
}

void gch_destroy(void *ctx)
{
    struct gch_ctx *c = ctx;
    if (c->hd)
        gcry_md_close(c->hd);
    c->hd = NULL;
}

int gch_copy(void *dst, const void *src)
{
    return gcry_md_copy(&((struct gch_ctx *)dst)->hd, ((const struct gch_ctx *)src)->hd)
               ? -ENOMEM : 0;
}

int gch_pbkdf2(int algo, const uint8_t *pass, size_t passlen, const uint8_t *salt,
               size_t saltlen, uint64_t iterations, uint8_t *out, size_t outlen)
{
    if (iterations > (unsigned long)-1)
        return -EINVAL;
    gcry_error_t e = gcry_kdf_derive(pass, passlen, GCRY_KDF_PBKDF2, algo, salt, saltlen,
                                     (unsigned long)iterations, outlen, out);
    return e ? -EINVAL : 0;
}

int gch_selftest_run(const struct strata_hash_alg *alg, const char *abc_hex,
                     const char *pbkdf2_kat_hex, struct strata_error **errp)
{
    uint8_t want[64], got[64];
    struct gch_ctx a, b;
    size_t n = hex_decode(abc_hex, want, sizeof(want));
    if (n != alg->digest_size || alg->init(&a) < 0)
        return strata_error_set(errp, EIO, "%s: self-test could not start", alg->impl_name);
    alg->update(&a, "abc", 3);
    alg->final(&a, got);
    if (memcmp(got, want, n) != 0)
        return strata_error_set(errp, EIO, "%s: self-test digest of \"abc\" is wrong",
                                alg->impl_name);
    if (alg->init(&a) < 0)
        return -ENOMEM;
    alg->update(&a, "a", 1);
    if (alg->copy(&b, &a) < 0) {
        alg->destroy(&a);
        return strata_error_set(errp, ENOMEM, "%s: self-test copy failed", alg->impl_name);
    }
    alg->destroy(&a);
    alg->update(&b, "bc", 2);
    alg->final(&b, got);
    if (memcmp(got, want, n) != 0)
        return strata_error_set(errp, EIO, "%s: self-test digest through a copy is wrong",
                                alg->impl_name);
    if (pbkdf2_kat_hex) {
        uint8_t dk[32];
        n = hex_decode(pbkdf2_kat_hex, want, sizeof(want));
        if (n != sizeof(dk) ||
            alg->pbkdf2((const uint8_t *)"passwd", 6, (const uint8_t *)"salt", 4, 3, dk,
                        sizeof(dk)) < 0 ||
            memcmp(dk, want, sizeof(dk)) != 0)
            return strata_error_set(errp, EIO, "%s: self-test PBKDF2 derivation is wrong",
                                    alg->impl_name);
    }
    return 0;
}
