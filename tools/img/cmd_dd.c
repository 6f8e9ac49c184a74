/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_dd.c - strata-img dd: dd-style copy into a new image. */
#include "img.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DD_BUF_SIZE (2u << 20)

struct dd_args {
    uint64_t bs, count, skip;
    bool has_count, has_skip;
    const char *in, *out;
};

static int parse_operand(struct dd_args *d, const char *arg, struct strata_error **errp)
{
    const char *eq = strchr(arg, '=');
    if (!eq)
        return strata_error_set(errp, EINVAL, "unrecognized operand '%s' "
                                "(expected bs=, count=, skip=, if= or of=)", arg);
    size_t klen = (size_t)(eq - arg);
    const char *v = eq + 1;
    if (klen == 2 && !strncmp(arg, "bs", 2)) {
        if (tool_parse_size(v, "bs", &d->bs, errp) < 0)
            return -EINVAL;
        if (d->bs == 0 || d->bs > INT32_MAX)
            return strata_error_set(errp, EINVAL, "bs: invalid block size '%s'", v);
    } else if (klen == 5 && !strncmp(arg, "count", 5)) {
        if (tool_parse_size(v, "count", &d->count, errp) < 0)
            return -EINVAL;
        d->has_count = true;
    } else if (klen == 4 && !strncmp(arg, "skip", 4)) {
        if (tool_parse_size(v, "skip", &d->skip, errp) < 0)
            return -EINVAL;
        d->has_skip = true;
    } else if (klen == 2 && !strncmp(arg, "if", 2)) {
        d->in = v;
    } else if (klen == 2 && !strncmp(arg, "of", 2)) {
        d->out = v;
    } else {
        return strata_error_set(errp, EINVAL, "unrecognized operand '%.*s'", (int)klen, arg);
    }
    return 0;
}

static const char *out_fmt = "raw";

static int run(struct img_args *a)
{
    const struct tool_common tc = a->tc;
    struct strata_error *err = NULL;
    struct dd_args d = { .bs = 512 };
    int ret, status = 1;
    struct strata_node *src = NULL, *dst = NULL;
    uint8_t *buf = NULL;

    for (int i = 0; i < a->nwords; i++)
        if (parse_operand(&d, a->words[i], &err) < 0)
            return tool_fail(err, -EINVAL, NULL);
    struct tool_image in;
    if (tc.nconfigs > 1)
        return tool_usage_error("dd", "only one --config input");
    if (tc.nconfigs == 1 && d.in)
        return tool_usage_error("dd", "give the input either with if= or with --config");
    if (tc.nconfigs == 1) {
        in.kind = TOOL_IMAGE_CONFIG;
        in.spec = tc.configs[0];
        in.format = NULL;
    } else if (d.in) {
        tool_image_from_word(&tc, d.in, &in);
    } else {
        return tool_usage_error("dd", "Must specify input image (if=)");
    }
    if (!d.out)
        return tool_usage_error("dd", "Must specify output image (of=)");

    const struct strata_driver *drv = img_find_format(out_fmt, &err);
    if (!drv)
        return tool_fail(err, -ENOENT, NULL);
    if (!tool_driver_has(drv, offsetof(struct strata_driver, create))) {
        tool_error("%s: image creation is not supported by format '%s'", d.out, out_fmt);
        return 1;
    }

    ret = tool_image_open(&in, tc.force_share ? STRATA_O_FORCE_SHARE : 0, &src, &err);
    if (ret < 0)
        return tool_fail(err, ret, in.spec);
    int64_t in_len = strata_get_length(src);
    if (in_len < 0) {
        tool_error("%s: cannot read the image size: %s", in.spec, strerror((int)-in_len));
        goto out;
    }
    /* As in qemu-img, count bounds the input position, so skipped blocks
     * count against it. */
    uint64_t end = (uint64_t)in_len;
    if (d.has_count && d.count <= UINT64_MAX / d.bs && d.count * d.bs < end)
        end = d.count * d.bs;
    uint64_t start = 0;
    if (d.has_skip) {
        if (d.skip > UINT64_MAX / d.bs || d.skip * d.bs > end)
            start = end;
        else
            start = d.skip * d.bs;
    }
    uint64_t out_size = end - start;

    ret = strata_image_create(out_fmt, d.out, out_size, NULL, &err);
    if (ret < 0) {
        status = tool_fail(err, ret, d.out);
        goto out;
    }
    ret = strata_open_file(d.out, out_fmt, STRATA_O_RDWR, &dst, &err);
    if (ret < 0) {
        status = tool_fail(err, ret, d.out);
        goto out;
    }
    /* Whole blocks of bs, in batches that fit the buffer. */
    uint64_t chunk = DD_BUF_SIZE < d.bs ? d.bs : DD_BUF_SIZE / d.bs * d.bs;
    buf = tool_alloc_buffer(chunk);
    if (!buf) {
        tool_error("out of memory");
        goto out;
    }
    struct tool_progress pr;
    tool_progress_start(&pr, a->progress);
    for (uint64_t pos = start; pos < end; ) {
        uint64_t n = end - pos < chunk ? end - pos : chunk;
        ret = strata_pread(src, pos, n, buf, 0, &err);
        if (ret < 0) {
            tool_progress_end(&pr);
            strata_error_prefix(&err, "error while reading at byte %" PRIu64, pos);
            status = tool_fail(err, ret, in.spec);
            goto out;
        }
        ret = strata_pwrite(dst, pos - start, n, buf, 0, &err);
        if (ret < 0) {
            tool_progress_end(&pr);
            strata_error_prefix(&err, "error while writing at byte %" PRIu64, pos - start);
            status = tool_fail(err, ret, d.out);
            goto out;
        }
        pos += n;
        tool_progress_update(&pr, pos - start, out_size);
    }
    ret = strata_flush(dst, &err);
    tool_progress_end(&pr);
    if (ret < 0) {
        status = tool_fail(err, ret, d.out);
        goto out;
    }
    status = 0;
out:
    free(buf);
    if (dst)
        strata_close(dst);
    if (src)
        strata_close(src);
    return status;
}

const struct img_command img_cmd_dd = {
    .name = "dd",
    .synopsis = "dd [--object OBJ] [--image-opts | --config FILE] [-U] [-p] [-f FMT]\n"
                "              [-O OUTPUT_FMT] [bs=BLOCK_SIZE] [count=BLOCKS] [skip=BLOCKS]\n"
                "              if=INPUT of=OUTPUT",
    .summary = "Copy INPUT to a new image OUTPUT, dd style.",
    .flags = IMG_TAKES_P,
    .options = (const struct img_option[]){
        { 'O', NULL, "OUTPUT_FMT", .value = &out_fmt, .help = "output format (default: raw)" },
        { 0 },
    },
    .notes = "Operands:\n"
             "  bs=BLOCK_SIZE         block size (default 512; suffixes allowed)\n"
             "  count=BLOCKS          stop the input at BLOCKS * BLOCK_SIZE bytes (as in\n"
             "                        qemu-img, skipped blocks count against this)\n"
             "  skip=BLOCKS           start BLOCKS * BLOCK_SIZE bytes into the input\n"
             "  if=INPUT              the input image\n"
             "  of=OUTPUT             the output image, created (replacing any file)\n"
             "-f, -U, --image-opts and --config are about the input; --config names it\n"
             "instead of if=.\n",
    .run = run,
};
