/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_measure.c - strata-img measure: the host space an image would need. */
#include "img.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum { OPT_SIZE = TOOL_OPT_FIRST_LOCAL };

static const char *out_fmt = "raw";
static bool have_size;
static uint64_t size;
static struct img_snapshot_ref snap;

/* qemu-img measure reports its usage errors without pointing at --help. */
static int option(struct img_args *a, int c, const char *arg)
{
    struct strata_error *err = NULL;
    switch (c) {
    case OPT_SIZE:
        if (tool_parse_size(arg, "--size", &size, &err) < 0 || size > INT64_MAX) {
            strata_error_free(err);
            img_report_bad_size();
            return 1;
        }
        have_size = true;
        break;
    case 'l':
        return img_snapshot_arg(arg, &snap);
    }
    return 0;
}

static int run(struct img_args *a)
{
    const struct tool_common tc = a->tc;
    struct strata_error *err = NULL;
    int ret, status = 1;
    struct strata_node *src = NULL;
    const struct strata_driver *drv = NULL;

    if (a->co.want_help) {
        if (!(drv = img_find_format(out_fmt, &err))) {
            status = tool_fail(err, -ENOENT, NULL);
            goto out;
        }
        img_opts_print_create_help(drv);
        status = 0;
        goto out;
    }
    if (a->nwords > 1) {
        tool_error("At most one filename argument is allowed.");
        goto out;
    }
    bool has_file = a->nwords == 1 || tc.nconfigs > 0;
    if (!has_file && (tc.image_opts || tc.format || snap.given)) {
        tool_error("--image-opts, -f, and -l require a filename argument.");
        goto out;
    }
    if (has_file && have_size) {
        tool_error("--size N cannot be used together with a filename.");
        goto out;
    }
    if (!has_file && !have_size) {
        tool_error("Either --size N or one filename must be specified.");
        goto out;
    }
    struct tool_image img;
    int n = tool_images_collect(&tc, "measure", a->words, a->nwords, &img, 1);
    if (n < 0)
        goto out;
    if (n > 0) {
        /* A snapshot is read through the image's tables, so it needs I/O. */
        unsigned flags = (snap.given ? 0 : STRATA_O_NO_IO) |
                         (tc.force_share ? STRATA_O_FORCE_SHARE : 0);
        ret = tool_image_open(&img, flags, &src, &err);
        if (ret < 0) {
            status = tool_fail(err, ret, img.spec);
            goto out;
        }
        if (snap.given && img_snapshot_load(src, &snap) != 0)
            goto out;
        int64_t len = strata_get_length(src);
        if (len < 0) {
            tool_error("%s: cannot read the image size: %s", img.spec, strerror((int)-len));
            goto out;
        }
        size = (uint64_t)len;
    }
    /* As qemu-img, the source opens before the target format is looked up. */
    if (!(drv = strata_driver_find(out_fmt, NULL))) {
        tool_error("Unknown file format '%s'", out_fmt);
        goto out;
    }
    if (!tool_driver_has(drv, offsetof(struct strata_driver, measure))) {
        tool_error("measure is not supported by format '%s'", out_fmt);
        goto out;
    }
    struct strata_measure m = { 0 };
    ret = strata_image_measure(out_fmt, a->co.opts, size, src, &m, &err);
    if (ret < 0) {
        status = tool_fail(err, ret, n > 0 ? img.spec : out_fmt);
        goto out;
    }
    /* qemu-img 7.2 adds the size of the source's persistent bitmaps when
     * both sides could hold them: a qcow2 source, a qcow2 v3 target. */
    const char *compat = a->co.opts ? strata_opts_get(a->co.opts, "compat") : NULL;
    struct strata_node *src_fmt = src ? tool_format_node(src, offsetof(struct strata_driver,
                                                                       get_info)) : NULL;
    bool bitmaps = src && strcmp(out_fmt, "qcow2") == 0 &&
                   !(compat && (strcmp(compat, "0.10") == 0 || strcmp(compat, "v2") == 0)) &&
                   strcmp(strata_node_driver_name(src_fmt), "qcow2") == 0;
    uint64_t bitmaps_size = 0;
    if (bitmaps) {
        const char *cs = strata_opts_get(a->co.opts, "cluster_size");
        uint64_t cluster = 65536;
        if (cs && (strata_parse_size(cs, &cluster, NULL) < 0 || !cluster))
            cluster = 65536;
        bitmaps_size = img_bitmaps_size(src_fmt, size, cluster);
    }
    if (a->output == TOOL_OUTPUT_JSON) {
        struct strata_info *o = strata_info_new_object();
        if (bitmaps)
            strata_info_add_uint(o, "bitmaps", bitmaps_size);
        strata_info_add_uint(o, "required", m.required);
        strata_info_add_uint(o, "fully-allocated", m.fully_allocated);
        tool_print_info_json(o);
        strata_info_free(o);
    } else {
        printf("required size: %" PRIu64 "\n", m.required);
        printf("fully allocated size: %" PRIu64 "\n", m.fully_allocated);
        if (bitmaps)
            printf("bitmaps size: %" PRIu64 "\n", bitmaps_size);
    }
    status = 0;
out:
    if (src)
        strata_close(src);
    img_snapshot_ref_free(&snap);
    return status;
}

const struct img_command img_cmd_measure = {
    .name = "measure",
    .synopsis = "measure [--output=human|json] [-O FMT] [-o OPTIONS]\n"
                "                   (--size SIZE | [--object OBJ] [--image-opts | --config FILE]\n"
                "                   [-f FMT] [-l SNAPSHOT] [-U] FILENAME)",
    .summary = "Compute the host size a new or converted image of format FMT needs.",
    .flags = IMG_TAKES_O | IMG_TAKES_OUTPUT,
    .options = (const struct img_option[]){
        { 'O', NULL, "FMT", .value = &out_fmt, .help = "output format (default: raw)" },
        { OPT_SIZE, "size", "SIZE",
          .help = "measure a new, empty image of SIZE bytes" },
        { 'l', NULL, "SNAPSHOT",
          .help = "measure this internal snapshot of FILENAME (ID or\n"
                  "NAME, or snapshot.id=ID,snapshot.name=NAME)" },
        { 0 },
    },
    .notes = "-o holds the creation options of FMT; -f, -U, --image-opts and --config\n"
             "are about the source FILENAME.  JSON gives \"required\" and\n"
             "\"fully-allocated\".\n",
    .option = option,
    .run = run,
};
