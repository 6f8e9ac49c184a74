/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* prealloc.c - preallocation mode names. */
#include "prealloc.h"

#include <errno.h>
#include <string.h>

const char *const prealloc_names[] = { "off", "metadata", "falloc", "full", NULL };

static const enum strata_prealloc prealloc_modes[] = {
    STRATA_PREALLOC_OFF, STRATA_PREALLOC_METADATA, STRATA_PREALLOC_FALLOC,
    STRATA_PREALLOC_FULL,
};

int prealloc_parse(const char *name, enum strata_prealloc *mode)
{
    if (!name) {
        *mode = STRATA_PREALLOC_OFF;
        return 0;
    }
    for (size_t i = 0; prealloc_names[i]; i++) {
        if (strcmp(name, prealloc_names[i]) == 0) {
            *mode = prealloc_modes[i];
            return 0;
        }
    }
    return -EINVAL;
}

const char *prealloc_name(enum strata_prealloc mode)
{
    for (size_t i = 0; prealloc_names[i]; i++)
        if (prealloc_modes[i] == mode)
            return prealloc_names[i];
    return NULL;
}
