/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-crypto-af.c - the LUKS1 AF splitter: merge of small cases computed
 * from the specification by a separate program (tests/vectors/afsplit.txt),
 * merge(split(x)) == x for several hashes, stripe counts and sizes, and
 * randomness of the split. */
#include "testutil.h"
#include "vectors.h"

#include <strata/crypto.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_merge_vectors(void)
{
    struct tu_vec *v = tu_vec_load("afsplit.txt");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_TRUE(tu_vec_count(v) >= 5);
    for (size_t i = 0; i < tu_vec_count(v); i++) {
        size_t ml, kl;
        uint8_t *mat = tu_vec_hex(v, i, "material", &ml);
        uint8_t *key = tu_vec_hex(v, i, "key", &kl);
        unsigned stripes = (unsigned)tu_vec_num(v, i, "stripes", 0);
        size_t bs = tu_vec_num(v, i, "blocksize", 0);
        CU_ASSERT_EQUAL_FATAL(ml, bs * stripes);
        CU_ASSERT_EQUAL_FATAL(kl, bs);
        uint8_t got[256];
        CU_ASSERT_EQUAL(strata_af_merge(tu_vec_get(v, i, "hash"), mat, bs, stripes, got, NULL), 0);
        if (memcmp(got, key, bs) != 0)
            fprintf(stderr, "%s: merge differs\n", tu_vec_where(v, i));
        CU_ASSERT_EQUAL(memcmp(got, key, bs), 0);
        free(mat);
        free(key);
    }
    tu_vec_free(v);
}

static void roundtrip(const char *hash, size_t bs, unsigned stripes)
{
    uint8_t key[128], back[128];
    tu_fill(key, bs * stripes, bs, stripes);
    uint8_t *a = malloc(bs * stripes), *b = malloc(bs * stripes);
    struct strata_error *err = NULL;
    int r = strata_af_split(hash, key, bs, stripes, a, &err);
    if (r < 0)
        fprintf(stderr, "%s: %s\n", hash, err->msg);
    CU_ASSERT_EQUAL_FATAL(r, 0);
    CU_ASSERT_EQUAL(strata_af_merge(hash, a, bs, stripes, back, NULL), 0);
    CU_ASSERT_EQUAL(memcmp(back, key, bs), 0);
    if (stripes > 1) {
        /* Fresh random stripes each time. */
        CU_ASSERT_EQUAL(strata_af_split(hash, key, bs, stripes, b, NULL), 0);
        CU_ASSERT_NOT_EQUAL(memcmp(a, b, bs * stripes), 0);
        /* One damaged byte in any stripe loses the key. */
        a[(stripes / 2) * bs] ^= 1;
        CU_ASSERT_EQUAL(strata_af_merge(hash, a, bs, stripes, back, NULL), 0);
        CU_ASSERT_NOT_EQUAL(memcmp(back, key, bs), 0);
    }
    free(a);
    free(b);
}

static void test_roundtrip(void)
{
    roundtrip("sha1", 32, 4000);
    roundtrip("sha256", 64, 4000);
    roundtrip("sha256", 16, 2);
    roundtrip("sha512", 16, 1);
    roundtrip("ripemd160", 20, 7);
    roundtrip("whirlpool", 64, 10);
    roundtrip("sm3", 32, 3);
    roundtrip("md5", 50, 5);
    roundtrip("sha224", 100, 13);
}

static void test_refusals(void)
{
    uint8_t k[32] = { 0 }, out[64];
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_af_split("sha256", k, 32, 0, out, &err), -EINVAL);
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(strata_af_merge("sha256", k, 0, 1, out, &err), -EINVAL);
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(strata_af_merge("nosuchhash", k, 32, 1, out, &err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(err);
    strata_error_free(err);
}

static void test_random(void)
{
    uint8_t a[64] = { 0 }, b[64] = { 0 }, zero[64] = { 0 };
    CU_ASSERT_EQUAL(strata_random_bytes(a, sizeof(a), NULL), 0);
    CU_ASSERT_EQUAL(strata_random_bytes(b, sizeof(b), NULL), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a, zero, 64), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a, b, 64), 0);
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "merge_vectors", test_merge_vectors },
        { "split_merge_roundtrip", test_roundtrip },
        { "refusals", test_refusals },
        { "random", test_random },
        { NULL, NULL }
    };
    tu_add_suite("crypto-af", NULL, NULL, tests);
    return tu_run();
}
