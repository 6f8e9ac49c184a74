/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pbkdf2.c - PBKDF2-HMAC as a KDF plugin, over the core's PBKDF2 (which
 * uses a hash plugin's native derivation when it has one), so LUKS1 and
 * LUKS2 pbkdf2 keyslots derive through the same code. */
#include <strata/crypto.h>
#include <strata/kdf.h>
#include <strata/plugin.h>

#include <errno.h>
#include <string.h>

static int pbkdf2_derive(const struct strata_kdf_params *params, const void *pass,
                         size_t passlen, const void *salt, size_t saltlen, void *out,
                         size_t outlen, struct strata_error **errp)
{
    if (!params->hash)
        return strata_error_set(errp, EINVAL, "pbkdf2 needs a hash name");
    return strata_pbkdf2(params->hash, pass, passlen, salt, saltlen, params->iterations, out,
                         outlen, errp);
}

/* RFC 6070 section 2, PBKDF2-HMAC-SHA1 tests 3 (4096 iterations) and 6 (a
 * NUL inside password and salt, a 16-byte key): cheap enough at load. */
static int pbkdf2_selftest(struct strata_error **errp)
{
    static const struct {
        const char *pass, *salt;
        size_t passlen, saltlen;
        uint32_t iterations;
        size_t dklen;
        uint8_t dk[20];
    } kat[] = {
        { "password", "salt", 8, 4, 4096, 20,
          { 0x4b, 0x00, 0x79, 0x01, 0xb7, 0x65, 0x48, 0x9a, 0xbe, 0xad,
            0x49, 0xd9, 0x26, 0xf7, 0x21, 0xd0, 0x65, 0xa4, 0x29, 0xc1 } },
        { "pass\0word", "sa\0lt", 9, 5, 4096, 16,
          { 0x56, 0xfa, 0x6a, 0xa7, 0x55, 0x48, 0x09, 0x9d, 0xcc, 0x37, 0xd7, 0xf0, 0x34,
            0x25, 0xe0, 0xc3 } },
    };
    for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
        const struct strata_kdf_params p = { .hash = "sha1", .iterations = kat[i].iterations };
        uint8_t dk[20];
        int r = pbkdf2_derive(&p, kat[i].pass, kat[i].passlen, kat[i].salt, kat[i].saltlen,
                              dk, kat[i].dklen, errp);
        if (r < 0)
            return r;
        if (memcmp(dk, kat[i].dk, kat[i].dklen) != 0)
            return strata_error_set(errp, EIO, "pbkdf2: RFC 6070 vector %zu gives a wrong key",
                                    i + 1);
    }
    return 0;
}

static const struct strata_kdf_alg pbkdf2_alg = {
    .abi_version = STRATA_KDF_ABI,
    .struct_size = sizeof(struct strata_kdf_alg),
    .name = "pbkdf2",
    .impl_name = "pbkdf2-core",
    .priority = 100,
    .derive = pbkdf2_derive,
    .selftest = pbkdf2_selftest,
};

STRATA_PLUGIN("kdf-pbkdf2", .kdfs = STRATA_KDFS(&pbkdf2_alg));
