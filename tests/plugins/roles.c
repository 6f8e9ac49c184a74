/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roles.c - a format whose child roles carry names the core has never heard
 * of ("store", "external-data", "lower"); what the core does with each child
 * must follow from the flags alone.
 *
 * Data lives in "external-data" when given, else in "store".  The first half
 * of the image reports itself unallocated, so that status queries go down to
 * the COW child.
 */
#include <strata/strata.h>
#include <strata/plugin.h>

#include <errno.h>

struct rolefmt {
    struct strata_node *store, *data, *lower;
};

static const struct strata_child_role rolefmt_roles[] = {
    { "store", STRATA_CHILD_PROTOCOL | STRATA_CHILD_PRIMARY },
    { "external-data", STRATA_CHILD_PROTOCOL },
    { "lower", STRATA_CHILD_COW },
    { NULL },
};

static int rolefmt_open(struct strata_node *node, const struct strata_opts *opts,
                        unsigned flags, struct strata_error **errp)
{
    struct rolefmt *s = strata_node_state(node);
    int r = strata_node_open_child(node, "store", NULL, false, &s->store, errp);
    if (r == 0)
        r = strata_node_open_child(node, "external-data", NULL, true, &s->data, errp);
    if (r == 0)
        r = strata_node_open_child(node, "lower", NULL, true, &s->lower, errp);
    if (!s->data)
        s->data = s->store;
    return r;
}

static void rolefmt_close(struct strata_node *node)
{
}

static int rolefmt_pread(struct strata_node *node, uint64_t off, uint64_t len, void *buf,
                         unsigned flags, struct strata_error **errp)
{
    struct rolefmt *s = strata_node_state(node);
    return strata_pread(s->data, off, len, buf, flags, errp);
}

static int64_t rolefmt_length(struct strata_node *node, struct strata_error **errp)
{
    struct rolefmt *s = strata_node_state(node);
    return strata_node_length(s->data, errp);
}

static int rolefmt_block_status(struct strata_node *node, uint64_t off, uint64_t len,
                                struct strata_block_status *bs, struct strata_error **errp)
{
    struct rolefmt *s = strata_node_state(node);
    int64_t size = strata_node_length(s->data, errp);
    if (size < 0)
        return (int)size;
    uint64_t half = (uint64_t)size / 2;
    if (off < half) {
        bs->pnum = len < half - off ? len : half - off;
        bs->flags = 0;
    } else {
        bs->pnum = len;
        bs->flags = STRATA_BS_DATA | STRATA_BS_ALLOCATED;
    }
    return 0;
}

static const struct strata_driver rolefmt_driver = {
    STRATA_DRIVER_HEAD,
    .name = "rolefmt",
    .description = "format with role names only its flags explain",
    .kind = STRATA_DRIVER_FORMAT,
    .state_size = sizeof(struct rolefmt),
    .child_roles = rolefmt_roles,
    .open = rolefmt_open,
    .close = rolefmt_close,
    .pread = rolefmt_pread,
    .block_status = rolefmt_block_status,
    .length = rolefmt_length,
};

STRATA_PLUGIN("roles", .drivers = STRATA_DRIVERS(&rolefmt_driver));
