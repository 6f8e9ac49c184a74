/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* abi-future.c - a driver built for a driver ABI major this strata does not
 * know; the loader must refuse it and say why. */
#include <strata/strata.h>
#include <strata/plugin.h>

static int fut_open(struct strata_node *n, const struct strata_opts *o, unsigned f,
                    struct strata_error **e)
{
    return 0;
}

static void fut_close(struct strata_node *n)
{
}

static const struct strata_driver future_driver = {
    .abi_version = ((STRATA_DRIVER_ABI_MAJOR + 1) << 16),
    .struct_size = sizeof(struct strata_driver),
    .name = "future",
    .kind = STRATA_DRIVER_FILTER,
    .children = (const char *const[]){ "file", NULL },
    .open = fut_open,
    .close = fut_close,
};

STRATA_PLUGIN("abi-future", .drivers = STRATA_DRIVERS(&future_driver));
