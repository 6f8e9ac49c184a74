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

/* Open flag of the nodes the core opens while creating an image (the image
 * file and other children made by strata_create_child()); the core's alone,
 * in the bit strata/flags.h reserves. */
#define STRATA_O_CREATE_CHILD 0x20u

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
    STRATA_REG_KDF,
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

/* node.c: the ABI 1.3 event entry point, taking the event's name; still
 * exported for modules built against 1.3.  Written (strata_node_event) so
 * that driver.h's macro of the same name does not apply. */
STRATA_EXPORT void (strata_node_event)(struct strata_node *node, const char *name);

/* roles.c: fills in both forms of a registered driver's children (the role
 * table and the names), giving a 1.3 driver's names their historic flags;
 * refuses a malformed table.  Runs once per descriptor, at load. */
STRATA_INTERNAL int strata_driver_setup_roles(struct strata_driver *d,
                                              struct strata_error **errp);
STRATA_INTERNAL const struct strata_child_role *
strata_role_find(const struct strata_driver *d, const char *name);
/* The flags of role `name` of d; 0 when d does not declare it. */
STRATA_INTERNAL unsigned strata_role_flags(const struct strata_driver *d,
                                           const char *name);
/* The first role of d that has all of `flags`, or NULL. */
STRATA_INTERNAL const char *strata_role_with(const struct strata_driver *d,
                                             unsigned flags);

#endif
