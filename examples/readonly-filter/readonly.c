/* SPDX-License-Identifier: MIT */
/* readonly.c - an example filter driver: it passes reads through to the
 * stack below it and refuses everything that would change it.
 *
 *     driver=readonly,image.filename=disk.qcow2
 *
 * opens disk.qcow2 (its format probed) under a filter that turns every write,
 * write-zeroes, discard and resize into EROFS, naming the image, even when
 * the stack is opened read-write.  `info` reports how many were refused.
 *
 * The filter declares only what it changes: reads, sizes, block status and
 * flushes are left NULL, and the core forwards them to the PRIMARY child.
 */
#include <strata/strata.h>
#include <strata/plugin.h>

#include <errno.h>
#include <stdatomic.h>

struct ro_state {
    struct strata_node *image;
    atomic_long refused;
};

/* Not PROTOCOL: image.filename=X probes X's format, so the filter can sit
 * above a format as well as above a protocol. */
static const struct strata_child_role ro_roles[] = {
    { "image", STRATA_CHILD_PRIMARY },
    { NULL },
};

static int ro_open(struct strata_node *node, const struct strata_opts *opts,
                   unsigned flags, struct strata_error **errp)
{
    struct ro_state *s = strata_node_state(node);
    return strata_node_open_child(node, "image", NULL, false, &s->image, errp);
}

static void ro_close(struct strata_node *node)
{
}

static int refuse(struct strata_node *node, const char *what, struct strata_error **errp)
{
    struct ro_state *s = strata_node_state(node);
    atomic_fetch_add(&s->refused, 1);
    return strata_error_set(errp, EROFS, "%s: %s refused: the readonly filter is in the "
                            "stack", strata_node_filename(node), what);
}

static int ro_pwrite(struct strata_node *node, uint64_t off, uint64_t len,
                     const void *buf, unsigned flags, struct strata_error **errp)
{
    return refuse(node, "write", errp);
}

static int ro_pwrite_zeroes(struct strata_node *node, uint64_t off, uint64_t len,
                            unsigned flags, struct strata_error **errp)
{
    return refuse(node, "write-zeroes", errp);
}

static int ro_pdiscard(struct strata_node *node, uint64_t off, uint64_t len,
                       struct strata_error **errp)
{
    return refuse(node, "discard", errp);
}

static int ro_pwrite_compressed(struct strata_node *node, uint64_t off, uint64_t len,
                                const void *buf, struct strata_error **errp)
{
    return refuse(node, "write", errp);
}

static int ro_truncate(struct strata_node *node, uint64_t size, bool exact,
                       enum strata_prealloc prealloc, struct strata_error **errp)
{
    return refuse(node, "resize", errp);
}

static int ro_get_info(struct strata_node *node, struct strata_info *obj,
                       struct strata_error **errp)
{
    struct ro_state *s = strata_node_state(node);
    strata_info_add_int(obj, "refused-requests", atomic_load(&s->refused));
    return 0;
}

static const struct strata_driver readonly_driver = {
    STRATA_DRIVER_HEAD,
    .name = "readonly",
    .description = "filter that refuses every change to the stack below it",
    .kind = STRATA_DRIVER_FILTER,
    .flags = STRATA_DRIVER_THREAD_SAFE,
    .state_size = sizeof(struct ro_state),
    .child_roles = ro_roles,
    .open = ro_open,
    .close = ro_close,
    .pwrite = ro_pwrite,
    .pwrite_zeroes = ro_pwrite_zeroes,
    .pdiscard = ro_pdiscard,
    .pwrite_compressed = ro_pwrite_compressed,
    .truncate = ro_truncate,
    .get_info = ro_get_info,
};

STRATA_PLUGIN("readonly", .drivers = STRATA_DRIVERS(&readonly_driver));
