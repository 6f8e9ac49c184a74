/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gcrypt-hash.h - what the libgcrypt-backed hash modules share.  A module
 * defines each of its hashes with
 *
 *     GCRYPT_HASH(sha256, GCRY_MD_SHA256, "sha256", 32, 64, "ba7816bf...");
 *
 * which makes the descriptor `sha256_alg` with a streaming context, copy,
 * libgcrypt's native PBKDF2 and a self-test against the given digest of
 * "abc" (GCRYPT_HASH_WITH_PBKDF2 puts in a PBKDF2 of the module's own).  The
 * callbacks are in gcrypt-hash.c.  libgcrypt has been initialised by the core
 * before any module is loaded. */
#ifndef STRATA_COMMON_GCRYPT_HASH_H
#define STRATA_COMMON_GCRYPT_HASH_H

#include <strata/hash.h>
#include <strata/plugin.h>

#include <gcrypt.h>

struct gch_ctx {
    gcry_md_hd_t hd;
};

int gch_init(int algo, void *ctx);
void gch_update(void *ctx, const void *data, size_t len);
void gch_final(void *ctx, uint8_t *digest);
void gch_destroy(void *ctx);
int gch_copy(void *dst, const void *src);
/* libgcrypt's PBKDF2 with the hash `algo`. */
int gch_pbkdf2(int algo, const uint8_t *pass, size_t passlen, const uint8_t *salt,
               size_t saltlen, uint64_t iterations, uint8_t *out, size_t outlen);
/* Digest of "abc" through the descriptor, once straight and once through a
 * copy taken after "a", so that copy() is checked as well; then, unless
 * pbkdf2_kat_hex is NULL, a PBKDF2 derivation (see below). */
int gch_selftest_run(const struct strata_hash_alg *alg, const char *abc_hex,
                     const char *pbkdf2_kat_hex, struct strata_error **errp);

/* A hash whose PBKDF2 is pbkdf2_fn rather than libgcrypt's; the self-test
 * then also derives pbkdf2_kat_hex (32 bytes: password "passwd", salt
 * "salt", 3 iterations) through it, so that a derivation running on other
 * code than the digest is checked at load too.  NULL skips that check. */
#define GCRYPT_HASH_WITH_PBKDF2(id, algo, hname, dsize, bsize, abc_hex, pbkdf2_fn,   \
                                pbkdf2_kat_hex)                                    \
    static int id##_init(void *ctx) { return gch_init(algo, ctx); }                \
    static int id##_selftest(struct strata_error **errp);                          \
    static const struct strata_hash_alg id##_alg = {                               \
        .abi_version = STRATA_HASH_ABI,                                            \
        .struct_size = sizeof(struct strata_hash_alg),                             \
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
