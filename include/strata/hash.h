/* SPDX-License-Identifier: MIT */
/* strata/hash.h - the hash plugin ABI.
 *
 * A hash plugin provides `struct strata_hash_alg` descriptors.  The core
 * builds HMAC, PBKDF2 and the LUKS AF splitter's diffusion on top of them;
 * a plugin may also offer a native PBKDF2 for speed.
 *
 * ABI policy as in driver.h.
 */
#ifndef STRATA_HASH_H
#define STRATA_HASH_H

#include <strata/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_HASH_ABI_MAJOR 1
#define STRATA_HASH_ABI_MINOR 0
#define STRATA_HASH_ABI ((STRATA_HASH_ABI_MAJOR << 16) | STRATA_HASH_ABI_MINOR)

/* Starts every hash descriptor: `{ STRATA_HASH_HEAD, .name = ... }`. */
#define STRATA_HASH_TAG 'H'
#define STRATA_HASH_HEAD \
    STRATA_DESC_HEAD(STRATA_HASH_TAG, STRATA_HASH_ABI, struct strata_hash_alg)

struct strata_hash_alg {
    uint32_t abi_version;       /* STRATA_HASH_HEAD fills these two */
    uint32_t struct_size;
    const char *name;           /* "sha256", as LUKS headers spell it */
    const char *impl_name;      /* "sha256-gcrypt" */
    int priority;
    uint32_t digest_size;       /* bytes */
    uint32_t block_size;        /* bytes (HMAC needs it) */
    size_t ctx_size;            /* per-hash context, allocated by the core */

    /* Mandatory. */
    int (*init)(void *ctx);
    void (*update)(void *ctx, const void *data, size_t len);
    /* Writes digest_size bytes and releases the context (as destroy). */
    void (*final)(void *ctx, uint8_t *digest);
    /* Mandatory: releases a context abandoned before final. */
    void (*destroy)(void *ctx);
    /* Optional: dst = a copy of src's running state (dst is uninitialised). */
    int (*copy)(void *dst, const void *src);
    /* Optional native PBKDF2-HMAC with this hash; NULL = core's generic one. */
    int (*pbkdf2)(const uint8_t *pass, size_t passlen, const uint8_t *salt,
                  size_t saltlen, uint64_t iterations, uint8_t *out,
                  size_t outlen);
    /* Mandatory known-answer test, run at registration. */
    int (*selftest)(struct strata_error **errp);
};

/* Looks up the highest-priority implementation of a hash by name, loading its
 * module on first use. */
STRATA_EXPORT const struct strata_hash_alg *strata_hash_alg_find(const char *name,
                                                                 struct strata_error **errp);

#ifdef __cplusplus
}
#endif
#endif
