/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-crypto-cipher.c - ciphers through the plugin path: published vectors
 * (NIST SP 800-38A, IEEE 1619, NESSIE Serpent, Twofish paper, RFC 2144,
 * GB/T 32907) for native modes and for the core's generic modes over an
 * ECB-only plugin, refusals, spec parsing and concurrent use of one handle. */
#include "testutil.h"
#include "vectors.h"

#include <strata/crypto.h>
#include <strata/strata.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool generic_loaded;

static int suite_init(void)
{
    struct strata_error *err = NULL;
    int r = strata_module_load(tu_build_path("tests/plugins/crypto-generic.so"), &err);
    if (r < 0) {
        fprintf(stderr, "crypto-generic.so: %s\n", err ? err->msg : "?");
        strata_error_free(err);
    }
    generic_loaded = r == 0;
    return 0;
}

/* Runs every record of a vector file; alg_override replaces "aes" (to send
 * the AES vectors through the ECB-only plugin). */
static void run_file(const char *file, const char *alg_override)
{
    struct tu_vec *v = tu_vec_load(file);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_TRUE(tu_vec_count(v) > 0);
    for (size_t i = 0; i < tu_vec_count(v); i++) {
        const char *alg = tu_vec_get(v, i, "alg");
        const char *mode = tu_vec_get(v, i, "mode");
        const char *ivgen = tu_vec_get(v, i, "ivgen");
        if (alg_override && strcmp(alg, "aes") == 0)
            alg = alg_override;
        size_t kl, pl, cl, ivl = 0;
        uint8_t *key = tu_vec_hex(v, i, "key", &kl);
        uint8_t *pt = tu_vec_hex(v, i, "pt", &pl);
        uint8_t *ct = tu_vec_hex(v, i, "ct", &cl);
        uint8_t *iv = tu_vec_hex(v, i, "iv", &ivl);
        CU_ASSERT_FATAL(key && pt && ct && pl == cl);
        if (!ivgen)
            ivgen = strcmp(mode, "ecb") ? "plain64" : NULL;

        struct strata_error *err = NULL;
        struct strata_cipher *c = NULL;
        int r = strata_cipher_open(alg, mode, ivgen, key, kl, &c, &err);
        if (r < 0)
            fprintf(stderr, "%s: %s\n", tu_vec_where(v, i), err->msg);
        CU_ASSERT_EQUAL_FATAL(r, 0);
        CU_ASSERT_EQUAL(strata_cipher_key_size(c), kl);

        uint8_t *buf = malloc(pl);
        uint64_t sector_size = tu_vec_num(v, i, "sector_size", 0);
        if (sector_size) {
            uint64_t sector = tu_vec_num(v, i, "sector", 0);
            CU_ASSERT_EQUAL(strata_cipher_encrypt_sectors(c, sector, sector_size, buf, pt,
                                                          pl, NULL), 0);
            if (memcmp(buf, ct, pl) != 0)
                fprintf(stderr, "%s: %s encryption differs\n", tu_vec_where(v, i), alg);
            CU_ASSERT_EQUAL(memcmp(buf, ct, pl), 0);
            /* in place */
            CU_ASSERT_EQUAL(strata_cipher_decrypt_sectors(c, sector, sector_size, buf, buf,
                                                          pl, NULL), 0);
            CU_ASSERT_EQUAL(memcmp(buf, pt, pl), 0);
        } else {
            CU_ASSERT_EQUAL(strata_cipher_encrypt_iv(c, iv, buf, pt, pl, NULL), 0);
            if (memcmp(buf, ct, pl) != 0)
                fprintf(stderr, "%s: %s encryption differs\n", tu_vec_where(v, i), alg);
            CU_ASSERT_EQUAL(memcmp(buf, ct, pl), 0);
            CU_ASSERT_EQUAL(strata_cipher_decrypt_iv(c, iv, buf, ct, pl, NULL), 0);
            CU_ASSERT_EQUAL(memcmp(buf, pt, pl), 0);
            /* in place */
            memcpy(buf, pt, pl);
            CU_ASSERT_EQUAL(strata_cipher_encrypt_iv(c, iv, buf, buf, pl, NULL), 0);
            CU_ASSERT_EQUAL(memcmp(buf, ct, pl), 0);
            CU_ASSERT_EQUAL(strata_cipher_decrypt_iv(c, iv, buf, buf, pl, NULL), 0);
            CU_ASSERT_EQUAL(memcmp(buf, pt, pl), 0);
        }
        strata_cipher_free(c);
        free(buf);
        free(key);
        free(pt);
        free(ct);
        free(iv);
    }
    tu_vec_free(v);
}

static void test_aes_sp800_38a(void) { run_file("aes-sp800-38a.txt", NULL); }
static void test_xts_ieee1619(void) { run_file("xts-ieee1619.txt", NULL); }
static void test_serpent(void) { run_file("serpent.txt", NULL); }
static void test_twofish(void) { run_file("twofish.txt", NULL); }
static void test_cast5(void) { run_file("cast5.txt", NULL); }
static void test_sm4(void) { run_file("sm4.txt", NULL); }

static void test_generic_modes_sp800_38a(void)
{
    CU_ASSERT_TRUE_FATAL(generic_loaded);
    run_file("aes-sp800-38a.txt", "testaes");
}

static void test_generic_modes_xts(void)
{
    CU_ASSERT_TRUE_FATAL(generic_loaded);
    run_file("xts-ieee1619.txt", "testaes");
}

/* IEEE 1619 vectors 4, 5, 6 are sectors 0, 1, 2 with each plaintext the
 * previous ciphertext: one call over three sectors must give all three. */
static void xts_batch(const char *alg)
{
    struct tu_vec *v = tu_vec_load("xts-ieee1619.txt");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    size_t idx[3] = { 3, 4, 5 }, kl, l;
    uint8_t in[3 * 512], want[3 * 512], out[3 * 512];
    uint8_t *key = tu_vec_hex(v, idx[0], "key", &kl);
    for (int k = 0; k < 3; k++) {
        CU_ASSERT_EQUAL(tu_vec_num(v, idx[k], "sector", 99), (uint64_t)k);
        uint8_t *p = tu_vec_hex(v, idx[k], "pt", &l);
        uint8_t *c = tu_vec_hex(v, idx[k], "ct", &l);
        CU_ASSERT_EQUAL_FATAL(l, 512);
        memcpy(in + 512 * k, p, 512);
        memcpy(want + 512 * k, c, 512);
        free(p);
        free(c);
    }
    struct strata_cipher *c;
    CU_ASSERT_EQUAL_FATAL(strata_cipher_open(alg, "xts", "plain64", key, kl, &c, NULL), 0);
    CU_ASSERT_EQUAL(strata_cipher_encrypt_sectors(c, 0, 512, out, in, sizeof(in), NULL), 0);
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof(out)), 0);
    CU_ASSERT_EQUAL(strata_cipher_decrypt_sectors(c, 0, 512, out, out, sizeof(out), NULL), 0);
    CU_ASSERT_EQUAL(memcmp(out, in, sizeof(out)), 0);
    strata_cipher_free(c);
    free(key);
    tu_vec_free(v);
}

static void test_xts_batch(void) { xts_batch("aes"); }
static void test_xts_batch_generic(void)
{
    CU_ASSERT_TRUE_FATAL(generic_loaded);
    xts_batch("testaes");
}

/* The core's generic modes and libgcrypt's must agree on long multi-sector
 * buffers too, for every IV generator (beyond the vectors' short inputs). */
static void test_generic_matches_native(void)
{
    CU_ASSERT_TRUE_FATAL(generic_loaded);
    static const char *const modes[] = { "cbc", "ctr", "xts" };
    static const char *const ivgens[] = { "plain", "plain64", "essiv:sha256", "null" };
    uint8_t key[64];
    size_t len = 3 * 4096;
    uint8_t *in = malloc(len), *a = malloc(len), *b = malloc(len);
    tu_fill(in, 0, len, 7);
    for (size_t k = 0; k < sizeof(key); k++)
        key[k] = (uint8_t)(k * 7 + 3);
    for (int m = 0; m < 3; m++)
        for (int g = 0; g < 4; g++) {
            size_t kl = strcmp(modes[m], "xts") ? 32 : 64;
            struct strata_cipher *na, *ge;
            CU_ASSERT_EQUAL_FATAL(strata_cipher_open("aes", modes[m], ivgens[g], key, kl,
                                                     &na, NULL), 0);
            CU_ASSERT_EQUAL_FATAL(strata_cipher_open("testaes", modes[m], ivgens[g], key, kl,
                                                     &ge, NULL), 0);
            CU_ASSERT_EQUAL(strata_cipher_encrypt_sectors(na, 0xfffffffeu, 4096, a, in, len,
                                                          NULL), 0);
            CU_ASSERT_EQUAL(strata_cipher_encrypt_sectors(ge, 0xfffffffeu, 4096, b, in, len,
                                                          NULL), 0);
            CU_ASSERT_EQUAL(memcmp(a, b, len), 0);
            CU_ASSERT_NOT_EQUAL(memcmp(a, in, len), 0);
            CU_ASSERT_EQUAL(strata_cipher_decrypt_sectors(ge, 0xfffffffeu, 4096, b, b, len,
                                                          NULL), 0);
            CU_ASSERT_EQUAL(memcmp(b, in, len), 0);
            strata_cipher_free(na);
            strata_cipher_free(ge);
        }
    free(in);
    free(a);
    free(b);
}

/* ------------------------------------------------------------ refusals */
static void expect_refusal(const char *alg, const char *mode, const char *ivgen,
                           size_t keylen, int code, const char *want1, const char *want2)
{
    uint8_t key[64] = { 1 };
    struct strata_error *err = NULL;
    struct strata_cipher *c = (struct strata_cipher *)&err;
    int r = strata_cipher_open(alg, mode, ivgen, key, keylen, &c, &err);
    CU_ASSERT_EQUAL(r, -code);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    if (!strstr(err->msg, want1) || (want2 && !strstr(err->msg, want2)))
        fprintf(stderr, "unexpected message: %s\n", err->msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, want1));
    if (want2)
        CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, want2));
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(strata_cipher_check(alg, mode, ivgen, keylen, &err), -code);
    strata_error_free(err);
}

static void test_refusals(void)
{
    expect_refusal("nosuchcipher", "cbc", "plain64", 16, ENOENT, "nosuchcipher", NULL);
    expect_refusal("aes", "ofb", "plain64", 16, ENOENT, "ofb", NULL);
    expect_refusal("aes", "cbc", "lmk", 16, ENOENT, "lmk", NULL);
    expect_refusal("aes", "cbc", "plain64", 20, EINVAL, "aes", "20");
    expect_refusal("aes", "xts", "plain64", 32 + 8, EINVAL, "aes", "40");
    expect_refusal("aes", "xts", "plain64", 16, EINVAL, "xts(aes)", "16");
    expect_refusal("cast5", "xts", "plain64", 32, EINVAL, "xts(cast5)", "16-byte block");
    expect_refusal("cast5", "cbc", "plain64", 24, EINVAL, "cast5", "24");
    expect_refusal("sm4", "cbc", "plain64", 32, EINVAL, "sm4", "32");
    /* ESSIV: sha1's 20-byte digest is no AES key size. */
    expect_refusal("aes", "cbc", "essiv:sha1", 16, EINVAL, "essiv:sha1", "20");
    expect_refusal("aes", "cbc", "essiv:nosuchhash", 16, ENOENT, "nosuchhash", NULL);
    expect_refusal("aes", "ecb", "plain64", 16, EINVAL, "ecb", "plain64");
    expect_refusal("aes", "cbc", "", 16, EINVAL, "cbc(aes)", NULL);
}

static void test_length_checks(void)
{
    uint8_t key[32] = { 0 }, buf[1024] = { 0 };
    struct strata_cipher *c;
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_cipher_open("aes", "cbc", "plain64", key, 16, &c, NULL), 0);
    CU_ASSERT_EQUAL(strata_cipher_encrypt_sectors(c, 0, 512, buf, buf, 700, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(err);
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(strata_cipher_encrypt_sectors(c, 0, 100, buf, buf, 200, &err), -EINVAL);
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(strata_cipher_encrypt_iv(c, key, buf, buf, 15, &err), -EINVAL);
    strata_error_free(err);
    CU_ASSERT_EQUAL(strata_cipher_block_size(c), 16);
    CU_ASSERT_STRING_EQUAL(strata_cipher_name(c), "cbc(aes)");
    CU_ASSERT_STRING_EQUAL(strata_cipher_ivgen_name(c), "plain64");
    CU_ASSERT_STRING_EQUAL(strata_cipher_impl_name(c), "aes-gcrypt");
    strata_cipher_free(c);
    /* CTR takes any length. */
    CU_ASSERT_EQUAL_FATAL(strata_cipher_open("aes", "ctr", "plain64", key, 16, &c, NULL), 0);
    CU_ASSERT_EQUAL(strata_cipher_encrypt_sectors(c, 0, 100, buf, buf, 300, NULL), 0);
    CU_ASSERT_EQUAL(strata_cipher_decrypt_sectors(c, 0, 100, buf, buf, 300, NULL), 0);
    for (int k = 0; k < 300; k++)
        CU_ASSERT_EQUAL(buf[k], 0);
    strata_cipher_free(c);
}

/* ------------------------------------------------------------ spec parsing */
static void parse_ok(const char *name, const char *mode, const char *alg, const char *m,
                     const char *iv)
{
    struct strata_cipher_spec s;
    struct strata_error *err = NULL;
    int r = strata_cipher_spec_parse(name, mode, &s, &err);
    CU_ASSERT_EQUAL(r, 0);
    if (r < 0) {
        fprintf(stderr, "%s / %s: %s\n", name, mode ? mode : "-", err->msg);
        strata_error_free(err);
        return;
    }
    CU_ASSERT_STRING_EQUAL(s.alg, alg);
    CU_ASSERT_STRING_EQUAL(s.mode, m);
    CU_ASSERT_STRING_EQUAL(s.ivgen, iv);
}

static void parse_bad(const char *name, const char *mode)
{
    struct strata_cipher_spec s;
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_cipher_spec_parse(name, mode, &s, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(err);
    strata_error_free(err);
}

static void test_spec_parse(void)
{
    parse_ok("aes", "xts-plain64", "aes", "xts", "plain64");
    parse_ok("aes", "cbc-essiv:sha256", "aes", "cbc", "essiv:sha256");
    parse_ok("twofish", "cbc-plain", "twofish", "cbc", "plain");
    parse_ok("serpent", "ecb", "serpent", "ecb", "");
    parse_ok("aes", "cbc", "aes", "cbc", "plain");
    parse_ok("aes-xts-plain64", NULL, "aes", "xts", "plain64");
    parse_ok("sm4-cbc-essiv:sm3", NULL, "sm4", "cbc", "essiv:sm3");
    parse_ok("xts(aes)", NULL, "aes", "xts", "plain");
    parse_ok("xts(aes)-plain64", NULL, "aes", "xts", "plain64");
    parse_ok("cbc(serpent)-essiv:sha256", "", "serpent", "cbc", "essiv:sha256");
    parse_bad("", NULL);
    parse_bad("aes", NULL);
    parse_bad("xts(aes", NULL);
    parse_bad("xts(aes)plain", NULL);
    parse_bad("aes/x", "cbc");
    parse_bad("aes", "-plain64");
    parse_bad("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "cbc");

    struct strata_cipher_spec s;
    uint8_t key[64] = { 0 };
    struct strata_cipher *c;
    CU_ASSERT_EQUAL_FATAL(strata_cipher_spec_parse("aes-xts-plain64", NULL, &s, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(strata_cipher_open_spec(&s, key, 64, &c, NULL), 0);
    CU_ASSERT_STRING_EQUAL(strata_cipher_name(c), "xts(aes)");
    strata_cipher_free(c);
}

/* ------------------------------------------------------------ threads */
#define NTHREADS 8
#define TLEN (64 * 512)

struct thr {
    struct strata_cipher *c;
    const uint8_t *in, *want;
    int bad;
};

static void *thr_main(void *p)
{
    struct thr *t = p;
    uint8_t *buf = malloc(TLEN);
    for (int round = 0; round < 200; round++) {
        /* Each thread works on its own slice of sectors. */
        size_t off = (size_t)(round % 8) * (TLEN / 8);
        uint64_t sector = off / 512 + 1000;
        if (strata_cipher_encrypt_sectors(t->c, sector, 512, buf, t->in + off, TLEN / 8,
                                          NULL) < 0 ||
            memcmp(buf, t->want + off, TLEN / 8) != 0)
            t->bad++;
        if (strata_cipher_decrypt_sectors(t->c, sector, 512, buf, buf, TLEN / 8, NULL) < 0 ||
            memcmp(buf, t->in + off, TLEN / 8) != 0)
            t->bad++;
    }
    free(buf);
    return NULL;
}

static void threads_on(const char *alg, const char *ivgen)
{
    uint8_t key[64];
    for (int k = 0; k < 64; k++)
        key[k] = (uint8_t)(200 - k);
    uint8_t *in = malloc(TLEN), *want = malloc(TLEN);
    tu_fill(in, 0, TLEN, 3);
    struct strata_cipher *c;
    CU_ASSERT_EQUAL_FATAL(strata_cipher_open(alg, "xts", ivgen, key, 64, &c, NULL), 0);
    CU_ASSERT_EQUAL(strata_cipher_encrypt_sectors(c, 1000, 512, want, in, TLEN, NULL), 0);
    struct thr t[NTHREADS];
    pthread_t th[NTHREADS];
    for (int k = 0; k < NTHREADS; k++) {
        t[k] = (struct thr){ c, in, want, 0 };
        pthread_create(&th[k], NULL, thr_main, &t[k]);
    }
    for (int k = 0; k < NTHREADS; k++) {
        pthread_join(th[k], NULL);
        CU_ASSERT_EQUAL(t[k].bad, 0);
    }
    strata_cipher_free(c);
    free(in);
    free(want);
}

static void test_threads_native(void) { threads_on("aes", "essiv:sha256"); }
static void test_threads_generic(void)
{
    CU_ASSERT_TRUE_FATAL(generic_loaded);
    threads_on("testaes", "plain64");
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "aes_sp800_38a", test_aes_sp800_38a },
        { "xts_ieee1619", test_xts_ieee1619 },
        { "xts_batch", test_xts_batch },
        { "serpent", test_serpent },
        { "twofish", test_twofish },
        { "cast5_rfc2144", test_cast5 },
        { "sm4", test_sm4 },
        { "generic_modes_sp800_38a", test_generic_modes_sp800_38a },
        { "generic_modes_xts", test_generic_modes_xts },
        { "xts_batch_generic", test_xts_batch_generic },
        { "generic_matches_native", test_generic_matches_native },
        { "refusals", test_refusals },
        { "length_checks", test_length_checks },
        { "spec_parse", test_spec_parse },
        { "threads_native", test_threads_native },
        { "threads_generic", test_threads_generic },
        { NULL, NULL }
    };
    tu_add_suite("crypto-cipher", suite_init, NULL, tests);
    return tu_run();
}
