/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_rw.c - read, readv, write and writev. */
#include "io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A single request larger than this is refused rather than risking a huge
 * allocation on a typo. */
#define IO_MAX_REQUEST (1ull << 30)

static int check_len(const char *cmd, uint64_t len)
{
    if (len > IO_MAX_REQUEST) {
        io_err("%s: length %" PRIu64 " is too large (at most %llu bytes per request)\n",
               cmd, len, IO_MAX_REQUEST);
        return -EINVAL;
    }
    return 0;
}

/* Returns the index of the first byte that is not `pattern`, or len. */
static uint64_t first_mismatch(const uint8_t *buf, uint64_t len, int pattern)
{
    for (uint64_t i = 0; i < len; i++)
        if (buf[i] != (uint8_t)pattern)
            return i;
    return len;
}

/* Shared by read and readv: reads [off, off+len), verifies and reports. */
static int do_read(struct io_ctx *ctx, const char *cmd, uint64_t off, uint64_t len,
                   int pattern, uint64_t pat_off, uint64_t pat_len, bool verbose,
                   bool quiet)
{
    struct strata_error *err = NULL;
    uint8_t *buf = tool_alloc_buffer(len);
    if (!buf) {
        io_err("%s: cannot allocate %" PRIu64 " bytes\n", cmd, len);
        return 1;
    }
    double t0 = tool_now();
    int ret = strata_pread(ctx->node, off, len, buf, 0, &err);
    double t1 = tool_now();
    if (ret < 0) {
        free(buf);
        return io_fail(cmd, err, ret);
    }
    int status = 0;
    if (pattern >= 0) {
        uint64_t i = first_mismatch(buf + pat_off, pat_len, pattern);
        if (i < pat_len) {
            printf("Pattern verification failed at offset %" PRIu64 ", %" PRIu64
                   " bytes\n", off + pat_off + i, pat_len - i);
            status = 1;
        }
    }
    if (verbose)
        io_dump_buffer(buf, off, len);
    io_print_report("read", len, off, t1 - t0, 1, quiet);
    free(buf);
    return status;
}

static int read_run(struct io_ctx *ctx, int argc, char **argv)
{
    bool quiet = false, verbose = false, have_s = false, have_l = false;
    int pattern = -1, c;
    uint64_t off, len, s = 0, l = 0;

    optind = 0;
    while ((c = getopt(argc, argv, "+qvP:s:l:")) != -1) {
        switch (c) {
        case 'q': quiet = true; break;
        case 'v': verbose = true; break;
        case 'P':
            if (io_parse_pattern(argv[0], optarg, &pattern) < 0)
                return 1;
            break;
        case 's':
            if (io_parse_num(argv[0], optarg, &s) < 0)
                return 1;
            have_s = true;
            break;
        case 'l':
            if (io_parse_num(argv[0], optarg, &l) < 0)
                return 1;
            have_l = true;
            break;
        default:
            return io_usage(&io_cmd_read);
        }
    }
    if (argc - optind != 2 || ((have_s || have_l) && pattern < 0))
        return io_usage(&io_cmd_read);
    if (io_parse_num(argv[0], argv[optind], &off) < 0 ||
        io_parse_num(argv[0], argv[optind + 1], &len) < 0 || check_len(argv[0], len) < 0)
        return 1;
    if (!have_l)
        l = len > s ? len - s : 0;
    if (s > len || l > len - s) {
        io_err("read: pattern range (-s %" PRIu64 " -l %" PRIu64 ") lies outside the "
               "request\n", s, l);
        return 1;
    }
    return do_read(ctx, "read", off, len, pattern, s, l, verbose, quiet);
}

/* off len [len...] for readv and writev; sums the lengths. */
static int vector_args(const char *cmd, int argc, char **argv, uint64_t *off,
                       uint64_t *total)
{
    if (io_parse_num(cmd, argv[0], off) < 0)
        return -EINVAL;
    *total = 0;
    for (int i = 1; i < argc; i++) {
        uint64_t l;
        if (io_parse_num(cmd, argv[i], &l) < 0)
            return -EINVAL;
        *total += l;
        if (check_len(cmd, *total) < 0)
            return -EINVAL;
    }
    return 0;
}

static int readv_run(struct io_ctx *ctx, int argc, char **argv)
{
    bool quiet = false, verbose = false;
    int pattern = -1, c;
    uint64_t off, total;

    optind = 0;
    while ((c = getopt(argc, argv, "+qvP:")) != -1) {
        switch (c) {
        case 'q': quiet = true; break;
        case 'v': verbose = true; break;
        case 'P':
            if (io_parse_pattern(argv[0], optarg, &pattern) < 0)
                return 1;
            break;
        default:
            return io_usage(&io_cmd_readv);
        }
    }
    if (argc - optind < 2)
        return io_usage(&io_cmd_readv);
    if (vector_args(argv[0], argc - optind, argv + optind, &off, &total) < 0)
        return 1;
    return do_read(ctx, "read", off, total, pattern, 0, total, verbose, quiet);
}

static int do_write(struct io_ctx *ctx, const char *cmd, uint64_t off, uint64_t len,
                    int pattern, bool zero, bool unmap, bool quiet)
{
    struct strata_error *err = NULL;
    uint8_t *buf = NULL;
    int ret;
    double t0, t1;

    if (zero) {
        t0 = tool_now();
        ret = strata_pwrite_zeroes(ctx->node, off, len,
                                   unmap ? STRATA_REQ_MAY_UNMAP : 0, &err);
        t1 = tool_now();
    } else {
        buf = tool_alloc_buffer(len);
        if (!buf) {
            io_err("%s: cannot allocate %" PRIu64 " bytes\n", cmd, len);
            return 1;
        }
        memset(buf, pattern, len);
        t0 = tool_now();
        ret = strata_pwrite(ctx->node, off, len, buf, 0, &err);
        t1 = tool_now();
        free(buf);
    }
    if (ret < 0)
        return io_fail(cmd, err, ret);
    io_print_report("wrote", len, off, t1 - t0, 1, quiet);
    return 0;
}

static int write_run(struct io_ctx *ctx, int argc, char **argv)
{
    bool quiet = false, zero = false, unmap = false, have_p = false;
    int pattern = 0xcd, c;
    uint64_t off, len;

    optind = 0;
    while ((c = getopt(argc, argv, "+qzuP:")) != -1) {
        switch (c) {
        case 'q': quiet = true; break;
        case 'z': zero = true; break;
        case 'u': unmap = true; break;
        case 'P':
            if (io_parse_pattern(argv[0], optarg, &pattern) < 0)
                return 1;
            have_p = true;
            break;
        default:
            return io_usage(&io_cmd_write);
        }
    }
    if (argc - optind != 2)
        return io_usage(&io_cmd_write);
    if (zero && have_p) {
        io_err("write: -P and -z cannot be specified at the same time\n");
        return 1;
    }
    if (unmap && !zero) {
        io_err("write: -u requires -z to be specified\n");
        return 1;
    }
    if (io_parse_num(argv[0], argv[optind], &off) < 0 ||
        io_parse_num(argv[0], argv[optind + 1], &len) < 0 ||
        (!zero && check_len(argv[0], len) < 0))
        return 1;
    return do_write(ctx, "write", off, len, pattern, zero, unmap, quiet);
}

static int writev_run(struct io_ctx *ctx, int argc, char **argv)
{
    bool quiet = false;
    int pattern = 0xcd, c;
    uint64_t off, total;

    optind = 0;
    while ((c = getopt(argc, argv, "+qP:")) != -1) {
        switch (c) {
        case 'q': quiet = true; break;
        case 'P':
            if (io_parse_pattern(argv[0], optarg, &pattern) < 0)
                return 1;
            break;
        default:
            return io_usage(&io_cmd_writev);
        }
    }
    if (argc - optind < 2)
        return io_usage(&io_cmd_writev);
    if (vector_args(argv[0], argc - optind, argv + optind, &off, &total) < 0)
        return 1;
    return do_write(ctx, "writev", off, total, pattern, false, false, quiet);
}

const struct io_command io_cmd_read = {
    .name = "read", .alias = "r", .run = read_run,
    .args = "[-qv] [-P pattern [-s off] [-l len]] off len",
    .oneline = "reads a number of bytes at a specified offset",
    .help =
        " -P PATTERN  check that every byte read is PATTERN; the first byte that\n"
        "             differs is reported and the command fails\n"
        " -s OFF, -l LEN  check the pattern only in [OFF, OFF+LEN) of the buffer\n"
        " -v          dump the data read in hex and ASCII\n"
        " -q          do not print the result lines\n",
};

const struct io_command io_cmd_readv = {
    .name = "readv", .run = readv_run,
    .args = "[-qv] [-P pattern] off len [len..]",
    .oneline = "reads several lengths, one after the other, from a specified offset",
    .help =
        " -P PATTERN  check that every byte read is PATTERN\n"
        " -v          dump the data read\n"
        " -q          do not print the result lines\n",
};

const struct io_command io_cmd_write = {
    .name = "write", .alias = "w", .run = write_run,
    .args = "[-quz] [-P pattern] off len",
    .oneline = "writes a number of bytes at a specified offset",
    .help =
        " -P PATTERN  the byte to write (default 0xcd)\n"
        " -z          write zeroes without a data buffer\n"
        " -u          with -z: allow the range to be deallocated\n"
        " -q          do not print the result lines\n",
};

const struct io_command io_cmd_writev = {
    .name = "writev", .run = writev_run,
    .args = "[-q] [-P pattern] off len [len..]",
    .oneline = "writes several lengths, one after the other, at a specified offset",
    .help =
        " -P PATTERN  the byte to write (default 0xcd)\n"
        " -q          do not print the result lines\n",
};
