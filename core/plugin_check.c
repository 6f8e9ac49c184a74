/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin_check.c - what a descriptor must satisfy before it is registered.
 *
 * Every descriptor starts with its ABI version and struct size.  A kind tag
 * other than the list's kind is refused (a hash listed as a cipher would be
 * read as one); no tag is a plugin built before tags and is accepted.  A
 * different major version is refused (members may have moved); a smaller
 * struct_size is an older minor and is accepted: the descriptor is copied
 * into a full-size zeroed struct so the core can read members the plugin did
 * not know about.
 */
#include "plugin_check.h"
#include "crypto/crypto-int.h"

#include <strata/encryption.h>
#include <strata/kdf.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int missing(struct strata_error **errp, const char *what, const char *name,
                   const char *member)
{
    return strata_error_set(errp, EINVAL, "%s '%s' refused: mandatory member '%s' is missing",
                            what, name, member);
}

/* "cipher 'aes' (aes-x) refused: <what failed>", consuming *err. */
static int refuse_test(struct strata_error **errp, const char *what, const char *name,
                       const char *impl, const char *prefix, struct strata_error **err)
{
    strata_error_set(errp, EINVAL, "%s '%s' (%s) refused: %s%s", what, name,
                     impl ? impl : "?", prefix, *err ? (*err)->msg : "no reason given");
    strata_error_free(*err);
    *err = NULL;
    return -EINVAL;
}

static int check_driver(void *desc, struct strata_error **errp)
{
    struct strata_driver *d = desc;
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
        if (!d->length && !d->get_length)
            return missing(errp, "driver", d->name, "length");
    } else if (d->child_roles ? !strata_role_with(d, STRATA_CHILD_PRIMARY)
                              : !(d->children && d->children[0])) {
        /* A 1.3 driver's first child name becomes its primary role. */
        return strata_error_set(errp, EINVAL,
                                "driver '%s' refused: a filter must declare a primary "
                                "child role", d->name);
    }
    /* Last, since it allocates what the accepted copy keeps (the missing
     * half of the role table) and nothing may be refused after it. */
    return strata_driver_setup_roles(d, errp);
}

static int check_cipher(void *desc, struct strata_error **errp)
{
    const struct strata_cipher_alg *c = desc;
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
    if (c->selftest(&err) != 0)
        return refuse_test(errp, "cipher", c->name, c->impl_name, "self-test failed: ", &err);
    if (strata_testmgr_cipher(c, &err) < 0)
        return refuse_test(errp, "cipher", c->name, c->impl_name, "", &err);
    return 0;
}

static int check_hash(void *desc, struct strata_error **errp)
{
    const struct strata_hash_alg *h = desc;
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
    if (h->selftest(&err) != 0)
        return refuse_test(errp, "hash", h->name, h->impl_name, "self-test failed: ", &err);
    if (strata_testmgr_hash(h, &err) < 0)
        return refuse_test(errp, "hash", h->name, h->impl_name, "", &err);
    return 0;
}

static int check_kdf(void *desc, struct strata_error **errp)
{
    const struct strata_kdf_alg *k = desc;
    if (!k->derive)
        return missing(errp, "key derivation function", k->name, "derive");
    if (!k->selftest)
        return missing(errp, "key derivation function", k->name, "selftest");
    struct strata_error *err = NULL;
    if (k->selftest(&err) != 0)
        return refuse_test(errp, "key derivation function", k->name, k->impl_name,
                           "self-test failed: ", &err);
    return 0;
}

static int check_crypto_format(void *desc, struct strata_error **errp)
{
    const struct strata_crypto_format *f = desc;
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

#define MEMBER_END(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

const struct strata_kind_info strata_kinds[STRATA_REG_NKINDS] = {
    [STRATA_REG_DRIVER] = {
        .what = "driver",
        .snippet_key = "drivers",
        .list_offset = offsetof(struct strata_plugin, drivers),
        .abi = STRATA_DRIVER_ABI,
        .tag = STRATA_DRIVER_TAG,
        .full_size = sizeof(struct strata_driver),
        .min_size = MEMBER_END(struct strata_driver, event),
        .check = check_driver,
    },
    [STRATA_REG_CIPHER] = {
        .what = "cipher",
        .snippet_key = "ciphers",
        .list_offset = offsetof(struct strata_plugin, ciphers),
        .abi = STRATA_CIPHER_ABI,
        .tag = STRATA_CIPHER_TAG,
        .full_size = sizeof(struct strata_cipher_alg),
        .min_size = sizeof(struct strata_cipher_alg),
        .priority_offset = offsetof(struct strata_cipher_alg, priority),
        .check = check_cipher,
    },
    [STRATA_REG_HASH] = {
        .what = "hash",
        .snippet_key = "hashes",
        .list_offset = offsetof(struct strata_plugin, hashes),
        .abi = STRATA_HASH_ABI,
        .tag = STRATA_HASH_TAG,
        .full_size = sizeof(struct strata_hash_alg),
        .min_size = sizeof(struct strata_hash_alg),
        .priority_offset = offsetof(struct strata_hash_alg, priority),
        .check = check_hash,
    },
    [STRATA_REG_CRYPTO_FORMAT] = {
        .what = "encryption format",
        .snippet_key = "crypto-formats",
        .list_offset = offsetof(struct strata_plugin, crypto_formats),
        .abi = STRATA_CRYPTO_FORMAT_ABI,
        .tag = STRATA_CRYPTO_FORMAT_TAG,
        .full_size = sizeof(struct strata_crypto_format),
        .min_size = MEMBER_END(struct strata_crypto_format, erase),
        .check = check_crypto_format,
    },
    [STRATA_REG_KDF] = {
        .what = "key derivation function",
        .snippet_key = "kdfs",
        .list_offset = offsetof(struct strata_plugin, kdfs),
        .abi = STRATA_KDF_ABI,
        .tag = STRATA_KDF_TAG,
        .full_size = sizeof(struct strata_kdf_alg),
        .min_size = sizeof(struct strata_kdf_alg),
        .priority_offset = offsetof(struct strata_kdf_alg, priority),
        .check = check_kdf,
    },
};

/* Refuses a descriptor whose tag names another kind than the list it is
 * in; 0 when the tag is absent or right. */
static int check_tag(const struct strata_kind_info *k, const char *name, uint32_t tag,
                     struct strata_error **errp)
{
    if (!tag || tag == k->tag)
        return 0;
    for (int i = 0; i < STRATA_REG_NKINDS; i++)
        if (strata_kinds[i].tag == tag)
            return strata_error_set(errp, EINVAL,
                                    "%s '%s' refused: it carries the %s ABI tag, not the %s one",
                                    k->what, name, strata_kinds[i].what, k->what);
    return strata_error_set(errp, EINVAL, "%s '%s' refused: unknown ABI kind tag 0x%02x",
                            k->what, name, (unsigned)tag);
}

const void *strata_plugin_check(enum strata_reg_kind kind, const void *desc,
                                struct strata_error **errp)
{
    const struct desc_head *h = desc;
    const struct strata_kind_info *k = &strata_kinds[kind];
    const char *what = k->what;
    const char *name = h->name ? h->name : "(unnamed)";

    if (check_tag(k, name, STRATA_ABI_TAG_OF(h->abi_version), errp) < 0)
        return NULL;
    if (STRATA_ABI_MAJOR_OF(h->abi_version) != STRATA_ABI_MAJOR_OF(k->abi)) {
        strata_error_set(errp, EINVAL,
                         "%s '%s' refused: built for %s ABI %u.%u, this strata supports %u.x",
                         what, name, what, STRATA_ABI_MAJOR_OF(h->abi_version),
                         STRATA_ABI_MINOR_OF(h->abi_version), STRATA_ABI_MAJOR_OF(k->abi));
        return NULL;
    }
    if (h->struct_size < k->min_size) {
        strata_error_set(errp, EINVAL,
                         "%s '%s' refused: descriptor is %u bytes, at least %zu expected",
                         what, name, h->struct_size, k->min_size);
        return NULL;
    }
    if (!h->name || !*h->name) {
        strata_error_set(errp, EINVAL, "%s refused: it has no name", what);
        return NULL;
    }
    size_t n = h->struct_size < k->full_size ? h->struct_size : k->full_size;
    void *copy = calloc(1, k->full_size);
    if (!copy) {
        strata_error_set(errp, ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(copy, desc, n);
    if (k->check(copy, errp) < 0) {
        free(copy);
        return NULL;
    }
    return copy;
}

int strata_plugin_desc_priority(enum strata_reg_kind kind, const void *desc)
{
    size_t off = strata_kinds[kind].priority_offset;
    int prio = 0;
    if (off)
        memcpy(&prio, (const char *)desc + off, sizeof prio);
    return prio;
}
