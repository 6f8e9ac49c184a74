/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin_check.h - descriptor kinds and the checks a descriptor must pass
 * before it is registered.
 *
 * Everything that differs between kinds (the name used in messages and
 * snippets, where the plugin struct lists them, the ABI, the sizes, the
 * checks) is one row of strata_kinds[], so a new kind is one enum value in
 * internal.h and one row in plugin_check.c. */
#ifndef STRATA_CORE_PLUGIN_CHECK_H
#define STRATA_CORE_PLUGIN_CHECK_H

#include "internal.h"

#include <stddef.h>

/* The head every descriptor kind starts with (the STRATA_*_HEAD macros fill
 * the first two members). */
struct desc_head {
    uint32_t abi_version;
    uint32_t struct_size;
    const char *name;
};

struct strata_kind_info {
    const char *what;           /* "cipher", in messages */
    const char *snippet_key;    /* "ciphers", in plugins.d snippets */
    size_t list_offset;         /* of the NULL-terminated list in strata_plugin */
    uint32_t abi;               /* this core's version, untagged */
    uint32_t tag;               /* the kind byte the HEAD macro puts in */
    size_t full_size;           /* sizeof the current struct */
    size_t min_size;            /* the smallest struct_size ever published */
    size_t priority_offset;     /* of the int priority; 0 when the kind has none */
    /* Mandatory members and self-tests of the core's full-size copy, which
     * the check may complete (a 1.3 driver's child roles). */
    int (*check)(void *desc, struct strata_error **errp);
};

STRATA_INTERNAL extern const struct strata_kind_info strata_kinds[STRATA_REG_NKINDS];

/* Validates one descriptor of `kind` (ABI version and kind tag, size,
 * mandatory members, self-tests) and returns a copy the core may read in
 * full: members a shorter, older struct lacks read as zero.  NULL with a
 * message (without the module name) when refused. */
STRATA_INTERNAL const void *strata_plugin_check(enum strata_reg_kind kind,
                                                const void *desc,
                                                struct strata_error **errp);
/* Priority of an accepted descriptor (0 for kinds without one). */
STRATA_INTERNAL int strata_plugin_desc_priority(enum strata_reg_kind kind,
                                                const void *desc);

#endif
