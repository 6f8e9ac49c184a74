/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin_check.c - what a descriptor must satisfy before it is registered.
 *
 * Every descriptor starts with its ABI version and struct size.  A different
 * major version is refused (members may have moved); a smaller struct_size is
 * an older minor and is accepted: the descriptor is copied into a full-size
 * zeroed struct so the core can read members the plugin did not know about.
 */
#include "module.h"

#include <strata/encryption.h>
#include <strata/kdf.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The head every descriptor kind shares. */
struct desc_head {
    uint32_t abi_version;
    uint32_t struct_size;
    const char *name;
};

struct kind_abi {
    uint32_t abi;       /* this core's version */
    size_t full_size;   /* sizeof the current struct */
    size_t min_size;    /* the smallest struct_size ever published */
};

static struct kind_abi kind_abi(enum strata_reg_kind kind)
{
    switch (kind) {
    case STRATA_REG_DRIVER:
        return (struct kind_abi){ STRATA_DRIVER_ABI, sizeof(struct strata_driver),
                                  offsetof(struct strata_driver, event) +
                                      sizeof(((struct strata_driver *)0)->event) };
    case STRATA_REG_CIPHER:
        return (struct kind_abi){ STRATA_CIPHER_ABI, sizeof(struct strata_cipher_alg),
                                  sizeof(struct strata_cipher_alg) };
    case STRATA_REG_HASH:
        return (struct kind_abi){ STRATA_HASH_ABI, sizeof(struct strata_hash_alg),
                                  sizeof(struct strata_hash_alg) };
    case STRATA_REG_CRYPTO_FORMAT:
        return (struct kind_abi){ STRATA_CRYPTO_FORMAT_ABI,
                                  sizeof(struct strata_crypto_format),
                                  offsetof(struct strata_crypto_format, erase) +
                                      sizeof(((struct strata_crypto_format *)0)->erase) };
    case STRATA_REG_KDF:
        return (struct kind_abi){ STRATA_KDF_ABI, sizeof(struct strata_kdf_alg),
                                  offsetof(struct strata_kdf_alg, selftest) +
                                      sizeof(((struct strata_kdf_alg *)0)->selftest) };
    default:
        return (struct kind_abi){ STRATA_PLUGIN_ABI, sizeof(struct desc_head),
                                  sizeof(struct desc_head) };
    }
}

static int missing(struct strata_error **errp, const char *what, const char *name,
                   const char *member)
{
    return strata_error_set(errp, EINVAL, "%s '%s' refused: mandatory member '%s' is missing",
                            what, name, member);
}

static int check_driver(const struct strata_driver *d, struct strata_error **errp)
{
    if (d->kind < STRATA_DRIVER_PROTOCOL || d->kind > STRATA_DRIVER_FILTER)
        return strata_error_set(errp, EINVAL, "driver '%s' refused: unknown kind %d",
                                d->name, (int)d->kind);
    if (!d->open)
        return missing(errp, "driver", d->name, "open");
    if (!d->close)
        return missing(errp, "driver", d->name, "close");
    if (d->kind != STRATA_DRIVER_FILTER) {
        if (!d->pread)
            return missing(errp, "driver", d->name, "pread");
        if (!d->get_length)
            return missing(errp, "driver", d->name, "get_length");
    } else if (!d->children || !d->children[0]) {
        return strata_error_set(errp, EINVAL,
                                "driver '%s' refused: a filter must name its child role",
                                d->name);
    }
    return 0;
}

static int check_cipher(const struct strata_cipher_alg *c, struct strata_error **errp)
{
    if (!c->setkey)
        return missing(errp, "cipher", c->name, "setkey");
    if (!c->destroy)
        return missing(errp, "cipher", c->name, "destroy");
    if (!c->encrypt)
        return missing(errp, "cipher", c->name, "encrypt");
    if (!c->decrypt)
        return missing(errp, "cipher", c->name, "decrypt");
    if (!c->selftest)
        return missing(errp, "cipher", c->name, "selftest");
    if (!c->key_sizes || !c->key_sizes[0])
        return missing(errp, "cipher", c->name, "key_sizes");
    if (c->block_size == 0 || c->block_size > 64)
        return strata_error_set(errp, EINVAL, "cipher '%s' refused: block size %u",
                                c->name, c->block_size);
    if (!(c->native_modes & STRATA_MODE_BIT(STRATA_MODE_ECB)))
        return strata_error_set(errp, EINVAL, "cipher '%s' refused: it must implement ECB",
                                c->name);
    struct strata_error *err = NULL;
    if (c->selftest(&err) != 0) {
        strata_error_set(errp, EINVAL, "cipher '%s' (%s) refused: self-test failed: %s",
                         c->name, c->impl_name ? c->impl_name : "?",
                         err ? err->msg : "no reason given");
        strata_error_free(err);
        return -EINVAL;
    }
    return 0;
}

static int check_hash(const struct strata_hash_alg *h, struct strata_error **errp)
{
    if (!h->init)
        return missing(errp, "hash", h->name, "init");
    if (!h->update)
        return missing(errp, "hash", h->name, "update");
    if (!h->final)
        return missing(errp, "hash", h->name, "final");
    if (!h->destroy)
        return missing(errp, "hash", h->name, "destroy");
    if (!h->selftest)
        return missing(errp, "hash", h->name, "selftest");
    if (h->digest_size == 0 || h->digest_size > 128 || h->block_size == 0)
        return strata_error_set(errp, EINVAL,
                                "hash '%s' refused: digest size %u, block size %u",
                                h->name, h->digest_size, h->block_size);
    struct strata_error *err = NULL;
    if (h->selftest(&err) != 0) {
        strata_error_set(errp, EINVAL, "hash '%s' (%s) refused: self-test failed: %s",
                         h->name, h->impl_name ? h->impl_name : "?",
                         err ? err->msg : "no reason given");
        strata_error_free(err);
        return -EINVAL;
    }
    return 0;
}

static int check_kdf(const struct strata_kdf_alg *k, struct strata_error **errp)
{
    if (!k->derive)
        return missing(errp, "key derivation function", k->name, "derive");
    if (!k->selftest)
        return missing(errp, "key derivation function", k->name, "selftest");
    struct strata_error *err = NULL;
    if (k->selftest(&err) != 0) {
        strata_error_set(errp, EINVAL,
                         "key derivation function '%s' (%s) refused: self-test failed: %s",
                         k->name, k->impl_name ? k->impl_name : "?",
                         err ? err->msg : "no reason given");
        strata_error_free(err);
        return -EINVAL;
    }
    return 0;
}

static int check_crypto_format(const struct strata_crypto_format *f,
                               struct strata_error **errp)
{
    if (!f->header_size)
        return missing(errp, "encryption format", f->name, "header_size");
    if (!f->create)
        return missing(errp, "encryption format", f->name, "create");
    if (!f->open)
        return missing(errp, "encryption format", f->name, "open");
    if (!f->close)
        return missing(errp, "encryption format", f->name, "close");
    if (!f->get_cipher)
        return missing(errp, "encryption format", f->name, "get_cipher");
    if (!f->header_length)
        return missing(errp, "encryption format", f->name, "header_length");
    return 0;
}

const void *strata_plugin_check(enum strata_reg_kind kind, const void *desc,
                                struct strata_error **errp)
{
    const struct desc_head *h = desc;
    const char *what = strata_reg_kind_name(kind);
    struct kind_abi k = kind_abi(kind);
    const char *name = h->name ? h->name : "(unnamed)";

    if (STRATA_ABI_MAJOR_OF(h->abi_version) != STRATA_ABI_MAJOR_OF(k.abi)) {
        strata_error_set(errp, EINVAL,
                         "%s '%s' refused: built for %s ABI %u.%u, this strata supports %u.x",
                         what, name, what, STRATA_ABI_MAJOR_OF(h->abi_version),
                         h->abi_version & 0xffff, STRATA_ABI_MAJOR_OF(k.abi));
        return NULL;
    }
    if (h->struct_size < k.min_size) {
        strata_error_set(errp, EINVAL,
                         "%s '%s' refused: descriptor is %u bytes, at least %zu expected",
                         what, name, h->struct_size, k.min_size);
        return NULL;
    }
    if (!h->name || !*h->name) {
        strata_error_set(errp, EINVAL, "%s refused: it has no name", what);
        return NULL;
    }
    size_t n = h->struct_size < k.full_size ? h->struct_size : k.full_size;
    void *copy = calloc(1, k.full_size);
    if (!copy) {
        strata_error_set(errp, ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(copy, desc, n);

    int r = 0;
    switch (kind) {
    case STRATA_REG_DRIVER:
        r = check_driver(copy, errp);
        break;
    case STRATA_REG_CIPHER:
        r = check_cipher(copy, errp);
        break;
    case STRATA_REG_HASH:
        r = check_hash(copy, errp);
        break;
    case STRATA_REG_CRYPTO_FORMAT:
        r = check_crypto_format(copy, errp);
        break;
    case STRATA_REG_KDF:
        r = check_kdf(copy, errp);
        break;
    default:
        break;
    }
    if (r < 0) {
        free(copy);
        return NULL;
    }
    return copy;
}

const char *strata_plugin_desc_name(enum strata_reg_kind kind, const void *desc,
                                    int *priority)
{
    *priority = 0;
    if (kind == STRATA_REG_CIPHER)
        *priority = ((const struct strata_cipher_alg *)desc)->priority;
    else if (kind == STRATA_REG_HASH)
        *priority = ((const struct strata_hash_alg *)desc)->priority;
    else if (kind == STRATA_REG_KDF)
        *priority = ((const struct strata_kdf_alg *)desc)->priority;
    return ((const struct desc_head *)desc)->name;
}
