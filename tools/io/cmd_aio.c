/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_aio.c - aio_read, aio_write and aio_flush.
 *
 * The request runs in the background (aio.c) and is reported when it and
 * the requests before it are done.  As in qemu-io, the command succeeds
 * once the request is made; an I/O error or a pattern mismatch is reported
 * but does not fail it. */
#include "io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int aio_read_run(struct io_ctx *ctx, int argc, char **argv)
{
    return io_vector_read(ctx, argc, argv, &io_cmd_aio_read, true);
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
    struct io_request rq = { .name = "aio_write", .quiet = quiet, .machine = machine,
                             .zero = zero, .flags = flags };
    if ((rq.off = io_cvtnum(argv[optind])) < 0)
        return 1;
    rq.count = zero ? io_cvtnum(argv[optind + 1])
                    : io_vector_length(argv + optind + 1, argc - optind - 1);
    if (rq.count < 0)
        return 1;
    uint8_t *buf = NULL;
    if (!zero && !(buf = io_alloc(ctx, (uint64_t)rq.count, pattern)))
        return 1;
    return io_aio_submit(ctx, &rq, buf, true) ? 0 : 1;
}

/* Waits for every request in flight, as qemu-io's aio_flush does (it does
 * not flush).  qemu-io would wait for ever on a request held at a
 * breakpoint; strata-io resumes it. */
static int aio_flush_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)argc, (void)argv;
    io_aio_poll(ctx, IO_AIO_ALL);
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
