/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_commit.c - strata-img commit: write what an image defines itself into
 * its backing file, then empty the image as qemu-img does (-d keeps it). */
#include "img.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COMMIT_CHUNK (1u << 20)

/* Whether -b's BASE names `node`, the backing file of `parent`: any name of
 * the same file counts, an absolute one as it is and a relative one taken
 * from the parent's directory, as a backing name stored in the image is
 * (and as qemu-img takes it: not from the working directory). */
static bool names_node(const char *base, const struct strata_node *parent,
                       const struct strata_node *node)
{
    const char *path = strata_node_filename(node);
    if (!path)
        return false;
    if (base[0] == '/')
        return strcmp(base, path) == 0 || tool_same_file(base, path);
    char *rel = tool_path_beside(strata_node_filename(parent), base);
    bool same = rel && (strcmp(rel, path) == 0 || tool_same_file(rel, path));
    free(rel);
    return same;
}

/* The node of the backing chain below pf (whose backing file is b) that
 * BASE names, and its depth (1: b itself); NULL after printing why there is
 * none. */
static struct strata_node *find_base(const char *base, const char *image,
                                     struct strata_node *pf, struct strata_node *b, int *depth)
{
    struct strata_node *parent = pf, *node = b;
    for (*depth = 1; node && *depth <= 64; ++*depth) {
        if (names_node(base, parent, node))
            return node;
        parent = tool_format_node(node, offsetof(struct strata_driver, amend));
        node = strata_node_child(parent, "backing");
    }
    tool_error("Did not find '%s' in the backing chain of '%s'", base, image);
    return NULL;
}

/* Once its data is in the backing file, the image gives up its clusters,
 * as qemu-img commit does without -d.  Opened without its backing file, a
 * discarded cluster becomes unallocated (reading through to the backing
 * file) rather than a zero cluster. */
static int make_empty(const struct tool_image *img, int64_t size, unsigned cache,
                      struct strata_error **errp)
{
    struct strata_node *top;
    int ret = tool_image_open(img, STRATA_O_RDWR | STRATA_O_NO_BACKING | cache, &top, errp);
    if (ret < 0)
        return ret;
    ret = strata_pdiscard(top, 0, (uint64_t)size, errp);
    if (ret == 0)
        ret = strata_flush(top, errp);
    strata_close(top);
    return ret;
}

static const char *base;
static bool keep;
static uint64_t rate;           /* -r: bytes per second, 0 = unlimited */

static int option(struct img_args *a, int c, const char *arg)
{
    struct strata_error *err = NULL;
    if (c != 'r')
        return 0;
    if (strata_parse_size(arg, &rate, &err) < 0 || rate > INT64_MAX) {
        strata_error_free(err);
        /* qemu-img's words */
        tool_error("Invalid rate limit specified. You may use k, M, G, T, P or E suffixes for");
        tool_error("kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
        return 1;
    }
    return 0;
}

/* -r: sleeps until `done` bytes have taken at least done / rate seconds
 * since `start`. */
static void throttle(const struct timespec *start, uint64_t done)
{
    if (!rate)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double due = (double)done / (double)rate;
    double spent = (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
    if (due > spent) {
        double w = due - spent;
        struct timespec ts = { (time_t)w, (long)((w - (double)(time_t)w) * 1e9) };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
}

static int run(struct img_args *a)
{
    const struct tool_image img = a->img;
    struct strata_error *err = NULL;
    int ret;

    /* The backing file as the image's options describe it (backing.* keys,
     * a logging or fault-injecting filter among them, as qemu-img commit
     * honours them), then the image alone, and the backing file again from
     * those options read-write: it must not be open twice at once. */
    struct strata_node *probe, *top = NULL, *bk = NULL;
    ret = tool_image_open(&img, STRATA_O_NO_IO, &probe, &err);
    if (ret < 0)
        return tool_fail(err, ret, img.spec);
    struct strata_node *pf = tool_format_node(probe, offsetof(struct strata_driver, amend));
    struct strata_node *b = strata_node_child(pf, "backing");
    if (!b) {
        strata_close(probe);
        tool_error("Image '%s' does not have a backing file", img.spec);
        return 1;
    }
    /* Everything the chain defines above the target (depth 1: the image
     * itself) goes into it. */
    int depth = 1;
    struct strata_node *target = base ? find_base(base, img.spec, pf, b, &depth) : b;
    if (!target) {
        strata_close(probe);
        return 1;
    }
    struct strata_opts *bopts = strata_node_opts_dup(target);
    strata_close(probe);
    /* The chain is read without locks, as the target in it is opened
     * again read-write below, and only what lies above the target is read. */
    ret = bopts ? tool_image_open(&img, (depth > 1 ? STRATA_O_FORCE_SHARE : STRATA_O_NO_BACKING) |
                                            a->cache, &top, &err)
                : strata_error_set(&err, ENOMEM, "out of memory");
    if (ret == 0)
        ret = strata_open_opts(bopts, STRATA_O_RDWR | a->cache, &bk, &err);
    strata_opts_free(bopts);
    uint8_t *buf = tool_alloc_buffer(COMMIT_CHUNK);
    if (ret == 0 && !buf)
        ret = strata_error_set(&err, ENOMEM, "out of memory");
    int64_t size = ret == 0 ? strata_get_length(top) : 0;
    int64_t bsize = ret == 0 ? strata_get_length(bk) : 0;
    if (ret == 0 && bsize < size)
        ret = strata_truncate(bk, (uint64_t)size, false, STRATA_PREALLOC_OFF, &err);
    struct tool_progress pr;
    tool_progress_start(&pr, a->progress);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    uint64_t copied = 0;
    bool copying = ret == 0;
    for (uint64_t off = 0; ret == 0 && off < (uint64_t)size;) {
        tool_progress_update(&pr, off, (uint64_t)size);
        struct strata_block_status bs;
        uint64_t len = (uint64_t)size - off < COMMIT_CHUNK ? (uint64_t)size - off : COMMIT_CHUNK;
        int found = 0;
        ret = depth > 1 ? strata_block_status_above(top, off, len, &bs, &found, &err)
                        : strata_block_status(top, off, len, &bs, &err);
        if (ret < 0)
            break;
        len = bs.pnum;
        if ((bs.flags & STRATA_BS_ALLOCATED) && found < depth) {
            if (bs.flags & STRATA_BS_ZERO) {
                ret = strata_pwrite_zeroes(bk, off, len, 0, &err);
            } else {
                ret = strata_pread(top, off, len, buf, 0, &err);
                if (ret == 0)
                    ret = strata_pwrite(bk, off, len, buf, 0, &err);
            }
            copied += len;
            throttle(&start, copied);
        }
        off += len;
    }
    if (ret == 0)
        ret = strata_flush(bk, &err);
    if (ret == 0)
        tool_progress_update(&pr, (uint64_t)size, (uint64_t)size);
    tool_progress_end(&pr);
    free(buf);
    strata_close(bk);
    strata_close(top);
    /* With -b the images between stay as they were, and so must the
     * image (qemu-img: -b implies -d). */
    /* A failure once the copy has begun is reported in qemu-img's words,
     * the detail going to the debug log. */
    if (ret < 0 && copying) {
        strata_debug("%s", err ? err->msg : "");
        strata_error_free(err);
        tool_error("Block job failed: %s", strerror(-ret));
        return 1;
    }
    if (ret == 0 && !keep && !base && (ret = make_empty(&img, size, a->cache, &err)) < 0) {
        strata_debug("%s", err ? err->msg : "");
        strata_error_free(err);
        tool_error("Failed to empty %s: %s", img.spec, strerror(-ret));
        return 1;
    }
    if (ret < 0)
        return tool_fail(err, ret, img.spec);
    if (!a->quiet)
        printf("Image committed.\n");
    return 0;
}

const struct img_command img_cmd_commit = {
    .name = "commit",
    .synopsis = "commit [--object OBJ] [--image-opts | --config FILE] [-q] [-f FMT] [-b BASE]\n"
                "                 [-d] [-p] [-t CACHE] [-r RATE] FILENAME",
    .summary = "Write an image's own data into its backing file.",
    .flags = IMG_TAKES_Q | IMG_TAKES_P | IMG_WRITES | IMG_ONE_IMAGE | IMG_TAKES_CACHE,
    .options = (const struct img_option[]){
        { 'b', NULL, "BASE", .value = &base,
          .help = "the backing file to commit to, anywhere in the\n"
                  "backing chain, by any name of it (implies -d)" },
        { 'd', NULL, NULL, .flag = &keep,
          .help = "keep the image's data (by default it is emptied\n"
                  "once committed, as qemu-img does)" },
        { 'r', NULL, "RATE",
          .help = "copy at most RATE bytes per second (suffixes k, M,\n"
                  "G, ...)" },
        { 0 },
    },
    .option = option,
    .run = run,
};
