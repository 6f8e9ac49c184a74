/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_format.c - strata-img format: writes a LUKS header onto an existing
 * file or node in place, keeping its size; the payload is what follows the
 * header. */
#include "crypt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct fit_check {
    struct strata_node *node;
    uint64_t size;
};

static int fit_init(void *opaque, uint64_t header_len, struct strata_error **errp)
{
    struct fit_check *f = opaque;
    if (header_len + 512 > f->size)
        return strata_error_set(errp, ENOSPC, "%s: a LUKS header needs %" PRIu64 " bytes "
                                "plus at least one 512-byte payload sector; the volume "
                                "has %" PRIu64, strata_node_filename(f->node), header_len,
                                f->size);
    return 0;
}

static int fit_read(void *opaque, uint64_t off, void *buf, size_t len,
                    struct strata_error **errp)
{
    struct fit_check *f = opaque;
    return strata_pread(f->node, off, len, buf, 0, errp);
}

static int fit_write(void *opaque, uint64_t off, const void *buf, size_t len,
                     struct strata_error **errp)
{
    struct fit_check *f = opaque;
    return strata_pwrite(f->node, off, len, buf, 0, errp);
}

static int fit_flush(void *opaque, struct strata_error **errp)
{
    struct fit_check *f = opaque;
    return strata_flush(f->node, errp);
}

static int run(int argc, char **argv)
{
    enum { OPT_YES = TOOL_OPT_FIRST_LOCAL, OPT_FORCE };
    static const struct option longopts[] = {
        TOOL_COMMON_LONGOPTS,
        { "yes", no_argument, NULL, OPT_YES },
        { "force", no_argument, NULL, OPT_FORCE },
        { NULL, 0, NULL, 0 },
    };
    struct tool_common tc = { 0 };
    struct img_create_opts co = { 0 };
    struct strata_error *err = NULL;
    bool yes = false, force = false;
    struct strata_node *node = NULL;
    struct strata_crypto_ctx *ctx = NULL;
    const struct strata_crypto_format *fmt = NULL;
    int c, r, status = 1;

    while ((c = getopt_long(argc, argv, ":hf:o:yU", longopts, NULL)) != -1) {
        r = tool_common_option(&tc, c, optarg);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        switch (c) {
        case 'h':
            status = img_print_help(&img_cmd_format);
            goto out;
        case 'o':
            if (img_opts_add(&co, optarg, &err) < 0) {
                status = tool_fail(err, -EINVAL, NULL);
                goto out;
            }
            break;
        case 'y':
        case OPT_YES: yes = true; break;
        case OPT_FORCE: force = true; break;
        default:
            status = tool_getopt_error(c, argv, "format");
            goto out;
        }
    }
    if ((status = tool_refuse_force_share(&tc, "format")))
        goto out;
    status = 1;
    if (tool_common_finish(&tc) < 0)
        goto out;
    if (!(fmt = strata_crypto_format_find("luks", &err))) {
        status = tool_fail(err, -ENOENT, NULL);
        goto out;
    }
    if (co.want_help) {
        img_opts_print_help("luks", "Format", fmt->create_options);
        status = 0;
        goto out;
    }
    struct tool_image img;
    status = tool_image_collect_one(&tc, "format", argv + optind, argc - optind, &img);
    if (status)
        goto out;
    status = 1;
    if (img.kind == TOOL_IMAGE_FILE && !img.format)
        img.format = "raw";
    struct strata_opts *opts = co.opts ? co.opts : strata_opts_new();
    co.opts = opts;
    if ((r = strata_opts_validate(opts, fmt->create_options, NULL, "luks", &err)) < 0 ||
        (r = tool_image_open(&img, STRATA_O_RDWR, &node, &err)) < 0) {
        status = tool_fail(err, r, tool_image_label(&img));
        goto out;
    }
    int64_t len = strata_get_length(node);
    if (len < 0) {
        tool_error("%s: cannot get the size: %s", tool_image_label(&img),
                   strerror((int)-len));
        goto out;
    }
    uint8_t head[512];
    if (len >= 512 && strata_pread(node, 0, sizeof head, head, 0, NULL) == 0 &&
        fmt->probe && fmt->probe(head, sizeof head) > 0 && !force) {
        tool_error("%s: already a LUKS volume: use --force to replace it (its data "
                   "becomes unreadable)", tool_image_label(&img));
        goto out;
    }
    uint64_t hlen;
    if ((r = fmt->header_size(opts, NULL, &hlen, &err)) < 0) {
        status = tool_fail(err, r, NULL);
        goto out;
    }
    struct fit_check fc = { node, (uint64_t)len };
    if ((r = fit_init(&fc, hlen, &err)) < 0) {
        status = tool_fail(err, r, NULL);
        goto out;
    }
    char q[512];
    snprintf(q, sizeof q, "Write a LUKS header onto '%s'? What it holds now becomes "
             "unreadable.", tool_image_label(&img));
    if (!img_confirm(q, yes)) {
        tool_error("%s: not formatted: confirm with --yes", tool_image_label(&img));
        goto out;
    }
    if ((r = img_crypt_create_key("luks", opts, tool_image_label(&img), &err)) < 0) {
        status = tool_fail(err, r, NULL);
        goto out;
    }
    struct strata_crypto_hdr_io io = { .opaque = &fc, .read = fit_read, .write = fit_write,
                                       .flush = fit_flush, .init = fit_init,
                                       .size = (uint64_t)len,
                                       .name = strata_node_filename(node) };
    if ((r = fmt->create(&io, opts, NULL, &ctx, &err)) < 0 ||
        (r = strata_flush(node, &err)) < 0) {
        status = tool_fail(err, r, tool_image_label(&img));
        goto out;
    }
    uint64_t payload;
    fmt->get_cipher(ctx, NULL, &payload, NULL);
    printf("Formatted '%s' as LUKS: payload at offset %" PRIu64 ", %" PRIu64
           " bytes of payload\n", tool_image_label(&img), payload,
           ((uint64_t)len - payload) / 512 * 512);
    status = 0;
out:
    if (ctx)
        fmt->close(ctx);
    if (node)
        strata_close(node);
    img_opts_free(&co);
    return status;
}

const struct img_command img_cmd_format = {
    .name = "format",
    .run = run,
    .synopsis = "format [--object OBJ] [--image-opts | -f FMT] -o OPTIONS [--yes]\n"
                "                 [--force] FILENAME",
    .summary = "Write a LUKS header onto an existing file or node, keeping its size.",
    .help =
        "  -o OPTIONS            LUKS create options (key-secret=ID is required;\n"
        "                        '-o help' lists them); the payload is the rest of\n"
        "                        the volume after the header\n"
        "  -y, --yes             do not ask for confirmation\n"
        "  --force               replace an existing LUKS header\n"
        "  -f FMT                how to open FILENAME (default: raw)\n"
        "  --image-opts          FILENAME is dotted options naming a node\n"
        "  --object secret,...   define the secret named by key-secret\n",
};
