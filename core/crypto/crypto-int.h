/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crypto-int.h - what the core/crypto/ files share; not part of
 * the public API. */
#ifndef STRATA_CORE_CRYPTO_INTERNAL_H
#define STRATA_CORE_CRYPTO_INTERNAL_H

#include "internal.h"
#include <strata/crypto.h>

/* Largest cipher block the core handles (IVs, generic modes). */
#define STRATA_CRYPTO_MAX_BLOCK 32
/* Largest digest the core handles (HMAC, ESSIV salts). */
#define STRATA_CRYPTO_MAX_DIGEST 64
/* Largest hash block (HMAC pads). */
#define STRATA_CRYPTO_MAX_HASH_BLOCK 256

/* ------------------------------------------------------------ secmem.c
 * Plugin contexts, keys and salts: zeroed secure memory, wiped on release. */
STRATA_INTERNAL void *strata_crypto_ctx_alloc(size_t size);
STRATA_INTERNAL void strata_crypto_ctx_free(void *ctx, size_t size);

/* ------------------------------------------------------------ testmgr.c
 * The core's known-answer tests, run on every cipher or hash that registers
 * under a name listed in testmgr-vectors.c: 0 when it passes or the name is
 * not listed; otherwise an error naming the vector that failed. */
struct strata_cipher_kat {
    const char *alg;            /* registered name: "aes" */
    const char *name;           /* the vector, as its source names it */
    const char *key, *pt, *ct;  /* hex; one block in ECB */
};
struct strata_hash_kat {
    const char *alg;
    const char *name;
    const char *msg;            /* text */
    const char *digest;         /* hex */
};
/* NULL-terminated. */
STRATA_INTERNAL extern const struct strata_cipher_kat strata_cipher_kats[];
STRATA_INTERNAL extern const struct strata_hash_kat strata_hash_kats[];

STRATA_INTERNAL int strata_testmgr_cipher(const struct strata_cipher_alg *alg,
                                          struct strata_error **errp);
STRATA_INTERNAL int strata_testmgr_hash(const struct strata_hash_alg *alg,
                                        struct strata_error **errp);

/* ------------------------------------------------------------ modes
 * One keyed instance of a block cipher in a mode: the plugin's own context
 * when it does the mode natively, else ECB contexts and a scratch area for
 * the generic implementation.  Used by one thread at a time. */
struct strata_mode_inst {
    const struct strata_cipher_alg *alg;
    enum strata_cipher_mode mode;
    bool native;
    void *ctx;          /* native mode context, or ECB under the data key */
    void *ctx2;         /* generic XTS: ECB under the tweak key */
    uint8_t *scratch;   /* generic modes: 2 x STRATA_MODE_CHUNK bytes */
};

/* Bytes the generic modes hand to the plugin's ECB at a time. */
#define STRATA_MODE_CHUNK 1024

STRATA_INTERNAL int strata_mode_lookup(const char *name, enum strata_cipher_mode *mode,
                                       struct strata_error **errp);
STRATA_INTERNAL const char *strata_mode_name(enum strata_cipher_mode mode);
/* Refuses key sizes, block sizes and modes the cipher cannot take. */
STRATA_INTERNAL int strata_mode_check(const struct strata_cipher_alg *alg,
                                      enum strata_cipher_mode mode, size_t keylen,
                                      struct strata_error **errp);
STRATA_INTERNAL int strata_mode_init(struct strata_mode_inst *m,
                                     const struct strata_cipher_alg *alg,
                                     enum strata_cipher_mode mode, const uint8_t *key,
                                     size_t keylen, struct strata_error **errp);
STRATA_INTERNAL void strata_mode_destroy(struct strata_mode_inst *m);
/* One chain: len is a multiple of the block size except for CTR. */
STRATA_INTERNAL int strata_mode_crypt(struct strata_mode_inst *m, bool enc,
                                      const uint8_t *iv, void *out, const void *in,
                                      size_t len);

/* ------------------------------------------------------------ IV generators */
enum strata_ivgen_kind {
    STRATA_IVGEN_NONE,      /* ECB */
    STRATA_IVGEN_NULL,
    STRATA_IVGEN_PLAIN,
    STRATA_IVGEN_PLAIN64,
    STRATA_IVGEN_ESSIV,
    STRATA_IVGEN_BENBI,
};

struct strata_ivgen {
    enum strata_ivgen_kind kind;
    char name[STRATA_CIPHER_NAME_MAX];
    /* ESSIV: the salt (hash of the key), which keys an ECB instance of the
     * same block cipher per context. */
    uint8_t *salt;          /* secure memory */
    size_t saltlen;
};

/* Parses the generator's name and, for ESSIV, derives the salt from key
 * (key may be NULL to only check). */
STRATA_INTERNAL int strata_ivgen_setup(struct strata_ivgen *g, const char *name,
                                       const struct strata_cipher_alg *alg,
                                       enum strata_cipher_mode mode,
                                       const uint8_t *key, size_t keylen,
                                       struct strata_error **errp);
STRATA_INTERNAL void strata_ivgen_cleanup(struct strata_ivgen *g);

/* ------------------------------------------------------------ hashes */
STRATA_INTERNAL const struct strata_hash_alg *strata_crypto_hash_find(const char *name,
                                                                     struct strata_error **errp);
/* Digest of data under an already found alg, without allocation for
 * contexts up to ctxbuf's size. */
STRATA_INTERNAL int strata_hash_alg_digest(const struct strata_hash_alg *alg,
                                           const void *data, size_t len,
                                           uint8_t *digest);

/* HMAC in pieces, for PBKDF2: contexts fed with the inner and outer pads;
 * finish() writes the MAC of what was added to ictx and releases both. */
STRATA_INTERNAL int strata_hmac_start(const struct strata_hash_alg *alg, const void *key,
                                      size_t keylen, void **ictx, void **octx);
STRATA_INTERNAL void strata_hmac_finish(const struct strata_hash_alg *alg, void *ictx,
                                        void *octx, uint8_t *mac);
STRATA_INTERNAL void strata_hmac_drop(const struct strata_hash_alg *alg, void *ctx);

#ifdef STRATA_FUZZ_KDF
/* Fuzz builds only (kdf.c): a derivation's cost is lowered to the caps
 * the harness set with strata_fuzz_kdf_cap(), after the real cost checks
 * have passed, so that an input is judged as it would be but never spends
 * seconds deriving.  A normal build has none of this. */
STRATA_EXPORT void strata_fuzz_kdf_cap(uint32_t iterations, uint32_t memory_kib,
                                       uint32_t passes);
uint64_t strata_fuzz_kdf_iterations(uint64_t iterations);
#endif

#endif
