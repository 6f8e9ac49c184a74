/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* prealloc.h - the names users give preallocation modes ("off", "metadata",
 * "falloc", "full"), as create and resize options take them. */
#ifndef STRATA_COMMON_PREALLOC_H
#define STRATA_COMMON_PREALLOC_H

#include <strata/driver.h>

/* The four names in mode order, NULL-terminated: an option's choices. */
extern const char *const prealloc_names[];

/* The mode called `name`; NULL is "off".  Returns 0 or -EINVAL, and leaves
 * the message to the caller, which knows what gave the name. */
int prealloc_parse(const char *name, enum strata_prealloc *mode);
/* The name of a mode, or NULL for a value that is none. */
const char *prealloc_name(enum strata_prealloc mode);

#endif
