/* SPDX-License-Identifier: MIT */
/* strata/kdf.h - the key derivation function plugin ABI, and the API that
 * encryption formats use to derive keys.
 *
 * A KDF plugin provides `struct strata_kdf_alg` descriptors: "pbkdf2",
 * "argon2i", "argon2id" as LUKS2 keyslots name them.  Several
 * implementations of one name may compete by priority, as ciphers and
 * hashes do; each runs its known-answer self-test when it registers and a
 * failing one is refused.
 *
 * Costs come from image headers, so they are untrusted: the core checks
 * them against the machine and against caps (strata_kdf_check_cost())
 * before any derivation allocates memory or starts work.
 *
 * ABI policy as in driver.h.
 */
#ifndef STRATA_KDF_H
#define STRATA_KDF_H

#include <strata/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_KDF_ABI_MAJOR 1
#define STRATA_KDF_ABI_MINOR 0
#define STRATA_KDF_ABI ((STRATA_KDF_ABI_MAJOR << 16) | STRATA_KDF_ABI_MINOR)

/* Cost parameters, named as LUKS2 keyslots name them. */
struct strata_kdf_params {
    const char *hash;           /* pbkdf2: "sha256", ...; argon2: NULL */
    uint32_t iterations;        /* pbkdf2 iterations; argon2 passes (t) */
    uint32_t memory_kib;        /* argon2 memory (m) in KiB; pbkdf2: 0 */
    uint32_t parallel;          /* argon2 lanes (p); pbkdf2: 0 */
};

/* Starts every KDF descriptor: `{ STRATA_KDF_HEAD, .name = ... }`. */
#define STRATA_KDF_TAG 'K'
#define STRATA_KDF_HEAD \
    STRATA_DESC_HEAD(STRATA_KDF_TAG, STRATA_KDF_ABI, struct strata_kdf_alg)

struct strata_kdf_alg {
    uint32_t abi_version;       /* STRATA_KDF_HEAD fills these two */
    uint32_t struct_size;
    const char *name;           /* "argon2id" */
    const char *impl_name;      /* "argon2id-gcrypt" */
    int priority;

    /* Mandatory.  Derives outlen bytes.  The core has checked the costs
     * with strata_kdf_check_cost() before calling. */
    int (*derive)(const struct strata_kdf_params *params,
                  const void *pass, size_t passlen,
                  const void *salt, size_t saltlen,
                  void *out, size_t outlen, struct strata_error **errp);
    /* Mandatory known-answer test, run at registration. */
    int (*selftest)(struct strata_error **errp);
};

/* Derives outlen bytes with the highest-priority implementation of `name`,
 * after checking the costs (strata_kdf_check_cost()).  Messages name the KDF
 * and the parameter but not the image: callers add the file and keyslot
 * (strata_error_prefix()).  The bundled argon2 (libgcrypt's) refuses an
 * empty passphrase and salts under 8 bytes. */
STRATA_EXPORT int strata_kdf_derive(const char *name,
                                    const struct strata_kdf_params *params,
                                    const void *pass, size_t passlen,
                                    const void *salt, size_t saltlen,
                                    void *out, size_t outlen,
                                    struct strata_error **errp);

/* Refuses, with a message naming the parameter, costs this machine cannot
 * or should not pay: argon2 memory above the cap (STRATA_KDF_MAX_MEMORY_KIB
 * or half of physical memory, whichever is lower), argon2 passes or lanes
 * beyond their caps, pbkdf2 iterations beyond STRATA_KDF_MAX_ITERATIONS,
 * and values the algorithm does not allow (argon2: memory < 8 * lanes). */
#define STRATA_KDF_MAX_MEMORY_KIB  (4u * 1024 * 1024)  /* 4 GiB, LUKS2's own cap */
#define STRATA_KDF_MAX_PASSES      1000u
#define STRATA_KDF_MAX_PARALLEL    16u
/* PBKDF2 iterations: a header may ask for up to 2^32 - 1, hours of work for
 * one passphrase try; 100 million is minutes even on slow machines and far
 * above what cryptsetup calibrates for its default 2 s. */
#define STRATA_KDF_MAX_ITERATIONS  100000000u
STRATA_EXPORT int strata_kdf_check_cost(const char *name,
                                        const struct strata_kdf_params *params,
                                        struct strata_error **errp);

/* What cryptsetup 2.6 gives a new LUKS2 keyslot: argon2id for about 2 s,
 * with up to 1 GiB of memory (never more than half of physical memory) and
 * min(4, online CPUs) lanes.  strata_kdf_defaults() applies the machine
 * limits; strata_kdf_calibrate() then sets the passes. */
#define STRATA_KDF_DEFAULT_NAME        "argon2id"
#define STRATA_KDF_DEFAULT_TIME_MS     2000u
#define STRATA_KDF_DEFAULT_MEMORY_KIB  (1024u * 1024)   /* 1 GiB */
#define STRATA_KDF_DEFAULT_PARALLEL    4u
#define STRATA_KDF_DEFAULT_HASH        "sha256"         /* pbkdf2 */
/* The least a calibration hands out (cryptsetup's minimums). */
#define STRATA_KDF_MIN_PASSES          4u
#define STRATA_KDF_MIN_MEMORY_KIB      32u
#define STRATA_KDF_MIN_ITERATIONS      1000u

/* Chooses costs for a new keyslot so that one derivation of keylen bytes
 * takes about target_ms on this machine: pbkdf2 raises `iterations` (at
 * least 1000); argon2 keeps `memory_kib` and `parallel` as given (lowering
 * memory first if even 4 passes would take too long, as cryptsetup does)
 * and sets `iterations` (at least 4).  target_ms 0 means
 * STRATA_KDF_DEFAULT_TIME_MS; memory_kib or parallel 0 mean the defaults of
 * strata_kdf_defaults(); pbkdf2 with no hash uses STRATA_KDF_DEFAULT_HASH. */
STRATA_EXPORT int strata_kdf_calibrate(const char *name,
                                       struct strata_kdf_params *params,
                                       uint32_t target_ms, size_t keylen,
                                       struct strata_error **errp);

/* Fills params with this machine's defaults for `name` (NULL = the
 * default KDF): argon2 gets STRATA_KDF_DEFAULT_MEMORY_KIB capped at half of
 * physical memory, min(STRATA_KDF_DEFAULT_PARALLEL, online CPUs) lanes and
 * the minimum passes; pbkdf2 gets STRATA_KDF_DEFAULT_HASH and the minimum
 * iterations.  Calibrate afterwards to set the passes or iterations. */
STRATA_EXPORT int strata_kdf_defaults(const char *name, struct strata_kdf_params *params,
                                      struct strata_error **errp);

/* The highest-priority implementation of a KDF, loading its module on
 * first use. */
STRATA_EXPORT const struct strata_kdf_alg *strata_kdf_alg_find(const char *name,
                                                               struct strata_error **errp);

#ifdef __cplusplus
}
#endif
#endif
