/* SPDX-License-Identifier: MIT */
/* camellia.c - an out-of-tree cipher plugin for strata: Camellia (RFC 3713)
 * with 128/192/256-bit keys, built only against the installed strata headers
 * (pkg-config strata) and libgcrypt.
 *
 * It implements ECB alone; strata composes CBC, XTS and CTR and its IV
 * generators over it, so "camellia-xts-plain64" or "cbc(camellia)" with
 * essiv:sha256 work without more code here.  See docs/plugin-guide.md. */
#include <strata/cipher.h>
#include <strata/plugin.h>

#include <errno.h>
#include <gcrypt.h>
#include <string.h>

struct camellia_ctx {
    gcry_cipher_hd_t hd;
};

static int camellia_setkey(void *ctx, enum strata_cipher_mode mode, const uint8_t *key,
                           size_t keylen, struct strata_error **errp)
{
    struct camellia_ctx *c = ctx;
    int algo = keylen == 16 ? GCRY_CIPHER_CAMELLIA128
             : keylen == 24 ? GCRY_CIPHER_CAMELLIA192 : GCRY_CIPHER_CAMELLIA256;
    if (mode != STRATA_MODE_ECB)
        return strata_error_set(errp, EINVAL, "camellia: only ECB is done here");
    /* libgcrypt was set up by strata before this module was loaded; a plugin
     * never initialises it again. */
    gcry_error_t e = gcry_cipher_open(&c->hd, algo, GCRY_CIPHER_MODE_ECB, GCRY_CIPHER_SECURE);
    if (!e)
        e = gcry_cipher_setkey(c->hd, key, keylen);
    if (e) {
        if (c->hd)
            gcry_cipher_close(c->hd);
        c->hd = NULL;
        return strata_error_set(errp, EINVAL, "camellia: %zu-byte key: %s", keylen,
                                gcry_strerror(e));
    }
    return 0;
}

static void camellia_destroy(void *ctx)
{
    struct camellia_ctx *c = ctx;
    if (c->hd)
        gcry_cipher_close(c->hd);
    c->hd = NULL;
}

static int camellia_encrypt(void *ctx, const uint8_t *iv, void *out, const void *in,
                            size_t len)
{
    struct camellia_ctx *c = ctx;
    (void)iv;   /* ECB: no IV */
    gcry_error_t e = out == in ? gcry_cipher_encrypt(c->hd, out, len, NULL, 0)
                               : gcry_cipher_encrypt(c->hd, out, len, in, len);
    return e ? -EINVAL : 0;
}

static int camellia_decrypt(void *ctx, const uint8_t *iv, void *out, const void *in,
                            size_t len)
{
    struct camellia_ctx *c = ctx;
    (void)iv;
    gcry_error_t e = out == in ? gcry_cipher_decrypt(c->hd, out, len, NULL, 0)
                               : gcry_cipher_decrypt(c->hd, out, len, in, len);
    return e ? -EINVAL : 0;
}

/* RFC 3713 appendix A: one vector per key size, both directions. */
static int camellia_selftest(struct strata_error **errp)
{
    static const uint8_t key[32] = {
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54,
        0x32, 0x10, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
        0xcc, 0xdd, 0xee, 0xff };
    static const uint8_t ct[3][16] = {
        { 0x67, 0x67, 0x31, 0x38, 0x54, 0x96, 0x69, 0x73,
          0x08, 0x57, 0x06, 0x56, 0x48, 0xea, 0xbe, 0x43 },
        { 0xb4, 0x99, 0x34, 0x01, 0xb3, 0xe9, 0x96, 0xf8,
          0x4e, 0xe5, 0xce, 0xe7, 0xd7, 0x9b, 0x09, 0xb9 },
        { 0x9a, 0xcc, 0x23, 0x7d, 0xff, 0x16, 0xd7, 0x6c,
          0x20, 0xef, 0x7c, 0x91, 0x9e, 0x3a, 0x75, 0x09 },
    };
    const uint8_t *pt = key;    /* the plaintext is the first 16 key bytes */
    for (int i = 0; i < 3; i++) {
        struct camellia_ctx c = { 0 };
        uint8_t buf[16];
        int ret = camellia_setkey(&c, STRATA_MODE_ECB, key, 16 + 8 * (size_t)i, errp);
        if (ret < 0)
            return ret;
        bool ok = camellia_encrypt(&c, NULL, buf, pt, 16) == 0 && memcmp(buf, ct[i], 16) == 0 &&
                  camellia_decrypt(&c, NULL, buf, buf, 16) == 0 && memcmp(buf, pt, 16) == 0;
        camellia_destroy(&c);
        if (!ok)
            return strata_error_set(errp, EIO, "camellia: RFC 3713 %d-bit vector failed",
                                    128 + 64 * i);
    }
    return 0;
}

static const uint16_t camellia_key_sizes[] = { 16, 24, 32, 0 };

static const struct strata_cipher_alg camellia_alg = {
    STRATA_CIPHER_HEAD,
    .name = "camellia",
    .impl_name = "camellia-example",
    .priority = 100,
    .block_size = 16,
    .key_sizes = camellia_key_sizes,
    .native_modes = STRATA_MODE_BIT(STRATA_MODE_ECB),
    .ctx_size = sizeof(struct camellia_ctx),
    .setkey = camellia_setkey,
    .destroy = camellia_destroy,
    .encrypt = camellia_encrypt,
    .decrypt = camellia_decrypt,
    .selftest = camellia_selftest,
};

STRATA_PLUGIN("cipher-camellia", .ciphers = STRATA_CIPHERS(&camellia_alg));
