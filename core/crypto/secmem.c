/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* secmem.c - libgcrypt set-up and memory for key material: the public
 * secure allocator and the one the crypto layer keeps plugin contexts,
 * keys and salts in. */
#include "crypto-int.h"

#include <gcrypt.h>
#include <pthread.h>
#include <string.h>

static pthread_once_t gcrypt_once = PTHREAD_ONCE_INIT;

static void gcrypt_init_once(void)
{
    /* An application that set libgcrypt up itself keeps its own settings. */
    if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
        return;
    if (!gcry_check_version(GCRYPT_VERSION)) {
        strata_debug("libgcrypt %s is older than the %s strata was built with",
                     gcry_check_version(NULL), GCRYPT_VERSION);
    }
    /* Without the right to mlock, libgcrypt still hands out memory from its
     * pool, only unlocked; that is the best an unprivileged process can do,
     * so its warning about it would only be noise. */
    gcry_control(GCRYCTL_DISABLE_SECMEM_WARN);
    gcry_control(GCRYCTL_INIT_SECMEM, 1 << 20, 0);
    /* Many open LUKS nodes must not exhaust a fixed-size pool. */
    gcry_control(GCRYCTL_AUTO_EXPAND_SECMEM, 1 << 20, 0);
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    strata_debug("libgcrypt %s initialised with a secure memory pool",
                 gcry_check_version(NULL));
}

void strata_gcrypt_init(void)
{
    pthread_once(&gcrypt_once, gcrypt_init_once);
}

void *strata_secure_alloc(size_t len)
{
    strata_gcrypt_init();
    if (len == 0)
        len = 1;
    void *p = gcry_calloc_secure(1, len);
    if (!p)
        p = gcry_calloc(1, len);
    return p;
}

void strata_secure_free(void *p, size_t len)
{
    if (!p)
        return;
    strata_wipe(p, len);
    gcry_free(p);
}

void strata_wipe(void *p, size_t len)
{
    if (p && len)
        explicit_bzero(p, len);
}

void *strata_crypto_ctx_alloc(size_t size)
{
    return strata_secure_alloc(size);   /* zeroed */
}

void strata_crypto_ctx_free(void *ctx, size_t size)
{
    strata_secure_free(ctx, size);      /* wiped */
}
