/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-crypto-iv.c - IV generators checked against openssl: for each sector
 * the test derives the IV itself from its definition (plain: le32 sector,
 * plain64: le64, benbi: be64 block count + 1, null: zero, essiv: the le64
 * sector encrypted by AES-256-ECB under sha256(key), with both the digest
 * and the ECB step done by the openssl command), then has `openssl enc`
 * encrypt the sector and compares with strata's output. */
#include "testutil.h"

#include <strata/crypto.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void tohex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

/* Runs `openssl ARGS -out OUT -in IN` (or, for dgst, with IN as the last
 * argument) over data and reads back outlen bytes. */
static int openssl_run(const char *args, const uint8_t *in, size_t inlen, uint8_t *out,
                       size_t outlen)
{
    const char *pin = tu_path("ossl.in"), *pout = tu_path("ossl.out");
    FILE *f = fopen(pin, "wb");
    if (!f || fwrite(in, 1, inlen, f) != inlen)
        return -1;
    fclose(f);
    char cmd[1024];
    bool positional = strncmp(args, "dgst", 4) == 0;
    snprintf(cmd, sizeof(cmd), "openssl %s -out '%s' %s'%s' 2>&1", args, pout,
             positional ? "" : "-in ", pin);
    if (system(cmd) != 0)
        return -1;
    f = fopen(pout, "rb");
    if (!f)
        return -1;
    size_t n = fread(out, 1, outlen, f);
    fclose(f);
    return n == outlen ? 0 : -1;
}

static int essiv_iv(const uint8_t *key, size_t keylen, uint64_t sector, uint8_t *iv)
{
    uint8_t salt[32], blk[16] = { 0 };
    char salthex[65], args[256];
    if (openssl_run("dgst -sha256 -binary", key, keylen, salt, 32) < 0)
        return -1;
    tohex(salt, 32, salthex);
    for (int i = 0; i < 8; i++)
        blk[i] = (uint8_t)(sector >> (8 * i));
    snprintf(args, sizeof(args), "enc -aes-256-ecb -nopad -K %s", salthex);
    return openssl_run(args, blk, 16, iv, 16);
}

static void check_ivgen(const char *mode, const char *ivgen, size_t sector_size,
                        uint64_t first)
{
    uint8_t key[16];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)(0xa0 + i);
    size_t nsec = 3, len = nsec * sector_size;
    uint8_t *pt = malloc(len), *ct = malloc(len), *ref = malloc(sector_size);
    tu_fill(pt, first * sector_size, len, 11);

    struct strata_cipher *c;
    struct strata_error *err = NULL;
    int r = strata_cipher_open("aes", mode, ivgen, key, 16, &c, &err);
    if (r < 0)
        fprintf(stderr, "%s-%s: %s\n", mode, ivgen, err->msg);
    CU_ASSERT_EQUAL_FATAL(r, 0);
    CU_ASSERT_EQUAL(strata_cipher_encrypt_sectors(c, first, sector_size, ct, pt, len, NULL), 0);

    for (size_t s = 0; s < nsec; s++) {
        uint64_t sector = first + s;
        uint8_t iv[16] = { 0 };
        if (strcmp(ivgen, "plain") == 0) {
            for (int i = 0; i < 4; i++)
                iv[i] = (uint8_t)(sector >> (8 * i));
        } else if (strcmp(ivgen, "plain64") == 0) {
            for (int i = 0; i < 8; i++)
                iv[i] = (uint8_t)(sector >> (8 * i));
        } else if (strcmp(ivgen, "benbi") == 0) {
            uint64_t count = sector * (sector_size / 16) + 1;
            for (int i = 0; i < 8; i++)
                iv[15 - i] = (uint8_t)(count >> (8 * i));
        } else if (strcmp(ivgen, "essiv:sha256") == 0) {
            CU_ASSERT_EQUAL_FATAL(essiv_iv(key, 16, sector, iv), 0);
        }
        char keyhex[33], ivhex[33], args[256];
        tohex(key, 16, keyhex);
        tohex(iv, 16, ivhex);
        snprintf(args, sizeof(args), "enc -aes-128-%s -nopad -K %s -iv %s", mode, keyhex, ivhex);
        CU_ASSERT_EQUAL_FATAL(openssl_run(args, pt + s * sector_size, sector_size, ref,
                                          sector_size), 0);
        if (memcmp(ref, ct + s * sector_size, sector_size) != 0)
            fprintf(stderr, "%s-%s sector %llu (size %zu) differs from openssl\n", mode, ivgen,
                    (unsigned long long)sector, sector_size);
        CU_ASSERT_EQUAL(memcmp(ref, ct + s * sector_size, sector_size), 0);
    }
    CU_ASSERT_EQUAL(strata_cipher_decrypt_sectors(c, first, sector_size, ct, ct, len, NULL), 0);
    CU_ASSERT_EQUAL(memcmp(ct, pt, len), 0);
    strata_cipher_free(c);
    free(pt);
    free(ct);
    free(ref);
}

static void test_openssl_present(void)
{
    CU_ASSERT_EQUAL_FATAL(system("openssl version >/dev/null 2>&1"), 0);
}

/* Sector numbers on both sides of 2^32 tell plain from plain64. */
static void test_plain(void)
{
    check_ivgen("cbc", "plain", 512, 7);
    check_ivgen("cbc", "plain", 512, 0xfffffffeull);
}

static void test_plain64(void)
{
    check_ivgen("cbc", "plain64", 512, 0xfffffffeull);
    check_ivgen("cbc", "plain64", 4096, 0x123456789aull);
    check_ivgen("ctr", "plain64", 512, 0x100000001ull);
}

static void test_essiv(void)
{
    check_ivgen("cbc", "essiv:sha256", 512, 0);
    check_ivgen("cbc", "essiv:sha256", 4096, 0x1122334455ull);
}

static void test_benbi(void)
{
    check_ivgen("cbc", "benbi", 512, 5);
}

static void test_null(void)
{
    check_ivgen("cbc", "null", 512, 9);
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "openssl_present", test_openssl_present },
        { "plain", test_plain },
        { "plain64", test_plain64 },
        { "essiv_sha256", test_essiv },
        { "benbi", test_benbi },
        { "null", test_null },
        { NULL, NULL }
    };
    tu_add_suite("crypto-iv", NULL, NULL, tests);
    return tu_run();
}
