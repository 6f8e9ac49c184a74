/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-crypto-selftest.c - a cipher plugin whose known-answer self-test
 * fails is refused with a message naming the module and the self-test, and
 * nothing can use it afterwards; a plugin that passes its own self-test but
 * not the core's known-answer test of the name it claims is refused too. */
#include "testutil.h"

#include <strata/crypto.h>
#include <strata/strata.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void test_bad_selftest_refused(void)
{
    struct strata_error *err = NULL;
    int r = strata_module_load(tu_build_path("tests/plugins/bad-selftest.so"), &err);
    CU_ASSERT_TRUE(r < 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    fprintf(stderr, "refusal: %s\n", err->msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "bad-selftest.so"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "self-test"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "badcipher"));
    strata_error_free(err);
    err = NULL;

    CU_ASSERT_PTR_NULL(strata_cipher_alg_find("badcipher", &err));
    strata_error_free(err);
    err = NULL;
    uint8_t key[16] = { 0 };
    struct strata_cipher *c = NULL;
    CU_ASSERT_EQUAL(strata_cipher_open("badcipher", "ecb", NULL, key, 16, &c, &err), -ENOENT);
    CU_ASSERT_PTR_NULL(c);
    strata_error_free(err);
}

/* Loading `so` fails with a refusal containing `want`. */
static void expect_kat_refusal(const char *so, const char *want)
{
    char path[256];
    snprintf(path, sizeof path, "tests/plugins/%s", so);
    struct strata_error *err = NULL;
    int r = strata_module_load(tu_build_path(path), &err);
    CU_ASSERT_EQUAL(r, -EINVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    fprintf(stderr, "refusal: %s\n", err->msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, so));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, want));
    strata_error_free(err);
}

/* An "aes" that outranks strata's own and passes its own (empty) self-test
 * is refused by the core's known-answer test, which names the vector; "aes"
 * stays the real one. */
static void test_core_kat_refuses_fake_aes(void)
{
    expect_kat_refusal("fake-aes.so", "cipher 'aes' (aes-identity) refused: core "
                                      "known-answer test FIPS-197 C.1 AES-128 failed");
    const struct strata_cipher_alg *a = strata_cipher_alg_find("aes", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_STRING_EQUAL(a->impl_name, "aes-gcrypt");
}

/* The same for a hash: a "sha256" whose digest is all zeros. */
static void test_core_kat_refuses_fake_sha256(void)
{
    expect_kat_refusal("fake-sha256.so", "hash 'sha256' (sha256-zero) refused: core "
                                         "known-answer test FIPS 180-2 B.1");
    const struct strata_hash_alg *h = strata_hash_alg_find("sha256", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_STRING_EQUAL(h->impl_name, "sha256-gcrypt");
}

/* Every shipped module passes its own self-test and the core's known-answer
 * tests when it registers. */
static void test_shipped_modules_pass(void)
{
    static const char *const ciphers[] = { "aes", "serpent", "twofish", "cast5", "sm4" };
    static const char *const hashes[] = { "md5", "sha1", "sha224", "sha256", "sha384",
                                          "sha512", "ripemd160", "sm3", "whirlpool" };
    for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
        struct strata_error *err = NULL;
        const struct strata_cipher_alg *a = strata_cipher_alg_find(ciphers[i], &err);
        if (!a)
            fprintf(stderr, "%s: %s\n", ciphers[i], err ? err->msg : "?");
        CU_ASSERT_PTR_NOT_NULL(a);
        strata_error_free(err);
    }
    for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
        struct strata_error *err = NULL;
        const struct strata_hash_alg *h = strata_hash_alg_find(hashes[i], &err);
        if (!h)
            fprintf(stderr, "%s: %s\n", hashes[i], err ? err->msg : "?");
        CU_ASSERT_PTR_NOT_NULL(h);
        strata_error_free(err);
    }
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "bad_selftest_refused", test_bad_selftest_refused },
        { "core_kat_refuses_fake_aes", test_core_kat_refuses_fake_aes },
        { "core_kat_refuses_fake_sha256", test_core_kat_refuses_fake_sha256 },
        { "shipped_modules_pass", test_shipped_modules_pass },
        { NULL, NULL }
    };
    tu_add_suite("crypto-selftest", NULL, NULL, tests);
    return tu_run();
}
