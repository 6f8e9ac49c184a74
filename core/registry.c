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
 *
 * The registry owns names: what is registered, lookups, and why a name was
 * refused.  It asks module.c to load modules, and module.c hands back what
 * each module offered through registry_sink; module.c never calls in here.
 */
#include "internal.h"
#include "module.h"
#include "plugin_check.h"

#include <strata/encryption.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Accepted descriptors and refusals are only ever prepended and never
 * freed, so a list head read under reg_lock can be walked without it. */
struct reg_entry {
    enum strata_reg_kind kind;
    const char *name;
    int priority;
    const void *desc;
    struct reg_entry *next;
};

/* A name whose descriptor a loaded module offered and the core refused,
 * remembered so that a later lookup of the name can say why it is not
 * there. */
struct refusal {
    enum strata_reg_kind kind;
    char *name;
    char *msg;
    struct refusal *next;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reg_entry *entries;
static struct refusal *refusals;

static void registry_accept(enum strata_reg_kind kind, const char *name, int priority,
                            const void *desc)
{
    struct reg_entry *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    e->kind = kind;
    e->name = name;
    e->priority = priority;
    e->desc = desc;
    pthread_mutex_lock(&reg_lock);
    e->next = entries;
    entries = e;
    pthread_mutex_unlock(&reg_lock);
}

static void registry_refuse(enum strata_reg_kind kind, const char *name, const char *msg)
{
    struct refusal *r = calloc(1, sizeof *r);
    if (!r || !(r->name = strdup(name)) || !(r->msg = strdup(msg)))
        abort();
    r->kind = kind;
    pthread_mutex_lock(&reg_lock);
    r->next = refusals;
    refusals = r;
    pthread_mutex_unlock(&reg_lock);
}

static const struct strata_module_sink registry_sink = {
    .accept = registry_accept,
    .refuse = registry_refuse,
};

static const struct reg_entry *entries_head(void)
{
    pthread_mutex_lock(&reg_lock);
    const struct reg_entry *head = entries;
    pthread_mutex_unlock(&reg_lock);
    return head;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_ret;
static struct strata_error *init_err;

static void core_init_once(void)
{
    strata_gcrypt_init();
    init_ret = strata_module_system_init(&registry_sink, &init_err);
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

static const struct reg_entry *best_entry(const struct reg_entry *head,
                                          enum strata_reg_kind kind, const char *name)
{
    const struct reg_entry *best = NULL;
    for (const struct reg_entry *e = head; e; e = e->next)
        if (e->kind == kind && strcmp(e->name, name) == 0 &&
            (!best || e->priority > best->priority))
            best = e;
    return best;
}

/* "unknown cipher 'x'", with why it was refused if it was. */
static int set_unknown(struct strata_error **errp, enum strata_reg_kind kind,
                       const char *name)
{
    const char *why = NULL;
    pthread_mutex_lock(&reg_lock);
    for (const struct refusal *r = refusals; r && !why; r = r->next)
        if (r->kind == kind && strcmp(r->name, name) == 0)
            why = r->msg;
    pthread_mutex_unlock(&reg_lock);
    /* A driver in QEMU's words ("Unknown driver 'x'"), as qemu-img's and
     * qemu-io's messages quote it. */
    return strata_error_set(errp, ENOENT, "%s %s '%s'%s%s%s",
                            kind == STRATA_REG_DRIVER ? "Unknown" : "unknown",
                            strata_kinds[kind].what, name, why ? " (" : "", why ? why : "",
                            why ? ")" : "");
}

const void *strata_registry_find(enum strata_reg_kind kind, const char *name,
                                 struct strata_error **errp)
{
    if (strata_core_init(errp) < 0)
        return NULL;
    if (!name || !*name) {
        strata_error_set(errp, EINVAL, "no %s name given", strata_kinds[kind].what);
        return NULL;
    }
    struct strata_error *load_err = NULL;
    bool claimed = strata_module_load_claimed(kind, name, &load_err);
    const struct reg_entry *e = best_entry(entries_head(), kind, name);
    if (!e && !claimed) {
        strata_module_load_unclaimed();
        e = best_entry(entries_head(), kind, name);
    }
    if (e) {
        strata_error_free(load_err);
        return e->desc;
    }
    if (!load_err)
        set_unknown(&load_err, kind, name);
    strata_error_propagate(errp, &load_err);
    return NULL;
}

void strata_registry_load_all(enum strata_reg_kind kind)
{
    if (strata_core_init(NULL) < 0)
        return;
    strata_module_load_kind(kind);
    strata_module_load_unclaimed();
}

/* fn runs without the lock, so it may look names up. */
void strata_registry_foreach(enum strata_reg_kind kind,
                             void (*fn)(const void *desc, void *opaque), void *opaque)
{
    strata_registry_load_all(kind);
    const struct reg_entry *head = entries_head();
    for (const struct reg_entry *e = head; e; e = e->next)
        if (e->kind == kind && best_entry(head, kind, e->name) == e)
            fn(e->desc, opaque);
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
    return strata_module_load_path(path, errp);
}
