/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crypto-generic.c - algorithms that leave the work to the core's generic
 * code, as a minimal third-party plugin would: "testaes" does ECB only (the
 * core builds CBC, XTS and CTR over it), "testsha1" has no native PBKDF2
 * (the core's HMAC/PBKDF2 run over copy()), "testsha256" has neither copy
 * nor PBKDF2.  They borrow the work from strata's own aes and sha plugins
 * through the public API, so the results can be checked against the same
 * published vectors. */
#include <strata/crypto.h>
#include <strata/plugin.h>

#include <errno.h>
#include <string.h>

struct tg_cipher {
    struct strata_cipher *c;
};

static int tg_setkey(void *ctx, enum strata_cipher_mode mode, const uint8_t *key,
                     size_t keylen, struct strata_error **errp)
{
    struct tg_cipher *t = ctx;
    if (mode != STRATA_MODE_ECB)
        return strata_error_set(errp, EINVAL, "testaes: ECB only");
    return strata_cipher_open("aes", "ecb", NULL, key, keylen, &t->c, errp);
}

static void tg_destroy(void *ctx)
{
    struct tg_cipher *t = ctx;
    strata_cipher_free(t->c);
    t->c = NULL;
}

static int tg_encrypt(void *ctx, const uint8_t *iv, void *out, const void *in, size_t len)
{
    return strata_cipher_encrypt_iv(((struct tg_cipher *)ctx)->c, NULL, out, in, len, NULL);
}

static int tg_decrypt(void *ctx, const uint8_t *iv, void *out, const void *in, size_t len)
{
    return strata_cipher_decrypt_iv(((struct tg_cipher *)ctx)->c, NULL, out, in, len, NULL);
}

/* FIPS 197 appendix C.1. */
static int tg_cipher_selftest(struct strata_error **errp)
{
    static const uint8_t key[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    static const uint8_t pt[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
    static const uint8_t ct[16] = { 0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
                                    0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a };
    struct tg_cipher t = { 0 };
    uint8_t buf[16];
    int ret = tg_setkey(&t, STRATA_MODE_ECB, key, 16, errp);
    if (ret < 0)
        return ret;
    ret = tg_encrypt(&t, NULL, buf, pt, 16);
    tg_destroy(&t);
    if (ret < 0 || memcmp(buf, ct, 16) != 0)
        return strata_error_set(errp, EIO, "testaes: self-test failed");
    return 0;
}

static const uint16_t tg_key_sizes[] = { 16, 24, 32, 0 };

static const struct strata_cipher_alg tg_aes = {
    STRATA_CIPHER_HEAD,
    .name = "testaes",
    .impl_name = "testaes-ecb-only",
    .priority = 10,
    .block_size = 16,
    .key_sizes = tg_key_sizes,
    .native_modes = STRATA_MODE_BIT(STRATA_MODE_ECB),
    .ctx_size = sizeof(struct tg_cipher),
    .setkey = tg_setkey,
    .destroy = tg_destroy,
    .encrypt = tg_encrypt,
    .decrypt = tg_decrypt,
    .selftest = tg_cipher_selftest,
};

/* ------------------------------------------------------------ hashes */
struct tg_hash {
    struct strata_hash *h;
};

static int tg_sha1_init(void *ctx) { return strata_hash_open("sha1", &((struct tg_hash *)ctx)->h, NULL); }
static int tg_sha256_init(void *ctx) { return strata_hash_open("sha256", &((struct tg_hash *)ctx)->h, NULL); }

static void tg_update(void *ctx, const void *data, size_t len)
{
    strata_hash_update(((struct tg_hash *)ctx)->h, data, len);
}

static void tg_final(void *ctx, uint8_t *digest)
{
    struct tg_hash *t = ctx;
    strata_hash_final(t->h, digest);
    t->h = NULL;
}

static void tg_hdestroy(void *ctx)
{
    struct tg_hash *t = ctx;
    strata_hash_abort(t->h);
    t->h = NULL;
}

static int tg_copy(void *dst, const void *src)
{
    return strata_hash_copy(((const struct tg_hash *)src)->h, &((struct tg_hash *)dst)->h,
                            NULL);
}

static int tg_hash_selftest(struct strata_error **errp)
{
    return 0;   /* the wrapped plugins ran their own */
}

static const struct strata_hash_alg tg_sha1 = {
    STRATA_HASH_HEAD,
    .name = "testsha1",
    .impl_name = "testsha1-generic",
    .priority = 10,
    .digest_size = 20,
    .block_size = 64,
    .ctx_size = sizeof(struct tg_hash),
    .init = tg_sha1_init,
    .update = tg_update,
    .final = tg_final,
    .destroy = tg_hdestroy,
    .copy = tg_copy,
    .selftest = tg_hash_selftest,
};

static const struct strata_hash_alg tg_sha256 = {
    STRATA_HASH_HEAD,
    .name = "testsha256",
    .impl_name = "testsha256-generic",
    .priority = 10,
    .digest_size = 32,
    .block_size = 64,
    .ctx_size = sizeof(struct tg_hash),
    .init = tg_sha256_init,
    .update = tg_update,
    .final = tg_final,
    .destroy = tg_hdestroy,
    .selftest = tg_hash_selftest,
};

STRATA_PLUGIN("crypto-generic", .ciphers = STRATA_CIPHERS(&tg_aes),
              .hashes = STRATA_HASHES(&tg_sha1, &tg_sha256));
