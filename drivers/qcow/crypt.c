/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crypt.c - the legacy qcow AES scheme: AES-128-CBC per 512-byte sector,
 * the IV the 64-bit little-endian guest sector number, the key the first 16
 * bytes of the passphrase (zero padded).  No salt, no key derivation, no key
 * check: a wrong passphrase decrypts to garbage without any error.  It is
 * kept so that old images can be read and their data rescued. */
#include "qcow-int.h"

#include <errno.h>
#include <string.h>

#include <strata/strata.h>

const char *qcow_aes_warning(void)
{
    return "the legacy qcow AES encryption scheme is broken (the passphrase is the "
           "key, no salt, no integrity, predictable IVs) and should only be used to "
           "rescue data; a wrong passphrase cannot be detected by this format: it reads "
           "as garbage.  Convert the data to qcow2 or luks with encrypt.format=luks";
}

int qcow_crypt_open(struct qcow_state *s, const char *secret_id,
                    struct strata_error **errp)
{
    uint8_t *pass = NULL;
    size_t plen = 0;
    int r = strata_secret_get(secret_id, &pass, &plen, errp);
    if (r < 0) {
        strata_error_prefix(errp, "%s", s->name);
        return r;
    }
    uint8_t *key = strata_secure_alloc(16);
    if (!key) {
        strata_secret_free(pass, plen);
        return strata_error_set(errp, ENOMEM, "out of memory");
    }
    memset(key, 0, 16);
    /* The passphrase is a C string to the scheme: it ends at a NUL byte. */
    size_t n = 0;
    while (n < plen && n < 16 && pass[n] != 0)
        n++;
    memcpy(key, pass, n);
    strata_secret_free(pass, plen);
    r = strata_cipher_open("aes", "cbc", "plain64", key, 16, &s->cipher, errp);
    strata_secure_free(key, 16);
    if (r < 0)
        strata_error_prefix(errp, "%s: setting up AES-128-CBC", s->name);
    return r;
}
