/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gcrypt-hash.h - what the libgcrypt-backed hash modules share.  A module
 * defines each of its hashes with
 *
 *     GCRYPT_HASH(sha256, GCRY_MD_SHA256, "sha256", 32, 64, "ba7816bf...");
 *
 * which makes the descriptor `sha256_alg` with a streaming context, copy,
 * libgcrypt's native PBKDF2 and a self-test against the given digest of
 * "abc" (GCRYPT_HASH_WITH_PBKDF2 puts in a PBKDF2 of the module's own).  libgcrypt has been initialised by the core before any module is
 * loaded. */
#ifndef STRATA_HASHES_GCRYPT_HASH_H
#define STRATA_HASHES_GCRYPT_HASH_H

#include <strata/hash.h>
#include <strata/plugin.h>

#include <errno.h>
#include <gcrypt.h>
#include <string.h>

struct gch_ctx {
    gcry_md_hd_t hd;
};

static int gch_init(int algo, void *ctx)
{
    struct gch_ctx *c = ctx;
    return gcry_md_open(&c->hd, algo, GCRY_MD_FLAG_SECURE) ? -ENOMEM : 0;
}

static void gch_update(void *ctx, const void *data, size_t len)
{
    gcry_md_write(((struct gch_ctx *)ctx)->hd, data, len);
}

static void gch_final(void *ctx, uint8_t *digest)
{
    struct gch_ctx *c = ctx;
    int algo = gcry_md_get_algo(c->hd);
    memcpy(digest, gcry_md_read(c->hd, algo), gcry_md_get_algo_dlen(algo));
    gcry_md_close(c->hd);
    c->hd = NULL;
}

static void gch_destroy(void *ctx)
{
    struct gch_ctx *c = ctx;
    if (c->hd)
        gcry_md_close(c->hd);
    c->hd = NULL;
}

static int gch_copy(void *dst, const void *src)
{
    return gcry_md_copy(&((struct gch_ctx *)dst)->hd, ((const struct gch_ctx *)src)->hd)
               ? -ENOMEM : 0;
}

static int gch_pbkdf2(int algo, const uint8_t *pass, size_t passlen, const uint8_t *salt,
                      size_t saltlen, uint64_t iterations, uint8_t *out, size_t outlen)
{
    if (iterations > (unsigned long)-1)
        return -EINVAL;
    gcry_error_t e = gcry_kdf_derive(pass, passlen, GCRY_KDF_PBKDF2, algo, salt, saltlen,
                                     (unsigned long)iterations, outlen, out);
    return e ? -EINVAL : 0;
}

static size_t gch_unhex(const char *s, uint8_t *out, size_t max)
{
    size_t n = 0;
    for (; s[0] && s[1] && n < max; s += 2) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = s[k];
            v = v * 16 + (unsigned)(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
        }
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* Digest of "abc" through the descriptor, once straight and once through a
 * copy taken after "a", so that copy() is checked as well. */
static int gch_selftest_run(const struct strata_hash_alg *alg, const char *abc_hex,
                            const char *pbkdf2_kat_hex, struct strata_error **errp)
{
    uint8_t want[64], got[64];
    struct gch_ctx a, b;
    size_t n = gch_unhex(abc_hex, want, sizeof(want));
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
        n = gch_unhex(pbkdf2_kat_hex, want, sizeof(want));
        if (n != sizeof(dk) ||
            alg->pbkdf2((const uint8_t *)"passwd", 6, (const uint8_t *)"salt", 4, 3, dk,
                        sizeof(dk)) < 0 ||
            memcmp(dk, want, sizeof(dk)) != 0)
            return strata_error_set(errp, EIO, "%s: self-test PBKDF2 derivation is wrong",
                                    alg->impl_name);
    }
    return 0;
}

/* A hash whose PBKDF2 is pbkdf2_fn rather than libgcrypt's; the self-test
 * then also derives pbkdf2_kat_hex (32 bytes: password "passwd", salt
 * "salt", 3 iterations) through it, so that a derivation running on other
 * code than the digest is checked at load too.  NULL skips that check. */
#define GCRYPT_HASH_WITH_PBKDF2(id, algo, hname, dsize, bsize, abc_hex, pbkdf2_fn,   \
                                pbkdf2_kat_hex)                                    \
    static int id##_init(void *ctx) { return gch_init(algo, ctx); }                \
    static int id##_selftest(struct strata_error **errp);                          \
    static const struct strata_hash_alg id##_alg = {                               \
        STRATA_HASH_HEAD,                                                          \
        .name = hname,                                                             \
        .impl_name = hname "-gcrypt",                                              \
        .priority = 100,                                                           \
        .digest_size = dsize,                                                      \
        .block_size = bsize,                                                       \
        .ctx_size = sizeof(struct gch_ctx),                                        \
        .init = id##_init,                                                         \
        .update = gch_update,                                                      \
        .final = gch_final,                                                        \
        .destroy = gch_destroy,                                                    \
        .copy = gch_copy,                                                          \
        .pbkdf2 = pbkdf2_fn,                                                       \
        .selftest = id##_selftest,                                                 \
    };                                                                             \
    static int id##_selftest(struct strata_error **errp)                           \
    {                                                                              \
        return gch_selftest_run(&id##_alg, abc_hex, pbkdf2_kat_hex, errp);         \
    }

#define GCRYPT_HASH(id, algo, hname, dsize, bsize, abc_hex)                        \
    static int id##_pbkdf2(const uint8_t *pass, size_t passlen, const uint8_t *salt, \
                           size_t saltlen, uint64_t iterations, uint8_t *out,       \
                           size_t outlen)                                          \
    {                                                                              \
        return gch_pbkdf2(algo, pass, passlen, salt, saltlen, iterations, out,     \
                          outlen);                                                 \
    }                                                                              \
    GCRYPT_HASH_WITH_PBKDF2(id, algo, hname, dsize, bsize, abc_hex, id##_pbkdf2, NULL)

#endif
