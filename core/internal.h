/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* internal.h - declarations shared between the core's own files; nothing
 * here is part of the public API or the plugin ABI. */
#ifndef STRATA_CORE_INTERNAL_H
#define STRATA_CORE_INTERNAL_H

#include <strata/strata.h>
#include <strata/plugin.h>
#include <strata/cipher.h>
#include <strata/hash.h>

#define STRATA_INTERNAL __attribute__((visibility("hidden")))

/* secmem.c: initialises libgcrypt once (version check, secure memory) before
 * anything uses it; safe to call many times and from several threads. */
STRATA_INTERNAL void strata_gcrypt_init(void);

/* registry.c: one-time library set-up (libgcrypt, libltdl, snippets). */
STRATA_INTERNAL int strata_core_init(struct strata_error **errp);

/* secrets.c: the secrets of one handle.  While a scope is entered on a
 * thread, secrets defined there go into it and lookups try it first;
 * enter returns the scope that was current (to enter again after).  A
 * bound scope lives until strata_secret_scope_release(owner), which
 * strata_close calls with the top node: its secrets are wiped. */
struct strata_secret_scope;
STRATA_INTERNAL struct strata_secret_scope *strata_secret_scope_new(void);
STRATA_INTERNAL struct strata_secret_scope *
strata_secret_scope_enter(struct strata_secret_scope *scope);
STRATA_INTERNAL void strata_secret_scope_free(struct strata_secret_scope *scope);
STRATA_INTERNAL void strata_secret_scope_bind(struct strata_secret_scope *scope,
                                              const struct strata_node *owner);
STRATA_INTERNAL void strata_secret_scope_release(const struct strata_node *owner);

/* Kinds of registered names, as plugins.d snippets list them. */
enum strata_reg_kind {
    STRATA_REG_DRIVER,
    STRATA_REG_CIPHER,
    STRATA_REG_HASH,
    STRATA_REG_CRYPTO_FORMAT,
    STRATA_REG_NKINDS
};

/* Finds the best descriptor of `kind` named `name`, loading its module on
 * first lookup.  NULL with -ENOENT in *errp when unknown. */
STRATA_INTERNAL const void *strata_registry_find(enum strata_reg_kind kind,
                                                 const char *name,
                                                 struct strata_error **errp);
/* Loads every module that provides `kind` (for probing and listings). */
STRATA_INTERNAL void strata_registry_load_all(enum strata_reg_kind kind);
/* Calls fn for each registered descriptor of kind, best first per name. */
STRATA_INTERNAL void strata_registry_foreach(enum strata_reg_kind kind,
                                             void (*fn)(const void *desc, void *opaque),
                                             void *opaque);

#endif
