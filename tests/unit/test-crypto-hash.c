/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-crypto-hash.c - hashes, HMAC and PBKDF2 through the plugin path:
 * RFC 1321, FIPS 180, RIPEMD-160, SM3 and Whirlpool digests, RFC 2202/4231
 * HMAC, RFC 6070 and RFC 7914 PBKDF2 (native, and the core's generic PBKDF2
 * over a plugin with and without copy()), iteration calibration. */
#include "testutil.h"
#include "vectors.h"

#include <strata/crypto.h>
#include <strata/strata.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool generic_loaded;

static int suite_init(void)
{
    generic_loaded =
        strata_module_load(tu_build_path("tests/plugins/crypto-generic.so"), NULL) == 0;
    return 0;
}

/* msg = "text" repeated `repeat` times. */
static uint8_t *vec_message(struct tu_vec *v, size_t i, size_t *len)
{
    const char *q = tu_vec_get(v, i, "msg");
    size_t n = strlen(q) - 2;
    uint64_t rep = tu_vec_num(v, i, "repeat", 1);
    uint8_t *m = malloc(n * rep + 1);
    for (uint64_t r = 0; r < rep; r++)
        memcpy(m + r * n, q + 1, n);
    *len = n * rep;
    return m;
}

static void test_digests(void)
{
    struct tu_vec *v = tu_vec_load("hashes.txt");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_TRUE(tu_vec_count(v) >= 30);
    for (size_t i = 0; i < tu_vec_count(v); i++) {
        const char *h = tu_vec_get(v, i, "hash");
        size_t len, dl;
        uint8_t *msg = vec_message(v, i, &len);
        uint8_t *want = tu_vec_hex(v, i, "digest", &dl);
        uint8_t got[64];
        struct strata_error *err = NULL;
        CU_ASSERT_EQUAL(strata_hash_digest_size(h, NULL), (int)dl);
        int r = strata_hash_buf(h, msg, len, got, &err);
        if (r < 0)
            fprintf(stderr, "%s: %s\n", tu_vec_where(v, i), err->msg);
        CU_ASSERT_EQUAL_FATAL(r, 0);
        if (memcmp(got, want, dl) != 0)
            fprintf(stderr, "%s: %s digest differs\n", tu_vec_where(v, i), h);
        CU_ASSERT_EQUAL(memcmp(got, want, dl), 0);

        /* Streaming in uneven pieces, with a copy taken half-way. */
        struct strata_hash *s, *cp;
        CU_ASSERT_EQUAL_FATAL(strata_hash_open(h, &s, NULL), 0);
        size_t off = 0, step = 1;
        while (off < len / 2) {
            size_t n = len / 2 - off < step ? len / 2 - off : step;
            strata_hash_update(s, msg + off, n);
            off += n;
            step = step * 3 + 1;
        }
        CU_ASSERT_EQUAL_FATAL(strata_hash_copy(s, &cp, NULL), 0);
        strata_hash_update(s, msg + off, len - off);
        strata_hash_update(cp, msg + off, len - off);
        memset(got, 0, sizeof(got));
        strata_hash_final(s, got);
        CU_ASSERT_EQUAL(memcmp(got, want, dl), 0);
        memset(got, 0, sizeof(got));
        strata_hash_final(cp, got);
        CU_ASSERT_EQUAL(memcmp(got, want, dl), 0);
        free(msg);
        free(want);
    }
    tu_vec_free(v);
}

static void test_unknown_hash(void)
{
    struct strata_error *err = NULL;
    uint8_t d[64];
    CU_ASSERT_EQUAL(strata_hash_buf("nosuchhash", "x", 1, d, &err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "nosuchhash"));
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(strata_pbkdf2("nosuchhash", "p", 1, (const uint8_t *)"s", 1, 1000, d, 16,
                                  &err), -ENOENT);
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(strata_hmac("nosuchhash", "k", 1, "d", 1, d, &err), -ENOENT);
    strata_error_free(err);
    CU_ASSERT_EQUAL(strata_pbkdf2("sha256", "p", 1, (const uint8_t *)"s", 1, 0, d, 16, NULL),
                    -EINVAL);
}

/* alias maps "sha1" -> "testsha1" etc. to run through the generic code. */
static void run_hmac(bool generic)
{
    struct tu_vec *v = tu_vec_load("hmac.txt");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_TRUE(tu_vec_count(v) >= 40);
    size_t done = 0;
    for (size_t i = 0; i < tu_vec_count(v); i++) {
        char name[32];
        const char *h = tu_vec_get(v, i, "hash");
        if (generic) {
            if (strcmp(h, "sha1") && strcmp(h, "sha256"))
                continue;
            snprintf(name, sizeof(name), "test%s", h);
            h = name;
        }
        size_t kl, dl, ml;
        uint8_t *key = tu_vec_hex(v, i, "key", &kl);
        uint8_t *data = tu_vec_hex(v, i, "data", &dl);
        uint8_t *mac = tu_vec_hex(v, i, "mac", &ml);
        uint8_t got[64];
        CU_ASSERT_EQUAL_FATAL(strata_hmac(h, key, kl, data, dl, got, NULL), 0);
        if (memcmp(got, mac, ml) != 0)
            fprintf(stderr, "%s: hmac-%s differs\n", tu_vec_where(v, i), h);
        CU_ASSERT_EQUAL(memcmp(got, mac, ml), 0);
        done++;
        free(key);
        free(data);
        free(mac);
    }
    CU_ASSERT_TRUE(done >= 14);
    tu_vec_free(v);
}

static void test_hmac(void) { run_hmac(false); }
static void test_hmac_generic(void)
{
    CU_ASSERT_TRUE_FATAL(generic_loaded);
    run_hmac(true);
}

static void run_pbkdf2(const char *prefix)
{
    struct tu_vec *v = tu_vec_load("pbkdf2.txt");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_TRUE(tu_vec_count(v) >= 7);
    for (size_t i = 0; i < tu_vec_count(v); i++) {
        char name[32];
        snprintf(name, sizeof(name), "%s%s", prefix, tu_vec_get(v, i, "hash"));
        size_t pl, sl, dl;
        uint8_t *pw = tu_vec_hex(v, i, "password", &pl);
        uint8_t *salt = tu_vec_hex(v, i, "salt", &sl);
        uint8_t *dk = tu_vec_hex(v, i, "dk", &dl);
        uint8_t got[128];
        CU_ASSERT_TRUE_FATAL(dl <= sizeof(got));
        struct strata_error *err = NULL;
        int r = strata_pbkdf2(name, pw, pl, salt, sl, tu_vec_num(v, i, "iterations", 0), got,
                              dl, &err);
        if (r < 0)
            fprintf(stderr, "%s: %s\n", tu_vec_where(v, i), err->msg);
        CU_ASSERT_EQUAL_FATAL(r, 0);
        if (memcmp(got, dk, dl) != 0)
            fprintf(stderr, "%s: pbkdf2-%s differs\n", tu_vec_where(v, i), name);
        CU_ASSERT_EQUAL(memcmp(got, dk, dl), 0);
        free(pw);
        free(salt);
        free(dk);
    }
    tu_vec_free(v);
}

static void test_pbkdf2_native(void) { run_pbkdf2(""); }

/* testsha1 has copy() (pads hashed once), testsha256 has not. */
static void test_pbkdf2_generic(void)
{
    CU_ASSERT_TRUE_FATAL(generic_loaded);
    run_pbkdf2("test");
}

static void test_calibrate(void)
{
    uint64_t it = 0, ips = 0;
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_pbkdf2_calibrate("sha256", 32, 50, &it, &err), 0);
    CU_ASSERT_TRUE(it >= STRATA_PBKDF2_MIN_ITERATIONS);
    /* A target too short for 1000 iterations still gets the minimum. */
    CU_ASSERT_EQUAL(strata_pbkdf2_calibrate("sha512", 64, 1, &it, NULL), 0);
    CU_ASSERT_TRUE(it >= STRATA_PBKDF2_MIN_ITERATIONS);
    CU_ASSERT_EQUAL(strata_pbkdf2_benchmark("sha1", 20, &ips, NULL), 0);
    CU_ASSERT_TRUE(ips > 0);
    CU_ASSERT_EQUAL(strata_pbkdf2_calibrate("nosuchhash", 32, 50, &it, &err), -ENOENT);
    strata_error_free(err);
    CU_ASSERT_EQUAL(STRATA_PBKDF2_DEFAULT_ITER_TIME_MS, 2000);
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "digests", test_digests },
        { "unknown_hash", test_unknown_hash },
        { "hmac_rfc2202_rfc4231", test_hmac },
        { "hmac_generic_plugin", test_hmac_generic },
        { "pbkdf2_native", test_pbkdf2_native },
        { "pbkdf2_generic", test_pbkdf2_generic },
        { "calibrate", test_calibrate },
        { NULL, NULL }
    };
    tu_add_suite("crypto-hash", suite_init, NULL, tests);
    return tu_run();
}
