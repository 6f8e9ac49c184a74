/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bad-kdf.c - a key derivation function whose known-answer self-test fails
 * (it "derives" by repeating the passphrase, checked against RFC 6070's
 * first vector): the registry must refuse it. */
#include <strata/kdf.h>
#include <strata/plugin.h>

#include <errno.h>
#include <string.h>

static int bad_derive(const struct strata_kdf_params *params, const void *pass,
                      size_t passlen, const void *salt, size_t saltlen, void *out,
                      size_t outlen, struct strata_error **errp)
{
    const uint8_t *p = pass;
    uint8_t *o = out;
    for (size_t i = 0; i < outlen; i++)
        o[i] = passlen ? p[i % passlen] : 0;
    return 0;
}

/* RFC 6070 test 1, which a repetition cannot meet. */
static int bad_selftest(struct strata_error **errp)
{
    static const uint8_t dk[20] = { 0x0c, 0x60, 0xc8, 0x0f, 0x96, 0x1f, 0x0e, 0x71, 0xf3, 0xa9,
                                    0xb5, 0x24, 0xaf, 0x60, 0x12, 0x06, 0x2f, 0xe0, 0x37, 0xa6 };
    const struct strata_kdf_params p = { .hash = "sha1", .iterations = 1 };
    uint8_t out[20];
    bad_derive(&p, "password", 8, "salt", 4, out, sizeof(out), errp);
    if (memcmp(out, dk, sizeof(out)) != 0)
        return strata_error_set(errp, EIO, "badkdf: RFC 6070 test 1 gives a wrong key");
    return 0;
}

static const struct strata_kdf_alg bad_alg = {
    .abi_version = STRATA_KDF_ABI,
    .struct_size = sizeof(struct strata_kdf_alg),
    .name = "badkdf",
    .impl_name = "badkdf-repeat",
    .priority = 1000,
    .derive = bad_derive,
    .selftest = bad_selftest,
};

STRATA_PLUGIN("bad-kdf", .kdfs = STRATA_KDFS(&bad_alg));
