/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_misc.c - discard, flush, length, map, info, truncate, help, quit. */
#include "io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int discard_run(struct io_ctx *ctx, int argc, char **argv)
{
    bool quiet = false;
    int c;
    uint64_t off, len;
    struct strata_error *err = NULL;

    optind = 0;
    while ((c = getopt(argc, argv, "+q")) != -1) {
        if (c != 'q')
            return io_usage(&io_cmd_discard);
        quiet = true;
    }
    if (argc - optind != 2)
        return io_usage(&io_cmd_discard);
    if (io_parse_num(argv[0], argv[optind], &off) < 0 ||
        io_parse_num(argv[0], argv[optind + 1], &len) < 0)
        return 1;
    double t0 = tool_now();
    int ret = strata_pdiscard(ctx->node, off, len, &err);
    double t1 = tool_now();
    if (ret < 0)
        return io_fail("discard", err, ret);
    io_print_report("discard", len, off, t1 - t0, 1, quiet);
    return 0;
}

static int flush_run(struct io_ctx *ctx, int argc, char **argv)
{
    struct strata_error *err = NULL;
    if (argc != 1)
        return io_usage(&io_cmd_flush);
    int ret = strata_flush(ctx->node, &err);
    return ret < 0 ? io_fail("flush", err, ret) : 0;
}

static int length_run(struct io_ctx *ctx, int argc, char **argv)
{
    if (argc != 1)
        return io_usage(&io_cmd_length);
    int64_t len = strata_get_length(ctx->node);
    if (len < 0) {
        fprintf(stderr, "getlength: %s\n", strerror((int)-len));
        return 1;
    }
    char s[64];
    io_cvtstr((double)len, s, sizeof s);
    printf("%s\n", s);
    return 0;
}

static int map_run(struct io_ctx *ctx, int argc, char **argv)
{
    struct strata_error *err = NULL;
    if (argc != 1)
        return io_usage(&io_cmd_map);
    int64_t len = strata_get_length(ctx->node);
    if (len < 0) {
        fprintf(stderr, "map: cannot read the length: %s\n", strerror((int)-len));
        return 1;
    }
    uint64_t off = 0, end = (uint64_t)len;
    /* Runs of the same allocation state at this layer, merged. */
    bool have = false, cur_alloc = false;
    uint64_t cur_start = 0, cur_len = 0;
    for (;;) {
        bool alloc = false;
        uint64_t n = 0;
        if (off < end) {
            struct strata_block_status bs = { 0 };
            int ret = strata_block_status(ctx->node, off, end - off, &bs, &err);
            if (ret < 0)
                return io_fail("map", err, ret);
            if (bs.pnum == 0) {
                fprintf(stderr, "map failed: no progress at offset %" PRIu64 "\n", off);
                return 1;
            }
            n = bs.pnum < end - off ? bs.pnum : end - off;
            alloc = bs.flags & STRATA_BS_ALLOCATED;
        }
        if (have && (off >= end || alloc != cur_alloc)) {
            char a[64], b[64];
            io_cvtstr((double)cur_len, a, sizeof a);
            io_cvtstr((double)cur_start, b, sizeof b);
            printf("%s (0x%" PRIx64 ") bytes %s allocated at offset %s (0x%" PRIx64 ")\n",
                   a, cur_len, cur_alloc ? "   " : "not", b, cur_start);
            have = false;
        }
        if (off >= end)
            break;
        if (!have) {
            have = true;
            cur_alloc = alloc;
            cur_start = off;
            cur_len = 0;
        }
        cur_len += n;
        off += n;
    }
    return 0;
}

/* qemu-io's lines (format name, cluster size, vm state offset,
 * format-specific data), with
 * the image-level facts strata-img info lifts out of that data shown once,
 * above it, as strata-img shows them. */
static int info_run(struct io_ctx *ctx, int argc, char **argv)
{
    struct strata_error *err = NULL;
    if (argc != 1)
        return io_usage(&io_cmd_info);
    struct tool_image_facts f;
    int ret = tool_image_facts_gather(ctx->node, &f, &err);
    if (ret < 0)
        return io_fail("info", err, ret);
    printf("format name: %s\n", f.format);
    if (f.cluster_size > 0) {
        char s[64];
        io_cvtstr((double)f.cluster_size, s, sizeof s);
        printf("cluster size: %s\n", s);
        io_cvtstr((double)f.vm_state_offset, s, sizeof s);
        printf("vm state offset: %s\n", s);
    }
    if (f.have_encrypted && f.encrypted)
        printf("encrypted: yes\n");
    tool_image_facts_print_backing(&f);
    if (f.dirty)
        printf("cleanly shut down: no\n");
    tool_image_facts_print_specific(&f);
    tool_image_facts_free(&f);
    return 0;
}

static int truncate_run(struct io_ctx *ctx, int argc, char **argv)
{
    struct strata_error *err = NULL;
    uint64_t size;
    if (argc != 2)
        return io_usage(&io_cmd_truncate);
    if (io_parse_num(argv[0], argv[1], &size) < 0)
        return 1;
    int ret = strata_truncate(ctx->node, size, false, STRATA_PREALLOC_OFF, &err);
    return ret < 0 ? io_fail("truncate", err, ret) : 0;
}

static void help_one(const struct io_command *c, bool full)
{
    printf("%s %s -- %s\n", c->name, c->args, c->oneline);
    if (full && c->alias)
        printf("\n alias: %s\n", c->alias);
    if (full && c->help)
        printf("\n%s", c->help);
}

static int help_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    if (argc > 2)
        return io_usage(&io_cmd_help);
    if (argc == 2) {
        for (size_t i = 0; io_commands[i]; i++) {
            const struct io_command *c = io_commands[i];
            if (!strcmp(c->name, argv[1]) || (c->alias && !strcmp(c->alias, argv[1]))) {
                help_one(c, true);
                return 0;
            }
        }
        io_err("command %s not found\n", argv[1]);
        return 1;
    }
    for (size_t i = 0; io_commands[i]; i++)
        help_one(io_commands[i], false);
    printf("\nUse 'help commandname' for extended help.\n");
    return 0;
}

static int quit_run(struct io_ctx *ctx, int argc, char **argv)
{
    ctx->quit = true;
    return 0;
}

const struct io_command io_cmd_discard = {
    .name = "discard", .run = discard_run, .args = "[-q] off len",
    .oneline = "discards a number of bytes at a specified offset",
    .help = " -q  do not print the result lines\n",
};
const struct io_command io_cmd_flush = {
    .name = "flush", .run = flush_run, .args = "",
    .oneline = "flush all in-core file state to disk",
};
const struct io_command io_cmd_length = {
    .name = "length", .run = length_run, .args = "",
    .oneline = "gets the length of the current file",
};
const struct io_command io_cmd_map = {
    .name = "map", .run = map_run, .args = "",
    .oneline = "prints the allocated areas of a file",
};
const struct io_command io_cmd_info = {
    .name = "info", .run = info_run, .args = "",
    .oneline = "prints information about the current file",
};
const struct io_command io_cmd_truncate = {
    .name = "truncate", .run = truncate_run, .args = "off",
    .oneline = "truncates the current file at the given offset",
};
const struct io_command io_cmd_help = {
    .name = "help", .alias = "?", .run = help_run, .args = "[command]",
    .oneline = "help for one or all commands",
};
const struct io_command io_cmd_quit = {
    .name = "quit", .alias = "q", .run = quit_run, .args = "",
    .oneline = "exit the program",
};
