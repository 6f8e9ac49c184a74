/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_aio.c - aio_read, aio_write and aio_flush.
 *
 * strata-io runs each request to completion before the next command, so
 * a request's result lines come where qemu-io prints them when nothing
 * else runs meanwhile: right after the command.  As in qemu-io, the
 * command succeeds once the request is made; an I/O error or a pattern
 * mismatch is reported but does not fail it. */
#include "io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int aio_read_run(struct io_ctx *ctx, int argc, char **argv)
{
    bool machine = false, quiet = false, verbose = false, have_p = false;
    int pattern = 0, c;

    while ((c = getopt(argc, argv, "CP:iqv")) != -1) {
        switch (c) {
        case 'C': machine = true; break;
        case 'P':
            have_p = true;
            if ((pattern = io_parse_pattern(optarg)) < 0)
                return 1;
            break;
        case 'i':
            /* qemu-io counts it in its statistics; strata-io keeps none. */
            printf("injecting invalid read request\n");
            return 0;
        case 'q': quiet = true; break;
        case 'v': verbose = true; break;
        default:
            return io_usage(&io_cmd_aio_read);
        }
    }
    if (optind > argc - 2)
        return io_usage(&io_cmd_aio_read);
    int64_t off = io_cvtnum(argv[optind]);
    if (off < 0)
        return 1;
    int64_t count = io_vector_length(argv + optind + 1, argc - optind - 1);
    if (count < 0)
        return 1;
    uint8_t *buf = io_alloc(ctx, (uint64_t)count, 0xab);
    if (!buf)
        return 1;
    struct strata_error *err = NULL;
    double t0 = tool_now();
    int ret = io_pread(ctx, off, count, buf, &err);
    double t1 = tool_now();
    if (ret < 0) {
        io_fail("readv", err, ret);
        goto out;
    }
    if (have_p && !io_all_bytes(buf, (uint64_t)count, pattern))
        printf("Pattern verification failed at offset %" PRId64 ", %" PRId64 " bytes\n",
               off, count);
    if (quiet)
        goto out;
    if (verbose)
        io_dump_buffer(buf, (uint64_t)off, (uint64_t)count);
    io_print_report("read", t1 - t0, (uint64_t)off, (uint64_t)count, (uint64_t)count,
                    1, machine);
out:
    io_free(ctx, buf);
    return 0;
}

static int aio_write_run(struct io_ctx *ctx, int argc, char **argv)
{
    bool machine = false, quiet = false, zero = false;
    unsigned flags = 0;
    int pattern = 0xcd, c;

    while ((c = getopt(argc, argv, "CfiqP:uz")) != -1) {
        switch (c) {
        case 'C': machine = true; break;
        case 'f': flags |= STRATA_REQ_FUA; break;
        case 'q': quiet = true; break;
        case 'u': flags |= STRATA_REQ_MAY_UNMAP; break;
        case 'P':
            if ((pattern = io_parse_pattern(optarg)) < 0)
                return 1;
            break;
        case 'i':
            printf("injecting invalid write request\n");
            return 0;
        case 'z': zero = true; break;
        default:
            return io_usage(&io_cmd_aio_write);
        }
    }
    if (optind > argc - 2)
        return io_usage(&io_cmd_aio_write);
    if (zero && optind != argc - 2) {
        printf("-z supports only a single length parameter\n");
        return 1;
    }
    if ((flags & STRATA_REQ_MAY_UNMAP) && !zero) {
        printf("-u requires -z to be specified\n");
        return 1;
    }
    int64_t off = io_cvtnum(argv[optind]);
    if (off < 0)
        return 1;
    int64_t count;
    if (zero)
        count = io_cvtnum(argv[optind + 1]);
    else
        count = io_vector_length(argv + optind + 1, argc - optind - 1);
    if (count < 0)
        return 1;
    uint8_t *buf = NULL;
    if (!zero && !(buf = io_alloc(ctx, (uint64_t)count, pattern)))
        return 1;
    struct strata_error *err = NULL;
    int ret;
    double t0 = tool_now();
    ret = io_check_range(ctx, off, count);
    if (ret == 0 && zero)
        ret = strata_pwrite_zeroes(ctx->node, (uint64_t)off, (uint64_t)count, flags, &err);
    else if (ret == 0)
        ret = strata_pwrite(ctx->node, (uint64_t)off, (uint64_t)count, buf, flags, &err);
    double t1 = tool_now();
    io_free(ctx, buf);
    if (ret < 0)
        io_fail("aio_write", err, ret);
    else if (!quiet)
        io_print_report("wrote", t1 - t0, (uint64_t)off, (uint64_t)count,
                        (uint64_t)count, 1, machine);
    return 0;
}

/* Every request has completed when its command returns: nothing to wait
 * for.  (qemu-io's aio_flush only waits too; it does not flush.) */
static int aio_flush_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)ctx, (void)argc, (void)argv;
    return 0;
}

const struct io_command io_cmd_aio_read = {
    .name = "aio_read", .run = aio_read_run, .argmin = 2, .argmax = -1,
    .args = "[-Ciqv] [-P pattern] off len [len..]",
    .oneline = "asynchronously reads a number of bytes",
    .help =
        "\n"
        " Reads the lengths one after the other from OFF, as readv does, and\n"
        " succeeds whatever the request's result (which it reports).\n"
        " -P PATTERN  report a mismatch unless every byte read is PATTERN\n"
        " -v          dump what was read\n"
        " -C          one line of statistics\n"
        " -q          print no statistics\n"
        " -i          make no request, only say so\n"
        "\n",
};

const struct io_command io_cmd_aio_write = {
    .name = "aio_write", .run = aio_write_run, .argmin = 2, .argmax = -1,
    .flags = IO_WRITES,
    .args = "[-Cfiquz] [-P pattern] off len [len..]",
    .oneline = "asynchronously writes a number of bytes",
    .help =
        "\n"
        " Writes the lengths one after the other from OFF, as writev does, and\n"
        " succeeds whatever the request's result (which it reports).\n"
        " -P PATTERN  the byte value to write (default 0xcd)\n"
        " -z          write zeroes (one length only)\n"
        " -u          with -z: the range may be deallocated\n"
        " -f          the write is stable before it completes (FUA)\n"
        " -C          one line of statistics\n"
        " -q          print no statistics\n"
        " -i          make no request, only say so\n"
        "\n",
};

const struct io_command io_cmd_aio_flush = {
    .name = "aio_flush", .run = aio_flush_run,
    .oneline = "completes all outstanding aio requests",
};
