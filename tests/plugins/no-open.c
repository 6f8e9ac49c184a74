/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* no-open.c - a driver without its mandatory open callback; refused. */
#include <strata/strata.h>
#include <strata/plugin.h>

static void noopen_close(struct strata_node *n)
{
}

static const struct strata_driver noopen_driver = {
    STRATA_DRIVER_HEAD,
    .name = "noopen",
    .kind = STRATA_DRIVER_FILTER,
    .children = (const char *const[]){ "file", NULL },
    .close = noopen_close,
};

STRATA_PLUGIN("no-open", .drivers = STRATA_DRIVERS(&noopen_driver));
