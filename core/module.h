/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* module.h - plugin modules: where they are, which names they claim, and
 * loading them.  The loader knows nothing of names' owners: it hands each
 * descriptor a module offers, accepted or refused, to the sink it was given
 * at set-up (the registry). */
#ifndef STRATA_CORE_MODULE_H
#define STRATA_CORE_MODULE_H

#include "internal.h"

struct strata_module_sink {
    /* A descriptor that passed every check; desc is the core's copy. */
    void (*accept)(enum strata_reg_kind kind, const char *name, int priority,
                   const void *desc);
    /* A descriptor the core refused; msg names the module file and why. */
    void (*refuse)(enum strata_reg_kind kind, const char *name, const char *msg);
};

/* Reads the snippets and builds the search path; called once, before any
 * of the following. */
STRATA_INTERNAL int strata_module_system_init(const struct strata_module_sink *sink,
                                              struct strata_error **errp);

/* Each of these may be called from several threads at once; a module is
 * loaded once, and a thread that wants a module another thread is loading
 * waits for it.  Plugin code (self-tests) runs without the loader's lock,
 * so a self-test may look up names of other modules. */

/* Loads every module whose snippet claims (kind, name).  Returns whether any
 * claim exists; a module that cannot be found or loaded sets *errp (the
 * first such failure) naming the module and the reason. */
STRATA_INTERNAL bool strata_module_load_claimed(enum strata_reg_kind kind,
                                                const char *name,
                                                struct strata_error **errp);
/* Loads every module a snippet names for `kind`. */
STRATA_INTERNAL void strata_module_load_kind(enum strata_reg_kind kind);
/* Loads, on the first call only, every module in the search path that no
 * snippet names. */
STRATA_INTERNAL void strata_module_load_unclaimed(void);
STRATA_INTERNAL int strata_module_load_path(const char *path, struct strata_error **errp);

#endif
