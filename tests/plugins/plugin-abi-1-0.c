/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin-abi-1-0.c - a module built for plugin ABI 1.0, whose struct
 * strata_plugin ends before the kdfs list.  What follows its struct_size in
 * memory looks like a kdfs list naming a KDF that fails its self-test: a
 * core that read past struct_size would refuse it and fail the load. */
#include <strata/kdf.h>
#include <strata/plugin.h>

#include <errno.h>
#include <stddef.h>

static int stale_derive(const struct strata_kdf_params *params, const void *pass,
                        size_t passlen, const void *salt, size_t saltlen, void *out,
                        size_t outlen, struct strata_error **errp)
{
    return -ENOSYS;
}

static int stale_selftest(struct strata_error **errp)
{
    return strata_error_set(errp, EIO, "stalekdf: read from beyond the plugin struct");
}

static const struct strata_kdf_alg stale_alg = {
    .abi_version = STRATA_KDF_ABI,
    .struct_size = sizeof(struct strata_kdf_alg),
    .name = "stalekdf",
    .impl_name = "stalekdf",
    .derive = stale_derive,
    .selftest = stale_selftest,
};

static const struct strata_plugin old_plugin = {
    .abi_version = STRATA_PLUGIN_ABI_MAJOR << 16,
    .struct_size = offsetof(struct strata_plugin, kdfs),
    .name = "plugin-abi-1-0",
    .kdfs = STRATA_KDFS(&stale_alg),
};

__attribute__((visibility("default"))) const struct strata_plugin *strata_plugin_entry(void);
const struct strata_plugin *strata_plugin_entry(void)
{
    return &old_plugin;
}
