/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_amend.c - strata-img amend: change format options of an image. */
#include "crypt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Erasing key slots by number (state=inactive,keyslot=N and nothing
 * else) needs only the header: no key, and no usable cipher either, which
 * makes it a rescue operation for a volume whose cipher module is missing. */
static bool header_only(const struct strata_opts *o)
{
    const char *state = o ? strata_opts_get(o, "state") : NULL;
    if (!state || strcmp(state, "inactive") != 0 || !strata_opts_get(o, "keyslot"))
        return false;
    const char *k, *v;
    for (size_t i = 0; strata_opts_entry(o, i, &k, &v); i++)
        if (strcmp(k, "state") != 0 && strcmp(k, "keyslot") != 0)
            return false;
    return true;
}

static int run(int argc, char **argv)
{
    enum { OPT_FORCE = TOOL_OPT_FIRST_LOCAL };
    static const struct option longopts[] = {
        TOOL_COMMON_LONGOPTS,
        { "force", no_argument, NULL, OPT_FORCE },
        { NULL, 0, NULL, 0 },
    };
    struct tool_common tc = { 0 };
    struct img_create_opts co = { 0 };
    struct strata_error *err = NULL;
    bool force = false, progress = false;
    int c, ret, status = 1;

    while ((c = getopt_long(argc, argv, ":hf:o:pqU", longopts, NULL)) != -1) {
        int r = tool_common_option(&tc, c, optarg);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        switch (c) {
        case 'h':
            status = img_print_help(&img_cmd_amend);
            goto out;
        case 'o':
            if (img_opts_add(&co, optarg, &err) < 0) {
                status = tool_fail(err, -EINVAL, NULL);
                goto out;
            }
            break;
        case 'p': progress = true; break;
        case 'q': progress = false; break;
        case OPT_FORCE: force = true; break;
        default:
            status = tool_getopt_error(c, argv, "amend");
            goto out;
        }
    }
    if ((status = tool_refuse_force_share(&tc, "amend")))
        goto out;
    status = 1;
    if (tool_common_finish(&tc) < 0)
        goto out;
    if (!co.opts && !co.want_help) {
        status = tool_usage_error("amend", "Must specify options (-o)");
        goto out;
    }
    if (co.want_help && tc.format && argc == optind) {
        const struct strata_driver *drv = img_find_format(tc.format, &err);
        if (!drv) {
            status = tool_fail(err, -ENOENT, NULL);
            goto out;
        }
        img_opts_print_help(tc.format, "Amend", drv->amend_options);
        status = 0;
        goto out;
    }
    struct tool_image img;
    status = tool_image_collect_one(&tc, "amend", argv + optind, argc - optind, &img);
    if (status)
        goto out;
    status = 1;
    struct strata_node *node;
    unsigned flags = co.want_help ? STRATA_O_NO_IO
                   : header_only(co.opts) ? STRATA_O_RDWR | STRATA_O_NO_IO : STRATA_O_RDWR;
    ret = tool_image_open(&img, flags, &node, &err);
    if (ret < 0) {
        status = tool_fail(err, ret, img.spec);
        goto out;
    }
    struct strata_node *fmt = tool_format_node(node, offsetof(struct strata_driver, amend));
    const struct strata_driver *drv = strata_node_driver(fmt);
    if (co.want_help) {
        img_opts_print_help(strata_node_driver_name(fmt), "Amend", drv->amend_options);
        status = 0;
    } else if (!tool_driver_has(drv, offsetof(struct strata_driver, amend))) {
        tool_not_supported("amend", fmt, &err);
        status = tool_fail(err, -ENOTSUP, NULL);
    } else {
        struct tool_progress pr;
        ret = img_crypt_new_key(co.opts, &err);
        tool_progress_start(&pr, progress);
        if (ret >= 0)
            ret = strata_image_amend(fmt, co.opts, force, &err);
        if (ret >= 0)
            ret = strata_flush(node, &err);
        tool_progress_end(&pr);
        status = ret < 0 ? tool_fail(err, ret, img.spec) : 0;
    }
    strata_close(node);
out:
    img_opts_free(&co);
    return status;
}

const struct img_command img_cmd_amend = {
    .name = "amend",
    .run = run,
    .synopsis = "amend [--object OBJ] [--image-opts | --config FILE] [-p] [-q] [-f FMT]\n"
                "                 -o OPTIONS [--force] FILENAME",
    .summary = "Change format-specific options of an existing image.",
    .help =
        "  -o OPTIONS            the options to change; '-o help' lists them\n"
        "  --force               allow changes the format considers risky\n"
        "  -f FMT                image format (probed when omitted)\n"
        "  -p                    show progress\n"
        "  -q                    quiet\n"
        "  --image-opts          FILENAME is dotted options\n"
        "  --config FILE         the image is the stack described by FILE\n"
        "  --object secret,...   define a secret (e.g. for new encryption keys)\n",
};
