/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin-abi-future.c - a module whose plugin header is from a future major
 * ABI; the whole module is refused. */
#include <strata/plugin.h>

static const struct strata_plugin future_plugin = {
    .abi_version = (STRATA_PLUGIN_ABI_MAJOR + 1) << 16,
    .struct_size = sizeof(struct strata_plugin),
    .name = "plugin-abi-future",
};

__attribute__((visibility("default"))) const struct strata_plugin *strata_plugin_entry(void);
const struct strata_plugin *strata_plugin_entry(void)
{
    return &future_plugin;
}
