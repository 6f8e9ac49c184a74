/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_amend.c - strata-img amend: change format options of an image. */
#include "crypt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum { OPT_FORCE = TOOL_OPT_FIRST_LOCAL };

static bool force;

/* Erasing key slots by number (state=inactive,keyslot=N and nothing
 * else) needs only the header: no key, and no usable cipher either, which
 * makes it a rescue operation for a volume whose cipher module is missing.
 * Converting between LUKS versions (luks-version= alone) copies key
 * material without reading it. */
static bool header_only(const struct strata_opts *o)
{
    if (o && strata_opts_get(o, "luks-version")) {
        const char *k, *v;
        return strata_opts_entry(o, 0, &k, &v) && !strata_opts_entry(o, 1, &k, &v);
    }
    const char *state = o ? strata_opts_get(o, "state") : NULL;
    if (!state || strcmp(state, "inactive") != 0 || !strata_opts_get(o, "keyslot"))
        return false;
    const char *k, *v;
    for (size_t i = 0; strata_opts_entry(o, i, &k, &v); i++)
        if (strcmp(k, "state") != 0 && strcmp(k, "keyslot") != 0)
            return false;
    return true;
}

static int prepare(struct img_args *a)
{
    struct strata_error *err = NULL;
    if (!a->co.opts && !a->co.want_help)
        return tool_usage_error("amend", "Must specify options (-o)");
    if (a->co.want_help && a->tc.format && a->nwords == 0) {
        const struct strata_driver *drv = img_find_format(a->tc.format, &err);
        if (!drv)
            return tool_fail(err, -ENOENT, NULL);
        img_opts_print_help(a->tc.format, "Amend", drv->amend_options);
        return 0;
    }
    return -1;
}

static unsigned open_flags(const struct img_args *a)
{
    return a->co.want_help            ? STRATA_O_NO_IO
           : header_only(a->co.opts) ? STRATA_O_RDWR | STRATA_O_NO_IO
                                     : STRATA_O_RDWR;
}

static int run(struct img_args *a)
{
    struct strata_error *err = NULL;
    struct strata_node *fmt = tool_format_node(a->node, offsetof(struct strata_driver, amend));
    const struct strata_driver *drv = strata_node_driver(fmt);
    if (a->co.want_help) {
        img_opts_print_help(strata_node_driver_name(fmt), "Amend", drv->amend_options);
        return 0;
    }
    if (!tool_driver_has(drv, offsetof(struct strata_driver, amend))) {
        tool_not_supported("amend", fmt, &err);
        return tool_fail(err, -ENOTSUP, NULL);
    }
    int ret = img_crypt_new_key(a->co.opts, &err);
    struct tool_progress pr;
    tool_progress_start(&pr, a->progress);
    if (ret >= 0)
        ret = strata_image_amend(fmt, a->co.opts, force, &err);
    if (ret >= 0)
        ret = strata_flush(a->node, &err);
    tool_progress_end(&pr);
    if (ret < 0 && err && err->msg) {
        /* qemu-img amend gives the message alone, naming no file. */
        tool_error("%s", tool_unprefixed(err->msg, strata_node_filename(fmt)));
        strata_error_free(err);
        return 1;
    }
    return ret < 0 ? tool_fail(err, ret, a->img.spec) : 0;
}

const struct img_command img_cmd_amend = {
    .name = "amend",
    .synopsis = "amend [--object OBJ] [--image-opts | --config FILE] [-p] [-q] [-f FMT]\n"
                "                 [-t CACHE] -o OPTIONS [--force] FILENAME",
    .summary = "Change format-specific options of an existing image.",
    .flags = IMG_TAKES_O | IMG_TAKES_P | IMG_TAKES_Q | IMG_WRITES | IMG_ONE_IMAGE | IMG_OPEN |
             IMG_TAKES_CACHE,
    .options = (const struct img_option[]){
        { OPT_FORCE, "force", NULL, .flag = &force,
          .help = "allow changes the format considers risky" },
        { 0 },
    },
    .notes = "-o names the options to change; --object defines e.g. the secrets of new\n"
             "encryption keys.\n",
    .prepare = prepare,
    .open_flags = open_flags,
    .run = run,
};
