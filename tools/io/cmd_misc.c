/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_misc.c - discard, flush, length, map, alloc, info, truncate, help,
 * quit, sleep, sigraise and abort. */
#include "io.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int discard_run(struct io_ctx *ctx, int argc, char **argv)
{
    bool machine = false, quiet = false;
    int c;
    struct strata_error *err = NULL;

    while ((c = getopt(argc, argv, "Cq")) != -1) {
        switch (c) {
        case 'C': machine = true; break;
        case 'q': quiet = true; break;
        default:
            return io_usage(&io_cmd_discard);
        }
    }
    if (optind != argc - 2)
        return io_usage(&io_cmd_discard);
    int64_t off = io_cvtnum(argv[optind]), len;
    if (off < 0 || (len = io_cvtlen(argv[optind + 1], false, "")) < 0)
        return 1;
    double t0 = tool_now();
    int ret = io_check_range(ctx, off, len);
    if (ret == 0)
        ret = strata_pdiscard(ctx->node, (uint64_t)off, (uint64_t)len, &err);
    double t1 = tool_now();
    if (ret < 0)
        return io_fail("discard", err, ret);
    if (!quiet)
        io_print_report("discard", t1 - t0, (uint64_t)off, (uint64_t)len, (uint64_t)len,
                        1, machine);
    return 0;
}

static int flush_run(struct io_ctx *ctx, int argc, char **argv)
{
    struct strata_error *err = NULL;
    (void)argc, (void)argv;
    int ret = strata_flush(ctx->node, &err);
    if (ret < 0 && io_as_qemu()) {
        strata_error_free(err);     /* qemu-io's flush fails silently */
        return 1;
    }
    return ret < 0 ? io_fail("flush", err, ret) : 0;
}

static int length_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)argc, (void)argv;
    int64_t len = io_length(ctx);
    if (len < 0) {
        printf("getlength: %s\n", strerror((int)-len));
        return 1;
    }
    char s[64];
    io_cvtstr((double)len, s, sizeof s);
    printf("%s\n", s);
    return 0;
}

/* Whether [off, off+len) is allocated at this layer: *n bytes from off
 * share the answer (0 past the end). */
static int allocated(struct io_ctx *ctx, uint64_t off, uint64_t len, uint64_t *n,
                     struct strata_error **errp)
{
    struct strata_block_status bs = { 0 };
    int64_t size = strata_get_length(ctx->node), sectors = io_length(ctx);
    *n = 0;
    if (sectors >= 0 && off >= (uint64_t)sectors)
        return 0;
    /* The tail of a last sector the image does not fill belongs to it. */
    if (size >= 0 && off >= (uint64_t)size) {
        *n = (uint64_t)sectors - off < len ? (uint64_t)sectors - off : len;
        return 1;
    }
    if (size >= 0 && len > (uint64_t)size - off)
        len = (uint64_t)size - off;
    int ret = strata_block_status(ctx->node, off, len, &bs, errp);
    if (ret < 0)
        return ret;
    *n = bs.pnum < len ? bs.pnum : len;
    return (bs.flags & STRATA_BS_ALLOCATED) ? 1 : 0;
}

static int alloc_run(struct io_ctx *ctx, int argc, char **argv)
{
    struct strata_error *err = NULL;
    int64_t start = io_cvtnum(argv[1]);
    if (start < 0)
        return 1;
    int64_t count = 512;
    if (argc == 3 && (count = io_cvtnum(argv[2])) < 0)
        return 1;
    uint64_t off = (uint64_t)start, remaining = (uint64_t)count, sum = 0;
    while (remaining) {
        uint64_t n;
        int ret = allocated(ctx, off, remaining, &n, &err);
        if (ret < 0) {
            printf("is_allocated failed: %s\n", strerror(-ret));
            strata_error_free(err);
            return 1;
        }
        if (n == 0) {           /* past the end: count what there was */
            count -= (int64_t)remaining;
            break;
        }
        if (ret)
            sum += n;
        off += n;
        remaining -= n;
    }
    char s[64];
    io_cvtstr((double)start, s, sizeof s);
    printf("%" PRIu64 "/%" PRId64 " bytes allocated at offset %s\n", sum, count, s);
    return 0;
}

static int map_run(struct io_ctx *ctx, int argc, char **argv)
{
    struct strata_error *err = NULL;
    (void)argc, (void)argv;
    int64_t len = io_length(ctx);
    if (len < 0) {
        tool_error("Failed to query image length: %s", strerror((int)-len));
        return 1;
    }
    /* Runs of the same allocation state at this layer, merged. */
    uint64_t off = 0, end = (uint64_t)len;
    while (off < end) {
        uint64_t run = 0, n;
        int first = -1, ret;
        while (off + run < end) {
            ret = allocated(ctx, off + run, end - off - run, &n, &err);
            if (ret < 0) {
                tool_error("Failed to get allocation status: %s",
                           err && err->msg ? err->msg : strerror(-ret));
                strata_error_free(err);
                return 1;
            }
            if (n == 0 || (first >= 0 && ret != first))
                break;
            first = ret;
            run += n;
        }
        if (run == 0) {
            tool_error("Unexpected end of image");
            return 1;
        }
        char a[64], b[64];
        io_cvtstr((double)run, a, sizeof a);
        io_cvtstr((double)off, b, sizeof b);
        printf("%s (0x%" PRIx64 ") bytes %s at offset %s (0x%" PRIx64 ")\n", a, run,
               first ? "    allocated" : "not allocated", b, off);
        off += run;
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
    (void)argc, (void)argv;
    struct tool_image_facts f;
    int ret = tool_image_facts_gather(ctx->node, &f, &err);
    if (ret < 0)
        return io_fail("info", err, ret);
    printf("format name: %s\n", f.format);
    /* qemu-io prints a protocol driver's protocol name too, which is the
     * same as its format name. */
    if (strata_node_driver(ctx->node)->kind == STRATA_DRIVER_PROTOCOL)
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
    static const char *const modes[] = { "off", "metadata", "falloc", "full" };
    struct strata_error *err = NULL;
    enum strata_prealloc prealloc = STRATA_PREALLOC_OFF;
    int c;

    while ((c = getopt(argc, argv, "m:")) != -1) {
        if (c != 'm')
            return io_usage(&io_cmd_truncate);
        size_t i = 0;
        while (i < sizeof modes / sizeof modes[0] && strcmp(modes[i], optarg))
            i++;
        if (i == sizeof modes / sizeof modes[0]) {
            tool_error("Invalid preallocation mode '%s'", optarg);
            return 1;
        }
        prealloc = (enum strata_prealloc)i;
    }
    if (optind >= argc)
        return io_usage(&io_cmd_truncate);
    int64_t size = io_cvtnum(argv[optind]);
    if (size < 0)
        return 1;
    int ret = strata_truncate(ctx->node, (uint64_t)size, false, prealloc, &err);
    if (ret < 0) {
        tool_error("%s", err && err->msg ? err->msg : strerror(-ret));
        strata_error_free(err);
        return 1;
    }
    return 0;
}

static void help_one(const char *name, const struct io_command *c, bool full)
{
    printf("%s ", name);
    if (c->args)
        printf("%s ", c->args);
    printf("-- %s\n", c->oneline);
    if (full && c->help)
        fputs(c->help, stdout);
}

const struct io_command *io_find_command(const char *name)
{
    for (size_t i = 0; io_commands[i]; i++) {
        const struct io_command *c = io_commands[i];
        if (!strcmp(c->name, name) || (c->alias && !strcmp(c->alias, name)))
            return c;
    }
    return NULL;
}

static int help_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    if (argc == 2) {
        const struct io_command *c = io_find_command(argv[1]);
        if (!c) {
            printf("command %s not found\n", argv[1]);
            return 1;
        }
        help_one(argv[1], c, true);
        return 0;
    }
    for (size_t i = 0; io_commands[i]; i++)
        help_one(io_commands[i]->name, io_commands[i], false);
    printf("\nUse 'help commandname' for extended help.\n");
    return 0;
}

static int quit_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)argc, (void)argv;
    ctx->quit = true;
    return 0;
}

static int sleep_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    char *end;
    long ms = strtol(argv[1], &end, 0);
    if (ms < 0 || *end) {
        printf("%s is not a valid number\n", argv[1]);
        return 1;
    }
    /* Requests finishing meanwhile are reported, as qemu-io's main loop
     * reports them while it sleeps. */
    for (long left = ms; left > 0; left--) {
        io_aio_poll(ctx, IO_AIO_REPORT);
        struct timespec ts = { .tv_nsec = 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    return 0;
}

static int sigraise_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)ctx, (void)argc;
    int64_t sig = io_cvtnum(argv[1]);
    if (sig < 0)
        return 1;
    if (sig > NSIG) {
        printf("signal argument '%s' is too large to be a valid signal\n", argv[1]);
        return 1;
    }
    /* A signal that kills the process does not flush stdio for us. */
    fflush(stdout);
    fflush(stderr);
    raise((int)sig);
    return 0;
}

static int abort_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)ctx, (void)argc, (void)argv;
    fflush(stdout);
    abort();
}

const struct io_command io_cmd_discard = {
    .name = "discard", .alias = "d", .run = discard_run, .argmin = 2, .argmax = -1,
    .flags = IO_WRITES,
    .args = "[-Cq] off len",
    .oneline = "discards a number of bytes at a specified offset",
    .help =
        "\n"
        " Discards LEN bytes at OFF: the image may deallocate them.\n"
        " -C  one line of statistics\n"
        " -q  print no statistics\n"
        "\n",
};
const struct io_command io_cmd_flush = {
    .name = "flush", .alias = "f", .run = flush_run,
    .oneline = "flush all in-core file state to disk",
};
const struct io_command io_cmd_length = {
    .name = "length", .alias = "l", .run = length_run,
    .oneline = "gets the length of the current file",
};
const struct io_command io_cmd_map = {
    .name = "map", .run = map_run, .args = "",
    .oneline = "prints the allocated areas of a file",
};
const struct io_command io_cmd_alloc = {
    .name = "alloc", .alias = "a", .run = alloc_run, .argmin = 1, .argmax = 2,
    .args = "offset [count]",
    .oneline = "checks if offset is allocated in the file",
};
const struct io_command io_cmd_info = {
    .name = "info", .alias = "i", .run = info_run,
    .oneline = "prints information about the current file",
};
const struct io_command io_cmd_truncate = {
    .name = "truncate", .alias = "t", .run = truncate_run, .argmin = 1, .argmax = 3,
    .flags = IO_WRITES,
    .args = "[-m prealloc_mode] off",
    .oneline = "truncates the current file at the given offset",
};
const struct io_command io_cmd_help = {
    .name = "help", .alias = "?", .run = help_run, .argmin = 0, .argmax = 1,
    .flags = IO_NOFILE_OK, .args = "[command]",
    .oneline = "help for one or all commands",
};
const struct io_command io_cmd_quit = {
    .name = "quit", .alias = "q", .run = quit_run, .argmin = 0, .argmax = -1,
    .flags = IO_NOFILE_OK,
    .oneline = "exit the program",
};
const struct io_command io_cmd_sleep = {
    .name = "sleep", .run = sleep_run, .argmin = 1, .argmax = 1, .flags = IO_NOFILE_OK,
    .oneline = "waits for the given value in milliseconds",
};
const struct io_command io_cmd_sigraise = {
    .name = "sigraise", .run = sigraise_run, .argmin = 1, .argmax = 1,
    .flags = IO_NOFILE_OK, .args = "signal",
    .oneline = "raises a signal",
    .help =
        "\n"
        " Sends the given signal (a number) to strata-io itself, after flushing\n"
        " its output: 'sigraise 9' ends it as a crash would.\n"
        "\n",
};
const struct io_command io_cmd_abort = {
    .name = "abort", .run = abort_run, .flags = IO_NOFILE_OK,
    .oneline = "simulate a program crash using abort(3)",
};
