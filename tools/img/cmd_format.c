/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_format.c - strata-img format: writes a LUKS header onto an existing
 * file or node in place, keeping its size; the payload is what follows the
 * header. */
#include "crypt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
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

enum { OPT_FORCE = TOOL_OPT_FIRST_LOCAL };

static bool force;

static int run(struct img_args *a)
{
    struct img_create_opts *co = &a->co;
    struct strata_error *err = NULL;
    struct strata_node *node = NULL;
    struct strata_crypto_ctx *ctx = NULL;
    const struct strata_crypto_format *fmt = NULL;
    int r, status = 1;

    /* luks-version picks the format; the format itself does not take it. */
    const char *ver = co->opts ? strata_opts_get(co->opts, "luks-version") : NULL;
    if (ver && strcmp(ver, "1") != 0) {
        char *end;
        unsigned long v = strtoul(ver, &end, 10);
        fmt = *end || v > UINT32_MAX ? NULL
                                     : strata_crypto_format_find_version("luks", (uint32_t)v,
                                                                         &err);
        if (!fmt) {
            if (!err)
                tool_error("invalid luks-version '%s'", ver);
            status = err ? tool_fail(err, -ENOTSUP, NULL) : 1;
            goto out;
        }
    } else if (!(fmt = strata_crypto_format_find("luks", &err))) {
        status = tool_fail(err, -ENOENT, NULL);
        goto out;
    }
    if (ver)
        strata_opts_del(co->opts, "luks-version");
    if (co->want_help) {
        img_opts_print_help("luks", "Format", fmt->create_options);
        status = 0;
        goto out;
    }
    struct tool_image img;
    status = tool_image_collect_one(&a->tc, "format", a->words, a->nwords, &img);
    if (status)
        goto out;
    status = 1;
    if (img.kind == TOOL_IMAGE_FILE && !img.format)
        img.format = "raw";
    struct strata_opts *opts = co->opts ? co->opts : strata_opts_new();
    co->opts = opts;
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
        memcmp(head, "LUKS\xba\xbe", 6) == 0 && !force) {
        tool_error("%s: already a LUKS volume: use --force to replace it (its data "
                   "becomes unreadable)", tool_image_label(&img));
        goto out;
    }
    uint64_t hlen;
    if ((r = fmt->header_size(opts, NULL, &hlen, &err)) < 0) {
        status = tool_fail(err, r, NULL);
        goto out;
    }
    /* LUKS2 encrypts in 4 KiB sectors only when the payload is whole ones. */
    if (fmt->version == 2 && !strata_opts_get(opts, "sector-size") &&
        (uint64_t)len > hlen && ((uint64_t)len - hlen) % 4096) {
        strata_opts_set(opts, "sector-size", "512");
        if ((r = fmt->header_size(opts, NULL, &hlen, &err)) < 0) {
            status = tool_fail(err, r, NULL);
            goto out;
        }
    }
    struct fit_check fc = { node, (uint64_t)len };
    if ((r = fit_init(&fc, hlen, &err)) < 0) {
        status = tool_fail(err, r, NULL);
        goto out;
    }
    char q[512];
    snprintf(q, sizeof q, "Write a LUKS header onto '%s'? What it holds now becomes "
             "unreadable.", tool_image_label(&img));
    if (!img_confirm(q, a->yes)) {
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
    uint32_t sector;
    fmt->get_cipher(ctx, NULL, &payload, &sector);
    printf("Formatted '%s' as LUKS: payload at offset %" PRIu64 ", %" PRIu64
           " bytes of payload\n", tool_image_label(&img), payload,
           ((uint64_t)len - payload) / sector * sector);
    status = 0;
out:
    if (ctx)
        fmt->close(ctx);
    if (node)
        strata_close(node);
    return status;
}

const struct img_command img_cmd_format = {
    .name = "format",
    .synopsis = "format [--object OBJ] [--image-opts | -f FMT] -o OPTIONS [--yes]\n"
                "                 [--force] {FILENAME | --config FILE}",
    .summary = "Write a LUKS header onto an existing file or node, keeping its size.",
    .flags = IMG_TAKES_O | IMG_TAKES_YES | IMG_WRITES,
    .options = (const struct img_option[]){
        { OPT_FORCE, "force", NULL, .flag = &force, .help = "replace an existing LUKS header" },
        { 0 },
    },
    .notes = "-o holds the LUKS create options (key-secret=ID, naming an --object secret,\n"
             "is required; luks-version=2 writes LUKS2; '-o help' lists them); the\n"
             "payload is the rest of the volume after the header.\n"
             "FILENAME is opened as raw unless -f names a format; with --image-opts it\n"
             "is dotted options naming a node.\n",
    .run = run,
};
