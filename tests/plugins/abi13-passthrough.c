/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* abi13-passthrough.c - a filter built against the driver ABI 1.3 headers
 * (tests/plugins/abi-1.3/): it names its child in the old `children` list,
 * answers sizes without an error object, listens to events by name and
 * raises them with the 1.3 string form.  The core must run it unchanged.
 *
 * It implements what a filter could leave to the core, so that the core
 * calls its 1.3 callbacks.  Each write first raises "l2_update" on the child by name, so that a
 * blkdebug rule below can show the name arrived.  get_info reports what the
 * old event callback received.
 */
#include <strata/strata.h>
#include <strata/plugin.h>

#include <errno.h>
#include <stdio.h>

#if STRATA_DRIVER_ABI_MINOR != 3
#error "built against the wrong headers: this module must see driver ABI 1.3"
#endif

struct pass {
    struct strata_node *file;
    bool fail_length;
    int64_t events;
    char last_event[64];
};

static const char *const pass_children[] = { "file", NULL };

static const struct strata_opt_desc pass_opts[] = {
    { .name = "fail-length", .type = STRATA_OPT_BOOL, .help = "size queries fail" },
    { NULL },
};

static int pass_open(struct strata_node *node, const struct strata_opts *opts,
                     unsigned flags, struct strata_error **errp)
{
    struct pass *s = strata_node_state(node);
    if (strata_opts_get_bool(opts, "fail-length", &s->fail_length, errp) < 0)
        return -EINVAL;
    return strata_node_open_child(node, "file", NULL, false, &s->file, errp);
}

static void pass_close(struct strata_node *node)
{
}

static int pass_pread(struct strata_node *node, uint64_t off, uint64_t len, void *buf,
                      unsigned flags, struct strata_error **errp)
{
    struct pass *s = strata_node_state(node);
    return strata_pread(s->file, off, len, buf, flags, errp);
}

static int pass_pwrite(struct strata_node *node, uint64_t off, uint64_t len,
                       const void *buf, unsigned flags, struct strata_error **errp)
{
    struct pass *s = strata_node_state(node);
    strata_node_event(s->file, "l2_update");
    return strata_pwrite(s->file, off, len, buf, flags, errp);
}

static int64_t pass_get_length(struct strata_node *node)
{
    struct pass *s = strata_node_state(node);
    return s->fail_length ? -EIO : strata_get_length(s->file);
}

static int64_t pass_get_allocated_size(struct strata_node *node)
{
    struct pass *s = strata_node_state(node);
    return strata_get_allocated_size(s->file);
}

static int pass_get_info(struct strata_node *node, struct strata_info *obj,
                         struct strata_error **errp)
{
    struct pass *s = strata_node_state(node);
    strata_info_add_str(obj, "abi", "1.3");
    strata_info_add_int(obj, "events", s->events);
    strata_info_add_str(obj, "last-event", s->last_event);
    return 0;
}

static void pass_event(struct strata_node *node, const char *event)
{
    struct pass *s = strata_node_state(node);
    s->events++;
    snprintf(s->last_event, sizeof s->last_event, "%s", event);
}

static const struct strata_driver pass_driver = {
    .abi_version = STRATA_DRIVER_ABI,
    .struct_size = sizeof(struct strata_driver),
    .name = "abi13",
    .description = "pass-through filter built for driver ABI 1.3",
    .kind = STRATA_DRIVER_FILTER,
    .state_size = sizeof(struct pass),
    .children = pass_children,
    .open_options = pass_opts,
    .open = pass_open,
    .close = pass_close,
    .pread = pass_pread,
    .pwrite = pass_pwrite,
    .get_length = pass_get_length,
    .get_allocated_size = pass_get_allocated_size,
    .get_info = pass_get_info,
    .event = pass_event,
};

STRATA_PLUGIN("abi13-passthrough", .drivers = STRATA_DRIVERS(&pass_driver));
