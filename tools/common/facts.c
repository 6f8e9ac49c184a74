/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* facts.c - what an image reports about itself, as strata-img info and
 * strata-io info show it: the image-level facts a driver gives among its
 * format-specific data (driver.h's reserved get_info keys) are taken out of
 * that data, so each is shown once, where qemu-img shows it. */
#include "tool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tool_image_facts_gather(struct strata_node *node, struct tool_image_facts *f,
                            struct strata_error **errp)
{
    memset(f, 0, sizeof *f);
    f->filename = strata_node_filename(node);
    f->format = strata_node_driver_name(node);
    f->virtual_size = strata_get_length(node);
    if (f->virtual_size < 0)
        return strata_error_set(errp, (int)-f->virtual_size,
                                "%s: cannot read the image size: %s", f->filename,
                                strerror((int)-f->virtual_size));
    f->actual_size = strata_get_allocated_size(node);

    struct strata_node *fmt = tool_format_node(node, offsetof(struct strata_driver, get_info));
    f->fmt = fmt;
    f->backing = strata_node_child(fmt, "backing");
    if (!tool_driver_has(strata_node_driver(fmt), offsetof(struct strata_driver, get_info)))
        return 0;
    struct strata_info *data = strata_info_new_object();
    if (!data)
        return strata_error_set(errp, ENOMEM, "out of memory");
    int ret = strata_image_info(fmt, data, errp);
    if (ret < 0) {
        strata_info_free(data);
        return ret;
    }
    strata_info_get_int(data, "cluster-size", &f->cluster_size);
    strata_info_get_int(data, "vm-state-offset", &f->vm_state_offset);
    f->have_encrypted = strata_info_get_bool(data, "encrypted", &f->encrypted);
    strata_info_get_bool(data, "dirty-flag", &f->dirty);
    const char *s = strata_info_get_str(data, "backing-filename");
    f->backing_name = s ? strdup(s) : NULL;
    s = strata_info_get_str(data, "backing-filename-format");
    f->backing_format = s ? strdup(s) : NULL;
    /* Named relative to the image's directory, as an open would take it; a
     * json: or protocol name stands as it is. */
    const char *fmtname = strata_node_filename(fmt);
    if (!f->backing && f->backing_name)
        f->backing_path = strncmp(f->backing_name, "json:", 5) == 0 ||
                                  strstr(f->backing_name, "://") || !fmtname ||
                                  strncmp(fmtname, "json:", 5) == 0
                              ? strdup(f->backing_name)
                              : tool_path_beside(fmtname, f->backing_name);
    f->snapshots = strata_info_take(data, "snapshots");
    static const char *const reserved[] = { "cluster-size", "vm-state-offset",
                                            "encrypted", "dirty-flag",
                                            "backing-filename", "backing-filename-format",
                                            NULL };
    for (const char *const *k = reserved; *k; k++)
        strata_info_remove(data, *k);
    f->specific = data;
    return 0;
}

void tool_image_facts_free(struct tool_image_facts *f)
{
    strata_info_free(f->specific);
    strata_info_free(f->snapshots);
    free(f->backing_name);
    free(f->backing_format);
    free(f->backing_path);
    memset(f, 0, sizeof *f);
}

const char *tool_image_facts_backing_name(const struct tool_image_facts *f)
{
    return f->backing_name ? f->backing_name : strata_node_filename(f->backing);
}

const char *tool_image_facts_backing_full(const struct tool_image_facts *f)
{
    if (f->backing)
        return strata_node_filename(f->backing);
    return f->backing_path ? f->backing_path : f->backing_name;
}

const char *tool_image_facts_backing_format(const struct tool_image_facts *f)
{
    return f->backing_format ? f->backing_format : strata_node_driver_name(f->backing);
}

void tool_image_facts_print_backing(const struct tool_image_facts *f)
{
    if (!f->backing && !f->backing_name)
        return;
    const char *name = tool_image_facts_backing_name(f);
    const char *full = tool_image_facts_backing_full(f);
    printf("backing file: %s", name);
    if (full && strcmp(full, name) != 0)
        printf(" (actual path: %s)", full);
    putchar('\n');
    if (f->backing || f->backing_format)
        printf("backing file format: %s\n", tool_image_facts_backing_format(f));
}

void tool_image_facts_print_specific(const struct tool_image_facts *f)
{
    if (!f->specific)
        return;
    char *t = strata_info_to_text(f->specific, 4);
    if (t && *t) {
        printf("Format specific information:\n");
        fputs(t, stdout);
    }
    free(t);
}
