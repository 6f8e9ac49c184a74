/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_rebase.c - strata-img rebase: change an image's backing file.  In the
 * default (safe) mode every range the image does not define itself is
 * compared between the old and the new backing file and copied into the
 * image where they differ, so the guest sees the same data afterwards; -u
 * only rewrites the name. */
#include "img.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REBASE_CHUNK (1u << 20)

/* Writes the sectors of [off, off+n) where the old backing data (a)
 * differs from the new (b), a run at a time, as qemu-img rebase does: a
 * run of zeros as a zero write, so that the image stores as little as it
 * can and maps as qemu-img's does. */
static int write_differences(struct strata_node *img, uint64_t off, uint64_t n,
                             const uint8_t *a, const uint8_t *b, struct strata_error **errp)
{
    const uint64_t sec = 512;
    for (uint64_t pos = 0; pos < n;) {
        uint64_t step = n - pos < sec ? n - pos : sec;
        bool differs = memcmp(a + pos, b + pos, step) != 0;
        uint64_t end = pos + step;
        while (end < n) {
            uint64_t k = n - end < sec ? n - end : sec;
            if ((memcmp(a + end, b + end, k) != 0) != differs)
                break;
            end += k;
        }
        if (differs) {
            int r = tool_buffer_is_zero(a + pos, end - pos)
                        ? strata_pwrite_zeroes(img, off + pos, end - pos, 0, errp)
                        : strata_pwrite(img, off + pos, end - pos, a + pos, 0, errp);
            if (r < 0)
                return r;
        }
        pos = end;
    }
    return 0;
}

static int copy_differences(struct strata_node *img, struct strata_node *fmt,
                            struct strata_node *nb, bool progress,
                            struct strata_error **errp)
{
    int64_t size = strata_get_length(img);
    if (size < 0)
        return strata_error_set(errp, (int)-size, "cannot get the image size");
    int64_t nbsize = nb ? strata_get_length(nb) : 0;
    if (nbsize < 0)
        return strata_error_set(errp, (int)-nbsize, "cannot get the new backing file's size");
    uint8_t *a = tool_alloc_buffer(REBASE_CHUNK), *b = tool_alloc_buffer(REBASE_CHUNK);
    int r = 0;
    if (!a || !b) {
        r = strata_error_set(errp, ENOMEM, "out of memory");
        goto out;
    }
    struct tool_progress pr;
    tool_progress_start(&pr, progress);
    for (uint64_t off = 0; off < (uint64_t)size && r == 0;) {
        tool_progress_update(&pr, off, (uint64_t)size);
        struct strata_block_status bs;
        uint64_t n = (uint64_t)size - off < REBASE_CHUNK ? (uint64_t)size - off : REBASE_CHUNK;
        r = strata_block_status(fmt, off, n, &bs, errp);
        if (r < 0)
            break;
        n = bs.pnum;
        if (!(bs.flags & STRATA_BS_ALLOCATED)) {
            r = strata_pread(img, off, n, a, 0, errp);
            if (r < 0)
                break;
            memset(b, 0, n);
            if (nb && off < (uint64_t)nbsize) {
                uint64_t m = (uint64_t)nbsize - off < n ? (uint64_t)nbsize - off : n;
                r = strata_pread(nb, off, m, b, 0, errp);
                if (r < 0)
                    break;
            }
            r = write_differences(img, off, n, a, b, errp);
        }
        off += n;
    }
    if (r == 0)
        tool_progress_update(&pr, (uint64_t)size, (uint64_t)size);
    tool_progress_end(&pr);
out:
    free(a);
    free(b);
    return r;
}

static const char *backing, *bfmt;
static bool unsafe;

static int prepare(struct img_args *a)
{
    if (!backing)
        return tool_usage_error("rebase", "Must specify backing file (-b)");
    /* The format is recorded in the image, so it is the user's to state, as
     * in qemu-img 7.2: a probed format would let a raw backing file whose
     * guest wrote an image header be taken for that image; and -u opens no
     * backing file at all, where keeping the old format can leave an image
     * that no longer opens. */
    if (*backing && !bfmt) {
        tool_error("Could not change the backing file to '%s': backing format must be "
                   "specified", backing);
        return 1;
    }
    return -1;
}

static unsigned open_flags(const struct img_args *a)
{
    return STRATA_O_RDWR | (unsafe ? STRATA_O_NO_BACKING : 0);
}

static int run(struct img_args *a)
{
    struct strata_node *node = a->node, *nb = NULL;
    struct strata_error *err = NULL;
    int ret;
    struct strata_node *fmt = tool_format_node(node, offsetof(struct strata_driver, amend));
    if (!unsafe && *backing) {
        char *path = tool_path_beside(strata_node_filename(fmt), backing);
        /* -U is qemu-img's: it applies to the backing file, which is only
         * read; the image itself is written and always locked. */
        unsigned bflags = (a->tc.force_share ? STRATA_O_FORCE_SHARE : 0) | a->src_cache;
        ret = path ? strata_open_file(path, bfmt, bflags, &nb, &err) : -ENOMEM;
        free(path);
        if (ret < 0) {
            strata_error_prefix(&err, "Could not open new backing file '%s'", backing);
            goto out;
        }
    }
    if (!unsafe) {
        ret = copy_differences(node, fmt, nb, a->progress, &err);
        if (ret < 0)
            goto out;
        ret = strata_flush(node, &err);
        if (ret < 0)
            goto out;
    }
    struct strata_opts *o = strata_opts_new();
    strata_opts_set(o, "backing_file", backing);
    if (*backing)
        strata_opts_set(o, "backing_fmt", bfmt);
    ret = strata_image_amend(fmt, o, false, &err);
    strata_opts_free(o);
out:
    strata_close(nb);
    return ret < 0 ? tool_fail(err, ret, a->img.spec) : 0;
}

const struct img_command img_cmd_rebase = {
    .name = "rebase",
    .synopsis = "rebase [--object OBJ] [--image-opts | --config FILE] [-q] [-f FMT] [-u] [-U]\n"
                "                 [-p] [-t CACHE] [-T SRC_CACHE]\n"
                "                 -b BACKING_FILE [-F BACKING_FMT] FILENAME",
    .summary = "Change the backing file of an image.",
    .flags = IMG_TAKES_Q | IMG_TAKES_P | IMG_ONE_IMAGE | IMG_OPEN | IMG_TAKES_CACHE |
             IMG_TAKES_SRC_CACHE,
    .options = (const struct img_option[]){
        { 'b', NULL, "BACKING_FILE", .value = &backing,
          .help = "the new backing file (\"\" for none); a relative\n"
                  "name is relative to the image's directory" },
        { 'F', NULL, "BACKING_FMT", .value = &bfmt,
          .help = "its format (required unless BACKING_FILE is \"\")" },
        { 'u', NULL, NULL, .flag = &unsafe,
          .help = "unsafe: only rewrite the name, copy nothing" },
        { 0 },
    },
    .notes = "-t applies to the image and the backing chain it opens, -T to the new\n"
             "backing file.  -U opens the new backing file without taking image locks; the image\n"
             "itself is written and locked.  Without -u, data the image inherits and the\n"
             "two backing files see differently is copied into the image first.\n",
    .prepare = prepare,
    .open_flags = open_flags,
    .run = run,
};
