/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_compare.c - strata-img compare, with qemu-img's messages and exit
 * codes: 0 identical, 1 different, 2 error. */
#include "img.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMPARE_BUF_SIZE (2u << 20)

enum { CMP_SAME = 0, CMP_DIFFER = 1, CMP_ERROR = 2 };

struct side {
    struct strata_node *node;
    const char *name;
    uint8_t *buf;
};

static int status_at(struct side *s, uint64_t off, uint64_t len,
                     struct strata_block_status *bs, struct strata_error **errp)
{
    int depth;
    int ret = strata_block_status_above(s->node, off, len, bs, &depth, errp);
    if (ret < 0) {
        strata_error_prefix(errp, "%s: error while reading block status at offset %"
                            PRIu64, s->name, off);
        return ret;
    }
    if (bs->pnum == 0)
        return strata_error_set(errp, EIO, "%s: block status at offset %" PRIu64
                                " made no progress", s->name, off);
    return 0;
}

static int read_at(struct side *s, uint64_t off, uint64_t len, struct strata_error **errp)
{
    int ret = strata_pread(s->node, off, len, s->buf, 0, errp);
    if (ret < 0)
        strata_error_prefix(errp, "%s: error while reading offset %" PRIu64, s->name, off);
    return ret;
}

static uint64_t first_nonzero(const uint8_t *p, uint64_t len)
{
    uint64_t i = 0;
    /* Narrow down by blocks, then bytes. */
    while (i + 4096 <= len && tool_buffer_is_zero(p + i, 4096))
        i += 4096;
    while (i < len && !p[i])
        i++;
    return i;
}

/* Checks that [off, end) of one image reads as zeros; *mismatch gets the
 * first byte that does not (or stays UINT64_MAX). */
static int check_zero_tail(struct side *s, uint64_t off, uint64_t end,
                           uint64_t *mismatch, struct tool_progress *pr,
                           uint64_t total, uint64_t *done, struct strata_error **errp)
{
    while (off < end) {
        uint64_t n = end - off < COMPARE_BUF_SIZE ? end - off : COMPARE_BUF_SIZE;
        struct strata_block_status bs;
        int ret = status_at(s, off, n, &bs, errp);
        if (ret < 0)
            return ret;
        if (bs.pnum < n)
            n = bs.pnum;
        if (!(bs.flags & STRATA_BS_ZERO)) {
            ret = read_at(s, off, n, errp);
            if (ret < 0)
                return ret;
            uint64_t i = first_nonzero(s->buf, n);
            if (i < n) {
                *mismatch = off + i;
                return 0;
            }
        }
        off += n;
        *done += n;
        tool_progress_update(pr, *done, total);
    }
    return 0;
}

static const char *fmt_b;
static bool strict;

static int run(struct img_args *args)
{
    const struct tool_common tc = args->tc;
    struct strata_error *err = NULL;
    bool quiet = args->quiet, progress = args->progress && !quiet;
    int ret;

    if (fmt_b && tc.image_opts) {
        tool_error("--image-opts and -F are mutually exclusive");
        return CMP_ERROR;
    }
    struct tool_image imgs[2];
    int n = tool_images_collect(&tc, "compare", args->words, args->nwords, imgs, 2);
    if (n < 0)
        return CMP_ERROR;
    if (n != 2) {
        tool_usage_error("compare", "Expecting two image file names");
        return CMP_ERROR;
    }
    if (imgs[1].kind == TOOL_IMAGE_FILE)
        imgs[1].format = fmt_b;

    unsigned flags = (tc.force_share ? STRATA_O_FORCE_SHARE : 0) | args->src_cache;
    struct side a = { 0 }, b = { 0 };
    int status = CMP_ERROR;
    a.name = imgs[0].spec;
    b.name = imgs[1].spec;
    ret = tool_image_open(&imgs[0], flags, &a.node, &err);
    if (ret < 0) {
        tool_fail(err, ret, a.name);
        return CMP_ERROR;
    }
    ret = tool_image_open(&imgs[1], flags, &b.node, &err);
    if (ret < 0) {
        tool_fail(err, ret, b.name);
        goto out;
    }
    a.buf = tool_alloc_buffer(COMPARE_BUF_SIZE);
    b.buf = tool_alloc_buffer(COMPARE_BUF_SIZE);
    if (!a.buf || !b.buf) {
        tool_error("out of memory");
        goto out;
    }
    int64_t la = strata_get_length(a.node), lb = strata_get_length(b.node);
    if (la < 0 || lb < 0) {
        struct side *s = la < 0 ? &a : &b;
        tool_error("%s: cannot read the image size: %s", s->name,
                   strerror((int)-(la < 0 ? la : lb)));
        goto out;
    }
    uint64_t common = (uint64_t)(la < lb ? la : lb);
    uint64_t total = (uint64_t)(la > lb ? la : lb), done = 0;
    uint64_t mismatch = UINT64_MAX;
    struct tool_progress pr;

    if (strict && la != lb) {
        if (!quiet)
            printf("Strict mode: Image size mismatch!\n");
        status = CMP_DIFFER;
        goto out;
    }
    tool_progress_start(&pr, progress);
    for (uint64_t off = 0; off < common && mismatch == UINT64_MAX; ) {
        uint64_t len = common - off < COMPARE_BUF_SIZE ? common - off : COMPARE_BUF_SIZE;
        struct strata_block_status sa, sb;
        if (status_at(&a, off, len, &sa, &err) < 0 || status_at(&b, off, len, &sb, &err) < 0) {
            tool_progress_end(&pr);
            tool_fail(err, -EIO, NULL);
            goto out;
        }
        if (sa.pnum < len)
            len = sa.pnum;
        if (sb.pnum < len)
            len = sb.pnum;
        if (strict && (sa.flags & STRATA_BS_ALLOCATED) != (sb.flags & STRATA_BS_ALLOCATED)) {
            tool_progress_end(&pr);
            if (!quiet)
                printf("Strict mode: Offset %" PRIu64 " block status mismatch!\n", off);
            status = CMP_DIFFER;
            goto out;
        }
        bool za = sa.flags & STRATA_BS_ZERO, zb = sb.flags & STRATA_BS_ZERO;
        if (!(za && zb)) {
            if ((!za && read_at(&a, off, len, &err) < 0) ||
                (!zb && read_at(&b, off, len, &err) < 0)) {
                tool_progress_end(&pr);
                tool_fail(err, -EIO, NULL);
                goto out;
            }
            if (za || zb) {
                uint64_t i = first_nonzero(za ? b.buf : a.buf, len);
                if (i < len)
                    mismatch = off + i;
            } else if (memcmp(a.buf, b.buf, len) != 0) {
                uint64_t i = 0;
                while (i + 4096 <= len && !memcmp(a.buf + i, b.buf + i, 4096))
                    i += 4096;
                while (a.buf[i] == b.buf[i])
                    i++;
                mismatch = off + i;
            }
        }
        off += len;
        done += len;
        tool_progress_update(&pr, done, total);
    }
    if (mismatch == UINT64_MAX && la != lb) {
        struct side *longer = la > lb ? &a : &b;
        tool_progress_end(&pr);
        if (!quiet)
            printf("Warning: Image size mismatch!\n");
        tool_progress_start(&pr, progress);
        if (check_zero_tail(longer, common, total, &mismatch, &pr, total, &done, &err) < 0) {
            tool_progress_end(&pr);
            tool_fail(err, -EIO, NULL);
            goto out;
        }
    }
    tool_progress_end(&pr);
    if (mismatch != UINT64_MAX) {
        if (!quiet)
            printf("Content mismatch at offset %" PRIu64 "!\n", mismatch);
        status = CMP_DIFFER;
    } else {
        if (!quiet)
            printf("Images are identical.\n");
        status = CMP_SAME;
    }
out:
    free(a.buf);
    free(b.buf);
    if (a.node)
        strata_close(a.node);
    if (b.node)
        strata_close(b.node);
    return status;
}

const struct img_command img_cmd_compare = {
    .name = "compare",
    .synopsis = "compare [--object OBJ] [--image-opts | --config FILE] [-f FMT] [-F FMT]\n"
                "                   [-p] [-q] [-s] [-T SRC_CACHE] [-U] FILENAME1 FILENAME2",
    .summary = "Check whether two images have the same content.",
    .flags = IMG_TAKES_P | IMG_TAKES_Q | IMG_TAKES_SRC_CACHE,
    .options = (const struct img_option[]){
        { 'F', NULL, "FMT", .value = &fmt_b,
          .help = "format of FILENAME2 (probed when omitted)" },
        { 's', NULL, NULL, .flag = &strict,
          .help = "strict: images of different sizes, or with data\n"
                  "allocated in one and not the other, differ" },
        { 0 },
    },
    .notes = "-f is the format of FILENAME1.  --config may be repeated; its images come\n"
             "before the positional names.  With -q only the exit status tells the\n"
             "result.  Without -s, an image that is longer is equal when its extra part\n"
             "reads as zeros.  Exit status: 0 identical, 1 different, 2 error.\n",
    .usage_status = CMP_ERROR,
    .run = run,
};
