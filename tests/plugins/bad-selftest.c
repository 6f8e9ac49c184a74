/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bad-selftest.c - a cipher whose known-answer self-test fails (its
 * "encryption" is a plain XOR with the key, checked against an AES vector):
 * the registry must refuse it. */
#include <strata/cipher.h>
#include <strata/plugin.h>

#include <errno.h>
#include <string.h>

struct bad_ctx {
    uint8_t key[16];
};

static int bad_setkey(void *ctx, enum strata_cipher_mode mode, const uint8_t *key,
                      size_t keylen, struct strata_error **errp)
{
    if (mode != STRATA_MODE_ECB || keylen != 16)
        return strata_error_set(errp, EINVAL, "badcipher: ECB with 16-byte keys only");
    memcpy(((struct bad_ctx *)ctx)->key, key, 16);
    return 0;
}

static void bad_destroy(void *ctx)
{
    memset(ctx, 0, sizeof(struct bad_ctx));
}

static int bad_crypt(void *ctx, const uint8_t *iv, void *out, const void *in, size_t len)
{
    const uint8_t *k = ((struct bad_ctx *)ctx)->key;
    const uint8_t *i = in;
    uint8_t *o = out;
    for (size_t n = 0; n < len; n++)
        o[n] = i[n] ^ k[n % 16];
    return 0;
}

/* FIPS 197 appendix C.1, which an XOR cannot meet. */
static int bad_selftest(struct strata_error **errp)
{
    static const uint8_t key[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    static const uint8_t pt[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
    static const uint8_t ct[16] = { 0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
                                    0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a };
    struct bad_ctx c;
    uint8_t buf[16];
    bad_setkey(&c, STRATA_MODE_ECB, key, 16, NULL);
    bad_crypt(&c, NULL, buf, pt, 16);
    if (memcmp(buf, ct, 16) != 0)
        return strata_error_set(errp, EIO, "badcipher: FIPS 197 C.1 vector gives a wrong "
                                "ciphertext");
    return 0;
}

static const uint16_t bad_key_sizes[] = { 16, 0 };

static const struct strata_cipher_alg bad_alg = {
    STRATA_CIPHER_HEAD,
    .name = "badcipher",
    .impl_name = "badcipher-xor",
    .priority = 1000,
    .block_size = 16,
    .key_sizes = bad_key_sizes,
    .native_modes = STRATA_MODE_BIT(STRATA_MODE_ECB),
    .ctx_size = sizeof(struct bad_ctx),
    .setkey = bad_setkey,
    .destroy = bad_destroy,
    .encrypt = bad_crypt,
    .decrypt = bad_crypt,
    .selftest = bad_selftest,
};

STRATA_PLUGIN("bad-selftest", .ciphers = STRATA_CIPHERS(&bad_alg));
