/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* module.h - plugin modules: where they are, which names they claim, loading
 * and the checks a descriptor must pass before the registry accepts it. */
#ifndef STRATA_CORE_MODULE_H
#define STRATA_CORE_MODULE_H

#include "internal.h"

struct strata_module;

/* Reads the snippets and builds the search path; called once. */
STRATA_INTERNAL int strata_module_system_init(struct strata_error **errp);

/* The following run with the registry lock held. */
/* Loads every module whose snippet claims (kind, name).  Returns whether any
 * claim exists; a module that cannot be found or loaded sets *errp (the
 * first such failure) naming the module and the reason. */
STRATA_INTERNAL bool strata_module_load_claimed(enum strata_reg_kind kind,
                                                const char *name,
                                                struct strata_error **errp);
STRATA_INTERNAL void strata_module_load_kind(enum strata_reg_kind kind);
STRATA_INTERNAL void strata_module_load_unclaimed(void);
STRATA_INTERNAL int strata_module_load_path(const char *path, struct strata_error **errp);
/* "" or ": the module that provides it was refused (...)" for messages. */
STRATA_INTERNAL const char *strata_module_refusal_hint(enum strata_reg_kind kind,
                                                       const char *name);

/* registry.c */
STRATA_INTERNAL void strata_registry_add(enum strata_reg_kind kind, const char *name,
                                         int priority, const void *desc,
                                         struct strata_module *mod);
STRATA_INTERNAL const char *strata_reg_kind_name(enum strata_reg_kind kind);

/* plugin_check.c: validates one descriptor of `kind` (ABI version, size,
 * mandatory members, self-test) and returns a copy the core may read in
 * full: members a shorter, older struct lacks read as zero.  NULL with a
 * message (without the module name) when refused. */
STRATA_INTERNAL const void *strata_plugin_check(enum strata_reg_kind kind,
                                                const void *desc,
                                                struct strata_error **errp);
/* Name and priority of an accepted descriptor. */
STRATA_INTERNAL const char *strata_plugin_desc_name(enum strata_reg_kind kind,
                                                    const void *desc, int *priority);

#endif
