/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kdf.c - key derivation through KDF plugins: the cost checks that come
 * before any derivation, the machine's defaults and calibration. */
#include "crypto-int.h"

#include <strata/kdf.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool is_argon2(const char *name)
{
    return strncmp(name, "argon2", 6) == 0;
}

static bool is_pbkdf2(const char *name)
{
    return strcmp(name, "pbkdf2") == 0;
}

/* Half of physical memory in KiB; 0 when the system does not say. */
static uint64_t half_phys_kib(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || psize <= 0)
        return 0;
    return (uint64_t)pages * (uint64_t)psize / 1024 / 2;
}

static uint32_t memory_limit_kib(void)
{
    uint64_t half = half_phys_kib();
    return half && half < STRATA_KDF_MAX_MEMORY_KIB ? (uint32_t)half
                                                    : STRATA_KDF_MAX_MEMORY_KIB;
}

#ifdef STRATA_FUZZ_KDF
static uint32_t fuzz_iterations, fuzz_memory_kib, fuzz_passes;

void strata_fuzz_kdf_cap(uint32_t iterations, uint32_t memory_kib, uint32_t passes)
{
    fuzz_iterations = iterations;
    fuzz_memory_kib = memory_kib;
    fuzz_passes = passes;
}

uint64_t strata_fuzz_kdf_iterations(uint64_t iterations)
{
    return fuzz_iterations && iterations > fuzz_iterations ? fuzz_iterations : iterations;
}

static void fuzz_kdf_params(const char *name, struct strata_kdf_params *p)
{
    if (!is_argon2(name)) {
        p->iterations = (uint32_t)strata_fuzz_kdf_iterations(p->iterations);
        return;
    }
    if (fuzz_passes && p->iterations > fuzz_passes)
        p->iterations = fuzz_passes;
    /* argon2 needs 8 KiB a lane whatever the cap. */
    uint32_t floor_kib = 8u * p->parallel;
    uint32_t cap = fuzz_memory_kib > floor_kib ? fuzz_memory_kib : floor_kib;
    if (fuzz_memory_kib && p->memory_kib > cap)
        p->memory_kib = cap;
}
#endif

const struct strata_kdf_alg *strata_kdf_alg_find(const char *name, struct strata_error **errp)
{
    return strata_registry_find(STRATA_REG_KDF, name, errp);
}

static int check_argon2(const char *name, const struct strata_kdf_params *p,
                        struct strata_error **errp)
{
    if (p->iterations == 0 || p->iterations > STRATA_KDF_MAX_PASSES)
        return strata_error_set(errp, EINVAL, "%s passes %u %s %u", name, p->iterations,
                                p->iterations ? "exceeds the limit of" : "is below the minimum of",
                                p->iterations ? STRATA_KDF_MAX_PASSES : 1u);
    if (p->parallel == 0 || p->parallel > STRATA_KDF_MAX_PARALLEL)
        return strata_error_set(errp, EINVAL, "%s lanes %u %s %u", name, p->parallel,
                                p->parallel ? "exceeds the limit of" : "is below the minimum of",
                                p->parallel ? STRATA_KDF_MAX_PARALLEL : 1u);
    if (p->memory_kib < 8u * p->parallel)
        return strata_error_set(errp, EINVAL,
                                "%s memory %u KiB is below the minimum of %u KiB "
                                "(8 KiB per lane, %u lanes)",
                                name, p->memory_kib, 8u * p->parallel, p->parallel);
    if (p->memory_kib > STRATA_KDF_MAX_MEMORY_KIB)
        return strata_error_set(errp, EINVAL, "%s memory %u KiB exceeds the limit of %u KiB",
                                name, p->memory_kib, STRATA_KDF_MAX_MEMORY_KIB);
    uint64_t half = half_phys_kib();
    if (half && p->memory_kib > half)
        return strata_error_set(errp, EINVAL,
                                "%s memory %u KiB exceeds the limit of %llu KiB "
                                "(half of this machine's physical memory)",
                                name, p->memory_kib, (unsigned long long)half);
    return 0;
}

int strata_kdf_check_cost(const char *name, const struct strata_kdf_params *params,
                          struct strata_error **errp)
{
    if (!name || !*name)
        return strata_error_set(errp, EINVAL, "no key derivation function name given");
    if (!params)
        return strata_error_set(errp, EINVAL, "%s: no cost parameters given", name);
    if (is_argon2(name))
        return check_argon2(name, params, errp);
    if (is_pbkdf2(name)) {
        if (!params->hash || !*params->hash)
            return strata_error_set(errp, EINVAL, "pbkdf2 needs a hash name");
        if (params->iterations == 0)
            return strata_error_set(errp, EINVAL,
                                    "pbkdf2 iterations 0 is below the minimum of 1");
        if (params->iterations > STRATA_KDF_MAX_ITERATIONS)
            return strata_error_set(errp, EINVAL, "pbkdf2 iterations %u exceeds the limit of %u",
                                    params->iterations, STRATA_KDF_MAX_ITERATIONS);
        return 0;
    }
    /* A KDF the core has no rules for still gets the generic caps. */
    if (params->memory_kib > memory_limit_kib())
        return strata_error_set(errp, EINVAL, "%s memory %u KiB exceeds the limit of %u KiB",
                                name, params->memory_kib, memory_limit_kib());
    if (params->parallel > STRATA_KDF_MAX_PARALLEL)
        return strata_error_set(errp, EINVAL, "%s lanes %u exceeds the limit of %u", name,
                                params->parallel, STRATA_KDF_MAX_PARALLEL);
    return 0;
}

int strata_kdf_derive(const char *name, const struct strata_kdf_params *params,
                      const void *pass, size_t passlen, const void *salt, size_t saltlen,
                      void *out, size_t outlen, struct strata_error **errp)
{
    int ret = strata_kdf_check_cost(name, params, errp);
    if (ret < 0)
        return ret;
    if (!out || outlen == 0)
        return strata_error_set(errp, EINVAL, "%s: no output requested", name);
    if ((!pass && passlen) || (!salt && saltlen))
        return strata_error_set(errp, EINVAL, "%s: no passphrase or salt buffer", name);
    const struct strata_kdf_alg *alg = strata_kdf_alg_find(name, errp);
    if (!alg)
        return -ENOENT;
#ifdef STRATA_FUZZ_KDF
    struct strata_kdf_params capped = *params;
    fuzz_kdf_params(name, &capped);
    params = &capped;
#endif
    ret = alg->derive(params, pass, passlen, salt, saltlen, out, outlen, errp);
    if (ret < 0) {
        strata_wipe(out, outlen);
        if (errp && !*errp)
            strata_error_set(errp, -ret, "%s (%s): derivation failed", name,
                             alg->impl_name ? alg->impl_name : "?");
        return ret;
    }
    return 0;
}

static unsigned online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

int strata_kdf_defaults(const char *name, struct strata_kdf_params *params,
                        struct strata_error **errp)
{
    if (!name)
        name = STRATA_KDF_DEFAULT_NAME;
    memset(params, 0, sizeof(*params));
    if (is_pbkdf2(name)) {
        params->hash = STRATA_KDF_DEFAULT_HASH;
        params->iterations = STRATA_KDF_MIN_ITERATIONS;
        return 0;
    }
    if (!is_argon2(name))
        return strata_error_set(errp, ENOENT, "no defaults for key derivation function '%s'",
                                name);
    uint32_t mem = memory_limit_kib();
    params->memory_kib = mem < STRATA_KDF_DEFAULT_MEMORY_KIB ? mem
                                                             : STRATA_KDF_DEFAULT_MEMORY_KIB;
    unsigned cpus = online_cpus();
    params->parallel = cpus < STRATA_KDF_DEFAULT_PARALLEL ? cpus : STRATA_KDF_DEFAULT_PARALLEL;
    params->iterations = STRATA_KDF_MIN_PASSES;
    return 0;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wall-clock time of one derivation: argon2 lanes run in threads, so the
 * calling thread's CPU time would undercount. */
static int time_derive(const char *name, const struct strata_kdf_params *p, size_t keylen,
                       uint64_t *ns, struct strata_error **errp)
{
    static const uint8_t salt[32];
    uint8_t out[256];
    if (keylen == 0 || keylen > sizeof(out))
        return strata_error_set(errp, EINVAL, "%s: key length %zu out of range", name, keylen);
    uint64_t t0 = mono_ns();
    int ret = strata_kdf_derive(name, p, "strata-benchmark", 16, salt, sizeof(salt), out,
                                keylen, errp);
    *ns = mono_ns() - t0;
    strata_wipe(out, sizeof(out));
    return ret;
}

#define CALIBRATE_PROBE_KIB (64u * 1024)

/* Splits an argon2 run at p's lanes into a fixed part (allocating and
 * touching the memory, the first blocks) and a per-pass part, from runs of
 * a and 2a passes (a doubled until a run is long enough to measure).  The
 * runs use at most CALIBRATE_PROBE_KIB (time grows in proportion with
 * memory beyond the caches), less when one pass alone is far too slow for
 * the target; p->memory_kib says at which memory the figures hold. */
static int probe_argon2(const char *name, struct strata_kdf_params *p, size_t keylen,
                        double target, uint32_t floor_kib, double *fixed, double *per_pass,
                        struct strata_error **errp)
{
    uint64_t want_ns = target / 8 < 5e7 ? (uint64_t)(target / 8) : 50000000u;
    uint64_t t1 = 0, t2 = 0;
    int ret;
    if (p->memory_kib > CALIBRATE_PROBE_KIB)
        p->memory_kib = CALIBRATE_PROBE_KIB;
    p->iterations = 1;
    for (;;) {
        if ((ret = time_derive(name, p, keylen, &t1, errp)) < 0)
            return ret;
        double slow = (double)t1 * STRATA_KDF_MIN_PASSES / target;
        if (p->iterations == 1 && slow > 2 && p->memory_kib > floor_kib) {
            double mem = p->memory_kib / slow;
            p->memory_kib = mem < floor_kib ? floor_kib : (uint32_t)mem;
            continue;
        }
        if (t1 >= want_ns || p->iterations >= STRATA_KDF_MAX_PASSES / 4)
            break;
        p->iterations *= 2;
    }
    uint32_t a = p->iterations;
    p->iterations = 2 * a;
    if ((ret = time_derive(name, p, keylen, &t2, errp)) < 0)
        return ret;
    /* Noise can make the longer run look no longer: then count it all as
     * per-pass time, which errs towards fewer passes. */
    *per_pass = t2 > t1 ? (double)(t2 - t1) / a : (double)(t2 ? t2 : 1) / (2.0 * a);
    *fixed = (double)t1 > *per_pass * a ? (double)t1 - *per_pass * a : 0;
    return 0;
}

/* The memory asked for with as many passes as fill target_ms, or, when even
 * the minimum passes take longer, the minimum passes with memory lowered to
 * fit, as cryptsetup does.  The estimate comes from shorter runs, usually at
 * other memory, so one run at the result corrects it once if it is off by
 * more than a quarter. */
static int calibrate_argon2(const char *name, struct strata_kdf_params *p, uint32_t target_ms,
                            size_t keylen, struct strata_error **errp)
{
    struct strata_kdf_params def;
    int ret = strata_kdf_defaults(name, &def, errp);
    if (ret < 0)
        return ret;
    if (!p->memory_kib)
        p->memory_kib = def.memory_kib;
    if (!p->parallel)
        p->parallel = def.parallel;
    p->hash = NULL;
    p->iterations = STRATA_KDF_MIN_PASSES;
    if ((ret = strata_kdf_check_cost(name, p, errp)) < 0)
        return ret;
    /* Loading the module (and its self-test) must not count. */
    if (!strata_kdf_alg_find(name, errp))
        return -ENOENT;

    double target = (double)target_ms * 1e6, fixed, per_pass;
    uint32_t requested_kib = p->memory_kib;
    uint32_t floor_kib = 8u * p->parallel > STRATA_KDF_MIN_MEMORY_KIB ? 8u * p->parallel
                                                                      : STRATA_KDF_MIN_MEMORY_KIB;
    if ((ret = probe_argon2(name, p, keylen, target, floor_kib, &fixed, &per_pass, errp)) < 0)
        return ret;
    /* Both parts grow with memory: at x KiB, t passes take about
     * x / measured * (fixed + t * per_pass). */
    double scale = (double)requested_kib / p->memory_kib;
    double at_min = scale * (fixed + per_pass * STRATA_KDF_MIN_PASSES);
    double passes = STRATA_KDF_MIN_PASSES, mem = requested_kib;
    if (at_min <= target)
        passes = (target / scale - fixed) / per_pass;
    else
        mem = (double)requested_kib * target / at_min;

    for (int check = 0;; check++) {
        p->iterations = passes > STRATA_KDF_MAX_PASSES ? STRATA_KDF_MAX_PASSES
                      : passes < STRATA_KDF_MIN_PASSES ? STRATA_KDF_MIN_PASSES
                                                       : (uint32_t)passes;
        p->memory_kib = mem > requested_kib ? requested_kib
                      : mem < floor_kib ? floor_kib : (uint32_t)mem;
        if (check)
            return 0;
        uint64_t t;
        if ((ret = time_derive(name, p, keylen, &t, errp)) < 0)
            return ret;
        double ratio = target / (double)(t ? t : 1);
        if (ratio > 0.8 && ratio < 1.25)
            return 0;
        /* Passes go first when there are more than the minimum to give up,
         * memory first when it is below what was asked for. */
        passes = p->iterations;
        mem = p->memory_kib;
        if ((ratio < 1 && passes > STRATA_KDF_MIN_PASSES) ||
            (ratio > 1 && mem >= requested_kib))
            passes *= ratio;
        else
            mem *= ratio;
    }
}

int strata_kdf_calibrate(const char *name, struct strata_kdf_params *params,
                         uint32_t target_ms, size_t keylen, struct strata_error **errp)
{
    if (!name || !*name)
        return strata_error_set(errp, EINVAL, "no key derivation function name given");
    if (target_ms == 0)
        target_ms = STRATA_KDF_DEFAULT_TIME_MS;
    if (is_argon2(name))
        return calibrate_argon2(name, params, target_ms, keylen, errp);
    if (!is_pbkdf2(name))
        return strata_error_set(errp, ENOENT,
                                "cannot calibrate key derivation function '%s'", name);
    if (!params->hash || !*params->hash)
        params->hash = STRATA_KDF_DEFAULT_HASH;
    uint64_t it;
    int ret = strata_pbkdf2_calibrate(params->hash, keylen, target_ms, &it, errp);
    if (ret < 0)
        return ret;
    params->iterations = it > STRATA_KDF_MAX_ITERATIONS ? STRATA_KDF_MAX_ITERATIONS
                                                        : (uint32_t)it;
    if (params->iterations < STRATA_KDF_MIN_ITERATIONS)
        params->iterations = STRATA_KDF_MIN_ITERATIONS;
    params->memory_kib = 0;
    params->parallel = 0;
    return 0;
}
