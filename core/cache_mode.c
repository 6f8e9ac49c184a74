/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cache_mode.c - QEMU's cache mode names as open flags, for every tool and
 * embedder that takes them (strata-img, strata-io, the nbdkit plugin). */
#include "internal.h"

#include <errno.h>
#include <string.h>

int strata_cache_mode_flags(const char *mode, unsigned *flags, struct strata_error **errp)
{
    static const struct { const char *name; unsigned flags; } modes[] = {
        { "none", STRATA_O_DIRECT },
        { "writeback", 0 },
        { "writethrough", STRATA_O_WRITETHROUGH },
        { "directsync", STRATA_O_DIRECT | STRATA_O_WRITETHROUGH },
        { "unsafe", STRATA_O_NO_FLUSH },
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (!strcmp(mode, modes[i].name)) {
            *flags = modes[i].flags;
            return 0;
        }
    }
    return strata_error_set(errp, EINVAL, "invalid cache mode '%s' (use none, writeback, "
                            "writethrough, directsync or unsafe)", mode);
}
