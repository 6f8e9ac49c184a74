/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_resize.c - strata-img resize. */
#include "img.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "prealloc.h"

static int parse_prealloc(const char *s, enum strata_prealloc *out,
                          struct strata_error **errp)
{
    if (prealloc_parse(s, out) == 0)
        return 0;
    return strata_error_set(errp, EINVAL, "--preallocation: invalid mode '%s' "
                            "(off, metadata, falloc or full)", s);
}

static int run(int argc, char **argv)
{
    enum { OPT_SHRINK = TOOL_OPT_FIRST_LOCAL, OPT_PREALLOC };
    static const struct option longopts[] = {
        TOOL_COMMON_LONGOPTS,
        { "shrink", no_argument, NULL, OPT_SHRINK },
        { "preallocation", required_argument, NULL, OPT_PREALLOC },
        { NULL, 0, NULL, 0 },
    };
    struct tool_common tc = { 0 };
    struct strata_error *err = NULL;
    enum strata_prealloc prealloc = STRATA_PREALLOC_OFF;
    bool shrink = false, quiet = false;
    int c, ret;

    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return img_print_help(&img_cmd_resize);
    /* The size goes last and may start with '-': take it before getopt can
     * mistake it for an option. */
    if (argc < 3)
        return tool_usage_error("resize", "Expecting image file name and size");
    const char *size_arg = argv[--argc];
    argv[argc] = NULL;

    while ((c = getopt_long(argc, argv, ":hf:qU", longopts, NULL)) != -1) {
        int r = tool_common_option(&tc, c, optarg);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        switch (c) {
        case 'q': quiet = true; break;
        case OPT_SHRINK: shrink = true; break;
        case OPT_PREALLOC:
            if (parse_prealloc(optarg, &prealloc, &err) < 0)
                return tool_fail(err, -EINVAL, NULL);
            break;
        default:
            return tool_getopt_error(c, argv, "resize");
        }
    }
    if (tool_refuse_force_share(&tc, "resize"))
        return 1;
    if (tool_common_finish(&tc) < 0)
        return 1;
    struct tool_image img;
    int n = tool_images_collect(&tc, "resize", argv + optind, argc - optind, &img, 1);
    if (n < 0)
        return 1;
    if (n == 0)
        return tool_usage_error("resize", "Expecting image file name and size");

    int sign = 0;
    const char *num = size_arg;
    if (*num == '+' || *num == '-')
        sign = *num++ == '+' ? 1 : -1;
    uint64_t delta;
    if (strata_parse_size(num, &delta, &err) < 0) {
        tool_error("Invalid image size specified: '%s' (%s)", size_arg,
                   err && err->msg ? err->msg : "not a size");
        strata_error_free(err);
        return 1;
    }

    struct strata_node *node;
    ret = tool_image_open(&img, STRATA_O_RDWR, &node, &err);
    if (ret < 0)
        return tool_fail(err, ret, img.spec);
    struct strata_node *fmt = tool_format_node(node, offsetof(struct strata_driver, truncate));
    int status = 1;
    if (!tool_driver_has(strata_node_driver(fmt), offsetof(struct strata_driver, truncate))) {
        tool_not_supported("resize", fmt, &err);
        status = tool_fail(err, -ENOTSUP, NULL);
        goto out;
    }
    int64_t cur = strata_get_length(node);
    if (cur < 0) {
        tool_error("%s: cannot read the image size: %s", img.spec, strerror((int)-cur));
        goto out;
    }
    uint64_t size;
    if (sign > 0) {
        if (delta > UINT64_MAX - (uint64_t)cur) {
            tool_error("%s: new size is too large", img.spec);
            goto out;
        }
        size = (uint64_t)cur + delta;
    } else if (sign < 0) {
        if (delta > (uint64_t)cur) {
            tool_error("New image size must be positive");
            goto out;
        }
        size = (uint64_t)cur - delta;
    } else {
        size = delta;
    }
    if (size < (uint64_t)cur && !shrink) {
        tool_error("Use the --shrink option to perform a shrink operation.");
        tool_warning("Shrinking an image will delete all data beyond the shrunken "
                     "image's end. Before performing such an operation, make sure "
                     "there is no important data there.");
        goto out;
    }
    if (size < (uint64_t)cur && prealloc != STRATA_PREALLOC_OFF) {
        tool_error("Preallocation can only be used for growing images");
        goto out;
    }
    ret = strata_truncate(node, size, false, prealloc, &err);
    if (ret < 0) {
        status = tool_fail(err, ret, img.spec);
        goto out;
    }
    ret = strata_flush(node, &err);
    if (ret < 0) {
        status = tool_fail(err, ret, img.spec);
        goto out;
    }
    if (!quiet)
        printf("Image resized.\n");
    status = 0;
out:
    strata_close(node);
    return status;
}

const struct img_command img_cmd_resize = {
    .name = "resize",
    .run = run,
    .synopsis = "resize [--object OBJ] [--image-opts | --config FILE] [-f FMT] [-q]\n"
                "                  [--preallocation=PREALLOC] [--shrink] FILENAME [+|-]SIZE",
    .summary = "Change the virtual size of FILENAME to SIZE, or by +SIZE / -SIZE.",
    .help =
        "  -f FMT                     image format (probed when omitted)\n"
        "  --preallocation=PREALLOC   off, metadata, falloc or full: how the new\n"
        "                             area is allocated (growing only)\n"
        "  --shrink                   allow the image to get smaller (the data past\n"
        "                             the new end is lost)\n"
        "  -q                         quiet\n"
        "  --image-opts               FILENAME is dotted options\n"
        "  --config FILE              the image is the stack described by FILE\n"
        "  --object secret,...        define a secret\n"
        "  SIZE is the last argument; a leading '-' is read as a size, not an option.\n",
};
