/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registry.c - names to descriptors: drivers, ciphers, hashes, encryption
 * formats and key derivation functions, loaded lazily from plugin modules.
 *
 * plugins.d snippets say which module provides which name, so the first
 * lookup of a name loads only the modules that claim it (all of them: several
 * implementations of one algorithm may compete by priority).  Names no
 * snippet claims fall back to loading every unclaimed module in the search
 * path once, so a third-party module dropped into STRATA_PLUGIN_PATH works
 * without a snippet too.
 */
#include "internal.h"
#include "module.h"

#include <strata/encryption.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct reg_entry {
    enum strata_reg_kind kind;
    const char *name;
    int priority;
    const void *desc;
    struct strata_module *mod;
    struct reg_entry *next;
};

static pthread_mutex_t reg_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static struct reg_entry *entries;
static bool scanned_unclaimed;

static const char *const kind_names[STRATA_REG_NKINDS] = {
    [STRATA_REG_DRIVER] = "driver",
    [STRATA_REG_CIPHER] = "cipher",
    [STRATA_REG_HASH] = "hash",
    [STRATA_REG_CRYPTO_FORMAT] = "encryption format",
    [STRATA_REG_KDF] = "key derivation function",
};

const char *strata_reg_kind_name(enum strata_reg_kind kind)
{
    return kind_names[kind];
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_ret;
static struct strata_error *init_err;

static void core_init_once(void)
{
    strata_gcrypt_init();
    init_ret = strata_module_system_init(&init_err);
}

int strata_core_init(struct strata_error **errp)
{
    pthread_once(&init_once, core_init_once);
    if (init_ret < 0 && errp && !*errp && init_err)
        return strata_error_set(errp, init_err->code, "%s", init_err->msg);
    return init_ret;
}

int strata_init(struct strata_error **errp)
{
    return strata_core_init(errp);
}

/* Called by the module loader for each accepted descriptor. */
void strata_registry_add(enum strata_reg_kind kind, const char *name, int priority,
                         const void *desc, struct strata_module *mod)
{
    struct reg_entry *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    e->kind = kind;
    e->name = name;
    e->priority = priority;
    e->desc = desc;
    e->mod = mod;
    pthread_mutex_lock(&reg_lock);
    e->next = entries;
    entries = e;
    pthread_mutex_unlock(&reg_lock);
}

static const struct reg_entry *best_entry(enum strata_reg_kind kind, const char *name)
{
    const struct reg_entry *best = NULL;
    for (const struct reg_entry *e = entries; e; e = e->next)
        if (e->kind == kind && strcmp(e->name, name) == 0 &&
            (!best || e->priority > best->priority))
            best = e;
    return best;
}

const void *strata_registry_find(enum strata_reg_kind kind, const char *name,
                                 struct strata_error **errp)
{
    if (strata_core_init(errp) < 0)
        return NULL;
    if (!name || !*name) {
        strata_error_set(errp, EINVAL, "no %s name given", kind_names[kind]);
        return NULL;
    }
    pthread_mutex_lock(&reg_lock);
    struct strata_error *load_err = NULL;
    bool claimed = strata_module_load_claimed(kind, name, &load_err);
    const struct reg_entry *e = best_entry(kind, name);
    if (!e && !claimed && !scanned_unclaimed) {
        scanned_unclaimed = true;
        strata_module_load_unclaimed();
        e = best_entry(kind, name);
    }
    if (!e && !load_err)
        strata_error_set(&load_err, ENOENT, "unknown %s '%s'%s", kind_names[kind], name,
                         strata_module_refusal_hint(kind, name));
    pthread_mutex_unlock(&reg_lock);
    if (e) {
        strata_error_free(load_err);
        return e->desc;
    }
    strata_error_propagate(errp, &load_err);
    return NULL;
}

void strata_registry_load_all(enum strata_reg_kind kind)
{
    if (strata_core_init(NULL) < 0)
        return;
    pthread_mutex_lock(&reg_lock);
    strata_module_load_kind(kind);
    if (!scanned_unclaimed) {
        scanned_unclaimed = true;
        strata_module_load_unclaimed();
    }
    pthread_mutex_unlock(&reg_lock);
}

void strata_registry_foreach(enum strata_reg_kind kind,
                             void (*fn)(const void *desc, void *opaque), void *opaque)
{
    strata_registry_load_all(kind);
    pthread_mutex_lock(&reg_lock);
    for (const struct reg_entry *e = entries; e; e = e->next)
        if (e->kind == kind && best_entry(kind, e->name) == e)
            fn(e->desc, opaque);
    pthread_mutex_unlock(&reg_lock);
}

const struct strata_driver *strata_driver_find(const char *name, struct strata_error **errp)
{
    return strata_registry_find(STRATA_REG_DRIVER, name, errp);
}

struct foreach_driver_ctx {
    void (*fn)(const struct strata_driver *d, void *opaque);
    void *opaque;
};

static void foreach_driver_cb(const void *desc, void *opaque)
{
    struct foreach_driver_ctx *c = opaque;
    c->fn(desc, c->opaque);
}

void strata_driver_foreach(void (*fn)(const struct strata_driver *d, void *opaque),
                           void *opaque)
{
    struct foreach_driver_ctx c = { fn, opaque };
    strata_registry_foreach(STRATA_REG_DRIVER, foreach_driver_cb, &c);
}

const struct strata_crypto_format *strata_crypto_format_find(const char *name,
                                                            struct strata_error **errp)
{
    return strata_registry_find(STRATA_REG_CRYPTO_FORMAT, name, errp);
}

const struct strata_cipher_alg *strata_cipher_alg_find(const char *name,
                                                       struct strata_error **errp)
{
    return strata_registry_find(STRATA_REG_CIPHER, name, errp);
}

const struct strata_hash_alg *strata_hash_alg_find(const char *name,
                                                   struct strata_error **errp)
{
    return strata_registry_find(STRATA_REG_HASH, name, errp);
}

int strata_module_load(const char *path, struct strata_error **errp)
{
    if (strata_core_init(errp) < 0)
        return -EIO;
    pthread_mutex_lock(&reg_lock);
    int r = strata_module_load_path(path, errp);
    pthread_mutex_unlock(&reg_lock);
    return r;
}
