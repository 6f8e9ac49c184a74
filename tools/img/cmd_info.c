/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_info.c - strata-img info: what qemu-img info shows, with the same
 * JSON field names. */
#include "img.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Field order as qemu-img 7 prints them, so outputs can be diffed.  The
 * format-specific data and snapshot list move into o. */
static void to_json_obj(struct tool_image_facts *f, struct strata_info *o)
{
    bool has_backing = f->backing || f->backing_name;
    if (has_backing && (f->backing || f->backing_format))
        strata_info_add_str(o, "backing-filename-format", tool_image_facts_backing_format(f));
    strata_info_add_int(o, "virtual-size", f->virtual_size);
    strata_info_add_str(o, "filename", f->filename);
    if (f->cluster_size > 0)
        strata_info_add_int(o, "cluster-size", f->cluster_size);
    strata_info_add_str(o, "format", f->format);
    if (f->actual_size >= 0)
        strata_info_add_int(o, "actual-size", f->actual_size);
    if (f->have_encrypted && f->encrypted)
        strata_info_add_bool(o, "encrypted", true);
    if (f->snapshots) {
        strata_info_attach(o, "snapshots", f->snapshots);
        f->snapshots = NULL;
    }
    if (f->specific) {
        struct strata_info *fs = strata_info_add_object(o, "format-specific");
        strata_info_add_str(fs, "type", f->format);
        strata_info_attach(fs, "data", f->specific);
        f->specific = NULL;
    }
    if (has_backing) {
        strata_info_add_str(o, "full-backing-filename",
                            tool_image_facts_backing_full(f));
        strata_info_add_str(o, "backing-filename", tool_image_facts_backing_name(f));
    }
    strata_info_add_bool(o, "dirty-flag", f->dirty);
}

static void print_human(const struct tool_image_facts *f)
{
    char buf[64];
    printf("image: %s\n", f->filename);
    printf("file format: %s\n", f->format);
    strata_format_size((uint64_t)f->virtual_size, buf, sizeof buf);
    printf("virtual size: %s (%" PRId64 " bytes)\n", buf, f->virtual_size);
    if (f->actual_size >= 0) {
        strata_format_size((uint64_t)f->actual_size, buf, sizeof buf);
        printf("disk size: %s\n", buf);
    } else {
        printf("disk size: unavailable\n");
    }
    if (f->have_encrypted && f->encrypted)
        printf("encrypted: yes\n");
    if (f->cluster_size > 0)
        printf("cluster_size: %" PRId64 "\n", f->cluster_size);
    tool_image_facts_print_backing(f);
    if (f->dirty)
        printf("cleanly shut down: no\n");
    if (f->snapshots && strata_info_at(f->snapshots, 0))
        img_print_snapshot_list(f->snapshots);
    tool_image_facts_print_specific(f);
}

enum { OPT_BACKING_CHAIN = TOOL_OPT_FIRST_LOCAL };

static bool chain;

/* Whether node is the top image, opened without its backing file because
 * that would not open (IMG_BACKING_OPTIONAL). */
static bool first_backing_unopened(const struct img_args *a, struct strata_node *node)
{
    return node == a->node && (strata_node_flags(node) & STRATA_O_NO_BACKING);
}

static int run(struct img_args *a)
{
    struct strata_node *top = a->node;
    struct strata_error *err = NULL;
    int ret;

    struct strata_info *root = strata_info_new_object();
    struct strata_info *list = chain ? strata_info_add_list(root, "chain") : NULL;
    int status = 0;
    bool first = true;
    for (struct strata_node *node = top; node; ) {
        struct tool_image_facts f;
        ret = tool_image_facts_gather(node, &f, &err);
        if (ret < 0) {
            status = tool_fail(err, ret, strata_node_filename(node));
            break;
        }
        if (chain && !f.backing && f.backing_name && first_backing_unopened(a, node)) {
            /* The chain shows every image: one that does not open fails it
             * (the top image alone was opened without it). */
            tool_image_facts_free(&f);
            struct strata_node *again = NULL;
            ret = tool_image_open(&a->img, STRATA_O_NO_IO, &again, &err);
            if (ret == 0) {
                strata_close(again);
                ret = strata_error_set(&err, EIO, "%s: backing file not opened",
                                       strata_node_filename(node));
            }
            status = tool_fail(err, ret, a->img.spec);
            break;
        }
        if (a->output == TOOL_OUTPUT_JSON) {
            struct strata_info *o = list ? strata_info_add_object(list, NULL) : root;
            to_json_obj(&f, o);
        } else {
            if (!first)
                putchar('\n');
            print_human(&f);
        }
        first = false;
        struct strata_node *next = f.backing;
        tool_image_facts_free(&f);
        if (!chain)
            break;
        node = next;
    }
    if (status == 0 && a->output == TOOL_OUTPUT_JSON)
        tool_print_info_json(list ? strata_info_get(root, "chain") : root);
    strata_info_free(root);
    return status;
}

const struct img_command img_cmd_info = {
    .name = "info",
    .synopsis = "info [--object OBJ] [--image-opts | --config FILE] [-f FMT]\n"
                "                [--output=human|json] [--backing-chain] [-U] FILENAME",
    .summary = "Show information about the image FILENAME.",
    .flags = IMG_TAKES_OUTPUT | IMG_ONE_IMAGE | IMG_OPEN | IMG_BACKING_OPTIONAL,
    .options = (const struct img_option[]){
        { OPT_BACKING_CHAIN, "backing-chain", NULL, .flag = &chain,
          .help = "show every image of the backing chain" },
        { 0 },
    },
    .open_mode = STRATA_O_NO_IO,
    .run = run,
};
