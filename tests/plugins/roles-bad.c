/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roles-bad.c - a filter declaring two primary children: the loader must
 * refuse it, since the core could not tell where to forward. */
#include <strata/strata.h>
#include <strata/plugin.h>

static int bad_open(struct strata_node *n, const struct strata_opts *o, unsigned f,
                    struct strata_error **e)
{
    return 0;
}

static void bad_close(struct strata_node *n)
{
}

static const struct strata_driver rolebad_driver = {
    STRATA_DRIVER_HEAD,
    .name = "rolebad",
    .kind = STRATA_DRIVER_FILTER,
    .child_roles = (const struct strata_child_role[]){
        { "left", STRATA_CHILD_PRIMARY },
        { "right", STRATA_CHILD_PRIMARY },
        { NULL },
    },
    .open = bad_open,
    .close = bad_close,
};

STRATA_PLUGIN("roles-bad", .drivers = STRATA_DRIVERS(&rolebad_driver));
