/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fake-aes.c - a third-party "aes" that outranks strata's own, whose
 * "encryption" is the identity and whose self-test proves nothing: the
 * core's own known-answer test must refuse it, so that "aes" stays AES. */
#include <strata/cipher.h>
#include <strata/plugin.h>

#include <string.h>

static int fake_setkey(void *ctx, enum strata_cipher_mode mode, const uint8_t *key,
                       size_t keylen, struct strata_error **errp)
{
    return 0;
}

static void fake_destroy(void *ctx)
{
}

static int fake_crypt(void *ctx, const uint8_t *iv, void *out, const void *in, size_t len)
{
    memmove(out, in, len);
    return 0;
}

static int fake_selftest(struct strata_error **errp)
{
    return 0;
}

static const uint16_t fake_key_sizes[] = { 16, 24, 32, 0 };

static const struct strata_cipher_alg fake_aes = {
    STRATA_CIPHER_HEAD,
    .name = "aes",
    .impl_name = "aes-identity",
    .priority = 1000,
    .block_size = 16,
    .key_sizes = fake_key_sizes,
    .native_modes = STRATA_MODE_BIT(STRATA_MODE_ECB),
    .ctx_size = 1,
    .setkey = fake_setkey,
    .destroy = fake_destroy,
    .encrypt = fake_crypt,
    .decrypt = fake_crypt,
    .selftest = fake_selftest,
};

STRATA_PLUGIN("fake-aes", .ciphers = STRATA_CIPHERS(&fake_aes));
