/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-crypto-kdf.c - key derivation through the KDF plugins: Argon2i and
 * Argon2id against the reference implementation's vectors and against that
 * implementation itself (libargon2, which cryptsetup uses, loaded here) on
 * odd costs and lengths, PBKDF2 against RFC 6070 / RFC 7914 and against
 * `openssl kdf` run here, the refusal of
 * costs beyond the caps (with the messages), a plugin with a failing
 * self-test, the machine defaults and calibration. */
#include "testutil.h"
#include "vectors.h"

#include <strata/crypto.h>
#include <strata/kdf.h>
#include <strata/strata.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_shipped_kdfs(void)
{
    static const char *const names[] = { "pbkdf2", "argon2i", "argon2id" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct strata_error *err = NULL;
        const struct strata_kdf_alg *a = strata_kdf_alg_find(names[i], &err);
        if (!a)
            fprintf(stderr, "%s: %s\n", names[i], err ? err->msg : "?");
        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        CU_ASSERT_STRING_EQUAL(a->name, names[i]);
        strata_error_free(err);
    }
    struct strata_error *err = NULL;
    CU_ASSERT_PTR_NULL(strata_kdf_alg_find("nosuchkdf", &err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "unknown key derivation function 'nosuchkdf'"));
    strata_error_free(err);
}

static void test_argon2_vectors(void)
{
    struct tu_vec *v = tu_vec_load("argon2.txt");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_TRUE(tu_vec_count(v) >= 9);
    size_t lanes4 = 0;
    for (size_t i = 0; i < tu_vec_count(v); i++) {
        size_t pl, sl, tl;
        uint8_t *pw = tu_vec_hex(v, i, "password", &pl);
        uint8_t *salt = tu_vec_hex(v, i, "salt", &sl);
        uint8_t *tag = tu_vec_hex(v, i, "tag", &tl);
        const struct strata_kdf_params p = {
            .iterations = (uint32_t)tu_vec_num(v, i, "passes", 0),
            .memory_kib = (uint32_t)tu_vec_num(v, i, "memory", 0),
            .parallel = (uint32_t)tu_vec_num(v, i, "lanes", 0),
        };
        lanes4 += p.parallel == 4;
        uint8_t got[64];
        CU_ASSERT_TRUE_FATAL(tag && tl <= sizeof(got));
        struct strata_error *err = NULL;
        int r = strata_kdf_derive(tu_vec_get(v, i, "kdf"), &p, pw, pl, salt, sl, got, tl,
                                  &err);
        if (r < 0)
            fprintf(stderr, "%s: %s\n", tu_vec_where(v, i), err->msg);
        CU_ASSERT_EQUAL_FATAL(r, 0);
        if (memcmp(got, tag, tl) != 0)
            fprintf(stderr, "%s: %s tag differs\n", tu_vec_where(v, i),
                    tu_vec_get(v, i, "kdf"));
        CU_ASSERT_EQUAL(memcmp(got, tag, tl), 0);
        free(pw);
        free(salt);
        free(tag);
    }
    /* The lanes run in threads: vectors with 4 lanes check the dispatcher. */
    CU_ASSERT_TRUE(lanes4 >= 2);
    tu_vec_free(v);
}

/* Each cost and input changes the key; the same inputs give the same key. */
static void test_argon2_inputs_matter(void)
{
    static const uint8_t salt[32] = { 1, 2, 3 };
    const struct strata_kdf_params base = { .iterations = 2, .memory_kib = 256, .parallel = 2 };
    uint8_t ref[64], again[64], other[64];
    CU_ASSERT_EQUAL_FATAL(strata_kdf_derive("argon2id", &base, "pw", 2, salt, 32, ref, 64, NULL),
                          0);
    CU_ASSERT_EQUAL(strata_kdf_derive("argon2id", &base, "pw", 2, salt, 32, again, 64, NULL), 0);
    CU_ASSERT_EQUAL(memcmp(ref, again, 64), 0);

    struct strata_kdf_params p = base;
    p.iterations = 3;
    CU_ASSERT_EQUAL(strata_kdf_derive("argon2id", &p, "pw", 2, salt, 32, other, 64, NULL), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(ref, other, 64), 0);
    p = base;
    p.memory_kib = 512;
    CU_ASSERT_EQUAL(strata_kdf_derive("argon2id", &p, "pw", 2, salt, 32, other, 64, NULL), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(ref, other, 64), 0);
    p = base;
    p.parallel = 4;
    CU_ASSERT_EQUAL(strata_kdf_derive("argon2id", &p, "pw", 2, salt, 32, other, 64, NULL), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(ref, other, 64), 0);
    CU_ASSERT_EQUAL(strata_kdf_derive("argon2i", &base, "pw", 2, salt, 32, other, 64, NULL), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(ref, other, 64), 0);
    CU_ASSERT_EQUAL(strata_kdf_derive("argon2id", &base, "pX", 2, salt, 32, other, 64, NULL), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(ref, other, 64), 0);

    /* Salts shorter than Argon2's minimum of 8 bytes are refused. */
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_kdf_derive("argon2id", &base, "pw", 2, salt, 7, other, 64, &err),
                    -EINVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "salt"));
    strata_error_free(err);
    err = NULL;
    /* libgcrypt cannot take an empty passphrase: refused with a reason. */
    CU_ASSERT_EQUAL(strata_kdf_derive("argon2i", &base, "", 0, salt, 32, other, 64, &err),
                    -EINVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "empty passphrase"));
    strata_error_free(err);
}

/* libargon2's argon2i_hash_raw / argon2id_hash_raw. */
typedef int (*argon2_raw_fn)(uint32_t t, uint32_t m, uint32_t p, const void *pwd,
                             size_t pwdlen, const void *salt, size_t saltlen, void *hash,
                             size_t hashlen);

/* Memory that is no multiple of 4 x lanes (Argon2 rounds it down but hashes
 * the given value), 3, 7 and 16 lanes, a 1-byte passphrase, the shortest
 * salt and tag, long tags: cases the fixed vectors do not reach, checked against the
 * reference implementation cryptsetup links. */
static void test_argon2_against_libargon2(void)
{
    void *h = dlopen("libargon2.so.1", RTLD_NOW);
    if (!h)
        fprintf(stderr, "libargon2.so.1 (installed with cryptsetup): %s\n", dlerror());
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    static const struct {
        const char *kdf, *sym;
        uint32_t t, m, p;
        size_t passlen, saltlen, outlen;
    } cases[] = {
        { "argon2id", "argon2id_hash_raw", 1, 8, 1, 1, 8, 4 },
        { "argon2id", "argon2id_hash_raw", 3, 1000, 3, 11, 32, 17 },
        { "argon2id", "argon2id_hash_raw", 2, 4100, 7, 64, 32, 64 },
        { "argon2id", "argon2id_hash_raw", 5, 333, 4, 32, 16, 100 },
        { "argon2id", "argon2id_hash_raw", 4, 8192, 4, 9, 32, 32 },
        { "argon2i", "argon2i_hash_raw", 1, 64, 2, 5, 9, 32 },
        { "argon2i", "argon2i_hash_raw", 3, 1000, 3, 1, 32, 64 },
        { "argon2i", "argon2i_hash_raw", 2, 2050, 16, 40, 32, 33 },
        { "argon2i", "argon2i_hash_raw", 4, 8192, 4, 32, 32, 32 },
    };
    uint8_t pass[64], salt[32], want[128], got[128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        argon2_raw_fn fn;
        void *sym = dlsym(h, cases[i].sym);
        CU_ASSERT_PTR_NOT_NULL_FATAL(sym);
        memcpy(&fn, &sym, sizeof(fn));
        for (size_t k = 0; k < sizeof(pass); k++)
            pass[k] = (uint8_t)(k * 31 + i);
        for (size_t k = 0; k < sizeof(salt); k++)
            salt[k] = (uint8_t)(k * 17 + 3 * i + 1);
        CU_ASSERT_EQUAL_FATAL(fn(cases[i].t, cases[i].m, cases[i].p, pass, cases[i].passlen,
                                 salt, cases[i].saltlen, want, cases[i].outlen),
                              0);
        const struct strata_kdf_params p = { .iterations = cases[i].t,
                                             .memory_kib = cases[i].m,
                                             .parallel = cases[i].p };
        struct strata_error *err = NULL;
        int r = strata_kdf_derive(cases[i].kdf, &p, pass, cases[i].passlen, salt,
                                  cases[i].saltlen, got, cases[i].outlen, &err);
        if (r < 0)
            fprintf(stderr, "case %zu: %s\n", i, err->msg);
        CU_ASSERT_EQUAL_FATAL(r, 0);
        if (memcmp(got, want, cases[i].outlen) != 0)
            fprintf(stderr, "case %zu: %s t=%u m=%u p=%u differs from libargon2\n", i,
                    cases[i].kdf, cases[i].t, cases[i].m, cases[i].p);
        CU_ASSERT_EQUAL(memcmp(got, want, cases[i].outlen), 0);
    }
    dlclose(h);
}

static void test_pbkdf2_vectors(void)
{
    struct tu_vec *v = tu_vec_load("pbkdf2.txt");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_TRUE(tu_vec_count(v) >= 7);
    for (size_t i = 0; i < tu_vec_count(v); i++) {
        size_t pl, sl, dl;
        uint8_t *pw = tu_vec_hex(v, i, "password", &pl);
        uint8_t *salt = tu_vec_hex(v, i, "salt", &sl);
        uint8_t *dk = tu_vec_hex(v, i, "dk", &dl);
        const struct strata_kdf_params p = {
            .hash = tu_vec_get(v, i, "hash"),
            .iterations = (uint32_t)tu_vec_num(v, i, "iterations", 0),
        };
        uint8_t got[128];
        CU_ASSERT_TRUE_FATAL(dk && dl <= sizeof(got));
        struct strata_error *err = NULL;
        int r = strata_kdf_derive("pbkdf2", &p, pw, pl, salt, sl, got, dl, &err);
        if (r < 0)
            fprintf(stderr, "%s: %s\n", tu_vec_where(v, i), err->msg);
        CU_ASSERT_EQUAL_FATAL(r, 0);
        CU_ASSERT_EQUAL(memcmp(got, dk, dl), 0);
        free(pw);
        free(salt);
        free(dk);
    }
    tu_vec_free(v);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

/* `openssl kdf` prints the key as colon-separated hex. */
static int openssl_pbkdf2(const char *digest, const uint8_t *pass, size_t passlen,
                          const uint8_t *salt, size_t saltlen, uint32_t iter, uint8_t *out,
                          size_t outlen)
{
    char hp[256], hs[256], cmd[1024], line[1024];
    hex(pass, passlen, hp);
    hex(salt, saltlen, hs);
    snprintf(cmd, sizeof(cmd),
             "openssl kdf -keylen %zu -kdfopt digest:%s -kdfopt hexpass:%s "
             "-kdfopt hexsalt:%s -kdfopt iter:%u PBKDF2 2>&1",
             outlen, digest, hp, hs, iter);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    char *got = fgets(line, sizeof(line), f);
    int st = pclose(f);
    if (!got || st != 0) {
        fprintf(stderr, "%s: %s\n", cmd, got ? line : "(no output)");
        return -1;
    }
    size_t n = 0;
    for (const char *s = line; *s && n < outlen;) {
        unsigned v;
        if (sscanf(s, "%2x", &v) != 1)
            return -1;
        out[n++] = (uint8_t)v;
        s += 2;
        if (*s == ':')
            s++;
    }
    return n == outlen ? 0 : -1;
}

static void test_pbkdf2_openssl(void)
{
    static const struct {
        const char *hash, *digest;
        uint32_t iter;
        size_t keylen;
    } cases[] = {
        { "sha256", "SHA256", 1000, 32 },
        { "sha256", "SHA256", 1001, 64 },   /* two blocks, odd count */
        { "sha512", "SHA512", 1000, 64 },
        { "sha1", "SHA1", 2000, 48 },
        { "ripemd160", "RIPEMD160", 1000, 32 },
    };
    uint8_t pass[40], salt[32];
    for (size_t i = 0; i < sizeof(pass); i++)
        pass[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof(salt); i++)
        salt[i] = (uint8_t)(255 - i * 3);
    size_t compared = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t ref[64], got[64];
        if (openssl_pbkdf2(cases[i].digest, pass, 13 + i, salt, sizeof(salt), cases[i].iter,
                           ref, cases[i].keylen) < 0) {
            /* RIPEMD-160 sits in openssl's legacy provider, which may be
             * off; the SHA cases must run. */
            CU_ASSERT_STRING_EQUAL(cases[i].hash, "ripemd160");
            continue;
        }
        const struct strata_kdf_params p = { .hash = cases[i].hash, .iterations = cases[i].iter };
        CU_ASSERT_EQUAL_FATAL(strata_kdf_derive("pbkdf2", &p, pass, 13 + i, salt, sizeof(salt),
                                                got, cases[i].keylen, NULL),
                              0);
        if (memcmp(got, ref, cases[i].keylen) != 0)
            fprintf(stderr, "pbkdf2-%s differs from openssl\n", cases[i].hash);
        CU_ASSERT_EQUAL(memcmp(got, ref, cases[i].keylen), 0);
        compared++;
    }
    CU_ASSERT_TRUE(compared >= 4);
}

/* The cost is refused with `msg` and the output buffer is not touched. */
static void expect_refusal(const char *name, struct strata_kdf_params p, const char *msg)
{
    uint8_t out[32];
    memset(out, 0xa5, sizeof(out));
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_kdf_check_cost(name, &p, NULL), -EINVAL);
    int r = strata_kdf_derive(name, &p, "pw", 2, "saltsaltsaltsalt", 16, out, sizeof(out),
                              &err);
    CU_ASSERT_EQUAL(r, -EINVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    if (!strstr(err->msg, msg))
        fprintf(stderr, "want \"%s\", got \"%s\"\n", msg, err->msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, msg));
    strata_error_free(err);
    for (size_t i = 0; i < sizeof(out); i++)
        CU_ASSERT_EQUAL(out[i], 0xa5);
}

static void test_cost_refusals(void)
{
    const struct strata_kdf_params ok = { .iterations = 4, .memory_kib = 1024, .parallel = 4 };
    CU_ASSERT_EQUAL(strata_kdf_check_cost("argon2id", &ok, NULL), 0);

    struct strata_kdf_params p = ok;
    p.memory_kib = 8388608;
    expect_refusal("argon2id", p, "argon2id memory 8388608 KiB exceeds the limit of 4194304 KiB");
    p.memory_kib = UINT32_MAX;
    expect_refusal("argon2i", p, "argon2i memory 4294967295 KiB exceeds the limit of");
    p = ok;
    p.iterations = 1001;
    expect_refusal("argon2id", p, "argon2id passes 1001 exceeds the limit of 1000");
    p.iterations = 0;
    expect_refusal("argon2id", p, "argon2id passes 0 is below the minimum of 1");
    p = ok;
    p.parallel = 17;
    expect_refusal("argon2id", p, "argon2id lanes 17 exceeds the limit of 16");
    p.parallel = 0;
    expect_refusal("argon2i", p, "argon2i lanes 0 is below the minimum of 1");
    p = ok;
    p.memory_kib = 31;
    expect_refusal("argon2id", p, "argon2id memory 31 KiB is below the minimum of 32 KiB");

    /* Half of physical memory caps memory when it is below the fixed cap. */
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    CU_ASSERT_TRUE_FATAL(pages > 0 && psize > 0);
    uint64_t half = (uint64_t)pages * (uint64_t)psize / 1024 / 2;
    if (half < STRATA_KDF_MAX_MEMORY_KIB) {
        p = ok;
        p.memory_kib = (uint32_t)half + 1;
        expect_refusal("argon2id", p, "half of this machine's physical memory");
    }

    const struct strata_kdf_params pb = { .hash = "sha256", .iterations = 1000 };
    CU_ASSERT_EQUAL(strata_kdf_check_cost("pbkdf2", &pb, NULL), 0);
    p = pb;
    p.iterations = 0;
    expect_refusal("pbkdf2", p, "pbkdf2 iterations 0 is below the minimum of 1");
    p = pb;
    p.hash = NULL;
    expect_refusal("pbkdf2", p, "pbkdf2 needs a hash name");
    /* 100 million iterations is the cap: minutes of work, not hours. */
    p = pb;
    p.iterations = STRATA_KDF_MAX_ITERATIONS;
    CU_ASSERT_EQUAL(strata_kdf_check_cost("pbkdf2", &p, NULL), 0);
    p.iterations = UINT32_MAX;
    expect_refusal("pbkdf2", p, "pbkdf2 iterations 4294967295 exceeds the limit of 100000000");
    uint8_t out[32];
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_pbkdf2("sha256", "pw", 2, (const uint8_t *)"salt", 4,
                                  STRATA_KDF_MAX_ITERATIONS + 1ull, out, sizeof out, &err),
                    -EINVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "100000001 iterations exceeds the limit of 100000000"));
    strata_error_free(err);

    /* A name the core knows no costs for still meets the generic caps. */
    p = ok;
    p.memory_kib = 8388608;
    CU_ASSERT_EQUAL(strata_kdf_check_cost("scrypt", &p, NULL), -EINVAL);
    CU_ASSERT_EQUAL(strata_kdf_check_cost(NULL, &ok, NULL), -EINVAL);
    CU_ASSERT_EQUAL(strata_kdf_check_cost("argon2id", NULL, NULL), -EINVAL);
}

static void test_bad_selftest_refused(void)
{
    struct strata_error *err = NULL;
    int r = strata_module_load(tu_build_path("tests/plugins/bad-kdf.so"), &err);
    CU_ASSERT_TRUE(r < 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    fprintf(stderr, "refusal: %s\n", err->msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "bad-kdf.so"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "self-test"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "badkdf"));
    strata_error_free(err);
    err = NULL;

    CU_ASSERT_PTR_NULL(strata_kdf_alg_find("badkdf", &err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "self-test"));
    strata_error_free(err);
    err = NULL;
    const struct strata_kdf_params p = { .iterations = 1 };
    uint8_t out[16];
    CU_ASSERT_EQUAL(strata_kdf_derive("badkdf", &p, "pw", 2, "salt", 4, out, 16, &err),
                    -ENOENT);
    strata_error_free(err);
}

/* A module built for plugin ABI 1.0 (no kdfs list) loads, and nothing
 * after its struct_size is read as one. */
static void test_plugin_abi_1_0(void)
{
    struct strata_error *err = NULL;
    int r = strata_module_load(tu_build_path("tests/plugins/plugin-abi-1-0.so"), &err);
    if (r < 0)
        fprintf(stderr, "%s\n", err->msg);
    CU_ASSERT_EQUAL(r, 0);
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_PTR_NULL(strata_kdf_alg_find("stalekdf", &err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NULL(strstr(err->msg, "self-test"));
    strata_error_free(err);
}

static void test_defaults(void)
{
    struct strata_kdf_params p;
    CU_ASSERT_EQUAL_FATAL(strata_kdf_defaults(NULL, &p, NULL), 0);
    CU_ASSERT_STRING_EQUAL(STRATA_KDF_DEFAULT_NAME, "argon2id");
    CU_ASSERT_EQUAL(STRATA_KDF_DEFAULT_TIME_MS, 2000);
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    uint64_t half = (uint64_t)pages * (uint64_t)psize / 1024 / 2;
    uint32_t want_mem = half < 1048576 ? (uint32_t)half : 1048576;
    CU_ASSERT_EQUAL(p.memory_kib, want_mem);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    CU_ASSERT_EQUAL(p.parallel, cpus < 4 ? (uint32_t)cpus : 4u);
    CU_ASSERT_EQUAL(p.iterations, STRATA_KDF_MIN_PASSES);
    CU_ASSERT_PTR_NULL(p.hash);
    CU_ASSERT_EQUAL(strata_kdf_check_cost("argon2id", &p, NULL), 0);

    CU_ASSERT_EQUAL_FATAL(strata_kdf_defaults("pbkdf2", &p, NULL), 0);
    CU_ASSERT_STRING_EQUAL(p.hash, "sha256");
    CU_ASSERT_EQUAL(p.iterations, STRATA_KDF_MIN_ITERATIONS);
    CU_ASSERT_EQUAL(strata_kdf_defaults("nosuchkdf", &p, NULL), -ENOENT);
}

static void expect_within_caps(const char *name, const struct strata_kdf_params *p)
{
    struct strata_error *err = NULL;
    int r = strata_kdf_check_cost(name, p, &err);
    if (r < 0)
        fprintf(stderr, "%s: %s\n", name, err->msg);
    CU_ASSERT_EQUAL(r, 0);
    strata_error_free(err);
}

static void test_calibrate(void)
{
    struct strata_error *err = NULL;
    struct strata_kdf_params p = { .hash = "sha256" };
    CU_ASSERT_EQUAL_FATAL(strata_kdf_calibrate("pbkdf2", &p, 50, 32, &err), 0);
    CU_ASSERT_TRUE(p.iterations >= STRATA_KDF_MIN_ITERATIONS);
    CU_ASSERT_STRING_EQUAL(p.hash, "sha256");
    expect_within_caps("pbkdf2", &p);

    /* Small memory, generous time: memory and lanes stay, passes grow. */
    p = (struct strata_kdf_params){ .memory_kib = 1024, .parallel = 2 };
    CU_ASSERT_EQUAL_FATAL(strata_kdf_calibrate("argon2id", &p, 200, 32, &err), 0);
    fprintf(stderr, "argon2id 200 ms at 1 MiB: t=%u\n", p.iterations);
    CU_ASSERT_EQUAL(p.memory_kib, 1024);
    CU_ASSERT_EQUAL(p.parallel, 2);
    CU_ASSERT_TRUE(p.iterations > STRATA_KDF_MIN_PASSES);
    CU_ASSERT_TRUE(p.iterations <= STRATA_KDF_MAX_PASSES);
    expect_within_caps("argon2id", &p);

    /* 64 MiB cannot be done 4 times in 1 ms: memory comes down, passes
     * stay at the minimum. */
    p = (struct strata_kdf_params){ .memory_kib = 65536, .parallel = 1 };
    CU_ASSERT_EQUAL_FATAL(strata_kdf_calibrate("argon2i", &p, 1, 32, &err), 0);
    fprintf(stderr, "argon2i 1 ms from 64 MiB: m=%u KiB t=%u\n", p.memory_kib, p.iterations);
    CU_ASSERT_EQUAL(p.iterations, STRATA_KDF_MIN_PASSES);
    CU_ASSERT_TRUE(p.memory_kib < 65536);
    CU_ASSERT_TRUE(p.memory_kib >= STRATA_KDF_MIN_MEMORY_KIB);
    expect_within_caps("argon2i", &p);

    /* Over-cap memory is refused, not silently used. */
    p = (struct strata_kdf_params){ .memory_kib = 8388608, .parallel = 1 };
    CU_ASSERT_EQUAL(strata_kdf_calibrate("argon2id", &p, 10, 32, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "exceeds the limit"));
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(strata_kdf_calibrate("nosuchkdf", &p, 10, 32, &err), -ENOENT);
    strata_error_free(err);
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "shipped_kdfs", test_shipped_kdfs },
        { "argon2_reference_vectors", test_argon2_vectors },
        { "argon2_against_libargon2", test_argon2_against_libargon2 },
        { "argon2_inputs_matter", test_argon2_inputs_matter },
        { "pbkdf2_rfc_vectors", test_pbkdf2_vectors },
        { "pbkdf2_against_openssl", test_pbkdf2_openssl },
        { "cost_refusals", test_cost_refusals },
        { "bad_selftest_refused", test_bad_selftest_refused },
        { "plugin_abi_1_0", test_plugin_abi_1_0 },
        { "defaults", test_defaults },
        { "calibrate", test_calibrate },
        { NULL, NULL }
    };
    tu_add_suite("crypto-kdf", NULL, NULL, tests);
    return tu_run();
}
