/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugins.h - the plugin modules on the search path, for list-plugins and
 * the --help summary. */
#ifndef STRATA_TOOLS_IMG_PLUGINS_H
#define STRATA_TOOLS_IMG_PLUGINS_H

#include "img.h"

#include <strata/plugin.h>

struct img_plugin {
    const char *file;           /* "cipher-aes.so" */
    char path[4096];
    uint32_t abi_version;       /* of the module's plugin struct; 0 unknown */
    bool accepted;              /* loaded: ABI, callbacks, self-tests passed */
    char error[1024];           /* why not */
    /* What it declares, space separated. */
    char drivers[512], ciphers[512], hashes[512], formats[256], kdfs[256];
};

/* Calls fn for every module file in the plugin search path, in search
 * order, each loaded into the library (so that its self-tests run). */
void img_plugins_foreach(void (*fn)(const struct img_plugin *p, void *opaque),
                         void *opaque);

#endif
