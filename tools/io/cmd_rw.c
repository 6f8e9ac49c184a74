/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_rw.c - read, readv, write and writev, with qemu-io's options and
 * messages. */
#include "io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool sector_aligned(int64_t off, int64_t count)
{
    if (off % 512) {
        printf("%" PRId64 " is not a sector-aligned value for 'offset'\n", off);
        return false;
    }
    if (count % 512) {
        printf("%" PRId64 " is not a sector-aligned value for 'count'\n", count);
        return false;
    }
    return true;
}

void io_exec_read(struct io_ctx *ctx, const struct io_request *rq, uint8_t *buf,
                  struct io_result *res)
{
    res->err = NULL;
    res->t0 = tool_now();
    /* The VM state lies outside the disk: no bounds check of its own, as
     * qemu-io's. */
    res->ret = rq->vmstate ? strata_vmstate_read(ctx->node, (uint64_t)rq->off,
                                                 (uint64_t)rq->count, buf, &res->err)
                           : io_pread(ctx, rq->off, rq->count, buf, &res->err);
    res->t1 = tool_now();
}

int io_report_read(struct io_ctx *ctx, const struct io_request *rq, uint8_t *buf,
                   struct io_result *res)
{
    int status = 0;
    if (res->ret < 0) {
        status = io_fail(rq->name, res->err, res->ret);
        goto out;
    }
    if (rq->pattern >= 0 && !io_all_bytes(buf + rq->pat_off, (uint64_t)rq->pat_len,
                                          rq->pattern)) {
        printf("Pattern verification failed at offset %" PRId64 ", %" PRId64 " bytes\n",
               rq->off + rq->pat_off, rq->pat_len);
        status = 1;
    }
    if (rq->quiet)
        goto out;
    if (rq->verbose)
        io_dump_buffer(buf, (uint64_t)rq->off, (uint64_t)rq->count);
    io_print_report("read", res->t1 - res->t0, (uint64_t)rq->off, (uint64_t)rq->count,
                    (uint64_t)rq->count, 1, rq->machine);
out:
    io_free(ctx, buf);
    return status;
}

int io_do_read(struct io_ctx *ctx, const struct io_request *rq)
{
    uint8_t *buf = io_alloc(ctx, (uint64_t)rq->count, 0xab);
    if (!buf)
        return 1;
    struct io_result res;
    io_exec_read(ctx, rq, buf, &res);
    return io_report_read(ctx, rq, buf, &res);
}

void io_exec_write(struct io_ctx *ctx, const struct io_request *rq, const uint8_t *buf,
                   struct io_result *res)
{
    res->err = NULL;
    res->t0 = tool_now();
    /* The VM state lies outside the disk: no bounds check of its own, as
     * qemu-io's. */
    int ret = rq->vmstate ? 0 : io_check_range(ctx, rq->off, rq->count);
    if (rq->vmstate)
        ret = strata_vmstate_write(ctx->node, (uint64_t)rq->off, (uint64_t)rq->count, buf,
                                   &res->err);
    else if (ret == 0 && rq->zero)
        ret = strata_pwrite_zeroes(ctx->node, (uint64_t)rq->off, (uint64_t)rq->count,
                                   rq->flags, &res->err);
    else if (ret == 0 && rq->compressed)
        ret = strata_pwrite_compressed(ctx->node, (uint64_t)rq->off, (uint64_t)rq->count,
                                       buf, &res->err);
    else if (ret == 0)
        ret = strata_pwrite(ctx->node, (uint64_t)rq->off, (uint64_t)rq->count, buf,
                            rq->flags, &res->err);
    res->ret = ret;
    res->t1 = tool_now();
}

int io_report_write(struct io_ctx *ctx, const struct io_request *rq, uint8_t *buf,
                    struct io_result *res)
{
    io_free(ctx, buf);
    if (res->ret < 0)
        return io_fail(rq->name, res->err, res->ret);
    if (!rq->quiet)
        io_print_report("wrote", res->t1 - res->t0, (uint64_t)rq->off, (uint64_t)rq->count,
                        (uint64_t)rq->count, 1, rq->machine);
    return 0;
}

int io_do_write(struct io_ctx *ctx, const struct io_request *rq, uint8_t *buf)
{
    struct io_result res;
    io_exec_write(ctx, rq, buf, &res);
    return io_report_write(ctx, rq, buf, &res);
}

int64_t io_cvtlen(const char *text, bool no_limit, const char *limit_note)
{
    int64_t len = io_cvtnum(text);
    if (len >= 0 && (uint64_t)len > IO_REQUEST_MAX && !no_limit) {
        printf("length cannot exceed %" PRIu64 "%s, given %s\n", IO_REQUEST_MAX,
               limit_note, text);
        return -EINVAL;
    }
    return len;
}

static int read_run(struct io_ctx *ctx, int argc, char **argv)
{
    bool machine = false, quiet = false, verbose = false, have_p = false,
         have_s = false, have_l = false, vmstate = false;
    int pattern = 0, c;
    int64_t pat_off = 0, pat_len = 0;

    while ((c = getopt(argc, argv, "bCl:pP:qs:v")) != -1) {
        switch (c) {
        case 'b': vmstate = true; break;
        case 'C': machine = true; break;
        case 'l':
            have_l = true;
            if ((pat_len = io_cvtnum(optarg)) < 0)
                return 1;
            break;
        case 'p': break;    /* qemu-io ignores it too (an old option) */
        case 'P':
            have_p = true;
            if ((pattern = io_parse_pattern(optarg)) < 0)
                return 1;
            break;
        case 'q': quiet = true; break;
        case 's':
            have_s = true;
            if ((pat_off = io_cvtnum(optarg)) < 0)
                return 1;
            break;
        case 'v': verbose = true; break;
        default:
            return io_usage(&io_cmd_read);
        }
    }
    if (optind != argc - 2)
        return io_usage(&io_cmd_read);
    struct io_request rq = { .name = "read", .quiet = quiet, .verbose = verbose,
                             .machine = machine, .pattern = have_p ? pattern : -1 };
    if ((rq.off = io_cvtnum(argv[optind])) < 0 ||
        (rq.count = io_cvtlen(argv[optind + 1], false, "")) < 0)
        return 1;
    if (!have_p && (have_l || have_s))
        return io_usage(&io_cmd_read);
    if (!have_l)
        pat_len = rq.count - pat_off;
    if (pat_len < 0 || pat_len + pat_off > rq.count) {
        printf("pattern verification range exceeds end of read data\n");
        return 1;
    }
    if (vmstate && !sector_aligned(rq.off, rq.count))
        return 1;
    rq.vmstate = vmstate;
    rq.pat_off = pat_off;
    rq.pat_len = pat_len;
    return io_do_read(ctx, &rq);
}

int io_vector_read(struct io_ctx *ctx, int argc, char **argv,
                   const struct io_command *cmd, bool async)
{
    bool machine = false, quiet = false, verbose = false, have_p = false;
    int pattern = 0, c;

    while ((c = getopt(argc, argv, async ? "CP:iqv" : "CP:qv")) != -1) {
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
            return io_usage(cmd);
        }
    }
    if (optind > argc - 2)
        return io_usage(cmd);
    /* qemu-io's aio_read reports a failure as readv's too. */
    struct io_request rq = { .name = "readv", .quiet = quiet, .verbose = verbose,
                             .machine = machine, .pattern = have_p ? pattern : -1 };
    if ((rq.off = io_cvtnum(argv[optind])) < 0 ||
        (rq.count = io_vector_length(argv + optind + 1, argc - optind - 1)) < 0)
        return 1;
    rq.pat_len = rq.count;
    if (!async)
        return io_do_read(ctx, &rq);
    uint8_t *buf = io_alloc(ctx, (uint64_t)rq.count, 0xab);
    if (!buf)
        return 1;
    return io_aio_submit(ctx, &rq, buf, false) ? 0 : 1;
}

static int readv_run(struct io_ctx *ctx, int argc, char **argv)
{
    return io_vector_read(ctx, argc, argv, &io_cmd_readv, false);
}

/* -s FILE: the buffer holds the file's bytes, repeated to fill it. */
static uint8_t *alloc_from_file(struct io_ctx *ctx, uint64_t len, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return NULL;
    }
    uint8_t *buf = io_alloc(ctx, len, 0);
    if (!buf) {
        fclose(f);
        return NULL;
    }
    size_t got = fread(buf, 1, len, f);
    bool bad = ferror(f);
    fclose(f);
    if (bad || got == 0) {
        if (bad)
            perror(path);
        else
            fprintf(stderr, "%s: file is empty\n", path);
        io_free(ctx, buf);
        return NULL;
    }
    for (uint64_t done = got; done < len; done += got) {
        size_t n = len - done < got ? (size_t)(len - done) : got;
        memcpy(buf + done, buf, n);
    }
    return buf;
}

static int write_run(struct io_ctx *ctx, int argc, char **argv)
{
    bool machine = false, quiet = false, vmstate = false, have_p = false,
         zero = false, compressed = false, have_s = false;
    unsigned flags = 0;
    int pattern = 0xcd, c;
    const char *source = NULL;

    while ((c = getopt(argc, argv, "bcCfnpP:qs:uz")) != -1) {
        switch (c) {
        case 'b': vmstate = true; break;
        case 'c': compressed = true; break;
        case 'C': machine = true; break;
        case 'f': flags |= STRATA_REQ_FUA; break;
        case 'n': flags |= STRATA_REQ_NO_FALLBACK; break;
        case 'p': break;    /* qemu-io ignores it too (an old option) */
        case 'P':
            have_p = true;
            if ((pattern = io_parse_pattern(optarg)) < 0)
                return 1;
            break;
        case 'q': quiet = true; break;
        case 's': have_s = true; source = optarg; break;
        case 'u': flags |= STRATA_REQ_MAY_UNMAP; break;
        case 'z': zero = true; break;
        default:
            return io_usage(&io_cmd_write);
        }
    }
    if (optind != argc - 2)
        return io_usage(&io_cmd_write);
    if (vmstate && zero) {
        printf("-b and -z cannot be specified at the same time\n");
        return 1;
    }
    if ((flags & STRATA_REQ_FUA) && (vmstate || compressed)) {
        printf("-f and -b or -c cannot be specified at the same time\n");
        return 1;
    }
    if ((flags & STRATA_REQ_NO_FALLBACK) && !zero) {
        printf("-n requires -z to be specified\n");
        return 1;
    }
    if ((flags & STRATA_REQ_MAY_UNMAP) && !zero) {
        printf("-u requires -z to be specified\n");
        return 1;
    }
    if (zero + have_p + have_s > 1) {
        printf("Only one of -z, -P, and -s can be specified at the same time\n");
        return 1;
    }
    struct io_request rq = { .name = "write", .quiet = quiet, .machine = machine,
                             .zero = zero, .compressed = compressed, .flags = flags };
    if ((rq.off = io_cvtnum(argv[optind])) < 0 ||
        (rq.count = io_cvtlen(argv[optind + 1], flags & STRATA_REQ_NO_FALLBACK,
                              " without -n")) < 0)
        return 1;
    if ((vmstate || compressed) && !sector_aligned(rq.off, rq.count))
        return 1;
    rq.vmstate = vmstate;
    uint8_t *buf = NULL;
    if (!zero) {
        buf = have_s ? alloc_from_file(ctx, (uint64_t)rq.count, source)
                     : io_alloc(ctx, (uint64_t)rq.count, pattern);
        if (!buf)
            return 1;
    }
    return io_do_write(ctx, &rq, buf);
}

static int writev_run(struct io_ctx *ctx, int argc, char **argv)
{
    bool machine = false, quiet = false;
    unsigned flags = 0;
    int pattern = 0xcd, c;

    while ((c = getopt(argc, argv, "CfqP:")) != -1) {
        switch (c) {
        case 'C': machine = true; break;
        case 'f': flags |= STRATA_REQ_FUA; break;
        case 'q': quiet = true; break;
        case 'P':
            if ((pattern = io_parse_pattern(optarg)) < 0)
                return 1;
            break;
        default:
            return io_usage(&io_cmd_writev);
        }
    }
    if (optind > argc - 2)
        return io_usage(&io_cmd_writev);
    struct io_request rq = { .name = "writev", .quiet = quiet, .machine = machine,
                             .flags = flags };
    if ((rq.off = io_cvtnum(argv[optind])) < 0 ||
        (rq.count = io_vector_length(argv + optind + 1, argc - optind - 1)) < 0)
        return 1;
    uint8_t *buf = io_alloc(ctx, (uint64_t)rq.count, pattern);
    return buf ? io_do_write(ctx, &rq, buf) : 1;
}

const struct io_command io_cmd_read = {
    .name = "read", .alias = "r", .run = read_run, .argmin = 2, .argmax = -1,
    .args = "[-abCqv] [-P pattern [-s off] [-l len]] off len",
    .oneline = "reads a number of bytes at a specified offset",
    .help =
        "\n"
        " Reads LEN bytes at OFF of the image.\n"
        " -P PATTERN  fail unless every byte read is PATTERN (a byte value)\n"
        " -s OFF, -l LEN  with -P: check only [OFF, OFF+LEN) of what was read\n"
        " -v          dump what was read in hex and ASCII\n"
        " -C          one line of statistics: bytes,ops,time,bytes/sec,ops/sec\n"
        " -q          print no statistics (and no dump)\n"
        " -b          read the VM state area instead of the disk (qcow2)\n"
        " -p          accepted and ignored\n"
        "\n",
};

const struct io_command io_cmd_readv = {
    .name = "readv", .run = readv_run, .argmin = 2, .argmax = -1,
    .args = "[-Cqv] [-P pattern] off len [len..]",
    .oneline = "reads a number of bytes at a specified offset",
    .help =
        "\n"
        " Reads the lengths one after the other from OFF, as one request.\n"
        " -P PATTERN  fail unless every byte read is PATTERN\n"
        " -v          dump what was read\n"
        " -C          one line of statistics\n"
        " -q          print no statistics\n"
        "\n",
};

const struct io_command io_cmd_write = {
    .name = "write", .alias = "w", .run = write_run, .argmin = 2, .argmax = -1,
    .flags = IO_WRITES,
    .args = "[-bcCfnquz] [-P pattern | -s source_file] off len",
    .oneline = "writes a number of bytes at a specified offset",
    .help =
        "\n"
        " Writes LEN bytes at OFF of the image, each 0xcd unless told otherwise.\n"
        " -P PATTERN  write this byte value instead\n"
        " -s FILE     write the bytes of FILE, repeated to fill LEN\n"
        " -z          write zeroes (no data buffer)\n"
        " -u          with -z: the range may be deallocated\n"
        " -n          with -z: fail rather than write a buffer of zeroes\n"
        " -c          store the clusters covered compressed (qcow, qcow2)\n"
        " -f          the write is stable before it completes (FUA)\n"
        " -C          one line of statistics\n"
        " -q          print no statistics\n"
        " -b          write the VM state area instead of the disk (qcow2)\n"
        " -p          accepted and ignored\n"
        "\n",
};

const struct io_command io_cmd_writev = {
    .name = "writev", .run = writev_run, .argmin = 2, .argmax = -1,
    .flags = IO_WRITES,
    .args = "[-Cfq] [-P pattern] off len [len..]",
    .oneline = "writes a number of bytes at a specified offset",
    .help =
        "\n"
        " Writes the lengths one after the other from OFF, as one request.\n"
        " -P PATTERN  the byte value to write (default 0xcd)\n"
        " -f          the write is stable before it completes (FUA)\n"
        " -C          one line of statistics\n"
        " -q          print no statistics\n"
        "\n",
};
