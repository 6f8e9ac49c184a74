/* SPDX-License-Identifier: MIT */
/* strata/crypto.h - the encryption layer drivers use.
 *
 * A cipher is assembled at run time from a block cipher plugin (cipher.h), a
 * mode and an IV generator, and is then used a sector at a time:
 *
 *     struct strata_cipher *c;
 *     if (strata_cipher_open("aes", "xts", "plain64", key, 64, &c, errp) < 0)
 *         return ...;
 *     strata_cipher_encrypt_sectors(c, first_sector, 512, buf, buf, len, errp);
 *     strata_cipher_free(c);
 *
 * Modes: ecb, cbc, xts, ctr.  A plugin may implement a mode natively; the
 * core builds the others over the plugin's ECB, so a plugin that only does
 * ECB gets all four.
 *
 * IV generators (the sector number is in units of the sector size given to
 * the call, counted from the start of the encrypted area):
 *   plain        IV = 32-bit sector number, little endian, zero padded
 *   plain64      IV = 64-bit sector number, little endian, zero padded
 *   essiv:HASH   IV = E_s(plain64 IV) with s = HASH(key) and the same block
 *                cipher in ECB mode (the digest size must be a key size of
 *                the cipher), as dm-crypt does
 *   benbi        IV = big-endian count of cipher blocks, starting at 1, in
 *                the last 8 bytes (dm-crypt's benbi for 512-byte sectors)
 *   null         IV = zeros
 * ECB takes no IV generator (NULL, "" or "null").
 *
 * A strata_cipher is safe to use from several threads at once: each call
 * borrows one of a small set of per-key contexts, created on demand, so the
 * I/O path allocates nothing once the set has grown to the number of threads.
 *
 * Key material handed to these functions may live anywhere; the library keeps
 * its copies in secure memory (strata_secure_alloc) and wipes them on free.
 */
#ifndef STRATA_CRYPTO_H
#define STRATA_CRYPTO_H

#include <strata/common.h>
#include <strata/cipher.h>
#include <strata/hash.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ cipher specs */

#define STRATA_CIPHER_NAME_MAX 32

/* A cipher as LUKS headers and cryptsetup spell it, taken apart. */
struct strata_cipher_spec {
    char alg[STRATA_CIPHER_NAME_MAX];     /* "aes" */
    char mode[STRATA_CIPHER_NAME_MAX];    /* "xts" */
    char ivgen[STRATA_CIPHER_NAME_MAX];   /* "plain64", "essiv:sha256", "" for ecb */
};

/* Parses a cipher specification in any of the forms:
 *   name = "aes",             mode = "xts-plain64"      (LUKS1 header fields)
 *   name = "aes-cbc-essiv:sha256", mode = NULL          (cryptsetup --cipher)
 *   name = "xts(aes)-plain64" or "xts(aes)", mode = NULL (composition by name)
 * A mode without IV generator gets "plain" (dm-crypt's legacy default),
 * except ECB, which takes none.  Names are not looked up here; -EINVAL with a
 * message for malformed text. */
STRATA_EXPORT int strata_cipher_spec_parse(const char *name, const char *mode,
                                           struct strata_cipher_spec *spec,
                                           struct strata_error **errp);

/* ------------------------------------------------------------ ciphers */
struct strata_cipher;

/* Opens alg in mode with ivgen.  keylen is the whole key: twice the block
 * cipher's key for XTS ("aes" + "xts" + 64 bytes = AES-256-XTS).  Refuses
 * (-ENOENT) unknown algorithms, modes and IV generators, and (-EINVAL) key
 * sizes the cipher does not take and XTS over a cipher whose block is not 16
 * bytes, each with a message naming the cipher. */
STRATA_EXPORT int strata_cipher_open(const char *alg, const char *mode,
                                     const char *ivgen, const uint8_t *key,
                                     size_t keylen, struct strata_cipher **out,
                                     struct strata_error **errp);
STRATA_EXPORT int strata_cipher_open_spec(const struct strata_cipher_spec *spec,
                                          const uint8_t *key, size_t keylen,
                                          struct strata_cipher **out,
                                          struct strata_error **errp);
/* Wipes every key schedule and frees c (NULL is fine).  No call on c may be
 * running. */
STRATA_EXPORT void strata_cipher_free(struct strata_cipher *c);

/* Encrypts len bytes of in to out (in == out is fine), sector by sector:
 * sector i of the buffer uses the IV of sector first_sector + i.  len must be
 * a multiple of sector_size and sector_size a multiple of the block size
 * (any size for CTR). */
STRATA_EXPORT int strata_cipher_encrypt_sectors(struct strata_cipher *c,
                                                uint64_t first_sector,
                                                size_t sector_size, void *out,
                                                const void *in, size_t len,
                                                struct strata_error **errp);
STRATA_EXPORT int strata_cipher_decrypt_sectors(struct strata_cipher *c,
                                                uint64_t first_sector,
                                                size_t sector_size, void *out,
                                                const void *in, size_t len,
                                                struct strata_error **errp);
/* One chain with a caller-given IV (block size bytes; NULL for ECB), without
 * the IV generator: for formats that carry their own IVs and for
 * known-answer tests. */
STRATA_EXPORT int strata_cipher_encrypt_iv(struct strata_cipher *c, const uint8_t *iv,
                                           void *out, const void *in, size_t len,
                                           struct strata_error **errp);
STRATA_EXPORT int strata_cipher_decrypt_iv(struct strata_cipher *c, const uint8_t *iv,
                                           void *out, const void *in, size_t len,
                                           struct strata_error **errp);

STRATA_EXPORT size_t strata_cipher_block_size(const struct strata_cipher *c);
/* The whole key, as passed to open (2x the block cipher key for XTS). */
STRATA_EXPORT size_t strata_cipher_key_size(const struct strata_cipher *c);
/* "xts(aes)" and "plain64": the composed names, for messages and info. */
STRATA_EXPORT const char *strata_cipher_name(const struct strata_cipher *c);
STRATA_EXPORT const char *strata_cipher_ivgen_name(const struct strata_cipher *c);
/* The implementation that does the work ("aes-gcrypt"). */
STRATA_EXPORT const char *strata_cipher_impl_name(const struct strata_cipher *c);

/* Checks, without a key, that alg/mode/ivgen can be assembled with a key of
 * keylen bytes (the same refusals as open). */
STRATA_EXPORT int strata_cipher_check(const char *alg, const char *mode,
                                      const char *ivgen, size_t keylen,
                                      struct strata_error **errp);

/* ------------------------------------------------------------ hashes */
struct strata_hash;

/* Size of the digest of `name` in bytes, or -ENOENT. */
STRATA_EXPORT int strata_hash_digest_size(const char *name, struct strata_error **errp);

STRATA_EXPORT int strata_hash_open(const char *name, struct strata_hash **out,
                                   struct strata_error **errp);
STRATA_EXPORT void strata_hash_update(struct strata_hash *h, const void *data,
                                      size_t len);
/* A second digest that continues from h's current state; -ENOTSUP when the
 * hash plugin cannot copy its state. */
STRATA_EXPORT int strata_hash_copy(const struct strata_hash *h, struct strata_hash **out,
                                   struct strata_error **errp);
/* Writes the digest and frees h. */
STRATA_EXPORT void strata_hash_final(struct strata_hash *h, uint8_t *digest);
/* Frees h without a digest (NULL is fine). */
STRATA_EXPORT void strata_hash_abort(struct strata_hash *h);

/* One-shot digest of a buffer. */
STRATA_EXPORT int strata_hash_buf(const char *name, const void *data, size_t len,
                                  uint8_t *digest, struct strata_error **errp);

/* HMAC (RFC 2104) over any registered hash; mac receives the digest size. */
STRATA_EXPORT int strata_hmac(const char *hash, const void *key, size_t keylen,
                              const void *data, size_t len, uint8_t *mac,
                              struct strata_error **errp);

/* ------------------------------------------------------------ PBKDF2 */
#define STRATA_PBKDF2_MIN_ITERATIONS 1000
#define STRATA_PBKDF2_DEFAULT_ITER_TIME_MS 2000

/* PBKDF2-HMAC-hash (RFC 8018).  Uses the hash plugin's native PBKDF2 when it
 * has one. */
STRATA_EXPORT int strata_pbkdf2(const char *hash, const void *pass, size_t passlen,
                                const uint8_t *salt, size_t saltlen,
                                uint64_t iterations, uint8_t *out, size_t outlen,
                                struct strata_error **errp);
/* Measures how many iterations per second this machine does for an output of
 * keylen bytes (CPU time of the calling thread). */
STRATA_EXPORT int strata_pbkdf2_benchmark(const char *hash, size_t keylen,
                                          uint64_t *iter_per_sec,
                                          struct strata_error **errp);
/* Iterations that take about iter_time_ms (0 = the default, 2000 ms, as
 * cryptsetup and QEMU), never fewer than STRATA_PBKDF2_MIN_ITERATIONS. */
STRATA_EXPORT int strata_pbkdf2_calibrate(const char *hash, size_t keylen,
                                          uint32_t iter_time_ms, uint64_t *iterations,
                                          struct strata_error **errp);

/* ------------------------------------------------------------ AF splitter
 * The anti-forensic splitter of the LUKS1 on-disk format: `src` (blocksize
 * bytes) becomes `stripes` x blocksize bytes of `dst`, with stripes - 1
 * random blocks and the diffusion function built on `hash`. */
STRATA_EXPORT int strata_af_split(const char *hash, const uint8_t *src,
                                  size_t blocksize, unsigned stripes, uint8_t *dst,
                                  struct strata_error **errp);
STRATA_EXPORT int strata_af_merge(const char *hash, const uint8_t *src,
                                  size_t blocksize, unsigned stripes, uint8_t *dst,
                                  struct strata_error **errp);

/* ------------------------------------------------------------ random */
/* Fills buf from libgcrypt's strong random generator (keys, salts, stripes). */
STRATA_EXPORT int strata_random_bytes(void *buf, size_t len, struct strata_error **errp);

#ifdef __cplusplus
}
#endif
#endif
