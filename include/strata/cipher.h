/* SPDX-License-Identifier: MIT */
/* strata/cipher.h - the block cipher plugin ABI.
 *
 * A cipher plugin provides one or more `struct strata_cipher_alg`: a block
 * cipher by name ("aes") with the key sizes it takes, ECB at least and,
 * optionally, native implementations of the other modes.  The core composes
 * the rest by name ("xts(aes)", "cbc(serpent)") and adds IV generators
 * (plain, plain64, essiv:HASH) on top; see crypto.h for that layer.
 *
 * Several implementations of one algorithm may be registered; the one with
 * the highest priority is used (as the kernel crypto API does).
 *
 * ABI policy as in driver.h: refused on a different major; members are only
 * added at the end; struct_size tells the core which members exist.
 */
#ifndef STRATA_CIPHER_H
#define STRATA_CIPHER_H

#include <strata/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_CIPHER_ABI_MAJOR 1
#define STRATA_CIPHER_ABI_MINOR 0
#define STRATA_CIPHER_ABI ((STRATA_CIPHER_ABI_MAJOR << 16) | STRATA_CIPHER_ABI_MINOR)

enum strata_cipher_mode {
    STRATA_MODE_ECB = 0,
    STRATA_MODE_CBC = 1,
    STRATA_MODE_XTS = 2,
    STRATA_MODE_CTR = 3,
};
#define STRATA_MODE_BIT(m) (1u << (m))

/* Starts every cipher descriptor: `{ STRATA_CIPHER_HEAD, .name = ... }`. */
#define STRATA_CIPHER_TAG 'C'
#define STRATA_CIPHER_HEAD \
    STRATA_DESC_HEAD(STRATA_CIPHER_TAG, STRATA_CIPHER_ABI, struct strata_cipher_alg)

struct strata_cipher_alg {
    uint32_t abi_version;       /* STRATA_CIPHER_HEAD fills these two */
    uint32_t struct_size;
    const char *name;           /* algorithm name: "aes" */
    const char *impl_name;      /* this implementation: "aes-gcrypt" */
    int priority;
    uint32_t block_size;        /* bytes */
    const uint16_t *key_sizes;  /* accepted cipher key sizes in bytes, 0-terminated
                                   (for xts the mode key is twice this) */
    uint32_t native_modes;      /* STRATA_MODE_BIT()s done natively; ECB required */
    size_t ctx_size;            /* per-key context, allocated by the core */

    /* Mandatory.  keylen is the full mode key (2x for XTS).  Called once per
     * context; the same context is never used by two threads at once. */
    int (*setkey)(void *ctx, enum strata_cipher_mode mode, const uint8_t *key,
                  size_t keylen, struct strata_error **errp);
    /* Mandatory: releases what setkey acquired and wipes key material. */
    void (*destroy)(void *ctx);
    /* Mandatory.  len is a multiple of block_size (any length for CTR);
     * iv holds block_size bytes (ignored for ECB) and is the IV of this call
     * only: each call starts a new chain, so one call = one sector.  in and
     * out may be the same buffer. */
    int (*encrypt)(void *ctx, const uint8_t *iv, void *out, const void *in,
                   size_t len);
    int (*decrypt)(void *ctx, const uint8_t *iv, void *out, const void *in,
                   size_t len);
    /* Mandatory: known-answer test run at registration; non-zero refuses the
     * descriptor (the message says which vector failed). */
    int (*selftest)(struct strata_error **errp);
};

/* Looks up the highest-priority implementation of a block cipher by name,
 * loading its module on first use.  -ENOENT with a message when unknown. */
STRATA_EXPORT const struct strata_cipher_alg *strata_cipher_alg_find(const char *name,
                                                                     struct strata_error **errp);

#ifdef __cplusplus
}
#endif
#endif
