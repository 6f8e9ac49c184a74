/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* random.c - random bytes for keys, salts and AF stripes. */
#include "crypto-int.h"

#include <gcrypt.h>

int strata_random_bytes(void *buf, size_t len, struct strata_error **errp)
{
    (void)errp;
    strata_gcrypt_init();
    /* GCRY_STRONG_RANDOM: libgcrypt seeds from the kernel's generator;
     * gcry_randomize cannot fail short of aborting the process. */
    gcry_randomize(buf, len, GCRY_STRONG_RANDOM);
    return 0;
}
