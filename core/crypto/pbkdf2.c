/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pbkdf2.c - PBKDF2-HMAC (RFC 8018) over any registered hash, and the
 * calibration of its iteration count against a target time. */
#include "crypto-int.h"

#include <strata/kdf.h>

#include <errno.h>
#include <string.h>
#include <time.h>

/* One HMAC of data under the pads kept in base_i/base_o, into mac.  With the
 * plugin's copy() the pads are hashed once per derivation, not per
 * iteration. */
static int pbkdf2_hmac(const struct strata_hash_alg *alg, void *base_i, void *base_o,
                       void *ti, void *to, const uint8_t *pass, size_t passlen,
                       const void *data, size_t len, const void *data2, size_t len2,
                       uint8_t *mac)
{
    if (alg->copy) {
        int ret = alg->copy(ti, base_i);
        if (ret == 0 && (ret = alg->copy(to, base_o)) < 0)
            alg->destroy(ti);
        if (ret < 0)
            return ret;
        alg->update(ti, data, len);
        if (len2)
            alg->update(ti, data2, len2);
        uint8_t inner[STRATA_CRYPTO_MAX_DIGEST];
        alg->final(ti, inner);
        alg->update(to, inner, alg->digest_size);
        alg->final(to, mac);
        strata_wipe(inner, sizeof(inner));
        return 0;
    }
    void *ictx, *octx;
    int ret = strata_hmac_start(alg, pass, passlen, &ictx, &octx);
    if (ret < 0)
        return ret;
    alg->update(ictx, data, len);
    if (len2)
        alg->update(ictx, data2, len2);
    strata_hmac_finish(alg, ictx, octx, mac);
    return 0;
}

static int pbkdf2_generic(const struct strata_hash_alg *alg, const uint8_t *pass,
                          size_t passlen, const uint8_t *salt, size_t saltlen,
                          uint64_t iterations, uint8_t *out, size_t outlen)
{
    size_t ds = alg->digest_size;
    void *base_i = NULL, *base_o = NULL, *ti = NULL, *to = NULL;
    uint8_t u[STRATA_CRYPTO_MAX_DIGEST], t[STRATA_CRYPTO_MAX_DIGEST];
    int ret = 0;

    if (alg->copy) {
        ret = strata_hmac_start(alg, pass, passlen, &base_i, &base_o);
        ti = strata_crypto_ctx_alloc(alg->ctx_size);
        to = strata_crypto_ctx_alloc(alg->ctx_size);
        if (ret == 0 && (!ti || !to))
            ret = -ENOMEM;
    }
    for (uint32_t block = 1; ret == 0 && (size_t)(block - 1) * ds < outlen; block++) {
        uint8_t be[4] = { (uint8_t)(block >> 24), (uint8_t)(block >> 16),
                          (uint8_t)(block >> 8), (uint8_t)block };
        ret = pbkdf2_hmac(alg, base_i, base_o, ti, to, pass, passlen, salt, saltlen, be,
                          4, u);
        memcpy(t, u, ds);
        for (uint64_t it = 1; ret == 0 && it < iterations; it++) {
            ret = pbkdf2_hmac(alg, base_i, base_o, ti, to, pass, passlen, u, ds, NULL, 0,
                              u);
            for (size_t k = 0; k < ds; k++)
                t[k] ^= u[k];
        }
        size_t off = (size_t)(block - 1) * ds;
        size_t n = outlen - off < ds ? outlen - off : ds;
        memcpy(out + off, t, n);
    }
    if (base_i)
        strata_hmac_drop(alg, base_i);
    if (base_o)
        strata_hmac_drop(alg, base_o);
    strata_crypto_ctx_free(ti, alg->ctx_size);
    strata_crypto_ctx_free(to, alg->ctx_size);
    strata_wipe(u, sizeof(u));
    strata_wipe(t, sizeof(t));
    return ret;
}

int strata_pbkdf2(const char *hash, const void *pass, size_t passlen, const uint8_t *salt,
                  size_t saltlen, uint64_t iterations, uint8_t *out, size_t outlen,
                  struct strata_error **errp)
{
    const struct strata_hash_alg *alg = strata_crypto_hash_find(hash, errp);
    if (!alg)
        return -ENOENT;
    if (iterations == 0)
        return strata_error_set(errp, EINVAL, "pbkdf2(%s): zero iterations", hash);
    /* Costs come from image headers: a guard for callers that did not
     * check them (strata_kdf_check_cost()). */
    if (iterations > STRATA_KDF_MAX_ITERATIONS)
        return strata_error_set(errp, EINVAL, "pbkdf2(%s): %llu iterations exceeds the limit of %u",
                                hash, (unsigned long long)iterations, STRATA_KDF_MAX_ITERATIONS);
    if (outlen == 0 || outlen / alg->digest_size >= 0xffffffffu)
        return strata_error_set(errp, EINVAL, "pbkdf2(%s): bad output length %zu", hash,
                                outlen);
#ifdef STRATA_FUZZ_KDF
    iterations = strata_fuzz_kdf_iterations(iterations);
#endif
    int ret = alg->pbkdf2 ? alg->pbkdf2(pass, passlen, salt, saltlen, iterations, out, outlen)
                          : pbkdf2_generic(alg, pass, passlen, salt, saltlen, iterations,
                                           out, outlen);
    if (ret < 0)
        return strata_error_set(errp, -ret, "pbkdf2(%s): derivation failed", hash);
    return 0;
}

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Doubles the iteration count until one derivation takes measure_ms of CPU. */
static int pbkdf2_measure(const char *hash, size_t keylen, uint32_t measure_ms,
                          uint64_t *iter_per_sec, struct strata_error **errp)
{
    static const uint8_t salt[32];
    uint8_t out[256];
    if (keylen == 0 || keylen > sizeof(out))
        return strata_error_set(errp, EINVAL, "pbkdf2(%s): key length %zu out of range",
                                hash, keylen);
    uint64_t target = (uint64_t)measure_ms * 1000000u;
    for (uint64_t it = 1000;; it = it * 2 < STRATA_KDF_MAX_ITERATIONS ? it * 2
                                                                     : STRATA_KDF_MAX_ITERATIONS) {
        uint64_t t0 = cpu_ns();
        int ret = strata_pbkdf2(hash, "strata-benchmark", 16, salt, sizeof(salt), it, out,
                                keylen, errp);
        uint64_t dt = cpu_ns() - t0;
        if (ret < 0)
            return ret;
        if (dt >= target || it >= STRATA_KDF_MAX_ITERATIONS) {
            *iter_per_sec = dt ? (uint64_t)((double)it * 1e9 / (double)dt) : it;
            break;
        }
    }
    strata_wipe(out, sizeof(out));
    return 0;
}

int strata_pbkdf2_benchmark(const char *hash, size_t keylen, uint64_t *iter_per_sec,
                            struct strata_error **errp)
{
    return pbkdf2_measure(hash, keylen, 500, iter_per_sec, errp);
}

int strata_pbkdf2_calibrate(const char *hash, size_t keylen, uint32_t iter_time_ms,
                            uint64_t *iterations, struct strata_error **errp)
{
    if (iter_time_ms == 0)
        iter_time_ms = STRATA_PBKDF2_DEFAULT_ITER_TIME_MS;
    /* Short targets (tests) are measured briefly; long ones over 250 ms,
     * enough to smooth out scheduling noise. */
    uint32_t measure = iter_time_ms > 500 ? 250 : (iter_time_ms / 2 ? iter_time_ms / 2 : 1);
    uint64_t ips;
    int ret = pbkdf2_measure(hash, keylen, measure, &ips, errp);
    if (ret < 0)
        return ret;
    uint64_t it = ips / 1000 * iter_time_ms + ips % 1000 * iter_time_ms / 1000;
    *iterations = it < STRATA_PBKDF2_MIN_ITERATIONS ? STRATA_PBKDF2_MIN_ITERATIONS : it;
    return 0;
}
